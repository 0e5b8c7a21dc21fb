"""GradientMonitor mechanics: what it records, by hand and as a fit callback."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.diagnose import GradientMonitor


def _mlp(act=cr.nn.ReLU, sizes=(6, 8, 8, 3)):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(cr.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return cr.nn.Sequential(*layers)


def _step(model, opt, monitor, x, y):
    opt.zero_grad()
    loss = cr.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    monitor.record(loss)
    opt.step()
    return loss


def test_manual_loop_records_norms_and_exact_sgd_update_ratio():
    model = _mlp()
    monitor = GradientMonitor(model)
    lr = 0.05
    opt = cr.optim.SGD(model.parameters(), lr=lr)
    x, y = cr.randn(16, 6), cr.randint(0, 3, (16,))
    _step(model, opt, monitor, x, y)
    w = model[0].weight
    # weights before the step
    grad = w.grad.detach().numpy().copy()
    before = w.detach().numpy() + lr * grad
    monitor.record_update()
    rec = monitor.records[0]["layers"]["0"]
    assert rec["grad_norm"] == pytest.approx(np.linalg.norm(grad), rel=1e-6)
    assert rec["weight_norm"] == pytest.approx(np.linalg.norm(before), rel=1e-5)
    # plain SGD moves W by lr * grad: the ratio is known in closed form
    assert rec["update_ratio"] == pytest.approx(lr * np.linalg.norm(grad) /
                                                np.linalg.norm(before), rel=1e-4)
    assert monitor.layer_names == ["0", "2", "4"]
    assert monitor.curves[0]["loss"] > 0


def test_next_record_completes_the_previous_update():
    model = _mlp()
    monitor = GradientMonitor(model)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    x, y = cr.randn(8, 6), cr.randint(0, 3, (8,))
    _step(model, opt, monitor, x, y)
    assert monitor.records[0]["layers"]["0"]["update_ratio"] is None
    _step(model, opt, monitor, x, y)
    assert monitor.records[0]["layers"]["0"]["update_ratio"] > 0


def test_every_n_steps():
    model = _mlp()
    monitor = GradientMonitor(model, every=3)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    x, y = cr.randn(8, 6), cr.randint(0, 3, (8,))
    for _ in range(7):
        _step(model, opt, monitor, x, y)
    assert [r["step"] for r in monitor.records] == [0, 3, 6]
    assert all(r["activations"] for r in monitor.records)
    assert len(monitor.curves) == 7


def test_dead_and_saturation_statistics_match_the_activations():
    model = _mlp(act=cr.nn.Sigmoid)
    monitor = GradientMonitor(model)
    x = cr.randn(32, 6) * 40  # huge inputs saturate the first sigmoid
    outs = {}
    model[1].register_forward_hook(lambda m, a, out: outs.setdefault("s",
                                                                     out.detach().numpy().copy()))
    model(x).sum().backward()
    monitor.record()
    s = outs["s"]
    expected = float(((s * (1 - s)) < 0.05 * 0.25).mean())
    got = monitor.records[0]["activations"]["1"]["saturated_fraction"]
    assert got == pytest.approx(expected) and got > 0.5
    assert monitor.report().is_flagged("saturation")

    relu_model = _mlp()
    with cr.no_grad():
        relu_model[0].bias.fill_(-100.0)  # every unit of the first ReLU is off
    m2 = GradientMonitor(relu_model)
    relu_model(cr.rand(32, 6)).sum().backward()
    m2.record()
    assert m2.records[0]["activations"]["1"]["dead_fraction"] == 1.0
    assert m2.dead_fraction("1") == 1.0
    assert m2.report().verdict("dead_relu").severity == "error"


def test_one_activation_module_applied_twice_is_recorded_twice():
    class Net(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = cr.nn.Linear(4, 4), cr.nn.Linear(4, 2)
            self.act = cr.nn.ReLU()

        def forward(self, x):
            return self.b(self.act(self.a(self.act(x))))

    net = Net()
    monitor = GradientMonitor(net)
    net(cr.randn(5, 4)).sum().backward()
    monitor.record()
    assert set(monitor.records[0]["activations"]) == {"act", "act#2"}


def test_eval_forwards_are_not_recorded():
    model = _mlp()
    monitor = GradientMonitor(model)
    model.eval()
    model(cr.randn(4, 6))
    model.train()
    assert monitor._pending_acts == {}


def test_nonfinite_gradient_is_an_explosion():
    model = _mlp(sizes=(3, 4, 4, 2))
    monitor = GradientMonitor(model)
    with cr.no_grad():
        model[0].weight.fill_(1e38)
    with np.errstate(all="ignore"):
        loss = model(cr.ones(2, 3)).sum()
        loss.backward()
    monitor.record(loss)
    v = monitor.report().verdict("exploding_gradients")
    assert v.severity == "error" and v.cause == "nonfinite" and "anomaly" in v.remedies


def test_as_fit_callback():
    X = cr.rand(64, 6)
    y = (X[:, 0] > 0.5).long()
    model = _mlp()
    monitor = GradientMonitor(model, every=2)
    assert isinstance(monitor, cr.train.Callback)
    cr.train.fit(model, (X, y), loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=2,
                 batch_size=16, verbose=0, callbacks=[monitor], seed=0)
    assert [r["step"] for r in monitor.records] == [0, 2, 4, 6]
    assert all(r["layers"]["0"]["update_ratio"] > 0 for r in monitor.records)
    assert len(monitor.curves) == 8 and "accuracy" in monitor.curves[0]
    assert [e["epoch"] for e in monitor.epochs] == [0, 1]
    json.dumps(monitor.to_dict())  # records are plain data


def test_detach_stops_activation_recording():
    model = _mlp()
    monitor = GradientMonitor(model)
    monitor.detach()
    model(cr.randn(4, 6)).sum().backward()
    monitor.record()
    assert monitor.records[0]["activations"] == {}
    assert monitor.records[0]["layers"]["0"]["grad_norm"] > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="every"):
        GradientMonitor(_mlp(), every=0)
    with pytest.raises(ValueError, match="no parameters"):
        GradientMonitor(cr.nn.Sequential(cr.nn.ReLU()))


def test_report_with_nothing_recorded_says_so_and_judges_nothing():
    monitor = GradientMonitor(_mlp())  # it has ReLU modules: nothing may claim it has none
    report = monitor.report()
    assert report.empty and not report.ok and report.flags == []
    assert {v.severity for v in report.verdicts} == {"n/a"}
    assert {v.text("evidence") for v in report.verdicts} == {"no step was recorded"}
    text = report.render()
    assert text.splitlines()[1].startswith("no step was recorded, so there is nothing to judge")
    assert "monitor.record(loss)" in text and "callbacks=[monitor]" in text
    assert "ReLU" not in text and "no problem found" not in text and len(text.splitlines()) == 2
    zh = report.render("zh")
    assert "没有记录任何一步" in zh and "monitor.record(loss)" in zh and "ReLU" not in zh
    d = report.to_dict("zh")
    assert d["notice"] == zh.splitlines()[1] and d["layers"] == []
    assert {v["evidence"] for v in d["verdicts"]} == {"没有记录任何一步"}

    x, y = cr.randn(16, 6), cr.randint(0, 3, (16,))
    _step(monitor.model, cr.optim.SGD(monitor.model.parameters(), lr=0.1), monitor, x, y)
    judged = monitor.report()
    assert not judged.empty and "notice" not in judged.to_dict()
    assert judged.verdict("dead_relu").severity != "n/a"  # the ReLUs are measured now
