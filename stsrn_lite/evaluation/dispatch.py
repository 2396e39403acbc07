"""One entry to the test protocols of paper §4.2-4.4 by name, for the command lines and the book.

- ``two-camera``: iLIDS-VID / PRID2011, the fold's test half (`evaluate_two_camera`); also MARS under
  its ASTPN reading (Table 2), the fold's test half of the two-camera reduction (``views``);
- ``cross-dataset``: Table 4, a model trained on iLIDS-VID tested on PRID2011 identities
  (`cross_dataset_pids`), with the two-camera protocol;
- ``mars-standard``: the official MARS queries, official rules (`evaluate_mars_standard`);
- ``mars-torchreid``: the same queries with torchreid's gallery and rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from stsrn_lite.data.mars_astpn import MARS_PROTOCOLS
from stsrn_lite.data.tracklet import VideoReIDDataset
from stsrn_lite.evaluation.features import TestConfig
from stsrn_lite.evaluation.protocols import Evaluation, evaluate_mars_standard, evaluate_two_camera
from stsrn_lite.preprocess.cache import PreprocessedCache

PROTOCOLS = ("two-camera", "cross-dataset", "mars-standard", "mars-torchreid")


def default_protocol(trained_on: str, tested_on: str, *, mars_protocol: str | None = None) -> str:
    """The protocol a model trained on ``trained_on`` is tested with on ``tested_on``.

    The training dataset: ``two-camera`` (also the evaluations during training), except a MARS run
    under its official reading (``mars_protocol``, the run's `TrainConfig.mars_protocol`, required
    for MARS runs): ``mars-standard``; MARS after another dataset: ``mars-standard``; PRID2011
    after iLIDS-VID: ``cross-dataset``.
    """
    if trained_on == tested_on == "mars":
        if mars_protocol not in MARS_PROTOCOLS:
            raise ValueError(
                f"a MARS run's protocol depends on its mars_protocol, one of {MARS_PROTOCOLS}; got {mars_protocol!r}"
            )
        return "two-camera" if mars_protocol == "astpn" else "mars-standard"
    if tested_on == "mars":
        return "mars-standard"
    if tested_on == trained_on:
        return "two-camera"
    if trained_on == "ilids-vid" and tested_on == "prid2011":
        return "cross-dataset"
    raise ValueError(f"no default protocol for a model trained on {trained_on} tested on {tested_on}")


def check_mars_reading(protocol: str, mars_protocol: str, run: str) -> None:
    """Refuse to test a MARS model (of ``run``, named in the error) on identities it trained on.

    Each reading's training identities include test identities of the other: after the ASTPN
    reading only ``two-camera`` is a test, after the official reading only ``mars-standard`` and
    ``mars-torchreid``.
    """
    if mars_protocol not in MARS_PROTOCOLS:
        raise ValueError(f"mars_protocol must be one of {MARS_PROTOCOLS}, got {mars_protocol!r}")
    if protocol in ("two-camera", "cross-dataset") and mars_protocol != "astpn":
        raise ValueError(
            f"{run}: trained on MARS's official split (mars_protocol {mars_protocol!r}), whose identities the "
            "two-camera test half would hold; test it with mars-standard"
        )
    if protocol in ("mars-standard", "mars-torchreid") and mars_protocol == "astpn":
        raise ValueError(
            f"{run}: trained on MARS's two-camera reduction (mars_protocol 'astpn'), whose training half holds "
            "official test identities; test it with two-camera"
        )


def evaluate_protocol(
    protocol: str,
    model: nn.Module,
    cache: PreprocessedCache,
    dataset: VideoReIDDataset,
    cfg: TestConfig,
    device: str | torch.device,
    *,
    pids: Sequence[int] | None = None,
    views: Mapping[int, tuple[int, int]] | None = None,
    progress: bool = False,
) -> Evaluation:
    """Test ``model`` on ``dataset`` (whose preprocessed frames are ``cache``) with ``protocol``.

    ``pids``: the test identities of ``two-camera`` and ``cross-dataset`` (required there, unused
    otherwise); ``views``: their probe and gallery tracklets where the cameras are not 0 and 1
    (MARS under its ASTPN reading, `stsrn_lite.training.data.RunData.views`).
    """
    if protocol in ("two-camera", "cross-dataset"):
        if pids is None:
            raise ValueError(f"the {protocol} protocol needs the test identities (pids)")
        if dataset.name == "mars" and not views:
            raise ValueError("the two-camera protocol on MARS needs the views of its two-camera reduction")
        return evaluate_two_camera(model, cache, pids, cfg, device, views=views, progress=progress)
    if protocol in ("mars-standard", "mars-torchreid"):
        rules = "mars" if protocol == "mars-standard" else "torchreid"
        return evaluate_mars_standard(model, cache, dataset, cfg, device, rules=rules, progress=progress)
    raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
