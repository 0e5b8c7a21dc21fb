"""Every loss against PyTorch: values and gradients for each reduction and option."""

import numpy as np
import pytest
import torch
from nn_twin import close

import chainrule as cr
from chainrule import nn

REDUCTIONS = ["mean", "sum", "none"]
DTYPES = [np.float64, np.float32]


def _pair(cr_loss, th_loss, x, target, dtype, target_grad=False):
    """Run both losses; compare value, input grad (and target grad) for a random upstream."""
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ct = cr.tensor(target, requires_grad=target_grad)
    tt = torch.tensor(target, requires_grad=target_grad)
    cl, tl = cr_loss(cx, ct), th_loss(tx, tt)
    close(cl, tl, dtype, "loss value")
    up = np.random.default_rng(2).standard_normal(tl.shape).astype(x.dtype) + 1.5
    tl.backward(torch.tensor(up))
    cl.backward(cr.tensor(up))
    close(cx.grad, tx.grad, dtype, "input grad")
    if target_grad:
        close(ct.grad, tt.grad, dtype, "target grad")


def _both(name, **kwargs):
    """The chainrule and torch loss modules of ``name`` built with the same options."""
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**tkw)


# ---- regression ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw", [("MSELoss", {}), ("L1Loss", {}),
                                     ("HuberLoss", {"delta": 0.7}),
                                     ("SmoothL1Loss", {"beta": 0.5}),
                                     ("SmoothL1Loss", {"beta": 0.0})])
@pytest.mark.parametrize("shape", [(4, 5), (1, 1)], ids=["4x5", "one_element"])
def test_regression_losses(name, kw, reduction, dtype, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    t = (x + rng.standard_normal(shape) * rng.choice([0.1, 2.0], shape)).astype(dtype)
    ours, theirs = _both(name, reduction=reduction, **kw)
    _pair(ours, theirs, x, t, dtype, target_grad=True)


@pytest.mark.parametrize("name", ["MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss",
                                  "BCELoss", "BCEWithLogitsLoss", "KLDivLoss"])
def test_elementwise_losses_reject_shape_mismatch(name):
    loss = getattr(nn, name)()
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)|\(4,\).*\(4, 1\)"):
        loss(cr.full((4, 1), 0.5), cr.full((4,), 0.5))


# ---- binary --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_loss(reduction, weighted, dtype):
    rng = np.random.default_rng(1)
    p = rng.uniform(0.02, 0.98, (6, 3)).astype(dtype)
    t = rng.uniform(0, 1, (6, 3)).astype(dtype)
    kw = {"weight": rng.uniform(0.5, 2, (3,)).astype(dtype)} if weighted else {}
    ours, theirs = _both("BCELoss", reduction=reduction, **kw)
    _pair(ours, theirs, p, t, dtype, target_grad=True)


def test_bce_loss_clamps_log_at_probability_extremes():
    p = np.array([0.0, 1.0, 0.5, 1e-30])
    t = np.array([1.0, 0.0, 1.0, 0.0])
    cx, tx = cr.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    cl = nn.BCELoss(reduction="none")(cx, cr.tensor(t))
    tl = torch.nn.BCELoss(reduction="none")(tx, torch.tensor(t))
    np.testing.assert_allclose(cl.detach().numpy(), tl.detach().numpy(), rtol=1e-12)
    assert cl.detach().numpy()[0] == 100.0  # log(0) clamped at -100
    cl.sum().backward()
    tl.sum().backward()
    # Gradients reach 1e12 here (x(1-x) clamped at 1e-12): compare relatively.
    np.testing.assert_allclose(cx.grad.detach().numpy(), tx.grad.numpy(), rtol=1e-7)


def test_bce_loss_rejects_values_outside_0_1():
    with pytest.raises(ValueError, match="binary_cross_entropy.*\\[0, 1\\]"):
        nn.BCELoss()(cr.tensor([1.5, 0.2]), cr.tensor([1.0, 0.0]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", ["plain", "pos_weight", "weight", "both"])
def test_bce_with_logits(reduction, opts, dtype):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((5, 3)) * 4).astype(dtype)
    t = rng.uniform(0, 1, (5, 3)).astype(dtype)
    kw = {}
    if opts in ("pos_weight", "both"):
        kw["pos_weight"] = rng.uniform(0.5, 3, (3,)).astype(dtype)
    if opts in ("weight", "both"):
        kw["weight"] = rng.uniform(0.5, 2, (5, 1)).astype(dtype)
    ours, theirs = _both("BCEWithLogitsLoss", reduction=reduction, **kw)
    _pair(ours, theirs, x, t, dtype, target_grad=True)


def test_bce_with_logits_is_stable_for_huge_logits():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    t = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    ours, theirs = _both("BCEWithLogitsLoss", reduction="none")
    _pair(ours, theirs, x, t, np.float64)
    out = nn.BCEWithLogitsLoss()(cr.tensor(x.astype(np.float32)), cr.tensor(t.astype(np.float32)))
    assert np.isfinite(out.item())


# ---- cross entropy and NLL -----------------------------------------------------------------


def _labels(rng, shape, c, ignore=None):
    y = rng.integers(0, c, shape)
    if ignore is not None:
        y.reshape(-1)[::3] = ignore
    return y


CE_OPTIONS = [
    {}, {"label_smoothing": 0.15}, {"weight": "w"}, {"weight": "w", "label_smoothing": 0.3},
    {"ignore_index": -100}, {"ignore_index": 2}, {"ignore_index": 1, "weight": "w"},
    {"ignore_index": -100, "weight": "w", "label_smoothing": 0.2},
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", CE_OPTIONS, ids=lambda o: ",".join(o) or "plain")
@pytest.mark.parametrize("shape", [(7, 4), (3, 4, 5), (2, 4, 3, 2), (4,)])
def test_cross_entropy_class_indices(shape, opts, reduction, dtype):
    rng = np.random.default_rng(3)
    c = shape[0] if len(shape) == 1 else shape[1]
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    ignore = opts.get("ignore_index")
    y = _labels(rng, tshape, c, ignore) if tshape else np.array(1)
    kw = dict(opts)
    if kw.get("weight") == "w":
        kw["weight"] = rng.uniform(0.2, 3, c).astype(dtype)
    ours, theirs = _both("CrossEntropyLoss", reduction=reduction, **kw)
    _pair(ours, theirs, x, y, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [{}, {"weight": "w"}, {"label_smoothing": 0.25},
                                  {"weight": "w", "label_smoothing": 0.1}],
                         ids=lambda o: ",".join(o) or "plain")
@pytest.mark.parametrize("shape", [(6, 4), (2, 4, 3)])
def test_cross_entropy_class_probabilities(shape, opts, reduction, dtype):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 2).astype(dtype)
    t = rng.uniform(0, 1, shape)
    t = (t / t.sum(axis=1, keepdims=True)).astype(dtype)
    kw = dict(opts)
    if kw.get("weight") == "w":
        kw["weight"] = rng.uniform(0.2, 3, shape[1]).astype(dtype)
    ours, theirs = _both("CrossEntropyLoss", reduction=reduction, **kw)
    _pair(ours, theirs, x, t, dtype, target_grad=True)


def test_cross_entropy_all_targets_ignored_gives_nan_like_torch():
    x = np.random.randn(3, 4)
    y = np.full(3, -100)
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = nn.CrossEntropyLoss()(cx, cr.tensor(y))
    theirs = torch.nn.CrossEntropyLoss()(tx, torch.tensor(y))
    assert np.isnan(ours.item()) and np.isnan(theirs.item())
    ours.backward()
    theirs.backward()
    close(cx.grad, tx.grad, np.float64, "grad with every target ignored")


def test_cross_entropy_is_stable_for_huge_logits():
    x = np.array([[1000.0, -1000.0, 0.0], [-5e4, 5e4, 1.0]], dtype=np.float32)
    ours, theirs = _both("CrossEntropyLoss")
    _pair(ours, theirs, x, np.array([1, 1]), np.float32)


def test_cross_entropy_is_one_node_that_saves_probabilities():
    x = cr.randn(4, 3, requires_grad=True)
    loss = nn.functional.cross_entropy(x, cr.tensor([0, 1, 2, 0]))
    node = loss.grad_fn
    assert node.op.name == "cross_entropy" and node.inputs[0] is x
    probs = node.saved[0]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [{}, {"weight": "w"}, {"ignore_index": 0},
                                  {"ignore_index": -100, "weight": "w"}],
                         ids=lambda o: ",".join(o) or "plain")
@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 4)])
def test_nll_loss(shape, opts, reduction, dtype):
    rng = np.random.default_rng(5)
    x = np.log(rng.uniform(0.05, 1, shape)).astype(dtype)
    y = _labels(rng, (shape[0],) + shape[2:], shape[1], opts.get("ignore_index"))
    kw = dict(opts)
    if kw.get("weight") == "w":
        kw["weight"] = rng.uniform(0.2, 3, shape[1]).astype(dtype)
    ours, theirs = _both("NLLLoss", reduction=reduction, **kw)
    _pair(ours, theirs, x, y, dtype)


@pytest.mark.parametrize("loss", ["CrossEntropyLoss", "NLLLoss"])
def test_class_label_errors_name_the_loss(loss):
    crit = getattr(nn, loss)()
    x = cr.randn(3, 4)
    fn = "cross_entropy" if loss == "CrossEntropyLoss" else "nll_loss"
    with pytest.raises(ValueError, match=f"{fn}: target -1 is out of range for 4 classes"):
        crit(x, cr.tensor([0, -1, 2]))  # NumPy would silently wrap -1 to class 3
    with pytest.raises(ValueError, match=f"{fn}: target 4 is out of range"):
        crit(x, cr.tensor([0, 4, 2]))
    with pytest.raises(ValueError, match=f"{fn}:.*integer class indices"):
        crit(x, cr.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=f"{fn}: target shape \\(2,\\)"):
        crit(x, cr.tensor([0, 1]))
    with pytest.raises(ValueError, match=f"{fn}: weight must have shape \\(4,\\)"):
        getattr(nn, loss)(weight=cr.ones(3))(x, cr.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        getattr(nn, loss)(reduction="avg")


@pytest.mark.parametrize("dtype", ["<i8", ">i8", "<i4", "u1", ">u2"])
def test_cross_entropy_label_dtypes_and_byte_orders(dtype):
    """Every integer label dtype, either byte order, gives torch's loss and gradient, and a
    label out of range is an error whatever its dtype."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4))
    y = np.array([0, 3, 1, 2, 3], dtype=dtype)
    ours, theirs = _both("CrossEntropyLoss")
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    cl, tl = ours(cx, cr.tensor(y)), theirs(tx, torch.tensor(y.astype(np.int64)))
    close(cl, tl, np.float64, "loss value")
    cl.backward()
    tl.backward()
    close(cx.grad, tx.grad, np.float64, "input grad")
    bad = np.array([0, 4, 1, 2, 3], dtype=dtype)
    with pytest.raises(ValueError, match="target 4 is out of range for 4 classes"):
        ours(cr.tensor(x), cr.tensor(bad))
    if np.dtype(dtype).kind == "i":
        bad[1] = -1
        with pytest.raises(ValueError, match="target -1 is out of range"):
            ours(cr.tensor(x), cr.tensor(bad))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_of_column_major_logits_and_a_second_backward(reduction):
    """Logits stored column-major (a transposed product) take the plain fused path too: its
    flat label positions must address the right entries, and a retained graph must give the
    same gradient twice."""
    rng = np.random.default_rng(8)
    x = np.asfortranarray(rng.standard_normal((6, 5)))
    y = np.array([4, 0, 3, 3, 1, 2])
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    assert not cx.detach().numpy().flags.c_contiguous
    cl = nn.CrossEntropyLoss(reduction=reduction)(cx, cr.tensor(y))
    tl = torch.nn.CrossEntropyLoss(reduction=reduction)(tx, torch.tensor(y))
    close(cl, tl, np.float64, "loss value")
    cl.backward(retain_graph=True)
    tl.backward()
    close(cx.grad, tx.grad, np.float64, "input grad")
    first = cx.grad.detach().numpy().copy()
    cx.grad = None
    cl.backward()
    np.testing.assert_array_equal(cx.grad.detach().numpy(), first)


def test_cross_entropy_ignore_index_label_may_be_out_of_range_but_others_not():
    x = cr.randn(3, 4)
    loss = nn.CrossEntropyLoss(ignore_index=-5)(x, cr.tensor([0, -5, 3]))
    assert np.isfinite(loss.item())
    with pytest.raises(ValueError, match="target -100"):
        nn.CrossEntropyLoss(ignore_index=-5)(x, cr.tensor([0, -100, 3]))


# ---- KL divergence -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.filterwarnings("ignore:reduction. .mean. divides")
def test_kl_div(reduction, log_target, dtype):
    rng = np.random.default_rng(6)
    x = np.log(rng.dirichlet(np.ones(5), 4)).astype(dtype)
    t = rng.dirichlet(np.ones(5), 4)
    t = (np.log(t) if log_target else t).astype(dtype)
    ours, theirs = _both("KLDivLoss", reduction=reduction, log_target=log_target)
    _pair(ours, theirs, x, t, dtype, target_grad=True)


def test_kl_div_zero_target_probability_contributes_zero():
    x = np.log(np.array([[0.2, 0.3, 0.5]]))
    t = np.array([[0.0, 0.4, 0.6]])
    ours, theirs = _both("KLDivLoss", reduction="sum")
    _pair(ours, theirs, x, t, np.float64)
    ct = cr.tensor(t, requires_grad=True)
    nn.KLDivLoss(reduction="sum")(cr.tensor(x), ct).backward()
    assert np.isfinite(ct.grad.detach().numpy()).all()  # the masked log never sees the zero


# ---- margin, embedding and likelihood losses -----------------------------------------------


def _multi(ours, theirs, arrays, dtype, grads=(0,)):
    """Run both losses on the same arrays; compare the value and the grads of ``grads``."""
    cin = [cr.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
    tin = [torch.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
    cl, tl = ours(*cin), theirs(*tin)
    close(cl, tl, dtype, "loss value")
    up = np.random.default_rng(2).standard_normal(tl.shape).astype(dtype) + 1.5
    cl.backward(cr.tensor(up))
    tl.backward(torch.tensor(up))
    for i in grads:
        close(cin[i].grad, tin[i].grad, dtype, f"grad of argument {i}")


def _signs(rng, shape):
    return rng.choice([-1.0, 1.0], shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_hinge_and_soft_margin(reduction, dtype):
    rng = np.random.default_rng(7)
    x1, x2 = (rng.standard_normal(6).astype(dtype) for _ in range(2))
    y = _signs(rng, 6).astype(dtype)
    _multi(*_both("MarginRankingLoss", margin=0.3, reduction=reduction), [x1, x2, y], dtype,
           grads=(0, 1))
    d = rng.uniform(0, 2, (3, 4)).astype(dtype)
    _multi(*_both("HingeEmbeddingLoss", margin=1.2, reduction=reduction),
           [d, _signs(rng, (3, 4)).astype(dtype)], dtype)
    _multi(*_both("SoftMarginLoss", reduction=reduction),
           [(rng.standard_normal((3, 4)) * 3).astype(dtype), _signs(rng, (3, 4)).astype(dtype)],
           dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin(reduction, weighted, dtype):
    rng = np.random.default_rng(8)
    kw = {"weight": rng.uniform(0.5, 2, 4).astype(dtype)} if weighted else {}
    x = (rng.standard_normal((3, 4)) * 2).astype(dtype)
    y = rng.integers(0, 2, (3, 4)).astype(dtype)
    _multi(*_both("MultiLabelSoftMarginLoss", reduction=reduction, **kw), [x, y], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_and_triplet(reduction, dtype):
    rng = np.random.default_rng(9)
    a, b, c = (rng.standard_normal((5, 3)).astype(dtype) for _ in range(3))
    y = _signs(rng, 5).astype(dtype)
    _multi(*_both("CosineEmbeddingLoss", margin=0.1, reduction=reduction), [a, b, y], dtype,
           grads=(0, 1))
    for kw in ({}, {"p": 1.0, "swap": True, "margin": 2.0}):
        _multi(*_both("TripletMarginLoss", reduction=reduction, **kw), [a, b, c], dtype,
               grads=(0, 1, 2))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input,full", [(True, False), (False, False), (True, True)])
def test_poisson_nll(log_input, full, reduction, dtype):
    rng = np.random.default_rng(10)
    x = (rng.standard_normal((3, 4)) if log_input else rng.uniform(0.1, 3, (3, 4))).astype(dtype)
    t = rng.poisson(2.0, (3, 4)).astype(dtype)
    _multi(*_both("PoissonNLLLoss", log_input=log_input, full=full, reduction=reduction),
           [x, t], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1)])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll(var_shape, full, reduction, dtype):
    rng = np.random.default_rng(11)
    x, t = (rng.standard_normal((4, 3)).astype(dtype) for _ in range(2))
    var = rng.uniform(0.2, 2, var_shape).astype(dtype)
    var.reshape(-1)[0] = 1e-9  # below eps: clamped, gradient still flows
    _multi(*_both("GaussianNLLLoss", full=full, reduction=reduction), [x, t, var], dtype,
           grads=(0, 1, 2))
