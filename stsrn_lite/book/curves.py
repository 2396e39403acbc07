"""Statistical plots of the result chapters, drawn with seaborn from the tidy result rows of
`stsrn_lite.book.tables`: CMC curves, metrics over the training epochs (paper §4.2-4.7, Fig. 4-5)
and dot plots of our values beside the paper's (Tables 1, 2, 4, 5 and 6).

Every spread is over the folds: seaborn's ``errorbar=ERRORBAR`` (± one sample standard
deviation), drawn only where there are several folds. Every function returns a Figure and prints
nothing; sizes and fonts are chosen for the book's column (about 7 inches at
`stsrn_lite.book.session.FIGURE_DPI`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from stsrn_lite.book.tables import CMC_RANKS, DATASET_NAMES, _frame, metric_name

LOSSES = ("loss", "verification", "identification")  # the columns of a training record
ERRORBAR = "sd"  # seaborn's errorbar over the folds: mean ± one sample standard deviation
WIDTH = 7.0  # inches: the book's column at FIGURE_DPI
PAPER_COLOUR = "0.15"  # the paper's markers; ours take seaborn's palette
STYLE = {"style": "whitegrid", "context": "notebook", "font_scale": 0.85}


def _panels(count: int, height: float, *, sharey: bool = True) -> tuple[Figure, list]:
    """A row of ``count`` panels filling the column."""
    fig, axes = plt.subplots(1, count, figsize=(WIDTH, height), squeeze=False, sharey=sharey)
    return fig, list(axes[0])


def _finish(fig: Figure, title: str | None) -> Figure:
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


# --- CMC curves ----------------------------------------------------------------------------


def cmc_long(rows: Sequence[Mapping]) -> pd.DataFrame:
    """The CMC of every row as long data: dataset, preset, fold, rank (1-20), value (%); without
    the ranks at or above a row's gallery size (its ``gallery``, where rows have one), which are
    100 % by construction, as the tables leave them out."""
    frame = _frame(rows, CMC_RANKS)
    sizes = pd.to_numeric(frame["gallery"], errors="coerce") if "gallery" in frame else None
    frame = frame.assign(_gallery=sizes if sizes is not None else np.nan)
    long = frame.melt(id_vars=["dataset", "preset", "fold", "_gallery"], value_vars=list(CMC_RANKS), var_name="rank")
    long["rank"] = long["rank"].str.removeprefix("rank").astype(int)
    long = long[~(long["rank"] >= long["_gallery"])]  # NaN (no gallery size) keeps the rank
    return long.drop(columns="_gallery").reset_index(drop=True)


def plot_cmc(rows: Sequence[Mapping], *, title: str | None = None) -> Figure:
    """CMC curves (ranks 1-20), one panel per dataset, one line per preset: the mean over the
    folds with a band of ± one standard deviation (`ERRORBAR`) where there are several folds."""
    long = cmc_long(rows)
    datasets = list(dict.fromkeys(long["dataset"]))
    with sns.axes_style(STYLE["style"]), sns.plotting_context(STYLE["context"], STYLE["font_scale"]):
        fig, axes = _panels(len(datasets), 3.4 if len(datasets) > 1 else 3.6)
        for ax, dataset in zip(axes, datasets):
            sns.lineplot(
                data=long[long["dataset"] == dataset],
                x="rank",
                y="value",
                hue="preset",
                errorbar=ERRORBAR,
                marker="o",
                markersize=4,
                ax=ax,
            )
            ax.set_title(DATASET_NAMES.get(dataset, dataset))
            ax.set_xlabel("rank")
            ax.set_xticks([1, 5, 10, 15, 20])
            ax.set_ylim(0, 101)
            ax.set_ylabel("matching rate (%)" if ax is axes[0] else "")
            ax.legend(title=None, fontsize=8, loc="lower right")
    return _finish(fig, title)


# --- metrics over the epochs ---------------------------------------------------------------


def over_epochs(records: Sequence[Mapping], metric: str) -> pd.DataFrame:
    """Mean of ``metric`` over the folds, per dataset, preset and epoch, on the epochs that have it."""
    frame = _frame(records, [metric]).dropna(subset=[metric])
    return frame.groupby(["dataset", "preset", "epoch"], sort=False)[metric].mean().reset_index()


def plot_over_epochs(
    records: Sequence[Mapping], metric: str = "rank1", *, title: str | None = None, ylabel: str | None = None
) -> Figure:
    """``metric`` over the training epochs, one panel per dataset, one line per preset: the mean
    over the folds, a band of ± one standard deviation (`ERRORBAR`) where there are several. The
    paper's Fig. 5 plots rank-1 this way."""
    frame = _frame(records, [metric]).dropna(subset=[metric])
    datasets = list(dict.fromkeys(frame["dataset"]))
    with sns.axes_style(STYLE["style"]), sns.plotting_context(STYLE["context"], STYLE["font_scale"]):
        fig, axes = _panels(len(datasets), 3.6)
        for ax, dataset in zip(axes, datasets):
            part = frame[frame["dataset"] == dataset]
            sns.lineplot(
                data=part,
                x="epoch",
                y=metric,
                hue="preset",
                errorbar=ERRORBAR,
                marker="o" if part["epoch"].nunique() <= 60 else None,
                markersize=4,
                ax=ax,
            )
            ax.set_title(DATASET_NAMES.get(dataset, dataset))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if metric.startswith("rank") or metric == "mAP":
                ax.set_ylim(0, 101)
            ax.set_ylabel(ylabel or metric_name(metric) if ax is axes[0] else "")
            ax.get_legend().remove()
        handles, labels = axes[-1].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(3, len(labels)), fontsize=8, frameon=False)
        legend_rows = (len(labels) + 2) // 3
        fig.tight_layout(rect=(0, 0.22 * legend_rows / fig.get_figheight(), 1, 0.95 if title else 1))
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def plot_losses(records: Sequence[Mapping], *, title: str | None = None) -> Figure:
    """The epoch means of the three costs (total, verification Eq. 8, identification) of one run."""
    frame = _frame(records, LOSSES).melt(id_vars=["epoch"], value_vars=list(LOSSES), var_name="cost")
    with sns.axes_style(STYLE["style"]), sns.plotting_context(STYLE["context"], STYLE["font_scale"]):
        fig, ax = plt.subplots(figsize=(WIDTH * 0.75, 3.4))
        sns.lineplot(data=frame, x="epoch", y="value", hue="cost", style="cost", markers=True, errorbar=None, ax=ax)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("mean cost per pair")
        ax.legend(title=None, fontsize=8)
        if title:
            ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


# --- ours beside the paper -----------------------------------------------------------------


def versus_paper(
    paper: Sequence[Mapping],
    ours: Mapping[str, Sequence[Mapping]],
    metric: str = "rank1",
    *,
    paper_label: str = "paper",
) -> pd.DataFrame:
    """Long data of a dot plot: dataset, model, source, fold, value (%).

    ``paper``: tidy rows of `stsrn_lite.book.tables.paper_rows` (a missing value, the paper's
    "-", is left out); ``ours``: {source label: tidy result rows, one per fold}. Sources keep
    their order, the paper's first; rows without ``metric`` are left out.
    """
    parts = []
    for source, rows in {paper_label: paper, **ours}.items():
        rows = [row for row in rows if row.get(metric) not in (None, "")]
        if not rows:
            continue
        frame = _frame(rows, [metric])
        parts.append(
            pd.DataFrame(
                {
                    "dataset": frame["dataset"],
                    "model": frame["preset"],
                    "source": source,
                    "fold": frame["fold"] if "fold" in frame else 0,
                    "value": frame[metric],
                }
            )
        )
    if not parts:
        raise ValueError(f"no source has a value of {metric!r}")
    return pd.concat(parts, ignore_index=True)


def plot_versus_paper(
    paper: Sequence[Mapping],
    ours: Mapping[str, Sequence[Mapping]],
    metric: str = "rank1",
    *,
    paper_label: str = "paper",
    models: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """A dot plot of ``metric`` per model, one panel per dataset: the paper's value (a dark
    diamond) and ours for every source (a circle at the mean over the folds, ± one standard
    deviation (`ERRORBAR`) where there are several, each fold a small point). Arguments as in
    `versus_paper`; ``models`` orders the rows (default: as they first appear, the paper's first)."""
    long = versus_paper(paper, ours, metric, paper_label=paper_label)
    datasets = list(dict.fromkeys(long["dataset"]))
    models = list(dict.fromkeys([*(models or []), *long["model"]]))
    sources = list(dict.fromkeys([paper_label, *ours]))
    palette = dict(zip(sources, [PAPER_COLOUR, *sns.color_palette("deep", len(sources) - 1)]))
    n = len(sources)
    with sns.axes_style(STYLE["style"]), sns.plotting_context(STYLE["context"], STYLE["font_scale"]):
        fig, axes = _panels(len(datasets), 1.0 + 0.28 * n * len(models) + 0.25 * n)
        for ax, dataset in zip(axes, datasets):
            part = long[long["dataset"] == dataset]
            common = {
                "data": part,
                "x": "value",
                "y": "model",
                "hue": "source",
                "order": models,
                "hue_order": sources,
                "palette": palette,
                "ax": ax,
            }
            folds = {**common, "data": part[part["source"] != paper_label]}  # the paper has no folds
            sns.stripplot(**folds, dodge=True, jitter=False, size=3.5, alpha=0.45, legend=False)
            sns.pointplot(
                **common,
                errorbar=ERRORBAR,
                dodge=0.8 * (n - 1) / n,  # the strip plot's offsets, so folds and means line up
                markers=["D", *["o"] * (n - 1)],
                markersize=6,
                linestyle="none",
                capsize=0.1,
                err_kws={"linewidth": 1.2},
            )
            ax.set_title(DATASET_NAMES.get(dataset, dataset))
            ax.set_xlabel(f"{metric_name(metric)} (%)")
            ax.set_ylabel("")
            ax.set_xlim(0, 101)
            ax.get_legend().remove()
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(n, 4), fontsize=8, frameon=False)
        fig.tight_layout(rect=(0, 0.3 / fig.get_figheight(), 1, 0.95 if title else 1))
    if title:
        fig.suptitle(title, fontsize=9)
    return fig
