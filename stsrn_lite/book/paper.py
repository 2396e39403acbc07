"""The paper's own numbers (Su et al. 2018), for showing beside ours. Nothing here is a result of ours.

Every value is copied from the paper's text (`shared/paper/stsrn_paper.md`): CMC in percent.
A missing entry ("-" in the paper) is None.
"""

from __future__ import annotations

RANKS = ("rank1", "rank5", "rank10", "rank20")

# Table 1: iLIDS-VID and PRID2011, CMC ranks 1, 5, 10, 20 (ten-fold average).
TABLE_1: dict[str, dict[str, tuple[float | None, ...]]] = {
    "VR": {"ilids-vid": (34.5, 56.7, 67.5, 77.5), "prid2011": (37.6, 63.9, 75.3, 89.4)},
    "SI2D": {"ilids-vid": (48.7, 81.1, 89.2, 97.3), "prid2011": (76.7, 95.6, 96.7, 98.9)},
    "TDL": {"ilids-vid": (56.3, 87.6, 95.6, 98.2), "prid2011": (56.7, 80.0, 87.6, 93.5)},
    "RFA": {"ilids-vid": (49.3, 76.8, 85.3, 90.0), "prid2011": (58.2, 85.8, 93.4, 97.9)},
    "CNN-RNN": {"ilids-vid": (58.0, 84.0, 91.0, 96.0), "prid2011": (70.0, 90.0, 95.0, 97.0)},
    "RCN+KISSME": {"ilids-vid": (46.1, 76.8, 89.7, 95.6), "prid2011": (69.0, 88.4, 93.2, 96.4)},
    "TSSCNN": {"ilids-vid": (60.0, 86.0, 93.0, 97.0), "prid2011": (78.0, 94.0, 97.0, 99.0)},
    "ASTPN": {"ilids-vid": (62.0, 86.0, 94.0, 98.0), "prid2011": (77.0, 90.0, 95.0, 99.0)},
    "CNN+XQDA": {"ilids-vid": (53.0, 81.4, None, 95.1), "prid2011": (77.3, 93.5, 95.7, 99.3)},
    "SRM+TAM": {"ilids-vid": (55.2, 86.5, None, 97.0), "prid2011": (79.4, 94.4, None, 99.3)},
    "QAN*": {"ilids-vid": (68.0, 86.8, 95.4, 97.4), "prid2011": (90.3, 98.2, 99.3, 100.0)},
    "TRL": {"ilids-vid": (57.7, 81.7, None, 94.1), "prid2011": (87.8, 97.4, None, 99.3)},
    "STSRN": {"ilids-vid": (70.0, 89.3, 95.7, 98.7), "prid2011": (88.0, 97.0, 99.0, 99.0)},
}

# Table 2: MARS (the paper's protocol: two random cameras per identity, after ASTPN), ranks 1, 5, 10, 20.
TABLE_2: dict[str, tuple[float, ...]] = {
    "CNN-RNN": (40.0, 60.0, 70.0, 77.0),
    "ASTPN": (44.0, 70.0, 74.0, 81.0),
    "STSRN": (76.7, 93.8, 96.8, 98.1),
}

# Table 3: parameters ("430k", "860k", "6.7M", "≈30M", "590k").
TABLE_3: dict[str, float] = {"CNN-RNN": 430e3, "TSSCNN": 860e3, "QAN": 6.7e6, "TRL": 30e6, "STSRN": 590e3}
TABLE_3_PRINTED: dict[str, str] = {"CNN-RNN": "430k", "TSSCNN": "860k", "QAN": "6.7M", "TRL": "≈30M", "STSRN": "590k"}

# Table 4: cross-dataset, trained on iLIDS-VID, tested on PRID2011, ranks 1, 5, 10, 20.
TABLE_4: dict[str, tuple[float | None, ...]] = {
    "CNN-RNN": (28.0, 57.0, 69.0, 81.0),
    "ASTPN": (30.0, 58.0, 71.0, 85.0),
    "TRL": (29.5, 59.4, None, 82.2),
    "STSRN": (32.0, 58.0, 71.0, 90.0),  # the paper's row is labelled "STSRL"
}

# Table 5 / Fig. 4: only these rank-1 values are stated in the text (§4.5); the rest are curves.
TABLE_5_RANK1: dict[str, dict[str, float]] = {
    "DoubleResBlocks*": {"ilids-vid": 56.3, "prid2011": 71.0},
    "DoubleResBlocks (Fig. 3b)": {"ilids-vid": 63.3},
}

# Table 6: ranks 1, 5, 20 on iLIDS-VID and PRID2011 (row names mapped to our presets).
TABLE_6: dict[str, dict[str, tuple[float, float, float]]] = {
    "BaseModel": {"ilids-vid": (60.3, 87.7, 96.7), "prid2011": (75.0, 95.0, 98.0)},
    "DoubleResBlocks": {"ilids-vid": (66.7, 89.3, 97.3), "prid2011": (86.0, 96.0, 99.0)},
    "Base+TemRes": {"ilids-vid": (61.3, 88.3, 97.7), "prid2011": (78.0, 93.0, 99.0)},
    "Double+TemRes": {"ilids-vid": (68.7, 90.0, 98.3), "prid2011": (87.0, 97.0, 99.0)},
    "Base+TemRes+STSM": {"ilids-vid": (63.7, 87.3, 98.7), "prid2011": (80.0, 96.0, 99.0)},
    "Double+TemRes+STSM": {"ilids-vid": (70.0, 89.3, 98.7), "prid2011": (88.0, 97.0, 99.0)},
}
TABLE_6_RANKS = ("rank1", "rank5", "rank20")

# Fig. 5 text (§4.6): rank-1 on iLIDS-VID at the 100th training epoch.
FIG_5_EPOCH_100_RANK1 = {"BaseModel": 28.3, "Base+TemRes": 46.7}
