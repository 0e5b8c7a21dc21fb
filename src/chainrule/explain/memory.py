"""``cr.explain_memory``: what a graph keeps alive for its backward pass, op by op.

Backpropagation needs, at each op, values from the forward pass: its inputs, its output, the
extra arrays fused ops keep (softmax probabilities, normalised inputs, LSTM gates), masks and
indices. The engine keeps them on the graph's nodes until backward has used them (see
``autograd/saved.py``). This tool walks the graph behind an output before backward and adds
them up:

- per op: its name, the line of Python that recorded it, each array it holds (role, shape,
  dtype, bytes) and the bytes it adds;
- per module, when the forward ran inside ``nn`` modules and was recorded by this tool;
- the total, the largest contributors, and the parameters apart (they live with the model).

An array is counted once however many ops hold it, and a view counts as the array it views (a
slice keeps its whole base alive): the total is the sum of ``nbytes`` over the distinct base
arrays, which is the memory that freeing the graph returns. Nodes recorded under
``saved_tensors_hooks`` hold what the pack hook returned; under ``checkpoint``, a handle (the
array is recomputed in backward), plus the segment's inputs, counted once per checkpoint.

Two forms:

- ``cr.explain_memory(output)`` reads a graph already recorded. Source lines appear when the
  forward ran under ``detect_anomaly`` or this tool's recording;
- ``cr.explain_memory(fn, *args, **kwargs)`` runs ``fn(*args, **kwargs)`` (a model, a loss
  function...) while noting each op's source line and module, then explains its output; the
  result is ``report.output``, so backward can follow.

Example:
    >>> import chainrule as cr
    >>> net = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))
    >>> report = cr.explain_memory(net, cr.ones(16, 4))
    >>> report.activation_bytes       # z1 and h1 (16x8 float32) and the output (16x2)
    1152
    >>> sorted(report.by_module)
    ['0', '1', '2']
"""

from __future__ import annotations

import linecache
import sys
import weakref
from dataclasses import dataclass, field

import numpy as np

from ..autograd.anomaly import _capture
from ..autograd.saved import Packed, SavedEdge, observe_nodes
from ..messages import check, say
from ..tensor import Tensor

KINDS = ("activation", "input", "parameter")


@dataclass
class SavedArray:
    """One array an op keeps for backward.

    ``role``: which of the op's values it is (``input 0``, ``output``, ``saved``, an attribute's
    name, ``checkpoint input``); ``nbytes``: the array's own size; ``held``: the bytes it adds to
    the total (its base array's size, 0 when another op already holds that base or when it is
    not in memory); ``kind``: ``activation``, ``input`` (data and constants: leaves that need no
    gradient) or ``parameter``; ``state``: ``kept``, ``packed`` (what a saved-tensor hook
    returned) or ``recomputed`` (checkpointed: nothing kept, backward computes it again);
    ``shared_with``: the op that holds the same memory first.
    """

    role: str
    shape: tuple
    dtype: str
    nbytes: int
    held: int
    kind: str
    state: str = "kept"
    shared_with: str | None = None


@dataclass
class OpMemory:
    """One recorded op: ``name`` (``linear``, ``relu``...), its position ``index`` in forward
    order, ``where`` (the source line, or None when it was not recorded), ``module`` (the
    innermost module's name, or None), the arrays and ``bytes``, what it adds (not counting
    parameters)."""

    index: int
    name: str
    where: str | None
    module: str | None
    arrays: list = field(default_factory=list)
    bytes: int = 0


class MemoryReport:
    """What a graph keeps alive for backward (see the module's docstring).

    ``total_bytes``: everything the graph keeps alive except parameters (activations and input
    data); ``activation_bytes``, ``input_bytes`` and ``parameter_bytes`` split it; ``by_op``:
    one ``OpMemory`` per op, in forward order; ``by_module``: ``{module name: bytes}``, each
    module counting its submodules' ops too; ``largest(n)``: the ops that add most;
    ``output``: the forward's result when ``explain_memory`` ran it. ``str(report)`` is the
    report in its language; ``to_text(lang=..., limit=...)`` picks another or more rows.
    """

    def __init__(self, by_op, by_module, totals, lang, output=None, recorded=False) -> None:
        self.by_op: list[OpMemory] = by_op
        self.by_module: dict[str, int] = by_module
        self.activation_bytes = totals["activation"]
        self.input_bytes = totals["input"]
        self.parameter_bytes = totals["parameter"]
        self.total_bytes = self.activation_bytes + self.input_bytes
        self.lang = lang
        self.output = output
        self.recorded = recorded

    def largest(self, n: int = 5) -> list[OpMemory]:
        """The ``n`` ops that add the most bytes, largest first."""
        return sorted((o for o in self.by_op if o.bytes), key=lambda o: -o.bytes)[:n]

    def __repr__(self) -> str:
        return (f"MemoryReport(total_bytes={self.total_bytes}, ops={len(self.by_op)}, "
                f"parameter_bytes={self.parameter_bytes})")

    def __str__(self) -> str:
        return self.to_text()

    def to_text(self, lang: str | None = None, limit: int = 40) -> str:
        """The report as text; ``limit`` caps the per-op table (0: every op)."""
        return _render(self, check(lang or self.lang), limit)


# ---- reading the graph ---------------------------------------------------------------------


def _nodes(outputs) -> list:
    seen, stack = set(), [o._node for o in outputs if o._node is not None]
    order = []
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        order.append(n)
        if n.inputs is None:
            raise RuntimeError(
                f"explain_memory(): the graph was freed by a backward pass (at {n.name()}); "
                "explain the output before calling backward(), or pass retain_graph=True")
        stack.extend(t._node for t in n.inputs if t._node is not None)
    return sorted(order, key=lambda n: n.seq)


def _base(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _key(a):
    """What owns ``a``'s memory: its base array, or a NumPy scalar itself."""
    return _base(a) if isinstance(a, np.ndarray) else a


def _structure(obj, role: str, out: list) -> None:
    """(role, array) for every ndarray or Tensor inside ``obj``."""
    if isinstance(obj, Tensor):
        out.append((role, obj._data))
    elif isinstance(obj, (np.ndarray, np.generic)):
        out.append((role, obj))
    elif type(obj) in (tuple, list):
        for v in obj:
            _structure(v, role, out)
    elif type(obj) is dict:
        for k, v in obj.items():
            _structure(v, f"{role} {k}" if role else str(k), out)


def _node_arrays(node) -> list:
    """(role, array or packed item, state) for everything ``node`` keeps."""
    found = []
    saved = node.saved
    if type(saved) is Packed:
        n, n_saved = saved.n_in, saved.n_saved
        for i, (item, (shape, dtype)) in enumerate(zip(saved.items, saved.metas)):
            role = (f"input {i}" if i < n else "output" if i == n else
                    "saved" if i <= n + n_saved else "attribute")
            if i < n and type(node.inputs[i]) is not SavedEdge:  # a parameter: still held
                found.append((role, node.inputs[i]._data, "kept"))
                if _packed_arrays(item)[1] or not _packed_arrays(item)[0]:
                    continue  # recomputed, or kept outside memory: nothing more here
            found.append((role, (item, shape, dtype), "packed"))
        ctx = (node.attrs or {}).get("ctx")
        packed_ctx = getattr(ctx, "_packed", None)
        if packed_ctx is not None:
            for item, meta in zip(packed_ctx.items, packed_ctx.metas):
                if meta is not None:
                    found.append(("ctx saved", (item, meta[0], meta[1]), "packed"))
        return found
    for i, t in enumerate(node.inputs):
        found.append((f"input {i}", t._data, "kept"))
    if node.out is not None:
        found.append(("output", node.out, "kept"))
    arrays: list = []
    _structure(saved, "saved", arrays)
    for k, v in (node.attrs or {}).items():
        if k == "ctx":
            _structure(getattr(v, "_saved", ()), "ctx saved", arrays)
        elif k not in ("fn", "positions", "nargs"):
            _structure(v, k, arrays)
    found += [(role, a, "kept") for role, a in arrays]
    return found


def _packed_arrays(item):
    """What a packed item keeps in memory: arrays, plus whether it stands for a recomputation."""
    if isinstance(item, Tensor):
        return [item._data], False
    if isinstance(item, np.ndarray):
        return [item], False
    kept = getattr(item, "kept_arrays", None)
    if kept is not None:
        return [], True
    return [], False


def _kinds(nodes) -> dict:
    """id(base) -> kind for the arrays of the graph's leaves."""
    kinds = {}
    for n in nodes:
        for t in n.inputs:
            if t._node is None and type(t) is not SavedEdge:
                kinds[id(_key(t._data))] = "parameter" if t.requires_grad else "input"
            elif type(t) is SavedEdge and t._node is None:
                ref = t._ref()
                if ref is not None:
                    kinds.setdefault(id(_key(ref._data)), "input")
    return kinds


class _Accounts:
    """Counts each base array once; remembers which op held it first."""

    def __init__(self, kinds) -> None:
        self.kinds = kinds
        self.owner: dict = {}  # id(base) -> op label
        self.keep: list = []  # the bases, so their ids stay unique while we count
        self.totals = {k: 0 for k in KINDS}

    def add(self, role, a, label, state="kept") -> SavedArray:
        # a NumPy scalar (a reduction's result) is its own storage: keyed by the object
        base = _key(a)
        key = id(base)
        kind = self.kinds.get(key, "activation")
        first = key not in self.owner
        if first:
            self.owner[key] = label
            self.keep.append(base)
            self.totals[kind] += base.nbytes
        held = base.nbytes if first and kind != "parameter" else 0
        return SavedArray(role, tuple(np.shape(a)), str(a.dtype), int(a.nbytes), int(held),
                          kind, state, None if first else self.owner[key])


def _label(op: OpMemory) -> str:
    return f"#{op.index} {op.name}"


def _where(node, sources) -> tuple:
    info = sources.get(node) if sources is not None else None
    where = info[0] if info is not None else node.where
    module = info[1] if info is not None else None
    return _format_where(where), module


def _short(path: str) -> str:
    parts = path.replace("\\", "/").split("/")
    if "chainrule" in parts:
        return "/".join(parts[parts.index("chainrule"):])
    return parts[-1]


def _format_where(where) -> str | None:
    if not where:
        return None
    user, lib = where
    text = []
    if user is not None and not user[0].startswith("<frozen"):  # python -m: not the user's
        filename, lineno, _ = user
        src = linecache.getline(filename, lineno).strip()
        text.append(f"{_short(filename)}:{lineno}" + (f"  {src}" if src else ""))
    if lib is not None:
        filename, lineno, func = lib
        text.append(f"[{_short(filename)}:{lineno} {func}]")
    return " ".join(text) or None


def _explain(outputs, sources, lang, output=None) -> MemoryReport:
    nodes = _nodes(outputs)
    acc = _Accounts(_kinds(nodes))
    frames_seen: set = set()
    by_op: list[OpMemory] = []
    for i, node in enumerate(nodes, 1):
        where, module = _where(node, sources)
        op = OpMemory(i, node.op.name, where, module)
        label = _label(op)
        for role, value, state in _node_arrays(node):
            if state == "kept":
                op.arrays.append(acc.add(role, value, label))
                continue
            item, shape, dtype = value
            arrays, recomputed = _packed_arrays(item)
            if recomputed:
                op.arrays.append(SavedArray(role, tuple(shape), str(dtype),
                                            int(np.prod(shape, dtype=np.int64)
                                                * np.dtype(dtype).itemsize),
                                            0, "activation", "recomputed"))
                frame = getattr(item, "frame", item)
                if id(frame) not in frames_seen:
                    frames_seen.add(id(frame))
                    for a in item.kept_arrays():
                        op.arrays.append(acc.add("checkpoint input", a, label))
                continue
            if not arrays:  # a file name, a key: nothing of it in memory
                op.arrays.append(SavedArray(role, tuple(shape), str(dtype), 0, 0,
                                            "activation", "packed"))
            for a in arrays:
                op.arrays.append(acc.add(role, a, label, "packed"))
        op.bytes = sum(a.held for a in op.arrays)
        by_op.append(op)
    by_module: dict[str, int] = {}
    for op in by_op:
        if not op.module:  # outside modules, or in the model's own forward (its total is all)
            continue
        parts = op.module.split(".")
        for k in range(1, len(parts) + 1):
            name = ".".join(parts[:k])
            by_module[name] = by_module.get(name, 0) + op.bytes
    return MemoryReport(by_op, by_module, acc.totals, lang, output, sources is not None)


# ---- recording sources and modules ---------------------------------------------------------


class _Recorder:
    """Notes each recorded node's source line and innermost module (by frame inspection)."""

    def __init__(self, names: dict) -> None:
        self.names = names  # id(module) -> qualified name
        self.sources: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        from ..nn.modules.module import Module

        self.codes = {Module.__call__.__code__, Module._call_hooked.__code__}

    def __call__(self, node) -> None:
        self.sources[node] = (_capture(), self._module())

    def _module(self) -> str | None:
        f = sys._getframe(2)
        chain = []
        while f is not None:
            if f.f_code in self.codes:
                m = f.f_locals.get("self")
                name = self.names.get(id(m))
                if name is not None:
                    return name if not chain else ".".join([name] + chain[::-1])
                chain.append(type(m).__name__)
            f = f.f_back
        if not chain:
            return None
        return ".".join(chain[::-1])


def _module_names(model) -> dict:
    if model is None or not hasattr(model, "named_modules"):
        return {}
    return {id(m): name for name, m in model.named_modules()}


def _outputs(result) -> list:
    found = []
    if isinstance(result, Tensor):
        found.append(result)
    elif isinstance(result, (tuple, list)):
        for r in result:
            found += _outputs(r)
    elif isinstance(result, dict):
        for r in result.values():
            found += _outputs(r)
    return [t for t in found if t._node is not None]


def explain_memory(output, *args, model=None, lang: str = "en", **kwargs) -> MemoryReport:
    """What the graph behind ``output`` keeps alive for backward, per op, per module, in total.

    ``output``: a tensor (or a tuple, list or dict of them) whose graph was recorded; or a
    callable, run here as ``output(*args, **kwargs)`` with each op's source line and module
    noted (``report.output`` is its result). ``model``: a Module whose names label the modules
    (by default the callable itself when it is one). ``lang``: ``"en"`` or ``"zh"``.

    Example:
        >>> import chainrule as cr
        >>> w = cr.ones(1000, requires_grad=True)
        >>> r = cr.explain_memory((w.exp() * 2).sum())
        >>> r.activation_bytes, r.parameter_bytes   # exp's and mul's outputs, the sum's
        (8004, 4000)
    """
    lang = check(lang)
    if callable(output) and not isinstance(output, Tensor):
        fn = output
        if model is None and hasattr(fn, "named_modules"):
            model = fn
        recorder = _Recorder(_module_names(model))
        with observe_nodes(recorder):
            result = fn(*args, **kwargs)
        outs = _outputs(result)
        if not outs:
            raise ValueError("explain_memory(): the function returned no tensor with a graph "
                             "(nothing requires grad, or it ran under no_grad)")
        return _explain(outs, recorder.sources, lang, output=result)
    if args or kwargs:
        raise TypeError("explain_memory(output): extra arguments are only for a callable "
                        "(explain_memory(model, x) runs model(x))")
    outs = _outputs(output)
    if not outs:
        raise ValueError("explain_memory(): expected a tensor with a graph (the output of ops "
                         "on tensors that require grad), got "
                         + (type(output).__name__ if not isinstance(output, Tensor)
                            else "a tensor without one"))
    return _explain(outs, None, lang)


# ---- rendering -----------------------------------------------------------------------------


def size(n: int) -> str:
    """Bytes in the largest binary unit that keeps a number >= 1: ``3.0 MiB``."""
    n = int(n)
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _array_text(a: SavedArray, lang: str) -> str:
    shape = "x".join(map(str, a.shape)) if a.shape else say(lang, "mem.scalar")
    text = f"{a.role} {shape} {a.dtype}"
    if a.kind == "parameter":
        return text + " " + say(lang, "mem.parameter")
    if a.shared_with is not None:
        return text + " " + say(lang, "mem.shared", op=a.shared_with)
    extra = say(lang, "mem.packed") + " " if a.state == "packed" else ""
    if a.kind == "input":
        extra += say(lang, "mem.input") + " "
    return f"{text} {extra}{size(a.held)}" if a.held or not extra else f"{text} {extra}".rstrip()


def _render(r: MemoryReport, lang: str, limit: int) -> str:
    lines = [say(lang, "mem.title"), ""]
    lines.append(say(lang, "mem.total", total=size(r.total_bytes),
                     act=size(r.activation_bytes), inputs=size(r.input_bytes),
                     params=size(r.parameter_bytes), ops=len(r.by_op)))
    top = r.largest(5)
    if top:
        lines += ["", say(lang, "mem.largest")]
        for op in top:
            pct = 100.0 * op.bytes / r.total_bytes if r.total_bytes else 0.0
            mod = f" ({op.module})" if op.module else ""
            lines.append(f"  #{op.index} {op.name}{mod}: {size(op.bytes)} ({pct:.0f}%)")
    if r.by_module:
        depth = min(p.count(".") for p in r.by_module) if r.by_module else 0
        shown = [(p, b) for p, b in r.by_module.items() if p.count(".") <= depth + 1]
        lines += ["", say(lang, "mem.by_module")]
        width = max(len(p) for p, _ in shown)
        for p, b in shown[:30]:
            lines.append(f"  {p.ljust(width)}  {size(b)}")
        if len(shown) > 30:
            lines.append("  " + say(lang, "mem.more", n=len(shown) - 30))
    lines += ["", say(lang, "mem.by_op")]
    rows = r.by_op if not limit else r.by_op[:limit]
    for op in rows:
        mod = f" [{op.module}]" if op.module else ""
        lines.append(f"  #{op.index} {op.name}{mod}: {size(op.bytes)}")
        if op.where:
            lines.append(f"      {op.where}")
        again = [a for a in op.arrays if a.state == "recomputed"]
        for a in op.arrays:
            if a.state != "recomputed":
                lines.append(f"      - {_array_text(a, lang)}")
        if again:
            listed = ", ".join(f"{a.role} " + ("x".join(map(str, a.shape)) or "()")
                               for a in again)
            lines.append(f"      - {say(lang, 'mem.recomputed_list', arrays=listed)}")
    if limit and len(r.by_op) > limit:
        lines.append("  " + say(lang, "mem.more_ops", n=len(r.by_op) - limit))
    if not r.recorded and not any(op.where for op in r.by_op):
        lines += ["", say(lang, "mem.no_sources")]
    lines += ["", say(lang, "mem.how")]
    return "\n".join(lines) + "\n"


__all__ = ["explain_memory", "MemoryReport", "OpMemory", "SavedArray", "size"]
