"""cr.save(model) / cr.load: whole modules as data, rebuilt only from allow-listed classes,
never by calling ``__init__`` and never by importing what a file names."""

import io
import json
import struct
import sys

import numpy as np
import pytest
import safetensors.numpy
from st_files import join, reseal, split

import chainrule as cr
import chainrule.nn as nn
import chainrule.serialization
from chainrule.serialization import UnsafeGlobalError

INIT_CALLS = []


class Net(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        INIT_CALLS.append(width)
        self.features = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width),
                                      nn.ReLU(), nn.MaxPool2d(2))
        self.heads = nn.ModuleDict({"a": nn.Linear(width * 16, 3), "b": nn.Linear(width * 16, 2)})
        self.extra = nn.ModuleList([nn.Dropout(0.25)])
        self.register_buffer("calls", cr.zeros((), dtype=cr.int64))
        self.register_buffer("cache", cr.full((3,), 2.0), persistent=False)
        self.width, self.scale, self.tag, self.flag, self.nothing = width, 0.5, "net", True, None
        self.shape, self.mixed, self.dtype = (1, 8, 8), [1, 2.5, "x", None, (2, 3)], cr.float32
        self.act = nn.functional.relu

    def forward(self, x):
        self.calls += 1
        h = self.act(self.features(x)).flatten(1) * self.scale
        return self.extra[0](cr.cat([self.heads["a"](h), self.heads["b"](h)], 1))


def batch(seed):
    rng = np.random.default_rng(seed)
    return (cr.tensor(rng.standard_normal((5, 1, 8, 8)).astype(np.float32)),
            cr.tensor(rng.integers(0, 5, 5)))


def sgd_steps(model, seeds):
    opt = cr.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1,
                       momentum=0.9)
    for s in seeds:
        cr.manual_seed(s)  # the same dropout masks for both models
        x, y = batch(s)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


def saved(obj) -> io.BytesIO:
    buf = io.BytesIO()
    cr.save(obj, buf)
    buf.seek(0)
    return buf


def rewrite(buf: io.BytesIO, edit) -> io.BytesIO:
    """Edit the structure tree of a cr.save file (and reseal its checksum, as a forger would)."""
    header, data = split(buf.getvalue())
    meta = header["__metadata__"]
    tree = json.loads(meta["chainrule.structure"])
    edit(tree)
    meta["chainrule.structure"] = json.dumps(tree)
    return io.BytesIO(join(reseal(header, data), data))


@pytest.fixture(autouse=True)
def _clean_allow_list():
    cr.serialization.clear_safe_globals()
    yield
    cr.serialization.clear_safe_globals()


@pytest.fixture
def trained():
    net = Net()
    sgd_steps(net, [1, 2])
    net.heads["b"].requires_grad_(False)  # a frozen head
    net.eval()
    net.features[1].train()  # mixed modes survive too
    return net


def test_a_user_module_round_trips_and_trains_on(tmp_path, trained):
    path = tmp_path / "net.safetensors"
    cr.save(trained, path)
    INIT_CALLS.clear()
    with cr.serialization.safe_globals([Net]):
        loaded = cr.load(path)
    assert INIT_CALLS == []  # rebuilt from data, __init__ never ran
    assert type(loaded) is Net and loaded is not trained
    # state
    want, got = trained.state_dict(), loaded.state_dict()
    assert list(got) == list(want)
    for k in want:
        assert got[k].dtype == want[k].dtype
        np.testing.assert_array_equal(got[k]._data, want[k]._data, err_msg=k)
    np.testing.assert_array_equal(loaded.cache._data, [2.0, 2.0, 2.0])  # non-persistent buffer
    assert loaded._buffer_names == {"calls": True, "cache": False}
    assert [m.training for m in loaded.modules()] == [m.training for m in trained.modules()]
    assert [(n, p.requires_grad) for n, p in loaded.named_parameters()] == [
        (n, p.requires_grad) for n, p in trained.named_parameters()]
    assert all(type(p) is nn.Parameter for p in loaded.parameters())
    # plain attributes, exactly
    for attr in ("width", "scale", "tag", "flag", "nothing", "shape", "mixed", "dtype", "act"):
        assert getattr(loaded, attr) == getattr(trained, attr), attr
        assert type(getattr(loaded, attr)) is type(getattr(trained, attr)), attr
    assert loaded.act is nn.functional.relu
    assert list(loaded.heads.keys()) == ["a", "b"] and len(loaded.features) == 4
    assert loaded.features[0] is loaded.features._items[0]  # containers keep one object
    # behaviour
    x, _ = batch(7)
    np.testing.assert_array_equal(loaded(x)._data, trained(x)._data)
    # independent copies that keep training identically
    for m in (trained, loaded):
        m.train()
    sgd_steps(trained, [3, 4])
    sgd_steps(loaded, [3, 4])
    for (k, a), b in zip(trained.state_dict().items(), loaded.state_dict().values()):
        np.testing.assert_array_equal(b._data, a._data, err_msg=k)
    assert not np.shares_memory(loaded.heads["a"].weight._data, trained.heads["a"].weight._data)


def test_the_file_is_plain_safetensors(tmp_path, trained):
    path = tmp_path / "net.safetensors"
    cr.save(trained, path)
    arrays = safetensors.numpy.load_file(path)
    assert set(arrays) == set(trained.state_dict()) | {"cache"}
    np.testing.assert_array_equal(arrays["heads.a.weight"], trained.heads["a"].weight._data)
    (n,) = struct.unpack("<Q", path.read_bytes()[:8])
    meta = json.loads(path.read_bytes()[8:8 + n])["__metadata__"]
    assert meta["chainrule.format"] == "2"
    assert "pickle" not in path.read_bytes().decode("latin1").lower()


def test_refused_until_allow_listed_with_the_exact_call(trained):
    buf = saved(trained)
    with pytest.raises(UnsafeGlobalError) as info:
        cr.load(buf)
    assert info.value.name == f"{Net.__module__}.Net"
    assert "cr.serialization.add_safe_globals([Net])" in str(info.value)
    assert "safe_globals([Net])" in str(info.value) and "never imports" in str(info.value)
    buf.seek(0)
    cr.serialization.add_safe_globals([Net])
    assert cr.serialization.get_safe_globals() == [Net]
    assert type(cr.load(buf)) is Net
    cr.serialization.clear_safe_globals()
    buf.seek(0)
    with pytest.raises(UnsafeGlobalError):
        cr.load(buf, weights_only=False)  # weights_only changes nothing


def test_safe_globals_is_scoped_and_renamable(trained):
    cr.serialization.add_safe_globals([sgd_steps])
    with cr.serialization.safe_globals([Net]):
        assert cr.serialization.get_safe_globals() == [sgd_steps, Net]
        cr.serialization.add_safe_globals([batch])  # added inside the block: it stays
    assert cr.serialization.get_safe_globals() == [sgd_steps, batch]
    # A class that moved: allow it under the name the file uses.
    def move(tree):
        tree["module"]["class"] = "oldpkg.models.Net"
    buf = rewrite(saved(trained), move)
    with pytest.raises(UnsafeGlobalError, match="oldpkg.models.Net"):
        cr.load(buf)
    assert "oldpkg" not in sys.modules
    buf.seek(0)
    with cr.serialization.safe_globals([(Net, "oldpkg.models.Net")]):
        assert type(cr.load(buf)) is Net


@pytest.mark.parametrize("bad", ["Net", [3], [(Net, 3)], [(Net,)], [cr.ones(1)]])
def test_allow_list_rejects_non_classes(bad):
    with pytest.raises(TypeError):
        cr.serialization.add_safe_globals(bad)


def test_serialization_module_has_torchs_names():
    for name in ("add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals",
                 "load", "save", "UnpicklingError", "UnsafeGlobalError"):
        assert hasattr(chainrule.serialization, name), name
    assert chainrule.serialization.load is cr.load and cr.serialization is chainrule.serialization


def test_chainrule_modules_need_no_allow_list():
    model = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.LayerNorm(8),
                          nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True))
    model.eval()
    loaded = cr.load(saved(model))
    x = cr.randn(2, 3, 4)
    np.testing.assert_array_equal(loaded(x)._data, model(x)._data)
    assert loaded[3].activation is model[3].activation


def test_shared_parameters_and_modules_stay_shared():
    enc = nn.Linear(3, 3)
    model = nn.Sequential(enc, nn.ReLU(), enc)
    head = nn.Linear(3, 3)
    head.weight = model[0].weight  # tied weights
    loaded = cr.load(saved({"model": model, "head": head, "epoch": 3}))
    assert loaded["epoch"] == 3
    m, h = loaded["model"], loaded["head"]
    assert m[0] is m[2] and h.weight is m[0].weight
    assert len(list(m.parameters())) == 2


def test_modules_keep_their_own_dtypes():
    model = nn.Linear(2, 2).double()
    loaded = cr.load(saved(model))
    assert loaded.weight.dtype == np.float64 and loaded.weight.requires_grad


def test_hooks_are_not_saved():
    model = nn.Linear(2, 2)
    seen = []
    model.register_forward_hook(lambda mod, args, out: seen.append(1))
    model.register_forward_pre_hook(lambda mod, args: seen.append(0))
    loaded = cr.load(saved(model))
    loaded(cr.ones(1, 2))
    assert seen == [] and "_forward_hooks" not in vars(loaded) and not loaded._hooked


def test_leaf_tensors_and_names_in_modules():
    model = nn.Linear(2, 2)
    model.temperature = cr.tensor(1.5, requires_grad=True)
    model.weight.name = "W"
    loaded = cr.load(saved(model))
    assert type(loaded.temperature) is cr.Tensor and loaded.temperature.requires_grad
    assert loaded.weight.name == "W" and float(loaded.temperature) == 1.5


def test_save_refuses_what_it_cannot_name():
    model = nn.Linear(2, 2)
    model.fn = lambda x: x
    with pytest.raises(TypeError, match="<lambda>"):
        cr.save(model, io.BytesIO())
    model.fn = object()
    with pytest.raises(TypeError, match="'fn'.*an attribute of a module"):
        cr.save(model, io.BytesIO())

    class Local(nn.Module):
        pass

    with pytest.raises(TypeError, match="inside a function"):
        cr.save(Local(), io.BytesIO())


# ---- crafted module files ----------------------------------------------------------------------
def test_a_file_never_imports_the_module_it_names():
    def rename(tree):
        tree["module"]["class"] = "evilpkg_never_imported.payload.Net"
    buf = rewrite(saved(nn.Linear(2, 2)), rename)
    with pytest.raises(UnsafeGlobalError, match="evilpkg_never_imported"):
        cr.load(buf)
    assert not any(m.startswith("evilpkg_never_imported") for m in sys.modules)


@pytest.mark.parametrize("name, match", [
    ("chainrule.ops.elementwise.relu", "not a chainrule.nn.Module subclass"),
    ("chainrule.nn.functional.relu", "not allow-listed"),  # not the function's own name
    ("chainrule.tensor.Tensor", "not a chainrule.nn.Module subclass"),
    ("chainrule.nn.Linear", "not allow-listed"),  # an alias, not where the class is defined
    ("chainrule.cli.main", "not allow-listed|not a chainrule.nn.Module"),
    ("builtins.eval", "not allow-listed"),
    ("os.system", "not allow-listed"),
])
def test_only_module_classes_by_their_own_name(name, match):
    def rename(tree):
        tree["module"]["class"] = name
    with pytest.raises(ValueError, match=match):
        cr.load(rewrite(saved(nn.Linear(2, 2)), rename))


@pytest.mark.parametrize("edit, match", [
    (lambda t: t["module"]["state"].append(["forward", {"global": "chainrule.nn.functional"
                                                                  ".relu"}]), "hide the method"),
    (lambda t: t["module"]["state"].append(["act", {"global": "os.system"}]), "os.system"),
    (lambda t: t["module"]["state"].append(["x", {"module_ref": "nowhere"}]), "not saved"),
    (lambda t: t["module"]["state"].append(["x", {"dtype": "object"}]), "unknown dtype"),
    (lambda t: t["module"]["state"].append(["_hooked", {"value": "weight"}]), "corrupt"),
    (lambda t: t["module"]["state"].pop(0), "training"),
    (lambda t: t["module"].update(path=3), "corrupt"),
    (lambda t: t.update(module={"class": 1}), "corrupt"),
    (lambda t: t["module"]["state"].append(["y", {"parameter": {"tensor": "missing",
                                                                "requires_grad": True}}]),
     "missing tensor"),
])
def test_crafted_module_state(edit, match):
    with pytest.raises(ValueError, match=match):
        cr.load(rewrite(saved(nn.Linear(2, 2)), edit))


def test_unknown_format_version_is_refused():
    buf = saved(nn.Linear(2, 2))
    raw = buf.getvalue().replace(b'"chainrule.format":"2"', b'"chainrule.format":"9"')
    with pytest.raises(ValueError, match="newer"):
        cr.load(io.BytesIO(raw), verify=False)
