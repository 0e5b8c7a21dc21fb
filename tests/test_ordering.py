"""Ordering and sampling against PyTorch: sort / argsort / topk (NaN, ties, stability, dims),
unique, argmax / argmin, and multinomial's distribution."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr

NAN = float("nan")


def _same(got, want):
    got, want = np.asarray(got.detach().numpy()), want.detach().numpy()
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want)


DATA = [[3.0, 1.0, NAN, 1.0, 2.0, -np.inf], [0.5, 0.5, 0.5, -1.0, np.inf, 0.0]]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_stable_sort_matches_torch_with_ties_and_nan(descending, dim):
    for data in (DATA, [[3, 1, 1, 2], [2, 2, 0, 5]], [[True, False], [False, True]]):
        t = torch.tensor(data)
        got = cr.sort(cr.tensor(data), dim=dim, descending=descending, stable=True)
        want = torch.sort(t, dim=dim, descending=descending, stable=True)
        _same(got.values, want.values)
        _same(got.indices, want.indices)
        assert got.indices.dtype == np.int64
        _same(cr.argsort(cr.tensor(data), dim, descending, stable=True),
              torch.argsort(t, dim=dim, descending=descending, stable=True))
        _same(cr.tensor(data).argsort(dim=dim, descending=descending),
              torch.argsort(t, dim=dim, descending=descending, stable=True))


def test_sort_result_is_a_values_indices_pair():
    r = cr.tensor([2.0, 1.0]).sort()
    v, i = r
    assert r.values is v and r.indices is i and r[0] is v
    assert cr.sort(cr.tensor(3.0)).values.item() == 3.0 and cr.sort(cr.tensor(3.0))[1].item() == 0


def test_sort_values_leave_the_input_alone():
    x = cr.tensor([2.0, 1.0])
    v = x.sort().values
    v[0] = 9.0
    assert x.tolist() == [2.0, 1.0]


@pytest.mark.parametrize("largest", [True, False])
def test_topk_matches_torch(largest):
    rng = np.random.default_rng(0)
    data = rng.permutation(24).reshape(2, 3, 4).astype(np.float64)
    data[0, 0, 0] = np.nan  # NaN counts as the largest, as in torch
    t = torch.tensor(data)
    for dim in [0, 1, -1]:
        for k in range(0, data.shape[dim] + 1):
            got = cr.topk(cr.tensor(data), k, dim=dim, largest=largest)
            want = torch.topk(t, k, dim=dim, largest=largest)
            _same(got.values, want.values)
            _same(got.indices, want.indices)
    got = cr.tensor(data).topk(2, largest=largest, sorted=False)
    assert got.values.shape == (2, 3, 2)


def test_topk_bad_input():
    x = cr.ones(2, 3)
    with pytest.raises(IndexError, match=r"topk\(\).*k=4.*size 3"):
        cr.topk(x, 4)
    with pytest.raises(IndexError, match=r"topk\(\).*k=-1"):
        cr.topk(x, -1)
    with pytest.raises(TypeError, match=r"topk\(\).*k must be an int"):
        cr.topk(x, 1.5)
    with pytest.raises(IndexError, match=r"topk\(\).*dim 2"):
        cr.topk(x, 1, dim=2)


@pytest.mark.parametrize("data", [[[3, 1], [1, 2]], [3.0, NAN, NAN, 1.0, 3.0], [True, False, True],
                                  [[1.5, 2.5], [1.5, 2.5], [0.5, 2.5]]])
def test_unique_matches_torch(data):
    c, t = cr.tensor(data), torch.tensor(data)
    for inverse in [False, True]:
        for counts in [False, True]:
            got = cr.unique(c, return_inverse=inverse, return_counts=counts)
            want = torch.unique(t, return_inverse=inverse, return_counts=counts)
            got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
            assert len(got) == len(want)
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g.numpy(), w.numpy())
                assert g.dtype == np.dtype(str(w.dtype).removeprefix("torch."))
    if np.ndim(data) == 2:
        got = c.unique(dim=0, return_inverse=True, return_counts=True)
        want = torch.unique(t, dim=0, return_inverse=True, return_counts=True)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.numpy())


def test_unique_is_not_differentiable_and_checks_dim():
    x = cr.tensor([1.0, 1.0], requires_grad=True)
    assert not cr.unique(x).requires_grad
    with pytest.raises(IndexError, match=r"unique\(\).*dim 2"):
        cr.unique(cr.ones(2, 2), dim=2)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_match_torch(name):
    data = [[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]]
    c, t = cr.tensor(data), torch.tensor(data)
    _same(getattr(cr, name)(c), getattr(torch, name)(t))
    _same(getattr(cr, name)(c, keepdim=True), getattr(torch, name)(t, keepdim=True))
    for dim in [0, 1, -1]:
        for keepdim in [False, True]:
            _same(getattr(c, name)(dim, keepdim), getattr(t, name)(dim, keepdim))
    _same(getattr(cr, name)(cr.tensor(3.0), 0, True), getattr(torch, name)(torch.tensor(3.0),
                                                                             0, True))
    with pytest.raises(IndexError, match=rf"{name}\(\).*empty"):
        getattr(cr, name)(cr.tensor([]))
    with pytest.raises(IndexError, match=rf"{name}\(\).*dim 1.*empty"):
        getattr(cr, name)(cr.ones(2, 0), dim=1)
    assert getattr(cr, name)(cr.ones(0, 2), dim=1).shape == (0,)


def _frequencies(draws: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(draws.reshape(-1), minlength=n) / draws.size


def test_multinomial_with_replacement_follows_the_weights():
    g = cr.Generator().manual_seed(1)
    w = np.array([1.0, 0.0, 3.0, 6.0])
    draws = cr.multinomial(cr.tensor(w), 20000, replacement=True, generator=g)
    assert draws.dtype == np.int64 and draws.shape == (20000,)
    freq = _frequencies(draws.numpy(), 4)
    assert freq[1] == 0.0  # a weight of 0 is never drawn
    # 4.5 standard errors: fails by chance about once in 10^5 runs (and the seed is fixed)
    se = np.sqrt(w / w.sum() * (1 - w / w.sum()) / 20000)
    np.testing.assert_array_less(np.abs(freq - w / w.sum()), 4.5 * se + 1e-12)


def test_multinomial_without_replacement_distribution_of_first_draw_and_no_repeats():
    g = cr.Generator().manual_seed(2)
    w = cr.tensor([[1.0, 2.0, 7.0, 0.0]] * 4000)  # 2-D: one draw of 3 per row
    draws = cr.multinomial(w, 3, generator=g).numpy()
    assert draws.shape == (4000, 3)
    assert all(len(set(row)) == 3 for row in draws)  # no category twice in a row
    assert not (draws == 3).any()  # weight 0 comes only after every positive one
    freq = _frequencies(draws[:, 0], 4)
    p = np.array([0.1, 0.2, 0.7, 0.0])
    np.testing.assert_array_less(np.abs(freq - p), 4.5 * np.sqrt(p * (1 - p) / 4000) + 1e-12)
    # second draw given the first was category 2: 1 : 2 between categories 0 and 1
    second = draws[draws[:, 0] == 2, 1]
    assert abs(np.mean(second == 1) - 2 / 3) < 4.5 * np.sqrt(2 / 9 / second.size)


def test_multinomial_is_reproducible_with_a_generator_and_exhausts_zero_weights_last():
    a = cr.multinomial(cr.tensor([1.0, 2.0, 3.0]), 3, generator=cr.Generator().manual_seed(5))
    b = cr.tensor([1.0, 2.0, 3.0]).multinomial(3, generator=cr.Generator().manual_seed(5))
    assert a.tolist() == b.tolist() and sorted(a.tolist()) == [0, 1, 2]
    d = cr.multinomial(cr.tensor([0.0, 1.0, 1.0]), 3).tolist()
    assert d[2] == 0 and sorted(d[:2]) == [1, 2]  # as torch: [1, 2, 0] or [2, 1, 0]


@pytest.mark.parametrize("weights,n,replacement,error,match", [
    ([0.0, 1.0], 3, False, ValueError, "cannot draw 3 samples from 2 categories"),
    ([-1.0, 1.0], 1, False, ValueError, "finite and non-negative"),
    ([np.nan, 1.0], 1, True, ValueError, "finite and non-negative"),
    ([np.inf, 1.0], 1, True, ValueError, "finite and non-negative"),
    ([0.0, 0.0], 1, True, ValueError, "positive sum"),
    ([1.0, 1.0], 0, True, ValueError, "num_samples must be positive"),
    ([[[1.0]]], 1, True, ValueError, "1-D or 2-D"),
    ([1, 2], 1, True, TypeError, "must be a floating-point tensor"),
    ([1.0, 2.0], 1.5, True, TypeError, "num_samples must be an int"),
])
def test_multinomial_bad_input(weights, n, replacement, error, match):
    with pytest.raises(error, match=rf"multinomial\(\).*{match}"):
        cr.multinomial(cr.tensor(weights), n, replacement)
    with pytest.raises((RuntimeError, TypeError)):  # torch refuses the same input
        torch.multinomial(torch.tensor(weights), n, replacement)
