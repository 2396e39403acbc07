"""Builds notebooks/14_reproduction_report.ipynb (run: python tools/notebooks/14_reproduction_report.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tools.notebook_template import code, md, write_notebook  # noqa: E402

write_notebook(
    Path(__file__).resolve().parents[2] / "notebooks" / "14_reproduction_report.ipynb",
    "14 · Reproduction report",
    "This chapter gathers the paper's tables {cite:p}`su2018stsrn` and ours in one place. It trains "
    "nothing: it reads the result files that the table chapters write "
    "(`results/<profile>/<table>.csv`, with a provenance file `<table>.json` beside each) for every "
    "profile that has been run, and says plainly which results exist and what they can and cannot "
    "show. Run it after the chapters {doc}`07_table1` to {doc}`13_efficiency`.",
    [
        md("""
## What exists

The three profiles (`stsrn_lite.profiles`): **smoke**, a tiny synthetic benchmark on the CPU whose
numbers only prove that the pipeline runs; **full**, the synthetic benchmark at the real datasets'
sizes with the paper's protocol, on a GPU, which tests the pipeline at scale; **paper**, the real
datasets with the paper's protocol, on a GPU, the only profile whose numbers can confirm or
contradict the paper. The result files found in this checkout:
"""),
        code("""
import pandas as pd

from stsrn_lite.experiments import RESULTS, load_results
from stsrn_lite.paper import (FIG_5_EPOCH_100_RANK1, RANKS, TABLE_1, TABLE_2, TABLE_3, TABLE_4, TABLE_5_RANK1,
                              TABLE_6, TABLE_6_RANKS)
from stsrn_lite.params import table as parameter_table
from stsrn_lite.plots.results import (MISSING, PROFILE_ORDER, label_from_provenance, metric_name, paper_rows,
                                      side_by_side)

FILES = {"table1": "07_table1", "table2": "08_table2", "table4": "10_table4", "table5": "11_table5_fig4",
         "table6": "12_table6_fig5", "fig5": "12_table6_fig5"}  # result file: the chapter that writes it
NOT_YET = "not produced yet for this profile"
found = {name: load_results(name, profiles=PROFILE_ORDER) for name in FILES}
pd.DataFrame({profile: {name: f"{len(found[name][profile][0])} rows" if profile in found[name] else "not produced yet"
                        for name in FILES} for profile in PROFILE_ORDER}
             ).rename_axis("results/<profile>/…").assign(written_by=[f"{FILES[name]}.ipynb" for name in FILES])
"""),
        code("""
with_results = [p for p in PROFILE_ORDER if any(p in found[name] for name in FILES)]
print("Profiles with results:", ", ".join(with_results) or "none")
if "paper" not in with_results:
    print("No result on the real datasets (the paper profile) exists yet: nothing in this report confirms or "
          "contradicts the paper's numbers.")
if "smoke" in with_results:
    print("The smoke results come from a tiny synthetic benchmark (a few dozen identities, one fold, a few epochs); "
          "they only prove that the pipeline runs end to end.")
"""),
        md("""
Where each result came from: the provenance file beside every result file (the data, the device,
the last commit of the code behind the numbers, and the date they were first produced; a
re-run that reproduces the same numbers keeps them, a change of the code does not, so the book does
not check this table):
"""),
        code("""
KEYS = ("data", "device", "code_version", "torch", "date", "notebook")
pd.DataFrame([{"result": name, "profile": profile, **{key: provenance.get(key, MISSING) for key in KEYS}}
              for name in FILES for profile, (rows, provenance) in found[name].items()],
             columns=["result", "profile", *KEYS]).set_index(["result", "profile"])
""", tags=["nbval-ignore-output"]),
        md("""
In every table below, the paper's column holds the paper's values (real data) and each of our
columns is headed by the profile, its data and its device. A profile without a result file has
no column and is listed as not produced yet.
"""),
        code("""
def ours(name: str, keep=lambda row: True) -> dict[str, list[dict]]:
    \"\"\"{column label: rows} of result ``name`` for every profile that has it; says which have not.\"\"\"
    missing = [profile for profile in PROFILE_ORDER if profile not in found[name]]
    if missing:
        print(f"{name}: {NOT_YET}: {', '.join(missing)}")
    return {label_from_provenance(profile, provenance): [row for row in rows if keep(row)]
            for profile, (rows, provenance) in found[name].items()}
"""),
        md("""
## Table 1: iLIDS-VID and PRID2011

STSRN and the CNN-RNN, two-camera protocol, mean ± standard deviation over the folds
({doc}`07_table1`). The paper's other rows are methods we do not build.
"""),
        code("""
side_by_side(paper_rows(TABLE_1, RANKS, presets=("STSRN", "CNN-RNN")), ours("table1"), RANKS,
             paper_label="paper (Table 1)")
"""),
        md("""
## Table 2: MARS

The paper's protocol, two random cameras per test identity ({doc}`08_table2`); our standard-protocol
rows (official queries, mAP) follow, with no paper values to compare with.
"""),
        code("""
side_by_side(paper_rows(TABLE_2, RANKS, presets=("STSRN", "CNN-RNN"), dataset="mars"),
             ours("table2", lambda row: row["protocol"] == "mars-paper"), RANKS, paper_label="paper (Table 2)")
"""),
        code("""
standard = ours("table2", lambda row: row["protocol"] == "mars-standard")
side_by_side([], standard, [*RANKS, "mAP"]).drop(columns="paper") if standard else print("no standard-protocol rows")
"""),
        md("""
## Table 3: parameters

Counted from the models themselves, so every profile gives the same numbers ({doc}`09_table3`);
no result file is needed.
"""),
        code("""
counts = pd.DataFrame(parameter_table()).set_index("preset")[["params"]].rename(columns={"params": "ours"})
counts["paper (Table 3)"] = [f"{TABLE_3[name] / 1e3:,.0f}k" if name in TABLE_3 else MISSING for name in counts.index]
counts["ours / paper"] = [round(counts.at[name, "ours"] / TABLE_3[name], 3) if name in TABLE_3 else MISSING
                          for name in counts.index]
counts.loc[["CNN-RNN", "STSRN"]]
"""),
        md("""
## Table 4: trained on iLIDS-VID, tested on PRID2011

({doc}`10_table4`)
"""),
        code("""
side_by_side(paper_rows(TABLE_4, RANKS, presets=("STSRN", "CNN-RNN"), dataset="prid2011"),
             ours("table4", lambda row: row.get("trained_on", "ilids-vid") == "ilids-vid"), RANKS,
             paper_label="paper (Table 4)")
"""),
        md("""
## Table 5 and Fig. 4: spatial residual blocks

Fig. 4 is a plot: the paper states only two of its rank-1 values in the text (§4.5), and
*BaseModel* and *DoubleResBlocks* are also rows of Table 6; the other models have no paper value
({doc}`11_table5_fig4`).
"""),
        code("""
TABLE_5_MODELS = ("BaseModel", "SingleResBlock", "DoubleResBlocks", "TripleResBlocks", "DoubleResBlocks*",
                  "DoubleResBlocks (Fig. 3b)")


def stated_rank1(dataset: str, name: str) -> float | None:
    if name in TABLE_5_RANK1:
        return TABLE_5_RANK1[name].get(dataset)
    return TABLE_6[name][dataset][0] if name in TABLE_6 else None


stated = [{"dataset": dataset, "preset": name, "rank1": stated_rank1(dataset, name)}
          for dataset in ("ilids-vid", "prid2011") for name in TABLE_5_MODELS]
side_by_side(stated, ours("table5"), ["rank1"], paper_label="paper (§4.5 text, Table 6)")
"""),
        md("""
## Table 6 and Fig. 5: temporal residuals and the STSM

({doc}`12_table6_fig5`)
"""),
        code("""
side_by_side(paper_rows(TABLE_6, TABLE_6_RANKS), ours("table6"), TABLE_6_RANKS, paper_label="paper (Table 6)")
"""),
        md("""
Fig. 5's text gives rank-1 on iLIDS-VID at the 100th epoch; ours where a run has an evaluated
epoch 100 (the smoke profile's runs are far shorter):
"""),
        code("""
at_100 = {}
for label, rows in ours("fig5", lambda row: row["dataset"] == "ilids-vid" and int(row["epoch"]) == 100).items():
    at_100[label] = {name: (f"{pd.Series([float(r['rank1']) for r in rows if r['preset'] == name]).mean():.1f}"
                            if any(r["preset"] == name for r in rows) else MISSING) for name in FIG_5_EPOCH_100_RANK1}
pd.DataFrame({"paper (§4.6 text)": FIG_5_EPOCH_100_RANK1, **at_100}).rename_axis("rank-1 at epoch 100, iLIDS-VID")
"""),
        md("""
## Efficiency

The paper's $X + Y$ against $XY$ feature extractions (§4.3) is a count, not a result file:
{doc}`13_efficiency` counts the sequences our network runs on in both schemes and checks that
both give the same distances. Its timings, which the paper does not report, are stored per profile in
`results/<profile>/efficiency_timings.csv` and `efficiency_query.csv`, each with the machine that
measured them.

## What this report shows

- Every table chapter writes its rows with their provenance, and this report reads them back for
  each profile; Table 3 is computed on the spot.
- The verdict on the paper's claims needs the `paper` profile's results, on the real datasets with
  the paper's protocol. Until they exist, a column of ours is evidence that the code runs, not
  evidence about STSRN.
"""),
    ],
)
