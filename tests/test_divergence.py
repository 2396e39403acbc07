"""Diverged runs: the rule, the bench's filed runs judged by it, and the retry with the fallback recipe."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from stsrn_lite.book import grid, ledger
from stsrn_lite.book.divergence import (
    BLOW_UP,
    FALLBACK,
    GIVE_UP,
    diverged,
    fallback_name,
    filed_diverged,
    gap_summary,
    hopeless,
    recipe_gaps,
    recipe_pairs,
    recipe_summary,
)
from stsrn_lite.book.experiments import RunOutcome
from stsrn_lite.book.session import setup

LEDGER = Path(__file__).resolve().parents[1] / "results" / "bench" / "runs"


def records(*losses: float) -> list[dict]:
    return [{"epoch": epoch, "loss": loss} for epoch, loss in enumerate(losses, 1)]


def test_a_blow_up_counts_only_when_the_run_does_not_recover():
    assert diverged(records(11.0, 10.9, 142.9, 60.0, 29.2))  # the bench's iLIDS-VID STSRN, fold 2, in short
    assert not diverged(records(11.0, 142.9, 9.0, 1.3))  # recovered: below its first epoch at the end
    assert not diverged(records(11.0, 12.0, 11.5))  # no blow-up: never above BLOW_UP × the first
    assert not diverged(records(11.0, BLOW_UP * 11.0, 20.0))  # at the bound, not above it
    assert not diverged(records(11.0)) and not diverged([])  # nothing to judge
    assert not diverged([{"epoch": 1, "loss": ""}, {"epoch": 2, "loss": 50.0}])  # a recovered run's gap


# The bench runs that blew up and did not recover, with the epoch where the loss passed BLOW_UP
# times its first: the fast recipe's iLIDS-VID STSRN of fold 2 (11.2 to 142.9) and Table 6's
# DoubleResBlocks of fold 0 (17.7 to 120.8, still 52.9 at epoch 87) and of fold 1 (17.8 to 91.3,
# given up by `hopeless` at epoch 26 with 138.5), Table 5's TripleResBlocks of all three folds
# (fold 1: 17.8 to 105.5 at epoch 14, given up at epoch 24; fold 2: 17.7 to 235.8 at epoch 22, given up
# at epoch 32), and the
# readings study's STSRN with kernel-7 blocks, with the standard normalisation and with ω stored as
# sigmoid(a) (fold 0), and Table 2's STSRN on MARS of fold 0 under ASTPN's reading (11.4 to 220.7
# at epoch 9, given up at epoch 19) and under the official protocol (11.4 to 434.0 at epoch 6)
DIVERGED = {
    "ilids-vid-STSRN-fast-fold2": 4,
    "ilids-vid-DoubleResBlocks-fast-fold0": 17,
    "ilids-vid-DoubleResBlocks-fast-fold1": 16,
    "ilids-vid-TripleResBlocks-fast-fold0": 15,
    "ilids-vid-TripleResBlocks-fast-fold1": 14,
    "ilids-vid-TripleResBlocks-fast-fold2": 22,
    "ilids-vid-STSRN-fast-res_kernel=7-fold0": 10,
    "ilids-vid-STSRN-fast-normalisation=standard-fold0": 14,
    "ilids-vid-STSRN-fast-omega_form=sigmoid-fold0": 6,
    "mars-astpn-STSRN-fast-fold0": 9,
    "mars-official-STSRN-fast-fold0": 6,
    "mars-astpn-STSRN-fast-fold2": 5,
}


def test_the_bench_runs_filed_so_far_are_judged_as_they_ran():
    entries = {path.stem: json.loads(path.read_text()) for path in LEDGER.glob("*.json")}
    if not entries:
        pytest.skip(f"{LEDGER}: no filed bench run in this checkout")
    judged = {name for name, entry in entries.items() if diverged(entry["records"])}
    assert judged == set(DIVERGED) & set(entries)
    listed = {row["run"]: row["blow-up at epoch"] for row in filed_diverged(list(entries.values()))}
    assert listed == {name: DIVERGED[name] for name in judged}


def test_a_run_is_given_up_when_its_loss_stays_up_for_ten_epochs_after_a_blow_up():
    blown = (11.0, 10.9, 142.9, *(30.0,) * GIVE_UP)
    assert hopeless(records(*blown[:-1])) is None  # only GIVE_UP - 1 epochs since the blow-up
    reason = hopeless(records(*blown))
    assert reason == "diverged: loss 142.9 at epoch 3 against 11.0 at epoch 1, and still 30.0 10 epochs later"
    assert diverged(records(*blown))  # what it stops counts as diverged, so its fallback follows
    assert hopeless(records(11.0, 142.9, *(20.0,) * (GIVE_UP - 1), 9.0)) is None  # came back below the first
    assert hopeless(records(*(11.0, 12.0) * GIVE_UP)) is None  # no blow-up
    assert hopeless(records(11.0)) is None and hopeless([]) is None


# where `hopeless` would have stopped the filed runs that diverged (the first epoch it says so);
# DoubleResBlocks fold 1 trained with it, and it did stop there
GIVEN_UP_AT = {
    "ilids-vid-STSRN-fast-fold2": 14,
    "ilids-vid-DoubleResBlocks-fast-fold0": 27,
    "ilids-vid-DoubleResBlocks-fast-fold1": 26,
    "ilids-vid-TripleResBlocks-fast-fold0": 25,
    "ilids-vid-TripleResBlocks-fast-fold1": 24,
    "ilids-vid-TripleResBlocks-fast-fold2": 32,
    "ilids-vid-STSRN-fast-res_kernel=7-fold0": 20,
    "ilids-vid-STSRN-fast-normalisation=standard-fold0": 24,
    "ilids-vid-STSRN-fast-omega_form=sigmoid-fold0": 16,
    "mars-astpn-STSRN-fast-fold0": 19,
    "mars-official-STSRN-fast-fold0": 16,
    "mars-astpn-STSRN-fast-fold2": 15,
}


def test_the_bench_runs_filed_so_far_would_be_given_up_exactly_when_they_diverged():
    entries = {path.stem: json.loads(path.read_text()) for path in LEDGER.glob("*.json")}
    if not entries:
        pytest.skip(f"{LEDGER}: no filed bench run in this checkout")
    stops = {}
    for name, entry in entries.items():
        found = entry["records"]
        stops[name] = next((n for n in range(1, len(found) + 1) if hopeless(found[:n])), None)
    assert {name: at for name, at in stops.items() if at} == {k: v for k, v in GIVEN_UP_AT.items() if k in entries}


def outcome(spec: grid.GridRun, losses: tuple[float, ...]) -> RunOutcome:
    return RunOutcome(spec.preset, spec.dataset, spec.fold, records(*losses), recipe=spec.recipe)


BLOWN, HEALTHY = (11.0, 140.0, 30.0), (11.0, 5.0, 1.3)


def test_execute_trains_a_diverged_run_again_with_its_recipes_fallback(monkeypatch):
    session = setup("bench")
    spec = next(s for s in grid.grid_runs(session, ("table1",)) if s.preset == "STSRN")
    assert spec.recipe == "fast"  # the bench's recipe
    tried = []

    def once(_, attempt, __):
        tried.append((attempt.recipe, attempt.seed))
        return outcome(attempt, BLOWN if attempt.recipe == "fast" else HEALTHY)

    monkeypatch.setattr(grid, "_execute_once", once)
    result = grid.execute(session, spec)
    assert tried == [("fast", spec.seed), ("fast-stable", spec.seed)] and result.diverged_recipes == ("fast",)
    assert result.records == records(*HEALTHY)
    assert [attempt.records for attempt in result.diverged] == [records(*BLOWN)]  # the attempt, its tests kept

    tried.clear()
    monkeypatch.setattr(
        grid, "_execute_once", lambda _, attempt, __: tried.append(attempt.recipe) or outcome(attempt, BLOWN)
    )
    result = grid.execute(session, spec)  # the fallback diverges too: it has none, so it stands
    assert tried == ["fast", "fast-stable"] and "fast-stable" not in FALLBACK
    assert result.diverged_recipes == ("fast",)


def test_a_recipe_without_fallback_is_not_trained_again(monkeypatch):
    session = setup("smoke")  # the faithful recipe: the paper's, never changed
    spec = next(s for s in grid.grid_runs(session, ("table1",)) if s.preset == "STSRN")
    tried = []
    monkeypatch.setattr(
        grid, "_execute_once", lambda _, attempt, __: tried.append(attempt.recipe) or outcome(attempt, BLOWN)
    )
    assert grid.execute(session, spec).diverged_recipes == () and tried == ["faithful"]


def test_the_fallback_recipe_halves_the_peak_learning_rate_and_nothing_else():
    from stsrn_lite.training.config import RECIPES, TrainConfig

    fast, stable = (TrainConfig.for_recipe(name, dataset="ilids-vid") for name in ("fast", "fast-stable"))
    assert stable.learning_rate == fast.learning_rate / 2
    assert replace(stable, learning_rate=fast.learning_rate) == fast
    assert fast.recipe == "fast" and stable.recipe == "fast-stable" and set(FALLBACK.values()) <= set(RECIPES)


def test_the_grid_counts_a_filed_diverged_run_as_its_fallback_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    session = setup("bench")
    spec = next(s for s in grid.grid_runs(session, ("table1",)) if s.preset == "STSRN" and s.fold == 2)
    spec = replace(spec, recipe="fast")
    filed = {}  # run name -> losses, standing in for the ledger

    def read_run(folder, name, *_):
        return SimpleNamespace(records=records(*filed[name])) if name in filed else None

    monkeypatch.setattr(ledger, "read_run", read_run)
    first = grid.spec_folder(session, spec).name
    assert grid.current_attempt(session, spec) == spec  # not filed: itself
    filed[first] = HEALTHY
    assert grid.current_attempt(session, spec) == spec  # filed and fine: the tables use it
    filed[first] = BLOWN
    second = replace(spec, recipe="fast-stable", retry=True)
    assert grid.current_attempt(session, spec) == second and second.name.endswith("fold 2 (fast-stable)")
    assert grid.spec_folder(session, second).name == first.replace("-fast-", "-fast-stable-")
    filed[grid.spec_folder(session, second).name] = BLOWN
    assert grid.current_attempt(session, spec) == second  # no fallback after it: it stands


def test_the_progress_line_says_which_recipe_the_ranks_are_of(capsys):
    spec = grid.GridRun("ilids-vid", "STSRN", 2, 100, 10, recipe="fast")
    assert spec.name == "ilids-vid STSRN fold 2"  # a run's own recipe: not in its name
    assert replace(spec, recipe="fast-stable").name == "ilids-vid STSRN fold 2"
    assert grid._report(spec, (spec, 90.0, {"two-camera": {"rank1": 80.0}}, ("fast",))) == 0
    line = capsys.readouterr().out.strip()
    assert line == (
        "done   ilids-vid STSRN fold 2 (1.5 min): two-camera rank-1 80.0 (fast diverged; these ranks are fast-stable's)"
    )


@pytest.mark.parametrize("readings", [None, {"flow": "original"}, {"res_kernel": 7, "normalisation": "standard"}])
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("preset", ["DoubleResBlocks*", "CNN-RNN", "Base+TemRes+STSM"])
def test_the_fallbacks_name_is_the_one_the_run_folder_gets(preset, readings, seed, tmp_path, monkeypatch):
    from stsrn_lite.book.experiments import run_folder

    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    session = setup("bench")
    name = run_folder(session, "ilids-vid", preset, 2, readings=readings, recipe="fast", seed=seed).name
    after = run_folder(session, "ilids-vid", preset, 2, readings=readings, recipe="fast-stable", seed=seed)
    assert fallback_name(name, "fast") == after.name
    assert fallback_name(name, "faithful") is None


def training(recipe: str, seed: int = 1) -> dict:
    from stsrn_lite.training.config import TrainConfig

    return TrainConfig.for_recipe(recipe, dataset="ilids-vid", fold=2, seed=seed).to_dict()


def entry(run, recipe, losses, rank1):
    return {
        "run": run,
        "training": training(recipe),
        "records": records(*losses),
        "protocols": {"two-camera": {"rank1": rank1}},
    }


def test_the_diverged_runs_of_a_ledger_are_listed_with_the_fallbacks_rank1():
    filed = [
        entry("ilids-vid-STSRN-fast-fold2", "fast", BLOWN, 0.7),
        entry("ilids-vid-CNN-RNN-fast-fold2", "fast", HEALTHY, 86.0),
    ]
    (row,) = filed_diverged(filed)
    assert row["run"] == "ilids-vid-STSRN-fast-fold2" and row["blow-up at epoch"] == 2
    assert row["trained again with"] == "fast-stable"
    assert row["its rank-1"] == "not filed yet" and (row["test"], row["rank-1"]) == ("two-camera", 0.7)
    filed.append(entry("ilids-vid-STSRN-fast-stable-fold2", "fast-stable", HEALTHY, 80.0))
    assert filed_diverged(filed)[0]["its rank-1"] == 80.0
    assert filed_diverged(filed)[0]["loss: first → peak → last"] == "11.0 → 140.0 → 30.0"
    filed.append(entry("ilids-vid-STSRN-faithful-fold1", "faithful", BLOWN, 1.0))
    faithful = filed_diverged(filed)[-1]
    assert faithful["trained again with"] == "(no fallback)" and faithful["its rank-1"] == "—"


def test_a_tables_note_names_the_rows_trained_again():
    from stsrn_lite.book.tables import ours_sources, retry_text

    rows = [
        {"dataset": "ilids-vid", "preset": "STSRN", "fold": "0", "recipe": "fast", "rank1": "80.0"},
        {"dataset": "ilids-vid", "preset": "STSRN", "fold": "2", "recipe": "fast-stable", "rank1": "81.0"},
        {"dataset": "ilids-vid", "preset": "chance", "fold": "2", "rank1": "0.7"},  # a floor: no recipe
    ]
    text = retry_text(rows)
    assert text.startswith("iLIDS-VID STSRN fold 2 diverged and was trained again with fast-stable (")
    assert retry_text(rows[:1] + rows[2:]) == ""
    crossed = [{**row, "dataset": "prid2011", "trained_on": "ilids-vid"} for row in rows]  # Table 4's rows
    assert retry_text(crossed).startswith("PRID2011 STSRN (trained on iLIDS-VID) fold 2 diverged and was trained")
    assert retry_text(rows + rows) == text  # a run named once, however many rows it has (Fig. 5's epochs)
    _, notes = ours_sources("smoke", "this session", [], {"bench": (rows, {})})
    _, bench = notes.values()  # this session (smoke), then the stored bench
    assert bench.endswith(f"; {text}")


def test_a_run_filed_with_both_recipes_is_set_beside_its_retrain():
    filed = [
        entry("ilids-vid-CNN-RNN-fast-fold2", "fast", HEALTHY, 86.0),
        entry("ilids-vid-STSRN-fast-fold2", "fast", BLOWN, 0.7),
        entry("ilids-vid-STSRN-fast-stable-fold2", "fast-stable", HEALTHY, 80.0),
        entry("prid2011-STSRN-fast-fold0", "fast", HEALTHY, 84.0),  # its retrain not filed yet
        entry("ilids-vid-CNN-RNN-fast-stable-fold2", "fast-stable", HEALTHY, 84.5),
    ]
    rows = recipe_pairs(filed)
    assert [row["run"] for row in rows] == ["ilids-vid-CNN-RNN-fast-fold2", "ilids-vid-STSRN-fast-fold2"]
    cnn, stsrn = rows
    assert (cnn["fast: rank-1"], cnn["fast-stable: rank-1"], cnn["difference"]) == (86.0, 84.5, -1.5)
    assert not cnn["fast diverged"] and stsrn["fast diverged"] and stsrn["difference"] == pytest.approx(79.3)
    assert recipe_pairs(filed, before="faithful") == []  # no fallback, nothing to pair


def official_entry(run, recipe, losses, rank1):
    """A MARS run of the official split: its table reads MARS's official test, not the two-camera one."""
    from stsrn_lite.training.config import TrainConfig

    config = TrainConfig.for_recipe(recipe, dataset="mars", fold=0, seed=1, mars_protocol="official").to_dict()
    protocols = {"mars-standard": {"rank1": rank1}}
    return {"run": run, "training": config, "records": records(*losses), "protocols": protocols}


def test_a_mars_official_run_is_read_on_the_official_test():
    # Table 2's official-protocol runs have no two-camera test: the diverged list and the recipe
    # pairs once raised KeyError('two-camera') on them
    filed = [
        official_entry("mars-official-STSRN-fast-fold0", "fast", BLOWN, 0.0),
        official_entry("mars-official-STSRN-fast-stable-fold0", "fast-stable", HEALTHY, 86.1),
        entry("ilids-vid-CNN-RNN-fast-fold2", "fast", HEALTHY, 86.0),
        entry("ilids-vid-CNN-RNN-fast-stable-fold2", "fast-stable", HEALTHY, 84.5),
    ]
    (row,) = filed_diverged(filed)
    assert (row["test"], row["rank-1"], row["its rank-1"]) == ("mars-standard", 0.0, 86.1)
    official, cnn = recipe_pairs(filed)
    assert (official["test"], official["difference"]) == ("mars-standard", pytest.approx(86.1))
    assert cnn["test"] == "two-camera"
    healthy = {**official, "fast diverged": False}  # the official test never enters the two-camera mean
    assert "on the 1 two-camera ones" in recipe_summary([healthy, cnn]) and "-1.5 points" in recipe_summary([cnn])
    filed[1]["protocols"] = {"two-camera": {"rank1": 50.0}}
    with pytest.raises(KeyError, match="mars-official-STSRN-fast-stable-fold0: no mars-standard test filed"):
        filed_diverged(filed)


def test_the_recipe_change_is_summed_up_without_the_diverged_runs():
    rows = [
        {"run": "a", "difference": -1.5, "fast diverged": False},
        {"run": "b", "difference": 79.3, "fast diverged": True},
        {"run": "c", "difference": 2.5, "fast diverged": False},
    ]
    text = recipe_summary(rows)
    assert text.startswith("3 run(s) filed with both `fast` and `fast-stable`; on the 2 two-camera ones where")
    assert "is +0.5 points on average (95 % interval -24.9 to +25.9)." in text
    assert recipe_summary(rows[1:2]).endswith("none where `fast` did not diverge.")
    assert "interval" not in recipe_summary(rows[:1]) and "-1.5 points" in recipe_summary(rows[:1])


def gap_entry(dataset, preset, recipe, fold, rank1, losses=HEALTHY, **readings):
    from stsrn_lite.training.config import TrainConfig

    config = TrainConfig.for_recipe(recipe, dataset=dataset, preset=preset, fold=fold, seed=1, **readings).to_dict()
    name = f"{dataset}-{preset}-{recipe}{''.join(f'-{k}={v}' for k, v in readings.items())}-fold{fold}"
    return {"run": name, "training": config, "records": records(*losses), "protocols": {"two-camera": {"rank1": rank1}}}


def test_the_gap_between_two_models_is_set_beside_itself_under_both_recipes():
    filed = [
        gap_entry("ilids-vid", "STSRN", "fast", 0, 76.0),
        gap_entry("ilids-vid", "CNN-RNN", "fast", 0, 82.0),
        gap_entry("ilids-vid", "STSRN", "fast-stable", 0, 81.0),
        gap_entry("ilids-vid", "CNN-RNN", "fast-stable", 0, 79.0),
        gap_entry("ilids-vid", "STSRN", "fast", 2, 0.7, BLOWN),
        gap_entry("ilids-vid", "CNN-RNN", "fast", 2, 86.0),
        gap_entry("ilids-vid", "STSRN", "fast-stable", 2, 85.0),
        gap_entry("ilids-vid", "CNN-RNN", "fast-stable", 2, 83.0),
        gap_entry("prid2011", "STSRN", "fast", 0, 84.0),  # its partner's retrain not filed yet
        gap_entry("prid2011", "STSRN", "fast-stable", 0, 85.0),
        gap_entry("prid2011", "CNN-RNN", "fast", 0, 82.0),
    ]
    rows = recipe_gaps(filed)
    assert [(row["dataset"], row["fold"]) for row in rows] == [("ilids-vid", 0), ("ilids-vid", 2)]
    fold0, fold2 = rows
    assert fold0["fast: STSRN − CNN-RNN"] == -6.0 and fold0["fast-stable: STSRN − CNN-RNN"] == 2.0
    assert fold0["change"] == 8.0 and not fold0["fast diverged"] and fold2["fast diverged"]
    assert fold2["fast: STSRN − CNN-RNN"] is None and fold2["change"] is None  # no training measured
    assert fold2["fast-stable: STSRN − CNN-RNN"] == 2.0
    text = gap_summary(rows)
    assert text.startswith("2 fold(s) with STSRN and CNN-RNN filed under both `fast` and `fast-stable`; on the 1 ")
    assert text.endswith("lead over CNN-RNN by +8.0 points on average.")
    assert gap_summary(rows[1:]).endswith("none where no `fast` run diverged.")
    assert recipe_gaps(filed, presets=("STSRN", "DoubleResBlocks")) == []


def test_a_readings_study_run_of_the_same_fold_does_not_stand_in_for_the_default():
    default = [
        gap_entry("ilids-vid", "STSRN", "fast", 0, 76.0),
        gap_entry("ilids-vid", "CNN-RNN", "fast", 0, 82.0),
        gap_entry("ilids-vid", "STSRN", "fast-stable", 0, 81.0),
        gap_entry("ilids-vid", "CNN-RNN", "fast-stable", 0, 79.0),
    ]
    kernel7 = [  # the readings study's STSRN with 7x7 block kernels, filed after the default's
        gap_entry("ilids-vid", "STSRN", "fast", 0, 0.7, BLOWN, res_kernel=7),
        gap_entry("ilids-vid", "STSRN", "fast-stable", 0, 70.0, res_kernel=7),
    ]
    for filed in (default + kernel7, kernel7 + default):
        (row,) = recipe_gaps(filed)
        assert row["fast: STSRN − CNN-RNN"] == -6.0 and row["fast-stable: STSRN − CNN-RNN"] == 2.0
        assert row["change"] == 8.0 and not row["fast diverged"]
    assert recipe_gaps(kernel7 + default[1::2]) == []  # the study's STSRN has no CNN-RNN partner


class _Stop(Exception):
    pass


def test_a_run_is_given_up_only_where_a_fallback_recipe_will_replace_it(tmp_path, monkeypatch):
    from stsrn_lite.book import experiments

    monkeypatch.setenv("STSRN_HOME", str(tmp_path))
    session = setup("smoke")
    asked = []

    def train(config, *args, give_up=None, **kwargs):
        asked.append(give_up)
        raise _Stop

    monkeypatch.setattr(experiments, "train", train)
    for recipe in ("fast", "fast-stable", "faithful"):
        with pytest.raises(_Stop):
            experiments.run(session, "ilids-vid", "CNN-RNN", 0, epochs=2, recipe=recipe)
    assert asked == [hopeless, None, None]


def test_blow_ups_are_counted_apart_for_runs_with_two_or_more_blocks_of_fig3c():
    from stsrn_lite.book.divergence import STOPPED_BY_HAND, blowup_counts, fig3c_blocks

    assert [fig3c_blocks(name) for name in ("CNN-RNN", "SingleResBlock", "STSRN", "TripleResBlocks")] == [0, 1, 2, 3]
    assert fig3c_blocks("DoubleResBlocks*") == fig3c_blocks("DoubleResBlocks (Fig. 3b)") == 0  # Fig. 3a's and 3b's

    def run(preset, recipe, losses):
        found = entry(f"ilids-vid-{preset}-{recipe}-fold0", recipe, losses, 1.0)
        found["training"]["preset"] = preset
        return found

    filed = [
        run("STSRN", "fast", BLOWN),
        run("TripleResBlocks", "fast", HEALTHY),
        run("DoubleResBlocks*", "fast", BLOWN),  # a blow-up among the others is counted there
        run("CNN-RNN", "fast", HEALTHY),
        run("STSRN", "fast-stable", HEALTHY),  # another recipe: not counted
    ]
    by_hand = STOPPED_BY_HAND["bench", "fast"]
    assert blowup_counts(filed, "bench") == {
        "two or three blocks of Fig. 3c": (1 + by_hand, 2 + by_hand),
        "fewer": (1, 2),
    }
    assert blowup_counts(filed, "smoke") == {"two or three blocks of Fig. 3c": (1, 2), "fewer": (1, 2)}  # none by hand
    stable = blowup_counts(filed, "bench", recipe="fast-stable")
    assert stable == {"two or three blocks of Fig. 3c": (0, 1), "fewer": (0, 0)}
