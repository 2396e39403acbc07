"""The evaluation command refuses to test a checkpoint on identities it trained on, and checks
that the split it evaluates is the one the model trained with (stsrn_lite.evaluation.cli)."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from stsrn_lite.data.ilidsvid import SPLIT_FILE
from stsrn_lite.evaluation import cli as evaluate_cli
from stsrn_lite.synthetic.generator import SyntheticConfig, generate
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.data import SeededSplitWarning, fold_split, load_run_data
from stsrn_lite.training.loop import train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 1-epoch CNN-RNN on fold 0 of a 10-identity synthetic iLIDS-VID (with its official split file)."""
    base = tmp_path_factory.mktemp("evaluation")
    root = base / "ilids"
    generate(SyntheticConfig(layout="ilids-vid", identities=10, seed=3, max_length=20), root)
    data = load_run_data("ilids-vid", root, fold=0, folds=10, seed=1, cache_dir=base / "cache")
    torch.set_num_threads(1)
    config = TrainConfig(dataset="ilids-vid", preset="CNN-RNN", epochs=1, eval_every=1)
    result = train(config, data, base / "run", progress=False)
    return root, base / "cache", result.checkpoint


def evaluate(capsys, checkpoint, root, cache, *extra):
    argv = ["--checkpoint", str(checkpoint), "--dataset", "ilids-vid", "--root", str(root), "--cache", str(cache)]
    status = evaluate_cli.main([*argv, "--no-tta", "--length", "4", *extra])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_checkpoints_own_fold_is_tested_and_said_to_be_disjoint(trained, capsys):
    root, cache, checkpoint = trained
    status, out, _ = evaluate(capsys, checkpoint, root, cache)
    assert status == 0
    printed = json.loads(out)
    assert printed["fold"] == 0 and printed["identities"] == "disjoint from the training identities"


def test_a_fold_sharing_training_identities_is_refused(trained, capsys):
    root, cache, checkpoint = trained
    dataset_splits = [fold_split(load_run_data_dataset(root, cache), k, 10, 1)[0] for k in range(10)]
    fold = next(k for k, s in enumerate(dataset_splits) if set(s.test) & set(dataset_splits[0].train))
    status, out, err = evaluate(capsys, checkpoint, root, cache, "--fold", str(fold))
    assert status == 2 and out == ""
    assert "trained on" in err and str(checkpoint) in err and "omit --fold" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_different_split_than_the_training_one_is_refused(trained, capsys, tmp_path):
    """The split file gone at evaluation: the seeded fold 0 is not what the model trained on."""
    root, _, checkpoint = trained
    copy = tmp_path / "ilids"
    shutil.copytree(root, copy)
    (copy / SPLIT_FILE).unlink()
    with pytest.warns(SeededSplitWarning, match="missing"):
        status, _, err = evaluate(capsys, checkpoint, copy, tmp_path / "cache")
    assert status == 2 and "not the split the model trained on" in err


def test_a_missing_ilids_split_file_is_said_and_recorded(trained, tmp_path):
    root, _, _ = trained
    copy = tmp_path / "ilids"
    shutil.copytree(root, copy)
    (copy / SPLIT_FILE).unlink()
    with pytest.warns(SeededSplitWarning, match=str(SPLIT_FILE)):
        data = load_run_data("ilids-vid", copy, fold=0, folds=10, seed=1, cache_dir=tmp_path / "cache")
    assert data.split_source.startswith("seeded (split seed 1): no official split file")


def test_more_folds_than_the_split_file_holds_are_refused(trained):
    root, cache, _ = trained
    with pytest.raises(ValueError, match="holds 10 splits, but 20 folds"):
        load_run_data("ilids-vid", root, fold=0, folds=20, seed=1, cache_dir=cache)
    assert load_run_data("ilids-vid", root, fold=0, folds=10, seed=1, cache_dir=cache).split_source == (
        "official split file (10 splits)"
    )


def load_run_data_dataset(root, cache):
    return load_run_data("ilids-vid", root, fold=0, folds=10, seed=1, cache_dir=cache).dataset


def test_each_refused_protocol_names_a_way_that_works(trained, capsys, tmp_path):
    """Follow every message's advice: it ends in a test, never back at a refusal."""
    root, cache, checkpoint = trained
    prid = tmp_path / "prid"
    generate(SyntheticConfig(layout="prid2011", identities=12, seed=5, max_length=20), prid)

    def ask(dataset, folder, *extra):
        argv = ["--checkpoint", str(checkpoint), "--dataset", dataset, "--root", str(folder)]
        status = evaluate_cli.main([*argv, "--cache", str(tmp_path / f"cache-{dataset}"), "--no-tta", *extra])
        captured = capsys.readouterr()
        return status, captured.err

    status, err = ask("prid2011", prid, "--protocol", "two-camera")
    assert status == 2 and "pass --protocol cross-dataset" in err
    assert ask("prid2011", prid, "--protocol", "cross-dataset", "--length", "4")[0] == 0
    status, err = ask("ilids-vid", root, "--protocol", "cross-dataset")
    assert status == 2 and "pass --dataset prid2011" in err
    status, err = ask("prid2011", prid, "--protocol", "mars-standard")
    assert status == 2 and "pass --dataset mars" in err and "pass --dataset ilids-vid" in err
    assert ask("ilids-vid", root, "--length", "4")[0] == 0  # the fold it trained on


@pytest.mark.parametrize("threads", ["-1", "0"])
def test_threads_below_one_is_one_line(trained, capsys, threads):
    root, cache, checkpoint = trained
    status, out, err = evaluate(capsys, checkpoint, root, cache, "--threads", threads)
    assert status == 2 and out == "" and err.count("\n") == 1 and "--threads 1 or more" in err
