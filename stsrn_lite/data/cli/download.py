"""Download and unpack a video re-ID dataset (paper §4.1) into --root.

    stsrn-download ilids-vid --root data/ilids-vid
    stsrn-download prid2011 --root data/prid2011
    stsrn-download mars --root data/mars [--check]

iLIDS-VID and PRID2011 are downloaded (resumably), verified and extracted; MARS is on Baidu
Pan / Google Drive only, so the manual steps are printed, and --check verifies the layout.
Exit status: 0 done, 1 failed (the reason on stderr), 2 bad arguments.
The work is done by `stsrn_lite.data.download.fetch_dataset`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stsrn_lite.data.download import SOURCES, DownloadError, fetch_dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", choices=list(SOURCES), help="which dataset")
    parser.add_argument("--root", type=Path, required=True, help="the dataset folder (created if missing)")
    parser.add_argument("--force", action="store_true", help="download and extract again even if the data is present")
    parser.add_argument(
        "--check", action="store_true", help="download nothing; verify the layout under --root (exit 1 if incomplete)"
    )
    args = parser.parse_args(argv)
    try:
        messages = fetch_dataset(args.dataset, args.root, force=args.force, check=args.check)
    except DownloadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "interrupted; a partial download is kept as <archive>.part and resumes when the same command runs again",
            file=sys.stderr,
        )
        return 130
    print("\n".join(messages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
