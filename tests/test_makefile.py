"""The Makefile's recipes, read with ``make -n`` (nothing runs): the CPU-only torch path, and
``make book`` checking the profile before it deletes or executes anything."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*arguments: str) -> list[str]:
    done = subprocess.run(["make", "-n", "-B", *arguments], cwd=REPO, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_torch_index_installs_the_locked_torch_from_that_index_before_the_lock():
    pin = re.search(r"^torch==\S+", (REPO / "requirements.lock").read_text(), re.M).group(0)
    lines = dry_run("venv", "TORCH_INDEX=https://download.pytorch.org/whl/cpu")
    first = next(i for i, line in enumerate(lines) if "pip install" in line)
    assert "--index-url https://download.pytorch.org/whl/cpu" in lines[first] and f'"{pin}"' in lines[first]
    assert "-r requirements.lock" in lines[first + 1]
    assert not any("--index-url" in line for line in dry_run("venv"))


def test_make_book_checks_the_profile_before_deleting_or_executing():
    lines = dry_run("book", "PROFILE=full", "EPOCHS=2")
    first = next(i for i, line in enumerate(lines) if "tools/" in line or "rm " in line)  # after the set-up
    command = " ".join(lines[first].split())
    assert "run_notebooks.py --preflight" in command and "--profile full --epochs 2" in command
    assert not any(re.search(r"rm -rf _build(\s|$)", line) for line in lines)  # other profiles' books stay
