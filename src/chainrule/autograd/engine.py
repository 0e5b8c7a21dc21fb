"""Reverse-mode automatic differentiation: one iterative chain-rule loop.

``backward`` and ``grad`` share ``run_backward``: run every node after all nodes that consume
its output, calling the op's rule on the gradient of its output and summing what flows into each
input. The order comes from creation numbers: a node's producers were always recorded before
it, so running the latest-recorded pending node first (a heap keyed by ``Node.seq``, as
PyTorch's engine does) is a valid order. That merges the graph walk and the gradient pass into
one loop with no recursion (a 20,000-op chain is fine) and never visits nodes no gradient
reaches. Gradients wider than their input (because the forward broadcast it) are summed back to
the input's shape here, once, for every op.
"""

from __future__ import annotations

from heapq import heappop, heappush

import numpy as np

from ..tensor import Tensor, _wrap
from .anomaly import check_backward
from .backends import NP, NP_OWNED, TENSOR
from .grad_mode import STATE, set_grad_enabled
from .graph import _data, _requires_grad, _version


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
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1
    )
    if axes:
        g = F.sum(g, axis=axes)
    if tuple(g.shape) != tuple(shape):
        g = F.reshape(g, shape)
    return g


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


def run_backward(roots, seeds, *, retain_graph, create_graph, capture=None, accumulate=True,
                 tracer=None):
    """The chain-rule loop.

    roots: output tensors; seeds: their upstream gradients (arrays, or tensors if create_graph).
    capture: tensors whose total gradient to return (for ``autograd.grad``) instead of, or as
    well as, accumulating into leaves' ``.grad``.
    tracer: an observer (``cr.explain``) told ``step(node, g, in_grads)`` after each rule and
    ``leaf(tensor, g)`` for each leaf's summed gradient; it sees this loop, it does not copy it.
    Returns a dict id(tensor) -> gradient for the captured tensors.
    """
    F = TENSOR if create_graph else NP
    grads = {}  # node -> sum of the gradients of its output received so far
    ready = []  # heap of (-seq, node): nodes holding a gradient, latest-recorded first
    leaf_grads = {}  # id(leaf) -> [leaf, gradient]
    leaves = []  # (leaf, gradient) as they arrive
    captured = {}
    want = {id(t): t for t in capture} if capture else {}
    want_nodes = {t._node: t for t in capture if t._node is not None} if capture else {}
    fresh = set()  # ids of arrays that must be copied before being kept
    for t, s in zip(roots, seeds):
        n = t._node
        if n is None:
            _add_leaf(leaf_grads, t, s)
        else:
            prev = grads.get(n)
            if prev is None:
                grads[n] = s
                heappush(ready, (-n.seq, n))
            else:
                grads[n] = prev + s
        if not create_graph:
            fresh.add(id(s))
    anomaly = STATE.anomaly
    # Gradient arrays the engine alone holds (made by a fresh_grads rule or by a sum) may be
    # overwritten by the next rule; not when a tracer, anomaly mode or a capture looks at them.
    plain = not (create_graph or anomaly or tracer is not None or want_nodes)
    own = {}  # node -> True when its pending gradient array is the engine's alone
    prev_mode = STATE.enabled
    STATE.enabled = create_graph
    try:
        while ready:
            node = heappop(ready)[1]
            g = grads.pop(node)
            inputs = node.inputs
            if inputs is None:
                raise _freed_error(node)
            owned = own.pop(node, False) if own else False
            if node.hooks:
                g = _run_hooks(node.hooks, g, create_graph)
            if want_nodes and node in want_nodes:
                captured[id(want_nodes[node])] = g
            # One C-level tuple comparison; the loop that names the culprit only on mismatch.
            if node.versions != tuple(map(_version, inputs)):
                _check_versions(node)
            op, attrs, saved = node.op, node.attrs, node.saved
            if saved is not None or op.pass_needs_input_grad:
                attrs = dict(attrs) if attrs else {}
                if saved is not None:
                    attrs["saved"] = saved
                if op.pass_needs_input_grad:
                    attrs["needs_input_grad"] = tuple(map(_requires_grad, inputs))
            if create_graph:
                out = _wrap(node.out)
                out._node, out.requires_grad = node, True
                in_grads = op.backward(F, g, out, *inputs, **attrs) if attrs else op.backward(
                    F, g, out, *inputs)
            else:
                Fn = NP_OWNED if owned and type(g) is np.ndarray and g.flags.writeable else F
                in_grads = op.backward(Fn, g, node.out, *map(_data, inputs), **attrs) if attrs \
                    else op.backward(Fn, g, node.out, *map(_data, inputs))
            if anomaly:
                check_backward(node, in_grads, g)
            if tracer is not None:
                tracer.step(node, g, in_grads)
            mine = plain and op.fresh_grads
            for t, gi in zip(inputs, in_grads):
                if gi is None or not t.requires_grad:
                    continue
                if gi.shape != t.data.shape:
                    gi = sum_to(gi, t.data.shape, F)
                n = t._node
                if n is None:
                    leaves.append((t, gi))
                elif n in grads:
                    grads[n] = grads[n] + gi
                    if plain:
                        own[n] = True
                else:
                    grads[n] = gi
                    heappush(ready, (-n.seq, n))
                    if mine and (owned or gi is not g):
                        own[n] = True
            if not retain_graph:
                node.inputs = node.out = node.saved = None
    finally:
        STATE.enabled = prev_mode
    # Leaves get their gradients only now, once every rule has run: an array handed to one leaf
    # may still be an upstream gradient of a rule that has not run yet (``a + f(a)``).
    if accumulate and not (create_graph or want or tracer is not None or leaf_grads) and \
            _each_once_unhooked(leaves):
        # The usual case: each leaf got exactly one gradient and has no hook, so it goes
        # straight into ``.grad``. (A leaf reached twice must be summed first: an array one
        # leaf takes over may be another leaf's gradient as well.)
        for leaf, g in leaves:
            acc = leaf.grad
            if acc is None:
                # _accumulate's keep-or-copy decision, inlined for the common case (a fresh,
                # owned array of the leaf's dtype): this runs once per parameter per step.
                gid = id(g)
                if gid not in fresh and g.base is None and g.dtype == leaf.data.dtype and \
                        g.flags.writeable:
                    fresh.add(gid)
                    leaf.grad = _wrap(g)
                else:
                    _accumulate(leaf, g, False, fresh)
            elif g.dtype != acc.data.dtype or g.shape != acc.data.shape:
                _accumulate(leaf, g, False, fresh)
            else:
                np.add(acc.data, g, out=acc.data)
        return captured
    for t, g in leaves:
        _add_leaf(leaf_grads, t, g)
    for key, (leaf, g) in leaf_grads.items():
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g, create_graph)
        if tracer is not None:
            tracer.leaf(leaf, g)
        if key in want:
            captured[key] = g
            continue
        if accumulate:
            _accumulate(leaf, g, create_graph, fresh)
    return captured


def _each_once_unhooked(leaves) -> bool:
    seen = set()
    for t, _ in leaves:
        if t._hooks is not None or id(t) in seen:
            return False
        seen.add(id(t))
    return True


def _add_leaf(leaf_grads, t, g):
    entry = leaf_grads.get(id(t))
    if entry is None:
        leaf_grads[id(t)] = [t, g]
    else:
        entry[1] = entry[1] + g


def _run_hooks(hooks, g, create_graph):
    for hook in hooks:
        gt = g if create_graph else _wrap(g)
        res = hook(gt)
        if res is not None:
            if not isinstance(res, Tensor):
                raise TypeError(f"a gradient hook must return a Tensor or None, got {type(res)}")
            if res.shape != g.shape:
                raise RuntimeError(
                    f"a gradient hook returned shape {res.shape} for a gradient of shape "
                    f"{g.shape}; it must keep the shape")
            g = res if create_graph else res.data
    # A hook may keep the tensor it saw or return one it keeps: the array the engine goes on
    # to accumulate into (in place, later) must be the engine's own.
    return g if create_graph else g.copy()


def _accumulate(leaf, g, create_graph, fresh):
    """Add ``g`` into ``leaf.grad`` (the documented accumulate-until-zero_grad contract)."""
    if create_graph:
        g = g if isinstance(g, Tensor) else _wrap(g)
        with set_grad_enabled(True):
            if g.dtype != leaf.data.dtype:
                g = g.to(leaf.data.dtype)
            if leaf.grad is None:
                # A differentiable copy: one gradient tensor can reach several leaves (a + b) or
                # be the caller's own, and a later backward adds into .grad in place.
                from ..ops.elementwise import clone

                leaf.grad = clone(g)
            else:
                leaf.grad = leaf.grad + g
        return
    if g.dtype != leaf.data.dtype:
        g = g.astype(leaf.data.dtype)
    if leaf.grad is None:
        # Keep the array only if nothing else can see it: in-place accumulation later must not
        # write into a user's array, a view, or a gradient shared with another leaf.
        flags = g.flags
        if id(g) in fresh or not (flags.owndata and flags.writeable):
            g = g.copy()
        fresh.add(id(g))
        leaf.grad = _wrap(g)
    else:
        acc = leaf.grad.data
        if acc.shape != g.shape:
            raise RuntimeError(f"grad of shape {acc.shape} cannot accumulate {g.shape}")
        np.add(acc, g, out=acc)


def _no_graph_error():
    raise RuntimeError(
        "backward(): this tensor does not require grad and has no graph. Set "
        "requires_grad=True on the leaf tensors (e.g. the weights) before computing it, "
        "and do not compute it under no_grad()."
    )


def backward(tensor, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Add d(tensor)/d(leaf) into every leaf's ``.grad`` (see ``Tensor.backward``).

    ``tensor`` may also be a sequence of tensors with ``gradient`` a sequence to match, as in
    ``torch.autograd.backward(tensors, grad_tensors)``.
    """
    if isinstance(tensor, Tensor):
        if not tensor.requires_grad:
            _no_graph_error()
        seed = _seed(tensor, gradient, create_graph, "backward()")
        if inputs is None:
            run_backward((tensor,), (seed,), retain_graph=create_graph if retain_graph is None
                         else retain_graph, create_graph=create_graph)
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
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        got = run_backward(roots, seeds, retain_graph=retain_graph,
                           create_graph=create_graph, capture=inputs, accumulate=False)
        fresh = set()  # shared, so two inputs never keep the same array as their .grad
        for t in inputs:
            g = got.get(id(t))
            if g is not None:
                _accumulate(t, g, create_graph, fresh)
        return
    run_backward(roots, seeds, retain_graph=retain_graph, create_graph=create_graph)


_ONES: dict = {}  # (shape, dtype) -> read-only ones, the seed of every scalar loss


def _ones(shape, dtype):
    """dL/dL = 1. Losses are scalars, so one shared read-only array serves every step; seeds
    are never kept or written to (a leaf that gets one copies it, see ``fresh``)."""
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
        if tensor.data.size != 1:
            raise RuntimeError(
                f"{where}: grad can be implicitly created only for scalar outputs, but this "
                f"tensor has shape {tensor.shape}. Reduce it first (e.g. loss.sum() or "
                f"loss.mean()) or pass gradient=<tensor of shape {tensor.shape}> holding "
                "dLoss/dOutput."
            )
        g = _ones(tensor.data.shape, tensor.data.dtype)
    else:
        g = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
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

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor(3.0, requires_grad=True)
        >>> (g,) = cr.autograd.grad(x ** 2, x)
        >>> float(g)
        6.0
    """
    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
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
    roots, seeds = [], []
    for o, go in zip(outputs, grad_outputs):
        if not o.requires_grad:
            raise RuntimeError(
                f"grad(): an output (shape {o.shape}) does not require grad: it does not depend "
                "on any tensor that requires grad (or was computed under no_grad)."
            )
        roots.append(o)
        seeds.append(_seed(o, go, create_graph, "grad()"))
    if retain_graph is None:
        retain_graph = create_graph
    got = run_backward(roots, seeds, retain_graph=retain_graph, create_graph=create_graph,
                       capture=inputs, accumulate=False)
    result = []
    for t in inputs:
        g = got.get(id(t))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad(): one of the inputs (shape {t.shape}) was not used to compute the "
                    "outputs. Pass allow_unused=True to get None for it."
                )
            result.append(None)
            continue
        if not create_graph:
            if g.dtype != t.dtype:
                g = g.astype(t.dtype)
            g = _wrap(g)
        result.append(g)
    return tuple(result)


__all__ = ["backward", "grad", "run_backward", "toposort", "sum_to", "set_grad_enabled"]
