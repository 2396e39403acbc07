"""Command lines of the data layer: ``stsrn-download`` and ``stsrn-inspect``."""
