"""Every optimizer configuration matches PyTorch step by step on small MLPs.

4-5-3 exercises the array path, 1-1-1 the one-element path, 4-5-1 both in one model.
"""

import pytest
from optim_twin import OPTIMIZERS, Twin


def _name(sizes):
    return "-".join(map(str, sizes))


@pytest.mark.parametrize("sizes", [(4, 5, 3), (1, 1, 1), (4, 5, 1)], ids=_name)
@pytest.mark.parametrize("make_cr, make_th", OPTIMIZERS)
def test_optimizer_matches_torch_float64(make_cr, make_th, sizes):
    twin = Twin(sizes)
    opt_cr, opt_th = make_cr(twin.cr_params), make_th(twin.th_params)
    for step in range(20):
        loss_cr, loss_th = twin.cr_step(opt_cr), twin.th_step(opt_th)
        assert loss_cr == pytest.approx(loss_th, rel=1e-12, abs=1e-10)
        twin.assert_close(where=f"after step {step}")
    assert twin.moved() > 1e-3


@pytest.mark.parametrize("sizes", [(4, 5, 3), (1, 1, 1)], ids=_name)
@pytest.mark.parametrize("make_cr, make_th", OPTIMIZERS)
def test_optimizer_matches_torch_float32(make_cr, make_th, sizes):
    twin = Twin(sizes, dtype="float32")
    opt_cr, opt_th = make_cr(twin.cr_params), make_th(twin.th_params)
    for step in range(10):
        twin.cr_step(opt_cr)
        twin.th_step(opt_th)
        twin.assert_close(atol=2e-5, where=f"after step {step}")
    for p in twin.cr_params:
        for buf in opt_cr.state.get(p, {}).values():
            assert not hasattr(buf, "dtype") or buf.dtype == "float32"
