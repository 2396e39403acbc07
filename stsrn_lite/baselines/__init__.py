"""Non-learned baselines used to calibrate the synthetic benchmark."""
