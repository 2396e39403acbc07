"""Frame preprocessing of paper §4.2: resize, YUV, Lucas–Kanade flow, per-frame normalisation."""
