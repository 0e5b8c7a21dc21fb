"""Build a chainrule layer and its PyTorch twin with identical weights, then compare them."""

from __future__ import annotations

import numpy as np
import torch

import chainrule as cr

TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=2e-5, atol=2e-6)}


def tol(dtype):
    return TOL[np.dtype(dtype).type]


def torch_dtype(dtype):
    return torch.float64 if np.dtype(dtype) == np.float64 else torch.float32


def copy_weights(src: torch.nn.Module, dst: cr.nn.Module) -> None:
    """Load the torch module's parameters and buffers into the chainrule one (same names)."""
    state = {k: v.detach().numpy().copy() for k, v in src.state_dict().items()}
    dst.load_state_dict(state)


def close(got, want, dtype, what: str, rtol: float | None = None) -> None:
    g = got.detach().numpy() if isinstance(got, cr.Tensor) else np.asarray(got)
    w = want.detach().numpy() if isinstance(want, torch.Tensor) else np.asarray(want)
    assert g.shape == w.shape, f"{what}: shape {g.shape} != torch's {w.shape}"
    t = tol(dtype) if rtol is None else dict(rtol=rtol, atol=0.0)
    np.testing.assert_allclose(g, w, err_msg=what, **t)


def run_pair(cr_mod, th_mod, x: np.ndarray, dtype, upstream: np.ndarray | None = None,
             float_input: bool = True, grad_rtol: float | None = None):
    """Forward both on ``x``, backward a fixed random upstream gradient, compare everything."""
    cx = cr.tensor(x, requires_grad=float_input)
    tx = torch.tensor(x, requires_grad=float_input)
    cy, ty = cr_mod(cx), th_mod(tx)
    close(cy, ty, dtype, "forward output")
    if upstream is None:
        upstream = np.random.default_rng(1).standard_normal(ty.shape).astype(dtype)
    if ty.requires_grad:
        ty.backward(torch.tensor(upstream))
        cy.backward(cr.tensor(upstream))
        if float_input:
            close(cx.grad, tx.grad, dtype, "input grad", grad_rtol)
        th_params = dict(th_mod.named_parameters())
        for name, p in cr_mod.named_parameters():
            close(p.grad, th_params[name].grad, dtype, f"grad of {name}")
    return cy, ty
