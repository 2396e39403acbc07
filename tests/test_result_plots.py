"""Display helpers of the result chapters (stsrn_lite.book.tables, curves, pairs): tidy rows against hand-made
values, the paper's tables as rows, the side-by-side table's cells, headers, notes and column order,
the plotted CMC and epoch curves against hand averages, the dot plots' paper values and fold means,
and every figure drawn without error on Agg."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from stsrn_lite.book.curves import (  # noqa: E402
    cmc_long,
    over_epochs,
    plot_cmc,
    plot_losses,
    plot_over_epochs,
    plot_versus_paper,
    versus_paper,
)
from stsrn_lite.book.pairs import pair_table, plot_pair_crops  # noqa: E402
from stsrn_lite.book.paper import RANKS, TABLE_1, TABLE_4, TABLE_6, TABLE_6_RANKS  # noqa: E402
from stsrn_lite.book.profiles import eval_interval  # noqa: E402
from stsrn_lite.book.tables import (
    BEYOND_GALLERY,
    CMC_RANKS,
    MISSING,
    fold_summary,
    label_from_provenance,
    mean_std,
    metric_name,
    other_profiles,
    ours_sources,
    paper_rows,
    result_row,
    short_label,
    side_by_side,
    sources_note,
)  # noqa: E402
from stsrn_lite.training.pairs import EpochPlan  # noqa: E402


def row(dataset: str, preset: str, fold: int, rank1: float, *, as_text: bool = False) -> dict:
    """A result row whose CMC climbs from rank1 by one point per rank (capped at 100)."""
    cmc = np.minimum(np.arange(20) + rank1, 100) / 100
    out = result_row(dataset, preset, fold, cmc, rank1 / 200)
    return {k: str(v) for k, v in out.items()} if as_text else out


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_eval_interval():
    assert eval_interval(4) == 1
    assert eval_interval(50) == 1
    assert eval_interval(1000) == 20
    assert eval_interval(1000, points=10) == 100
    with pytest.raises(ValueError):
        eval_interval(0)


def test_result_row_in_percent():
    cmc = np.linspace(0.05, 1.0, 20)
    out = result_row("ilids-vid", "STSRN", 3, cmc, 0.123456, extra="x")
    assert list(out)[:4] == ["dataset", "preset", "fold", "extra"]
    assert [out[k] for k in CMC_RANKS] == [round(100 * c, 2) for c in cmc]
    assert out["rank1"] == 5.0 and out["rank20"] == 100.0 and out["mAP"] == 12.35
    with pytest.raises(ValueError, match="at least 20"):
        result_row("ilids-vid", "STSRN", 0, cmc[:10], 0.5)


def test_paper_rows_of_the_three_table_shapes():
    rows = paper_rows(TABLE_1, RANKS, presets=["STSRN", "CNN-RNN"])
    assert [(r["dataset"], r["preset"]) for r in rows] == [
        ("ilids-vid", "STSRN"),
        ("prid2011", "STSRN"),
        ("ilids-vid", "CNN-RNN"),
        ("prid2011", "CNN-RNN"),
    ]
    assert rows[0]["rank1"] == 70.0 and rows[1]["rank20"] == 99.0
    rows4 = paper_rows(TABLE_4, RANKS, dataset="prid2011")
    assert [r["preset"] for r in rows4] == list(TABLE_4) and rows4[2]["rank10"] is None
    assert len(paper_rows(TABLE_6, TABLE_6_RANKS)) == 12
    with pytest.raises(ValueError, match="dataset="):
        paper_rows(TABLE_4, RANKS)
    with pytest.raises(KeyError):
        paper_rows(TABLE_1, RANKS, presets=["nobody"])
    with pytest.raises(ValueError, match="3 values for 4 ranks"):
        paper_rows(TABLE_6, RANKS)


def test_mean_std():
    assert mean_std([50.0]) == "50.0"
    assert mean_std([50.0, 60.0]) == "55.0 ± 7.1"  # sample std: sqrt(50)
    assert mean_std([50.0, float("nan")]) == "50.0"
    assert mean_std([]) == MISSING and mean_std([None]) == MISSING
    assert metric_name("rank5") == "R5" and metric_name("mAP") == "mAP"


def test_labels_and_column_order():
    meta = {"profile": "full", "data": "synthetic benchmark, real datasets' sizes", "device": "NVIDIA H100"}
    assert label_from_provenance("full", meta) == "ours (full: synthetic benchmark, real datasets' sizes; NVIDIA H100)"
    assert label_from_provenance("smoke", {"data": "d", "device": "cpu (2 threads)"}) == "ours (smoke: d; CPU)"
    assert other_profiles("smoke") == ("bench", "full", "paper")
    with pytest.raises(ValueError):
        other_profiles("huge")
    loaded = {
        "paper": ([row("ilids-vid", "STSRN", 0, 60)], {"data": "the real datasets", "device": "GPU X"}),
        "smoke": ([row("ilids-vid", "STSRN", f, 30) for f in range(2)], {"data": "tiny", "device": "cpu (2 threads)"}),
    }
    live = [row("ilids-vid", "STSRN", 0, 50)]
    columns, notes = ours_sources("full", "live data; GPU Y", live, loaded)
    assert list(columns) == ["ours · smoke", "ours · full", "ours · paper"] == list(notes)
    assert columns["ours · full"] is live and short_label("full") == "ours · full"
    assert notes == {
        "ours · smoke": "tiny; CPU; 2 folds",
        "ours · full": "live data; GPU Y; 1 fold",
        "ours · paper": "the real datasets; GPU X; 1 fold",
    }
    assert list(ours_sources("smoke", "d", [], {})[0]) == ["ours · smoke"]


def test_a_note_and_a_label_say_how_the_rows_trained():
    from stsrn_lite.book import experiments
    from stsrn_lite.book.tables import recipe_text, training_from_provenance

    trained = [{**row("ilids-vid", "STSRN", f, 80), "recipe": "fast-stable"} for f in range(3)]
    retried = {**row("ilids-vid", "CNN-RNN", 0, 80), "recipe": "fast-stable"}
    floor = {**row("ilids-vid", "chance", 0, 1), "recipe": ""}
    mixed = [*trained[:2], {**trained[2], "recipe": "fast"}, retried, floor]
    assert recipe_text(mixed) == "fast-stable recipe" and recipe_text([floor]) == ""
    assert recipe_text(trained, epochs=100) == "fast-stable recipe, 100 epochs"
    tie = [retried, {**row("ilids-vid", "STSRN", 0, 80), "recipe": "fast"}, floor]  # a retry is not the recipe
    assert recipe_text(tie) == recipe_text(tie[::-1]) == "fast recipe"
    meta = {"data": "bench data", "device": "cpu (1 threads)", "epochs": 100, "folds": 3,
            "recipe": experiments.recipe("fast-stable")}  # fmt: skip
    assert training_from_provenance(meta) == "fast-stable recipe, 100 epochs, 3 folds"
    assert training_from_provenance({**meta, "recipe": experiments.recipe()}).startswith("faithful recipe, ")
    label = "ours (bench: bench data; fast-stable recipe, 100 epochs, 3 folds; CPU)"
    assert label_from_provenance("bench", meta) == label
    assert training_from_provenance({**meta, "recipe": "none"}) == ""  # a table that trains nothing
    assert label_from_provenance("bench", {**meta, "recipe": "none"}) == "ours (bench: bench data; CPU)"
    _, notes = ours_sources("smoke", "live; CPU", trained, {"bench": (trained, meta)})
    assert notes == {
        "ours · smoke": "live; CPU; fast-stable recipe; 3 folds",
        "ours · bench": "bench data; CPU; fast-stable recipe, 100 epochs; 3 folds",
    }


def test_sources_note():
    note = sources_note({"ours · smoke": "tiny; CPU; 1 fold"}, paper="Table 1, real data", cells="mean ± sd")
    assert note == "**paper**: Table 1, real data. **ours · smoke**: tiny; CPU; 1 fold. Cells: mean ± sd."
    assert sources_note({"ours · full": "x"}) == "**ours · full**: x."


def test_fold_summary():
    rows = [row("ilids-vid", "STSRN", 0, 50), row("ilids-vid", "STSRN", 1, 60), row("prid2011", "STSRN", 0, 80)]
    table = fold_summary(rows, ["rank1", "mAP"])
    assert table.loc[("iLIDS-VID", "STSRN")].tolist() == ["55.0 ± 7.1", "27.5 ± 3.5", 2]
    assert table.loc[("PRID2011", "STSRN")].tolist() == ["80.0", "40.0", 1]


def test_side_by_side_cells():
    paper = paper_rows(TABLE_4, RANKS, presets=["STSRN", "TRL"], dataset="prid2011")
    ours = {
        "ours A": [row("prid2011", "STSRN", 0, 30), row("prid2011", "STSRN", 1, 40)],
        "ours B": [row("prid2011", "STSRN", 0, 20, as_text=True), row("prid2011", "Extra", 0, 10, as_text=True)],
    }
    table = side_by_side(paper, ours, RANKS, paper_label="paper")
    # wide: one row per model, each metric's sources side by side
    assert list(table.columns)[:3] == [("R1", "paper"), ("R1", "ours A"), ("R1", "ours B")]
    assert table.index.names == ["dataset", "model"] and table.columns.names == ["metric", "source"]
    assert table.loc[("PRID2011", "STSRN"), "R1"].tolist() == ["32.0", "35.0 ± 7.1", "20.0"]
    assert table.loc[("PRID2011", "STSRN"), "R20"].tolist() == ["90.0", "54.0 ± 7.1", "39.0"]
    assert table.loc[("PRID2011", "TRL"), "R10"].tolist() == [MISSING, MISSING, MISSING]  # the paper's "-"
    assert table.loc[("PRID2011", "Extra"), "R5"].tolist() == [MISSING, MISSING, "14.0"]
    assert [m for _, m in table.index] == ["STSRN", "TRL", "Extra"]  # the paper's rows first
    with pytest.raises(ValueError, match="labelled"):
        side_by_side(paper, {"paper": ours["ours A"]}, RANKS, paper_label="paper")


def test_ranks_at_or_above_a_sources_gallery_are_not_shown():
    small = [{**row("ilids-vid", "STSRN", 0, 30), "gallery": 10}, {**row("ilids-vid", "STSRN", 1, 40), "gallery": 10}]
    large = [{**row("ilids-vid", "STSRN", 0, 30, as_text=True), "gallery": "150"}]
    table = side_by_side([], {"small": small, "large": large, "unsaid": [row("ilids-vid", "STSRN", 0, 30)]}, RANKS)
    assert table.loc[("iLIDS-VID", "STSRN"), "R5"].tolist() == [MISSING, "39.0 ± 7.1", "34.0", "34.0"]
    assert table.loc[("iLIDS-VID", "STSRN"), "R10"].tolist() == [MISSING, BEYOND_GALLERY, "39.0", "39.0"]
    assert table.loc[("iLIDS-VID", "STSRN"), "R20"].tolist() == [MISSING, BEYOND_GALLERY, "49.0", "49.0"]
    assert list(side_by_side([], {"ours · smoke": small}, ["rank1"]).columns) == [("R1", "paper"), ("R1", "smoke")]
    floor = {**row("ilids-vid", "chance", 0, 10), "gallery": 10}
    summary = fold_summary([*small, row("prid2011", "STSRN", 0, 50), floor], RANKS)
    assert list(summary.index) == [("iLIDS-VID", "STSRN"), ("iLIDS-VID", "chance"), ("PRID2011", "STSRN")]
    assert summary.loc[("iLIDS-VID", "chance"), "R10"] == BEYOND_GALLERY
    assert summary.loc[("PRID2011", "STSRN"), "R20"] == "69.0"  # its rows do not say their gallery


def test_side_by_side_keeps_datasets_a_source_lacks():
    paper = paper_rows(TABLE_6, TABLE_6_RANKS, presets=["BaseModel"])
    table = side_by_side(paper, {"ours": [row("ilids-vid", "BaseModel", 0, 25)]}, TABLE_6_RANKS)
    assert table.loc[("iLIDS-VID", "BaseModel"), "R5"].tolist() == ["87.7", "29.0"]
    assert table.loc[("PRID2011", "BaseModel"), "R20"].tolist() == ["98.0", MISSING]


def test_cmc_curves_plot_the_fold_means():
    rows = [row("ilids-vid", "STSRN", 0, 50, as_text=True), row("ilids-vid", "STSRN", 1, 60)]
    long = cmc_long(rows)
    assert len(long) == 40 and sorted(set(long["rank"])) == list(range(1, 21))
    fig = plot_cmc(rows + [row("prid2011", "CNN-RNN", 0, 70)], title="t")
    assert [ax.get_title() for ax in fig.axes] == ["iLIDS-VID", "PRID2011"]
    curve = fig.axes[0].lines[0]
    assert curve.get_xdata().tolist() == list(range(1, 21))
    expected = (np.minimum(np.arange(20) + 50, 100) + np.minimum(np.arange(20) + 60, 100)) / 2
    assert np.allclose(curve.get_ydata(), expected)  # the mean of the two folds
    bands = [[len(path.vertices) for c in ax.collections for path in c.get_paths()] for ax in fig.axes]
    assert bands[0] and sum(bands[1]) == 0  # a band over two folds, none over one
    assert np.allclose(fig.axes[1].lines[0].get_ydata(), np.minimum(np.arange(20) + 70, 100))


def test_cmc_curves_stop_below_the_gallery_size():
    small = {**row("ilids-vid", "STSRN", 0, 50), "gallery": 20}  # rank 20 of 20 is 100 % by construction
    tiny = {**row("prid2011", "STSRN", 0, 50), "gallery": "8"}  # as a CSV stores it
    long = cmc_long([small, tiny, row("mars", "STSRN", 0, 50)])  # MARS: no gallery column value
    assert sorted(set(long[long["dataset"] == "ilids-vid"]["rank"])) == list(range(1, 20))
    assert sorted(set(long[long["dataset"] == "prid2011"]["rank"])) == list(range(1, 8))
    assert sorted(set(long[long["dataset"] == "mars"]["rank"])) == list(range(1, 21))
    fig = plot_cmc([small])
    assert fig.axes[0].lines[0].get_xdata().tolist() == list(range(1, 20))


def test_versus_paper_plots_the_papers_value_and_our_fold_means():
    paper = paper_rows(TABLE_1, RANKS, presets=["STSRN", "CNN-RNN"])
    ours = {
        "ours · a": [row("ilids-vid", "STSRN", 0, 50), row("ilids-vid", "STSRN", 1, 60, as_text=True)],
        "ours · b": [row("ilids-vid", "STSRN", 0, 20)],
    }
    long = versus_paper(paper, ours)
    assert long["source"].unique().tolist() == ["paper", "ours · a", "ours · b"]
    assert long.query("source == 'paper' and dataset == 'prid2011' and model == 'CNN-RNN'")["value"].tolist() == [70.0]
    fig = plot_versus_paper(paper, ours)
    ilids, prid = fig.axes
    assert [ilids.get_title(), prid.get_title()] == ["iLIDS-VID", "PRID2011"]
    points = [line for line in ilids.lines if line.get_marker() in ("D", "o") and len(line.get_xdata())]
    by_marker = {(line.get_marker(), len(line.get_xdata())): line.get_xdata().tolist() for line in points}
    assert by_marker[("D", 2)] == [TABLE_1["STSRN"]["ilids-vid"][0], TABLE_1["CNN-RNN"]["ilids-vid"][0]]
    ours_means = sorted(x for line in points if line.get_marker() == "o" for x in line.get_xdata() if x == x)
    assert ours_means == [20.0, 55.0]  # each source's mean over its folds
    folds = sorted(x for c in ilids.collections for x, _ in c.get_offsets().tolist())
    assert folds == [20.0, 50.0, 60.0]  # every fold a small point
    paper_4 = paper_rows(TABLE_4, RANKS, presets=["TRL"], dataset="prid2011")
    with pytest.raises(ValueError, match="no source"):  # TRL's rank-10 is the paper's "-", left out
        versus_paper(paper_4, {}, "rank10")


def test_over_epochs_skips_epochs_without_a_test():
    records = [
        {
            "dataset": "ilids-vid",
            "preset": "STSRN",
            "fold": "0",
            "epoch": "1",
            "rank1": "",
            "loss": "9.0",
            "verification": "2",
            "identification": "7",
        },
        {
            "dataset": "ilids-vid",
            "preset": "STSRN",
            "fold": "0",
            "epoch": "2",
            "rank1": "40.0",
            "loss": "8.0",
            "verification": "2",
            "identification": "6",
        },
        {
            "dataset": "ilids-vid",
            "preset": "STSRN",
            "fold": "1",
            "epoch": "2",
            "rank1": "50.0",
            "loss": "8.5",
            "verification": "2",
            "identification": "6.5",
        },
    ]
    table = over_epochs(records, "rank1")
    assert table[["epoch", "rank1"]].values.tolist() == [[2, 45.0]]
    curves = [line for line in plot_over_epochs(records, "rank1").axes[0].lines if len(line.get_xdata())]
    assert len(curves) == 1 and curves[0].get_ydata().tolist() == [45.0]  # the mean of the folds
    assert len([line for line in plot_losses(records).axes[0].lines if len(line.get_xdata())]) == 3


def tiny_plan() -> EpochPlan:
    two = lambda a, b: np.array([a, b])  # noqa: E731
    return EpochPlan(
        tracklets=np.array([[0, 3], [1, 2]]),
        labels=np.array([[0, 1], [0, 0]]),
        starts=np.array([[2, 0], [0, 1]]),
        lengths=np.array([[4, 3], [5, 4]]),
        tops=np.array([two(1, 8), two(4, 4)]),
        lefts=np.array([two(2, 5), two(3, 1)]),
        flips=np.array([[False, True], [False, False]]),
    )


def test_pair_table_and_crops():
    pids, camids, lengths = np.array([7, 7, 7, 9]), np.array([0, 1, 0, 1]), np.array([6, 5, 5, 3])
    table = pair_table(tiny_plan(), pids, camids, lengths, ("cam1", "cam2"), count=5)
    assert table["kind"].tolist() == ["negative", "positive"]
    assert table.loc[0, ["pid a", "camera a", "frames a", "crop a"]].tolist() == [7, "cam1", "2-5 of 6", "(1, 2)"]
    assert table.loc[0, ["pid b", "camera b", "frames b", "crop b"]].tolist() == [
        9,
        "cam2",
        "0-2 of 3",
        "(8, 5) mirrored",
    ]
    rgb = np.zeros((6, 3, 64, 48), dtype=np.uint8)
    cache = SimpleNamespace(pids=pids, camids=camids, tracklet=lambda i: (rgb, None))
    fig = plot_pair_crops(tiny_plan(), cache, [0, 1], ("cam1", "cam2"))
    assert len(fig.axes) == 4
    box = fig.axes[1].patches[0]
    assert (box.get_x(), box.get_y(), box.get_width(), box.get_height()) == (4.5, 7.5, 40, 56)


def test_fold_summary_label_heads_the_columns():
    table = fold_summary([row("ilids-vid", "STSRN", 0, 50)], ["rank1"], label="ours (x)")
    assert table.columns.tolist() == [("ours (x)", "R1"), ("ours (x)", "folds")]


def test_the_folds_note_names_the_rows_that_hold_fewer_folds():
    from stsrn_lite.book.tables import folds_text

    def row(preset, fold, **extra):
        return {"dataset": "ilids-vid", "preset": preset, "fold": fold, **extra}

    rows = [row("BaseModel", f) for f in (0, 1, 2)] + [row("STSRN", "1"), row("STSRN", "2")]  # CSV folds are strings
    assert folds_text(rows) == "3 folds (iLIDS-VID STSRN: folds 1 and 2 only)"
    assert folds_text(rows[:3]) == "3 folds" and folds_text(rows[:1]) == "1 fold" and folds_text([]) == ""
    mars = [{"dataset": "mars", "preset": "STSRN", "fold": f, "reading": "astpn"} for f in (0, 1, 2)]
    mars.append({"dataset": "mars", "preset": "STSRN", "fold": 0, "reading": "official"})
    assert folds_text(mars) == "3 folds (MARS STSRN (official): fold 0 only)"
    crossed = [row("CNN-RNN", f, trained_on="ilids-vid") for f in (0, 1)]
    crossed.append({**row("STSRN", 1, trained_on="ilids-vid"), "dataset": "prid2011"})
    assert folds_text(crossed) == "2 folds (PRID2011 STSRN (trained on iLIDS-VID): fold 1 only)"
