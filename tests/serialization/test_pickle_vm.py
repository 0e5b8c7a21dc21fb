"""The restricted interpreter reads what Python's pickle writes, for every protocol, as long as
the data is plain; it refuses the rest by itself, whatever the caller allows."""

import pickle
from collections import OrderedDict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainrule.serialization import UnpicklingError
from chainrule.serialization.pickle_vm import SafeCall, Unpickler
from chainrule.serialization.torch_globals import TorchGlobals

scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
           | st.text() | st.binary(max_size=20) | st.complex_numbers(allow_nan=False))
keys = st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.binary(max_size=5)
plain = st.recursive(scalars, lambda inner: (
    st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(keys, inner, max_size=4)
    | st.frozensets(keys, max_size=3) | st.sets(keys, max_size=3)
    | st.builds(OrderedDict, st.dictionaries(st.text(max_size=3), inner, max_size=3))),
    max_leaves=12)


def vm_load(data: bytes):
    g = TorchGlobals("test", False)  # bytes, sets and OrderedDict come through globals
    return Unpickler(data, find_global=g.find_global, new_object=g.new_object,
                     build=g.build).load()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@given(obj=plain)
def test_reads_what_pickle_writes(protocol, obj):
    got = vm_load(pickle.dumps(obj, protocol=protocol))
    assert got == obj
    assert type(got) is type(obj)


def test_shared_and_recursive_references():
    inner = [1, 2]
    loop: list = [inner, inner]
    loop.append(loop)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        got = vm_load(pickle.dumps(loop, protocol=protocol))
        assert got[0] is got[1] and got[2] is got and got[0] == [1, 2]


def test_python2_strings_follow_the_encoding():
    data = b"\x80\x02U\x04caf\xe9q\x00."  # SHORT_BINSTRING, as Python 2 wrote a str
    with pytest.raises(UnpicklingError, match="decode"):
        Unpickler(data).load()
    assert Unpickler(data, encoding="latin1").load() == "café"
    assert Unpickler(data, encoding="bytes").load() == b"caf\xe9"


def test_reduce_calls_only_safe_calls():
    calls = []
    allowed = SafeCall("mine.f", lambda *a: calls.append(a) or "ok")
    data = b"\x80\x02cmine\nf\nK\x01\x85R."
    assert Unpickler(data, find_global=lambda m, n: allowed).load() == "ok"
    assert calls == [(1,)]
    with pytest.raises(UnpicklingError, match="calls mine.f"):
        Unpickler(data, find_global=lambda m, n: print).load()  # a real function: never called


def test_no_globals_by_default():
    with pytest.raises(UnpicklingError, match="os.system"):
        Unpickler(b"\x80\x02cos\nsystem\n.").load()


def test_position_after_stop_allows_a_stream_of_pickles():
    data = pickle.dumps(1, protocol=2) + pickle.dumps("two", protocol=4)
    u = Unpickler(data)
    assert u.load() == 1
    u2 = Unpickler(data, u.pos)
    assert u2.load() == "two" and u2.pos == len(data)
