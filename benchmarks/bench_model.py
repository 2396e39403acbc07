"""FLOPs per frame and forward+backward throughput of every model preset.

    python benchmarks/bench_model.py [--device cpu|cuda] [--batch 4] [--frames 16] [--steps 5]

FLOPs are computed from the layer shapes (2 per multiply-add of the convolutions and linear
layers, per frame, spatial part + recurrence) and checked against `torch.utils.flop_counter`.
Throughput is frames per second of a Siamese pair step (forward, distance, backward) after one
warm-up step. For the presets named by --variants-for it is also measured with channels-last
memory and with bfloat16 autocast (on CUDA float16 too), beside the largest relative difference
of v_g from float32 (eval mode, same weights and input). A variant is recommended only where it
is faster and within --tolerance. Prints tables and one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import json
import time

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from stsrn_lite.model.network import STSRN
from stsrn_lite.model.presets import PRESETS


def computed_flops_per_frame(model: STSRN, input_hw: tuple[int, int], in_channels: int) -> int:
    """2 x multiply-adds of every Conv2d and Linear, for one frame (shapes from forward hooks)."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k_h, k_w = module.kernel_size
            total += 2 * output.numel() * (module.in_channels // module.groups) * k_h * k_w
        elif isinstance(module, nn.Linear):
            total += 2 * output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, 1, in_channels, *input_hw))  # (B=1, T=1, C, H, W)
    for handle in handles:
        handle.remove()
    return total


def counted_flops_per_frame(model: STSRN, input_hw: tuple[int, int], in_channels: int) -> int:
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros(1, 1, in_channels, *input_hw))
    return counter.get_total_flops()


VARIANTS = ("float32", "channels_last", "bf16_autocast", "fp16_autocast")


def autocast_context(variant: str, device: str):
    dtype = {"bf16_autocast": torch.bfloat16, "fp16_autocast": torch.float16}.get(variant)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=dtype)


def prepare(model: STSRN, variant: str, device: str) -> STSRN:
    model = model.to(device)
    if variant == "channels_last":
        model = model.to(memory_format=torch.channels_last)
    return model


def relative_difference(model: STSRN, config, variant: str, device: str) -> float:
    """max |v_g(variant) − v_g(float32)| / max |v_g(float32)| on one fixed batch, eval mode."""
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(2, 16, config.in_channels, *config.input_hw, generator=generator).to(device)  # (B, T, C, H, W)
    reference = copy.deepcopy(model).to(device).eval()
    candidate = prepare(copy.deepcopy(model), variant, device).eval()
    with torch.no_grad():
        expected = reference(x)
        with autocast_context(variant, device):
            got = candidate(x).float()
    return float((got - expected).abs().max() / expected.abs().max())


def throughput(
    model: STSRN, config, device: str, batch: int, frames: int, steps: int, variant: str = "float32"
) -> float:
    model = prepare(model, variant, device).train()
    optimiser = torch.optim.SGD(model.parameters(), lr=1e-3)
    shape = (batch, frames, config.in_channels, *config.input_hw)  # (B, T, C, H, W)
    a, b = torch.randn(shape, device=device), torch.randn(shape, device=device)
    lengths = torch.full((batch,), frames, device=device)

    def step() -> None:
        with autocast_context(variant, device):
            out = model.pair_forward(a, lengths, b, lengths)
        out["distance"].float().sum().backward()
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)

    step()  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return 2 * batch * frames * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument(
        "--variants-for",
        nargs="*",
        default=["CNN-RNN", "STSRN"],
        help="presets also timed with channels-last and autocast",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=2e-2,
        help="largest relative difference of v_g from float32 a variant may have",
    )
    args = parser.parse_args()
    torch.manual_seed(0)
    rows, variant_rows = [], []
    for name, config in PRESETS.items():
        config = dataclasses.replace(config, num_classes=None)
        model = STSRN(config)
        computed = computed_flops_per_frame(model, config.input_hw, config.in_channels)
        counted = counted_flops_per_frame(model, config.input_hw, config.in_channels)
        fps = throughput(copy.deepcopy(model), config, args.device, args.batch, args.frames, args.steps)
        rows.append(
            {
                "preset": name,
                "mflops_per_frame": round(computed / 1e6, 2),
                "flop_counter_mflops": round(counted / 1e6, 2),
                "train_frames_per_s": round(fps),
            }
        )
        if name not in args.variants_for:
            continue
        variants = [v for v in VARIANTS if not (v == "fp16_autocast" and args.device == "cpu")]
        for variant in variants:
            fps_v = (
                fps
                if variant == "float32"
                else throughput(copy.deepcopy(model), config, args.device, args.batch, args.frames, args.steps, variant)
            )
            difference = 0.0 if variant == "float32" else relative_difference(model, config, variant, args.device)
            variant_rows.append(
                {
                    "preset": name,
                    "variant": variant,
                    "train_frames_per_s": round(fps_v),
                    "speedup": round(fps_v / fps, 2),
                    "max_rel_diff": float(f"{difference:.2e}"),
                    "recommended": variant != "float32" and fps_v > fps and difference <= args.tolerance,
                }
            )
    print(f"device {args.device}, threads {torch.get_num_threads()}, pairs of {args.batch}x{args.frames} frames")
    print(f"{'preset':<28} {'MFLOPs/frame':>13} {'flop_counter':>13} {'train frames/s':>15}")
    for row in rows:
        print(
            f"{row['preset']:<28} {row['mflops_per_frame']:>13} {row['flop_counter_mflops']:>13} "
            f"{row['train_frames_per_s']:>15}"
        )
    print()
    print(
        f"{'preset':<12} {'variant':<15} {'frames/s':>9} {'speedup':>8} {'max rel diff':>13} recommended "
        f"(tolerance {args.tolerance:g})"
    )
    for row in variant_rows:
        print(
            f"{row['preset']:<12} {row['variant']:<15} {row['train_frames_per_s']:>9} {row['speedup']:>8} "
            f"{row['max_rel_diff']:>13.2e} {'yes' if row['recommended'] else 'no'}"
        )
    print(
        json.dumps(
            {
                "device": args.device,
                "threads": torch.get_num_threads(),
                "rows": rows,
                "variants": variant_rows,
                "tolerance": args.tolerance,
            }
        )
    )


if __name__ == "__main__":
    main()
