"""Initialisers: the right distribution (moments of large draws), in place, reproducible."""

import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn import init


def _big(*shape):
    return cr.empty(*shape, dtype=cr.float64)


def _uniform_std(bound):
    return bound / math.sqrt(3)


def test_calculate_gain_matches_torch():
    for name in ["linear", "conv2d", "sigmoid", "tanh", "relu", "selu"]:
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    for slope in [None, 0.2, 1]:
        assert init.calculate_gain("leaky_relu", slope) == pytest.approx(
            torch.nn.init.calculate_gain("leaky_relu", slope))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_uniform_and_normal_moments():
    w = init.uniform_(_big(400, 500), -2.0, 3.0)
    assert w.detach().numpy().min() >= -2 and w.detach().numpy().max() <= 3
    assert abs(w.detach().numpy().mean() - 0.5) < 0.01
    assert abs(w.detach().numpy().std() - 5 / math.sqrt(12)) < 0.01
    w = init.normal_(_big(400, 500), 1.5, 0.5)
    assert abs(w.detach().numpy().mean() - 1.5) < 0.005
    assert abs(w.detach().numpy().std() - 0.5) < 0.005


def test_constants():
    assert (init.zeros_(_big(3)).detach().numpy() == 0).all()
    assert (init.ones_(_big(3)).detach().numpy() == 1).all()
    assert (init.constant_(_big(3), 0.25).detach().numpy() == 0.25).all()
    np.testing.assert_array_equal(init.eye_(_big(2, 3)).detach().numpy(), np.eye(2, 3))


@pytest.mark.parametrize("shape", [(300, 700), (64, 32, 3, 3)])
def test_xavier(shape):
    fan_in = shape[1] * math.prod(shape[2:])
    fan_out = shape[0] * math.prod(shape[2:])
    w = init.xavier_uniform_(_big(*shape), gain=2.0)
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w.detach().numpy()).max() <= bound
    assert abs(w.detach().numpy().std() - _uniform_std(bound)) / _uniform_std(bound) < 0.02
    w = init.xavier_normal_(_big(*shape))
    std = math.sqrt(2 / (fan_in + fan_out))
    assert abs(w.detach().numpy().std() - std) / std < 0.02
    assert abs(w.detach().numpy().mean()) < 0.02 * std * 10


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0), ("leaky_relu", math.sqrt(5)),
                                            ("leaky_relu", 0.1), ("tanh", 0)])
def test_kaiming(mode, nonlinearity, a):
    shape = (200, 800)
    fan = 800 if mode == "fan_in" else 200
    gain = init.calculate_gain(nonlinearity, a)
    w = init.kaiming_uniform_(_big(*shape), a=a, mode=mode, nonlinearity=nonlinearity)
    bound = gain * math.sqrt(3 / fan)
    assert np.abs(w.detach().numpy()).max() <= bound
    assert abs(w.detach().numpy().std() - _uniform_std(bound)) / _uniform_std(bound) < 0.02
    w = init.kaiming_normal_(_big(*shape), a=a, mode=mode, nonlinearity=nonlinearity)
    assert abs(w.detach().numpy().std() - gain / math.sqrt(fan)) / (gain / math.sqrt(fan)) < 0.02
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(_big(*shape), mode="fan_avg")


@pytest.mark.parametrize("shape", [(5, 5), (3, 8), (8, 3), (4, 2, 3)])
def test_orthogonal(shape):
    w = init.orthogonal_(_big(*shape), gain=2.0)
    m = w.detach().numpy().reshape(shape[0], -1) / 2.0
    if m.shape[0] <= m.shape[1]:
        np.testing.assert_allclose(m @ m.T, np.eye(m.shape[0]), atol=1e-12)
    else:
        np.testing.assert_allclose(m.T @ m, np.eye(m.shape[1]), atol=1e-12)


def test_trunc_normal_stays_in_range():
    w = init.trunc_normal_(_big(10000), std=1.0, a=-0.5, b=0.5)
    assert w.detach().numpy().min() >= -0.5 and w.detach().numpy().max() <= 0.5


def test_generator_makes_draws_reproducible_and_independent_of_global_seed():
    a = init.kaiming_uniform_(_big(4, 4), generator=cr.Generator(7))
    cr.manual_seed(123)
    b = init.kaiming_uniform_(_big(4, 4), generator=cr.Generator(7))
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    c = init.kaiming_uniform_(_big(4, 4), generator=cr.Generator(8))
    assert not np.array_equal(a.detach().numpy(), c.detach().numpy())


def test_init_is_in_place_on_parameters_and_not_recorded():
    p = nn.Parameter(cr.zeros(3, 4))
    data = p.detach().numpy()
    out = init.normal_(p)
    assert out is p and p.detach().numpy() is data and p.detach().numpy().any()
    assert p.is_leaf and p.requires_grad and p.grad is None
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(cr.zeros(3))
    with pytest.raises(TypeError, match="floating"):
        init.normal_(cr.zeros(3, dtype=cr.int64))


def test_default_layer_init_matches_pytorch_distribution():
    cr.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (lin.weight, lin.bias):
        assert np.abs(p.detach().numpy()).max() <= bound
    assert abs(lin.weight.detach().numpy().std() - _uniform_std(bound)) / _uniform_std(bound) < 0.02
    assert np.abs(lin.bias.detach().numpy()).max() > 0.9 * bound  # spread over the whole interval
    emb = nn.Embedding(1000, 64)
    assert abs(emb.weight.detach().numpy().std() - 1) < 0.02
    assert abs(emb.weight.detach().numpy().mean()) < 0.02
    bn, ln = nn.BatchNorm1d(5), nn.LayerNorm(5)
    for m in (bn, ln):
        assert (m.weight.detach().numpy() == 1).all() and (m.bias.detach().numpy() == 0).all()
    assert (bn.running_mean.detach().numpy() == 0).all()
    assert (bn.running_var.detach().numpy() == 1).all()
    assert lin.weight.dtype == np.float32


def test_global_seed_makes_layers_reproducible():
    cr.manual_seed(5)
    a = nn.Linear(3, 3)
    cr.manual_seed(5)
    b = nn.Linear(3, 3)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())


def test_every_torch_initializer_exists_here():
    import torch.nn.init as tinit
    public = [n for n in dir(tinit) if not n.startswith("_") and callable(getattr(tinit, n))
              and getattr(tinit, n).__module__ == "torch.nn.init"]
    missing = [n for n in public if not hasattr(init, n)]
    assert not missing


def test_ndtri_matches_torch():
    from chainrule.nn.init import _ndtri
    p = np.concatenate([np.logspace(-300, -1, 60), np.linspace(0.01, 0.99, 99),
                        1 - np.logspace(-15, -2, 30)])
    want = torch.special.ndtri(torch.tensor(p)).numpy()
    np.testing.assert_allclose(_ndtri(p), want, rtol=2e-9, atol=1e-12)


def _truncated_moments(mean, std, a, b):
    """Mean and variance of N(mean, std^2) truncated to [a, b], from the closed form."""
    al, be = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))  # noqa: E731
    z = cdf(be) - cdf(al)
    m = (pdf(al) - pdf(be)) / z
    v = 1 + (al * pdf(al) - be * pdf(be)) / z - m * m
    return mean + std * m, std * std * v


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -2.0, 2.0),
                                          (1.0, 2.0, 0.0, 1.5), (0.0, 1.0, 3.0, 5.0),
                                          (0.0, 1.0, -9.0, -8.0), (0.5, 1.0, -0.5, 0.5)])
def test_trunc_normal_distribution_is_exact(mean, std, a, b):
    n = 200_000
    w = init.trunc_normal_(_big(n), mean=mean, std=std, a=a, b=b).detach().numpy()
    assert w.min() >= a and w.max() <= b
    want_mean, want_var = _truncated_moments(mean, std, a, b)
    sd = math.sqrt(want_var)
    assert abs(w.mean() - want_mean) < 5 * sd / math.sqrt(n)
    assert abs(w.var() - want_var) < 0.02 * want_var
    # Kolmogorov-Smirnov distance to the exact truncated CDF
    xs = np.sort(w)[:: n // 500]
    cdf = np.vectorize(lambda x: 0.5 * math.erfc(-(x - mean) / (std * math.sqrt(2))))
    lo, hi = cdf(a), cdf(b)
    exact = (cdf(xs) - lo) / (hi - lo)
    empirical = np.searchsorted(np.sort(w), xs, side="right") / n
    assert np.abs(exact - empirical).max() < 0.01


def test_trunc_normal_far_tail_finishes():
    w = init.trunc_normal_(_big(1000), mean=0.0, std=1.0, a=30.0, b=31.0)
    assert w.detach().numpy().min() >= 30.0 and w.detach().numpy().max() <= 31.0
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(_big(3), a=1.0, b=1.0)


@pytest.mark.parametrize("shape,groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 2), ((4, 6, 3, 5), 1),
                                          ((4, 2, 3, 3, 3), 2), ((3, 5, 2), 1)])
def test_dirac_matches_torch(shape, groups):
    ours = init.dirac_(_big(*shape), groups=groups)
    theirs = torch.nn.init.dirac_(torch.empty(shape, dtype=torch.float64), groups=groups)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())


@pytest.mark.parametrize("shape", [(2, 2), (3, 5), (5, 3)])
def test_eye_matches_torch(shape):
    ours = init.eye_(_big(*shape))
    np.testing.assert_array_equal(ours.detach().numpy(),
                                  torch.nn.init.eye_(torch.empty(shape)).numpy())


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 1.0])
def test_sparse_zeros_per_column_and_std(sparsity):
    rows, cols = 40, 300
    w = init.sparse_(_big(rows, cols), sparsity, std=0.5).detach().numpy()
    zeros = math.ceil(sparsity * rows)
    t = torch.nn.init.sparse_(torch.empty(rows, cols), sparsity, std=0.5).numpy()
    np.testing.assert_array_equal((w == 0).sum(axis=0), (t == 0).sum(axis=0))
    assert ((w == 0).sum(axis=0) == zeros).all()
    nonzero = w[w != 0]
    if nonzero.size:
        assert abs(nonzero.std() - 0.5) < 0.03 and abs(nonzero.mean()) < 0.03


def test_init_errors_name_the_function():
    with pytest.raises(ValueError, match=r"init.dirac_\(\).*3-, 4- and 5-D"):
        init.dirac_(_big(3, 3))
    with pytest.raises(ValueError, match=r"init.dirac_\(\).*divisible by groups"):
        init.dirac_(_big(5, 2, 3), groups=2)
    with pytest.raises(ValueError, match=r"init.sparse_\(\).*2-D"):
        init.sparse_(_big(2, 2, 2), 0.1)
    assert init.orthogonal_(_big(0, 3)).shape == (0, 3)


@pytest.mark.parametrize("old", ["uniform", "normal", "constant", "eye", "dirac",
                                 "xavier_uniform", "xavier_normal", "kaiming_uniform",
                                 "kaiming_normal", "orthogonal", "sparse"])
def test_deprecated_names_warn_like_torch_and_still_work(old):
    args = {"constant": (0.5,), "sparse": (0.2,)}.get(old, ())
    shape = (4, 4, 3) if old == "dirac" else (4, 4)
    with pytest.warns(FutureWarning, match=rf"`nn.init.{old}` is now deprecated in favor of "
                                           rf"`nn.init.{old}_`"):
        w = getattr(init, old)(_big(*shape), *args)
    assert w.shape == shape


def test_calculate_correct_fan_is_there_for_code_that_imports_it():
    from chainrule.nn.init import _calculate_correct_fan
    w = _big(3, 4, 5)
    assert _calculate_correct_fan(w, "fan_in") == torch.nn.init._calculate_correct_fan(
        torch.empty(3, 4, 5), "fan_in") == 20
    assert _calculate_correct_fan(w, "FAN_OUT") == 15
