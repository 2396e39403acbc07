"""Fetch OpenCV's sample frame pair rubberwhale{1,2}.png for the optical-flow tests.

The two frames (584×388 RGB, the Middlebury "RubberWhale" sequence) ship in Debian's
``opencv-doc`` package. This script downloads the .deb with ``apt-get download`` (no root
needed) into a temporary folder, extracts only the two PNGs, moves them into ``--out``
atomically (`stsrn_lite.atomic.write_atomic`) and deletes the .deb.

    python data_scripts/fetch_opencv_samples.py [--out DIR]   # default: the home's data/opencv-samples

Exits non-zero with a message on stderr if apt-get or dpkg-deb is missing or fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from stsrn_lite.atomic import write_atomic
from stsrn_lite.home import home

PACKAGE = "opencv-doc"
MEMBER_DIR = "./usr/share/doc/opencv-doc/examples/data"
NAMES = ("rubberwhale1.png", "rubberwhale2.png")


def fail(message: str) -> None:
    print(f"fetch_opencv_samples: error: {message}", file=sys.stderr)
    sys.exit(1)


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    if shutil.which(cmd[0]) is None:
        fail(
            f"`{cmd[0]}` not found; this script needs Debian's apt-get and dpkg-deb "
            f"(or copy {', '.join(NAMES)} from OpenCV's samples/data into --out by hand)"
        )
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"`{' '.join(cmd)}` exited with {result.returncode}:\n{result.stderr.strip()}")
    return result


def fetch(out: Path) -> list[Path]:
    """Download, extract and install the two frames into ``out``; return their paths."""
    with tempfile.TemporaryDirectory(prefix="opencv-doc-") as tmp_name:
        tmp = Path(tmp_name)
        os.chmod(tmp, 0o755)  # lets apt's _apt user write there; harmless otherwise
        run(["apt-get", "download", PACKAGE], cwd=tmp)
        debs = sorted(tmp.glob(f"{PACKAGE}_*.deb"))
        if len(debs) != 1:
            fail(f"expected one {PACKAGE}_*.deb in {tmp} after apt-get download, found {len(debs)}")
        members = [f"{MEMBER_DIR}/{name}" for name in NAMES]
        extract = tmp / "extract"
        extract.mkdir()
        for tool in ("dpkg-deb", "tar"):
            if shutil.which(tool) is None:
                fail(f"`{tool}` not found; it is needed to unpack the .deb")
        deb_tar = subprocess.Popen(
            ["dpkg-deb", "--fsys-tarfile", str(debs[0])], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        untar = subprocess.run(
            ["tar", "-x", "-C", str(extract), *members], stdin=deb_tar.stdout, capture_output=True, text=True
        )
        deb_tar.stdout.close()
        deb_err = deb_tar.stderr.read().decode(errors="replace")
        if deb_tar.wait() != 0 or untar.returncode != 0:
            fail(f"could not extract {members} from {debs[0].name}: {(deb_err + untar.stderr).strip()}")
        debs[0].unlink()
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, member in zip(NAMES, members):
            src = extract / member
            if not src.is_file():
                fail(f"{member} is missing from the {PACKAGE} package")
            write_atomic(out / name, src.read_bytes())
            written.append(out / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=home().data / "opencv-samples",
        help="folder to put the two PNGs in (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    for path in fetch(args.out):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
