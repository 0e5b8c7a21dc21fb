"""Constructors take PyTorch's arguments in PyTorch's order with its defaults; the options that
choose PyTorch's kernels are accepted where they ask for what chainrule computes and refused
with a reason otherwise; SparseAdam is refused with what to use instead."""

import inspect

import numpy as np
import pytest
import torch
from optim_twin import CLASS_NAMES, Twin

import chainrule as cr

OPTIONS = ("foreach", "fused", "capturable", "differentiable")


def _signature(cls):
    params = inspect.signature(cls.__init__).parameters.values()
    return [(p.name, p.kind, p.default) for p in params]


@pytest.mark.parametrize("name", [*CLASS_NAMES, "LBFGS", "SparseAdam"])
def test_constructor_signature_is_pytorchs(name):
    ours, theirs = _signature(getattr(cr.optim, name)), _signature(getattr(torch.optim, name))
    # names, order, positional or keyword-only, defaults
    assert ours == theirs


def _options_of(name):
    params = inspect.signature(getattr(torch.optim, name).__init__).parameters
    return [o for o in OPTIONS if o in params]


ACCEPTED = {"foreach": [None, False], "fused": [None, False], "capturable": [False],
            "differentiable": [False]}


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_options_that_ask_for_chainrules_computation_are_accepted(name):
    options = _options_of(name)
    assert options, "every torch optimizer here has at least foreach"
    plain, optioned = Twin(), Twin()
    cls = getattr(cr.optim, name)
    kwargs = {o: ACCEPTED[o][-1] for o in options}
    opt_plain, opt_optioned = cls(plain.cr_params), cls(optioned.cr_params, **kwargs)
    for o in options:
        for value in ACCEPTED[o]:
            cls(Twin().cr_params, **{o: value})
    assert not set(OPTIONS) & set(opt_optioned.param_groups[0]), "options are not kept"
    for _ in range(3):
        plain.cr_step(opt_plain)
        optioned.cr_step(opt_optioned)
    for a, b in zip(plain.cr_params, optioned.cr_params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("name, option", [(n, o) for n in CLASS_NAMES for o in _options_of(n)])
def test_options_chainrule_cannot_honour_are_refused_with_the_reason(name, option):
    cls = getattr(cr.optim, name)
    with pytest.raises(ValueError, match=rf"^{name}\({option}=True\): ") as err:
        cls(Twin().cr_params, **{option: True})
    assert f"leave {option}" in str(err.value) or "cr.autograd.grad" in str(err.value)
    with pytest.raises(ValueError, match=rf"{option} must be True, False or None"):
        cls(Twin().cr_params, **{option: "yes"})


def test_differentiable_says_how_to_differentiate_through_an_update():
    with pytest.raises(ValueError, match="outside the graph.*cr.autograd.grad"):
        cr.optim.Adam(Twin().cr_params, differentiable=True)


def test_adamw_names_itself_when_refusing():
    with pytest.raises(ValueError, match=r"^AdamW\(fused=True\)"):
        cr.optim.AdamW(Twin().cr_params, fused=True)


def test_sparse_adam_is_refused_and_names_what_to_use():
    with pytest.raises(NotImplementedError) as err:
        cr.optim.SparseAdam(Twin().cr_params, lr=0.01)
    message = str(err.value)
    assert message.startswith("SparseAdam: chainrule has no sparse gradients")
    assert "cr.optim.Adam(" in message
