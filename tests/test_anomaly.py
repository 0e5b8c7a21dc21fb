"""detect_anomaly: the first non-finite forward output or backward gradient raises, with context."""

import inspect
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import detect_anomaly, is_anomaly_enabled

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _line(tag: str) -> int:
    """Number of the line of this file that ends with ``# <tag>``: where an error must point."""
    lines = inspect.getsource(inspect.getmodule(_line)).splitlines()
    hits = [i + 1 for i, text in enumerate(lines) if text.endswith(f"# <{tag}>")]
    assert len(hits) == 1, tag
    return hits[0]


def _points_at(msg: str, tag: str) -> bool:
    return re.search(rf"test_anomaly\.py:{_line(tag)}\b", msg) is not None


def test_log_of_negative_names_op_line_and_input_stats():
    x = cr.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(FloatingPointError) as e:
        x.log()  # <log>
    msg = str(e.value)
    assert "log()" in msg and "forward" in msg
    assert _points_at(msg, "log")
    assert "min -1 max 3" in msg  # the input's statistics
    assert "1 NaN" in msg  # the output's statistics


def test_zero_over_zero_in_forward():
    a = cr.zeros(3, requires_grad=True)
    b = cr.zeros(3)
    with detect_anomaly(), pytest.raises(FloatingPointError) as e:
        (a / b).sum()  # <div>
    assert "div()" in str(e.value) and "3 NaN" in str(e.value)
    assert _points_at(str(e.value), "div")


def test_finite_computation_passes_and_mode_is_restored():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert not is_anomaly_enabled()
    with detect_anomaly():
        assert is_anomaly_enabled()
        (x.log() * x).sum().backward()
    assert not is_anomaly_enabled()
    np.testing.assert_allclose(x.grad.detach().numpy(), np.log([1.0, 2.0]) + 1, rtol=1e-6)


def test_without_the_mode_nan_passes_silently():
    # the control experiment: the same computation is not stopped when the mode is off
    y = cr.tensor([-1.0]).log()
    assert np.isnan(y.detach().numpy()).all()


class InfGrad(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * float("inf")


def test_custom_function_backward_returning_inf():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        y = InfGrad.apply(x)  # <infgrad>
        with pytest.raises(FloatingPointError) as e:
            y.sum().backward()
    msg = str(e.value)
    assert "backward of InfGrad()" in msg and "2 Inf" in msg
    assert _points_at(msg, "infgrad")  # the forward line, remembered on the node


def test_custom_function_forward_nan_is_caught():
    class BadForward(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return cr.tensor(np.full(x.shape, np.nan, dtype=np.float32))

        @staticmethod
        def backward(ctx, g):
            return g

    x = cr.ones(2, requires_grad=True)
    with detect_anomaly(), pytest.raises(FloatingPointError) as e:
        BadForward.apply(x)  # <badfwd>
    assert "BadForward()" in str(e.value) and _points_at(str(e.value), "badfwd")


def test_nan_only_in_backward_sqrt_at_zero():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = x.sqrt()  # <sqrt>
        assert np.isfinite(y.detach().numpy()).all()  # the forward is fine: sqrt(0) = 0
        with pytest.raises(FloatingPointError) as e:
            y.sum().backward()
    msg = str(e.value)
    assert "backward of sqrt()" in msg and "1 Inf" in msg
    assert _points_at(msg, "sqrt")
    assert "upstream gradient" in msg


def test_upstream_nan_from_a_hook_is_blamed_on_the_hook():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        y = x * 3
        y.register_hook(lambda g: g * float("nan"))
        with pytest.raises(FloatingPointError) as e:
            y.sum().backward()
    assert "already non-finite" in str(e.value)


def test_nan_input_data_is_reported_as_coming_from_outside():
    x = cr.tensor([np.nan, 1.0])
    w = cr.tensor([1.0, 1.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(FloatingPointError) as e:
        x * w
    assert "input already held NaN" in str(e.value)


def test_op_inside_a_layer_names_the_user_line_and_the_layer_line():
    model = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Sigmoid(), cr.nn.Linear(4, 1))
    with cr.no_grad():
        model[2].weight[0, 1] = float("inf")
    x = cr.ones(2, 3)
    with detect_anomaly(), pytest.raises(FloatingPointError) as e:
        model(x)  # <layer>
    msg = str(e.value)
    assert "linear()" in msg and _points_at(msg, "layer")
    assert re.search(r"inside .*linear\.py:\d+ in forward", msg)
    assert "input already held NaN/Inf" in msg  # the weight, not the op, is to blame


def test_fit_with_detect_anomaly_stops_at_the_op():
    model = cr.nn.Sequential(cr.nn.Linear(2, 2))
    with cr.no_grad():
        model[0].bias[0] = float("nan")
    X, y = cr.randn(8, 2), cr.randint(0, 2, (8,))
    with pytest.raises(FloatingPointError, match="linear"):
        cr.train.fit(model, (X, y), loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1,
                     verbose=0, detect_anomaly=True)
    assert not is_anomaly_enabled()
