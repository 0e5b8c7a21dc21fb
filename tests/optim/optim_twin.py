"""A small tanh MLP built twice, from chainrule tensors and from torch tensors, with equal weights.

Parity tests train both copies side by side and compare parameters after every step.
"""

import numpy as np
import torch

import chainrule as cr


def mlp_shapes(n_in, n_hidden, n_out):
    return [(n_hidden, n_in), (n_hidden,), (n_out, n_hidden), (n_out,)]


def make_data(shapes, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s) * 0.5 for s in shapes]
    x = rng.standard_normal((8, shapes[0][1]))
    y = rng.standard_normal((8, shapes[2][0]))
    return params, x, y


class Twin:
    """The chainrule network, its torch twin, and one training step for each."""

    def __init__(self, sizes=(4, 5, 3), dtype="float64", seed=0):
        arrays, x, y = make_data(mlp_shapes(*sizes), seed)
        th_dtype = getattr(torch, dtype)
        self.cr_params = [cr.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
        self.th_params = [torch.tensor(a, dtype=th_dtype, requires_grad=True) for a in arrays]
        self.x_cr, self.y_cr = cr.tensor(x, dtype=dtype), cr.tensor(y, dtype=dtype)
        self.x_th, self.y_th = torch.tensor(x, dtype=th_dtype), torch.tensor(y, dtype=th_dtype)

    def cr_loss(self):
        w1, b1, w2, b2 = self.cr_params
        out = cr.linear(cr.tanh(cr.linear(self.x_cr, w1, b1)), w2, b2)
        return ((out - self.y_cr) ** 2).mean()

    def th_loss(self):
        w1, b1, w2, b2 = self.th_params
        out = torch.nn.functional.linear(torch.tanh(torch.nn.functional.linear(
            self.x_th, w1, b1)), w2, b2)
        return ((out - self.y_th) ** 2).mean()

    def cr_step(self, opt):
        opt.zero_grad()
        loss = self.cr_loss()
        loss.backward()
        opt.step()
        return loss.item()

    def th_step(self, opt):
        opt.zero_grad()
        loss = self.th_loss()
        loss.backward()
        opt.step()
        return loss.item()

    def assert_close(self, atol=1e-10, where=""):
        for i, (a, b) in enumerate(zip(self.cr_params, self.th_params)):
            expected = b.detach().numpy()
            assert a.detach().numpy().dtype == expected.dtype
            # the full report only on failure
            if not np.abs(a.detach().numpy() - expected).max() <= atol:
                np.testing.assert_allclose(a.detach().numpy(), expected, rtol=0, atol=atol,
                                           err_msg=f"parameter {i} {where}")

    def moved(self):
        """How far the chainrule parameters are from where they started."""
        start, _, _ = make_data([a.shape for a in self.cr_params], 0)
        return max(float(np.abs(a.detach().numpy() - s).max()) for a, s in zip(self.cr_params,
                                                                               start))


# (name, chainrule factory, torch factory): the same optimizer with the same hyper-parameters.
def _pair(name, cr_cls, th_cls, **kw):
    return pytest_param(name, lambda ps: cr_cls(ps, **kw), lambda ps: th_cls(ps, **kw))


def pytest_param(name, make_cr, make_th):
    import pytest

    return pytest.param(make_cr, make_th, id=name)


OPTIMIZERS = [
    _pair("sgd", cr.optim.SGD, torch.optim.SGD, lr=0.1),
    _pair("sgd-momentum", cr.optim.SGD, torch.optim.SGD, lr=0.1, momentum=0.9, dampening=0.1),
    _pair("sgd-nesterov-wd", cr.optim.SGD, torch.optim.SGD, lr=0.05, momentum=0.8,
          nesterov=True, weight_decay=0.01),
    _pair("sgd-maximize", cr.optim.SGD, torch.optim.SGD, lr=0.05, momentum=0.5,
          weight_decay=0.1, maximize=True),
    _pair("adam", cr.optim.Adam, torch.optim.Adam, lr=0.05),
    _pair("adam-amsgrad-wd", cr.optim.Adam, torch.optim.Adam, lr=0.05, betas=(0.8, 0.99),
          weight_decay=0.05, amsgrad=True),
    _pair("adam-maximize", cr.optim.Adam, torch.optim.Adam, lr=0.01, maximize=True,
          weight_decay=0.01),
    _pair("adamw", cr.optim.AdamW, torch.optim.AdamW, lr=0.05, weight_decay=0.1),
    _pair("rmsprop", cr.optim.RMSprop, torch.optim.RMSprop, lr=0.01),
    _pair("rmsprop-centered-momentum-wd", cr.optim.RMSprop, torch.optim.RMSprop, lr=0.01,
          alpha=0.9, momentum=0.7, centered=True, weight_decay=0.02),
    _pair("rmsprop-maximize", cr.optim.RMSprop, torch.optim.RMSprop, lr=0.01, maximize=True,
          centered=True),
    _pair("adagrad", cr.optim.Adagrad, torch.optim.Adagrad, lr=0.1),
    _pair("adagrad-decay-wd-init", cr.optim.Adagrad, torch.optim.Adagrad, lr=0.1, lr_decay=0.05,
          weight_decay=0.02, initial_accumulator_value=0.3, eps=1e-6),
    _pair("adagrad-maximize", cr.optim.Adagrad, torch.optim.Adagrad, lr=0.05, maximize=True),
    _pair("adadelta", cr.optim.Adadelta, torch.optim.Adadelta),
    _pair("adadelta-rho-eps-wd", cr.optim.Adadelta, torch.optim.Adadelta, lr=0.5, rho=0.7,
          eps=1e-4, weight_decay=0.05),
    _pair("adadelta-maximize", cr.optim.Adadelta, torch.optim.Adadelta, lr=0.5, maximize=True),
    _pair("adamax", cr.optim.Adamax, torch.optim.Adamax, lr=0.05),
    _pair("adamax-betas-eps-wd", cr.optim.Adamax, torch.optim.Adamax, lr=0.05,
          betas=(0.8, 0.9), eps=1e-3, weight_decay=0.05),
    _pair("adamax-maximize", cr.optim.Adamax, torch.optim.Adamax, lr=0.02, maximize=True),
    _pair("nadam", cr.optim.NAdam, torch.optim.NAdam, lr=0.05),
    _pair("nadam-l2-momentum-decay", cr.optim.NAdam, torch.optim.NAdam, lr=0.05,
          betas=(0.8, 0.99), weight_decay=0.05, momentum_decay=0.05),
    _pair("nadam-decoupled", cr.optim.NAdam, torch.optim.NAdam, lr=0.05, weight_decay=0.1,
          decoupled_weight_decay=True),
    _pair("nadam-maximize", cr.optim.NAdam, torch.optim.NAdam, lr=0.02, maximize=True),
    _pair("radam", cr.optim.RAdam, torch.optim.RAdam, lr=0.05),
    _pair("radam-l2-betas", cr.optim.RAdam, torch.optim.RAdam, lr=0.05, betas=(0.8, 0.9),
          eps=1e-6, weight_decay=0.05),
    _pair("radam-decoupled", cr.optim.RAdam, torch.optim.RAdam, lr=0.05, weight_decay=0.1,
          decoupled_weight_decay=True),
    _pair("radam-maximize", cr.optim.RAdam, torch.optim.RAdam, lr=0.02, maximize=True),
    _pair("asgd", cr.optim.ASGD, torch.optim.ASGD, lr=0.05),
    _pair("asgd-averaging-wd", cr.optim.ASGD, torch.optim.ASGD, lr=0.07, lambd=0.05,
          alpha=0.5, t0=2, weight_decay=0.05),
    _pair("asgd-maximize", cr.optim.ASGD, torch.optim.ASGD, lr=0.03, t0=4, maximize=True),
]

# Every optimizer with a per-parameter update (LBFGS has none), by class name.
CLASS_NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
               "RAdam", "ASGD"]

# The representative configurations that also run under every scheduler.
SCHEDULED = [p for p in OPTIMIZERS if p.id in {
    "sgd", "sgd-momentum", "sgd-nesterov-wd", "adam", "adam-amsgrad-wd", "adamw",
    "rmsprop-centered-momentum-wd", "adagrad-decay-wd-init", "adadelta-rho-eps-wd",
    "adamax-betas-eps-wd", "nadam-decoupled", "radam-l2-betas", "asgd-averaging-wd"}]
