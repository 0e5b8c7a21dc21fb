"""Shared fixtures: deterministic seeds, and hypothesis settings that suit a busy 2-core machine."""

import numpy as np
import pytest
from hypothesis import settings

import chainrule as cr
from chainrule.autograd.grad_mode import DEBUG

# Every fresh_grads rule is checked to return arrays that share memory with nothing else.
DEBUG.check_ownership = True

# Wall-clock deadlines make property tests flaky on shared machines; examples stay few and small.
settings.register_profile("chainrule", deadline=None, max_examples=30)
settings.load_profile("chainrule")


@pytest.fixture(autouse=True)
def _seed():
    cr.manual_seed(0)
    np.random.seed(0)
    yield
    cr.set_default_dtype(cr.float32)
