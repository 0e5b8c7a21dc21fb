"""Reverse-mode automatic differentiation: one iterative chain-rule loop.

``backward`` and ``grad`` share ``run_backward``: run every node after all nodes that consume
its output, calling the op's rule on the gradient of its output and summing what flows into each
input. The order comes from creation numbers: a node's producers were always recorded before
it, so running the latest-recorded pending node first (a heap keyed by ``Node.seq``, as
PyTorch's engine does) is a valid order. That merges the graph walk and the gradient pass into
one loop with no recursion (a 20,000-op chain is fine) and never visits nodes no gradient
reaches. Gradients wider than their input (because the forward broadcast it) are summed back to
the input's shape here, once, for every op.

Who owns a gradient array
-------------------------
A gradient array is *owned* when the engine made it during this backward and holds the only
reference: a sum the engine computed (two consumers, or a broadcast summed back), or a gradient
returned by a rule declared ``fresh_grads`` (new arrays that alias nothing). Only an owned array
may be written in place (a later sum, or a rule handed ``F.owns_g``), kept as a ``.grad`` or
returned by ``autograd.grad``. Everything else is copied first at those three moments: the
caller's seed, the shared seed of ones, a custom ``Function``'s return, an array a hook saw or
returned, the gradients of other rules (``Add`` hands one array to both inputs). An owned array
stops being owned when someone can see it: a hook, ``retain_grad``, a capture for
``autograd.grad``. This is PyTorch's rule (``AccumulateGrad`` steals only what nobody else
holds), made explicit.
"""

from __future__ import annotations

import weakref
from heapq import heappop, heappush

import numpy as np

from ..tensor import Tensor, _wrap
from .anomaly import check_backward
from .grad_mode import DEBUG, GRAD, set_grad_enabled
from .graph import _data, _requires_grad, _version
from .saved import Packed


class _Backends:
    """The vocabularies rules are written against; ``chainrule.ops`` installs them.

    ``plain`` computes with arrays, ``owned`` is ``plain`` for a rule whose upstream array the
    engine owns (``F.owns_g``), ``differentiable`` records a graph (``create_graph=True``).
    The engine only passes them on: it never imports the ops.
    """

    plain = owned = differentiable = None


BACKENDS = _Backends()


# id(leaf) -> (weakref to the leaf, its post-accumulate-grad hooks), from
# ``Tensor.register_post_accumulate_grad_hook``; an entry goes when its leaf does. Keyed by id
# because a weak dictionary would compare tensors with ``==``. While it is empty, backward runs
# exactly as if the feature did not exist.
POST_ACCUMULATE_HOOKS: dict[int, tuple] = {}
# One list per backward pass in progress (innermost last): what ``_queue_callback`` added.
_CALLBACKS: list[list] = []


def install_backends(plain, owned, differentiable) -> None:
    """Called once by ``chainrule.ops`` at import."""
    BACKENDS.plain, BACKENDS.owned, BACKENDS.differentiable = plain, owned, differentiable


def toposort(roots):
    """Nodes reachable from ``roots`` (nodes), consumers before producers.

    ``run_backward`` does not need it (it orders by ``Node.seq``); tools that show or check a
    whole graph do.
    """
    order, visited = [], set()
    stack = [(n, False) for n in roots if n is not None]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        inputs = node.inputs
        if inputs is None:
            raise _freed_error(node)
        for t in inputs:
            n = t._node
            if n is not None and n not in visited:
                stack.append((n, False))
    order.reverse()
    return order


def sum_to(g, shape, F):
    """Sum a broadcast gradient ``g`` back to ``shape`` (undoes NumPy broadcasting)."""
    return _sum_to(g, shape, F)[0]


def _sum_to(g, shape, F):
    """``sum_to`` and whether it summed (then the result is a new array, the engine's own)."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1
    )
    if axes:
        g = F.sum(g, axis=axes)
    if tuple(g.shape) != tuple(shape):
        g = F.reshape(g, shape)
    return g, bool(axes)


def _freed_error(node) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (through {node.name()}): "
        "its saved values were freed by the first backward. Pass retain_graph=True to "
        "the first backward() (or autograd.grad) if you need to backward twice."
    )


def _check_versions(node):
    for t, v in zip(node.inputs, node.versions):
        if t._version != v:
            raise RuntimeError(
                f"{node.op.name}(): one of its inputs (shape {t.shape}) was modified by an "
                f"in-place operation after it was used (version {v} -> {t._version}); the "
                "gradient would be wrong. Clone the tensor before changing it in place."
            )


def _writable(g) -> bool:
    return type(g) is np.ndarray and g.flags.writeable


def run_backward(roots, seeds, *, retain_graph, create_graph, capture=(), accumulate=True,
                 tracer=None):
    """The chain-rule loop.

    roots: output tensors; seeds: their upstream gradients (arrays, or tensors if create_graph).
    capture: tensors whose total gradient to return (for ``autograd.grad`` and
    ``backward(inputs=...)``) instead of accumulating anything into ``.grad``.
    tracer: an observer (``cr.explain``) told ``step(node, g, in_grads)`` after each rule and
    ``leaf(tensor, g)`` for each leaf's summed gradient; it sees this loop, it does not copy it.
    Returns ``{id(tensor): (gradient, owned)}`` for the captured tensors.
    """
    plain = not create_graph
    F = BACKENDS.plain if plain else BACKENDS.differentiable
    # Overwriting an owned upstream array would change what an observer has been shown.
    F_owned = BACKENDS.owned if plain and not (DEBUG.anomaly or tracer is not None) else F
    check_fresh = plain and (DEBUG.check_ownership or DEBUG.anomaly)
    anomaly = DEBUG.anomaly
    pending = {}  # node -> sum of the gradients of its output received so far
    owned = set()  # nodes whose pending array only the engine holds
    ready = []  # heap of (-seq, node): nodes holding a gradient, latest-recorded first
    arrivals = []  # (leaf, gradient, owned) in arrival order
    got = {}  # id(captured tensor) -> (gradient, owned)
    want = {id(t): t for t in capture}
    want_nodes = {t._node: t for t in capture if t._node is not None}
    # With a capture, only the part of the graph that leads to the captured tensors runs (as in
    # PyTorch: no other rule, hook or retain_grad is triggered).
    run, receive = _part_to_run(roots, want) if capture else (None, None)
    # Leaves with post-accumulate hooks are finished as soon as no rule left to run can add to
    # their gradient, so the hook (DistributedDataParallel's all-reduce) overlaps the rest.
    due, early = (_due_leaves(roots) if POST_ACCUMULATE_HOOKS and accumulate and not capture
                  else (None, None))
    for t, s in zip(roots, seeds):  # seeds are the caller's or a shared constant: not owned
        n = t._node
        if n is None:
            arrivals.append((t, s, False))
        elif n in pending:
            pending[n] = pending[n] + s
            if plain:
                owned.add(n)
        else:
            pending[n] = s
            heappush(ready, (-n.seq, n))
    prev_mode = GRAD.enabled
    GRAD.enabled = create_graph
    _CALLBACKS.append([])
    try:
        while ready:
            node = heappop(ready)[1]
            if due and due[-1][0] > node.seq:
                _finish_due(due, early, node.seq, plain, create_graph, tracer)
            g = pending.pop(node)
            if node in owned:
                owned.remove(node)
                mine = True
            else:
                mine = False
            inputs = node.inputs
            if inputs is None:
                raise _freed_error(node)
            if node.hooks:
                g = _run_hooks(node.hooks, g, create_graph)
                mine = False
            if node.retains is not None:
                t = node.retains()
                if t is not None:  # a copy: g goes on to this node's rule, maybe to a hook
                    _accumulate(t, g, False, create_graph)
            if want_nodes and node in want_nodes:
                got[id(want_nodes[node])] = (g, mine)
                mine = False
            if run is not None and node not in run:
                continue
            # One C-level tuple comparison; the loop that names the culprit only on mismatch.
            if node.versions != tuple(map(_version, inputs)):
                _check_versions(node)
            op, attrs, saved, out = node.op, node.attrs, node.saved, node.out
            args = None  # what the rule gets for the inputs, when not their arrays (or tensors)
            if saved is not None or op.pass_needs_input_grad:
                attrs = dict(attrs) if attrs else {}
                if saved is not None:
                    if type(saved) is Packed:  # recorded under saved-tensor hooks: unpack
                        out, args, inputs, saved = saved.unpack(node, attrs, plain)
                    if saved is not None:
                        attrs["saved"] = saved
                if op.pass_needs_input_grad:
                    attrs["needs_input_grad"] = tuple(map(_requires_grad, inputs))
            if plain:
                Fn = F_owned if mine and type(g) is np.ndarray and g.flags.writeable else F
                if args is None:
                    args = map(_data, inputs)
                in_grads = op.backward(Fn, g, out, *args, **attrs) if attrs \
                    else op.backward(Fn, g, out, *args)
                fresh = op.fresh_grads
                if check_fresh and fresh:
                    _check_fresh(node, g, Fn.owns_g, in_grads, out, inputs, saved)
            else:
                out = _wrap(out)
                out._node, out.requires_grad = node, True
                if args is None:
                    args = inputs
                in_grads = op.backward(F, g, out, *args, **attrs) if attrs else op.backward(
                    F, g, out, *args)
                fresh = False
            if anomaly:
                check_backward(node, in_grads, g, inputs)
            if tracer is not None:
                tracer.step(node, g, in_grads)
            for t, gi in zip(inputs, in_grads):
                if gi is None or not t.requires_grad:
                    continue
                # A fresh rule's arrays are new, except g itself handed back: then it stays ours
                # only if it was ours.
                gi_mine = fresh and (mine or gi is not g)
                if gi.shape != t._data.shape:
                    gi, summed = _sum_to(gi, t._data.shape, F)
                    gi_mine = gi_mine or (plain and summed)
                n = t._node
                if receive is not None and (n not in receive if n is not None
                                            else id(t) not in want):
                    continue
                if n is None:
                    if early is not None and id(t) in early:
                        early[id(t)].append((t, gi, gi_mine))
                    else:
                        arrivals.append((t, gi, gi_mine))
                elif n not in pending:
                    pending[n] = gi
                    heappush(ready, (-n.seq, n))
                    if gi_mine:
                        owned.add(n)
                else:
                    prev = pending[n]
                    if n in owned and prev.dtype == gi.dtype and _writable(prev):
                        np.add(prev, gi, out=prev)
                    else:
                        pending[n] = prev + gi
                        if plain:
                            owned.add(n)
            if not retain_graph:
                node.inputs = node.out = node.saved = None
        if due:
            _finish_due(due, early, -1, plain, create_graph, tracer)
    finally:
        GRAD.enabled = prev_mode
        callbacks = _CALLBACKS.pop()
    # Leaves get their gradients only once every rule has run: a leaf's hooks see its total.
    for leaf, g, mine in _sum_per_leaf(arrivals, plain):
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g, create_graph)
            mine = False
        if tracer is not None:
            tracer.leaf(leaf, g)
        key = id(leaf)
        if key in want:
            got[key] = (g, mine)
        elif accumulate:
            _accumulate(leaf, g, mine, create_graph)
            if POST_ACCUMULATE_HOOKS:  # a root leaf, or a hook added during this pass
                _run_post_accumulate_hooks(leaf)
    for fn in callbacks:
        fn()
    return got


def _queue_callback(fn) -> None:
    """Run ``fn()`` once the backward pass in progress has put every gradient in place (the
    engine's ``queue_callback`` in PyTorch); only valid from a hook during backward."""
    if not _CALLBACKS:
        raise RuntimeError("_queue_callback: no backward pass is running")
    _CALLBACKS[-1].append(fn)


def register_post_accumulate_grad_hook(tensor, hook):
    """``Tensor.register_post_accumulate_grad_hook``: see there."""
    key = id(tensor)
    entry = POST_ACCUMULATE_HOOKS.get(key)
    if entry is None:
        def forget(ref, key=key):
            if POST_ACCUMULATE_HOOKS.get(key, (None,))[0] is ref:
                del POST_ACCUMULATE_HOOKS[key]

        entry = POST_ACCUMULATE_HOOKS[key] = (weakref.ref(tensor, forget), [])
    entry[1].append(hook)
    return _PostHookHandle(key, entry, hook)


class _PostHookHandle:
    """Returned by ``register_post_accumulate_grad_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("key", "entry", "fn")

    def __init__(self, key, entry, fn) -> None:
        self.key, self.entry, self.fn = key, entry, fn

    def remove(self) -> None:
        hooks = self.entry[1]
        if self.fn in hooks:
            hooks.remove(self.fn)
        if not hooks and POST_ACCUMULATE_HOOKS.get(self.key) is self.entry:
            del POST_ACCUMULATE_HOOKS[self.key]


def _due_leaves(roots):
    """``(due, early)`` for the leaves with post-accumulate hooks that ``roots`` depend on.

    ``due``: ``(seq, leaf)`` sorted by ``seq``, the creation number of the leaf's earliest
    consumer: once the engine is about to run a node recorded before that one, no rule left can
    add to the leaf's gradient (they run latest-recorded first). ``early``: ``id(leaf)`` -> the
    list its gradients are collected in.
    """
    first, leaves, seen = {}, {}, set()
    stack = [t._node for t in roots if t._node is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.inputs is None:  # freed: the loop names the error if a gradient gets here
            continue
        for t in node.inputs:
            n = t._node
            if n is not None:
                if n not in seen:
                    stack.append(n)
            elif id(t) in POST_ACCUMULATE_HOOKS and t.requires_grad:
                key = id(t)
                if key not in first or node.seq < first[key]:
                    first[key], leaves[key] = node.seq, t
    due = sorted(((s, leaves[k]) for k, s in first.items()), key=lambda e: e[0])
    return due, {k: [] for k in first}


def _finish_due(due, early, seq, plain, create_graph, tracer) -> None:
    """Finish every leaf in ``due`` whose earliest consumer came after node ``seq``: sum its
    gradient, run its hooks, accumulate it into ``.grad``, then run its post-accumulate hooks."""
    while due and due[-1][0] > seq:
        for leaf, g, mine in _sum_per_leaf(early.pop(id(due.pop()[1])), plain):
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g, create_graph)
                mine = False
            if tracer is not None:
                tracer.leaf(leaf, g)
            _accumulate(leaf, g, mine, create_graph)
            _run_post_accumulate_hooks(leaf)


def _run_post_accumulate_hooks(leaf) -> None:
    entry = POST_ACCUMULATE_HOOKS.get(id(leaf))
    if entry is not None:
        for hook in list(entry[1]):  # a hook may remove itself
            hook(leaf)


def _part_to_run(roots, want):
    """(nodes whose rule must run, nodes that must receive a gradient) to reach ``want``."""
    run, receive = set(), {t._node for t in want.values() if t._node is not None}
    for node in reversed(toposort([t._node for t in roots])):  # producers first
        for t in node.inputs:
            if id(t) in want or t._node in receive:
                run.add(node)
                receive.add(node)
                break
    return run, receive


def _sum_per_leaf(arrivals, plain):
    """``(leaf, total gradient, owned)`` per leaf, in order of first arrival."""
    if len(arrivals) < 2:
        return arrivals
    sums = {}
    for leaf, g, mine in arrivals:
        entry = sums.get(id(leaf))
        if entry is None:
            sums[id(leaf)] = [leaf, g, mine]
        elif entry[2] and entry[1].dtype == g.dtype and _writable(entry[1]):
            np.add(entry[1], g, out=entry[1])
        else:
            entry[1] = entry[1] + g
            entry[2] = plain
    return sums.values()


def _run_hooks(hooks, g, create_graph):
    for hook in list(hooks):  # a hook may remove itself
        res = hook(g if create_graph else _wrap(g))
        if res is not None:
            if not isinstance(res, Tensor):
                raise TypeError(f"a gradient hook must return a Tensor or None, got {type(res)}")
            if res.shape != g.shape:
                raise RuntimeError(
                    f"a gradient hook returned shape {res.shape} for a gradient of shape "
                    f"{g.shape}; it must keep the shape")
            g = res if create_graph else res._data
    return g


def _accumulate(t, g, owned, create_graph) -> None:
    """Add ``g`` into ``t.grad``: the one way a gradient reaches a ``.grad``.

    ``.grad`` takes ``g`` itself only when the engine owns it, else a copy. A leaf's existing
    ``.grad`` is added to in place (the accumulate-until-``zero_grad`` contract); a non-leaf's
    (``retain_grad``) is replaced by the sum, so an earlier result the user kept stays as it
    was (both as in PyTorch).
    """
    acc = t._grad  # written directly: the engine keeps shape and dtype
    if acc is None and owned and type(g) is np.ndarray and g.flags.writeable and \
            g.dtype == t._data.dtype and not create_graph:
        t._grad = _wrap(g)  # the usual case: once per parameter per step, kept short
        return
    if create_graph:
        g = g if isinstance(g, Tensor) else _wrap(g)
        with set_grad_enabled(True):
            if g.dtype != t._data.dtype:
                g = g.to(t._data.dtype)
            # Out of place, so the new .grad has a graph: a differentiable copy when it is the
            # first (g may be the caller's or reach several tensors), else a recorded sum.
            t._grad = BACKENDS.differentiable.clone(g) if t.grad is None else t.grad + g
        return
    if g.dtype != t._data.dtype:
        g, owned = g.astype(t._data.dtype), True
    if acc is None:
        t._grad = _wrap(g if owned and _writable(g) else np.array(g, copy=True))
        return
    a = acc._data
    if a.shape != np.shape(g):
        raise RuntimeError(f"grad of shape {a.shape} cannot accumulate {np.shape(g)}")
    if t._node is not None:
        t._grad = _wrap(a + g)
        return
    np.add(a, g, out=a)
    acc._version += 1


def _check_fresh(node, g, gave_g, in_grads, out, inputs, saved) -> None:
    """Debug check of a ``fresh_grads`` rule: its arrays share memory with nothing else.

    Handed ``F.owns_g``, the rule may return ``g`` itself (or write into it) for one input.
    """
    others = [t._data for t in inputs] + [out] + _arrays(saved)
    if not gave_g:
        others.append(g)
    grads = [gi for gi in in_grads if isinstance(gi, np.ndarray)]
    for i, gi in enumerate(grads):
        for other in others + grads[i + 1:]:
            if isinstance(other, np.ndarray) and np.shares_memory(gi, other):
                raise AssertionError(
                    f"{node.op.name}: its rule is declared fresh_grads but returned a gradient "
                    f"of shape {gi.shape} that shares memory with another array (an input, the "
                    "output, a saved value, the upstream gradient or another returned gradient)")


def _arrays(saved) -> list:
    if isinstance(saved, np.ndarray):
        return [saved]
    if isinstance(saved, (tuple, list)):
        return [a for s in saved for a in _arrays(s)]
    if isinstance(saved, dict):
        return [a for s in saved.values() for a in _arrays(s)]
    return []


def _no_graph_error():
    raise RuntimeError(
        "backward(): this tensor does not require grad and has no graph. Set "
        "requires_grad=True on the leaf tensors (e.g. the weights) before computing it, "
        "and do not compute it under no_grad()."
    )


def backward(tensor, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Add d(tensor)/d(leaf) into every leaf's ``.grad`` (see ``Tensor.backward``).

    ``tensor`` may also be a sequence of tensors with ``gradient`` a sequence to match, as in
    ``torch.autograd.backward(tensors, grad_tensors)``. With ``inputs``, only those tensors
    (leaves or not) get their gradient added into ``.grad``.
    """
    if isinstance(tensor, Tensor):
        if not tensor.requires_grad:
            _no_graph_error()
        if inputs is None:  # loss.backward(): once per training step
            run_backward((tensor,), (_seed(tensor, gradient, create_graph, "backward()"),),
                         retain_graph=create_graph if retain_graph is None else retain_graph,
                         create_graph=create_graph)
            return
        roots, grads = [tensor], [gradient]
    else:
        roots = list(tensor)
        grads = ([None] * len(roots) if gradient is None else
                 [gradient] if isinstance(gradient, Tensor) else list(gradient))
        if len(grads) != len(roots):
            raise ValueError(f"backward(): got {len(grads)} gradients for {len(roots)} tensors")
    for t in roots:
        if not t.requires_grad:
            _no_graph_error()
    if retain_graph is None:
        retain_graph = create_graph
    seeds = [_seed(t, g, create_graph, "backward()") for t, g in zip(roots, grads)]
    if inputs is None:
        run_backward(roots, seeds, retain_graph=retain_graph, create_graph=create_graph)
        return
    inputs = [inputs] if isinstance(inputs, Tensor) else list({id(t): t for t in inputs}.values())
    got = run_backward(roots, seeds, retain_graph=retain_graph, create_graph=create_graph,
                       capture=inputs, accumulate=False)
    _CALLBACKS.append([])
    try:
        for t in inputs:
            if id(t) in got:
                _accumulate(t, *got[id(t)], create_graph)
                if t._node is None and POST_ACCUMULATE_HOOKS:
                    _run_post_accumulate_hooks(t)
    finally:
        callbacks = _CALLBACKS.pop()
    for fn in callbacks:
        fn()


_ONES: dict = {}  # (shape, dtype) -> read-only ones, the seed of every scalar loss


def _ones(shape, dtype):
    """dL/dL = 1. Losses are scalars, so one shared read-only array serves every step; like
    every seed it is never owned, so nothing keeps or writes it."""
    key = (shape, dtype)
    g = _ONES.get(key)
    if g is None:
        g = np.ones(shape, dtype)
        g.flags.writeable = False
        if len(_ONES) < 64:
            _ONES[key] = g
    return g


def _seed(tensor, gradient, create_graph, where):
    if gradient is None:
        if tensor._data.size != 1:
            raise RuntimeError(
                f"{where}: grad can be implicitly created only for scalar outputs, but this "
                f"tensor has shape {tensor.shape}. Reduce it first (e.g. loss.sum() or "
                f"loss.mean()) or pass gradient=<tensor of shape {tensor.shape}> holding "
                "dLoss/dOutput."
            )
        g = _ones(tensor._data.shape, tensor._data.dtype)
    else:
        g = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)
        if g.shape != tensor.shape:
            raise ValueError(
                f"{where}: gradient has shape {g.shape} but the output has shape {tensor.shape}; "
                "they must match."
            )
        if g.dtype != tensor.dtype:
            g = g.astype(tensor.dtype)
    if create_graph:
        if isinstance(gradient, Tensor):
            return gradient
        return _wrap(g)
    return g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned instead of stored in ``.grad``.

    The arrays returned are the caller's alone: never a seed, a hook's tensor or an array the
    engine keeps (PyTorch may hand back ``grad_outputs`` itself when the gradient passes through
    unchanged; chainrule copies it).

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor(3.0, requires_grad=True)
        >>> (g,) = cr.autograd.grad(x ** 2, x)
        >>> float(g)
        6.0
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single_in = isinstance(inputs, Tensor)
    inputs = [inputs] if single_in else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad(): got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): inputs must be Tensors, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(
                f"grad(): an input (shape {t.shape}) does not require grad, so no gradient can be "
                "computed for it; create it with requires_grad=True."
            )
    seeds = []
    for o, go in zip(outputs, grad_outputs):
        if not o.requires_grad:
            raise RuntimeError(
                f"grad(): an output (shape {o.shape}) does not require grad: it does not depend "
                "on any tensor that requires grad (or was computed under no_grad)."
            )
        seeds.append(_seed(o, go, create_graph, "grad()"))
    if retain_graph is None:
        retain_graph = create_graph
    got = run_backward(outputs, seeds, retain_graph=retain_graph, create_graph=create_graph,
                       capture=inputs, accumulate=False)
    result = []
    for t in inputs:
        entry = got.get(id(t))
        if entry is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad(): one of the inputs (shape {t.shape}) was not used to compute the "
                    "outputs. Pass allow_unused=True to get None for it."
                )
            result.append(None)
            continue
        g, mine = entry
        got[id(t)] = (g, False)  # the same tensor asked for twice gets two arrays
        if not create_graph:
            if g.dtype != t.dtype:
                g = g.astype(t.dtype)
            elif not (mine and _writable(g)):
                g = np.array(g, copy=True)
            g = _wrap(g)
        result.append(g)
    return tuple(result)


__all__ = ["backward", "grad", "run_backward", "toposort", "sum_to", "install_backends"]
