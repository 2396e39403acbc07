"""Synthetic datasets written in the real iLIDS-VID, PRID2011 and MARS layouts (paper §4.1).

The trees are the ones the readers in `stsrn_lite.data` expect from the real datasets
(book: The original code, "Datasets and their layouts"): same folder and file names, PNG frames of 128x64 (iLIDS-VID,
PRID2011) or JPEG frames of 256x128 (MARS), the split ``.mat``/JSON files and the MARS
``info/`` files with integer arrays. The people are drawn by `stsrn_lite.synthetic.render`.

Beside the dataset, ``synthetic_meta.json`` records the generator's configuration and, for
every tracklet, which frames are occluded and how it was rendered. Real readers ignore it.

Every tracklet is rendered from its own seed, so the output is byte-identical for a seed
whatever the number of workers. The tree is written into a hidden sibling folder and renamed
into place at the end: an interrupted run leaves no half-written dataset behind.
"""

from __future__ import annotations

import io
import json
from contextlib import closing
from dataclasses import asdict, dataclass, is_dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import scipy.io
from tqdm import tqdm

from stsrn_lite.atomic import building_dir, locked
from stsrn_lite.data.layout import DatasetError
from stsrn_lite.parallel import ordered_map
from stsrn_lite.synthetic import statistics as st
from stsrn_lite.synthetic.render import render_junk, render_tracklet, sample_appearance, sample_camera

GENERATOR_VERSION = 1
LAYOUTS = ("ilids-vid", "prid2011", "mars")
META_FILE = "synthetic_meta.json"
_CODE = {"ilids-vid": 1, "prid2011": 2, "mars": 3}  # keeps the layouts' random streams apart
MARS_TRAIN_SHARE = 625 / 1259  # MARS: 625 train and 634 test identities


@dataclass(frozen=True)
class SyntheticConfig:
    layout: str  # one of LAYOUTS
    identities: int  # iLIDS-VID/PRID2011: persons in both cameras (real: 300/200); MARS: train + test ids (625 + 634)
    seed: int = 0  # everything is a function of the seed
    max_length: int | None = None  # cap on tracklet length (small profiles); None = the real ranges
    gallery_only: bool = True  # PRID2011: also write the single-camera persons 201.. (real: 185 in A, 549 in B)
    # None: occluders as each camera draws them; a share in [0, 1]: every person's tracklet has its
    # occluder held over that share of its frames (test sets with controlled occlusion; same people,
    # scenes and splits as the dataset without it)
    occluded_fraction: float | None = None

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"unknown layout '{self.layout}'; expected one of {', '.join(LAYOUTS)}")
        if self.identities < 2:
            raise ValueError(f"identities must be >= 2, got {self.identities}")
        limit = {"ilids-vid": 999, "prid2011": 200, "mars": 1480}[self.layout]
        if self.identities > limit:
            numbers = {
                999: "have 3 digits",
                200: "run 1-200 in both cameras",
                1480: "run 1-1500, odd for train and even for test",
            }[limit]
            raise ValueError(f"{self.layout}: identities must be <= {limit} (the layout's person numbers {numbers})")
        if self.max_length is not None and self.max_length < 2:
            raise ValueError(f"max_length must be >= 2, got {self.max_length}")
        if self.occluded_fraction is not None and not 0.0 <= self.occluded_fraction <= 1.0:
            raise ValueError(f"occluded_fraction must lie in [0, 1], got {self.occluded_fraction}")

    def record(self) -> dict:
        """The configuration as the dataset's meta stores it (without ``occluded_fraction`` when it
        is None, as before it existed, so that existing datasets stay valid)."""
        fields = asdict(self)
        if fields["occluded_fraction"] is None:
            del fields["occluded_fraction"]
        return fields


# Sizes of the synthetic benchmark: "smoke" (small, for CPUs) and "full" (the real datasets' sizes).
# The book's profiles (`stsrn_lite.book.profiles.PROFILES`) name the size they use.
SIZES: dict[str, dict[str, dict]] = {
    "smoke": {
        "ilids-vid": {"identities": 40, "max_length": 48},
        "prid2011": {"identities": 40, "max_length": 48, "gallery_only": False},
        "mars": {"identities": 24, "max_length": 32},
    },
    "full": {"ilids-vid": {"identities": 300}, "prid2011": {"identities": 200}, "mars": {"identities": 1259}},
}


@dataclass(frozen=True)
class _Job:
    """One tracklet to render: where its frames go and everything needed to draw them."""

    folder: str  # relative to the dataset root
    names: tuple[str, ...]  # frame file names, in temporal order
    appearance: object | None  # an Appearance, or None for a MARS junk tracklet
    camera: object  # a Camera
    seed: tuple[int, ...]  # the tracklet's own random stream
    size_hw: tuple[int, int]  # frame size
    record: dict  # what the metadata says about it (pid, camid, ...)
    occluded_fraction: float | None = None  # SyntheticConfig.occluded_fraction


def _savemat(path: Path, variables: dict[str, np.ndarray]) -> None:
    """A MATLAB v5 file like the datasets' own, with a fixed header text instead of the time of
    writing (scipy's default), so that a seed always gives the same bytes."""
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, variables, do_compression=True)
    data = bytearray(buffer.getvalue())
    data[:116] = b"MATLAB 5.0 MAT-file, Platform: posix, written by stsrn_lite.synthetic".ljust(116)
    path.write_bytes(bytes(data))


def _cap(length: int, config: SyntheticConfig) -> int:
    return length if config.max_length is None else min(length, config.max_length)


def _rng(config: SyntheticConfig, *keys: int) -> np.random.Generator:
    return np.random.default_rng([config.seed, _CODE[config.layout], *keys])


def _cameras(config: SyntheticConfig, count: int) -> list:
    return [sample_camera(_rng(config, 1, c), c) for c in range(count)]


def _plan_ilidsvid(config: SyntheticConfig, root: Path) -> list[_Job]:
    rng = _rng(config, 0)
    n = config.identities
    numbers = np.arange(1, max(n, round(n * 319 / 300)) + 1)  # real ids: 300 of 1..319
    pids = sorted(int(p) for p in rng.choice(numbers, size=n, replace=False))
    cameras = _cameras(config, 2)
    jobs = []
    for pid in pids:
        appearance = sample_appearance(_rng(config, 2, pid))
        for camid in range(2):
            length = _cap(st.ilids_length(rng), config)
            first = int(rng.integers(1, 20000))  # original frame numbers; some cross 10000
            names = tuple(f"cam{camid + 1}_person{pid:03d}_{first + i:05d}.png" for i in range(length))
            jobs.append(
                _Job(
                    f"i-LIDS-VID/sequences/cam{camid + 1}/person{pid:03d}",
                    names,
                    appearance,
                    cameras[camid],
                    (config.seed, 1, 3, pid, camid),
                    (128, 64),
                    {"pid": pid, "camid": camid},
                )
            )
    ls_set = np.stack([rng.permutation(n) + 1 for _ in range(10)]).astype(np.float64)  # MATLAB doubles
    split_dir = root / "train-test people splits"
    split_dir.mkdir(parents=True)
    _savemat(split_dir / "train_test_splits_ilidsvid.mat", {"ls_set": ls_set})
    return jobs


def _plan_prid2011(config: SyntheticConfig, root: Path) -> list[_Job]:
    rng = _rng(config, 0)
    n = config.identities
    extra = (round(n * 185 / 200), round(n * 549 / 200)) if config.gallery_only else (0, 0)
    cameras = _cameras(config, 2)
    jobs, lengths = [], {}
    for camid, cam in enumerate(("cam_a", "cam_b")):
        # persons 1..n are in both cameras; single-camera persons are numbered from 201 (real layout)
        for pid in [*range(1, n + 1), *range(201, 201 + extra[camid])]:
            key = (2, pid) if pid <= n else (4, camid, pid)  # persons > 200 differ between cameras
            appearance = sample_appearance(_rng(config, *key))
            length = _cap(st.prid_length(rng), config)
            lengths[pid, camid] = length
            names = tuple(f"{i + 1:04d}.png" for i in range(length))
            jobs.append(
                _Job(
                    f"prid_2011/multi_shot/{cam}/person_{pid:04d}",
                    names,
                    appearance,
                    cameras[camid],
                    (config.seed, 2, 3, pid, camid),
                    (128, 64),
                    {"pid": pid, "camid": camid},
                )
            )
    # torchreid-style splits of the persons with >= 27 frames in both cameras (the "178" rule).
    eligible = [p for p in range(1, n + 1) if min(lengths[p, 0], lengths[p, 1]) >= 27]
    splits = []
    for _ in range(10):
        order = [eligible[i] for i in rng.permutation(len(eligible))]
        half = len(order) // 2
        splits.append(
            {
                "test": sorted(f"person_{p:04d}" for p in order[:half]),
                "train": sorted(f"person_{p:04d}" for p in order[half:]),
            }
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / "splits_prid2011.json").write_text(json.dumps(splits))
    return jobs


def _mars_groups(
    config: SyntheticConfig, rng: np.random.Generator, pid: int, quantiles, lengths_pool: np.ndarray | None
) -> list[tuple[int, int]]:
    """(camera 1..6, length) of each tracklet of one identity, in camera order."""
    freq = np.asarray(st.MARS_CAMERA_FREQUENCY, dtype=np.float64)
    n_cams = st.choose_counts(rng, st.MARS_CAMERAS_PER_IDENTITY)
    cams = sorted(int(c) + 1 for c in rng.choice(6, size=n_cams, replace=False, p=freq / freq.sum()))
    groups = []
    for cam in cams:
        for _ in range(st.choose_counts(rng, st.MARS_TRACKLETS_PER_CAMERA)):
            length = int(rng.choice(lengths_pool)) if lengths_pool is not None else st.quantile_length(rng, quantiles)
            groups.append((cam, min(_cap(length, config), 999)))
    return groups


def check_info_dir(info_dir: str | Path) -> Path:
    """``info_dir`` if it is MARS's ``info/`` folder (it holds both ``tracks_*_info.mat``), else a
    one-line `DatasetError` saying what was expected; checked before anything is written."""
    info_dir = Path(info_dir)
    missing = [f"tracks_{subset}_info.mat" for subset in ("train", "test")]
    missing = [name for name in missing if not (info_dir / name).is_file()]
    if missing:
        where = "no such folder" if not info_dir.is_dir() else f"no {' or '.join(missing)} there"
        raise DatasetError(
            f"{info_dir}: {where}; expected MARS's info folder (from the MARS evaluation code, holding "
            f"tracks_train_info.mat and tracks_test_info.mat); pass that folder, or leave --mars-info out"
        )
    return info_dir


def _real_lengths(info_dir: Path | None, subset: str) -> np.ndarray | None:
    if info_dir is None:
        return None
    info = scipy.io.loadmat(Path(info_dir) / f"tracks_{subset}_info.mat")[f"track_{subset}_info"]
    return (info[:, 1] - info[:, 0] + 1).astype(np.int64)


def _plan_mars(config: SyntheticConfig, root: Path, info_dir: Path | None) -> list[_Job]:
    rng = _rng(config, 0)
    n_train = max(1, round(config.identities * MARS_TRAIN_SHARE))  # real: 625 of 1,259
    n_test = config.identities - n_train
    train_pids = sorted(int(p) for p in rng.choice(np.arange(1, 1500, 2), n_train, replace=False))
    test_pids = sorted(int(p) for p in rng.choice(np.arange(2, 1501, 2), n_test, replace=False))
    cameras = _cameras(config, 6)
    freq = np.asarray(st.MARS_CAMERA_FREQUENCY, dtype=np.float64) / sum(st.MARS_CAMERA_FREQUENCY)
    info_dir_out = root / "info"
    info_dir_out.mkdir(parents=True)
    jobs = []
    for subset, pids in (("train", train_pids), ("test", test_pids)):
        quantiles = st.MARS_TRAIN_LENGTH_QUANTILES if subset == "train" else st.MARS_TEST_LENGTH_QUANTILES
        pool = _real_lengths(info_dir, subset)
        rows = []  # (pid, cam, length, appearance or None, key)
        for pid in pids:
            appearance = sample_appearance(_rng(config, 2, pid))
            rows += [
                (pid, cam, length, appearance, (pid, k))
                for k, (cam, length) in enumerate(_mars_groups(config, rng, pid, quantiles, pool))
            ]
        if subset == "test":
            n_junk = max(1, round(n_test * st.MARS_JUNK_PER_TEST_IDENTITY))
            n_dis = max(1, round(n_test * st.MARS_DISTRACTORS_PER_TEST_IDENTITY))
            extra = [
                (
                    -1,
                    int(rng.choice(6, p=freq)) + 1,
                    _cap(st.median_length(rng, st.MARS_JUNK_LENGTH), config),
                    None,
                    (-1, k),
                )
                for k in range(n_junk)
            ]
            extra += [
                (
                    0,
                    int(rng.choice(6, p=freq)) + 1,
                    _cap(st.median_length(rng, st.MARS_DISTRACTOR_LENGTH), config),
                    sample_appearance(_rng(config, 5, k)),
                    (0, k),
                )
                for k in range(n_dis)
            ]
            rows = sorted(extra, key=lambda r: (r[0], r[1])) + rows
        names, info, counters = [], [], {}
        for pid, cam, length, appearance, key in rows:
            prefix = "00-1" if pid == -1 else f"{pid:04d}"
            counters[pid] = counters.get(pid, 0) + 1  # T numbers run per identity, in camera order
            frames = tuple(f"{prefix}C{cam}T{counters[pid]:04d}F{f:03d}.jpg" for f in range(1, length + 1))
            info.append((len(names) + 1, len(names) + length, pid, cam))
            names.extend(frames)
            jobs.append(
                _Job(
                    f"bbox_{subset}/{prefix}",
                    frames,
                    appearance,
                    cameras[cam - 1],
                    (config.seed, 3, 3, 0 if subset == "train" else 1, key[0] + 1, key[1]),
                    (256, 128),
                    {"pid": pid, "camid": cam - 1, "subset": subset},
                )
            )
        (info_dir_out / f"{subset}_name.txt").write_bytes("".join(f"{n}\r\n" for n in names).encode())
        _savemat(info_dir_out / f"tracks_{subset}_info.mat", {f"track_{subset}_info": np.asarray(info, dtype=np.int32)})
        if subset == "test":
            query = _mars_queries(np.asarray(info), rng)
            _savemat(info_dir_out / "query_IDX.mat", {"query_IDX": query})
    return jobs


def _mars_queries(info: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random tracklet per (pid, camera) of every real identity seen by >= 2 cameras."""
    rows = []
    for pid in np.unique(info[:, 2]):
        if pid <= 0:
            continue
        mine = np.flatnonzero(info[:, 2] == pid)
        cams = np.unique(info[mine, 3])
        if len(cams) < 2:
            continue
        for cam in cams:
            rows.append(int(rng.choice(mine[info[mine, 3] == cam])) + 1)  # 1-based
    return np.asarray(sorted(rows), dtype=np.uint16).reshape(1, -1)


def _render_job(job: _Job, out_root: Path) -> dict:
    rng = np.random.default_rng(list(job.seed))
    if job.appearance is None:
        out = render_junk(job.camera, len(job.names), job.size_hw, rng)
    else:
        out = render_tracklet(
            job.appearance, job.camera, len(job.names), job.size_hw, rng=rng, occluded_fraction=job.occluded_fraction
        )
    folder = out_root / job.folder
    folder.mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, 90] if job.names[0].endswith(".jpg") else [cv2.IMWRITE_PNG_COMPRESSION, 3]
    for name, frame in zip(job.names, out.frames):
        if not cv2.imwrite(str(folder / name), np.ascontiguousarray(frame[..., ::-1]), params):
            raise OSError(f"{folder / name}: could not write the frame")
    occluded = np.flatnonzero(out.occluded).tolist()
    return {
        **job.record,
        "folder": job.folder,
        "first": job.names[0],
        "length": len(job.names),
        "occluded_frames": occluded,
        "render": out.meta,
    }


def _json_default(value):
    if is_dataclass(value):
        return asdict(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in {META_FILE}")


def generate(
    config: SyntheticConfig,
    root: str | Path,
    *,
    workers: int = 1,
    force: bool = False,
    info_dir: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """Write the synthetic dataset described by ``config`` at ``root`` and return ``root``.

    Args:
        workers: processes rendering in parallel; the bytes written do not depend on it.
        force: replace an existing synthetic dataset at ``root`` (never a folder without
            ``synthetic_meta.json``, which could be real data).
        info_dir: MARS only: a real ``info/`` folder whose track lengths are drawn instead
            of the built-in quantiles (a folder without them raises `DatasetError`).
        progress: show a tqdm bar on stderr.
    """
    root = Path(root)
    if info_dir is not None:
        check_info_dir(info_dir)
    with locked(root):
        return _generate(config, root, workers=workers, force=force, info_dir=info_dir, progress=progress)


def _generate(
    config: SyntheticConfig, root: Path, *, workers: int, force: bool, info_dir: str | Path | None, progress: bool
) -> Path:
    """`generate` without the lock."""
    if root.exists() and any(root.iterdir()):
        if not force:
            raise FileExistsError(f"{root}: already exists and is not empty (use force to replace it)")
        if not (root / META_FILE).is_file():
            raise FileExistsError(f"{root}: not a synthetic dataset (no {META_FILE}); refusing to replace it")
    with building_dir(root) as partial:
        if config.layout == "ilids-vid":
            jobs = _plan_ilidsvid(config, partial)
        elif config.layout == "prid2011":
            jobs = _plan_prid2011(config, partial)
        else:
            jobs = _plan_mars(config, partial, None if info_dir is None else Path(info_dir))
        jobs = [replace(job, occluded_fraction=config.occluded_fraction) for job in jobs]
        bar = tqdm(
            total=sum(len(j.names) for j in jobs), unit="frame", disable=not progress, desc=f"synthetic {config.layout}"
        )
        records = []
        with closing(ordered_map(_render_one, [(job, partial) for job in jobs], workers=workers)) as results:
            try:
                for record in results:
                    records.append(record)
                    bar.update(record["length"])
            finally:
                bar.close()  # before an error is reported, not redrawn after it
        meta = {
            "generator_version": GENERATOR_VERSION,
            "config": config.record(),
            "info_dir": None if info_dir is None else str(info_dir),
            "tracklets": records,
        }
        (partial / META_FILE).write_text(json.dumps(meta, default=_json_default))
    return root


def _render_one(args: tuple[_Job, Path]) -> dict:
    return _render_job(*args)


def read_meta(root: str | Path) -> dict | None:
    """The generator's record at ``root``, or None when ``root`` is not a synthetic dataset."""
    path = Path(root) / META_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def generated(config: SyntheticConfig, root: str | Path) -> bool:
    """Whether ``root`` holds this exact configuration, made by this generator version."""
    meta = read_meta(root)
    return (
        meta is not None
        and meta.get("generator_version") == GENERATOR_VERSION
        and meta.get("config") == config.record()
    )


def ensure(config: SyntheticConfig, root: str | Path, **options) -> tuple[Path, bool]:
    """Generate unless ``root`` already holds this exact configuration; returns (root, generated)."""
    root = Path(root)
    with locked(root):
        if generated(config, root):
            return root, False
        options.setdefault("workers", 1)
        options.setdefault("info_dir", None)
        options.setdefault("progress", True)
        return _generate(config, root, force=True, **options), True
