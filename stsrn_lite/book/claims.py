"""The paper's claims, tested on our result rows: the per-fold paired difference of two rows of a
table, its mean with a confidence interval, and a verdict (issue "Results worth reading", §2).

Each claim says that one row of a table beats another (`Claim`: ``better`` > ``worse``). On each
dataset, the two rows are paired by fold (same test identities), the differences
d_k = better_k − worse_k are averaged, and the interval is Student's t interval of that mean:
mean ± t_{(1+c)/2, n−1} · sd / √n over the n folds. The verdict is *supported* when the interval
lies above 0, *contradicted* when it lies below, and *inconclusive* otherwise (or with one fold,
which has no interval). The verdict speaks for the data the rows came from, nothing more: on the
synthetic benchmark it says whether our code, on our data, shows the paper's effect.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from scipy import stats

from stsrn_lite.book.divergence import retry_recipes
from stsrn_lite.book.tables import DATASET_NAMES, metric_name

CONFIDENCE = 0.95  # of the intervals
VERDICTS = ("supported", "contradicted", "inconclusive")


@dataclass(frozen=True)
class Claim:
    key: str
    statement: str  # the paper's claim, in a few words
    source: str  # where the paper makes it
    table: str  # the result table holding both rows (results/<profile>/<table>.csv)
    better: str  # the row (preset or label) the paper finds better
    worse: str
    trained_on: str | None = None  # Table 4: only the rows of models trained on this dataset
    metric: str = "rank1"  # the rank (or "mAP") the paper's claim is about
    reading: str | None = None  # Table 2: only the rows of this reading of MARS (the paper's: "astpn")
    over_epochs: bool = False  # Fig. 5: the metric's mean over the epochs both runs of a fold tested


CLAIMS: tuple[Claim, ...] = (
    Claim("stsrn", "STSRN beats the CNN-RNN", "Table 1", "table1", "STSRN", "CNN-RNN"),
    Claim("mars", "STSRN beats the CNN-RNN on MARS (ASTPN's reading)", "Table 2", "table2", "STSRN", "CNN-RNN",
          reading="astpn"),
    # §4.5 makes the claim over Table 5's models; the rank-1 values both rows share are Table 6's
    Claim("residual", "residual blocks help: DoubleResBlocks beats BaseModel", "§4.5; rank-1 of Table 6", "table5",
          "DoubleResBlocks", "BaseModel"),
    # §4.5: TripleResBlocks "performs worse than DoubleResBlocks on two datasets in highest ranks",
    # the right end of Fig. 4's CMC curves (its rank-1 is above 63.3, §4.5's last paragraph)
    Claim("depth", "more blocks are not better: DoubleResBlocks beats TripleResBlocks at rank 20", "§4.5",
          "table5", "DoubleResBlocks", "TripleResBlocks", metric="rank20"),
    Claim("block-a", "the block of Fig. 3c beats Fig. 3a's (DoubleResBlocks*)", "§4.5", "table5",
          "DoubleResBlocks", "DoubleResBlocks*"),
    Claim("block-b", "the block of Fig. 3c beats Fig. 3b's", "§4.5", "table5",
          "DoubleResBlocks", "DoubleResBlocks (Fig. 3b)"),
    Claim("temres", "TemRes helps: Base+TemRes beats BaseModel", "Table 6", "table6", "Base+TemRes", "BaseModel"),
    Claim("stsm", "STSM helps: Double+TemRes+STSM beats Double+TemRes", "Table 6", "table6",
          "Double+TemRes+STSM", "Double+TemRes"),
    Claim("cross", "STSRN generalises better: trained on iLIDS-VID, it beats the CNN-RNN on PRID2011",
          "Table 4", "table4", "STSRN", "CNN-RNN", trained_on="ilids-vid"),
    # §4.6: "BaseModel only reaches an accuracy of 28.3% in the 100th training epoch while
    # BaseModel+TemRes [...] 46.7%"; ours: rank-1 averaged over the epochs tested during training
    Claim("temres-curve", "TemRes helps during training: Base+TemRes beats BaseModel over the tested epochs "
          "(paper: at epoch 100)", "Fig. 5", "fig5", "Base+TemRes", "BaseModel", over_epochs=True),
)  # fmt: skip


def interval(differences: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean, low, high) of ``differences``: Student's t interval of the mean (NaN bounds for one value)."""
    n = len(differences)
    if n == 0:
        raise ValueError("no differences to summarise")
    mean = statistics.fmean(differences)
    if n == 1:
        return mean, math.nan, math.nan
    half = stats.t.ppf((1 + confidence) / 2, n - 1) * statistics.stdev(differences) / math.sqrt(n)
    return mean, mean - half, mean + half


def verdict(low: float, high: float) -> str:
    """ "supported" (the interval above 0), "contradicted" (below 0) or "inconclusive"."""
    if low > 0:
        return "supported"
    if high < 0:
        return "contradicted"
    return "inconclusive"


def _ranked(row: Mapping, metric: str) -> bool:
    """Whether ``row`` can tell anything at ``metric``: a rank below its gallery size (where the
    row has one), or mAP."""
    gallery = str(row.get("gallery") or "")
    if not metric.startswith("rank") or not gallery:
        return True
    return int(metric.removeprefix("rank")) < float(gallery)


def _by_fold(rows: Sequence[Mapping], dataset: str, preset: str, claim: Claim) -> dict[int, Mapping]:
    return {
        int(row["fold"]): row
        for row in rows
        if row["dataset"] == dataset
        and row["preset"] == preset
        and (claim.trained_on is None or row.get("trained_on") == claim.trained_on)
        and (claim.reading is None or row.get("reading") == claim.reading)
    }


def _over_epochs(rows: Sequence[Mapping], claim: Claim, metric: str) -> list[dict]:
    """Fig. 5's rows (one per run and tested epoch) as one row per run: ``metric``'s mean over the
    epochs that both of the claim's runs of that dataset and fold tested."""
    tested: dict[tuple, dict[int, float]] = {}
    first: dict[tuple, Mapping] = {}
    for row in rows:
        if row["preset"] in (claim.better, claim.worse) and row.get(metric) not in (None, ""):
            key = (row["dataset"], row["preset"], int(row["fold"]))
            tested.setdefault(key, {})[int(row["epoch"])] = float(row[metric])
            first.setdefault(key, row)
    out = []
    for (dataset, preset, fold), values in tested.items():
        other = tested.get((dataset, claim.worse if preset == claim.better else claim.better, fold), {})
        epochs = sorted(set(values) & set(other))
        if epochs:
            out.append({**first[(dataset, preset, fold)], metric: statistics.fmean(values[e] for e in epochs)})
    return out


def retried_text(retried: Sequence[tuple[int, str, str]]) -> str:
    """ "fold 2: STSRN fast-stable" for each (fold, row, recipe) of `assess`'s ``retried``; "" for none."""
    return "; ".join(f"fold {fold}: {name} {recipe}" for fold, name, recipe in retried)


def assess(
    tables: Mapping[str, Sequence[Mapping]],
    claims: Sequence[Claim] = CLAIMS,
    metric: str | None = None,
    confidence: float = CONFIDENCE,
) -> list[dict]:
    """One row per claim and dataset that ``tables`` ({table name: its result rows}) hold both
    rows of, on the folds they share: the folds, both means, the mean paired difference with its
    interval, and the verdict; on ``metric``, else on the claim's (`Claim.metric`). A fold whose
    gallery is not larger than the rank a claim is about has no difference there (100 % for both
    by construction) and is left out."""
    out = []
    for claim in claims:
        on = metric or claim.metric
        rows = [row for row in tables.get(claim.table, ()) if _ranked(row, on)]
        if claim.over_epochs:
            rows = _over_epochs(rows, claim, on)
        retries = retry_recipes(rows)  # the recipes of rows trained again after a divergence
        for dataset in dict.fromkeys(row["dataset"] for row in rows):
            better_rows = _by_fold(rows, dataset, claim.better, claim)
            worse_rows = _by_fold(rows, dataset, claim.worse, claim)
            folds = sorted(set(better_rows) & set(worse_rows))
            if not folds:
                continue
            better = {k: float(better_rows[k][on]) for k in folds}
            worse = {k: float(worse_rows[k][on]) for k in folds}
            retried = [
                (k, name, found[k]["recipe"])
                for k in folds
                for name, found in ((claim.better, better_rows), (claim.worse, worse_rows))
                if found[k].get("recipe") in retries
            ]
            mean, low, high = interval([better[k] - worse[k] for k in folds], confidence)
            out.append(
                {
                    "claim": claim.key,
                    "statement": claim.statement,
                    "source": claim.source,
                    "dataset": dataset,
                    "metric": on,
                    "folds": len(folds),
                    "better": statistics.fmean(better[k] for k in folds),
                    "worse": statistics.fmean(worse[k] for k in folds),
                    "effect": mean,
                    "low": low,
                    "high": high,
                    "verdict": verdict(low, high) if len(folds) > 1 else "inconclusive",
                    # (fold, row, recipe) of the rows trained again after their recipe's run
                    # diverged (`stsrn_lite.book.divergence`): that fold's pair had two recipes
                    "retried": retried,
                }
            )
    return out


def verdict_table(
    table: str, sources: Mapping[str, Sequence[Mapping]], metric: str | None = None, claims: Sequence[Claim] = CLAIMS
) -> pd.DataFrame:
    """The claims resting on ``table``, judged on each source's rows ({column label: result rows},
    as the chapters hold them): one row per (claim, dataset, source) with the folds, the rank the
    effect is measured at (``metric``, else the claim's), the effect
    (mean paired difference in points, with its interval where there are several folds) and the
    verdict, and, where a row was trained again after diverging, which (a column only then).
    Empty when no source holds both rows of a claim."""
    rows = []
    for label, found in sources.items():
        for result in assess({table: found}, [c for c in claims if c.table == table], metric):
            effect = f"{result['effect']:+.1f}"
            if result["folds"] > 1:
                effect += f" [{result['low']:+.1f}, {result['high']:+.1f}]"
            retried = retried_text(result["retried"])
            rows.append(
                {
                    "claim": f"{result['statement']} ({result['source']})",
                    "dataset": DATASET_NAMES.get(result["dataset"], result["dataset"]),
                    "source": label,
                    "folds": result["folds"],
                    "at": metric_name(result["metric"]),
                    f"effect (points, {CONFIDENCE:.0%} interval)": effect,
                    "verdict": result["verdict"],
                    "trained again": retried or "–",
                }
            )
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows).set_index(["claim", "dataset", "source"])
    return frame if (frame["trained again"] != "–").any() else frame.drop(columns="trained again")


def paper_rank1(claim: Claim, dataset: str, name: str) -> float | None:
    """The paper's rank-1 of row ``name`` of the claim's table on ``dataset`` (None where it gives
    none, or where the claim is about another rank)."""
    from stsrn_lite.book import paper

    if claim.metric != "rank1":
        return None
    if claim.table == "table1":
        return (paper.TABLE_1.get(name, {}).get(dataset) or (None,))[0]
    if claim.table == "table2":
        return (paper.TABLE_2.get(name) or (None,))[0] if dataset == "mars" else None
    if claim.table == "table4":
        return (paper.TABLE_4.get(name) or (None,))[0] if dataset == "prid2011" else None
    if claim.table == "fig5":
        return paper.FIG_5_EPOCH_100_RANK1.get(name) if dataset == "ilids-vid" else None
    if name in paper.TABLE_5_RANK1:
        return paper.TABLE_5_RANK1[name].get(dataset)
    return (paper.TABLE_6.get(name, {}).get(dataset) or (None,))[0]


def report(stored: Mapping[str, Mapping[str, Sequence[Mapping]]], claims: Sequence[Claim] = CLAIMS) -> pd.DataFrame:
    """Every claim on every dataset: the paper's effect (its two rank-1 values) beside ours from
    each profile's stored rows (``stored``: {profile: {table: rows}}), with the folds, interval
    and verdict, and a status (`status`). A claim no profile has both rows of still has its line.
    """
    lines = []
    for claim in claims:
        datasets = {"table2": ("mars",), "table4": ("prid2011",), "fig5": ("ilids-vid",)}.get(
            claim.table, ("ilids-vid", "prid2011")
        )
        for dataset in datasets:
            better, worse = paper_rank1(claim, dataset, claim.better), paper_rank1(claim, dataset, claim.worse)
            theirs = f"{better - worse:+.1f} ({better:g} vs {worse:g})" if None not in (better, worse) else "–"
            line = {
                "claim": f"{claim.statement} ({claim.source})",
                "dataset": DATASET_NAMES.get(dataset, dataset),
                "paper (rank-1 points)": theirs,
            }
            judged = {}
            for profile, tables in stored.items():
                found = [r for r in assess(tables, [claim]) if r["dataset"] == dataset]
                if not found:
                    continue
                result = judged[profile] = found[0]
                effect = f"{result['effect']:+.1f}"
                if result["folds"] > 1:
                    effect += f" [{result['low']:+.1f}, {result['high']:+.1f}]"
                retried = retried_text(result["retried"])
                line[f"{profile}: effect"] = f"{effect}, {result['folds']} fold{'s' if result['folds'] > 1 else ''}" + (
                    f" ({retried} after a divergence)" if retried else ""
                )
                line[f"{profile}: verdict"] = result["verdict"]
            line["status"] = status(claim, dataset, judged, stored)
            lines.append(line)
    frame = pd.DataFrame(lines).set_index(["claim", "dataset"])
    return frame.fillna("–")


# where a claim's strongest evidence comes from, strongest first (`stsrn_lite.book.profiles`)
EVIDENCE = ("paper", "full", "bench", "smoke")


def status(claim: Claim, dataset: str, judged: Mapping[str, Mapping], stored: Mapping[str, Mapping]) -> str:
    """Where a claim stands on ``dataset``, from the strongest profile that judged it (``judged``:
    {profile: its `assess` result}): the paper profile's verdict is about the real data; the full
    and bench profiles' about our code on synthetic people at the real sizes; the smoke profile's
    proves only that the code runs. Not judged: why (``stored``: every profile's tables). Short
    enough for a table cell."""
    from stsrn_lite.book.profiles import PROFILES

    for profile in EVIDENCE:
        if profile not in judged:
            continue
        result = judged[profile]
        folds = f"{result['folds']} fold{'s' if result['folds'] > 1 else ''}"
        if profile == "paper":
            return f"real data: {result['verdict']} ({folds})"
        if profile == "smoke":
            return "smoke only: no evidence"
        return f"synthetic, {profile}: {result['verdict']} ({folds})"
    ran = [p for p, tables in stored.items() if any(row["dataset"] == dataset for row in tables.get(claim.table, ()))]
    small = [p for p in ran if any(r["dataset"] == dataset for r in assess(stored[p], [claim], metric="rank1"))]
    if small:  # both rows are there, but the claim's rank is not below their gallery
        return f"not judged: {metric_name(claim.metric)} ≥ gallery in {', '.join(small)}"
    if ran:
        return f"not judged: a row is missing in {', '.join(ran)}"
    skipped = [
        name
        for name in ("smoke", "bench")
        if claim.table in ("table5", "table6") and dataset not in PROFILES[name].ablation_datasets
    ]
    if skipped:
        return f"not run: {', '.join(skipped)} ablate iLIDS-VID only"
    return "not run yet"
