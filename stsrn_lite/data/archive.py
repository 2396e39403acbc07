"""Unpack a downloaded dataset archive (paper §4.1) safely and all or nothing.

The iLIDS-VID tar and the PRID2011 zip come from third-party hosts, so every member is checked
before anything is written: absolute paths, ``..`` components, links that leave the
destination and device files are refused (on Python >= 3.11.4 tarfile's ``data`` filter is a
second line of defence).

All or nothing: the archive is unpacked into a temporary folder inside the destination; its
top-level entries are moved into place only once the whole archive is out. Entries they
replace are first moved into a second temporary folder and deleted only after every new entry
is in place; if a move fails (or Ctrl-C arrives) the new entries are taken back and the old
ones restored, so the destination is left as it was.

- `top_folders`: the top-level names in an archive (to tell whether a zip has its own folder).
- `safe_extract`: the checked, all-or-nothing extraction.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath


class ArchiveError(RuntimeError):
    """An archive is unreadable, damaged or unsafe, or cannot be put in place."""


# ---------------------------------------------------------------- member checks

def _safe_name(name: str, archive: Path) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or re.match(r"[A-Za-z]:", name):
        raise ArchiveError(f"{archive}: refusing member {name!r}: absolute path")
    if ".." in path.parts:
        raise ArchiveError(f"{archive}: refusing member {name!r}: '..' leaves the destination")
    return path


def _inside(path: str) -> bool:
    norm = os.path.normpath(path)
    return not (os.path.isabs(path) or norm == ".." or norm.startswith("../"))


def _check_tar_member(member: tarfile.TarInfo, archive: Path) -> None:
    path = _safe_name(member.name, archive)
    if member.issym() and not _inside(str(path.parent / member.linkname)):
        raise ArchiveError(f"{archive}: refusing symlink {member.name!r} -> "
                           f"{member.linkname!r}: it points outside the destination")
    if member.islnk() and not _inside(member.linkname):
        raise ArchiveError(f"{archive}: refusing hard link {member.name!r} -> "
                           f"{member.linkname!r}: it points outside the destination")
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise ArchiveError(f"{archive}: refusing member {member.name!r}: device or special file")


def _extract_tar(archive: Path, target: Path) -> None:
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:
            _check_tar_member(member, archive)
        target.mkdir(parents=True, exist_ok=True)
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: a second line of defence
            tar.extractall(target, members, filter="data")
        else:
            tar.extractall(target, members)


def _extract_zip(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            _safe_name(info.filename, archive)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise ArchiveError(f"{archive}: refusing member {info.filename!r}: links in"
                                   " zip archives are not extracted")
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise ArchiveError(f"{archive}: refusing member {info.filename!r}: device or"
                                   " special file")
        zf.extractall(target)


def top_folders(archive: Path, kind: str) -> set[str]:
    """The top-level names in a ``kind`` ("tar" or "zip") archive, without ``__MACOSX``.

    Raises:
        ArchiveError: the file is not a readable archive of that kind.
    """
    try:
        if kind == "tar":
            with tarfile.open(archive) as tar:
                names = tar.getnames()
        elif kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                names = zf.namelist()
        else:
            raise ValueError(f"unknown archive kind {kind!r}; valid kinds: tar, zip")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as err:
        raise ArchiveError(f"{archive}: not a readable {kind} archive ({err}); delete it and "
                           "download it again") from err
    return {PurePosixPath(n).parts[0] for n in names if PurePosixPath(n).parts} - {"__MACOSX"}


# ---------------------------------------------------------------- all or nothing

def _undo(placed: list[Path], moved_away: list[Path], staging: Path, trash: Path) -> None:
    """Take the new entries back into ``staging``, then restore the old ones from ``trash``."""
    for path in reversed(placed):
        os.replace(path, staging / path.name)
    for path in reversed(moved_away):
        os.replace(trash / path.name, path)
    trash.rmdir()  # empty now; fails (and so keeps the folder) if anything is left in it


def _move_into_place(staging: Path, dest: Path, replace: bool) -> list[Path]:
    """Move the entries of ``staging`` into ``dest``; on failure ``dest`` is left as it was."""
    entries = sorted(staging.iterdir())
    clashes = [dest / e.name for e in entries if os.path.lexists(dest / e.name)]
    if clashes and not replace:
        raise ArchiveError(f"cannot extract into {dest}: {', '.join(map(str, clashes))} "
                           "already exist(s); move them away or use --force")
    trash = Path(tempfile.mkdtemp(prefix=".replaced-", dir=dest))
    moved_away: list[Path] = []  # old entries, now in trash
    placed: list[Path] = []      # new entries, now in dest
    try:
        for path in clashes:
            os.replace(path, trash / path.name)
            moved_away.append(path)
        for entry in entries:
            os.replace(entry, dest / entry.name)
            placed.append(dest / entry.name)
    except BaseException as err:  # OSError, or Ctrl-C between two moves
        try:
            _undo(placed, moved_away, staging, trash)
        except OSError as undo_err:
            raise ArchiveError(f"could not move the extracted entries into {dest} ({err}), "
                               f"nor restore the previous ones ({undo_err}); they are kept in "
                               f"{trash}") from err
        if isinstance(err, OSError):
            raise ArchiveError(f"could not move the extracted entries into {dest} ({err}); "
                               "the previous entries were restored, nothing changed") from err
        raise
    shutil.rmtree(trash, ignore_errors=True)  # every new entry is in place: drop the old ones
    return placed


def safe_extract(archive: Path, dest: Path, *, kind: str | None = None, prefix: str = "",
                 replace: bool = False) -> list[Path]:
    """Extract a tar or zip archive into ``dest``, all or nothing.

    Every member is checked before anything is written: absolute paths, ``..`` components,
    links leaving ``dest`` and device files are refused. The archive is unpacked into a
    temporary folder inside ``dest`` (below ``prefix``, if given), whose top-level entries move
    into ``dest`` only once the whole archive is out. Entries they replace are deleted only
    after all new ones are in place; on any error or Ctrl-C the old entries are restored and
    the temporary folders removed, so no half-written dataset is left behind.

    Args:
        archive: a tar (any compression) or zip file.
        dest: the folder to extract into (created if missing).
        kind: "tar" or "zip"; None guesses from the content.
        prefix: a folder under ``dest`` that the members land in (e.g. ``prid_2011``).
        replace: replace existing top-level entries of the same names (else an error).

    Returns:
        The top-level paths created in ``dest``.

    Raises:
        ArchiveError: an unsafe member, a damaged archive, a name clash without ``replace``,
            or a failed move (after which ``dest`` is as before).
    """
    archive, dest = Path(archive), Path(dest)
    if kind is None:
        kind = ("zip" if zipfile.is_zipfile(archive)
                else "tar" if tarfile.is_tarfile(archive) else "")
    if kind not in ("tar", "zip"):
        raise ArchiveError(f"{archive}: not a tar or zip archive")
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest))
    try:
        target = staging / prefix
        try:
            (_extract_tar if kind == "tar" else _extract_zip)(archive, target)
        except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
            raise ArchiveError(f"{archive}: extraction failed ({err}); nothing was placed in "
                               f"{dest}. If the archive is damaged, delete it and download it "
                               "again.") from err
        return _move_into_place(staging, dest, replace)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
