"""Named model configurations, one per row of the paper's Table 5 and Table 6."""

from __future__ import annotations

from dataclasses import replace

from stsrn_lite.model.config import ModelConfig

PRESETS: dict[str, ModelConfig] = {
    # McLaughlin's network (buildModel.lua; book: The original code, "Architecture"), equal to
    # Table 5 BaseModel with the vanilla RNN
    "CNN-RNN": ModelConfig(layout="BaseModel", block="c", temres=False, stsm=False),
    # Table 5: spatial ablations, all with the vanilla RNN and no STSM
    "BaseModel": ModelConfig(layout="BaseModel", block="c", temres=False, stsm=False),
    "SingleResBlock": ModelConfig(layout="SingleResBlock", block="c", temres=False, stsm=False),
    "DoubleResBlocks": ModelConfig(layout="DoubleResBlocks", block="c", temres=False, stsm=False),
    "TripleResBlocks": ModelConfig(layout="TripleResBlocks", block="c", temres=False, stsm=False),
    "DoubleResBlocks*": ModelConfig(layout="DoubleResBlocks", block="a", temres=False, stsm=False),
    # §4.5 text: DoubleResBlocks with the blocks of Fig. 3b
    "DoubleResBlocks (Fig. 3b)": ModelConfig(layout="DoubleResBlocks", block="b", temres=False, stsm=False),
    # Table 6: temporal ablations
    "Base+TemRes": ModelConfig(layout="BaseModel", block="c", temres=True, stsm=False),
    "Double+TemRes": ModelConfig(layout="DoubleResBlocks", block="c", temres=True, stsm=False),
    "Base+TemRes+STSM": ModelConfig(layout="BaseModel", block="c", temres=True, stsm=True),
    "Double+TemRes+STSM": ModelConfig(layout="DoubleResBlocks", block="c", temres=True, stsm=True),
    # Fig. 2: the full model
    "STSRN": ModelConfig(layout="DoubleResBlocks", block="c", temres=True, stsm=True),
}


def preset(name: str, **overrides) -> ModelConfig:
    """The named configuration, with any field replaced by ``overrides``."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid names: {sorted(PRESETS)}")
    return replace(PRESETS[name], **overrides)
