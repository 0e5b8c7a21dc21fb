"""Sequential, ModuleList and ModuleDict."""

from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_sequential_indexing_len_append_and_forward():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert len(seq) == 2 and isinstance(seq[-1], nn.ReLU)
    seq.append(nn.Linear(3, 1))
    assert len(seq) == 3 and seq(cr.ones(5, 2)).shape == (5, 1)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is seq[1]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    del seq[0]
    assert [n for n, _ in seq.named_parameters()] == ["1.weight", "1.bias"]
    seq.insert(0, nn.Linear(2, 3))
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    with pytest.raises(TypeError, match="not a Module"):
        seq.append(lambda x: x)


def test_sequential_from_ordered_dict_keeps_names():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert [n for n, _ in seq.named_parameters()] == ["fc.weight", "fc.bias"]
    assert seq.fc is seq[0]
    assert "(fc): Linear" in repr(seq)


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.ReLU())
    layers += [nn.Linear(2, 1)]
    assert len(layers) == 5 and len(list(layers.parameters())) == 8
    assert [type(m).__name__ for m in layers] == ["Linear"] * 3 + ["ReLU", "Linear"]
    assert "4.weight" in dict(layers.named_parameters())
    with pytest.raises(NotImplementedError):
        layers(cr.ones(1))


def test_module_dict():
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    heads["c"] = nn.ReLU()
    assert list(heads) == ["a", "b", "c"] and len(heads) == 3 and "b" in heads
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight",
                                                        "b.bias"]
    assert heads.pop("a") is not None and list(heads.keys()) == ["b", "c"]
    with pytest.raises(KeyError, match="no key 'zzz'"):
        heads["zzz"]
    with pytest.raises(KeyError, match="already exists"):
        heads["train"] = nn.ReLU()  # would shadow Module.train
    heads.train(False)
    assert not heads["b"].training


def test_sequential_attribute_assignment_registers_and_runs_the_module():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3))]))
    seq.act = nn.ReLU()
    assert [n for n, _ in seq.named_children()] == ["fc", "act"] and len(seq) == 2
    assert (seq(cr.randn(4, 2)).detach().numpy() >= 0).all()
    seq.fc = nn.Linear(2, 5)  # replaced in place, keeps its position
    assert seq[0] is seq.fc and seq(cr.randn(1, 2)).shape == (1, 5)
    del seq.act
    assert len(seq) == 1


def test_sequential_setitem_replaces_a_named_child_in_place():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    new = nn.Linear(2, 3)
    seq[0] = new
    assert seq.fc is new and [n for n, _ in seq.named_children()] == ["fc", "act"]
    assert len(list(seq.parameters())) == 2
    assert seq[np.int64(1)] is seq.act
