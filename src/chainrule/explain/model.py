"""What a trace holds: plain records of the forward values and of each backward step.

The records keep NumPy arrays (copies), never live tensors' gradients, so a trace stays valid
after the graph is freed or the parameters change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(init=False)
class Event:
    """Something worth saying about a step; ``code`` is a sentence key of ``lang``."""

    code: str
    args: dict = field(default_factory=dict)

    def __init__(self, code: str, **args) -> None:
        self.code = code
        self.args = args


@dataclass
class Send:
    """The gradient one step sends to one of its inputs (or why it sends none)."""

    to: str
    grad: np.ndarray | None
    local: np.ndarray | None = None
    skipped: str | None = None  # "constant", "detached" or "none"
    source: str | None = None  # for "detached": the tensor it was detached from


@dataclass
class BackwardStep:
    index: int
    name: str  # the op's output
    op: type
    upstream: np.ndarray  # δ: gradient of the output of the whole pass w.r.t. this op's output
    sends: list[Send]
    events: list[Event]
    seq: int


@dataclass
class LeafGrad:
    name: str
    grad: np.ndarray
    events: list[Event]
    tensor: object = None


@dataclass
class ForwardStep:
    name: str
    op: type
    inputs: list[str]
    attrs: dict
    value: np.ndarray
    seq: int


@dataclass
class LeafInfo:
    name: str
    value: np.ndarray
    role: str  # "parameter", "constant" or "detached"
    source: str | None = None
