"""What ``detach()`` remembers about its source: enough to name the cut, never a live graph."""

import copy
import gc
import pickle
import weakref

import numpy as np

import chainrule as cr


def test_detach_records_its_source_weakly():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    z = w * 2.0
    node = weakref.ref(z._node)
    h = z.detach()
    rec = h._detached_from
    assert rec() is z and rec.op == "mul" and rec.inputs[0]() is w
    assert rec.inputs[1] is None  # the constant 2.0 could never lead back to a parameter
    del z
    gc.collect()
    assert node() is None and rec() is None  # the copy kept no graph alive
    assert rec.inputs[0]() is w  # what outlives the product still says where it came from


def test_detach_of_a_leaf_and_of_a_detached_copy():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    rec = w.detach()._detached_from
    assert rec() is w and rec.op is None and rec.inputs == ()
    assert w.detach().detach()._detached_from() is w  # the first cut is the one that counts
    assert cr.tensor([1.0]).detach()._detached_from is None  # nothing carried a gradient
    assert (w * 2.0)._detached_from is None


def test_a_pickled_or_copied_detached_tensor_forgets_its_source():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    h = (w * 2.0).detach()
    for back in (pickle.loads(pickle.dumps(h)), copy.deepcopy(h), copy.copy(h)):
        assert np.array_equal(back.detach().numpy(), h.detach().numpy())
    assert pickle.loads(pickle.dumps(h))._detached_from is None
    assert copy.deepcopy(h)._detached_from is None


def test_docstring_example_runs():
    import doctest

    from chainrule.autograd import detached

    result = doctest.testmod(detached)
    assert result.attempted > 0 and result.failed == 0
