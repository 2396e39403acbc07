"""Ranking metrics for video person re-ID: CMC and mAP from a query × gallery distance matrix.

Two rule sets, both described in (book: The original code, "Test protocols"):

``rules="torchreid"`` (torchreid ``metrics/rank.py eval_market1501``)
    For each query, gallery entries with the query's pid **and** camid are dropped. A query
    with no true match (same pid) left is skipped. The CMC is the cumulative hit vector capped
    at 1; AP is the mean of precision@k at the ranks k of the true matches (no interpolation).
    CMC and mAP are averaged over the valid queries only. On iLIDS-VID and PRID (two-camera protocol, one
    true match per query in the other camera) AP = 1 / rank, so mAP is the mean reciprocal rank.

``rules="mars"`` (official MARS MATLAB ``evaluation_mars.m`` and ``compute_AP.m``)
    good = gallery entries with the query's pid and a different camera; junk = every pid −1
    entry plus the entries with the query's pid and camera (the query itself among them).
    Junk is removed from the ranking before ranks are counted; distractors (pid 0) are
    ordinary negatives. AP is the trapezoid rule: starting from precision 1 and recall 0, each
    good entry adds (recall increase) × (mean of the previous and the current precision), where
    "previous" is the precision at the rank just above it. With the official gallery (all
    12,180 test tracklets) every query has a good match; a query without one is skipped here,
    and `RankDetails` says how many were.

Ties: the ranking is ``np.argsort(distmat, axis=1, kind="stable")``, so equal distances keep
gallery order, which makes the result deterministic. MATLAB's ``sort`` is stable too; torchreid
uses numpy's default quicksort, whose order among ties is unspecified, so on tied distances
torchreid's own figures may differ from these.

Ranks beyond the gallery: ``cmc[k]`` is the fraction of valid queries whose first true match
is at rank ≤ k + 1. Every valid query has its first hit within the gallery, so when
``max_rank`` exceeds the number of (kept) gallery entries the CMC simply repeats its last
value; torchreid instead shortens ``max_rank`` to the gallery size.

Shapes: Q queries, G gallery entries; ``distmat`` is (Q, G), smaller means more similar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RULES = ("torchreid", "mars")
JUNK_PID = -1  # MARS: tracklets of unusable quality (§2(b))
_CHUNK_ELEMENTS = 1 << 22  # queries are ranked in chunks of about this many (Q, G) entries


@dataclass(frozen=True)
class RankDetails:
    """Everything `evaluate_rank` computes, per query as well as averaged."""

    cmc: np.ndarray  # (max_rank,) float64 in [0, 1], averaged over valid queries
    mAP: float  # mean AP over valid queries, in [0, 1]
    ap: np.ndarray  # (Q,) float64, AP of each query; NaN where skipped
    first_hit: np.ndarray  # (Q,) int64, 1-based rank of the first true match after removal; 0 where skipped
    valid: np.ndarray  # (Q,) bool, False for a query with no true match left

    @property
    def num_valid(self) -> int:
        return int(self.valid.sum())

    @property
    def num_skipped(self) -> int:
        return int(self.valid.size - self.valid.sum())


def _labels(values, name: str, length: int | None) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if length is not None and array.size != length:
        raise ValueError(f"{name} must have {length} entries to match distmat, got {array.size}")
    return array


def _check(distmat, q_pids, g_pids, q_camids, g_camids, max_rank: int, rules: str):
    if rules not in RULES:
        raise ValueError(f"rules must be one of {RULES}, got {rules!r}")
    is_integer = isinstance(max_rank, (int, np.integer)) and not isinstance(max_rank, bool)
    if not is_integer or max_rank < 1:
        raise ValueError(f"max_rank must be an integer >= 1, got {max_rank!r}")
    distmat = np.asarray(distmat)
    if distmat.ndim != 2:
        raise ValueError(f"distmat must be 2-D (num_query, num_gallery), got shape {distmat.shape}")
    if distmat.shape[0] == 0 or distmat.shape[1] == 0:
        raise ValueError(f"distmat must have at least one query and one gallery entry, got shape {distmat.shape}")
    if not (np.issubdtype(distmat.dtype, np.floating) or np.issubdtype(distmat.dtype, np.integer)):
        raise ValueError(f"distmat must hold real numbers, got dtype {distmat.dtype}")
    if np.issubdtype(distmat.dtype, np.floating) and np.isnan(distmat).any():
        raise ValueError(f"distmat holds {int(np.isnan(distmat).sum())} NaN value(s)")
    num_q, num_g = distmat.shape
    return (
        distmat,
        _labels(q_pids, "q_pids", num_q),
        _labels(g_pids, "g_pids", num_g),
        _labels(q_camids, "q_camids", num_q),
        _labels(g_camids, "g_camids", num_g),
    )


def _rank_chunk(distmat, q_pids, g_pids, q_camids, g_camids, mars: bool):
    """AP, first-hit rank and validity of a chunk of q queries: (q,), (q,), (q,)."""
    order = np.argsort(distmat, axis=1, kind="stable")  # (q, G) gallery indices, nearest first
    same_pid = g_pids[order] == q_pids[:, None]  # (q, G) in ranked order
    junk = same_pid & (g_camids[order] == q_camids[:, None])
    if mars:
        junk |= g_pids[order] == JUNK_PID
    good = same_pid & ~junk  # true matches that stay in the ranking
    rank = np.cumsum(~junk, axis=1, dtype=np.int64)  # (q, G) 1-based rank among kept entries
    hits = np.cumsum(good, axis=1, dtype=np.int64)  # (q, G) true matches up to here
    n_good = hits[:, -1]
    valid = n_good > 0

    rows, cols = np.nonzero(good)  # every true match, by query then rank
    r = rank[rows, cols].astype(np.float64)  # its rank k
    i = hits[rows, cols].astype(np.float64)  # matches within the top k
    precision = i / r
    if mars:
        # compute_AP: precision just above rank k is (i - 1) / (k - 1), or 1 at k = 1
        previous = np.divide(i - 1, r - 1, out=np.ones_like(r), where=r > 1)
        precision = (previous + precision) / 2
    ap_sum = np.bincount(rows, weights=precision, minlength=len(q_pids))
    with np.errstate(invalid="ignore", divide="ignore"):
        ap = np.where(valid, ap_sum / n_good, np.nan)  # each match adds recall 1 / n_good

    first_col = good.argmax(axis=1)
    first_hit = np.where(valid, rank[np.arange(len(q_pids)), first_col], 0)
    return ap, first_hit, valid


def evaluate_rank_details(
    distmat, q_pids, g_pids, q_camids, g_camids, max_rank: int = 20, *, rules: str = "torchreid"
) -> RankDetails:
    """CMC, mAP and the per-query figures behind them; see the module docstring for the rules.

    distmat: (Q, G) real distances, no NaN (inf is allowed). q_pids, q_camids: (Q,);
    g_pids, g_camids: (G,). Raises ValueError on malformed input or when no query is valid.
    """
    distmat, q_pids, g_pids, q_camids, g_camids = _check(distmat, q_pids, g_pids, q_camids, g_camids, max_rank, rules)
    num_q, num_g = distmat.shape
    ap = np.empty(num_q)
    first_hit = np.empty(num_q, dtype=np.int64)
    valid = np.empty(num_q, dtype=bool)
    step = max(1, _CHUNK_ELEMENTS // num_g)
    for start in range(0, num_q, step):
        part = slice(start, start + step)
        ap[part], first_hit[part], valid[part] = _rank_chunk(
            distmat[part], q_pids[part], g_pids, q_camids[part], g_camids, rules == "mars"
        )
    if not valid.any():
        raise ValueError(
            f"no query has a true match in the gallery under rules={rules!r} ({num_q} queries, {num_g} gallery entries)"
        )
    # cmc[k]: fraction of valid queries whose first match is within the top k + 1
    cmc = (first_hit[valid][:, None] <= np.arange(1, max_rank + 1)).mean(axis=0)  # (max_rank,)
    return RankDetails(cmc=cmc, mAP=float(ap[valid].mean()), ap=ap, first_hit=first_hit, valid=valid)


def evaluate_rank(
    distmat, q_pids, g_pids, q_camids, g_camids, max_rank: int = 20, *, rules: str = "torchreid"
) -> tuple[np.ndarray, float]:
    """``(cmc, mAP)``: cmc is (max_rank,) float64 fractions in [0, 1], mAP a float in [0, 1].

    Skipped queries are not reported here; use `evaluate_rank_details` for their count.
    """
    details = evaluate_rank_details(distmat, q_pids, g_pids, q_camids, g_camids, max_rank, rules=rules)
    return details.cmc, details.mAP


def summary(cmc: np.ndarray, mAP: float, ranks: tuple[int, ...] = (1, 5, 10, 20)) -> dict[str, float]:
    """``{"rank1": ..., "rank5": ..., "mAP": ...}`` in percent, rounded to 2 decimals."""
    cmc = np.asarray(cmc)
    table = {}
    for k in ranks:
        if not 1 <= k <= len(cmc):
            raise ValueError(f"rank {k} is outside the CMC, which covers ranks 1..{len(cmc)}")
        table[f"rank{k}"] = round(100 * float(cmc[k - 1]), 2)
    table["mAP"] = round(100 * float(mAP), 2)
    return table
