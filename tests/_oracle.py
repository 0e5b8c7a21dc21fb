"""PyTorch as a test oracle: run the same function on chainrule and torch and compare.

A test function is written once as ``fn(L, *tensors)`` where ``L`` is a namespace with
chainrule's or PyTorch's functions (``CR`` or ``TH``), so both libraries see the same code.
Float64 arrays become tensors that require grad; any other array is a constant input.
"""

from __future__ import annotations

import numpy as np
import torch

import chainrule as cr
import chainrule.nn  # noqa: F401  (cr.nn.functional for the namespace below)


class _Namespace:
    """``L.name``: the library's top-level function, else its ``nn.functional`` one."""

    def __init__(self, *modules) -> None:
        self._modules = modules

    def __getattr__(self, name):
        for m in self._modules:
            if hasattr(m, name):
                return getattr(m, name)
        raise AttributeError(name)


CR = _Namespace(cr, cr.nn.functional)
TH = _Namespace(torch, torch.nn.functional)


def make_inputs(arrays, lib: str):
    """Tensors for ``lib`` ('cr' or 'torch'): float64 arrays require grad, others are constants."""
    out = []
    for a in arrays:
        diff = a.dtype == np.float64
        if lib == "cr":
            out.append(cr.tensor(a.copy(), requires_grad=diff))
        else:
            out.append(torch.tensor(a.copy(), requires_grad=diff))
    return out


def as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    if isinstance(x, cr.Tensor):
        return np.asarray(x.detach().numpy())
    return np.asarray(x)


def assert_close(got, want, rtol=1e-6, atol=1e-9, what="value"):
    got, want = to_numpy(got), to_numpy(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != torch's {want.shape}"
    if want.dtype.kind in "biu":
        assert got.dtype.kind in "biu", f"{what}: dtype {got.dtype}, torch has {want.dtype}"
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)


def check_parity(fn, arrays, tfn=None, rtol=1e-6, atol=1e-9, seed=0):
    """Outputs and input gradients (for a random upstream gradient) match PyTorch's."""
    tfn = tfn or fn
    xs_c = make_inputs(arrays, "cr")
    xs_t = make_inputs(arrays, "torch")
    outs_c = as_tuple(fn(CR, *xs_c))
    outs_t = as_tuple(tfn(TH, *xs_t))
    assert len(outs_c) == len(outs_t), "number of outputs differs from torch"
    for i, (oc, ot) in enumerate(zip(outs_c, outs_t)):
        assert_close(oc, ot, rtol, atol, what=f"output {i}")
    rng = np.random.default_rng(seed)
    diff = [(oc, ot) for oc, ot in zip(outs_c, outs_t) if ot.requires_grad]
    wrt = [i for i, a in enumerate(arrays) if a.dtype == np.float64]
    if not diff or not wrt:
        return
    vs = [rng.standard_normal(ot.shape) for _, ot in diff]
    g_t = torch.autograd.grad(
        [ot for _, ot in diff], [xs_t[i] for i in wrt],
        grad_outputs=[torch.tensor(v, dtype=ot.dtype) for v, (_, ot) in zip(vs, diff)],
        allow_unused=True)
    g_c = cr.autograd.grad(
        [oc for oc, _ in diff], [xs_c[i] for i in wrt],
        grad_outputs=[cr.tensor(v.astype(oc.dtype)) for v, (oc, _) in zip(vs, diff)],
        allow_unused=True)
    for i, gc, gt in zip(wrt, g_c, g_t):
        shape = arrays[i].shape
        gc = np.zeros(shape) if gc is None else to_numpy(gc)
        gt = np.zeros(shape) if gt is None else to_numpy(gt)
        assert_close(gc, gt, rtol, atol, what=f"gradient of input {i}")
