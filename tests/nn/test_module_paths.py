"""PyTorch programs import layers by their module path (``torch.nn.modules.linear.Linear``,
``torch.nn.modules.loss._Loss``): the same paths under ``chainrule.nn.modules`` give the same
classes as ``chainrule.nn``."""

import importlib
import inspect

import pytest
import torch.nn.modules as torch_modules

import chainrule.nn as nn

PRIVATE_BASES = ("_Loss", "_WeightedLoss", "_BatchNorm", "_NormBase", "_ConvNd", "_DropoutNd",
                 "_MaxPoolNd", "_AvgPoolNd", "_InstanceNorm", "_ConstantPadNd",
                 "_ConvTransposeNd", "_AdaptiveAvgPoolNd", "_AdaptiveMaxPoolNd", "_LPPoolNd",
                 "_MaxUnpoolNd", "_ReflectionPadNd", "_ReplicationPadNd", "_CircularPadNd")
# torch.nn.modules submodules whose classes chainrule does not have yet
NOT_YET = {"adaptive", "linear_cross_entropy_options"}


def _subs():
    return sorted(n for n in dir(torch_modules) if not n.startswith("_")
                  and inspect.ismodule(getattr(torch_modules, n)))


@pytest.mark.parametrize("sub", [s for s in _subs() if s not in NOT_YET])
def test_same_module_paths_as_torch(sub):
    theirs = getattr(torch_modules, sub)
    ours = importlib.import_module(f"chainrule.nn.modules.{sub}")
    defined = [n for n, v in vars(theirs).items()
               if isinstance(v, type) and v.__module__ == theirs.__name__]
    public = [n for n in defined if not n.startswith("_") and hasattr(nn, n)]
    for name in public:
        assert getattr(ours, name, None) is getattr(nn, name), \
            f"chainrule.nn.modules.{sub}.{name} is not chainrule.nn.{name}"
    for name in (n for n in defined if n in PRIVATE_BASES):
        assert isinstance(getattr(ours, name, None), type), \
            f"chainrule.nn.modules.{sub}.{name} is missing"


def test_the_not_yet_list_is_honest():
    for sub in NOT_YET:
        theirs = getattr(torch_modules, sub)
        classes = [n for n, v in vars(theirs).items() if isinstance(v, type)
                   and v.__module__ == theirs.__name__ and not n.startswith("_")]
        assert not any(hasattr(nn, n) for n in classes), f"{sub} is implemented now"


def test_paths_used_in_the_wild():
    from chainrule.nn.modules.activation import MultiheadAttention, ReLU
    from chainrule.nn.modules.batchnorm import _BatchNorm
    from chainrule.nn.modules.conv import Conv2d
    from chainrule.nn.modules.linear import Linear
    from chainrule.nn.modules.loss import _Loss, _WeightedLoss
    from chainrule.nn.modules.module import Module
    from chainrule.nn.modules.utils import _pair, _single, _triple

    assert Linear is nn.Linear and Module is nn.Module and Conv2d is nn.Conv2d
    assert ReLU is nn.ReLU and MultiheadAttention is nn.MultiheadAttention
    assert issubclass(nn.CrossEntropyLoss, _WeightedLoss) and issubclass(nn.MSELoss, _Loss)
    assert issubclass(nn.BatchNorm2d, _BatchNorm)
    assert not issubclass(nn.InstanceNorm2d, _BatchNorm)  # as in PyTorch
    assert _pair(3) == (3, 3) and _single([2]) == (2,) and _triple(1) == (1, 1, 1)
