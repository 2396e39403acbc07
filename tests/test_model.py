"""STSRN model: parameter counts, each equation against a hand computation, shapes, masking,
gradient flow, overfitting and the Tanh/max-pool commutation (stsrn_lite.model)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stsrn_lite.model import PRESETS, STSRN, ModelConfig, preset
from stsrn_lite.model.spatial import ResidualBlock, SpatialExtractor
from stsrn_lite.model.stsm import SpatialTemporalSmooth
from stsrn_lite.model.temporal import PlainRecurrence, TemporalResidual, masked_mean


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def frames(B: int, T: int, config: ModelConfig, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, T, config.in_channels, *config.input_hw, generator=g)  # (B, T, C, H, W)


# --- configuration -------------------------------------------------------------------------


def test_config_rejects_unknown_strings():
    with pytest.raises(ValueError, match="layout"):
        ModelConfig(layout="QuadResBlocks", block="c", temres=False, stsm=False)
    with pytest.raises(ValueError, match="block"):
        ModelConfig(layout="BaseModel", block="d", temres=False, stsm=False)
    with pytest.raises(ValueError, match="STSRN"):
        preset("NoSuchModel")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"temres": "no"}, "temres must be True or False, got 'no'"),  # a non-empty string is true
        ({"input_hw": (0, 0)}, r"input_hw must be two positive ints \(H, W\), got \(0, 0\)"),
        ({"dropout": "0.5"}, "dropout must be a number in"),
        ({"embedding": 0}, "embedding must be a positive int, got 0"),
        ({"in_channels": 0}, "in_channels must be a positive int"),
    ],
)
def test_config_names_the_field_it_refuses(fields, message):
    with pytest.raises(ValueError, match=message):
        replace(preset("STSRN"), **fields)


def test_frames_of_another_size_are_refused_before_the_layers():
    model = STSRN(preset("STSRN")).eval()
    uncropped = torch.zeros(1, 2, 5, 64, 48)  # model_input's frames, before the crop
    with pytest.raises(ValueError, match="frames are 64x48, the model expects 56x40: crop"):
        model(uncropped)


def test_preset_overrides_and_paper_choice():
    config = preset("STSRN", num_classes=150)
    assert config.num_classes == 150 and PRESETS["STSRN"].num_classes is None
    assert (config.layout, config.block, config.temres, config.stsm) == ("DoubleResBlocks", "c", True, True)


# --- parameter counts (book: The original code, "Architecture") -----------------------------------------------------


def test_cnn_rnn_parameter_count():
    assert n_params(STSRN(preset("CNN-RNN"))) == 384_928
    assert n_params(STSRN(preset("CNN-RNN", num_classes=150))) == 404_278


def test_cnn_rnn_flattened_size():
    assert STSRN(preset("CNN-RNN")).spatial.flat_features == 32 * 10 * 8


def test_stsrn_default_reading_grows_maps_like_the_convs():
    # Fig. 2 caption "5, 4 and 1" read as kernel 5, padding 4: each in-block conv adds 4 pixels,
    # so a block adds 8: 30×22 → 38×30 → pool 19×15 → 27×23 → pool 13×11.
    model = STSRN(preset("STSRN"))
    assert model.spatial.flat_features == 32 * 13 * 11
    assert n_params(model) == 695_968  # the figure the book's Design decisions page discusses


def test_params_readings_table_lists_default_first():
    from stsrn_lite.book.parameter_counts import readings

    rows = readings()
    assert rows[0]["params"] == n_params(STSRN(preset("STSRN")))
    nearest = min(rows, key=lambda row: abs(row["vs_paper_with_classifier"]))
    assert nearest["overrides"] == {"res_kernel": 7, "res_padding": 4, "filters": [32, 32, 32]}
    assert abs(nearest["vs_paper_with_classifier"]) < 0.04  # 570,902: -3.2%


def test_design_decisions_page_shows_the_computed_counts():
    from pathlib import Path

    from stsrn_lite.book.parameter_counts import readings

    page = (Path(__file__).resolve().parents[1] / "book" / "design_decisions.md").read_text()
    for row in readings():
        assert f"{row['params']:,}" in page and f"{row['params_with_classifier']:,}" in page, row["reading"]
        assert f"{row['vs_paper']:+.1%}".replace("-", "−") in page, row["reading"]
    assert "384,928" in page and "404,278" in page


def test_use_flow_false_ignores_flow_channels():
    config = preset("STSRN", use_flow=False)
    model = STSRN(config).eval()
    x = frames(1, 4, config)
    y = x.clone()
    y[:, :, 3:] = torch.randn_like(y[:, :, 3:])  # different flow, same colour
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(y))
        flow_model = STSRN(replace(config, use_flow=True)).eval()
        flow_model.load_state_dict(model.state_dict())
        assert not torch.allclose(flow_model(x), flow_model(y))
    with pytest.raises(ValueError, match="channels"):
        model(x[:, :, :3])


# --- Eq. (1) residual block ----------------------------------------------------------------


def test_residual_block_eq1_by_hand():
    # kind "c": Φ = conv ∘ conv; 1 channel, 3x3 kernels with only the centre set → Φ(x) = 2·3·x + 3·b1 + b2
    block = ResidualBlock(1, 1, kind="c", kernel=3, padding=1)
    assert isinstance(block.shortcut, nn.Identity)
    with torch.no_grad():
        for conv, centre, bias in ((block.phi[0], 2.0, 0.5), (block.phi[2], 3.0, -1.0)):
            conv.weight.zero_()
            conv.weight[0, 0, 1, 1] = centre
            conv.bias.fill_(bias)
    x = torch.tensor([[[[1.0, -2.0], [0.5, 3.0]]]])  # (1, 1, 2, 2)
    expected = 3.0 * (2.0 * x + 0.5) - 1.0 + x  # Φ(x) + x
    torch.testing.assert_close(block(x), expected)


def test_residual_block_kind_b_has_tanh_inside_and_projection_shortcut():
    block = ResidualBlock(1, 2, kind="b", kernel=3, padding=1)
    assert isinstance(block.shortcut, nn.Conv2d) and block.shortcut.kernel_size == (1, 1)
    with torch.no_grad():
        for conv in block.phi[0], block.phi[2]:
            conv.weight.zero_()
            conv.bias.zero_()
        block.phi[0].weight[0, 0, 1, 1] = 2.0  # only channel 0 of Φ's first conv is nonzero
        block.phi[2].weight[:, :, 1, 1] = 1.0  # second conv sums the channels
        block.shortcut.weight.fill_(-1.0)
        block.shortcut.bias.fill_(0.25)
    x = torch.tensor([[[[1.0, -2.0], [0.5, 3.0]]]])  # (1, 1, 2, 2)
    one = torch.tanh(2.0 * x) - x + 0.25  # each output channel: Σ_c tanh(Φ1)_c (only channel 0 ≠ 0) + W_s x
    torch.testing.assert_close(block(x), torch.cat([one, one], dim=1))


def test_residual_block_grows_shortcut_with_padding():
    block = ResidualBlock(3, 3, kind="c", kernel=5, padding=4)  # each conv adds 4 pixels
    x = torch.randn(2, 3, 7, 6)
    assert block(x).shape == (2, 3, 15, 14)


# --- Eq. (2)-(3) STSM ------------------------------------------------------------------------


def test_stsm_eq2_eq3_and_first_frame():
    stsm = SpatialTemporalSmooth(3, omega_form="sigmoid")
    torch.testing.assert_close(stsm.omega, torch.full((3,), 0.1))
    with torch.no_grad():
        stsm.a.copy_(torch.tensor([-1.0, 0.0, 2.0]))
    omega, theta = stsm.omega, stsm.theta
    torch.testing.assert_close(omega + theta, torch.ones(3))
    f_s = torch.randn(2, 4, 3)  # (B, T, N)
    out = stsm(f_s)
    torch.testing.assert_close(out[:, 0], f_s[:, 0])  # f^1_{s→t} = f^1_s
    eq2 = theta * f_s[:, 1:] + omega * f_s[:, :-1]  # Eq. (2) for τ ≥ 2
    torch.testing.assert_close(out[:, 1:], eq2)
    by_hand = f_s[0, 2, 1] + 0.5 * (f_s[0, 1, 1] - f_s[0, 2, 1])  # ω = sigmoid(0) = 1/2
    torch.testing.assert_close(out[0, 2, 1], by_hand)


# --- Eq. (5)-(7) temporal residual processor ---------------------------------------------------


def test_temporal_residual_eq5_to_eq7_by_hand():
    processor = TemporalResidual(2, reading="eq5", dropout=0.6)  # no feedback dropout in eq5
    with torch.no_grad():
        processor.U.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
        processor.U.bias.copy_(torch.tensor([0.0, 1.0]))
        processor.V.weight.copy_(torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
    x_hat = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]]])  # (B=1, T=3, N=2)
    # τ=1: ô = (1, 0+1) = (1, 1);            o = ((1+1)/2, (1+0)/2) = (1, 0.5)
    o1 = [1.0, 0.5]
    r1 = [math.tanh(1.0), math.tanh(0.5)]
    # τ=2: ô = (0 + r1[1], 2·1 + 1 + r1[0]); o = (ô + (0, 1)) / 2
    o2 = [(r1[1] + 0.0) / 2, (3.0 + r1[0] + 1.0) / 2]
    r2 = [math.tanh(o2[0]), math.tanh(o2[1])]
    # τ=3: ô = (2 + r2[1], −2 + 1 + r2[0]); o = (ô + (2, −1)) / 2
    o3 = [(2.0 + r2[1] + 2.0) / 2, (-1.0 + r2[0] - 1.0) / 2]
    expected = torch.tensor([[(o1[i] + o2[i] + o3[i]) / 3 for i in range(2)]])
    torch.testing.assert_close(processor(x_hat, torch.tensor([3])), expected)
    # a length of 2 averages only o^1 and o^2
    expected2 = torch.tensor([[(o1[i] + o2[i]) / 2 for i in range(2)]])
    torch.testing.assert_close(processor(x_hat, torch.tensor([2])), expected2)


def test_stsm_direct_omega_is_the_parameter_and_is_projected_into_0_1():
    stsm = SpatialTemporalSmooth(3)  # omega_form="direct", the default
    assert stsm.omega is stsm.w and [n for n, _ in stsm.named_parameters()] == ["w"]
    f_s = torch.randn(2, 4, 3)  # (B, T, N)
    loss = stsm(f_s).sum()
    loss.backward()
    # dL/dω_n = Σ_b Σ_τ≥2 (f^{τ−1} − f^τ)_n: no sigmoid slope in between
    expected = (f_s[:, :-1] - f_s[:, 1:]).sum(dim=(0, 1))
    torch.testing.assert_close(stsm.w.grad, expected)
    with torch.no_grad():
        stsm.w.copy_(torch.tensor([-0.5, 0.3, 1.7]))
    stsm.project_()
    torch.testing.assert_close(stsm.omega, torch.tensor([0.0, 0.3, 1.0]))
    torch.testing.assert_close(stsm.omega + stsm.theta, torch.ones(3))


def test_sigmoid_omega_gets_a_fraction_of_the_gradient():
    f_s = torch.randn(2, 4, 3)
    direct, sigmoid = SpatialTemporalSmooth(3), SpatialTemporalSmooth(3, omega_form="sigmoid")
    direct(f_s).sum().backward()
    sigmoid(f_s).sum().backward()
    torch.testing.assert_close(sigmoid.a.grad, 0.1 * 0.9 * direct.w.grad)  # ω(1 − ω) dL/dω


def test_unknown_readings_are_refused():
    with pytest.raises(ValueError, match="omega_form"):
        SpatialTemporalSmooth(3, omega_form="tanh")
    with pytest.raises(ValueError, match="reading"):
        TemporalResidual(3, reading="lstm", dropout=0.0)
    with pytest.raises(ValueError, match="temres_reading"):
        preset("STSRN", temres_reading="eq6")
    with pytest.raises(ValueError, match="omega_form"):
        preset("STSRN", omega_form="free")


def test_shortcut_reading_is_the_plain_recurrence_with_its_feedback_halved():
    """U = I, V·drop(r) + b, start b0: o^τ = x̂^τ + (V r^{τ−1} + b)/2, i.e. the CNN-RNN's
    recurrence with W = V/2, b = b_V/2 and b0 = start/2 (without dropout)."""
    torch.manual_seed(0)
    shortcut = TemporalResidual(4, reading="shortcut", dropout=0.6).eval()
    plain = PlainRecurrence(4, dropout=0.6).eval()
    assert shortcut.U is None
    with torch.no_grad():
        shortcut.V.weight.normal_()
        shortcut.V.bias.normal_()
        shortcut.start.normal_()
        plain.feedback[2].weight.copy_(shortcut.V.weight / 2)
        plain.feedback[2].bias.copy_(shortcut.V.bias / 2)
        plain.start_bias.copy_(shortcut.start / 2)
    x_hat = torch.randn(3, 5, 4)
    lengths = torch.tensor([5, 3, 1])
    torch.testing.assert_close(shortcut(x_hat, lengths), plain(x_hat, lengths))
    # and the feedback dropout is live in training mode
    shortcut.train()
    assert not torch.allclose(shortcut(x_hat, lengths), shortcut(x_hat, lengths))


def test_parameter_counts_of_the_two_temporal_readings():
    shortcut = n_params(TemporalResidual(128, reading="shortcut", dropout=0.6))
    eq5 = n_params(TemporalResidual(128, reading="eq5", dropout=0.6))
    assert shortcut == 128 * 128 + 128 + 128  # V with its bias, start b0: as the CNN-RNN's h2h
    assert eq5 == 2 * 128 * 128 + 128  # U with bias, V without


def test_plain_recurrence_by_hand():
    rnn = PlainRecurrence(2, dropout=0.0)
    linear = rnn.feedback[2]
    with torch.no_grad():
        rnn.start_bias.copy_(torch.tensor([0.5, -0.5]))
        linear.weight.copy_(torch.tensor([[2.0, 0.0], [1.0, 1.0]]))
        linear.bias.copy_(torch.tensor([0.0, 0.1]))
    e = torch.tensor([[[1.0, 2.0], [0.0, 0.0], [-1.0, 1.0]]])  # (1, 3, 2)
    o1 = [1.5, 1.5]  # e_1 + b0
    h1 = [math.tanh(v) for v in o1]
    o2 = [0.0 + 2.0 * h1[0], 0.0 + h1[0] + h1[1] + 0.1]
    h2 = [math.tanh(v) for v in o2]
    o3 = [-1.0 + 2.0 * h2[0], 1.0 + h2[0] + h2[1] + 0.1]
    expected = torch.tensor([[(o1[i] + o2[i] + o3[i]) / 3 for i in range(2)]])
    torch.testing.assert_close(rnn(e, torch.tensor([3])), expected)


def test_masked_mean_rejects_bad_lengths():
    with pytest.raises(ValueError):
        masked_mean(torch.zeros(2, 3, 4), torch.tensor([0, 3]))
    with pytest.raises(ValueError):
        masked_mean(torch.zeros(2, 3, 4), torch.tensor([4, 3]))


# --- shapes and masking --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_shapes_every_preset(name):
    model = STSRN(preset(name, num_classes=7)).eval()
    with torch.no_grad():
        for T in (1, 2, 16, 128):
            v_g = model(frames(2, T, model.config))
            assert v_g.shape == (2, 128) and torch.isfinite(v_g).all()
        assert model.logits(v_g).shape == (2, 7)
        mixed = model(frames(3, 5, model.config), torch.tensor([5, 1, 3]))
        assert mixed.shape == (3, 128)


@pytest.mark.parametrize("name", ["CNN-RNN", "Double+TemRes", "STSRN"])
def test_padding_does_not_leak(name):
    model = STSRN(preset(name)).eval()
    config = model.config
    short, mid, long = frames(1, 3, config, 1), frames(1, 6, config, 2), frames(1, 9, config, 3)
    batch = torch.zeros(3, 9, config.in_channels, *config.input_hw)  # (B, T, C, H, W)
    batch[0, :6], batch[1, :9], batch[2, :3] = mid[0], long[0], short[0]
    batch[0, 6:] = 100.0  # loud padding must still change nothing
    with torch.no_grad():
        alone = model(mid)
        batched = model(batch, torch.tensor([6, 9, 3]))
        torch.testing.assert_close(batched[0], alone[0], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(batched[2], model(short)[0], rtol=1e-5, atol=1e-5)


# --- gradients and training --------------------------------------------------------------------


def contrastive(distance: torch.Tensor, same: torch.Tensor, margin: float = 2.0) -> torch.Tensor:
    """Eq. (8): ||·||² for the same pid, max(0, m − ||·||) otherwise."""
    return torch.where(same, distance.pow(2), F.relu(margin - distance)).mean()


@pytest.mark.parametrize("name", ["CNN-RNN", "STSRN", "TripleResBlocks", "DoubleResBlocks*"])
def test_gradients_reach_every_parameter(name):
    model = STSRN(preset(name, num_classes=3))
    a, b = frames(2, 4, model.config, 1), frames(2, 3, model.config, 2)
    out = model.pair_forward(a, torch.tensor([4, 2]), b, None)
    assert out["distance"].shape == (2,)
    labels_a, labels_b = torch.tensor([0, 1]), torch.tensor([0, 2])
    loss = (
        F.cross_entropy(out["logits_a"], labels_a)
        + F.cross_entropy(out["logits_b"], labels_b)
        + contrastive(out["distance"], labels_a == labels_b)
    )
    loss.backward()
    for pname, param in model.named_parameters():
        assert param.grad is not None, pname
        assert torch.isfinite(param.grad).all(), pname
        assert param.grad.abs().sum() > 0, pname


def test_pair_distance_is_euclidean():
    model = STSRN(preset("CNN-RNN", filters=(2, 2, 2), embedding=4)).eval()
    a, b = frames(2, 2, model.config, 1), frames(2, 2, model.config, 2)
    with torch.no_grad():
        out = model.pair_forward(a, None, b, None)
    torch.testing.assert_close(out["distance"], ((out["v_a"] - out["v_b"]) ** 2).sum(1).sqrt())
    assert out["logits_a"] is None


def test_tiny_model_overfits():
    torch.manual_seed(0)
    config = preset("STSRN", filters=(4, 8, 8), embedding=16, dropout=0.0, num_classes=2)
    model = STSRN(config)
    clips = frames(4, 4, config, 5)  # (4, 4, C, H, W): 4 sequences
    pids = torch.tensor([0, 0, 1, 1])
    a_idx, b_idx = torch.tensor([0, 0, 2, 1]), torch.tensor([1, 2, 3, 3])  # 2 same, 2 different pairs
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(150):
        out = model.pair_forward(clips[a_idx], None, clips[b_idx], None)
        loss = (
            F.cross_entropy(out["logits_a"], pids[a_idx])
            + F.cross_entropy(out["logits_b"], pids[b_idx])
            + contrastive(out["distance"], pids[a_idx] == pids[b_idx])
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert loss.item() < 0.05


# --- Tanh and max-pool commute ------------------------------------------------------------------


def test_tanh_and_maxpool_commute_first_submodule():
    extractor = SpatialExtractor(
        layout="BaseModel",
        block="c",
        filters=(16, 32, 32),
        in_channels=5,
        input_hw=(56, 40),
        embedding=8,
        dropout=0.0,
        res_kernel=5,
        res_padding=2,
    )
    conv, pool, tanh = extractor.stages[0]
    assert isinstance(pool, nn.MaxPool2d) and isinstance(tanh, nn.Tanh)
    x = torch.randn(3, 5, 56, 40) * 3
    with torch.no_grad():
        y = conv(x)
        assert torch.equal(tanh(pool(y)), pool(tanh(y)))  # paper order vs CNN-RNN order
        assert tanh(pool(y)).shape == (3, 16, 30, 22)
