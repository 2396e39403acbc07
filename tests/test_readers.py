"""The three readers on tiny trees in the real layouts, and MARS/PRID on the real metadata."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import scipy.io
from conftest import MARS_INFO, PRID_SPLITS, make_ilids, make_mars, make_prid, mars_names, write_image

from stsrn_lite.data.ilidsvid import read_ilidsvid
from stsrn_lite.data.layout import DatasetError, DatasetWarning
from stsrn_lite.data.mars import read_mars
from stsrn_lite.data.prid2011 import protocol_pids, read_prid2011
from stsrn_lite.data.splits import random_splits
from stsrn_lite.data.stats import dataset_statistics

REPO = Path(__file__).resolve().parents[1]


# --- iLIDS-VID -------------------------------------------------------------------------------


def test_ilids_tracklets_in_numeric_frame_order(ilids_root):
    data = read_ilidsvid(ilids_root)
    assert data.pids == [1, 3, 7, 12]
    assert len(data.tracklets) == 8
    first = data.tracklet_of(3, 1)
    numbers = [int(f.stem.split("_")[-1]) for f in first.frames]
    assert numbers == [9998, 9999, 10000, 10001]  # a last-4-digits sort would put 10000 first
    assert all(f.name.startswith("cam2_person003_") for f in first.frames)


def test_ilids_split_file_first_half_is_test(ilids_root):
    data = read_ilidsvid(ilids_root)
    assert len(data.splits) == 10
    # row [2, 4, 1, 3] over sorted folders person001, person003, person007, person012
    assert data.splits[0].test == (3, 12)
    assert data.splits[0].train == (1, 7)


def test_ilids_without_split_file_has_no_splits(tmp_path):
    data = read_ilidsvid(make_ilids(tmp_path / "d"))
    assert data.splits == []
    folds = random_splits(data.pids, folds=10, seed=1)
    assert len(folds) == 10 and all(len(s.train) == 2 and len(s.test) == 2 for s in folds)
    assert random_splits(data.pids, folds=3, seed=1) == folds[:3]


def test_ilids_bad_split_file(tmp_path):
    root = make_ilids(tmp_path / "d", ls_set=[[1, 2, 3, 9]])
    with pytest.raises(DatasetError, match="integer indices 1..4"):
        read_ilidsvid(root)
    shutil.rmtree(root / "train-test people splits")
    make_ilids(tmp_path / "e", ls_set=[[1, 2, 3]])
    with pytest.raises(DatasetError, match=r"shape \(1, 3\)"):
        read_ilidsvid(tmp_path / "e")


def test_ilids_stray_files_are_skipped_with_a_warning(ilids_root):
    person = ilids_root / "i-LIDS-VID" / "sequences" / "cam1" / "person001"
    (person / "Thumbs.db").write_bytes(b"x")
    (person / ".DS_Store").write_bytes(b"x")
    (ilids_root / "i-LIDS-VID" / "sequences" / "cam2" / ".DS_Store").write_bytes(b"x")
    with pytest.warns(DatasetWarning, match="skipped 3 file.s. that are not frames"):
        data = read_ilidsvid(ilids_root)
    assert data.tracklet_of(1, 0).length == 4
    assert {p.name for p in data.skipped} == {"Thumbs.db", ".DS_Store"}


@pytest.mark.parametrize(
    "where, message",
    [
        ("missing", "no such directory"),
        ("too_high", "one level lower"),
        ("too_low", "inside the iLIDS-VID dataset"),
        ("too_low_2", "inside the iLIDS-VID dataset"),
    ],
)
def test_ilids_root_errors(ilids_root, where, message):
    root = {
        "missing": ilids_root / "nope",
        "too_high": ilids_root.parent,
        "too_low": ilids_root / "i-LIDS-VID",
        "too_low_2": ilids_root / "i-LIDS-VID" / "sequences",
    }[where]
    with pytest.raises(DatasetError, match=message) as error:
        read_ilidsvid(root)
    assert str(root) in str(error.value)


def test_ilids_layout_errors(ilids_root):
    seq = ilids_root / "i-LIDS-VID" / "sequences"
    person = seq / "cam1" / "person007"
    for f in person.iterdir():
        f.unlink()
    with pytest.raises(DatasetError, match="empty person folder") as error:
        read_ilidsvid(ilids_root)
    assert str(person) in str(error.value)
    person.rmdir()
    with pytest.raises(DatasetError, match="person007 is in cam2 only"):
        read_ilidsvid(ilids_root)
    shutil.rmtree(seq / "cam2")
    with pytest.raises(DatasetError, match="missing camera folder 'cam2'"):
        read_ilidsvid(ilids_root)


def test_ilids_badly_named_image(ilids_root):
    bad = ilids_root / "i-LIDS-VID" / "sequences" / "cam1" / "person001" / "frame.png"
    write_image(bad, seed=0)
    with pytest.raises(DatasetError, match="does not match the expected pattern") as error:
        read_ilidsvid(ilids_root)
    assert str(bad) in str(error.value)


# --- PRID2011 --------------------------------------------------------------------------------


def test_prid_reads_both_cameras_and_single_camera_persons(prid_root):
    data = read_prid2011(prid_root)
    assert data.cameras == ("cam_a", "cam_b")
    assert data.paired_pids() == [1, 2, 3, 4]
    # person_0201 of cam_a and of cam_b are different people
    assert sorted(t.pid for t in data.tracklets if t.camid == 0) == [1, 2, 3, 4, 10201]
    assert sorted(t.pid for t in data.tracklets if t.camid == 1) == [1, 2, 3, 4, 20201, 20202]
    assert [f.name for f in data.tracklet_of(2, 0).frames] == ["0001.png", "0002.png", "0003.png"]
    assert protocol_pids(data) == [1, 2, 3, 4]
    assert data.splits == []


def test_prid_person_of_the_first_200_in_one_camera_only(prid_root):
    shutil.rmtree(prid_root / "prid_2011" / "multi_shot" / "cam_b" / "person_0003")
    with pytest.raises(DatasetError, match=r"cam_b/person_0003: missing; .* in both cameras"):
        read_prid2011(prid_root)


def test_prid_multi_shot_without_its_prid_2011_folder(tmp_path):
    make_prid(tmp_path / "p")
    (tmp_path / "p" / "prid_2011").rename(tmp_path / "unzipped")
    with pytest.raises(DatasetError, match=r"holds multi_shot/ directly; .* move multi_shot/"):
        read_prid2011(tmp_path / "unzipped")


def test_prid_missing_camera_and_stray_files(prid_root):
    (prid_root / "prid_2011" / "multi_shot" / "cam_a" / "Thumbs.db").write_bytes(b"x")
    with pytest.warns(DatasetWarning, match="Thumbs.db"):
        read_prid2011(prid_root)
    shutil.rmtree(prid_root / "prid_2011" / "multi_shot" / "cam_b")
    with pytest.raises(DatasetError, match="missing camera folder 'cam_b'"):
        read_prid2011(prid_root)


def test_prid_root_one_level_too_high(prid_root):
    with pytest.raises(DatasetError, match="one level lower"):
        read_prid2011(prid_root.parent)


def test_prid_root_one_level_too_low(prid_root):
    with pytest.raises(DatasetError, match="inside the PRID2011 dataset"):
        read_prid2011(prid_root / "prid_2011")


@pytest.mark.skipif(not PRID_SPLITS.is_file(), reason=f"real PRID split file absent: {PRID_SPLITS}")
def test_prid_178_person_split_file(tmp_path):
    root = make_prid(tmp_path / "prid", paired=200, only_a=0, only_b=0, length=1)
    data = read_prid2011(root, split_file=PRID_SPLITS)
    assert len(data.splits) == 10
    assert all(len(s.train) == 89 and len(s.test) == 89 for s in data.splits)
    union = set(data.splits[0].train) | set(data.splits[0].test)
    assert len(union) == 178
    excluded = sorted(set(range(1, 201)) - union)
    assert excluded == [
        6,
        19,
        31,
        52,
        57,
        62,
        71,
        94,
        106,
        120,
        136,
        138,
        139,
        142,
        145,
        158,
        159,
        166,
        183,
        190,
        199,
        200,
    ]
    assert all(set(s.train) | set(s.test) == union for s in data.splits)


def test_prid_split_file_naming_an_absent_person(prid_root, tmp_path):
    split = tmp_path / "s.json"
    split.write_text(json.dumps([{"train": ["person_0001"], "test": ["person_0009"]}]))
    with pytest.raises(DatasetError, match="person_0009 is not in both cameras"):
        read_prid2011(prid_root, split_file=split)


# --- MARS ------------------------------------------------------------------------------------


def test_mars_small_tree(mars_root):
    data = read_mars(mars_root)
    assert len(data.subsets["train"]) == 3 and len(data.subsets["test"]) == 6
    assert [data.tracklets[q].pid for q in data.query] == [2, 4]
    junk = data.tracklets[data.subsets["test"][0]]
    assert junk.pid == -1 and junk.camid == 1
    assert junk.frames[0] == mars_root / "bbox_test" / "00-1" / "00-1C2T0001F001.jpg"
    stats = dataset_statistics(data)
    assert stats["junk_tracklets"] == 1 and stats["distractor_tracklets"] == 1
    assert stats["identities"] == 4 and stats["tracklets"] == 9  # 1, 3 train; 2, 4 test; junk counted
    assert stats["subsets"]["test"]["identities"] == 2 and stats["subsets"]["query"]["tracklets"] == 2


def test_mars_range_past_the_name_list(tmp_path):
    root = make_mars(tmp_path / "m", write_frames=False)
    info_path = root / "info" / "tracks_train_info.mat"
    info = scipy.io.loadmat(info_path)["track_train_info"]
    info[-1, 1] += 5
    scipy.io.savemat(info_path, {"track_train_info": info})
    with pytest.raises(DatasetError, match=r"row 3 spans names 8..14, but .*train_name.txt has 9 names"):
        read_mars(root, verify_files=False)


def test_mars_missing_pieces(mars_root):
    frame = mars_root / "bbox_train" / "0001" / "0001C1T0001F002.jpg"
    frame.unlink()
    with pytest.raises(DatasetError, match="missing frame") as error:
        read_mars(mars_root)
    assert "0001C1T0001F002.jpg" in str(error.value)
    read_mars(mars_root, verify_files=False)  # the name lists alone are consistent
    (mars_root / "info" / "query_IDX.mat").unlink()
    with pytest.raises(DatasetError, match="query_IDX.mat: missing"):
        read_mars(mars_root, verify_files=False)


def test_mars_row_spanning_two_tracklets_and_duplicate_queries(tmp_path):
    root = make_mars(tmp_path / "m", write_frames=False)
    names_path = root / "info" / "train_name.txt"
    names = names_path.read_text().splitlines()
    names[1] = names[1].replace("T0001", "T0002")  # row 1 now mixes two tracklets of pid 1, camera 1
    names_path.write_text("\n".join(names) + "\n")
    with pytest.raises(DatasetError, match="row 1 .* more than one tracklet"):
        read_mars(root, verify_files=False)
    root = make_mars(tmp_path / "n", write_frames=False, query=(3, 3))
    with pytest.raises(DatasetError, match="lists a test row more than once"):
        read_mars(root, verify_files=False)


def test_mars_bad_name_reports_its_line(tmp_path):
    root = make_mars(tmp_path / "m", write_frames=False)
    names_path = root / "info" / "test_name.txt"
    names = names_path.read_text().splitlines()
    names[3] = "garbage.jpg"
    names_path.write_text("\n".join(names) + "\n")
    with pytest.raises(DatasetError, match=r"test_name.txt: line 4: 'garbage.jpg' is not a MARS frame name"):
        read_mars(root, verify_files=False)


def test_mars_root_one_level_too_high(mars_root):
    with pytest.raises(DatasetError, match="one level lower"):
        read_mars(mars_root.parent)


def test_mars_unlisted_file_warns(mars_root):
    write_image(mars_root / "bbox_test" / "0002" / "0002C9T0009F001.jpg", seed=1)
    with pytest.warns(DatasetWarning, match="skipped 1 file.s. that are not frames"):
        read_mars(mars_root)


def test_mars_float_track_info_is_accepted(tmp_path):
    root = make_mars(tmp_path / "m", write_frames=False)
    path = root / "info" / "tracks_test_info.mat"
    scipy.io.savemat(path, {"track_test_info": scipy.io.loadmat(path)["track_test_info"].astype(float)})
    assert len(read_mars(root, verify_files=False).subsets["test"]) == 6


@pytest.mark.skipif(not MARS_INFO.is_dir(), reason=f"real MARS info files absent: {MARS_INFO}")
def test_mars_real_metadata_counts(tmp_path):
    info_dir = tmp_path / "mars" / "info"
    info_dir.mkdir(parents=True)
    for name in ("tracks_train_info.mat", "tracks_test_info.mat", "query_IDX.mat"):
        shutil.copy(MARS_INFO / name, info_dir / name)
    for subset in ("train", "test"):
        info = scipy.io.loadmat(info_dir / f"tracks_{subset}_info.mat")[f"track_{subset}_info"]
        names = mars_names(info)
        (info_dir / f"{subset}_name.txt").write_text("\n".join(names) + "\n")
    data = read_mars(tmp_path / "mars", verify_files=False)
    train = [data.tracklets[i] for i in data.subsets["train"]]
    test = [data.tracklets[i] for i in data.subsets["test"]]
    assert len({t.pid for t in train}) == 625
    assert len(train) == 8298 and len(test) == 12180 and len(data.query) == 1980
    assert sum(t.length for t in train) == 509_914 and sum(t.length for t in test) == 681_089
    assert sum(t.pid == -1 for t in test) == 870 and sum(t.pid == 0 for t in test) == 3248
    assert len({t.pid for t in test if t.pid > 0}) == 634
    assert len({data.tracklets[q].pid for q in data.query}) == 626
    assert {t.camid for t in train} == set(range(6))
    stats = dataset_statistics(data)
    assert stats["identities"] == 625 + 634 and stats["tracklets"] == 8298 + 12180
    assert stats["subsets"]["train"]["identities"] == 625 and stats["subsets"]["query"]["tracklets"] == 1980
    assert stats["subsets"]["train"]["min_length"] == 5 and stats["subsets"]["train"]["max_length"] == 900


# --- the command line ------------------------------------------------------------------------


def test_inspect_dataset_prints_json(ilids_root):
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "data_scripts" / "inspect_dataset.py"),
            "--dataset",
            "ilids-vid",
            "--root",
            str(ilids_root),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    stats = json.loads(out.stdout)
    assert stats["identities"] == 4 and stats["tracklets"] == 8 and stats["frames"] == 32
    assert stats["min_length"] == stats["max_length"] == 4 and stats["mean_length"] == 4.0
    assert stats["cameras"]["cam1"]["tracklets"] == 4
    assert stats["splits"]["test_identities"] == 2


def test_inspect_dataset_reports_errors_cleanly(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "data_scripts" / "inspect_dataset.py"),
            "--dataset",
            "mars",
            "--root",
            str(tmp_path / "nothing"),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2  # bad input, as every command line of the project
    assert "no such directory" in out.stderr and "Traceback" not in out.stderr
