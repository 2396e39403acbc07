"""The GPU check: one prepared run for a lent GPU (at most 8 minutes), also a CPU smoke test.

    bash benchmarks/gpu_check.sh [--device cuda|cpu] [--size full|smoke] [--out DIR]

1. the unit tests that exercise CUDA (`CUDA_TESTS`), on the device;
2. training throughput (frames/s) of every preset in faithful mode (1 pair per step) and batched
   mode (16 pairs per step), from `stsrn_lite.book.estimate.step_seconds`; of 1, 4 and 8 faithful
   runs stacked on the device, each in its own process (`stacked`: the grid's ``--workers``);
   and of each precision (float32, TF32, bf16 autocast) with its difference in v_g;
3. one split of a synthetic iLIDS-VID (``--size full``: the real 300 identities; ``smoke``: 40)
   trained end to end with the fast recipe (`RECIPES["fast"]`; shortened to `TRAIN_BUDGET` seconds
   of training when its measured throughput says the whole recipe would not fit, with the whole
   recipe's projected time beside it; ``--epochs`` to shorten it by hand) and tested with the
   paper's test (L = 128, 16 passes), timed;
4. every figure written to ``OUT/gpu_check.json`` (``$OUT`` of the device tool by default), with
   the device's name, and printed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from stsrn_lite.book.estimate import step_seconds, synchronise, training_step
from stsrn_lite.model.network import STSRN
from stsrn_lite.model.presets import PRESETS
from stsrn_lite.model.presets import preset as preset_config
from stsrn_lite.provenance import code_version, device_name
from stsrn_lite.synthetic.generator import SIZES, SyntheticConfig, ensure
from stsrn_lite.training.cli import periodic_evaluation
from stsrn_lite.training.config import RECIPES, TrainConfig
from stsrn_lite.training.data import load_run_data
from stsrn_lite.training.loop import train
from stsrn_lite.training.precision import PRECISIONS, TOLERANCE, v_g_difference

REPO = Path(__file__).resolve().parents[1]
CUDA_TESTS = ("tests/test_transforms.py", "tests/test_cuda.py")  # the tests that run on CUDA when it is there
SEQUENCE = 16  # frames of a training sequence
STACKED = (1, 4, 8)  # faithful runs sharing the device at once
STACKED_STEPS = 40  # timed steps of each of them
PRECISION_PAIRS = 16  # pairs per step of the precision measurement (bf16 on a CPU without bf16 units: ~60 s a step)
TRAIN_BUDGET = 150.0  # seconds the end-to-end run may train, of the script's 8 minutes


def positive(text: str) -> int:
    """An argument that must be an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def unit_tests(paths: list[str]) -> dict:
    """The tests ``paths`` (`CUDA_TESTS`: those that exercise CUDA; they skip, saying so, where there is none)."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "pytest", "-q", "-x", *paths]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    last = (done.stdout.strip().splitlines() or [""])[-1]
    return {"status": done.returncode, "summary": last, "seconds": round(time.perf_counter() - started, 1)}


def throughput(device: str, threads: int, presets: list[str]) -> dict:
    """Training frames/s of ``presets``, one run at a time: faithful (1 pair a step), batched (16)."""
    figures = {}
    for preset in presets:
        for mode, pairs in (("faithful", 1), ("batched", 16)):
            seconds = step_seconds(preset, pairs, 150, device, threads)
            figures[f"{preset} {mode}"] = round(pairs * 2 * SEQUENCE / seconds, 1)
    return figures


def _stacked_worker(preset: str, device: str, steps: int, barrier, results) -> None:
    """One faithful run's steps in its own process, timed between a shared start and its end."""
    torch.set_num_threads(1)
    step = training_step(preset, 1, 150, device)
    step()  # warm-up (CUDA context, kernels)
    synchronise(device)
    barrier.wait()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    synchronise(device)
    results.put(time.perf_counter() - started)


def stacked(device: str, counts: tuple[int, ...] = STACKED, steps: int = STACKED_STEPS, preset: str = "STSRN") -> dict:
    """Frames/s of ``k`` faithful runs sharing the device, each in its own process (the grid's
    ``--workers k``; tests/test_grid.py shows such runs equal separate ones bit for bit), all k
    together: the k processes start their timed steps at once and the slowest sets the time."""
    context = multiprocessing.get_context("spawn")
    figures = {}
    for k in counts:
        barrier, results = context.Barrier(k), context.Queue()
        workers = [
            context.Process(target=_stacked_worker, args=(preset, device, steps, barrier, results)) for _ in range(k)
        ]
        for worker in workers:
            worker.start()
        seconds = max(results.get(timeout=300) for _ in workers)
        for worker in workers:
            worker.join()
        figures[f"{preset} faithful x{k}"] = round(k * steps * 2 * SEQUENCE / seconds, 1)
    return figures


def precisions(device: str, threads: int, preset: str = "STSRN", pairs: int = PRECISION_PAIRS) -> dict:
    """Frames/s of steps of ``pairs`` pairs and max |Δv_g| / max |v_g| against float32, per
    precision (`stsrn_lite.training.precision`); ``within_tolerance`` says whether the difference is
    within `TOLERANCE`."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = STSRN(preset_config(preset, num_classes=150)).to(device)
    frames = torch.randn(4, SEQUENCE, 5, 56, 40, generator=torch.Generator().manual_seed(1)).to(device)
    figures = {}
    for name in PRECISIONS:
        seconds = step_seconds(preset, pairs, 150, device, threads, precision_name=name)
        difference = v_g_difference(model, frames, name)
        figures[name] = {
            "frames_per_second": round(pairs * 2 * SEQUENCE / seconds, 1),
            "v_g_difference": difference,
            "within_tolerance": difference <= TOLERANCE,
        }
    return figures


def fitted_epochs(
    epochs: int | None, identities: int, frames_per_second: float | None, budget: float = TRAIN_BUDGET
) -> tuple[int | None, float | None]:
    """The end-to-end run's epochs (None: the fast recipe's own) and the projected training
    seconds of the whole recipe at ``frames_per_second``: ``epochs`` when given, else as many as
    fit in ``budget`` seconds when the whole recipe does not."""
    epoch_frames = 2 * (identities // 2) * 2 * SEQUENCE  # 2K pairs of two sequences, K training identities
    projected = RECIPES["fast"]["epochs"] * epoch_frames / frames_per_second if frames_per_second else None
    if epochs is None and projected is not None and projected > budget:
        epochs = max(1, int(budget * frames_per_second / epoch_frames))
    return epochs, projected


def end_to_end(
    device: str, size: str, epochs: int | None, workdir: Path, frames_per_second: float | None, tta: bool = True
) -> dict:
    """One fold of a synthetic iLIDS-VID with the fast recipe, trained and tested, timed. When
    the recipe's whole length would train for longer than `TRAIN_BUDGET` at ``frames_per_second``
    (the faithful STSRN throughput measured before), the run is shortened to fit, and the
    projected time of the whole recipe is reported beside it. ``tta=False`` tests with one centre
    crop instead of the paper's 16 passes (the CPU smoke test)."""
    started = time.perf_counter()
    identities = SIZES[size]["ilids-vid"]["identities"]
    root = workdir / f"ilids-{size}"
    ensure(SyntheticConfig(layout="ilids-vid", seed=0, **SIZES[size]["ilids-vid"]), root, workers=os.cpu_count() or 1)
    generated = time.perf_counter()
    whole = RECIPES["fast"]["epochs"]
    epochs, projected = fitted_epochs(epochs, identities, frames_per_second)
    warmup = RECIPES["fast"]["warmup_epochs"]
    length = {"epochs": epochs, "warmup_epochs": min(warmup, epochs / 2)} if epochs else {}  # a shortened run
    config = TrainConfig.for_recipe(
        "fast", dataset="ilids-vid", preset="STSRN", eval_every=10**6, eval_tta=tta, **length
    )
    data = load_run_data("ilids-vid", root, fold=0, folds=10, seed=1, cache_dir=workdir / "cache", workers=4)
    prepared = time.perf_counter()
    result = train(config, data, workdir / "run", device=device, progress=False)
    trained = time.perf_counter()
    test = periodic_evaluation(result.model, data, config, torch.device(device))  # L = 128, 16 passes
    return {
        "identities": identities,
        "epochs": config.epochs,
        "recipe_epochs": whole,
        "recipe": config.recipe,
        "projected_recipe_train_seconds": round(projected, 1) if projected is not None else None,
        "generate_seconds": round(generated - started, 1),
        "prepare_seconds": round(prepared - generated, 1),
        "train_seconds": round(trained - prepared, 1),
        "test_seconds": round(time.perf_counter() - trained, 1),
        "test_passes": 16 if tta else 1,
        "rank1": test["rank1"],
        "mAP": test["mAP"],
    }


def _faithful(figures: dict) -> float | None:
    """The faithful STSRN frames/s measured so far, if any (what the fast recipe trains at)."""
    return figures.get("throughput_frames_per_second", {}).get("STSRN faithful")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--size", choices=tuple(SIZES), default="full")
    parser.add_argument("--epochs", type=int, default=None, help="shorten the fast recipe (smoke test)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--presets", nargs="+", choices=sorted(PRESETS), default=list(PRESETS), metavar="PRESET")
    parser.add_argument(
        "--stacked", type=int, nargs="+", default=STACKED, help="how many faithful runs share the device at once"
    )
    parser.add_argument(
        "--stacked-steps",
        type=positive,
        default=STACKED_STEPS,
        help="timed steps of each stacked run (fewer for the CPU smoke test)",
    )
    parser.add_argument(
        "--precision-pairs",
        type=positive,
        default=PRECISION_PAIRS,
        help="pairs per step when timing each precision (fewer for the CPU smoke test)",
    )
    parser.add_argument(
        "--centre-crop",
        action="store_true",
        help="test the end-to-end run with one centre crop, not the paper's 16 passes (CPU smoke test)",
    )
    parser.add_argument(
        "--unit-tests",
        nargs="+",
        default=list(CUDA_TESTS),
        metavar="PATH",
        help="the test files of part 1 (the CPU smoke test: those of them that only CUDA runs)",
    )
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu_check_out")))
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: torch sees no CUDA device; pass --device cpu for the smoke test", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    figures = {"device": device_name(torch.device(args.device)), "code_version": code_version()}
    figures["torch"] = torch.__version__
    with tempfile.TemporaryDirectory() as scratch:
        for name, measure in (
            ("unit_tests", lambda: unit_tests(args.unit_tests)),
            ("throughput_frames_per_second", lambda: throughput(args.device, args.threads, args.presets)),
            ("stacked_frames_per_second", lambda: stacked(args.device, args.stacked, args.stacked_steps)),
            ("precision", lambda: precisions(args.device, args.threads, pairs=args.precision_pairs)),
            (
                "end_to_end",
                lambda: end_to_end(
                    args.device, args.size, args.epochs, Path(scratch), _faithful(figures), tta=not args.centre_crop
                ),
            ),
        ):
            figures[name] = measure()
            print(json.dumps({name: figures[name]}), flush=True)
            (args.out / "gpu_check.json").write_text(json.dumps(figures, indent=1) + "\n")  # kept if cut off
    return 0 if figures["unit_tests"]["status"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
