"""Spatial-Temporal Smooth Module (paper §3.3, Eq. 2-3).

f^τ_{s→t} = θ ⊙ f^τ_s + ω ⊙ f^{τ−1}_s = f^τ_s + ω ⊙ (f^{τ−1}_s − f^τ_s), with f^1_{s→t} = f^1_s.

The paper names θ and ω as the learnable parameters, requires θ + ω = 1 element-wise and calls
ω a gate. Both parametrisations below keep θ = 1 − ω and ω ∈ [0, 1], so every output is a
convex combination of two adjoining frames; they differ in what the optimiser moves:

- ``"direct"`` (default): ω itself is the parameter; after every optimiser step `project_`
  clips it back into [0, 1] (projected SGD). Its gradient is dL/dω, so ω learns at the pace of
  any other weight.
- ``"sigmoid"``: ω = sigmoid(a) with a ∈ R^N unconstrained. The gradient reaching a is
  ω(1 − ω)·dL/dω, 0.09·dL/dω at ω = 0.1; with the paper's learning rate and Torch7's dampened
  momentum ω hardly moves in a run (book: chapter 04 and Design decisions).

ω starts at 0.1 (`OMEGA_INIT`): the module starts close to the identity (the paper gives no
value).
"""

from __future__ import annotations

import math

import torch
from torch import nn

OMEGA_INIT = 0.1
OMEGA_FORMS = ("direct", "sigmoid")


class SpatialTemporalSmooth(nn.Module):
    """Embeddings f_s (B, T, N) → smoothed x̂ (B, T, N)."""

    def __init__(
        self,
        embedding: int,
        *,
        omega_form: str = "direct",
        omega_init: float = OMEGA_INIT,
    ) -> None:
        super().__init__()
        if not 0.0 < omega_init < 1.0:
            raise ValueError(f"omega_init must lie in (0, 1), got {omega_init}")
        if omega_form not in OMEGA_FORMS:
            raise ValueError(f"omega_form {omega_form!r} is not one of {OMEGA_FORMS}")
        self.omega_form = omega_form
        if omega_form == "direct":
            # ω itself, kept in [0, 1] by project_
            self.w = nn.Parameter(torch.full((embedding,), omega_init))
        else:
            a_init = math.log(omega_init / (1.0 - omega_init))  # logit(ω_init)
            self.a = nn.Parameter(torch.full((embedding,), a_init))  # ω = sigmoid(a)

    @property
    def omega(self) -> torch.Tensor:
        if self.omega_form == "direct":
            return self.w  # (N,)
        return torch.sigmoid(self.a)  # (N,)

    @property
    def theta(self) -> torch.Tensor:
        return 1.0 - self.omega  # (N,), θ + ω = 1

    @torch.no_grad()
    def project_(self) -> None:
        """Clip a directly stored ω back into [0, 1]; call it after every optimiser
        step."""
        if self.omega_form == "direct":
            self.w.clamp_(0.0, 1.0)

    def forward(self, f_s: torch.Tensor) -> torch.Tensor:
        # f^{τ−1}_s, with f^0 := f^1 so that τ = 1 is left as it is
        previous = torch.cat([f_s[:, :1], f_s[:, :-1]], dim=1)  # (B, T, N)
        return f_s + self.omega * (previous - f_s)  # Eq. (3)
