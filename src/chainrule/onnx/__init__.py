"""``chainrule.onnx``: exporting models to ONNX, not available yet.

Importing works; ``export`` (and the other entry points) raise ``NotImplementedError``.
``is_in_onnx_export()`` answers False, which is true of every chainrule program.

Example:
    >>> import chainrule as cr
    >>> cr.onnx.is_in_onnx_export()
    False
"""

from __future__ import annotations

from .._unavailable import unavailable_function

_FEATURE = "ONNX export"


def is_in_onnx_export() -> bool:
    """False: no ONNX export is ever running.

    Example:
        >>> import chainrule.onnx
        >>> chainrule.onnx.is_in_onnx_export()
        False
    """
    return False


export = unavailable_function(_FEATURE, "chainrule.onnx.export")
dynamo_export = unavailable_function(_FEATURE, "chainrule.onnx.dynamo_export")
register_custom_op_symbolic = unavailable_function(
    _FEATURE, "chainrule.onnx.register_custom_op_symbolic")

__all__ = ["dynamo_export", "export", "is_in_onnx_export", "register_custom_op_symbolic"]
