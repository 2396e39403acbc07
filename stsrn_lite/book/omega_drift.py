"""How far the STSM's gate ω moves in training, under both of its parametrisations (§3.3).

    python -m stsrn_lite.book.omega_drift [--profile smoke] [--epochs 150] [--dataset ilids-vid]

Trains STSRN on fold 0 of ``--dataset`` once with ω = sigmoid(a) and once with ω stored
directly (`stsrn_lite.model.stsm`), through `experiments.run`, so both runs resume and are
reused. Writes ``results/<profile>/omega_drift.csv``: per parametrisation and epoch, the SGD
steps so far and ω's mean, least and largest value (all ω start at `OMEGA_INIT`), and
``omega_final.csv``: every ω at the end. `extrapolate` carries the largest change to the
number of steps of a complete run of the paper's schedule.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch

from stsrn_lite.book.experiments import run, save_results
from stsrn_lite.book.profiles import PROFILE_NAMES
from stsrn_lite.book.session import Session, setup
from stsrn_lite.model.stsm import OMEGA_FORMS, OMEGA_INIT
from stsrn_lite.training.checkpoint import load_checkpoint

NOTEBOOK = "04_stsm"


def paper_steps(train_identities: int = 150, epochs: int = 1000) -> int:
    """SGD steps of a complete run of the paper's schedule: 2·K pairs of one per step, per
    epoch (train.lua:61-63); iLIDS-VID has K = 150 training persons."""
    return 2 * train_identities * epochs


def largest_change(row: dict) -> float:
    """max |ω − ω_init| over the dimensions, from a row's least and largest ω."""
    return max(abs(float(row["omega_max"]) - OMEGA_INIT), abs(float(row["omega_min"]) - OMEGA_INIT))


def extrapolate(rows: list[dict], steps: int) -> tuple[float, float]:
    """(exponent α, largest change predicted at ``steps``) from a power law c·s^α fitted to the
    largest change over the second half of the rows (one parametrisation's, in step order).

    A drift grows with α ≈ 1, a random walk with α ≈ ½. The prediction is capped at 0.9, the
    most ω can move from 0.1 inside [0, 1].
    """
    half = rows[len(rows) // 2 :]
    s = np.array([float(r["steps"]) for r in half])
    d = np.array([largest_change(r) for r in half])
    if len(half) < 2 or (d <= 0).any():
        raise ValueError("need two or more rows with a nonzero change to fit a power law")
    alpha, log_c = np.polyfit(np.log(s), np.log(d), 1)
    return float(alpha), float(min(math.exp(log_c) * steps**alpha, 1 - OMEGA_INIT))


def measure(
    session: Session, dataset: str, epochs: int, forms: tuple[str, ...] = OMEGA_FORMS
) -> tuple[list[dict], list[dict]]:
    """(per-epoch rows, final ω rows) for the parametrisations ``forms``."""
    drift, final = [], []
    for form in forms:
        outcome = run(session, dataset, "STSRN", 0, epochs=epochs, readings={"omega_form": form})
        steps = 0
        for record in outcome.records:
            steps += int(record["pairs"])  # one pair per step in faithful mode
            drift.append(
                {
                    "omega_form": form,
                    "epoch": int(record["epoch"]),
                    "steps": steps,
                    **{key: float(record[key]) for key in ("omega_mean", "omega_min", "omega_max")},
                }
            )
        state = load_checkpoint(outcome.checkpoint)
        key = "stsm.w" if form == "direct" else "stsm.a"
        values = state["model"][key].double()
        omega = values if form == "direct" else 1 / (1 + (-values).exp())
        final += [{"omega_form": form, "dimension": n, "omega": float(w)} for n, w in enumerate(omega)]
    return drift, final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=PROFILE_NAMES, default="smoke")
    parser.add_argument("--dataset", default="ilids-vid")
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--forms",
        nargs="+",
        choices=OMEGA_FORMS,
        default=list(OMEGA_FORMS),
        help="train these only; the result files are written when both are given",
    )
    args = parser.parse_args(argv)
    session = setup(args.profile)
    if args.threads:
        torch.set_num_threads(args.threads)
    drift, final = measure(session, args.dataset, args.epochs, tuple(args.forms))
    if set(args.forms) != set(OMEGA_FORMS):
        return 0  # trained (or resumed) only; a later call with both forms writes the files
    command = f"python -m stsrn_lite.book.omega_drift --profile {args.profile} --epochs {args.epochs}"
    for name, rows in (("omega_drift", drift), ("omega_final", final)):
        print(save_results(session, name, rows, notebook=NOTEBOOK, command=command, epochs=args.epochs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
