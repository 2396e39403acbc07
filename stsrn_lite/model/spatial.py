"""Spatial residual extractor f_s (paper §3.2, Eq. 1, Fig. 3, Table 5).

Every spatial stage is "layer → (max-pool) → Tanh". The first stage is the CNN-RNN's convolution
(kernel 5, padding 4, stride 1, so the map grows by 4 pixels; buildModel.lua,
book: The original code, "Architecture"). The paper writes
``Tanh(Maxpool(Conv(S)))`` while the CNN-RNN applies tanh before pooling; tanh is monotonic, so
the two orders give identical outputs. "Res" stages are the residual block of Eq. (1).
The maps are flattened and mapped by Dropout → Linear to the N-dim embedding x^τ.
"""

from __future__ import annotations

import torch
from torch import nn

# Table 5: (layer, max-pool after it) per stage; "conv" = plain conv, "res" = residual block.
LAYER_PLANS: dict[str, tuple[tuple[str, bool], ...]] = {
    "BaseModel": (("conv", True), ("conv", True), ("conv", True)),
    "SingleResBlock": (("conv", True), ("conv", True), ("res", True)),
    "DoubleResBlocks": (("conv", True), ("res", True), ("res", True)),
    "TripleResBlocks": (("conv", True), ("res", False), ("res", True), ("res", True)),
}


def plain_conv(in_channels: int, out_channels: int) -> nn.Conv2d:
    """The CNN-RNN convolution: 5x5, padding 4, stride 1 (Table 5 caption; buildModel.lua)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=5, padding=4, stride=1)


class ResidualBlock(nn.Module):
    """f_res(x) = Φ(x) + W_s x  (Eq. 1), Φ = conv → [activation] → conv.

    Kinds (Fig. 3): "a" ResNet basic block, 3x3 convs with padding 1 and ReLU inside;
    "b" convs of (kernel, padding) with Tanh inside; "c" as "b" with no activation
    inside. W_s is the identity when Φ keeps the shape, else a 1x1 projection conv,
    zero-padded by as many pixels as Φ grows the map. The Tanh after the block belongs
    to the stage.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        kind: str,
        kernel: int,
        padding: int,
    ) -> None:
        super().__init__()
        if kind == "a":
            kernel, padding, inner = 3, 1, nn.ReLU()
        elif kind == "b":
            inner = nn.Tanh()
        elif kind == "c":
            inner = nn.Identity()
        else:
            raise ValueError(f"unknown block kind {kind!r}; expected 'a', 'b' or 'c'")
        self.phi = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel, padding=padding),
            inner,
            nn.Conv2d(out_channels, out_channels, kernel, padding=padding),
        )
        growth = 2 * padding - kernel + 1  # pixels each conv adds to H (and to W)
        if growth < 0:
            raise ValueError(f"kernel {kernel}, padding {padding}: the map shrinks")
        if in_channels == out_channels and growth == 0:
            self.shortcut: nn.Module = nn.Identity()
        else:
            # W_s: Φ adds 2·growth pixels to H and W, and so does this padding
            self.shortcut = nn.Conv2d(in_channels, out_channels, 1, padding=growth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.phi(x) + self.shortcut(x)  # Eq. (1)


class SpatialExtractor(nn.Module):
    """Frames (B*T, C, H, W) → embeddings x (B*T, N)."""

    def __init__(
        self,
        *,
        layout: str,
        block: str,
        filters: tuple[int, int, int],
        in_channels: int,
        input_hw: tuple[int, int],
        embedding: int,
        dropout: float,
        res_kernel: int,
        res_padding: int,
    ) -> None:
        super().__init__()
        if layout not in LAYER_PLANS:
            raise ValueError(f"unknown layout {layout!r}; expected one of {tuple(LAYER_PLANS)}")
        plan = LAYER_PLANS[layout]
        widths = list(filters) + [filters[-1]] * (len(plan) - len(filters))  # TripleResBlocks repeats the last
        stages, channels = [], in_channels
        for (kind, pool), width in zip(plan, widths):
            if kind == "conv":
                layer: nn.Module = plain_conv(channels, width)
            else:
                layer = ResidualBlock(channels, width, kind=block, kernel=res_kernel, padding=res_padding)
            stages.append(nn.Sequential(layer, nn.MaxPool2d(2, 2) if pool else nn.Identity(), nn.Tanh()))
            channels = width
        self.stages = nn.Sequential(*stages)
        with torch.no_grad():  # dry run for the flattened size C·H·W
            flat = self.stages(torch.zeros(1, in_channels, *input_hw)).numel()
        self.flat_features = flat
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(flat, embedding)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        maps = self.stages(frames)  # (B*T, C, H, W)
        flat = maps.flatten(1)  # (B*T, C*H*W)
        return self.fc(self.dropout(flat))  # (B*T, N)
