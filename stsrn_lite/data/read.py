"""One entry point for the three readers, for command lines and notebooks."""
from __future__ import annotations

from pathlib import Path

from stsrn_lite.data.ilidsvid import read_ilidsvid
from stsrn_lite.data.mars import read_mars
from stsrn_lite.data.prid2011 import read_prid2011
from stsrn_lite.data.tracklet import VideoReIDDataset

DATASETS = ("ilids-vid", "prid2011", "mars")


def read_dataset(name: str, root: str | Path, **options) -> VideoReIDDataset:
    """Read dataset ``name`` (one of `DATASETS`) from ``root``; options go to its reader."""
    if name == "ilids-vid":
        return read_ilidsvid(root, **options)
    if name == "prid2011":
        return read_prid2011(root, **options)
    if name == "mars":
        return read_mars(root, **options)
    raise ValueError(f"unknown dataset '{name}'; expected one of {', '.join(DATASETS)}")
