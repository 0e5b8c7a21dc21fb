"""``cr.Generator`` and the global generator: PyTorch's seeding API and exact state round trips."""

import numpy as np
import pytest
import torch

import chainrule as cr


def _draws(gen, n=5):
    return cr.rand(n, generator=gen).numpy()


def test_streams_are_numpys_pcg64_from_the_seed():
    # Seeding is unchanged: the same numbers as NumPy's default_rng(seed).
    np.testing.assert_array_equal(cr.Generator(3).random(4), np.random.default_rng(3).random(4))
    np.testing.assert_array_equal(cr.Generator().manual_seed(3).random(4),
                                  np.random.default_rng(3).random(4))


@pytest.mark.parametrize("seed", [0, 5, 2**32 + 1, 2**63, 2**64 - 1, -1, -7, -(2**63)])
def test_initial_seed_matches_torch(seed):
    expected = torch.Generator().manual_seed(seed).initial_seed()
    assert cr.Generator().manual_seed(seed).initial_seed() == expected
    assert cr.Generator(seed).initial_seed() == expected
    assert cr.manual_seed(seed).initial_seed() == expected == cr.initial_seed()


def test_negative_seeds_are_the_same_stream_as_their_wrapped_value():
    np.testing.assert_array_equal(_draws(cr.Generator(-1)), _draws(cr.Generator(2**64 - 1)))


def test_an_unseeded_generator_starts_from_torchs_default_seed():
    assert cr.Generator().initial_seed() == torch.Generator().initial_seed()
    np.testing.assert_array_equal(_draws(cr.Generator()), _draws(cr.Generator()))


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1])
def test_seed_out_of_range(seed):
    with pytest.raises(ValueError):
        torch.Generator().manual_seed(seed)
    with pytest.raises(ValueError, match=r"Generator.manual_seed: seed must lie in"):
        cr.Generator().manual_seed(seed)
    with pytest.raises(ValueError, match=r"^manual_seed: seed must lie in"):
        cr.manual_seed(seed)


@pytest.mark.parametrize("seed", [1.5, "3", True, None, [1]])
def test_seed_must_be_an_integer(seed):
    # PyTorch raises RuntimeError here; a wrong type is a TypeError in chainrule.
    with pytest.raises(RuntimeError):
        torch.Generator().manual_seed(seed)
    with pytest.raises(TypeError, match="seed must be an integer"):
        cr.Generator().manual_seed(seed)
    before = cr.initial_seed()
    with pytest.raises(TypeError, match="seed must be an integer"):
        cr.manual_seed(seed)
    assert cr.initial_seed() == before


def test_numpy_integers_are_seeds():
    assert cr.Generator(np.int64(4)).initial_seed() == 4


def test_seed_draws_a_fresh_64_bit_seed():
    g = cr.Generator(1)
    s = g.seed()
    assert isinstance(s, int) and 0 <= s < 2**64 and g.initial_seed() == s
    np.testing.assert_array_equal(_draws(g), _draws(cr.Generator(s)))
    assert cr.Generator().seed() != cr.Generator().seed()  # 2**-64 chance of a false alarm
    assert cr.seed() == cr.initial_seed()


def test_get_state_is_a_fresh_uint8_tensor():
    g = cr.Generator(0)
    a, b = g.get_state(), g.get_state()
    tg = torch.Generator().manual_seed(0).get_state()
    assert a.dtype == cr.uint8 and tg.dtype == torch.uint8 and a.ndim == tg.ndim == 1
    a._data[:] = 0  # the caller owns it: neither the generator nor another copy changes
    np.testing.assert_array_equal(g.get_state().numpy(), b.numpy())
    assert not a.requires_grad


def test_set_state_continues_the_stream_exactly_and_restores_the_seed():
    g = cr.Generator(11)
    g.normal(size=3)
    g.random()  # NumPy may keep half a 64-bit draw (has_uint32): part of the state
    g.integers(0, 10, dtype=np.int32)
    state = g.get_state()
    expected = (_draws(g), g.integers(0, 2**31, 4, dtype=np.int32))
    other = cr.Generator(99)
    assert other.set_state(state) is other
    np.testing.assert_array_equal(_draws(other), expected[0])
    np.testing.assert_array_equal(other.integers(0, 2**31, 4, dtype=np.int32), expected[1])
    assert other.initial_seed() == 11  # as in PyTorch, the state carries the seed


def test_torch_restores_the_seed_with_the_state_too():
    g = torch.Generator().manual_seed(5)
    state = g.get_state()
    g.manual_seed(7)
    g.set_state(state)
    assert g.initial_seed() == 5


def test_state_survives_save_and_load(tmp_path):
    g = cr.Generator(2)
    g.random(3)
    cr.save({"gen": g.get_state(), "global": cr.get_rng_state()}, tmp_path / "s.safetensors")
    want, want_global = _draws(g), cr.rand(4).numpy()
    out = cr.load(tmp_path / "s.safetensors")
    h = cr.Generator().set_state(out["gen"])
    cr.manual_seed(123)
    cr.set_rng_state(out["global"])
    np.testing.assert_array_equal(_draws(h), want)
    np.testing.assert_array_equal(cr.rand(4).numpy(), want_global)


def test_numpys_state_dict_is_still_accepted():
    g = cr.Generator(4)
    state = g.bit_generator.state
    want = _draws(g)
    h = cr.Generator(0).set_state(state)
    np.testing.assert_array_equal(_draws(h), want)
    assert h.initial_seed() == 0  # a NumPy state does not know the seed
    legacy = {**state, "state": {k: str(v) for k, v in state["state"].items()}}
    np.testing.assert_array_equal(_draws(cr.Generator().set_state(legacy)), want)


def _corrupt(fn):
    raw = cr.Generator(0).get_state().numpy().copy()
    fn(raw)
    return cr.tensor(raw)


@pytest.mark.parametrize("state, error, match", [
    ([1, 2], TypeError, "expected the uint8 tensor that get_state"),
    ("state", TypeError, "expected the uint8 tensor"),
    (cr.zeros(56), ValueError, "dtype float32"),
    (cr.zeros(10, dtype=cr.uint8), ValueError, "of 56 bytes"),
    (cr.zeros(2, 28, dtype=cr.uint8), ValueError, "shape"),
    (lambda: _corrupt(lambda r: r.__setitem__(0, 0)), ValueError, "not a chainrule generator"),
    (lambda: _corrupt(lambda r: r.__setitem__(24, r[24] & 0xFE)), ValueError, "odd increment"),
    (lambda: _corrupt(lambda r: r.__setitem__(40, 7)), ValueError, "corrupt"),
    ({"bit_generator": "MT19937", "state": {}}, ValueError, "PCG64"),
    ({"bit_generator": "PCG64", "state": {"state": 1, "inc": 2}, "has_uint32": 0,
      "uinteger": 0}, ValueError, "odd increment"),
    ({"bit_generator": "PCG64", "state": {"state": -1, "inc": 3}, "has_uint32": 0,
      "uinteger": 0}, ValueError, "'state' must be an integer"),
])
def test_bad_states_are_refused_and_change_nothing(state, error, match):
    if callable(state):
        state = state()
    g = cr.Generator(8)
    before = g.get_state().numpy()
    with pytest.raises(error, match=match):
        g.set_state(state)
    np.testing.assert_array_equal(g.get_state().numpy(), before)
    with pytest.raises(error, match=match):
        cr.set_rng_state(state)


def test_torch_refuses_bad_states_too():
    with pytest.raises(TypeError):
        torch.Generator().set_state([1, 2])
    with pytest.raises(RuntimeError):
        torch.Generator().set_state(torch.zeros(10, dtype=torch.uint8))


def test_the_global_generator():
    assert cr.manual_seed(3) is cr.default_generator
    state = cr.get_rng_state()
    a = cr.randn(3).numpy()
    cr.set_rng_state(state)
    np.testing.assert_array_equal(cr.randn(3).numpy(), a)
    assert cr.initial_seed() == 3
