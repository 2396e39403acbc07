"""iLIDS-VID reader (paper §4.1; Wang et al. ECCV'14, the paper's reference [19]).

Layout, exactly as distributed (book: The original code, "Datasets and their layouts")::

    ROOT/i-LIDS-VID/sequences/cam{1,2}/personNNN/camC_personNNN_FFFFF.png
    ROOT/train-test people splits/train_test_splits_ilidsvid.mat    (ls_set, 10 x 300)

``FFFFF`` is the original video frame number (it does not start at 1); frames are ordered by
it. ``ls_set`` holds 1-based indices into the sorted person-folder list; the first half of
each row is the test persons (torchreid's reading of Wang et al.).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import scipy.io

from stsrn_lite.data.layout import (DatasetError, list_frames, person_folders, require_dir,
                                    require_root, warn_skipped)
from stsrn_lite.data.tracklet import Split, Tracklet, VideoReIDDataset

CAMERAS = ("cam1", "cam2")
SPLIT_FILE = Path("train-test people splits") / "train_test_splits_ilidsvid.mat"
_PERSON = re.compile(r"person(\d{3})")


def read_split_file(path: Path, person_names: list[str]) -> list[Split]:
    """The ten official splits: ``ls_set`` rows of 1-based indices, first half = test."""
    try:
        mat = scipy.io.loadmat(path)
    except Exception as error:  # scipy raises several types for a broken file
        raise DatasetError(f"{path}: cannot read the split file ({error})") from error
    if "ls_set" not in mat:
        raise DatasetError(f"{path}: no variable 'ls_set' (found {sorted(k for k in mat if not k.startswith('__'))})")
    ls_set = np.asarray(mat["ls_set"])
    n = len(person_names)
    if ls_set.ndim != 2 or ls_set.shape[1] != n or ls_set.shape[0] == 0:
        raise DatasetError(f"{path}: ls_set has shape {ls_set.shape}; expected (splits, {n}) "
                           f"for the {n} persons found")
    if not np.array_equal(ls_set, np.round(ls_set)) or ls_set.min() < 1 or ls_set.max() > n:
        raise DatasetError(f"{path}: ls_set must hold integer indices 1..{n}")
    half = n // 2  # the first half of a row is the test persons
    splits = []
    for row in ls_set.astype(np.int64):
        if len(set(row.tolist())) != n:
            raise DatasetError(f"{path}: a row of ls_set repeats a person index")
        pid_of = [int(_PERSON.fullmatch(person_names[k - 1]).group(1)) for k in row]
        splits.append(Split(train=tuple(sorted(pid_of[half:])), test=tuple(sorted(pid_of[:half]))))
    return splits


def read_ilidsvid(root: str | Path) -> VideoReIDDataset:
    """Read iLIDS-VID from ``root`` (the folder holding ``i-LIDS-VID/``).

    Returns one tracklet per person and camera, ordered by camera then person number; pids
    are the person numbers of the folder names (1..319 with gaps). ``splits`` holds the ten
    official splits when the split file is present, else it is empty.
    """
    root = require_root(Path(root), "i-LIDS-VID/sequences", "iLIDS-VID",
                        "i-LIDS-VID/sequences/cam1, cam2 and 'train-test people splits/'")
    sequences = root / "i-LIDS-VID" / "sequences"
    skipped: list[Path] = []
    by_camera = []
    for cam in CAMERAS:
        cam_dir = require_dir(sequences / cam, f"camera folder '{cam}' (expected cam1 and cam2)")
        by_camera.append(person_folders(cam_dir, _PERSON, skipped))
    only = set(by_camera[0]) ^ set(by_camera[1])
    if only:
        pid = min(only)
        cam = CAMERAS[0] if pid in by_camera[0] else CAMERAS[1]
        raise DatasetError(f"{sequences}: person{pid:03d} is in {cam} only; iLIDS-VID has "
                           f"every person in both cameras")
    tracklets = []
    for camid, folders in enumerate(by_camera):
        pattern = re.compile(rf"cam{camid + 1}_person(?:\d{{3}})_(\d+)\.png")
        for pid, folder in sorted(folders.items()):
            prefix = f"cam{camid + 1}_{folder.name}_"
            frames = list_frames(folder, pattern, skipped)
            wrong = next((f for f in frames if not f.name.startswith(prefix)), None)
            if wrong is not None:
                raise DatasetError(f"{wrong}: frame name should start with {prefix}")
            tracklets.append(Tracklet(pid=pid, camid=camid, frames=tuple(frames)))
    warn_skipped(skipped, "iLIDS-VID")
    split_path = root / SPLIT_FILE
    names = [by_camera[0][pid].name for pid in sorted(by_camera[0])]
    splits = read_split_file(split_path, names) if split_path.is_file() else []
    return VideoReIDDataset(name="ilids-vid", root=root, cameras=CAMERAS, tracklets=tracklets,
                            splits=splits, skipped=skipped)
