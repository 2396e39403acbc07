"""Result files of the book's tables: written with provenance, read back per profile."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from stsrn_lite.book import experiments
from stsrn_lite.book.report import result_matrix
from stsrn_lite.book.session import setup


def test_results_round_trip_with_provenance(tmp_path, monkeypatch):
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    session = setup("smoke")
    rows = [
        {"dataset": "ilids-vid", "preset": "STSRN", "fold": 0, "rank1": 40.0},
        {"dataset": "ilids-vid", "preset": "STSRN", "fold": 1, "rank1": 35.0},
    ]
    path = experiments.save_results(session, "table1", rows, notebook="07_table1")
    assert path == tmp_path / "results" / "smoke" / "table1.csv"
    provenance = json.loads((tmp_path / "results" / "smoke" / "table1.json").read_text())
    assert provenance["profile"] == "smoke" and provenance["notebook"] == "07_table1"
    assert provenance["device"].startswith("cpu") and provenance["code_version"]
    found = experiments.load_results("table1", profiles=("smoke", "full"))
    assert list(found) == ["smoke"]  # no full results: no column for them
    loaded, meta = found["smoke"]
    assert [row["rank1"] for row in loaded] == ["40.0", "35.0"] and meta["data"].startswith("synthetic")
    bench = setup("bench")  # a table of one dataset whose data the profile reduces says so
    experiments.save_results(bench, "table2", [{"dataset": "mars", "rank1": 1.0}], notebook="08_table2", dataset="mars")
    assert experiments.load_results("table2", profiles=("bench",))["bench"][1]["data"].endswith("of 1,259 identities")


def test_unchanged_results_keep_their_provenance_and_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    session = setup("smoke")
    rows = [{"preset": "STSRN", "rank1": 40.0}]
    experiments.save_results(session, "table1", rows, notebook="07_table1")
    meta = tmp_path / "results" / "smoke" / "table1.json"
    stored = json.loads(meta.read_text())
    meta.write_text(json.dumps({**stored, "date": "2000-01-01"}, indent=1) + "\n")  # made on an earlier day
    before = meta.read_bytes()
    experiments.save_results(session, "table1", rows, notebook="07_table1")
    assert meta.read_bytes() == before  # the same numbers from the same code: nothing rewritten
    experiments.save_results(session, "table1", [{"preset": "STSRN", "rank1": 41.0}], notebook="07_table1")
    assert json.loads(meta.read_text())["date"] != "2000-01-01"  # new numbers: new provenance
    experiments.save_results(session, "table1", [{"preset": "STSRN", "rank1": 41.0}], notebook="11_table5_fig4")
    assert json.loads(meta.read_text())["notebook"] == "11_table5_fig4"  # other provenance: rewritten
    assert not list((tmp_path / "results" / "smoke").glob(".*partial"))


def test_stored_or_measured_measures_once_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    session = setup("smoke")
    calls = []

    def measure():
        calls.append(1)
        return [{"quantity": "extract once (s)", "seconds": 0.5 * len(calls)}]

    rows, provenance = experiments.stored_or_measured(session, "timings", measure, notebook="13_efficiency")
    assert rows == [{"quantity": "extract once (s)", "seconds": "0.5"}] and provenance["notebook"] == "13_efficiency"
    rows, _ = experiments.stored_or_measured(session, "timings", measure, notebook="13_efficiency")
    assert len(calls) == 1 and rows[0]["seconds"] == "0.5"  # stored: not measured again
    rows, _ = experiments.stored_or_measured(session, "timings", measure, notebook="13_efficiency", remeasure=True)
    assert len(calls) == 2 and rows[0]["seconds"] == "1.0"
    meta = tmp_path / "results" / "smoke" / "timings.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "device": "NVIDIA H100 80GB HBM3"}))
    rows, provenance = experiments.stored_or_measured(session, "timings", measure, notebook="13_efficiency")
    assert len(calls) == 3 and provenance["device"].startswith("cpu")  # measured elsewhere: measured here


def test_code_version_of_paths_ignores_other_changes(tmp_path, monkeypatch):
    import subprocess

    from stsrn_lite import provenance

    repo = tmp_path / "repo"
    (repo / "stsrn_lite").mkdir(parents=True)
    (repo / "stsrn_lite" / "provenance.py").write_text("")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "README.md").write_text("a\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "code"], check=True)
    code_commit = subprocess.run(
        [*git, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    (repo / "README.md").write_text("b\n")
    subprocess.run([*git, "commit", "-qam", "docs"], check=True)
    monkeypatch.setattr(provenance, "__file__", str(repo / "stsrn_lite" / "provenance.py"))
    provenance.code_version.cache_clear()
    try:
        assert provenance.code_version(("stsrn_lite",)) == code_commit  # the docs commit does not count
        assert provenance.code_version() != code_commit
        (repo / "stsrn_lite" / "provenance.py").write_text("# changed\n")
        provenance.code_version.cache_clear()
        assert provenance.code_version(("stsrn_lite",)) == f"{code_commit}-dirty"
    finally:
        provenance.code_version.cache_clear()


def test_each_profile_states_its_readings():
    smoke, paper = setup("smoke").readings, setup("paper", device="cpu").readings
    assert "flow resized" in smoke and "flow original" in paper
    for text in (smoke, paper):
        assert "normalisation mclaughlin" in text and "TemRes shortcut" in text and "ω direct" in text
    # the learning rate is the profile's recipe's: the paper's constant 2e-3, the bench's cosine
    assert smoke.endswith("learning rate 0.002 (constant)")
    assert setup("bench").readings.endswith("learning rate 0.001 (cosine)")


def test_a_partial_session_never_fills_its_profiles_column(tmp_path, monkeypatch):
    """A 1-epoch, 1-fold CPU session of the paper profile: labelled partial, filed apart."""
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    session = setup("paper", data_root=str(tmp_path / "reid"), device="cpu", folds=1, epochs=1)
    assert session.departures == ("1 of 1000 epochs", "1 of 10 folds") and not session.complete
    assert "partial: 1 of 1000 epochs, 1 of 10 folds" in session.label
    rows = [{"dataset": "ilids-vid", "preset": "STSRN", "fold": 0, "rank1": 10.0}]
    path = experiments.save_results(session, "table1", rows, notebook="07_table1")
    assert path == tmp_path / "results" / "partial" / "paper" / "table1.csv"
    assert experiments.load_results("table1", profiles=("paper",)) == {}  # the paper column stays empty
    provenance = experiments.load_results("table1", profiles=("paper",), partial=True)["paper"][1]
    assert provenance["complete"] is False and provenance["departures"] == ["1 of 1000 epochs", "1 of 10 folds"]
    assert (provenance["epochs"], provenance["folds"]) == (1, 1)
    assert provenance["command"] == f"make book PROFILE=paper DATA_ROOT={tmp_path / 'reid'} DEVICE=cpu EPOCHS=1 FOLDS=1"
    assert provenance["test"] == "L = 128, 16 pass(es) per sequence pair"
    assert provenance["recipe"].startswith("faithful") and "normalisation" in provenance["readings"]
    experiments.save_results(session, "fig5", rows, notebook="12_table6_fig5", tta=False)  # tested in training
    curves = experiments.load_results("fig5", profiles=("paper",), partial=True)["paper"][1]
    assert curves["test"] == "L = 128, 1 pass(es) per sequence pair"

    matrix = result_matrix()
    assert matrix.loc["Table 1: iLIDS-VID and PRID2011", "paper"] == "partial: 1 rows (1 of 1000 epochs, 1 of 10 folds)"


def test_a_complete_session_records_what_ran(tmp_path, monkeypatch):
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    session = setup("smoke")
    assert session.complete and session.command == "make book PROFILE=smoke"
    experiments.save_results(session, "table1", [{"rank1": 1.0}], notebook="07_table1")
    provenance = json.loads((tmp_path / "results" / "smoke" / "table1.json").read_text())
    assert (provenance["complete"], provenance["epochs"], provenance["folds"]) == (True, 4, 1)
    assert provenance["test"] == "L = 128, 1 pass(es) per sequence pair"


def test_the_bench_reduces_its_mars_and_every_label_of_mars_numbers_says_so(tmp_path, monkeypatch):
    from dataclasses import replace

    from stsrn_lite.book import profiles
    from stsrn_lite.synthetic.generator import SIZES

    bench = setup("bench")
    assert bench.profile.identities("mars") == profiles.MARS_BENCH < SIZES["full"]["mars"]["identities"]
    assert bench.profile.identities("ilids-vid") == SIZES["full"]["ilids-vid"]["identities"]
    assert bench.label_for("mars") == (
        "ours (bench: synthetic benchmark, real datasets' sizes; MARS at 300 of 1,259 identities; CPU)"
    )
    assert bench.label_for("ilids-vid") == bench.label == "ours (bench: synthetic benchmark, real datasets' sizes; CPU)"
    assert (
        setup("full", device="cpu").label_for("mars") == "ours (full: synthetic benchmark, real datasets' sizes; CPU)"
    )
    with pytest.raises(ValueError, match="mars reduced to 1300 identities; expected"):
        replace(bench.profile, reduced=(("mars", 1300),))
    with pytest.raises(ValueError, match="expected a synthetic size"):
        replace(setup("paper", device="cpu").profile, reduced=(("mars", 100),))
    with pytest.raises(ValueError, match="viper reduced to 10 identities"):
        replace(bench.profile, reduced=(("viper", 10),))

    made = []  # the folder the reduced data goes to, apart from the full size's, and its size
    monkeypatch.setattr(profiles, "ensure", lambda config, root, **_: made.append((config.identities, root)))
    assert profiles.dataset_root(bench.profile, "mars", tmp_path) == tmp_path / "mars-300"
    assert profiles.dataset_root(setup("full", device="cpu").profile, "mars", tmp_path) == tmp_path / "mars"
    assert made == [(300, tmp_path / "mars-300"), (1259, tmp_path / "mars")]


def test_a_home_elsewhere_still_reads_the_results_and_ledger_committed_in_the_checkout(tmp_path, monkeypatch):
    """With $STSRN_HOME outside the checkout, the book still shows the committed results of the
    other profiles (where the home has none of its own) and their filed runs."""
    from stsrn_lite.book import recipe_validation
    from stsrn_lite.book.ledger import FOLDER

    source, elsewhere = tmp_path / "checkout", tmp_path / "home"
    committed = source / "results" / "bench"
    (committed / FOLDER).mkdir(parents=True)
    (committed / "table1.csv").write_text("preset,rank1\nSTSRN,76.0\n")
    (committed / "table1.json").write_text(json.dumps({"profile": "bench"}))
    for name, rank1 in (("a", 1.0), ("b", 2.0)):
        (committed / FOLDER / f"{name}.json").write_text(json.dumps({"name": name, "rank1": rank1}))
    (source / "results" / "recipe").mkdir(parents=True)
    for name in ("validation_curves.csv", "validation_compare.csv"):
        (source / "results" / "recipe" / name).write_text("preset\nSTSRN\n")
    monkeypatch.setenv("STSRN_HOME", str(elsewhere))
    assert experiments.load_results("table1", profiles=("bench",)) == {}  # conftest: no checkout
    assert experiments.filed_entries("bench") == [] and recipe_validation.stored() is None
    monkeypatch.setattr(experiments, "checkout", lambda: source)
    loaded = experiments.load_results("table1", profiles=("bench", "paper"))
    assert loaded == {"bench": ([{"preset": "STSRN", "rank1": "76.0"}], {"profile": "bench"})}
    assert [entry["rank1"] for entry in experiments.filed_entries("bench")] == [1.0, 2.0]
    assert recipe_validation.stored() is not None
    own = elsewhere / "results" / "bench"  # the home's own file and runs come first
    (own / FOLDER).mkdir(parents=True)
    (own / "table1.csv").write_text("preset,rank1\nSTSRN,70.0\n")
    (own / FOLDER / "b.json").write_text(json.dumps({"name": "b", "rank1": 3.0}))
    assert experiments.load_results("table1", profiles=("bench",))["bench"][0] == [{"preset": "STSRN", "rank1": "70.0"}]
    assert [entry["rank1"] for entry in experiments.filed_entries("bench")] == [1.0, 3.0]


def test_the_test_after_the_last_epoch_serves_as_the_final_test_only_where_they_are_the_same(tmp_path, monkeypatch):
    """In the smoke profile the final test (one centre crop, L = 128) would repeat the test made
    after the last epoch: `run` takes that one, which equals a test of the finished run made afresh;
    where the final test is another (here L = 64), it is made."""
    import dataclasses

    import torch

    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    torch.set_num_threads(1)
    session = setup("smoke", epochs=1)
    made = []
    evaluate = experiments.evaluate_protocol

    def counted(protocol, *args, **kwargs):
        made.append((protocol, args[3].length))  # (protocol, its test length L)
        return evaluate(protocol, *args, **kwargs)

    monkeypatch.setattr(experiments, "evaluate_protocol", counted)
    outcome = experiments.run(session, "prid2011", "CNN-RNN", 0, epochs=1, eval_every=1)
    assert made == [("two-camera", 128)]  # after epoch 1, and not again as the final test
    assert outcome.records[-1]["rank1"] == outcome.summary("two-camera")["rank1"]
    again = experiments.run(session, "prid2011", "CNN-RNN", 0, epochs=1, eval_every=1)  # finished: tested afresh
    assert made == [("two-camera", 128)] * 2 and again.summary("two-camera") == outcome.summary("two-camera")
    first, fresh = outcome.evaluations["two-camera"].details, again.evaluations["two-camera"].details
    assert (first.cmc == fresh.cmc).all() and first.mAP == fresh.mAP
    shorter = experiments.final_test_config
    monkeypatch.setattr(experiments, "final_test_config", lambda *args: dataclasses.replace(shorter(*args), length=64))
    experiments.run(session, "prid2011", "CNN-RNN", 1, epochs=1, eval_every=1)  # another final test: made
    assert made[2:] == [("two-camera", 128), ("two-camera", 64)]


def test_each_committed_bench_result_says_how_many_folds_its_rows_hold():
    # the column header of a stored table reads its provenance's folds: Table 2's once said 3 for rows of one fold
    folder = Path(__file__).resolve().parents[1] / "results" / "bench"
    tables = sorted(folder.glob("*.json"))
    if not tables:
        pytest.skip(f"no committed bench results in {folder}")
    for meta in tables:
        with (folder / f"{meta.stem}.csv").open() as f:
            folds = {row["fold"] for row in csv.DictReader(f)}
        assert json.loads(meta.read_text())["folds"] == len(folds), meta.name


def test_the_result_matrix_says_when_stored_rows_cover_fewer_folds_than_the_profile_asks():
    from stsrn_lite.book.report import RESULT_FILES

    found = {name: {} for name in RESULT_FILES}
    rows = [{"rank1": 1.0}] * 8
    found["table5"]["bench"] = (rows, {"folds": 1})  # filed when the bench ran Table 5 on one fold
    found["table1"]["bench"] = (rows, {"folds": 3})
    found["table5"]["smoke"] = (rows, {"folds": 1})  # the smoke profile has one fold: nothing missing
    matrix = result_matrix(found, partial={})
    assert matrix.loc["Table 5 and Fig. 4: spatial residual blocks", "bench"] == "8 rows, on 1 of the profile's 3 folds"
    assert matrix.loc["Table 1: iLIDS-VID and PRID2011", "bench"] == "8 rows"
    assert matrix.loc["Table 5 and Fig. 4: spatial residual blocks", "smoke"] == "8 rows"
