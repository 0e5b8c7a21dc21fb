"""Optimizer behaviour beyond the update rule: param groups, state dicts, zero_grad, closures,
skipped parameters and input validation."""

import copy

import numpy as np
import pytest
import torch
from optim_twin import CLASS_NAMES, OPTIMIZERS, Twin

import chainrule as cr

# Options PyTorch has for its own kernels (fused, foreach, ...) and chainrule has no use for.
TORCH_ONLY = {"foreach", "fused", "differentiable", "capturable"}
CLASSES = [getattr(cr.optim, name) for name in CLASS_NAMES]


def _leaf(*shape):
    return cr.tensor(np.ones(shape), dtype=cr.float64, requires_grad=True)


@pytest.mark.parametrize("cls", [*CLASSES, cr.optim.LBFGS], ids=lambda c: c.__name__)
def test_group_keys_and_defaults_match_torch(cls):
    p = _leaf(2)
    opt = cls([p])
    th = getattr(torch.optim, cls.__name__)([torch.ones(2, requires_grad=True)])
    group, th_group = opt.param_groups[0], th.param_groups[0]
    assert set(group) == set(th_group) - TORCH_ONLY
    for key in set(group) - {"params"}:
        assert group[key] == th_group[key], key
    assert group["params"][0] is p
    assert opt.defaults == {k: v for k, v in th.defaults.items() if k not in TORCH_ONLY}


@pytest.mark.parametrize("make_cr, make_th", OPTIMIZERS)
def test_param_groups_with_own_hyperparameters_match_torch(make_cr, make_th):
    twin = Twin()
    w1, b1, w2, b2 = twin.cr_params
    tw1, tb1, tw2, tb2 = twin.th_params
    # Half the default lr for the first layer; the second layer's group is added after 5 steps.
    opt_cr = make_cr([{"params": [w1, b1]}])
    opt_th = make_th([{"params": [tw1, tb1]}])
    for group in (opt_cr.param_groups[0], opt_th.param_groups[0]):
        group["lr"] = group["lr"] / 2
    for step in range(12):
        if step == 5:
            lr = opt_th.defaults["lr"] * 3
            opt_cr.add_param_group({"params": [w2, b2], "lr": lr})
            opt_th.add_param_group({"params": [tw2, tb2], "lr": lr})
        twin.cr_step(opt_cr)
        twin.th_step(opt_th)
        twin.assert_close(where=f"after step {step}")
    assert [g["lr"] for g in opt_cr.param_groups] == [g["lr"] for g in opt_th.param_groups]


@pytest.mark.parametrize("make_cr, make_th", OPTIMIZERS)
def test_state_dict_layout_and_values_match_torch(make_cr, make_th):
    twin = Twin()
    opt_cr, opt_th = make_cr(twin.cr_params), make_th(twin.th_params)
    for _ in range(3):
        twin.cr_step(opt_cr)
        twin.th_step(opt_th)
    sd, th_sd = opt_cr.state_dict(), opt_th.state_dict()
    assert list(sd) == ["state", "param_groups"]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1, 2, 3]]
    assert set(sd["param_groups"][0]) == set(th_sd["param_groups"][0]) - TORCH_ONLY
    assert sorted(sd["state"]) == sorted(th_sd["state"])
    for i, state in sd["state"].items():
        assert set(state) == set(th_sd["state"][i])
        for key, value in state.items():
            expected = th_sd["state"][i][key]
            if key == "step":
                assert type(value) is int and value == expected.item() == 3
            else:
                assert type(value) is np.ndarray
                np.testing.assert_allclose(value, expected.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("make_cr, make_th", OPTIMIZERS)
def test_state_dict_round_trip_resumes_exactly(make_cr, make_th):
    straight = Twin()
    opt = make_cr(straight.cr_params)
    for _ in range(20):
        straight.cr_step(opt)

    first = Twin()
    opt = make_cr(first.cr_params)
    for _ in range(10):
        first.cr_step(opt)
    sd = opt.state_dict()
    for _ in range(3):  # the saved snapshot must not follow later steps
        first.cr_step(opt)

    resumed = Twin()  # a fresh process: weights from the checkpoint, a new optimizer
    for p, q in zip(resumed.cr_params, _params_after(make_cr, 10)):
        p.detach().numpy()[...] = q
    opt2 = make_cr(resumed.cr_params)
    opt2.param_groups[0]["lr"] = 123.0  # hyper-parameters come from the state dict too
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == sd["param_groups"][0]["lr"]
    for _ in range(10):
        resumed.cr_step(opt2)
    for a, b in zip(resumed.cr_params, straight.cr_params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def _params_after(make_cr, steps):
    twin = Twin()
    opt = make_cr(twin.cr_params)
    for _ in range(steps):
        twin.cr_step(opt)
    return [p.detach().numpy().copy() for p in twin.cr_params]


def test_state_dict_survives_save_and_load(tmp_path):
    twin = Twin()
    opt = cr.optim.Adam(twin.cr_params, lr=0.05, amsgrad=True)
    for _ in range(5):
        twin.cr_step(opt)
    path = tmp_path / "opt.safetensors"
    cr.save(opt.state_dict(), str(path))
    other = Twin()
    for p, q in zip(other.cr_params, twin.cr_params):
        p.detach().numpy()[...] = q.detach().numpy()
    opt2 = cr.optim.Adam(other.cr_params, lr=0.05, amsgrad=True)
    opt2.load_state_dict(cr.load(str(path)))
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999)
    for _ in range(5):
        twin.cr_step(opt)
        other.cr_step(opt2)
    for a, b in zip(other.cr_params, twin.cr_params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_state_dict_is_plain_values():
    twin = Twin()
    opt = cr.optim.RMSprop(twin.cr_params, momentum=0.9, centered=True)
    twin.cr_step(opt)
    sd = opt.state_dict()
    for state in sd["state"].values():
        for value in state.values():
            assert type(value) in (int, float, np.ndarray)
    for group in sd["param_groups"]:
        for value in group.values():
            assert type(value) in (int, float, bool, list, tuple, str, type(None))


def test_load_state_dict_casts_and_copies():
    p = _leaf(3)
    opt = cr.optim.SGD([p], lr=0.1, momentum=0.9)
    sd = {"state": {"0": {"momentum_buffer": np.arange(3, dtype=np.float32)}},
          "param_groups": [{"lr": 0.5, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0,
                            "nesterov": False, "maximize": False, "params": [0]}]}
    opt.load_state_dict(sd)
    buf = opt.state[p]["momentum_buffer"]
    assert buf.dtype == np.float64
    p.grad = cr.tensor(np.zeros(3), dtype=cr.float64)
    opt.step()
    np.testing.assert_array_equal(sd["state"]["0"]["momentum_buffer"], [0, 1, 2])
    np.testing.assert_allclose(p.detach().numpy(), 1 - 0.5 * 0.9 * np.arange(3))


def test_load_state_dict_rejects_mismatches():
    a, b = _leaf(2), _leaf(3)
    sd = cr.optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        cr.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="parameters"):
        cr.optim.SGD([a], lr=0.1).load_state_dict(cr.optim.SGD([a, b], lr=0.1).state_dict())
    bad = {"state": {0: {"momentum_buffer": np.zeros(5)}},
           "param_groups": copy.deepcopy(sd["param_groups"])}
    with pytest.raises(ValueError, match="shape"):
        cr.optim.SGD([a, b], lr=0.1, momentum=0.9).load_state_dict(bad)
    bad["state"] = {7: {"momentum_buffer": np.zeros(2)}}
    with pytest.raises(ValueError, match="7"):
        cr.optim.SGD([a, b], lr=0.1, momentum=0.9).load_state_dict(bad)
    with pytest.raises(ValueError, match="param_groups"):
        cr.optim.SGD([a, b], lr=0.1).load_state_dict({"state": {}})


def test_zero_grad_set_to_none_and_in_place():
    w = _leaf(3)
    opt = cr.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.zero_grad()
    assert w.grad is None
    (w * w).sum().backward()
    grad = w.grad
    array = grad.detach().numpy()
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and w.grad.detach().numpy() is array
    np.testing.assert_array_equal(array, 0)
    (w * 3).sum().backward()  # accumulates into the zeroed array
    assert w.grad.detach().numpy() is array
    np.testing.assert_array_equal(array, 3)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.detach().numpy(), 0)


def test_zero_grad_detaches_a_create_graph_gradient():
    w = _leaf(2)
    (w * w * w).sum().backward(create_graph=True)
    assert w.grad.requires_grad
    cr.optim.SGD([w], lr=0.1).zero_grad(set_to_none=False)
    assert not w.grad.requires_grad and w.grad.grad_fn is None
    np.testing.assert_array_equal(w.grad.detach().numpy(), 0)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_parameters_without_grad_are_skipped(cls):
    used, unused = _leaf(2), _leaf(1)
    opt = cls([used, unused], lr=0.1)
    (used * used).sum().backward()
    opt.step()
    np.testing.assert_array_equal(unused.detach().numpy(), 1.0)
    assert not np.array_equal(used.detach().numpy(), 1.0)
    if cls is not cr.optim.Adagrad:  # Adagrad creates its state up front, like PyTorch
        assert unused not in opt.state and 1 not in opt.state_dict()["state"]


def test_step_bumps_version_so_stale_graphs_are_refused():
    w = _leaf(2)
    opt = cr.optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    version = w._version
    opt.step()
    assert w._version > version
    with pytest.raises(RuntimeError, match="in-place"):
        loss.backward()


def test_closure_is_evaluated_with_grad_enabled_and_returned():
    w = _leaf(2)
    opt = cr.optim.Adam([w], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        calls.append(loss.item())
        return loss

    with cr.no_grad():
        loss = opt.step(closure)
    assert calls == [2.0] and loss.item() == 2.0
    np.testing.assert_allclose(w.detach().numpy(), 0.9)
    assert opt.step() is None


def test_named_parameters_are_accepted():
    w, b = _leaf(2), _leaf(1)
    opt = cr.optim.SGD([("w", w), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["params"] == [w, b]
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


def test_repr_lists_groups():
    text = repr(cr.optim.SGD([_leaf(1)], lr=0.25, momentum=0.5))
    assert text.startswith("SGD (") and "lr: 0.25" in text and "momentum: 0.5" in text


BAD_HYPERPARAMETERS = [
    (cr.optim.SGD, {"lr": -0.1}),
    (cr.optim.SGD, {"momentum": -0.5}),
    (cr.optim.SGD, {"weight_decay": -1e-4}),
    (cr.optim.SGD, {"nesterov": True}),
    (cr.optim.SGD, {"nesterov": True, "momentum": 0.9, "dampening": 0.1}),
    (cr.optim.Adam, {"lr": -1e-3}),
    (cr.optim.Adam, {"betas": (1.0, 0.999)}),
    (cr.optim.Adam, {"betas": (0.9, -0.1)}),
    (cr.optim.Adam, {"betas": (0.9,)}),
    (cr.optim.Adam, {"eps": -1e-8}),
    (cr.optim.AdamW, {"weight_decay": -0.01}),
    (cr.optim.AdamW, {"betas": (0.9, 1.5)}),
    (cr.optim.RMSprop, {"alpha": 1.5}),
    (cr.optim.RMSprop, {"eps": -1.0}),
    (cr.optim.RMSprop, {"momentum": -0.1}),
    (cr.optim.Adagrad, {"lr_decay": -0.1}),
    (cr.optim.Adagrad, {"initial_accumulator_value": -1.0}),
    (cr.optim.Adagrad, {"eps": -1e-10}),
    (cr.optim.Adagrad, {"lr": float("nan")}),
    (cr.optim.Adadelta, {"lr": -1.0}),
    (cr.optim.Adadelta, {"rho": 1.5}),
    (cr.optim.Adadelta, {"rho": -0.1}),
    (cr.optim.Adadelta, {"eps": -1e-6}),
    (cr.optim.Adadelta, {"weight_decay": -0.1}),
    (cr.optim.Adamax, {"lr": -2e-3}),
    (cr.optim.Adamax, {"betas": (1.0, 0.999)}),
    (cr.optim.Adamax, {"betas": (0.9, 1.0)}),
    (cr.optim.Adamax, {"eps": -1e-8}),
    (cr.optim.Adamax, {"weight_decay": -1.0}),
    (cr.optim.NAdam, {"lr": -2e-3}),
    (cr.optim.NAdam, {"betas": (-0.1, 0.999)}),
    (cr.optim.NAdam, {"betas": (0.9, 1.2)}),
    (cr.optim.NAdam, {"eps": -1.0}),
    (cr.optim.NAdam, {"weight_decay": -1e-2}),
    (cr.optim.NAdam, {"momentum_decay": -4e-3}),
    (cr.optim.RAdam, {"lr": -1e-3}),
    (cr.optim.RAdam, {"betas": (1.0, 0.999)}),
    (cr.optim.RAdam, {"betas": (0.9, -0.5)}),
    (cr.optim.RAdam, {"eps": -1e-8}),
    (cr.optim.RAdam, {"weight_decay": -1e-2}),
    (cr.optim.ASGD, {"lr": -1e-2}),
    (cr.optim.ASGD, {"weight_decay": -1e-4}),
    (cr.optim.LBFGS, {"lr": -1.0}),
]


# PyTorch takes an alpha above 1, and fails on a one-element betas with an IndexError.
STRICTER_THAN_TORCH = [(cr.optim.RMSprop, {"alpha": 1.5}), (cr.optim.Adam, {"betas": (0.9,)})]


@pytest.mark.parametrize("cls, kwargs", BAD_HYPERPARAMETERS,
                         ids=lambda v: getattr(v, "__name__", None) or str(v))
def test_bad_hyperparameters_raise_value_error(cls, kwargs):
    with pytest.raises(ValueError) as err:
        cls([_leaf(2)], **kwargs)
    # the message names the optimizer and the argument at fault
    assert str(err.value).startswith(f"{cls.__name__}: ")
    assert next(iter(kwargs)) in str(err.value)
    if (cls, kwargs) not in STRICTER_THAN_TORCH:  # PyTorch refuses the same value
        th = getattr(torch.optim, cls.__name__)
        with pytest.raises(ValueError):
            th([torch.ones(2, requires_grad=True)], **kwargs)
    if cls is cr.optim.LBFGS:  # one group only
        return
    # the same value given for one param group only
    with pytest.raises(ValueError, match=f"^{cls.__name__}: "):
        cls([{"params": [_leaf(2)]}, dict(params=[_leaf(2)], **kwargs)])


def test_bad_params_raise():
    with pytest.raises(TypeError, match="iterable"):
        cr.optim.SGD(_leaf(2), lr=0.1)
    with pytest.raises(TypeError, match="Tensors"):
        cr.optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="require grad"):
        cr.optim.SGD([cr.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        cr.optim.SGD([_leaf(2) * 2], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        cr.optim.Adam([], lr=0.1)
    w = _leaf(2)
    with pytest.raises(ValueError, match="twice"):
        cr.optim.SGD([w, w], lr=0.1)
    opt = cr.optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="more than one"):
        opt.add_param_group({"params": [w]})
    with pytest.raises(TypeError, match="lr"):
        cr.optim.SGD([_leaf(2)], lr="0.1")
    with pytest.raises(TypeError, match="ordered"):
        cr.optim.SGD([{"params": {_leaf(2)}}])


@pytest.mark.parametrize("cls, option, key", [
    (cr.optim.RMSprop, {"momentum": 0.9}, "momentum_buffer"),
    (cr.optim.RMSprop, {"centered": True}, "grad_avg"),
    (cr.optim.Adam, {"amsgrad": True}, "max_exp_avg_sq"),
])
def test_options_switched_on_mid_training_get_their_buffer(cls, option, key):
    w, b = _leaf(3), _leaf(1)
    opt = cls([w, b], lr=0.01)
    for step in range(2):
        opt.zero_grad()
        ((w * w).sum() + (b * 3).sum()).backward()
        opt.step()
        if step == 0:
            assert key not in opt.state[w]
            opt.param_groups[0].update(option)
    assert opt.state[w][key].shape == (3,) and opt.state[b][key].shape == (1,)
    assert np.abs(opt.state[w][key]).max() > 0


def test_load_state_dict_fills_options_the_checkpoint_lacks():
    w = _leaf(2)
    sd = cr.optim.Adam([w], lr=0.05).state_dict()
    del sd["param_groups"][0]["maximize"], sd["param_groups"][0]["decoupled_weight_decay"]
    opt = cr.optim.Adam([w], lr=0.5, maximize=True)
    opt.load_state_dict(sd)
    group = opt.param_groups[0]
    assert group["lr"] == 0.05 and group["maximize"] is True
    assert group["decoupled_weight_decay"] is False
