"""Where a result came from: the code version and the device (for records and result files)."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import torch

__version__ = "0.1.0"


@functools.cache
def code_version(paths: tuple[str, ...] = ()) -> str:
    """``git describe``-like id of the checkout (commit, "-dirty" with local changes), else the package version.

    With ``paths`` (relative to the repository root) only those count: the id is the last commit that
    changed them, "-dirty" when they have uncommitted changes. Result files use this so that their
    provenance names the code that produced them and does not change with unrelated commits.
    """
    root = Path(__file__).resolve().parents[1]
    scope = ["--", *paths] if paths else []
    try:
        commit = subprocess.run(
            ["git", "log", "-1", "--format=%h", "--abbrev=12", *scope],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", *scope],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"stsrn-lite {__version__} (no git)"
    if not commit:
        return f"stsrn-lite {__version__} (not committed)"
    return f"{commit}-dirty" if dirty else commit


def device_name(device: torch.device) -> str:
    """ "cpu (2 threads)" or the CUDA device's name."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"
