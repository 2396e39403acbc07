"""Dataset readers (iLIDS-VID, PRID2011, MARS), identity splits and statistics (paper §4.1)."""
