"""Figures and display helpers for the book's notebooks (matplotlib; not used by the library)."""
