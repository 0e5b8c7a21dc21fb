"""Packed sequences (``nn.utils.rnn``) against PyTorch: layout, round trips, gradients."""

import numpy as np
import pytest
import torch
from nn_twin import close
from torch.nn.utils import rnn as trnn

import chainrule as cr
from chainrule.nn.utils import rnn as crnn


def _idx(t):
    return None if t is None else t.numpy()


def _same_packing(ours, theirs):
    close(ours.data, theirs.data, np.float64, "packed data")
    np.testing.assert_array_equal(ours.batch_sizes._data, theirs.batch_sizes.numpy())
    for a, b in ((ours.sorted_indices, theirs.sorted_indices),
                 (ours.unsorted_indices, theirs.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a._data, b.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", [([4, 4, 2, 1], True), ([1, 4, 3], False),
                                                    ([3], True), ([2, 5, 1, 4], False)])
@pytest.mark.parametrize("tail", [(), (3,), (2, 2)])
def test_pack_and_pad_round_trip_with_gradients(batch_first, lengths, enforce_sorted, tail):
    rng = np.random.default_rng(0)
    b, t = len(lengths), max(lengths) + 1  # one step of padding past the longest
    x = rng.standard_normal(((b, t) if batch_first else (t, b)) + tail)
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    cp = crnn.pack_padded_sequence(cx, lengths, batch_first, enforce_sorted)
    tp = trnn.pack_padded_sequence(tx, torch.tensor(lengths), batch_first, enforce_sorted)
    _same_packing(cp, tp)
    cpad, clen = crnn.pad_packed_sequence(cp, batch_first, padding_value=-2.5, total_length=t)
    tpad, tlen = trnn.pad_packed_sequence(tp, batch_first, padding_value=-2.5, total_length=t)
    close(cpad, tpad, np.float64, "padded")
    assert clen.dtype == np.int64
    np.testing.assert_array_equal(clen._data, tlen.numpy())
    u = rng.standard_normal(tpad.shape)
    (cpad * cr.tensor(u)).sum().backward()
    (tpad * torch.tensor(u)).sum().backward()
    close(cx.grad, tx.grad, np.float64, "input grad through pack and pad")


def test_pack_sequence_unpack_and_unpad_match_torch():
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((n, 2)) for n in (2, 4, 1)]
    cp = crnn.pack_sequence([cr.tensor(a) for a in arrays], enforce_sorted=False)
    tp = trnn.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=False)
    _same_packing(cp, tp)
    for ours, want in zip(crnn.unpack_sequence(cp), trnn.unpack_sequence(tp)):
        close(ours, want, np.float64, "unpacked sequence")
    padded = trnn.pad_sequence([torch.tensor(a) for a in arrays], batch_first=True)
    ours = crnn.unpad_sequence(cr.tensor(padded.numpy()), cr.tensor([2, 4, 1]), batch_first=True)
    want = trnn.unpad_sequence(padded, torch.tensor([2, 4, 1]), batch_first=True)
    for a, b in zip(ours, want):
        close(a, b, np.float64, "unpadded sequence")


def test_packing_gradcheck():
    x = cr.randn(4, 3, 2, dtype=cr.float64, requires_grad=True)

    def f(t):
        p = crnn.pack_padded_sequence(t, [2, 4, 1], enforce_sorted=False)
        return crnn.pad_packed_sequence(p._replace(data=p.data * p.data), padding_value=1.0)[0]

    assert cr.gradcheck(f, (x,))


def test_packed_sequence_is_a_named_tuple_like_torch():
    p = crnn.pack_sequence([cr.ones(2, 3), cr.ones(1, 3)])
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert sorted_indices is None and unsorted_indices is None
    assert p.to(cr.float64).data.dtype == np.float64 and p.double().batch_sizes is batch_sizes
    assert not p.is_cuda
    perm = crnn.invert_permutation(cr.tensor([2, 0, 1]))
    np.testing.assert_array_equal(perm._data, [1, 2, 0])


def test_packing_errors_name_the_argument():
    x = cr.zeros(4, 3, 2)
    with pytest.raises(ValueError, match="sorted in decreasing order.*enforce_sorted=False"):
        crnn.pack_padded_sequence(x, [1, 3, 2])
    with pytest.raises(ValueError, match="got 2 lengths for a batch of 3"):
        crnn.pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match="must be > 0"):
        crnn.pack_padded_sequence(x, [3, 2, 0])
    with pytest.raises(ValueError, match="exceeds the 4 time steps"):
        crnn.pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(TypeError, match="lengths must be a 1-D sequence of whole numbers"):
        crnn.pack_padded_sequence(x, [3.5, 2.0, 1.0])
    assert crnn.pack_padded_sequence(x, [3.0, 2.0, 1.0]).batch_sizes.tolist() == [3, 2, 1]
    p = crnn.pack_padded_sequence(x, [3, 2, 1])
    with pytest.raises(ValueError, match="total_length=2 is shorter"):
        crnn.pad_packed_sequence(p, total_length=2)
    with pytest.raises(TypeError, match="expected a PackedSequence"):
        crnn.pad_packed_sequence(x)
    with pytest.raises(ValueError, match=r"packed data must be \(sum of lengths, 5\)"):
        cr.nn.LSTM(5, 3)(p)
