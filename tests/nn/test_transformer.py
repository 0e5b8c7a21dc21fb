"""Transformer encoder layers against PyTorch (dropout 0 so both are deterministic)."""

import numpy as np
import pytest
import torch
from nn_twin import close, copy_weights, run_pair

import chainrule as cr
from chainrule import nn

# PyTorch notes its own fast paths; they do not concern the comparison.
pytestmark = [pytest.mark.filterwarnings("ignore:enable_nested_tensor"),
              pytest.mark.filterwarnings("ignore:Support for mismatched")]


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer(norm_first, activation, batch_first):
    kw = dict(dim_feedforward=16, dropout=0.0, activation=activation, batch_first=batch_first,
              norm_first=norm_first)
    th = torch.nn.TransformerEncoderLayer(8, 2, dtype=torch.float64, **kw)
    ours = nn.TransformerEncoderLayer(8, 2, dtype=np.float64, **kw)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in th.named_parameters()]
    copy_weights(th, ours)
    run_pair(ours, th, np.random.randn(3, 5, 8), np.float64)


def test_encoder_stack_with_masks_and_final_norm():
    def build(lib, dt):
        layer = lib.TransformerEncoderLayer(8, 2, dim_feedforward=12, dropout=0.0, dtype=dt)
        return lib.TransformerEncoder(layer, 2, norm=lib.LayerNorm(8, dtype=dt),
                                      enable_nested_tensor=False)

    th, ours = build(torch.nn, torch.float64), build(nn, np.float64)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in th.named_parameters()]
    copy_weights(th, ours)
    x = np.random.randn(5, 3, 8)
    mask = np.triu(np.ones((5, 5), dtype=bool), 1)
    kpm = np.zeros((3, 5), dtype=bool)
    kpm[2, 4] = True
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    co = ours(cx, mask=cr.tensor(mask), src_key_padding_mask=cr.tensor(kpm))
    to = th(tx, mask=torch.tensor(mask), src_key_padding_mask=torch.tensor(kpm))
    close(co, to, np.float64, "encoder output")
    co.sum().backward()
    to.sum().backward()
    close(cx.grad, tx.grad, np.float64, "input grad")
    tp = dict(th.named_parameters())
    for name, p in ours.named_parameters():
        close(p.grad, tp[name].grad, np.float64, name)


def test_encoder_layers_are_independent_copies():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dim_feedforward=8), 3)
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    assert len(list(enc.parameters())) == 3 * 12
    with pytest.raises(ValueError, match="activation"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")


def _pair_grads(ours, th, c_inputs, t_inputs, c_kw, t_kw, what):
    co, to = ours(*c_inputs, **c_kw), th(*t_inputs, **t_kw)
    close(co, to, np.float64, f"{what} output")
    up = np.random.default_rng(5).standard_normal(to.shape)
    (co * cr.tensor(up)).sum().backward()
    (to * torch.tensor(up)).sum().backward()
    for i, (a, b) in enumerate(zip(c_inputs, t_inputs)):
        close(a.grad, b.grad, np.float64, f"{what} grad of input {i}")
    tp = dict(th.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert names == list(tp), f"{what}: parameter names differ from torch's"
    for name, p in ours.named_parameters():
        close(p.grad, tp[name].grad, np.float64, f"{what} grad of {name}")


def _tensors(*arrays):
    return ([cr.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _masks(lib_tensor, kw):
    return {k: lib_tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer(norm_first, activation, batch_first):
    kw = dict(dim_feedforward=16, dropout=0.0, activation=activation, batch_first=batch_first,
              norm_first=norm_first)
    th = torch.nn.TransformerDecoderLayer(8, 2, dtype=torch.float64, **kw)
    ours = nn.TransformerDecoderLayer(8, 2, dtype=np.float64, **kw)
    assert list(ours.state_dict()) == list(th.state_dict())
    copy_weights(th, ours)
    rng = np.random.default_rng(0)
    shape_t, shape_m = ((3, 4, 8), (3, 6, 8)) if batch_first else ((4, 3, 8), (6, 3, 8))
    c_in, t_in = _tensors(rng.standard_normal(shape_t), rng.standard_normal(shape_m))
    _pair_grads(ours, th, c_in, t_in, {}, {}, "decoder layer")


MASK_CASES = ["none", "causal_float", "causal_flag", "bool_and_padding", "float_memory",
              "memory_causal"]


def _decoder_masks(case, t, s, n):
    rng = np.random.default_rng(7)
    causal = np.triu(np.full((t, t), -np.inf), 1)
    if case == "causal_float":
        return {"tgt_mask": causal}
    if case == "causal_flag":
        return {"tgt_mask": causal, "tgt_is_causal": True}
    if case == "bool_and_padding":
        tkpm = np.zeros((n, t), dtype=bool)
        tkpm[1, -1] = True
        mkpm = np.zeros((n, s), dtype=bool)
        mkpm[0, -2:] = True
        return {"tgt_mask": np.triu(np.ones((t, t), dtype=bool), 1),
                "tgt_key_padding_mask": tkpm, "memory_key_padding_mask": mkpm}
    if case == "float_memory":
        return {"memory_mask": rng.standard_normal((t, s))}
    if case == "memory_causal":
        m = np.triu(np.ones((t, s), dtype=bool), 1)
        return {"memory_mask": m, "memory_is_causal": True}
    return {}


@pytest.mark.parametrize("case", MASK_CASES)
def test_decoder_stack_with_masks_and_final_norm(case):
    def build(lib, dt):
        layer = lib.TransformerDecoderLayer(8, 2, dim_feedforward=12, dropout=0.0, dtype=dt)
        return lib.TransformerDecoder(layer, 2, norm=lib.LayerNorm(8, dtype=dt))

    th, ours = build(torch.nn, torch.float64), build(nn, np.float64)
    copy_weights(th, ours)
    rng = np.random.default_rng(1)
    t, s, n = 5, 6, 3
    kw = _decoder_masks(case, t, s, n)
    c_in, t_in = _tensors(rng.standard_normal((t, n, 8)), rng.standard_normal((s, n, 8)))
    _pair_grads(ours, th, c_in, t_in, _masks(cr.tensor, kw), _masks(torch.tensor, kw),
                f"decoder ({case})")


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("masks", [False, True])
def test_full_transformer(batch_first, norm_first, masks):
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
              dim_feedforward=16, dropout=0.0, batch_first=batch_first, norm_first=norm_first)
    th = torch.nn.Transformer(dtype=torch.float64, **kw).eval()
    ours = nn.Transformer(dtype=np.float64, **kw).eval()
    assert list(ours.state_dict()) == list(th.state_dict())
    copy_weights(th, ours)
    rng = np.random.default_rng(2)
    n, s, t = 2, 6, 5
    shape_s, shape_t = ((n, s, 8), (n, t, 8)) if batch_first else ((s, n, 8), (t, n, 8))
    c_in, t_in = _tensors(rng.standard_normal(shape_s), rng.standard_normal(shape_t))
    fwd = {}
    if masks:
        skpm = np.zeros((n, s), dtype=bool)
        skpm[1, -2:] = True
        tkpm = np.zeros((n, t), dtype=bool)
        tkpm[0, -1] = True
        fwd = {"src_mask": rng.standard_normal((s, s)),
               "tgt_mask": np.triu(np.full((t, t), -np.inf), 1),
               "memory_mask": np.triu(np.ones((t, s), dtype=bool), 2),
               "src_key_padding_mask": skpm, "tgt_key_padding_mask": tkpm,
               "memory_key_padding_mask": skpm}
    _pair_grads(ours, th, c_in, t_in, _masks(cr.tensor, fwd), _masks(torch.tensor, fwd),
                "transformer")


def test_full_transformer_unbatched_callable_activation_no_bias():
    kw = dict(d_model=6, nhead=3, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8,
              dropout=0.0, bias=False, layer_norm_eps=1e-3)
    th = torch.nn.Transformer(activation=torch.tanh, dtype=torch.float64, **kw)
    ours = nn.Transformer(activation=cr.tanh, dtype=np.float64, **kw)
    assert list(ours.state_dict()) == list(th.state_dict())
    copy_weights(th, ours)
    rng = np.random.default_rng(3)
    c_in, t_in = _tensors(rng.standard_normal((4, 6)), rng.standard_normal((3, 6)))
    _pair_grads(ours, th, c_in, t_in, {}, {}, "unbatched transformer")


def test_torch_state_dict_loads_and_init_is_xavier():
    th = torch.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                              dim_feedforward=12)
    ours = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                          dim_feedforward=12)
    state = {k: v.numpy() for k, v in th.state_dict().items()}
    assert ours.load_state_dict(state) == ([], [])
    # Xavier-uniform bound of every matrix, e.g. in_proj (24, 8): sqrt(6 / 32)
    fresh = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=12)
    for name, p in fresh.named_parameters():
        if p.ndim > 1:
            bound = np.sqrt(6.0 / sum(p.shape))
            assert np.abs(p._data).max() <= bound, name
            assert np.abs(p._data).max() > 0.5 * bound, name


def test_generate_square_subsequent_mask_matches_torch():
    for sz in (0, 1, 4):
        ours = nn.Transformer.generate_square_subsequent_mask(sz)
        want = torch.nn.Transformer.generate_square_subsequent_mask(sz)
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(ours._data, want.numpy())
    assert nn.Transformer.generate_square_subsequent_mask(2, dtype=cr.float64).dtype == \
        np.float64
    with pytest.raises(ValueError, match="sz"):
        nn.Transformer.generate_square_subsequent_mask(-1)


def test_transformer_errors_name_the_argument():
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=8)
    with pytest.raises(ValueError, match="batch size"):
        model(cr.zeros(5, 2, 8), cr.zeros(4, 3, 8))
    with pytest.raises(ValueError, match="d_model"):
        model(cr.zeros(5, 2, 8), cr.zeros(4, 2, 6))
    with pytest.raises(ValueError, match="activation"):
        nn.TransformerDecoderLayer(8, 2, activation="swish")
    with pytest.raises(ValueError, match="num_layers"):
        nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2), 0)


def test_custom_encoder_and_decoder_are_used():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 8, dropout=0.0), 1)
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 8, dropout=0.0), 1)
    model = nn.Transformer(d_model=8, nhead=2, custom_encoder=enc, custom_decoder=dec)
    assert model.encoder is enc and model.decoder is dec
    assert model(cr.randn(3, 1, 8), cr.randn(2, 1, 8)).shape == (2, 1, 8)
