"""PRID2011 (multi-shot) reader (paper §4.1; Hirzer et al. 2011, the paper's reference [32]).

Layout, exactly as distributed (book: The original code, "Datasets and their layouts")::

    ROOT/prid_2011/multi_shot/cam_a/person_NNNN/NNNN.png     (385 persons)
    ROOT/prid_2011/multi_shot/cam_b/person_NNNN/NNNN.png     (749 persons)
    ROOT/splits_prid2011.json                                (optional, torchreid's 178-person splits)

Persons 0001-0200 appear in both cameras: they are the paper's protocol ("we only use the
first 200 identities appeared in both cameras", §4.2). Persons 0201 and above are different
people in the two cameras (the official page: 385 persons in A, 749 in B, the first 200
shared), so they get camera-specific pids: 10000 + n in cam_a and 20000 + n in cam_b. They are
read too, as single-camera tracklets, and ignored by the protocol.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from stsrn_lite.data.layout import (DatasetError, list_frames, person_folders, require_dir,
                                    require_root, warn_skipped)
from stsrn_lite.data.tracklet import Split, Tracklet, VideoReIDDataset

CAMERAS = ("cam_a", "cam_b")
PROTOCOL_PERSONS = 200  # paper §4.2: the first 200 persons, seen by both cameras
SINGLE_CAMERA_PID = (10000, 20000)  # pid offsets of persons > 200 in cam_a, cam_b
_PERSON = re.compile(r"person_(\d{4})")
_FRAME = re.compile(r"(\d{4})\.png")


def read_split_json(path: Path, dataset: VideoReIDDataset) -> list[Split]:
    """torchreid's ``splits_prid2011.json``: a list of {"train": [...], "test": [...]} of folder names."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise DatasetError(f"{path}: cannot read the split file ({error})") from error
    if not isinstance(data, list) or not data:
        raise DatasetError(f"{path}: expected a JSON list of {{'train': [...], 'test': [...]}} objects")
    paired = set(dataset.paired_pids())
    splits = []
    for k, entry in enumerate(data):
        if not isinstance(entry, dict) or set(entry) != {"train", "test"}:
            raise DatasetError(f"{path}: split {k} must have exactly the keys 'train' and 'test'")
        parts = {}
        for key in ("train", "test"):
            pids = []
            for name in entry[key]:
                match = _PERSON.fullmatch(str(name))
                if match is None:
                    raise DatasetError(f"{path}: split {k} {key}: '{name}' is not a person_NNNN name")
                pid = int(match.group(1))
                if pid not in paired:
                    raise DatasetError(f"{path}: split {k} {key}: {name} is not in both cameras "
                                       f"under {dataset.root / 'prid_2011' / 'multi_shot'}")
                pids.append(pid)
            parts[key] = tuple(sorted(pids))
        splits.append(Split(train=parts["train"], test=parts["test"]))
    return splits


def read_prid2011(root: str | Path, *, split_file: str | Path | None = None) -> VideoReIDDataset:
    """Read PRID2011 from ``root`` (the folder holding ``prid_2011/``).

    Args:
        root: the dataset root.
        split_file: a ``splits_prid2011.json`` (the 178-person protocol of other code). If it is
            None and ``root/splits_prid2011.json`` exists, that file is NOT used: the paper's
            protocol is persons 1-200 with seeded splits (`stsrn_lite.data.splits`). Pass the
            path explicitly to use it.

    Returns every tracklet, ordered by camera then person number; pids are person numbers
    (persons above 200: 10000 + n in cam_a, 20000 + n in cam_b).
    """
    root = Path(root)
    if (root / "multi_shot").is_dir() and not (root.parent / "prid_2011" / "multi_shot").is_dir():
        raise DatasetError(f"{root}: holds multi_shot/ directly; PRID2011's zip has no top-level folder, "
                           f"so create {root / 'prid_2011'} and move multi_shot/ (and single_shot/) into it")
    root = require_root(root, "prid_2011/multi_shot", "PRID2011", "prid_2011/multi_shot/cam_a and cam_b")
    multi_shot = root / "prid_2011" / "multi_shot"
    skipped: list[Path] = []
    tracklets = []
    for camid, cam in enumerate(CAMERAS):
        cam_dir = require_dir(multi_shot / cam, f"camera folder '{cam}' (expected cam_a and cam_b)")
        for number, folder in person_folders(cam_dir, _PERSON, skipped).items():
            frames = list_frames(folder, _FRAME, skipped)
            pid = number if number <= PROTOCOL_PERSONS else SINGLE_CAMERA_PID[camid] + number
            tracklets.append(Tracklet(pid=pid, camid=camid, frames=tuple(frames)))
    shared = [{t.pid for t in tracklets if t.camid == c and t.pid <= PROTOCOL_PERSONS} for c in (0, 1)]
    if shared[0] != shared[1]:
        number = min(shared[0] ^ shared[1])
        cam = CAMERAS[1] if number in shared[0] else CAMERAS[0]
        raise DatasetError(f"{multi_shot / cam / f'person_{number:04d}'}: missing; PRID2011's persons "
                           f"0001-{PROTOCOL_PERSONS:04d} are in both cameras")
    warn_skipped(skipped, "PRID2011")
    dataset = VideoReIDDataset(name="prid2011", root=root, cameras=CAMERAS, tracklets=tracklets,
                               skipped=skipped)
    if split_file is not None:
        dataset.splits = read_split_json(Path(split_file), dataset)
    return dataset


def protocol_pids(dataset: VideoReIDDataset) -> list[int]:
    """The paper's PRID2011 identities: persons 1-200, each seen by both cameras (§4.2)."""
    return [pid for pid in dataset.paired_pids() if pid <= PROTOCOL_PERSONS]
