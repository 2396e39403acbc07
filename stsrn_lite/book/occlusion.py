"""Does the STSM do what the paper says under occlusion? (chapter 12, "Under controlled occlusion")

The paper says the STSM "discards noisy motion" and guides the recurrence to "more discriminate
features" when "some frame is interference" (§3.3), and never tests it. Our generator knows which
frames it occluded, so the test can be made: the fold's test identities are re-rendered with each
person's occluder held over a share of every tracklet's frames (`FRACTIONS`;
`SyntheticConfig.occluded_fraction`: same people, scenes, frames elsewhere and split), and a
trained model is measured twice on each share:

- `under_occlusion`: the paper's two-camera test (L = 128) with one centre crop, whatever the
  profile's passes (the study compares models on the same sets; the 16 passes would cost it
  sixteen times as much): rank-1 and mAP;
- `gate_effect` (models with an STSM): how far the STSM moves the embeddings of occluded and of
  clean frames towards the tracklet's clean mean (the mean of f_s over its clean frames, a
  stand-in for what the person looks like to the network, as in chapter 04): the mean of
  ‖x̂^τ − f̄_clean‖ / ‖f_s^τ − f̄_clean‖ over the frames of each kind. Below 1: the STSM pulls
  those frames towards the person; 1: it leaves them where they were.

`study` runs both on the shares of `FRACTIONS` for one trained model. It is a study the grid asks
of Table 6's runs with and without the STSM on iLIDS-VID (`stsrn_lite.book.grid.STSM_PAIRS`), so
`stsrn_lite.book.experiments.run` makes it right after the run's final tests, while the model is
there, and files its rows in the ledger with them; `stsm_effects` compares the models of each
pair fold by fold.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from stsrn_lite.book.claims import interval, retried_text, verdict
from stsrn_lite.book.divergence import retry_recipes
from stsrn_lite.book.grid import STSM_PAIRS
from stsrn_lite.book.session import Session
from stsrn_lite.evaluation.dispatch import evaluate_protocol
from stsrn_lite.evaluation.features import TestConfig
from stsrn_lite.home import home
from stsrn_lite.model.network import STSRN
from stsrn_lite.preprocess.crop import crop_sequences, evaluation_passes
from stsrn_lite.preprocess.transforms import PreprocessConfig, model_input
from stsrn_lite.synthetic.generator import SIZES, SyntheticConfig, ensure, read_meta
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.data import RunData, load_run_data

FRACTIONS = (0.0, 0.1, 0.25, 0.5)  # share of every test tracklet's frames under its occluder


def occluded_root(session: Session, dataset: str, fraction: float) -> Path:
    """The profile's synthetic ``dataset`` with every occluder held over ``fraction`` of the frames
    (generated on first use, beside the plain one: ``data/synthetic[-SIZE]-occluded-<percent>/``)."""
    size = session.profile.synthetic
    if size is None:
        raise ValueError("the occlusion study needs the synthetic benchmark, whose generator knows the occluded frames")
    plain = home().synthetic(size)
    root = plain.with_name(f"{plain.name}-occluded-{round(100 * fraction)}") / dataset
    config = SyntheticConfig(layout=dataset, seed=0, **SIZES[size][dataset], occluded_fraction=fraction)
    ensure(config, root, workers=2, progress=False)
    return root


def occlusion_flags(data: RunData) -> list[np.ndarray]:
    """Per tracklet of ``data`` (cache order): (T,) bool, True on the frames the generator occluded."""
    records = {(r["folder"], r["first"]): r for r in read_meta(data.dataset.root)["tracklets"]}
    flags = []
    for tracklet in data.dataset.tracklets:
        folder = tracklet.frames[0].parent.relative_to(data.dataset.root).as_posix()
        record = records[(folder, tracklet.frames[0].name)]
        occluded = np.zeros(tracklet.length, bool)
        occluded[record["occluded_frames"]] = True
        flags.append(occluded)
    return flags


def test_tracklets(data: RunData) -> list[int]:
    """Cache indices of the fold's test tracklets (both cameras of every test identity)."""
    tested = set(data.test_pids)
    return [i for i, pid in enumerate(data.cache.pids) if int(pid) in tested]


def under_occlusion(
    session: Session, model: STSRN, config: TrainConfig, fraction: float
) -> tuple[dict, RunData, list[np.ndarray]]:
    """The two-camera test of ``model`` (trained with ``config``: its dataset, fold, split seed,
    flow and normalisation), one centre crop, on the ``fraction`` set: rank-1, ranks and mAP, and
    the share of the test frames actually occluded (an occluder is flagged only where it covers
    the person)."""
    data = load_run_data(
        config.dataset,
        occluded_root(session, config.dataset, fraction),
        fold=config.fold,
        folds=config.folds,
        seed=config.split_seed,
        flow=config.flow,
    )
    preprocess = PreprocessConfig(normalisation=config.normalisation)
    test = TestConfig(length=128, tta=False, preprocess=preprocess)
    summary = evaluate_protocol(
        "two-camera", model, data.cache, data.dataset, test, session.device, pids=data.test_pids
    ).summary
    flags = occlusion_flags(data)
    tested = test_tracklets(data)
    share = sum(int(flags[i].sum()) for i in tested) / sum(len(flags[i]) for i in tested)
    return {"fraction": fraction, "occluded_share": round(share, 4), **summary}, data, flags


def gate_effect(model: STSRN, data: RunData, flags: list[np.ndarray], normalisation: str) -> dict:
    """Mean ‖x̂^τ − f̄_clean‖ / ‖f_s^τ − f̄_clean‖ over the occluded and over the clean frames of
    the test tracklets that have both (one centre crop, every frame); see the module's text."""
    if model.stsm is None:
        raise ValueError("gate_effect needs a model with an STSM")
    ((shift, mirror),) = evaluation_passes(tta=False)  # the centre crop
    ratios: dict[bool, list[torch.Tensor]] = {True: [], False: []}
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for index in test_tracklets(data):
            occluded = torch.from_numpy(flags[index])
            if occluded.all() or not occluded.any():
                continue
            rgb, flow = data.cache.tracklet(index)
            x = model_input(np.array(rgb), np.array(flow), PreprocessConfig(normalisation=normalisation))
            x = x[None].to(device)  # (1, T, 5, 64, 48)
            one = torch.tensor([shift], device=device)
            frames = crop_sequences(x, one, one, torch.tensor([mirror], device=device))  # (1, T, 5, 56, 40)
            f_s = model.embeddings(frames)[0].float()  # (T, N)
            x_hat = model.stsm(f_s[None])[0]  # (T, N), Eq. (3)
            clean_mean = f_s[~occluded].mean(dim=0)  # (N,)
            ratio = (x_hat - clean_mean).norm(dim=-1) / (f_s - clean_mean).norm(dim=-1).clamp_min(1e-12)  # (T,)
            for kind in (True, False):
                ratios[kind].append(ratio[occluded == kind].cpu())
    model.train(was_training)
    if not ratios[True]:
        return {"occluded_ratio": float("nan"), "clean_ratio": float("nan"), "tracklets": 0}
    return {
        "occluded_ratio": round(float(torch.cat(ratios[True]).mean()), 4),
        "clean_ratio": round(float(torch.cat(ratios[False]).mean()), 4),
        "tracklets": len(ratios[True]),
    }


def study(session: Session, model: STSRN, config: TrainConfig, fractions: Sequence[float] = FRACTIONS) -> list[dict]:
    """One row per share of occluded frames for ``model``, trained with ``config``: its fold,
    `under_occlusion`'s figures and, for a model with an STSM, `gate_effect`'s."""
    rows = []
    for fraction in fractions:
        summary, data, flags = under_occlusion(session, model, config, fraction)
        gate = gate_effect(model, data, flags, config.normalisation) if model.stsm is not None else {}
        rows.append({"fold": config.fold, **summary, **gate})
    return rows


def stsm_effects(rows: Sequence[dict], metric: str = "rank1") -> list[dict]:
    """Per STSM pair (`STSM_PAIRS`) and share of occluded frames: the mean over the folds of the
    paired difference with − without the STSM, with its interval and verdict
    (`stsrn_lite.book.claims`), and ``retried``: the folds where a model of the pair comes from a
    run trained again after diverging (rows with a ``recipe``; `claims.retried_text`), "" where
    none does, so that a pair of two recipes is named as the claims name it."""
    values = {(r["preset"], r["dataset"], float(r["fraction"]), int(r["fold"])): float(r[metric]) for r in rows}
    recipes = {(r["preset"], r["dataset"], int(r["fold"])): str(r.get("recipe") or "") for r in rows}
    retries = retry_recipes(rows)
    out = []
    for with_stsm, without in STSM_PAIRS:
        for dataset, fraction in dict.fromkeys((d, f) for (p, d, f, _) in values if p == with_stsm):
            folds = sorted(k for (p, d, f, k) in values if (p, d, f) == (with_stsm, dataset, fraction))
            folds = [k for k in folds if (without, dataset, fraction, k) in values]
            if not folds:
                continue
            differences = [
                values[with_stsm, dataset, fraction, k] - values[without, dataset, fraction, k] for k in folds
            ]
            mean, low, high = interval(differences)
            retried = [
                (k, name, recipes[name, dataset, k])
                for k in folds
                for name in (with_stsm, without)
                if recipes[name, dataset, k] in retries
            ]
            out.append(
                {
                    "pair": f"{with_stsm} − {without}",
                    "dataset": dataset,
                    "fraction": fraction,
                    "folds": len(folds),
                    "effect": round(mean, 2),
                    "low": round(low, 2),
                    "high": round(high, 2),
                    "verdict": verdict(low, high) if len(folds) > 1 else "inconclusive",
                    "retried": retried_text(retried),
                }
            )
    return out
