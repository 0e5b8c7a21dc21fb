"""Transformer encoder layers against PyTorch (dropout 0 so both are deterministic)."""

import numpy as np
import pytest
import torch
from nn_twin import close, copy_weights, run_pair

import chainrule as cr
from chainrule import nn


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
