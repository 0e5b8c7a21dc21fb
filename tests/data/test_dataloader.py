"""DataLoader, TensorDataset, Subset, random_split, samplers."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    random_split,
)


def make(n=10, d=3):
    X = cr.tensor(np.arange(n * d, dtype=np.float32).reshape(n, d))
    y = cr.tensor(np.arange(n))
    return TensorDataset(X, y)


class RowsDataset(Dataset):
    """Same samples as a TensorDataset, but served one by one (the general, slow path)."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return cr.tensor(self.X[i]), int(self.y[i])


# ---- TensorDataset / Subset / ConcatDataset ------------------------------------------------------
def test_tensor_dataset_rows():
    ds = make(4, 2)
    assert len(ds) == 4
    x, y = ds[2]
    assert x.tolist() == [4.0, 5.0] and y.item() == 2
    assert ds[-1][1].item() == 3


def test_tensor_dataset_accepts_arrays():
    ds = TensorDataset(np.zeros((3, 2)), np.arange(3))
    assert isinstance(ds.tensors[0], cr.Tensor) and len(ds) == 3


@pytest.mark.parametrize("args, err", [
    ((), ValueError),
    ((cr.zeros(3), cr.zeros(4)), ValueError),
    ((cr.tensor(1.0),), ValueError),
    (([1, 2, 3],), TypeError),
])
def test_tensor_dataset_bad_input(args, err):
    with pytest.raises(err):
        TensorDataset(*args)


def test_subset_and_concat():
    ds = make(6)
    sub = Subset(ds, [4, 1, -1])
    assert len(sub) == 3 and [sub[i][1].item() for i in range(3)] == [4, 1, 5]
    with pytest.raises(ValueError):
        Subset(ds, [6])
    with pytest.raises(TypeError):
        Subset(ds, [0.5])
    both = ConcatDataset([make(2), make(3)])
    assert len(both) == 5 and [both[i][1].item() for i in range(5)] == [0, 1, 0, 1, 2]
    assert (make(2) + make(1))[2][1].item() == 0
    with pytest.raises(IndexError):
        both[5]


# ---- DataLoader: order, sizes ------------------------------------------------------------------
def test_sequential_batches_cover_data_in_order():
    ds = make(10)
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert np.concatenate([b[1].detach().numpy() for b in batches]).tolist() == list(range(10))
    np.testing.assert_array_equal(np.concatenate([b[0].detach().numpy() for b in batches]),
                                  ds.tensors[0].detach().numpy())
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_drop_last():
    loader = DataLoader(make(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(y) for _, y in loader] == [4, 4]


def test_shuffle_is_a_fresh_permutation_each_epoch():
    loader = DataLoader(make(50), batch_size=8, shuffle=True, generator=cr.Generator(1))
    e1 = np.concatenate([y.detach().numpy() for _, y in loader])
    e2 = np.concatenate([y.detach().numpy() for _, y in loader])
    assert sorted(e1.tolist()) == list(range(50)) == sorted(e2.tolist())
    assert e1.tolist() != list(range(50)) and e1.tolist() != e2.tolist()


def test_shuffle_reproducible_with_generator_and_global_seed():
    def order(**kw):
        return [y.tolist() for _, y in DataLoader(make(30), batch_size=7, shuffle=True, **kw)]

    assert order(generator=cr.Generator(3)) == order(generator=cr.Generator(3))
    assert order(generator=cr.Generator(3)) != order(generator=cr.Generator(4))
    cr.manual_seed(11)
    a = order()
    cr.manual_seed(11)
    assert order() == a


def test_rows_stay_paired_when_shuffled():
    for x, y in DataLoader(make(20), batch_size=6, shuffle=True):
        np.testing.assert_array_equal(x.detach().numpy()[:, 0], 3 * y.detach().numpy())


def test_fast_path_matches_sample_by_sample_path():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((37, 5)).astype(np.float32), rng.integers(0, 9, 37)
    fast = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, generator=cr.Generator(5))
    slow = DataLoader(RowsDataset(X, y), batch_size=8, shuffle=True, generator=cr.Generator(5))
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(xf.detach().numpy(), xs.detach().numpy())
        np.testing.assert_array_equal(yf.detach().numpy(), ys.detach().numpy())
        assert xf.dtype == xs.dtype and yf.dtype == ys.dtype


def test_fast_path_gathers_whole_batches(monkeypatch):
    def per_sample(self, i):
        raise AssertionError("the fast path must not index samples one by one")

    monkeypatch.setattr(TensorDataset, "__getitem__", per_sample)
    ds = make(9)
    for loader in (DataLoader(ds, batch_size=4, shuffle=True),
                   DataLoader(random_split(ds, [5, 4])[0], batch_size=2)):
        assert sum(len(y) for _, y in loader) == len(loader.dataset)


def test_batches_are_copies_of_the_dataset():
    ds = make(8)
    for loader in (DataLoader(ds, batch_size=4), DataLoader(ds, batch_size=4, shuffle=True)):
        for x, _ in loader:
            x.detach().numpy()[:] = -1
    assert ds.tensors[0].detach().numpy().min() == 0


def test_subclass_overriding_getitem_is_not_bypassed():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    ds = Doubled(cr.ones(4, 2), cr.arange(4))
    (x, _), = DataLoader(ds, batch_size=4)
    assert x.detach().numpy().tolist() == [[2.0, 2.0]] * 4


def test_subset_of_tensor_dataset_uses_fast_path_with_right_rows():
    ds = make(20)
    sub = Subset(Subset(ds, list(range(19, -1, -1))), [0, 5, 7])  # nested: rows 19, 14, 12
    loader = DataLoader(sub, batch_size=2)
    assert [y.tolist() for _, y in loader] == [[19, 14], [12]]


def test_random_split_then_loader():
    train, val = random_split(make(20), [15, 5], generator=cr.Generator(0))
    ys = np.concatenate([y.detach().numpy() for _, y in DataLoader(train, batch_size=4,
                                                                   shuffle=True)])
    vs = np.concatenate([y.detach().numpy() for _, y in DataLoader(val, batch_size=4)])
    assert sorted(ys.tolist() + vs.tolist()) == list(range(20))
    assert vs.tolist() == [int(i) for i in val.indices]


def test_custom_collate_and_unbatched():
    loader = DataLoader(make(5), batch_size=2, collate_fn=lambda batch: len(batch))
    assert list(loader) == [2, 2, 1]
    samples = list(DataLoader(make(3), batch_size=None))
    assert len(samples) == 3 and samples[1][1].item() == 1


def test_samplers_and_batch_sampler():
    ds = make(6)
    loader = DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert [y.tolist() for _, y in loader] == [[5, 4], [3, 2], [1, 0]]
    loader = DataLoader(ds, batch_sampler=[[0, 5], [1]])
    assert [y.tolist() for _, y in loader] == [[0, 5], [1]] and len(loader) == 2
    assert list(BatchSampler(SequentialSampler(range(5)), 2, True)) == [[0, 1], [2, 3]]
    perm = list(RandomSampler(range(6), generator=cr.Generator(0)))
    assert sorted(perm) == list(range(6)) and len(RandomSampler(range(6))) == 6


@pytest.mark.parametrize("kw", [
    {"batch_size": 0}, {"batch_size": 2.5}, {"batch_size": True}, {"num_workers": -1},
    {"shuffle": True, "sampler": [0, 1]}, {"batch_sampler": [[0]], "batch_size": 4},
])
def test_loader_bad_arguments(kw):
    with pytest.raises(ValueError):
        DataLoader(make(4), **kw)


def test_loader_rejects_non_dataset():
    with pytest.raises(TypeError):
        DataLoader(42)
    with pytest.raises(TypeError):
        DataLoader(make(4), shuffle=True, generator="seed")


# ---- random_split ------------------------------------------------------------------------------
@pytest.mark.parametrize("n, fractions", [
    (10, [0.3, 0.7]), (11, [0.5, 0.5]), (7, [0.2, 0.2, 0.6]), (100, [1 / 3] * 3), (5, [1.0, 0.0]),
])
@pytest.mark.filterwarnings("ignore:Length of split")  # PyTorch warns on the empty part
def test_random_split_fraction_sizes_match_pytorch(n, fractions):
    import torch

    expected = [len(s) for s in torch.utils.data.random_split(range(n), fractions)]
    parts = random_split(make(n), fractions)
    assert [len(p) for p in parts] == expected
    seen = np.concatenate([p.indices for p in parts])
    assert sorted(seen.tolist()) == list(range(n))


def test_random_split_reproducible():
    a = random_split(make(30), [10, 20], generator=cr.Generator(7))
    b = random_split(make(30), [10, 20], generator=cr.Generator(7))
    c = random_split(make(30), [10, 20], generator=cr.Generator(8))
    assert a[0].indices.tolist() == b[0].indices.tolist() != c[0].indices.tolist()


@pytest.mark.parametrize("lengths", [[3, 3], [5, 6], [-1, 11], [0.5, 0.6], [1.5, -0.5], []])
def test_random_split_bad_lengths(lengths):
    with pytest.raises(ValueError):
        random_split(make(10), lengths)


# ---- IterableDataset ---------------------------------------------------------------------------
class Stream(cr.data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        for i in range(self.n):
            yield cr.tensor([float(i), -float(i)]), i


def test_iterable_dataset_batches_in_stream_order():
    loader = DataLoader(Stream(5), batch_size=2)
    batches = list(loader)
    assert [y.tolist() for _, y in batches] == [[0, 1], [2, 3], [4]]
    assert batches[1][0].tolist() == [[2.0, -2.0], [3.0, -3.0]]
    assert [y.tolist() for _, y in DataLoader(Stream(5), batch_size=2, drop_last=True)] == [
        [0, 1], [2, 3]]
    assert len(list(DataLoader(Stream(3), batch_size=None))) == 3
    with pytest.raises(TypeError):
        len(loader)
    assert "Stream" in repr(loader)


def test_iterable_dataset_refuses_shuffle_and_indexing():
    with pytest.raises(ValueError):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(TypeError):
        Stream(3)[0]


# ---- weighted and distributed samplers ---------------------------------------------------------
def test_weighted_sampler_follows_the_weights():
    s = cr.data.WeightedRandomSampler([1.0, 3.0, 0.0], 40_000, generator=cr.Generator(0))
    counts = np.bincount(list(s), minlength=3)
    assert counts[2] == 0 and abs(counts[1] / counts[0] - 3.0) < 0.15
    assert len(s) == 40_000
    no_repeat = list(cr.data.WeightedRandomSampler([1, 1, 1, 5], 3, replacement=False))
    assert len(set(no_repeat)) == 3


@pytest.mark.parametrize("weights, n, kw", [
    ([], 1, {}), ([-1.0, 2.0], 1, {}), ([0.0, 0.0], 1, {}), ([np.nan], 1, {}), ([1.0], 0, {}),
    ([1.0, 0.0], 2, {"replacement": False}),
])
def test_weighted_sampler_bad_arguments(weights, n, kw):
    with pytest.raises(ValueError):
        cr.data.WeightedRandomSampler(weights, n, **kw)


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (5, 2, False),
                                                    (7, 4, False), (8, 4, True)])
def test_distributed_sampler_matches_pytorch_partition(n, replicas, drop_last):
    from torch.utils.data import DistributedSampler as TorchDS

    for rank in range(replicas):
        ours = cr.data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                          drop_last=drop_last)
        theirs = TorchDS(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_distributed_sampler_shuffles_consistently_across_ranks():
    shares = [cr.data.DistributedSampler(range(12), 3, r, seed=5) for r in range(3)]
    epoch0 = [list(s) for s in shares]
    assert sorted(sum(epoch0, [])) == list(range(12))  # disjoint, complete
    assert epoch0 == [list(s) for s in shares]  # same epoch, same order
    for s in shares:
        s.set_epoch(1)
    epoch1 = [list(s) for s in shares]
    assert sorted(sum(epoch1, [])) == list(range(12)) and epoch1 != epoch0
    loader = DataLoader(make(12), batch_size=2, sampler=shares[0])
    assert sorted(np.concatenate([y.detach().numpy() for _,
                                  y in loader]).tolist()) == sorted(epoch1[0])
    with pytest.raises(ValueError):
        cr.data.DistributedSampler(range(4), 2, 2)


def test_gradient_flows_to_a_dataset_tensor_that_requires_it():
    emb = cr.zeros(6, 2, requires_grad=True)
    ds = TensorDataset(emb, cr.arange(6))
    for loader in (DataLoader(ds, batch_size=4, shuffle=True, generator=cr.Generator(0)),
                   DataLoader(Subset(ds, [5, 0]), batch_size=2)):
        emb.grad = None
        x, y = next(iter(loader))
        (x * 2).sum().backward()
        expected = np.zeros((6, 2))
        expected[y.detach().numpy()] = 2.0
        np.testing.assert_array_equal(emb.grad.detach().numpy(), expected)
    emb.grad = None
    x, _ = ds[3]
    (x * 3).sum().backward()
    assert emb.grad.detach().numpy().sum() == 6.0
    assert emb.grad.detach().numpy()[3].tolist() == [3.0, 3.0]


def test_random_sampler_replacement_and_num_samples():
    s = RandomSampler(range(5), True, 1000, cr.Generator(0))  # PyTorch's argument order
    draws = list(s)
    assert len(draws) == len(s) == 1000 and set(draws) == set(range(5))
    long = list(RandomSampler(range(4), num_samples=10, generator=cr.Generator(0)))
    assert len(long) == 10 and sorted(long[:4]) == sorted(long[4:8]) == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        RandomSampler(range(4), num_samples=0)
    with pytest.raises(TypeError):
        RandomSampler(range(4), 1)
