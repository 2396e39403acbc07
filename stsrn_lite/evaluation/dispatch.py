"""One entry to the test protocols of paper §4.2-4.4 by name, for the command lines and the book.

- ``two-camera``: iLIDS-VID / PRID2011, the fold's test half (`evaluate_two_camera`);
- ``cross-dataset``: Table 4, a model trained on iLIDS-VID tested on PRID2011 identities
  (`cross_dataset_pids`), with the two-camera protocol;
- ``mars-paper``: Table 2, two random cameras per MARS test identity (`evaluate_mars_paper`);
- ``mars-standard``: the official MARS queries, official rules (`evaluate_mars_standard`);
- ``mars-torchreid``: the same queries with torchreid's gallery and rules.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from stsrn_lite.data.tracklet import VideoReIDDataset
from stsrn_lite.evaluation.features import TestConfig
from stsrn_lite.evaluation.protocols import (
    Evaluation,
    evaluate_mars_paper,
    evaluate_mars_standard,
    evaluate_two_camera,
)
from stsrn_lite.preprocess.cache import PreprocessedCache

PROTOCOLS = ("two-camera", "cross-dataset", "mars-paper", "mars-standard", "mars-torchreid")


def default_protocol(trained_on: str, tested_on: str) -> str:
    """The protocol a model trained on ``trained_on`` is tested with on ``tested_on``.

    MARS: ``mars-standard``; the training dataset: ``two-camera`` (also the evaluations during
    training); PRID2011 after iLIDS-VID: ``cross-dataset``.
    """
    if tested_on == "mars":
        return "mars-standard"
    if tested_on == trained_on:
        return "two-camera"
    if trained_on == "ilids-vid" and tested_on == "prid2011":
        return "cross-dataset"
    raise ValueError(f"no default protocol for a model trained on {trained_on} tested on {tested_on}")


def evaluate_protocol(
    protocol: str,
    model: nn.Module,
    cache: PreprocessedCache,
    dataset: VideoReIDDataset,
    cfg: TestConfig,
    device: str | torch.device,
    *,
    pids: Sequence[int] | None = None,
    seed: int = 0,
    progress: bool = False,
) -> Evaluation:
    """Test ``model`` on ``dataset`` (whose preprocessed frames are ``cache``) with ``protocol``.

    ``pids``: the test identities of ``two-camera`` and ``cross-dataset`` (required there, unused
    otherwise); ``seed``: the camera draw of ``mars-paper``.
    """
    if protocol in ("two-camera", "cross-dataset"):
        if pids is None:
            raise ValueError(f"the {protocol} protocol needs the test identities (pids)")
        return evaluate_two_camera(model, cache, pids, cfg, device, progress=progress)
    if protocol == "mars-paper":
        return evaluate_mars_paper(model, cache, dataset, cfg, device, seed=seed, progress=progress)
    if protocol in ("mars-standard", "mars-torchreid"):
        rules = "mars" if protocol == "mars-standard" else "torchreid"
        return evaluate_mars_standard(model, cache, dataset, cfg, device, rules=rules, progress=progress)
    raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
