"""Each layer against its PyTorch twin: same weights, same outputs, same gradients."""

import numpy as np
import pytest
import torch
from nn_twin import close, copy_weights, run_pair, torch_dtype

import chainrule as cr
from chainrule import nn

DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(dtype, shape, bias):
    th = torch.nn.Linear(4, 3, bias=bias, dtype=torch_dtype(dtype))
    ours = nn.Linear(4, 3, bias=bias, dtype=dtype)
    copy_weights(th, ours)
    run_pair(ours, th, np.random.randn(*shape).astype(dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_one_in_one_out_one_sample(dtype, bias):
    # The worked example's layer: every array has one element (a Python-float fast path).
    th = torch.nn.Linear(1, 1, bias=bias, dtype=torch_dtype(dtype))
    ours = nn.Linear(1, 1, bias=bias, dtype=dtype)
    copy_weights(th, ours)
    run_pair(ours, th, np.array([[0.7]], dtype), dtype)


def test_linear_bad_input_names_the_layer():
    with pytest.raises(ValueError, match=r"Linear\(in_features=4.*\(2, 5\)"):
        nn.Linear(4, 3)(cr.ones(2, 5))
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 3)


def test_identity_and_flatten():
    x = np.random.randn(2, 3, 4)
    run_pair(nn.Identity(7, k=1), torch.nn.Identity(7, k=1), x, np.float64)
    run_pair(nn.Flatten(), torch.nn.Flatten(), x, np.float64)
    run_pair(nn.Flatten(0, 1), torch.nn.Flatten(0, 1), x, np.float64)


ACTIVATIONS = [
    ("ReLU", {}), ("LeakyReLU", {"negative_slope": 0.2}), ("Sigmoid", {}), ("Tanh", {}),
    ("GELU", {}), ("GELU", {"approximate": "tanh"}), ("SiLU", {}), ("ELU", {"alpha": 0.7}),
    ("Softplus", {"beta": 2.0, "threshold": 5.0}), ("Softmax", {"dim": 1}),
    ("LogSoftmax", {"dim": -1}), ("ReLU6", {}), ("Hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    ("Softsign", {}), ("Mish", {}), ("LogSigmoid", {}), ("SELU", {}), ("CELU", {"alpha": 0.5}),
    ("Hardswish", {}), ("Hardsigmoid", {}), ("Softmin", {"dim": 1}), ("Tanhshrink", {}),
    ("GLU", {}), ("GLU", {"dim": 0}), ("Hardshrink", {"lambd": 1.5}), ("Softshrink", {}),
    ("Threshold", {"threshold": 0.5, "value": -3.0}), ("RReLU", {"lower": 0.1, "upper": 0.5}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kwargs", ACTIVATIONS)
def test_activation_modules(name, kwargs, dtype):
    x = (np.random.randn(4, 6) * 4).astype(dtype)
    # torch's hardsigmoid backward uses 1/6 rounded to float32, even for float64
    loose = 1e-7 if name == "Hardsigmoid" and dtype == np.float64 else None
    # RReLU is compared in eval mode, where its slope is the fixed mean slope
    run_pair(getattr(nn, name)(**kwargs).eval(), getattr(torch.nn, name)(**kwargs).eval(), x,
             dtype, grad_rtol=loose)


def test_softmax_without_dim_follows_pytorch_legacy_rule():
    x = np.random.randn(2, 3, 4)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        ours = nn.Softmax()(cr.tensor(x))
    with pytest.warns(UserWarning):
        want = torch.nn.Softmax()(torch.tensor(x))
    close(ours, want, np.float64, "softmax dim=None")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 3), (6, 3, 5)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm1d_training_steps_then_eval(dtype, shape, momentum):
    th = torch.nn.BatchNorm1d(3, momentum=momentum, dtype=torch_dtype(dtype))
    ours = nn.BatchNorm1d(3, momentum=momentum, dtype=dtype)
    with torch.no_grad():
        th.weight.uniform_(0.5, 1.5)
        th.bias.uniform_(-0.5, 0.5)
    copy_weights(th, ours)
    rng = np.random.default_rng(0)
    for step in range(4):
        x = (rng.standard_normal(shape) * 3 + step).astype(dtype)
        ours.zero_grad()
        th.zero_grad()
        run_pair(ours, th, x, dtype)
        close(ours.running_mean, th.running_mean, dtype, f"running_mean step {step}")
        close(ours.running_var, th.running_var, dtype, f"running_var step {step}")
        assert ours.num_batches_tracked.item() == th.num_batches_tracked.item() == step + 1
    ours.eval()
    th.eval()
    ours.zero_grad()
    th.zero_grad()
    run_pair(ours, th, rng.standard_normal(shape).astype(dtype), dtype)
    assert ours.num_batches_tracked.item() == 4


@pytest.mark.parametrize("affine,track", [(False, True), (True, False), (False, False)])
def test_batchnorm1d_options(affine, track):
    th = torch.nn.BatchNorm1d(4, affine=affine, track_running_stats=track, dtype=torch.float64)
    ours = nn.BatchNorm1d(4, affine=affine, track_running_stats=track, dtype=np.float64)
    assert [n for n, _ in ours.state_dict().items()] == list(th.state_dict())
    rng = np.random.default_rng(1)
    for mode in ("train", "train", "eval"):
        getattr(ours, mode)()
        getattr(th, mode)()
        ours.zero_grad()
        th.zero_grad()
        run_pair(ours, th, rng.standard_normal((5, 4)), np.float64)


def test_batchnorm1d_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\).*\(4, 5\)"):
        bn(cr.ones(4, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(cr.ones(1, 3))
    with pytest.raises(ValueError, match="2D or 3D"):
        bn(cr.ones(3))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,norm", [((4, 6), 6), ((2, 3, 5), (3, 5)), ((3, 4, 5), 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm(dtype, shape, norm, affine):
    th = torch.nn.LayerNorm(norm, elementwise_affine=affine, dtype=torch_dtype(dtype))
    ours = nn.LayerNorm(norm, elementwise_affine=affine, dtype=dtype)
    if affine:
        with torch.no_grad():
            th.weight.uniform_(0.5, 1.5)
            th.bias.uniform_(-0.5, 0.5)
        copy_weights(th, ours)
    run_pair(ours, th, (np.random.randn(*shape) * 2 + 1).astype(dtype), dtype)


def test_layernorm_without_bias_and_bad_shape():
    th = torch.nn.LayerNorm(4, bias=False, dtype=torch.float64)
    ours = nn.LayerNorm(4, bias=False, dtype=np.float64)
    run_pair(ours, th, np.random.randn(3, 4), np.float64)
    with pytest.raises(ValueError, match=r"LayerNorm\(\(4,\)\).*\(3, 5\)"):
        ours(cr.ones(3, 5))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding(dtype, padding_idx):
    th = torch.nn.Embedding(7, 3, padding_idx=padding_idx, dtype=torch_dtype(dtype))
    ours = nn.Embedding(7, 3, padding_idx=padding_idx, dtype=dtype)
    assert ours.padding_idx == th.padding_idx
    if padding_idx is not None:
        assert not ours.weight.detach().numpy()[ours.padding_idx].any()
    copy_weights(th, ours)
    idx = np.array([[0, 6, 2, 2], [6, 6, 1, 0]])
    cy, ty = ours(cr.tensor(idx)), th(torch.tensor(idx))
    close(cy, ty, dtype, "embedding output")
    up = np.random.randn(*ty.shape).astype(dtype)
    cy.backward(cr.tensor(up))
    ty.backward(torch.tensor(up))
    close(ours.weight.grad, th.weight.grad, dtype, "embedding weight grad")


def test_embedding_index_errors_never_wrap():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="index -1 is out of range for 5 embeddings"):
        emb(cr.tensor([0, -1]))
    with pytest.raises(ValueError, match="index -1"):  # also a ValueError, like other bad input
        emb(cr.tensor([[0], [-1]]))
    with pytest.raises(IndexError, match="index 5 is out of range"):
        emb(cr.tensor([5]))
    with pytest.raises(TypeError, match="integer"):
        emb(cr.tensor([1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=5)


def test_embedding_from_pretrained_is_frozen_copy():
    w = cr.randn(4, 2)
    emb = nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(emb(cr.tensor([3])).detach().numpy(), w.detach().numpy()[[3]])


def test_dropout_train_statistics_and_eval_identity():
    cr.manual_seed(3)
    drop = nn.Dropout(0.3)
    x = cr.ones(200_000, requires_grad=True)
    y = drop(x)
    kept = y.detach().numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.005
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(),
                                  y.detach().numpy())  # gradient flows through the same mask
    drop.eval()
    assert drop(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert not nn.Dropout(1.0)(x).detach().numpy().any()
    with pytest.raises(ValueError, match="Dropout"):
        nn.Dropout(1.5)


def test_dropout_is_reproducible_with_the_global_seed():
    cr.manual_seed(11)
    a = nn.Dropout(0.5)(cr.ones(50)).detach().numpy()
    cr.manual_seed(11)
    b = nn.Dropout(0.5)(cr.ones(50)).detach().numpy()
    np.testing.assert_array_equal(a, b)


def test_mlp_end_to_end_matches_torch_over_sgd_steps():
    th = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.LayerNorm(8),
                             torch.nn.Linear(8, 3)).double()
    ours = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.LayerNorm(8), nn.Linear(8, 3)).double()
    copy_weights(th, ours)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
        lt = torch.nn.functional.cross_entropy(th(torch.tensor(x)), torch.tensor(y))
        lo = nn.functional.cross_entropy(ours(cr.tensor(x)), cr.tensor(y))
        close(lo, lt, np.float64, "loss")
        th.zero_grad()
        ours.zero_grad()
        lt.backward()
        lo.backward()
        with torch.no_grad():
            for p in th.parameters():
                p -= 0.1 * p.grad
        with cr.no_grad():
            for p in ours.parameters():
                p -= 0.1 * p.grad
    for (name, p), q in zip(ours.named_parameters(), th.parameters()):
        close(p, q, np.float64, name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num,shape", [(1, (4, 5)), (3, (4, 3)), (3, (2, 3, 5)), (1, (6,))])
def test_prelu(num, shape, dtype):
    th = torch.nn.PReLU(num, init=0.3, dtype=torch_dtype(dtype))
    ours = nn.PReLU(num, init=0.3, dtype=dtype)
    run_pair(ours, th, np.random.randn(*shape).astype(dtype), dtype)
    with pytest.raises(ValueError, match="prelu"):
        nn.PReLU(4)(cr.ones(2, 3))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("groups,shape", [(2, (3, 4, 5)), (1, (2, 6)), (3, (2, 6, 2, 3))])
@pytest.mark.parametrize("affine", [True, False])
def test_groupnorm(groups, shape, affine, dtype):
    th = torch.nn.GroupNorm(groups, shape[1], affine=affine, dtype=torch_dtype(dtype))
    ours = nn.GroupNorm(groups, shape[1], affine=affine, dtype=dtype)
    if affine:
        with torch.no_grad():
            th.weight.uniform_(0.5, 1.5)
            th.bias.uniform_(-0.5, 0.5)
        copy_weights(th, ours)
    run_pair(ours, th, (np.random.randn(*shape) * 2 + 1).astype(dtype), dtype)


def test_groupnorm_errors():
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"GroupNorm\(2, 4\).*\(2, 6\)"):
        nn.GroupNorm(2, 4)(cr.ones(2, 6))


def test_unflatten():
    run_pair(nn.Unflatten(1, (3, 4)), torch.nn.Unflatten(1, (3, 4)), np.random.randn(2, 12, 2),
             np.float64)
    with pytest.raises(ValueError, match="Unflatten"):
        nn.Unflatten(1, (5, 5))(cr.ones(2, 12))


@pytest.mark.parametrize("layer,shape", [("Dropout1d", (8, 300, 5)), ("Dropout1d", (300, 5)),
                                         ("Dropout2d", (4, 300, 3, 3)), ("Dropout2d", (300, 3, 3))])
def test_channel_dropout(layer, shape):
    cr.manual_seed(1)
    drop = getattr(nn, layer)(0.4)
    x = cr.ones(*shape, requires_grad=True)
    y = drop(x)
    spatial = 1 if layer == "Dropout1d" else 2
    flat = y.detach().numpy().reshape(y.shape[:y.ndim - spatial] + (-1,))
    zero, kept = (flat == 0).all(-1), np.isclose(flat, 1 / 0.6).all(-1)
    assert (zero | kept).all()  # whole channels are dropped or kept
    assert abs(zero.mean() - 0.4) < 0.05
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), y.detach().numpy())
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match=layer.lower()):
        drop.train()(cr.ones(2))


def test_linear_with_an_input_of_another_dtype_says_dtype_not_shape():
    """Regression: a float32 batch into a float64 Linear was blamed on its (correct) shape."""
    layer = cr.nn.Linear(4, 8).double()
    with pytest.raises(TypeError, match=r"linear\(\).*float32.*float64.*same dtype"):
        layer(cr.ones(8, 4))
    with pytest.raises(RuntimeError):  # PyTorch refuses it too
        torch.nn.Linear(4, 8).double()(torch.ones(8, 4))
    with pytest.raises(ValueError, match=r"input of shape \(8, 3\) does not end with 4"):
        layer(cr.ones(8, 3, dtype=cr.float64))
