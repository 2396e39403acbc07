"""The training objective (paper §3.5): verification Eq. (8) plus identification on both sequences."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def verification_loss(
    distance: torch.Tensor,
    same: torch.Tensor,
    margin: float,
    positive_cost: str = "squared",
) -> torch.Tensor:
    """Eq. (8) per pair: ||v_m − v_n||² if same identity, else max(0, m − ||v_m − v_n||)

    distance (B,), same (B,) bool → (B,). ``positive_cost="distance"`` uses ||·|| for
    positive pairs instead, as the CNN-RNN's HingeEmbeddingCriterion does
    (buildModel.lua, train.lua).
    """
    squared = positive_cost == "squared"
    positive = distance.pow(2) if squared else distance  # Eq. (8), p = g
    negative = F.relu(margin - distance)  # Eq. (8), p ≠ g
    return torch.where(same, positive, negative)


def objective(
    out: dict[str, torch.Tensor],
    labels_a: torch.Tensor,
    labels_b: torch.Tensor,
    *,
    margin: float,
    positive_cost: str,
) -> dict[str, torch.Tensor]:
    """The sum of the three costs per pair, averaged over the pairs of a step (§3.5).

    ``out`` is `STSRN.pair_forward`'s result; labels (B,) index the training identities.
    Returns the total and its parts (each a scalar).
    """
    same = labels_a == labels_b  # (B,)
    verification = verification_loss(out["distance"], same, margin, positive_cost)
    verification = verification.mean()
    identification = F.cross_entropy(out["logits_a"], labels_a)
    identification = identification + F.cross_entropy(out["logits_b"], labels_b)
    return {
        "loss": verification + identification,
        "verification": verification,
        "identification": identification,
    }
