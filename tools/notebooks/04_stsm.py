"""Builds notebooks/04_stsm.ipynb (run: python tools/notebooks/04_stsm.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tools.notebook_template import code, md, write_notebook  # noqa: E402

write_notebook(
    Path(__file__).resolve().parents[2] / "notebooks" / "04_stsm.ipynb",
    "04 · The spatial-temporal smooth module (STSM)",
    "Between the spatial extractor and the recurrence, STSRN {cite:p}`su2018stsrn` blends each frame's "
    "embedding with the previous one through a learned gate (§3.3). This chapter states the module, "
    "checks it against the paper's two forms, and watches what it does on a tracklet of the synthetic "
    "iLIDS-VID whose generator recorded which frames are occluded. The embeddings come from an "
    "**untrained** STSRN (Xavier weights {cite:p}`glorot2010understanding`, §4.2): the demonstration is about what the equation does to "
    "a sequence of embeddings, not about features that have learned to recognise people.",
    [
        md(r"""
## The paper's module

The paper (§3.3): "adjoining embeddings are then fused by learnable parameters $\theta$ and
$\omega$. More specifically, the sum of each element of $\theta$ and $\omega$ is subject to one":

$$
f^\tau_{s \rightarrow t} = \theta \odot f_s(I^\tau) + \omega \odot f_s(I^{\tau-1})
$$ (eq-04-stsm-fuse)

$$
f^\tau_{s \rightarrow t} = f^\tau_s + \omega \odot (f^{\tau-1}_s - f^\tau_s), \qquad f^1_{s \rightarrow t} = f^1_s
$$ (eq-04-stsm-gate)

with $\omega \in \mathbb{R}^N$, which "serve[s] as gate mechanism: when some frame is interference,
the mechanism would balance the ratio of information flow". The smoothed embeddings
$\hat{x}^\tau = f^\tau_{s \rightarrow t}$ go on to the recurrence ({doc}`05_temporal_residual`).

The paper does not say how the constraint $\theta + \omega = 1$ is kept during training. We store
an unconstrained $a \in \mathbb{R}^N$ and set

$$
\omega = \mathrm{sigmoid}(a), \qquad \theta = 1 - \omega
$$ (eq-04-gate)

so that the constraint holds exactly and both stay in $[0, 1]$: every $\hat{x}^\tau$ is then a convex
combination of two adjoining frames, as a gate should give. The module starts at $\omega = 0.1$
(close to the identity); the paper gives no value. See {doc}`../book/design_decisions`, item 7.

```{literalinclude} ../stsrn_lite/model/stsm.py
:pyobject: SpatialTemporalSmooth
```
"""),
        md("""
## The two forms agree

On a tiny sequence (B = 1, T = 4, N = 3) with $\\omega = 0.3$, the module's output is compared with
{eq}`eq-04-stsm-fuse` computed frame by frame; the first frame must come out unchanged.
"""),
        code("""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from stsrn_lite.data.read import read_dataset
from stsrn_lite.model import STSRN, preset
from stsrn_lite.model.stsm import SpatialTemporalSmooth
from stsrn_lite.plots.data import plot_frame_rows
from stsrn_lite.preprocess.cache import default_cache_dir, prepare
from stsrn_lite.preprocess.crop import crop_sequences, evaluation_passes
from stsrn_lite.preprocess.transforms import PreprocessConfig, model_input
from stsrn_lite.synthetic.layouts import read_meta

f = torch.randn(1, 4, 3)  # (B, T, N)
stsm = SpatialTemporalSmooth(3, omega_init=0.3)
with torch.no_grad():
    x_hat = stsm(f)  # Eq. (3)
    omega, theta = stsm.omega, stsm.theta  # (N,)
    fused = torch.stack([f[:, 0]] + [theta * f[:, t] + omega * f[:, t - 1] for t in range(1, 4)], dim=1)  # Eq. (2)
print(f"omega = {[round(v, 4) for v in omega.tolist()]}, theta = {[round(v, 4) for v in theta.tolist()]}")
print("max |theta + omega - 1| < 1e-7:", bool(((theta + omega) - 1).abs().max() < 1e-7))
print("Eq. (3) as implemented equals Eq. (2) frame by frame:", torch.allclose(x_hat, fused, atol=1e-6))
print("first frame unchanged:", torch.equal(x_hat[:, 0], f[:, 0]))
"""),
        md("""
## An occluded tracklet

The synthetic generator records which frames of each tracklet it occluded (`synthetic_meta.json`,
read by `read_meta`). We take the first tracklet of the synthetic iLIDS-VID layout whose occlusion
starts at frame 8 or later and ends at least 8 frames before the end, so that there are clean frames
on both sides. Frames are numbered from 0. (Real data has no such record; with the `paper` profile the
notebook takes the first tracklet and marks nothing.)
"""),
        code("""
root = session.root("ilids-vid")
dataset = read_dataset("ilids-vid", root)
cache, _ = prepare(dataset, default_cache_dir("ilids-vid", root), progress=False)
meta = read_meta(root)  # None on real data
if meta is not None:
    record = next(r for r in meta["tracklets"] if r["occluded_frames"] and r["occluded_frames"][0] >= 8
                  and r["occluded_frames"][-1] < r["length"] - 8)
    pid, camid, occluded = record["pid"], record["camid"], record["occluded_frames"]
    blurred = sorted(set(record["render"]["blur_frames"]) | set(record["render"]["motion_blur_frames"]))
else:
    pid, camid, occluded, blurred = dataset.tracklets[0].pid, dataset.tracklets[0].camid, [], []
index = next(i for i, t in enumerate(dataset.tracklets) if (t.pid, t.camid) == (pid, camid))
rgb, flow = cache.tracklet(index)  # (T, 3, 64, 48) uint8, (T, 2, 64, 48) int8
T = len(rgb)
is_occluded = np.isin(np.arange(T), occluded)  # (T,) bool
print(f"{session.label}: pid {pid}, {dataset.cameras[camid]}, {T} frames; occluded frames "
      f"{occluded[0]}–{occluded[-1]}" if occluded else f"{session.label}: pid {pid}, {T} frames; no occlusion record")
print("blurred frames (also recorded by the generator):", blurred)
"""),
        code("""
shown = list(range(0, T, 4))
plot_frame_rows({"": rgb[shown].transpose(0, 2, 3, 1)},
                {"": [f"{t} occluded" if is_occluded[t] else f"{t}" for t in shown]})
plt.show()
""", tags=["hide-input"], figure={
            "caption": "Every fourth frame of the tracklet, as the cache holds it (64×48, before the 56×40 crop); "
                       "frames the generator occluded are marked.",
            "name": "fig-04-tracklet"}),
        md("""
## The embeddings $f_s$ and the smoothed $\\hat{x}$

The frames become the model's five channels (`model_input`) and the centre crop of the test protocol,
and an **untrained** `STSRN` preset (seeded by the session; eval mode, so no dropout) maps each to
$f_s^\\tau \\in \\mathbb{R}^{128}$. We then apply the STSM with the same gate on every dimension, at our
initial value $\\omega = 0.1$ and at 0.5 and 0.9; "no STSM" is $\\omega = 0$.

Two measures per frame: the **change** $\\lVert \\hat{x}^\\tau - \\hat{x}^{\\tau-1} \\rVert_2$ between
adjoining frames, which is what a smoother should reduce, and the **distance to the clean mean**
$\\lVert \\hat{x}^\\tau - \\bar{f}_{clean} \\rVert_2$, where $\\bar{f}_{clean}$ is the mean of $f_s$ over
the frames that are not occluded: a stand-in for "what this person looks like" to this network.
"""),
        code("""
model = STSRN(preset("STSRN")).eval()  # untrained: Xavier weights, zero biases (§4.2)
x = model_input(rgb, flow, PreprocessConfig())  # (T, 5, 64, 48)
(shift, mirror), = evaluation_passes(tta=False)  # the centre crop
frames = crop_sequences(x[None], torch.tensor([shift]), torch.tensor([shift]), torch.tensor([mirror]))  # (1, T, 5, 56, 40)
with torch.no_grad():
    f_s = model.spatial(frames[0])[None]  # (1, T, N)
clean_mean = f_s[0, torch.from_numpy(~is_occluded)].mean(dim=0)  # (N,)

omegas = {"no STSM (ω = 0)": None, "ω = 0.1 (our start)": 0.1, "ω = 0.5": 0.5, "ω = 0.9": 0.9}
smoothed = {}
with torch.no_grad():
    for label, omega in omegas.items():
        smoothed[label] = f_s if omega is None else SpatialTemporalSmooth(f_s.shape[-1], omega_init=omega)(f_s)  # (1, T, N)
change = {label: torch.cat([torch.zeros(1), (s[0, 1:] - s[0, :-1]).norm(dim=-1)]).numpy() for label, s in smoothed.items()}
distance = {label: (s[0] - clean_mean).norm(dim=-1).numpy() for label, s in smoothed.items()}
print(f"mean ‖f_s^τ‖ = {f_s[0].norm(dim=-1).mean():.2f} (untrained model)")
"""),
        code("""
fig, axes = plt.subplots(2, 1, figsize=(8, 5.2), sharex=True)
styles = ["k-", "C0-", "C1--", "C2:"]
for ax, values, name in ((axes[0], change, r"change $\\|\\hat{x}^\\tau - \\hat{x}^{\\tau-1}\\|$"),
                         (axes[1], distance, r"distance $\\|\\hat{x}^\\tau - \\bar{f}_{clean}\\|$")):
    for t in occluded:
        ax.axvspan(t - 0.5, t + 0.5, color="0.88", linewidth=0)
    for t in blurred:
        ax.axvline(t, color="C3", linewidth=0.6, linestyle=(0, (2, 2)))
    for (label, series), style in zip(values.items(), styles):
        ax.plot(np.arange(1 if ax is axes[0] else 0, T), series[1:] if ax is axes[0] else series, style,
                label=label, linewidth=1.1)
    ax.set_ylabel(name)
axes[1].set_xlabel("frame τ (grey: occluded; red dotted: blurred)")
fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", ncol=4, fontsize=8, frameon=False)
fig.tight_layout(rect=(0, 0, 1, 0.95))
plt.show()
""", tags=["hide-input"], figure={
            "caption": "Per-frame change between adjoining embeddings (top) and distance to the mean embedding of the "
                       "clean frames (bottom), without the STSM and with three gate values. Embeddings of an untrained "
                       "STSRN on one synthetic iLIDS-VID tracklet; grey frames are occluded.",
            "name": "fig-04-gate"}),
        code("""
entry = occluded[0] if occluded else None
rows = []
for label in omegas:
    row = {"": label,
           "change, clean": change[label][1:][~is_occluded[1:]].mean(),
           "change, occluded": change[label][1:][is_occluded[1:]].mean() if occluded else np.nan,
           "distance, clean": distance[label][~is_occluded].mean(),
           "distance, occluded": distance[label][is_occluded].mean() if occluded else np.nan}
    if entry is not None:
        row["distance at the first occluded frame"] = distance[label][entry]
        row["distance at the first clean frame after"] = distance[label][occluded[-1] + 1]
    rows.append(row)
pd.DataFrame(rows).set_index("").round(2)
"""),
        md(r"""
What the gate does here:

- A **constant** $\omega$ damps every change between frames, clean or occluded, by the same rule:
  $\hat{x}^\tau - \hat{x}^{\tau-1} = (1-\omega)(f^\tau_s - f^{\tau-1}_s) + \omega(f^{\tau-1}_s - f^{\tau-2}_s)$.
  Because it is a learned parameter and not a function of the frame, it cannot single out an
  occluded frame; it is the same two-tap filter on every frame. For embeddings that vary
  independently from frame to frame, the change is damped most at $\omega = 0.5$, the plain average
  of two frames.
- $\omega$ and $1 - \omega$ use the same two weights in the opposite order, so they smooth equally,
  which is why $0.1$ and $0.9$ look alike in the table; $0.9$ mostly repeats the previous frame, so
  it delays the sequence by about one frame.
- An occlusion that lasts many frames is not removed: inside the span the smoothed embedding is a
  blend of two occluded frames. Only the frames at its edges are pulled towards their clean
  neighbours. On the embeddings of this untrained network the occluded frames sit further from the
  clean mean than the clean ones; smoothing lowers both distances, because it averages out noise
  from frame to frame, and leaves the gap between them about as it was.

## Why the STSM alone would do nothing to $v_g$

If mean pooling followed the STSM directly, the sum over frames would telescope: every
$\omega \odot (f^{\tau-1}_s - f^\tau_s)$ cancels with its neighbour except at the ends,

$$
\frac{1}{T}\sum_{\tau=1}^{T} \hat{x}^\tau = \frac{1}{T}\sum_{\tau=1}^{T} f^\tau_s + \frac{\omega}{T} \odot \left(f^1_s - f^T_s\right)
$$ (eq-04-stsm-mean)

so the module can only matter through the non-linear recurrence between it and the pooling. Checked
on the tracklet:
"""),
        code("""
omega = 0.5
x_hat = smoothed["ω = 0.5"][0]  # (T, N)
predicted = f_s[0].mean(dim=0) + omega / T * (f_s[0, 0] - f_s[0, -1])  # (N,), Eq. (eq-04-stsm-mean)
print("mean of x̂ = mean of f_s + ω (f_s^1 − f_s^T) / T:", torch.allclose(x_hat.mean(dim=0), predicted, atol=1e-5))
print(f"‖mean x̂ − mean f_s‖ = {(x_hat.mean(dim=0) - f_s[0].mean(dim=0)).norm():.3f}, "
      f"against ‖mean f_s‖ = {f_s[0].mean(dim=0).norm():.3f}")
"""),
        md("""
## What we learned

- Our STSM is exactly the paper's Eq. 2 and Eq. 3, with $\\theta + \\omega = 1$ kept by construction.
- The gate is one learned vector shared by all frames, so it acts as a fixed two-frame smoothing
  filter: it reduces frame-to-frame jitter everywhere and softens the edges of an occlusion, but it
  cannot tell an occluded frame from a clean one, and it leaves a long occlusion in place.
- Followed directly by mean pooling it would change $v_g$ only through the first and last frames
  ({eq}`eq-04-stsm-mean`); any benefit the paper measures (Table 6) has to come through the recurrence.
- All of this was shown on an untrained network. How far training moves $\\omega$ from its start,
  and whether the STSM helps the ranks, is measured in the training chapters, not here.
"""),
    ],
)
