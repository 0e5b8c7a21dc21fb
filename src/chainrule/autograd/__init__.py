"""Automatic differentiation: the engine, grad mode, custom functions, anomaly detection."""

from .anomaly import detect_anomaly, is_anomaly_enabled
from .engine import backward, grad
from .function import Function, FunctionCtx
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .graph import Node, OpError

__all__ = [
    "Function", "FunctionCtx", "Node", "OpError", "backward", "detect_anomaly",
    "enable_grad", "grad", "is_anomaly_enabled", "is_grad_enabled", "no_grad",
    "set_grad_enabled",
]
