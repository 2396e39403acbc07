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

`prepare` takes a folder of caches (a run's ``--cache``) and keeps each dataset's cache in its
own subfolder, named by `cache_key` (dataset, flow mode, and a hash of the dataset's root), so
two datasets or two flow modes sharing a ``--cache`` never rebuild each other's cache. A
complete cache is read without writing anything, so it can live on read-only storage.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from stsrn_lite.atomic import building_dir, locked
from stsrn_lite.data.layout import DatasetError, DatasetWarning
from stsrn_lite.data.tracklet import VideoReIDDataset
from stsrn_lite.home import home
from stsrn_lite.parallel import ordered_map
from stsrn_lite.preprocess import transforms
from stsrn_lite.preprocess.flow import DEFAULT_FLOW, FLOW_MODES, FlowConfig, flow_config
from stsrn_lite.preprocess.frames import preprocess_tracklet

CACHE_VERSION = 1
MANIFEST = "manifest.json"
CACHE_FILES = frozenset({"rgb.u8", "flow.i8", "index.npz", MANIFEST})  # all a cache folder holds
_PNG_END = b"IEND\xaeB`\x82"


_KEY = re.compile(r"[a-z0-9][a-z0-9.-]*-[0-9a-f]{8}")  # a `cache_key`
_WRITE_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class StaleCacheError(RuntimeError):
    """A cache exists but does not belong to this dataset or these settings."""


class CacheError(StaleCacheError):
    """A cache folder that cannot be used or built: not a cache folder, read-only, or too little space.

    A `StaleCacheError`, so that every command line that reports a stale cache in one line
    (training and evaluation included) reports these the same way.
    """


def settings(flow: str | FlowConfig = DEFAULT_FLOW) -> dict:
    """Everything that changes the cached bytes, for the flow mode ``flow``; a cache built with
    other settings is stale."""
    return {"cache_version": CACHE_VERSION, "frame_hw": list(transforms.FRAME_HW), **transforms.cache_settings(flow)}


_STDERR = threading.Lock()  # file descriptor 2 is the process's: one capture at a time


def _decode_jpeg(data: np.ndarray) -> tuple[np.ndarray | None, str]:
    """``cv2.imdecode`` of JPEG bytes, and what libjpeg printed meanwhile (its warnings).

    libjpeg reports damaged data it can still decode ("Corrupt JPEG data: bad Huffman code")
    only as a line on the C library's stderr, and OpenCV passes nothing on; so file descriptor
    2 is pointed at a temporary file for the call. Progress-bar text another thread wrote
    meanwhile (it holds carriage returns) is passed on to the real stderr.
    """
    with _STDERR, tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(capture.fileno(), 2)
            try:
                image = cv2.imdecode(data, cv2.IMREAD_COLOR)
            finally:
                os.dup2(saved, 2)
        finally:
            os.close(saved)
        capture.seek(0)
        text = capture.read().decode("utf-8", errors="replace")
    lines = text.split("\n")
    passed_on = [line for line in lines if "\r" in line]
    if passed_on:
        os.write(2, "\n".join(passed_on).encode())
    return image, " ".join(line.strip() for line in lines if "\r" not in line and line.strip())


def decode_frame(path: Path) -> np.ndarray:
    """Read one PNG or JPEG frame as RGB uint8 (H, W, 3); a truncated or undecodable file raises.

    A JPEG that libjpeg decodes while reporting damaged data (a few corrupt bytes in the
    middle) is kept, as decoded, with a `DatasetWarning` naming the file and libjpeg's words,
    so that a damaged frame of a large dataset is seen without ending the build.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise DatasetError(f"{path}: cannot read the frame ({error})") from error
    raw = data.tobytes()
    complaint = ""
    if raw[:8] == b"\x89PNG\r\n\x1a\n":
        complete = raw.rfind(_PNG_END) > 8  # bytes after IEND are tolerated, as decoders do
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if complete else None
    elif raw[:2] == b"\xff\xd8":
        complete = raw.rfind(b"\xff\xd9") >= max(2, len(raw) - 1024)  # an end-of-image marker near the end
        image, complaint = _decode_jpeg(data) if complete else (None, "")
    else:
        raise DatasetError(f"{path}: not a PNG or JPEG image")
    if image is None:
        raise DatasetError(f"{path}: truncated or corrupt image (cannot decode it)")
    if complaint:
        warnings.warn(
            f"{path}: corrupt image data, decoded anyway (libjpeg: {complaint}); "
            f"replace the frame from the dataset's archive (and build the cache again) to use it intact",
            DatasetWarning,
            stacklevel=2,
        )
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


def _flow_name(flow: str | FlowConfig) -> str:
    """The name of flow mode ``flow`` (`FLOW_MODES`), or a digest of a config that has none."""
    if isinstance(flow, str):
        flow_config(flow)  # an unknown name raises here
        return flow
    for name, config in FLOW_MODES.items():
        if config == flow:
            return name
    return "flow" + hashlib.sha1(json.dumps(settings(flow), sort_keys=True).encode()).hexdigest()[:8]


def cache_key(dataset: str, root: str | Path, flow: str | FlowConfig = DEFAULT_FLOW) -> str:
    """The name of the folder holding the cache of dataset ``dataset`` at ``root`` with flow mode
    ``flow``: ``DATASET-FLOW-HASH``, the hash of the resolved root, so that two roots or two modes
    never share a cache."""
    tag = hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:8]
    return f"{dataset}-{_flow_name(flow)}-{tag}"


def _read_manifest(path: Path) -> dict | None:
    """What ``path``'s manifest says, or None when it has none or it cannot be read."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _is_cache_folder_entry(entry: Path) -> bool:
    """Whether ``entry`` may sit in a folder of caches: a hidden file (locks, partial builds,
    .DS_Store) or a subfolder named like a `cache_key`."""
    return entry.name.startswith(".") or (_KEY.fullmatch(entry.name) is not None and entry.is_dir())


def cache_folder(path: str | Path, dataset: VideoReIDDataset, flow: str | FlowConfig = DEFAULT_FLOW) -> Path:
    """Where `prepare` keeps ``dataset``'s cache given the folder ``path`` (a ``--cache``).

    - ``path`` named by `cache_key` (as `default_cache_dir` gives it) is the cache itself;
    - ``path`` holding a single cache of this dataset and root (as older versions built under
      ``--cache``), or a partial one of nobody's, is that cache, so it is not built again;
    - otherwise ``path`` is a folder of caches, and the cache is its subfolder `cache_key`.

    Raises `CacheError` for a ``path`` that is a file, a single cache of another dataset, or a
    folder holding anything else than caches (a typo in ``--cache`` must not fill a data folder).
    """
    path = Path(path)
    key = cache_key(dataset.name, dataset.root, flow)
    if path.name == key:
        return path
    if path.exists() and not path.is_dir():
        raise CacheError(f"{path}: not a folder; --cache takes a folder for the caches (a new or empty one)")
    if not path.is_dir():
        return path / key
    entries = list(path.iterdir())
    if any(entry.name in CACHE_FILES for entry in entries):
        manifest = _read_manifest(path)
        if manifest is None or (
            manifest.get("dataset") == dataset.name and _same_folder(manifest.get("root"), dataset.root)
        ):
            return path
        raise CacheError(
            f"{path}: holds the cache of {manifest.get('dataset')} at {manifest.get('root')}, not of "
            f"{dataset.name} at {dataset.root}; give this dataset its own --cache folder"
        )
    foreign = sorted(entry.name for entry in entries if not _is_cache_folder_entry(entry))
    if foreign:
        raise CacheError(
            f"{path}: not a folder of preprocessing caches (it holds {', '.join(foreign[:3])}); "
            f"refusing to write into it, choose a new or empty --cache folder"
        )
    return path / key


def _same_folder(recorded: object, root: Path) -> bool:
    """Whether ``recorded`` (a manifest's root) names the folder ``root``."""
    return isinstance(recorded, str) and Path(recorded).resolve() == Path(root).resolve()


def cache_bytes(frames: int, tracklets: int) -> int:
    """The size of a cache of ``frames`` frames in ``tracklets`` tracklets (the arrays, the index
    and a margin for the manifest and the file system's blocks)."""
    per_frame = sum(int(np.prod(shape[1:])) * np.dtype(dtype).itemsize for shape, dtype in _shapes(1).values())
    return frames * per_frame + 24 * (tracklets + 1) + (1 << 20)


def _gib(size: int) -> str:
    """``size`` bytes as text for a person: GB with sensible digits."""
    return f"{size / 1e9:.3g} GB" if size >= 1e7 else f"{size / 1e6:.2g} MB"


def _free_bytes(folder: Path) -> int:
    """Free bytes (for this user) on the file system that holds ``folder`` or would hold it."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


def _check_space(path: Path, needed: int) -> None:
    """Refuse to start a build of ``needed`` bytes at ``path`` that cannot fit (`CacheError`)."""
    free = _free_bytes(path.parent)
    if free < needed:
        raise CacheError(
            f"{path.parent}: not enough free space for the cache: it needs {_gib(needed)}, "
            f"{_gib(free)} is free; free some space or choose another --cache folder"
        )


def _storage_error(error: OSError, path: Path, needed: int, why: str = "") -> OSError | CacheError:
    """A one-line `CacheError` for a full or read-only disk met while writing the cache at
    ``path`` (``why``: the reason it had to be written); any other ``error`` as it is."""
    if error.errno in _NO_SPACE:
        return CacheError(
            f"{path.parent}: disk full while building the cache: it needs {_gib(needed)}, "
            f"{_gib(_free_bytes(path.parent))} is free; free some space or choose another --cache folder"
        )
    if error.errno in _WRITE_DENIED:
        return CacheError(
            f"{path.parent}: cannot write there ({os.strerror(error.errno)}), and the cache must be built"
            f"{f' ({why})' if why else ''}; choose a writable --cache folder"
        )
    return error


@contextmanager
def _lock(path: Path, needed: int, why: str = "") -> Iterator[None]:
    """`locked` on ``path``, with a read-only or full disk reported as a `CacheError`."""
    with ExitStack() as stack:
        try:
            stack.enter_context(locked(path))
        except OSError as error:
            raise _storage_error(error, path, needed, why) from error
        yield


def _size(dataset: VideoReIDDataset) -> int:
    """The size of ``dataset``'s cache (`cache_bytes`)."""
    return cache_bytes(sum(t.length for t in dataset.tracklets), len(dataset.tracklets))


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


def _work(job: tuple[tuple[Path, ...], FlowConfig]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One tracklet's cached arrays, and the `DatasetWarning` messages its frames gave.

    The warnings travel with the result because a worker process's warnings would only reach
    its stderr: the building process gives them again (see `_write`), where they can be seen,
    filtered or recorded.
    """
    frames, flow = job
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DatasetWarning)
        images = [decode_frame(frame) for frame in frames]
    for other in (w for w in caught if not issubclass(w.category, DatasetWarning)):
        warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    notes = [str(w.message) for w in caught if issubclass(w.category, DatasetWarning)]
    return (*preprocess_tracklet(images, flow), notes)


def _refuse_foreign(path: Path) -> None:
    """Never replace what is not a cache (a typo in --cache must not delete data): `CacheError`."""
    if path.exists() and not path.is_dir():
        raise CacheError(f"{path}: not a folder; choose a new or empty folder for the cache")
    if path.is_dir():
        foreign = sorted(p.name for p in path.iterdir() if p.name not in CACHE_FILES)
        if foreign:
            raise CacheError(
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
    """Preprocess every tracklet of ``dataset`` into a new cache at ``path`` itself (replacing any),
    with the flow mode ``flow`` (a name of `stsrn_lite.preprocess.flow.FLOW_MODES` or a config).

    A ``path`` that is a file or a folder holding anything but cache files is refused, as is a
    build that cannot fit in the free space or meets a full or read-only disk (`CacheError`,
    with nothing left behind). Holds a lock on ``path`` while building.
    """
    path = Path(path)
    with _lock(path, _size(dataset)):
        return _build(dataset, path, flow=flow_config(flow), workers=workers, progress=progress)


def _build(
    dataset: VideoReIDDataset, path: Path, *, flow: FlowConfig, workers: int, progress: bool, why: str = ""
) -> PreprocessedCache:
    """`build_cache` without the lock; ``why`` says why it is built, for a read-only disk's message.

    The free space is checked first, against the known size of the cache (`cache_bytes`).
    """
    _refuse_foreign(path)
    needed = _size(dataset)
    _check_space(path, needed)
    try:
        _write(dataset, path, flow=flow, workers=workers, progress=progress)
    except OSError as error:
        raise _storage_error(error, path, needed, why) from error
    return open_cache(path, flow=flow)


def _write(dataset: VideoReIDDataset, path: Path, *, flow: FlowConfig, workers: int, progress: bool) -> None:
    """Write the cache of ``dataset`` at ``path``, all or nothing (`building_dir`).

    Runs in ``workers`` processes. Memory stays bounded: a bounded number of tracklets is in
    flight (`stsrn_lite.parallel.ordered_map`), and each result is appended to the array files
    as soon as it arrives, in order.
    """
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
                for i, (rgb, flow_q, notes) in enumerate(results):
                    for note in notes:
                        warnings.warn(note, DatasetWarning, stacklevel=2)
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


def default_cache_dir(dataset: str, root: str | Path, flow: str = DEFAULT_FLOW) -> Path:
    """Where the cache of the dataset at ``root`` lives unless told: under the home's cache folder
    (`stsrn_lite.home`: ``$STSRN_CACHE``, else ``data/cache`` of the home); one folder per dataset,
    flow mode (a name of `stsrn_lite.preprocess.flow.FLOW_MODES`) and resolved root (`cache_key`),
    so two roots or two modes never share a cache."""
    if not isinstance(flow, str):
        raise ValueError(f"default_cache_dir takes the name of a flow mode, got {flow!r}")
    return home().cache / cache_key(dataset, root, flow)


def prepare(
    dataset: VideoReIDDataset,
    path: str | Path,
    *,
    flow: str | FlowConfig = DEFAULT_FLOW,
    workers: int = 1,
    progress: bool = True,
) -> tuple[PreprocessedCache, bool]:
    """Open the cache of ``dataset`` with the flow mode ``flow`` under ``path`` if it is up to
    date, else (re)build it.

    ``path`` is a folder of caches, each dataset's in its own subfolder (`cache_folder`; a
    `default_cache_dir` is the cache itself). An up-to-date cache is read without writing
    anything, so it may be on read-only storage. Returns (cache, built): ``built`` is False
    when an up-to-date cache was reused. A build holds a lock on the cache, so concurrent calls
    take turns and the later one reuses the cache. Raises `CacheError` when ``path`` is not a
    folder of caches, or the cache must be built and cannot be (read-only or full disk).
    """
    flow = flow_config(flow)
    path = cache_folder(path, dataset, flow)
    try:
        return open_cache(path, dataset, flow=flow), False
    except (StaleCacheError, DatasetError) as error:
        why = str(error).removeprefix(f"{path}: ").split("; ")[0]  # the reason, without its advice
    with _lock(path, _size(dataset), why):
        try:  # another process may have built it meanwhile
            return open_cache(path, dataset, flow=flow), False
        except (StaleCacheError, DatasetError):
            return _build(dataset, path, flow=flow, workers=workers, progress=progress, why=why), True
