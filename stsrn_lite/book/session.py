"""What every book notebook does first: resolve the profile and device, fix seeds and threads.

Notebooks call ``session = setup(profile, data_root, device, seed, folds=folds, epochs=epochs)``
right after their ``parameters`` cell; ``session.folds`` and ``session.epochs`` are the profile's
unless the parameters override them. On the CPU the thread count is fixed (`CPU_THREADS`), because
torch's CPU results are bit-stable only at a fixed thread count; outputs that nbval compares are
printed at a precision that is stable there. One thread: the numbers are the same on a machine of
any size, and ``make book`` and ``make test`` use the cores by executing notebooks side by side
(two kernels of two threads each on our 2-core machines took 1.8 times as long as one kernel
of two threads alone, and twice the CPU).
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from stsrn_lite.book.profiles import Profile, data_ready, dataset_root, eval_interval, get_profile
from stsrn_lite.training.config import TrainConfig

if TYPE_CHECKING:
    from stsrn_lite.training.data import RunData

CPU_THREADS = 1  # torch's threads in a book session on the CPU
FIGURE_DPI = 150  # a 7-inch figure is about 1,000 px: sharp at the book's ~750 px column, small enough to store
FIGURE_SIZE = (7.0, 3.5)  # inches: the book's column width


@dataclass(frozen=True)
class Session:
    profile: Profile
    device: str
    data_root: str | None
    seed: int
    folds: int  # identity splits averaged over (the profile's unless overridden)
    epochs: int  # training epochs per run (the profile's unless overridden)

    def root(self, dataset: str) -> Path:
        """The dataset's folder for this profile (synthetic data is generated on first use)."""
        return dataset_root(self.profile, dataset, self.data_root)

    def run_data(self, dataset: str, fold: int = 0, *, mars_protocol: str | None = None) -> RunData:
        """Fold ``fold`` of ``dataset`` as this session's runs load it (`stsrn_lite.book.experiments.run`):
        the profile's flow mode (its cache) and the runs' split seed; ``mars_protocol`` is MARS's
        reading (default `TrainConfig.mars_protocol`)."""
        from stsrn_lite.training.data import load_run_data

        return load_run_data(
            dataset,
            self.root(dataset),
            fold=fold,
            folds=max(self.profile.folds, fold + 1),  # as `experiments.train_config` has it
            seed=TrainConfig.split_seed,
            flow=self.profile.flow,
            mars_protocol=mars_protocol or TrainConfig.mars_protocol,
        )

    def ready(self, dataset: str) -> bool:
        """Whether `root` would find ``dataset`` without generating it."""
        return data_ready(self.profile, dataset, self.data_root)

    @property
    def eval_every(self) -> int:
        """Epochs between the tests during a run, for the curves (`eval_interval` of the epochs and
        the profile's ``curve_points``): every chapter and the grid pass it, so runs are shared."""
        return eval_interval(self.epochs, self.profile.curve_points)

    def table_folds(self, table: str) -> int:
        """How many folds ``table`` (a name of the grid's tables) runs on: the session's, or fewer
        where the profile says so (`Profile.table_folds`)."""
        return min(self.folds, self.profile.folds_for(table))

    @property
    def departures(self) -> tuple[str, ...]:
        """How this session departs from its profile's protocol ("1 of 10 folds"); empty when it
        follows it. A session that departs is partial: its results never fill the profile's column."""
        profile, found = self.profile, []
        for what, ours, theirs in (("epochs", self.epochs, profile.epochs), ("folds", self.folds, profile.folds)):
            if ours < theirs:
                found.append(f"{ours} of {theirs} {what}")
            elif ours > theirs:
                found.append(f"{ours} {what}, not {theirs}")
        if profile.synthetic is not None and self.data_root:
            found.append(f"data from {self.data_root}")
        return tuple(found)

    @property
    def complete(self) -> bool:
        """Whether this session runs its profile's protocol as the profile defines it."""
        return not self.departures

    @property
    def command(self) -> str:
        """The ``make book`` command that runs this session's notebooks."""
        settings = {"PROFILE": self.profile.name, "DATA_ROOT": self.data_root}
        if self.device != self.profile.device:
            settings["DEVICE"] = self.device
        if self.epochs != self.profile.epochs:
            settings["EPOCHS"] = self.epochs
        if self.folds != self.profile.folds:
            settings["FOLDS"] = self.folds
        return "make book " + " ".join(f"{key}={value}" for key, value in settings.items() if value is not None)

    @property
    def description(self) -> str:
        """Where our numbers come from: data and device ("synthetic benchmark, smoke size; CPU"), and
        "partial: ..." when the session departs from its profile's protocol."""
        return self.description_for()

    def description_for(self, dataset: str | None = None) -> str:
        """`description`, for numbers of ``dataset`` alone: with its reduced size where the profile
        reduces it (`Profile.data_for`)."""
        where = "CPU" if self.device == "cpu" else torch.cuda.get_device_name(0)
        partial = f"; partial: {', '.join(self.departures)}" if self.departures else ""
        return f"{self.profile.data_for(dataset)}; {where}{partial}"

    @property
    def readings(self) -> str:
        """The readings behind this profile's runs (book: Design decisions, part 2), one line."""
        from stsrn_lite.model.config import ModelConfig

        train = TrainConfig.for_recipe(self.profile.recipe, dataset="ilids-vid")  # what every run here uses
        model = {f.name: f.default for f in dataclasses.fields(ModelConfig)}
        return (
            f"readings: normalisation {train.normalisation}, flow {self.profile.flow}, "
            f"TemRes {model['temres_reading']}, ω {model['omega_form']}, short pairs "
            f"{'skipped' if train.skip_short else 'padded'}, MARS {train.mars_protocol}, "
            f"margin {train.margin:g}, learning rate {train.learning_rate:g} ({train.schedule})"
        )

    @property
    def label(self) -> str:
        """Our numbers' full label: profile, data and device (figure titles, notes under tables)."""
        return self.label_for()

    def label_for(self, dataset: str | None = None) -> str:
        """`label`, for numbers of ``dataset`` alone (`description_for`)."""
        return f"ours ({self.profile.name}: {self.description_for(dataset)})"


def setup(
    profile: str = "smoke",
    data_root: str | None = None,
    device: str | None = None,
    seed: int = 0,
    *,
    folds: int | None = None,
    epochs: int | None = None,
) -> Session:
    """Resolve ``profile``; ``device``, ``folds`` and ``epochs`` None mean the profile's. Refuses a
    GPU profile without a GPU."""
    chosen = get_profile(profile)
    device = device or chosen.device
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"profile {profile!r} runs on a GPU and torch sees none. On Colab: Runtime → "
            "Change runtime type → GPU. Elsewhere run with device='cpu' (slow) or profile='smoke'."
        )
    if device == "cpu":
        torch.set_num_threads(CPU_THREADS)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        import matplotlib

        matplotlib.rcParams.update({"figure.dpi": FIGURE_DPI, "savefig.dpi": FIGURE_DPI, "figure.figsize": FIGURE_SIZE})
    except ImportError:  # matplotlib is optional for the library
        pass
    return Session(
        profile=chosen,
        device=device,
        data_root=data_root,
        seed=seed,
        folds=folds or chosen.folds,
        epochs=epochs or chosen.epochs,
    )
