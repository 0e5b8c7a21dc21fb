"""``cr.backends``, the process-wide switches, threads, ``cr.compile``, ``cr.jit`` and print
options, against a CPU-only PyTorch 2.13 where it defines the behaviour (see ``_twin``)."""

from __future__ import annotations

import doctest
import importlib
import warnings

import pytest
import torch

import chainrule as cr
from _twin import same


@pytest.fixture(autouse=True)
def _restore_switches():
    """Every switch back to its default in both libraries, whatever a test set."""
    saved = {L: (L.get_float32_matmul_precision(), L.are_deterministic_algorithms_enabled(),
                 L.backends.cudnn.benchmark, L.backends.cudnn.deterministic,
                 L.backends.cudnn.enabled, L.backends.cudnn.allow_tf32, L.get_num_threads())
             for L in (torch, cr)}
    yield
    for L, (prec, det, bench, cdet, enabled, tf32, threads) in saved.items():
        L.set_float32_matmul_precision(prec)
        L.use_deterministic_algorithms(det)
        L.backends.cudnn.benchmark, L.backends.cudnn.deterministic = bench, cdet
        L.backends.cudnn.enabled, L.backends.cudnn.allow_tf32 = enabled, tf32
        L.set_num_threads(threads)
    cr.set_printoptions(profile="default")


# ---- backends -----------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda L: L.backends.mps.is_available(), lambda L: L.backends.mps.is_built(),
    lambda L: L.backends.cuda.is_built(), lambda L: L.backends.cudnn.is_available(),
    lambda L: L.backends.cudnn.version(), lambda L: L.backends.cudnn.is_acceptable(L.zeros(1)),
    lambda L: L.backends.cudnn.enabled, lambda L: L.backends.cudnn.benchmark,
    lambda L: L.backends.cudnn.deterministic, lambda L: L.backends.cudnn.allow_tf32,
    lambda L: L.backends.cudnn.benchmark_limit if L is cr else None,
    lambda L: L.backends.cuda.matmul.allow_tf32,
    lambda L: L.backends.cuda.matmul.allow_fp16_reduced_precision_reduction,
    lambda L: L.backends.cuda.matmul.allow_bf16_reduced_precision_reduction,
    lambda L: L.backends.cuda.flash_sdp_enabled(), lambda L: L.backends.cuda.math_sdp_enabled(),
    lambda L: L.backends.cuda.mem_efficient_sdp_enabled(),
    lambda L: L.backends.mkldnn.enabled, lambda L: L.backends.mkldnn.deterministic,
    lambda L: L.backends.cuda.matmul.foo,
])
def test_backend_queries_match_pytorch(call):
    same(lambda: call(torch), lambda: call(cr))


def test_what_chainrule_reports_about_its_own_build():
    # PyTorch's CPU build has oneDNN, MKL and OpenMP; chainrule's BLAS is NumPy's OpenBLAS
    assert not cr.backends.mkldnn.is_available() and not cr.backends.mkl.is_available()
    assert not cr.backends.openmp.is_available()


@pytest.mark.parametrize("assign", [
    lambda L: setattr(L.backends.cudnn, "benchmark", True),
    lambda L: setattr(L.backends.cudnn, "deterministic", True),
    lambda L: setattr(L.backends.cudnn, "enabled", False),
    lambda L: setattr(L.backends.cudnn, "allow_tf32", False),
    lambda L: setattr(L.backends.cudnn, "benchmark", 7),
    lambda L: setattr(L.backends.cudnn, "deterministic", "yes"),
    lambda L: setattr(L.backends.cuda.matmul, "allow_tf32", 1),
    lambda L: setattr(L.backends.cuda.matmul, "foo", True),
])
def test_backend_switches_are_kept_and_checked_like_pytorch(assign):
    def run(L):
        assign(L)
        b = L.backends
        return (b.cudnn.benchmark, b.cudnn.deterministic, b.cudnn.enabled, b.cudnn.allow_tf32,
                b.cuda.matmul.allow_tf32, L.get_float32_matmul_precision())

    same(lambda: run(torch), lambda: run(cr))


def test_cudnn_module_imports_and_assigns_like_pytorchs():
    import chainrule.backends.cudnn as cudnn

    cudnn.benchmark = True
    assert cr.backends.cudnn.benchmark is True
    with cudnn.flags(enabled=False, benchmark=False):
        assert not cudnn.enabled and not cudnn.benchmark
    assert cudnn.enabled and cudnn.benchmark


def test_matmul_allow_tf32_is_tied_to_the_matmul_precision_like_pytorch():
    def run(L):
        seen = []
        for step in ("high", "highest", True, False, "medium", "highest"):
            if isinstance(step, bool):
                L.backends.cuda.matmul.allow_tf32 = step
            else:
                L.set_float32_matmul_precision(step)
            seen.append((L.get_float32_matmul_precision(), L.backends.cuda.matmul.allow_tf32))
        return seen

    same(lambda: run(torch), lambda: run(cr))


def test_sdp_switches_are_kept():
    cr.backends.cuda.enable_flash_sdp(False)
    assert cr.backends.cuda.flash_sdp_enabled() is False
    cr.backends.cuda.enable_flash_sdp(True)


# ---- settings -----------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda L: (L.set_float32_matmul_precision("high"), L.get_float32_matmul_precision()),
    lambda L: (L.set_float32_matmul_precision("medium"), L.get_float32_matmul_precision()),
    lambda L: (L.set_float32_matmul_precision("bogus"), L.get_float32_matmul_precision()),
    lambda L: (L.use_deterministic_algorithms(True), L.are_deterministic_algorithms_enabled(),
               L.is_deterministic_algorithms_warn_only_enabled()),
    lambda L: (L.use_deterministic_algorithms(True, warn_only=True),
               L.is_deterministic_algorithms_warn_only_enabled()),
    lambda L: L.use_deterministic_algorithms(1),
    lambda L: (L.backends.cudnn.__setattr__("deterministic", True),
               L.are_deterministic_algorithms_enabled()),
])
def test_switches_match_pytorch(call):
    same(lambda: call(torch), lambda: call(cr))


def test_an_unknown_matmul_precision_warns_like_pytorch():
    for L in (torch, cr):
        with pytest.warns(UserWarning, match="bogus"):
            L.set_float32_matmul_precision("bogus")


# ---- threads ------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda L: (L.set_num_threads(1), L.get_num_threads()),
    lambda L: (L.set_num_threads(2), L.get_num_threads()),
    lambda L: L.set_num_threads(0), lambda L: L.set_num_threads(-1),
    lambda L: L.set_num_threads(1.5), lambda L: L.set_num_threads(True),
    lambda L: L.get_num_threads() >= 1, lambda L: L.get_num_interop_threads() >= 1,
])
def test_threads_match_pytorch(call):
    same(lambda: call(torch), lambda: call(cr))


def test_set_num_threads_drives_openblas():
    from chainrule import threads

    if not threads._openblas():
        pytest.fail("NumPy's bundled OpenBLAS was not found; the project's wheels ship it")
    cr.set_num_threads(1)
    assert threads._openblas()[1]() == 1
    cr.set_num_threads(2)
    assert threads._openblas()[1]() == 2


# ---- compile and jit ----------------------------------------------------------------------------
def test_compile_returns_the_model_and_says_so_once(monkeypatch):
    from chainrule import compiler

    monkeypatch.setattr(compiler, "_told", False)
    net = cr.nn.Linear(2, 2)
    with pytest.warns(UserWarning, match="no compiler"):
        assert cr.compile(net) is net
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cr.compile(net, mode="max-autotune") is net  # once per process
        f = cr.compile(lambda x: x + 1)
        assert f(cr.ones(1)).tolist() == [2.0]

        @cr.compile(fullgraph=True)
        def g(x):
            return x * 3

        assert g(cr.ones(1)).tolist() == [3.0]


def _twice(x):
    return 2 * x


@pytest.mark.parametrize("call", [
    lambda L: L.compile(L.nn.Linear(1, 1), mode="reduce-overhead", options={}),
    lambda L: L.compile(len, disable=True) is len, lambda L: L.compile(disable=True)(len) is len,
    lambda L: L.compiler.is_compiling(), lambda L: L.compiler.disable(_twice)(2),
    lambda L: L.jit.is_scripting(), lambda L: L.jit.is_tracing(),
    lambda L: L.jit.annotate(int, 3), lambda L: L.jit.ignore(_twice)(2),
    lambda L: L.jit.unused(_twice)(2), lambda L: L.jit.export(_twice)(2),
])
def test_compile_and_jit_helpers_match_pytorch(call):
    same(lambda: call(torch), lambda: call(cr))


@pytest.mark.parametrize("call", [
    lambda: cr.jit.script(cr.nn.Linear(2, 2)), lambda: cr.jit.trace(cr.nn.Linear(2, 2),
                                                                     cr.ones(1, 2)),
    lambda: cr.jit.load("model.pt"), lambda: cr.jit.save(None, "model.pt"),
])
def test_torchscript_is_refused_clearly(call):
    with pytest.raises(NotImplementedError, match="no TorchScript.*cr.save"):
        call()


def test_jit_decorators_leave_model_code_working():
    class Net(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = cr.nn.Linear(2, 2)

        @cr.jit.ignore
        def helper(self, x):
            return x * 2

        @cr.jit.ignore(drop=True)
        def other(self, x):
            return x + 1

        def forward(self, x):
            if cr.jit.is_scripting():
                raise AssertionError("never scripting")
            return self.other(self.helper(self.fc(x)))

    assert Net()(cr.ones(1, 2)).shape == (1, 2)


# ---- printing -----------------------------------------------------------------------------------
def test_print_options():
    x = cr.tensor([1.23456, 2.0])
    cr.set_printoptions(precision=2)
    assert repr(x) == "tensor([1.23, 2.  ])"
    cr.set_printoptions(profile="default")
    assert repr(x) == "tensor([1.2346, 2.    ])"
    cr.set_printoptions(threshold=5, edgeitems=2)
    assert repr(cr.arange(10)) == "tensor([0, 1, ..., 8, 9])"
    cr.set_printoptions(profile="full")
    assert "..." not in repr(cr.arange(2000))
    cr.set_printoptions(profile="default", sci_mode=True)
    assert "e+02" in repr(cr.tensor([1.5, 200.0]))
    cr.set_printoptions(sci_mode=False)
    assert "e" not in repr(cr.tensor([1e-8, 200.0])).removeprefix("tensor")
    cr.set_printoptions(profile="default", linewidth=20)
    assert max(len(line) for line in repr(cr.arange(12.0)).splitlines()) <= 20
    with pytest.raises(ValueError, match="profile"):
        cr.set_printoptions(profile="bogus")
    with pytest.raises(ValueError, match="precision"):
        cr.set_printoptions(precision=-1)


# ---- the examples in the docstrings -------------------------------------------------------------
@pytest.mark.parametrize("module", [
    "chainrule.devices", "chainrule.cuda", "chainrule.cuda.amp", "chainrule.cpu",
    "chainrule.cpu.amp", "chainrule.amp", "chainrule.amp.autocast_mode",
    "chainrule.amp.grad_scaler", "chainrule.accelerator", "chainrule.backends",
    "chainrule.backends.cudnn", "chainrule.backends.cuda", "chainrule.backends.mps",
    "chainrule.backends.mkldnn", "chainrule.backends.mkl", "chainrule.backends.openmp",
    "chainrule.settings", "chainrule.threads", "chainrule.compiler", "chainrule.jit",
    "chainrule.printing", "chainrule.creation", "chainrule.methods",
])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
