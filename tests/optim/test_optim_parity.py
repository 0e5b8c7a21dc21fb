"""Every optimizer configuration matches PyTorch step by step on a small float64 MLP."""

import pytest
from optim_twin import OPTIMIZERS, Twin


@pytest.mark.parametrize("make_cr, make_th", OPTIMIZERS)
def test_optimizer_matches_torch(make_cr, make_th):
    twin = Twin()
    opt_cr, opt_th = make_cr(twin.cr_params), make_th(twin.th_params)
    for step in range(20):
        loss_cr, loss_th = twin.cr_step(opt_cr), twin.th_step(opt_th)
        assert loss_cr == pytest.approx(loss_th, rel=0, abs=1e-10)
        twin.assert_close(where=f"after step {step}")
