"""The sensitivity study (stsrn_lite.book.readings): one reading changed at a time beside Table 1's
STSRN, each reaching the run it names, and the paired effects computed fold by fold."""

from __future__ import annotations

import dataclasses
import math

import pytest

from stsrn_lite.book import readings
from stsrn_lite.book.experiments import run
from stsrn_lite.book.grid import DEFAULT_READINGS, SENSITIVITY, table_runs
from stsrn_lite.book.session import setup
from stsrn_lite.model.presets import PRESETS
from stsrn_lite.training.checkpoint import load_checkpoint
from stsrn_lite.training.config import TrainConfig


def test_each_reading_changes_one_default_beside_table_1s_stsrn():
    session = setup("bench")
    entries = table_runs("readings", session)
    assert len(entries) == 1 + len(SENSITIVITY) and {e.run.dataset for e in entries} == {"ilids-vid"}
    table1 = {e.run.training for e in table_runs("table1", session) if e.run.preset == "STSRN"}
    defaults = [e for e in entries if e.label == DEFAULT_READINGS]
    assert {e.run.training for e in defaults} <= table1 and len(defaults) == 1  # the same run, not a new one
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


def test_collect_tests_only_finished_runs_and_the_command_fails_without_any(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    found, missing = readings.collect(setup("bench"))
    assert found == [] and len(missing) == 1 + len(SENSITIVITY)
    assert readings.main(["--profile", "bench"]) == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last == "error: no run of the readings study has finished in the bench profile"
    assert not (tmp_path / "results").exists()
