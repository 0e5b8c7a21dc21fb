"""Training: the explicit loop's conveniences, ``fit``/``evaluate``/``predict``, callbacks.

The primary way to train is the explicit PyTorch loop (see docs/training.md); ``fit`` runs
exactly that loop and adds progress, history, metrics and callbacks.

Example:
    >>> import chainrule as cr
    >>> X = cr.randn(32, 2); y = (X[:, 0] > 0).long()
    >>> h = cr.train.fit(cr.nn.Linear(2, 2), (X, y), loss="cross_entropy", optimizer="sgd",
    ...                  lr=0.5, epochs=2, verbose=0)
    >>> sorted(h.history)
    ['accuracy', 'loss', 'lr', 'time']
"""

from . import callbacks, metrics
from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    TerminateOnNaN,
)
from .checkpoint import load_checkpoint, resume, save_checkpoint
from .evaluate import evaluate, predict
from .history import History
from .progress import EpochLine, ProgressBar
from .trainer import Trainer, fit

__all__ = [
    "CSVLogger", "Callback", "EarlyStopping", "EpochLine", "History", "LearningRateScheduler",
    "ModelCheckpoint", "ProgressBar", "TerminateOnNaN", "Trainer", "callbacks", "evaluate",
    "fit", "load_checkpoint", "metrics", "predict", "resume", "save_checkpoint",
]
