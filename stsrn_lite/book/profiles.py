"""Book profiles: which data, device and protocol size a notebook runs with.

- ``smoke`` (the default): the synthetic benchmark at a small size, CPU, one fold, a few epochs;
  every notebook runs in a couple of minutes on two cores; two tests during each run (after
  epochs 2 and 4), since on a CPU a smoke test costs about as much as an epoch of training.
- ``full``: the synthetic benchmark at the real datasets' sizes, the paper's protocol (ten folds,
  the CNN-RNN's 1000 epochs, 16-pass test augmentation), for a GPU.
- ``bench``: the synthetic benchmark at the real datasets' sizes (the ``full`` data), the paper's
  splits and test, three folds and the fast recipe (chapter 06), for a CPU: its results are
  computed by the run grid in the background and committed (``results/bench/``); ten tests
  during each run instead of fifty, to keep the curves' cost small beside the training; MARS
  reduced to 300 identities (`MARS_BENCH`), which its labels say (`Profile.data_for`).
- ``paper``: the real datasets under ``data_root``, the paper's protocol, for a GPU, with the flow
  computed as the original code did (flow mode ``"original"``); the synthetic profiles keep our
  flow on the 64×48 frames (``"resized"``), with which their stored results were made (book:
  Design decisions, "Optical flow: where and how LK runs").

Synthetic data is generated on first use (`stsrn_lite.synthetic.generator.ensure`); real data must be
where ``data_root`` says (``data_root/ilids-vid``, ``data_root/prid2011``, ``data_root/mars``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from stsrn_lite.data.read import DATASETS
from stsrn_lite.home import home
from stsrn_lite.preprocess.flow import DEFAULT_FLOW
from stsrn_lite.synthetic.generator import SIZES, SyntheticConfig, ensure, generated
from stsrn_lite.training.config import RECIPES

# the bench's synthetic MARS: iLIDS-VID's 300 identities, so that the paper's (ASTPN) reading of
# it trains and tests on about as many people as iLIDS-VID; the real size, 1,259, does not fit a CPU
MARS_BENCH = 300
DATASET_NAMES = {"ilids-vid": "iLIDS-VID", "prid2011": "PRID2011", "mars": "MARS"}
CURVE_POINTS = 50  # test evaluations recorded over a long run (Fig. 5-style curves)


def eval_interval(epochs: int, points: int = CURVE_POINTS) -> int:
    """Epochs between the test evaluations recorded during training: every epoch for runs of up
    to ``points`` epochs, else about ``points`` of them (1000 epochs → every 20th).

    Every notebook and the run grid pass `Session.eval_every` (this, with the profile's
    ``curve_points``) to `run`, so a run that one chapter trains and another reuses has the same
    records whichever chapter ran first.
    """
    if epochs < 1 or points < 1:
        raise ValueError(f"epochs and points must be >= 1, got {epochs} and {points}")
    return max(1, epochs // points)


@dataclass(frozen=True)
class Profile:
    name: str
    data: str  # what the data is, as tables label it
    device: str  # "cpu" or "cuda"
    folds: int  # identity splits averaged over
    epochs: int  # training epochs per run
    eval_tta: bool  # 16-pass test-time augmentation
    synthetic: str | None  # size of the synthetic benchmark (a key of synthetic.generator.SIZES), None = real data
    flow: str = DEFAULT_FLOW  # the runs' flow mode (TrainConfig.flow; book: Design decisions, "Optical flow")
    recipe: str = "faithful"  # the runs' training recipe (a name of TrainConfig's RECIPES; chapter 06)
    curve_points: int = CURVE_POINTS  # tests during a run (one centre crop each), for the curves
    # tables run on fewer folds than ``folds``, as (table, folds) pairs: the bench spends its CPU
    # where it answers the most (`Session.table_folds`)
    table_folds: tuple[tuple[str, int], ...] = ()
    ablation_datasets: tuple[str, ...] = ("ilids-vid", "prid2011")  # those of Tables 5 and 6 (and Fig. 5)
    # finished runs are filed in results/<profile>/runs/ and read back when their folder is gone
    # (`stsrn_lite.book.ledger`): the long profiles, whose runs are computed elsewhere and committed;
    # the smoke profile trains its runs wherever it runs, as the proof that the code does
    ledger: bool = True
    # synthetic datasets generated with fewer identities than the size gives them, as (dataset,
    # identities) pairs: the bench's MARS, whose real size does not fit a CPU (`data_for` says so)
    reduced: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if self.recipe not in RECIPES:
            raise ValueError(f"profile {self.name!r}: unknown recipe {self.recipe!r}; expected one of {tuple(RECIPES)}")
        for dataset, identities in self.reduced:
            sizes = SIZES.get(self.synthetic, {})
            if dataset not in sizes or not 2 <= identities < sizes[dataset]["identities"]:
                raise ValueError(
                    f"profile {self.name!r}: {dataset} reduced to {identities} identities; expected a synthetic "
                    f"size and fewer identities than its {dataset}'s"
                )

    def identities(self, dataset: str) -> int | None:
        """How many identities the profile's synthetic ``dataset`` has (None: real data)."""
        if self.synthetic is None:
            return None
        return dict(self.reduced).get(dataset, SIZES[self.synthetic][dataset]["identities"])

    def folds_for(self, table: str) -> int:
        """How many folds ``table`` (a name of the grid's tables) runs on: ``folds``, or fewer where
        ``table_folds`` says so."""
        return min(self.folds, dict(self.table_folds).get(table, self.folds))

    def data_for(self, dataset: str | None = None) -> str:
        """What the data of ``dataset`` is, as tables label it: `data`, and the reduced size where
        the profile reduces it ("…; MARS at 300 of 1,259 identities")."""
        if dataset not in dict(self.reduced):
            return self.data
        full = SIZES[self.synthetic][dataset]["identities"]
        return f"{self.data}; {DATASET_NAMES[dataset]} at {self.identities(dataset):,} of {full:,} identities"


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        "smoke",
        "synthetic benchmark, smoke size",
        "cpu",
        folds=1,
        epochs=4,
        eval_tta=False,
        synthetic="smoke",
        curve_points=2,
        ablation_datasets=("ilids-vid",),
        ledger=False,
    ),
    "bench": Profile(
        "bench",
        "synthetic benchmark, real datasets' sizes",
        "cpu",
        folds=3,
        epochs=RECIPES["fast"]["epochs"],
        eval_tta=True,
        synthetic="full",
        recipe="fast",  # a run that diverges is trained again with "fast-stable" (book.divergence)
        curve_points=10,
        table_folds=(("readings", 1),),
        ablation_datasets=("ilids-vid",),
        reduced=(("mars", MARS_BENCH),),
    ),
    "full": Profile(
        "full",
        "synthetic benchmark, real datasets' sizes",
        "cuda",
        folds=10,
        epochs=1000,
        eval_tta=True,
        synthetic="full",
    ),
    "paper": Profile(
        "paper", "the real datasets", "cuda", folds=10, epochs=1000, eval_tta=True, synthetic=None, flow="original"
    ),
}
PROFILE_NAMES = tuple(PROFILES)  # the one list of profile names, in the order tables show them


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; expected one of {sorted(PROFILES)}")
    return PROFILES[name]


def dataset_root(
    profile: Profile, dataset: str, data_root: str | Path | None = None, *, progress: bool = False
) -> Path:
    """The folder holding ``dataset`` for ``profile``; synthetic data is generated if absent.

    Synthetic data goes to ``data_root`` (default: the home's ``data/synthetic`` for smoke,
    ``data/synthetic-full`` for full and bench; see `stsrn_lite.home`) + ``/<dataset>``. The paper
    profile needs ``data_root``.
    """
    if profile.synthetic is None:
        if data_root is None:
            raise ValueError("the paper profile needs data_root: the folder with ilids-vid/, prid2011/, mars/")
        root = Path(data_root) / dataset
        if not root.is_dir():
            raise FileNotFoundError(
                f"{root}: no {dataset} here; download it (data_scripts/download.py) or point data_root elsewhere"
            )
        return root
    config, root = _synthetic(profile, dataset, data_root)
    ensure(config, root, workers=2, progress=progress)
    return root


def _synthetic(profile: Profile, dataset: str, data_root: str | Path | None) -> tuple[SyntheticConfig, Path]:
    """The configuration of ``profile``'s synthetic ``dataset`` and the folder it goes to."""
    sizes = {**SIZES[profile.synthetic][dataset], "identities": profile.identities(dataset)}
    reduced = f"-{sizes['identities']}" if dataset in dict(profile.reduced) else ""  # apart from the full one
    root = Path(data_root or home().synthetic(profile.synthetic)) / f"{dataset}{reduced}"
    return SyntheticConfig(layout=dataset, seed=0, **sizes), root


def data_ready(profile: Profile, dataset: str, data_root: str | Path | None = None) -> bool:
    """Whether `dataset_root` would find ``dataset`` without generating it (real data: its folder)."""
    if profile.synthetic is None:
        return data_root is not None and (Path(data_root) / dataset).is_dir()
    return generated(*_synthetic(profile, dataset, data_root))


def main(argv: list[str] | None = None) -> int:
    """``python -m stsrn_lite.book.profiles --generate PROFILE``: generate the profile's synthetic
    datasets where its runs read them (`dataset_root`) and print their folders (``make synthetic``)."""
    parser = argparse.ArgumentParser(description="Generate a profile's synthetic datasets where its runs read them.")
    parser.add_argument("--generate", metavar="PROFILE", choices=PROFILE_NAMES, required=True)
    args = parser.parse_args(argv)
    profile = get_profile(args.generate)
    if profile.synthetic is None:
        print(f"error: the {profile.name} profile reads the real datasets; it has nothing to generate", file=sys.stderr)
        return 2
    for dataset in DATASETS:
        print(f"{dataset}: {dataset_root(profile, dataset, progress=True)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
