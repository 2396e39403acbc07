"""Builds notebooks/07_table1.ipynb (run: python tools/notebooks/07_table1.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tools.notebook_template import code, md, write_notebook  # noqa: E402

write_notebook(
    Path(__file__).resolve().parents[2] / "notebooks" / "07_table1.ipynb",
    "07 · Table 1: iLIDS-VID and PRID2011",
    "The paper's Table 1 compares STSRN {cite:p}`su2018stsrn` with twelve methods on iLIDS-VID "
    "{cite:p}`wang2014video` and PRID2011 {cite:p}`hirzer2011person`. Two of its rows are models we "
    "build: STSRN and the CNN-RNN {cite:p}`mclaughlin2016recurrent` it grows from. This chapter "
    "trains both on every fold of the profile, tests them with the two-camera protocol, and sets "
    "the averages beside the paper's.",
    [
        md("""
## The protocol

The paper (§4.2):

> we randomly split each dataset into two non-overlapping subsets with same amount of identities
> for training and testing, respectively. The results are reported using the average *Cumulative
> Matching Characteristics* (CMC) curves under "10-fold cross validation". In the testing phase,
> the probe set and the gallery set contain data from two different cameras for iLIDS-VID and
> PRID2011; and we only use the first 200 identities appeared in both cameras for PRID2011. [...]
> we set the sampling length of each person sequence to 16 and 128 for training and testing.

`stsrn_lite.evaluation.protocols.evaluate_two_camera` follows the CNN-RNN's test code: the probes
are the camera-1 tracklets of the fold's test identities, their first $\\min(L, n)$ frames; the
gallery holds the camera-2 tracklets of the same identities, their last $\\min(L, n)$ frames, with
$L = 128$. Each probe has exactly one true match, so mAP is the mean reciprocal rank. Splits are
iLIDS-VID's official ten when its split file is there, otherwise seeded 50/50 splits of the
identities (of persons 1-200 for PRID2011). The full and paper profiles average the 16 test passes
of §4.2 (8 diagonal crops, each also mirrored); the smoke profile uses one centre crop.

This session:
"""),
        code("""
import matplotlib.pyplot as plt
import pandas as pd

from stsrn_lite.experiments import REPO, load_results, run, save_results
from stsrn_lite.paper import RANKS, TABLE_1
from stsrn_lite.plots.results import (DATASET_NAMES, MISSING, eval_interval, fold_summary, metric_name, other_profiles,
                                      ours_columns, paper_rows, plot_cmc, result_row, side_by_side)
from stsrn_lite.training.data import load_run_data

DATASETS = ("ilids-vid", "prid2011")
MODELS = ("STSRN", "CNN-RNN")  # Table 1 rows that we build
settings = []
for dataset in DATASETS:
    data = load_run_data(dataset, session.root(dataset), fold=0, folds=folds, seed=1)
    settings.append({"dataset": dataset, "train identities": len({int(data.cache.pids[i]) for i in data.train_indices}),
                     "test identities": len(data.test_pids), "splits": data.split_source})
print(f"{session.label}: {folds} fold(s), {epochs} epochs per run, test length L = 128, "
      f"{16 if session.profile.eval_tta else 1} test pass(es)")
pd.DataFrame(settings).set_index("dataset")
"""),
        md("""
## Training and testing

Every (dataset, model, fold) is one `experiments.run`: the training of {doc}`06_objective_training`
(faithful mode, one pair per step, the paper's learning rate $2 \\times 10^{-3}$), then the test.
Runs that another chapter already finished with the same settings are reused from
`runs/<profile>/`.

Our CNN-RNN is McLaughlin's network (the `CNN-RNN` preset, 384,928 parameters as in the original
code) trained with STSRN's recipe: Eq. (8) with the squared distance for positive pairs, Xavier
initialisation and the learning rate $2 \\times 10^{-3}$. The original trained it with a hinge on
the distance and $10^{-3}$, and the paper's CNN-RNN row is that paper's own figure. The comparison
of the two rows therefore isolates the architecture.
"""),
        code("""
rows = []
for dataset in DATASETS:
    for name in MODELS:
        for fold in range(folds):
            outcome = run(session, dataset, name, fold, epochs=epochs, eval_every=eval_interval(epochs))
            details = outcome.evaluations["two-camera"].details
            rows.append(result_row(dataset, name, fold, details.cmc, details.mAP))
fold_summary(rows, [*RANKS, "mAP"], label=session.label)
"""),
        md("""
Each cell is the mean over the folds, ± the standard deviation over the folds where there are
several (the paper gives no deviations). Ranks are percentages of the test identities, so with one
fold of $n$ test identities they are multiples of $100/n$.
"""),
        code("""
plot_cmc(rows, title=session.label)
plt.show()
""", tags=["hide-input"], figure={"caption": "CMC curves of our STSRN and CNN-RNN, ranks 1-20, averaged over the "
                                            "folds (a band of ± one standard deviation where there are several); "
                                            "the title says profile, data and device.", "name": "fig-07-cmc"}),
        md("""
## Beside the paper

The paper's column holds its Table 1 values (real data, ten folds). Our columns are this session's
runs and, where their result files exist, the stored runs of the other profiles
(`results/<profile>/table1.csv`, written by this notebook in that profile); a profile that has not
been run has no column.
"""),
        code("""
ours = ours_columns(session.profile.name, session.label, rows, load_results("table1", other_profiles(session.profile.name)))
side_by_side(paper_rows(TABLE_1, RANKS, presets=MODELS), ours, RANKS, paper_label="paper (Table 1, real data)")
"""),
        code("""
for label, stored in ours.items():
    if label != session.label:
        plot_cmc(stored, title=label)
        plt.show()
""", tags=["hide-input"]),
        md("""
**How to read the columns.** Only the `paper` profile, run on the real datasets with the paper's
protocol, gives numbers that can confirm or contradict the paper. The `full` profile has the real
datasets' sizes and protocol on synthetic people, so it tests the pipeline at scale, not the
paper's claims. The `smoke` profile is a tiny synthetic benchmark (a few dozen identities, one
fold, a few epochs): its numbers say nothing about the paper's claims and only prove that the
pipeline runs end to end.

The rest of Table 1 is the paper's report of other methods, which we do not build:
"""),
        code("""
others = [m for m in TABLE_1 if m not in MODELS]
pd.DataFrame([[MISSING if v is None else v for d in DATASETS for v in TABLE_1[m][d]] for m in others],
             index=pd.Index(others, name="paper (Table 1)"),
             columns=pd.MultiIndex.from_product([[DATASET_NAMES[d] for d in DATASETS], [metric_name(r) for r in RANKS]]))
""", tags=["hide-input"]),
        md("""
## The result file

The rows (one per dataset, model and fold: CMC ranks 1-20 and mAP, in percent) go to
`results/<profile>/table1.csv`, with the notebook, command, code version, device and date beside
them in `table1.json`:
"""),
        code("""
path = save_results(session, "table1", rows, notebook="07_table1")
print(path.relative_to(REPO), f"({len(rows)} rows)")
"""),
        md("""
## What we learned

- Table 1 needs $2 \\times 2 \\times$ folds training runs; `experiments.run` makes each one
  resumable and reusable, so {doc}`10_table4` and {doc}`12_table6_fig5` test these very models.
- Our CNN-RNN row differs from the original CNN-RNN in its training recipe (STSRN's), so the gap
  between our two rows is the architecture's alone.
- Whether STSRN beats the CNN-RNN by the paper's margins on the real data can only be read from the
  `paper` profile's column; the synthetic profiles check the machinery.
"""),
    ],
)
