"""MARS reader (paper §4.1; Zheng et al. ECCV'16, the paper's reference [13]).

Layout, exactly as distributed (book: The original code, "Datasets and their layouts")::

    ROOT/bbox_train/PPPP/PPPPCcTttttFfff.jpg      (625 identities, odd pids)
    ROOT/bbox_test/PPPP/...                       (00-1 = junk, 0000 = distractors, even pids)
    ROOT/info/train_name.txt  test_name.txt       one file name per line
    ROOT/info/tracks_train_info.mat               track_train_info (N, 4): start, end, pid, cam
    ROOT/info/tracks_test_info.mat                track_test_info  (M, 4)
    ROOT/info/query_IDX.mat                       query_IDX (1, Q): 1-based rows of the test info

Start and end are 1-based and inclusive line numbers of the name list; pid -1 is junk and 0
a distractor; cameras are 1..6 on disk and 0..5 here.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import scipy.io

from stsrn_lite.data.layout import DatasetError, require_dir, require_root, warn_skipped
from stsrn_lite.data.tracklet import Tracklet, VideoReIDDataset

CAMERAS = ("C1", "C2", "C3", "C4", "C5", "C6")
INFO_FILES = ("train_name.txt", "test_name.txt", "tracks_train_info.mat",
              "tracks_test_info.mat", "query_IDX.mat")


def parse_name(name: str) -> tuple[int, int, int, int]:
    """``PPPPCcTttttFfff.jpg`` -> (pid, camera 1..6, tracklet number, frame number)."""
    if len(name) < 15 or name[4] != "C" or name[6] != "T" or name[11] != "F":
        raise ValueError(f"'{name}' is not a MARS frame name PPPPCcTttttFfff.jpg")
    try:
        pid = -1 if name[:4] == "00-1" else int(name[:4])  # MATLAB's str2num('00-1') = -1
        return pid, int(name[5]), int(name[7:11]), int(name[12:15])
    except ValueError:
        raise ValueError(f"'{name}' is not a MARS frame name PPPPCcTttttFfff.jpg") from None


def read_names(path: Path) -> list[str]:
    """One file name per line; CRLF or LF endings; blank trailing lines ignored."""
    if not path.is_file():
        raise DatasetError(f"{path}: missing name list (one frame file name per line)")
    names = [line.rstrip() for line in path.read_text().splitlines()]
    while names and not names[-1]:
        names.pop()
    return names


def read_matrix(path: Path, variable: str, columns: int | None) -> np.ndarray:
    """An integer matrix from a MATLAB file, checked for its variable name and shape."""
    if not path.is_file():
        raise DatasetError(f"{path}: missing (expected variable '{variable}')")
    try:
        mat = scipy.io.loadmat(path)
    except Exception as error:  # scipy raises several types for a broken file
        raise DatasetError(f"{path}: cannot read the MATLAB file ({error})") from error
    if variable not in mat:
        found = sorted(k for k in mat if not k.startswith("__"))
        raise DatasetError(f"{path}: no variable '{variable}' (found {found})")
    array = np.asarray(mat[variable])
    if array.ndim != 2 or (columns is not None and array.shape[1] != columns):
        raise DatasetError(f"{path}: '{variable}' has shape {array.shape}; expected (rows, {columns})")
    if not np.array_equal(array, np.round(array)):
        raise DatasetError(f"{path}: '{variable}' must hold integers")
    return array.astype(np.int64)


def _tracklets(info: np.ndarray, names: list[str], folder: Path, info_path: Path,
               names_path: Path) -> list[Tracklet]:
    tracklets = []
    for row, (start, end, pid, cam) in enumerate(info.tolist(), start=1):
        if not 1 <= start <= end <= len(names):
            raise DatasetError(
                f"{info_path}: row {row} spans names {start}..{end}, but {names_path} has "
                f"{len(names)} names (expected 1 <= start <= end <= {len(names)})")
        if not 1 <= cam <= len(CAMERAS):
            raise DatasetError(f"{info_path}: row {row} has camera {cam}; expected 1..6")
        parsed = []
        for line, name in enumerate(names[start - 1:end], start=start):
            try:
                parsed.append((parse_name(name), name))
            except ValueError as error:
                raise DatasetError(f"{names_path}: line {line}: {error}") from error
        for (npid, ncam, _, _), name in parsed:
            if npid != pid or ncam != cam:
                raise DatasetError(f"{info_path}: row {row} (pid {pid}, camera {cam}) covers "
                                   f"{name} from {names_path}, which belongs to pid {npid} camera {ncam}")
        if len({tnum for (_, _, tnum, _), _ in parsed}) != 1:
            raise DatasetError(f"{info_path}: row {row} spans names {start}..{end} of {names_path}, "
                               f"which belong to more than one tracklet (T number); one row is one tracklet")
        parsed.sort(key=lambda item: item[0][3])  # temporal order = frame number Ffff
        for ((*_, a), name), ((*_, b), _) in zip(parsed, parsed[1:]):
            if a == b:
                raise DatasetError(f"{names_path}: frame number {a} appears twice in row {row} ({name})")
        frames = tuple(folder / name[:4] / name for _, name in parsed)
        tracklets.append(Tracklet(pid=pid, camid=cam - 1, frames=frames))
    return tracklets


def _verify_files(folder: Path, names: list[str], skipped: list[Path]) -> None:
    """Every listed name exists on disk; files on disk that are not listed are reported."""
    expected: dict[str, set[str]] = {}
    for name in names:
        expected.setdefault(name[:4], set()).add(name)
    for sub, wanted in expected.items():
        sub_dir = folder / sub
        if not sub_dir.is_dir():
            raise DatasetError(f"{sub_dir}: missing identity folder (listed in the name file)")
        with os.scandir(sub_dir) as entries:
            present = {entry.name for entry in entries}
        missing = wanted - present
        if missing:
            raise DatasetError(f"{sub_dir / min(missing)}: missing frame ({len(missing)} listed "
                               f"frames of {sub_dir} are not on disk)")
        skipped.extend(sub_dir / name for name in sorted(present - wanted))


def read_mars(root: str | Path, *, verify_files: bool = True) -> VideoReIDDataset:
    """Read MARS from ``root`` (the folder holding ``bbox_train/``, ``bbox_test/``, ``info/``).

    Tracklets are the train info's rows, then the test info's rows, in file order.
    ``subsets["train"]``/``subsets["test"]`` index them; ``query`` holds the indices of the
    1,980 query tracklets (``query_IDX``). Junk (-1) and distractor (0) tracklets are kept:
    what to do with them is the protocol's choice (`stsrn_lite.evaluation.metrics`).

    Args:
        verify_files: check that every listed frame exists on disk (one directory listing per
            identity folder; about a second per 100k frames). Files on disk that the name
            lists do not mention are skipped with a warning.
    """
    root = require_root(Path(root), "info", "MARS", "bbox_train/, bbox_test/ and info/")
    info = root / "info"
    for name in INFO_FILES:
        if not (info / name).is_file():
            raise DatasetError(f"{info / name}: missing; MARS needs info/{', info/'.join(INFO_FILES)} "
                               f"(from github.com/liangzheng06/MARS-evaluation)")
    skipped: list[Path] = []
    tracklets: list[Tracklet] = []
    subsets: dict[str, list[int]] = {}
    for subset in ("train", "test"):
        folder = root / f"bbox_{subset}"
        names_path = info / f"{subset}_name.txt"
        info_path = info / f"tracks_{subset}_info.mat"
        names = read_names(names_path)
        matrix = read_matrix(info_path, f"track_{subset}_info", columns=4)
        if verify_files:
            require_dir(folder, f"bbox_{subset}/ (the extracted bbox_{subset}.zip)")
            _verify_files(folder, names, skipped)
        start = len(tracklets)
        tracklets.extend(_tracklets(matrix, names, folder, info_path, names_path))
        subsets[subset] = list(range(start, len(tracklets)))
    query_rows = read_matrix(info / "query_IDX.mat", "query_IDX", columns=None).ravel()
    n_test = len(subsets["test"])
    if query_rows.size == 0 or query_rows.min() < 1 or query_rows.max() > n_test:
        raise DatasetError(f"{info / 'query_IDX.mat'}: query_IDX must hold row numbers 1..{n_test} "
                           f"of tracks_test_info.mat")
    if len(set(query_rows.tolist())) != query_rows.size:
        raise DatasetError(f"{info / 'query_IDX.mat'}: query_IDX lists a test row more than once")
    query = [subsets["test"][row - 1] for row in query_rows.tolist()]
    if any(tracklets[q].pid <= 0 for q in query):
        raise DatasetError(f"{info / 'query_IDX.mat'}: a query points at a junk or distractor tracklet")
    warn_skipped(skipped, "MARS")
    return VideoReIDDataset(name="mars", root=root, cameras=CAMERAS, tracklets=tracklets,
                            subsets=subsets, query=query, skipped=skipped)
