"""``cr.linalg``: PyTorch's ``torch.linalg`` norms.

Example:
    >>> import chainrule as cr
    >>> cr.linalg.norm(cr.tensor([3.0, 4.0])).item()
    5.0
"""

from __future__ import annotations

from .ops.norms import linalg_norm as norm
from .ops.norms import matrix_norm, vector_norm

__all__ = ["matrix_norm", "norm", "vector_norm"]
