"""On-disk layout helpers shared by the dataset readers (paper §4.1).

The readers accept the datasets exactly as their owners distribute them (book: The original
code, "Datasets and their layouts"). Everything that can go wrong with a tree
on disk is reported here, with the offending path and what was expected:

- a root that does not exist, or that sits one level too high or too low;
- a missing camera folder, an empty person folder, an image whose name breaks the pattern;
- stray non-image files (``Thumbs.db``, ``.DS_Store``, ...), which are skipped with a warning.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


class DatasetError(ValueError):
    """A dataset on disk does not have the layout a reader expects."""


class DatasetWarning(UserWarning):
    """Something on disk was skipped because skipping is what a user wants."""


def is_image_name(name: str) -> bool:
    """A visible file with an image suffix (``.png``, ``.jpg``, ``.jpeg``)."""
    return name.lower().endswith(IMAGE_SUFFIXES) and not name.startswith(".")


def require_root(root: Path, marker: str, dataset: str, hint: str) -> Path:
    """Check that ``root/marker`` exists; explain a root one level too high or too low.

    Args:
        root: the folder the user passed.
        marker: a relative path that must exist below the root (e.g. ``i-LIDS-VID/sequences``).
        dataset: the dataset's name, for messages.
        hint: what the root should contain, for messages.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such directory; expected the {dataset} root ({hint})")
    if (root / marker).is_dir():
        return root
    first = Path(marker).parts[0]
    # One level too high: the marker sits in a child folder.
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        if (child / marker).is_dir():
            raise DatasetError(
                f"{root}: the {dataset} root is one level lower, at {child} "
                f"(it holds {marker}); pass --root {child}")
    # One level too low: the user passed a folder inside the dataset.
    for up in (root.parent, root.parent.parent):
        if (up / marker).is_dir() and root.resolve() != up.resolve():
            raise DatasetError(
                f"{root}: this folder is inside the {dataset} dataset; pass its root {up} "
                f"(the folder that holds {first}/)")
    raise DatasetError(f"{root}: expected {root / marker} ({hint})")


def require_dir(path: Path, what: str) -> Path:
    """``path`` if it is a folder, else a `DatasetError` saying it is the missing ``what``."""
    if not path.is_dir():
        raise DatasetError(f"{path}: missing {what}")
    return path


def person_folders(cam_dir: Path, pattern: re.Pattern[str], skipped: list[Path]) -> dict[int, Path]:
    """The person folders of one camera folder, by the number ``pattern``'s first group captures.

    Files are stray (appended to ``skipped``); a folder whose name breaks the pattern, or a
    camera folder without person folders, raises `DatasetError`.
    """
    folders: dict[int, Path] = {}
    for entry in sorted(cam_dir.iterdir()):
        match = pattern.fullmatch(entry.name)
        if not entry.is_dir():
            skipped.append(entry)
        elif match is None:
            raise DatasetError(f"{entry}: unexpected folder; expected folders named like {pattern.pattern}")
        else:
            folders[int(match.group(1))] = entry
    if not folders:
        raise DatasetError(f"{cam_dir}: no person folders (expected names like {pattern.pattern})")
    return folders


def list_frames(folder: Path, pattern: re.Pattern[str], skipped: list[Path]) -> list[Path]:
    """The image frames of one tracklet folder, in temporal order.

    Frames are sorted by the frame number that ``pattern``'s first group captures (never by
    file-system order). Stray non-image files are appended to ``skipped``; an image whose
    name does not match, a repeated frame number, or an empty folder raises `DatasetError`.
    """
    numbered: list[tuple[int, Path]] = []
    for entry in folder.iterdir():
        name = entry.name
        if not is_image_name(name) or not entry.is_file():
            skipped.append(entry)
            continue
        match = pattern.fullmatch(name)
        if match is None:
            raise DatasetError(
                f"{entry}: image name does not match the expected pattern {pattern.pattern}")
        numbered.append((int(match.group(1)), entry))
    if not numbered:
        raise DatasetError(f"{folder}: empty person folder (expected image frames)")
    numbered.sort(key=lambda item: item[0])
    for (a, pa), (b, _) in zip(numbered, numbered[1:]):
        if a == b:
            raise DatasetError(f"{pa}: frame number {a} appears twice in {folder}")
    return [path for _, path in numbered]


def warn_skipped(skipped: list[Path], dataset: str) -> None:
    """One warning for all stray files a reader skipped."""
    if skipped:
        shown = ", ".join(str(p) for p in skipped[:3])
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        warnings.warn(f"{dataset}: skipped {len(skipped)} file(s) that are not frames of the dataset: "
                      f"{shown}{more}",
                      DatasetWarning, stacklevel=3)
