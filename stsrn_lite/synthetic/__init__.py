"""Synthetic video re-ID benchmark written in the real datasets' layouts."""
