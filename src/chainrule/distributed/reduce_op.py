"""``ReduceOp``: how a collective combines the ranks' values, and its MPI operation."""

from __future__ import annotations

import enum

import numpy as np


class ReduceOp(enum.Enum):
    """PyTorch's reduction operations: ``SUM``, ``AVG``, ``PRODUCT``, ``MIN``, ``MAX``,
    ``BAND``, ``BOR``, ``BXOR`` (``PREMUL_SUM`` is not supported).

    ``AVG`` is a sum divided by the world size, for floating-point tensors only. On ``bool``
    tensors ``SUM`` and ``MAX`` are a logical or, ``PRODUCT`` and ``MIN`` a logical and.

    Example:
        >>> import chainrule.distributed as dist
        >>> dist.ReduceOp.SUM
        <ReduceOp.SUM: 0>
    """

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8


_MPI_NAMES = {ReduceOp.SUM: "SUM", ReduceOp.AVG: "SUM", ReduceOp.PRODUCT: "PROD",
              ReduceOp.MIN: "MIN", ReduceOp.MAX: "MAX", ReduceOp.BAND: "BAND",
              ReduceOp.BOR: "BOR", ReduceOp.BXOR: "BXOR"}
# MPI has no arithmetic on C bool: the bytes are reduced as uint8 with the logical meaning.
_BOOL_NAMES = {ReduceOp.SUM: "BOR", ReduceOp.MAX: "BOR", ReduceOp.BOR: "BOR",
               ReduceOp.PRODUCT: "BAND", ReduceOp.MIN: "BAND", ReduceOp.BAND: "BAND",
               ReduceOp.BXOR: "BXOR"}


def mpi_op(MPI, op, dtype: np.dtype, where: str):
    """The MPI operation for ``op`` on arrays of ``dtype``; TypeError/ValueError naming
    ``where`` for a combination that has no meaning."""
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{where}: op must be a chainrule.distributed.ReduceOp, "
                        f"got {op!r}")
    if op is ReduceOp.PREMUL_SUM:
        raise ValueError(f"{where}: ReduceOp.PREMUL_SUM is not supported; scale the tensor "
                         "and use ReduceOp.SUM")
    kind = dtype.kind
    if kind == "b":
        if op is ReduceOp.AVG:
            raise TypeError(f"{where}: ReduceOp.AVG needs a floating-point tensor, got bool")
        return getattr(MPI, _BOOL_NAMES[op])
    if op is ReduceOp.AVG and kind not in "fc":
        raise TypeError(f"{where}: ReduceOp.AVG needs a floating-point tensor, got {dtype}")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind not in "iu":
        raise TypeError(f"{where}: ReduceOp.{op.name} needs an integer or bool tensor, "
                        f"got {dtype}")
    if op in (ReduceOp.MIN, ReduceOp.MAX) and kind == "c":
        raise TypeError(f"{where}: ReduceOp.{op.name} is not defined for complex tensors")
    return getattr(MPI, _MPI_NAMES[op])
