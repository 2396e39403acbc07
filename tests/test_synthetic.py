"""The synthetic benchmark: written in the real layouts, read back by the real readers."""

from __future__ import annotations

import errno
import hashlib
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io

from stsrn_lite.data.ilidsvid import read_ilidsvid
from stsrn_lite.data.mars import read_mars
from stsrn_lite.data.prid2011 import protocol_pids, read_prid2011
from stsrn_lite.synthetic import generator
from stsrn_lite.synthetic import statistics as st
from stsrn_lite.synthetic.cli import main as synthetic_main
from stsrn_lite.synthetic.generator import SyntheticConfig, ensure, generate, read_meta

REPO = Path(__file__).resolve().parents[1]


def tree_digest(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file below ``root``."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_ilids_layout_reads_back(tmp_path):
    config = SyntheticConfig(layout="ilids-vid", identities=6, seed=3, max_length=10)
    root = generate(config, tmp_path / "ilids", progress=False)
    data = read_ilidsvid(root)
    assert len(data.pids) == 6 and len(data.tracklets) == 12
    assert max(data.pids) <= round(6 * 319 / 300)
    assert len(data.splits) == 10 and all(len(s.test) == 3 for s in data.splits)
    image = cv2.imread(str(data.tracklets[0].frames[0]))
    assert image.shape == (128, 64, 3)
    meta = read_meta(root)
    assert meta["config"]["identities"] == 6 and len(meta["tracklets"]) == 12
    for record in meta["tracklets"]:
        assert all(0 <= f < record["length"] for f in record["occluded_frames"])
    split = scipy.io.loadmat(root / "train-test people splits" / "train_test_splits_ilidsvid.mat")["ls_set"]
    assert split.shape == (10, 6) and sorted(split[0]) == list(range(1, 7))
    header = (root / "train-test people splits" / "train_test_splits_ilidsvid.mat").read_bytes()[:116]
    assert header.startswith(b"MATLAB 5.0 MAT-file") and b"Created on" not in header  # no clock in the bytes


def test_generation_is_deterministic_and_independent_of_workers(tmp_path):
    config = SyntheticConfig(layout="ilids-vid", identities=4, seed=11, max_length=6)
    a = tree_digest(generate(config, tmp_path / "a", workers=1, progress=False))
    b = tree_digest(generate(config, tmp_path / "b", workers=2, progress=False))
    c = tree_digest(
        generate(
            SyntheticConfig(layout="ilids-vid", identities=4, seed=12, max_length=6), tmp_path / "c", progress=False
        )
    )
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []
    assert a != c


def test_a_controlled_occlusion_keeps_the_people_files_and_split(tmp_path):
    config = SyntheticConfig(layout="ilids-vid", identities=4, seed=5, max_length=20)
    plain = generate(config, tmp_path / "plain", progress=False)
    assert "occluded_fraction" not in read_meta(plain)["config"]  # as written before the field existed
    assert ensure(config, plain)[1] is False  # so existing datasets are not regenerated
    half = generate(replace(config, occluded_fraction=0.5), tmp_path / "half", progress=False)
    a, b = tree_digest(plain), tree_digest(half)
    assert sorted(a) == sorted(b)  # same tracklets, frames and split file
    split = "train-test people splits/train_test_splits_ilidsvid.mat"
    assert a[split] == b[split]
    records = read_meta(half)["tracklets"]
    assert read_meta(half)["config"]["occluded_fraction"] == 0.5
    assert all(r["length"] / 2 - 4 <= len(r["occluded_frames"]) <= r["length"] / 2 for r in records)
    with pytest.raises(ValueError, match="occluded_fraction"):
        SyntheticConfig(layout="ilids-vid", identities=4, occluded_fraction=-0.1)


def test_prid_layout_reads_back(tmp_path):
    config = SyntheticConfig(layout="prid2011", identities=6, seed=1, max_length=40)
    root = generate(config, tmp_path / "prid", workers=2, progress=False)
    assert tree_digest(root) == tree_digest(generate(config, tmp_path / "prid1", workers=1, progress=False))
    data = read_prid2011(root)
    assert protocol_pids(data) == [1, 2, 3, 4, 5, 6]
    single = sorted(t.pid for t in data.tracklets if t.pid > 200)
    assert single == [10201, 10202, 10203, 10204, 10205, 10206] + list(range(20201, 20217))
    with_json = read_prid2011(root, split_file=root / "splits_prid2011.json")
    assert len(with_json.splits) == 10
    long_enough = {p for p in range(1, 7) if min(data.tracklet_of(p, 0).length, data.tracklet_of(p, 1).length) >= 27}
    assert set(with_json.splits[0].train) | set(with_json.splits[0].test) == long_enough


def test_mars_layout_reads_back(tmp_path):
    config = SyntheticConfig(layout="mars", identities=8, seed=2, max_length=6)
    root = generate(config, tmp_path / "mars", workers=2, progress=False)
    assert tree_digest(root) == tree_digest(generate(config, tmp_path / "mars1", workers=1, progress=False))
    data = read_mars(root)  # verifies every listed frame exists
    train = [data.tracklets[i] for i in data.subsets["train"]]
    test = [data.tracklets[i] for i in data.subsets["test"]]
    assert {t.pid % 2 for t in train} == {1}
    assert {t.pid % 2 for t in test if t.pid > 0} == {0}
    assert any(t.pid == -1 for t in test) and any(t.pid == 0 for t in test)
    info = scipy.io.loadmat(root / "info" / "tracks_test_info.mat")["track_test_info"]
    query = scipy.io.loadmat(root / "info" / "query_IDX.mat")["query_IDX"]
    assert info.dtype == np.int32 and query.dtype == np.uint16 and query.shape[0] == 1
    assert (root / "info" / "train_name.txt").read_bytes().count(b"\r\n") == sum(t.length for t in train)
    # one query per (pid, camera) of every test identity seen by >= 2 cameras
    expected = {(t.pid, t.camid) for t in test if t.pid > 0 and len({u.camid for u in test if u.pid == t.pid}) >= 2}
    assert {(data.tracklets[q].pid, data.tracklets[q].camid) for q in data.query} == expected
    assert cv2.imread(str(train[0].frames[0])).shape == (256, 128, 3)


def test_length_distributions_follow_the_real_ranges():
    rng = np.random.default_rng(0)
    ilids = np.array([st.ilids_length(rng) for _ in range(20000)])
    assert ilids.min() >= 23 and ilids.max() <= 192 and abs(ilids.mean() - 73) < 3
    prid = np.array([st.prid_length(rng) for _ in range(20000)])
    assert prid.min() >= 5 and prid.max() <= 675 and abs(prid.mean() - 100) < 6
    mars = np.array([st.quantile_length(rng, st.MARS_TRAIN_LENGTH_QUANTILES) for _ in range(20000)])
    assert abs(np.median(mars) - 36) <= 2 and mars.min() >= 5 and mars.max() <= 900


def test_interrupted_generation_leaves_nothing(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = generator.render_tracklet

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(generator, "render_tracklet", flaky)
    with pytest.raises(KeyboardInterrupt):
        generate(SyntheticConfig(layout="ilids-vid", identities=4, max_length=4), tmp_path / "d", progress=False)
    assert [p.name for p in tmp_path.iterdir()] == [".d.lock"]  # no dataset, no partial folder


def test_refuses_to_replace_a_folder_that_is_not_synthetic(tmp_path):
    real = tmp_path / "real"
    (real / "i-LIDS-VID").mkdir(parents=True)
    config = SyntheticConfig(layout="ilids-vid", identities=2, max_length=3)
    with pytest.raises(FileExistsError, match="not empty"):
        generate(config, real, progress=False)
    with pytest.raises(FileExistsError, match="not a synthetic dataset"):
        generate(config, real, force=True, progress=False)
    root, made = ensure(config, tmp_path / "syn", progress=False)
    assert made and ensure(config, root, progress=False) == (root, False)


def test_bad_configs():
    with pytest.raises(ValueError, match="unknown layout"):
        SyntheticConfig(layout="market", identities=4)
    with pytest.raises(ValueError, match="identities must be <= 200"):
        SyntheticConfig(layout="prid2011", identities=201)
    with pytest.raises(ValueError, match="identities must be <= 999"):
        SyntheticConfig(layout="ilids-vid", identities=1000)
    with pytest.raises(ValueError, match="identities must be <= 1480"):
        SyntheticConfig(layout="mars", identities=1490)


def test_make_synthetic_command_line(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "data_scripts" / "make_synthetic.py"),
            "--layout",
            "ilids-vid",
            "--root",
            str(tmp_path / "d"),
            "--identities",
            "2",
            "--max-length",
            "3",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "generated" in out.stdout
    again = subprocess.run(
        [
            sys.executable,
            str(REPO / "data_scripts" / "make_synthetic.py"),
            "--layout",
            "ilids-vid",
            "--root",
            str(tmp_path / "d"),
            "--identities",
            "2",
        ],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 2 and "already exists" in again.stderr
    meta = json.loads((tmp_path / "d" / "synthetic_meta.json").read_text())
    assert meta["config"]["seed"] == 0


def _one_line_error(status: int, stderr: str) -> None:
    """Exit status 2 and one ``error:`` line (after what a progress bar drew), no traceback."""
    lines = stderr.strip().split("\n")
    assert status == 2 and lines[-1].startswith("error: ") and stderr.count("error") == 1, stderr
    assert "Traceback" not in stderr


def test_a_missing_mars_info_is_one_line_and_writes_nothing(tmp_path, capsys):
    argv = ["--layout", "mars", "--root", str(tmp_path / "mars"), "--identities", "4", "--workers", "1"]
    status = synthetic_main([*argv, "--mars-info", str(tmp_path / "info")])
    stderr = capsys.readouterr().err
    _one_line_error(status, stderr)
    assert str(tmp_path / "info") in stderr and "tracks_train_info.mat" in stderr
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_generating_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    def full(args):
        raise OSError(errno.ENOSPC, "No space left on device", str(args[1] / "frame.png"))

    monkeypatch.setattr(generator, "_render_one", full)
    argv = ["--layout", "ilids-vid", "--root", str(tmp_path / "d"), "--identities", "2", "--workers", "1"]
    status = synthetic_main(argv)
    stderr = capsys.readouterr().err
    _one_line_error(status, stderr)
    assert f"{tmp_path / 'd'}: disk full" in stderr and "--root" in stderr
    assert [p.name for p in tmp_path.iterdir()] == [".d.lock"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--layout", "prid2011", "--size", "full", "--identities", "5"], "--size goes with --all-layouts"),
        (["--all-layouts", "--identities", "5"], "--all-layouts takes its sizes from --size"),
        (["--all-layouts", "--force"], "--force and --no-gallery-only go with --layout"),
    ],
)
def test_size_options_that_would_be_ignored_are_refused(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        synthetic_main([*argv, "--root", str(tmp_path / "out")])
    assert stopped.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
