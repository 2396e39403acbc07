"""Architecture figures drawn from the model (stsrn_lite.book.architecture): the shape table
against hand-computed map sizes, the overview's boxes against the modules each preset holds,
and every figure drawn without error on the Agg backend."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from stsrn_lite.book.architecture import (
    block_kind,
    draw_layers,
    draw_overview,
    layer_table,  # noqa: E402
    overview_stages,
)
from stsrn_lite.model import PRESETS, STSRN, preset  # noqa: E402


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_stsrn_shapes_end_at_32x13x11():
    # kernel 5 / padding 4 grows each map by 4: 56×40 → 60×44 → pool 30×22 → block +8 → 38×30
    # → pool 19×15 → block +8 → 27×23 → pool 13×11
    rows = layer_table(STSRN(preset("STSRN")))
    assert rows[-1]["out"] == "32×13×11" and rows[-1]["out_shape"] == (32, 13, 11)
    stage_ends = [[r for r in rows if r["stage"] == s][-1]["out"] for s in (1, 2, 3)]
    assert stage_ends == ["16×30×22", "32×19×15", "32×13×11"]


def test_cnn_rnn_shapes_end_at_32x10x8():
    rows = layer_table(STSRN(preset("CNN-RNN")))
    assert rows[-1]["out"] == "32×10×8"
    assert [r["part"] for r in rows] == ["Conv", "Max", "Tanh"] * 3


def test_residual_stage_rows_and_shortcut():
    rows = [r for r in layer_table(STSRN(preset("STSRN"))) if r["stage"] == 2]
    assert [r["part"] for r in rows] == ["Φ conv 1", "Φ conv 2", "W_s", "Φ(x) + W_s x, block c", "Max", "Tanh"]
    shortcut = rows[2]
    assert (shortcut["kernel"], shortcut["padding"], shortcut["in"], shortcut["out"]) == (1, 4, "16×30×22", "32×38×30")
    assert rows[3]["params"] == 0  # the sum has no weights of its own
    # an identity shortcut (block a keeps the shape when the width does not change) is still listed as W_s
    rows_a = [r for r in layer_table(STSRN(preset("DoubleResBlocks*"))) if r["stage"] == 3]
    assert [(r["part"], r["op"]) for r in rows_a][3] == ("W_s", "Identity")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_table_agrees_with_the_model(name):
    model = STSRN(preset(name, num_classes=150))
    rows = layer_table(model, head=True)
    assert rows[-1]["part"] == "FC" and rows[-1]["out"] == str(model.config.embedding)
    flat = [r for r in rows if r["part"] == "Dropout"][0]
    assert int(flat["in"]) == model.spatial.flat_features
    assert sum(r["params"] for r in rows) == sum(p.numel() for p in model.spatial.parameters())


def test_table_leaves_the_model_and_rng_as_they_were():
    model = STSRN(preset("STSRN"))
    model.train()
    torch.manual_seed(3)
    expected = torch.rand(1)
    torch.manual_seed(3)
    layer_table(model, head=True)
    assert torch.equal(torch.rand(1), expected)  # dropout ran in eval mode: no random draws
    assert model.training
    assert not any(m._forward_hooks for m in model.modules())  # every hook removed


def test_overview_follows_the_modules():
    assert [k for k, _ in overview_stages(STSRN(preset("STSRN")))] == [
        "frames",
        "spatial",
        "fc",
        "stsm",
        "temporal",
        "pool",
        "v_g",
    ]
    assert "stsm" not in [k for k, _ in overview_stages(STSRN(preset("Double+TemRes")))]
    labels = dict(overview_stages(STSRN(preset("CNN-RNN"))))
    assert "plain RNN" in labels["temporal"] and "Conv, Conv, Conv" in labels["spatial"]
    assert "Res a" in dict(overview_stages(STSRN(preset("DoubleResBlocks*"))))["spatial"]


def test_block_kinds():
    kinds = {
        name: {block_kind(s[0]) for s in STSRN(preset(name)).spatial.stages if hasattr(s[0], "phi")}
        for name in ("DoubleResBlocks", "DoubleResBlocks*", "DoubleResBlocks (Fig. 3b)")
    }
    assert kinds == {"DoubleResBlocks": {"c"}, "DoubleResBlocks*": {"a"}, "DoubleResBlocks (Fig. 3b)": {"b"}}


def test_overview_without_stsm_has_no_stsm_box():
    fig = draw_overview(STSRN(preset("Base+TemRes")))
    assert not any("STSM" in t for t in texts(fig))
    plt.close(fig)
    fig = draw_overview(STSRN(preset("STSRN", num_classes=150)))
    assert sum("STSM" in t for t in texts(fig)) == 2  # one box per branch
    assert sum("identity head" in t for t in texts(fig)) == 2
    plt.close(fig)


@pytest.mark.parametrize(
    "name", ["STSRN", "CNN-RNN", "TripleResBlocks", "DoubleResBlocks*", "DoubleResBlocks (Fig. 3b)"]
)
def test_figures_draw_on_agg(name):
    model = STSRN(preset(name))
    for draw in (draw_layers, draw_overview):
        fig = draw(model)
        fig.canvas.draw()
        plt.close(fig)
    fig = draw_layers(model)
    shown = texts(fig)
    for row in layer_table(model):  # every output shape of the table appears in the figure
        assert any(row["out"] in t for t in shown), row
    plt.close(fig)


def test_overview_reads_at_the_column_width():
    fig = draw_overview(STSRN(preset("STSRN", num_classes=150)))
    assert fig._suptitle.get_text() == "STSRN"
    width, _ = fig.get_size_inches()
    smallest = min(t.get_fontsize() for ax in fig.axes for t in ax.texts)
    assert width <= 7.5 and smallest * 7.0 / width >= 8  # ≥ 8 pt once scaled to a 7-inch column
    plt.close(fig)
