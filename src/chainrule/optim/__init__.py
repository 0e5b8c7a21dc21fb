"""Optimizers and learning-rate schedulers, with PyTorch's names and semantics.

Example:
    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = cr.optim.Adam([w], lr=0.1)
    >>> sched = cr.optim.lr_scheduler.StepLR(opt, step_size=10)
    >>> for _ in range(3):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step(); sched.step()
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
