"""All-or-nothing folders: build in a hidden sibling, swap it into place only when complete.

Used by the synthetic generator and the preprocessing cache. Whoever builds holds an
exclusive lock (``.NAME.lock`` beside the folder), so two processes working on one folder
take turns instead of destroying each other's work.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (a folder that may not exist yet) for the block."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def building_dir(path: Path) -> Iterator[Path]:
    """Yield a new, empty hidden sibling of ``path`` to fill; call it under `locked`.

    When the block finishes, the sibling takes the place of ``path`` (an old ``path`` is first
    renamed aside and deleted only once the new one is in place). When the block raises,
    Ctrl-C included, the sibling is removed and ``path`` is left as it was. Siblings left by a
    killed process are swept away here.
    """
    path = Path(path)
    for stale in path.parent.glob(f".{path.name}.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    partial = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.partial-"))
    try:
        yield partial
        old = None
        if path.exists():
            old = path.parent / f".{path.name}.partial-old-{os.getpid()}"
            path.rename(old)
        try:
            partial.rename(path)
        except BaseException:
            if old is not None:
                old.rename(path)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
