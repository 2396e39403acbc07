"""The Siamese pairs of a training epoch, as a table and as crops (paper §3.5 and §4.2).

`pair_table` lists the first pairs of an `stsrn_lite.training.pairs.EpochPlan`; `plot_pair_crops`
shows the first frame of both sequences of some pairs with the 56×40 training crop outlined.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from stsrn_lite.preprocess.crop import CROP_HW


def pair_table(
    plan, pids: np.ndarray, camids: np.ndarray, lengths: np.ndarray, cameras: Sequence[str], count: int
) -> pd.DataFrame:
    """The first ``count`` pairs of an epoch (`stsrn_lite.training.pairs.EpochPlan`).

    ``pids``, ``camids``, ``lengths``: per cache tracklet; ``cameras``: camera names by camid.
    Frames are the subsequence's first and last index in the tracklet; the crop is the 56×40
    window's top-left corner in the 64×48 frame, taken after the mirror.
    """
    rows = []
    for p in range(min(count, len(plan))):
        row = {"pair": p, "kind": "positive" if plan.labels[p, 0] == plan.labels[p, 1] else "negative"}
        for column, side in enumerate("ab"):
            t = int(plan.tracklets[p, column])
            start, used = int(plan.starts[p, column]), int(plan.lengths[p, column])
            row[f"pid {side}"] = int(pids[t])
            row[f"camera {side}"] = cameras[int(camids[t])]
            row[f"frames {side}"] = f"{start}-{start + used - 1} of {int(lengths[t])}"
            row[f"crop {side}"] = f"({int(plan.tops[p, column])}, {int(plan.lefts[p, column])})" + (
                " mirrored" if plan.flips[p, column] else ""
            )
        rows.append(row)
    return pd.DataFrame(rows).set_index("pair")


def plot_pair_crops(plan, cache, pairs: Sequence[int], cameras: Sequence[str]) -> Figure:
    """The first frame of both sequences of each pair in ``pairs``, mirrored where the pair's
    draw says so, with the 56×40 training crop outlined. ``cache``: a `PreprocessedCache`."""
    h, w = CROP_HW
    fig, axes = plt.subplots(1, 2 * len(pairs), figsize=(1.25 * 2 * len(pairs) + 0.3, 2.3), squeeze=False)
    for k, p in enumerate(pairs):
        kind = "positive" if plan.labels[p, 0] == plan.labels[p, 1] else "negative"
        for column in range(2):
            ax = axes[0, 2 * k + column]
            t = int(plan.tracklets[p, column])
            rgb, _ = cache.tracklet(t)  # (T, 3, 64, 48) uint8
            frame = np.asarray(rgb[int(plan.starts[p, column])]).transpose(1, 2, 0)  # (64, 48, 3)
            if plan.flips[p, column]:
                frame = frame[:, ::-1]
            ax.imshow(frame)
            top, left = int(plan.tops[p, column]), int(plan.lefts[p, column])
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, edgecolor="yellow", linewidth=1.5))
            ax.set_xticks([])
            ax.set_yticks([])
            mirrored = ", mirrored" if plan.flips[p, column] else ""
            ax.set_title(
                f"pair {p} ({kind})\npid {int(cache.pids[t])}, {cameras[int(cache.camids[t])]}{mirrored}", fontsize=7
            )
    fig.tight_layout()
    return fig
