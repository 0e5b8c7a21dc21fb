"""``export``: trace the model twice, map every step to ONNX, check the model, write it."""

from __future__ import annotations

import inspect
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import _nn, _ops  # noqa: F401 - importing them fills the table of mappings
from ._builder import Builder, c_order
from ._convert import OPS, Call, Info, unsupported
from ._layers import LAYERS
from ._trace import _is_custom, describe
from ._trace import run as trace
from .errors import OnnxExporterError

OPSETS = range(17, 22)
DEFAULT_OPSET = 17
_ACTIVE = threading.local()


def in_export() -> bool:
    return getattr(_ACTIVE, "on", False)


def require_onnx():
    """The ``onnx`` package, or an ImportError naming the extra that installs it."""
    try:
        import onnx
    except ImportError:
        raise ImportError("ONNX export needs the onnx package: pip install chainrule[onnx] "
                          "(onnx and onnxruntime)") from None
    return onnx


def export(model: Any, args: Any = (), f: str | os.PathLike | Any = None, *,
           kwargs: Mapping[str, Any] | None = None, verbose: bool | None = None,
           input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None,
           opset_version: int | None = None, dynamo: bool = True,
           external_data: bool = True, dynamic_shapes: Any = None,
           export_params: bool = True, keep_initializers_as_inputs: bool = False,
           dynamic_axes: Mapping[str, Mapping[int, str] | Sequence[int]] | None = None,
           training: Any = None, do_constant_folding: bool = True) -> None:
    """Write ``model`` as an ONNX model to ``f`` (a path or a binary file object).

    PyTorch's call. The model runs once on ``args`` (a tensor or a tuple of arguments; a
    trailing dict is taken as keyword arguments) in eval mode, and the recorded ops become the
    ONNX graph: parameters and buffers as initializers, the inputs and outputs named by
    ``input_names`` / ``output_names`` (default: forward's parameter names, and ``output`` or
    ``output_0``, ``output_1``...), and the axes named in ``dynamic_axes`` (``{"x": {0:
    "batch"}}``, or ``{"x": [0]}``) as symbolic sizes. ``opset_version``: 17 (the default) to
    21. The model is checked with ``onnx.checker.check_model(full_check=True)`` before it is
    written; an op with no ONNX mapping raises ``UnsupportedOperatorError`` naming the op and
    its line, and nothing is written.

    Like PyTorch's TorchScript-based exporter, export traces: Python control flow and sizes
    read as numbers are fixed by the example. Export runs the forward a second time with other
    input values (and other sizes along the dynamic axes) and refuses a model whose ops,
    attributes or constants change: see docs/onnx.md.

    ``dynamo`` is accepted for PyTorch programs and changes nothing: chainrule has one
    exporter. ``dynamic_shapes`` is not supported (use ``dynamic_axes``).

    Example:
        >>> import io, chainrule as cr
        >>> model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))
        >>> buffer = io.BytesIO()
        >>> cr.onnx.export(model, cr.randn(3, 4), buffer, input_names=["x"],
        ...                dynamic_axes={"x": {0: "batch"}})  # doctest: +SKIP
    """
    onnx = require_onnx()
    where = "chainrule.onnx.export"
    if f is None:
        raise ValueError(f"{where}: f must be a path or a binary file object to write to "
                         f"(chainrule returns no ONNXProgram)")
    opset = DEFAULT_OPSET if opset_version is None else opset_version
    if isinstance(opset, bool) or not isinstance(opset, int) or opset not in OPSETS:
        raise ValueError(f"{where}: opset_version must be an int from {OPSETS.start} to "
                         f"{OPSETS.stop - 1}, got {opset_version!r}")
    if dynamic_shapes is not None:
        raise ValueError(f"{where}: dynamic_shapes (torch.export's) is not supported; name the "
                         f"dynamic axes with dynamic_axes={{'x': {{0: 'batch'}}}}")
    if not export_params:
        raise ValueError(f"{where}: export_params=False is not supported (the parameters are "
                         f"always written as initializers)")
    if keep_initializers_as_inputs:
        raise ValueError(f"{where}: keep_initializers_as_inputs=True is not supported")
    if training is not None and getattr(training, "name", str(training)).upper() not in (
            "EVAL", "TRAININGMODE.EVAL"):
        raise ValueError(f"{where}: only training=TrainingMode.EVAL is supported (export "
                         f"always runs the model in eval mode)")
    args, kwargs = _split_args(args, kwargs, where)
    in_names = _input_names(model, args, input_names, where)
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    dyn = _dynamic_axes(dynamic_axes, in_names, args, positions, output_names, where)

    prev = getattr(_ACTIVE, "on", False)
    _ACTIVE.on = True
    modes = [(m, m.training) for m in model.modules()] if hasattr(model, "modules") else []
    try:
        if modes:
            model.eval()  # PyTorch's export does the same; the modes are put back after
        first = trace(model, args, kwargs, LAYERS)
        second = trace(model, _other_inputs(args, positions, in_names, dyn, where), kwargs,
                       LAYERS)
    finally:
        for m, mode in modes:
            m.training = mode
        _ACTIVE.on = prev
    first.compare(second)
    proto = _build(onnx, first, model, in_names, positions, output_names, dyn, opset,
                   do_constant_folding)
    if verbose:
        print(onnx.printer.to_text(proto.graph))
    _write(proto.SerializeToString(), f)


def _split_args(args, kwargs, where):
    if isinstance(args, Tensor):
        args = (args,)
    elif isinstance(args, list):
        args = tuple(args)
    elif not isinstance(args, tuple):
        raise TypeError(f"{where}: args must be a Tensor or a tuple of arguments, got "
                        f"{type(args).__name__}")
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict):  # PyTorch's convention: a trailing dict is kwargs
        kwargs.update(args[-1])
        args = args[:-1]
    if not any(isinstance(a, Tensor) for a in args):
        raise ValueError(f"{where}: args must hold at least one Tensor (the model's input)")
    return args, kwargs


def _input_names(model, args, input_names, where) -> list:
    """One name per tensor argument: the given ones, then forward's parameter names."""
    try:
        params = [p.name for p in inspect.signature(
            getattr(model, "forward", model)).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    defaults = [params[i] if i < len(params) else f"input_{i}" for i in range(len(args))]
    tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    given = list(input_names or [])
    if len(given) > len(tensor_pos):
        raise ValueError(f"{where}: {len(given)} input_names for {len(tensor_pos)} tensor "
                         f"inputs")
    names = given + [defaults[i] for i in tensor_pos[len(given):]]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: input names must be unique, got {names}")
    return names


def _dynamic_axes(dynamic_axes, in_names, args, positions, output_names, where) -> dict:
    """``{name: {axis: symbol}}`` for inputs and outputs."""
    out: dict[str, dict[int, str]] = {}
    known = set(in_names) | set(output_names or [])
    for name, axes in (dynamic_axes or {}).items():
        if name not in known:
            raise ValueError(f"{where}: dynamic_axes names {name!r}, which is neither an input "
                             f"({in_names}) nor an output ({list(output_names or [])}) name")
        if isinstance(axes, Mapping):
            spec = {int(a): str(s) for a, s in axes.items()}
        else:
            spec = {int(a): f"{name}_dynamic_axes_{k + 1}" for k, a in enumerate(axes)}
        if name in in_names:
            arr = args[positions[in_names.index(name)]]
            for a in spec:
                if not -arr.ndim <= a < arr.ndim:
                    raise ValueError(f"{where}: dynamic_axes[{name!r}] names axis {a}, but the "
                                     f"input has {arr.ndim} dims")
            spec = {a % arr.ndim: s for a, s in spec.items()}
        out[name] = spec
    return out


def _other_inputs(args, positions, in_names, dyn, where) -> tuple:
    """The second trace's arguments: other values, and other sizes along the dynamic axes
    (each symbol one larger than the last, so that no two of them can be confused)."""
    sizes: dict[str, tuple] = {}
    out = list(args)
    for name, pos in zip(in_names, positions):
        a = args[pos]._data
        for axis, sym in sorted(dyn.get(name, {}).items()):
            old = a.shape[axis]
            if sym in sizes and sizes[sym][0] != old:
                raise ValueError(f"{where}: dynamic axis {sym!r} has size {sizes[sym][0]} in one "
                                 f"input and {old} in {name!r}")
            new = sizes.setdefault(sym, (old, old + 1 + len(sizes)))[1]
            if old == 0:
                raise ValueError(f"{where}: the example input {name!r} is empty along dynamic "
                                 f"axis {axis}")
            a = np.take(a, np.arange(new) % old, axis=axis)
        # Other values in other places: a mask or an index computed from the values outside
        # the recorded ops changes, and the comparison of the traces sees it.
        a = np.roll(a.reshape(-1), 1).reshape(a.shape)
        if a.dtype.kind in "fc":
            a = a * a.dtype.type(0.75)
        t = Tensor(c_order(a))
        out[pos] = t
    return tuple(out)


def _build(onnx, tr, model, in_names, positions, output_names, dyn, opset, fold):
    helper = onnx.helper
    g = Builder(onnx, opset, fold)
    for n in in_names:
        g.reserve(n)
    n_out = len(tr.outputs)
    given = list(output_names or [])
    if len(given) > n_out:
        raise ValueError(f"chainrule.onnx.export: {len(given)} output_names for {n_out} outputs")
    out_names = given + (["output"] if n_out == 1 else [f"output_{k}" for k in range(n_out)])[
        len(given):]
    for n in out_names:
        g.reserve(n)

    param_ids = {}
    if hasattr(model, "named_parameters"):
        for name, p in list(model.named_parameters()) + list(model.named_buffers()):
            if p is not None:
                param_ids.setdefault(id(p), name)

    def param(tensor):
        name = param_ids.get(id(tensor))
        if name is None:
            return g.const(tensor._data, "weight")
        if name not in g.inits:
            g.reserve(name)
            g.inits[name] = tensor._data
        return name

    names: dict = {}
    infos: dict = {}

    def input_named(arr):
        for name, pos in zip(in_names, positions):
            if arr is tr.inputs[pos]:
                return name
        return None

    def resolve(ref, step):
        key = (ref.kind, ref.key if not isinstance(ref.key, list) else tuple(ref.key))
        if key in names:
            return names[key], infos[key]
        if ref.kind == "input":
            i = ref.key
            arr, arr2 = tr.inputs[i], tr.inputs2[i]
            name, info = in_names[positions.index(i)], Info(arr.shape, arr2.shape, arr.dtype)
        elif ref.kind == "param":
            arr = tr.params[ref.key]
            if ref.key not in g.inits:
                g.reserve(ref.key)
                g.inits[ref.key] = arr
            name, info = ref.key, Info(arr.shape, arr.shape, arr.dtype, arr)
        elif ref.kind == "const":
            k = ref.key
            arr = tr.consts[k]
            if tr.const_varies(k):
                raise OnnxExporterError(_varying_const(tr, k, step))
            name, info = g.const(arr, "const"), Info(arr.shape, arr.shape, arr.dtype, arr)
        else:
            raise AssertionError(ref)  # step outputs are named when the step is mapped
        names[key], infos[key] = name, info
        return name, info

    for j, step in enumerate(tr.steps):
        xs, info = [], []
        for r in step.inputs:
            if r is None:
                xs.append(None)
                info.append(None)
            else:
                n, i = resolve(r, step)
                xs.append(n)
                info.append(i)
        outs = [Info(a.shape, b.shape, a.dtype) for a, b in zip(step.outputs, step.outputs2)]
        constant = all(i is None or i.value is not None for i in info) and all(
            a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
            for a, b in zip(step.outputs, step.outputs2))
        if fold and constant and info:
            results = [g.const(c_order(a), step.name) for a in step.outputs]
            for o, a in zip(outs, step.outputs):
                o.value = a
        else:
            call = Call(g, step, xs, info, outs, param, input_named)
            if step.kind == "layer":
                results = step.handler.convert(call)
            else:
                fn = None if _is_custom(step) else OPS.get(step.name)
                if fn is None:
                    raise unsupported(step)
                results = fn(call)
            if isinstance(results, str):
                results = [results]
            if len(results) != len(step.outputs):  # pragma: no cover - a mapping's bug
                raise AssertionError(f"{describe(step)}: mapped to {len(results)} outputs")
            for r, o in zip(results, outs):
                if r in g.inits:
                    o.value = g.inits[r]
        for k, (r, o) in enumerate(zip(results, outs)):
            names[("step", (j, k))], infos[("step", (j, k))] = r, o

    graph_outputs, rename = [], {}
    produced = {o for node in g.nodes for o in node.output}
    for k, ref in enumerate(tr.outputs):
        name, info = (names[("step", tuple(ref.key))], infos[("step", tuple(ref.key))]) \
            if ref.kind == "step" else resolve(ref, None)
        target = out_names[k]
        if name in produced and name not in rename:
            rename[name] = target
        else:
            g.nodes.append(helper.make_node("Identity", [name], [target],
                                            name=g.fresh("/Identity")))
        graph_outputs.append((target, info))
    for node in g.nodes:
        for i, n in enumerate(node.input):
            if n in rename:
                node.input[i] = rename[n]
        for i, n in enumerate(node.output):
            if n in rename:
                node.output[i] = rename[n]

    symbols = {}  # (size, other size) -> symbol, from the inputs' dynamic axes
    inputs = []
    for name, pos in zip(in_names, positions):
        arr, arr2 = tr.inputs[pos], tr.inputs2[pos]
        spec = dyn.get(name, {})
        shape = []
        for a, size in enumerate(arr.shape):
            if a in spec:
                shape.append(spec[a])
                symbols.setdefault((size, arr2.shape[a]), spec[a])
            else:
                shape.append(size)
        inputs.append(helper.make_tensor_value_info(name, g.dtype(arr.dtype), shape))
    outputs = []
    for target, info in graph_outputs:
        spec = dyn.get(target, {})
        shape = []
        for a, (s1, s2) in enumerate(zip(info.shape, info.shape2)):
            if a in spec:
                shape.append(spec[a])
            elif s1 != s2:
                shape.append(symbols.get((s1, s2), f"{target}_dim{a}"))
            else:
                shape.append(s1)
        outputs.append(helper.make_tensor_value_info(target, g.dtype(info.dtype), shape))

    used = {n for node in g.nodes for n in node.input}
    inits = [onnx.numpy_helper.from_array(c_order(a), n)
             for n, a in g.inits.items() if n in used]
    graph = helper.make_graph(g.nodes, type(model).__name__, inputs, outputs, inits)
    from .. import __version__

    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="chainrule", producer_version=__version__)
    # make_model writes the newest IR version, which runtimes may not read yet.
    proto.ir_version = helper.find_min_ir_version_for(proto.opset_import)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as e:  # onnx's checker and shape-inference errors
        raise OnnxExporterError(f"the exported model fails onnx.checker.check_model: {e} (this "
                                f"is a bug in chainrule's ONNX mapping: please report it)") from e
    return proto


def _varying_const(tr, k, step) -> str:
    a, b = tr.consts[k], tr.consts2[k]
    user = step if step is not None else tr.const_where[k]
    what = (f"of shape {a.shape} that becomes {b.shape} for another input size"
            if a.shape != b.shape else f"of shape {a.shape} whose values change with the input")
    return (f"cannot export {describe(user)}: it reads a tensor {what}, computed outside the "
            f"recorded ops (a comparison such as x > 0, integer arithmetic on an index, a shape "
            f"read as a number and turned into a tensor, .detach(), .item() or no_grad). "
            f"Export records only the ops that take the input through the graph: compute it "
            f"with differentiable ops from the input, or make it independent of the input")


def _write(data: bytes, f) -> None:
    if hasattr(f, "write"):
        f.write(data)
        return
    # Atomic: a temporary file in the same folder, renamed over the target once complete.
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=folder)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; match a plain open()
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
