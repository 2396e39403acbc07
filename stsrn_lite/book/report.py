"""Which result files exist, per table and profile (the landing page and the reproduction report, chapter 16).

Every table chapter writes ``results/<profile>/NAME.csv`` under the home (`stsrn_lite.home`) with
a provenance file beside it (`stsrn_lite.book.experiments.save_results`). `result_matrix` says,
for each result file the book knows and each profile, how many rows exist, or that none do yet;
`verdicts` judges every claim of the paper on every profile's stored rows (`stsrn_lite.book.claims`);
`overview` says, for every table and figure of the paper, where the book reproduces it and where
its claims stand.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from stsrn_lite.book import claims
from stsrn_lite.book.experiments import load_results
from stsrn_lite.book.profiles import PROFILES

# result file: (what the paper calls it, the chapter that writes it, the grid's table of its runs)
RESULT_FILES = {
    "table1": ("Table 1: iLIDS-VID and PRID2011", "07_table1", "table1"),
    "table2": ("Table 2: MARS", "08_table2", "table2"),
    "table4": ("Table 4: cross-dataset", "10_table4", "table4"),
    "table5": ("Table 5 and Fig. 4: spatial residual blocks", "11_table5_fig4", "table5"),
    "table6": ("Table 6: temporal residuals and the STSM", "12_table6_fig5", "table6"),
    "fig5": ("Fig. 5: rank-1 over the epochs", "12_table6_fig5", "table6"),
    "occlusion": ("Beyond the paper: the STSM under controlled occlusion", "12_table6_fig5", "table6"),
}
NOT_YET = "not produced yet"


def found_results(*, partial: bool = False) -> dict[str, dict[str, tuple[list[dict], dict]]]:
    """{result file: {profile: (rows, provenance)}} for every profile with that file (``partial``:
    the results of partial sessions, ``results/partial/<profile>/``)."""
    return {name: load_results(name, profiles=tuple(PROFILES), partial=partial) for name in RESULT_FILES}


def result_matrix(found: dict | None = None, partial: dict | None = None) -> pd.DataFrame:
    """One row per result file, one column per profile: "N rows", with "on 1 of the profile's 3
    folds" when the stored rows cover fewer folds than the profile now asks of that table (its
    provenance predates a change of the profile: the rest are still to run), else "partial: N rows
    (1 of 10 folds, ...)" when only a partial session produced it, else `NOT_YET`."""
    found = found_results() if found is None else found
    partial = found_results(partial=True) if partial is None else partial
    rows = []
    for name, (what, chapter, table) in RESULT_FILES.items():
        row = {"result": what, "chapter": chapter}
        for profile in PROFILES:
            stored, unfinished = found[name].get(profile), partial.get(name, {}).get(profile)
            if stored:
                asked, covered = PROFILES[profile].folds_for(table), stored[1].get("folds")
                short = f", on {covered} of the profile's {asked} folds" if covered and covered < asked else ""
                row[profile] = f"{len(stored[0]):,} rows{short}"
            elif unfinished:
                departures = ", ".join(unfinished[1].get("departures", [])) or "departs from the protocol"
                row[profile] = f"partial: {len(unfinished[0]):,} rows ({departures})"
            else:
                row[profile] = NOT_YET
        rows.append(row)
    return pd.DataFrame(rows).set_index("result")


def verdicts(found: dict | None = None) -> pd.DataFrame:
    """`stsrn_lite.book.claims.report` on every profile's stored result rows (not partial ones)."""
    found = found_results() if found is None else found
    stored = {
        profile: {name: found[name][profile][0] for name in found if profile in found[name]}
        for profile in PROFILES
        if any(profile in found[name] for name in found)
    }
    return claims.report(stored)


# The paper's tables and figures: (item, what it shows, the chapter that reproduces it, the keys of
# the claims judged on its rows, `stsrn_lite.book.claims.CLAIMS`); Fig. 4 plots Table 5's runs,
# Fig. 3's blocks are Table 5's variants, Fig. 5 Table 6's runs over the epochs.
ITEMS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Table 1", "STSRN and the CNN-RNN on iLIDS-VID and PRID2011", "07_table1", ("stsrn",)),
    ("Table 2", "STSRN and the CNN-RNN on MARS", "08_table2", ("mars",)),
    ("Table 3", "parameter counts", "09_table3", ()),
    ("Table 4", "trained on iLIDS-VID, tested on PRID2011", "10_table4", ("cross",)),
    ("Table 5", "how many spatial residual blocks, and which block", "11_table5_fig4",
     ("residual", "depth", "block-a", "block-b")),
    ("Table 6", "the temporal residual and the STSM, added one by one", "12_table6_fig5", ("temres", "stsm")),
    ("Fig. 1", "STSRN's architecture", "00_introduction", ()),
    ("Fig. 2", "the spatial residual extractor", "03_spatial_extractor", ()),
    ("Fig. 3", "three spatial residual blocks", "03_spatial_extractor", ("block-a", "block-b")),
    ("Fig. 4", "CMC curves of Table 5's models", "11_table5_fig4", ("residual", "depth")),
    ("Fig. 5", "rank-1 over the training epochs (Table 6's models)", "12_table6_fig5", ("temres-curve",)),
)  # fmt: skip
# what stands for the items without a claim
DRAWN = "drawn from the model's modules"
COMPUTED = "computed from the models"


def _standing(status: str) -> str:
    """A claim line's status (`stsrn_lite.book.claims.status`) without its reasons: "synthetic,
    bench: inconclusive (3 folds)" stays, "not run: …" becomes "not run"."""
    head = status.partition(":")[0]
    return status if head.startswith(("synthetic", "real data")) else head


def overview(found: dict | None = None) -> pd.DataFrame:
    """One row per table and figure of the paper (`ITEMS`): what it shows, the chapter, the profiles
    whose stored rows it has (`RESULT_FILES`), and where its claims stand, counted over the claims
    and datasets (`verdicts`' status column)."""
    found = found_results() if found is None else found
    report = verdicts(found)
    statuses = {
        (claim.key, dataset): status
        for claim in claims.CLAIMS
        for (statement, dataset), status in report["status"].items()
        if statement == f"{claim.statement} ({claim.source})"
    }
    rows = []
    for item, shows, chapter, keys in ITEMS:
        files = [name for name, (what, writer, _) in RESULT_FILES.items() if writer == chapter and name != "occlusion"]
        if item == "Fig. 5":
            files = ["fig5"]
        elif chapter == "12_table6_fig5":
            files = ["table6"]
        stored = sorted({p for name in files for p in found.get(name, {})}, key=tuple(PROFILES).index)
        counted = Counter(_standing(status) for (key, _), status in statuses.items() if key in keys)
        if keys:
            standing = "; ".join(f"{n} × {what}" for what, n in counted.items())
        elif item == "Table 3":
            standing = COMPUTED
        else:  # Figs. 1 and 2
            standing = DRAWN
        rows.append(
            {
                "item": item,
                "shows": shows,
                "chapter": chapter,
                "results": ", ".join(stored) if files else "–",
                "claims": len([1 for key, _ in statuses if key in keys]),
                "where its claims stand": standing,
            }
        )
    return pd.DataFrame(rows).set_index("item")
