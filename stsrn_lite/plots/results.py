"""Display helpers for the book's result chapters: the paper's tables beside ours, CMC curves,
curves over the training epochs, and the Siamese pairs of an epoch (paper §3.5, §4.2-4.7;
Tables 1, 4 and 6, Fig. 5).

Our numbers travel as tidy rows, one dict per (dataset, preset, fold[, epoch]) with the CMC in
percent (``rank1`` … ``rank20``) and ``mAP``: `result_row` builds them, and
`stsrn_lite.experiments.save_results` / `load_results` write them and read them back (as strings;
every helper here converts). A table beside the paper (`side_by_side`) has one column per
source: the paper, then ours for each profile whose rows exist, in the order smoke, full, paper
(`ours_columns`), each headed by a label that names the profile, the data and the device.

Nothing here is used by the library; the notebooks import it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from stsrn_lite.preprocess.crop import CROP_HW

PROFILE_ORDER = ("smoke", "full", "paper")
CMC_RANKS = tuple(f"rank{k}" for k in range(1, 21))  # the CMC columns of a result row
DATASET_NAMES = {"ilids-vid": "iLIDS-VID", "prid2011": "PRID2011", "mars": "MARS"}
MISSING = "–"  # a cell without a value (the paper's "-", or a source without that row)
CURVE_POINTS = 50  # test evaluations recorded over a long run (Fig. 5-style curves)
LOSSES = ("loss", "verification", "identification")


def eval_interval(epochs: int, points: int = CURVE_POINTS) -> int:
    """Epochs between the test evaluations recorded during training: every epoch for runs of up
    to ``points`` epochs, else about ``points`` of them (1000 epochs → every 20th).

    Every notebook passes it to `stsrn_lite.experiments.run`, so a run that one chapter trains
    and another reuses has the same records whichever chapter ran first.
    """
    if epochs < 1 or points < 1:
        raise ValueError(f"epochs and points must be >= 1, got {epochs} and {points}")
    return max(1, epochs // points)


def result_row(dataset: str, preset: str, fold: int, cmc: Sequence[float], mAP: float, **extra) -> dict:
    """A tidy result row: ``cmc`` (≥ 20 fractions in [0, 1], ranks 1, 2, …) and ``mAP`` (a
    fraction) become percentages rounded to 2 decimals, ``rank1`` … ``rank20`` and ``mAP``."""
    cmc = np.asarray(cmc, dtype=np.float64)
    if cmc.ndim != 1 or len(cmc) < len(CMC_RANKS):
        raise ValueError(f"cmc must list at least {len(CMC_RANKS)} ranks, got shape {cmc.shape}")
    row = {"dataset": dataset, "preset": preset, "fold": int(fold), **extra}
    row.update({name: round(100 * float(value), 2) for name, value in zip(CMC_RANKS, cmc)})
    row["mAP"] = round(100 * float(mAP), 2)
    return row


def paper_rows(table: Mapping, ranks: Sequence[str], *, presets: Sequence[str] | None = None,
               dataset: str | None = None) -> list[dict]:
    """A table of `stsrn_lite.paper` as tidy rows (dataset, preset, one column per rank).

    ``table`` maps a model to {dataset: values} (Tables 1, 6) or straight to values (Table 4;
    then ``dataset`` names the dataset). ``presets`` picks and orders the models (default: all).
    """
    rows = []
    for name in presets if presets is not None else table:
        if name not in table:
            raise KeyError(f"{name!r} is not a row of this table; rows: {list(table)}")
        entry = table[name]
        if not isinstance(entry, Mapping):
            if dataset is None:
                raise ValueError("this table has one dataset; name it with dataset=")
            entry = {dataset: entry}
        for dataset_name, values in entry.items():
            if len(values) != len(ranks):
                raise ValueError(f"{name}, {dataset_name}: {len(values)} values for {len(ranks)} ranks")
            rows.append({"dataset": dataset_name, "preset": name, **dict(zip(ranks, values))})
    return rows


def label_from_provenance(profile: str, provenance: Mapping) -> str:
    """The column label of rows read back with `load_results`, in the form of `Session.label`."""
    device = str(provenance.get("device", "unknown device"))
    where = "CPU" if device.startswith("cpu") else device
    return f"ours ({profile}: {provenance.get('data', 'unknown data')}; {where})"


def other_profiles(profile: str) -> tuple[str, ...]:
    """The profiles whose stored results a ``profile`` session shows beside its own rows."""
    if profile not in PROFILE_ORDER:
        raise ValueError(f"unknown profile {profile!r}; expected one of {PROFILE_ORDER}")
    return tuple(p for p in PROFILE_ORDER if p != profile)


def ours_columns(profile: str, label: str, rows: list[dict],
                 loaded: Mapping[str, tuple[list[dict], dict]]) -> dict[str, list[dict]]:
    """{column label: rows} for this session's ``rows`` and ``loaded`` (`load_results`' answer),
    ordered smoke, full, paper; a profile without results has no column."""
    columns = {}
    for name in PROFILE_ORDER:
        if name == profile:
            columns[label] = rows
        elif name in loaded:
            stored, provenance = loaded[name]
            columns[label_from_provenance(name, provenance)] = stored
    return columns


def _frame(rows: Sequence[Mapping], metrics: Sequence[str]) -> pd.DataFrame:
    """Rows as a DataFrame with numeric ``metrics`` (an empty string, as a CSV stores a gap, is NaN)."""
    frame = pd.DataFrame(list(rows))
    for name in metrics:
        if name not in frame:
            raise KeyError(f"no column {name!r} in the rows; columns: {list(frame.columns)}")
        frame[name] = pd.to_numeric(frame[name].replace("", np.nan), errors="raise")
    if "fold" in frame:
        frame["fold"] = pd.to_numeric(frame["fold"])
    if "epoch" in frame:
        frame["epoch"] = pd.to_numeric(frame["epoch"])
    return frame


def mean_std(values: Sequence[float], decimals: int = 1) -> str:
    """"m" for one value, "m ± s" (sample standard deviation) for more, `MISSING` for none."""
    values = np.asarray([v for v in values if v is not None and not np.isnan(v)], dtype=np.float64)
    if len(values) == 0:
        return MISSING
    if len(values) == 1:
        return f"{values[0]:.{decimals}f}"
    return f"{values.mean():.{decimals}f} ± {values.std(ddof=1):.{decimals}f}"


def metric_name(metric: str) -> str:
    """"rank5" → "R5" (the paper's column names); other names stay."""
    return f"R{metric[4:]}" if metric.startswith("rank") else metric


def fold_summary(rows: Sequence[Mapping], metrics: Sequence[str], *, label: str | None = None,
                 decimals: int = 1) -> pd.DataFrame:
    """Mean ± std over the folds of every (dataset, preset): one row each, one column per metric
    (as text, `mean_std`) and ``folds``, the number of folds averaged; ``label`` (where the
    numbers come from) heads all the columns."""
    frame = _frame(rows, metrics)
    table = {}
    for (dataset, name), group in frame.groupby(["dataset", "preset"], sort=False):
        cells = {metric_name(m): mean_std(group[m].tolist(), decimals) for m in metrics}
        table[(DATASET_NAMES.get(dataset, dataset), name)] = {**cells, "folds": int(group["fold"].nunique())}
    out = pd.DataFrame.from_dict(table, orient="index")
    out.index = pd.MultiIndex.from_tuples(out.index, names=["dataset", "model"])
    if label is not None:
        out.columns = pd.MultiIndex.from_product([[label], out.columns])
    return out


def side_by_side(paper: Sequence[Mapping], ours: Mapping[str, Sequence[Mapping]], metrics: Sequence[str], *,
                 paper_label: str = "paper", decimals: int = 1) -> pd.DataFrame:
    """The paper's values beside ours: one row per (dataset, model, metric), one column per source.

    ``paper``: tidy rows of `paper_rows`; ``ours``: {column label: tidy result rows} (one per fold,
    shown as mean ± std over the folds, `mean_std`). Rows follow the order in which datasets and
    models first appear, the paper's first; a source without a row shows `MISSING`.
    """
    sources = {paper_label: paper, **ours}
    if len(sources) != len(ours) + 1:
        raise ValueError(f"a column of ours is labelled {paper_label!r} like the paper's")
    cells: dict[str, dict[tuple[str, str], dict[str, str]]] = {}
    datasets: list[str] = []
    models: list[str] = []
    for label, rows in sources.items():
        cells[label] = {}
        if not rows:
            continue
        frame = _frame(rows, [m for m in metrics if any(m in row for row in rows)])
        for (dataset, name), group in frame.groupby(["dataset", "preset"], sort=False):
            datasets += [dataset] if dataset not in datasets else []
            models += [name] if name not in models else []
            cells[label][(dataset, name)] = {m: mean_std(group[m].tolist(), decimals) if m in group else MISSING
                                             for m in metrics}
    index, data = [], []
    for dataset in datasets:
        for name in models:
            if not any((dataset, name) in per_source for per_source in cells.values()):
                continue
            for metric in metrics:
                index.append((DATASET_NAMES.get(dataset, dataset), name, metric_name(metric)))
                data.append([cells[label].get((dataset, name), {}).get(metric, MISSING) for label in sources])
    return pd.DataFrame(data, index=pd.MultiIndex.from_tuples(index, names=["dataset", "model", "metric"]),
                        columns=list(sources))


def cmc_curves(rows: Sequence[Mapping]) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray, int]]:
    """{(dataset, preset): (mean CMC (20,), std over folds (20,), folds)} in percent, ranks 1-20."""
    frame = _frame(rows, CMC_RANKS)
    curves = {}
    for key, group in frame.groupby(["dataset", "preset"], sort=False):
        values = group[list(CMC_RANKS)].to_numpy(dtype=np.float64)  # (folds, 20)
        std = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(values.shape[1])
        curves[key] = (values.mean(axis=0), std, len(values))
    return curves


def plot_cmc(rows: Sequence[Mapping], *, title: str | None = None) -> Figure:
    """CMC curves (ranks 1-20), one panel per dataset, one line per preset (mean over folds,
    a band of ± one standard deviation where there are several folds)."""
    curves = cmc_curves(rows)
    datasets = list(dict.fromkeys(dataset for dataset, _ in curves))
    fig, axes = plt.subplots(1, len(datasets), figsize=(max(4.6, 3.4 * len(datasets) + 0.4), 3.2), squeeze=False,
                             sharey=True)
    ranks = np.arange(1, len(CMC_RANKS) + 1)
    for ax, dataset in zip(axes[0], datasets):
        for (curve_dataset, name), (mean, std, folds) in curves.items():
            if curve_dataset != dataset:
                continue
            line, = ax.plot(ranks, mean, marker=".", label=name)
            if folds > 1:
                ax.fill_between(ranks, mean - std, mean + std, color=line.get_color(), alpha=0.2, linewidth=0)
        ax.set_title(DATASET_NAMES.get(dataset, dataset), fontsize=9)
        ax.set_xlabel("rank")
        ax.set_xticks([1, 5, 10, 15, 20])
        ax.set_ylim(0, 101)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[0, 0].set_ylabel("matching rate (%)")
    if title:
        fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    return fig


def over_epochs(records: Sequence[Mapping], metric: str) -> pd.DataFrame:
    """Mean of ``metric`` over the folds, per dataset, preset and epoch, on the epochs that have it."""
    frame = _frame(records, [metric]).dropna(subset=[metric])
    return frame.groupby(["dataset", "preset", "epoch"], sort=False)[metric].mean().reset_index()


def plot_over_epochs(records: Sequence[Mapping], metric: str = "rank1", *, title: str | None = None,
                     ylabel: str | None = None) -> Figure:
    """``metric`` over the training epochs (mean over folds), one panel per dataset, one line per
    preset: the paper's Fig. 5 plots rank-1 this way."""
    table = over_epochs(records, metric)
    datasets = list(dict.fromkeys(table["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.6 * len(datasets) + 2.2, 3.2), squeeze=False,
                             sharey=True)
    for ax, dataset in zip(axes[0], datasets):
        part = table[table["dataset"] == dataset]
        for name, curve in part.groupby("preset", sort=False):
            ax.plot(curve["epoch"], curve[metric], marker="." if len(curve) <= 60 else None, label=name)
        ax.set_title(DATASET_NAMES.get(dataset, dataset), fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if metric.startswith("rank") or metric == "mAP":
            ax.set_ylim(0, 101)
        ax.grid(alpha=0.3)
    axes[0, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    axes[0, 0].set_ylabel(ylabel or metric_name(metric))
    if title:
        fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    return fig


def plot_losses(records: Sequence[Mapping], *, title: str | None = None) -> Figure:
    """The epoch means of the three costs (total, verification Eq. 8, identification) of one run."""
    frame = _frame(records, LOSSES)
    fig, ax = plt.subplots(figsize=(5, 3))
    for name, style in zip(LOSSES, ("-", "--", ":")):
        ax.plot(frame["epoch"], frame[name], style, marker=".", label=name)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("mean cost per pair")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig


def pair_table(plan, pids: np.ndarray, camids: np.ndarray, lengths: np.ndarray, cameras: Sequence[str],
               count: int) -> pd.DataFrame:
    """The first ``count`` pairs of an epoch (`stsrn_lite.training.pairs.EpochPlan`).

    ``pids``, ``camids``, ``lengths``: per cache tracklet; ``cameras``: camera names by camid.
    Frames are the subsequence's first and last index in the tracklet; the crop is the 56×40
    window's top-left corner in the 64×48 frame, taken after the mirror.
    """
    rows = []
    for p in range(min(count, len(plan))):
        row = {"pair": p, "kind": "positive" if plan.labels[p, 0] == plan.labels[p, 1] else "negative"}
        for column, side in enumerate("ab"):
            t = int(plan.tracklets[p, column])
            start, used = int(plan.starts[p, column]), int(plan.lengths[p, column])
            row[f"pid {side}"] = int(pids[t])
            row[f"camera {side}"] = cameras[int(camids[t])]
            row[f"frames {side}"] = f"{start}-{start + used - 1} of {int(lengths[t])}"
            row[f"crop {side}"] = (f"({int(plan.tops[p, column])}, {int(plan.lefts[p, column])})"
                                   + (" mirrored" if plan.flips[p, column] else ""))
        rows.append(row)
    return pd.DataFrame(rows).set_index("pair")


def plot_pair_crops(plan, cache, pairs: Sequence[int], cameras: Sequence[str]) -> Figure:
    """The first frame of both sequences of each pair in ``pairs``, mirrored where the pair's
    draw says so, with the 56×40 training crop outlined. ``cache``: a `PreprocessedCache`."""
    h, w = CROP_HW
    fig, axes = plt.subplots(1, 2 * len(pairs), figsize=(1.25 * 2 * len(pairs) + 0.3, 2.3), squeeze=False)
    for k, p in enumerate(pairs):
        kind = "positive" if plan.labels[p, 0] == plan.labels[p, 1] else "negative"
        for column in range(2):
            ax = axes[0, 2 * k + column]
            t = int(plan.tracklets[p, column])
            rgb, _ = cache.tracklet(t)  # (T, 3, 64, 48) uint8
            frame = np.asarray(rgb[int(plan.starts[p, column])]).transpose(1, 2, 0)  # (64, 48, 3)
            if plan.flips[p, column]:
                frame = frame[:, ::-1]
            ax.imshow(frame)
            top, left = int(plan.tops[p, column]), int(plan.lefts[p, column])
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, edgecolor="yellow", linewidth=1.5))
            ax.set_xticks([])
            ax.set_yticks([])
            mirrored = ", mirrored" if plan.flips[p, column] else ""
            ax.set_title(f"pair {p} ({kind})\npid {int(cache.pids[t])}, {cameras[int(cache.camids[t])]}{mirrored}",
                         fontsize=7)
    fig.tight_layout()
    return fig
