"""The verdicts on real training runs (8x8 digits): each computed from the recorded statistics."""

import math

import numpy as np
import pytest

from chainrule.diagnose import Thresholds
from chainrule.diagnose.demo import run_demo

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

STEPS = 40


@pytest.fixture(scope="module")
def sigmoid_run():
    return run_demo("deep-sigmoid", steps=STEPS)


@pytest.fixture(scope="module")
def relu_run():
    return run_demo("relu-he", steps=STEPS)


@pytest.fixture(scope="module")
def tanh_run():
    return run_demo("tanh-big-init", steps=STEPS)


@pytest.fixture(scope="module")
def tanh_clipped_run():
    return run_demo("tanh-big-init", steps=STEPS, clip=1.0)


def _ratio_first_last(monitor):
    first, last = monitor.weight_layers()[0], monitor.weight_layers()[-1]
    return float(np.median(monitor.series(first, "grad_norm") / monitor.series(last, "grad_norm")))


def test_deep_sigmoid_default_init_is_vanishing(sigmoid_run):
    report = sigmoid_run.report()
    v = report.verdict("vanishing_gradients")
    assert v.severity == "error"
    # the verdict's number is the one in the records
    assert v.facts["layer_ratio"] == pytest.approx(_ratio_first_last(sigmoid_run))
    assert v.facts["layer_ratio"] < Thresholds().vanishing_error
    assert v.cause == "sigmoid" and "relu" in v.remedies and "init_he" in v.remedies
    assert not report.is_flagged("exploding_gradients")


def test_relu_he_is_not_vanishing(relu_run):
    report = relu_run.report()
    assert not report.is_flagged("vanishing_gradients")
    assert report.verdict("vanishing_gradients").facts["layer_ratio"] == pytest.approx(
        _ratio_first_last(relu_run))
    assert _ratio_first_last(relu_run) > Thresholds().vanishing_warn
    assert report.flags == []


def test_tanh_big_init_explodes(tanh_run):
    T = Thresholds()
    v = tanh_run.report().verdict("exploding_gradients")
    assert v.severity == "error"
    # the first steps blew up: a gradient-norm spike and/or a step that wrecked some weights
    assert {"spike", "blowup"} & set(v.evidence)
    assert ("spike" in v.evidence) == (v.facts["spike"] >= T.spike_limit)
    assert ("blowup" in v.evidence) == (v.facts["max_update"] >= T.blowup)
    total = np.sqrt(sum(tanh_run.series(n, "grad_norm") ** 2 for n in tanh_run.layer_names))
    assert v.facts["spike"] == pytest.approx(total.max() / np.median(total))
    # at the worst step the gradient grew toward the input: the init is blamed, clipping advised
    assert v.facts["peak_layer_ratio"] >= T.layer_growth
    assert "clip" in v.remedies and v.cause == "large_init"


def test_clipping_turns_the_explosion_into_a_bounded_warning(tanh_run, tanh_clipped_run):
    """clip_grad_norm_ bounds every step, so the error goes; the growth across layers (the
    init's fault) stays and is still reported, as a warning."""
    v = tanh_clipped_run.report().verdict("exploding_gradients")
    assert v.severity == "warning"
    assert v.evidence == ["layer_growth", "bounded"]
    assert v.facts["spike"] < Thresholds().spike_limit
    assert v.facts["max_update"] < Thresholds().blowup
    assert v.facts["layer_ratio"] >= Thresholds().layer_growth
    # clipping rescales all layers alike: the layer-to-layer profile is that of the raw run's
    # first step
    raw0 = tanh_run.records[0]["layers"]
    clipped0 = tanh_clipped_run.records[0]["layers"]
    names = tanh_run.weight_layers()
    assert raw0[names[0]]["grad_norm"] / raw0[names[-1]]["grad_norm"] == pytest.approx(
        clipped0[names[0]]["grad_norm"] / clipped0[names[-1]]["grad_norm"], rel=1e-4)


def test_tanh_big_init_saturates(tanh_run):
    v = tanh_run.report().verdict("saturation")
    assert v.severity == "error"
    assert v.facts["worst_saturated"] >= Thresholds().saturated_error


def test_large_negative_bias_kills_relus(relu_run):
    dead_run = run_demo("relu-neg-bias", steps=STEPS)
    v = dead_run.report().verdict("dead_relu")
    assert v.severity == "error"
    name = v.facts["worst_module"]
    assert v.facts["worst_dead"] == pytest.approx(dead_run.dead_fraction(name, 10))
    assert v.facts["worst_dead"] >= Thresholds().dead_error
    assert not relu_run.report().is_flagged("dead_relu")


def test_thresholds_decide_not_the_model_name(sigmoid_run):
    # the same records judged with a looser threshold give the opposite verdict
    ratio = sigmoid_run.report().verdict("vanishing_gradients").facts["layer_ratio"]
    loose = Thresholds(vanishing_warn=ratio / 10, vanishing_error=ratio / 100)
    assert not sigmoid_run.report(loose).is_flagged("vanishing_gradients")


def test_learning_rate_verdicts_follow_the_update_ratio():
    low = run_demo("relu-he", steps=10, lr=1e-6, depth=4).report()
    v = low.verdict("lr_too_small")
    assert v.flagged and v.facts["fastest_update"] < Thresholds().lr_low
    high = run_demo("relu-he", steps=10, lr=3.0, depth=4).report()
    assert high.is_flagged("lr_too_large") or high.is_flagged("exploding_gradients")
    assert high.verdict("lr_too_large").facts.get("typical_update", math.inf) > Thresholds().lr_high
