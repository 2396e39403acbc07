"""All-or-nothing files and folders: build in a hidden sibling, swap it into place only when complete.

`write_atomic` (and `open_atomic` for writers that want a handle, such as ``torch.save``) is the
one way the package writes a file that a reader may see half-written: records, checkpoints,
result tables. `building_dir` does the same for folders (the synthetic generator and the
preprocessing cache). Whoever builds holds an exclusive lock (`locked`: ``.NAME.lock`` beside
the folder), so two processes working on one folder take turns instead of destroying each
other's work.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable, where the system allows opening a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def open_atomic(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Yield a handle on a temporary file beside ``path``; it replaces ``path`` when the block ends.

    The temporary (``.NAME.*.partial`` in the same folder) is flushed and fsynced, then renamed
    onto ``path`` with `os.replace`, and the folder is fsynced. When the block raises, Ctrl-C
    included, the temporary is removed and ``path`` is left as it was. ``mode`` is "wb" or "w"
    (text is written as UTF-8).
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8", "newline": ""} if mode == "w" else {})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def write_atomic(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` all-or-nothing (see `open_atomic`)."""
    if not isinstance(data, bytes | str):
        raise TypeError(f"{path}: write_atomic takes bytes or str, got {type(data).__name__}")
    with open_atomic(path, "wb") as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)


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
