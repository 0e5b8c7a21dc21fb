"""CTC loss against PyTorch: losses, and gradients of the logits through log_softmax."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_twin import close

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn


def _problem(rng, steps, n, classes, lengths, blank=0):
    logits = rng.standard_normal((steps, n, classes))
    labels = [c for c in range(classes) if c != blank]
    targets = [rng.choice(labels, size=m) for m in lengths]
    return logits, targets


def _run(logits, targets, in_len, layout, **kw):
    s = max(len(t) for t in targets) if targets else 0
    if layout == "padded":
        tg = np.zeros((len(targets), max(s, 1)), dtype=np.int64)
        for i, t in enumerate(targets):
            tg[i, :len(t)] = t
    else:
        tg = np.concatenate(targets).astype(np.int64)
    tl = np.array([len(t) for t in targets])
    cz, tz = cr.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    co = F.ctc_loss(cz.log_softmax(dim=-1), cr.tensor(tg), cr.tensor(in_len), cr.tensor(tl),
                    **kw)
    to = TF.ctc_loss(tz.log_softmax(dim=-1), torch.tensor(tg), torch.tensor(in_len),
                     torch.tensor(tl), **kw)
    return cz, tz, co, to


@pytest.mark.parametrize("layout", ["padded", "concatenated"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("blank", [0, 3])
def test_ctc_matches_torch(layout, reduction, blank):
    rng = np.random.default_rng(0)
    lengths = [3, 1, 4, 2]
    logits, targets = _problem(rng, 9, 4, 5, lengths, blank)
    targets[2][1] = targets[2][2]  # a repeated label needs a blank between
    in_len = np.array([9, 5, 8, 7])
    cz, tz, co, to = _run(logits, targets, in_len, layout, blank=blank, reduction=reduction)
    close(co, to, np.float64, "ctc loss")
    u = np.random.default_rng(1).standard_normal(to.shape)
    co.backward(cr.tensor(u))
    to.backward(torch.tensor(u))
    close(cz.grad, tz.grad, np.float64, "gradient of the logits")


def test_ctc_impossible_alignments_and_zero_infinity():
    rng = np.random.default_rng(2)
    logits, targets = _problem(rng, 4, 2, 4, [3, 2])
    targets[0] = np.array([1, 1, 1])  # needs 5 steps, the input has 3
    in_len = np.array([3, 4])
    _, _, co, to = _run(logits, targets, in_len, "padded", reduction="none")
    assert np.isinf(co.detach().numpy()[0]) and np.isinf(to.detach().numpy()[0])
    close(co[1], to[1], np.float64, "possible sample")
    cz, tz, co, to = _run(logits, targets, in_len, "padded", reduction="sum", zero_infinity=True)
    close(co, to, np.float64, "zero_infinity loss")
    co.backward()
    to.backward()
    close(cz.grad, tz.grad, np.float64, "zero_infinity gradient")


def test_ctc_unbatched_module_and_gradcheck():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((6, 4))
    target = np.array([1, 2, 2])
    loss = nn.CTCLoss()
    co = loss(cr.tensor(logits).log_softmax(dim=-1), cr.tensor(target), [6], [3])
    to = torch.nn.CTCLoss()(torch.tensor(logits).log_softmax(-1), torch.tensor(target),
                            torch.tensor([6]), torch.tensor([3]))
    close(co, to, np.float64, "unbatched ctc")
    z = cr.tensor(rng.standard_normal((5, 2, 3)), requires_grad=True)
    assert cr.gradcheck(lambda t: F.ctc_loss(t.log_softmax(dim=-1), cr.tensor([[1, 2], [2, 0]]),
                                             [5, 4], [2, 1]), (z,))


def test_ctc_errors():
    lp = cr.zeros(4, 1, 3)
    with pytest.raises(ValueError, match="not the blank 0"):
        F.ctc_loss(lp, cr.tensor([[0, 1]]), [4], [2])
    with pytest.raises(ValueError, match=r"input_lengths must be in \[0, 4\]"):
        F.ctc_loss(lp, cr.tensor([[1]]), [5], [1])
    with pytest.raises(ValueError, match="target_lengths add up"):
        F.ctc_loss(lp, cr.tensor([1, 2]), [4], [3])
