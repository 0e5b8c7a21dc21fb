"""``cr.compile`` and ``cr.compiler``: PyTorch's compiler entry points, which run eagerly here.

chainrule has no graph compiler: ``cr.compile(model)`` returns ``model`` itself, unchanged, so
``model = torch.compile(model)`` (nanoGPT's line) runs on and gives the same results, only
without a compiler's speed-up. The first call says so once with a ``UserWarning``. Unlike
PyTorch's wrapper the result is the model itself: its ``state_dict()`` keys carry no
``_orig_mod.`` prefix.

Example:
    >>> import chainrule as cr
    >>> import warnings
    >>> net = cr.nn.Linear(2, 2)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     cr.compile(net) is net
    True
"""

from __future__ import annotations

import warnings
from typing import Any

_told = False


def compile(model: Any = None, *, fullgraph: bool = False, dynamic: bool | None = None,  # noqa: A001
            backend: Any = "inductor", mode: str | None = None, options: dict | None = None,
            disable: bool = False) -> Any:
    """``model`` (a module or function) itself: chainrule runs it eagerly, with no compiler.

    Without ``model`` returns a decorator, as PyTorch does. Warns once per process that nothing
    is compiled (not when ``disable=True``).

    Example:
        >>> import chainrule as cr
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     f = cr.compile(lambda x: x * 2)
        >>> f(cr.tensor([1.0])).tolist()
        [2.0]
    """
    if mode is not None and options is not None:
        raise RuntimeError("compile(): either mode or options can be given, not both")
    if model is None:
        def decorate(fn: Any) -> Any:
            return compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                           mode=mode, options=options, disable=disable)
        return decorate
    if not callable(model):
        raise TypeError(f"compile(): expected a module or a function, got "
                        f"{type(model).__name__}")
    global _told
    if not disable and not _told:
        _told = True
        warnings.warn("compile(): chainrule has no compiler; the model is returned unchanged "
                      "and runs eagerly (same results, no compiled speed-up)", UserWarning,
                      stacklevel=2)
    return model


def is_compiling() -> bool:
    """False: nothing is ever being compiled."""
    return False


def is_dynamo_compiling() -> bool:
    """False: there is no Dynamo."""
    return False


def disable(fn: Any = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """``fn`` itself (as a decorator too): there is no compiler to keep it away from."""
    if fn is None:
        return lambda f: f
    return fn


def reset() -> None:
    """No-op: there are no compiled caches."""
