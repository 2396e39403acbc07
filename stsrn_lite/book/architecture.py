"""Architecture figures drawn from the model itself (paper Fig. 1 and Fig. 2).

Nothing here is typed in by hand. `overview_stages` reads which modules an `STSRN` holds (a
preset without the STSM has no STSM box), and `layer_table` runs one dummy frame through
``model.spatial`` with forward hooks, so every channel count and map size is the one the code
computes. When a preset or a reading of the paper changes, the figures change with it.

- `layer_table`: one row per operation of the spatial extractor (Fig. 2), as dicts for pandas;
- `draw_layers`: the Fig. 2-style layer diagram, residual blocks with their shortcut W_s;
- `overview_stages`, `draw_overview`: the Fig. 1-style Siamese pipeline.

Nothing here is used by the library; the notebooks import it. Shapes are C×H×W of one frame.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch
from torch import nn

from stsrn_lite.model.network import STSRN
from stsrn_lite.model.spatial import ResidualBlock
from stsrn_lite.model.stsm import SpatialTemporalSmooth
from stsrn_lite.model.temporal import PlainRecurrence, TemporalResidual

COLOURS = {
    "conv": "#cfe2f3",
    "phi": "#d9ead3",
    "shortcut": "#fce5cd",
    "add": "#ffffff",
    "pool": "#e6e6e6",
    "tanh": "#e4dcf1",
    "head": "#fff2cc",
    "input": "#f4f4f4",
    "stsm": "#f4cccc",
    "loss": "#ffffff",
}
BOX_W, BOX_H, GAP = 2.3, 0.95, 0.55  # data units of the diagrams


# --- helpers -------------------------------------------------------------------------------


def _shape(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(d) for d in t.shape[1:])  # drop the batch dimension


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape)


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def block_kind(block: ResidualBlock) -> str:
    """The Fig. 3 kind of a residual block, read from its modules: "a", "b" or "c"."""
    inner = block.phi[1]
    if isinstance(inner, nn.ReLU):
        return "a"
    if isinstance(inner, nn.Tanh):
        return "b"
    if isinstance(inner, nn.Identity):
        return "c"
    raise ValueError(f"residual block with an unexpected inner module {type(inner).__name__}")


def _block_note(model: STSRN) -> str:
    """ ", residual blocks (c)" for a title, or "" when the extractor has none."""
    kinds = sorted({block_kind(stage[0]) for stage in model.spatial.stages if isinstance(stage[0], ResidualBlock)})
    return f", residual blocks ({', '.join(kinds)})" if kinds else ""


def _geometry(module: nn.Module) -> tuple[int | None, int | None, int | None]:
    """(kernel, padding, stride) of a convolution or a max-pool; Nones for other operations."""
    if isinstance(module, nn.Conv2d):
        return module.kernel_size[0], module.padding[0], module.stride[0]
    if isinstance(module, nn.MaxPool2d):
        return module.kernel_size, module.padding, module.stride
    return None, None, None


def _part(name: str, module: nn.Module) -> str:
    """The role of a hooked module of a stage; ``name`` is its path inside the stage."""
    if isinstance(module, ResidualBlock):
        return f"Φ(x) + W_s x, block {block_kind(module)}"
    if name.endswith("shortcut"):
        return "W_s"
    if ".phi." in f".{name}.":
        position = int(name.rsplit(".", 1)[1])  # phi = (conv, activation, conv)
        return f"Φ conv {position // 2 + 1}" if isinstance(module, nn.Conv2d) else f"Φ {type(module).__name__}"
    if isinstance(module, nn.Conv2d):
        return "Conv"
    if isinstance(module, nn.MaxPool2d):
        return "Max"
    if isinstance(module, nn.Tanh):
        return "Tanh"
    raise ValueError(f"no role for {name} ({type(module).__name__})")


# --- the per-layer table -------------------------------------------------------------------


def layer_table(model: STSRN, *, head: bool = False) -> list[dict]:
    """Every operation of ``model.spatial`` in execution order, with the shape it produces.

    One dummy frame (1, C, H, W) of the config's size runs through the extractor in eval mode
    under ``torch.no_grad``; forward hooks record each operation's input and output. Row keys:
    ``stage`` (1-based; 0 for the head), ``part`` (its role: "Conv", "Φ conv 1", "W_s",
    "Φ(x) + W_s x, block c", "Max", "Tanh", ...), ``op`` (the torch module), ``kernel``,
    ``padding``, ``stride`` (None where they do not apply), ``in`` and ``out`` ("C×H×W"),
    ``out_shape`` (a tuple), ``params`` (the operation's own; 0 for the sum, whose parameters
    are in its parts) and ``module`` (its name in the model). With ``head``, the dropout and
    the fully connected layer that give x^τ (N) follow the stages.
    """
    spatial = model.spatial
    hooked: list[tuple[int, str, nn.Module]] = []
    for index, stage in enumerate(spatial.stages):
        for name, module in stage.named_modules():
            keep = name.endswith("shortcut") or not isinstance(module, (nn.Sequential, nn.Identity))
            if name and keep:  # an identity shortcut is W_s; other identities are absent layers
                hooked.append((index + 1, name, module))
    if head:
        hooked += [(0, "dropout", spatial.dropout), (0, "fc", spatial.fc)]
    rows: list[dict] = []

    def recorder(stage: int, name: str, module: nn.Module):
        def hook(_module, inputs, output):
            if stage:
                part, path = _part(name, module), f"spatial.stages.{stage - 1}.{name}"
            else:
                part, path = ("Dropout" if name == "dropout" else "FC"), f"spatial.{name}"
            kernel, padding, stride = _geometry(module)
            rows.append(
                {
                    "stage": stage,
                    "part": part,
                    "op": "add" if isinstance(module, ResidualBlock) else type(module).__name__,
                    "kernel": kernel,
                    "padding": padding,
                    "stride": stride,
                    "in": _shape_text(_shape(inputs[0])),
                    "out": _shape_text(_shape(output)),
                    "out_shape": _shape(output),
                    "params": 0 if isinstance(module, ResidualBlock) else _params(module),
                    "module": path,
                }
            )

        return hook

    handles = [module.register_forward_hook(recorder(stage, name, module)) for stage, name, module in hooked]
    was_training = model.training
    try:
        model.eval()
        config = model.config
        with torch.no_grad():
            spatial(torch.zeros(1, config.in_channels, *config.input_hw))  # (1, C, H, W) → (1, N)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return rows


# --- drawing primitives --------------------------------------------------------------------


def _box(
    ax: Axes,
    x: float,
    y: float,
    text: str,
    colour: str,
    *,
    width: float = BOX_W,
    height: float = BOX_H,
    fontsize: float = 8.5,
) -> None:
    """A rounded box centred at (x, y) holding ``text``."""
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=colour,
            edgecolor="0.25",
            linewidth=0.9,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    *,
    style: str = "-|>",
    connection: str = "arc3",
    dashed: bool = False,
) -> None:
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={
            "arrowstyle": style,
            "color": "0.2",
            "linewidth": 0.9,
            "shrinkA": 0,
            "shrinkB": 0,
            "connectionstyle": connection,
            "linestyle": "--" if dashed else "-",
        },
    )


def _line(ax: Axes, xs: list[float], ys: list[float]) -> None:
    ax.plot(xs, ys, color="0.2", linewidth=0.9)


def _finish(
    fig: Figure, ax: Axes, x_range: tuple[float, float], y_range: tuple[float, float], inches_per_unit: float
) -> None:
    """Fit the axes to the drawing, equal scales, no frame; the figure's size follows the drawing."""
    ax.set_xlim(*x_range)
    ax.set_ylim(*y_range)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.set_size_inches((x_range[1] - x_range[0]) * inches_per_unit, (y_range[1] - y_range[0]) * inches_per_unit + 0.4)


# --- Fig. 2: the spatial extractor, layer by layer -----------------------------------------


def _label(row: dict) -> str:
    """Box text: role, kernel/padding (and stride when it is not 1), output shape."""
    if row["part"] == "W_s" and row["op"] == "Identity":
        return f"W_s = identity\n{row['out']}"
    if row["part"] == "FC":
        return f"FC → $x^\\tau$\n{row['in']} → {row['out']}"
    if row["part"] == "Dropout":
        return f"Dropout\n{row['out']}"
    geometry = ""
    if row["kernel"] is not None:
        geometry = f"{row['kernel']}×{row['kernel']}"
        geometry += f", pad {row['padding']}" if row["padding"] else ""
        geometry += f", stride {row['stride']}" if row["stride"] != 1 else ""
        geometry += "\n"
    return f"{row['part']}\n{geometry}{row['out']}"


def _colour(part: str) -> str:
    if part.startswith("Φ"):
        return COLOURS["phi"]
    return COLOURS[{"Conv": "conv", "W_s": "shortcut", "Max": "pool", "Tanh": "tanh"}.get(part, "head")]


def draw_layers(model: STSRN, *, title: str | None = None) -> Figure:
    """Fig. 2-style diagram of ``model.spatial``: one row per stage, in execution order.

    Each box is one operation of `layer_table` with its kernel, padding and output C×H×W. A
    residual block draws Φ on the main path, W_s on a path below it, and the sum ⊕ of Eq. 1.
    The last row is the dropout and the fully connected layer that give x^τ.
    """
    rows = layer_table(model, head=True)
    config = model.config
    fig, ax = plt.subplots()
    radius = 0.3
    entry_left = BOX_W + GAP  # every stage starts here; the column on the left holds the input box
    _box(
        ax,
        BOX_W / 2,
        0.0,
        f"input frame\n{config.in_channels}×{config.input_hw[0]}×{config.input_hw[1]}",
        COLOURS["input"],
    )
    previous_end, y, right_most, bottom = (BOX_W, 0.0), 0.0, 0.0, 0.0
    for stage in [s for s in dict.fromkeys(r["stage"] for r in rows) if s] + [0]:
        stage_rows = [r for r in rows if r["stage"] == stage]
        if previous_end[1] == y:  # the first stage sits beside the input box
            _arrow(ax, previous_end, (entry_left, y))
        else:  # snake down from the end of the previous row
            turn, x_in = y + BOX_H / 2 + 0.55, entry_left - 0.35
            _line(
                ax,
                [previous_end[0], previous_end[0] + 0.25, previous_end[0] + 0.25, x_in, x_in],
                [previous_end[1], previous_end[1], turn, turn, y],
            )
            _arrow(ax, (x_in, y), (entry_left, y))
        ax.text(
            entry_left,
            y + BOX_H / 2 + 0.08,
            f"stage {stage}" if stage else "to the embedding",
            fontsize=8.5,
            fontweight="bold",
            va="bottom",
        )
        left, phi_centres, add_centre = entry_left, [], None
        for row in stage_rows:
            if row["part"] == "W_s":
                continue  # drawn below the main path
            if row["op"] == "add":
                add_centre = (left + radius, y)
                ax.add_patch(Circle(add_centre, radius, facecolor=COLOURS["add"], edgecolor="0.2", linewidth=0.9))
                ax.text(*add_centre, "+", ha="center", va="center", fontsize=11)
                ax.text(left + radius, y + radius + 0.05, row["out"], ha="center", va="bottom", fontsize=8)
                width = 2 * radius
            else:
                _box(ax, left + BOX_W / 2, y, _label(row), _colour(row["part"]))
                if row["part"].startswith("Φ"):
                    phi_centres.append(left + BOX_W / 2)
                width = BOX_W
            if left > entry_left:
                _arrow(ax, (left - GAP, y), (left, y))
            left += width + GAP
        row_end = left - GAP
        shortcut = next((r for r in stage_rows if r["part"] == "W_s"), None)
        if shortcut is not None:
            ws_x, ws_y = sum(phi_centres) / len(phi_centres), y - 1.35
            _box(ax, ws_x, ws_y, _label(shortcut), COLOURS["shortcut"])
            split = entry_left - 0.2
            _line(ax, [split, split], [y, ws_y])
            _arrow(ax, (split, ws_y), (ws_x - BOX_W / 2, ws_y))
            _line(ax, [ws_x + BOX_W / 2, add_centre[0]], [ws_y, ws_y])
            _arrow(ax, (add_centre[0], ws_y), (add_centre[0], y - radius))
            bottom = ws_y - BOX_H / 2
        else:
            bottom = y - BOX_H / 2
        right_most = max(right_most, row_end)
        previous_end = (row_end, y)
        y -= 3.05 if shortcut is not None else 1.75
    right_most = max(right_most, previous_end[0] + 0.3)
    _finish(fig, ax, (-0.2, right_most + 0.35), (bottom - 0.2, BOX_H / 2 + 0.45), 0.6)
    ax.set_title(title or f"Spatial extractor: {config.layout}{_block_note(model)}", fontsize=11)
    return fig


# --- Fig. 1: the Siamese pipeline ----------------------------------------------------------


def overview_stages(model: STSRN) -> list[tuple[str, str]]:
    """(key, label) of each box of one Siamese branch, read from the modules ``model`` holds.

    Keys: "frames", "spatial", "fc", "stsm" (only when the model has an STSM), "temporal",
    "pool", "v_g".
    """
    config = model.config
    kinds = []
    for stage in model.spatial.stages:
        layer = stage[0]
        kinds.append(f"Res {block_kind(layer)}" if isinstance(layer, ResidualBlock) else "Conv")
    fc = model.spatial.fc
    stages = [
        ("frames", f"frames\nT×{config.in_channels}×{config.input_hw[0]}×{config.input_hw[1]}"),
        ("spatial", "spatial extractor\n" + ", ".join(kinds)),
        ("fc", f"FC\n{fc.in_features} → {fc.out_features}"),
    ]
    if isinstance(model.stsm, SpatialTemporalSmooth):
        stages.append(("stsm", f"STSM, Eq. 2–3\n{model.stsm.omega.numel()} gates ω"))
    if isinstance(model.temporal, TemporalResidual):
        stages.append(("temporal", "temporal residual\nRNN, Eq. 5–6"))
    elif isinstance(model.temporal, PlainRecurrence):
        stages.append(("temporal", "plain RNN\n(CNN-RNN)"))
    else:
        raise ValueError(f"unknown temporal module {type(model.temporal).__name__}")
    stages += [("pool", "mean pooling\nEq. 7"), ("v_g", f"$v_g$\n{fc.out_features}")]
    return stages


def draw_overview(model: STSRN, *, title: str | None = None) -> Figure:
    """Fig. 1-style overview, drawn top to bottom to read at the book's column width: the two
    branches side by side, sharing every weight, then the distance and the identity heads.

    The boxes of a branch are `overview_stages`; the identity heads are drawn only when the
    model has a classifier (``num_classes`` set in its config). ``title`` (default "STSRN") heads
    the figure; the line under it says which blocks, STSM and recurrence the model holds.
    """
    stages = overview_stages(model)
    colour = {
        "frames": "input",
        "spatial": "conv",
        "fc": "conv",
        "stsm": "stsm",
        "temporal": "phi",
        "pool": "tanh",
        "v_g": "head",
    }
    width, height, step, fontsize = 2.9, 0.85, 1.25, 9.5
    xs = {"a": 0.0, "b": 2 * (width + 0.35)}  # the two branches; the heads' middle column between
    middle = (xs["a"] + xs["b"]) / 2
    fig, ax = plt.subplots()
    for branch, x in xs.items():
        for i, (key, label) in enumerate(stages):
            text = f"sequence {branch}\n" + label.split("\n", 1)[1] if key == "frames" else label
            _box(ax, x, -i * step, text, COLOURS[colour[key]], width=width, height=height, fontsize=fontsize)
            if i:
                _arrow(ax, (x, -(i - 1) * step - height / 2), (x, -i * step + height / 2))
    for i in range(1, len(stages) - 1):  # every stage with weights (and the pooling) is shared
        y = -i * step
        _arrow(ax, (xs["a"] + width / 2, y), (xs["b"] - width / 2, y), style="<|-|>", dashed=True)
    ax.text(middle, -step + 0.1, "shared weights", ha="center", va="bottom", fontsize=fontsize - 1, style="italic")
    last, heads_y, heads_h = -(len(stages) - 1) * step, -(len(stages) + 0.35) * step, 1.2
    _box(
        ax,
        middle,
        heads_y,
        "distance $\\|v_a - v_b\\|_2$\nSiamese cost, Eq. 8",
        COLOURS["loss"],
        width=width,
        height=heads_h,
        fontsize=fontsize,
    )
    for x in xs.values():
        _arrow(ax, (x + (width / 4 if x < middle else -width / 4), last - height / 2), (middle, heads_y + heads_h / 2))
    if model.classifier is not None:
        for x in xs.values():
            _box(
                ax,
                x,
                heads_y,
                f"identity head\nFC → {model.classifier.out_features} ids\ncross-entropy, §3.5",
                COLOURS["loss"],
                width=width,
                height=heads_h,
                fontsize=fontsize,
            )
            _arrow(ax, (x, last - height / 2), (x, heads_y + heads_h / 2))
    else:
        ax.text(
            xs["a"],
            heads_y,
            "no identity head\n(num_classes = None)",
            ha="center",
            va="center",
            fontsize=fontsize,
            color="0.4",
        )
    _finish(
        fig,
        ax,
        (xs["a"] - width / 2 - 0.1, xs["b"] + width / 2 + 0.1),
        (heads_y - heads_h / 2 - 0.1, height / 2 + 0.1),
        0.72,
    )
    keys = [key for key, _ in stages]
    recurrence = "temporal residual RNN" if isinstance(model.temporal, TemporalResidual) else "plain RNN"
    ax.set_title(
        f"{model.config.layout}{_block_note(model)}; {'STSM' if 'stsm' in keys else 'no STSM'}; {recurrence}",
        fontsize=fontsize,
    )
    inches = fig.get_figheight() + 0.3  # room for the two title lines above the drawing
    fig.set_size_inches(fig.get_figwidth(), inches)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.65 / inches)
    fig.suptitle(title or "STSRN", y=1 - 0.05 / inches, va="top", fontsize=13, fontweight="bold")
    return fig
