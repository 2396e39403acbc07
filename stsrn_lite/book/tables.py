"""The result chapters' tables: tidy result rows, the paper's values beside ours, fold summaries
(paper §4.2-4.7; Tables 1, 2, 4, 5 and 6).

Our numbers travel as tidy rows, one dict per (dataset, preset, fold[, epoch]) with the CMC in
percent (``rank1`` … ``rank20``) and ``mAP``: `result_row` builds them, and
`stsrn_lite.book.experiments.save_results` / `load_results` write them and read them back (as strings;
every helper here converts). A table beside the paper (`side_by_side`) has one column per
source: the paper, then ours for each profile whose rows exist, in the order smoke, full, paper
(`ours_sources`). A column's header is short ("ours · smoke", `short_label`); the full label
(profile, data, device, folds) goes in a note under the table (`sources_note`).

Nothing here is used by the library; the notebooks import it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from stsrn_lite.book.divergence import FALLBACK, retry_recipes
from stsrn_lite.book.profiles import DATASET_NAMES  # noqa: F401 (the datasets' names, used from here too)
from stsrn_lite.book.profiles import PROFILE_NAMES as PROFILE_ORDER  # smoke, bench, full, paper

CMC_RANKS = tuple(f"rank{k}" for k in range(1, 21))  # the CMC columns of a result row
MISSING = "–"  # a cell without a value (the paper's "-", or a source without that row)
BEYOND_GALLERY = "·"  # a rank at or above the gallery size: 100 % by construction, not shown


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


def paper_rows(
    table: Mapping, ranks: Sequence[str], *, presets: Sequence[str] | None = None, dataset: str | None = None
) -> list[dict]:
    """A table of `stsrn_lite.book.paper` as tidy rows (dataset, preset, one column per rank).

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


def description_from_provenance(provenance: Mapping) -> str:
    """Data and device of rows read back with `load_results`, in the form of `Session.description`."""
    device = str(provenance.get("device", "unknown device"))
    where = "CPU" if device.startswith("cpu") else device
    return f"{provenance.get('data', 'unknown data')}; {where}"


def training_from_provenance(provenance: Mapping) -> str:
    """How the runs of stored rows trained: "fast recipe, 100 epochs, 3 folds" (the recipe's
    name opens the provenance's ``recipe``: "fast: 1 pair per step, …", "faithful (1 pair per
    step), …"); "" for a table that trains nothing."""
    recipe = re.match(r"[\w-]*", str(provenance.get("recipe") or "none")).group(0) or "none"
    if recipe == "none":
        return ""
    folds = int(provenance.get("folds", 1))
    return f"{recipe} recipe, {provenance.get('epochs')} epochs, {folds} fold{'s' if folds != 1 else ''}"


def label_from_provenance(profile: str, provenance: Mapping) -> str:
    """The full label of rows read back with `load_results`, in the form of `Session.label`, with
    how they trained (`training_from_provenance`) before the device."""
    data, where = description_from_provenance(provenance).rsplit("; ", 1)
    return f"ours ({profile}: {'; '.join(filter(None, [data, training_from_provenance(provenance), where]))})"


def recipe_text(rows: Sequence[Mapping], epochs: int | None = None) -> str:
    """ "fast recipe" (", 100 epochs" with ``epochs``): the recipe most of the result ``rows``
    that have one were trained with (the others are retries, `retry_text`); on a tie the one that
    is not a retry's (Table 2's bench: one `fast` row, one `fast-stable` retry); "" when none has one."""
    recipes = Counter(str(row["recipe"]) for row in rows if row.get("recipe"))
    if not recipes:
        return ""
    retries = retry_recipes(rows)
    most = max(recipes, key=lambda recipe: (recipes[recipe], recipe not in retries))
    return f"{most} recipe" + (f", {epochs} epochs" if epochs else "")


def short_label(profile: str) -> str:
    """The column header of a profile's numbers: "ours · smoke"."""
    return f"ours · {profile}"


def folds_text(rows: Sequence[Mapping]) -> str:
    """ "1 fold", "10 folds": how many folds ``rows`` hold, and which rows (a preset on a dataset,
    under a reading of it or trained on another) hold fewer: "3 folds (iLIDS-VID
    Double+TemRes+STSM: folds 1 and 2 only)"; "" for no rows."""
    if not rows:
        return ""
    folds = sorted({str(row.get("fold", 0)) for row in rows}, key=_fold_order)
    held: dict[str, set[str]] = {}
    for row in rows:
        held.setdefault(_row_name(row), set()).add(str(row.get("fold", 0)))
    fewer = [
        f"{name}: fold{'s' if len(found) > 1 else ''} {_and(sorted(found, key=_fold_order))} only"
        for name, found in held.items()
        if len(found) < len(folds)
    ]
    count = f"{len(folds)} fold{'s' if len(folds) != 1 else ''}"
    return f"{count} ({'; '.join(fewer)})" if fewer else count


def _fold_order(fold: str) -> tuple[int, str]:
    return (int(fold), fold) if fold.isdigit() else (0, fold)


def _and(items: Sequence[str]) -> str:
    """ "1", "1 and 2", "0, 1 and 2"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _row_name(row: Mapping) -> str:
    """A result row's series: its dataset and preset, with its reading of the dataset or the
    dataset it was trained on where it has one ("MARS STSRN (official)")."""
    name = f"{DATASET_NAMES.get(row.get('dataset', ''), row.get('dataset', ''))} {row.get('preset', '')}".strip()
    extra = [str(row[key]) for key in ("reading",) if row.get(key)]
    if row.get("trained_on") and row.get("trained_on") != row.get("dataset"):
        extra.append(f"trained on {DATASET_NAMES.get(row['trained_on'], row['trained_on'])}")
    return f"{name} ({', '.join(extra)})" if extra else name


def other_profiles(profile: str) -> tuple[str, ...]:
    """The profiles whose stored results a ``profile`` session shows beside its own rows."""
    if profile not in PROFILE_ORDER:
        raise ValueError(f"unknown profile {profile!r}; expected one of {PROFILE_ORDER}")
    return tuple(p for p in PROFILE_ORDER if p != profile)


def ours_sources(
    profile: str, description: str, rows: list[dict], loaded: Mapping[str, tuple[list[dict], dict]]
) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """This session's ``rows`` and ``loaded`` (`load_results`' answer) as ({header: rows},
    {header: note}), ordered smoke, full, paper; a profile without results has no column.

    Headers are `short_label`s; a note says data, device, recipe (with the epochs of stored rows)
    and folds (``description`` is this session's, `Session.description`), and which rows were
    trained again (`retry_text`).
    """
    columns, notes = {}, {}
    for name in PROFILE_ORDER:
        if name == profile:
            stored, where, epochs = rows, description, None
        elif name in loaded:
            stored, provenance = loaded[name]
            where, epochs = description_from_provenance(provenance), provenance.get("epochs")
        else:
            continue
        columns[short_label(name)] = stored
        parts = [where, recipe_text(stored, epochs), folds_text(stored), retry_text(stored)]
        notes[short_label(name)] = "; ".join(filter(None, parts))
    return columns, notes


def retry_text(rows: Sequence[Mapping]) -> str:
    """Which of a table's result ``rows`` come from a run trained again after its recipe's run
    diverged (a ``recipe`` column naming a fallback of another row's recipe,
    `stsrn_lite.book.divergence.retry_recipes`), each run once; "" when none. A row tested on
    another dataset than it was trained on (a ``trained_on`` column, Table 4) says so."""
    fallbacks = retry_recipes(rows)
    found = list(dict.fromkeys(_trained_run(row) for row in rows if row.get("recipe") in fallbacks))  # once a run
    if not found:
        return ""
    recipes = ", ".join(
        f"{fallback} (the {name} recipe at half its peak learning rate)" for name, fallback in FALLBACK.items()
    )
    verb = "was" if len(found) == 1 else "were"
    return f"{', '.join(found)} diverged and {verb} trained again with {recipes}"


def _trained_run(row: Mapping) -> str:
    """The run behind a result row: "iLIDS-VID STSRN fold 2", "PRID2011 STSRN (trained on
    iLIDS-VID) fold 2" (`_row_name`)."""
    return f"{_row_name(row)} fold {row['fold']}"


def sources_note(notes: Mapping[str, str], *, paper: str | None = None, cells: str | None = None) -> str:
    """The note under a table or figure (Markdown): what each column's numbers are.

    ``notes``: {header: what it holds} (`ours_sources`); ``paper``: what the paper's column holds;
    ``cells``: how to read a cell (e.g. "mean ± standard deviation over the folds").
    """
    parts = [f"**paper**: {paper}." if paper else ""]
    parts += [f"**{header}**: {note}." for header, note in notes.items()]
    parts += [f"Cells: {cells}." if cells else ""]
    return " ".join(part for part in parts if part)


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
    """ "m" for one value, "m ± s" (sample standard deviation) for more, `MISSING` for none."""
    values = np.asarray([v for v in values if v is not None and not np.isnan(v)], dtype=np.float64)
    if len(values) == 0:
        return MISSING
    if len(values) == 1:
        return f"{values[0]:.{decimals}f}"
    return f"{values.mean():.{decimals}f} ± {values.std(ddof=1):.{decimals}f}"


def metric_name(metric: str) -> str:
    """ "rank5" → "R5" (the paper's column names); other names stay."""
    return f"R{metric[4:]}" if metric.startswith("rank") else metric


def fold_summary(
    rows: Sequence[Mapping], metrics: Sequence[str], *, label: str | None = None, decimals: int = 1
) -> pd.DataFrame:
    """Mean ± std over the folds of every (dataset, preset), grouped by dataset: one row each, one
    column per metric (as text, `mean_std`; `BEYOND_GALLERY` for a rank at or above the gallery)
    and ``folds``, the number of folds averaged; ``label`` (where the numbers come from) heads
    all the columns."""
    frame = _frame(rows, metrics)
    order = list(dict.fromkeys(frame["dataset"]))  # datasets as they first appear, models within each
    frame = frame.sort_values("dataset", key=lambda column: column.map(order.index), kind="stable")
    table = {}
    for (dataset, name), group in frame.groupby(["dataset", "preset"], sort=False):
        cells = {metric_name(m): value for m, value in _masked(group, metrics, decimals).items()}
        table[(DATASET_NAMES.get(dataset, dataset), name)] = {**cells, "folds": int(group["fold"].nunique())}
    out = pd.DataFrame.from_dict(table, orient="index")
    out.index = pd.MultiIndex.from_tuples(out.index, names=["dataset", "model"])
    if label is not None:
        out.columns = pd.MultiIndex.from_product([[label], out.columns])
    return out


def side_by_side(
    paper: Sequence[Mapping],
    ours: Mapping[str, Sequence[Mapping]],
    metrics: Sequence[str],
    *,
    paper_label: str = "paper",
    decimals: int = 1,
) -> pd.DataFrame:
    """The paper's values beside ours, read at a glance: one row per (dataset, model), one column
    per (metric, source), each metric's sources side by side.

    ``paper``: tidy rows of `paper_rows`; ``ours``: {column label: tidy result rows} (one per fold,
    shown as mean ± std over the folds, `mean_std`). Rows follow the order in which datasets and
    models first appear, the paper's first; a source without a row shows `MISSING`. A rank at or
    above a source's gallery size (its rows' ``gallery``: the test identities; 100 % by
    construction) shows `BEYOND_GALLERY` instead of its value.
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
            cells[label][(dataset, name)] = _masked(group, metrics, decimals)
    index, data = [], []
    for dataset in datasets:
        for name in models:
            if not any((dataset, name) in per_source for per_source in cells.values()):
                continue
            index.append((DATASET_NAMES.get(dataset, dataset), name))
            data.append(
                [cells[label].get((dataset, name), {}).get(metric, MISSING) for metric in metrics for label in sources]
            )
    headers = [_header(label, paper_label) for label in sources]
    columns = pd.MultiIndex.from_tuples(
        [(metric_name(metric), header) for metric in metrics for header in headers], names=["metric", "source"]
    )
    return pd.DataFrame(data, index=pd.MultiIndex.from_tuples(index, names=["dataset", "model"]), columns=columns)


def _header(label: str, paper_label: str) -> str:
    """A source's header under each metric of a wide table: "ours · smoke" → "smoke" (the note
    under the table names each source in full), unless that is the paper's own label."""
    short = label.removeprefix(short_label(""))
    return short if short and short != paper_label else label


def _masked(group: pd.DataFrame, metrics: Sequence[str], decimals: int) -> dict[str, str]:
    """`mean_std` of each metric over ``group``'s folds, `BEYOND_GALLERY` for a rank at or above
    its gallery size, `MISSING` for a metric it lacks."""
    gallery = _gallery(group)
    return {
        m: BEYOND_GALLERY
        if gallery is not None and _rank(m) is not None and _rank(m) >= gallery
        else mean_std(group[m].tolist(), decimals)
        if m in group
        else MISSING
        for m in metrics
    }


def _rank(metric: str) -> int | None:
    """ "rank5" → 5; None for a metric that is not a rank."""
    return int(metric[4:]) if metric.startswith("rank") and metric[4:].isdigit() else None


def _gallery(group: pd.DataFrame) -> int | None:
    """The smallest gallery (test identities) of a source's rows, or None when they do not say."""
    if "gallery" not in group:
        return None
    sizes = pd.to_numeric(group["gallery"].replace("", np.nan), errors="coerce").dropna()
    return int(sizes.min()) if len(sizes) else None
