"""Write a synthetic video re-ID dataset in a real dataset's layout.

    stsrn-make-synthetic --layout ilids-vid --root DIR --identities 300 --seed 0
    stsrn-make-synthetic --all-layouts --size smoke --root data/synthetic

With --all-layouts the three layouts go to ROOT/ilids-vid, ROOT/prid2011 and ROOT/mars, at the
chosen size (`stsrn_lite.synthetic.generator.SIZES`), and a layout already generated with the same settings is kept.
Exit status: 0 done, 2 bad input or a dataset that cannot be written (one line on stderr).
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path

from stsrn_lite.synthetic.generator import LAYOUTS, SIZES, SyntheticConfig, ensure, generate


def storage_message(error: OSError, root: Path) -> str:
    """One line for an OS error met while writing under ``root``, with a way forward."""
    where = error.filename if error.filename and ".partial-" not in str(error.filename) else root
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{root}: disk full while writing the synthetic dataset; free some space or choose another --root"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{where}: cannot write there ({os.strerror(error.errno)}); choose a writable --root"
    return f"{where}: {error.strerror or error}; check --root"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layout", choices=LAYOUTS)
    parser.add_argument("--all-layouts", action="store_true", help="all three layouts, sized by --size")
    parser.add_argument(
        "--size",
        "--profile",
        dest="size",
        choices=tuple(SIZES),
        default=None,
        help="with --all-layouts (default: smoke)",
    )
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--identities", type=int, help="persons in both cameras (MARS: identities)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-length", type=int, default=None, help="cap on sequence length")
    parser.add_argument("--no-gallery-only", action="store_true", help="PRID2011: skip the single-camera persons")
    parser.add_argument(
        "--mars-info", type=Path, default=None, help="MARS: a real info/ folder to draw track lengths from"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--force", action="store_true", help="replace an existing synthetic dataset")
    args = parser.parse_args(argv)
    if args.all_layouts == (args.layout is not None):
        parser.error("give exactly one of --layout or --all-layouts")
    if args.mars_info is not None and args.layout != "mars":
        parser.error("--mars-info goes with --layout mars only")
    if args.all_layouts and (args.identities is not None or args.max_length is not None):
        parser.error("--all-layouts takes its sizes from --size; --identities and --max-length go with --layout")
    if args.all_layouts and (args.force or args.no_gallery_only):
        parser.error("--force and --no-gallery-only go with --layout (--all-layouts keeps an up-to-date dataset)")
    if args.layout and args.size is not None:
        parser.error("--size goes with --all-layouts; with --layout give --identities (and --max-length)")
    try:
        if args.all_layouts:
            for layout in LAYOUTS:
                config = SyntheticConfig(layout=layout, seed=args.seed, **SIZES[args.size or "smoke"][layout])
                root, made = ensure(config, args.root / layout, workers=args.workers)
                print(f"{layout}: {'generated' if made else 'up to date'} at {root}")
        else:
            if args.identities is None:
                parser.error("--identities is required with --layout")
            config = SyntheticConfig(
                layout=args.layout,
                identities=args.identities,
                seed=args.seed,
                max_length=args.max_length,
                gallery_only=not args.no_gallery_only,
            )
            root = generate(config, args.root, workers=args.workers, force=args.force, info_dir=args.mars_info)
            print(f"{args.layout}: generated at {root}")
    except (FileExistsError, ValueError) as error:  # DatasetError is a ValueError
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {storage_message(error, args.root)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
