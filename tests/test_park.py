"""tools/park_runs.py: unfinished runs parked in the checkout and brought back into another home."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from stsrn_lite.training.checkpoint import load_checkpoint, save_checkpoint
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.loop import CHECKPOINT, RUN_RECORD, train

REPO = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("park_runs", REPO / "tools" / "park_runs.py")
park_runs = importlib.util.module_from_spec(SPEC)
sys.modules["park_runs"] = park_runs  # its dataclass looks its module up
SPEC.loader.exec_module(park_runs)

RUN = "ilids-vid-STSRN-fast-fold1"  # a run the bench grid declares


def checkpoint(path: Path, epoch: int, step: int = 0, epochs: int = 100) -> Path:
    """A checkpoint of the format `load_checkpoint` accepts, at ``epoch`` (and ``step``) of ``epochs``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "config": {"epochs": epochs},
        "model_config": {},
        "model": {"w": torch.full((3,), float(epoch))},
        "optimiser": {},
        "epoch": epoch,
        "step": step,
        "rng": {},
        "records": [{"epoch": e} for e in range(1, epoch + 1)],
        "code_version": "abc",
        "train_pids": [1, 2],
    }
    save_checkpoint(state, path)
    (path.parent / RUN_RECORD).write_text(json.dumps({"run": path.parent.name}))
    return path


@pytest.fixture
def homes(tmp_path, monkeypatch):
    """(home, repository): a home with a runs folder and a checkout to park into."""
    home, repository = tmp_path / "home", tmp_path / "repo"
    repository.mkdir()
    monkeypatch.setenv("STSRN_HOME", str(home))
    return home, repository


def test_park_copies_unfiled_runs_and_unpark_brings_them_back_byte_for_byte(homes, tmp_path, monkeypatch):
    home, repository = homes
    source = checkpoint(home / "runs" / "bench" / RUN / CHECKPOINT, 40)
    assert park_runs.park("bench", repository) == [f"parked {RUN}: epoch 40 of 100"]
    parked = repository / "results" / "bench" / "parked" / RUN
    assert (parked / CHECKPOINT).read_bytes() == source.read_bytes()
    assert (parked / RUN_RECORD).is_file()

    monkeypatch.setenv("STSRN_HOME", str(tmp_path / "new-home"))  # a replaced machine
    assert park_runs.unpark("bench", repository) == [f"unparked {RUN}: epoch 40 of 100"]
    back = tmp_path / "new-home" / "runs" / "bench" / RUN
    assert (back / CHECKPOINT).read_bytes() == source.read_bytes()
    assert json.loads((back / RUN_RECORD).read_text()) == {"run": RUN}
    assert park_runs.unpark("bench", repository) == []  # already there


def test_a_parked_copy_is_rewritten_only_when_its_run_moved_on(homes):
    home, repository = homes
    folder = home / "runs" / "bench" / RUN
    checkpoint(folder / CHECKPOINT, 40)
    park_runs.park("bench", repository)
    parked = repository / "results" / "bench" / "parked" / RUN / CHECKPOINT
    stamp = parked.stat().st_mtime_ns
    assert park_runs.park("bench", repository) == []
    assert parked.stat().st_mtime_ns == stamp
    checkpoint(folder / CHECKPOINT, 40, step=7)
    assert park_runs.park("bench", repository) == [f"parked {RUN}: epoch 40 of 100, step 7"]
    assert load_checkpoint(parked)["step"] == 7


def test_unpark_never_replaces_a_run_that_is_further_along(homes):
    home, repository = homes
    checkpoint(repository / "results" / "bench" / "parked" / RUN / CHECKPOINT, 40)
    here = checkpoint(home / "runs" / "bench" / RUN / CHECKPOINT, 55)
    assert park_runs.unpark("bench", repository) == []
    assert load_checkpoint(here)["epoch"] == 55


def file_entry(ledger: Path, studies: dict | None, records: list | None = None) -> None:
    """File RUN in ``ledger`` as the bench grid declares it, with both of its tests (Table 1's and
    Table 4's), ``studies`` and its epochs' ``records``; the distances are random, 4 queries
    against 4 tracklets."""
    from stsrn_lite.book.ledger import file_run
    from stsrn_lite.evaluation.protocols import Evaluation

    config, test, protocols, _ = park_runs.asked("bench")[RUN]
    rng, pids = np.random.default_rng(0), np.arange(4)
    tests = {
        protocol: Evaluation.ranked(
            protocol,
            "torchreid",
            test,
            rng.random((4, 4)),
            q_indices=pids,
            g_indices=pids + 4,
            q_pids=pids,
            g_pids=pids,
            q_camids=np.zeros(4, dtype=np.int64),
            g_camids=np.ones(4, dtype=np.int64),
        )
        for protocol in protocols
    }
    file_run(ledger, RUN, config, test, records or [], tests, code_version="abc", device="cpu", studies=studies)


def test_filed_runs_are_not_parked_and_their_parked_copies_are_removed(homes):
    home, repository = homes
    checkpoint(home / "runs" / "bench" / RUN / CHECKPOINT, 100, epochs=100)
    checkpoint(repository / "results" / "bench" / "parked" / RUN / CHECKPOINT, 60)
    ledger = repository / "results" / "bench" / "runs"
    # filed with its tests but not the occlusion study the grid asks of it (Table 6's STSRN): the
    # checkpoint is still needed to make the study, so the run is parked and its copy kept
    file_entry(ledger, studies=None)
    assert park_runs.asked("bench")[RUN][3] == ("occlusion",)
    assert park_runs.park("bench", repository) == [f"parked {RUN}: epoch 100 of 100"]
    file_entry(ledger, studies={"occlusion": [{"fraction": 0.0, "rank1": 50.0}]})
    assert park_runs.park("bench", repository) == [f"removed {RUN}: filed in the ledger"]
    assert not (repository / "results" / "bench" / "parked" / RUN).exists()
    (ledger / f"{RUN}.json").write_text("{}")  # not an entry: an error naming the file, not a guess
    with pytest.raises(park_runs.LedgerError, match=f"{RUN}.json"):
        park_runs.park("bench", repository)


def test_a_retry_is_parked_only_while_its_first_attempt_is_filed_as_diverged(homes):
    home, repository = homes
    retry = RUN.replace("-fast-", "-fast-stable-")  # what the grid trains when RUN diverged
    parked, ledger = repository / "results" / "bench" / "parked", home / "results" / "bench" / "runs"
    checkpoint(home / "runs" / "bench" / retry / CHECKPOINT, 30)
    checkpoint(parked / retry / CHECKPOINT, 20)
    # RUN not filed: the retry is not asked for (begun, say, under an older rule of divergence)
    assert retry not in park_runs.asked("bench", repository)
    assert park_runs.listing("bench", repository) == [
        f"{retry}: parked at epoch 20 of 100; in the home: epoch 30 of 100; the grid does not ask for it"
    ]
    assert park_runs.unpark("bench", repository) == [f"left {retry}: a run the grid does not ask for"]
    assert park_runs.park("bench", repository) == [f"removed {retry}: a run the grid does not ask for"]
    assert not (parked / retry).exists()
    # RUN filed as diverged, before the occlusion study the grid also asks of it: the retry is asked
    # for all the same (the grid tests RUN, sees it diverged and trains the retry)
    file_entry(ledger, None, records=[{"loss": 4.0}, {"loss": 9.0}, {"loss": 40.0}])
    assert park_runs.asked("bench", repository)[retry][3] == ("occlusion",)
    assert park_runs.park("bench", repository) == [f"parked {retry}: epoch 30 of 100"]
    listed = f"{retry}: parked at epoch 30 of 100; in the home: epoch 30 of 100"
    assert park_runs.listing("bench", repository) == [listed]
    # RUN filed again, and its records judge it not diverged: the retry's parked copy goes
    studies = {"occlusion": [{"fraction": 0.0, "rank1": 50.0}]}
    file_entry(ledger, studies, records=[{"loss": 4.0}, {"loss": 3.0}, {"loss": 2.0}])
    assert retry not in park_runs.asked("bench", repository)
    assert park_runs.park("bench", repository) == [f"removed {retry}: a run the grid does not ask for"]


def test_a_damaged_parked_checkpoint_is_an_error_naming_it_and_nothing_is_copied(homes, capsys, monkeypatch):
    home, repository = homes
    parked = checkpoint(repository / "results" / "bench" / "parked" / RUN / CHECKPOINT, 40)
    data = bytearray(parked.read_bytes())
    data[len(data) // 2] ^= 0xFF
    parked.write_bytes(bytes(data))
    monkeypatch.setattr(park_runs, "checkout", lambda: repository)
    assert park_runs.main(["unpark", "--profile", "bench"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and str(parked) in error and len(error.strip().splitlines()) == 1
    assert not (home / "runs" / "bench" / RUN).exists()


def test_an_unparked_run_is_resumed_where_it_stopped(tiny_run, tmp_path, monkeypatch):
    """The real thing: a trained run's checkpoint parked, brought back into another home, and
    trained on from its epoch (not from the start), with its first epoch's records kept."""
    from stsrn_lite.synthetic.generator import SyntheticConfig, generate
    from stsrn_lite.training.data import load_run_data

    folder, _ = tiny_run
    first = load_checkpoint(folder / CHECKPOINT)
    home, repository = tmp_path / "home", tmp_path / "repo"
    shutil.copytree(folder, home / "runs" / "bench" / RUN)
    monkeypatch.setenv("STSRN_HOME", str(home))
    park_runs.park("bench", repository)
    monkeypatch.setenv("STSRN_HOME", str(tmp_path / "new-home"))
    park_runs.unpark("bench", repository)

    root = generate(SyntheticConfig(layout="ilids-vid", identities=6, seed=2, max_length=20), tmp_path / "ilids")
    data = load_run_data("ilids-vid", root, fold=0, folds=10, seed=1, cache_dir=tmp_path / "cache")
    config = replace(TrainConfig(**first["config"]), epochs=2)
    result = train(config, data, tmp_path / "new-home" / "runs" / "bench" / RUN, resume=True, progress=False)
    assert [record["epoch"] for record in result.records] == [1, 2]
    assert result.records[0] == first["records"][0]
    assert result.records[0]["rank1"] == 50.0  # the stand-in test of the parked epoch: not trained again
