"""The docstring examples of the modules behind exact resume run as shown."""

import doctest
import importlib

import pytest


@pytest.mark.parametrize("module", ["chainrule.random", "chainrule.data.loader",
                                    "chainrule.data.sampler", "chainrule.train.checkpoint",
                                    "chainrule.train.callbacks.model_checkpoint"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
