"""Finite-difference checks (first and second order, float64) of every primitive in nn."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F


def _t(a, grad=True):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _check(fn, *inputs):
    assert cr.gradcheck(fn, inputs)
    assert cr.gradgradcheck(fn, inputs)


RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_rng():
    # Each test draws the same data whatever ran before it in this worker.
    global RNG
    RNG = np.random.default_rng(0)


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4), (4,)])
@pytest.mark.parametrize("opts", [
    {}, {"label_smoothing": 0.2}, {"weight": True}, {"weight": True, "label_smoothing": 0.1},
    {"ignore_index": 1}, {"ignore_index": 0, "weight": True}],
    ids=lambda o: ",".join(o) or "plain")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_indices(shape, opts, reduction):
    c = shape[0] if len(shape) == 1 else shape[1]
    y = RNG.integers(0, c, () if len(shape) == 1 else (shape[0],) + shape[2:])
    if y.ndim:
        y.reshape(-1)[0] = opts.get("ignore_index", 0)  # at least one ignored when asked
        y.reshape(-1)[-1] = (opts.get("ignore_index", 0) + 1) % c  # and one counted
    elif y == opts.get("ignore_index", -100):
        y = np.asarray((y + 1) % c)  # a single sample that is ignored has a 0/0 mean
    kw = dict(opts)
    if kw.pop("weight", False):
        kw["weight"] = cr.tensor(RNG.uniform(0.5, 2, c))
    x = _t(RNG.standard_normal(shape))
    _check(lambda a: F.cross_entropy(a, cr.tensor(y), reduction=reduction, **kw), x)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [False, True])
def test_cross_entropy_probabilities(reduction, weight):
    x = _t(RNG.standard_normal((4, 3)))
    t = _t(RNG.dirichlet(np.ones(3), 4))
    w = cr.tensor(RNG.uniform(0.5, 2, 3)) if weight else None
    _check(lambda a, b: F.cross_entropy(a, b, weight=w, reduction=reduction,
                                        label_smoothing=0.1), x, t)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss(reduction):
    x = _t(RNG.standard_normal((2, 4, 3)))
    y = cr.tensor(RNG.integers(0, 4, (2, 3)))
    w = cr.tensor(RNG.uniform(0.5, 2, 4))
    _check(lambda a: F.nll_loss(a, y, weight=w, ignore_index=2, reduction=reduction), x)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", ["plain", "pos_weight", "weight"])
def test_bce_with_logits(reduction, opts):
    x = _t(RNG.standard_normal((3, 4)) * 2)
    t = _t(RNG.uniform(0, 1, (3, 4)))
    kw = {}
    if opts == "pos_weight":
        kw["pos_weight"] = cr.tensor(RNG.uniform(0.5, 3, 4))
    if opts == "weight":
        kw["weight"] = cr.tensor(RNG.uniform(0.5, 2, (3, 1)))
    _check(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction, **kw),
           x, t)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce(reduction):
    x = _t(RNG.uniform(0.1, 0.9, (3, 4)))
    t = _t(RNG.uniform(0, 1, (3, 4)))
    w = cr.tensor(RNG.uniform(0.5, 2, (4,)))
    _check(lambda a, b: F.binary_cross_entropy(a, b, weight=w, reduction=reduction), x, t)


@pytest.mark.parametrize("fn", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(5,), (2, 3), (1, 1)])
def test_regression(fn, reduction, shape):
    x = _t(RNG.standard_normal(shape))
    # Keep |x - t| away from the kinks (0 and delta), where finite differences break down.
    d = RNG.choice([-1, 1], shape) * RNG.uniform(0.2, 0.8, shape) * RNG.choice([1, 4], shape)
    t = _t(x.detach().numpy() - d)
    _check(lambda a, b: getattr(F, fn)(a, b, reduction=reduction), x, t)


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = _t(np.log(RNG.dirichlet(np.ones(3), 2)))
    t = RNG.dirichlet(np.ones(3), 2)
    t = _t(np.log(t) if log_target else t)
    _check(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target), x, t)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training(shape, affine):
    x = _t(RNG.standard_normal(shape) * 2 + 1)
    w, b = _t(RNG.uniform(0.5, 1.5, 3)), _t(RNG.standard_normal(3))
    if affine:
        _check(lambda a, ww, bb: F.batch_norm(a, None, None, ww, bb, training=True), x, w, b)
    else:
        _check(lambda a: F.batch_norm(a, None, None, training=True), x)


def test_batch_norm_eval():
    x = _t(RNG.standard_normal((4, 3)))
    w, b = _t(RNG.uniform(0.5, 1.5, 3)), _t(RNG.standard_normal(3))
    rm, rv = cr.tensor(RNG.standard_normal(3)), cr.tensor(RNG.uniform(0.5, 2, 3))
    _check(lambda a, ww, bb: F.batch_norm(a, rm, rv, ww, bb, training=False), x, w, b)


@pytest.mark.parametrize("shape,norm", [((3, 4), (4,)), ((2, 3, 4), (3, 4)), ((5,), (5,))])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(shape, norm, affine):
    x = _t(RNG.standard_normal(shape))
    if affine:
        w, b = _t(RNG.uniform(0.5, 1.5, norm)), _t(RNG.standard_normal(norm))
        _check(lambda a, ww, bb: F.layer_norm(a, norm, ww, bb), x, w, b)
    else:
        _check(lambda a: F.layer_norm(a, norm), x)


@pytest.mark.parametrize("padding_idx", [None, 3])
def test_embedding(padding_idx):
    # The padding row gets no gradient by design (it would fail a finite-difference check), so
    # it is not looked up here; the parity tests cover it.
    w = _t(RNG.standard_normal((5, 3)))
    idx = cr.tensor([[1, 4, 4], [0, 1, 2]])
    _check(lambda ww: F.embedding(idx, ww, padding_idx=padding_idx) ** 2, w)


def test_dropout():
    x = _t(RNG.standard_normal((4, 5)))
    gen = cr.Generator(0)
    state = gen.get_state()

    def fn(a):
        gen.set_state(state)  # the same mask on every evaluation
        return F.dropout(a, 0.4, generator=gen) ** 2

    _check(fn, x)


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 6)])
def test_group_norm(shape):
    x = _t(RNG.standard_normal(shape))
    w, b = _t(RNG.uniform(0.5, 1.5, shape[1])), _t(RNG.standard_normal(shape[1]))
    _check(lambda a, ww, bb: F.group_norm(a, 2, ww, bb), x, w, b)
