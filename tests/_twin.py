"""Run one line under PyTorch (the CPU-only oracle) and under chainrule; compare the outcomes.

A line is a function of the library (``lambda L: L.device("cuda:1").index``). Both runs must
return equal results, or both must raise, chainrule's error being an instance of the class
PyTorch raised (so code that catches PyTorch's error catches chainrule's).
"""

from __future__ import annotations

import warnings

import torch

import chainrule as cr


def outcome(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "ok", fn()
        except Exception as e:  # noqa: BLE001 - the exception is the outcome
            return "raised", e


def same_outcome(fn, convert=lambda v: v):
    """Assert ``fn(torch)`` and ``fn(cr)`` agree; return chainrule's result or exception."""
    return same(lambda: fn(torch), lambda: fn(cr), convert)


def same(theirs, ours, convert=lambda v: v):
    """Assert ``theirs()`` (PyTorch) and ``ours()`` (chainrule) agree; return chainrule's
    result or exception. Tests write ``same(lambda: call(torch), lambda: call(cr))`` so the
    coverage script (scripts/api_coverage/parity.py) sees one lambda called with both."""
    t_kind, t_val = outcome(theirs)
    c_kind, c_val = outcome(ours)
    if t_kind == "raised":
        assert c_kind == "raised", f"PyTorch raised {t_val!r}; chainrule returned {c_val!r}"
        assert isinstance(c_val, type(t_val)), (
            f"PyTorch raised {type(t_val).__name__}, chainrule {type(c_val).__name__}: {c_val}")
    else:
        assert c_kind == "ok", f"PyTorch returned {t_val!r}; chainrule raised {c_val!r}"
        assert convert(c_val) == convert(t_val), (c_val, t_val)
    return c_val


def dtype_name(d) -> str:
    """``torch.float64``, ``dtype('float64')`` and ``chainrule.bfloat16`` as plain names."""
    return str(d).removeprefix("torch.").removeprefix("chainrule.")
