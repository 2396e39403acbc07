"""The preprocessing cache: built once, reused, rebuilt when stale, never trusted when partial."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import make_ilids, write_image

from stsrn_lite.data.ilidsvid import read_ilidsvid
from stsrn_lite.data.layout import DatasetError
from stsrn_lite.preprocess import cache as cache_module
from stsrn_lite.preprocess.cache import StaleCacheError, build_cache, decode_frame, open_cache, prepare
from stsrn_lite.preprocess.frames import preprocess_tracklet

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def dataset(tmp_path):
    root = make_ilids(tmp_path / "ilids", pids=(1, 2, 5), length=5)
    return read_ilidsvid(root)


def test_cache_holds_the_preprocessed_frames(dataset, tmp_path):
    cache, built = prepare(dataset, tmp_path / "cache", progress=False)
    assert built and len(cache) == 6 and cache.offsets[-1] == 30
    assert cache.rgb.shape == (30, 3, 64, 48) and cache.rgb.dtype == np.uint8
    assert cache.flow.shape == (30, 2, 64, 48) and cache.flow.dtype == np.int8
    for i, tracklet in enumerate(dataset.tracklets):
        rgb, flow = preprocess_tracklet([decode_frame(f) for f in tracklet.frames])
        cached_rgb, cached_flow = cache.tracklet(i)
        np.testing.assert_array_equal(cached_rgb, rgb)
        np.testing.assert_array_equal(cached_flow, flow)
        assert cache.pids[i] == tracklet.pid and cache.camids[i] == tracklet.camid


def test_cache_is_reused_and_rebuilt_when_a_frame_changes(dataset, tmp_path):
    path = tmp_path / "cache"
    prepare(dataset, path, progress=False)
    _, built = prepare(dataset, path, progress=False)
    assert not built
    frame = dataset.tracklets[2].frames[1]
    write_image(frame, seed=999)
    os.utime(frame, ns=(1, 1))  # a different mtime even if the size happened to match
    with pytest.raises(StaleCacheError, match="other files"):
        open_cache(path, read_ilidsvid(dataset.root))
    _, built = prepare(read_ilidsvid(dataset.root), path, progress=False)
    assert built


def test_cache_with_other_settings_is_stale(dataset, tmp_path, monkeypatch):
    path = tmp_path / "cache"
    build_cache(dataset, path, progress=False)
    monkeypatch.setattr(cache_module, "CACHE_VERSION", cache_module.CACHE_VERSION + 1)
    with pytest.raises(StaleCacheError, match="other preprocessing settings"):
        open_cache(path)


def test_workers_do_not_change_the_bytes(dataset, tmp_path):
    one = build_cache(dataset, tmp_path / "one", workers=1, progress=False)
    two = build_cache(dataset, tmp_path / "two", workers=2, progress=False)
    np.testing.assert_array_equal(one.rgb, two.rgb)
    np.testing.assert_array_equal(one.flow, two.flow)


def test_corrupt_frame_fails_the_build_and_leaves_no_cache(dataset, tmp_path):
    bad = dataset.tracklets[3].frames[2]
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) // 2])  # truncated PNG
    path = tmp_path / "cache"
    with pytest.raises(DatasetError, match="truncated or corrupt") as error:
        build_cache(dataset, path, workers=2, progress=False)
    assert str(bad) in str(error.value)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "ilids"]
    assert leftovers == [".cache.lock"]  # no cache, no partial folder; only the lock file


def test_truncated_and_foreign_images(tmp_path):
    jpeg = tmp_path / "a.jpg"
    write_image(jpeg, seed=1, size_hw=(64, 32))
    decode_frame(jpeg)
    jpeg.write_bytes(jpeg.read_bytes()[:-200])
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        decode_frame(jpeg)
    text = tmp_path / "b.png"
    text.write_text("not an image")
    with pytest.raises(DatasetError, match="not a PNG or JPEG"):
        decode_frame(text)


def test_partial_or_damaged_cache_is_never_trusted(dataset, tmp_path):
    path = tmp_path / "cache"
    build_cache(dataset, path, progress=False)
    (path / "manifest.json").unlink()  # as if killed before the manifest was written
    with pytest.raises(StaleCacheError, match="no complete cache"):
        open_cache(path, dataset)
    cache, built = prepare(dataset, path, progress=False)
    assert built and (path / "manifest.json").is_file()
    with open(path / "flow.i8", "r+b") as handle:
        handle.truncate(100)
    with pytest.raises(DatasetError, match="truncated cache file"):
        open_cache(path, dataset)
    assert prepare(dataset, path, progress=False)[1]


def test_a_folder_that_is_not_a_cache_is_never_replaced(dataset, tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(FileExistsError, match="not a preprocessing cache"):
        prepare(dataset, precious, progress=False)
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_cache_without_its_index_is_rebuilt(dataset, tmp_path):
    path = tmp_path / "cache"
    build_cache(dataset, path, progress=False)
    (path / "index.npz").unlink()
    with pytest.raises(StaleCacheError, match="missing or unreadable index"):
        open_cache(path, dataset)
    assert prepare(dataset, path, progress=False)[1]
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["tracklets"] += 1
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="index does not describe 7 tracklets"):
        open_cache(path, dataset)


def test_png_with_trailing_bytes_still_decodes(tmp_path):
    png = tmp_path / "a.png"
    write_image(png, seed=3)
    png.write_bytes(png.read_bytes() + b"trailing")
    assert decode_frame(png).shape == (16, 8, 3)


def test_prepare_command_line(dataset, tmp_path):
    command = [
        sys.executable,
        str(REPO / "data_scripts" / "prepare.py"),
        "--dataset",
        "ilids-vid",
        "--root",
        str(dataset.root),
        "--cache",
        str(tmp_path / "c"),
        "--workers",
        "1",
        "--no-progress",
    ]
    first = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    second = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    assert first["built"] and not second["built"] and first["frames"] == 30
