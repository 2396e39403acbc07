"""Typed configuration of a training run (paper §3.5, §4.2; the CNN-RNN schedule: train.lua, videoReid.lua;
book: The original code, "Training")."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from stsrn_lite.data.mars_astpn import MARS_PROTOCOLS
from stsrn_lite.data.read import DATASETS
from stsrn_lite.model.presets import PRESETS
from stsrn_lite.model.stsm import OMEGA_FORMS
from stsrn_lite.model.temporal import TEMRES_READINGS
from stsrn_lite.preprocess.flow import DEFAULT_FLOW, FLOW_MODES
from stsrn_lite.preprocess.transforms import NORMALISATION, NORMALISATIONS
from stsrn_lite.training.precision import PRECISIONS

MODES = ("faithful", "batched")
OPTIMISERS = ("sgd", "adam")
SCHEDULES = ("constant", "cosine")  # the learning rate over the run, after the warm-up (`learning_rate_at`)
DAMPENING = ("torch7", "pytorch")
POSITIVE_COSTS = ("squared", "distance")


@dataclass(frozen=True)
class TrainConfig:
    dataset: str  # "ilids-vid", "prid2011" or "mars"
    preset: str = "STSRN"  # a name of stsrn_lite.model.PRESETS
    fold: int = 0  # which of the identity splits (ten-fold protocol, §4.2)
    folds: int = 10  # how many seeded splits exist when the dataset has no split file
    seed: int = 1  # every random draw of training derives from it (the CNN-RNN's default seed is 1)
    split_seed: int = 1  # draws the seeded identity splits of the folds (before it existed, seed did; both are 1)
    epochs: int = 1000  # the CNN-RNN authors needed 1000 (book: The original code, "Training")
    mode: str = "faithful"  # "faithful": one pair per SGD step, as the original; "batched": many
    pairs_per_step: int = 1  # pairs per step; 1 in faithful mode
    sequence_length: int = 16  # frames of each training subsequence (videoReid.lua -sampleSeqLength)
    flow: str = DEFAULT_FLOW  # the cache's flow: "resized" (ours), "original" (computeOpticalFlow.m); FLOW_MODES
    # drop pairs with a sequence shorter than sequence_length, as both original codes do
    # (train.lua:111-113, ASTPN train.lua:113); False pads them (chapter 06)
    skip_short: bool = True
    normalisation: str = NORMALISATION  # per-plane divisor: "mclaughlin" sqrt(std), "standard" std
    # Eq. (5)-(6) reading of the TemRes presets; None: ModelConfig's ("shortcut")
    temres_reading: str | None = None
    omega_form: str | None = None  # how the STSM stores ω; None: ModelConfig's ("direct")
    # kernel of the residual blocks' convolutions (Fig. 2 caption; book: Design decisions, part 1);
    # None: ModelConfig's (5)
    res_kernel: int | None = None
    res_padding: int | None = None  # padding of those convolutions; None: ModelConfig's (4)
    optimiser: str = "sgd"  # "sgd" (the paper's), "adam" (betas 0.9, 0.999; momentum and dampening unused)
    learning_rate: float = 2e-3  # the paper, §4.2 (the CNN-RNN used 1e-3); the peak of a schedule
    schedule: str = "constant"  # "constant" (the paper's) or "cosine": from the peak to 0 at the last step
    warmup_epochs: float = 0.0  # a linear warm-up from 0 to the peak over this many epochs, step by step
    momentum: float = 0.9  # SGD momentum, as the CNN-RNN code
    dampening: str = "torch7"  # "torch7": velocity v = 0.9 v + 0.1 g, as optim.sgd; "pytorch": v = 0.9 v + g
    # arithmetic of a step (stsrn_lite.training.precision): "float32"; "tf32" (CUDA only, no
    # effect on the CPU); "bf16" autocast. How, not what: not part of the run's identity
    precision: str = "tf32"
    grad_clip: float = 5.0  # element-wise clamp of every gradient (videoReid.lua -gradClip, train.lua)
    margin: float = 2.0  # m of Eq. (8): the CNN-RNN's HingeEmbeddingCriterion(2) (buildModel.lua:146); ASTPN 3
    positive_cost: str = "squared"  # Eq. (8): ||·||² for positive pairs; "distance": ||·|| as the original's hinge
    eval_every: int = 100  # epochs between evaluations (the original: 100); the last epoch is always evaluated
    eval_length: int = 128  # test sampling length L of those evaluations (§4.2)
    # 16-pass test-time augmentation in the evaluations during training, as both original
    # codes (train.lua:172, test.lua:35-63; ASTPN train.lua:174)
    eval_tta: bool = True
    checkpoint_every: int = 10  # epochs between checkpoints; one is also written on exit
    # minutes of training after which a checkpoint is written between those, at the next step
    # (within an epoch too: resumption stays exact), so that a lost session costs minutes, not epochs
    checkpoint_minutes: float = 10.0
    prid_split_file: str | None = None  # torchreid's 178-person splits_prid2011.json instead of persons 1-200
    # MARS: "astpn", two random cameras per identity and seeded 50/50 folds of all of them, drawn
    # with split_seed (§4.2 after [8]; ASTPN README.md:26, reIdTrain.lua:146); "official": MARS's
    # own split (bbox_train) and query_IDX test (book: Design decisions, "MARS")
    mars_protocol: str = "astpn"

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {tuple(PRESETS)}, got {self.preset!r}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.mode == "faithful" and self.pairs_per_step != 1:
            raise ValueError("faithful mode takes one pair per step; use mode='batched' for more")
        if self.dampening not in DAMPENING:
            raise ValueError(f"dampening must be one of {DAMPENING}, got {self.dampening!r}")
        if self.flow not in FLOW_MODES:
            raise ValueError(f"flow must be one of {tuple(FLOW_MODES)}, got {self.flow!r}")
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {self.normalisation!r}")
        if self.temres_reading is not None and self.temres_reading not in TEMRES_READINGS:
            raise ValueError(f"temres_reading must be one of {TEMRES_READINGS}, got {self.temres_reading!r}")
        if self.omega_form is not None and self.omega_form not in OMEGA_FORMS:
            raise ValueError(f"omega_form must be one of {OMEGA_FORMS}, got {self.omega_form!r}")
        if self.res_kernel is not None and self.res_kernel < 1:
            raise ValueError(f"res_kernel must be None or >= 1, got {self.res_kernel}")
        if self.res_padding is not None and self.res_padding < 0:
            raise ValueError(f"res_padding must be None or >= 0, got {self.res_padding}")
        if self.mars_protocol not in MARS_PROTOCOLS:
            raise ValueError(f"mars_protocol must be one of {MARS_PROTOCOLS}, got {self.mars_protocol!r}")
        if self.optimiser not in OPTIMISERS:
            raise ValueError(f"optimiser must be one of {OPTIMISERS}, got {self.optimiser!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if not 0 <= self.warmup_epochs <= self.epochs:  # the fast recipes warm up for 2 epochs
            raise ValueError(
                f"warmup_epochs must lie in [0, epochs = {self.epochs}], got {self.warmup_epochs:g} "
                "(a recipe's warm-up: train more epochs or pass warmup_epochs)"
            )
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.positive_cost not in POSITIVE_COSTS:
            raise ValueError(f"positive_cost must be one of {POSITIVE_COSTS}, got {self.positive_cost!r}")
        for name in (
            "epochs",
            "pairs_per_step",
            "sequence_length",
            "eval_every",
            "checkpoint_every",
            "eval_length",
            "folds",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("learning_rate", "grad_clip", "margin"):  # grad_clip is a clamp's bound
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must lie in [0, 1), got {self.momentum}")
        for name in ("seed", "split_seed"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.checkpoint_minutes > 0:
            raise ValueError(f"checkpoint_minutes must be > 0, got {self.checkpoint_minutes}")
        if not 0 <= self.fold < self.folds:
            raise ValueError(f"fold must lie in [0, {self.folds}), got {self.fold}")

    def to_dict(self) -> dict:
        return asdict(self)

    def identity(self) -> dict:
        """The fields a resumed run must share with its checkpoint (MARS: also its reading):
        everything that shapes training but the number of epochs and the evaluations."""
        identity = {
            k: getattr(self, k)
            for k in (
                "dataset",
                "preset",
                "fold",
                "folds",
                "seed",
                "split_seed",
                "mode",
                "pairs_per_step",
                "prid_split_file",
                "skip_short",
                "normalisation",
                "flow",
                "sequence_length",
                "optimiser",
                "learning_rate",
                "schedule",
                "warmup_epochs",
                "momentum",
                "dampening",
                "grad_clip",
                "margin",
                "positive_cost",
            )
        }
        if self.dataset == "mars":  # the other datasets ignore mars_protocol
            identity["mars_protocol"] = self.mars_protocol
        if self.schedule != "constant" or self.warmup_epochs:  # the learning rate of a step depends on the epochs
            identity["epochs"] = self.epochs
        return identity

    @classmethod
    def for_recipe(cls, recipe: str, **fields) -> TrainConfig:
        """The configuration of ``recipe`` (a name of `RECIPES`), then ``fields``."""
        if recipe not in RECIPES:
            raise ValueError(f"unknown recipe {recipe!r}; expected one of {tuple(RECIPES)}")
        return cls(**{**RECIPES[recipe], **fields})

    @property
    def recipe(self) -> str:
        """The name of the recipe whose settings this run has (its number of epochs aside: that is
        the profile's), else "custom"."""
        defaults = {f.name: f.default for f in fields(self)}
        for name, settings in RECIPES.items():
            if all(getattr(self, key) == settings.get(key, defaults[key]) for key in RECIPE_FIELDS):
                return name
        return "custom"

    def learning_rate_at(self, epoch: int, step: int, steps_in_epoch: int) -> float:
        """The learning rate of step ``step`` (0-based) of epoch ``epoch``: a linear warm-up over
        `warmup_epochs`, then `schedule` (a pure function of the position, so resuming is exact)."""
        position = epoch + step / max(steps_in_epoch, 1)  # epochs done before this step
        if self.warmup_epochs and position < self.warmup_epochs:
            return self.learning_rate * (position + 1 / max(steps_in_epoch, 1)) / self.warmup_epochs
        if self.schedule == "cosine":
            span = max(self.epochs - self.warmup_epochs, 1e-9)
            return self.learning_rate * 0.5 * (1 + math.cos(math.pi * (position - self.warmup_epochs) / span))
        return self.learning_rate

    def model_overrides(self) -> dict:
        """The ModelConfig fields this run sets instead of the preset's."""
        fields = ("temres_reading", "omega_form", "res_kernel", "res_padding")
        return {k: getattr(self, k) for k in fields if getattr(self, k) is not None}


# The named recipes: the settings each sets (RECIPE_FIELDS, and its length in epochs), the rest
# being TrainConfig's defaults. "faithful" is the paper's (one pair per SGD step at a constant
# 2e-3, 1000 epochs); "fast" keeps one pair per step but trains with Adam at 1e-3, a 2-epoch
# warm-up and a cosine decay for a tenth of the epochs: it reached the faithful recipe's rank-1
# for STSRN and the CNN-RNN on two folds of a synthetic iLIDS-VID (chapter 06, "A fast recipe";
# stsrn_lite.book.recipe_validation), where batching pairs failed the CNN-RNN. "fast-stable" is
# "fast" at half its peak learning rate: what a run that diverged with "fast" is trained again
# with (stsrn_lite.book.divergence), after the bench's iLIDS-VID STSRN of fold 2 blew up soon
# after its warm-up with two seeds out of two (chapter 06, "Half the peak rate"; the bench trained
# it throughout for a while, which left the CNN-RNN undertrained in 100 epochs).
RECIPE_FIELDS = ("mode", "pairs_per_step", "optimiser", "learning_rate", "schedule", "warmup_epochs")
RECIPES: dict[str, dict] = {
    "faithful": {},
    "fast": {"optimiser": "adam", "learning_rate": 1e-3, "schedule": "cosine", "warmup_epochs": 2.0, "epochs": 100},
}
RECIPES["fast-stable"] = {**RECIPES["fast"], "learning_rate": RECIPES["fast"]["learning_rate"] / 2}
