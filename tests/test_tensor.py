"""The Tensor API: factories, dtype rules, properties, conversions, comparisons, repr."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr

# ---- factories ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
def test_shape_factories(name):
    make = getattr(cr, name)
    for args, shape in [((2, 3), (2, 3)), (((2, 3),), (2, 3)), (([4],), (4,)), ((), ()),
                        ((0, 3), (0, 3))]:
        t = make(*args)
        assert t.shape == shape and t.dtype == np.float32
        assert not t.requires_grad and t.is_leaf
    assert make(2, dtype=cr.float64).dtype == np.float64
    assert make(2, dtype=cr.int64).dtype == np.int64
    assert make(2, requires_grad=True).requires_grad


def test_zeros_and_ones_values():
    assert cr.zeros(2, 2).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert cr.ones(3).tolist() == [1.0, 1.0, 1.0]


def test_full():
    assert cr.full((2,), 7.5).tolist() == [7.5, 7.5]
    assert cr.full((2,), 7.5).dtype == np.float32
    assert cr.full((2,), 3).dtype == np.int64  # like torch.full with an int
    assert cr.full((1,), True).dtype == np.bool_
    assert cr.full((2, 1), 1.0, dtype=cr.float64).dtype == np.float64
    assert cr.full((2,), np.float32(1.5)).tolist() == [1.5, 1.5]  # NumPy scalars like numbers
    assert cr.full((2,), np.float64(1.5)).dtype == np.float32
    assert cr.full((2,), np.int32(3)).dtype == np.int64
    assert cr.full((2,), cr.tensor(2.5)).tolist() == [2.5, 2.5]


def test_arange_matches_torch():
    for args in [(5,), (1, 4), (0, 1, 0.25), (5, 0, -2), (0.5, 2.0)]:
        got, want = cr.arange(*args), torch.arange(*args)
        np.testing.assert_allclose(got.detach().numpy(), want.numpy())
        assert str(got.dtype) == str(want.dtype).replace("torch.", "")
    assert cr.arange(3, dtype=cr.float64).dtype == np.float64


def test_linspace_and_eye():
    np.testing.assert_allclose(cr.linspace(0, 1, 5).detach().numpy(), [0, 0.25, 0.5, 0.75, 1.0])
    assert cr.linspace(0, 1, 5).dtype == np.float32
    assert cr.linspace(2, 3, 1).tolist() == [2.0]
    assert cr.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert cr.eye(2, 3).shape == (2, 3) and cr.eye(2, 3).detach().numpy()[1, 1] == 1.0


def test_random_factories():
    r, n = cr.rand(200), cr.randn(2, 100)
    assert r.dtype == np.float32 and n.dtype == np.float32 and n.shape == (2, 100)
    assert (r.detach().numpy() >= 0).all() and (r.detach().numpy() < 1).all()
    assert abs(float(n.detach().numpy().mean())) < 0.5
    assert 0.5 < float(n.detach().numpy().std()) < 1.5
    assert cr.randn(3, dtype=cr.float64).dtype == np.float64
    assert cr.rand(2, requires_grad=True).requires_grad


def test_manual_seed_reproducibility():
    cr.manual_seed(7)
    a, b = cr.randn(4), cr.rand(3)
    cr.manual_seed(7)
    assert cr.randn(4).tolist() == a.tolist() and cr.rand(3).tolist() == b.tolist()
    cr.manual_seed(8)
    assert cr.randn(4).tolist() != a.tolist()
    g1, g2 = cr.Generator().manual_seed(1), cr.Generator().manual_seed(1)
    assert cr.randn(3, generator=g1).tolist() == cr.randn(3, generator=g2).tolist()


def test_like_factories():
    x = cr.tensor([[1, 2, 3]])
    assert cr.zeros_like(x).tolist() == [[0, 0, 0]] and cr.zeros_like(x).dtype == np.int64
    assert cr.ones_like(x, dtype=cr.float64).dtype == np.float64
    w = cr.ones(2, requires_grad=True)
    assert not cr.zeros_like(w).requires_grad  # a fresh tensor, not a copy of the graph
    assert cr.ones_like(w).shape == (2,) and cr.ones_like(w).dtype == np.float32


# ---- dtype rules --------------------------------------------------------------------------


@pytest.mark.parametrize("data,dtype", [
    (1.0, np.float32), ([1.0, 2.0], np.float32), ([1, 2.5], np.float32), (3, np.int64),
    ([1, 2], np.int64), (True, np.bool_), ([[True]], np.bool_),
    (np.zeros(2), np.float64), (np.zeros(2, np.int32), np.int32),
    (np.zeros(2, np.float16), np.float16), (np.float64(1.0), np.float64),
])
def test_dtype_of_new_tensors(data, dtype):
    assert cr.tensor(data).dtype == dtype


def test_set_default_dtype():
    cr.set_default_dtype(cr.float64)
    try:
        assert cr.tensor(1.0).dtype == np.float64
        assert cr.tensor([1, 2]).dtype == np.int64  # ints are not affected
        assert cr.zeros(1).dtype == np.float64 and cr.rand(1).dtype == np.float64
        assert (cr.tensor([1]) / 2).dtype == np.float64
        assert cr.get_default_dtype() == np.float64
    finally:
        cr.set_default_dtype(cr.float32)
    assert cr.tensor(1.0).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        cr.set_default_dtype(cr.int64)


def test_tensor_copies_numpy_data_but_from_numpy_shares():
    a = np.zeros(2)
    cr.tensor(a).detach().numpy()[0] = 5
    assert a[0] == 0
    cr.from_numpy(a).detach().numpy()[0] = 7
    assert a[0] == 7


def _torch_dtype(x):
    return str(x.dtype).replace("torch.", "")


PROMOTION = [
    ("int64 + float", lambda L: L.tensor([1, 2]) + 1.5),
    ("int64 * float32", lambda L: L.tensor([1, 2]) * L.tensor([2.5, 1.0])),
    ("int64 / int64", lambda L: L.tensor([1, 2]) / L.tensor([2, 4])),
    ("int64 / int", lambda L: L.tensor([1, 2]) / 2),
    ("int64 + int", lambda L: L.tensor([1, 2]) + 2),
    ("bool + float", lambda L: L.tensor([True]) + 1.5),
    ("bool + int", lambda L: L.tensor([True]) + 1),
    ("float32 + float64", lambda L: L.tensor([1.0]) + L.tensor([2.0], dtype=L.float64)),
    ("float32 + 0-d float64", lambda L: L.tensor([1.0]) + L.tensor(2.0, dtype=L.float64)),
    ("float32 + int", lambda L: L.tensor([1.0]) * 3),
    ("float64 + float", lambda L: L.tensor([1.0], dtype=L.float64) + 0.5),
    ("int32 + int64", lambda L: L.tensor([1], dtype=L.int32) + L.tensor([2])),
    ("sqrt(int64)", lambda L: L.tensor([4, 9]).sqrt()),
    ("exp(int64)", lambda L: L.exp(L.tensor([0, 1]))),
    ("int64 ** 2", lambda L: L.tensor([2, 3]) ** 2),
    ("int64 ** 0.5", lambda L: L.tensor([4, 9]) ** 0.5),
    ("abs(int64)", lambda L: L.tensor([-2, 3]).abs()),
    ("float16 * int64", lambda L: L.tensor([1.0], dtype=L.float16) * L.tensor([3])),
    ("where int/float", lambda L: L.where(L.tensor([True, False]), L.tensor([1, 2]),
                                          L.tensor([0.5, 0.5]))),
]


@pytest.mark.parametrize("name,fn", PROMOTION, ids=[p[0] for p in PROMOTION])
def test_type_promotion_matches_torch(name, fn):
    got, want = fn(cr), fn(torch)
    assert str(got.dtype) == _torch_dtype(want), name
    np.testing.assert_allclose(got.detach().numpy().astype(np.float64),
                               want.numpy().astype(np.float64), rtol=1e-3)


def test_mixed_float_promotion_is_differentiable():
    a = cr.tensor([1.0, 2.0], requires_grad=True)  # float32
    b = cr.tensor([3.0, 4.0], dtype=cr.float64, requires_grad=True)
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and a.grad.tolist() == [3.0, 4.0]
    assert b.grad.dtype == np.float64 and b.grad.tolist() == [1.0, 2.0]


def test_dtype_conversions():
    x = cr.tensor([1.7, -0.2, 0.0])
    assert x.double().dtype == np.float64 and x.float().dtype == np.float32
    assert x.long().tolist() == [1, 0, 0] and x.long().dtype == np.int64
    assert x.int().dtype == np.int32
    assert x.bool().tolist() == [True, True, False]
    assert x.to(cr.float64).dtype == np.float64 and x.to("float64").dtype == np.float64
    assert cr.tensor([1]).to(float).dtype == np.float32
    assert x.to(cr.float32) is x  # no copy when nothing changes
    assert x.to("cpu") is x and x.device == cr.device("cpu") and x.device.type == "cpu"
    assert x.to(cr.ones(1, dtype=cr.float64)).dtype == np.float64


def test_cast_to_int_is_cut_from_graph():
    x = cr.tensor([1.5], requires_grad=True)
    assert not x.long().requires_grad
    assert x.double().requires_grad and not x.double().is_leaf


# ---- properties -------------------------------------------------------------------------


def test_properties():
    t = cr.ones(2, 3)
    assert t.shape == (2, 3) and isinstance(t.shape, tuple)
    assert t.dtype == np.float32 and t.ndim == 2 and t.dim() == 2
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-1) == 3
    assert t.numel() == 6 and len(t) == 2
    assert cr.tensor(1.0).numel() == 1 and cr.tensor(1.0).shape == ()
    with pytest.raises(TypeError, match="0-d"):
        len(cr.tensor(1.0))


def test_T_reverses_dims():
    t = cr.arange(6).reshape(2, 3)
    assert t.T.shape == (3, 2) and t.T.tolist() == [[0, 3], [1, 4], [2, 5]]
    assert cr.ones(2, 3, 4).T.shape == (4, 3, 2)
    assert cr.tensor([1.0, 2.0]).T.tolist() == [1.0, 2.0]
    assert cr.ones(2, 3, 4).mT.shape == (2, 4, 3)


def test_is_leaf_grad_and_grad_fn():
    w = cr.tensor([1.0], requires_grad=True)
    c = cr.tensor([1.0])
    y = w * 2
    assert w.is_leaf and c.is_leaf and not y.is_leaf
    assert w.grad_fn is None and y.grad_fn is not None
    assert w.grad is None
    y.sum().backward()
    assert isinstance(w.grad, cr.Tensor) and w.grad.tolist() == [2.0]
    assert not w.grad.requires_grad


# ---- conversions -------------------------------------------------------------------------


def test_numpy_item_tolist():
    t = cr.tensor([[1.0, 2.0]])
    assert isinstance(t.numpy(), np.ndarray)
    t.numpy()[0, 0] = 9.0  # shares memory, like torch
    assert t.tolist() == [[9.0, 2.0]]
    assert cr.tensor([2.5]).item() == 2.5 and isinstance(cr.tensor([2.5]).item(), float)
    assert isinstance(cr.tensor(3).item(), int)
    assert float(cr.tensor(2.5)) == 2.5 and int(cr.tensor(2.7)) == 2
    assert [10, 20, 30][cr.tensor(1)] == 20
    assert [x.item() for x in cr.tensor([1.0, 2.0])] == [1.0, 2.0]


def test_detach_shares_data_and_cuts_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
    d = x.detach()
    assert np.shares_memory(d.detach().numpy(), x.detach().numpy())


def test_clone_copies_and_keeps_gradient_flow():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert not np.shares_memory(c.detach().numpy(), x.detach().numpy())
    assert c.requires_grad and not c.is_leaf
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    d = cr.tensor([1.0]).clone()
    assert not d.requires_grad


def test_requires_grad_():
    t = cr.ones(2)
    assert t.requires_grad_() is t and t.requires_grad
    t.requires_grad_(False)
    assert not t.requires_grad


# ---- comparisons -------------------------------------------------------------------------


def test_comparisons_match_torch():
    a_, b_ = [1.0, 2.0, 3.0], [2.0, 2.0, 1.0]
    for op in ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"]:
        got = getattr(cr.tensor(a_), op)(cr.tensor(b_))
        want = getattr(torch.tensor(a_), op)(torch.tensor(b_))
        assert got.dtype == np.bool_ and got.tolist() == want.tolist(), op
        assert getattr(cr.tensor(a_), op)(2).tolist() == getattr(torch.tensor(a_), op)(2).tolist()
    assert not (cr.tensor([1.0]) > 0).requires_grad
    assert (cr.ones(2, 1) >= cr.zeros(3)).shape == (2, 3)


def test_logical_helpers():
    m = cr.tensor([True, False])
    assert (~m).tolist() == [False, True]
    assert (m & cr.tensor([True, True])).tolist() == [True, False]
    assert (m | cr.tensor([False, True])).tolist() == [True, True]
    assert bool(m.any()) and not bool(m.all())
    assert cr.tensor([1.0, float("nan")]).isnan().tolist() == [False, True]
    assert cr.tensor([1.0, 2.0]).equal(cr.tensor([1.0, 2.0]))
    assert cr.tensor([1.0]).allclose(cr.tensor([1.0 + 1e-9]))


def test_truth_value_of_single_element():
    assert bool(cr.tensor([3.0])) and not bool(cr.tensor(0.0))


# ---- repr --------------------------------------------------------------------------------


def test_repr():
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(cr.tensor(2.5)) == "tensor(2.5)"
    assert repr(cr.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(cr.tensor([1.0], dtype=cr.float64)) == "tensor([1.], dtype=float64)"
    assert repr(cr.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(cr.tensor([1.0], requires_grad=True) * 2) == "tensor([2.], grad_fn=<MulBackward>)"
    assert "tensor([[1., 2.]," in repr(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))


def test_cat_of_one_tensor_is_a_copy():
    x = cr.tensor([1.0, 2.0])
    y = cr.cat([x])
    y[0] = 9.0
    assert x.tolist() == [1.0, 2.0] and y.tolist() == [9.0, 2.0]


def test_format_of_scalar_tensors():
    assert f"{cr.tensor(1.5):.2f}" == "1.50"
    assert f"{cr.tensor(3):03d}" == "003"
    assert f"{cr.tensor([1.0, 2.0])}" == "tensor([1., 2.])"
    with pytest.raises(TypeError):
        f"{cr.tensor([1.0, 2.0]):.2f}"


def test_randint_and_randperm():
    a = cr.randint(10, (2, 3))
    assert a.shape == (2, 3) and a.dtype == np.int64
    assert ((a.detach().numpy() >= 0) & (a.detach().numpy() < 10)).all()
    b = cr.randint(5, 8, (100,))
    assert b.detach().numpy().min() >= 5 and b.detach().numpy().max() < 8
    assert cr.randint(3, size=(4,)).shape == (4,)
    assert sorted(cr.randperm(5).tolist()) == [0, 1, 2, 3, 4]


def test_new_factories_and_aliases_match_torch():
    for L in (cr, torch):
        x = L.tensor([[1.0, 2.0]], dtype=L.float64)
        assert str(x.new_zeros((2, 3)).dtype).endswith("float64")
        assert x.new_zeros((2, 3)).shape == (2, 3) and x.new_ones(2).tolist() == [1.0, 1.0]
        assert x.new_full((2,), 7).tolist() == [7.0, 7.0]
        assert x.new_tensor([1, 2]).tolist() == [1.0, 2.0]
        assert str(x.new_tensor([1, 2]).dtype).endswith("float64")
        assert str(L.tensor([1]).type_as(x).dtype).endswith("float64")
        assert tuple(x.reshape_as(L.ones(2, 1)).shape) == (2, 1)
        assert x.nelement() == 2 and x.ndimension() == 2
    assert cr.ones(1).new_zeros(2, requires_grad=True).requires_grad


def test_argmax_argmin_match_torch():
    data = [[1.0, 5.0, 5.0], [7.0, 2.0, -1.0]]
    for args in [(), (1,), (0,), (-1,)]:
        for name in ("argmax", "argmin"):
            got = getattr(cr.tensor(data), name)(*args)
            want = getattr(torch.tensor(data), name)(*args)
            assert got.tolist() == want.tolist() and got.dtype == np.int64
    assert cr.tensor(data).argmax(1, keepdim=True).shape == (2, 1)


def test_cat_and_stack_promote_like_torch():
    cases = [
        lambda L: L.cat([L.tensor([1, 2]), L.tensor([0.5])]),
        lambda L: L.cat([L.tensor([0.5]), L.tensor([1.5], dtype=L.float64)]),
        lambda L: L.cat([L.tensor([True]), L.tensor([1, 2])]),
        lambda L: L.stack([L.tensor(1.0), L.tensor(2.0, dtype=L.float64)]),
        lambda L: L.stack([L.tensor([1, 2]), L.tensor([0.5, 1.0])]),
    ]
    for fn in cases:
        got, want = fn(cr), fn(torch)
        assert str(got.dtype) == _torch_dtype(want)
        np.testing.assert_allclose(got.detach().numpy().astype(float), want.numpy().astype(float))


# ---- .data and .numpy(): PyTorch's meanings ----------------------------------------------------
def test_data_is_a_detached_tensor_sharing_storage_like_torch():
    import torch

    for lib in (cr, torch):
        p = lib.ones(3, requires_grad=True)
        d = p.data
        assert isinstance(d, lib.Tensor) and not d.requires_grad and d.grad_fn is None
        d.add_(lib.full((3,), 2.0), alpha=-0.5)  # the manual SGD step of many tutorials
        assert p.detach().numpy().tolist() == [0.0, 0.0, 0.0]
        p.data.copy_(lib.tensor([1.0, 2.0, 3.0]))
        p.data.mul_(2)
        assert p.detach().numpy().tolist() == [2.0, 4.0, 6.0] and p.requires_grad
        p.data = lib.zeros(2)  # rebinding is allowed, even to another shape
        assert p.shape == (2,) and p.requires_grad


def test_data_writes_reach_a_zero_dim_result_and_normal_fills_in_place():
    s = (cr.ones(2) * 3).sum()
    s.data.fill_(7.0)
    assert s.item() == 7.0
    w = cr.zeros(1000)
    w.data.normal_(0.0, 1.0, generator=cr.Generator(0))
    assert 0.9 < float(w.std()) < 1.1


def test_data_setter_refuses_arrays_naming_what_to_use():
    p = cr.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match=r"Tensor.data: expected a Tensor.*from_numpy"):
        p.data = np.zeros(2)


def test_numpy_refuses_a_tensor_that_requires_grad_like_torch():
    import torch

    for lib in (cr, torch):
        p = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="detach"):
            p.numpy()
        with pytest.raises(RuntimeError):
            np.asarray(p)
        a = p.numpy(force=True)
        a[0] = 5.0  # shares memory in both libraries
        assert p.detach().numpy()[0] == 5.0
        assert np.shares_memory(p.detach().numpy(), a)


def test_grad_assignment_errors_read_like_pytorch():
    w = cr.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError,
                       match=r"assign a gradient of size \(3,\) to a tensor of size \(2,\)"):
        w.grad = cr.ones(3)
    with pytest.raises(RuntimeError,
                       match="gradient with dtype float64 to a tensor with dtype float32"):
        w.grad = cr.ones(2, dtype=cr.float64)
    with pytest.raises(TypeError, match="expected to be a Tensor or None but got grad of type str"):
        w.grad = "x"
    tw = torch.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="assign a gradient of size"):
        tw.grad = torch.ones(3)
    with pytest.raises(RuntimeError, match="assign a gradient with dtype"):
        tw.grad = torch.ones(2, dtype=torch.float64)
