"""``cr.backends.cuda``: PyTorch's CUDA switches, accepted and kept; there is no CUDA here.

``matmul.allow_tf32`` is tied to ``cr.get_float32_matmul_precision()`` as in PyTorch (True
exactly when the precision is not 'highest'); neither changes a result in chainrule. The
scaled-dot-product-attention switches are kept and reported.

Example:
    >>> import chainrule as cr
    >>> cr.backends.cuda.is_built(), cr.backends.cuda.matmul.allow_tf32
    (False, False)
"""

from __future__ import annotations

from typing import Any

from .. import settings


def is_built() -> bool:
    """False: chainrule has no CUDA backend."""
    return False


class _Matmul:
    """``cr.backends.cuda.matmul``: its flags; any other name raises ``AttributeError``."""

    __slots__ = ("_reduced",)

    def __init__(self) -> None:
        object.__setattr__(self, "_reduced", {"allow_fp16_reduced_precision_reduction": True,
                                              "allow_bf16_reduced_precision_reduction": True})

    @property
    def allow_tf32(self) -> bool:
        return settings.get_float32_matmul_precision() != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise RuntimeError(f"backends.cuda.matmul.allow_tf32 expects a bool, got "
                               f"{type(value).__name__}")
        settings.set_float32_matmul_precision("high" if value else "highest")

    def __getattr__(self, name: str) -> Any:
        reduced = object.__getattribute__(self, "_reduced")
        if name in reduced:
            return reduced[name]
        raise AttributeError(f"backends.cuda.matmul has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "allow_tf32":
            object.__setattr__(self, name, value)
        elif name in self._reduced:
            if not isinstance(value, bool):
                raise RuntimeError(f"backends.cuda.matmul.{name} expects a bool, got "
                                   f"{type(value).__name__}")
            self._reduced[name] = value
        else:
            raise AttributeError(f"backends.cuda.matmul has no attribute {name!r}")


matmul = _Matmul()

_SDP = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def _sdp_switch(kind: str):
    def enabled() -> bool:
        return _SDP[kind]

    def enable(value: bool) -> None:
        _SDP[kind] = bool(value)

    enabled.__doc__ = f"Whether the {kind} attention kernel is switched on (kept, no effect)."
    enable.__doc__ = f"Switch the {kind} attention kernel (kept, no effect)."
    return enabled, enable


flash_sdp_enabled, enable_flash_sdp = _sdp_switch("flash")
mem_efficient_sdp_enabled, enable_mem_efficient_sdp = _sdp_switch("mem_efficient")
math_sdp_enabled, enable_math_sdp = _sdp_switch("math")
cudnn_sdp_enabled, enable_cudnn_sdp = _sdp_switch("cudnn")
