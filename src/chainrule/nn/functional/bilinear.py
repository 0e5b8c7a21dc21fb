"""The bilinear form y = x1^T A x2 + b, one matrix A per output feature."""

from __future__ import annotations

from ... import _validate as check
from ...ops.linalg import linear
from ...tensor import Tensor


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]``.

    Computed as one dense product of ``input1`` with the (O*I2, I1) weight, then a product with
    ``input2`` summed over its features.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> w = cr.ones(2, 3, 4)
        >>> F.bilinear(cr.ones(5, 3), cr.ones(5, 4), w).shape
        (5, 2)
    """
    input1, input2, weight, bias = check.same_dtype_operands(
        "bilinear", ("input1", "input2", "weight", "bias"), input1, input2, weight, bias)
    check.floating(input1, "bilinear", "input1")
    if weight.ndim != 3:
        raise ValueError(f"bilinear: weight must be (out, in1, in2), got shape {weight.shape}")
    o, i1, i2 = weight.shape
    if input1.ndim == 0 or input1.shape[-1] != i1 or input2.ndim == 0 or \
            input2.shape[-1] != i2 or input1.shape[:-1] != input2.shape[:-1]:
        raise ValueError(f"bilinear: input1 {input1.shape} and input2 {input2.shape} must share "
                         f"their leading dims and end with in1={i1} and in2={i2} features")
    if bias is not None and bias.shape != (o,):
        raise ValueError(f"bilinear: bias has shape {bias.shape}, expected ({o},)")
    w = weight.permute(0, 2, 1).reshape(o * i2, i1)
    t = linear(input1, w).reshape(input1.shape[:-1] + (o, i2))  # (..., O, I2)
    out = (t * input2.unsqueeze(-2)).sum(dim=-1)
    return out if bias is None else out + bias
