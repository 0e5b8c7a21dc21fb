"""``Optimizer``: parameter groups, state, the one update loop, ``zero_grad`` and state dicts.

``step`` is written once, here: for each group it reads the hyper-parameters, then hands every
parameter that has a gradient to the subclass's ``_update``, which changes the parameter's array
(``._data``) in place with NumPy: no graph is recorded and no Tensor is created. ``_update`` is
the optimizer's one formula. Asked to (a ``terms`` dict), it also records its named intermediate
values, which is how ``update_terms`` and ``cr.explain_step`` show an update without a second
copy of the formula. Two things keep the per-parameter cost low: scratch arrays shared by
parameters of one shape stand in for temporaries, and one-element parameters (a 1-1-1 network's
weights) go to ``_update_one``, the same formula on Python floats, several times cheaper than a
dozen NumPy calls on one number (an optimizer without one falls back to ``_update``).

A subclass may instead write ``step()`` the PyTorch way, looping over ``param_groups`` itself
(LBFGS does, and so can user code); ``__init_subclass__`` makes every ``step`` count its calls,
which is how a scheduler tells whether the optimizer has stepped yet.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor
from .terms import UpdateTerms, copy_state

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


class Optimizer:
    """Base class of all optimizers.

    ``param_groups`` is a list of dicts, each with ``'params'`` (a list of Tensors) and the
    hyper-parameters for them (``defaults`` fill in whatever a group leaves out). ``state``
    maps each parameter to a dict of its buffers (created on its first step).

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = cr.optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step(); opt.zero_grad()
        >>> w
        tensor([0.8, 1.6], requires_grad=True)
    """

    #: The named terms ``_update`` records, name: meaning (each optimizer lists its own).
    terms: ClassVar[dict[str, str]] = {}
    #: 0-d state kept in its own dtype rather than the parameter's (NAdam's ``mu_product``).
    _scalar_state: ClassVar[tuple[str, ...]] = ()
    #: How many times ``step()`` was called; a scheduler warns when it is stepped while this is
    #: still 0. Every ``step`` method counts, a subclass's own included (``__init_subclass__``).
    _steps_taken = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A step() written the PyTorch way, without this class's loop, must count too, or
        # every scheduler would warn that it was stepped before the optimizer.
        step = cls.__dict__.get("step")
        if step is not None and callable(step):
            cls.step = _counting(step)

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._checked(self.defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._scratch: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        if isinstance(params, (Tensor, dict)) or not isinstance(params, Iterable):
            raise TypeError(
                "params must be an iterable of Tensors or of param-group dicts (e.g. "
                f"model.parameters()), got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ---- hyper-parameters ---------------------------------------------------------------------
    def _validate(self, group: dict[str, Any]) -> None:
        """Raise ValueError for out-of-range hyper-parameters (subclasses extend it; the
        message names the argument, ``_checked`` adds the optimizer's name)."""
        lr = group.get("lr", 0.0)
        if not isinstance(lr, (int, float, np.number)) or isinstance(lr, bool):
            raise TypeError(f"lr must be a number, got {type(lr).__name__}")
        if not lr >= 0.0:
            raise ValueError(f"invalid lr (learning rate): {lr} (must be >= 0)")
        _check_nonneg(group, "weight_decay")

    def _checked(self, group: dict[str, Any]) -> None:
        """``_validate``, its message prefixed with the optimizer's name."""
        try:
            self._validate(group)
        except (ValueError, TypeError) as e:
            raise type(e)(f"{type(self).__name__}: {e}") from None

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, e.g. a layer to unfreeze, with its own hyper-parameters.

        Example:
            >>> import chainrule as cr
            >>> a, b = cr.zeros(2, requires_grad=True), cr.zeros(3, requires_grad=True)
            >>> opt = cr.optim.SGD([a], lr=0.1)
            >>> opt.add_param_group({"params": [b], "lr": 0.01})
            >>> [g["lr"] for g in opt.param_groups]
            [0.1, 0.01]
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a param group must be a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        if params is None:
            raise ValueError("a param group needs a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("params must be an ordered collection (a set's order varies)")
        params = list(params)
        names = None
        if params and isinstance(params[0], tuple):  # named_parameters()
            names = [n for n, _ in params]
            params = [p for _, p in params]
        seen = set()
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizers can only optimize Tensors, one of the params is a "
                    f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (optimize the leaf it came "
                                 "from, or .detach().requires_grad_() it)")
            if not p.requires_grad:
                raise ValueError("a parameter does not require grad: it would never get a "
                                 "gradient. Call .requires_grad_() on it or leave it out")
            if id(p) in seen:
                raise ValueError("a parameter appears twice in the same param group")
            seen.add(id(p))
        if not params:
            raise ValueError("a param group needs at least one parameter")
        for group in self.param_groups:
            if any(id(p) in seen for p in group["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        group = {k: (v if k != "params" else params) for k, v in param_group.items()}
        if names is not None:
            group["param_names"] = names
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._checked(group)
        self.param_groups.append(group)

    # ---- gradients ----------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient before the next backward.

        ``set_to_none=True`` (the default) drops the gradients (``p.grad is None``); False fills
        the existing gradient arrays with zeros in place.

        Example:
            >>> import chainrule as cr
            >>> w = cr.tensor(1.0, requires_grad=True)
            >>> opt = cr.optim.SGD([w], lr=0.1)
            >>> (w * 3).backward(); opt.zero_grad(); w.grad is None
            True
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    # A create_graph gradient is cut from its graph before being overwritten.
                    g._node = None
                    g.requires_grad = False
                    g._data[...] = 0
                    g._version += 1

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()``'s loss if given.

        The closure, when given, is called first (with gradient recording on) and should
        recompute the loss and its gradients.
        """
        loss = self._begin_step(closure)
        state_of = self.state
        update, update_one = self._update, self._update_one
        for group in self.param_groups:
            h = self._hyper(group)
            keep_state = self._keeps_state(group)
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                p._version += 1  # graphs that saved the old value must refuse to backward
                w = p._data
                state = state_of[p] if keep_state else None
                if w.size == 1:
                    update_one(h, w, grad._data, state)
                else:
                    update(h, w, grad._data, state)
        return loss

    # ---- the per-parameter update (subclasses) ------------------------------------------------
    def _hyper(self, group: dict[str, Any]) -> tuple:
        """The group's hyper-parameters as the tuple ``_update`` unpacks, read once per step.

        The built-in optimizers end it with an empty dict in which ``_update`` keeps the
        ``_constants`` it derives, per dtype (and step): computed for the first parameter, reused
        for the others of this step, dropped with the tuple when the step ends (a scheduler may
        change the hyper-parameters before the next).
        """
        raise NotImplementedError(f"{type(self).__name__} does not define its update")

    def _keeps_state(self, group: dict[str, Any]) -> bool:
        """Whether the group's parameters have state (plain SGD has none, like PyTorch's)."""
        return True

    def _update(self, h: tuple, w: np.ndarray, g: np.ndarray, state: dict[str, Any] | None,
                terms: dict[str, Any] | None = None) -> None:
        """Update one parameter array ``w`` in place from its gradient ``g`` and its ``state``.

        ``terms`` is None on the hot path; a dict asks for the named terms (``self.terms``) to be
        stored in it as copies, which later steps cannot change.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define its update")

    def _update_one(self, h: tuple, w: np.ndarray, g: np.ndarray,
                    state: dict[str, Any] | None) -> None:
        """``_update`` for a one-element ``w``; subclasses compute it with Python floats."""
        self._update(h, w, g, state)

    def update_terms(self, p: Tensor, *, lr: float | None = None) -> UpdateTerms | None:
        """The named terms of ``p``'s next update, without changing anything.

        Runs the optimizer's own update on copies of ``p``'s data and state, recording the terms
        listed in ``self.terms``; ``lr`` replaces the group's learning rate (a what-if). Returns
        None when ``p`` has no gradient (``step()`` would leave it alone).

        Example:
            >>> import chainrule as cr
            >>> w = cr.tensor([1.0], requires_grad=True)
            >>> opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
            >>> (w * 2).sum().backward()
            >>> u = opt.update_terms(w)
            >>> u["buf"], u.new, w.detach().numpy()
            (array([2.], dtype=float32), array([0.8], dtype=float32), array([1.], dtype=float32))
        """
        group = next((g for g in self.param_groups if any(q is p for q in g["params"])), None)
        if group is None:
            raise ValueError("update_terms(): the tensor is not one of this optimizer's "
                             "parameters")
        if p.grad is None:
            return None
        if lr is not None:
            group = {**group, "lr": lr}
        before = copy_state(self.state.get(p))
        state = copy_state(before)
        w = np.array(p._data, copy=True)
        u = UpdateTerms(old=np.array(p._data, copy=True), new=w,
                        grad=np.array(p.grad._data, copy=True), group=group, before=before)
        # The array formula, also for one element: it is the one that records its terms.
        self._update(self._hyper(group), w, u.grad, state, u.terms)
        return u

    def _begin_step(self, closure):
        """Evaluate the closure (with recording on) if there is one."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _tmps(self, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Two scratch arrays shaped like ``d``, shared by every parameter of that shape and dtype.

        Steps run one parameter at a time, so two buffers per shape replace the temporaries
        NumPy would otherwise allocate (and page-fault in) for every parameter on every step.
        """
        key = (d.shape, d.dtype.char)
        pair = self._scratch.get(key)
        if pair is None:
            pair = self._scratch[key] = (np.empty(d.shape, d.dtype), np.empty(d.shape, d.dtype))
        return pair

    # ---- state dicts --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, as copies that later steps will not change.

        ``{'state': {index: {name: array or number}}, 'param_groups': [{..., 'params':
        [index, ...]}]}``: parameters are named by their position across all groups, buffers are
        NumPy arrays and everything else is a plain Python value.

        Example:
            >>> import chainrule as cr
            >>> w = cr.tensor([1.0], requires_grad=True)
            >>> opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
            >>> (w * 2).sum().backward(); opt.step()
            >>> sd = opt.state_dict()
            >>> sd["state"][0]["momentum_buffer"], sd["param_groups"][0]["params"]
            (array([2.], dtype=float32), [0])
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                s = self.state.get(p)
                if s:
                    state[index[id(p)]] = {k: _copy_value(v) for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``: hyper-parameters and buffers, matched by position.

        The optimizer must hold the same number of groups and of parameters per group. Buffers
        are copied (floating ones cast to each parameter's dtype, except 0-d state such as
        NAdam's ``mu_product``, which keeps its own), so training resumes exactly.

        Example:
            >>> import chainrule as cr
            >>> w = cr.tensor([1.0], requires_grad=True)
            >>> opt = cr.optim.Adam([w], lr=0.1)
            >>> opt2 = cr.optim.Adam([w], lr=0.5)
            >>> opt2.load_state_dict(opt.state_dict()); opt2.param_groups[0]["lr"]
            0.1
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError("an optimizer state dict needs 'state' and 'param_groups' entries")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, this optimizer has "
                f"{len(self.param_groups)}")
        id_map: dict[int, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"loaded state dict's parameter group {i} has {len(saved['params'])} "
                    f"parameters, this optimizer's has {len(group['params'])}")
            id_map.update(zip((int(k) for k in saved["params"]), group["params"]))
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            p = id_map.get(int(key))
            if p is None:
                raise ValueError(f"loaded state dict has state for parameter {key}, which no "
                                 "parameter group lists")
            state[p] = {name: self._load_state_value(p, name, v) for name, v in values.items()}
        groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: tuple(v) if isinstance(v, list) and k != "param_names" else v
                   for k, v in saved.items() if k != "params"}
            new["params"] = group["params"]
            if "param_names" in group and "param_names" not in new:
                new["param_names"] = group["param_names"]
            for key, value in self.defaults.items():  # options newer than the checkpoint
                new.setdefault(key, value)
            groups.append(new)
        for group in groups:
            self._checked(group)
        self.state = state
        self.param_groups = groups

    def _load_state_value(self, p: Tensor, name: str, value: Any) -> Any:
        """One loaded state value for parameter ``p``: a copy, floating buffers cast to ``p``'s
        dtype (except ``_scalar_state``), ``step`` an int.

        The built-in optimizers keep NumPy arrays; an optimizer whose ``step()`` is written the
        PyTorch way (no ``_update``) gets Tensors back, as it stored them.
        """
        as_tensor = type(self)._update is Optimizer._update
        if isinstance(value, Tensor):
            value = value._data
        if isinstance(value, (list, tuple)):
            return type(value)(self._load_state_value(p, name, v) for v in value)
        if name == "step" and not as_tensor:
            return int(value)
        if isinstance(value, (np.ndarray, np.generic)):
            value = np.asarray(value)
            if value.ndim and value.shape != p._data.shape:
                raise ValueError(f"loaded state {name!r} has shape {value.shape}, its parameter "
                                 f"has shape {p._data.shape}")
            keep = value.dtype.kind != "f" or name in self._scalar_state or name == "step"
            value = np.array(value, dtype=value.dtype if keep else p._data.dtype, copy=True)
            return Tensor(value) if as_tensor else value
        return value

    def __repr__(self) -> str:
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def _l2_grad(g: np.ndarray, w: np.ndarray, maximize: bool, k_wd, t: np.ndarray,
             u: np.ndarray) -> np.ndarray:
    """The gradient an update uses: negated with ``maximize``, plus ``weight_decay * w`` (L2)
    when ``k_wd`` is given. Written into the scratch ``u`` when it changes (``t`` is clobbered);
    the caller's ``g`` is never written."""
    if maximize:
        g = np.negative(g, out=u)
    if k_wd is not None:
        np.multiply(w, k_wd, out=t)
        g = np.add(g, t, out=u)
    return g


def _buffer(state: dict[str, Any], key: str, like: np.ndarray) -> np.ndarray:
    """``state[key]``, created as zeros on first use (also when an option such as momentum is
    switched on mid-training, e.g. by OneCycleLR)."""
    buf = state.get(key)
    if buf is None:
        buf = state[key] = np.zeros_like(like)
    return buf


def _constants(dtype: np.dtype, *values: float) -> tuple[np.ndarray, ...]:
    """Hyper-parameters as 0-d arrays of the parameters' dtype.

    NumPy converts a Python float operand on every call, which costs about as much as the
    arithmetic itself on small arrays; a 0-d array of the same dtype computes the same values.
    The arrays are cached (read-only): an optimizer asks for the same ones on every step.
    """
    return _constants_cached(np.dtype(dtype), values)


@functools.lru_cache(maxsize=1024)
def _constants_cached(dtype: np.dtype, values: tuple) -> tuple[np.ndarray, ...]:
    out = tuple(np.array(v, dtype) for v in values)
    for a in out:
        a.flags.writeable = False
    return out


def _copy_value(value: Any) -> Any:
    """A copy of one state value that later steps cannot change (arrays and Tensors, also
    inside lists such as L-BFGS's history)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, Tensor):
        return Tensor(value._data.copy())
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_value(v) for v in value)
    return value


def _counting(step: Callable) -> Callable:
    """``step`` wrapped to count its calls in ``_steps_taken`` (the wrapper only counts)."""
    if getattr(step, "_counts_steps", False):
        return step

    @functools.wraps(step)
    def counted(self, *args, **kwargs):
        self._steps_taken += 1
        return step(self, *args, **kwargs)

    counted._counts_steps = True
    return counted


def _check_nonneg(group: dict[str, Any], key: str) -> None:
    if key in group and not group[key] >= 0.0:
        raise ValueError(f"invalid {key}: {group[key]} (must be >= 0)")


Optimizer.step = _counting(Optimizer.step)  # type: ignore[method-assign]
