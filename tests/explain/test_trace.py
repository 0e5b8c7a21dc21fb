"""cr.explain on the worked 1-1-1 example (numbers known by hand) and on the events it reports."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain import fmt, worked


def hand(v, expected):
    return round(float(v), 4) == expected


@pytest.fixture
def trace():
    loss, names, _ = worked.network()
    return cr.explain(loss, names=names)


def test_forward_values_match_the_hand_computation(trace):
    assert hand(trace.value("z1"), 0.7)
    assert hand(trace.value("h"), 0.6682)
    assert hand(trace.value("y"), 0.3005)
    assert hand(trace.value("L"), 0.0199)


def test_every_partial_derivative_matches_the_hand_computation(trace):
    assert hand(trace.step("e").upstream, -0.1995)  # upstream of y - t is dL/de = dL/dy
    sends = {s.to: s for s in trace.step("u2").sends}
    assert hand(sends["w2"].grad, -0.1333)
    assert hand(sends["h"].grad, -0.0599)
    sig = trace.step("h")
    assert hand(sig.sends[0].local, 0.2217)
    assert hand(sig.sends[0].grad, -0.0133)
    assert hand(trace.grad("w1"), -0.0133)
    assert hand(trace.grad("b1"), -0.0133)
    assert hand(trace.grad("w2"), -0.1333)
    assert hand(trace.grad("b2"), -0.1995)


def test_steps_run_from_the_output_back_with_the_rule_of_each_op(trace):
    assert [s.name for s in trace.steps] == ["L", "e2", "e", "y", "u2", "h", "z1", "u1"]
    sig = trace.step("h")
    assert sig.op.formula == "d sigmoid(z)/dz = s(1-s)"
    assert r"\sigma" in sig.op.latex
    assert "d sigmoid(z)/dz = s(1-s)" in str(trace)


def test_explain_leaves_grad_alone_and_keeps_the_graph():
    loss, names, params = worked.network()
    cr.explain(loss, names=names)
    assert all(p.grad is None for p in params)
    loss.backward()  # the graph is still there
    assert hand(params[0].grad, -0.0133)


def test_accumulate_true_writes_grad():
    loss, names, params = worked.network()
    tr = cr.explain(loss, names=names, accumulate=True)
    assert hand(params[2].grad, -0.1333)
    assert tr.accumulated and ".grad" in str(tr)


def test_a_value_used_three_times_has_its_gradients_added():
    w = cr.tensor(2.0, requires_grad=True, name="w")
    tr = cr.explain(w * w + 3.0 * w)  # d/dw = 2w + 3 = 7 from the parts 2, 2 and 3
    assert tr.grad("w") == 7.0
    (ev,) = [e for g in tr.grads for e in g.events]
    assert ev.code == "ev_sum" and ev.args["n"] == 3
    assert sorted(float(p) for p in ev.args["parts"]) == [2.0, 2.0, 3.0]
    assert "w is used 3 times, so its gradients add up" in str(tr)


def test_a_broadcast_input_reports_the_summed_axes():
    x = cr.ones(3, 2)
    b = cr.tensor([1.0, 2.0], requires_grad=True, name="b")
    tr = cr.explain((x + b).sum())
    assert np.array_equal(tr.grad("b"), [3.0, 3.0])
    (ev,) = [e for s in tr.steps for e in s.events if e.code == "ev_broadcast"]
    assert ev.args["axes"] == (0,)
    assert "b (shape (2,)) was broadcast to (3, 2)" in str(tr)
    assert "summed over axes (0,)" in str(tr)


def test_relu_reports_the_share_of_the_gradient_it_zeroes():
    z = cr.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True, name="z")
    tr = cr.explain(cr.relu(z).sum())
    assert "ReLU zeroes 50% of the gradient (2 of 4 entries had z <= 0)" in str(tr)
    assert "ReLU 把 50% 的梯度置零" in tr.to_text("zh")


def test_constant_and_detached_inputs_are_named():
    w = cr.tensor(3.0, requires_grad=True, name="w")
    x = cr.tensor(2.0, name="x")
    tr = cr.explain(w.detach() * w * x)
    text = str(tr)
    assert "x is a constant (requires_grad=False)" in text
    assert "is detached from w" in text
    assert tr.grad("w") == 6.0  # only the live path: 3 * 2


def test_unnamed_tensors_get_readable_names():
    x = cr.tensor([[1.0, -1.0]])
    W = cr.tensor([[0.5, 0.1], [0.2, 0.3]], requires_grad=True)
    tr = cr.explain(cr.sigmoid(x @ W).sum())
    assert [f.name for f in tr.forward] == ["z1", "h1", "L"]
    assert [lf.name for lf in tr.leaves] == ["c1", "p1"]


def test_names_argument_and_module_parameter_names():
    W = cr.tensor([[0.5]], requires_grad=True)
    tr = cr.explain((cr.tensor([[2.0]]) @ W).sum(), names={W: "fc1.weight"})
    assert tr.grad("fc1.weight") == 2.0
    import chainrule.nn as nn
    lin = nn.Linear(2, 1)
    tr = cr.explain(lin(cr.ones(1, 2)).sum(), model=lin)
    assert {g.name for g in tr.grads} == {"weight", "bias"}


def test_tensors_print_shape_norm_and_a_few_entries():
    assert fmt.arr(np.array([3.0, 4.0])) == "shape (2,), norm 5.0000, [3.0000, 4.0000]"
    assert fmt.arr(np.arange(6.0)).endswith("[0.0000, 1.0000, 2.0000, 3.0000, ...]")
    assert fmt.num(0.30046) == "0.3005"
    assert fmt.num(1.5e-7) == "1.5000e-07"


def test_renderers_in_both_languages(trace):
    md = trace.to_markdown()
    assert "| `h = sigmoid(z1)` | 0.6682 |" in md
    assert "$$\n" + r"\frac{d\sigma(z)}{dz}" in md
    assert "上游梯度（误差项）δ = dL/dh = -0.0599" in trace.to_markdown("zh")
    html = trace.to_html("zh")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="zh">' in html
    assert "<script" not in html and "http" not in html and "<link" not in html
    tex = trace.to_latex(standalone=True)
    assert tex.startswith(r"\documentclass{article}") and r"\frac{d\sigma(z)}{dz}" in tex
    assert r"\texttt{h = sigmoid(z1)} & 0.6682" in tex
    assert trace.to_latex("zh", standalone=True).startswith(r"\documentclass{ctexart}")
    with pytest.raises(ValueError, match="lang"):
        trace.to_text("fr")


def test_a_tensor_without_graph_is_refused_with_a_pointer_to_why_no_grad():
    with pytest.raises(ValueError, match="why_no_grad"):
        cr.explain(cr.tensor(1.0))


def test_a_freed_graph_is_refused_with_the_fix():
    w = cr.tensor(2.0, requires_grad=True)
    y = w * w
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        cr.explain(y)


def test_a_non_scalar_output_takes_its_upstream_gradient():
    w = cr.tensor(2.0, requires_grad=True, name="w")
    y = w * cr.tensor([1.0, 3.0])
    tr = cr.explain(y, gradient=cr.tensor([1.0, 0.5]))
    assert tr.grad("w") == 2.5  # 1 * 1 + 0.5 * 3
    assert tr.root_name == "out"
    with pytest.raises(RuntimeError, match="scalar outputs"):
        cr.explain(y)
