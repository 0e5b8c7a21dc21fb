"""Export a model, check the file with onnx's checker and compare onnxruntime's outputs with
chainrule's (float32, rtol 1e-4) at the example's batch size and at others."""

from __future__ import annotations

import io

import numpy as np
import onnx
import onnxruntime as ort

import chainrule as cr
from chainrule.onnx import _layers, _trace

RTOL, ATOL = 1e-4, 1e-6


class Fn(cr.nn.Module):
    """A function as a model (export takes modules, as PyTorch's does)."""

    def __init__(self, fn) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


def export_bytes(model, args, **kwargs) -> bytes:
    buffer = io.BytesIO()
    cr.onnx.export(model, args, buffer, **kwargs)
    return buffer.getvalue()


def session(data: bytes) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1  # a shared machine
    return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])


def flat(out) -> list:
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in flat(o)]
    return [out.detach().numpy()]


def expected(model, args: tuple) -> list:
    training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with cr.no_grad():
            return flat(model(*args))
    finally:
        if hasattr(model, "train"):
            model.train(training)


def traced_ops(model, args: tuple) -> set:
    """The names of the ops and layers one traced forward pass records."""
    training = model.training
    model.eval()
    try:
        tr = _trace.run(model, args, {}, _layers.LAYERS)
    finally:
        model.train(training)
    return {s.name for s in tr.steps}


def roundtrip(model, args, *, dynamic=None, others=(), opset=17, names=None, **kwargs):
    """Export, check, run at ``args`` and at each tuple of ``others``; returns the ModelProto."""
    args = args if isinstance(args, tuple) else (args,)
    names = names or [f"x{i}" for i in range(len(args))]
    data = export_bytes(model, args, input_names=names, dynamic_axes=dynamic,
                        opset_version=opset, **kwargs)
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.ir_version == onnx.helper.find_min_ir_version_for(proto.opset_import)
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", opset)]
    sess = session(data)
    for inputs in (args,) + tuple(o if isinstance(o, tuple) else (o,) for o in others):
        want = expected(model, inputs)
        got = sess.run(None, {n: x.numpy() for n, x in zip(names, inputs)})
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, g.shape, w.dtype, w.shape)
            np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)
    return proto


def op_types(proto) -> set:
    return {n.op_type for n in proto.graph.node}
