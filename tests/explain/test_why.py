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


# ---- cuts: .detach() of the parameter, of an intermediate, and .data ----------------------

def test_detach_of_wrt_itself_in_both_languages():
    w, v = param([1.0, 2.0]), cr.tensor([3.0, 1.0], requires_grad=True, name="v")
    y = (w.detach() * v).sum()
    en, zh = (cr.why_no_grad(y, wrt=w, lang=lang) for lang in ("en", "zh"))
    assert en.reason == zh.reason == "detached"
    assert "detached copy of w (w.detach(), used by t1)" in str(en)
    assert "w 的 detach 副本（w.detach()，被 t1 使用）" in str(zh)
    assert "w.detach()" in str(cr.why_no_grad(w.detach().detach(), wrt=w))  # the first cut


def test_detach_of_a_live_intermediate_names_it():
    w, v = param([1.0, 2.0]), cr.tensor([3.0, 1.0], requires_grad=True, name="v")
    z = w * 2.0
    y = (z.detach() * v).sum()
    r = cr.why_no_grad(y, wrt=w)
    assert r.reason == "detached"
    assert "cut by .detach() ((w * 2).detach(), used by t1)" in str(r)
    assert "it took w * 2 off the graph, and w * 2 is computed from w" in str(r)
    assert "z.detach()" in str(cr.why_no_grad(y, wrt=w, names={z: "z"}))
    zh = cr.why_no_grad(y, wrt=w, lang="zh")
    assert "被 .detach() 切断" in str(zh) and "w * 2 是由 w 算出来的" in str(zh)


def test_detach_of_a_gone_intermediate_still_names_the_cut_through_its_inputs():
    w, v = param([1.0, 2.0]), cr.tensor([3.0, 1.0], requires_grad=True, name="v")
    h = (w * 2.0).detach()  # the product w * 2 is gone right away; w is not
    r = cr.why_no_grad((h * v).sum(), wrt=w)
    assert r.reason == "detached" and "(w * ...).detach(), used by t1" in str(r)
    assert "computed from w" in str(r)
    itself = cr.why_no_grad(h, wrt=w, names={h: "h"})
    assert itself.reason == "detached" and str(itself).startswith("The path from h to w")
    assert "(h = (w * ...).detach())" in str(itself)


def test_detach_whose_graph_is_gone_is_named_without_claiming_more():
    w, v = param([1.0, 2.0]), cr.tensor([3.0, 1.0], requires_grad=True, name="v")
    h = (w * 2.0 + 1.0).detach()  # the detached sum's inputs (w * 2) are gone too
    en = cr.why_no_grad((h * v).sum(), wrt=w)
    assert en.reason == "detached" and "add(...).detach(), used by t1" in str(en)
    assert "the result of add" in str(en) and "cannot be checked" in str(en)
    zh = cr.why_no_grad((h * v).sum(), wrt=w, lang="zh")
    assert "add(...).detach()" in str(zh) and "无法检查" in str(zh)


def test_a_detach_of_something_else_is_not_blamed():
    w, v = param([1.0, 2.0]), cr.tensor([3.0, 1.0], requires_grad=True, name="v")
    r = cr.why_no_grad((v.detach() * v).sum(), wrt=w)
    assert r.reason == "not_connected" and "detach" not in str(r)


def test_data_is_not_a_detach_but_shares_the_parameters_memory():
    w, v = param([1.0, 2.0]), cr.tensor([3.0, 1.0], requires_grad=True, name="v")
    for y in ((w.data * v).sum(), (cr.from_numpy(w.detach().numpy()) * v).sum()):
        en = cr.why_no_grad(y, wrt=w)
        assert en.reason == "shared_data" and "(w.data, used by t1)" in str(en)
        assert "Compute with w itself" in str(en)
        zh = cr.why_no_grad(y, wrt=w, lang="zh")
        assert zh.reason == "shared_data" and "共享内存" in str(zh)
    # a copy of the data keeps no trace of w: only the break itself can be named
    r = cr.why_no_grad((cr.tensor(w.detach().numpy()) * v).sum(), wrt=w)
    assert r.reason == "not_connected" and "w.data" not in str(r)


def test_without_a_graph_the_answer_names_detach_as_a_possible_cut():
    w = param([1.0, 2.0])
    y = (w * 2.0).detach() * 3.0  # an op on constants records nothing: no link to follow
    r = cr.why_no_grad(y, wrt=w)
    assert r.reason == "no_grad" and ".detach() copies" in str(r) and "cannot be traced" in str(r)
    assert ".detach() 副本" in str(cr.why_no_grad(y, wrt=w, lang="zh"))



def test_docstring_examples_run():
    import doctest

    from chainrule.explain import cuts, why

    for module in (cuts, why):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0
