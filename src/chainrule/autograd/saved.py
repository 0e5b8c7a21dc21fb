"""What a recorded op keeps for its backward, and the hooks that may pack it (PyTorch's
``torch.autograd.graph.saved_tensors_hooks``).

A ``Node`` keeps alive every array its rule reads: the input tensors (and with them their
arrays), the output array, the op's ``saved`` values and the arrays among its attributes (a
dropout mask, class indices). That is the memory backpropagation costs.

Inside ``saved_tensors_hooks(pack, unpack)`` a node is built differently (``make_node``): each of
those arrays goes through ``pack`` when the node is recorded, and the node keeps only what
``pack`` returned (``Packed``); backward calls ``unpack`` to get the arrays back. Input tensors
that are not leaves requiring grad are replaced by a ``SavedEdge``: where their gradient goes,
their shape and version, not their values. Leaves requiring grad (parameters) stay, because
their gradients accumulate into them; their arrays are packed like the others.

Cost when no hooks are active: none. ``graph.apply`` builds its nodes through the module global
``graph._make_node``, which is the plain ``Node`` class until a hook context opens in some
thread; only then does it become ``make_node``, which reads this thread's hooks. Observers
(``observe_nodes``: a tool that wants to see each node as it is recorded) switch it the same way.

The kinds of hooks that share the mechanism:

- ``saved_tensors_hooks``: the user's ``pack(tensor) -> object`` and ``unpack(object) -> tensor``;
- array hooks (``array_hooks``): the same on NumPy arrays, for chainrule's own users;
- recomputing hooks (``array_hooks(..., recomputes=True)``): ``utils.checkpoint``, whose unpack
  runs the forward again; an in-place write into a node's output then needs no copy;
- recording (``record_arrays``): plain nodes, each saved array shown to a function in packing
  order (checkpoint's recomputation collects what its forward packed).

Example:
    >>> import chainrule as cr
    >>> from chainrule.autograd.graph import saved_tensors_hooks
    >>> seen = []
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> with saved_tensors_hooks(lambda t: seen.append(t.shape) or t.to(cr.float16),
    ...                          lambda t: t.to(cr.float32)):
    ...     y = (x * x).sum()
    >>> y.backward(); x.grad.tolist(), len(seen) > 0
    ([2.0, 4.0], True)
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from operator import attrgetter

import numpy as np

from ..tensor import Tensor, _wrap
from .grad_mode import GRAD

_data = attrgetter("_data")


class _State(threading.local):
    """This thread's hooks (innermost last), observers and ``disable_saved_tensors_hooks``."""

    stack: tuple = ()
    observers: tuple = ()
    disabled: str | None = None


STATE = _State()
_lock = threading.Lock()
_open = 0  # hook contexts and observers open in all threads: while > 0, apply uses make_node


_Node = None  # graph.Node, bound by the first _switch (graph imports this module)


def _switch(delta: int) -> None:
    global _open, _Node
    from . import graph

    with _lock:
        _Node = graph.Node
        _open += delta
        graph._make_node = make_node if _open else graph.Node


class _Hooks:
    """One entry of the hook stack. ``records``: the nodes are plain (they keep their arrays)
    and ``pack`` only sees each array, in the order a packed node would pack it (checkpoint's
    recomputation, whose graph is thrown away)."""

    __slots__ = ("pack", "unpack", "arrays", "recomputes", "records")

    def __init__(self, pack, unpack, arrays: bool, recomputes: bool,
                 records: bool = False) -> None:
        self.pack, self.unpack, self.arrays, self.recomputes = pack, unpack, arrays, recomputes
        self.records = records


class _HookContext:
    def __init__(self, hooks: _Hooks) -> None:
        self._hooks = hooks

    def __enter__(self):
        if STATE.disabled is not None:
            raise RuntimeError(STATE.disabled)
        STATE.stack = STATE.stack + (self._hooks,)
        _switch(+1)
        return self

    def __exit__(self, *exc) -> None:
        stack = STATE.stack
        # Contexts close in the order they opened; anything else is a bug in the caller.
        if not stack or stack[-1] is not self._hooks:
            raise RuntimeError("saved_tensors_hooks: contexts must be closed in reverse order")
        STATE.stack = stack[:-1]
        _switch(-1)


class saved_tensors_hooks(_HookContext):
    """Pass every array an op saves for backward through ``pack_hook``, and back through
    ``unpack_hook`` when backward needs it (PyTorch's ``torch.autograd.graph.saved_tensors_hooks``).

    ``pack_hook(tensor) -> object`` is called once per saved array when the op is recorded, with
    a tensor sharing the array (do not change it in place); the node keeps only what it returns.
    ``unpack_hook(object) -> tensor`` must give back a tensor of the same shape and dtype, else
    backward raises naming the hooks. Saved arrays are the op's inputs, its output, the extra
    values fused ops keep (softmax probabilities, normalised inputs, LSTM gates) and arrays among
    its attributes (dropout masks, class indices), and ``ctx.save_for_backward`` tensors of
    custom Functions. The hooks hold in this thread; nested contexts use the innermost.

    Example (keep saved arrays in float16, half the memory):
        >>> import chainrule as cr
        >>> x = cr.ones(3, requires_grad=True)
        >>> with cr.autograd.graph.saved_tensors_hooks(lambda t: t.to(cr.float16),
        ...                                            lambda t: t.to(cr.float32)):
        ...     y = (x * 3.0).exp().sum()
        >>> y.backward(); x.grad.dtype
        dtype('float32')
    """

    def __init__(self, pack_hook: Callable, unpack_hook: Callable) -> None:
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError("saved_tensors_hooks(pack_hook, unpack_hook): both must be callable")
        super().__init__(_Hooks(pack_hook, unpack_hook, arrays=False, recomputes=False))


def array_hooks(pack: Callable, unpack: Callable, *, recomputes: bool = False) -> _HookContext:
    """``saved_tensors_hooks`` on NumPy arrays rather than tensors, for chainrule's own tools.

    ``recomputes=True`` promises that ``unpack`` recomputes the value from the forward's inputs
    (``utils.checkpoint``), so a later in-place write into a node's output cannot change it.
    """
    return _HookContext(_Hooks(pack, unpack, arrays=True, recomputes=recomputes))


def record_arrays(see: Callable) -> _HookContext:
    """A context in which ``see(array)`` is called for every array a recorded op saves, in the
    order ``array_hooks`` would pack them, while the nodes stay plain: checkpoint's
    recomputation collects the arrays its forward packed, without packing them again."""
    return _HookContext(_Hooks(see, None, arrays=True, recomputes=True, records=True))


class save_on_cpu(saved_tensors_hooks):
    """PyTorch's ``save_on_cpu``: keep saved tensors on the CPU. chainrule's arrays always live
    there, so the saved arrays are kept as they are (``pin_memory`` has no meaning here).

    Example:
        >>> import chainrule as cr
        >>> x = cr.ones(2, requires_grad=True)
        >>> with cr.autograd.graph.save_on_cpu():
        ...     (x * x).sum().backward()
        >>> x.grad.tolist()
        [2.0, 2.0]
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(_identity, _identity)


def _identity(t):
    return t


class disable_saved_tensors_hooks:
    """Inside this block, opening ``saved_tensors_hooks`` raises ``RuntimeError(error_message)``
    (PyTorch's guard for code whose saved tensors must not be packed).

    Example:
        >>> import chainrule as cr
        >>> with cr.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
        ...     try:
        ...         with cr.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        ...             pass
        ...     except RuntimeError as e:
        ...         print(e)
        no hooks here
    """

    def __init__(self, error_message: str) -> None:
        self.message = str(error_message)

    def __enter__(self):
        self.prev = STATE.disabled
        STATE.disabled = self.message
        return self

    def __exit__(self, *exc) -> None:
        STATE.disabled = self.prev

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.message):
                return fn(*args, **kwargs)

        return wrapper


class _Observer:
    def __init__(self, fn) -> None:
        self.fn = fn

    def __enter__(self):
        STATE.observers = STATE.observers + (self.fn,)
        _switch(+1)
        return self

    def __exit__(self, *exc) -> None:
        STATE.observers = tuple(f for f in STATE.observers if f is not self.fn)
        _switch(-1)


def observe_nodes(fn: Callable) -> _Observer:
    """A context in which ``fn(node)`` is called for every node this thread records (tools use it
    to remember where each op came from). Costs nothing outside the context."""
    return _Observer(fn)


# ---- packed nodes ------------------------------------------------------------------------------


class SavedEdge:
    """What a packed node keeps of an input tensor: where its gradient goes (``_node``,
    ``requires_grad``), its shape, dtype and name, and its version for the in-place check.

    The values are not kept: reading ``_data`` raises. The tensor itself is watched through a
    weak reference, so an in-place change while it lives is still caught at backward.
    """

    __slots__ = ("_node", "requires_grad", "shape", "dtype", "name", "_version", "_ref",
                 "__weakref__")
    grad = None
    _hooks = None
    _detached_from = None

    def __init__(self, t: Tensor) -> None:
        self._node = t._node
        self.requires_grad = t.requires_grad
        self.shape = t._data.shape
        self.dtype = t._data.dtype
        self.name = t.name
        self._version = t._version
        self._ref = weakref.ref(t)

    @property
    def _data(self):
        raise RuntimeError(
            "this input's values were packed by saved_tensors_hooks (or checkpoint) when the op "
            "was recorded: they come back only inside backward. Tools that read a graph's "
            "values need a graph recorded without those hooks.")

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    def __repr__(self) -> str:
        return f"<saved input {self.shape} {self.dtype}>"


def _check_version(edge: SavedEdge, node) -> None:
    t = edge._ref()
    if t is not None and t._version != edge._version:
        raise RuntimeError(
            f"{node.op.name}(): one of its inputs (shape {edge.shape}) was modified by an "
            f"in-place operation after it was used (version {edge._version} -> {t._version}); "
            "the gradient would be wrong. Clone the tensor before changing it in place.")


class _Slot:
    """Where the i-th packed array goes back in a structure (``saved`` or an attribute)."""

    __slots__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = i

    def __repr__(self) -> str:
        return f"<packed #{self.i}>"


def _flatten(obj, arrays: list):
    """``obj`` with every ndarray replaced by a ``_Slot`` (appending it to ``arrays``)."""
    if type(obj) is np.ndarray:
        arrays.append(obj)
        return _Slot(len(arrays) - 1)
    if type(obj) in (tuple, list):
        items = [_flatten(v, arrays) for v in obj]
        if all(a is b for a, b in zip(items, obj)):
            return obj
        return type(obj)(items)
    if type(obj) is dict:
        items = {k: _flatten(v, arrays) for k, v in obj.items()}
        if all(items[k] is obj[k] for k in obj):
            return obj
        return items
    return obj


def _fill(obj, values: list):
    if type(obj) is _Slot:
        return values[obj.i]
    if type(obj) in (tuple, list):
        return type(obj)(_fill(v, values) for v in obj)
    if type(obj) is dict:
        return {k: _fill(v, values) for k, v in obj.items()}
    return obj


class Packed:
    """A packed node's ``saved``: what the pack hook returned for each saved array, in order
    (the inputs, the output, then the op's saved values and array attributes), and how to put
    them back. ``unpack`` is called by the engine, once per backward through the node."""

    __slots__ = ("hooks", "items", "metas", "n_in", "saved_tpl", "n_saved", "out_ref")

    def __init__(self, hooks: _Hooks, arrays: list, n_in: int, saved_tpl, n_saved: int) -> None:
        self.hooks = hooks
        self.n_in, self.saved_tpl, self.n_saved = n_in, saved_tpl, n_saved
        self.metas = [(a.shape, a.dtype) for a in arrays]
        out = arrays[n_in]
        self.out_ref = None
        if not hooks.recomputes and type(out) is np.ndarray:
            self.out_ref = weakref.ref(out)
        self.items = _pack_all(hooks, arrays)

    def output_written(self, array) -> None:
        """``array`` is about to be overwritten in place (``Tensor._keep_node_output``): if it is
        the output this node packed, pack a copy of its old values instead, as an unpacked node
        keeps a copy of its output."""
        if self.hooks.recomputes or self.out_ref is None or self.out_ref() is not array:
            return  # a recomputed output does not see the write
        self.items[self.n_in] = _pack_all(self.hooks, [np.array(array, copy=True)])[0]

    def arrays(self, node) -> list:
        """Every saved array, unpacked and checked (shape, dtype, versions)."""
        for t in node.inputs:
            if type(t) is SavedEdge:
                _check_version(t, node)
        hooks = self.hooks
        out = []
        for item, (shape, dtype) in zip(self.items, self.metas):
            a = _unpack(hooks, item)
            if a.shape != shape or a.dtype != dtype:
                raise RuntimeError(
                    f"{node.op.name}(): a saved array of shape {shape} and dtype {dtype} came "
                    f"back from the unpack hook with shape {a.shape} and dtype {a.dtype}; "
                    "saved_tensors_hooks' unpack must return what was packed (convert back, "
                    "e.g. t.to(cr.float32))")
            out.append(a)
        return out

    def unpack(self, node, attrs: dict, plain: bool):
        """``(out, args, inputs, saved)`` for the engine: the output, the rule's inputs (arrays,
        or tensors in the graph when ``plain`` is False), tensors to route gradients to, and the
        op's saved value. Attribute arrays are put back into ``attrs`` (a copy)."""
        values = self.arrays(node)  # slots number the arrays of this whole list
        n = self.n_in
        ins, out = values[:n], values[n]
        saved = _fill(self.saved_tpl, values)
        if len(values) > n + 1 + self.n_saved:
            for k, v in attrs.items():
                attrs[k] = _fill(v, values)
        # Gradients go to the leaves themselves and, for the other inputs, to the producing nodes.
        routes = tuple(_in_graph(t, a) if type(t) is SavedEdge else t
                       for t, a in zip(node.inputs, ins))
        if plain:
            return out, ins, routes, saved
        args = tuple(r if type(t) is SavedEdge else _in_graph(t, a)
                     for t, a, r in zip(node.inputs, ins, routes))
        return out, args, routes, saved


def _pack_all(hooks: _Hooks, arrays: list) -> list:
    if hooks.arrays:
        return list(map(hooks.pack, arrays))
    prev = GRAD.enabled
    GRAD.enabled = False  # a hook's own ops must not be recorded (and packed) again
    try:
        return [hooks.pack(_wrap(a)) for a in arrays]
    finally:
        GRAD.enabled = prev


def _unpack(hooks: _Hooks, item):
    if hooks.arrays:
        return hooks.unpack(item)
    t = hooks.unpack(item)
    if not isinstance(t, Tensor):
        raise TypeError("saved_tensors_hooks: the unpack hook must return a Tensor, got "
                        f"{type(t).__name__}")
    return t._data


class _SavedLeaf:
    """The op of a parameter's value as an unpack hook returned it, under ``create_graph``: the
    value may differ from the parameter's own (a float16 round trip); the gradient passes to
    the parameter unchanged."""

    name = "saved_leaf"
    saves = pass_needs_input_grad = fresh_grads = False
    kind = "other"
    formula = latex = ""

    def backward(F, g, out, x):
        return (g,)


def _in_graph(t, a):
    """A tensor holding the unpacked array ``a`` whose gradient reaches where ``t``'s would."""
    if type(t) is not SavedEdge:  # a leaf that requires grad
        if a is t._data:
            return t
        r = _wrap(a, True)
        r._node = _Node(_SavedLeaf, (t,), a, None, None)
        return r
    r = _wrap(a, t.requires_grad)
    r._node = t._node
    r.name = t.name
    return r


def _saved_arrays(inputs, out, attrs, saved):
    """Every array a node would keep, in packing order, with ``saved`` and ``attrs`` made into
    templates (``_Slot`` where an array was): ``(arrays, saved, attrs, n_saved)``."""
    arrays = list(map(_data, inputs))
    arrays.append(out)
    n = len(arrays)
    if saved is not None:
        saved = _flatten(saved, arrays)
    n_saved = len(arrays) - n
    if attrs:
        flat = {k: _flatten(v, arrays) for k, v in attrs.items()}
        if len(arrays) > n + n_saved:  # some attribute held an array
            attrs = flat
    return arrays, saved, attrs, n_saved


def _edge(t):
    return t if (t.requires_grad and t._node is None) else SavedEdge(t)


def pack_node(op, inputs, out, attrs, saved, hooks: _Hooks):
    """A ``Node`` whose saved arrays went through ``hooks`` (see ``Packed``)."""
    arrays, saved, attrs, n_saved = _saved_arrays(inputs, out, attrs, saved)
    packed = Packed(hooks, arrays, len(inputs), saved, n_saved)
    return _Node(op, tuple(map(_edge, inputs)), None, attrs, packed)


def make_node(op, inputs, out, attrs, saved):
    """``graph._make_node`` while some thread has hooks or observers: pack and observe."""
    state = STATE
    stack = state.stack
    if not stack:
        node = _Node(op, inputs, out, attrs, saved)
    elif stack[-1].records:
        node = _Node(op, inputs, out, attrs, saved)
        see = stack[-1].pack
        for a in _saved_arrays(inputs, out, attrs, saved)[0]:
            see(a)
    else:
        node = pack_node(op, inputs, out, attrs, saved, stack[-1])
    for fn in state.observers:
        fn(node)
    return node


def current_hooks() -> _Hooks | None:
    """This thread's innermost hooks (custom Functions pack ``ctx`` tensors with them)."""
    stack = STATE.stack
    return stack[-1] if stack else None


class PackedTensors:
    """``ctx.save_for_backward`` tensors of a custom Function, packed like a node's arrays."""

    __slots__ = ("hooks", "items", "metas", "edges")

    def __init__(self, hooks: _Hooks, tensors) -> None:
        self.hooks = hooks
        self.items, self.metas, self.edges = [], [], []
        for t in tensors:
            if t is None:
                self.items.append(None)
                self.metas.append(None)
                self.edges.append(None)
                continue
            self.items.append(_pack_all(hooks, [t._data])[0])
            self.metas.append((t._data.shape, t._data.dtype))
            self.edges.append(t if (t.requires_grad and t._node is None) else SavedEdge(t))

    def tensors(self) -> tuple:
        res = []
        for item, meta, edge in zip(self.items, self.metas, self.edges):
            if edge is None:
                res.append(None)
                continue
            a = _unpack(self.hooks, item)
            if (a.shape, a.dtype) != meta:
                raise RuntimeError(
                    f"a saved tensor of shape {meta[0]} and dtype {meta[1]} came back from the "
                    f"unpack hook with shape {a.shape} and dtype {a.dtype}; saved_tensors_hooks' "
                    "unpack must return what was packed")
            if type(edge) is SavedEdge:
                t = edge._ref()
                if t is not None and t._version != edge._version:
                    raise RuntimeError(
                        "a tensor saved with ctx.save_for_backward was modified by an in-place "
                        "operation after it was saved; the gradient would be wrong")
            res.append(_in_graph(edge, a))
        return tuple(res)


__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "array_hooks",
           "record_arrays", "observe_nodes", "SavedEdge", "Packed"]
