"""Sequence-length and count distributions that the synthetic datasets imitate (paper §4.1).

iLIDS-VID: 23-192 frames, mean about 73 (paper §4.1). PRID2011: 5-675 frames, mean about 100
(paper §4.1). MARS: figures measured on the real ``info/*.mat`` files of MARS-evaluation
(book: The original code, "Datasets and their layouts"): the quantiles below were computed from
``track_train_info``/``track_test_info``; only these summary figures are kept here.
"""

from __future__ import annotations

import numpy as np

ILIDS_LENGTH_RANGE = (23, 192)  # paper §4.1
PRID_LENGTH_RANGE = (5, 675)  # paper §4.1

# MARS tracklet lengths at the quantiles 0, 0.05, ..., 1 (measured on the real info files).
MARS_TRAIN_LENGTH_QUANTILES = (
    5,
    11,
    13,
    15,
    16,
    18,
    20,
    23,
    27,
    30,
    36,
    41,
    50,
    60,
    75,
    90,
    100,
    117,
    145,
    186,
    900,
)  # mean 61.45
MARS_TEST_LENGTH_QUANTILES = (
    2,
    9,
    12,
    13,
    15,
    17,
    19,
    20,
    24,
    28,
    30,
    36,
    43,
    50,
    61,
    76,
    90,
    105,
    132,
    175,
    920,
)  # mean 55.92
# Identities (train) by number of cameras they appear in, for 1..6 cameras.
MARS_CAMERAS_PER_IDENTITY = (6, 221, 184, 137, 55, 22)
# (identity, camera) groups by number of tracklets, 1..10 (the rare longer tail is cut at 10).
MARS_TRACKLETS_PER_CAMERA = (394, 365, 330, 231, 186, 135, 82, 68, 42, 35)
MARS_CAMERA_FREQUENCY = (1816, 1957, 1321, 750, 1880, 574)  # train tracklets per camera 1..6
MARS_JUNK_PER_TEST_IDENTITY = 870 / 634  # junk (-1) tracklets per real test identity
MARS_DISTRACTORS_PER_TEST_IDENTITY = 3248 / 634  # distractor (0) tracklets per real test identity
MARS_JUNK_LENGTH = (6, 18, 226)  # min, median, max of junk tracklet lengths
MARS_DISTRACTOR_LENGTH = (6, 29, 734)  # min, median, max of distractor tracklet lengths


def ilids_length(rng: np.random.Generator) -> int:
    """23 + Gamma(2, 25), clipped to 192: range 23-192, mean about 73."""
    low, high = ILIDS_LENGTH_RANGE
    return int(min(high, low + round(rng.gamma(2.0, 25.0))))


def prid_length(rng: np.random.Generator) -> int:
    """Log-normal with median 75 and sigma 0.75 (mean about 100), clipped to 5-675."""
    low, high = PRID_LENGTH_RANGE
    return int(np.clip(round(75.0 * np.exp(0.75 * rng.standard_normal())), low, high))


def quantile_length(rng: np.random.Generator, quantiles: tuple[int, ...]) -> int:
    """A draw from the distribution whose quantiles at 0, 1/20, ..., 1 are ``quantiles``."""
    levels = np.linspace(0.0, 1.0, len(quantiles))
    return int(round(np.interp(rng.random(), levels, quantiles)))


def median_length(rng: np.random.Generator, low_median_high: tuple[int, int, int]) -> int:
    """Log-normal around the median (sigma 0.8), clipped to [low, high]."""
    low, median, high = low_median_high
    return int(np.clip(round(median * np.exp(0.8 * rng.standard_normal())), low, high))


def choose_counts(rng: np.random.Generator, histogram: tuple[int, ...]) -> int:
    """A count 1..len(histogram) drawn with the histogram's frequencies."""
    weights = np.asarray(histogram, dtype=np.float64)
    return int(rng.choice(len(weights), p=weights / weights.sum())) + 1
