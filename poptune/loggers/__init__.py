"""Callbacks that mirror a run to experiment trackers (each an optional extra)."""

from poptune.loggers.mlflow import MLflow
from poptune.loggers.tensorboard import TensorBoard
from poptune.loggers.wandb import WandB

__all__ = ["MLflow", "TensorBoard", "WandB"]
