"""nn.utils beyond clipping: weight and spectral normalisation (hooks and parametrizations),
parametrize, batch-norm fusion, functional_call, get_total_norm, against PyTorch."""

import warnings

import numpy as np
import pytest
import torch
from nn_twin import close, copy_weights

import chainrule as cr
from chainrule import nn
from chainrule.nn.utils import parametrizations, parametrize


def _forward_backward(ours, theirs, x, what):
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    co, to = ours(cx), theirs(tx)
    close(co, to, np.float64, f"{what} output")
    u = np.random.default_rng(7).standard_normal(to.shape)
    co.backward(cr.tensor(u))
    to.backward(torch.tensor(u))
    close(cx.grad, tx.grad, np.float64, f"{what} input grad")
    tp = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(tp)
    for name, p in ours.named_parameters():
        close(p.grad, tp[name].grad, np.float64, f"{what} grad of {name}")
        p.grad = None
    theirs.zero_grad()


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return fn(*a, **k)


@pytest.mark.parametrize("layer,args,shape,dim", [("Linear", (3, 4), (5, 3), 0),
                                                  ("Linear", (3, 4), (5, 3), None),
                                                  ("Conv2d", (2, 3, 3), (1, 2, 5, 5), 1)])
def test_weight_norm_hook_form(layer, args, shape, dim):
    theirs = _quiet(torch.nn.utils.weight_norm, getattr(torch.nn, layer)(*args,
                    dtype=torch.float64), dim=dim)
    with pytest.warns(FutureWarning, match="weight_norm` is deprecated"):
        ours = nn.utils.weight_norm(getattr(nn, layer)(*args, dtype=np.float64), dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_weights(theirs, ours)
    x = np.random.default_rng(0).standard_normal(shape)
    _forward_backward(ours, theirs, x, "weight_norm")
    nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _forward_backward(ours, theirs, x, "after remove_weight_norm")


@pytest.mark.parametrize("layer,args,shape", [("Linear", (3, 4), (5, 3)),
                                              ("Conv2d", (2, 3, 3), (1, 2, 5, 5)),
                                              ("ConvTranspose2d", (2, 3, 3), (1, 2, 3, 3))])
@pytest.mark.parametrize("form", ["hook", "parametrization"])
def test_spectral_norm_over_training_steps(layer, args, shape, form):
    fn_t = torch.nn.utils.spectral_norm if form == "hook" else \
        torch.nn.utils.parametrizations.spectral_norm
    fn_c = nn.utils.spectral_norm if form == "hook" else parametrizations.spectral_norm
    theirs = fn_t(getattr(torch.nn, layer)(*args, dtype=torch.float64), n_power_iterations=2)
    ours = fn_c(getattr(nn, layer)(*args, dtype=np.float64), n_power_iterations=2)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_weights(theirs, ours)  # the u, v estimates come from torch's random draws
    rng = np.random.default_rng(1)
    for _ in range(3):
        _forward_backward(ours, theirs, rng.standard_normal(shape), f"spectral_norm {form}")
    tb = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        close(b, tb[name], np.float64, f"buffer {name} after training steps")
    ours.eval()
    theirs.eval()
    _forward_backward(ours, theirs, rng.standard_normal(shape), "spectral_norm eval")


def test_remove_spectral_norm_matches_torch():
    theirs = torch.nn.utils.spectral_norm(torch.nn.Linear(3, 4, dtype=torch.float64))
    ours = nn.utils.spectral_norm(nn.Linear(3, 4, dtype=np.float64))
    copy_weights(theirs, ours)
    ours(cr.ones(1, 3, dtype=cr.float64))
    theirs(torch.ones(1, 3, dtype=torch.float64))
    nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    close(ours.weight, theirs.weight.detach(), np.float64, "weight after removal")
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(ours)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization_loads_torch_state_and_matches(dim):
    theirs = torch.nn.utils.parametrizations.weight_norm(
        torch.nn.Conv1d(2, 3, 3, dtype=torch.float64), dim=dim)
    ours = parametrizations.weight_norm(nn.Conv1d(2, 3, 3, dtype=np.float64), dim=dim)
    assert type(ours).__name__ == "ParametrizedConv1d" and isinstance(ours, nn.Conv1d)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_weights(theirs, ours)
    x = np.random.default_rng(2).standard_normal((2, 2, 6))
    _forward_backward(ours, theirs, x, "parametrized weight_norm")
    parametrize.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    assert type(ours) is nn.Conv1d and list(ours.state_dict()) == list(theirs.state_dict())
    _forward_backward(ours, theirs, x, "after remove_parametrizations")


class _Symmetric:
    def __init__(self, lib):
        class Sym(lib.nn.Module):
            def forward(self, x):
                return (x + x.T) / 2

            def right_inverse(self, a):
                return a
        self.cls = Sym


def test_custom_parametrization_chain_and_assignment():
    theirs = torch.nn.Linear(3, 3, dtype=torch.float64)
    ours = nn.Linear(3, 3, dtype=np.float64)
    copy_weights(theirs, ours)

    class TScale(torch.nn.Module):
        def forward(self, x):
            return 3 * x

        def right_inverse(self, a):
            return a / 3

    class CScale(nn.Module):
        def forward(self, x):
            return 3 * x

        def right_inverse(self, a):
            return a / 3

    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", _Symmetric(torch).cls())
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", TScale())
    parametrize.register_parametrization(ours, "weight", _Symmetric(cr).cls())
    parametrize.register_parametrization(ours, "weight", CScale())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert parametrize.is_parametrized(ours) and parametrize.is_parametrized(ours, "weight")
    assert not parametrize.is_parametrized(ours, "bias")
    x = np.random.default_rng(3).standard_normal((4, 3))
    _forward_backward(ours, theirs, x, "chained parametrizations")
    target = np.eye(3) * 6.0
    ours.weight = cr.tensor(target)  # assignment goes through right_inverse
    with torch.no_grad():
        theirs.weight = torch.tensor(target)
    close(ours.weight, theirs.weight.detach(), np.float64, "assigned weight")
    assert parametrize.type_before_parametrizations(ours) is nn.Linear
    with parametrize.cached():
        assert ours.weight.shape == (3, 3)


def test_parametrization_errors():
    with pytest.raises(ValueError, match="has no parameter or buffer named 'kernel'"):
        parametrize.register_parametrization(nn.Linear(2, 2), "kernel", nn.Identity())

    class Shrink(nn.Module):
        def forward(self, x):
            return x[:1]
    with pytest.raises(ValueError, match="changes 'weight' from shape"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", Shrink())
    with pytest.raises(NotImplementedError, match="orthogonal parametrization is not available"):
        parametrizations.orthogonal(nn.Linear(2, 2))


def test_fuse_conv_bn_and_linear_bn_match_torch():
    rng = np.random.default_rng(4)
    tconv, tbn = torch.nn.Conv2d(2, 3, 3, dtype=torch.float64), torch.nn.BatchNorm2d(
        3, dtype=torch.float64)
    with torch.no_grad():
        tbn.running_mean.uniform_(-1, 1)
        tbn.running_var.uniform_(0.5, 2)
        tbn.weight.uniform_(0.5, 2)
        tbn.bias.uniform_(-1, 1)
    cconv, cbn = nn.Conv2d(2, 3, 3, dtype=np.float64), nn.BatchNorm2d(3, dtype=np.float64)
    copy_weights(tconv, cconv)
    copy_weights(tbn, cbn)
    for m in (tconv, tbn, cconv, cbn):
        m.eval()
    ours = nn.utils.fuse_conv_bn_eval(cconv, cbn)
    theirs = torch.nn.utils.fuse_conv_bn_eval(tconv, tbn)
    close(ours.weight, theirs.weight.detach(), np.float64, "fused conv weight")
    close(ours.bias, theirs.bias.detach(), np.float64, "fused conv bias")
    x = rng.standard_normal((1, 2, 5, 5))
    close(ours(cr.tensor(x)), tbn(tconv(torch.tensor(x))), np.float64, "fused conv output")
    tlin, tbn1 = torch.nn.Linear(3, 2, bias=False, dtype=torch.float64), torch.nn.BatchNorm1d(
        2, dtype=torch.float64).eval()
    clin, cbn1 = nn.Linear(3, 2, bias=False, dtype=np.float64), nn.BatchNorm1d(
        2, dtype=np.float64).eval()
    copy_weights(tlin, clin)
    tlin.eval()
    clin.eval()
    fl, tfl = nn.utils.fuse_linear_bn_eval(clin, cbn1), torch.nn.utils.fuse_linear_bn_eval(tlin,
                                                                                          tbn1)
    close(fl.bias, tfl.bias.detach(), np.float64, "fused linear bias")
    close(fl.weight, tfl.weight.detach(), np.float64, "fused linear weight")
    with pytest.raises(ValueError, match="only for eval mode"):
        nn.utils.fuse_conv_bn_eval(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1))


def test_functional_call_matches_torch_and_restores():
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    theirs.double()
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    copy_weights(theirs, ours)
    rng = np.random.default_rng(5)
    new = {"0.weight": rng.standard_normal((4, 3)), "2.bias": rng.standard_normal(2)}
    cnew = {k: cr.tensor(v, requires_grad=True) for k, v in new.items()}
    tnew = {k: torch.tensor(v, requires_grad=True) for k, v in new.items()}
    x = rng.standard_normal((5, 3))
    co = nn.utils.stateless.functional_call(ours, cnew, (cr.tensor(x),))
    to = torch.func.functional_call(theirs, tnew, (torch.tensor(x),))
    close(co, to, np.float64, "functional_call")
    co.sum().backward()
    to.sum().backward()
    for k in new:
        close(cnew[k].grad, tnew[k].grad, np.float64, f"grad of {k}")
    assert isinstance(ours[0].weight, nn.Parameter) and ours[0].weight.grad is None
    close(ours(cr.tensor(x)), theirs(torch.tensor(x)), np.float64, "module restored")
    with pytest.raises(ValueError, match="strict=True, missing keys"):
        nn.utils.stateless.functional_call(ours, cnew, (cr.tensor(x),), strict=True)


def test_total_norm_and_clip_with_norm_match_torch():
    rng = np.random.default_rng(6)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    for norm_type in (2.0, 1.0, float("inf")):
        ours = nn.utils.get_total_norm([cr.tensor(g) for g in grads], norm_type)
        theirs = torch.nn.utils.get_total_norm([torch.tensor(g) for g in grads], norm_type)
        close(ours, theirs, np.float64, f"total norm {norm_type}")
    cps = [nn.Parameter(cr.zeros(*g.shape, dtype=cr.float64)) for g in grads]
    tps = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for c, t, g in zip(cps, tps, grads):
        c.grad, t.grad = cr.tensor(g.copy()), torch.tensor(g.copy())
    nn.utils.clip_grads_with_norm_(cps, 1.0, cr.tensor(6.0, dtype=cr.float64))
    torch.nn.utils.clip_grads_with_norm_(tps, 1.0, torch.tensor(6.0, dtype=torch.float64))
    for c, t in zip(cps, tps):
        close(c.grad, t.grad, np.float64, "clipped grad")
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
        nn.utils.clip_grad_norm(cps, 0.5)


def test_skip_init_and_memory_format():
    lin = nn.utils.skip_init(nn.Linear, 3, 2, dtype=np.float64)
    assert lin.weight.shape == (2, 3) and lin.weight.dtype == np.float64
    conv = nn.Conv2d(1, 1, 1)
    assert nn.utils.convert_conv2d_weight_memory_format(conv, None) is conv
    with pytest.raises(TypeError, match="expected a Module class"):
        nn.utils.skip_init(3)
    with pytest.raises(RuntimeError, match="'ReLU' does not support device placement"):
        nn.utils.skip_init(nn.ReLU)
