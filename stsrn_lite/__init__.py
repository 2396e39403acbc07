"""STSRN-lite: a reference reproduction of STSRN (Su et al. 2018) for video person re-identification."""
