"""Parameter counts of every preset beside the paper's Table 3.

    python -m stsrn_lite.params

Counts are computed from the models themselves (`sum(p.numel())`), without and with a
150-identity classifier (iLIDS-VID's training half). The paper reports 430k for CNN-RNN and
590k for STSRN (Table 3) without saying what it counted; the original CNN-RNN code has exactly
384,928 parameters in its inference network (``datasets_and_protocol.md`` §3.3).
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
        rows.append({"preset": name, "params": bare, "params_with_classifier": with_classifier,
                     "paper_table_3": PAPER_TABLE_3.get(name)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    rows = table()
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'preset':<28} {'params':>10} {'+ classifier (150)':>19} {'paper (Table 3)':>16}")
    for row in rows:
        paper = f"{row['paper_table_3'] / 1000:.0f}k" if row["paper_table_3"] else "-"
        print(f"{row['preset']:<28} {row['params']:>10,} {row['params_with_classifier']:>19,} {paper:>16}")


if __name__ == "__main__":
    main()
