"""PyTorch modules every build has: importable here, with a clear error when a feature is used."""

import doctest
import importlib
import subprocess
import sys

import pytest

import chainrule as cr
import chainrule._unavailable
import chainrule.distributed as dist
import chainrule.nn.parallel as parallel
import chainrule.onnx as onnx


@pytest.mark.parametrize("module", ["chainrule._unavailable", "chainrule.distributed",
                                    "chainrule.onnx", "chainrule.nn.parallel"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_imports_work_in_a_fresh_interpreter():
    code = ("import chainrule as cr, chainrule.distributed, chainrule.onnx, "
            "chainrule.nn.parallel; from chainrule.nn.parallel import DistributedDataParallel; "
            "from chainrule.nn import DataParallel; cr.distributed; cr.onnx")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_questions_answer_false():
    assert dist.is_initialized() is False  # chainrule.distributed is real: tests/distributed
    assert not dist.is_nccl_available() and not dist.is_gloo_available()
    assert not dist.is_torchelastic_launched()
    assert onnx.is_in_onnx_export() is False


@pytest.mark.parametrize("call,name", [
    (lambda: dist.send(cr.ones(2), 1), "chainrule.distributed.send"),
    (lambda: onnx.register_custom_op_symbolic("::op", None, 17),
     "chainrule.onnx.register_custom_op_symbolic"),
    (lambda: cr.nn.DataParallel(cr.nn.Linear(2, 2)), "chainrule.nn.parallel.DataParallel"),
    (lambda: parallel.data_parallel(cr.nn.Linear(2, 2), cr.ones(1, 2)),
     "chainrule.nn.parallel.data_parallel"),
])
def test_using_a_feature_says_it_is_not_available(call, name):
    with pytest.raises(NotImplementedError, match=rf"^{name}: .* is not available yet in "
                                                  "chainrule"):
        call()


def test_placeholders_have_pytorch_shapes():
    assert issubclass(parallel.DataParallel, cr.nn.Module)
    assert issubclass(parallel.DistributedDataParallel, cr.nn.Module)
    assert cr.nn.DataParallel is parallel.DataParallel
    assert parallel.DataParallel.__name__ == "DataParallel"
    assert dist.get_world_size.__name__ == "get_world_size"
    assert "Not available yet" in chainrule._unavailable.unavailable_function("x", "a.b").__doc__
