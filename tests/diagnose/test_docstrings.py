"""The docstring examples of the anomaly, gradcheck_graph and diagnose modules run as written."""

import doctest
import importlib

import pytest


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("module", [
    "chainrule.autograd.anomaly", "chainrule.graph_gradcheck", "chainrule.diagnose",
    "chainrule.diagnose.monitor", "chainrule.diagnose.report", "chainrule.diagnose.demo",
])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
