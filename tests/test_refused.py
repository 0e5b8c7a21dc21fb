"""Features left out on purpose: each refused name raises an error that names the feature, says
why and what to use instead; the table only holds real PyTorch names, and nothing else moves."""

import copy
import pickle

import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule._refused import REFUSED, NotSupportedError

# Where each namespace of the table lives, in chainrule and in PyTorch.
PLACES = {"torch": (lambda: cr, torch), "Tensor": (lambda: cr.Tensor, torch.Tensor),
          "nn": (lambda: nn, torch.nn), "nn.functional": (lambda: nn.functional,
                                                          torch.nn.functional)}
SPELLING = {"torch": "cr.", "Tensor": "Tensor.", "nn": "cr.nn.",
            "nn.functional": "cr.nn.functional."}
ALL = [(ns, name) for ns, table in REFUSED.items() for name in table]


@pytest.mark.parametrize("ns,name", ALL, ids=[f"{ns}.{n}" for ns, n in ALL])
def test_refused_name_raises_with_feature_why_and_instead(ns, name):
    family = REFUSED[ns][name]
    owner = PLACES[ns][0]()
    try:
        getattr(owner, name)
    except NotSupportedError as e:
        message = str(e)
    else:  # a real implementation wins over the table: then the entry has to go
        pytest.fail(f"chainrule now has {SPELLING[ns]}{name}: remove it from _refused.REFUSED")
    assert message.startswith(f"chainrule does not support {family.feature} "
                              f"({SPELLING[ns]}{name}): ")
    assert family.why in message and message.endswith(f"; {family.instead}")
    assert not hasattr(owner, name)  # an AttributeError too: probing code learns "absent"


@pytest.mark.parametrize("ns,name", ALL, ids=[f"{ns}.{n}" for ns, n in ALL])
def test_refused_name_is_a_pytorch_2_13_name(ns, name):
    assert hasattr(PLACES[ns][1], name), f"torch has no {ns}.{name}: drop it from the table"


def test_error_is_both_not_implemented_and_attribute_error():
    assert issubclass(NotSupportedError, NotImplementedError)
    assert issubclass(NotSupportedError, AttributeError)
    assert cr.NotSupportedError is NotSupportedError
    with pytest.raises(NotImplementedError, match="sparse tensors"):
        cr.sparse_coo_tensor([[0]], [1.0])
    assert getattr(cr, "fx", None) is None


def test_tensor_refusals_on_instances_parameters_and_assignment():
    t = cr.tensor([1.0, 0.0])
    with pytest.raises(NotSupportedError, match=r"\(Tensor.to_sparse\): every chainrule"):
        t.to_sparse()
    with pytest.raises(NotSupportedError, match="storage objects"):
        nn.Parameter(cr.zeros(2)).untyped_storage()
    with pytest.raises(NotSupportedError, match="streams and events"):
        t.record_stream = None


def test_family_patterns_of_pytorch_are_all_refused():
    """Every sparse constructor, layout and conversion, and every quantization function, dtype
    and scheme of PyTorch 2.13 is in the table: a family is refused whole, not name by name."""
    quantized = ("quantize", "q_", "qint", "quint", "fake_quantize", "per_tensor_",
                 "per_channel_")
    in_torch = {n for n in dir(torch) if n.startswith(("sparse_",) + quantized)}
    in_tensor = {n for n in dir(torch.Tensor) if n.startswith(("to_sparse", "sparse_", "q_"))}
    assert in_torch <= set(REFUSED["torch"]), in_torch - set(REFUSED["torch"])
    assert in_tensor <= set(REFUSED["Tensor"]), in_tensor - set(REFUSED["Tensor"])


def test_other_missing_names_keep_the_plain_attribute_error():
    for owner, module in [(cr, "chainrule"), (nn, "chainrule.nn"),
                          (nn.functional, "chainrule.nn.functional")]:
        with pytest.raises(AttributeError, match=f"module '{module}' has no attribute 'nope'"
                           ) as info:
            _ = owner.nope
        assert not isinstance(info.value, NotSupportedError)
    with pytest.raises(AttributeError) as info:
        _ = cr.tensor(1.0).nope
    assert not isinstance(info.value, NotSupportedError)


def test_existing_names_and_tensor_behaviour_are_untouched():
    # Module __getattr__ runs only for missing names; Tensor gains descriptors, not __getattr__.
    assert "__getattr__" not in vars(cr.Tensor)
    assert cr.exp is cr.functional.exp and nn.functional.relu(cr.tensor([-1.0])).tolist() == [0.0]
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    (t * 2).sum().backward()
    assert t.grad.tolist() == [2.0, 2.0]
    assert copy.deepcopy(t).tolist() == [1.0, 2.0]
    assert pickle.loads(pickle.dumps(t.detach())).tolist() == [1.0, 2.0]
