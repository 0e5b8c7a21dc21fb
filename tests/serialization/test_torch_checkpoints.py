"""cr.load reads PyTorch's own checkpoints (torch.save's zip format and the legacy stream),
written here by torch 2.13, with chainrule's restricted interpreter: values, dtypes, layouts,
shared storages, and models and optimizers that continue exactly where torch left off."""

import io
from collections import OrderedDict

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn

FORMATS = {"zip": {}, "legacy": {"_use_new_zipfile_serialization": False}}


@pytest.fixture(params=sorted(FORMATS))
def roundtrip(request, tmp_path):
    """Save ``obj`` with torch in the parametrized format, load it with chainrule."""
    def run(obj, **load_kwargs):
        path = tmp_path / f"ckpt-{request.param}.pt"
        torch.save(obj, path, **FORMATS[request.param])
        return cr.load(path, **load_kwargs)
    return run


def arr(t):
    return t._data if isinstance(t, cr.Tensor) else np.asarray(t)


# ---- a model that uses every kind of state -------------------------------------------------------
class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10, 4)
        self.conv = torch.nn.Conv2d(2, 3, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(3)
        self.fc = torch.nn.Linear(3 * 4 * 4 + 4, 5)

    def forward(self, img, tok):
        h = self.bn(torch.relu(self.conv(img))).flatten(1)  # no BN right after a bias
        return self.fc(torch.cat([h, self.emb(tok)], 1))


class ChainNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.fc = nn.Linear(3 * 4 * 4 + 4, 5)

    def forward(self, img, tok):
        h = self.bn(cr.relu(self.conv(img))).flatten(1)
        return self.fc(cr.cat([h, self.emb(tok)], 1))


def data(seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((6, 2, 4, 4)).astype(np.float32),
            rng.integers(0, 10, 6), rng.integers(0, 5, 6))


def torch_step(model, opt, seed):
    img, tok, y = data(seed)
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(torch.tensor(img), torch.tensor(tok)),
                                             torch.tensor(y))
    loss.backward()
    opt.step()


def chain_step(model, opt, seed):
    img, tok, y = data(seed)
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(cr.tensor(img), cr.tensor(tok)), cr.tensor(y))
    loss.backward()
    opt.step()


def test_model_state_dict_gives_torchs_outputs(roundtrip):
    torch.manual_seed(0)
    tm = TorchNet()
    torch_step(tm, torch.optim.SGD(tm.parameters(), lr=0.1), 1)  # moves the BN statistics
    sd = roundtrip(tm.state_dict())
    assert isinstance(sd, OrderedDict) and list(sd) == list(tm.state_dict())
    nbt = sd["bn.num_batches_tracked"]
    assert nbt.dtype == np.int64 and nbt.shape == () and int(nbt) == 1
    for k, v in tm.state_dict().items():
        assert isinstance(sd[k], cr.Tensor) and not sd[k].requires_grad
        np.testing.assert_array_equal(arr(sd[k]), v.numpy(), err_msg=k)
    cm = ChainNet()
    cm.load_state_dict(sd)
    for mode in ("eval", "train"):
        getattr(tm, mode)(), getattr(cm, mode)()
        img, tok, _ = data(2)
        want = tm(torch.tensor(img), torch.tensor(tok)).detach().numpy()
        got = cm(cr.tensor(img), cr.tensor(tok))._data
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=mode)


@pytest.mark.parametrize("make", [
    lambda ps: (torch.optim.Adam(ps, lr=0.01), lambda ps2: cr.optim.Adam(ps2, lr=0.01)),
    lambda ps: (torch.optim.SGD(ps, lr=0.05, momentum=0.9),
                lambda ps2: cr.optim.SGD(ps2, lr=0.05, momentum=0.9)),
], ids=["adam", "sgd-momentum"])
def test_optimizer_state_resumes_in_step_with_torch(roundtrip, make):
    torch.manual_seed(1)
    tm = TorchNet()
    topt, make_cr = make(list(tm.parameters()))
    for s in range(3):
        torch_step(tm, topt, s)
    ckpt = roundtrip({"model": tm.state_dict(), "optimizer": topt.state_dict(), "epoch": 3})
    state = ckpt["optimizer"]["state"]
    assert ckpt["epoch"] == 3 and sorted(state) == list(range(len(list(tm.parameters()))))
    if isinstance(topt, torch.optim.Adam):
        step = state[0]["step"]
        assert isinstance(step, cr.Tensor) and step.shape == () and float(step) == 3.0
        assert ckpt["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    else:
        np.testing.assert_array_equal(arr(state[0]["momentum_buffer"]),
                                      topt.state_dict()["state"][0]["momentum_buffer"].numpy())
    cm = ChainNet()
    cm.load_state_dict(ckpt["model"])
    copt = make_cr(list(cm.parameters()))
    copt.load_state_dict(ckpt["optimizer"])
    for s in range(3, 6):
        torch_step(tm, topt, s)
        chain_step(cm, copt, s)
    for (name, p), q in zip(tm.named_parameters(), cm.parameters()):
        np.testing.assert_allclose(q._data, p.detach().numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)


# ---- values and layouts ------------------------------------------------------------------------
def test_nested_plain_values(roundtrip):
    obj = {"ints": [1, -2, 2**40, -2**70], "floats": (0.5, float("inf"), -1e-300),
           "strings": ["", "héllo ✓", "a\nb"], "none": None, "flags": [True, False],
           "nested": {"t": ({"deep": [None, (1, "x")]},), 3: "int key"},
           "bytes": b"\x00\xff", "set": {1, 2}, "size": torch.Size([2, 3]),
           "dtype": torch.float64, "complex": 1 + 2j, "empty": {}}
    got = roundtrip(obj)
    want = dict(obj, size=(2, 3), dtype=np.dtype(np.float64))
    assert got == want
    assert type(got["floats"]) is tuple and type(got["nested"][3]) is str


def test_shared_storages_stay_shared(roundtrip):
    base = torch.arange(12.0).reshape(3, 4)
    got = roundtrip({"base": base, "t": base.t(), "row": base[1], "tail": base.view(-1)[5:]})
    np.testing.assert_array_equal(arr(got["t"]), base.t().numpy())
    np.testing.assert_array_equal(arr(got["row"]), [4.0, 5.0, 6.0, 7.0])
    np.testing.assert_array_equal(arr(got["tail"]), np.arange(5.0, 12.0))
    arr(got["base"])[1, 1] = -1.0  # one storage: every view sees the write
    assert arr(got["t"])[1, 1] == -1.0 and arr(got["row"])[1] == -1.0
    assert arr(got["tail"])[0] == -1.0


def test_non_contiguous_layouts(roundtrip):
    x = torch.arange(60.0).reshape(3, 4, 5)
    views = {"transpose": x.transpose(0, 2), "step": x[:, ::2, 1::3], "permute": x.permute(1, 2, 0),
             "expand": torch.arange(3.0).expand(4, 3), "diag": x[0].diagonal()}
    got = roundtrip(views)
    for k, v in views.items():
        assert got[k].shape == tuple(v.shape), k
        np.testing.assert_array_equal(arr(got[k]), v.numpy(), err_msg=k)
    arr(got["expand"])[0, 0] = 9.0  # an expanded (overlapping) tensor is copied, not aliased
    assert arr(got["expand"])[1, 0] == 0.0


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.int64,
                                   torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool,
                                   torch.uint16, torch.complex64])
def test_dtypes(roundtrip, dtype):
    x = torch.tensor([[0, 1, 2], [3, 100, 7]]).to(dtype)
    got = roundtrip({"x": x, "scalar": x[1, 1].clone(), "empty": x[:0]})
    assert got["x"].dtype == np.dtype(str(dtype).split(".")[1].replace("bool", "bool_")
                                      .replace("bool_", "bool"))
    np.testing.assert_array_equal(arr(got["x"]), x.numpy())
    assert got["scalar"].shape == () and arr(got["scalar"]) == x[1, 1].numpy()
    assert got["empty"].shape == (0, 3)


def test_bfloat16_widens_to_float32_exactly(roundtrip):
    x = torch.tensor([1.0, -2.5, 3.140625, 1e38, -1e-38, float("inf")], dtype=torch.bfloat16)
    got = roundtrip({"x": x, "t": x.reshape(2, 3).t()})
    assert got["x"].dtype == np.float32
    np.testing.assert_array_equal(arr(got["x"]), x.float().numpy())
    np.testing.assert_array_equal(arr(got["t"]), x.reshape(2, 3).t().float().numpy())


def test_parameters_and_requires_grad(roundtrip):
    p = torch.nn.Parameter(torch.ones(2, 2))
    frozen = torch.nn.Parameter(torch.zeros(3), requires_grad=False)
    leaf = torch.ones(2, requires_grad=True)
    got = roundtrip({"p": p, "frozen": frozen, "leaf": leaf, "plain": torch.ones(1)})
    assert isinstance(got["p"], nn.Parameter) and got["p"].requires_grad
    assert isinstance(got["frozen"], nn.Parameter) and not got["frozen"].requires_grad
    assert type(got["leaf"]) is cr.Tensor and got["leaf"].requires_grad
    assert not got["plain"].requires_grad
    (got["p"] * 2).sum().backward()
    np.testing.assert_array_equal(got["p"].grad._data, np.full((2, 2), 2.0))


def test_file_objects_and_tied_weights():
    lin = torch.nn.Linear(3, 3)
    buf = io.BytesIO()
    torch.save({"a": lin.weight, "b": lin.weight}, buf)
    buf.seek(0)
    got = cr.load(buf)
    assert got["a"] is got["b"]  # the pickle's memo keeps identity, as torch.load does


# ---- torch.load's keywords -----------------------------------------------------------------------
class FakeDevice:
    """Quacks like torch.device: a ``type`` and an ``index``."""

    def __init__(self, kind, index=None):
        self.type, self.index = kind, index


@pytest.mark.parametrize("map_location", [
    None, "cpu", "cpu:0", torch.device("cpu"), FakeDevice("cpu"), cr.device("cpu"),
    {"cuda:0": "cpu"}, {"cuda:0": cr.device("cpu")},
    lambda storage, loc: storage, lambda storage, loc: None, lambda storage, loc: storage.cpu(),
    lambda storage, loc: storage.to(torch.device("cpu")),
])
def test_map_location_to_the_cpu(roundtrip, map_location):
    got = roundtrip({"w": torch.ones(2)}, map_location=map_location)
    np.testing.assert_array_equal(arr(got["w"]), [1.0, 1.0])


@pytest.mark.parametrize("map_location", [
    "cuda", "cuda:0", torch.device("cuda", 1), FakeDevice("mps"), cr.device("cuda"),
    {"cpu": "cuda:0"},
    lambda storage, loc: storage.cuda(), lambda storage, loc: storage.to("cuda:0"),
])
def test_map_location_elsewhere_is_a_clear_error(roundtrip, map_location):
    with pytest.raises(cr.devices.DeviceUnavailableError, match="CPU only"):
        roundtrip({"w": torch.ones(2)}, map_location=map_location)


def test_storage_saved_on_a_gpu(tmp_path):
    # A file saved on CUDA names 'cuda:0' as the location: rewrite a CPU file's location.
    import zipfile
    path = tmp_path / "cuda.pt"
    torch.save({"w": torch.ones(2)}, path)
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    pkl = next(k for k in members if k.endswith("data.pkl"))
    assert members[pkl].count(b"X\x03\x00\x00\x00cpu") == 1
    members[pkl] = members[pkl].replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
    with zipfile.ZipFile(path, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    with pytest.raises(RuntimeError, match="saved on 'cuda:0'.*map_location='cpu'"):
        cr.load(path)
    assert cr.load(path, map_location="cpu")["w"].tolist() == [1.0, 1.0]
    assert cr.load(path, map_location={"cuda:0": "cpu"})["w"].tolist() == [1.0, 1.0]
    seen = []
    cr.load(path, map_location=lambda s, loc: seen.append((loc, s.nbytes())) or s)
    assert seen == [("cuda:0", 8)]


def test_weights_only_false_enables_no_pickle(tmp_path):
    path = tmp_path / "m.pt"
    torch.save(torch.nn.Linear(2, 2), path)  # a whole torch module: needs pickle's classes
    for weights_only in (True, False, None):
        with pytest.raises(cr.serialization.UnsafeGlobalError,
                           match="torch.nn.modules.linear.Linear.*never executes pickle.*"
                                 "state_dict") as info:
            cr.load(path, weights_only=weights_only)
        assert info.value.name == "torch.nn.modules.linear.Linear"
        assert ("weights_only=False does not change this" in str(info.value)) == (
            weights_only is False)


@pytest.mark.parametrize("kwargs, err", [
    ({"weights_only": "yes"}, TypeError), ({"weights_only": 1}, TypeError),
    ({"pickle_module": object()}, TypeError),
    ({"mmap": "no"}, TypeError), ({"fix_imports": True}, TypeError),
    ({"map_location": 3}, TypeError), ({"map_location": {0: "cpu"}}, TypeError),
])
def test_bad_keywords(roundtrip, kwargs, err):
    with pytest.raises(err):
        roundtrip({"w": torch.ones(1)}, **kwargs)


def test_mmap_and_encoding_are_accepted(roundtrip):
    got = roundtrip({"w": torch.ones(1)}, mmap=True, encoding="latin1")
    assert got["w"].tolist() == [1.0]


def test_safetensors_files_take_the_same_keywords(tmp_path):
    cr.save({"w": cr.ones(2)}, tmp_path / "f.safetensors")
    seen = []
    got = cr.load(tmp_path / "f.safetensors", map_location=lambda s, loc: seen.append(loc),
                  weights_only=True)
    assert got["w"].tolist() == [1.0, 1.0] and seen == ["cpu"]
    with pytest.raises(RuntimeError, match="CPU only"):
        cr.load(tmp_path / "f.safetensors", map_location="cuda")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit is deprecated
def test_torchscript_and_tar_files_are_refused(tmp_path):
    path = tmp_path / "s.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path)
    with pytest.raises(cr.serialization.UnpicklingError, match="TorchScript"):
        cr.load(path)
    import tarfile
    with tarfile.open(tmp_path / "old.tar", "w") as tar:
        tar.add(path, arcname="sys_info")
    with pytest.raises(ValueError, match="tar-format"):
        cr.load(tmp_path / "old.tar")
