"""Recurrences over the frame embeddings and the temporal mean-pooling.

(i) ``TemporalResidual``: the temporal residual processor of paper §3.4, Eq. (5)-(7), in
    two readings (book: Design decisions, "The temporal residual processor").
(ii) ``PlainRecurrence``: the vanilla RNN of the CNN-RNN (McLaughlin et al. 2016; buildModel.lua,
     (book: The original code, "Architecture")),
     used by every Table 5 model and by the Table 6 rows without "TemRes".

Both take x̂ (B, T, N) and ``lengths`` (B,): sequence b is valid for τ < lengths[b]. Padding sits
after the valid steps, so the recurrence simply runs past it; only the pooling is masked.
"""

from __future__ import annotations

import torch
from torch import nn


def valid_mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """(B,) lengths → (B, T) float mask, 1 on valid steps. Lengths on the CPU are checked; on a GPU
    the check would make the host wait for the device every forward pass, so it is left to where
    they were made (the training plan and the test's sequences, on the host)."""
    if lengths.dim() != 1:
        raise ValueError(f"lengths must be 1-D (B,), got shape {tuple(lengths.shape)}")
    if lengths.device.type == "cpu" and (bool((lengths < 1).any()) or bool((lengths > steps).any())):
        raise ValueError(f"lengths must lie in [1, {steps}], got {lengths.tolist()}")
    steps_range = torch.arange(steps, device=lengths.device)  # (T,)
    return (steps_range[None, :] < lengths[:, None]).float()  # (B, T)


def masked_mean(o: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean of o (B, T, N) over the valid steps of each sequence → (B, N)  (Eq. 7)."""
    mask = valid_mask(lengths, o.shape[1]).to(o.dtype)  # (B, T)
    total = (o * mask[:, :, None]).sum(dim=1)  # (B, N)
    return total / lengths.to(o.dtype)[:, None]  # (B, N)


TEMRES_READINGS = ("shortcut", "eq5")


class TemporalResidual(nn.Module):
    """ô^τ = U x̂^τ + V r^{τ−1}  (Eq. 5); o^τ = (ô^τ + x̂^τ)/2, r^τ = tanh(o^τ)
    (Eq. 6); v_g = mean_τ o^τ  (Eq. 7).

    ``reading="shortcut"``: the CNN-RNN recurrence with Eq. (6)'s shortcut added and
    nothing else changed: U = I, V·drop(r) + b with the feedback dropout p, and a
    learnt start value b0 in place of V r^0. ``reading="eq5"``: Eq. (5) as printed,
    a learnt U with bias, V without, r^0 = 0 and no feedback dropout.
    """

    def __init__(self, embedding: int, *, reading: str, dropout: float) -> None:
        super().__init__()
        if reading not in TEMRES_READINGS:
            raise ValueError(f"unknown reading {reading!r}; expected {TEMRES_READINGS}")
        self.reading = reading
        shortcut = reading == "shortcut"
        self.U = None if shortcut else nn.Linear(embedding, embedding)  # N → L
        self.V = nn.Linear(embedding, embedding, bias=shortcut)  # L → L
        self.drop = nn.Dropout(dropout) if shortcut else nn.Identity()
        # b0, the CNN-RNN's nn.Add start (shortcut reading); None: V r^0 = 0
        self.start = nn.Parameter(torch.zeros(embedding)) if shortcut else None

    def forward(self, x_hat: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x̂ (B, T, N), lengths (B,) → v_g (B, N)."""
        u_x = x_hat if self.U is None else self.U(x_hat)  # (B, T, L), U x̂^τ for all τ
        outputs, r = [], None
        for tau in range(x_hat.shape[1]):
            if r is None:  # τ = 1
                o_hat = u_x[:, 0] if self.start is None else u_x[:, 0] + self.start
            else:
                o_hat = u_x[:, tau] + self.V(self.drop(r))  # Eq. (5), (B, L)
            o = (o_hat + x_hat[:, tau]) / 2  # Eq. (6), (B, L)
            r = torch.tanh(o)  # Eq. (6)
            outputs.append(o)
        o = torch.stack(outputs, dim=1)  # (B, T, L)
        return masked_mean(o, lengths)  # Eq. (7), (B, L)


class PlainRecurrence(nn.Module):
    """The CNN-RNN recurrence (buildModel.lua; book: The original code, "Architecture"):
    o_1 = e_1 + b0, o_t = e_t + W·dropout(tanh(o_{t−1})) + b; v_g = mean_t o_t. The
    output is not squashed.
    """

    def __init__(self, embedding: int, *, dropout: float) -> None:
        super().__init__()
        self.start_bias = nn.Parameter(torch.zeros(embedding))  # b0, torch nn.Add(128)
        self.feedback = nn.Sequential(  # h2h: W, b
            nn.Tanh(),
            nn.Dropout(dropout),
            nn.Linear(embedding, embedding),
        )

    def forward(self, e: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """e (B, T, N), lengths (B,) → v_g (B, N)."""
        o = e[:, 0] + self.start_bias  # (B, N)
        outputs = [o]
        for t in range(1, e.shape[1]):
            o = e[:, t] + self.feedback(o)  # (B, N)
            outputs.append(o)
        return masked_mean(torch.stack(outputs, dim=1), lengths)  # (B, T, N) → (B, N)
