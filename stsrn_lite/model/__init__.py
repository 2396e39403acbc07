"""STSRN model: spatial residual extractor, STSM and temporal residual processor.

Implements Su et al. 2018, "Spatial-Temporal Synergic Residual Learning for Video Person
Re-Identification", §3 (Fig. 2-3, Eq. 1-8) with the ablations of Table 5 and Table 6, and the
CNN-RNN baseline of McLaughlin et al. 2016 it builds on.

Shape legend (used in a comment on every reshape):

    B  sequences in a batch
    T  frames per sequence (padded length; ``lengths`` gives the valid prefix)
    C  channels (5 at the input: 3 colour + 2 optical flow)
    H×W  pixels
    N  embedding size (output of the fully-connected layer)
    L  hidden size of the recurrence; L = N because Eq. (6) adds ô and x̂
"""

from stsrn_lite.model.config import ModelConfig
from stsrn_lite.model.network import STSRN
from stsrn_lite.model.presets import PRESETS, preset

__all__ = ["ModelConfig", "STSRN", "PRESETS", "preset"]
