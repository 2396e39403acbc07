"""The arithmetic of a training step: float32, TF32 or bfloat16 autocast (issue "Training at the
speed of the hardware", §3).

- ``"float32"``: every operation in float32.
- ``"tf32"``: on CUDA, matrix products and convolutions in TensorFloat-32 (10-bit mantissa, float32
  range and accumulation); no effect on the CPU, which has no TF32. The default: PyTorch already
  runs cuDNN convolutions in TF32, and the matrix products are the recurrence and the FC.
- ``"bf16"``: the forward pass and the loss under ``torch.autocast`` to bfloat16 (weights,
  gradients and the optimiser stay float32); on the CPU too, where it is slower.

Like the device, the precision says how a run is computed, not what it is: it is recorded in
``run.json`` but is not part of the run's identity, so a run started in float32 may be resumed in
TF32. `v_g_difference` measures what each costs against float32 (``benchmarks/bench_model.py``
states the tolerance, 2e-2 of max |v_g|; tests/test_precision.py checks bf16 on the CPU,
``benchmarks/gpu_check.py`` all three on a GPU).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator

import torch

PRECISIONS = ("float32", "tf32", "bf16")
TOLERANCE = 2e-2  # largest max |Δv_g| / max |v_g| against float32 (benchmarks/bench_model.py --tolerance)


@contextlib.contextmanager
def precision(name: str, device: torch.device) -> Iterator[None]:
    """Compute the enclosed forward pass (and loss) in precision ``name`` on ``device``; the global
    TF32 switches are put back on exit."""
    if name not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {name!r}")
    if name == "bf16":
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            yield
    elif device.type == "cuda":  # float32 or TF32: cuBLAS and cuDNN switches, put back on exit
        saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = name == "tf32"
        try:
            yield
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
    else:  # float32 or tf32 on the CPU: plain float32
        yield


def v_g_difference(model: torch.nn.Module, frames: torch.Tensor, name: str) -> float:
    """max |v_g(name) − v_g(float32)| / max |v_g(float32)| of ``model`` (eval mode, a copy) on
    ``frames`` (B, T, C, H, W), on the frames' device."""
    model = copy.deepcopy(model).to(frames.device).eval()
    with torch.no_grad():
        with precision("float32", frames.device):
            expected = model(frames)
        with precision(name, frames.device):
            got = model(frames).float()
    return float((got - expected).abs().max() / expected.abs().max())
