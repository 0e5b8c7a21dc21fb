"""Every public nn module's docstring examples run and pass."""

import doctest
import importlib
import pkgutil

import pytest

import chainrule.nn as nn_pkg


def _modules():
    names = [nn_pkg.__name__]
    for info in pkgutil.walk_packages(nn_pkg.__path__, prefix=nn_pkg.__name__ + "."):
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("module", _modules())
def test_docstring_examples(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    private = module.rsplit(".", 1)[-1].startswith("_")
    has_public_functions = any(
        callable(v) and getattr(v, "__module__", None) == module and not k.startswith("_")
        for k, v in vars(mod).items())
    if has_public_functions and not private:
        assert result.attempted > 0, f"{module} has no docstring example"
