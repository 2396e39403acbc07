"""Dataset statistics as plain dictionaries (what ``data_scripts/inspect_dataset.py`` prints)."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from stsrn_lite.data.tracklet import Tracklet, VideoReIDDataset


def _summary(tracklets: Iterable[Tracklet]) -> dict:
    tracklets = list(tracklets)
    lengths = np.array([t.length for t in tracklets], dtype=np.int64)
    if lengths.size == 0:
        return {"identities": 0, "tracklets": 0, "frames": 0}
    return {
        "identities": len({t.pid for t in tracklets}),
        "tracklets": len(tracklets),
        "frames": int(lengths.sum()),
        "min_length": int(lengths.min()),
        "mean_length": round(float(lengths.mean()), 2),
        "max_length": int(lengths.max()),
    }


def dataset_statistics(dataset: VideoReIDDataset) -> dict:
    """Counts and sequence lengths, overall, per camera and per split/subset.

    ``identities`` counts real persons (MARS junk -1 and distractors 0 are counted apart).
    """
    real = [t for t in dataset.tracklets if t.pid > 0]
    stats = {"dataset": dataset.name, "root": str(dataset.root), **_summary(real)}
    stats["identities"] = len({t.pid for t in real})
    if len(real) != len(dataset.tracklets):
        stats["junk_tracklets"] = sum(t.pid == -1 for t in dataset.tracklets)
        stats["distractor_tracklets"] = sum(t.pid == 0 for t in dataset.tracklets)
        stats["all_tracklets"] = _summary(dataset.tracklets)
    stats["cameras"] = {name: _summary(t for t in dataset.tracklets if t.camid == camid)
                        for camid, name in enumerate(dataset.cameras)}
    paired = dataset.paired_pids()
    stats["identities_in_both_first_cameras"] = len(paired)
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
