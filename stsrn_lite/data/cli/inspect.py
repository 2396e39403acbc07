"""Print a dataset's statistics as one JSON object.

stsrn-inspect --dataset ilids-vid --root DIR

Exit status: 0 done, 2 a root that is not the dataset or cannot be read (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stsrn_lite.data.layout import DatasetError
from stsrn_lite.data.read import DATASETS, read_dataset
from stsrn_lite.data.stats import dataset_statistics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=DATASETS, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument(
        "--prid-splits", type=Path, default=None, help="PRID2011: a splits_prid2011.json (the 178-person protocol)"
    )
    parser.add_argument(
        "--no-verify-files", action="store_true", help="MARS: do not check that every listed frame exists"
    )
    args = parser.parse_args(argv)
    options = {}
    if args.dataset == "prid2011" and args.prid_splits is not None:
        options["split_file"] = args.prid_splits
    if args.dataset == "mars":
        options["verify_files"] = not args.no_verify_files
    try:
        dataset = read_dataset(args.dataset, args.root, **options)
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error.filename or args.root}: {error.strerror or error}; check --root", file=sys.stderr)
        return 2
    print(json.dumps(dataset_statistics(dataset), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
