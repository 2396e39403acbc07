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
import secrets
import shutil
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


def _create_file(folder: Path, prefix: str, suffix: str) -> tuple[int, Path]:
    """Create a new file with a random name in ``folder``, open for writing; return (fd, path).

    Unlike `tempfile.mkstemp` (mode 0600), the file is created with mode 0666 less the user's
    umask, as ``open`` would: what it becomes (a checkpoint, a table) must be as readable as any
    other file the user writes.
    """
    for _ in range(100):
        path = folder / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder}: no free temporary name {prefix}*{suffix}")


def _create_dir(folder: Path, prefix: str) -> Path:
    """Create a new folder with a random name in ``folder`` and return it.

    Unlike `tempfile.mkdtemp` (mode 0700), the folder gets mode 0777 less the user's umask, as
    ``mkdir`` would: a dataset or cache built in it must be as shareable as any other folder.
    """
    for _ in range(100):
        path = folder / f"{prefix}{secrets.token_hex(6)}"
        try:
            path.mkdir(mode=0o777)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder}: no free temporary name {prefix}*")


@contextmanager
def open_atomic(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Yield a handle on a temporary file beside ``path``; it replaces ``path`` when the block ends.

    The temporary (``.NAME.*.partial`` in the same folder) is flushed and fsynced, then renamed
    onto ``path`` with `os.replace`, and the folder is fsynced. When the block raises, Ctrl-C
    included, the temporary is removed and ``path`` is left as it was. ``mode`` is "wb" or "w"
    (text is written as UTF-8). The file gets mode 0666 less the umask, as with ``open``.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = _create_file(path.parent, f".{path.name}.", ".partial")
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8", "newline": ""} if mode == "w" else {})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
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


def busy(path: Path) -> bool:
    """Whether another holder has `locked`'s lock on ``path`` now: a glance, taken and let go at
    once, so the answer may be stale a moment later (a caller that then asks for the lock waits
    its turn as ever). A lock file that is not there is not held."""
    path = Path(path)
    try:
        handle = open(path.parent / f".{path.name}.lock")  # reading: a glance creates nothing
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return False


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
    partial = _create_dir(path.parent, f".{path.name}.partial-")
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
