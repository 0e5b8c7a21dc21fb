"""default_collate against PyTorch's as the oracle."""

from collections import namedtuple

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate as torch_collate

import chainrule as cr
from chainrule.data import default_collate

Point = namedtuple("Point", "x label")


def same(ours, theirs):
    """Recursively compare a chainrule batch with a PyTorch batch: structure, dtype, values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, cr.Tensor)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs)
        for k in theirs:
            same(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            same(a, b)
    else:
        assert ours == theirs


def samples(kind):
    rng = np.random.default_rng(0)
    if kind == "arrays":
        return [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(4)]
    if kind == "ints":
        return [3, 1, 4]
    if kind == "floats":
        return [0.5, 1.25]
    if kind == "bools":
        return [True, False, True]
    if kind == "strings":
        return ["a", "bc"]
    if kind == "tuples":
        return [(rng.standard_normal(2).astype(np.float32), i, "s") for i in range(3)]
    if kind == "dicts":
        return [{"img": rng.standard_normal((1, 2)), "y": i, "meta": {"w": 0.5 * i}}
                for i in range(3)]
    if kind == "namedtuples":
        return [Point(rng.standard_normal(2).astype(np.float32), i) for i in range(2)]
    if kind == "lists":
        return [[1, 2.0], [3, 4.0]]
    raise AssertionError(kind)


def to_ours(x):
    if isinstance(x, np.ndarray):
        return cr.tensor(x)
    if isinstance(x, dict):
        return {k: to_ours(v) for k, v in x.items()}
    if isinstance(x, Point):
        return Point(*map(to_ours, x))
    if isinstance(x, tuple):
        return tuple(map(to_ours, x))
    return x


def to_torch(x):
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x)
    if isinstance(x, dict):
        return {k: to_torch(v) for k, v in x.items()}
    if isinstance(x, Point):
        return Point(*map(to_torch, x))
    if isinstance(x, tuple):
        return tuple(map(to_torch, x))
    return x


@pytest.mark.parametrize("kind", ["arrays", "ints", "floats", "bools", "strings", "tuples",
                                  "dicts", "namedtuples"])
def test_collate_tensors_matches_pytorch(kind):
    batch = samples(kind)
    same(default_collate([to_ours(s) for s in batch]), torch_collate([to_torch(s) for s in batch]))


def test_collate_lists_transpose_like_pytorch():
    # PyTorch turns a batch of lists into a list of per-field batches.
    same(default_collate(samples("lists")), torch_collate(samples("lists")))


def test_collate_numpy_arrays_become_tensors():
    ours = default_collate(samples("arrays"))
    same(ours, torch_collate(samples("arrays")))


def test_collate_keeps_gradient_path():
    a, b = cr.ones(2, requires_grad=True), cr.zeros(2, requires_grad=True)
    batch = default_collate([a, b])
    (batch * cr.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert a.grad.tolist() == [1.0, 2.0] and b.grad.tolist() == [3.0, 4.0]


@pytest.mark.parametrize("batch, err", [
    ([cr.zeros(2), cr.zeros(3)], ValueError),
    ([], ValueError),
    ([None, None], TypeError),
    ([object()], TypeError),
    ([(1, 2), (1,)], ValueError),
    ("abc", TypeError),
])
def test_collate_bad_batches(batch, err):
    with pytest.raises(err):
        default_collate(batch)
