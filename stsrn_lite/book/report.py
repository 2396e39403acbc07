"""Which result files exist, per table and profile (the landing page and the reproduction report, chapter 16).

Every table chapter writes ``results/<profile>/NAME.csv`` under the home (`stsrn_lite.home`) with
a provenance file beside it (`stsrn_lite.book.experiments.save_results`). `result_matrix` says,
for each result file the book knows and each profile, how many rows exist, or that none do yet;
`verdicts` judges every claim of the paper on every profile's stored rows (`stsrn_lite.book.claims`).
"""

from __future__ import annotations

import pandas as pd

from stsrn_lite.book import claims
from stsrn_lite.book.experiments import load_results
from stsrn_lite.book.profiles import PROFILES

# result file: (what the paper calls it, the chapter that writes it)
RESULT_FILES = {
    "table1": ("Table 1: iLIDS-VID and PRID2011", "07_table1"),
    "table2": ("Table 2: MARS", "08_table2"),
    "table4": ("Table 4: cross-dataset", "10_table4"),
    "table5": ("Table 5 and Fig. 4: spatial residual blocks", "11_table5_fig4"),
    "table6": ("Table 6: temporal residuals and the STSM", "12_table6_fig5"),
    "fig5": ("Fig. 5: rank-1 over the epochs", "12_table6_fig5"),
    "occlusion": ("Beyond the paper: the STSM under controlled occlusion", "12_table6_fig5"),
}
NOT_YET = "not produced yet"


def found_results(*, partial: bool = False) -> dict[str, dict[str, tuple[list[dict], dict]]]:
    """{result file: {profile: (rows, provenance)}} for every profile with that file (``partial``:
    the results of partial sessions, ``results/partial/<profile>/``)."""
    return {name: load_results(name, profiles=tuple(PROFILES), partial=partial) for name in RESULT_FILES}


def result_matrix(found: dict | None = None, partial: dict | None = None) -> pd.DataFrame:
    """One row per result file, one column per profile: "N rows", else "partial: N rows (1 of 10
    folds, ...)" when only a partial session produced it, else `NOT_YET`."""
    found = found_results() if found is None else found
    partial = found_results(partial=True) if partial is None else partial
    rows = []
    for name, (what, chapter) in RESULT_FILES.items():
        row = {"result": what, "chapter": chapter}
        for profile in PROFILES:
            stored, unfinished = found[name].get(profile), partial.get(name, {}).get(profile)
            if stored:
                row[profile] = f"{len(stored[0]):,} rows"
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
