"""Fetch OpenCV's samples from Debian's ``opencv-doc`` package: the frame pair rubberwhale{1,2}.png
(584×388 RGB, the Middlebury "RubberWhale" sequence) for the optical-flow tests, and the
pedestrian video vtest.avi for the real-footage chapter (`stsrn_lite.data.opencv_samples`).

    python data_scripts/fetch_opencv_samples.py [--out DIR] [--only flow|video]

``--out`` defaults to the home's data/opencv-samples.

Exits with status 1 and a one-line message on stderr if apt-get or dpkg-deb is missing or fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stsrn_lite.data.opencv_samples import FLOW_PAIR, VIDEO, SamplesError, default_folder, fetch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=default_folder(), help="their folder (default: %(default)s)")
    parser.add_argument("--only", choices=("flow", "video"), default=None, help="the frame pair or the video alone")
    args = parser.parse_args(argv)
    names = {"flow": FLOW_PAIR, "video": (VIDEO,)}.get(args.only, (*FLOW_PAIR, VIDEO))
    try:
        paths = fetch(names, args.out)
    except SamplesError as error:
        print(f"fetch_opencv_samples: error: {error}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
