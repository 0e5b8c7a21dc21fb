"""Training callbacks: hooks around every epoch and step of ``cr.train.fit``."""

from .base import Callback
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .lr_scheduler import LearningRateScheduler
from .model_checkpoint import ModelCheckpoint
from .terminate_on_nan import TerminateOnNaN

__all__ = ["CSVLogger", "Callback", "EarlyStopping", "LearningRateScheduler", "ModelCheckpoint",
           "TerminateOnNaN"]
