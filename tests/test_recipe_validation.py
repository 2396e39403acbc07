"""The recipe validation's curves and comparison (stsrn_lite.book.recipe_validation) from run folders."""

from __future__ import annotations

import json

import pandas as pd

from stsrn_lite.book import recipe_validation
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.records import write_records


def fake_run(home, name, config, ranks):
    folder = home / "runs" / "recipe-val" / f"{name}-{config.preset}-fold{config.fold}"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"config": config.to_dict()}))
    records = [
        {"epoch": epoch, "pairs": 100, "wall_seconds": 10.0 * epoch, "rank1": rank, "mAP": rank}
        for epoch, rank in enumerate(ranks, start=1)
    ]
    write_records(records, folder / "records.csv")


def test_curves_count_frames_and_compare_within_a_tenth(tmp_path, monkeypatch):
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    faithful = TrainConfig(dataset="ilids-vid", preset="STSRN", epochs=40)  # run to 20 of its 40 epochs
    fast = TrainConfig.for_recipe("fast", dataset="ilids-vid", preset="STSRN", epochs=5)
    fake_run(tmp_path, "faithful", faithful, [10.0 * k for k in range(1, 11)] + [90.0] * 10)  # best 100 at 10
    fake_run(tmp_path, "fast", fast, [95.0, 99.0, 96.0, 97.0, 100.0])  # the fifth epoch is past the budget
    rows = recipe_validation.curves()
    assert {row["recipe"] for row in rows} == {"faithful", "fast"}
    first = next(r for r in rows if r["name"] == "fast")
    assert first["frames"] == 100 * 2 * 16  # pairs x two sequences x 16 frames
    [compared] = recipe_validation.compare(rows)
    # the budget is a tenth of the faithful recipe's frames as planned (40 epochs), not as far as run (20)
    assert compared["reference_best_rank1"] == 100.0 and compared["frame_budget"] == 4 * 3200
    assert compared["best_rank1_within_budget"] == 99.0 and compared["difference"] == -1.0
    # the plateau: the mean of the last four tests of each within the budget (90, and 96.75)
    assert compared["reference_last_mean_rank1"] == 90.0 and compared["last_mean_rank1_within_budget"] == 96.75
    assert compared["last_difference"] == 6.75
    # the four tests before the last four averaged 90 too: the reference had plateaued
    assert compared["reference_previous_mean_rank1"] == 90.0 and compared["reference_plateaued"]
    [line] = recipe_validation.verdicts(pd.DataFrame([compared])).splitlines()  # in memory ("" cells)
    assert "stopped at epoch 20 of 40" in line and "+6.8 points, **at most 2 points below**" in line
    path = recipe_validation.write_table([compared], "validation_compare", "test", tmp_path / "out")
    assert recipe_validation.verdicts(pd.read_csv(path)) == line  # and read back (NaN cells)
    candidate = [{**row, "name": "candidate"} for row in rows if row["name"] == "fast"]
    figure = recipe_validation.plot(rows + candidate)  # the named recipes only
    assert len(figure.axes) == 2 and all(ax.get_ylim() == (0, 101) for ax in figure.axes)
    labels = {text.get_text() for text in figure.legends[0].get_texts()}
    assert {"faithful", "fast"} <= labels and "candidate" not in labels
