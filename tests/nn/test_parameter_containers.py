"""ParameterList and ParameterDict: registration, names, state dicts and dict/list behaviour
as in PyTorch."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn


class _Holder(nn.Module):
    def __init__(self, lib, tensor):
        super().__init__()
        self.plist = lib.ParameterList([tensor(np.ones((2, 3))), lib.Parameter(tensor(
            np.zeros(3)))])
        self.pdict = lib.ParameterDict({"scale": tensor(np.ones(4)), "shift": tensor(
            np.zeros(4))})


class _TorchHolder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.plist = torch.nn.ParameterList([torch.ones(2, 3), torch.nn.Parameter(torch.zeros(3))])
        self.pdict = torch.nn.ParameterDict({"scale": torch.ones(4), "shift": torch.zeros(4)})


def test_names_and_state_dict_match_torch_and_load():
    ours, theirs = _Holder(nn, cr.tensor), _TorchHolder()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    state = {k: v.detach().numpy() + 1.5 for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    np.testing.assert_array_equal(ours.pdict["shift"].detach().numpy(), np.full(4, 1.5))
    assert all(p.requires_grad for p in ours.parameters())


def test_parameter_list_behaves_like_a_list():
    t = cr.zeros(2)
    ps = nn.ParameterList([t])
    assert isinstance(ps[0], nn.Parameter) and ps[0].shape == (2,)
    ps.append(cr.ones(3)).extend([cr.ones(1), cr.ones(4)])
    ps += [cr.ones(5)]
    assert len(ps) == 5 and [p.shape[0] for p in ps] == [2, 3, 1, 4, 5]
    assert ps[-1].shape == (5,) and len(ps[1:3]) == 2
    ps[1] = cr.full((3,), 7.0)
    assert [n for n, _ in ps.named_parameters()] == ["0", "1", "2", "3", "4"]
    assert ps[1].tolist() == [7.0, 7.0, 7.0]
    with pytest.raises(IndexError, match="out of range"):
        ps[5]
    with pytest.raises(TypeError, match="iterable"):
        ps.extend(cr.ones(2))
    assert "ParameterList(\n    (0): Parameter containing: [float32 of size 2]" in repr(ps)


def test_parameter_dict_behaves_like_a_dict():
    pd = nn.ParameterDict([("a", cr.ones(1)), ("b", cr.zeros(2))])
    pd["c"] = cr.ones(3)
    pd["a"] = cr.full((1,), 2.0)
    assert pd.keys() == ["a", "b", "c"] and "b" in pd and len(pd) == 3
    assert [n for n, _ in pd.named_parameters()] == ["a", "b", "c"]
    assert pd["a"].tolist() == [2.0] and pd.get("zz") is None
    assert pd.pop("b").shape == (2,) and pd.keys() == ["a", "c"]
    assert pd.popitem()[0] == "c" and list(pd) == ["a"]
    assert pd.setdefault("d", cr.ones(2)).shape == (2,)
    merged = pd | {"e": cr.ones(1)}
    assert merged.keys() == ["a", "d", "e"] and pd.keys() == ["a", "d"]
    assert nn.ParameterDict.fromkeys(["x", "y"], cr.ones(1)).keys() == ["x", "y"]
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []
    with pytest.raises(KeyError, match="has no key 'q'"):
        pd["q"]
    with pytest.raises(TypeError, match="keys must be str"):
        pd[3] = cr.ones(1)
    with pytest.raises(KeyError, match="contain no '.'"):
        pd["a.b"] = cr.ones(1)
