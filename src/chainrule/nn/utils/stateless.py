"""Calling a module with other parameter and buffer values, as
``torch.nn.utils.stateless.functional_call`` (and ``torch.func.functional_call``)."""

from __future__ import annotations

from typing import Any

from ...tensor import Tensor
from ..modules.module import Module


def _owner(module: Module, path: str, where: str):
    mod_path, _, name = path.rpartition(".")
    try:
        owner = module.get_submodule(mod_path)
    except AttributeError as e:
        raise ValueError(f"{where}: {e}") from None
    return owner, name


def functional_call(module: Module, parameters_and_buffers: dict[str, Tensor] | tuple,
                    args: Any = None, kwargs: dict | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the named parameters and buffers replaced by the given
    tensors for this call only (the module is restored afterwards, even on error). Gradients
    flow to the given tensors.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils.stateless import functional_call
        >>> lin = cr.nn.Linear(2, 1)
        >>> w = {"weight": cr.ones(1, 2), "bias": cr.zeros(1)}
        >>> functional_call(lin, w, (cr.tensor([[1.0, 2.0]]),)).tolist()
        [[3.0]]
    """
    where = "functional_call"
    if isinstance(parameters_and_buffers, (tuple, list)):
        merged: dict = {}
        for d in parameters_and_buffers:
            for k, v in d.items():
                if k in merged:
                    raise ValueError(f"{where}: {k!r} appears in more than one dict")
                merged[k] = v
        parameters_and_buffers = merged
    if strict:
        own = set(dict(module.named_parameters())) | set(dict(module.named_buffers()))
        missing = sorted(own - set(parameters_and_buffers))
        unexpected = sorted(set(parameters_and_buffers) - own)
        if missing or unexpected:
            raise ValueError(f"{where}: strict=True, missing keys {missing}, unexpected keys "
                             f"{unexpected}")
    saved = []
    try:
        for path, value in parameters_and_buffers.items():
            owner, name = _owner(module, path, where)
            saved.append((owner, name, owner.__dict__.get(name, _ABSENT)))
            owner.__dict__[name] = value  # plain slot write: no Parameter type check
        if tie_weights:
            _tie(module, parameters_and_buffers, saved)
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for owner, name, old in reversed(saved):
            if old is _ABSENT:
                owner.__dict__.pop(name, None)
            else:
                owner.__dict__[name] = old


class _Absent:
    pass


_ABSENT = _Absent()


def _tie(module: Module, given: dict, saved: list) -> None:
    """A parameter shared by several names takes the given value under all of them."""
    by_id: dict = {}
    for path, p in module.named_parameters(remove_duplicate=False):
        by_id.setdefault(id(p), []).append(path)
    originals = {(id(o), n): old for o, n, old in saved}
    for paths in by_id.values():
        chosen = [p for p in paths if p in given]
        if not chosen or len(paths) == 1:
            continue
        for path in paths:
            if path in given:
                continue
            owner, name = _owner(module, path, "functional_call")
            if (id(owner), name) not in originals:
                saved.append((owner, name, owner.__dict__.get(name, _ABSENT)))
            owner.__dict__[name] = given[chosen[0]]
