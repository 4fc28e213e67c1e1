"""Training: the fit loop, metrics, diagnostics and checkpoints (torch side)."""

from toolkit.train.config import TrainConfig
from toolkit.train.loop import TrainingDiverged, evaluate, fit

__all__ = ["TrainConfig", "TrainingDiverged", "evaluate", "fit"]
