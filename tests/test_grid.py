"""The run grid (stsrn_lite.book.grid): declared once, shared runs merged, executed locally and on
a local Ray instance with the same results."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from stsrn_lite.book import experiments
from stsrn_lite.book.experiments import run_folder
from stsrn_lite.book.grid import SENSITIVITY, TABLES, grid_runs, parse_folds, plan, table_runs
from stsrn_lite.book.session import setup
from stsrn_lite.training.config import RECIPES
from stsrn_lite.training.records import read_records

REPO = Path(__file__).resolve().parents[1]


def test_tables_share_their_runs_and_merge_their_tests():
    session = setup("smoke")
    runs = grid_runs(session, TABLES)
    trainings = [spec.training for spec in runs]
    assert len(trainings) == len(set(trainings))
    stsrn = next(s for s in runs if (s.dataset, s.preset, s.fold) == ("ilids-vid", "STSRN", 0))
    assert stsrn.protocols == ("two-camera", "cross-dataset")  # Table 1's test and Table 4's
    # the runs with and without the STSM on iLIDS-VID make the occlusion study, Table 1's STSRN included
    studied = {(s.preset, s.dataset) for s in runs if s.studies == ("occlusion",)}
    assert studied == {(p, "ilids-vid") for p in ("STSRN", "Double+TemRes", "Base+TemRes+STSM", "Base+TemRes")}
    assert all(s.studies in ((), ("occlusion",)) for s in runs)
    alone = grid_runs(session, ("table1",))  # Table 4 not asked for: its test is taken all the same
    assert [(s.protocols, s.studies) for s in alone if s.training == stsrn.training] == [
        (("two-camera", "cross-dataset"), ("occlusion",))
    ]
    assert {s.protocols for s in alone if s.dataset == "prid2011"} == {("two-camera",)}
    labels = {entry.label: entry.run.preset for entry in table_runs("table6", session)}
    assert labels["Double+TemRes+STSM"] == "STSRN" and labels["BaseModel"] == "CNN-RNN"
    official = [e for e in table_runs("table2", session) if e.extra["reading"] == "official"]
    assert {e.run.fold for e in official} == {0} and official[0].run.protocols == ("mars-standard",)
    assert len(runs) == 21  # smoke: 4 (Table 1) + 4 (MARS) + 8 ablation runs not in Table 1 + 5 readings


def test_real_data_runs_make_no_occlusion_study():
    # the study renders the test identities again with their occluders held longer: the real
    # datasets have no generator, and a run asking for it would fail after training
    real = grid_runs(setup("paper", "/nonexistent", device="cpu"), TABLES)
    assert real and all(spec.studies == () for spec in real)
    synthetic = grid_runs(setup("bench", device="cpu"), ("table6",))
    assert any(spec.studies == ("occlusion",) for spec in synthetic)


def test_the_profiles_recipe_reaches_every_run_its_folder_and_its_estimate(tmp_path, monkeypatch):
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    faithful = setup("smoke")
    fast = replace(faithful, profile=replace(faithful.profile, recipe="fast"))
    specs = grid_runs(fast, ("table1",))
    assert {s.recipe for s in specs} == {"fast"} and {s.recipe for s in grid_runs(faithful, ("table1",))} == {
        "faithful"
    }
    spec = specs[0]
    assert spec.training != replace(spec, recipe="faithful").training  # another run, not the same one
    folder = run_folder(fast, spec.dataset, spec.preset, spec.fold, recipe=spec.recipe)
    assert folder.name == "ilids-vid-STSRN-fast-fold0"
    assert run_folder(fast, spec.dataset, spec.preset, spec.fold, recipe="fast", seed=7).name == (
        "ilids-vid-STSRN-fast-seed=7-fold0"
    )
    assert experiments.recipe("fast").startswith("fast: 1 pair per step, Adam learning rate 0.001, 2-epoch warm-up")
    assert experiments.recipe() == (
        "faithful (1 pair per step), SGD learning rate 0.002 constant, momentum 0.9 (torch7), gradients clamped at 5"
    )  # the text stored with every faithful result
    with pytest.raises(ValueError, match="unknown recipe 'slow'"):
        replace(faithful.profile, recipe="slow")


def test_the_bench_profile_trains_the_fast_recipe_on_three_folds_with_ten_tests_a_run():
    session = setup("bench")
    runs = grid_runs(session, ("table1", "table5", "table6", "readings"))
    assert {(s.recipe, s.epochs, s.eval_every) for s in runs} == {("fast", RECIPES["fast"]["epochs"], 10)}
    runs = grid_runs(session, ("table1",))
    assert {s.fold for s in runs} == {0, 1, 2} and {s.dataset for s in runs} == {"ilids-vid", "prid2011"}
    assert session.profile.eval_tta and session.profile.synthetic == setup("full", device="cpu").profile.synthetic
    assert setup("smoke").eval_every == 2 and setup("full", device="cpu").eval_every == 20  # 4 and 1000 epochs
    # the ablations on iLIDS-VID only, the readings study on one fold (issue "Results worth reading")
    table5, table6 = grid_runs(session, ("table5",)), grid_runs(session, ("table6",))
    assert {(s.dataset, s.fold) for s in table5} == {("ilids-vid", fold) for fold in range(3)} and len(table5) == 18
    assert {s.dataset for s in table6} == {"ilids-vid"} and {s.fold for s in table6} == {0, 1, 2}
    readings = grid_runs(session, ("readings",))  # fold 0; a second for the readings near the fold spread
    assert {(s.fold, s.readings) for s in readings if s.fold} == {(1, ()), (1, (("normalisation", "standard"),))}
    assert session.table_folds("readings") == 1 and setup("bench", folds=1).table_folds("table6") == 1
    mars = table_runs("table2", session)  # three folds of ASTPN's reading, and the official split's one run
    assert sorted((e.extra["reading"], e.run.preset, e.run.fold) for e in mars) == sorted(
        [("astpn", preset, fold) for preset in ("CNN-RNN", "STSRN") for fold in range(3)]
        + [("official", preset, 0) for preset in ("CNN-RNN", "STSRN")]
    )
    full = setup("full", device="cpu")
    assert full.table_folds("table5") == 10 and {s.dataset for s in grid_runs(full, ("table5",))} == {
        "ilids-vid",
        "prid2011",
    }


def test_each_tables_runs_come_fold_by_fold():
    session = setup("bench")
    table1 = grid_runs(session, ("table1",))
    runs = grid_runs(session, ("table1", "table6"))
    assert runs[: len(table1)] == table1  # tables in the order asked
    table6 = runs[len(table1) :]  # the ablation runs that Table 1 has not already
    for block in (table1, table6):
        folds = [s.fold for s in block]
        assert folds == sorted(folds) and set(folds) == {0, 1, 2}
    assert {s.preset for s in table1 if s.fold == 0} == {"CNN-RNN", "STSRN"}
    assert len(table6) == 4 * 3  # 6 rows, 2 of them Table 1's networks


def test_datasets_and_folds_select_runs():
    session = setup("full", device="cpu")
    runs = grid_runs(session, ("table1",), datasets=["prid2011"], folds=parse_folds("0-2,7"))
    assert {(s.dataset, s.fold) for s in runs} == {("prid2011", f) for f in (0, 1, 2, 7)}
    assert parse_folds(None) is None


def test_the_plan_can_put_the_shortest_runs_first(monkeypatch):
    from stsrn_lite.book import estimate

    session = setup("bench")
    left = {("ilids-vid", "STSRN", 0): 40}  # an interrupted run: 40 epochs left
    monkeypatch.setattr(
        estimate,
        "work_left",
        lambda _, spec: estimate.WorkLeft(left.get((spec.dataset, spec.preset, spec.fold), spec.epochs), tests=True),
    )
    monkeypatch.setattr(
        estimate, "estimate_seconds", lambda _, spec, epochs, __: epochs * (3 if spec.preset == "STSRN" else 1)
    )
    table_order, _ = plan(session, ("table1",), ["ilids-vid"], [0, 1], threads=1)
    assert [(s.preset, s.fold) for s, _, _ in table_order] == [
        ("STSRN", 0),
        ("CNN-RNN", 0),
        ("STSRN", 1),
        ("CNN-RNN", 1),
    ]  # fold by fold
    rows, text = plan(session, ("table1",), ["ilids-vid"], [0, 1], threads=1, shortest_first=True)
    assert [(s.preset, s.fold, seconds) for s, _, seconds in rows] == [
        ("CNN-RNN", 0, 100),
        ("CNN-RNN", 1, 100),
        ("STSRN", 0, 120),
        ("STSRN", 1, 300),
    ]
    assert text.splitlines()[1].startswith("  ilids-vid CNN-RNN fold 0: 100 of 100 epochs")


def test_a_dry_run_prices_what_it_has_data_for_and_generates_nothing(monkeypatch, tmp_path):
    from stsrn_lite.book import estimate

    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    session = setup("bench")
    monkeypatch.setattr(estimate, "estimate_seconds", lambda _, spec, epochs, __: 60.0 * epochs)
    ready = {"ilids-vid"}  # PRID2011, which Table 4's cross-dataset test reads too, is not here
    monkeypatch.setattr(type(session), "ready", lambda _, dataset: dataset in ready)
    rows, text = plan(session, ("table1", "table2", "table4"), folds=[0], generate=False, shortest_first=True)
    priced = {(s.dataset, s.preset, s.protocols): seconds for s, _, seconds in rows}
    assert priced[("ilids-vid", "STSRN", ("two-camera", "cross-dataset"))] is None  # cross-dataset: needs PRID2011
    assert priced[("mars", "STSRN", ("two-camera",))] is None and priced[("prid2011", "STSRN", ("two-camera",))] is None
    assert [seconds for *_, seconds in rows][-1] is None  # unpriced runs last when the shortest come first
    assert "  mars (astpn) STSRN fold 0: 100 of 100 epochs, not priced: no mars data here yet" in text
    assert "  ilids-vid STSRN fold 0: 100 of 100 epochs, not priced: no prid2011 data here yet" in text
    assert text.endswith("(their data is generated on the first run)")
    assert not (tmp_path / "data").exists()  # nothing generated

    ready |= {"prid2011", "mars"}
    rows, text = plan(session, ("table1",), folds=[0], generate=False)
    assert {seconds for *_, seconds in rows} == {6000.0} and "not priced" not in text
    from stsrn_lite.book.profiles import data_ready

    assert not data_ready(session.profile, "mars")  # the real check (not patched): nothing at tmp_path
    paper = setup("paper", device="cpu").profile  # real data: its folder under the data root
    (tmp_path / "reid" / "ilids-vid").mkdir(parents=True)
    assert data_ready(paper, "ilids-vid", tmp_path / "reid") and not data_ready(paper, "mars", tmp_path / "reid")
    assert not data_ready(paper, "ilids-vid")


def grid(home: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "STSRN_HOME": str(home), "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    command = [sys.executable, "-m", "stsrn_lite.grid", "--profile", "smoke", "--epochs", "1", "--tables", "1"]
    command += ["--datasets", "prid2011", "--folds", "0", "--threads", "1", *extra]  # no other table tests them
    return subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO, timeout=900)


def test_a_two_run_grid_gives_the_same_results_locally_and_on_ray_side_by_side_or_alone(tmp_path):
    pytest.importorskip("ray")
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    planned = grid(local, "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert "2 runs, 2 still to train or test" in planned.stdout and "total: about" in planned.stdout
    done = grid(local, "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("done   prid2011") == 2
    (on_ray / "data").mkdir(parents=True)
    (on_ray / "data" / "synthetic").symlink_to(local / "data" / "synthetic")  # the same data, its own runs
    # the local runs shared the machine two at a time (several runs per device, as on a GPU), the
    # Ray ones ran one after another: the same records, bit for bit
    done = grid(on_ray, "--ray", "local", "--workers", "1")
    assert done.returncode == 0, done.stderr + done.stdout
    assert done.stdout.count("done   prid2011") == 2
    keys = ("epoch", "loss", "rank1", "mAP")
    runs = sorted(p for p in (local / "runs" / "partial" / "smoke").iterdir() if p.is_dir())
    assert len(runs) == 2
    for folder in runs:
        ours = [{k: r[k] for k in keys} for r in read_records(folder / "records.csv")]
        theirs = [
            {k: r[k] for k in keys}
            for r in read_records(on_ray / "runs" / "partial" / "smoke" / folder.name / "records.csv")
        ]
        assert ours == theirs and len(ours) == 1  # one epoch: trained, then tested
    again = grid(local, "--dry-run")
    assert "0 still to train or test" in again.stdout  # finished runs are not trained again


def test_side_by_side_a_run_held_elsewhere_is_put_off_until_the_others_are_done(tmp_path, monkeypatch):
    from stsrn_lite import atomic
    from stsrn_lite.book import grid

    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    session = setup("smoke")
    specs = [entry.run for entry in table_runs("table1", session, ["ilids-vid"])]
    assert len(specs) == 2
    specs.append(replace(specs[0], dataset="prid2011"))
    order = []
    monkeypatch.setattr(grid, "execute", lambda session, spec, progress=False: order.append(spec) or spec.name)
    names = [spec.name for spec in specs]
    assert grid.execute_all(session, specs) == names and order == specs  # nothing held: in order
    order.clear()
    first = run_folder(session, specs[0].dataset, specs[0].preset, specs[0].fold, recipe=specs[0].recipe)
    with atomic.locked(first):  # another chapter is training the first run
        assert grid.execute_all(session, specs) == names  # outcomes in the order asked
    assert order == [specs[1], specs[2], specs[0]]  # the held one last, waited for once nothing else was left


def test_each_run_has_its_own_name_in_the_progress_lines():
    session = setup("bench", device="cpu")
    runs = grid_runs(session, ("table1", "readings"), folds=[0])
    names = [spec.name for spec in runs]
    assert len(set(names)) == len(names) == 4 + len(SENSITIVITY)  # Table 1's four, and each reading once more
    assert "ilids-vid STSRN [flow=original] fold 0" in names and "prid2011 CNN-RNN fold 0" in names


def test_a_runs_estimate_counts_its_studies(monkeypatch):
    from stsrn_lite.book import estimate

    monkeypatch.setattr(estimate, "_sizes", lambda session, spec, protocol: (150, 1000))  # 1,000 test frames
    monkeypatch.setattr(estimate, "step_seconds", lambda *args: 0.0)
    monkeypatch.setattr(estimate, "test_fps", lambda *args: 100.0)
    session = setup("smoke")  # one test pass
    spec = next(s for s in grid_runs(session, ("table6",)) if s.studies)
    alone = estimate.estimate_seconds(session, replace(spec, studies=()), 0, 1)
    assert alone == pytest.approx(10.0)  # the final test: 1,000 frames at 100 a second
    # the occlusion study: a test on each of the 4 shares, the gate on the 3 with occluded frames
    assert estimate.estimate_seconds(session, spec, 0, 1) == pytest.approx(10.0 + 70.0)


def test_a_worker_refuses_runs_once_its_grid_has_stopped(monkeypatch):
    from stsrn_lite.book import grid

    spec = grid.GridRun("ilids-vid", "STSRN", 0, 1, None)
    monkeypatch.setattr(grid, "_GRID", os.getppid() + 1)  # a grid that is not this process's parent
    with pytest.raises(grid.GridStopped, match="not started, the grid"):
        grid._work({"profile": "smoke"}, spec, 1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the death signal is Linux's prctl")
def test_a_worker_gets_sigterm_when_its_grid_dies():
    code = (
        "import ctypes, os, signal\n"
        "from stsrn_lite.book import grid\n"
        "grid._join_grid(os.getppid())\n"
        "found = ctypes.c_int()\n"
        "ctypes.CDLL(None).prctl(2, ctypes.byref(found), 0, 0, 0)  # PR_GET_PDEATHSIG\n"
        "assert found.value == signal.SIGTERM, found.value\n"
        "assert grid._GRID == os.getppid()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a process's parent changes when it dies")
def test_a_worker_ends_after_its_grid_has_gone(tmp_path):
    # the grid: a process that starts a worker and exits; the worker must not outlive it for long
    worker = (
        "import os, sys, time\n"
        "from stsrn_lite.book import grid\n"
        "grid.ORPHAN_GRACE = 0.5\n"
        "grid._join_grid(os.getppid())\n"
        "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)  # as if busy in a test\n"
        f"open({str(tmp_path / 'pid')!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(60)\n"
    )
    parent = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {worker!r}])\n"
        f"while not __import__('os').path.exists({str(tmp_path / 'pid')!r}): time.sleep(0.1)\n"
    )
    subprocess.run([sys.executable, "-c", parent], check=True, timeout=120)
    pid = int((tmp_path / "pid").read_text())
    for _ in range(100):  # the worker notices within a second or two, waits its grace, and ends
        if not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"worker {pid} still alive 10 s after its grid ended")


def test_a_worker_whose_run_was_stopped_takes_no_more_runs(monkeypatch):
    from stsrn_lite.book import grid
    from stsrn_lite.training.loop import TrainingInterrupted

    def stopped(session, spec):
        raise TrainingInterrupted("stopped on request")

    monkeypatch.setattr(grid, "execute", stopped)
    monkeypatch.setattr(grid, "_GRID", os.getppid())  # a pool worker of a grid that still runs
    monkeypatch.setattr(grid, "_STOPPED", False)
    spec = grid.GridRun("ilids-vid", "STSRN", 0, 1, None)
    with pytest.raises(TrainingInterrupted):
        grid._work({"profile": "smoke"}, spec, 1)
    with pytest.raises(grid.GridStopped, match="last run was stopped on request"):
        grid._work({"profile": "smoke"}, replace(spec, fold=1), 1)


def test_generating_a_profiles_data_refuses_the_real_data_profile(capsys):
    from stsrn_lite.book.profiles import main

    assert main(["--generate", "paper"]) == 2
    assert capsys.readouterr().err == "error: the paper profile reads the real datasets; it has nothing to generate\n"
    with pytest.raises(SystemExit):
        main(["--generate", "nonsense"])
