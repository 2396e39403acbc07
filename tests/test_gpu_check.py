"""benchmarks/gpu_check.sh runs on the CPU as a smoke test (issue "Training at the speed of the
hardware", done when), so that the script a lent GPU gets has run somewhere first; its figures are
not checked, only that every part ran and wrote them."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_end_to_end_run_is_shortened_only_when_the_whole_recipe_would_not_fit():
    check = gpu_check()
    epoch_frames = 300 * 2 * 16  # 300 identities: 150 training identities, 300 pairs of 2 sequences of 16
    fast = check.RECIPES["fast"]["epochs"]
    epochs, projected = check.fitted_epochs(None, 300, frames_per_second=epoch_frames, budget=30.0)
    assert (epochs, projected) == (30, pytest.approx(fast))  # one epoch a second: 30 fit, not the whole recipe
    assert check.fitted_epochs(None, 300, frames_per_second=epoch_frames, budget=10.0 * fast) == (None, fast)
    assert check.fitted_epochs(2, 300, frames_per_second=epoch_frames, budget=1.0)[0] == 2  # given: kept
    assert check.fitted_epochs(None, 300, frames_per_second=None) == (None, None)  # nothing measured


def test_the_gpu_check_runs_on_the_cpu_and_writes_every_figure(tmp_path):
    env = {**os.environ, "OUT": str(tmp_path / "out"), "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    env["GPU_CHECK_LIMIT"] = "900"  # the script caps itself for a lent GPU; here the test's own timeout does
    command = ["bash", "benchmarks/gpu_check.sh", "--device", "cpu", "--size", "smoke", "--epochs", "1"]
    command += ["--threads", "1", "--presets", "CNN-RNN", "--stacked", "1", "2", "--stacked-steps", "4"]
    # the 16-pass test took 3 of this test's 10 minutes, bf16 steps of 16 pairs 4; on the AMD EPYC of
    # 2026-12-06, 40 stacked steps took 53 s of its 195 s and bf16 steps of 2 pairs 34 s
    command += ["--precision-pairs", "1", "--centre-crop"]
    command += ["--unit-tests", "tests/test_cuda.py"]  # the whole of tests/test_transforms.py runs beside it
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads((tmp_path / "out" / "gpu_check.json").read_text())
    assert figures["device"].startswith("cpu") and figures["unit_tests"]["status"] == 0
    assert "skipped" in figures["unit_tests"]["summary"]  # tests/test_cuda.py ran, and skips without CUDA
    assert set(figures["throughput_frames_per_second"]) == {"CNN-RNN faithful", "CNN-RNN batched"}
    assert set(figures["stacked_frames_per_second"]) == {"STSRN faithful x1", "STSRN faithful x2"}
    assert all(value > 0 for value in figures["stacked_frames_per_second"].values())
    assert figures["precision"]["bf16"]["within_tolerance"] and figures["precision"]["tf32"]["v_g_difference"] == 0
    end = figures["end_to_end"]
    assert end["epochs"] == 1 and end["identities"] == 40 and end["test_passes"] == 1 and 0 <= end["rank1"] <= 100
