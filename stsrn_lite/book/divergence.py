"""Diverged runs, and the rule that trains one again with a gentler recipe.

A training run can blow up: on the bench, the fast recipe's iLIDS-VID STSRN of fold 2 (seed 1)
went from a loss of 11.0 to 142.9 at its fourth epoch, two epochs after its warm-up, and never
came back (its last epoch: 29.2; the fast runs that did not blow up ended between 1.0 and 1.7),
so its test measured an
untrained network (rank-1 0.7 %). Such a run says something about the recipe, not about the
architecture a table compares. The book follows one rule, reported wherever it acted:

- a run has *diverged* when its training loss rose above `BLOW_UP` times its first epoch's and
  its last epoch's is still above its first epoch's: a blow-up it did not recover from;
- a diverged run is trained again, same seed, with its recipe's `FALLBACK` ("fast-stable": the
  fast recipe at half its peak learning rate); the tables use the first attempt that did not
  diverge (or the last), say which recipe it had, and the diverged attempts stay filed and listed.

The rule was written after that run, and changed once: its first form tried the next seed, but
seed 2 blew up on the same fold as well (epoch 6), so the cause was the peak learning rate, not
the draw. A recipe without a fallback (the paper's "faithful") is not trained again.

Then two more fast runs blew up, both with the doubled residual blocks: 3 of the bench's 8 fast
runs with them, none of its 7 without. For a while the bench's recipe was "fast-stable" itself,
and some runs filed under "fast" were trained again with it: `recipe_pairs` sets each beside its
retrain, which measures what halving the peak learning rate changed where "fast" did not blow
up, and `recipe_gaps` whether it changed two models alike (Table 1's STSRN − CNN-RNN, fold by
fold). It did not: the CNN-RNN's rank-1 fell by 2.7 to 9 points on three folds (and rose by 2.7
on a fourth), STSRN's by 0 to 3.3, so the bench went back to "fast", with this rule for the runs
that blow up.

A run that blew up is not trained to its last epoch where a fallback will replace it: `hopeless`
stops it `GIVE_UP` epochs after its blow-up if its loss stayed above its first epoch's all that
time (`stsrn_lite.book.experiments.run`), and it is tested and filed as it is. Its records then
meet the rule above, so it counts as diverged; the blown-up runs trained to the end never came
back below their first epoch's loss either (iLIDS-VID STSRN of fold 2: 29.2 at its 100th epoch).

A run without records (recovered from its weights, `stsrn_lite.book.ledger.recover`) cannot be
judged and counts as not diverged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from stsrn_lite.training.config import RECIPE_FIELDS, TrainConfig

BLOW_UP = 3.0  # a training loss above this many times the first epoch's is a blow-up
GIVE_UP = 10  # epochs after a blow-up, all with a loss above the first epoch's, before `hopeless` stops a run
# the recipe a diverged run of a recipe is trained again with (`stsrn_lite.training.config.RECIPES`)
FALLBACK: dict[str, str] = {"fast": "fast-stable"}


def losses(records: Sequence[Mapping]) -> list[float]:
    """The training loss of each epoch of ``records`` that has one."""
    return [float(record["loss"]) for record in records if record.get("loss") not in (None, "")]


def diverged(records: Sequence[Mapping]) -> bool:
    """Whether the run of ``records`` (one per epoch) blew up and did not recover (module docstring)."""
    found = losses(records)
    if len(found) < 2:
        return False
    first = found[0]
    return max(found) > BLOW_UP * first and found[-1] > first


def hopeless(records: Sequence[Mapping], patience: int = GIVE_UP) -> str | None:
    """Why the run of ``records`` should stop now, or None: its loss blew up (its first epoch above
    `BLOW_UP` times the first epoch's) and has stayed above its first epoch's for ``patience``
    epochs since. Such records are `diverged`. A run that recovers from its first blow-up and
    blows up again later is not stopped (its records still judge it at the end)."""
    found = losses(records)
    if len(found) < 2:
        return None
    first = found[0]
    blown = next((i for i, value in enumerate(found) if value > BLOW_UP * first), None)
    if blown is None or len(found) - 1 - blown < patience or min(found[blown:]) <= first:
        return None
    return (
        f"diverged: loss {found[blown]:.1f} at epoch {blown + 1} against {first:.1f} at epoch 1, "
        f"and still {found[-1]:.1f} {patience} epochs later"
    )


def fallback_name(name: str, recipe: str) -> str | None:
    """The ledger name of the attempt after run ``name`` (trained with ``recipe``): the same name
    with the recipe's `FALLBACK` where `stsrn_lite.book.experiments.run_folder` puts the recipe,
    after the preset; None when the recipe has none."""
    if recipe not in FALLBACK:
        return None
    return re.sub(rf"-{re.escape(recipe)}(?=-)", f"-{FALLBACK[recipe]}", name, count=1)


def retry_recipes(rows: Sequence[Mapping]) -> set[str]:
    """The recipes that mark a retry among a table's result ``rows``: a `FALLBACK` recipe is a
    retry's when some row of the table has the recipe it falls back from. A profile that trains
    the fallback recipe from the start has no row with that one, so its rows are not retries."""
    found = {str(row.get("recipe") or "") for row in rows}
    return {after for before, after in FALLBACK.items() if before in found and after in found}


def table_test(entry: Mapping) -> str:
    """The test a filed run's table reads: MARS's official one ("mars-standard") for a run trained
    on MARS's official split, the two-camera protocol for every other (MARS under ASTPN's reading
    included); book: Table 2."""
    return "mars-standard" if entry["training"].get("mars_protocol") == "official" else "two-camera"


def table_rank1(entry: Mapping) -> float:
    """A filed run's rank-1 (%) under `table_test`; a one-line error names the run where it is not filed."""
    test = table_test(entry)
    try:
        return float(entry["protocols"][test]["rank1"])
    except KeyError:
        raise KeyError(f"{entry['run']}: no {test} test filed (it has {sorted(entry['protocols'])})") from None


def filed_diverged(entries: Sequence[Mapping]) -> list[dict]:
    """One row per diverged run among ledger ``entries`` (`stsrn_lite.book.ledger.entries`): its
    name and seed, the first epoch whose loss passed `BLOW_UP` times the first epoch's, the
    losses, the test its table reads (`table_test`) with its rank-1 there, and the rank-1 of its
    fallback recipe's attempt where that is filed too."""
    by_name = {str(entry["run"]): entry for entry in entries}
    rows = []
    for entry in entries:
        found = losses(entry.get("records") or [])
        if not diverged(entry.get("records") or []):
            continue
        peak = max(found)
        blow_up = next(epoch for epoch, loss in enumerate(found, 1) if loss > BLOW_UP * found[0])
        recipe = TrainConfig(**entry["training"]).recipe
        after = fallback_name(str(entry["run"]), recipe)
        retry = by_name.get(after) if after else None
        rows.append(
            {
                "run": entry["run"],
                "seed": int(entry["training"]["seed"]),
                "blow-up at epoch": blow_up,
                "loss: first → peak → last": f"{found[0]:.1f} → {peak:.1f} → {found[-1]:.1f}",
                "test": table_test(entry),
                "rank-1": table_rank1(entry),
                "trained again with": FALLBACK.get(recipe, "(no fallback)"),
                "its rank-1": table_rank1(retry) if retry else "not filed yet" if after else "—",
            }
        )
    return rows


# diverged attempts stopped by hand before their test, so in no ledger, per (profile, recipe) (book:
# chapter 06, "Half the peak rate"): the bench's iLIDS-VID STSRN of fold 2 with seed 2 and a first
# attempt of Table 6's Double+TemRes of fold 0, both with two blocks of Fig. 3c, both under "fast"
STOPPED_BY_HAND = {("bench", "fast"): 2}


def fig3c_blocks(name: str) -> int:
    """How many spatial residual blocks of Fig. 3c the preset ``name`` has (0 for the other blocks)."""
    from stsrn_lite.model.presets import preset

    config = preset(name)
    return LAYOUT_BLOCKS[config.layout] if config.block == "c" else 0


LAYOUT_BLOCKS = {"BaseModel": 0, "SingleResBlock": 1, "DoubleResBlocks": 2, "TripleResBlocks": 3}  # Table 5


def blowup_counts(entries: Sequence[Mapping], profile: str, recipe: str = "fast") -> dict[str, tuple[int, int]]:
    """{"two or three blocks of Fig. 3c" | "fewer": (diverged, attempts)} over the ``profile``'s
    ledger runs trained with ``recipe`` (``entries``: `stsrn_lite.book.experiments.filed_entries`),
    that profile's attempts `STOPPED_BY_HAND` counted with the first (all of them had two such
    blocks). A run without records (recovered from its weights) counts as not diverged (`diverged`)."""
    counts = {"two or three blocks of Fig. 3c": [0, 0], "fewer": [0, 0]}
    for entry in entries:
        if TrainConfig(**entry["training"]).recipe != recipe:
            continue
        many = fig3c_blocks(entry["training"]["preset"]) >= 2
        found = counts["two or three blocks of Fig. 3c" if many else "fewer"]
        found[0] += diverged(entry.get("records") or [])
        found[1] += 1
    by_hand = STOPPED_BY_HAND.get((profile, recipe), 0)
    counts["two or three blocks of Fig. 3c"][0] += by_hand
    counts["two or three blocks of Fig. 3c"][1] += by_hand
    return {key: (int(hit), int(tried)) for key, (hit, tried) in counts.items()}


def recipe_pairs(entries: Sequence[Mapping], before: str = "fast") -> list[dict]:
    """One row per run among ledger ``entries`` filed with recipe ``before`` whose attempt with
    its `FALLBACK` is filed too (same data, preset, fold and seed): both rank-1s under the test their
    table reads (`table_test`: two-camera, or MARS's official one), the difference (fallback −
    before) and whether the ``before`` run diverged; in ledger order."""
    by_name = {str(entry["run"]): entry for entry in entries}
    rows = []
    for entry in entries:
        name = str(entry["run"])
        after = fallback_name(name, before)
        if TrainConfig(**entry["training"]).recipe != before or after not in by_name:
            continue
        first, second = (table_rank1(by_name[n]) for n in (name, after))
        rows.append(
            {
                "run": name,
                "test": table_test(entry),
                f"{before}: rank-1": first,
                f"{FALLBACK[before]}: rank-1": second,
                "difference": second - first,
                f"{before} diverged": diverged(entry.get("records") or []),
            }
        )
    return rows


def _mean_text(kept: Sequence[float]) -> str:
    """The mean of ``kept`` in points, with its 95 % interval where there are several."""
    from stsrn_lite.book.claims import interval  # claims reads retry_recipes from here

    mean, low, high = interval(kept)
    spread = "" if len(kept) == 1 else f" (95 % interval {low:+.1f} to {high:+.1f})"
    return f"{mean:+.1f} points on average{spread}"


def recipe_summary(rows: Sequence[Mapping], before: str = "fast") -> str:
    """One sentence on `recipe_pairs` ``rows``: how many runs have both recipes, and the mean
    rank-1 difference (fallback − ``before``) with its 95 % interval over those whose ``before``
    run did not diverge (a diverged run's rank-1 measures no training) and whose table reads the
    two-camera test (MARS's official test ranks another gallery)."""
    after = FALLBACK[before]
    kept = [
        float(row["difference"])
        for row in rows
        if not row[f"{before} diverged"] and row.get("test", "two-camera") == "two-camera"
    ]
    head = f"{len(rows)} run(s) filed with both `{before}` and `{after}`"
    if not kept:
        return f"{head}; none where `{before}` did not diverge."
    return (
        f"{head}; on the {len(kept)} two-camera ones where `{before}` did not diverge, `{after}`'s "
        f"rank-1 minus `{before}`'s is {_mean_text(kept)}."
    )


def recipe_gaps(
    entries: Sequence[Mapping], presets: tuple[str, str] = ("STSRN", "CNN-RNN"), before: str = "fast"
) -> list[dict]:
    """Whether the recipe change moved a comparison of two presets: one row per dataset, fold and
    seed where both ``presets`` are filed under ``before`` and its `FALLBACK` (`recipe_pairs`), with
    the two-camera rank-1 gap (first preset − second) under each recipe and its change (the
    fallback's gap − ``before``'s, which is the first preset's recipe difference minus the second's),
    and whether a ``before`` run of the fold diverged, in which case its gap and the change are None
    (a diverged run's rank-1 measures no training); sorted by dataset, fold and seed."""
    after = FALLBACK[before]
    training = {str(entry["run"]): entry["training"] for entry in entries}
    found: dict[tuple, dict[str, Mapping]] = {}
    for row in recipe_pairs(entries, before):
        config = training[row["run"]]
        # the pair shares everything but the preset and the recipe: a readings-study run (another
        # flow, kernel, ...) of the same fold is not the default's
        rest = sorted((k, repr(v)) for k, v in config.items() if k != "preset" and k not in RECIPE_FIELDS)
        key = (str(config["dataset"]), int(config["fold"]), int(config["seed"]), tuple(rest))
        found.setdefault(key, {})[str(config["preset"])] = row
    first, second = presets
    rows = []
    for (dataset, fold, seed, _), pair in sorted(found.items()):
        if first not in pair or second not in pair:
            continue
        gaps = [pair[first][f"{recipe}: rank-1"] - pair[second][f"{recipe}: rank-1"] for recipe in (before, after)]
        blown = pair[first][f"{before} diverged"] or pair[second][f"{before} diverged"]
        rows.append(
            {
                "dataset": dataset,
                "fold": fold,
                "seed": seed,
                f"{before}: {first} − {second}": None if blown else gaps[0],
                f"{after}: {first} − {second}": gaps[1],
                "change": None if blown else gaps[1] - gaps[0],
                f"{before} diverged": blown,
            }
        )
    return rows


def gap_summary(rows: Sequence[Mapping], presets: tuple[str, str] = ("STSRN", "CNN-RNN"), before: str = "fast") -> str:
    """One sentence on `recipe_gaps` ``rows``: the mean change of the gap, with its 95 % interval,
    over the folds where no ``before`` run diverged (a diverged run's gap measures no training)."""
    after = FALLBACK[before]
    first, second = presets
    kept = [float(row["change"]) for row in rows if not row[f"{before} diverged"]]
    head = f"{len(rows)} fold(s) with {first} and {second} filed under both `{before}` and `{after}`"
    if not kept:
        return f"{head}; none where no `{before}` run diverged."
    return (
        f"{head}; on the {len(kept)} where no `{before}` run diverged, `{after}` changed "
        f"{first}'s two-camera rank-1 lead over {second} by {_mean_text(kept)}."
    )
