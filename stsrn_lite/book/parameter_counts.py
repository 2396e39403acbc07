"""Parameter counts of every preset beside the paper's Table 3.

    python -m stsrn_lite.book.parameter_counts

Counts are computed from the models themselves (`sum(p.numel())`), without and with a
150-identity classifier (iLIDS-VID's training half). The paper reports 430k for CNN-RNN and
590k for STSRN (Table 3) without saying what it counted; the original CNN-RNN code has exactly
384,928 parameters in its inference network (buildModel.lua; book: The original code, "Architecture").
"""

from __future__ import annotations

import argparse
import dataclasses
import json

from stsrn_lite.model.network import STSRN
from stsrn_lite.model.presets import PRESETS

PAPER_TABLE_3 = {"CNN-RNN": 430_000, "STSRN": 590_000}  # Table 3 ("430k", "590k")
IDENTITIES = 150  # the classifier of an iLIDS-VID training split


def count(model) -> int:
    """Trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def table() -> list[dict]:
    """One row per preset: its parameters, with the classifier, and the paper's figure."""
    rows = []
    for name, config in PRESETS.items():
        bare = count(STSRN(dataclasses.replace(config, num_classes=None)))
        with_classifier = count(STSRN(dataclasses.replace(config, num_classes=IDENTITIES)))
        rows.append(
            {
                "preset": name,
                "params": bare,
                "params_with_classifier": with_classifier,
                "paper_table_3": PAPER_TABLE_3.get(name),
            }
        )
    return rows


# Readings of the paper's open details for the STSRN preset (book: Design decisions). Each is
# (label, overrides of the preset); the first is the default.
STSRN_READINGS: tuple[tuple[str, dict], ...] = (
    ("Fig. 2 caption as kernel 5, padding 4 (default)", {}),
    ("kernel 5, padding 2 (block keeps H×W)", {"res_kernel": 5, "res_padding": 2}),
    ("kernel 3, padding 1 (ResNet geometry, no in-block ReLU)", {"res_kernel": 3, "res_padding": 1}),
    ("kernel 5, padding 4, filters 32/32/32", {"filters": (32, 32, 32)}),
    ("kernel 7, padding 4 (kernel 7: not in the paper)", {"res_kernel": 7, "res_padding": 4}),
    (
        "kernel 7, padding 4, filters 32/32/32 (kernel 7: not in the paper)",
        {"res_kernel": 7, "res_padding": 4, "filters": (32, 32, 32)},
    ),
)


def readings() -> list[dict]:
    """Parameters of STSRN under each reading of ``STSRN_READINGS``, against Table 3's 590k."""
    rows = []
    for label, overrides in STSRN_READINGS:
        config = dataclasses.replace(PRESETS["STSRN"], **overrides)
        bare = count(STSRN(dataclasses.replace(config, num_classes=None)))
        with_classifier = count(STSRN(dataclasses.replace(config, num_classes=IDENTITIES)))
        rows.append(
            {
                "reading": label,
                "overrides": {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()},
                "params": bare,
                "params_with_classifier": with_classifier,
                "vs_paper": bare / PAPER_TABLE_3["STSRN"] - 1,
                "vs_paper_with_classifier": with_classifier / PAPER_TABLE_3["STSRN"] - 1,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    rows, alternatives = table(), readings()
    if args.json:
        print(json.dumps({"presets": rows, "stsrn_readings": alternatives}, indent=1))
        return
    print(f"{'preset':<28} {'params':>10} {'+ classifier (150)':>19} {'paper (Table 3)':>16}")
    for row in rows:
        paper = f"{row['paper_table_3'] / 1000:.0f}k" if row["paper_table_3"] else "-"
        print(f"{row['preset']:<28} {row['params']:>10,} {row['params_with_classifier']:>19,} {paper:>16}")
    print()
    print(
        f"STSRN under other readings of the paper (Table 3: 590k; its CNN-RNN 430k is itself "
        f"{430_000 / 384_928 - 1:+.1%} off the original code's 384,928)"
    )
    print(f"{'reading':<58} {'params':>10} {'vs 590k':>8} {'+ classifier':>13} {'vs 590k':>8}")
    for row in alternatives:
        print(
            f"{row['reading']:<58} {row['params']:>10,} {row['vs_paper']:>+8.1%} "
            f"{row['params_with_classifier']:>13,} {row['vs_paper_with_classifier']:>+8.1%}"
        )


if __name__ == "__main__":
    main()
