"""Recurrent layers and cells against PyTorch: outputs, final states and every gradient."""

import numpy as np
import pytest
import torch
from nn_twin import close, copy_weights, torch_dtype

import chainrule as cr
from chainrule import nn


def _compare(ours, theirs, x, hx, dtype, lstm):
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if hx is None:
        ch = th = None
    elif lstm:
        ch = tuple(cr.tensor(h, requires_grad=True) for h in hx)
        th = tuple(torch.tensor(h, requires_grad=True) for h in hx)
    else:
        ch, th = cr.tensor(hx, requires_grad=True), torch.tensor(hx, requires_grad=True)
    co, cs = ours(cx, ch)
    to, ts = theirs(tx, th)
    cs = cs if isinstance(cs, tuple) else (cs,)
    ts = ts if isinstance(ts, tuple) else (ts,)
    close(co, to, dtype, "output")
    for a, b in zip(cs, ts):
        close(a, b, dtype, "final state")
    rng = np.random.default_rng(7)
    u = rng.standard_normal(to.shape).astype(dtype)
    loss_c = (co * cr.tensor(u)).sum()
    loss_t = (to * torch.tensor(u)).sum()
    rng = np.random.default_rng(8)
    for a, b in zip(cs, ts):
        u = rng.standard_normal(b.shape).astype(dtype)
        loss_c = loss_c + (a * cr.tensor(u)).sum()
        loss_t = loss_t + (b * torch.tensor(u)).sum()
    loss_c.backward()
    loss_t.backward()
    close(cx.grad, tx.grad, dtype, "input grad")
    if hx is not None:
        for a, b in zip(ch if lstm else (ch,), th if lstm else (th,)):
            close(a.grad, b.grad, dtype, "initial state grad")
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        close(p.grad, tp[name].grad, dtype, f"grad of {name}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind,kw", [
    ("RNN", {}), ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("LSTM", {}), ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("GRU", {}), ("GRU", {"num_layers": 2, "batch_first": True, "bidirectional": True}),
    ("LSTM", {"bias": False, "batch_first": True}),
])
@pytest.mark.parametrize("with_state", [False, True])
def test_recurrent_layers(kind, kw, with_state, dtype):
    theirs = getattr(torch.nn, kind)(3, 4, dtype=torch_dtype(dtype), **kw)
    ours = getattr(nn, kind)(3, 4, dtype=dtype, **kw)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    copy_weights(theirs, ours)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 3) if kw.get("batch_first") else (5, 2, 3)).astype(dtype)
    hx = None
    if with_state:
        shape = (kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1), 2, 4)
        hx = rng.standard_normal(shape).astype(dtype)
        if kind == "LSTM":
            hx = (hx, rng.standard_normal(shape).astype(dtype))
    _compare(ours, theirs, x, hx, dtype, kind == "LSTM")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_sequence(kind):
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=2, dtype=torch.float64)
    ours = getattr(nn, kind)(3, 4, num_layers=2, dtype=np.float64)
    copy_weights(theirs, ours)
    _compare(ours, theirs, np.random.randn(6, 3), None, np.float64, kind == "LSTM")


CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
         ("GRUCell", {})]
CELL_RTOL = 1e-10
CELL_ATOL = 1e-13  # entries that cancel to ~0 differ in the last bits, not relative to 0


def _cell_close(got, want, what):
    g, w = got.detach().numpy(), want.detach().numpy()
    assert g.shape == w.shape, f"{what}: shape {g.shape} != torch's {w.shape}"
    np.testing.assert_allclose(g, w, rtol=CELL_RTOL, atol=CELL_ATOL, err_msg=what)


def _unroll(cell, xs, state):
    """Run ``cell`` by hand over the steps ``xs`` from ``state``; every step's state tensors
    (h, or h and c) keep their gradients, so each one can be compared."""
    states = []
    for x in xs:
        state = cell(x, state)
        parts = state if isinstance(state, tuple) else (state,)
        for t in parts:
            t.retain_grad()
        states.append(parts)
    return states


@pytest.mark.parametrize("kind,kw", CELLS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("given_state", [True, False])
def test_cell_unrolled_gradients_match_torch(kind, kw, bias, batched, given_state):
    """A sequence unrolled by hand through the cell: every step's output, and the gradients of
    every input step, the initial state, every intermediate state and every parameter, equal
    PyTorch's in float64."""
    theirs = getattr(torch.nn, kind)(3, 4, bias=bias, dtype=torch.float64, **kw)
    ours = getattr(nn, kind)(3, 4, bias=bias, dtype=np.float64, **kw)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    copy_weights(theirs, ours)
    lstm = kind == "LSTMCell"
    rng = np.random.default_rng(3)
    lead = (2,) if batched else ()
    steps = 4
    xs = [rng.standard_normal(lead + (3,)) for _ in range(steps)]
    h0 = [rng.standard_normal(lead + (4,)) for _ in range(2 if lstm else 1)]

    cxs = [cr.tensor(x, requires_grad=True) for x in xs]
    txs = [torch.tensor(x, requires_grad=True) for x in xs]
    if given_state:
        ch0 = [cr.tensor(h, requires_grad=True) for h in h0]
        th0 = [torch.tensor(h, requires_grad=True) for h in h0]
        cstate = tuple(ch0) if lstm else ch0[0]
        tstate = tuple(th0) if lstm else th0[0]
    else:
        cstate = tstate = None
    cstates = _unroll(ours, cxs, cstate)
    tstates = _unroll(theirs, txs, tstate)

    # Weigh every step's h (and c) by its own random tensor, so no gradient is a plain sum.
    loss_c = loss_t = 0
    for t, (cs, ts) in enumerate(zip(cstates, tstates)):
        for k, (a, b) in enumerate(zip(cs, ts)):
            _cell_close(a, b, f"step {t} state {k}")
            u = rng.standard_normal(b.shape)
            loss_c = loss_c + (a * cr.tensor(u)).sum()
            loss_t = loss_t + (b * torch.tensor(u)).sum()
    loss_c.backward()
    loss_t.backward()

    for t, (a, b) in enumerate(zip(cxs, txs)):
        _cell_close(a.grad, b.grad, f"grad of input step {t}")
    for t, (cs, ts) in enumerate(zip(cstates, tstates)):
        for k, (a, b) in enumerate(zip(cs, ts)):
            _cell_close(a.grad, b.grad, f"grad of step {t} state {k}")
    if given_state:
        for k, (a, b) in enumerate(zip(ch0, th0)):
            _cell_close(a.grad, b.grad, f"grad of initial state {k}")
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _cell_close(p.grad, tp[name].grad, f"grad of {name}")
    assert cstates[0][0].shape == lead + (4,)


def test_recurrent_errors_and_init():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM\(input_size=3\).*\(5, 2, 7\)"):
        lstm(cr.zeros(5, 2, 7))
    with pytest.raises(ValueError, match=r"h_0 of shape \(1, 2, 4\)"):
        lstm(cr.zeros(5, 2, 3), (cr.zeros(1, 2, 4), cr.zeros(2, 2, 4)))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size is only supported by LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size is only supported by LSTM"):
        nn.RNN(3, 4, proj_size=2)
    with pytest.raises(TypeError, match="hidden_size must be an int"):
        nn.RNN(3, 4.0)
    bound = 1 / np.sqrt(4)
    assert all(np.abs(p.detach().numpy()).max() <= bound for p in lstm.parameters())
    assert repr(nn.GRU(3, 4, num_layers=2, batch_first=True)) == \
        "GRU(3, 4, num_layers=2, batch_first=True)"


def test_dropout_between_layers_only_in_training():
    cr.manual_seed(0)
    gru = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = cr.randn(4, 2, 3)
    gru.eval()
    a, _ = gru(x)
    b, _ = gru(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    gru.train()
    c, _ = gru(x)
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())


def test_gradcheck_lstm_through_time():
    lstm = nn.LSTM(2, 3, dtype=np.float64)
    x = cr.randn(4, 1, 2, dtype=cr.float64, requires_grad=True)
    assert cr.gradcheck(lambda t: lstm(t)[0], (x,))


@pytest.mark.parametrize("kw", [{}, {"num_layers": 2, "bidirectional": True},
                                {"batch_first": True, "bias": False}])
@pytest.mark.parametrize("with_state", [False, True])
def test_lstm_with_projections(kw, with_state):
    theirs = torch.nn.LSTM(3, 5, proj_size=2, dtype=torch.float64, **kw)
    ours = nn.LSTM(3, 5, proj_size=2, dtype=np.float64, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    copy_weights(theirs, ours)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 5, 3) if kw.get("batch_first") else (5, 2, 3))
    hx = None
    if with_state:
        lead = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        hx = (rng.standard_normal((lead, 2, 2)), rng.standard_normal((lead, 2, 5)))
    _compare(ours, theirs, x, hx, np.float64, True)
    assert "proj_size=2" in repr(ours)


def test_flatten_parameters_and_all_weights():
    ours, theirs = nn.LSTM(3, 4, num_layers=2, bidirectional=True), \
        torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    assert ours.flatten_parameters() is None
    assert ours._all_weights == theirs._all_weights
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in theirs.all_weights]
    assert ours.all_weights[1][0] is ours.weight_ih_l0_reverse
    assert nn.RNNBase is type(ours).__mro__[1]


def _packed_pair(lengths, feat, enforce_sorted, batch_first, rng):
    from torch.nn.utils import rnn as trnn

    from chainrule.nn.utils import rnn as crnn
    t_max, b = max(lengths), len(lengths)
    x = rng.standard_normal((b, t_max, feat) if batch_first else (t_max, b, feat))
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    cp = crnn.pack_padded_sequence(cx, lengths, batch_first=batch_first,
                                   enforce_sorted=enforce_sorted)
    tp = trnn.pack_padded_sequence(tx, torch.tensor(lengths), batch_first=batch_first,
                                   enforce_sorted=enforce_sorted)
    return cx, tx, cp, tp


@pytest.mark.parametrize("kind,kw", [
    ("RNN", {}), ("GRU", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"bidirectional": True}), ("LSTM", {"num_layers": 2, "batch_first": True}),
    ("LSTM", {"proj_size": 2, "bidirectional": True}),
])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("with_state", [False, True])
def test_packed_sequences_through_recurrent_layers(kind, kw, enforce_sorted, with_state):
    from torch.nn.utils import rnn as trnn

    from chainrule.nn.utils import rnn as crnn
    theirs = getattr(torch.nn, kind)(3, 4, dtype=torch.float64, **kw)
    ours = getattr(nn, kind)(3, 4, dtype=np.float64, **kw)
    copy_weights(theirs, ours)
    rng = np.random.default_rng(11)
    lengths = [5, 3, 3, 1] if enforce_sorted else [2, 5, 1, 4]
    batch_first = kw.get("batch_first", False)
    cx, tx, cp, tp = _packed_pair(lengths, 3, enforce_sorted, batch_first, rng)
    ch = th = None
    if with_state:
        lead = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        shapes = [(lead, 4, kw.get("proj_size") or 4), (lead, 4, 4)]
        hs = [rng.standard_normal(s) for s in shapes[:2 if kind == "LSTM" else 1]]
        ch = [cr.tensor(h, requires_grad=True) for h in hs]
        th = [torch.tensor(h, requires_grad=True) for h in hs]
    co, cs = ours(cp, None if ch is None else (tuple(ch) if kind == "LSTM" else ch[0]))
    to, ts = theirs(tp, None if th is None else (tuple(th) if kind == "LSTM" else th[0]))
    assert isinstance(co, crnn.PackedSequence)
    close(co.data, to.data, np.float64, "packed output")
    np.testing.assert_array_equal(co.batch_sizes._data, to.batch_sizes.numpy())
    cs = cs if isinstance(cs, tuple) else (cs,)
    ts = ts if isinstance(ts, tuple) else (ts,)
    for a, b in zip(cs, ts):
        close(a, b, np.float64, "final state")
    cpad, clen = crnn.pad_packed_sequence(co, batch_first=batch_first)
    tpad, tlen = trnn.pad_packed_sequence(to, batch_first=batch_first)
    close(cpad, tpad, np.float64, "unpacked output")
    np.testing.assert_array_equal(clen._data, tlen.numpy())
    u = rng.standard_normal(tpad.shape)
    loss_c = (cpad * cr.tensor(u)).sum()
    loss_t = (tpad * torch.tensor(u)).sum()
    for a, b in zip(cs, ts):
        w = rng.standard_normal(b.shape)
        loss_c = loss_c + (a * cr.tensor(w)).sum()
        loss_t = loss_t + (b * torch.tensor(w)).sum()
    loss_c.backward()
    loss_t.backward()
    close(cx.grad, tx.grad, np.float64, "input grad")
    if ch is not None:
        for a, b in zip(ch, th):
            close(a.grad, b.grad, np.float64, "initial state grad")
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        close(p.grad, tparams[name].grad, np.float64, f"grad of {name}")
