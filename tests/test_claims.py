"""The paper's claims tested on result rows (stsrn_lite.book.claims): paired by fold, a t interval
of the mean difference, and a verdict that follows the interval."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from stsrn_lite.book.claims import CLAIMS, assess, interval, report, verdict, verdict_table

REPO = Path(__file__).resolve().parents[1]


def rows(preset, values, dataset="ilids-vid", **extra):
    return [{"dataset": dataset, "preset": preset, "fold": k, "rank1": v, **extra} for k, v in enumerate(values)]


def one(table, claim):
    return next(r for r in assess(table) if r["claim"] == claim)


def test_the_interval_is_students_t_of_the_mean():
    mean, low, high = interval([5.0, 6.0, 7.0])
    half = 4.302652729911275 / math.sqrt(3)  # t_{0.975, 2} · sd (1) / √3
    assert mean == 6.0 and low == pytest.approx(6.0 - half) and high == pytest.approx(6.0 + half)
    mean, low, high = interval([3.0])
    assert mean == 3.0 and math.isnan(low) and math.isnan(high)


def test_the_verdict_follows_the_interval():
    assert verdict(0.5, 2.0) == "supported" and verdict(-2.0, -0.1) == "contradicted"
    assert verdict(-1.0, 1.0) == "inconclusive"


def test_rows_are_paired_by_fold_and_judged():
    table = {"table1": rows("STSRN", [60, 70, 80]) + rows("CNN-RNN", [50, 61, 69])}
    row = one(table, "stsrn")
    assert (row["folds"], row["better"], row["worse"], row["effect"]) == (3, 70.0, 60.0, 10.0)
    assert row["verdict"] == "supported"
    table = {"table1": rows("STSRN", [50, 61, 69]) + rows("CNN-RNN", [60, 70, 80])}
    assert one(table, "stsrn")["verdict"] == "contradicted"
    table = {"table1": rows("STSRN", [60, 50, 80]) + rows("CNN-RNN", [50, 60, 79])}
    assert one(table, "stsrn")["verdict"] == "inconclusive"
    # a consistent effect on one fold is still inconclusive: there is no interval
    table = {"table1": rows("STSRN", [90]) + rows("CNN-RNN", [10])}
    assert one(table, "stsrn")["verdict"] == "inconclusive"


def test_only_shared_folds_and_the_right_training_set_count():
    table = {"table1": rows("STSRN", [60, 70, 80, 99]) + rows("CNN-RNN", [50, 60, 70])}
    assert one(table, "stsrn")["folds"] == 3  # fold 3 has no CNN-RNN
    cross = rows("STSRN", [40, 42], "prid2011", trained_on="ilids-vid") + rows(
        "CNN-RNN", [30, 31], "prid2011", trained_on="ilids-vid"
    )
    own = rows("STSRN", [10, 10], "prid2011", trained_on="prid2011") + rows(
        "CNN-RNN", [90, 90], "prid2011", trained_on="prid2011"
    )
    row = one({"table4": cross + own}, "cross")
    assert (row["better"], row["worse"]) == (41.0, 30.5)  # the PRID2011-trained rows are left out
    assert assess({"table4": own}) == []


def test_every_claim_names_rows_its_table_has():
    from stsrn_lite.book.grid import MODELS, TABLE_5, TABLE_6_ROWS

    rows_of = {"table1": MODELS, "table2": MODELS, "table4": MODELS, "table5": TABLE_5, "table6": TABLE_6_ROWS}
    rows_of["fig5"] = TABLE_6_ROWS  # Fig. 5 plots Table 6's runs
    for claim in CLAIMS:
        assert {claim.better, claim.worse} <= set(rows_of[claim.table]), claim.key


def test_the_verdict_table_judges_each_source_with_its_interval():
    sources = {
        "ours · bench": rows("STSRN", [60, 70, 80]) + rows("CNN-RNN", [50, 61, 69]),
        "ours · smoke": rows("STSRN", [30]) + rows("CNN-RNN", [35]),
        "no pair": rows("STSRN", [30]),
    }
    table = verdict_table("table1", sources)
    effect = next(c for c in table.columns if c.startswith("effect"))
    bench = table.xs("ours · bench", level="source").iloc[0]
    assert bench["verdict"] == "supported" and bench["folds"] == 3 and bench[effect].startswith("+10.0 [+")
    smoke = table.xs("ours · smoke", level="source").iloc[0]
    assert (smoke["verdict"], smoke[effect]) == ("inconclusive", "-5.0")  # one fold: no interval
    assert "no pair" not in table.index.get_level_values("source")
    assert verdict_table("table6", sources).empty


def test_the_report_sets_the_papers_effect_beside_each_profiles_verdict():
    stored = {
        "bench": {"table1": rows("STSRN", [60, 70, 80]) + rows("CNN-RNN", [50, 61, 69])},
        "smoke": {"table1": rows("STSRN", [30]) + rows("CNN-RNN", [35])},
    }
    table = report(stored)
    line = table.loc[("STSRN beats the CNN-RNN (Table 1)", "iLIDS-VID")]
    assert line["paper (rank-1 points)"] == "+12.0 (70 vs 58)"  # Table 1's rank-1 on iLIDS-VID
    assert line["bench: verdict"] == "supported" and line["bench: effect"].startswith("+10.0 [")
    assert (line["smoke: effect"], line["smoke: verdict"]) == ("-5.0, 1 fold", "inconclusive")
    assert table.loc[("STSRN beats the CNN-RNN (Table 1)", "PRID2011"), "status"] == "not run yet"
    assert line["status"] == "synthetic, bench: supported (3 folds)"  # the strongest source that judged it
    assert all(len(cell) <= 50 for cell in table["status"])  # pandas shows 50 characters of a cell
    cross = [index for index in table.index if index[0].startswith("STSRN generalises")]
    assert cross == [(cross[0][0], "PRID2011")]  # Table 4 tests on PRID2011 only
    assert len(table) == 2 * len(CLAIMS) - 3  # Table 2 on MARS, Table 4 on PRID2011, Fig. 5 on iLIDS-VID alone


def test_the_mars_claim_reads_the_papers_reading_of_mars_alone():
    astpn = rows("STSRN", [40, 45], "mars", reading="astpn") + rows("CNN-RNN", [30, 33], "mars", reading="astpn")
    official = rows("STSRN", [10], "mars", reading="official") + rows("CNN-RNN", [90], "mars", reading="official")
    row = one({"table2": astpn + official}, "mars")
    assert (row["folds"], row["effect"]) == (2, 11.0)  # fold 0 of the official reading left out
    assert assess({"table2": official}) == []
    claim = "STSRN beats the CNN-RNN on MARS (ASTPN's reading) (Table 2)"
    line = report({"bench": {"table2": astpn}}).loc[(claim, "MARS")]
    assert line["paper (rank-1 points)"] == "+36.7 (76.7 vs 40)" and line["bench: effect"].startswith("+11.0 [")


def test_a_fold_whose_row_was_trained_again_is_named_beside_the_verdict():
    stsrn = rows("STSRN", [60, 70, 80], recipe="fast")
    stsrn[2]["recipe"] = "fast-stable"  # fold 2 diverged with the fast recipe and was trained again
    sources = {"ours · bench": stsrn + rows("CNN-RNN", [50, 61, 69], recipe="fast")}
    assert one({"table1": sources["ours · bench"]}, "stsrn")["retried"] == [(2, "STSRN", "fast-stable")]
    table = verdict_table("table1", sources)
    assert table.iloc[0]["trained again"] == "fold 2: STSRN fast-stable"
    assert "trained again" not in verdict_table("table1", {"ours": rows("STSRN", [1, 2]) + rows("CNN-RNN", [0, 1])})
    line = report({"bench": {"table1": sources["ours · bench"]}}).loc[
        ("STSRN beats the CNN-RNN (Table 1)", "iLIDS-VID")
    ]
    assert line["bench: effect"].endswith(", 3 folds (fold 2: STSRN fast-stable after a divergence)")


def test_a_table_trained_with_the_fallback_recipe_from_the_start_has_no_retries():
    from stsrn_lite.book.tables import retry_text

    table = rows("STSRN", [60, 70, 80], recipe="fast-stable") + rows("CNN-RNN", [50, 61, 69], recipe="fast-stable")
    assert one({"table1": table}, "stsrn")["retried"] == []
    assert "trained again" not in verdict_table("table1", {"ours · bench": table})
    assert retry_text(table) == ""
    assert "after a divergence" not in report({"bench": {"table1": table}}).iloc[0]["bench: effect"]


def test_the_depth_claim_is_judged_at_rank_20_where_the_gallery_is_larger():
    def ranked(preset, rank1s, rank20s, gallery):
        return [
            {"dataset": "ilids-vid", "preset": preset, "fold": k, "rank1": a, "rank20": b, "gallery": str(gallery)}
            for k, (a, b) in enumerate(zip(rank1s, rank20s))
        ]

    # DoubleResBlocks is below TripleResBlocks at rank-1 and above it at rank-20
    bench = ranked("DoubleResBlocks", [60, 61, 62], [97, 98, 99], 150) + ranked(
        "TripleResBlocks", [65, 66, 67], [90, 91, 92], 150
    )
    row = one({"table5": bench}, "depth")
    assert (row["metric"], row["effect"], row["verdict"]) == ("rank20", 7.0, "supported")
    table = verdict_table("table5", {"ours · bench": bench})
    assert table.iloc[0]["at"] == "R20" and table.iloc[0]["effect (points, 95% interval)"].startswith("+7.0 [")
    smoke = ranked("DoubleResBlocks", [60], [100], 20) + ranked("TripleResBlocks", [65], [100], 20)
    assert assess({"table5": smoke}) == []  # rank 20 of 20 is 100 % for both: no evidence
    assert [r["metric"] for r in assess({"table5": smoke}, metric="rank1")] == ["rank1"]


def test_the_status_says_what_the_strongest_source_found_or_why_there_is_none():
    from stsrn_lite.book.claims import status

    stsrn = next(c for c in CLAIMS if c.key == "stsrn")
    judged = {"smoke": {"folds": 1, "verdict": "inconclusive"}}
    assert status(stsrn, "ilids-vid", judged, {}) == "smoke only: no evidence"
    judged["paper"] = {"folds": 10, "verdict": "contradicted"}
    assert status(stsrn, "ilids-vid", judged, {}) == "real data: contradicted (10 folds)"
    temres = next(c for c in CLAIMS if c.key == "temres")
    assert status(temres, "prid2011", {}, {}) == "not run: smoke, bench ablate iLIDS-VID only"
    depth = next(c for c in CLAIMS if c.key == "depth")
    small = [
        {"dataset": "ilids-vid", "preset": p, "fold": 0, "rank1": 50, "rank20": 100, "gallery": "20"}
        for p in ("DoubleResBlocks", "TripleResBlocks")
    ]
    stored = {"smoke": {"table5": small}}
    assert status(depth, "ilids-vid", {}, stored) == "not judged: R20 ≥ gallery in smoke"
    missing = status(depth, "ilids-vid", {}, {"smoke": {"table5": small[:1]}})
    assert missing == "not judged: a row is missing in smoke"


def test_the_overview_has_every_table_and_figure_and_where_its_claims_stand():
    from stsrn_lite.book.report import COMPUTED, DRAWN, ITEMS, overview

    table1 = rows("STSRN", [60, 70, 80]) + rows("CNN-RNN", [50, 61, 69])  # +10 each fold: supported
    table1 += rows("STSRN", [80, 81, 82], dataset="prid2011") + rows("CNN-RNN", [81, 79, 82], dataset="prid2011")
    found = {name: {} for name in ("table1", "table2", "table4", "table5", "table6", "fig5", "occlusion")}
    found["table1"] = {"bench": (table1, {}), "smoke": (rows("STSRN", [50]) + rows("CNN-RNN", [40]), {})}
    found["table6"] = {"smoke": (rows("Base+TemRes", [50]) + rows("BaseModel", [40]), {})}
    table = overview(found)
    assert list(table.index) == [f"Table {n}" for n in range(1, 7)] + [f"Fig. {n}" for n in range(1, 6)]
    assert len(ITEMS) == 11 and set(table["chapter"]) <= {f.stem for f in (REPO / "notebooks").glob("*.md")}
    assert table.loc["Table 1", "where its claims stand"] == (
        "1 × synthetic, bench: supported (3 folds); 1 × synthetic, bench: inconclusive (3 folds)"
    )
    assert (table.loc["Table 1", "results"], table.loc["Table 1", "claims"]) == ("smoke, bench", 2)
    # Table 6: TemRes judged on smoke only; the STSM pair missing; PRID2011 not ablated by smoke
    assert table.loc["Table 6", "where its claims stand"] == "1 × smoke only; 2 × not run; 1 × not judged"
    assert table.loc["Table 2", "results"] == "" and table.loc["Table 2", "where its claims stand"] == "1 × not run yet"
    assert table.loc["Table 3", "where its claims stand"] == COMPUTED
    stand = table["where its claims stand"]
    assert stand["Fig. 1"] == stand["Fig. 2"] == DRAWN and stand["Fig. 5"] == "1 × not run yet"


def test_fig5s_claim_averages_each_run_over_the_epochs_both_runs_of_its_fold_tested():
    def curve(preset, fold, ranks):  # {epoch: rank-1}
        return [dict(dataset="ilids-vid", preset=preset, fold=fold, epoch=e, rank1=r) for e, r in ranks.items()]

    fig5 = curve("Base+TemRes", 0, {10: 50, 20: 70, 30: 99}) + curve("BaseModel", 0, {10: 40, 20: 50})
    fig5 += curve("Base+TemRes", 1, {10: 60, 20: 80}) + curve("BaseModel", 1, {10: 50, 20: 62})
    fig5 += curve("STSRN", 1, {10: 99, 20: 99})  # a row of no claim
    found = one({"fig5": fig5}, "temres-curve")
    # fold 0: epoch 30 has no BaseModel test, so (50 + 70) / 2 - (40 + 50) / 2 = 15; fold 1: 70 - 56 = 14
    assert (found["folds"], found["effect"], found["better"], found["worse"]) == (2, 14.5, 65.0, 50.5)
    assert found["verdict"] == "supported"  # 14.5 ± 12.7 · 0.5
    claim = next(c for c in CLAIMS if c.key == "temres-curve")
    line = report({"bench": {"fig5": fig5}}).loc[(f"{claim.statement} (Fig. 5)", "iLIDS-VID")]
    assert line["paper (rank-1 points)"] == "+18.4 (46.7 vs 28.3)"
    assert line["bench: effect"].startswith("+14.5 [+8.1, +20.9]")
