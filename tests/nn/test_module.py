"""Module mechanics: registration, names, modes, gradients, hooks, repr, dtype, state dicts."""

import copy

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(cr.ones(4))
        self.register_buffer("steps", cr.zeros((), dtype=cr.int64))
        self.register_buffer("cache", cr.zeros(2), persistent=False)
        self.act = nn.ReLU()
        self.not_a_buffer = cr.zeros(5)

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(4, 2, bias=False)

    def forward(self, x):
        return self.head(self.block(x))


def test_parameter_is_a_tensor_that_requires_grad_and_shares_memory():
    t = cr.zeros(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, cr.Tensor) and p.requires_grad and p.is_leaf
    assert p.detach().numpy() is t.detach().numpy()
    assert not nn.Parameter(cr.zeros(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert type(p * 2) is cr.Tensor


def test_named_parameters_buffers_and_modules_use_dotted_names_in_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "block.scale", "block.fc.weight", "block.fc.bias", "head.weight"]
    assert [n for n, _ in net.named_buffers()] == ["block.steps", "block.cache"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.act", "head"]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert len(list(net.parameters(recurse=False))) == 0
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Block", "Linear", "ReLU",
                                                          "Linear"]
    assert net.get_submodule("block.fc") is net.block.fc
    assert net.get_parameter("block.fc.bias") is net.block.fc.bias
    with pytest.raises(AttributeError, match="nope"):
        net.get_submodule("block.nope")


def test_shared_parameters_are_listed_once():
    a = nn.Linear(2, 2)
    seq = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(seq.parameters())) == 2
    b = nn.Linear(2, 2)
    b.weight = a.weight
    assert len(list(nn.Sequential(a, b).parameters())) == 3


def test_assignment_rules():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        m.weight = cr.zeros(2, 2)
    m.bias = None
    assert [n for n, _ in m.named_parameters()] == ["weight"]

    class Early(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    b = Block()
    with pytest.raises(TypeError, match="buffer 'steps'"):
        b.steps = 3
    b.steps = cr.ones((), dtype=cr.int64)
    assert b.state_dict()["steps"].item() == 1
    with pytest.raises(KeyError):
        b.register_buffer("fc", cr.zeros(1))
    with pytest.raises(TypeError):
        b.register_parameter("w", cr.zeros(1))
    b.register_parameter("w", nn.Parameter(cr.zeros(1)))
    assert "w" in dict(b.named_parameters())
    del b.fc
    assert "fc.weight" not in dict(b.named_parameters())


def test_train_eval_propagate():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.train(False)
    assert not net[1][0].training


def test_zero_grad_to_none_or_zeros():
    net = Net()
    net(cr.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.detach().numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_freezes_parameters():
    net = Net()
    net.block.requires_grad_(False)
    net(cr.randn(2, 3)).sum().backward()
    assert net.block.fc.weight.grad is None and net.head.weight.grad is not None


def test_apply_visits_children_before_parent():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Block", "Linear", "Net"]


def test_forward_hooks_and_handles():
    lin = nn.Linear(3, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: calls.append("pre"))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(("post", out.shape)))
    lin(cr.ones(4, 3))
    assert calls == ["pre", ("post", (4, 2))]
    h1.remove()
    h2.remove()
    lin(cr.ones(4, 3))
    assert len(calls) == 2
    # Returned values replace the args / the output.
    with lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,)):
        with lin.register_forward_hook(lambda m, args, out: out + 100):
            y = lin(cr.ones(1, 3))
    np.testing.assert_allclose(y.detach().numpy(), lin.bias.detach().numpy()[None] + 100, rtol=1e-6)
    assert not lin._hooked
    h2.remove()  # removing twice is harmless


def test_forward_missing_raises():
    with pytest.raises(NotImplementedError, match="Empty"):
        type("Empty", (nn.Module,), {})()(1)


def test_repr_is_pytorch_like():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Dropout(0.2)))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.2, inplace=False)\n"
        "  )\n"
        ")")
    assert repr(nn.BatchNorm1d(3)) == ("BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, "
                                       "bias=True, track_running_stats=True)")


def test_to_double_and_float_keep_parameter_identity():
    net = Net()
    w = net.block.fc.weight
    net.double()
    assert net.block.fc.weight is w and w.dtype == np.float64
    assert net.block.steps.dtype == np.int64  # integer buffers keep their dtype
    assert net(cr.randn(2, 3, dtype=cr.float64)).dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    with pytest.raises(TypeError):
        net.to(cr.int64)
    with pytest.raises(RuntimeError, match="device 'cuda:3' is not available"):
        net.to("cuda:3")


def test_state_dict_contents_and_round_trip():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == ["block.scale", "block.steps", "block.fc.weight", "block.fc.bias",
                        "head.weight"]  # the non-persistent buffer is left out
    assert all(not v.requires_grad for v in sd.values())
    # shares memory
    assert sd["block.fc.weight"].detach().numpy() is a.block.fc.weight.detach().numpy()
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = cr.randn(4, 3)
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    # plain arrays load too, and loading copies (no aliasing)
    b.load_state_dict({k: v.detach().numpy() * 0 for k, v in sd.items()})
    assert not b.block.fc.weight.detach().numpy().any() and a.block.fc.weight.detach().numpy().any()


def test_load_state_dict_errors_name_missing_unexpected_and_shapes():
    net = Net()
    sd = dict(net.state_dict())
    del sd["head.weight"]
    sd["extra.bias"] = cr.zeros(1)
    with pytest.raises(ValueError) as e:
        net.load_state_dict(sd)
    msg = str(e.value)
    assert "Missing key(s)" in msg and "'head.weight'" in msg
    assert "Unexpected key(s)" in msg and "'extra.bias'" in msg
    assert isinstance(e.value, RuntimeError)
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["head.weight"] and res.unexpected_keys == ["extra.bias"]
    bad = net.state_dict()
    bad["block.fc.weight"] = cr.zeros(3, 3)
    with pytest.raises(ValueError, match=r"size mismatch for block.fc.weight.*\(3, 3\).*\(4, 3\)"):
        net.load_state_dict(bad, strict=False)


def test_deepcopy_gives_independent_parameters():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    twin = copy.deepcopy(net)
    assert isinstance(twin[0].weight, nn.Parameter)
    twin[0].weight.detach().numpy()[...] = 0
    assert net[0].weight.detach().numpy().any()
    assert len(twin) == 2 and twin[1] is not net[1]
    assert [n for n, _ in twin.named_parameters()] == [n for n, _ in net.named_parameters()]


def test_train_calls_each_childs_own_train():
    class FrozenNorm(nn.BatchNorm1d):
        def train(self, mode=True):
            return super().train(False)  # always evaluates with running statistics

    net = nn.Sequential(nn.Linear(2, 2), FrozenNorm(2))
    net.train()
    assert net.training and net[0].training and not net[1].training
