"""What export refuses, and how it says so; its arguments; what it leaves untouched."""

from __future__ import annotations

import inspect
import io
import os
import sys

import numpy as np
import onnx
import pytest
from onnx_check import Fn, export_bytes, roundtrip, session

import chainrule as cr
import chainrule.nn as nn
from chainrule.onnx import OnnxExporterError, UnsupportedOperatorError


class Cube(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * g


class WithCube(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return Cube.apply(self.fc(x))  # the line the error must name


class WithCumprod(nn.Module):
    def forward(self, x):
        return x.cumprod(1)  # the line the error must name


def _line(cls, text):
    src, first = inspect.getsourcelines(cls)
    return first + next(i for i, s in enumerate(src) if text in s)


@pytest.mark.parametrize("model,what,text", [
    (WithCube(), "custom autograd Function 'Cube'", "Cube.apply"),
    (WithCumprod(), "op 'cumprod'", "x.cumprod(1)"),
])
def test_unmapped_op_names_the_op_its_line_and_what_is_supported(tmp_path, model, what, text):
    path = tmp_path / "model.onnx"
    with pytest.raises(UnsupportedOperatorError) as err:
        cr.onnx.export(model, cr.randn(2, 3), path)
    msg = str(err.value)
    assert what in msg
    assert f"{__file__}:{_line(type(model), text)}" in msg and text in msg
    assert "Supported ops: abs, add," in msg and "linear" in msg
    assert "Layers exported as a whole:" in msg and "LSTM" in msg
    assert not path.exists() and os.listdir(tmp_path) == []  # nothing written, no leftovers


def test_a_failed_export_leaves_an_existing_file_alone(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"the previous model")
    with pytest.raises(UnsupportedOperatorError):
        cr.onnx.export(WithCumprod(), cr.randn(2, 3), str(path))
    assert path.read_bytes() == b"the previous model" and os.listdir(tmp_path) == ["model.onnx"]


def test_unsupported_attribute_is_named():
    with pytest.raises(UnsupportedOperatorError, match=r"op 'get_item'.*boolean mask"):
        export_bytes(Fn(lambda x: x[x > 0]), cr.randn(2, 3))
    with pytest.raises(UnsupportedOperatorError, match=r"op 'bitwise_and'.*opset 18"):
        export_bytes(Fn(lambda i: i & 3), cr.tensor([1, 2]), opset_version=17)


def test_value_computed_outside_the_ops_is_refused():
    def leaky(x):
        return x * cr.tensor(x.detach().numpy() > 0).float()

    with pytest.raises(OnnxExporterError, match=r"computed outside the recorded ops"):
        export_bytes(Fn(leaky), cr.randn(2, 3))


def test_size_that_follows_a_dynamic_axis_without_a_mapping_is_refused():
    def fn(x):
        return x + cr.zeros(x.shape[0], 3)  # a new tensor of the batch's size

    with pytest.raises(OnnxExporterError, match=r"of shape \(2, 3\) that becomes \(3, 3\)"):
        export_bytes(Fn(fn), cr.randn(2, 3), input_names=["x"], dynamic_axes={"x": [0]})
    export_bytes(Fn(fn), cr.randn(2, 3))  # a fixed batch size is fine


def test_control_flow_on_a_dynamic_size_is_refused():
    def fn(x):
        return x * 2 if x.shape[0] > 2 else x + 1

    with pytest.raises(OnnxExporterError, match="control flow"):
        export_bytes(Fn(fn), cr.randn(2, 3), input_names=["x"], dynamic_axes={"x": {0: "b"}})


def test_input_changed_in_place_after_an_op_read_it_is_refused():
    def fn(x):
        mask = x > 0
        y = x.masked_fill(mask, 0.0)
        mask[0] = True
        return y

    with pytest.raises(OnnxExporterError, match="changed in place"):
        export_bytes(Fn(fn), cr.randn(2, 3))


def test_missing_onnx_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install chainrule\[onnx\]"):
        export_bytes(nn.Linear(2, 2), cr.randn(1, 2))


@pytest.mark.parametrize("kwargs,match", [
    ({"opset_version": 16}, "opset_version must be an int from 17 to 21"),
    ({"opset_version": 22}, "opset_version must be an int from 17 to 21"),
    ({"dynamic_axes": {"y": [0]}}, "dynamic_axes names 'y', which is neither"),
    ({"dynamic_axes": {"x": [2]}}, r"names axis 2, but the input has 2 dims"),
    ({"input_names": ["a", "b"]}, "2 input_names for 1 tensor inputs"),
    ({"output_names": ["a", "b"]}, "2 output_names for 1 outputs"),
    ({"dynamic_shapes": {"x": {0: "b"}}}, "dynamic_axes="),
    ({"export_params": False}, "export_params=False"),
])
def test_bad_arguments(kwargs, match):
    kwargs.setdefault("input_names", ["x"])
    with pytest.raises(ValueError, match=match):
        export_bytes(nn.Linear(2, 2), cr.randn(1, 2), **kwargs)


def test_f_and_args_are_checked():
    with pytest.raises(ValueError, match="f must be a path"):
        cr.onnx.export(nn.Linear(2, 2), cr.randn(1, 2), None)
    with pytest.raises(TypeError, match="args must be a Tensor or a tuple"):
        cr.onnx.export(nn.Linear(2, 2), np.ones((1, 2)), io.BytesIO())
    with pytest.raises(ValueError, match="at least one Tensor"):
        cr.onnx.export(nn.Linear(2, 2), (3,), io.BytesIO())


class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, image, scale, offset=0.0):
        return self.fc(image) * scale + offset, image.sum(1)


def test_default_names_are_forward_parameters_and_outputs_are_numbered(tmp_path):
    path = tmp_path / "m.onnx"
    model = TwoInputs()
    # a trailing dict holds keyword arguments, as in PyTorch
    cr.onnx.export(model, (cr.randn(2, 3), cr.tensor(2.0), {"offset": 1.0}), path)
    proto = onnx.load(path)
    assert [i.name for i in proto.graph.input] == ["image", "scale"]
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1"]
    x = cr.randn(2, 3)
    feed = {"image": x.numpy(), "scale": np.array(3, np.float32)}
    got = session(path.read_bytes()).run(None, feed)
    want = model(x, cr.tensor(3.0), offset=1.0)
    np.testing.assert_allclose(got[0], want[0].detach().numpy(), rtol=1e-4, atol=1e-6)


def test_output_that_is_an_input_or_repeated_gets_its_own_name():
    proto = roundtrip(Fn(lambda x: (x, x * 2, x * 2)), cr.randn(2, 3),
                      output_names=["same", "twice_a", "twice_b"])
    assert [o.name for o in proto.graph.output] == ["same", "twice_a", "twice_b"]


def test_is_in_onnx_export_while_the_forward_runs():
    seen = []

    def fn(x):
        seen.append(cr.onnx.is_in_onnx_export())
        return x + 1

    export_bytes(Fn(fn), cr.randn(2, 2))
    assert seen == [True, True] and cr.onnx.is_in_onnx_export() is False


def test_verbose_prints_the_graph(capsys):
    export_bytes(nn.Linear(2, 3), cr.randn(1, 2), verbose=True)
    assert "Gemm" in capsys.readouterr().out


def test_the_written_file_is_what_onnxruntime_runs(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh())
    path = tmp_path / "model.onnx"
    cr.onnx.export(model, cr.randn(2, 4), str(path), input_names=["x"],
                   dynamic_axes={"x": {0: "batch"}})
    assert sorted(os.listdir(tmp_path)) == ["model.onnx"]  # written whole, no temporary left
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask  # as a plain open() makes it
    x = cr.randn(6, 4)
    got = session(path.read_bytes()).run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-4, atol=1e-6)


def test_export_inside_anomaly_mode_still_traces_every_op():
    def fn(x):  # -inf in a mask: no anomaly for export
        return x.masked_fill(x > 0, float("-inf")).softmax(-1)

    with cr.autograd.detect_anomaly():
        data = export_bytes(Fn(fn), cr.randn(2, 3), input_names=["x"],
                            dynamic_axes={"x": {0: "b"}})
        assert cr.autograd.is_anomaly_enabled()  # put back
    x = cr.randn(4, 3)
    (got,) = session(data).run(None, {"x": x.numpy()})
    np.testing.assert_allclose(got, fn(x).numpy(), rtol=1e-4, atol=1e-6)
