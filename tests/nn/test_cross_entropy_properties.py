"""Property test: fused cross entropy equals PyTorch's on random shapes, labels and options."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 6), c=st.integers(1, 5), extra=st.integers(0, 2),
       reduction=st.sampled_from(["mean", "sum", "none"]), weighted=st.booleans(),
       smoothing=st.sampled_from([0.0, 0.1, 0.5]), ignore=st.booleans(),
       seed=st.integers(0, 2**16), scale=st.sampled_from([1.0, 30.0]))
def test_cross_entropy_matches_torch(n, c, extra, reduction, weighted, smoothing, ignore, seed,
                                     scale):
    rng = np.random.default_rng(seed)
    shape = (n, c) + (2,) * extra
    x = rng.standard_normal(shape) * scale
    y = rng.integers(0, c, (n,) + (2,) * extra)
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    if ignore:
        kw["ignore_index"] = int(rng.integers(0, c))
    w = rng.uniform(0.1, 2.0, c) if weighted else None
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = F.cross_entropy(cx, cr.tensor(y), weight=None if w is None else cr.tensor(w), **kw)
    theirs = torch.nn.functional.cross_entropy(
        tx, torch.tensor(y), weight=None if w is None else torch.tensor(w), **kw)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-9,
                               atol=1e-12)
    up = rng.standard_normal(theirs.shape)
    ours.backward(cr.tensor(up))
    theirs.backward(torch.tensor(up))
    np.testing.assert_allclose(cx.grad.detach().numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
