"""Devices: ``cr.device``, ``device=`` on every factory, ``Tensor.to``, ``Module.to``, the
default device. Each line runs under PyTorch 2.13 (CPU-only) and chainrule; see ``_twin``."""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest
import torch

import chainrule as cr
from _twin import dtype_name, same, same_outcome
from chainrule.devices import DeviceUnavailableError


# ---- cr.device ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda L: L.device("cpu"), lambda L: L.device("cpu", 0), lambda L: L.device("cpu:0"),
    lambda L: L.device("cuda"), lambda L: L.device("cuda:1"), lambda L: L.device("cuda", 1),
    lambda L: L.device(type="cuda", index=3), lambda L: L.device("cuda", None),
    lambda L: L.device("mps"), lambda L: L.device("meta"), lambda L: L.device("xla"),
    lambda L: L.device(L.device("cuda:2")),
])
def test_device_values_match_pytorch(make):
    d = same(lambda: _describe(make(torch)), lambda: _describe(make(cr)))
    assert isinstance(make(cr), cr.device) and d[2] == str(make(cr))


def _describe(d):
    return d.type, d.index, str(d), repr(d)


@pytest.mark.parametrize("make", [
    lambda L: L.device(0), lambda L: L.device("gpu"), lambda L: L.device("CPU"),
    lambda L: L.device(" cpu"), lambda L: L.device(""), lambda L: L.device("cuda:x"),
    lambda L: L.device("cuda:-1"), lambda L: L.device("cuda:01"), lambda L: L.device("cuda:1:2"),
    lambda L: L.device("cuda:"), lambda L: L.device("cpu", -1), lambda L: L.device("cuda:1", 2),
    lambda L: L.device(None), lambda L: L.device(1.5), lambda L: L.device("cuda", True),
    lambda L: L.device("cuda", 1.0), lambda L: L.device("cuda", "1"),
])
def test_bad_devices_raise_what_pytorch_raises(make):
    e = same(lambda: make(torch), lambda: make(cr))
    assert "device(" in str(e)  # chainrule's message names the function


@pytest.mark.parametrize("expr", [
    lambda L: L.device("cpu") == "cpu", lambda L: "cpu" == L.device("cpu"),
    lambda L: L.device("cpu") != "cpu", lambda L: L.device("cpu") == L.device("cpu"),
    lambda L: L.device("cpu") == L.device("cpu:0"), lambda L: L.device("cpu") == 3,
    lambda L: L.device("cuda", 0) == L.device("cuda:0"), lambda L: L.device("cpu") in ["cpu"],
    lambda L: {L.device("cpu"): 1}[L.device("cpu")], lambda L: f"{L.device('cuda:3')}",
    lambda L: len({L.device("cuda:1"), L.device("cuda", 1), L.device("cuda")}),
    lambda L: L.device("cpu") < L.device("cpu"),
])
def test_device_comparison_and_hashing_match_pytorch(expr):
    same(lambda: expr(torch), lambda: expr(cr))


def test_device_is_immutable_and_pickles():
    d = cr.device("cuda:1")
    with pytest.raises(AttributeError):
        d.type = "cpu"
    assert pickle.loads(pickle.dumps(d)) == d
    assert pickle.loads(pickle.dumps(cr.strided)) is cr.strided


# ---- tensors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda L: str(L.zeros(2).device), lambda L: L.zeros(2).device == L.device("cpu"),
    lambda L: L.zeros(2).device.type, lambda L: L.zeros(2).is_cuda, lambda L: L.zeros(2).is_cpu,
    lambda L: L.zeros(2).is_meta, lambda L: L.zeros(2).get_device(),
    lambda L: L.zeros(2).is_pinned(), lambda L: L.zeros(2).layout == L.strided,
    lambda L: L.zeros(2).pin_memory(),
])
def test_tensor_device_queries_match_pytorch(expr):
    same(lambda: expr(torch), lambda: expr(cr))


def _values(t):
    return (tuple(t.shape), dtype_name(t.dtype), t.requires_grad, np.asarray(t.tolist()).tolist())


# Every factory: the CPU accepted (by name, index, device object), CUDA and MPS refused, the
# PyTorch keywords accepted at their defaults.
FACTORIES = {
    "zeros": lambda L, **k: L.zeros(2, 3, **k), "ones": lambda L, **k: L.ones(2, **k),
    "empty": lambda L, **k: L.empty(2, **k), "full": lambda L, **k: L.full((2,), 1.5, **k),
    "arange": lambda L, **k: L.arange(0.0, 3.0, **k),
    "linspace": lambda L, **k: L.linspace(0, 1, 5, **k),
    "logspace": lambda L, **k: L.logspace(0, 2, 3, **k), "eye": lambda L, **k: L.eye(2, 3, **k),
    "rand": lambda L, **k: L.rand(2, **k), "randn": lambda L, **k: L.randn(2, **k),
    "randint": lambda L, **k: L.randint(0, 1, (2,), **k),
    "randperm": lambda L, **k: L.randperm(1, **k),
    "zeros_like": lambda L, **k: L.zeros_like(L.ones(2), **k),
    "ones_like": lambda L, **k: L.ones_like(L.ones(2), **k),
    "empty_like": lambda L, **k: L.empty_like(L.ones(2), **k),
    "full_like": lambda L, **k: L.full_like(L.ones(2), 4, **k),
    "rand_like": lambda L, **k: L.rand_like(L.ones(2), **k),
    "randn_like": lambda L, **k: L.randn_like(L.ones(2), **k),
    "randint_like": lambda L, **k: L.randint_like(L.ones(2), 0, 1, **k),
    "tensor": lambda L, **k: L.tensor([1.0, 2.0], **k),
    "new_zeros": lambda L, **k: L.ones(2).new_zeros(2, 3, **k),
    "new_ones": lambda L, **k: L.ones(2).new_ones((3,), **k),
    "new_empty": lambda L, **k: L.ones(2).new_empty(2, **k),
    "new_full": lambda L, **k: L.ones(2).new_full((2,), 3, **k),
    "new_tensor": lambda L, **k: L.ones(2).new_tensor([1, 2], **k),
}
NO_LAYOUT = {"tensor", "new_tensor"}
RANDOM = {"empty", "rand", "randn", "empty_like", "rand_like", "randn_like", "new_empty"}


KEYWORDS = [
    {"device": "cpu"}, {"device": "cpu:0"}, {"device": "cpu:1"},
    {"device": "cuda"}, {"device": "cuda:1"}, {"device": "mps"}, {"device": 0},
    {"device": "gpu"}, {"pin_memory": False}, {"pin_memory": True}, {"layout": "strided"},
    {"requires_grad": True}, {"dtype": "float64", "device": "cpu"},
]
# PyTorch's tensor() and new_tensor() have no layout= (new_tensor no pin_memory= either): a
# TypeError in both libraries, checked in test_keywords_pytorch_lacks_are_refused_too
CASES = [(name, kw) for name in FACTORIES for kw in KEYWORDS
         if not ((name in NO_LAYOUT and "layout" in kw)
                 or (name == "new_tensor" and "pin_memory" in kw))]


@pytest.mark.parametrize("name, kw", CASES)
def test_factories_place_and_refuse_as_pytorch(name, kw):
    def run(L):
        k = dict(kw)
        if "layout" in k:
            k["layout"] = L.strided
        if "device" in k and isinstance(k["device"], str) and k["device"].startswith("cpu"):
            k["device"] = L.device(k["device"])  # a device object, not only a string
        if "dtype" in k:
            k["dtype"] = getattr(L, k["dtype"])
        return FACTORIES[name](L, **k)

    if name in ("randint", "randperm") and kw.get("requires_grad"):
        # an integer tensor cannot require grad: both refuse (chainrule: TypeError, PyTorch:
        # RuntimeError, the project's existing choice for requires_grad_ on integers)
        with pytest.raises((TypeError, RuntimeError)):
            run(cr)
        return
    def convert(t):
        return _values(t)[:3] if name in RANDOM else _values(t)

    result = same(lambda: run(torch), lambda: run(cr), convert)
    if isinstance(result, DeviceUnavailableError):
        assert "chainrule computes on the CPU only" in str(result)
        assert f"{name}()" in str(result)


@pytest.mark.parametrize("call", [lambda: cr.zeros(2, layout="sparse"),
                                  lambda: cr.zeros_like(cr.ones(1), layout=object())])
def test_other_layouts_are_refused_clearly(call):
    with pytest.raises(ValueError, match="layout=.*strided"):
        call()


@pytest.mark.parametrize("call", [
    lambda L: L.tensor([1.0], layout=L.strided), lambda L: L.as_tensor([1.0], pin_memory=False),
    lambda L: L.as_tensor([1.0], requires_grad=True),
    lambda L: L.ones(2).new_tensor([1.0], pin_memory=False),
])
def test_keywords_pytorch_lacks_are_refused_too(call):
    same(lambda: call(torch), lambda: call(cr))


@pytest.mark.parametrize("dev", ["cpu", "cuda", "cuda:0", "meta"])
def test_as_tensor_device(dev):
    same_outcome(lambda L: _values(L.as_tensor([1.0, 2.0], device=dev)))


def test_logspace_matches_pytorch():
    for args, kw in [((0, 2, 3), {}), ((0, 2, 3), {"base": 2}), ((-1, 1, 5), {}),
                     ((0, 2, 3), {"dtype": "int64"}), ((0, 3, 4), {"dtype": "float64"})]:
        def run(L, args=args, kw=kw):
            k = {n: getattr(L, v) if n == "dtype" else v for n, v in kw.items()}
            return L.logspace(*args, **k)

        c, t = run(cr), run(torch)
        assert dtype_name(c.dtype) == dtype_name(t.dtype)
        np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-6)


def test_randint_like_follows_the_input_dtype():
    same_outcome(lambda L: dtype_name(L.randint_like(L.zeros(2), 5).dtype))
    same_outcome(lambda L: dtype_name(L.randint_like(L.zeros(2), 5, dtype=L.int64).dtype))
    x = cr.randint_like(cr.zeros(1000), 2, 5)
    assert set(x.tolist()) == {2.0, 3.0, 4.0}


# ---- new_*: PyTorch's size forms ---------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda L: L.ones(2).new_zeros(3), lambda L: L.ones(2).new_zeros(3, 4),
    lambda L: L.ones(2).new_zeros((3, 4)), lambda L: L.ones(2).new_zeros([3, 4]),
    lambda L: L.ones(2).new_zeros(()), lambda L: L.ones(2).new_zeros(size=(3,)),
    lambda L: L.ones(2).new_ones(3, 4, dtype=L.int64), lambda L: L.ones(2).new_empty(0, 2),
    lambda L: L.ones(2).new_full((2,), 3), lambda L: L.ones(2).new_full([2], 3),
    lambda L: L.ones(2, dtype=L.int64).new_full((2,), 3.5),
    lambda L: L.ones(2).new_full(size=(2,), fill_value=1),
    lambda L: L.ones(2).new_full((2,), fill_value=L.tensor(3.0)),
    lambda L: L.ones(2).new_tensor([1, 2]), lambda L: L.ones(2, dtype=L.int64).new_tensor([1.5]),
    lambda L: L.ones(2).new_tensor([1, 2], requires_grad=True),
    lambda L: L.ones(2, requires_grad=True).new_zeros(2),
    lambda L: L.ones(2).new_zeros(3, requires_grad=True),
    lambda L: L.ones(2).new_zeros(),
    lambda L: L.ones(2).new_full(2, 3), lambda L: L.ones(2).new_full((2,), 3, 4),
])
def test_new_factories_match_pytorch(call):
    same(lambda: call(torch), lambda: call(cr), _values)


def test_new_factories_use_the_tensors_device_not_the_default():
    x = cr.ones(2)
    with cr.device("cuda"):
        assert x.new_zeros(2).device == cr.device("cpu")
        with pytest.raises(DeviceUnavailableError):
            x.new_zeros(2, device="cuda")


# ---- Tensor.to and friends ----------------------------------------------------------------------
def _to_outcome(t):
    return (dtype_name(t.dtype), str(t.device), t.requires_grad, t.tolist())


@pytest.mark.parametrize("call", [
    lambda L, x: x.to("cpu"), lambda L, x: x.to(L.device("cpu")), lambda L, x: x.to("cpu:0"),
    lambda L, x: x.to("cpu", non_blocking=True), lambda L, x: x.to(L.float64),
    lambda L, x: x.to("cpu", L.float64), lambda L, x: x.to(device="cpu", dtype=L.int64),
    lambda L, x: x.to(L.zeros(1, dtype=L.float64)), lambda L, x: x.to(None),
    lambda L, x: x.to(None, L.float64), lambda L, x: x.to("cpu", dtype=L.float64),
    lambda L, x: x.to(device=None, dtype=None), lambda L, x: x.to(L.float64, True, True),
    lambda L, x: x.to("cpu", L.float64, True, True),
    lambda L, x: x.to(L.float64, non_blocking=True, copy=True),
    lambda L, x: x.cpu(), lambda L, x: x.double().float(),
    # refused
    lambda L, x: x.to("cuda"), lambda L, x: x.to("cuda:1"), lambda L, x: x.to(L.device("cuda")),
    lambda L, x: x.to("cuda", L.float64), lambda L, x: x.to(device="cuda"), lambda L, x: x.to(1),
    lambda L, x: x.to("mps"), lambda L, x: x.to("gpu"), lambda L, x: x.cuda(),
    lambda L, x: x.cuda(1), lambda L, x: x.cuda(device="cuda:0"), lambda L, x: x.cpu(1),
    lambda L, x: x.to(L.float64, "cpu"), lambda L, x: x.to("cpu", "cpu"),
    lambda L, x: x.to(L.float16, L.float32), lambda L, x: x.to(foo=1),
    lambda L, x: x.to("cpu", L.float64, dtype=L.float64),
])
def test_tensor_to_matches_pytorch(call):
    def run(L):
        return call(L, L.tensor([1.5, -2.0], requires_grad=True))

    e = same(lambda: run(torch), lambda: run(cr), _to_outcome)
    if isinstance(e, DeviceUnavailableError):
        assert "chainrule computes on the CPU only" in str(e)


@pytest.mark.parametrize("call, same", [
    (lambda L, x: x.to("cpu"), True), (lambda L, x: x.cpu(), True),
    (lambda L, x: x.to("cpu", non_blocking=True), True), (lambda L, x: x.to(x), True),
    (lambda L, x: x.to(x, non_blocking=True), True), (lambda L, x: x.to(x.dtype), True),
    (lambda L, x: x.to("cpu", copy=True), False), (lambda L, x: x.to(x, copy=True), False),
    (lambda L, x: x.to(L.float32, copy=True), False), (lambda L, x: x.to(x, True, True), False),
])
def test_to_returns_self_unless_copy(call, same):
    for L in (torch, cr):
        x = L.tensor([1.0, 2.0])
        assert (call(L, x) is x) is same


def test_to_copy_is_differentiable():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cpu", copy=True)
    assert y is not x and y.grad_fn is not None
    (y * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    y.detach().zero_()
    assert x.tolist() == [1.0, 2.0]  # a copy: writes do not reach x


def test_tensor_type():
    assert torch.zeros(2).type() == "torch.FloatTensor"  # chainrule names itself instead
    assert cr.zeros(2).type() == "chainrule.FloatTensor"
    assert cr.zeros(2, dtype=cr.int64).type() == "chainrule.LongTensor"
    same_outcome(lambda L: dtype_name(L.zeros(2).type(L.float64).dtype))
    same_outcome(lambda L: dtype_name(L.zeros(2).type("torch.DoubleTensor").dtype))
    same_outcome(lambda L: dtype_name(L.zeros(2).type("torch.LongTensor").dtype))
    e = same_outcome(lambda L: L.zeros(2).type("torch.cuda.FloatTensor"))
    assert isinstance(e, DeviceUnavailableError)


def test_to_accepts_dtype_names_too():
    # a deliberate extra: NumPy's dtype names as strings (PyTorch takes strings as devices)
    assert cr.ones(2).to("float64").dtype == np.float64
    assert cr.ones(2).to("cpu", "float64").dtype == np.float64


# ---- modules ------------------------------------------------------------------------------------
def _module_outcome(m):
    return sorted((n, dtype_name(p.dtype)) for n, p in m.state_dict().items())


@pytest.mark.parametrize("call", [
    lambda L, m: m.to("cpu"), lambda L, m: m.to(L.device("cpu"), L.float64),
    lambda L, m: m.to(L.zeros(1, dtype=L.float64)), lambda L, m: m.to(dtype=L.float64),
    lambda L, m: m.to("cpu", non_blocking=True), lambda L, m: m.to("cpu", L.float64, True),
    lambda L, m: m.to(L.float64, True), lambda L, m: m.to(L.float64, non_blocking=True),
    lambda L, m: m.to(), lambda L, m: m.cpu(), lambda L, m: m.double().float(),
    lambda L, m: m.half(), lambda L, m: m.double(), lambda L, m: m.type(L.float64),
    lambda L, m: m.type("torch.DoubleTensor"),
    # refused
    lambda L, m: m.to("cuda"), lambda L, m: m.to("cuda:0"), lambda L, m: m.to(device="cuda"),
    lambda L, m: m.to("mps"), lambda L, m: m.to(1), lambda L, m: m.cuda(), lambda L, m: m.cuda(1),
    lambda L, m: m.xpu(), lambda L, m: m.ipu(), lambda L, m: m.to(L.int64),
    lambda L, m: m.to("cpu", "cpu"), lambda L, m: m.to(foo=3), lambda L, m: m.to("cpu", copy=True),
    lambda L, m: m.type(L.int64),
])
def test_module_to_matches_pytorch(call):
    def run(L):
        m = L.nn.Sequential(L.nn.Linear(2, 3), L.nn.BatchNorm1d(3))
        out = call(L, m)
        assert out is m
        return m

    e = same(lambda: run(torch), lambda: run(cr), _module_outcome)
    if isinstance(e, DeviceUnavailableError):
        assert "chainrule computes on the CPU only" in str(e)


def test_module_to_keeps_the_same_parameter_objects_and_grads():
    m = cr.nn.Linear(2, 2)
    w = m.weight
    m(cr.ones(1, 2)).sum().backward()
    m.to("cpu", cr.float64)
    assert m.weight is w and w.dtype == np.float64 and w.grad.dtype == np.float64


def test_module_bfloat16_is_refused_clearly():
    with pytest.raises(TypeError, match="bfloat16"):
        cr.nn.Linear(2, 2).bfloat16()


# ---- the default device -------------------------------------------------------------------------
def test_device_context_sets_the_default_for_factories_like_pytorch():
    for L in (torch, cr):
        with L.device("cpu") as d:
            assert d == L.device("cpu") and L.zeros(1).device == L.device("cpu")
    with pytest.raises(AssertionError):  # PyTorch's kind, and chainrule's error is one
        with cr.device("cuda"):
            cr.zeros(2)
    x = cr.ones(2)
    with cr.device("cuda"):
        with pytest.raises(DeviceUnavailableError, match="default device"):
            cr.tensor([1.0])
        with pytest.raises(DeviceUnavailableError):
            cr.arange(3)
        with cr.device("cpu"):  # the innermost block wins
            assert cr.ones(1).tolist() == [1.0]
        assert x.to("cpu") is x and (x * 2).device == cr.device("cpu")  # existing tensors
    assert cr.zeros(1).device == cr.device("cpu")


def test_set_default_device_per_thread_like_pytorch():
    seen = {}
    try:
        cr.set_default_device("cuda")
        with pytest.raises(DeviceUnavailableError):
            cr.zeros(1)
        with pytest.raises(DeviceUnavailableError):
            cr.get_default_device()  # PyTorch raises here too
        t = threading.Thread(target=lambda: seen.setdefault("d", cr.get_default_device()))
        t.start()
        t.join(10)
    finally:
        cr.set_default_device(None)
    assert seen == {"d": cr.device("cpu")}
    assert cr.get_default_device() == cr.device("cpu") and cr.zeros(1).shape == (1,)
    with pytest.raises(RuntimeError):
        cr.set_default_device("gpu")


def test_the_classic_preamble_runs():
    device = cr.device("cuda" if cr.cuda.is_available() else "cpu")
    use_cuda = not False and cr.cuda.is_available()
    kwargs = {"num_workers": 1, "pin_memory": True} if use_cuda else {}
    model = cr.nn.Linear(4, 2).to(device)
    x = cr.randn(3, 4).to(device)
    y = cr.tensor([0, 1, 1], device=device)
    loss = cr.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    assert device == cr.device("cpu") and not use_cuda and kwargs == {}
    assert model.weight.grad.device == device
    mps = cr.device("mps") if cr.backends.mps.is_available() else cr.device("cpu")
    assert mps.type == "cpu"


@pytest.mark.parametrize("make", [
    lambda L, d: L.nn.Linear(2, 3, device=d), lambda L, d: L.nn.Linear(2, 3, True, d),
    lambda L, d: L.nn.Conv2d(1, 2, 3, device=d), lambda L, d: L.nn.LSTM(2, 3, device=d),
    lambda L, d: L.nn.Embedding(4, 2, device=d), lambda L, d: L.nn.LayerNorm(3, device=d),
    lambda L, d: L.nn.BatchNorm1d(3, device=d),
])
@pytest.mark.parametrize("dev", ["cpu", "cuda", "cuda:1", "mps"])
def test_layers_built_on_a_device_match_pytorch(make, dev):
    e = same(lambda: _module_outcome(make(torch, dev)), lambda: _module_outcome(make(cr, dev)))
    if isinstance(e, Exception):
        assert "chainrule computes on the CPU only" in str(e)


def test_layers_follow_the_default_device_like_pytorch():
    for L in (torch, cr):
        with L.device("cpu"):
            assert L.nn.Linear(2, 2).weight.device == L.device("cpu")
    with cr.device("cuda"):
        with pytest.raises(DeviceUnavailableError, match="Linear.*default device"):
            cr.nn.Linear(2, 2)


def test_user_modules_with_a_device_argument_are_left_alone():
    class Model(cr.nn.Module):
        def __init__(self, device="auto"):  # the user's own meaning
            super().__init__()
            self.device = device
            self.fc = cr.nn.Linear(2, 2)

    assert Model("auto").device == "auto"
