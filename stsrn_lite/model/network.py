"""The whole STSRN (paper §3.1, Fig. 1-2) and its Siamese pair use (§3.5).

frames → f_s (spatial extractor, §3.2) → x̂ (STSM, §3.3, or x̂ = x without it)
       → v_g (temporal residual processor, §3.4, or the CNN-RNN recurrence) → identity logits.
"""

from __future__ import annotations

import torch
from torch import nn

from stsrn_lite.model.config import ModelConfig
from stsrn_lite.model.spatial import SpatialExtractor
from stsrn_lite.model.stsm import SpatialTemporalSmooth
from stsrn_lite.model.temporal import PlainRecurrence, TemporalResidual


class STSRN(nn.Module):
    """One branch of the Siamese network; the pair shares every weight (§3.5)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.spatial = SpatialExtractor(
            layout=config.layout,
            block=config.block,
            filters=config.filters,
            in_channels=config.in_channels,
            input_hw=config.input_hw,
            embedding=config.embedding,
            dropout=config.dropout,
            res_kernel=config.res_kernel,
            res_padding=config.res_padding,
        )
        self.stsm = SpatialTemporalSmooth(config.embedding, omega_form=config.omega_form) if config.stsm else None
        if config.temres:
            self.temporal: nn.Module = TemporalResidual(
                config.embedding, reading=config.temres_reading, dropout=config.dropout
            )
        else:
            self.temporal = PlainRecurrence(config.embedding, dropout=config.dropout)
        self.classifier = nn.Linear(config.embedding, config.num_classes) if config.num_classes else None
        self._init_weights()

    def _init_weights(self) -> None:
        """Xavier weights for every conv and every linear layer (the FC, the recurrent U, V
        and W, the classifier), zero biases (paper §4.2)."""
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def embeddings(self, frames: torch.Tensor) -> torch.Tensor:
        """frames (B, T, C, H, W) float → the frames' embeddings f_s (B, T, N), before the STSM."""
        if frames.dim() != 5:
            raise ValueError(f"frames must be (B, T, C, H, W), got shape {tuple(frames.shape)}")
        B, T, C, H, W = frames.shape
        if C != self.config.in_channels:
            raise ValueError(f"frames have {C} channels, the model expects {self.config.in_channels}")
        if (H, W) != tuple(self.config.input_hw):
            h, w = self.config.input_hw
            raise ValueError(
                f"frames are {H}x{W}, the model expects {h}x{w}: crop the 64x48 frames first "
                "(stsrn_lite.preprocess.crop.crop_sequences)"
            )
        if not self.config.use_flow:
            frames = torch.cat(
                [frames[:, :, :3], torch.zeros_like(frames[:, :, 3:])], dim=2
            )  # (B, T, C, H, W), flow := 0
        x = self.spatial(frames.reshape(B * T, C, H, W))  # (B*T, C, H, W) → (B*T, N)
        return x.reshape(B, T, -1)  # (B, T, N)

    def forward(self, frames: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """frames (B, T, C, H, W) float, lengths (B,) long or None (all T valid) → v_g (B, N)."""
        x = self.embeddings(frames)  # (B, T, N)
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.long, device=frames.device)
        x_hat = self.stsm(x) if self.stsm is not None else x  # Eq. (4), (B, T, N)
        return self.temporal(x_hat, lengths)  # (B, N)

    def project_(self) -> None:
        """Bring constrained parameters back into their range after an optimiser step (the
        STSM's ω into [0, 1]; `SpatialTemporalSmooth.project_`)."""
        if self.stsm is not None:
            self.stsm.project_()

    def logits(self, v_g: torch.Tensor) -> torch.Tensor:
        """Identification head: v_g (B, N) → (B, num_classes)."""
        if self.classifier is None:
            raise ValueError("this model has no identification head; set num_classes in ModelConfig")
        return self.classifier(v_g)

    def pair_forward(
        self,
        a: torch.Tensor,
        a_lengths: torch.Tensor | None,
        b: torch.Tensor,
        b_lengths: torch.Tensor | None,
    ) -> dict[str, torch.Tensor | None]:
        """Siamese pass (§3.5): v_a, v_b (B, N); Euclidean distance (B,); logits (None without a head)."""
        v_a = self.forward(a, a_lengths)
        v_b = self.forward(b, b_lengths)
        has_head = self.classifier is not None
        return {
            "v_a": v_a,
            "v_b": v_b,
            "distance": torch.linalg.vector_norm(v_a - v_b, ord=2, dim=1),  # ||v_a − v_b||_2, (B,)
            "logits_a": self.logits(v_a) if has_head else None,
            "logits_b": self.logits(v_b) if has_head else None,
        }
