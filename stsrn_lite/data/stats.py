"""Dataset statistics as plain dictionaries (what ``data_scripts/inspect_dataset.py`` prints)."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from stsrn_lite.data.tracklet import Tracklet, VideoReIDDataset


def _summary(tracklets: Iterable[Tracklet]) -> dict:
    """Counts and lengths; ``identities`` counts real persons only (pid > 0)."""
    tracklets = list(tracklets)
    lengths = np.array([t.length for t in tracklets], dtype=np.int64)
    summary = {"identities": len({t.pid for t in tracklets if t.pid > 0}), "tracklets": len(tracklets),
               "frames": int(lengths.sum())}
    if lengths.size:
        summary.update(min_length=int(lengths.min()), mean_length=round(float(lengths.mean()), 2),
                       max_length=int(lengths.max()))
    for name, pid in (("junk_tracklets", -1), ("distractor_tracklets", 0)):
        count = sum(t.pid == pid for t in tracklets)
        if count:
            summary[name] = count
    return summary


def dataset_statistics(dataset: VideoReIDDataset) -> dict:
    """Counts and sequence lengths, overall, per camera and per split/subset.

    ``identities`` counts real persons; MARS junk (-1) and distractor (0) tracklets are
    counted among the tracklets and reported apart as ``junk_tracklets``/``distractor_tracklets``.
    """
    stats = {"dataset": dataset.name, "root": str(dataset.root), **_summary(dataset.tracklets)}
    stats["cameras"] = {name: _summary(t for t in dataset.tracklets if t.camid == camid)
                        for camid, name in enumerate(dataset.cameras)}
    stats["identities_in_both_first_cameras"] = len(dataset.paired_pids())
    if dataset.subsets:
        stats["subsets"] = {name: _summary(dataset.tracklets[i] for i in indices)
                            for name, indices in dataset.subsets.items()}
        stats["subsets"]["query"] = _summary(dataset.tracklets[i] for i in dataset.query)
    if dataset.splits:
        first = dataset.splits[0]
        train, test = set(first.train), set(first.test)
        stats["splits"] = {
            "count": len(dataset.splits),
            "train_identities": len(first.train),
            "test_identities": len(first.test),
            "train_tracklets": sum(t.pid in train for t in dataset.tracklets),
            "test_tracklets": sum(t.pid in test for t in dataset.tracklets),
        }
    stats["skipped_files"] = len(dataset.skipped)
    return stats
