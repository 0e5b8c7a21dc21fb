"""F.pad's modes and the padding layers against PyTorch (forward, gradients, gradcheck)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_twin import close, run_pair

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

CASES = [
    ("reflect", (2, 3, 5), (2, 1)), ("reflect", (3, 5), (4, 0)),
    ("reflect", (1, 2, 4, 5), (1, 2, 3, 0)), ("reflect", (2, 3, 3, 4), (1, 1, 2, 2)),
    ("reflect", (1, 1, 3, 3, 4), (1, 2, 1, 0, 2, 1)),
    ("replicate", (2, 3, 4), (3, 2)), ("replicate", (2, 4, 5), (2, 0, 1, 3)),
    ("replicate", (1, 2, 2, 3, 3), (1, 1, 2, 0, 0, 1)),
    ("circular", (2, 3, 4), (2, 3)), ("circular", (1, 2, 3, 4), (1, 2, 3, 0)),
    ("circular", (1, 1, 2, 3, 3), (1, 1, 1, 1, 2, 0)),
    ("constant", (2, 3), (1, 2)), ("constant", (2, 3, 4), (1, 0, 2, 1, 0, 1)),
    ("constant", (3, 4), (-1, 2, 1, -2)), ("constant", (5,), (0, 0)),
]


@pytest.mark.parametrize("mode,shape,pad", CASES)
def test_pad_matches_torch_with_gradients(mode, shape, pad):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    kw = {"value": 1.5} if mode == "constant" else {}
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    co = F.pad(cx, pad, mode=mode, **kw)
    to = TF.pad(tx, pad, mode=mode, **kw)
    close(co, to, np.float64, f"pad {mode}")
    u = rng.standard_normal(to.shape)
    co.backward(cr.tensor(u))
    to.backward(torch.tensor(u))
    close(cx.grad, tx.grad, np.float64, f"grad of pad {mode}")
    assert cr.gradcheck(lambda t: F.pad(t, pad, mode=mode, **kw),
                        (cr.tensor(x, requires_grad=True),))


LAYERS = [
    ("ConstantPad1d", ((1, 2), 3.0), (2, 3, 4)), ("ConstantPad2d", (1, -1.0), (2, 3, 3)),
    ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 0.5), (1, 2, 2, 2)),
    ("ZeroPad1d", (2,), (3, 4)), ("ZeroPad2d", ((1, 0, 2, 1),), (1, 2, 3, 3)),
    ("ZeroPad3d", (1,), (1, 1, 2, 2, 2)),
    ("ReflectionPad1d", (2,), (2, 3, 4)), ("ReflectionPad1d", ((0, 3),), (3, 5)),
    ("ReflectionPad2d", (1,), (1, 2, 3, 3)), ("ReflectionPad2d", ((2, 0, 1, 1),), (2, 4, 3)),
    ("ReflectionPad3d", (1,), (1, 1, 2, 3, 3)),
    ("ReplicationPad1d", ((2, 1),), (2, 3, 4)), ("ReplicationPad2d", (2,), (1, 2, 3, 3)),
    ("ReplicationPad3d", (1,), (1, 2, 2, 2)),
    ("CircularPad1d", (2,), (2, 3, 4)), ("CircularPad2d", ((1, 0, 2, 1),), (1, 2, 3, 3)),
    ("CircularPad3d", (1,), (1, 1, 2, 2, 2)),
]


@pytest.mark.parametrize("name,args,shape", LAYERS)
def test_padding_layers_match_torch(name, args, shape):
    x = np.random.default_rng(1).standard_normal(shape)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    run_pair(ours, theirs, x, np.float64)
    assert repr(ours) == repr(theirs)


def test_padding_errors_name_the_argument():
    x = cr.zeros(1, 2, 3)
    with pytest.raises(ValueError, match="must be smaller than its size 3"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="argument 'mode' must be one of"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="pairs"):
        F.pad(x, (1, 1, 1))
    with pytest.raises(TypeError, match="tuple of ints"):
        F.pad(x, (1.5, 1))
    with pytest.raises(ValueError, match="needs a 3-D .* or 4-D"):
        F.pad(cr.zeros(3, 3), (1, 1, 1, 1), mode="replicate")
    with pytest.raises(ValueError, match="ReflectionPad2d: expected a 3-D or 4-D"):
        nn.ReflectionPad2d(1)(cr.zeros(3, 3))
    with pytest.raises(ValueError, match="padding must be an int or 4 ints"):
        nn.ZeroPad2d((1, 2))
    # a negative padding crops, in every mode, as in PyTorch
    y = cr.arange(6.0).reshape(1, 2, 3)
    for mode in ("replicate", "reflect", "circular"):
        want = torch.nn.functional.pad(torch.arange(6.0).reshape(1, 2, 3), (-1, 1), mode=mode)
        assert F.pad(y, (-1, 1), mode=mode).tolist() == want.tolist()
