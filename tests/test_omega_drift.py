"""The gate-drift measurement's arithmetic: steps of the paper's schedule and the power-law fit."""

from __future__ import annotations

import pytest

from stsrn_lite.book.omega_drift import extrapolate, largest_change, paper_steps


def rows(changes: list[float], steps: list[int]) -> list[dict]:
    return [
        {"steps": s, "omega_min": 0.1 - c / 2, "omega_max": 0.1 + c, "omega_mean": 0.1} for s, c in zip(steps, changes)
    ]


def test_paper_schedule_steps():
    assert paper_steps() == 300_000  # 2 · 150 persons · 1000 epochs, one pair per step


def test_largest_change_takes_either_side():
    assert largest_change({"omega_min": 0.07, "omega_max": 0.11}) == pytest.approx(0.03)


def test_a_linear_drift_and_a_random_walk_are_told_apart():
    steps = [100 * k for k in range(1, 21)]
    alpha, at = extrapolate(rows([1e-4 * s / 100 for s in steps], steps), 300_000)
    assert alpha == pytest.approx(1.0) and at == pytest.approx(0.3)
    alpha, at = extrapolate(rows([1e-4 * (s / 100) ** 0.5 for s in steps], steps), 10_000)
    assert alpha == pytest.approx(0.5) and at == pytest.approx(1e-3)


def test_the_prediction_stays_inside_the_gates_range():
    steps = [100 * k for k in range(1, 11)]
    _, at = extrapolate(rows([1e-2 * s / 100 for s in steps], steps), 10**7)
    assert at == pytest.approx(0.9)


def test_no_change_cannot_be_fitted():
    with pytest.raises(ValueError, match="nonzero"):
        extrapolate(rows([0.0] * 4, [1, 2, 3, 4]), 100)
