"""cr.why_no_grad: one test per reason."""

import numpy as np

import chainrule as cr


def param(v=1.0, **kw):
    return cr.tensor(v, requires_grad=True, name="w", **kw)


def test_ok_reports_the_gradient():
    w = param(3.0)
    r = cr.why_no_grad(w * w, wrt=w)
    assert r.reason == "ok" and float(r.grad) == 6.0


def test_integer_dtype():
    w = cr.tensor([1, 2], name="w")
    r = cr.why_no_grad(w * 2, wrt=w)
    assert r.reason == "integer_dtype" and "int64" in str(r)


def test_param_not_requiring_grad():
    w = cr.tensor(1.0, name="w")
    r = cr.why_no_grad(w * 3.0, wrt=w)
    assert r.reason == "not_requires_grad" and "requires_grad=True" in str(r)


def test_computed_under_no_grad():
    w = param()
    with cr.no_grad():
        y = w * 2.0
        inside = cr.why_no_grad(y, wrt=w)
    assert inside.reason == "no_grad" and "switched off right now" in str(inside)
    assert cr.why_no_grad(y, wrt=w).reason == "no_grad"


def test_detached_directly_and_on_the_way():
    w = param(2.0)
    assert cr.why_no_grad(w.detach(), wrt=w).reason == "detached"
    v = param(1.0)
    y = (w.detach() * v).sum()
    r = cr.why_no_grad(y, wrt=w)
    assert r.reason == "detached" and ".detach()" in str(r)


def test_not_connected_names_where_the_path_breaks():
    w = param()
    with cr.no_grad():
        h = w * cr.ones(3)  # the link from w is lost here
    h.name = "h"
    v = param(2.0)
    r = cr.why_no_grad((h * v).sum(), wrt=w)
    assert r.reason == "not_connected"
    assert "h (shape (3,), requires_grad=False" in str(r)
    other = param()
    assert cr.why_no_grad(v * 2.0, wrt=other).reason == "not_connected"


def test_graph_already_freed():
    w = param()
    y = w * w
    y.backward()
    r = cr.why_no_grad(y, wrt=w)
    assert r.reason == "graph_freed" and "retain_graph=True" in str(r)


def test_dead_relu_on_every_path():
    w = cr.tensor([1.0, 2.0], requires_grad=True, name="w")
    y = cr.relu(w - 5.0).sum()
    r = cr.why_no_grad(y, wrt=w)
    assert r.reason == "dead_relu" and np.all(r.grad == 0)


def test_a_live_side_path_is_not_blamed_on_relu():
    w = cr.tensor(1.0, requires_grad=True, name="w")
    assert cr.why_no_grad(cr.relu(w - 5.0) + w, wrt=w).reason == "ok"


def test_saturated_sigmoid_and_tanh():
    w = cr.tensor(1.0, requires_grad=True, name="w", dtype=cr.float64)
    assert cr.why_no_grad(cr.sigmoid(w * 100.0), wrt=w).reason == "saturated"
    r = cr.why_no_grad(cr.tanh(w * 50.0), wrt=w, lang="zh")
    assert r.reason == "saturated" and "饱和" in str(r)


def test_flat_but_connected_is_zero():
    w = cr.tensor(0.0, requires_grad=True, name="w")
    assert cr.why_no_grad(w * w, wrt=w).reason == "zero"


def test_a_name_at_the_start_of_the_answer_keeps_its_case():
    w = cr.tensor(1.0, name="w")
    assert str(cr.why_no_grad(w * 3.0, wrt=w)).startswith("w has requires_grad=False")
    v = param(3.0)
    y = v * v
    assert str(cr.why_no_grad(y, wrt=v, names={y: "L"})).startswith("dL/dw exists")
    assert str(cr.why_no_grad(v.detach(), wrt=v)).startswith("The output depends")

