"""gradcheck_graph: every node re-checked on its own inputs; a planted wrong rule is named."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import GradcheckError


class Softsign(cr.autograd.Function):
    """x / (1 + |x|), with the right derivative 1 / (1 + |x|)^2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + x.abs())

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + x.abs()) ** 2


class WrongSoftsign(cr.autograd.Function):
    """Same forward; the backward forgets the square (the planted bug)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + x.abs())

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + x.abs())


class Scale(cr.autograd.Function):
    """x * k with a non-tensor argument k: the replay must pass it again."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None


def _six_layer_loss(bad_layer=None):
    """A 6-layer MLP on random data; layer ``bad_layer`` uses the wrong custom rule."""
    rng = np.random.default_rng(0)
    sizes = [10, 16, 16, 16, 16, 16, 4]
    params = {}
    h = cr.tensor(rng.standard_normal((8, 10)).astype(np.float32))
    acts = ["tanh", "relu", "softsign", "sigmoid", "softsign", "scale"]
    for i in range(6):
        w = cr.tensor(rng.standard_normal((sizes[i + 1], sizes[i])) / np.sqrt(sizes[i]),
                      dtype=cr.float32, requires_grad=True)
        b = cr.tensor(rng.standard_normal(sizes[i + 1]) * 0.1, dtype=cr.float32,
                      requires_grad=True)
        params[f"layer{i}.weight"], params[f"layer{i}.bias"] = w, b
        z = h @ w.T + b
        if i == bad_layer:
            h = WrongSoftsign.apply(z)
        elif acts[i] == "softsign":
            h = Softsign.apply(z)
        elif acts[i] == "scale":
            h = Scale.apply(z, 0.5)
        else:
            h = getattr(z, acts[i])()
    target = cr.tensor(rng.integers(0, 4, 8))
    logp = cr.functional.log_softmax(h, 1)
    loss = -logp[cr.arange(8), target].mean()
    return loss, params


def test_correct_six_layer_model_passes_every_op():
    loss, params = _six_layer_loss()
    report = cr.gradcheck_graph(loss, params=params)
    assert report.ok, report.render(only_failed=True)
    ops = [c.op for c in report.checks]
    assert {"matmul", "tanh", "relu", "sigmoid", "Softsign", "Scale", "log_softmax"} <= set(ops)
    assert all(c.status == "pass" and c.entries > 0 for c in report.checks)


def test_planted_wrong_rule_is_named_and_only_it():
    loss, params = _six_layer_loss(bad_layer=3)
    report = cr.gradcheck_graph(loss, params=params)
    assert report.failed_ops() == ["WrongSoftsign"]
    assert len(report.failed) == 1
    bad = report.failed[0]
    # 1/(1+|x|) vs 1/(1+|x|)^2: the relative error is |x|, far above rtol
    assert bad.max_rel_error > 0.01
    assert abs(bad.analytic - bad.numeric) > 1e-3
    assert "WrongSoftsign" in str(report) and "FAIL" in str(report)
    # its neighbours (the same model otherwise) still pass
    assert sum(c.status == "pass" for c in report.checks) == len(report.checks) - 1


def test_raise_exception_names_the_op():
    loss, _ = _six_layer_loss(bad_layer=0)
    with pytest.raises(GradcheckError, match="WrongSoftsign"):
        cr.gradcheck_graph(loss, raise_exception=True)


def test_report_names_parameters_and_serialises():
    loss, params = _six_layer_loss()
    report = cr.gradcheck_graph(loss, params=params)
    assert any("layer2.weight" in c.label for c in report.checks)
    d = report.to_dict()
    assert d["ok"] is True and len(d["checks"]) == len(report.checks)


def test_kinks_are_not_false_failures():
    # relu of relu: the second relu sees exact zeros, where its derivative jumps
    x = cr.tensor(np.array([-1.0, 0.0, 2.0, -3.0, 0.5]), requires_grad=True)
    y = cr.stack([x, x]).relu().relu().abs().amax(1)
    report = cr.gradcheck_graph(y.sum())
    assert report.ok, str(report)
    assert sum(c.kinks for c in report.checks) > 0


def test_large_input_error_in_an_unsampled_entry_is_caught():
    class WrongAtZero(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            gx = g * 2
            gx.detach().numpy()[0] = 0.0  # wrong in one entry only
            return gx

    x = cr.randn(2000, requires_grad=True)
    report = cr.gradcheck_graph(WrongAtZero.apply(x).sum(), max_entries=8, seed=3)
    (check,) = [c for c in report.checks if c.op == "WrongAtZero"]
    assert check.status == "fail"
    assert check.entries == 9  # 8 sampled entries + 1 random direction


def test_graph_freed_by_backward_is_explained():
    x = cr.randn(3, requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        cr.gradcheck_graph(loss)


def test_leaf_is_rejected():
    with pytest.raises(ValueError, match="no graph"):
        cr.gradcheck_graph(cr.randn(3, requires_grad=True))
