"""``UpdateTerms``: one parameter's next update as named values, for reading rather than running.

``Optimizer.update_terms(p)`` fills it by running the optimizer's own per-parameter update on
copies of the parameter and its state, asking it to record its named terms on the way (each
optimizer lists them in its ``terms`` attribute). ``cr.explain_step`` renders these values; it
holds no formula of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class UpdateTerms:
    """One parameter's next update, computed on copies (the optimizer is left as it was).

    ``old``/``new`` are the parameter's values before and after, ``grad`` its gradient as given,
    ``before`` copies of its optimizer state before the step, ``group`` the hyper-parameters
    used (with ``lr`` replaced for a what-if) and ``terms`` the named intermediate values, e.g.
    SGD's ``g``, ``buf`` and ``d`` or Adam's ``m``, ``v``, ``m_hat`` and ``v_hat``.
    """

    old: np.ndarray
    new: np.ndarray
    grad: np.ndarray
    group: dict[str, Any]
    before: dict[str, Any] = field(default_factory=dict)
    terms: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.terms[name]

    def __contains__(self, name: str) -> bool:
        return name in self.terms


def copy_state(state: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of one parameter's state whose arrays later steps cannot change."""
    if not state:
        return {}
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()}
