"""All-or-nothing folders: build in a hidden sibling, rename into place only when complete."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def building_dir(path: Path) -> Iterator[Path]:
    """Yield an empty hidden sibling of ``path`` to fill.

    When the block finishes, the sibling replaces ``path``; when it raises (Ctrl-C included),
    the sibling is removed and ``path`` is left as it was. A sibling left by a killed process
    is never read: it is cleared on the next attempt.
    """
    path = Path(path)
    partial = path.parent / f".{path.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        yield partial
        if path.exists():
            shutil.rmtree(path)
        partial.rename(path)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
