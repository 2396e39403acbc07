"""OpenCV's sample data from Debian's ``opencv-doc`` package: the RubberWhale frame pair of the
optical-flow tests and the pedestrian video ``vtest.avi`` of the real-footage chapter (795 frames,
768×576, 10 frames per second: people walking through a university courtyard).

`fetch` downloads the .deb with ``apt-get download`` (no root needed) into a temporary folder,
extracts only the files asked for, moves them into the folder atomically
(`stsrn_lite.atomic.write_atomic`) and deletes the .deb; `ensure` does so only for files not
there yet. Without apt-get or dpkg-deb, or without the Debian archive, `SamplesError` says so in
one line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from stsrn_lite.atomic import write_atomic
from stsrn_lite.home import home

PACKAGE = "opencv-doc"
MEMBER_DIR = "./usr/share/doc/opencv-doc/examples/data"
FLOW_PAIR = ("rubberwhale1.png", "rubberwhale2.png")
VIDEO = "vtest.avi"


class SamplesError(RuntimeError):
    """The samples could not be fetched."""


def default_folder() -> Path:
    return home().data / "opencv-samples"


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    if shutil.which(command[0]) is None:
        raise SamplesError(
            f"`{command[0]}` not found; fetching OpenCV's samples needs Debian's apt-get and dpkg-deb "
            f"(or copy them from OpenCV's samples/data by hand)"
        )
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SamplesError(f"`{' '.join(command)}` exited with {result.returncode}: {result.stderr.strip()[-300:]}")
    return result


def fetch(names: Sequence[str], out: Path | None = None) -> list[Path]:
    """Download ``opencv-doc``, extract ``names`` (files of its examples/data folder) into ``out``
    (default: the home's ``data/opencv-samples``); returns their paths."""
    out = out or default_folder()
    with tempfile.TemporaryDirectory(prefix="opencv-doc-") as tmp_name:
        tmp = Path(tmp_name)
        os.chmod(tmp, 0o755)  # lets apt's _apt user write there; harmless otherwise
        _run(["apt-get", "download", PACKAGE], cwd=tmp)
        debs = sorted(tmp.glob(f"{PACKAGE}_*.deb"))
        if len(debs) != 1:
            raise SamplesError(f"expected one {PACKAGE}_*.deb after apt-get download, found {len(debs)}")
        members = [f"{MEMBER_DIR}/{name}" for name in names]
        extract = tmp / "extract"
        extract.mkdir()
        for tool in ("dpkg-deb", "tar"):
            if shutil.which(tool) is None:
                raise SamplesError(f"`{tool}` not found; it is needed to unpack the .deb")
        deb_tar = subprocess.Popen(
            ["dpkg-deb", "--fsys-tarfile", str(debs[0])], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        untar = subprocess.run(
            ["tar", "-x", "-C", str(extract), *members], stdin=deb_tar.stdout, capture_output=True, text=True
        )
        deb_tar.stdout.close()
        deb_err = deb_tar.stderr.read().decode(errors="replace")
        if deb_tar.wait() != 0 or untar.returncode != 0:
            detail = (deb_err + untar.stderr).strip()[-300:]
            raise SamplesError(f"could not extract {', '.join(names)} from {debs[0].name}: {detail}")
        debs[0].unlink()
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, member in zip(names, members):
            source = extract / member
            if not source.is_file():
                raise SamplesError(f"{member} is missing from the {PACKAGE} package")
            write_atomic(out / name, source.read_bytes())
            written.append(out / name)
    return written


def ensure(names: Sequence[str], out: Path | None = None) -> list[Path]:
    """The paths of ``names`` in ``out`` (default: the home's), fetching those not there yet."""
    out = out or default_folder()
    missing = [name for name in names if not (out / name).is_file()]
    if missing:
        fetch(missing, out)
    return [out / name for name in names]
