"""The run ledger: a tested run filed in results/<profile>/runs/ and read back without its folder."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch

from stsrn_lite.book import experiments, ledger
from stsrn_lite.book.session import setup
from stsrn_lite.evaluation.features import TestConfig
from stsrn_lite.evaluation.protocols import Evaluation
from stsrn_lite.training.config import TrainConfig

CONFIG = TrainConfig(dataset="ilids-vid", preset="STSRN", epochs=3)
TEST = TestConfig(length=128, tta=True)
RECORDS = [{"epoch": e, "loss": 1.0 / e, "rank1": ""} for e in (1, 2, 3)]


def evaluation(seed: int, protocol: str = "two-camera") -> Evaluation:
    """A test of 8 queries against 8 gallery tracklets, from random distances."""
    rng = np.random.default_rng(seed)
    pids = np.arange(8)
    return Evaluation.ranked(
        protocol,
        "torchreid",
        TEST,
        rng.random((8, 8)) * 10,
        q_indices=np.arange(8),
        g_indices=np.arange(8, 16),
        q_pids=pids,
        g_pids=pids,
        q_camids=np.zeros(8, dtype=np.int64),
        g_camids=np.ones(8, dtype=np.int64),
    )


def file(folder, evaluations, **changes):
    settings = {"config": CONFIG, "test": TEST, "records": RECORDS, **changes}
    return ledger.file_run(
        folder,
        "ilids-vid-STSRN-fast-fold0",
        settings["config"],
        settings["test"],
        settings["records"],
        evaluations,
        code_version="abc123",
        device="cpu",
    )


def test_a_filed_run_reads_back_with_the_same_ranks_records_and_distances(tmp_path):
    tests = {"two-camera": evaluation(0), "cross-dataset": evaluation(1, "cross-dataset")}
    meta = file(tmp_path, tests)
    assert meta == tmp_path / "ilids-vid-STSRN-fast-fold0.json"
    filed = ledger.read_run(tmp_path, "ilids-vid-STSRN-fast-fold0", CONFIG, TEST, ("two-camera", "cross-dataset"))
    assert filed is not None and filed.records == RECORDS
    for protocol, ours in tests.items():
        theirs = filed.evaluations[protocol]
        assert theirs.summary == ours.summary and theirs.protocol == protocol
        np.testing.assert_array_equal(theirs.distmat, ours.distmat)
        np.testing.assert_array_equal(theirs.details.first_hit, ours.details.first_hit)
    entry = json.loads(meta.read_text())
    assert entry["code_version"] == "abc123" and entry["source"] == "trained" and entry["epochs"] == 3
    assert entry["protocols"]["two-camera"]["rank1"] == tests["two-camera"].summary["rank1"]


def test_a_run_filed_otherwise_is_another_run(tmp_path):
    file(tmp_path, {"two-camera": evaluation(0)})
    name = "ilids-vid-STSRN-fast-fold0"
    assert ledger.read_run(tmp_path, name, CONFIG, TEST, ("two-camera",)) is not None
    assert ledger.read_run(tmp_path, name, replace(CONFIG, epochs=4), TEST, ("two-camera",)) is None
    assert ledger.read_run(tmp_path, name, CONFIG, replace(TEST, tta=False), ("two-camera",)) is None
    assert ledger.read_run(tmp_path, name, CONFIG, TEST, ("two-camera", "cross-dataset")) is None  # not tested
    assert ledger.read_run(tmp_path, "prid2011-STSRN-fast-fold0", CONFIG, TEST, ("two-camera",)) is None
    # the batch size changes the speed of a test, not its numbers
    assert ledger.read_run(tmp_path, name, CONFIG, replace(TEST, batch_sequences=16), ("two-camera",)) is not None


def test_refiling_the_same_run_leaves_its_bytes_and_a_new_test_replaces_them(tmp_path):
    meta = file(tmp_path, {"two-camera": evaluation(0)})
    entry = json.loads(meta.read_text())
    meta.write_text(json.dumps({**entry, "date": "2000-01-01"}, indent=1) + "\n")  # filed on an earlier day
    before = meta.read_bytes(), meta.with_suffix(".npz").read_bytes()
    file(tmp_path, {"two-camera": evaluation(0)})
    assert (meta.read_bytes(), meta.with_suffix(".npz").read_bytes()) == before
    file(tmp_path, {"two-camera": evaluation(5)})
    assert json.loads(meta.read_text())["date"] != "2000-01-01"
    filed = ledger.read_run(tmp_path, "ilids-vid-STSRN-fast-fold0", CONFIG, TEST, ("two-camera",))
    np.testing.assert_array_equal(filed.evaluations["two-camera"].distmat, evaluation(5).distmat)


def test_a_broken_entry_is_refused_naming_its_file(tmp_path):
    meta = file(tmp_path, {"two-camera": evaluation(0)})
    meta.with_suffix(".npz").unlink()
    with pytest.raises(ledger.LedgerError, match=r"ilids-vid-STSRN-fast-fold0\.npz: missing"):
        ledger.read_run(tmp_path, meta.stem, CONFIG, TEST, ("two-camera",))
    meta.write_text("{not json")
    with pytest.raises(ledger.LedgerError, match=r"ilids-vid-STSRN-fast-fold0\.json: not JSON"):
        ledger.read_run(tmp_path, meta.stem, CONFIG, TEST, ("two-camera",))
    meta.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ledger.LedgerError, match="not a ledger entry"):
        ledger.read_run(tmp_path, meta.stem, CONFIG, TEST, ("two-camera",))


def test_a_run_whose_folder_is_gone_is_read_from_the_ledger_or_recovered_from_its_weights(tmp_path, monkeypatch):
    """Train a grid run for one epoch on the smoke data in a profile that keeps a ledger, then lose
    the run's folder (a replaced machine): the same call gives the same tests from the ledger, with
    no checkpoint; with the ledger entry lost too, its exported weights file it again."""
    import torch

    from stsrn_lite.book.estimate import WorkLeft, remaining_epochs, work_left
    from stsrn_lite.book.grid import execute, grid_runs, plan
    from stsrn_lite.weights import export_weights

    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    torch.set_num_threads(1)
    session = setup("smoke", epochs=1)
    session = replace(session, profile=replace(session.profile, ledger=True))
    spec = next(s for s in grid_runs(session, ("table1",)) if s.preset == "CNN-RNN" and s.dataset == "ilids-vid")
    assert spec.protocols == ("two-camera", "cross-dataset")  # Table 4 tests it too
    alone = replace(spec, protocols=("two-camera",))  # as a grid that took only Table 1's test filed it
    trained = execute(session, alone)
    folder = trained.checkpoint.parent
    filed = experiments.ledger_folder(session) / f"{folder.name}.json"
    before = json.loads(filed.read_text())
    assert list(before["protocols"]) == ["two-camera"] and len(before["records"]) == 1
    weights = export_weights(folder, tmp_path / "w.pt")
    # filed and finished here: read from the ledger with the folder's weights, not tested again
    tests = experiments.final_tests
    monkeypatch.setattr(experiments, "final_tests", lambda *_: pytest.fail("a filed run was tested again"))
    reused = execute(session, alone)
    assert reused.checkpoint == trained.checkpoint and reused.summary("two-camera") == trained.summary("two-camera")
    monkeypatch.setattr(experiments, "final_tests", tests)
    # the missing test is work left; recovering from the weights adds only that test, keeping the
    # entry's records and its test, and then there is nothing left to add
    assert work_left(session, spec) == WorkLeft(0, tests=True) and not work_left(session, alone)
    assert ledger.recover(session, weights) == filed
    after = json.loads(filed.read_text())
    assert list(after["protocols"]) == ["two-camera", "cross-dataset"]
    assert (
        after["records"] == before["records"] and after["protocols"]["two-camera"] == before["protocols"]["two-camera"]
    )
    assert after["source"] == "trained; cross-dataset test from w.pt" and not work_left(session, spec)
    stamp = filed.stat().st_mtime_ns
    assert ledger.recover(session, weights) == filed and filed.stat().st_mtime_ns == stamp
    # trained to its last epoch, then stopped (or parked) before its tests: the grid still tests it
    aside = tmp_path / "aside.json"
    filed.rename(aside)
    assert work_left(session, spec) == WorkLeft(0, tests=True)
    assert f"{spec.name}: trained, its tests" in plan(session, ("table1",), ["ilids-vid"], [0])[1]
    aside.rename(filed)
    assert not work_left(session, spec)
    assert spec not in [row[0] for row in plan(session, ("table1",), ["ilids-vid"], [0])[0]]
    shutil.rmtree(folder)
    assert remaining_epochs(session, spec) == 0  # filed: the grid does not train it again
    again = execute(session, spec)
    assert not folder.exists() and again.checkpoint is None  # nothing trained
    assert again.summary("two-camera") == trained.summary("two-camera")
    assert len(again.records) == len(trained.records) == 1
    filed.unlink()
    assert remaining_epochs(session, spec) == 1
    assert ledger.recover(session, weights) == filed
    entry = json.loads(filed.read_text())
    assert entry["records"] == [] and "w.pt" in entry["source"] and "lost" in entry["source"]
    recovered = execute(session, spec)
    assert recovered.checkpoint is None and recovered.records == []
    assert recovered.summary("two-camera") == trained.summary("two-camera")
    # filed by the profile's own (complete) sessions, which train fold 0 as this partial one does
    profiles = experiments.results_folder("smoke") / ledger.FOLDER
    assert not session.complete and experiments.ledger_folder(session) != profiles
    profiles.mkdir(parents=True)
    for path in (filed, filed.with_suffix(".npz")):
        path.rename(profiles / path.name)
    assert remaining_epochs(session, spec) == 0
    assert execute(session, spec).summary("two-camera") == trained.summary("two-camera")  # read from there
    committed = tmp_path / "checkout" / "results" / "smoke" / ledger.FOLDER  # committed, the home elsewhere
    committed.mkdir(parents=True)
    for path in profiles.iterdir():
        path.rename(committed / path.name)
    assert remaining_epochs(session, spec) == 1
    monkeypatch.setattr(experiments, "checkout", lambda: tmp_path / "checkout")
    assert remaining_epochs(session, spec) == 0
    assert execute(session, spec).summary("two-camera") == trained.summary("two-camera")
    other = replace(session, profile=replace(session.profile, flow="original"))  # no run of its grid
    with pytest.raises(ledger.LedgerError, match="w.pt: its training configuration is no run"):
        ledger.recover(other, weights)


def test_a_run_files_its_studies_and_recover_makes_those_it_lacks(tmp_path, monkeypatch):
    """A run the grid asks for a study (Table 6's Base+TemRes on iLIDS-VID: the occlusion study,
    here a stand-in that sums the model's weights) files its rows with its tests; filed before
    the study existed, its exported weights make the study, and the entry keeps the rest."""
    import torch

    from stsrn_lite.book.estimate import WorkLeft, work_left
    from stsrn_lite.book.grid import execute, grid_runs
    from stsrn_lite.weights import export_weights

    made = []

    def stand_in(session, model, config):
        made.append(config.fold)
        return [{"fold": config.fold, "weights": round(float(sum(p.detach().sum() for p in model.parameters())), 3)}]

    monkeypatch.setitem(experiments.STUDIES, "occlusion", stand_in)
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    torch.set_num_threads(1)
    session = setup("smoke", epochs=1)
    session = replace(session, profile=replace(session.profile, ledger=True))
    spec = next(s for s in grid_runs(session, ("table6",)) if (s.preset, s.dataset) == ("Base+TemRes", "ilids-vid"))
    assert spec.studies == ("occlusion",)
    before = execute(session, replace(spec, studies=()))  # as the grid filed it before the study existed
    assert before.studies == {} and made == []
    folder = before.checkpoint.parent
    filed = experiments.ledger_folder(session) / f"{folder.name}.json"
    assert "studies" not in json.loads(filed.read_text())
    weights = export_weights(folder, tmp_path / "w.pt")
    assert work_left(session, spec) == WorkLeft(0, tests=True)
    assert ledger.recover(session, weights) == filed and made == [0]
    entry = json.loads(filed.read_text())
    assert entry["source"] == "trained; occlusion study from w.pt" and len(entry["records"]) == 1
    (row,) = entry["studies"]["occlusion"]
    assert row["fold"] == 0 and not work_left(session, spec)
    trained = execute(session, spec)  # filed with its study: read from the ledger, nothing made again
    assert made == [0] and trained.studies == entry["studies"] and trained.checkpoint == before.checkpoint
    execute(session, replace(spec, studies=()))  # a chapter that asks less keeps what is filed
    assert made == [0] and json.loads(filed.read_text())["studies"] == entry["studies"]
    shutil.rmtree(folder)
    again = execute(session, spec)  # from the ledger, without its folder: nothing made, no weights
    assert again.checkpoint is None and again.studies == entry["studies"] and made == [0]
    with pytest.raises(ValueError, match="no study nonsense; expected one of occlusion"):
        execute(session, replace(spec, studies=("nonsense",), epochs=2))  # refused before it trains
    assert not folder.exists()


def test_the_list_command_prints_each_filed_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    file(tmp_path / "results" / "bench" / "runs", {"two-camera": evaluation(0)})
    assert ledger.main(["list", "--profile", "bench"]) == 0
    rank1 = evaluation(0).summary["rank1"]
    assert f"ilids-vid-STSRN-fast-fold0: 3 epochs, two-camera rank-1 {rank1:.1f} (trained, " in capsys.readouterr().out


def test_recover_refuses_in_one_line_what_it_cannot_use(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert ledger.main(["recover", str(tmp_path / "missing.pt")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'missing.pt'}: no weights file here\n"
    assert ledger.main(["recover", str(tmp_path / "missing.pt"), "--profile", "paper"]) == 2  # no GPU
    assert capsys.readouterr().err.count("\n") == 1
    assert ledger.main(["list", "--profile", "paper"]) == 0  # reading the ledger needs no GPU
    missing = str(tmp_path / "missing.pt")
    real = ["--profile", "paper", "--device", "cpu", "--data-root", str(tmp_path)]  # on the CPU, as asked
    assert ledger.main(["recover", missing, *real]) == 2
    assert capsys.readouterr().err == f"error: {missing}: no weights file here\n"
    assert ledger.main(["recover", missing, "--data-root", str(tmp_path)]) == 2  # the bench: synthetic data
    assert "--data-root is for the real datasets" in capsys.readouterr().err
