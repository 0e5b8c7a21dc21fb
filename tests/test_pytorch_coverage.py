"""docs/pytorch-coverage.md is what scripts/pytorch_coverage.py writes now, and the script's
rules do what the page says: the parity evidence it reads from the tests, and its lists."""

import functools
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import chainrule as cr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from api_coverage import examples, names, parity  # noqa: E402
from api_coverage.report import lookup  # noqa: E402


def test_page_is_current():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "pytorch_coverage.py"),
                           "--check"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


# ---- rule 2, twin tests: synthetic test files ------------------------------------------------


def _twins(source: str) -> set:
    return parity.twins(textwrap.dedent(source))


def test_a_name_on_both_sides_of_one_test_is_a_twin():
    found = _twins("""
        import torch
        import chainrule as cr
        from chainrule import nn
        from chainrule.nn.utils import clip_grad_norm_
        import torch.nn.functional as TF
        import chainrule.nn.functional as F

        def test_linear():
            run(nn.Linear(2, 3), torch.nn.Linear(2, 3))

        def test_clip():
            clip_grad_norm_([], 1.0)
            torch.nn.utils.clip_grad_norm_([], 1.0)
            F.relu(x), TF.relu(x)

        def test_tensor_class(x):
            return isinstance(x, cr.Tensor) or isinstance(x, torch.Tensor)

        TABLE = [pair(cr.optim.SGD, torch.optim.SGD)]
    """)
    assert found == {("nn", "Linear"), ("nn.utils", "clip_grad_norm_"),
                     ("nn.functional", "relu"), ("", "Tensor"), ("optim", "SGD")}


def test_one_side_only_or_sides_in_different_tests_is_not_a_twin():
    assert _twins("""
        import torch
        import chainrule as cr
        from chainrule import nn

        def test_ours():
            nn.Linear(2, 3)
            cr.exp(x)

        def test_theirs():
            torch.nn.Linear(2, 3)
            torch.exp(x)
    """) == set()


def test_getattr_names_come_from_parametrize_loops_and_helper_callers():
    found = _twins("""
        import pytest
        import torch
        from chainrule import nn
        import chainrule.nn.functional as F

        ACTIVATIONS = [("ReLU", {}), pytest.param("Tanh", {}, id="tanh")]

        @pytest.mark.parametrize("name,kwargs", ACTIVATIONS)
        @pytest.mark.parametrize("reduction", ["sum"])
        def test_modules(name, kwargs, reduction):
            getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)

        def test_loop():
            for fn in ["relu", "gelu"]:
                getattr(F, fn), getattr(torch.nn.functional, fn)

        def _both(loss, **kw):
            return getattr(nn, loss)(**kw), getattr(torch.nn, loss)(**kw)

        @pytest.mark.parametrize("which", ["L1Loss"])
        def test_losses(which):
            _both(which)
            _both("MSELoss", reduction="sum")

        def test_only_ours():
            getattr(nn, "Sigmoid")
    """)
    assert found == {("nn", "ReLU"), ("nn", "Tanh"), ("nn.functional", "relu"),
                     ("nn.functional", "gelu"), ("nn", "L1Loss"), ("nn", "MSELoss")}


def test_a_lambda_called_with_both_libraries_is_a_twin():
    found = _twins("""
        import pytest
        import torch
        import chainrule as cr

        SCHEDULERS = [sched("step", lambda m, o: m.StepLR(o, 2)),
                      sched("seq", lambda m, o: m.SequentialLR(o, [m.LinearLR(o)]))]
        OTHERS = [lambda m, o: m.ExponentialLR(o, 0.9)]

        @pytest.mark.parametrize("build, metric", SCHEDULERS)
        def test_schedulers(build, metric):
            build(cr.optim.lr_scheduler, opt)
            build(torch.optim.lr_scheduler, opt)

        @pytest.mark.parametrize("make", OTHERS)
        def test_one_side(make):
            make(cr.optim.lr_scheduler, opt)
    """)
    assert found == {("optim.lr_scheduler", n) for n in ("StepLR", "SequentialLR", "LinearLR")}


# ---- rule 1, the op table ----------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _op_table():
    return parity.op_table(ROOT / "tests" / "test_ops.py")


def test_op_table_records_what_rows_reach_and_nothing_internal():
    found = _op_table()
    for key in [("", "exp"), ("nn.functional", "cross_entropy"), ("Tensor", "__add__"),
                ("Tensor", "__rmatmul__"), ("Tensor", "__setitem__"), ("Tensor", "T"),
                ("Tensor", "sum"), ("", "float32")]:
        assert key in found, key
    # names chainrule's own code reads while running a row are not the row's
    assert not {k for k in found if k[0] == "Tensor" and k[1].startswith("_")
                and not k[1].endswith("__")}


def test_op_table_counts_what_a_row_reaches_only_when_its_case_runs(tmp_path):
    (tmp_path / "test_ops.py").write_text(textwrap.dedent("""
        from dataclasses import dataclass

        import numpy as np

        import chainrule as cr

        class _Namespace:
            def __getattr__(self, name):
                return getattr(cr, name)

        CR = _Namespace()

        @dataclass
        class Row:
            fn: object
            cases: list

        def _arrays(row, case):
            return [np.ones(3)]

        def make_inputs(arrays, lib):
            return [cr.tensor(a) for a in arrays]

        ROWS = [Row(lambda L, x: L.exp(x) + x.sum(), [()]),
                Row(lambda L, x: L.sin(x)[7], [()])]  # out of range: raises, counts nothing
    """))
    assert parity.op_table(tmp_path / "test_ops.py") == {
        ("", "exp"), ("Tensor", "sum"), ("Tensor", "__add__")}


def test_op_table_leaves_tensor_as_it_was():
    add = vars(cr.Tensor)["__add__"]
    _op_table.cache_clear()
    _op_table()
    assert "__getattribute__" not in vars(cr.Tensor)
    assert vars(cr.Tensor)["__add__"] is add


# ---- the lists and the examples ------------------------------------------------------------


def test_refused_names_are_listed_and_classified_refused():
    listing = names.listing("", {"fx", "sparse_coo_tensor"})
    assert {"fx", "sparse_coo_tensor"} <= set(listing.names)  # fx is a module: listed anyway
    assert lookup(cr, "fx")[0] == "refused"
    assert lookup(cr.Tensor, "to_sparse")[0] == "refused"
    assert lookup(cr, "exp")[0] == "implemented" and lookup(cr, "nope")[0] == "missing"
    assert lookup(cr.Tensor, "__add__")[0] == "implemented"
    assert lookup(cr.Tensor, "__sizeof__")[0] == "missing"  # object's, not chainrule's


def test_every_listed_name_is_pytorch_api_and_rules_drop_noise():
    listing = names.listing("", set())
    assert {"exp", "tensor", "Tensor", "no_grad", "float32", "pi"} <= set(listing.names)
    dropped = {n for ns in listing.dropped.values() for n in ns}
    assert {"abs_", "cudnn_convolution", "t_copy", "sym_int", "AliasDb", "FloatTensor",
            "bits8", "range"} <= dropped
    assert "index_copy" in listing.names  # a real op, not a view-copy variant
    tensor = names.listing("Tensor", set())
    assert {"__add__", "__getitem__", "__format__", "view", "T"} <= set(tensor.names)
    assert "__repr__" not in tensor.names and "__torch_function__" not in tensor.names


@pytest.mark.parametrize("program", sorted(examples.PROGRAMS))
def test_examples_name_real_pytorch_api(program):
    for entry in examples.PROGRAMS[program]:
        path, keywords = examples.parse(entry)
        value = torch
        for part in path.split(".")[1:]:
            value = getattr(value, part)
        try:
            parameters = inspect.signature(value).parameters
        except (TypeError, ValueError):
            continue
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            assert set(keywords) <= set(parameters), f"{entry}: torch has no such keyword"
