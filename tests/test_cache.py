"""The preprocessing cache: built once, reused, rebuilt when stale, never trusted when partial."""

from __future__ import annotations

import collections
import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import make_ilids, make_prid, write_image

from stsrn_lite.data.ilidsvid import read_ilidsvid
from stsrn_lite.data.layout import DatasetError, DatasetWarning
from stsrn_lite.data.prid2011 import read_prid2011
from stsrn_lite.preprocess import cache as cache_module
from stsrn_lite.preprocess.cache import StaleCacheError, build_cache, decode_frame, open_cache, prepare
from stsrn_lite.preprocess.cli import main as prepare_main
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
    path = prepare(dataset, tmp_path / "cache", progress=False)[0].path
    _, built = prepare(dataset, path, progress=False)
    assert not built
    frame = dataset.tracklets[2].frames[1]
    write_image(frame, seed=999)
    os.utime(frame, ns=(1, 1))  # a different mtime even if the size happened to match
    with pytest.raises(StaleCacheError, match="other files"):
        open_cache(path, read_ilidsvid(dataset.root))
    _, built = prepare(read_ilidsvid(dataset.root), tmp_path / "cache", progress=False)
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
    with pytest.raises(StaleCacheError, match="not a folder of preprocessing caches"):
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


# ---------------------------------------------------------------- read-only, full and wrong folders (issue 12)


def _prepare_cli(dataset, cache, capsys) -> tuple[int, str]:
    """Run stsrn-prepare in this process (so that a test can stand in for the disk); (status, stderr)."""
    argv = ["--dataset", "ilids-vid", "--root", str(dataset.root), "--cache", str(cache), "--workers", "1"]
    status = prepare_main([*argv, "--no-progress"])
    return status, capsys.readouterr().err


def _one_line_error(status: int, stderr: str) -> None:
    assert status == 2 and stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr


def _refuse_to_lock(path):
    raise PermissionError(errno.EROFS, "Read-only file system", str(path))


def test_a_complete_cache_is_read_without_writing(dataset, tmp_path, monkeypatch):
    built = prepare(dataset, tmp_path / "cache", progress=False)[0]
    monkeypatch.setattr(cache_module, "locked", _refuse_to_lock)  # as on read-only storage
    cache, rebuilt = prepare(dataset, tmp_path / "cache", progress=False)
    assert not rebuilt and cache.path == built.path


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_complete_cache_in_a_read_only_folder_is_used(dataset, tmp_path):
    folder = tmp_path / "readonly"
    cache = prepare(dataset, folder / "cache", progress=False)[0]
    before = sorted(p.name for p in folder.rglob("*"))
    for path in (cache.path, cache.path.parent, folder):
        path.chmod(0o555)
    try:
        again, built = prepare(dataset, folder / "cache", progress=False)
        assert not built and again.path == cache.path
        assert sorted(p.name for p in folder.rglob("*")) == before
    finally:
        for path in (folder, cache.path.parent, cache.path):
            path.chmod(0o755)


def test_a_read_only_cache_that_must_be_built_is_one_line(dataset, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cache_module, "locked", _refuse_to_lock)
    status, stderr = _prepare_cli(dataset, tmp_path / "cache", capsys)
    _one_line_error(status, stderr)
    assert "cannot write there" in stderr and "choose a writable --cache" in stderr
    assert str(tmp_path / "cache") in stderr


def test_a_full_disk_while_building_is_one_line_and_leaves_nothing(dataset, tmp_path, monkeypatch, capsys):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache_module.np, "savez", full)
    status, stderr = _prepare_cli(dataset, tmp_path / "cache", capsys)
    _one_line_error(status, stderr)
    assert "disk full" in stderr and "it needs" in stderr and str(tmp_path / "cache") in stderr
    assert [p.name for p in (tmp_path / "cache").iterdir() if not p.name.endswith(".lock")] == []


def test_a_cache_that_cannot_fit_is_refused_before_building(dataset, tmp_path, monkeypatch):
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(cache_module.shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 1000, 1000))
    with pytest.raises(StaleCacheError, match=r"not enough free space for the cache: it needs 1\.\d+ MB, 0\.001 MB"):
        prepare(dataset, tmp_path / "cache", progress=False)
    assert not any(p.is_dir() for p in (tmp_path / "cache").iterdir())


def test_a_file_as_cache_is_one_line(dataset, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    status, stderr = _prepare_cli(dataset, tmp_path / "notes.txt", capsys)
    _one_line_error(status, stderr)
    assert "not a folder" in stderr and (tmp_path / "notes.txt").read_text() == "mine"


def test_a_folder_of_other_files_as_cache_is_one_line_and_left_alone(dataset, tmp_path, capsys):
    precious = tmp_path / "photos"
    precious.mkdir()
    (precious / "holiday.jpg").write_bytes(b"jpeg")
    status, stderr = _prepare_cli(dataset, precious, capsys)
    _one_line_error(status, stderr)
    assert "holiday.jpg" in stderr and [p.name for p in precious.iterdir()] == ["holiday.jpg"]


def test_two_datasets_share_a_cache_folder_without_rebuilding_each_other(dataset, tmp_path):
    prid = read_prid2011(make_prid(tmp_path / "prid"))
    other_ilids = read_ilidsvid(make_ilids(tmp_path / "ilids2", pids=(4, 6), length=3))
    shared = tmp_path / "shared-cache"
    caches = [prepare(d, shared, progress=False) for d in (dataset, prid, other_ilids)]
    assert all(built for _, built in caches) and len({c.path for c, _ in caches}) == 3
    for d, (cache, _) in zip((dataset, prid, other_ilids), caches):
        again, built = prepare(d, shared, progress=False)
        assert not built and again.path == cache.path and len(again) == len(d.tracklets)


# ---------------------------------------------------------------- damaged JPEGs that still decode (issue 12, item 15)


def _corrupt_jpeg(path: Path) -> Path:
    """A valid JPEG at ``path`` whose entropy-coded data is then damaged in the middle."""
    write_image(path, seed=4, size_hw=(128, 64))
    raw = bytearray(path.read_bytes())
    start = raw.find(b"\xff\xda")  # start of scan: the coded pixels follow
    middle = (start + len(raw)) // 2
    raw[middle : middle + 40] = b"\xff\x00" * 20
    path.write_bytes(bytes(raw))
    return path


def test_a_jpeg_with_corrupt_middle_bytes_gives_a_named_warning(tmp_path):
    bad = _corrupt_jpeg(tmp_path / "0001C1T0001F001.jpg")
    with pytest.warns(DatasetWarning, match=re.escape(str(bad)) + ".*corrupt image data.*libjpeg: Corrupt JPEG"):
        assert decode_frame(bad).shape == (128, 64, 3)


def test_a_corrupt_jpeg_met_by_a_worker_is_warned_about_by_the_build(dataset, tmp_path):
    bad = dataset.tracklets[1].frames[3]
    bad.write_bytes(_corrupt_jpeg(tmp_path / "bad.jpg").read_bytes())  # JPEG bytes; the name does not matter
    with pytest.warns(DatasetWarning, match=re.escape(str(bad))):
        cache = build_cache(read_ilidsvid(dataset.root), tmp_path / "cache", workers=2, progress=False)
    assert cache.offsets[-1] == 30
