"""The errors of ``chainrule.onnx`` (PyTorch's names: ``torch.onnx.errors``).

Example:
    >>> from chainrule.onnx.errors import OnnxExporterError, UnsupportedOperatorError
    >>> issubclass(UnsupportedOperatorError, OnnxExporterError), issubclass(
    ...     OnnxExporterError, RuntimeError)
    (True, True)
"""

from __future__ import annotations

__all__ = ["OnnxExporterError", "UnsupportedOperatorError"]


class OnnxExporterError(RuntimeError):
    """The model cannot be written as ONNX (the message says why and what to change)."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op of the traced forward pass has no ONNX mapping: the message names the op, the
    line of Python that made it and the ops that are supported."""
