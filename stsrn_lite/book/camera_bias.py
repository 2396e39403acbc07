"""Whether a matcher ranks the probe's own camera before the person (chapter 08, Table 2).

Under the two-camera protocol of iLIDS-VID and PRID2011 every probe is in camera 0 and every
gallery tracklet in camera 1, so the camera alone cannot favour a wrong identity. Under ASTPN's
reading of MARS the gallery mixes six cameras and a probe's true match is never in the probe's own
camera, so a matcher that sees a camera's cast and background more than the person ranks a wrong
identity of the probe's camera first.

`camera_bias` measures it on any `Ranking` (the colour histogram's, `stsrn_lite.book.floors`, or
a trained model's test, `Ranking.of`): for each probe, the nearest gallery tracklet of a wrong
identity, and whether it shares the probe's camera. A random ranking picks it in the probe's
camera as often as the wrong identities' tracklets are there, and so does one that ignores the
camera, where a person's looks do not depend on the cameras drawn; the row gives both shares, with
the median rank of the first true match and rank-1. Ties go to the lower gallery index
throughout, as in a stable sort. It is meant for rankings without junk (the two-camera protocol,
ASTPN's reading of MARS): a true match in the probe's own camera counts as one, where MARS's
official protocol discards it. `bias_summary` averages such rows over the folds.

Shapes: Q probes, G gallery tracklets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stsrn_lite.book.tables import mean_std
from stsrn_lite.evaluation.protocols import Evaluation

NEAREST_WRONG = "nearest wrong identity in the probe's camera"  # % of the probes
WRONG_SHARE = "wrong identities' tracklets in the probe's camera"  # % of them: a random ranking's NEAREST_WRONG
TRUE_MATCH = "true match in the probe's camera"  # % of the probes with one there
MEDIAN_RANK = "median rank of the true match"  # of the first one; a random ranking's is about (G + 1) / 2
MEASURES = (NEAREST_WRONG, WRONG_SHARE, TRUE_MATCH, MEDIAN_RANK, "rank1")


@dataclass(frozen=True)
class Ranking:
    """Distances from each probe to each gallery tracklet, with their identities and cameras."""

    distmat: np.ndarray  # (Q, G), smaller is nearer
    q_pids: np.ndarray  # (Q,)
    g_pids: np.ndarray  # (G,)
    q_cams: np.ndarray  # (Q,)
    g_cams: np.ndarray  # (G,)

    @classmethod
    def of(cls, evaluation: Evaluation) -> Ranking:
        """The ranking a trained model's test made (`stsrn_lite.evaluation.protocols.Evaluation`)."""
        e = evaluation
        return cls(e.distmat, e.q_pids, e.g_pids, e.q_camids, e.g_camids)


def camera_bias(ranking: Ranking, dataset: str, fold: int, matcher: str, **extra) -> dict:
    """The camera bias of ``matcher``'s ``ranking`` on fold ``fold`` of ``dataset`` (module
    docstring), as a plain row; ``extra`` (e.g. the run's recipe) is added to it. The distances must
    be finite, and every probe needs a true match and a wrong identity in the gallery."""
    distmat = np.asarray(ranking.distmat, dtype=np.float64)
    q_pids, g_pids = np.asarray(ranking.q_pids), np.asarray(ranking.g_pids)
    q_cams, g_cams = np.asarray(ranking.q_cams), np.asarray(ranking.g_cams)
    if distmat.shape != (len(q_pids), len(g_pids)):
        raise ValueError(f"distmat has shape {distmat.shape}, expected (Q, G) = ({len(q_pids)}, {len(g_pids)})")
    if not np.isfinite(distmat).all():
        raise ValueError("distmat holds NaN or infinite distances; expected finite ones")
    clash = set(extra) & {"dataset", "fold", "preset", "probes", *MEASURES}
    if clash:
        raise ValueError(f"extra fields {sorted(clash)} would overwrite the row's own")
    true = g_pids[None, :] == q_pids[:, None]  # (Q, G)
    if not true.any(axis=1).all() or true.all(axis=1).any():
        raise ValueError("every probe needs a true match and a wrong identity in the gallery")
    same = g_cams[None, :] == q_cams[:, None]  # (Q, G): gallery item j in probe i's camera
    queries = np.arange(len(q_pids))
    order = np.argsort(distmat, axis=1, kind="stable")  # (Q, G) the gallery, nearest first
    ranked_true = true[queries[:, None], order]  # (Q, G)
    ranks = np.argmax(ranked_true, axis=1) + 1  # (Q,) the first true match's rank
    nearest_wrong = order[queries, np.argmax(~ranked_true, axis=1)]  # (Q,) a gallery index
    wrong_share = (same & ~true).sum(axis=1) / (~true).sum(axis=1)  # (Q,)
    return {
        "dataset": dataset,
        "fold": int(fold),
        "preset": matcher,  # the key of `stsrn_lite.book.tables.result_row`'s rows
        **extra,
        "probes": len(q_pids),
        NEAREST_WRONG: _percent(same[queries, nearest_wrong].mean()),
        WRONG_SHARE: _percent(wrong_share.mean()),
        TRUE_MATCH: _percent((same & true).any(axis=1).mean()),
        MEDIAN_RANK: float(np.median(ranks)),
        "rank1": _percent((ranks == 1).mean()),
    }


def bias_summary(rows: Sequence[Mapping]) -> pd.DataFrame:
    """`camera_bias` ``rows`` (as stored, strings allowed) as mean ± std over the folds: one row per
    matcher (their ``preset``), in the order they first appear, one column per measure, with the
    folds and the probes (each count once: "150" for three folds of 150)."""
    frame = pd.DataFrame(rows)
    frame[list(MEASURES)] = frame[list(MEASURES)].astype(float)
    table = {
        matcher: {
            **{measure: mean_std(group[measure]) for measure in MEASURES},
            "folds": int(group["fold"].nunique()),
            "probes": "/".join(dict.fromkeys(str(int(probes)) for probes in group["probes"])),
        }
        for matcher, group in frame.groupby("preset", sort=False)
    }
    return pd.DataFrame.from_dict(table, orient="index").rename_axis("matcher")


def _percent(fraction: float) -> float:
    return round(100 * float(fraction), 1)
