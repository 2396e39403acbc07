"""The sensitivity study (stsrn_lite.book.readings): one reading changed at a time beside Table 1's
STSRN, each reaching the run it names, and the paired effects computed fold by fold."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from stsrn_lite.book import grid, readings
from stsrn_lite.book.experiments import run
from stsrn_lite.book.grid import DEFAULT_READINGS, MORE_FOLDS, SENSITIVITY, filed, spec_folder, table_runs
from stsrn_lite.book.session import setup
from stsrn_lite.model.presets import PRESETS
from stsrn_lite.training.checkpoint import load_checkpoint
from stsrn_lite.training.config import TrainConfig


def test_each_reading_changes_one_default_beside_table_1s_stsrn():
    session = setup("bench")
    entries = table_runs("readings", session)
    first = [e for e in entries if e.run.fold == 0]
    assert len(first) == 1 + len(SENSITIVITY) and {e.run.dataset for e in entries} == {"ilids-vid"}
    table1 = {e.run.training for e in table_runs("table1", session) if e.run.preset == "STSRN"}
    defaults = [e for e in entries if e.label == DEFAULT_READINGS]
    assert {e.run.training for e in defaults} <= table1  # the same runs, not new ones
    assert len(defaults) == len({e.run.fold for e in entries})  # one on each fold a reading runs on
    model_defaults = dataclasses.asdict(PRESETS["STSRN"])
    for label, fields in SENSITIVITY:
        config = TrainConfig(dataset="ilids-vid", **fields)  # every field is a training option
        for key, value in fields.items():
            default = getattr(TrainConfig(dataset="ilids-vid"), key)
            assert value != (model_defaults[key] if default is None else default), (label, key)
    assert TrainConfig(dataset="ilids-vid", res_kernel=7, res_padding=4).model_overrides() == {
        "res_kernel": 7,
        "res_padding": 4,
    }
    with pytest.raises(ValueError, match="res_kernel must be None or >= 1"):
        TrainConfig(dataset="ilids-vid", res_kernel=0)
    assert config.identity()  # constructible with the last reading too


def test_a_reading_close_to_the_fold_spread_runs_on_more_folds_beside_the_defaults_run(monkeypatch):
    session = setup("bench")
    assert session.table_folds("readings") == 1
    folds = {}
    for entry in table_runs("readings", session):
        folds.setdefault(entry.label, []).append(entry.run.fold)
    assert folds == {
        DEFAULT_READINGS: [0, 1],
        **{label: [0, 1] if label in MORE_FOLDS else [0] for label, _ in SENSITIVITY},
    }
    assert set(MORE_FOLDS) <= {label for label, _ in SENSITIVITY}
    monkeypatch.setattr(grid, "MORE_FOLDS", {SENSITIVITY[0][0]: 5})  # never more than the profile has
    assert max(e.run.fold for e in table_runs("readings", session)) == session.folds - 1
    smoke = table_runs("readings", setup("smoke"))  # one fold in all
    assert {e.run.fold for e in smoke} == {0} and len(smoke) == 1 + len(SENSITIVITY)


def test_a_reading_reaches_the_runs_folder_its_model_and_its_flow(tmp_path, monkeypatch):
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    session = setup("smoke", epochs=1)
    fields = {"flow": "original", "res_kernel": 7, "res_padding": 3}  # the flow is also the profile's setting
    outcome = run(session, "ilids-vid", "STSRN", 0, epochs=1, readings=fields)
    assert outcome.checkpoint.parent.name == "ilids-vid-STSRN-faithful-flow=original-res_kernel=7-res_padding=3-fold0"
    state = load_checkpoint(outcome.checkpoint)
    assert (state["model_config"]["res_kernel"], state["model_config"]["res_padding"]) == (7, 3)
    assert state["config"]["flow"] == "original"


def rows(values: dict[str, list[float]]) -> list[dict]:
    return [
        {"dataset": "ilids-vid", "reading": label, "fold": fold, "rank1": value}
        for label, per_fold in values.items()
        for fold, value in enumerate(per_fold)
    ]


def test_effects_pair_each_reading_with_the_default_on_the_folds_both_finished():
    first, second = SENSITIVITY[0][0], SENSITIVITY[1][0]
    table = readings.effects(rows({DEFAULT_READINGS: [50.0, 60.0, 55.0], first: [52.0, 63.0], second: [40.0]}))
    assert list(table["reading"]) == [first, second]
    one = table.iloc[0]
    assert (one["folds"], one["default"], one["this reading"], one["effect"]) == (2, 55.0, 57.5, 2.5)
    assert one["low"] < 2.5 < one["high"] and one["default's sd over folds"] == pytest.approx(math.sqrt(50))
    two = table.iloc[1]
    assert two["effect"] == -10.0 and math.isnan(two["low"]) and math.isnan(two["default's sd over folds"])


def test_fold_spread_is_table_1s_stsrn_over_all_its_folds_on_one_dataset():
    table1 = [
        {"dataset": "ilids-vid", "preset": "STSRN", "fold": "0", "rank1": "76.0"},
        {"dataset": "ilids-vid", "preset": "STSRN", "fold": "1", "rank1": "88.0"},
        {"dataset": "ilids-vid", "preset": "STSRN", "fold": "2", "rank1": "82.0"},
        {"dataset": "ilids-vid", "preset": "CNN-RNN", "fold": "0", "rank1": "10.0"},
        {"dataset": "prid2011", "preset": "STSRN", "fold": "0", "rank1": "99.0"},
    ]
    assert readings.fold_spread(table1, "ilids-vid") == (pytest.approx(6.0), 3)
    spread, folds = readings.fold_spread(table1, "prid2011")
    assert math.isnan(spread) and folds == 1


def test_collect_tests_only_finished_runs_and_the_command_fails_without_any(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(grid, "MORE_FOLDS", {})  # the study on one fold: what is counted below
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    found, missing = readings.collect(setup("bench"))
    assert found == [] and len(missing) == 1 + len(SENSITIVITY)
    assert readings.main(["--profile", "bench"]) == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last == "error: no run of the readings study has finished in the bench profile"
    assert not (tmp_path / "results").exists()


def test_a_retry_is_paired_with_the_defaults_run_under_its_recipe_and_a_mixed_pair_is_named():
    first, second = SENSITIVITY[0][0], SENSITIVITY[1][0]
    found = [
        {"dataset": "ilids-vid", "reading": DEFAULT_READINGS, "fold": 0, "rank1": 76.0, "recipe": "fast"},
        {"dataset": "ilids-vid", "reading": DEFAULT_READINGS, "fold": 1, "rank1": 87.0, "recipe": "fast"},
        {"dataset": "ilids-vid", "reading": first, "fold": 0, "rank1": 70.0, "recipe": "fast-stable"},
        {"dataset": "ilids-vid", "reading": first, "fold": 1, "rank1": 80.0, "recipe": "fast-stable"},
        {"dataset": "ilids-vid", "reading": second, "fold": 0, "rank1": 77.0, "recipe": "fast"},
        # the default's run of fold 0 under the retry's recipe, filed too (collect adds it after the own run)
        {"dataset": "ilids-vid", "reading": DEFAULT_READINGS, "fold": 0, "rank1": 72.0, "recipe": "fast-stable"},
    ]
    table = readings.effects(found).set_index("reading")
    assert table.loc[first, "recipes"] == "fold 0: both fast-stable; fold 1: fast-stable against fast"
    assert table.loc[first, "effect"] == pytest.approx(((70 - 72) + (80 - 87)) / 2)
    assert table.loc[first, "default"] == pytest.approx((72 + 87) / 2)
    assert (table.loc[second, "recipes"], table.loc[second, "effect"]) == ("–", 1.0)  # the own run, not the retry's


def evaluation(rank1: float) -> SimpleNamespace:
    cmc = [rank1 / 100] + [1.0] * 19
    return SimpleNamespace(details=SimpleNamespace(cmc=cmc, mAP=0.5), g_indices=range(150))


def test_collect_adds_the_defaults_filed_run_under_a_retrys_recipe_and_trains_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(grid, "MORE_FOLDS", {})  # the study on one fold: what is counted below
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    session = setup("bench")
    first = SENSITIVITY[0][0]
    retried = {label for label, fields in SENSITIVITY[:1]}
    asked = []

    def current_attempt(session, spec):  # the first reading's fast run diverged; its retry is the attempt
        label = next(label for label, fields in SENSITIVITY if dict(spec.readings) == fields) if spec.readings else None
        return dataclasses.replace(spec, recipe="fast-stable", retry=True) if label in retried else spec

    def execute(session, spec, retries=True):
        assert not retries
        return SimpleNamespace(evaluations={"two-camera": evaluation(60.0)}, recipe=spec.recipe, records=[])

    def filed(session, spec):
        asked.append(spec)
        return SimpleNamespace(evaluations={"two-camera": evaluation(50.0)})

    monkeypatch.setattr("stsrn_lite.book.estimate.remaining_epochs", lambda session, spec: 0)
    monkeypatch.setattr(readings, "current_attempt", current_attempt)
    monkeypatch.setattr(readings, "execute", execute)
    monkeypatch.setattr(readings, "filed", filed)
    found, missing = readings.collect(session)
    assert missing == [] and len(found) == 2 + len(SENSITIVITY)
    default = next(e.run for e in table_runs("readings", session) if e.label == DEFAULT_READINGS)
    assert asked == [dataclasses.replace(default, recipe="fast-stable", retry=True)]  # one lookup, the default's
    added = found[-1]
    assert (added["reading"], added["recipe"], added["rank1"]) == (DEFAULT_READINGS, "fast-stable", 50.0)
    table = readings.effects(found).set_index("reading")
    assert table.loc[first, "recipes"] == "fold 0: both fast-stable" and table.loc[first, "effect"] == 10.0


def test_a_reading_whose_run_diverged_waits_for_its_retry_and_collect_never_trains_it(tmp_path, monkeypatch):
    monkeypatch.setattr(grid, "MORE_FOLDS", {})  # the study on one fold: what is counted below
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    session = setup("bench")
    label, fields = SENSITIVITY[1]
    blown = SimpleNamespace(records=[{"epoch": e, "loss": loss} for e, loss in enumerate((11.0, 10.5, 96.6, 165.9), 1)])
    executed = []

    def filed(session, spec):  # only that reading's fast run is filed, and it diverged
        return blown if dict(spec.readings) == fields and spec.recipe == "fast" else None

    def execute(session, spec, retries=True):
        executed.append((spec, retries))
        return SimpleNamespace(evaluations={"two-camera": evaluation(60.0)}, recipe=spec.recipe, records=[])

    monkeypatch.setattr("stsrn_lite.book.grid.filed", filed)
    monkeypatch.setattr(readings, "filed", lambda session, spec: None)
    # every first attempt has trained; no retry has
    monkeypatch.setattr("stsrn_lite.book.estimate.remaining_epochs", lambda s, spec: 100 if spec.retry else 0)
    monkeypatch.setattr(readings, "execute", execute)
    found, missing = readings.collect(session)
    assert [name.split(": ", 1)[1] for name in missing] == [label]
    assert len(found) == len(SENSITIVITY) and all(dict(spec.readings) != fields for spec, _ in executed)
    assert not any(retries for _, retries in executed)  # each attempt is only tested, never followed by a retry


def test_a_run_that_diverged_in_its_last_epochs_waits_for_its_retry_and_collect_does_not_start_it(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(grid, "MORE_FOLDS", {})  # the study on one fold: what is counted below
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    session = setup("bench")
    label, fields = SENSITIVITY[2]
    late = [{"epoch": e, "loss": loss} for e, loss in enumerate((11.0, *(2.0,) * 95, 150.0, 140.0, 130.0, 120.0), 1)]
    executed = []

    def execute(session, spec, retries=True):  # trained to its last epoch, not filed yet: tested here
        executed.append((spec, retries))
        records = late if dict(spec.readings) == fields else []
        return SimpleNamespace(evaluations={"two-camera": evaluation(60.0)}, recipe=spec.recipe, records=records)

    monkeypatch.setattr("stsrn_lite.book.estimate.remaining_epochs", lambda s, spec: 0)
    monkeypatch.setattr(readings, "execute", execute)
    monkeypatch.setattr(readings, "filed", lambda session, spec: None)
    found, missing = readings.collect(session)
    assert [name.split(": ", 1)[1] for name in missing] == [label]
    assert len(found) == len(SENSITIVITY) and label not in {row["reading"] for row in found}
    assert not any(retries for _, retries in executed) and {spec.recipe for spec, _ in executed} == {"fast"}


def test_filed_reads_a_committed_bench_run_and_never_trains(tmp_path, monkeypatch):
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    repository = Path(__file__).resolve().parents[1]
    monkeypatch.setattr("stsrn_lite.book.experiments.checkout", lambda: repository)  # its committed ledger
    session = setup("bench")
    default = next(e.run for e in table_runs("readings", session) if e.label == DEFAULT_READINGS)
    ledger = repository / "results" / "bench" / "runs"
    names = {path.stem for path in ledger.glob("*.json")}
    tried = 0
    for recipe in ("fast", "fast-stable"):
        for fold in range(3):
            spec = dataclasses.replace(default, fold=fold, recipe=recipe, retry=recipe != "fast")
            name = spec_folder(session, spec).name
            found = filed(session, spec)
            assert (found is not None) == (name in names), name
            if found is not None:
                tried += 1
                entry = json.loads((ledger / f"{name}.json").read_text())
                want = entry["protocols"]["two-camera"]["rank1"]
                assert 100 * found.evaluations["two-camera"].details.cmc[0] == pytest.approx(want, abs=0.01)
    assert tried >= 1, f"no bench run of iLIDS-VID STSRN is committed in {ledger}"
    assert not (tmp_path / "runs").exists()  # nothing was trained
