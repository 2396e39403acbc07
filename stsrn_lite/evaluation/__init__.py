"""Test-time features and the test protocols of paper §4.2-4.4 (Tables 1-4)."""

from stsrn_lite.evaluation.features import TestConfig, extract_features, pass_distances, select_frames
from stsrn_lite.evaluation.protocols import (
    Evaluation,
    cross_dataset_pids,
    evaluate_mars_standard,
    evaluate_two_camera,
    two_camera_indices,
)

__all__ = [
    "TestConfig",
    "extract_features",
    "pass_distances",
    "select_frames",
    "Evaluation",
    "cross_dataset_pids",
    "evaluate_mars_standard",
    "evaluate_two_camera",
    "two_camera_indices",
]
