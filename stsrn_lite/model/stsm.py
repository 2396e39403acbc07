"""Spatial-Temporal Smooth Module (paper §3.3, Eq. 2-3).

f^τ_{s→t} = θ ⊙ f^τ_s + ω ⊙ f^{τ−1}_s = f^τ_s + ω ⊙ (f^{τ−1}_s − f^τ_s), with f^1_{s→t} = f^1_s.

The paper requires θ + ω = 1 element-wise and calls ω a gate. We store an unconstrained
a ∈ R^N and set ω = sigmoid(a), θ = 1 − ω: the constraint then holds exactly, and both ω and θ
stay in [0, 1], so every output is a convex combination of two adjoining frames (a valid gate)
rather than an extrapolation that an unconstrained ω could drift into. We initialise
a = logit(0.1), i.e. ω = 0.1: the module starts close to the identity (the paper gives no value).
"""

from __future__ import annotations

import math

import torch
from torch import nn

OMEGA_INIT = 0.1


class SpatialTemporalSmooth(nn.Module):
    """Embeddings f_s (B, T, N) → smoothed x̂ (B, T, N)."""

    def __init__(self, embedding: int, *, omega_init: float = OMEGA_INIT) -> None:
        super().__init__()
        if not 0.0 < omega_init < 1.0:
            raise ValueError(f"omega_init must lie in (0, 1), got {omega_init}")
        a_init = math.log(omega_init / (1.0 - omega_init))  # logit(ω_init)
        self.a = nn.Parameter(torch.full((embedding,), a_init))

    @property
    def omega(self) -> torch.Tensor:
        return torch.sigmoid(self.a)  # (N,)

    @property
    def theta(self) -> torch.Tensor:
        return 1.0 - self.omega  # (N,), θ + ω = 1

    def forward(self, f_s: torch.Tensor) -> torch.Tensor:
        # f^{τ−1}_s, with f^0 := f^1 so that τ = 1 is left as it is
        previous = torch.cat([f_s[:, :1], f_s[:, :-1]], dim=1)  # (B, T, N)
        return f_s + self.omega * (previous - f_s)  # Eq. (3); τ = 1 gives f^1_s exactly
