"""Result files of the book's tables: written with provenance, read back per profile."""
from __future__ import annotations

import json

from stsrn_lite import experiments
from stsrn_lite.notebook import setup


def test_results_round_trip_with_provenance(tmp_path, monkeypatch):
    monkeypatch.setattr(experiments, "RESULTS", tmp_path)
    session = setup("smoke")
    rows = [{"dataset": "ilids-vid", "preset": "STSRN", "fold": 0, "rank1": 40.0},
            {"dataset": "ilids-vid", "preset": "STSRN", "fold": 1, "rank1": 35.0}]
    path = experiments.save_results(session, "table1", rows, notebook="07_table1")
    assert path == tmp_path / "smoke" / "table1.csv"
    provenance = json.loads((tmp_path / "smoke" / "table1.json").read_text())
    assert provenance["profile"] == "smoke" and provenance["notebook"] == "07_table1"
    assert provenance["device"].startswith("cpu") and provenance["code_version"]
    found = experiments.load_results("table1", profiles=("smoke", "full"))
    assert list(found) == ["smoke"]  # no full results: no column for them
    loaded, meta = found["smoke"]
    assert [row["rank1"] for row in loaded] == ["40.0", "35.0"] and meta["data"].startswith("synthetic")
