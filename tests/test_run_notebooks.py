"""tools/run_notebooks.py: a papermill run is normalised so that re-running gives the same bytes."""

from __future__ import annotations

import argparse
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "run_notebooks.py"
spec = importlib.util.spec_from_file_location("run_notebooks", TOOL)
run_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_notebooks)


def executed(outputs: list, papermill_metadata: dict) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    injected = nbformat.v4.new_code_cell("profile = 'smoke'")
    injected.metadata["tags"] = ["injected-parameters"]
    injected.id = "".join(filter(str.isdigit, papermill_metadata["start_time"]))  # new every run
    cell = nbformat.v4.new_code_cell("print('a'); print('b')")
    cell.id = "printing"  # the source notebook's cells keep theirs
    cell.outputs = outputs
    cell.metadata["papermill"] = papermill_metadata
    cell.metadata["execution"] = {"iopub.execute_input": papermill_metadata["start_time"]}
    nb.cells = [injected, cell]
    nb.metadata["papermill"] = {"start_time": papermill_metadata["start_time"]}
    return nb


def test_two_runs_that_differ_only_in_timing_give_the_same_bytes():
    stream = nbformat.v4.new_output
    first = executed(
        [stream("stream", name="stdout", text="a\n"), stream("stream", name="stdout", text="b\n")],
        {"start_time": "2026-11-24T05:00:00", "duration": 1.5},
    )
    second = executed(
        [stream("stream", name="stdout", text="a\nb\n")], {"start_time": "2026-11-25T09:00:00", "duration": 2.5}
    )
    texts = [
        nbformat.writes(run_notebooks.normalise(nb, {"profile": "smoke", "data_root": None})) for nb in (first, second)
    ]
    assert texts[0] == texts[1]
    nb = nbformat.reads(texts[0], as_version=4)
    assert nb.cells[0].id == "injected-parameters" and "remove-cell" in nb.cells[0].metadata["tags"]
    assert nb.cells[1].outputs[0]["text"] == "a\nb\n" and "papermill" not in nb.metadata


def test_streams_are_joined_only_when_adjacent_and_of_one_name():
    out = nbformat.v4.new_output
    outputs = [
        out("stream", name="stdout", text="a"),
        out("stream", name="stderr", text="w"),
        out("stream", name="stdout", text="b"),
        out("display_data", data={"text/plain": "x"}),
        out("stream", name="stdout", text="c"),
        out("stream", name="stdout", text="d"),
    ]
    joined = run_notebooks.coalesce_streams(outputs)
    assert [(o.get("name"), o.get("text")) for o in joined] == [
        ("stdout", "a"),
        ("stderr", "w"),
        ("stdout", "b"),
        (None, None),
        ("stdout", "cd"),
    ]


def test_only_the_default_parameters_write_the_committed_notebooks():
    assert run_notebooks.book_source({"profile": "smoke", "data_root": None}) == run_notebooks.REPO
    for parameters in (
        {"profile": "paper", "data_root": "/data"},
        {"profile": "smoke", "data_root": "/elsewhere"},
        {"profile": "smoke", "data_root": None, "epochs": 1},
        {"profile": "full", "data_root": None},
    ):
        assert run_notebooks.book_source(parameters) == run_notebooks.REPO / "_build" / parameters["profile"]


def test_a_gpu_profile_without_a_gpu_is_refused_once_before_anything_runs(monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    deleted = []
    monkeypatch.setattr(run_notebooks, "run_one", lambda *a, **k: deleted.append(a))
    assert run_notebooks.main(["--profile", "full"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "torch sees none" in err and "DEVICE=cpu" in err and not deleted
    assert run_notebooks.main(["--profile", "paper", "--device", "cpu"]) == 2
    assert "DATA_ROOT=" in capsys.readouterr().err


def test_a_relative_data_root_reaches_the_notebooks_absolute(tmp_path, monkeypatch):
    """papermill runs a notebook in notebooks/: a root relative to where make ran would be looked
    for there, after the preflight had found it."""
    for name in run_notebooks.DATASETS:
        (tmp_path / "reid" / name).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(profile="paper", data_root="reid", device="cpu", epochs=None, folds=None)
    parameters = run_notebooks.parameters_of(args)
    assert parameters["data_root"] == str(tmp_path.resolve() / "reid")
    assert run_notebooks.preflight(parameters) is None


def test_the_paper_preflight_asks_only_for_the_datasets_of_the_chapters_asked_for(tmp_path, monkeypatch, capsys):
    """It asked for all three datasets whichever chapters were asked for: a user with iLIDS-VID and
    PRID2011 could not run Table 1 without downloading MARS (about 7 GiB)."""
    for name in ("ilids-vid", "prid2011"):
        (tmp_path / name).mkdir()
    deleted = []
    monkeypatch.setattr(run_notebooks, "run_one", lambda *a, **k: deleted.append(a))
    common = ["--profile", "paper", "--device", "cpu", "--data-root", str(tmp_path), "--preflight"]
    assert run_notebooks.main([*common, "--chapters", "02,07,10,12,13,16"]) == 0
    assert run_notebooks.main([*common, "--chapters", "07,08"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no mars/ here, which chapter(s) 08 read" in err and "CHAPTERS=" in err
    assert run_notebooks.main(common) == 2  # every chapter: 01 and 08 read MARS
    assert "which chapter(s) 01, 08 read" in capsys.readouterr().err and not deleted
    (tmp_path / "ilids-vid").rmdir()
    assert run_notebooks.main([*common, "--chapters", "15"]) == 0  # the committed weights
    monkeypatch.setattr(run_notebooks, "committed", lambda dataset, preset: None)
    assert run_notebooks.main([*common, "--chapters", "15"]) == 2  # trains them on iLIDS-VID
    assert "no ilids-vid/ here, which chapter(s) 15 read" in capsys.readouterr().err
    paper = ["--profile", "paper", "--device", "cpu", "--preflight"]
    assert run_notebooks.main([*paper, "--chapters", "09,16"]) == 0  # no chapter reads data: no DATA_ROOT
    assert run_notebooks.main([*paper, "--chapters", "07"]) == 2
    assert "DATA_ROOT=<folder with ilids-vid/, prid2011/>" in capsys.readouterr().err
    stray = tmp_path / "elsewhere" / "notes.ipynb"
    assert run_notebooks.main([*common, str(stray)]) == 2  # no chapter: it may read all three
    assert "which chapter(s) notes.ipynb read" in capsys.readouterr().err


# the calls by which a chapter loads a dataset, or the runs of a table (which load theirs)
LOADERS = re.compile(
    r"(?:(?<=session\.)|(?<![.\w]))(root|run_data|load_run_data|read_dataset|prepare|dataset_root|floor_rows"
    r"|fold_floors|table_runs|default_datasets|plan|run|execute)\(([^()]*(?:\([^()]*\)[^()]*)*)\)"
)
DATASET = re.compile(r'"(ilids-vid|prid2011|mars)"')


def chapter_code(number: str) -> str:
    (text,) = [p.read_text() for p in run_notebooks.NOTEBOOKS.glob(f"{number}_*.md")]
    return "\n".join(re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", text, flags=re.S))


def test_the_preflight_knows_every_dataset_a_chapter_reads(monkeypatch):
    """`READS` is a list kept by hand. Against each chapter's code, on the paper profile: a chapter
    names no dataset it does not list (the summaries read stored results and load nothing), one that
    loops over the package's `DATASETS` lists all three, and the tables whose runs it asks for
    are its tables."""
    numbers = {p.name[:2] for p in run_notebooks.chapter_paths(None, [])}
    assert set(run_notebooks.READS) == numbers
    listed = {item for items in run_notebooks.READS.values() for item in items}
    assert listed <= set(run_notebooks.DATASETS) | set(run_notebooks.TABLES)
    monkeypatch.setattr(run_notebooks, "committed", lambda dataset, preset: None)  # 15 trains
    paper = run_notebooks.get_profile("paper")
    for number in sorted(numbers):
        code = chapter_code(number)
        calls = LOADERS.findall(code)
        reads = set(run_notebooks.chapter_datasets(number, paper))
        if number in run_notebooks.SUMMARIES:
            assert not calls and not reads, f"chapter {number}: {calls[:1]}"
            continue
        named = set(DATASET.findall(code))
        assert named <= reads, f"chapter {number} names {named - reads}, which READS does not list"
        if "from stsrn_lite.data.read import DATASETS" in code:
            assert reads == set(run_notebooks.DATASETS), f"chapter {number} loops over every dataset"
        for function, arguments in calls:
            tables = set(re.findall(r'"(table\d)"', arguments))
            if tables and not DATASET.search(arguments):  # a table's own datasets
                assert tables <= set(run_notebooks.READS[number]), f"chapter {number}: {function}({arguments})"
        assert reads or not calls, f"chapter {number} loads data ({calls[0][0]}) but READS lists none"
    assert [f for f, _ in LOADERS.findall(chapter_code("13"))] == ["run_data"]  # session.run_data(...) is seen
    # chapter 15 reads iLIDS-VID only to train the weights that are not committed
    fifteen = chapter_code("15")
    assert fifteen.index("if weights is None:") < fifteen.index('table_runs("table1", session, ["ilids-vid"])')
    # the README and the introduction's Colab steps name the chapters that need MARS
    monkeypatch.undo()
    mars = [n for n in sorted(numbers) if "mars" in run_notebooks.chapter_datasets(n, paper)]
    assert mars == ["01", "08"]
    readme, introduction = (
        " ".join(p.read_text().split())
        for p in (run_notebooks.REPO / "README.md", run_notebooks.NOTEBOOKS / "00_introduction.md")
    )
    assert "chapters 01 and 08 need `mars/`" in readme and "only chapters 01 and 08 read MARS" in introduction
    assert run_notebooks.chapter_datasets("99", paper) == run_notebooks.DATASETS  # not listed: all


def test_chapters_choose_notebooks_and_unknown_ones_are_refused(capsys):
    chosen = run_notebooks.chapter_paths("7,12", [])
    assert [p.name[:2] for p in chosen] == ["07", "12"]
    assert run_notebooks.main(["--chapters", "99"]) == 2
    assert "no chapter 99" in capsys.readouterr().err


def test_the_summaries_run_after_the_chapters_whose_results_they_show():
    """The introduction's verdicts read the results the table chapters store: executed first, it
    showed the previous build's (nbval then failed on a fresh clone)."""
    every = [p.name[:2] for p in run_notebooks.chapter_paths(None, [])]
    assert every[-2:] == ["00", "16"] and every[:-2] == sorted(every[:-2]) and "07" in every
    assert [p.name[:2] for p in run_notebooks.chapter_paths("0,7,12", [])] == ["07", "12", "00"]
    named = [Path("notebooks/00_introduction.ipynb"), Path("notebooks/07_table1.ipynb")]
    assert run_notebooks.chapter_paths(None, named) == named[::-1]


def test_side_by_side_the_costliest_chapters_start_first_and_the_summaries_still_end(capsys):
    """Executed two at a time in file order (or pytest-xdist's, by number of cells), chapters 11
    and 12, which train the most, ran on one worker while the other sat idle for ten minutes."""
    order = [p.name[:2] for p in run_notebooks.costliest_first(run_notebooks.chapter_paths(None, []))]
    assert order[: len(run_notebooks.COSTLIEST)] == list(run_notebooks.COSTLIEST) and order[-2:] == ["00", "16"]
    rest = order[len(run_notebooks.COSTLIEST) : -2]
    assert rest == sorted(rest) and sorted(order) == sorted(p.name[:2] for p in run_notebooks.NOTEBOOKS.glob("*.ipynb"))
    assert run_notebooks.main(["--nbval-order"]) == 0
    printed = capsys.readouterr().out.split()
    assert [Path(p).name[:2] for p in printed] == order and all((run_notebooks.REPO / p).is_file() for p in printed)
    assert set(run_notebooks.COSTLIEST) <= set(order)  # every one of them is a chapter


def test_another_profiles_book_is_built_from_its_own_copies(tmp_path):
    """The executed copies and the book source land under _build/<profile>/; notebooks/ is untouched."""
    source = tmp_path / "_build" / "full"
    (source / "notebooks").mkdir(parents=True)
    for name in ("00_introduction", "07_table1"):
        (source / "notebooks" / f"{name}.ipynb").write_text("{}")
    run_notebooks.write_book_source(source)
    import yaml

    toc = yaml.safe_load((source / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert toc["root"] == "notebooks/00_introduction" and "notebooks/07_table1" in files
    assert "notebooks/08_table2" not in files and "book/design_decisions" in files
    assert (source / "stsrn_lite" / "model" / "stsm.py").is_file()  # literalinclude targets
    assert "(full profile)" in (source / "_config.yml").read_text()


def test_notebooks_run_side_by_side_and_the_summaries_only_after_all_the_others(monkeypatch, capsys):
    """`--workers 2`: two chapters at once, and the introduction and the report start only when
    every chapter whose results they read has ended."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    events, lock, running, most = [], threading.Lock(), [0], [0]

    def fake_run_one(path, parameters, into=None):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            events.append(("start", path.name[:2]))
        time.sleep(0.05)
        with lock:
            running[0] -= 1
            events.append(("end", path.name[:2]))
        return path.name[:2] != "09", 0.05, "" if path.name[:2] != "09" else "boom"

    monkeypatch.setattr(run_notebooks, "run_one", fake_run_one)
    monkeypatch.setattr(run_notebooks, "ProcessPoolExecutor", lambda n, mp_context: ThreadPoolExecutor(n))
    paths = run_notebooks.chapter_paths(None, [])
    failures = run_notebooks.run_all(paths, {"profile": "smoke"}, None, 2)
    assert failures == ["09_table3.ipynb"] and "FAILED 09_table3.ipynb (0 s): boom" in capsys.readouterr().out
    assert most[0] == 2
    first_summary = min(i for i, (kind, name) in enumerate(events) if kind == "start" and name in ("00", "16"))
    chapters_ended = [i for i, (kind, name) in enumerate(events) if kind == "end" and name not in ("00", "16")]
    assert len(chapters_ended) == len(paths) - 2 and max(chapters_ended) < first_summary


def test_workers_are_a_count_or_auto_and_the_kernels_run_on_the_sessions_threads(capsys):
    import os

    from stsrn_lite.book.session import CPU_THREADS

    assert run_notebooks.workers("auto") == len(os.sched_getaffinity(0))
    assert run_notebooks.workers("0") == run_notebooks.workers("1") == 1 and run_notebooks.workers("3") == 3
    for bad in ("-1", "two"):
        with pytest.raises(argparse.ArgumentTypeError):
            run_notebooks.workers(bad)
    assert run_notebooks.main(["--kernel-env"]) == 0
    printed = dict(pair.split("=", 1) for pair in capsys.readouterr().out.split())
    assert printed == run_notebooks.KERNEL_ENV and printed["OMP_NUM_THREADS"] == str(CPU_THREADS)


CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 167
flags\t\t: fpu sse sse2 sse4_1 avx avx2 fma avx512f amx_tile

processor\t: 1
vendor_id\t: AuthenticAMD
"""


def test_the_cpu_signature_holds_what_decides_the_last_bits():
    signature = run_notebooks.cpu_signature(CPUINFO)
    assert {k: signature[k] for k in ("vendor", "family", "model")} == {
        "vendor": "GenuineIntel",
        "family": "6",
        "model": "167",
    }  # the first processor's
    assert signature["isa"] == ["sse4_1", "avx", "avx2", "fma", "avx512f", "amx_tile"]  # in ISA_FLAGS' order
    assert signature["torch_capability"] and run_notebooks.cpu_signature() == run_notebooks.cpu_signature()


def test_nbval_compares_outputs_only_on_the_cpu_that_executed_the_notebooks(tmp_path, monkeypatch, capsys):
    stamp = tmp_path / "cpu.json"
    # torch's capability is this machine's, whatever CPUINFO says: fix it, so that `other` differs here too
    here = {**run_notebooks.cpu_signature(CPUINFO), "torch_capability": "AVX512"}
    other = {**here, "isa": here["isa"][:3], "torch_capability": "AVX2"}
    assert run_notebooks.nbval_mode(stamp, here)[0] == "--nbval-lax"  # no stamp: unknown
    monkeypatch.setattr(run_notebooks, "cpu_signature", lambda: here)
    run_notebooks.stamp_cpu(everything=True, stamp=stamp)
    assert run_notebooks.nbval_mode(stamp, here) == ("--nbval", None)
    option, why = run_notebooks.nbval_mode(stamp, other)
    assert option == "--nbval-lax" and "another CPU" in why and "torch AVX512" in why and "torch AVX2" in why
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(run_notebooks, "cpu_signature", lambda: other)
    run_notebooks.stamp_cpu(everything=False, stamp=stamp)  # some chapters executed on another CPU
    assert "executed on another CPU" in capsys.readouterr().err
    assert run_notebooks.nbval_mode(stamp, other) == ("--nbval", None)
    monkeypatch.setattr(run_notebooks, "CPU_STAMP", stamp)
    assert run_notebooks.main(["--nbval-mode"]) == 0
    assert capsys.readouterr().out == "--nbval\n"
