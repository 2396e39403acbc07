"""CMC and mAP against rankings worked out by hand, and against a plain per-query loop."""

from __future__ import annotations

import numpy as np
import pytest

from stsrn_lite.evaluation import metrics
from stsrn_lite.evaluation.metrics import evaluate_rank, evaluate_rank_details, summary

# --- reference: one query at a time, walking down the ranked list ---------------------------


def reference_query(dist, q_pid, q_cam, g_pids, g_cams, rules):
    """(AP, first-hit rank) of one query, or None when it has no true match left."""
    ranked = np.argsort(dist, kind="stable")
    kept = []
    for g in ranked:
        same = g_pids[g] == q_pid and g_cams[g] == q_cam
        if same or (rules == "mars" and g_pids[g] == -1):
            continue
        kept.append(g_pids[g] == q_pid)
    n_good = sum(kept)
    if n_good == 0:
        return None
    first = kept.index(True) + 1
    found, ap, old_precision = 0, 0.0, 1.0
    for k, is_good in enumerate(kept, start=1):
        found += is_good
        precision = found / k
        if is_good and rules == "torchreid":
            ap += precision / n_good
        if is_good and rules == "mars":
            ap += (1 / n_good) * (old_precision + precision) / 2
        old_precision = precision
    return ap, first


def reference(distmat, q_pids, g_pids, q_cams, g_cams, max_rank, rules):
    results = [reference_query(distmat[i], q_pids[i], q_cams[i], g_pids, g_cams, rules) for i in range(len(q_pids))]
    valid = [r for r in results if r is not None]
    cmc = np.zeros(max_rank)
    for _, first in valid:
        cmc[first - 1 :] += 1
    return cmc / len(valid), float(np.mean([ap for ap, _ in valid])), results


# --- a 3 x 4 ranking by hand ----------------------------------------------------------------

# Queries in camera 0, gallery in camera 1, so nothing is removed under either rule.
HAND_G_PIDS = np.array([1, 2, 1, 3])
HAND_DIST = np.array(
    [
        [0.3, 0.1, 0.5, 0.2],  # query pid 1: ranking g1(2) g3(3) g0(1) g2(1) -> matches at ranks 3, 4
        [0.4, 0.2, 0.9, 0.8],  # query pid 2: ranking g1(2) g0 g3 g2          -> match at rank 1
        [0.1, 0.7, 0.2, 0.3],  # query pid 3: ranking g0(1) g2(1) g3(3) g1    -> match at rank 3
    ]
)
HAND_ARGS = (HAND_DIST, np.array([1, 2, 3]), HAND_G_PIDS, np.zeros(3, int), np.ones(4, int))


def test_hand_ranking_torchreid():
    cmc, mAP = evaluate_rank(*HAND_ARGS, max_rank=4)
    # first hits at ranks 3, 1, 3: rank 1 -> 1/3, rank 2 -> 1/3, ranks 3 and 4 -> 3/3
    np.testing.assert_allclose(cmc, [1 / 3, 1 / 3, 1, 1])
    # AP: (1/3 + 2/4) / 2 = 5/12; 1/1 = 1; 1/3  ->  mAP = (5/12 + 12/12 + 4/12) / 3 = 7/12
    assert mAP == pytest.approx(7 / 12)
    details = evaluate_rank_details(*HAND_ARGS, max_rank=4)
    np.testing.assert_allclose(details.ap, [5 / 12, 1, 1 / 3])
    np.testing.assert_array_equal(details.first_hit, [3, 1, 3])


def test_hand_ranking_mars_trapezoid():
    details = evaluate_rank_details(*HAND_ARGS, max_rank=4, rules="mars")
    # query pid 1, goods at ranks 3 and 4, recall step 1/2 each:
    #   rank 3: precision above it 0/2, here 1/3 -> 1/2 * (0 + 1/3) / 2   = 1/12
    #   rank 4: precision above it 1/3, here 2/4 -> 1/2 * (1/3 + 1/2) / 2 = 5/24  -> AP 7/24
    # query pid 2, good at rank 1: (initial 1 + 1) / 2 = 1
    # query pid 3, good at rank 3: (0/2 + 1/3) / 2 = 1/6
    np.testing.assert_allclose(details.ap, [7 / 24, 1, 1 / 6])
    assert details.mAP == pytest.approx((7 / 24 + 1 + 1 / 6) / 3)
    np.testing.assert_allclose(details.cmc, [1 / 3, 1 / 3, 1, 1])


# --- removals and skipped queries -------------------------------------------------------------


def test_torchreid_drops_same_pid_same_camera_and_skips_unmatched_queries():
    g_pids, g_cams = np.array([1, 2, 1]), np.array([0, 1, 1])
    q_pids, q_cams = np.array([1, 2, 2]), np.array([0, 1, 0])
    distmat = np.array(
        [
            [0.1, 0.2, 0.3],  # g0 (pid 1, cam 0) dropped -> g1, g2: match at rank 2, AP 1/2
            [0.9, 0.1, 0.5],  # its only pid-2 entry g1 is in its own camera -> no match, skipped
            [0.5, 0.1, 0.4],  # g1 is a match in another camera -> rank 1, AP 1
        ]
    )
    details = evaluate_rank_details(distmat, q_pids, g_pids, q_cams, g_cams, max_rank=3)
    np.testing.assert_array_equal(details.valid, [True, False, True])
    assert (details.num_valid, details.num_skipped) == (2, 1)
    np.testing.assert_array_equal(details.first_hit, [2, 0, 1])
    assert np.isnan(details.ap[1])
    # averaged over the 2 valid queries (over 3 it would be [1/3, 2/3, 2/3] and 1/2)
    np.testing.assert_allclose(details.cmc, [1 / 2, 1, 1])
    assert details.mAP == pytest.approx(3 / 4)


def test_mars_removes_junk_and_own_camera_but_keeps_distractors():
    # query pid 5, camera 1
    g_pids = np.array([-1, 5, 0, 5, 7, 5])
    g_cams = np.array([2, 1, 3, 2, 2, 3])
    distmat = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]])
    args = (distmat, np.array([5]), g_pids, np.array([1]), g_cams)
    mars = evaluate_rank_details(*args, max_rank=4, rules="mars")
    # junk g0 (pid -1) and g1 (pid 5, camera 1) leave: g2(0) g3(good) g4(7) g5(good)
    # the distractor g2 stays a negative, so the first hit is at rank 2, not 1
    np.testing.assert_array_equal(mars.first_hit, [2])
    np.testing.assert_allclose(mars.cmc, [0, 1, 1, 1])
    # trapezoid: rank 2: 1/2 * (0/1 + 1/2) / 2 = 1/8; rank 4: 1/2 * (1/3 + 2/4) / 2 = 5/24
    assert mars.mAP == pytest.approx(1 / 8 + 5 / 24)  # = 1/3
    # non-interpolated AP on the same ranking would be (1/2 + 2/4) / 2 = 1/2
    # torchreid keeps g0 (pid -1 is just another identity): g0 g2 g3 g4 g5 -> goods at 3 and 5
    trid = evaluate_rank_details(*args, max_rank=4, rules="torchreid")
    np.testing.assert_array_equal(trid.first_hit, [3])
    assert trid.mAP == pytest.approx((1 / 3 + 2 / 5) / 2)


# --- ties, single matches, padding --------------------------------------------------------------


def test_ties_keep_gallery_order():
    distmat = np.array([[1.0, 1.0, 2.0]])
    q = (np.array([1]), np.array([0]))
    # the match is second in gallery order among two equal distances -> rank 2
    details = evaluate_rank_details(distmat, q[0], np.array([9, 1, 3]), q[1], np.ones(3, int), max_rank=3)
    np.testing.assert_array_equal(details.first_hit, [2])
    assert details.mAP == pytest.approx(1 / 2)
    # swap the two tied entries: the match comes first -> rank 1
    details = evaluate_rank_details(distmat, q[0], np.array([1, 9, 3]), q[1], np.ones(3, int), max_rank=3)
    np.testing.assert_array_equal(details.first_hit, [1])


def test_one_match_per_query_map_is_mean_reciprocal_rank():
    rng = np.random.default_rng(0)
    n = 50  # closed set, query i matches gallery i in the other camera (iLIDS-VID / PRID style)
    distmat = rng.random((n, n))
    args = (distmat, np.arange(n), np.arange(n), np.zeros(n, int), np.ones(n, int))
    details = evaluate_rank_details(*args, max_rank=n)
    assert details.mAP == pytest.approx(np.mean(1 / details.first_hit))
    # the trapezoid gives 1 at rank 1 and 1/(2r) beyond: the precision above a lone match is 0
    mars = evaluate_rank_details(*args, max_rank=n, rules="mars")
    r = mars.first_hit
    np.testing.assert_allclose(mars.ap, np.where(r == 1, 1, 1 / (2 * r)))


def test_cmc_beyond_gallery_repeats_last_value():
    cmc, _ = evaluate_rank(*HAND_ARGS, max_rank=7)
    np.testing.assert_allclose(cmc, [1 / 3, 1 / 3, 1, 1, 1, 1, 1])


# --- the vectorised code against the loop -------------------------------------------------------


@pytest.mark.parametrize("rules", ["torchreid", "mars"])
@pytest.mark.parametrize("seed", range(4))
def test_matches_reference_loop_on_random_data_with_ties(rules, seed, monkeypatch):
    rng = np.random.default_rng(seed)
    num_q, num_g = 40, 70
    g_pids = rng.integers(-1, 9, num_g)  # -1 junk, 0 distractors, 1..8 identities
    g_cams = rng.integers(1, 4, num_g)
    q_pids = rng.integers(1, 9, num_q)
    q_cams = rng.integers(1, 4, num_q)
    distmat = np.round(rng.random((num_q, num_g)) * 6)  # few distinct values: many ties
    cmc_ref, map_ref, per_query = reference(distmat, q_pids, g_pids, q_cams, g_cams, 25, rules)
    monkeypatch.setattr(metrics, "_CHUNK_ELEMENTS", 7 * num_g)  # several chunks of 7 queries
    details = evaluate_rank_details(distmat, q_pids, g_pids, q_cams, g_cams, 25, rules=rules)
    np.testing.assert_allclose(details.cmc, cmc_ref)
    assert details.mAP == pytest.approx(map_ref)
    np.testing.assert_array_equal(details.valid, [r is not None for r in per_query])
    for i, r in enumerate(per_query):
        if r is not None:
            assert details.ap[i] == pytest.approx(r[0])
            assert details.first_hit[i] == r[1]


# --- input validation and the summary -----------------------------------------------------------


def test_input_validation():
    d, qp, gp, qc, gc = HAND_ARGS
    with pytest.raises(ValueError, match="g_pids must have 4"):
        evaluate_rank(d, qp, gp[:3], qc, gc)
    with pytest.raises(ValueError, match="q_camids must have 3"):
        evaluate_rank(d, qp, gp, qc[:2], gc)
    with pytest.raises(ValueError, match="2-D"):
        evaluate_rank(d[0], qp, gp, qc, gc)
    with pytest.raises(ValueError, match="NaN"):
        evaluate_rank(np.where(d > 0.85, np.nan, d), qp, gp, qc, gc)
    with pytest.raises(ValueError, match="at least one"):
        evaluate_rank(np.zeros((0, 4)), qp[:0], gp, qc[:0], gc)
    with pytest.raises(ValueError, match="max_rank"):
        evaluate_rank(d, qp, gp, qc, gc, max_rank=0)
    with pytest.raises(ValueError, match="rules"):
        evaluate_rank(d, qp, gp, qc, gc, rules="market")
    with pytest.raises(ValueError, match="no query has a true match"):
        evaluate_rank(d, qp + 10, gp, qc, gc)


def test_summary_in_percent():
    cmc, mAP = evaluate_rank(*HAND_ARGS, max_rank=4)
    assert summary(cmc, mAP, ranks=(1, 3)) == {"rank1": 33.33, "rank3": 100.0, "mAP": 58.33}
    with pytest.raises(ValueError, match="ranks 1..4"):
        summary(cmc, mAP)  # rank 5 is not in a 4-rank CMC
