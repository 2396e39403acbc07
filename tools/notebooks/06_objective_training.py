"""Builds notebooks/06_objective_training.ipynb (run: python tools/notebooks/06_objective_training.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tools.notebook_template import code, md, write_notebook  # noqa: E402

write_notebook(
    Path(__file__).resolve().parents[2] / "notebooks" / "06_objective_training.ipynb",
    "06 · Objective and training: Eq. 8, the pair schedule and a first run",
    "STSRN is trained as a Siamese network: two sequences go through the same weights, and the "
    "cost says whether their two vectors should be near or far (§3.5). How the pairs are drawn, "
    "and every other hyper-parameter the paper does not give, comes from the CNN-RNN "
    "{cite:p}`mclaughlin2016recurrent` and ASTPN {cite:p}`xu2017jointly` (§4.2). This chapter "
    "writes the objective down, shows an epoch of pairs, and trains STSRN once; the table "
    "chapters after it train the same way.",
    [
        md(r"""
## The objective

The paper (§3.5):

> Given a pair of input sequences $(S^m, S^n)$ of persons $m$ and $n$, our STSRN produces two
> global spatial-temporal vectors $(v_g^m, v_g^n)$. [...] The verification cost, i.e. siamese cost,
> tries to minimize the distance between $v_g^m$ and $v_g^n$ when they belongs to the same identity
> and maximize the distance otherwise [Eq. 8], where $m$ is the margin. Besides, we apply the
> cross-entropy loss to obtain the identity cost on persons $p$ and $g$ [...]. The total training
> objective is the sum of these cost.

With $p = g$ meaning that the two sequences show the same person, the verification cost, the
paper's Eq. (8), a contrastive loss {cite:p}`hadsell2006dimensionality` as in the CNN-RNN
{cite:p}`mclaughlin2016recurrent`, is

$$
\mathcal{L}_{veri}(v_g^m, v_g^n) =
\begin{cases} \lVert v_g^m - v_g^n \rVert_2^2, & p = g \\
\max\left(0,\; m - \lVert v_g^m - v_g^n \rVert_2\right), & p \neq g \end{cases}
$$ (eq-06-verification)

The identification cost is the cross-entropy of a linear classifier $(W, b)$ over the $K$
training identities, applied to each sequence's vector with its own person's label $p$:

$$
\mathcal{L}_{iden}(v) = -\log \frac{\exp(w_p^\top v + b_p)}{\sum_{k=1}^{K} \exp(w_k^\top v + b_k)}
$$ (eq-06-identification)

and the objective of one pair is the sum of the three costs:

$$
\mathcal{L} = \mathcal{L}_{veri}(v_g^m, v_g^n) + \mathcal{L}_{iden}(v_g^m) + \mathcal{L}_{iden}(v_g^n)
$$ (eq-06-objective)

A negative pair therefore carries two labels, one per person, as in the original code. The paper
gives no margin; $m = 2$ is the CNN-RNN's literal value. The CNN-RNN's own criterion charged a
positive pair $\lVert\cdot\rVert_2$, not its square; `positive_cost="distance"` selects that, and
the book keeps the paper's square. `stsrn_lite.training.loss` implements
{eq}`eq-06-verification` to {eq}`eq-06-objective`:

```{literalinclude} ../stsrn_lite/training/loss.py
:pyobject: verification_loss
```

```{literalinclude} ../stsrn_lite/training/loss.py
:pyobject: objective
```

On three hand-made distances with $m = 2$: a positive pair at distance 0.5 costs $0.5^2 = 0.25$,
a negative pair at 0.5 costs $2 - 0.5 = 1.5$, and a negative pair beyond the margin costs nothing.
"""),
        code("""
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.loss import verification_loss

config = TrainConfig(dataset="ilids-vid", folds=folds)  # the defaults every run of the book uses
distance = torch.tensor([0.5, 0.5, 2.5])
same = torch.tensor([True, False, False])
print("margin", config.margin, "| positive cost:", config.positive_cost)
print("Eq. (8):", verification_loss(distance, same, config.margin, config.positive_cost).tolist())
"""),
        code("""
d = torch.linspace(0, 3, 301)
fig, ax = plt.subplots(figsize=(4.5, 2.8))
for same_person, name in ((True, "same person: d²"), (False, f"different persons: max(0, {config.margin:g} − d)")):
    ax.plot(d, verification_loss(d, torch.full_like(d, same_person, dtype=torch.bool), config.margin), label=name)
ax.plot(d, verification_loss(d, torch.ones_like(d, dtype=torch.bool), config.margin, "distance"), ":",
        color="grey", label="same person, CNN-RNN's hinge: d")
ax.set_xlabel(r"$d = \\Vert v_g^m - v_g^n \\Vert_2$")
ax.set_ylabel("verification cost")
ax.set_ylim(0, 4)
ax.grid(alpha=0.3)
ax.legend(fontsize=7)
fig.tight_layout()
plt.show()
""", tags=["hide-input"], figure={"caption": "The verification cost of Eq. (8) against the distance of the two "
                                            "vectors, with the margin m = 2, and the CNN-RNN's cost for "
                                            "positive pairs.", "name": "fig-06-verification"}),
        md(r"""
## The pair schedule

The paper (§4.2):

> Following [8], image sequences from different cameras of same pedestrian were considered as
> positive pairs while those of different pedestrians negative pairs. The positive and negative
> pairs were alternatively fed into the network.

The original code fixes the rest. An epoch over $K$ training identities has $2K$ pairs, one per
SGD step. Pairs alternate, a negative one first: a negative pair takes the first two identities of
a fresh random permutation (never the same person) and a random tracklet of each, from either
camera, so both may come from the same camera; a positive pair takes the next identity of the
epoch's permutation, its camera-1 tracklet against its camera-2 tracklet, so every identity gives
exactly one positive pair per epoch. Each sequence is a run of 16 consecutive frames starting
anywhere in the tracklet, cropped to 56×40 at an offset drawn from 1..8 on each axis and mirrored
with probability ½, the same crop and mirror for all of its frames (§4.2: "randomly cropping and
mirroring, which was applied to all frames of a given sequence").

`stsrn_lite.training.pairs.PairSchedule` draws all of this for epoch $e$ from a generator seeded
with (seed, $e$), so an epoch is a pure function of the two: a resumed run rebuilds it and goes on
at the saved step. Here is the first epoch of fold 0 of the iLIDS-VID set of this profile, with
the training configuration every run of the book uses:
"""),
        code("""
from stsrn_lite.plots.results import pair_table, plot_pair_crops
from stsrn_lite.training.data import load_run_data
from stsrn_lite.training.pairs import PairSchedule

data = load_run_data("ilids-vid", session.root("ilids-vid"), fold=0, folds=folds, seed=1)  # as experiments.run loads it
cache = data.cache
lengths = cache.offsets[1:] - cache.offsets[:-1]  # (n,) frames per tracklet
schedule = PairSchedule(cache.pids, cache.camids, lengths, data.train_indices, seed=config.seed,
                        sequence_length=config.sequence_length, skip_short=config.skip_short)
plan = schedule.epoch(0)
print(f"{schedule.num_identities} training identities, {len(plan)} pairs in epoch 0 "
      f"(split: {data.split_source}; {session.label})")
pair_table(plan, cache.pids, cache.camids, lengths, data.dataset.cameras, count=8)
"""),
        md("""
The counts over the whole epoch check the rules above: the kinds alternate, every training
identity has one positive pair, positive pairs always cross the cameras, and the epoch is the
same when drawn again.
"""),
        code("""
positive = plan.labels[:, 0] == plan.labels[:, 1]  # (2K,)
cross_camera = cache.camids[plan.tracklets[:, 0]] != cache.camids[plan.tracklets[:, 1]]  # (2K,)
again = schedule.epoch(0)
print("alternates negative, positive, ...:", bool((positive == (np.arange(len(plan)) % 2 == 1)).all()))
print("positive pairs per identity:", sorted(set(np.bincount(plan.labels[positive, 0], minlength=schedule.num_identities).tolist())))
print("positive pairs across the two cameras:", int((positive & cross_camera).sum()), "of", int(positive.sum()))
print("negative pairs within one camera:", int((~positive & ~cross_camera).sum()), "of", int((~positive).sum()))
print("epoch 0 drawn again is identical:", all(np.array_equal(getattr(plan, f), getattr(again, f))
                                               for f in ("tracklets", "starts", "tops", "lefts", "flips")))
print("epoch 1 differs:", not np.array_equal(plan.tracklets, schedule.epoch(1).tracklets))
"""),
        code("""
plot_pair_crops(plan, cache, [0, 1], data.dataset.cameras)
plt.show()
""", tags=["hide-input"], figure={"caption": "The first negative and the first positive pair of epoch 0: the first "
                                            "frame of each sequence (64×48, mirrored where drawn) with its 56×40 "
                                            "training crop outlined.", "name": "fig-06-pair-crops"}),
        md(r"""
## A short training run

`stsrn_lite.experiments.run` trains a preset on one fold and tests it. It runs the loop of
`stsrn_lite.training.loop.train`: the pairs above, one per step, through the Siamese model, the
objective {eq}`eq-06-objective`, SGD with momentum 0.9 (Torch7's dampening) at the paper's
learning rate $2 \times 10^{-3}$, every gradient element clamped to $[-5, 5]$. It keeps one row of
records per epoch (the mean costs per pair, and the test ranks on the epochs it evaluates) and a
checkpoint that resumes exactly. A finished run with the same settings in `runs/<profile>/` is
reused, so the tables of {doc}`07_table1`, {doc}`10_table4` and {doc}`12_table6_fig5` start from
this very run.

This trains STSRN on fold 0 of iLIDS-VID for the profile's epochs and tests it with the two-camera
protocol after every epoch:
"""),
        code("""
from stsrn_lite.experiments import run
from stsrn_lite.plots.results import eval_interval, plot_losses, plot_over_epochs

outcome = run(session, "ilids-vid", "STSRN", 0, epochs=epochs, eval_every=eval_interval(epochs))
records = pd.DataFrame(outcome.records)
shown = np.unique(np.linspace(0, len(records) - 1, min(len(records), 11)).round().astype(int))
table = records.iloc[shown][["epoch", "pairs", "loss", "verification", "identification", "rank1"]].set_index("epoch").round(3)
table.columns = pd.MultiIndex.from_product([[session.label], table.columns])
table
"""),
        code("""
plot_losses(outcome.records, title=f"STSRN, iLIDS-VID fold 0; {session.label}")
plt.show()
""", tags=["hide-input"], figure={"caption": "The epoch means of the three costs of the objective during the run "
                                            "(our numbers; the title says profile, data and device).",
                                 "name": "fig-06-losses"}),
        code("""
plot_over_epochs(outcome.records, "rank1", title=session.label, ylabel="rank-1 (%)")
plt.show()
""", tags=["hide-input"], figure={"caption": "Rank-1 of the two-camera test after each evaluated epoch of the "
                                            "same run.", "name": "fig-06-rank1"}),
        md("""
The final test uses the profile's test setting (one centre crop in the smoke profile, the 16
passes of §4.2 in the full and paper profiles), with the test length $L = 128$:
"""),
        code("""
pd.Series(outcome.summary("two-camera"), name=session.label).to_frame().T.rename_axis("STSRN, iLIDS-VID fold 0")
"""),
        md("""
In the smoke profile this is a tiny synthetic benchmark (20 training and 20 test identities) and
a few epochs: the numbers say nothing about the paper's claims; they only show that the pipeline
runs from the pairs to the ranks and that the costs move.

## Faithful and batched training

The paper trains on GPUs but does not say with how many pairs per step; the CNN-RNN it follows
took one pair per SGD step. `TrainConfig.mode` offers both:

- `"faithful"` (the default, and what every chapter of this book uses): one pair per step, as the
  original. Each epoch takes $2K$ small steps, which keeps a GPU mostly idle.
- `"batched"`: `pairs_per_step` pairs per step, the cost {eq}`eq-06-objective` averaged over them,
  and the sequences of a step padded to the longest one (the model masks the padding). It is a
  different optimisation: fewer and less noisy steps, for which the learning rate has to be
  scaled (the learning-evidence benchmark uses $2 \\times 10^{-3} \\cdot \\sqrt{16}$).

How long an epoch takes in either mode, and what the two reach in the same training time, is
measured once outside the book (`benchmarks/learning_evidence.py`, `benchmarks/bench_model.py`);
this chapter prints no timings, as they change from machine to machine. The step counts:
"""),
        code("""
K = schedule.num_identities
for mode, pairs_per_step in (("faithful", 1), ("batched", 16)):
    cfg = TrainConfig(dataset="ilids-vid", folds=folds, mode=mode, pairs_per_step=pairs_per_step)
    print(f"{cfg.mode:8s}: {cfg.pairs_per_step:2d} pair(s) per step, "
          f"{math.ceil(2 * K / cfg.pairs_per_step)} SGD steps per epoch of {2 * K} pairs")
try:
    TrainConfig(dataset="ilids-vid", mode="faithful", pairs_per_step=16)
except ValueError as error:
    print("ValueError:", error)
"""),
        md("""
## What we learned

- The objective is Eq. (8) plus a cross-entropy on each of the two sequences; the margin ($m = 2$)
  and the whole pair schedule come from the CNN-RNN's code, since the paper gives neither.
- An epoch is $2K$ alternating pairs, one positive pair per identity; it is a pure function of the
  seed and the epoch number, which is what makes resumed runs repeat uninterrupted ones.
- `experiments.run` trains and tests in one call and keeps its records and checkpoint under
  `runs/<profile>/`, where the table chapters find it again. Its smoke-profile numbers only show
  that the pipeline works.
"""),
    ],
)
