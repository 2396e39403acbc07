"""Typed configuration of the STSRN model (paper §3, Table 5, Table 6, Fig. 3)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from stsrn_lite.model.stsm import OMEGA_FORMS
from stsrn_lite.model.temporal import TEMRES_READINGS

LAYOUTS = ("BaseModel", "SingleResBlock", "DoubleResBlocks", "TripleResBlocks")
BLOCKS = ("a", "b", "c")


@dataclass(frozen=True)
class ModelConfig:
    layout: str  # spatial layer sequence, one of LAYOUTS; Table 5 rows
    # residual block kind of Fig. 3: "a" ResNet (3x3, ReLU inside), "b" large kernel + Tanh inside,
    # "c" as b without in-block activation (paper's choice, §3.2)
    block: str
    temres: bool  # temporal residual processor Eq. (5)-(7) instead of the plain CNN-RNN recurrence; Table 6 "TemRes"
    stsm: bool  # Spatial-Temporal Smooth Module Eq. (2)-(3); Table 6 "STSM"
    # Eq. (5)-(6) read as the CNN-RNN recurrence plus the shortcut ("shortcut": U = I, feedback
    # dropout and start bias kept) or as printed ("eq5": learnt U); book: Design decisions
    temres_reading: str = "shortcut"
    # how ω of Eq. (2)-(3) is stored: "direct" (ω, clipped to [0, 1]) or "sigmoid" (ω = sigmoid(a))
    omega_form: str = "direct"
    filters: tuple[int, int, int] = (
        16,
        32,
        32,
    )  # output channels of the three spatial stages (TripleResBlocks repeats the last); buildModel.lua
    embedding: int = 128  # N, size of the FC embedding and of the hidden state L; videoReid.lua -embeddingSize
    dropout: float = 0.6  # p of the dropout before the FC (and in the CNN-RNN feedback); videoReid.lua -dropoutFrac
    in_channels: int = 5  # C at the input: 3 colour + 2 flow; §3.2
    use_flow: bool = (
        True  # False multiplies the flow channels (after the first 3) by 0, as the original's -disableOpticalFlow
    )
    input_hw: tuple[int, int] = (56, 40)  # H×W of a frame after the crop (book: The original code, "Architecture")
    num_classes: int | None = None  # training identities of the identification head; None means no head; §3.5
    # kernel of the in-block convs of blocks "b" and "c"; Fig. 2 caption "5, 4 and 1" (book: Design decisions)
    res_kernel: int = 5
    # padding of those convs; Fig. 2 caption read in Table 5's order (kernel, padding, stride): each conv
    # grows H and W by 4
    res_padding: int = 4

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"unknown layout {self.layout!r}; expected one of {LAYOUTS}")
        if self.block not in BLOCKS:
            raise ValueError(f"unknown block {self.block!r}; expected one of {BLOCKS}")
        if self.temres_reading not in TEMRES_READINGS:
            raise ValueError(f"unknown temres_reading {self.temres_reading!r}; expected one of {TEMRES_READINGS}")
        if self.omega_form not in OMEGA_FORMS:
            raise ValueError(f"unknown omega_form {self.omega_form!r}; expected one of {OMEGA_FORMS}")
        if len(self.filters) != 3 or min(self.filters) < 1:
            raise ValueError(f"filters must be three positive ints, got {self.filters}")
        if not self.use_flow and self.in_channels <= 3:
            raise ValueError(
                f"use_flow=False needs flow channels after the 3 colour ones; in_channels={self.in_channels}"
            )
        for name in ("temres", "stsm", "use_flow"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        for name in ("embedding", "in_channels"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive int, got {getattr(self, name)!r}")
        if len(self.input_hw) != 2 or not all(isinstance(n, int) and n > 0 for n in self.input_hw):
            raise ValueError(f"input_hw must be two positive ints (H, W), got {self.input_hw!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be a number in [0, 1), got {self.dropout!r}")
        if self.num_classes is not None and self.num_classes < 1:
            raise ValueError(f"num_classes must be positive or None, got {self.num_classes}")
        if self.res_kernel < 1 or 2 * self.res_padding < self.res_kernel - 1:
            raise ValueError(
                f"res_kernel={self.res_kernel}, res_padding={self.res_padding} would shrink the map; "
                "need 2 * res_padding >= res_kernel - 1 so that a 1x1 shortcut can match it"
            )


# What a checkpoint saved before a field existed was trained with.
BEFORE_FIELDS = {"temres_reading": "eq5", "omega_form": "sigmoid"}


def model_config_from_dict(saved: dict) -> ModelConfig:
    """The ModelConfig a checkpoint's ``model_config`` dict describes (lists back to tuples)."""
    names = {f.name for f in fields(ModelConfig)}
    values = {**BEFORE_FIELDS, **saved}
    return ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in names})
