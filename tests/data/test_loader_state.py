"""``DataLoader.state_dict()`` / ``load_state_dict()`` and the samplers': a loader restored at
any point of any pass yields exactly what the original went on to yield."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import (
    BatchSampler,
    DataLoader,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
)

N = 11


def _ds():
    return TensorDataset(cr.arange(N).float() * 10, cr.arange(N))


class Plain(cr.data.Dataset):
    """Not a TensorDataset: the per-sample collate path."""

    def __len__(self):
        return N

    def __getitem__(self, i):
        return cr.tensor(float(i)), cr.tensor(i)


class Noisy(cr.data.Dataset):
    """A dataset drawing from a generator of its own."""

    def __init__(self, seed):
        self.gen = cr.Generator(seed)

    def __len__(self):
        return N

    def __getitem__(self, i):
        return cr.tensor(i + self.gen.random()), cr.tensor(i)


class Every2nd(Sampler):
    """A user Sampler with its own generator attribute (saved by the base class)."""

    def __init__(self, seed):
        self.rng = cr.Generator(seed)

    def __iter__(self):
        return iter(self.rng.permutation(np.arange(0, N, 2)).tolist())

    def __len__(self):
        return len(range(0, N, 2))


def _g(seed, s):
    return cr.Generator(seed + s)


# Each builds the loader from seeds offset by s: a restored loader must not depend on them.
LOADERS = {
    "sequential": lambda s: DataLoader(_ds(), batch_size=3),
    "shuffle-generator": lambda s: DataLoader(_ds(), batch_size=3, shuffle=True,
                                              generator=_g(0, s)),
    "shuffle-numpy-generator": lambda s: DataLoader(_ds(), batch_size=3, shuffle=True,
                                                    generator=np.random.default_rng(s)),
    "shuffle-global": lambda s: DataLoader(_ds(), batch_size=3, shuffle=True),
    "drop-last": lambda s: DataLoader(_ds(), batch_size=3, shuffle=True, drop_last=True,
                                      generator=_g(0, s)),
    "batch-of-one": lambda s: DataLoader(_ds(), shuffle=True, generator=_g(0, s)),
    "unbatched": lambda s: DataLoader(_ds(), batch_size=None, shuffle=True, generator=_g(0, s)),
    "collate-path": lambda s: DataLoader(Plain(), batch_size=4, shuffle=True,
                                         generator=_g(1, s)),
    "subset": lambda s: DataLoader(cr.data.random_split(_ds(), [8, 3], generator=cr.Generator(
        2))[0], batch_size=3, shuffle=True, generator=_g(3, s)),
    "dataset-generator": lambda s: DataLoader(Noisy(4 + s), batch_size=4, shuffle=True,
                                              generator=_g(5, s)),
    "subset-of-dataset-generator": lambda s: DataLoader(
        cr.data.Subset(Noisy(4 + s), [9, 2, 5, 7, 1]), batch_size=2, shuffle=True,
        generator=_g(5, s)),
    "concat-of-dataset-generators": lambda s: DataLoader(
        Noisy(4 + s) + Noisy(40 + s), batch_size=5, shuffle=True, generator=_g(5, s)),
    "RandomSampler-replacement": lambda s: DataLoader(_ds(), batch_size=4, sampler=RandomSampler(
        range(N), replacement=True, num_samples=17, generator=_g(6, s))),
    "RandomSampler-global": lambda s: DataLoader(_ds(), batch_size=4, sampler=RandomSampler(
        range(N), num_samples=25)),
    "SubsetRandomSampler": lambda s: DataLoader(_ds(), batch_size=2, sampler=SubsetRandomSampler(
        [1, 3, 5, 7, 9], generator=_g(7, s))),
    "WeightedRandomSampler": lambda s: DataLoader(_ds(), batch_size=3,
                                                  sampler=WeightedRandomSampler(
        np.arange(1, N + 1), 9, generator=_g(8, s))),
    "WeightedRandomSampler-no-replacement": lambda s: DataLoader(
        _ds(), batch_size=3, sampler=WeightedRandomSampler(np.arange(1, N + 1), 7,
                                                           replacement=False)),
    "DistributedSampler": lambda s: DataLoader(_ds(), batch_size=2, sampler=DistributedSampler(
        range(N), 3, 2, seed=9)),
    "batch_sampler": lambda s: DataLoader(_ds(), batch_sampler=BatchSampler(
        RandomSampler(range(N), generator=_g(10, s)), 4, drop_last=False)),
    "batch_sampler-drop-last": lambda s: DataLoader(_ds(), batch_sampler=BatchSampler(
        SubsetRandomSampler(range(N), generator=_g(10, s)), 4, drop_last=True)),
    "user-sampler": lambda s: DataLoader(_ds(), batch_size=2, sampler=Every2nd(11 + s)),
    "list-sampler": lambda s: DataLoader(_ds(), batch_size=3, sampler=[5, 1, 4, 1, 0, 9]),
    "list-batch_sampler": lambda s: DataLoader(_ds(), batch_sampler=[[3, 1], [4], [1, 5, 9]]),
}


def _values(batch):
    if isinstance(batch, (list, tuple)):
        return [np.asarray(b.numpy()).tolist() for b in batch]
    return np.asarray(batch.numpy()).tolist()


def _take(it, k):
    return [_values(next(it)) for _ in range(k)]


def _passes(loader, n):
    return [[_values(b) for b in loader] for _ in range(n)]


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_resume_at_every_position_of_a_pass(name):
    build = LOADERS[name]
    length = len(build(0))
    for cut in range(length + 1):
        cr.manual_seed(0)
        loader = build(0)
        _passes(loader, 1)  # the cut lies in the second pass
        it = iter(loader)
        seen = _take(it, cut)
        state, rng = loader.state_dict(), cr.get_rng_state()
        rest = [_values(b) for b in it]
        later = _passes(loader, 2)
        assert len(seen) + len(rest) == length

        cr.manual_seed(99)
        again = build(1000)  # other seeds: only the state may make it match
        again.load_state_dict(state)
        cr.set_rng_state(rng)
        assert _passes(again, 1) == [rest], f"cut {cut}"
        assert _passes(again, 2) == later, f"cut {cut}"


def test_the_docstring_loader_resumes_exactly():
    # DataLoader(shuffle=True, generator=cr.Generator(0)): the pattern PyTorch users write.
    ds = TensorDataset(cr.arange(10).float(), cr.arange(10))
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=cr.Generator(0))
    _passes(loader, 1)
    state = loader.state_dict()
    want = _passes(loader, 3)
    fresh = DataLoader(ds, batch_size=4, shuffle=True, generator=cr.Generator(0))
    assert _passes(fresh, 3) != want  # without the state: the first pass's order again
    fresh = DataLoader(ds, batch_size=4, shuffle=True, generator=cr.Generator(0))
    fresh.load_state_dict(state)
    assert _passes(fresh, 3) == want


def test_state_between_passes_and_of_an_abandoned_pass():
    loader = LOADERS["shuffle-generator"](0)
    assert loader.state_dict()["pass"] is None
    it = iter(loader)
    assert loader.state_dict()["pass"] is None  # a generator: nothing drawn before next()
    next(it)
    assert loader.state_dict()["pass"]["position"] == 1
    newer = iter(loader)
    _take(newer, 2)
    assert loader.state_dict()["pass"]["position"] == 2  # the newest pass is the loader's
    del it  # closing the older iterator leaves the newer pass alone
    assert loader.state_dict()["pass"]["position"] == 2
    del newer  # abandoned: between passes again, as after a `break`
    assert loader.state_dict()["pass"] is None
    for _ in loader:
        break
    assert loader.state_dict()["pass"] is None
    _passes(loader, 1)
    assert loader.state_dict()["pass"] is None


def test_a_restored_pass_is_pending_until_iterated():
    loader = LOADERS["shuffle-generator"](0)
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    again = LOADERS["shuffle-generator"](5)
    again.load_state_dict(state)
    pending = again.state_dict()
    np.testing.assert_array_equal(pending["pass"]["order"], state["pass"]["order"])
    assert pending["pass"]["position"] == 1


def test_state_dict_hands_out_copies():
    loader = LOADERS["shuffle-generator"](0)
    it = iter(loader)
    first = _values(next(it))
    state = loader.state_dict()
    expected = loader.state_dict()["pass"]["order"].copy()
    state["pass"]["order"][:] = 0  # the caller's array: the pass goes on unchanged
    rest = [_values(b) for b in it]
    order = expected.tolist()
    assert first[1] + sum((b[1] for b in rest), []) == order


def test_the_state_goes_through_save_and_load(tmp_path):
    loader = LOADERS["batch_sampler"](0)
    it = iter(loader)
    next(it)
    cr.save({"loader": loader.state_dict()}, tmp_path / "l.safetensors")
    rest = [_values(b) for b in it] + _passes(loader, 1)[0]
    again = LOADERS["batch_sampler"](7)
    again.load_state_dict(cr.load(tmp_path / "l.safetensors")["loader"])
    assert _passes(again, 2) == [rest[:2], rest[2:]]


@pytest.mark.parametrize("name", ["shuffle-numpy-generator", "dataset-generator"])
def test_generator_states_go_through_save_and_load(name, tmp_path):
    loader = LOADERS[name](0)
    it = iter(loader)
    next(it)
    cr.save(loader.state_dict(), tmp_path / "l.safetensors")
    want = [_values(b) for b in it] + _passes(loader, 1)[0]
    again = LOADERS[name](5)
    again.load_state_dict(cr.load(tmp_path / "l.safetensors"))
    assert sum(_passes(again, 2), []) == want


def test_samplers_state_dicts():
    for sampler in (RandomSampler(range(6), generator=cr.Generator(1)),
                    SubsetRandomSampler([4, 2, 0], generator=cr.Generator(1)),
                    WeightedRandomSampler([1.0, 2.0, 3.0], 5, generator=cr.Generator(1)),
                    Every2nd(3)):
        state = sampler.state_dict()
        want = [list(sampler), list(sampler)]
        sampler.load_state_dict(state)
        assert [list(sampler), list(sampler)] == want
    assert RandomSampler(range(3)).state_dict() == {"generators": {}}  # the global one: not here
    d = DistributedSampler(range(8), 2, 0, seed=1)
    d.set_epoch(4)
    e = DistributedSampler(range(8), 2, 0, seed=1)
    e.load_state_dict(d.state_dict())
    assert list(e) == list(d) and e.epoch == 4
    b = BatchSampler(RandomSampler(range(5), generator=cr.Generator(2)), 2, False)
    state = b.state_dict()
    want = list(b)
    b.load_state_dict(state)
    assert list(b) == want


def test_sampler_state_errors():
    s = RandomSampler(range(3), generator=cr.Generator(0))
    with pytest.raises(TypeError, match="RandomSampler.load_state_dict: expected a dict"):
        s.load_state_dict([1])
    with pytest.raises(ValueError, match=r"generators \[\] but RandomSampler holds "
                                         r"\['generator'\]"):
        s.load_state_dict({"generators": {}})
    with pytest.raises(ValueError, match="generator 'generator'.*56 bytes"):
        s.load_state_dict({"generators": {"generator": cr.zeros(3, dtype=cr.uint8)}})
    with pytest.raises(ValueError, match="DistributedSampler.load_state_dict: 'epoch'"):
        DistributedSampler(range(4), 2, 0).load_state_dict({"generators": {}, "epoch": -1})


class Lazy:
    """A PyTorch-style batch sampler (no chainrule base class) with a generator attribute."""

    def __init__(self, seed):
        self.generator = cr.Generator(seed)

    def __iter__(self):
        order = self.generator.permutation(N).tolist()
        return iter([order[i:i + 4] for i in range(0, N, 4)])

    def __len__(self):
        return 3


def test_a_lazy_batch_sampler_between_passes_and_inside_one():
    loader = DataLoader(_ds(), batch_sampler=Lazy(0))
    _passes(loader, 1)
    state = loader.state_dict()
    want = _passes(loader, 2)
    again = DataLoader(_ds(), batch_sampler=Lazy(8))
    again.load_state_dict(state)
    assert _passes(again, 2) == want  # its generator went into the state
    it = iter(loader)
    next(it)
    with pytest.raises(ValueError, match=r"DataLoader.state_dict: cannot record the position "
                                         r"inside a pass over Lazy"):
        loader.state_dict()


def test_a_stream_saves_between_passes_only():
    class Stream(cr.data.IterableDataset):
        def __iter__(self):
            return iter(cr.arange(5))

    loader = DataLoader(Stream(), batch_size=2)
    assert loader.state_dict()["pass"] is None
    it = iter(loader)
    next(it)
    with pytest.raises(ValueError, match="inside a pass over Stream"):
        loader.state_dict()


def _saved_mid_pass(name="shuffle-generator"):
    loader = LOADERS[name](0)
    it = iter(loader)
    next(it)
    return loader.state_dict()


@pytest.mark.parametrize("change, match", [
    (lambda s: s.pop("pass"), r"the state lacks \['pass'\]"),
    (lambda s: s.__setitem__("generator", None), "saved from a loader without its own"),
    (lambda s: s["pass"].__setitem__("position", -1), "position must be an integer >= 0"),
    (lambda s: s["pass"].__setitem__("position", 9), "position 9 lies beyond the saved pass"),
    (lambda s: s["pass"].__setitem__("position", True), "position must be an integer"),
    (lambda s: s["pass"].__setitem__("order", np.array([0, 99])), r"indices in \[0, 11\)"),
    (lambda s: s["pass"].__setitem__("order", np.zeros((2, 2), np.int64)), "1-d array"),
    (lambda s: s["pass"].__setitem__("order", np.zeros(3)), "1-d array of indices"),
    (lambda s: s["pass"].__setitem__("batching", [5, False]), r"\[batch_size, drop_last\]"),
    (lambda s: s["pass"].pop("order"), "'pass' must be None or a dict"),
    (lambda s: s.__setitem__("generator", cr.zeros(56, dtype=cr.uint8)), "not a chainrule"),
])
def test_bad_loader_states_are_refused_and_change_nothing(change, match):
    state = _saved_mid_pass()
    change(state)
    loader = LOADERS["shuffle-generator"](3)
    before = loader.state_dict()
    with pytest.raises(ValueError, match=match):
        loader.load_state_dict(state)
    after = loader.state_dict()
    np.testing.assert_array_equal(after["generator"].numpy(), before["generator"].numpy())
    assert after["pass"] is None


def test_a_loader_with_its_own_generator_needs_one_in_the_state():
    state = LOADERS["shuffle-global"](0).state_dict()
    with pytest.raises(ValueError, match="without its own generator; this one has one"):
        LOADERS["shuffle-generator"](0).load_state_dict(state)
    with pytest.raises(TypeError, match="DataLoader.load_state_dict: expected a dict"):
        LOADERS["shuffle-generator"](0).load_state_dict(None)
