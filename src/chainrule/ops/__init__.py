"""The differentiable primitives, one module per family.

Each ``Op`` class holds its forward, its gradient rule and its registry entry (``op.py``);
importing this package defines them all, installs the rule vocabularies into the engine
(``backends.py``) and so fills the registry that ``cr.*`` and the Tensor methods come from.
"""

from __future__ import annotations

from . import (  # noqa: F401
    backends,  # noqa: F401  (installs NP / TENSOR into the engine)
    binary,
    blas,
    compare,
    compose,
    conv,
    einsum,
    elementwise,
    info,
    linalg,
    matrix,
    movement,
    nonzero,
    norms,
    pointwise,
    reduce,
    rounding,
    sampling,
    scatter,
    shape,
    sorting,
    special,
)
from .op import (
    KINDS,
    Entry,
    Op,
    all_ops,
    bind_methods_to,
    entries,
    export_to,
    gated_ops,
    lookup,
    public,
    unregister,
)

__all__ = ["KINDS", "Entry", "Op", "all_ops", "bind_methods_to", "entries", "export_to",
           "gated_ops", "lookup", "public", "unregister"]
