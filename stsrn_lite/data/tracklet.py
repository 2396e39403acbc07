"""The common currency of the readers: tracklets, identity splits and a dataset (paper §4.1).

Vocabulary (used the same way everywhere): ``pid`` is the person id as the dataset writes it
(MARS: -1 junk, 0 distractor), ``camid`` the 0-based camera index, a ``tracklet`` one person's
frames from one camera in temporal order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Tracklet:
    pid: int  # person id as on disk (MARS: -1 junk, 0 distractor)
    camid: int  # 0-based camera index (cam1/cam_a -> 0)
    frames: tuple[Path, ...]  # frame files in temporal order (sorted by frame number)

    @property
    def length(self) -> int:
        return len(self.frames)


@dataclass(frozen=True)
class Split:
    """One train/test partition of identities (a fold of the ten-fold protocol, paper §4.2)."""

    train: tuple[int, ...]  # pids used for training
    test: tuple[int, ...]  # pids used for testing (probe = camera 0, gallery = camera 1)

    def __post_init__(self) -> None:
        overlap = set(self.train) & set(self.test)
        if overlap:
            raise ValueError(f"split has pids in both train and test: {sorted(overlap)[:5]}")


@dataclass
class VideoReIDDataset:
    """A dataset as read from disk: every tracklet plus the identity splits that came with it."""

    name: str  # "ilids-vid", "prid2011" or "mars"
    root: Path  # the folder the reader was given
    cameras: tuple[str, ...]  # camera folder names, index = camid
    tracklets: list[Tracklet]  # every tracklet, in a fixed, documented order
    splits: list[Split] = field(default_factory=list)  # from the dataset's split file, if any
    subsets: dict[str, list[int]] = field(default_factory=dict)  # MARS: "train"/"test" -> tracklet indices
    query: list[int] = field(default_factory=list)  # MARS: tracklet indices of the queries
    skipped: list[Path] = field(default_factory=list)  # stray non-image files that were skipped

    @property
    def pids(self) -> list[int]:
        return sorted({t.pid for t in self.tracklets})

    def paired_pids(self, cam_a: int = 0, cam_b: int = 1) -> list[int]:
        """Persons with a tracklet in both cameras (PRID2011: persons 1-200)."""
        in_a = {t.pid for t in self.tracklets if t.camid == cam_a}
        in_b = {t.pid for t in self.tracklets if t.camid == cam_b}
        return sorted(in_a & in_b)

    def tracklet_of(self, pid: int, camid: int) -> Tracklet:
        """The tracklet of ``pid`` in camera ``camid`` (iLIDS-VID and PRID2011 have one each)."""
        found = [t for t in self.tracklets if t.pid == pid and t.camid == camid]
        if len(found) != 1:
            raise KeyError(f"{self.name}: expected one tracklet for pid {pid} camera {camid}, "
                           f"found {len(found)}")
        return found[0]

    @property
    def num_frames(self) -> int:
        return sum(t.length for t in self.tracklets)
