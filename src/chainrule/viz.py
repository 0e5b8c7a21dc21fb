"""Draw a computation graph or a model as Graphviz DOT source; render it with ``dot``.

``to_dot`` needs nothing but chainrule: it returns DOT text. ``render`` runs Graphviz's ``dot``
program when it is installed (``apt-get install graphviz`` or ``brew install graphviz``).

Example:
    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True, name="w")
    >>> src = cr.viz.to_dot((w * w).sum())
    >>> src.splitlines()[0]
    'digraph chainrule {'
    >>> "w" in src and "mul" in src
    True
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from .explain import fmt
from .explain.naming import Namer, ordered_nodes

__all__ = ["to_dot", "model_to_dot", "render", "GraphvizNotFoundError"]

_INSTALL = ("Graphviz's `dot` program is not installed. Install it with "
            "`apt-get install graphviz` (Debian/Ubuntu) or `brew install graphviz` (macOS), "
            "or save the text of cr.viz.to_dot(...) and render it elsewhere.")


class GraphvizNotFoundError(RuntimeError):
    """``dot`` is not on the PATH."""


def _q(s: str) -> str:
    """A DOT double-quoted string (newlines become line breaks)."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _summary(a) -> str:
    if a is None:
        return "-"
    a = np.asarray(a)
    if a.size == 1:
        return fmt.arr(a)
    if a.dtype.kind not in "fc":
        return f"{tuple(a.shape)} {a.dtype}"
    return f"norm {fmt.num(float(np.sqrt(np.sum(np.square(a, dtype=np.float64)))))}"


def _names(params):
    """``{tensor: name}`` from a Module, ``{name: tensor}`` (as torchviz) or ``{tensor: name}``."""
    if params is None:
        return None
    if hasattr(params, "named_parameters"):
        return params
    out = {}
    for k, v in dict(params).items():
        t, n = (v, k) if isinstance(k, str) else (k, v)
        out[t] = n
    return out


def to_dot(tensor, params=None, *, show_values: bool = True, grads=False) -> str:
    """DOT source of the graph that produced ``tensor``.

    Op nodes (boxes) show the op, the output's shape and value; leaves (ovals) show the name,
    shape, value and ``.grad``: parameters blue, constants grey. ``params`` names parameters: a
    Module, ``dict(model.named_parameters())`` or ``{tensor: name}``. ``grads=True`` (or a
    ``Trace`` from ``cr.explain``) also shows the gradient reaching each op's output; with
    ``True`` the engine computes it via ``cr.explain``, leaving ``.grad`` untouched.
    """
    if grads is True:
        from .explain import explain

        grads = explain(tensor, names=_names(params))
    upstream = {st.seq: st.upstream for st in grads.steps} if grads else {}
    nodes = ordered_nodes(tensor)
    namer = Namer(tensor, nodes, names=_names(params))
    lines = ["digraph chainrule {", "  rankdir=BT;",
             '  node [fontname="Helvetica", fontsize=10];']
    ids: dict[object, str] = {}
    leaves: dict[int, str] = {}

    def leaf_id(t) -> str:
        key = id(t)
        if key not in leaves:
            leaves[key] = f"l{len(leaves)}"
            label = [namer.tensor(t), fmt.shape(t._data)]
            if show_values:
                label.append("value " + _summary(t._data))
                if t.grad is not None:
                    label.append("grad " + _summary(t.grad._data))
            color = "lightblue" if t.requires_grad else "lightgrey"
            lines.append(f"  {leaves[key]} [shape=ellipse, style=filled, fillcolor={color}, "
                         f"label={_q(chr(10).join(label))}];")
        return leaves[key]

    if not nodes:
        leaf_id(tensor)
    for i, n in enumerate(nodes):
        ids[n] = f"n{i}"
    for n in nodes:
        out = n.out
        label = [f"{namer.node(n)} = {n.op.name}"]
        if out is not None:
            label.append(fmt.shape(out))
            if show_values:
                label.append("value " + _summary(out))
            if n.seq in upstream:
                label.append("grad " + _summary(upstream[n.seq]))
        else:
            label.append("(freed by backward)")
        extra = ", penwidth=2" if n is tensor._node else ""
        lines.append(f"  {ids[n]} [shape=box, style=rounded{extra}, "
                     f"label={_q(chr(10).join(label))}];")
        for t in n.inputs or ():
            src = ids[t._node] if t._node is not None and t._node in ids else leaf_id(t)
            lines.append(f"  {src} -> {ids[n]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def model_to_dot(model, input_shape, dtype=None) -> str:
    """DOT source of a Module: its layers as boxes, in call order, with their output shapes.

    Runs one forward pass on zeros of ``input_shape`` (under no_grad) with forward hooks.

    Example:
        >>> import chainrule as cr
        >>> net = cr.nn.Sequential(cr.nn.Linear(4, 3), cr.nn.ReLU(), cr.nn.Linear(3, 2))
        >>> "(5, 3)" in cr.viz.model_to_dot(net, (5, 4))
        True
    """
    import chainrule as cr

    calls, handles = [], []
    for name, m in model.named_modules():
        if next(iter(m.children()), None) is None:
            handles.append(m.register_forward_hook(
                lambda mod, args, out, name=name: calls.append((name, mod, out))))
    try:
        with cr.no_grad():
            model(cr.zeros(*input_shape, dtype=dtype))
    finally:
        for h in handles:
            h.remove()
    lines = ["digraph model {", "  rankdir=TB;",
             '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];',
             f"  input [shape=oval, label={_q('input' + chr(10) + str(tuple(input_shape)))}];"]
    prev = "input"
    for i, (name, mod, out) in enumerate(calls):
        extra = mod.extra_repr()
        kind = type(mod).__name__ + (f"({extra})" if extra and len(extra) <= 40 else "")
        n_params = sum(int(p._data.size) for p in mod.parameters())
        label = [f"{name}: {kind}" if name else kind]
        shape = getattr(out, "shape", None)
        label.append(f"out {tuple(shape)}" if shape is not None else "out ?")
        if n_params:
            label.append(f"{n_params:,} parameters")
        lines.append(f"  m{i} [label={_q(chr(10).join(label))}];")
        lines.append(f"  {prev} -> m{i};")
        prev = f"m{i}"
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(graph, path: str | Path, params=None, format: str | None = None) -> Path:  # noqa: A002
    """Render a tensor's graph (or DOT source text) to ``path`` with Graphviz's ``dot``.

    The format is ``format`` or the file's suffix (svg, png, pdf). Raises
    ``GraphvizNotFoundError`` saying how to install Graphviz when ``dot`` is missing.
    """
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizNotFoundError(_INSTALL)
    path = Path(path)
    src = graph if isinstance(graph, str) else to_dot(graph, params)
    fmt_ = format or path.suffix.lstrip(".") or "svg"
    subprocess.run([dot, f"-T{fmt_}", "-o", str(path)], input=src.encode(), check=True,
                   capture_output=True)
    return path
