"""Curves of the result chapters: CMC curves and metrics over the training epochs (paper §4.2-4.7,
Fig. 4-5), drawn from the tidy result rows of `stsrn_lite.book.tables`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from stsrn_lite.book.tables import CMC_RANKS, DATASET_NAMES, _frame, metric_name

LOSSES = ("loss", "verification", "identification")  # the columns of a training record


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
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(max(4.6, 3.4 * len(datasets) + 0.4), 3.2), squeeze=False, sharey=True
    )
    ranks = np.arange(1, len(CMC_RANKS) + 1)
    for ax, dataset in zip(axes[0], datasets):
        for (curve_dataset, name), (mean, std, folds) in curves.items():
            if curve_dataset != dataset:
                continue
            (line,) = ax.plot(ranks, mean, marker=".", label=name)
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


def plot_over_epochs(
    records: Sequence[Mapping], metric: str = "rank1", *, title: str | None = None, ylabel: str | None = None
) -> Figure:
    """``metric`` over the training epochs (mean over folds), one panel per dataset, one line per
    preset: the paper's Fig. 5 plots rank-1 this way."""
    table = over_epochs(records, metric)
    datasets = list(dict.fromkeys(table["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.6 * len(datasets) + 2.2, 3.2), squeeze=False, sharey=True)
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
