"""Build the preprocessing cache of a dataset once (resize, YUV-ready RGB, Lucas-Kanade flow).

    stsrn-prepare --dataset ilids-vid --root DIR [--flow resized|original|original-float] [--cache DIR] [--workers N]

An up-to-date cache is reused (read-only storage is fine); a stale or partial one is rebuilt.
--cache is a folder of caches: each dataset and flow mode gets its own subfolder in it.
Prints one JSON line. Exit status: 0 done, 2 bad input or a cache that cannot be built
(one line on stderr: not a cache folder, read-only or full disk).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from stsrn_lite.data.layout import DatasetError
from stsrn_lite.data.read import DATASETS, read_dataset
from stsrn_lite.preprocess.cache import StaleCacheError, default_cache_dir, prepare
from stsrn_lite.preprocess.flow import DEFAULT_FLOW, FLOW_MODES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=DATASETS, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="folder of caches, one subfolder per dataset and flow mode "
        "(default: $STSRN_CACHE, else data/cache of the home: $STSRN_HOME or the checkout; see default_cache_dir)",
    )
    parser.add_argument(
        "--flow",
        choices=tuple(FLOW_MODES),
        default=DEFAULT_FLOW,
        help="how the flow is computed (stsrn_lite.preprocess.flow.FLOW_MODES; a run's --flow) (default: %(default)s)",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    cache_dir = args.cache or default_cache_dir(args.dataset, args.root, args.flow)
    start = time.perf_counter()
    try:
        dataset = read_dataset(args.dataset, args.root)
        cache, built = prepare(dataset, cache_dir, flow=args.flow, workers=args.workers, progress=not args.no_progress)
    except (DatasetError, StaleCacheError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error.filename or cache_dir}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(
        json.dumps(
            {
                "cache": str(cache.path),
                "flow": args.flow,
                "built": built,
                "tracklets": len(cache),
                "frames": int(cache.offsets[-1]),
                "seconds": round(time.perf_counter() - start, 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
