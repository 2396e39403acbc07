"""Builds notebooks/00_introduction.ipynb (run: python tools/notebooks/00_introduction.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tools.notebook_template import code, md, write_notebook  # noqa: E402

write_notebook(
    Path(__file__).resolve().parents[2] / "notebooks" / "00_introduction.ipynb",
    "00 · Introduction: STSRN and how to read this book",
    "This book reproduces *Spatial-Temporal Synergic Residual Learning for Video Person "
    "Re-Identification* {cite:p}`su2018stsrn` with `stsrn_lite`, a small PyTorch package, and runs "
    "every table and figure from it. This first chapter says what STSRN is, how the book is built "
    "and run, and how to read its numbers. Every chapter is a notebook: the cells above (hidden in "
    "the book) set up Colab, hold the parameters and start a session.",
    [
        md(r"""
## What STSRN is

Video person re-identification matches *tracklets*, the frames of one person cut out of one
camera's video, across cameras that do not overlap: given a probe tracklet from one camera, rank
the gallery tracklets of another camera so that the same person comes first. STSRN (§3) turns a
tracklet into one vector $v_g$ and ranks the gallery by Euclidean distance. It extends the CNN-RNN
of {cite:t}`mclaughlin2016recurrent` in three places, each with a residual connection:

**Spatial residual extractor (§3.2).** Every frame, five channels (YUV colour and two optical-flow
channels, see {doc}`02_preprocessing`), passes through one convolution stage and two residual
stages, each followed by max-pooling and Tanh, then a fully connected layer that gives the frame
embedding $f_s(I^\tau) \in \mathbb{R}^N$. A residual block adds its input, projected by $W_s$ where
the shapes differ, to a stack of two convolutions $\Phi$ with no activation between them (the
paper's Fig. 3c):

$$
f^k_{res}(x) = \Phi(x) + W_s x
$$ (eq-intro-residual)

**Spatial-temporal smooth module, STSM (§3.3).** Adjoining frame embeddings are blended by a
learned gate $\omega \in \mathbb{R}^N$ with $\theta + \omega = 1$ element-wise, so that a frame
spoiled by occlusion or clutter is pulled towards its predecessor:

$$
f^\tau_{s\rightarrow t} = \theta \odot f_s(I^\tau) + \omega \odot f_s(I^{\tau-1})
= f^\tau_s + \omega \odot (f^{\tau-1}_s - f^\tau_s), \qquad f^1_{s\rightarrow t} = f^1_s
$$ (eq-intro-stsm)

**Temporal residual processor (§3.4).** A recurrent layer reads the smoothed embeddings
$\hat x^\tau = f^\tau_{s\rightarrow t}$; a parameter-free shortcut averages its output with its
input, and the outputs are mean-pooled over time:

$$
\hat o^\tau = U \hat x^\tau + V r^{\tau-1}, \qquad
o^\tau = \frac{\hat o^\tau + \hat x^\tau}{2}, \qquad r^\tau = \tanh(o^\tau), \qquad
v_g = \frac{1}{T}\sum_\tau o^\tau
$$ (eq-intro-temporal)

**Siamese training (§3.5).** Two tracklets $S^m$, $S^n$ pass through the same network (shared
weights). The verification cost pulls the two vectors together for the same person and pushes
them at least a margin $m$ apart otherwise; an identification cost (cross-entropy over the
training identities) is added for each of the two:

$$
\mathcal{L}_{veri}(v^m_g, v^n_g) =
\begin{cases} \lVert v^m_g - v^n_g \rVert_2^2, & \text{same person} \\
\max(0,\, m - \lVert v^m_g - v^n_g \rVert_2), & \text{different persons} \end{cases}
$$ (eq-intro-verification)

The package follows the paper's order: `stsrn_lite.model.spatial` ({eq}`eq-intro-residual`),
`stsrn_lite.model.stsm` ({eq}`eq-intro-stsm`), `stsrn_lite.model.temporal`
({eq}`eq-intro-temporal`), `stsrn_lite.model.network` (the whole branch) and
`stsrn_lite.training.loss` ({eq}`eq-intro-verification`). The paper leaves several details open
(kernel and padding of the residual blocks, the sizes $N$ and $L$, the gate's constraint); the
readings we chose are in {doc}`../book/design_decisions`.

Here is one branch applied to a batch of two 16-frame sequences, stage by stage. The input is zeros:
only the shapes matter here.
"""),
        code("""
import pandas as pd
import torch

from stsrn_lite.model.network import STSRN
from stsrn_lite.model.presets import preset

model = STSRN(preset("STSRN", num_classes=150)).eval()  # 150 training identities, as iLIDS-VID's half
frames = torch.zeros(2, 16, 5, 56, 40)  # (B, T, C, H, W): 2 sequences, 16 frames, Y U V + 2 flow, 56×40 crops
lengths = torch.tensor([16, 16])  # (B,) valid frames per sequence
with torch.no_grad():
    f_s = model.spatial(frames.flatten(0, 1)).unflatten(0, (2, 16))  # (B, T, N), residual stages (Eq. 1) + FC
    x_hat = model.stsm(f_s)  # (B, T, N), STSM
    v_g = model.temporal(x_hat, lengths)  # (B, N), temporal residual processor + mean pooling
    logits = model.logits(v_g)  # (B, 150), identification head

pd.DataFrame({
    "output": ["frames", "f_s (frame embeddings)", "x̂ (smoothed)", "v_g (sequence vector)", "identity logits"],
    "shape": [tuple(t.shape) for t in (frames, f_s, x_hat, v_g, logits)],
    "parameters": ["", *(f"{sum(p.numel() for p in part.parameters()):,}"
                        for part in (model.spatial, model.stsm, model.temporal, model.classifier))],
}).set_index("output")
"""),
        md("""
The parameter counts are those of our reading of the paper's architecture; {doc}`09_table3` sets
them beside the paper's Table 3.

## Three profiles

Every notebook runs under one of three *profiles*, chosen in its parameters cell. They differ in
the data, the device and the size of the protocol, never in the code:
"""),
        code("""
from dataclasses import asdict

from stsrn_lite.profiles import PROFILES
from stsrn_lite.synthetic.layouts import PROFILES as SYNTHETIC_SIZES

profiles = pd.DataFrame([asdict(p) for p in PROFILES.values()]).set_index("name").drop(columns="synthetic")
for dataset in ("ilids-vid", "prid2011", "mars"):
    profiles[f"{dataset} identities"] = [
        SYNTHETIC_SIZES[p.synthetic][dataset]["identities"] if p.synthetic else "real" for p in PROFILES.values()]
profiles.rename(columns={"eval_tta": "16-pass test augmentation"})
"""),
        md("""
- **smoke** (the default) runs the synthetic benchmark at a small size on the CPU, with one fold
  and a few epochs, so that the whole book executes in minutes on two cores. Its numbers show that
  the code runs end to end; they say nothing about how well STSRN works.
- **full** runs the synthetic benchmark at the real datasets' sizes with the paper's protocol
  (ten folds, 1000 epochs, 16-pass test augmentation) on a GPU.
- **paper** runs the same protocol on the real iLIDS-VID {cite:p}`wang2014video`, PRID2011
  {cite:p}`hirzer2011person` and MARS {cite:p}`zheng2016mars` under `data_root`, on a GPU. The
  datasets come from their owners; {doc}`01_datasets` shows the layouts the readers expect.

The synthetic datasets are written on first use, in the real datasets' layouts, under
`data/synthetic/` (smoke) or `data/synthetic-full/` (full), and are read by the same readers as the
real ones. {doc}`../book/data` describes them.

## Building and running the book

From a fresh clone, with Python 3.11 and `make`:

```bash
make book                                      # smoke profile: synthetic data, CPU
make book PROFILE=full                         # synthetic data at the real sizes, GPU
make book PROFILE=paper DATA_ROOT=/data/reid   # real data: /data/reid/{ilids-vid,prid2011,mars}
make test                                      # unit tests, then nbval on the stored notebooks
```

`make book` creates `.venv` from the pinned `requirements.lock`, executes every notebook with
papermill (`tools/run_notebooks.py`, which replaces a notebook only when it ran without error) and
builds the HTML under `_build/html/`. One notebook can be run alone:
`.venv/bin/python tools/run_notebooks.py --profile smoke notebooks/01_datasets.ipynb`.

Each notebook starts with a **parameters cell** (tagged `parameters`, hidden in the book):
`profile`, `data_root`, `device`, `folds`, `epochs` and `seed`. papermill overrides them
(`papermill in.ipynb out.ipynb -p profile full`); in Jupyter or Colab, edit the cell. `None`
means "the profile's value". The next cell, `session = setup(profile, data_root, device, seed)`,
resolves the profile, refuses a GPU profile when torch sees no GPU, fixes the seeds, fixes the CPU
thread count at 2 (CPU results are bit-stable only at a fixed thread count) and sets the figure
resolution. This notebook runs with:
"""),
        code("""
print(f"profile {session.profile.name!r}: {session.profile.data}; device {session.device}; "
      f"{folds} fold(s), {epochs} epoch(s), seed {session.seed}")
"""),
        md("""
**On Colab**, open a notebook from the repository, choose a GPU runtime (*Runtime → Change
runtime type → GPU*), and before running the first cell set the repository's address:

```python
import os
os.environ["STSRN_LITE_REPOSITORY"] = "https://github.com/OWNER/REPO"  # this project's git URL
```

The first cell then installs `stsrn_lite` with pip from that repository (keeping the runtime's
CUDA build of torch) and warns when no GPU is attached. Set `profile = "full"` in the parameters
cell for a GPU run; the smoke profile also runs on Colab's CPU.

## How to read the numbers

Three rules hold in every chapter:

1. **Every number of ours is labelled with its data, profile and device.** Tables name our column
   with `session.label`; in this session that is:
"""),
        code("""
print(session.label)
"""),
        md("""
2. **The paper's values are shown beside ours**, labelled as the paper's and taken from
   `stsrn_lite.paper`, which holds nothing but numbers copied from the paper's tables; for
   instance STSRN's rank-1 in Table 1:
"""),
        code("""
from stsrn_lite.paper import RANKS, TABLE_1

pd.DataFrame(TABLE_1["STSRN"], index=RANKS).T.rename_axis("paper (Table 1), STSRN, %")
"""),
        md("""
3. **Nothing synthetic is presented as a result on real data.** A figure measured on the
   synthetic benchmark says how our code behaves on the synthetic benchmark; only the `paper`
   profile, run on the real datasets, gives numbers comparable to the paper's. Where a chapter
   quotes a figure it did not compute itself (a benchmark run once on a larger set, for instance),
   it says so and where the figure comes from.

The next two chapters cover the data: {doc}`01_datasets` (the three datasets, their layouts and
the synthetic benchmark) and {doc}`02_preprocessing` (frames to the network's five input channels).
"""),
    ],
)
