"""Builds notebooks/03_spatial_extractor.ipynb (run: python tools/notebooks/03_spatial_extractor.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tools.notebook_template import code, md, write_notebook  # noqa: E402

write_notebook(
    Path(__file__).resolve().parents[2] / "notebooks" / "03_spatial_extractor.ipynb",
    "03 · The spatial residual extractor",
    "The first part of STSRN {cite:p}`su2018stsrn` turns each frame into an embedding $x^\\tau$: a "
    "convolution, two residual blocks and a fully connected layer (§3.2, Fig. 2). This chapter builds it "
    "from `stsrn_lite.model.spatial`, checks Eq. 1 on tensors and follows the map sizes through every "
    "layout of the paper's Table 5. Nothing here needs data or training: every number is a function of "
    "the configuration, and the figures are drawn from the model's own modules, so they cannot drift "
    "from the code.",
    [
        md("""
## Where the extractor sits

STSRN is trained as a Siamese network (§3.1): two sequences go through the same network, each gives a
sequence-level vector $v_g$, and the two vectors meet in a distance and in two identity classifiers.
The overview below is the paper's Fig. 1, drawn from the modules that our `STSRN` preset holds
(with a 150-identity head, iLIDS-VID's training half). This chapter is about its second and third
boxes; {doc}`04_stsm` and {doc}`05_temporal_residual` cover the next two.
"""),
        code("""
import matplotlib.pyplot as plt
import pandas as pd
import torch

from stsrn_lite.model import STSRN, preset
from stsrn_lite.params import count
from stsrn_lite.plots.architecture import draw_layers, draw_overview, layer_table

stsrn = STSRN(preset("STSRN", num_classes=150))
draw_overview(stsrn)
plt.show()
""", tags=["hide-input"], figure={
            "caption": "The Siamese pipeline of the paper's Fig. 1, drawn from the modules of the `STSRN` preset. "
                       "Both branches are the same module; the dashed arrows mark the shared weights.",
            "name": "fig-03-overview"}),
        md(r"""
## The paper's recipe

The extractor has "three submodules: one for convolutional and the others for residual submodules",
each "composed of filter banks, hyperbolic-tangent (Tanh) activation-function and max-pooling" (§3.2).
The first one is

$$
C'(S) = \mathrm{Tanh}(\mathrm{Maxpool}(\mathrm{Conv}(S)))
$$ (eq-03-first-stage)

and each residual submodule is a block

$$
f^k_{res}(x) = \Phi(x) + W_s x
$$ (eq-03-res-block)

where $x$ is the block's input, $k$ its index, $\Phi$ two convolutions and $W_s$ a shortcut that
the paper does not define. The maps are then flattened and "mapped by the fully-connected layer" to
the embedding $x^\tau \in \mathbb{R}^N$ of frame $\tau$. The sizes are those of the CNN-RNN
{cite:p}`mclaughlin2016recurrent`, which STSRN builds on: 16, 32 and 32 filters, $N = 128$.

Three details are open, and the {doc}`../book/design_decisions` page gives our reading of each:
the kernel and padding of the blocks (we read Fig. 2's "5, 4 and 1" as kernel 5, padding 4,
stride 1, like the plain convolutions of Table 5), the shortcut $W_s$ (the identity when $\Phi$
keeps the shape, else a 1×1 convolution zero-padded by as many pixels as $\Phi$ grows the map) and
the order of Tanh and max-pooling (it does not matter; see below). The block, as the package
implements it:

```{literalinclude} ../stsrn_lite/model/spatial.py
:pyobject: ResidualBlock
```
"""),
        md("""
## Eq. 1 on a tensor

The first residual block of the `STSRN` preset takes the 16×30×22 maps of the first stage to 32
channels, so its shortcut is a projection. Its output is checked against $\\Phi(x) + W_s x$
computed from the two parts, and $W_s x$ against a hand computation: a 1×1 convolution is a matrix
product over the channels at every pixel, and the zero padding adds a ring on which only the bias
remains (zero at initialisation: our models start with zero biases; {doc}`../book/design_decisions`,
item 10).
"""),
        code("""
block = stsrn.spatial.stages[1][0]  # stage 2: the first residual block, 16 → 32 channels
x = torch.randn(2, 16, 30, 22)  # (B, C, H, W), the shape of stage 1's output
with torch.no_grad():
    f_res = block(x)  # Eq. (1)
    phi, shortcut = block.phi(x), block.shortcut(x)  # Φ(x), W_s x
    g = block.shortcut.padding[0]  # the ring W_s adds on each side, = the growth of each conv of Φ
    by_hand = block.shortcut.bias.view(1, -1, 1, 1).repeat(2, 1, 30 + 2 * g, 22 + 2 * g)  # (B, 32, H', W')
    by_hand[:, :, g:-g, g:-g] += torch.einsum("oi,bihw->bohw", block.shortcut.weight[:, :, 0, 0], x)
print(f"x {tuple(x.shape)} → Φ(x) {tuple(phi.shape)}, W_s x {tuple(shortcut.shape)}, f_res(x) {tuple(f_res.shape)}")
print("f_res(x) == Φ(x) + W_s x exactly:", torch.equal(f_res, phi + shortcut))
print(f"W_s x equals the hand computation (1x1 product + a zero ring of {g} px):",
      torch.allclose(shortcut, by_hand, atol=1e-6))
"""),
        md("""
## The three block kinds of Fig. 3

Fig. 3 compares three blocks: (a) ResNet's {cite:p}`he2016deep`, with 3×3 convolutions, padding 1 and a ReLU inside;
(b) larger kernels and padding, with a Tanh inside; (c), the paper's choice, (b) without the inner
activation, because "removing the activation layer inside the residual block alleviates the
gradient vanishing problem caused by Tanh" (§3.2). Each kind is a preset of Table 5 (or of §4.5's
text): *DoubleResBlocks\\** uses (a), *DoubleResBlocks* (c), and §4.5 swaps in (b). The table is read
from the models by `layer_table`: the first block's Φ, its shortcut, its output for the 16×30×22
input, its parameters, and the whole network's (with the vanilla RNN of Table 5, no identity head).
"""),
        code("""
kinds = {"a": "DoubleResBlocks*", "b": "DoubleResBlocks (Fig. 3b)", "c": "DoubleResBlocks"}
rows = []
for kind, name in kinds.items():
    model = STSRN(preset(name))
    layers = [r for r in layer_table(model) if r["stage"] == 2]  # the first residual block and its pool, Tanh
    convs = [r for r in layers if r["part"].startswith("Φ conv")]
    inner = [r["op"] for r in layers if r["part"] in ("Φ ReLU", "Φ Tanh")]  # kind c has no inner activation
    shortcut = next(r for r in layers if r["part"] == "W_s")
    block_end = next(r for r in layers if r["op"] == "add")
    rows.append({
        "Fig. 3": kind, "preset": name,
        "Φ": f" → {inner[0] if inner else 'none'} → ".join(f"{r['kernel']}×{r['kernel']} pad {r['padding']}" for r in convs),
        "W_s": "identity" if shortcut["op"] == "Identity" else
               f"1×1, zero ring of {shortcut['padding']} px" if shortcut["padding"] else "1×1",
        "block output": block_end["out"],
        "block parameters": sum(r["params"] for r in layers),
        "network parameters": count(model),
    })
pd.DataFrame(rows).set_index("Fig. 3")
"""),
        md("""
Kinds (b) and (c) have the same parameters, since a Tanh has none; they differ only in the
activation. Kind (a) keeps the map size, so the second block of *DoubleResBlocks\\** needs no
projection and the fully connected layer sees a much smaller map. That is why (a) gives the
smallest network by far, even though the first block of (b) and (c) is itself only 2.7 times
larger than that of (a).

## Shapes through every Table 5 layout

Table 5 varies how many plain convolutions are replaced by residual blocks. Every stage ends with
its Tanh; the table gives each stage's output, the flattened size the fully connected layer sees and
the parameter count (network with the vanilla RNN, no identity head).
"""),
        code("""
layouts = ["BaseModel", "SingleResBlock", "DoubleResBlocks", "TripleResBlocks", "DoubleResBlocks*"]
rows = []
for name in layouts:
    model = STSRN(preset(name))
    table = pd.DataFrame(layer_table(model))
    ends = table.groupby("stage").last()  # each stage's last operation: its Tanh
    row = {"layout": name, "stage 4": "–"}
    for stage, end in ends.iterrows():
        kind = "Res" if (table[table.stage == stage].part == "W_s").any() else "Conv"
        pooled = (table[table.stage == stage].part == "Max").any()
        row[f"stage {stage}"] = f"{kind}{'+Max' if pooled else ''} → {end.out}"
    row["flattened"] = model.spatial.flat_features
    row["parameters"] = count(model)
    rows.append(row)
pd.DataFrame(rows).set_index("layout")[["stage 1", "stage 2", "stage 3", "stage 4", "flattened", "parameters"]]
"""),
        md("""
Under our reading every convolution with kernel 5 and padding 4 adds 4 pixels to each side's
length, so a residual block adds 8. Residual blocks therefore *enlarge* the last map (13×11 against
the CNN-RNN's 10×8) and with it the fully connected layer, which holds most of every network's
parameters. *TripleResBlocks* has no pooling after its first block, so its maps are the largest.

## The paper's Fig. 2, from the model

The diagram below is drawn by `draw_layers` from the `STSRN` preset: one row per stage, each box one
operation with its kernel, padding and output C×H×W (computed by running a dummy frame through the
stages with forward hooks), the residual blocks with Φ on the main path and $W_s$ below it.
"""),
        code("""
draw_layers(stsrn)
plt.show()
""", tags=["hide-input"], figure={
            "caption": "The spatial extractor of the `STSRN` preset (the paper's Fig. 2), drawn from the model: "
                       "every output shape is the one the code computes. Residual blocks are of kind (c), without "
                       "an inner activation; $W_s$ is a 1×1 convolution with a zero ring of 4 pixels.",
            "name": "fig-03-layers"}),
        md("""
The same information as a table, one row per operation (`layer_table(model, head=True)`), with each
operation's own parameter count:
"""),
        code("""
table = pd.DataFrame(layer_table(stsrn, head=True))
table[["kernel", "padding", "stride"]] = table[["kernel", "padding", "stride"]].astype("Int64")
table["stage"] = [str(stage) if stage else "head" for stage in table["stage"]]
table.drop(columns=["out_shape", "module", "op"]).set_index("stage")
"""),
        code("""
fc_share = stsrn.spatial.fc.weight.numel() + stsrn.spatial.fc.bias.numel()
print(f"spatial extractor: {count(stsrn.spatial):,} parameters; the fully connected layer alone: {fc_share:,} "
      f"({fc_share / count(stsrn.spatial):.1%}); both shortcuts W_s: "
      f"{sum(count(stage[0].shortcut) for stage in list(stsrn.spatial.stages)[1:]):,}")
"""),
        md("""
## Tanh and max-pooling commute

The paper writes $\\mathrm{Tanh}(\\mathrm{Maxpool}(\\cdot))$ ({eq}`eq-03-first-stage`), the CNN-RNN's
code applies the Tanh first. Tanh is increasing, so the largest input of a pooling window is also
the one with the largest Tanh, and the two orders give identical outputs; pooling first applies
the Tanh to a quarter as many values. Checked on the output of the first block:
"""),
        code("""
pool, tanh = torch.nn.MaxPool2d(2, 2), torch.nn.Tanh()
maps = 3 * torch.randn(4, 32, 38, 30)  # (B, C, H, W), the shape of the first block's output
paper_order, cnn_rnn_order = tanh(pool(maps)), pool(tanh(maps))
print("Tanh(Maxpool(x)) == Maxpool(Tanh(x)) exactly:", torch.equal(paper_order, cnn_rnn_order))
print(f"Tanh evaluations: {pool(maps).numel():,} pooling first, {maps.numel():,} Tanh first")
"""),
        md("""
## What we learned

- Eq. 1 holds in the package exactly as written: a block's output is the sum of its two paths, and
  the projection shortcut is a per-pixel channel product with a zero ring that matches the growth of
  $\\Phi$.
- Under the kernel 5, padding 4 reading, residual blocks enlarge the maps (13×11 at the end against
  the CNN-RNN's 10×8), and the fully connected layer holds most of STSRN's parameters. The reading,
  not the residual blocks themselves, decides most of the model's size; the {doc}`../book/design_decisions`
  page and {doc}`09_table3` set these counts beside the paper's Table 3.
- The paper's three block kinds differ in geometry and activation; (b) and (c) cost the same, and
  only (a) keeps the map size.
- The order of Tanh and max-pooling is a free implementation choice.
"""),
    ],
)
