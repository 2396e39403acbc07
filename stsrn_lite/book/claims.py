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

from stsrn_lite.book.tables import DATASET_NAMES

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


CLAIMS: tuple[Claim, ...] = (
    Claim("stsrn", "STSRN beats the CNN-RNN", "Table 1", "table1", "STSRN", "CNN-RNN"),
    Claim("residual", "residual blocks help: DoubleResBlocks beats BaseModel", "Table 5", "table5",
          "DoubleResBlocks", "BaseModel"),
    Claim("depth", "more blocks are not better: DoubleResBlocks beats TripleResBlocks", "Table 5", "table5",
          "DoubleResBlocks", "TripleResBlocks"),
    Claim("block-a", "the block of Fig. 3c beats Fig. 3a's (DoubleResBlocks*)", "Table 5", "table5",
          "DoubleResBlocks", "DoubleResBlocks*"),
    Claim("block-b", "the block of Fig. 3c beats Fig. 3b's", "§4.5", "table5",
          "DoubleResBlocks", "DoubleResBlocks (Fig. 3b)"),
    Claim("temres", "TemRes helps: Base+TemRes beats BaseModel", "Table 6", "table6", "Base+TemRes", "BaseModel"),
    Claim("stsm", "STSM helps: Double+TemRes+STSM beats Double+TemRes", "Table 6", "table6",
          "Double+TemRes+STSM", "Double+TemRes"),
    Claim("cross", "STSRN generalises better: trained on iLIDS-VID, it beats the CNN-RNN on PRID2011",
          "Table 4", "table4", "STSRN", "CNN-RNN", trained_on="ilids-vid"),
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


def _by_fold(rows: Sequence[Mapping], dataset: str, preset: str, metric: str, trained_on: str | None) -> dict:
    return {
        int(row["fold"]): float(row[metric])
        for row in rows
        if row["dataset"] == dataset
        and row["preset"] == preset
        and (trained_on is None or row.get("trained_on") == trained_on)
    }


def assess(
    tables: Mapping[str, Sequence[Mapping]],
    claims: Sequence[Claim] = CLAIMS,
    metric: str = "rank1",
    confidence: float = CONFIDENCE,
) -> list[dict]:
    """One row per claim and dataset that ``tables`` ({table name: its result rows}) hold both
    rows of, on the folds they share: the folds, both means, the mean paired difference with its
    interval, and the verdict."""
    out = []
    for claim in claims:
        rows = tables.get(claim.table, ())
        for dataset in dict.fromkeys(row["dataset"] for row in rows):
            better = _by_fold(rows, dataset, claim.better, metric, claim.trained_on)
            worse = _by_fold(rows, dataset, claim.worse, metric, claim.trained_on)
            folds = sorted(set(better) & set(worse))
            if not folds:
                continue
            mean, low, high = interval([better[k] - worse[k] for k in folds], confidence)
            out.append(
                {
                    "claim": claim.key,
                    "statement": claim.statement,
                    "source": claim.source,
                    "dataset": dataset,
                    "metric": metric,
                    "folds": len(folds),
                    "better": statistics.fmean(better[k] for k in folds),
                    "worse": statistics.fmean(worse[k] for k in folds),
                    "effect": mean,
                    "low": low,
                    "high": high,
                    "verdict": verdict(low, high) if len(folds) > 1 else "inconclusive",
                }
            )
    return out


def verdict_table(
    table: str, sources: Mapping[str, Sequence[Mapping]], metric: str = "rank1", claims: Sequence[Claim] = CLAIMS
) -> pd.DataFrame:
    """The claims resting on ``table``, judged on each source's rows ({column label: result rows},
    as the chapters hold them): one row per (claim, dataset, source) with the folds, the effect
    (mean paired difference in points, with its interval where there are several folds) and the
    verdict. Empty when no source holds both rows of a claim."""
    rows = []
    for label, found in sources.items():
        for result in assess({table: found}, [c for c in claims if c.table == table], metric):
            effect = f"{result['effect']:+.1f}"
            if result["folds"] > 1:
                effect += f" [{result['low']:+.1f}, {result['high']:+.1f}]"
            rows.append(
                {
                    "claim": f"{result['statement']} ({result['source']})",
                    "dataset": DATASET_NAMES.get(result["dataset"], result["dataset"]),
                    "source": label,
                    "folds": result["folds"],
                    f"effect on {metric} (points, {CONFIDENCE:.0%} interval)": effect,
                    "verdict": result["verdict"],
                }
            )
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).set_index(["claim", "dataset", "source"])
