"""The project's home: the one folder under which data, caches, runs and results live.

    python -m stsrn_lite.home        # prints the folders it resolves, and why

The home is ``$STSRN_HOME`` when set; else the checkout when the package is imported from one
(a source tree or an editable install: the folder above the package holds this project's
``pyproject.toml``); else the current directory. It is never inside an installed package, so
after ``pip install git+…`` (as on Colab) nothing is written into ``site-packages``.

Under the home:

    data/synthetic/          the synthetic benchmark, smoke size   (data/synthetic-full/: full size)
    data/cache/              preprocessed frames and flow          ($STSRN_CACHE overrides)
    runs/<profile>/          trained runs, checkpoints and records
    results/<profile>/       every table's rows and their provenance
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_NAME = "stsrn-lite"  # as pyproject.toml names it


@dataclass(frozen=True)
class Home:
    root: Path  # the home folder
    reason: str  # why this folder: "STSRN_HOME", "checkout" or "current directory"
    cache_override: Path | None = None  # $STSRN_CACHE

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def cache(self) -> Path:
        return self.cache_override or self.data / "cache"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def results(self) -> Path:
        return self.root / "results"

    def synthetic(self, size: str) -> Path:
        """The synthetic benchmark of ``size`` (``smoke`` → data/synthetic, else data/synthetic-SIZE)."""
        return self.data / ("synthetic" if size == "smoke" else f"synthetic-{size}")


def checkout() -> Path | None:
    """The checkout this package is imported from, or None when it is an installed copy."""
    pyproject = PACKAGE_DIR.parent / "pyproject.toml"
    try:
        text = pyproject.read_text()
    except OSError:
        return None
    return PACKAGE_DIR.parent if f'name = "{PROJECT_NAME}"' in text else None


def home(environ: Mapping[str, str] | None = None) -> Home:
    """Resolve the home now (``environ`` defaults to ``os.environ``; read on every call)."""
    environ = os.environ if environ is None else environ
    cache = Path(environ["STSRN_CACHE"]).expanduser() if environ.get("STSRN_CACHE") else None
    if environ.get("STSRN_HOME"):
        return Home(Path(environ["STSRN_HOME"]).expanduser().resolve(), "STSRN_HOME", cache)
    source = checkout()
    if source is not None:
        return Home(source, "checkout", cache)
    return Home(Path.cwd().resolve(), "current directory", cache)


def describe(where: Home) -> str:
    lines = [f"home     {where.root}  ({where.reason})"]
    for name in ("data", "cache", "runs", "results"):
        lines.append(f"{name:<8} {getattr(where, name)}")
    lines.append(f"synthetic {where.synthetic('smoke')}  (full size: {where.synthetic('full')})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        description="Print where the project's data, caches, runs and results live ($STSRN_HOME, $STSRN_CACHE)."
    ).parse_args(argv)
    print(describe(home()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
