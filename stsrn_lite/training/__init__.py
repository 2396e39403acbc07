"""Training (paper §3.5, §4.2): the typed run configuration and its recipes, the data of a fold,
the pair schedule, the objective of Eq. (8) with identification, and the resumable loop.

    from stsrn_lite.training import TrainConfig, load_run_data, train

    config = TrainConfig.for_recipe("fast", dataset="ilids-vid", preset="STSRN", epochs=100)
    data = load_run_data("ilids-vid", root, fold=0, folds=10, seed=config.split_seed, flow=config.flow)
    result = train(config, data, "runs/stsrn-0", resume=True)
"""

from stsrn_lite.training.config import RECIPES, TrainConfig
from stsrn_lite.training.data import RunData, load_run_data
from stsrn_lite.training.loop import TrainingDiverged, TrainingInterrupted, TrainResult, train
from stsrn_lite.training.pairs import PairSchedule

__all__ = [
    "RECIPES",
    "TrainConfig",
    "RunData",
    "load_run_data",
    "TrainingDiverged",
    "TrainingInterrupted",
    "TrainResult",
    "train",
    "PairSchedule",
]
