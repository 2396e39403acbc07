"""Download and unpack the three video re-ID datasets of the paper (§4.1).

Addresses, checksums and layouts are those the book gives (book: The original code, "Datasets
and their layouts"); the trailing comment on each `Source` field says how certain it is
([V-code] checked in code, [V-data] checked on the real file, [3rd] third-party only).

- `download_file`: one HTTP(S) file, resumable through ``<file>.part`` and ``Range``; checked
  against the announced size and the md5 (where known), then renamed into place. A wrong
  checksum deletes nothing: the file is kept as ``<file>.bad``.
- `check_layout`: what is missing or wrong under a dataset's root folder.
- `fetch_dataset`: the whole job for one dataset; returns the messages to show. The archive is
  unpacked by `stsrn_lite.data.archive.safe_extract` (checked members, all or nothing). MARS
  lives on Baidu Pan / Google Drive, so for it the messages are the manual steps and a layout
  check.

The library never prints: it returns messages or raises `DownloadError`.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from stsrn_lite.data.archive import ArchiveError, safe_extract, top_folders

CHUNK = 1 << 20  # bytes per read
USER_AGENT = "stsrn-lite-download/0.1 (python-urllib)"


class DownloadError(RuntimeError):
    """A download, checksum, extraction or layout check failed; the text says what was expected."""


class ChecksumError(DownloadError):
    """The file arrived whole but its md5 differs; it is kept as ``<name>.bad``."""


class SourceUnavailable(DownloadError):
    """The host could not be reached or refused the file; nothing was written."""


@dataclass(frozen=True)
class Source:
    """Where one dataset comes from and what it must look like under the root folder."""

    name: str                       # command-line name
    title: str                      # name in messages
    urls: tuple[str, ...]           # archive addresses, tried in order; () = manual only
    layout: tuple[str, ...]         # folders that must exist under the root
    manual: tuple[str, ...]         # steps to install by hand; "{root}" is the root folder
    filename: str = ""              # archive file name under the root
    archive: str = ""               # "tar" or "zip"; "" = no automatic download
    md5: str | None = None          # archive checksum; None = unknown
    md5_origin: str = ""            # who vouches for md5 ("[3rd]" = third-party code only)
    size_hint: int | None = None    # archive bytes, a plausibility hint only (never enforced)
    unpack_to: str = ""             # folder under the root that the archive's members land in
    files: tuple[tuple[str, str | None], ...] = ()  # files that must exist, md5 where known
    optional: tuple[tuple[str, str], ...] = ()      # never fetched: (path under root, where from)


ILIDS_VID = Source(
    name="ilids-vid",
    title="iLIDS-VID",
    urls=("http://www.eecs.qmul.ac.uk/~xiatian/iLIDS-VID/iLIDS-VID.tar",),  # torchreid [V-code]
    layout=("i-LIDS-VID/sequences/cam1", "i-LIDS-VID/sequences/cam2",
            "train-test people splits"),  # torchreid's paths [V-code]
    manual=(
        "Download http://www.eecs.qmul.ac.uk/~xiatian/iLIDS-VID/iLIDS-VID.tar (project page"
        " https://xiatian-zhu.github.io/downloads_qmul_iLIDS-VID_ReID_dataset.html), put it at"
        " {root}/iLIDS-VID.tar and run this command again (it checks and extracts it).",
        "Or extract it yourself so that {root}/i-LIDS-VID/sequences/cam1/person001/ and"
        " {root}/train-test people splits/ exist.",
    ),  # layout from torchreid [V-code]
    filename="iLIDS-VID.tar",  # [V-code]
    archive="tar",  # a plain tar [V-code]
    md5="7752bd15b611558701bb0e2380ed8950",  # an open-reid-style loader [3rd]
    md5_origin="[3rd]",  # not from the dataset owners
)

PRID2011 = Source(
    name="prid2011",
    title="PRID2011",
    urls=("https://files.icg.tugraz.at/f/6ab7e8ce8f/?raw=1",  # newer direct link [3rd]
          "https://lrs.icg.tugraz.at/datasets/prid/prid_2011.zip"),  # old direct link [3rd]
    layout=("prid_2011/multi_shot/cam_a", "prid_2011/multi_shot/cam_b"),  # torchreid [V-code]
    manual=(
        "Download prid_2011.zip from the official page"
        " https://www.tugraz.at/institute/icg/research/team-bischof/lrs/downloads/PRID11/,"
        " put it at {root}/prid_2011.zip and run this command again (it extracts it).",
        "Or unzip it yourself so that {root}/prid_2011/multi_shot/cam_a/person_0001/0001.png"
        " exists (create prid_2011/ if the zip has no such top-level folder).",
    ),  # page [V-page], layout [V-code]
    filename="prid_2011.zip",  # [V-page]
    archive="zip",  # [V-page]
    size_hint=1_064_626_547,  # one third-party download script [3rd, unverified]
    unpack_to="prid_2011",  # torchreid reads <root>/prid_2011/multi_shot [V-code]
    optional=(("splits_prid2011.json",
               "torchreid's 178-person split, on Google Drive only: "
               "https://drive.google.com/file/d/1qw7SI7YdIgfHetIQO7LLW4SHpL_qkieT"),),  # [V-code]
)

MARS = Source(
    name="mars",
    title="MARS",
    urls=(),  # Baidu Pan / Google Drive only [V-code: MARS-evaluation README]
    layout=("bbox_train", "bbox_test", "info"),  # torchreid [V-code]
    manual=(
        "From the project page http://zheng-lab.cecs.anu.edu.au/Project/project_mars.html"
        " (Google Drive folder 0B6tjyrV1YrHeMVV2UFFXQld6X1E, Baidu"
        " http://pan.baidu.com/s/1hswMDfu) download bbox_train.zip and bbox_test.zip.",
        "Unzip both into {root}, giving {root}/bbox_train/0001/0001C1T0001F001.jpg ... and"
        " {root}/bbox_test/0002/... .",
        "From https://github.com/liangzheng06/MARS-evaluation/tree/master/info download"
        " train_name.txt, test_name.txt, tracks_train_info.mat, tracks_test_info.mat and"
        " query_IDX.mat into {root}/info/.",
        "Run this command again with --check to verify the layout and the .mat checksums.",
    ),  # torchreid docs + MARS-evaluation README [V-code]
    files=(("info/train_name.txt", None),  # no md5: absent from the mirror [V-code]
           ("info/test_name.txt", None),
           ("info/tracks_train_info.mat", "67a139e0f79ef1385535446cbb3ca6b7"),  # [V-data]
           ("info/tracks_test_info.mat", "55ba4e3c9e03759f7262b28d7a1fe382"),  # [V-data]
           ("info/query_IDX.mat", "f939e70b087615653035f1cf38467e25")),  # [V-data]
)

SOURCES: dict[str, Source] = {s.name: s for s in (ILIDS_VID, PRID2011, MARS)}


# ---------------------------------------------------------------- download

def file_md5(path: Path) -> str:
    """The md5 of a file's bytes as 32 lowercase hex digits, read in ``CHUNK``-sized blocks."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _keep_bad(path: Path, dest: Path) -> Path:
    bad = dest.with_name(dest.name + ".bad")
    os.replace(path, bad)
    return bad


def _verify(path: Path, dest: Path, md5: str | None, expected_size: int | None) -> None:
    """Check size and md5 of ``path`` (the future ``dest``); a mismatch keeps it as ``.bad``."""
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        bad = _keep_bad(path, dest)
        raise DownloadError(f"{dest.name}: got {size} bytes, expected {expected_size}; "
                            f"the file is kept as {bad}")
    if md5 is not None and (got := file_md5(path)) != md5.lower():
        bad = _keep_bad(path, dest)
        raise ChecksumError(f"{dest.name}: md5 {got} does not match the expected {md5}; "
                            f"the file is kept as {bad}.")


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) from ``bytes A-B/T`` or ``bytes */T``; None where absent."""
    match = re.fullmatch(r"bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)", (value or "").strip())
    if match is None:
        return None, None
    first = int(match.group(1)) if match.group(1) else None
    return first, (int(match.group(2)) if match.group(2) != "*" else None)


def _open(url: str, offset: int, timeout: float) -> http.client.HTTPResponse:
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError:
        raise
    except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
        host = urllib.parse.urlsplit(url).netloc or url
        reason = getattr(err, "reason", err)
        raise SourceUnavailable(f"{host} could not be reached ({url}: {reason})") from err
    except ValueError as err:
        raise DownloadError(f"{url}: not a valid http(s) address ({err})") from err


def _receive(response: http.client.HTTPResponse, part: Path, offset: int, url: str,
             progress: bool) -> int | None:
    """Write the response body to ``part``; returns the file size the server announced."""
    if response.status == 206:
        first, total = _content_range(response.headers.get("Content-Range"))
        if first != offset:
            raise DownloadError(f"{url}: asked for bytes from {offset}, the server sent from "
                                f"{first}; delete {part} to start again")
    else:  # 200: the server ignores Range, so the file starts again from zero
        offset = 0
        length = response.headers.get("Content-Length")
        total = int(length) if length else None
    with open(part, "ab" if offset else "wb") as out, \
            tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
                 desc=part.name.removesuffix(".part"), disable=not progress,
                 file=sys.stderr) as bar:
        try:
            while block := response.read(CHUNK):
                out.write(block)
                bar.update(len(block))
        except (OSError, http.client.HTTPException) as err:
            out.flush()  # so that the message counts every byte kept
            raise DownloadError(_broke_off(url, part, total, err)) from err
    return total


def _broke_off(url: str, part: Path, total: int | None, reason: object) -> str:
    return (f"{url}: the transfer broke off after {part.stat().st_size} of {total or '?'} bytes "
            f"({reason}). The partial file is kept at {part}; run the same command again to "
            f"resume.")


def download_file(url: str, dest: Path, *, md5: str | None = None,
                  expected_size: int | None = None, progress: bool = False,
                  timeout: float = 10.0) -> Path:
    """Download ``url`` to ``dest``, resuming ``dest.part`` if an earlier run left one.

    A partial file is continued with ``Range: bytes=N-``; a server that answers 200 instead of
    206 ignores ranges, and the file starts again from zero. The result is checked against the
    announced size, ``expected_size`` and ``md5`` (where given), then renamed to ``dest``. An
    existing ``dest`` is only checked. ``timeout`` (seconds) bounds the connection and each read.

    Raises:
        SourceUnavailable: the host could not be reached or answered an HTTP error.
        ChecksumError: md5 mismatch; the file is kept as ``dest.bad``.
        DownloadError: the transfer broke off (``dest.part`` is kept; call again to resume),
            or the size is wrong (kept as ``dest.bad``).
    """
    dest = Path(dest)
    if dest.exists():
        _verify(dest, dest, md5, expected_size)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = _open(url, offset, timeout)
    except urllib.error.HTTPError as err:
        total = _content_range(err.headers.get("Content-Range"))[1]
        err.close()
        if err.code != 416 or not offset:
            raise SourceUnavailable(
                f"{url}: the server answered HTTP {err.code} {err.reason}") from err
        if total != offset:  # a stale .part longer than the file: start again
            part.unlink()
            return download_file(url, dest, md5=md5, expected_size=expected_size,
                                 progress=progress, timeout=timeout)
        response = None  # the .part is already complete
    if response is not None:
        with response:
            total = _receive(response, part, offset, url, progress)
    size = part.stat().st_size
    if total is not None and size < total:
        raise DownloadError(_broke_off(url, part, total, "connection closed early"))
    if total is not None and size > total:
        bad = _keep_bad(part, dest)
        raise DownloadError(f"{url}: got {size} bytes, the server announced {total}; "
                            f"the file is kept as {bad}")
    _verify(part, dest, md5, expected_size)
    os.replace(part, dest)
    return dest


# ---------------------------------------------------------------- datasets

def check_layout(source: Source, root: Path) -> list[str]:
    """What is missing or wrong under ``root``; empty when the layout is complete."""
    root = Path(root)
    problems = [f"missing folder {root / rel}/" for rel in source.layout
                if not (root / rel).is_dir()]
    for rel, md5 in source.files:
        path = root / rel
        if not path.parent.is_dir():
            continue  # its folder is reported already
        if not path.is_file():
            problems.append(f"missing file {path}")
        elif md5 is not None and (got := file_md5(path)) != md5:
            problems.append(f"{path}: md5 {got}, expected {md5}")
    return problems


def _manual_text(source: Source, root: Path) -> str:
    return f"To install {source.title} by hand: " + " ".join(source.manual).format(root=root)


def _optional_notes(source: Source, root: Path) -> list[str]:
    return [f"Found {root / rel}." if (root / rel).is_file() else
            f"Not downloaded: {rel} ({where}); put it at {root / rel}."
            for rel, where in source.optional]


def _deep_check_mars(root: Path) -> str:
    try:
        from stsrn_lite.data.mars import read_mars
    except ModuleNotFoundError as err:
        if err.name != "stsrn_lite.data.mars":
            raise
        return "Deep check skipped: stsrn_lite.data.mars is not available."
    from stsrn_lite.data.layout import DatasetError
    try:
        read_mars(root, verify_files=True)
    except DatasetError as err:
        raise DownloadError(f"MARS files are in place under {root}, but the reader rejects "
                            f"them: {err}") from err
    return "Deep check passed: stsrn_lite.data.mars.read_mars accepted the dataset."


def _verified(source: Source, root: Path) -> list[str]:
    problems = check_layout(source, root)
    if problems:
        raise DownloadError(f"The {source.title} layout under {root} is incomplete: "
                            f"{'; '.join(problems)}. {_manual_text(source, root)}")
    known = [rel for rel, md5 in source.files if md5]
    messages = [f"The {source.title} layout under {root} is complete ("
                + ", ".join(f"{rel}/" for rel in source.layout)
                + (f"; md5 matches for {', '.join(known)}" if known else "") + ")."]
    if source.name == "mars":
        messages.append(_deep_check_mars(root))
    return messages + _optional_notes(source, root)


def _download(source: Source, archive: Path, urls: tuple[str, ...], root: Path,
              progress: bool) -> None:
    failures = []
    for url in urls:
        try:
            download_file(url, archive, md5=source.md5, progress=progress)
            return
        except SourceUnavailable as err:
            failures.append(str(err))
        except ChecksumError as err:
            if source.md5_origin != "[3rd]":
                raise
            raise DownloadError(
                f"{err} That checksum comes from a third party, not from the dataset owners, so"
                f" the archive may still be fine: list it (tar -tf {archive}.bad) and, if it"
                f" looks right, extract it yourself (tar -xf {archive}.bad -C {root}) and run"
                " this command again with --check.") from err
    raise DownloadError(
        f"Could not download {source.title}: {'; '.join(failures)}. This happens on machines "
        "without internet access (or when the address has moved). "
        f"{_manual_text(source, root)}")


def fetch_dataset(name: str, root: Path, *, urls: list[str] | tuple[str, ...] | None = None,
                  progress: bool = True, force: bool = False, check: bool = False) -> list[str]:
    """Download, verify and extract one dataset into ``root``; returns the messages to show.

    Present data is detected and left alone unless ``force``. ``check`` downloads nothing and
    verifies the layout instead (as does MARS when its three folders are there); MARS otherwise
    returns its manual steps. ``urls`` replaces the known addresses (tests, mirrors).

    Raises:
        ValueError: an unknown dataset name.
        DownloadError: the download, the extraction or the layout check failed.
    """
    if name not in SOURCES:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(SOURCES)}")
    source, root = SOURCES[name], Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DownloadError(f"{root}: cannot create the dataset folder ({err})") from err
    found = [rel for rel in source.layout if (root / rel).is_dir()]
    if check or (not source.urls and len(found) == len(source.layout)):
        return _verified(source, root)
    if not source.urls:
        steps = [f"{source.title} cannot be downloaded automatically (Baidu Pan / Google "
                 f"Drive only). By hand:"]
        steps += [f"  {i}. {step.format(root=root)}" for i, step in enumerate(source.manual, 1)]
        if found:
            steps.append(f"Found so far: {', '.join(found)}; run again with --check to see "
                         "what is still missing.")
        return steps
    if not force and not check_layout(source, root):
        return [f"{source.title} is already present under {root}; nothing downloaded "
                "(use --force to download again)."] + _optional_notes(source, root)
    archive = root / source.filename
    messages = []
    if force:
        for path in (archive, archive.with_name(archive.name + ".part")):
            path.unlink(missing_ok=True)
    elif archive.exists():
        messages.append(f"Using the archive already at {archive}.")
    _download(source, archive, tuple(urls or source.urls), root, progress)
    size = archive.stat().st_size
    messages.append(f"Archive {archive}: {size:,} bytes"
                    + (", md5 verified." if source.md5 else " (no checksum known)."))
    if source.size_hint and size != source.size_hint:
        messages.append(f"Note: a third party reported {source.size_hint:,} bytes for this "
                        "archive (unverified); continuing.")
    try:
        tops = top_folders(archive, source.archive)
        # a zip with its own prid_2011/ folder goes to the root, one without it goes below it
        prefix = "" if tops == {source.unpack_to} else source.unpack_to
        created = safe_extract(archive, root, kind=source.archive, prefix=prefix, replace=force)
    except ArchiveError as err:
        raise DownloadError(str(err)) from err
    messages.append(f"Extracted into {root}: {', '.join(p.name + '/' for p in created)}; the "
                    "archive is kept (safe to delete).")
    return messages + _verified(source, root)
