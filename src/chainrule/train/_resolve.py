"""Names for losses and optimizers, so ``fit(model, data, loss="mse", optimizer="adam")`` works."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# name -> class name in chainrule.nn; aliases cover the Keras spellings.
_LOSSES = {
    "mse": "MSELoss", "mean_squared_error": "MSELoss",
    "l1": "L1Loss", "mae": "L1Loss", "mean_absolute_error": "L1Loss",
    "cross_entropy": "CrossEntropyLoss", "crossentropy": "CrossEntropyLoss",
    "categorical_crossentropy": "CrossEntropyLoss",
    "sparse_categorical_crossentropy": "CrossEntropyLoss",
    "nll": "NLLLoss",
    "bce": "BCELoss", "binary_crossentropy": "BCELoss",
    "bce_with_logits": "BCEWithLogitsLoss",
    "huber": "HuberLoss", "smooth_l1": "SmoothL1Loss",
}

# LBFGS is left out: its step() needs a closure, which fit's loop does not pass.
_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
               "adagrad": "Adagrad", "adadelta": "Adadelta", "adamax": "Adamax",
               "nadam": "NAdam", "radam": "RAdam", "asgd": "ASGD"}


def resolve_loss(loss: str | Callable | None) -> Callable:
    """A loss module/callable from a name (``"mse"``, ``"cross_entropy"``, ``"bce"``...).

    Example:
        >>> type(resolve_loss("mse")).__name__
        'MSELoss'
    """
    if loss is None:
        raise ValueError("fit: pass loss=, a loss module/callable or a name such as "
                         "'cross_entropy' or 'mse'")
    if isinstance(loss, str):
        from .. import nn

        cls = getattr(nn, _LOSSES.get(loss.lower(), ""), None)
        if cls is None:
            known = sorted(k for k, v in _LOSSES.items() if hasattr(nn, v))
            raise ValueError(f"unknown loss {loss!r}; known names: {known}")
        return cls()
    if isinstance(loss, type):
        return loss()
    if not callable(loss):
        raise TypeError(f"loss must be a callable or a name, got {type(loss).__name__}")
    return loss


def loss_takes_logits(loss_fn: Any) -> bool:
    """Whether binary accuracy should threshold outputs at 0 rather than 0.5."""
    return type(loss_fn).__name__ in ("BCEWithLogitsLoss",)


def resolve_optimizer(optimizer: Any, model: Any, lr: float | None) -> Any:
    """An optimizer over ``model.parameters()`` from a name (``"adam"``, ``"sgd"``...).

    Example:
        >>> import chainrule as cr
        >>> opt = resolve_optimizer("sgd", cr.nn.Linear(2, 1), lr=0.1)
        >>> opt.param_groups[0]["lr"]
        0.1
    """
    if optimizer is None:
        raise ValueError("fit: pass optimizer=, an Optimizer or a name such as 'adam' or 'sgd'")
    if isinstance(optimizer, str):
        from .. import optim

        if optimizer.lower() == "lbfgs":
            raise ValueError("fit: LBFGS's step() needs a closure that recomputes the loss, "
                             "which fit's loop does not pass; write the loop yourself and call "
                             "opt.step(closure) (see docs/training.md)")
        cls = getattr(optim, _OPTIMIZERS.get(optimizer.lower(), ""), None)
        if cls is None:
            raise ValueError(f"unknown optimizer {optimizer!r}; known names: "
                             f"{sorted(_OPTIMIZERS)}")
        if cls.__name__ == "SGD" and lr is None:
            lr = 0.01  # the Keras default; torch.optim.SGD has none
        return cls(model.parameters(), **({} if lr is None else {"lr": lr}))
    if lr is not None:
        raise ValueError("fit: lr= only applies when optimizer is a name; set the learning "
                         "rate on the Optimizer you pass")
    if not hasattr(optimizer, "step") or not hasattr(optimizer, "zero_grad"):
        raise TypeError(f"optimizer must be an Optimizer or a name, got "
                        f"{type(optimizer).__name__}")
    return optimizer
