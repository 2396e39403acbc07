"""The fast recipe against the faithful one, measured (chapter 06, "A fast recipe").

Both recipes train the same presets on the same folds of one synthetic iLIDS-VID (`VALIDATION`:
100 identities, so that the faithful recipe can be run far on a 2-core CPU; at the real size one
faithful epoch costs 9.6 k frames instead of 3.2 k), and are tested every few epochs with the
paper's test at L = 128 and one centre crop. Each run is a training command in
``runs/recipe-val/<name>-<preset>-fold<k>/`` under the home, resumable like any other::

    python -m stsrn_lite.book.recipe_validation data                 # generate the dataset once
    python -m stsrn_lite.book.recipe_validation train faithful STSRN 0 [-- --epochs 300 ...]
    python -m stsrn_lite.book.recipe_validation train fast STSRN 0 [-- --learning-rate 3e-4 ...]
    python -m stsrn_lite.book.recipe_validation collect [--results DIR]  # results/recipe/validation_*.csv

``train NAME`` starts from the recipe NAME when it is one (`RECIPES`), else from the options
after ``--`` alone; the options after ``--`` are the training command's. ``collect`` gathers the
curves (rank-1 against training frames and wall time) of every run and compares each recipe
with the faithful one at a tenth of its frames (`compare`).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from stsrn_lite.atomic import write_atomic
from stsrn_lite.book.curves import STYLE, WIDTH
from stsrn_lite.book.experiments import results_folders
from stsrn_lite.home import home
from stsrn_lite.provenance import code_version
from stsrn_lite.synthetic.generator import SyntheticConfig, ensure
from stsrn_lite.training import cli as training_cli
from stsrn_lite.training.config import RECIPES, TrainConfig
from stsrn_lite.training.records import read_records

VALIDATION = SyntheticConfig(layout="ilids-vid", identities=100, seed=0)  # 50 training, 50 test identities
DATA_LABEL = "synthetic iLIDS-VID, 100 identities"
EVAL_EVERY = 25  # epochs between tests (faithful); the fast runs pass their own
FRAME_BUDGET = 0.1  # the fast recipe's frames, as a fraction of the faithful recipe's
LAST = 4  # tested epochs averaged for a run's plateau (`_last_mean`)
PLATEAU = 2.0  # points: a run whose last LAST tests gained at most this over the LAST before has plateaued
CURVE_COLUMNS = (
    "name",
    "recipe",
    "preset",
    "fold",
    "run_epochs",
    "epoch",
    "frames",
    "wall_seconds",
    "rank1",
    "mAP",
    "omega_mean",
)


def root() -> Path:
    return home().data / "synthetic-val" / "ilids-vid"


def runs() -> Path:
    return home().runs / "recipe-val"


def ensure_data(workers: int = 2) -> Path:
    ensure(VALIDATION, root(), workers=workers, progress=False)
    return root()


def train_argv(name: str, preset: str, fold: int, extra: list[str]) -> list[str]:
    """The training command's options for run ``name`` of ``preset`` on ``fold`` (resumes when it can)."""
    out = runs() / f"{name}-{preset}-fold{fold}"
    argv = ["--dataset", "ilids-vid", "--root", str(root()), "--preset", preset, "--fold", str(fold)]
    argv += ["--recipe", name] if name in RECIPES else []
    argv += ["--eval-every", str(EVAL_EVERY), "--no-eval-tta", "--data-label", DATA_LABEL, "--out", str(out)]
    argv += ["--resume"] if (out / "checkpoint.pt").is_file() else []
    return [*argv, *extra]


def curves() -> list[dict]:
    """One row per tested epoch of every run under `runs`: frames and wall time so far, rank-1, mAP."""
    rows = []
    for folder in sorted(runs().glob("*-fold*")):
        records, run = folder / "records.csv", folder / "run.json"
        if not (records.is_file() and run.is_file()):
            continue
        config = TrainConfig(**json.loads(run.read_text())["config"])
        name = folder.name.rsplit(f"-{config.preset}-fold", 1)[0]
        frames = 0
        for record in read_records(records):
            frames += int(record["pairs"]) * 2 * config.sequence_length  # two sequences per pair
            if record["rank1"] != "":
                rows.append(
                    {
                        "name": name,
                        "recipe": config.recipe,
                        "preset": config.preset,
                        "fold": config.fold,
                        "run_epochs": config.epochs,
                        "epoch": int(record["epoch"]),
                        "frames": frames,
                        "wall_seconds": float(record["wall_seconds"]),
                        "rank1": float(record["rank1"]),
                        "mAP": float(record["mAP"]),
                        "omega_mean": record.get("omega_mean", ""),
                    }
                )
    return rows


def compare(rows: list[dict], reference: str = "faithful", budget: float = FRAME_BUDGET) -> list[dict]:
    """For each run name but ``reference``, preset and fold: the reference's best rank-1 (and the
    frames where it was reached) and its plateau (`_last_mean`) as far as it was run; the run's
    best and last rank-1 within ``budget`` × the reference recipe's frames (all its epochs, as
    planned, however far it was run), and the differences."""
    best: dict[tuple, dict] = {}
    for row in rows:
        key = (row["name"], row["preset"], row["fold"])
        best.setdefault(key, []).append(row)
    table = []
    for (name, preset, fold), own in sorted(best.items()):
        ref = best.get((reference, preset, fold))
        if name == reference or not ref:
            continue
        top = max(ref, key=lambda r: r["rank1"])
        last_ref = max(ref, key=lambda r: r["frames"])
        limit = budget * last_ref["frames"] / last_ref["epoch"] * last_ref["run_epochs"]
        within = [r for r in own if r["frames"] <= limit]
        mine = max(within, key=lambda r: r["rank1"]) if within else None
        plateau, last = _last_mean(ref), _last_mean(within)
        ordered = sorted(ref, key=lambda r: r["frames"])
        before = _last_mean(ordered[:-LAST])  # the LAST tests before those: has it stopped rising?
        table.append(
            {
                "name": name,
                "preset": preset,
                "fold": fold,
                "reference_epochs": last_ref["epoch"],
                "reference_planned_epochs": last_ref["run_epochs"],
                "reference_best_rank1": top["rank1"],
                "reference_best_at_frames": top["frames"],
                "frame_budget": int(limit),
                "best_rank1_within_budget": mine["rank1"] if mine else "",
                "at_frames": mine["frames"] if mine else "",
                "difference": round(mine["rank1"] - top["rank1"], 2) if mine else "",
                "reference_last_mean_rank1": plateau,
                "reference_previous_mean_rank1": before,
                "reference_plateaued": before != "" and plateau - before <= PLATEAU,
                "last_mean_rank1_within_budget": last,
                "last_difference": round(last - plateau, 2) if within else "",
                "epochs": max(r["epoch"] for r in within) if within else "",  # tested so far, within the budget
                "planned_epochs": own[0]["run_epochs"],
                "omega_mean": next((r["omega_mean"] for r in reversed(within) if r["omega_mean"] != ""), ""),
            }
        )
    return table


def _last_mean(rows: list[dict], count: int = LAST) -> float | str:
    """Mean rank-1 of the last ``count`` tested epochs of a run (its plateau, when it has one:
    one identity of 50 is 2 points, so one test is noisy); "" without any."""
    last = sorted(rows, key=lambda r: r["frames"])[-count:]
    return round(sum(r["rank1"] for r in last) / len(last), 2) if last else ""


def plot(rows: list[dict], names: tuple[str, ...] = tuple(RECIPES)) -> Figure:
    """Rank-1 against training frames (left) and against wall time (right), one line per run of
    ``names`` (default: the named recipes; the candidates are in `compare`'s table): colour the
    run's name, line style the fold, one row of panels per preset."""
    frame = pd.DataFrame(rows)
    frame = frame[frame["name"].isin(names)]
    frame["frames (millions)"] = frame["frames"] / 1e6
    frame["wall time (hours)"] = frame["wall_seconds"] / 3600
    presets = list(dict.fromkeys(frame["preset"]))
    with sns.axes_style(STYLE["style"]), sns.plotting_context(STYLE["context"], STYLE["font_scale"]):
        fig, axes = plt.subplots(len(presets), 2, figsize=(WIDTH, 2.8 * len(presets)), squeeze=False, sharey=True)
        for row, preset in zip(axes, presets):
            part = frame[frame["preset"] == preset]
            for ax, x in zip(row, ("frames (millions)", "wall time (hours)")):
                sns.lineplot(data=part, x=x, y="rank1", hue="name", style="fold", units="fold", estimator=None, ax=ax)
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())  # less than a decade: minor labels overlap
                ax.set_ylim(0, 101)
                ax.set_title(f"{preset}: rank-1 against {x.split(' (')[0]}", fontsize=9)
                ax.set_ylabel("rank-1 (%)")
                ax.get_legend().remove()
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=8, frameon=False)
        fig.tight_layout(rect=(0, 0.5 / fig.get_figheight(), 1, 1))
    return fig


def stored() -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The collected curves and comparison (``results/recipe/`` under the home or, failing that,
    committed in the checkout: `experiments.results_folders`), or None."""
    names = ("validation_curves.csv", "validation_compare.csv")
    folder = next((f for f in results_folders("recipe") if all((f / n).is_file() for n in names)), None)
    if folder is None:
        return None
    paths = [folder / name for name in names]
    curves_frame, compare_frame = (pd.read_csv(path) for path in paths)
    return curves_frame, compare_frame


def verdicts(table: pd.DataFrame, tolerance: float = 2.0) -> str:
    """One Markdown line per preset and fold of each run in ``table`` (`compare`'s rows) planned for
    the whole budget (a tenth of the faithful recipe's epochs; shorter trials are left out): where
    the faithful run stopped and its plateau, the run's within the budget, and whether it ends no
    more than ``tolerance`` points below the faithful run."""
    lines = []
    full = table["planned_epochs"] * 10 >= table["reference_planned_epochs"]
    for row in table[full].sort_values(["name", "preset", "fold"]).itertuples():
        last = row.last_mean_rank1_within_budget
        if not _given(last):
            continue
        gap = last - row.reference_last_mean_rank1
        verdict = "at most" if gap >= -tolerance else "more than"
        plateaued = "plateaued" if row.reference_plateaued else "still rising"
        so_far = "" if row.epochs >= row.planned_epochs else f" (so far: epoch {row.epochs} of {row.planned_epochs})"
        lines.append(
            f"- {row.preset}, fold {row.fold}: the faithful run was stopped at epoch "
            f"{row.reference_epochs} of {row.reference_planned_epochs} (best {row.reference_best_rank1:g} %, "
            f"last {LAST} tests {row.reference_last_mean_rank1:g} %, the {LAST} before "
            f"{row.reference_previous_mean_rank1:g} %: {plateaued}); `{row.name}` within a tenth of its "
            f"frames{so_far}: last {LAST} tests {last:g} % "
            f"({gap:+.1f} points, **{verdict} {tolerance:g} points below**)"
            + (f", trained ω mean {float(row.omega_mean):.3f}" if _given(row.omega_mean) else "")
        )
    return "\n".join(lines)


def _given(value) -> bool:
    """Whether a cell of `compare`'s rows holds a value ("" in memory, NaN once read from CSV)."""
    return value != "" and not pd.isna(value)


def write_table(rows: list[dict], name: str, command: str, folder: Path | None = None) -> Path:
    """``<folder>/<name>.csv`` and its provenance ``<name>.json`` (default folder: ``results/recipe``
    under the home)."""
    folder = folder or home().results / "recipe"
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    columns = list(dict.fromkeys(key for row in rows for key in row)) or list(CURVE_COLUMNS)
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(folder / f"{name}.csv", buffer.getvalue())
    provenance = {
        "table": name,
        "data": DATA_LABEL + f" (seed {VALIDATION.seed}), fold 0 and 1 of its official-style split file",
        "test": "L = 128, 1 pass (centre crop), every evaluated epoch",
        "device": "cpu (1 thread per run, several runs at once)",
        "command": command,
        "code_version": code_version(("stsrn_lite",)),
        "date": datetime.date.today().isoformat(),
    }
    write_atomic(folder / f"{name}.json", json.dumps(provenance, indent=1) + "\n")
    return folder / f"{name}.csv"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("data", help="generate the validation dataset")
    run = commands.add_parser("train", help="train (or resume) one run")
    run.add_argument("name", help="a recipe name, or a run name with its options after --")
    run.add_argument("preset")
    run.add_argument("fold", type=int)
    collect = commands.add_parser("collect", help="write validation_curves.csv and validation_compare.csv")
    collect.add_argument("--results", type=Path, default=None, help="where (default: results/recipe under the home)")
    args = parser.parse_args(argv)
    if args.command == "data":
        print(ensure_data())
        return 0
    if args.command == "train":
        ensure_data()
        return training_cli.main(train_argv(args.name, args.preset, args.fold, extra))
    rows = curves()
    command = f"STSRN_HOME={home().root} python -m stsrn_lite.book.recipe_validation collect"
    command += f" --results {args.results}" if args.results else ""
    print(write_table(rows, "validation_curves", command, args.results))
    print(write_table(compare(rows), "validation_compare", command, args.results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
