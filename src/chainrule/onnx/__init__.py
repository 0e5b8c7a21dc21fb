"""``chainrule.onnx``: export a model to ONNX, to run it with onnxruntime or any ONNX runtime.

``export`` traces one forward pass of the model (the engine records every op) and maps each
recorded op to standard ONNX ops of opset 17 to 21; layers that ONNX has as one op (convolution,
batch norm, pooling, RNN / GRU / LSTM) are exported as that op. It needs the ``onnx`` extra
(``pip install chainrule[onnx]``: onnx and onnxruntime), imported only when ``export`` runs.
See docs/onnx.md for what is mapped and how.

Example:
    >>> import chainrule as cr
    >>> cr.onnx.is_in_onnx_export()
    False
    >>> model = cr.nn.Sequential(cr.nn.Linear(4, 2), cr.nn.Softmax(dim=1))
    >>> cr.onnx.export(model, cr.randn(1, 4), "model.onnx", input_names=["x"],
    ...                dynamic_axes={"x": {0: "batch"}})  # doctest: +SKIP
"""

from __future__ import annotations

from .._unavailable import unavailable_function
from . import errors
from ._export import export, in_export
from .errors import OnnxExporterError, UnsupportedOperatorError

_FEATURE = "custom ONNX symbolics"


def is_in_onnx_export() -> bool:
    """True while ``export`` runs the model's forward pass (in this thread).

    Example:
        >>> import chainrule.onnx
        >>> chainrule.onnx.is_in_onnx_export()
        False
    """
    return in_export()


def supported_ops() -> list[str]:
    """The names of the ops (from the op registry) that export maps to ONNX.

    Example:
        >>> import chainrule as cr
        >>> "linear" in cr.onnx.supported_ops()
        True
    """
    from ._convert import supported

    return supported()


dynamo_export = unavailable_function("ONNX export through torch.dynamo (use export)",
                                     "chainrule.onnx.dynamo_export")
register_custom_op_symbolic = unavailable_function(
    _FEATURE, "chainrule.onnx.register_custom_op_symbolic")
unregister_custom_op_symbolic = unavailable_function(
    _FEATURE, "chainrule.onnx.unregister_custom_op_symbolic")

__all__ = ["OnnxExporterError", "UnsupportedOperatorError", "dynamo_export", "errors", "export",
           "is_in_onnx_export", "register_custom_op_symbolic", "supported_ops",
           "unregister_custom_op_symbolic"]
