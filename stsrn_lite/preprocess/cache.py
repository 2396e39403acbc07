"""The preprocessing cache: every frame decoded and preprocessed once (paper §4.2).

A cache folder holds, for one dataset read from disk:

- ``rgb.u8``   the frames resized to 64x48, RGB, uint8, shape (F, 3, 64, 48) (a raw memory map);
- ``flow.i8``  the Lucas-Kanade flow to the previous frame, quantised int8, shape (F, 2, 64, 48);
- ``index.npz`` per tracklet: ``offsets`` (n+1,), ``pids``, ``camids``;
- ``manifest.json`` written last: cache and preprocessing settings (the flow mode's
  `FlowConfig` among them), and a fingerprint of the source frames (relative path, size and
  modification time of every file, in order).

F is the number of frames of the whole dataset; tracklet i is rows offsets[i]:offsets[i+1].
The model's five channels are made from the two arrays at load time
(`stsrn_lite.preprocess.transforms.model_input`), so the normalisation can change without a
rebuild. The cache is built in a hidden sibling folder and renamed into place when complete;
a cache whose manifest does not match the dataset, or whose files are short, is never used.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from stsrn_lite.atomic import building_dir, locked
from stsrn_lite.data.layout import DatasetError
from stsrn_lite.data.tracklet import VideoReIDDataset
from stsrn_lite.home import home
from stsrn_lite.parallel import ordered_map
from stsrn_lite.preprocess import transforms
from stsrn_lite.preprocess.flow import DEFAULT_FLOW, FlowConfig, flow_config
from stsrn_lite.preprocess.frames import preprocess_tracklet

CACHE_VERSION = 1
MANIFEST = "manifest.json"
CACHE_FILES = frozenset({"rgb.u8", "flow.i8", "index.npz", MANIFEST})  # all a cache folder holds
_PNG_END = b"IEND\xaeB`\x82"


class StaleCacheError(RuntimeError):
    """A cache exists but does not belong to this dataset or these settings."""


def settings(flow: str | FlowConfig = DEFAULT_FLOW) -> dict:
    """Everything that changes the cached bytes, for the flow mode ``flow``; a cache built with
    other settings is stale."""
    return {"cache_version": CACHE_VERSION, "frame_hw": list(transforms.FRAME_HW), **transforms.cache_settings(flow)}


def decode_frame(path: Path) -> np.ndarray:
    """Read one PNG or JPEG frame as RGB uint8 (H, W, 3); a truncated or corrupt file raises."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise DatasetError(f"{path}: cannot read the frame ({error})") from error
    raw = data.tobytes()
    if raw[:8] == b"\x89PNG\r\n\x1a\n":
        complete = raw.rfind(_PNG_END) > 8  # bytes after IEND are tolerated, as decoders do
    elif raw[:2] == b"\xff\xd8":
        complete = raw.rfind(b"\xff\xd9") >= max(2, len(raw) - 1024)  # an end-of-image marker near the end
    else:
        raise DatasetError(f"{path}: not a PNG or JPEG image")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if complete else None
    if image is None:
        raise DatasetError(f"{path}: truncated or corrupt image (cannot decode it)")
    return image[..., ::-1]


def fingerprint(dataset: VideoReIDDataset) -> dict:
    """A digest of the source: every frame's path (relative to the root), size and mtime."""
    digest = hashlib.sha256()
    files = size = 0
    for tracklet in dataset.tracklets:
        digest.update(f"# {tracklet.pid} {tracklet.camid} {tracklet.length}\n".encode())
        for frame in tracklet.frames:
            try:
                stat = frame.stat()
            except OSError as error:
                raise DatasetError(f"{frame}: listed frame is missing ({error})") from error
            rel = os.path.relpath(frame, dataset.root)
            digest.update(f"{rel}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
            files += 1
            size += stat.st_size
    return {"files": files, "bytes": size, "sha256": digest.hexdigest()}


@dataclass
class PreprocessedCache:
    """An opened cache: memory-mapped arrays plus the per-tracklet index."""

    path: Path  # the cache folder
    rgb: np.ndarray  # (F, 3, 64, 48) uint8, memory-mapped
    flow: np.ndarray  # (F, 2, 64, 48) int8, memory-mapped
    offsets: np.ndarray  # (n + 1,) int64: tracklet i is rows offsets[i]:offsets[i+1]
    pids: np.ndarray  # (n,) int64
    camids: np.ndarray  # (n,) int64
    manifest: dict  # what manifest.json says

    def __len__(self) -> int:
        return len(self.pids)

    def tracklet(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(rgb (T,3,64,48) uint8, flow (T,2,64,48) int8) of tracklet ``index``."""
        start, end = int(self.offsets[index]), int(self.offsets[index + 1])
        return self.rgb[start:end], self.flow[start:end]


def _shapes(frames: int) -> dict[str, tuple[tuple[int, ...], type]]:
    h, w = transforms.FRAME_HW
    return {"rgb.u8": ((frames, 3, h, w), np.uint8), "flow.i8": ((frames, 2, h, w), np.int8)}


def open_cache(
    path: str | Path, dataset: VideoReIDDataset | None = None, *, flow: str | FlowConfig = DEFAULT_FLOW
) -> PreprocessedCache:
    """Open a complete cache built with flow mode ``flow``; with ``dataset``, check that it was
    built from that very data.

    Raises `StaleCacheError` when the cache is missing, incomplete, built with other settings
    (another flow mode among them) or from other files, and `DatasetError` for a truncated
    array file.
    """
    path = Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise StaleCacheError(f"{path}: no complete cache here (no {MANIFEST}); run data_scripts/prepare.py")
    try:
        manifest = json.loads(manifest_path.read_text())
        frames, tracklets = int(manifest["frames"]), int(manifest["tracklets"])
    except (ValueError, KeyError, TypeError) as error:
        raise StaleCacheError(f"{manifest_path}: unreadable manifest ({error!r})") from error
    expected = settings(flow)
    if manifest.get("settings") != expected:
        raise StaleCacheError(
            f"{path}: built with other preprocessing settings ({manifest.get('settings')} != {expected})"
        )
    if dataset is not None:
        if manifest.get("dataset") != dataset.name or manifest.get("source") != fingerprint(dataset):
            raise StaleCacheError(f"{path}: built from other files than {dataset.root} holds now")
    arrays = {}
    for name, (shape, dtype) in _shapes(frames).items():
        expected = int(np.prod(shape)) * np.dtype(dtype).itemsize
        actual = (path / name).stat().st_size if (path / name).is_file() else -1
        if actual != expected:
            raise DatasetError(f"{path / name}: truncated cache file ({actual} bytes, expected {expected})")
        arrays[name] = np.memmap(path / name, dtype=dtype, mode="r", shape=shape)
    try:
        with np.load(path / "index.npz") as index:
            offsets, pids, camids = index["offsets"], index["pids"], index["camids"]
    except (OSError, ValueError, KeyError) as error:
        raise StaleCacheError(f"{path / 'index.npz'}: missing or unreadable index ({error!r})") from error
    if (
        len(offsets) != tracklets + 1
        or len(pids) != tracklets
        or len(camids) != tracklets
        or offsets[0] != 0
        or offsets[-1] != frames
        or np.any(np.diff(offsets) < 1)
    ):
        raise DatasetError(
            f"{path / 'index.npz'}: index does not describe {tracklets} tracklets "
            f"of {frames} frames (as {MANIFEST} says)"
        )
    return PreprocessedCache(
        path=path,
        rgb=arrays["rgb.u8"],
        flow=arrays["flow.i8"],
        offsets=offsets,
        pids=pids,
        camids=camids,
        manifest=manifest,
    )


def _work(job: tuple[tuple[Path, ...], FlowConfig]) -> tuple[np.ndarray, np.ndarray]:
    frames, flow = job
    return preprocess_tracklet([decode_frame(frame) for frame in frames], flow)


def _refuse_foreign(path: Path) -> None:
    """Never replace a folder that is not a cache (a typo in --cache must not delete data)."""
    if path.is_dir():
        foreign = sorted(p.name for p in path.iterdir() if p.name not in CACHE_FILES)
        if foreign:
            raise FileExistsError(
                f"{path}: not a preprocessing cache (it holds {', '.join(foreign[:3])}); "
                f"refusing to replace it, choose another cache folder"
            )


def build_cache(
    dataset: VideoReIDDataset,
    path: str | Path,
    *,
    flow: str | FlowConfig = DEFAULT_FLOW,
    workers: int = 1,
    progress: bool = True,
) -> PreprocessedCache:
    """Preprocess every tracklet of ``dataset`` into a new cache at ``path`` (replacing any),
    with the flow mode ``flow`` (a name of `stsrn_lite.preprocess.flow.FLOW_MODES` or a config).

    A folder at ``path`` that holds anything but cache files is refused (`FileExistsError`).
    Holds a lock on ``path`` while building.
    """
    with locked(Path(path)):
        return _build(dataset, Path(path), flow=flow_config(flow), workers=workers, progress=progress)


def _build(
    dataset: VideoReIDDataset, path: Path, *, flow: FlowConfig, workers: int, progress: bool
) -> PreprocessedCache:
    """`build_cache` without the lock.

    Runs in ``workers`` processes. Memory stays bounded: a bounded number of tracklets is in
    flight (`stsrn_lite.parallel.ordered_map`), and each result is appended to the array files
    as soon as it arrives, in order.
    """
    _refuse_foreign(path)
    source = fingerprint(dataset)
    lengths = np.array([t.length for t in dataset.tracklets], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    with building_dir(path) as partial:
        bar = tqdm(total=int(offsets[-1]), unit="frame", disable=not progress, desc=f"prepare {dataset.name}")
        jobs = [(t.frames, flow) for t in dataset.tracklets]
        # Plain sequential writes, not a writable memory map: the written pages belong to the
        # page cache, not to this process, so its memory stays flat on MARS-sized data.
        with (
            open(partial / "rgb.u8", "wb") as rgb_file,
            open(partial / "flow.i8", "wb") as flow_file,
            closing(ordered_map(_work, jobs, workers=workers)) as results,
        ):
            try:
                for i, (rgb, flow_q) in enumerate(results):
                    if len(rgb) != lengths[i]:
                        raise DatasetError(
                            f"{jobs[i][0][0].parent}: preprocessing returned {len(rgb)} frames for {lengths[i]}"
                        )
                    rgb_file.write(np.ascontiguousarray(rgb).tobytes())
                    flow_file.write(np.ascontiguousarray(flow_q).tobytes())
                    bar.update(len(rgb))
            finally:
                bar.close()
            for handle in (rgb_file, flow_file):
                handle.flush()
                os.fsync(handle.fileno())
        np.savez(
            partial / "index.npz",
            offsets=offsets,
            pids=np.array([t.pid for t in dataset.tracklets], dtype=np.int64),
            camids=np.array([t.camid for t in dataset.tracklets], dtype=np.int64),
        )
        manifest = {
            "dataset": dataset.name,
            "root": str(dataset.root),
            "settings": settings(flow),
            "source": source,
            "tracklets": len(lengths),
            "frames": int(offsets[-1]),
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return open_cache(path, flow=flow)


def default_cache_dir(dataset: str, root: str | Path, flow: str = DEFAULT_FLOW) -> Path:
    """Where the cache of the dataset at ``root`` lives unless told: under the home's cache folder
    (`stsrn_lite.home`: ``$STSRN_CACHE``, else ``data/cache`` of the home); one folder per dataset,
    flow mode (a name of `stsrn_lite.preprocess.flow.FLOW_MODES`) and resolved root (a hash of the
    path), so two roots or two modes never share a cache."""
    if not isinstance(flow, str):
        raise ValueError(f"default_cache_dir takes the name of a flow mode, got {flow!r}")
    flow_config(flow)  # an unknown name raises here
    tag = hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:8]
    return home().cache / f"{dataset}-{flow}-{tag}"


def prepare(
    dataset: VideoReIDDataset,
    path: str | Path,
    *,
    flow: str | FlowConfig = DEFAULT_FLOW,
    workers: int = 1,
    progress: bool = True,
) -> tuple[PreprocessedCache, bool]:
    """Open the cache at ``path`` if it matches ``dataset`` and the flow mode ``flow``, else
    (re)build it.

    Returns (cache, built): ``built`` is False when an up-to-date cache was reused. Holds a
    lock on ``path``, so concurrent calls take turns and the later one reuses the cache.
    """
    path, flow = Path(path), flow_config(flow)
    with locked(path):
        try:
            return open_cache(path, dataset, flow=flow), False
        except (StaleCacheError, DatasetError):
            return _build(dataset, path, flow=flow, workers=workers, progress=progress), True
