"""Allocator tuning (``cr.tune_allocator``): off at import, on where chainrule owns the loop.

malloc's options belong to the process, and tests (``fit`` among them) tune the process they
run in, so each check runs in a fresh interpreter. Besides ``_alloc.applied`` the child asks
glibc itself: with its defaults an 8 MiB block is served by ``mmap`` (``mallinfo2().hblks``
grows while it is held), with the tuned threshold of 32 MiB it comes from the heap.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from chainrule import _alloc

glibc = pytest.mark.skipif(not _alloc._is_glibc(), reason="mallopt tuning is glibc-only")

PROBE = textwrap.dedent("""
    import ctypes, json, sys

    def big_block_is_mmapped():
        libc = ctypes.CDLL("libc.so.6")
        class Info(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                "uordblks", "fordblks", "keepcost")]
        libc.mallinfo2.restype = Info
        libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
        libc.free.argtypes = [ctypes.c_void_p]
        before = libc.mallinfo2().hblks
        p = libc.malloc(8 << 20)
        during = libc.mallinfo2().hblks
        libc.free(p)
        return during > before

    import chainrule as cr
    from chainrule import _alloc
    out = {"after_import": _alloc.applied}
    {body}
    out["applied"] = _alloc.applied
    out["mmapped"] = big_block_is_mmapped()
    print(json.dumps(out))
""")


def _probe(body: str = "", **env: str) -> dict:
    """Run ``body`` in a fresh interpreter after ``import chainrule``; report malloc's state."""
    full_env = {k: v for k, v in os.environ.items()
                if k not in (_alloc.ENV_ON, _alloc.ENV_OFF)}
    full_env.update(env)
    code = PROBE.replace("{body}", textwrap.dedent(body).strip())
    proc = subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@glibc
def test_import_leaves_malloc_untouched():
    out = _probe()
    assert out == {"after_import": False, "applied": False, "mmapped": True}


@glibc
def test_explicit_call_applies_the_settings():
    out = _probe("""
        out["first"] = cr.tune_allocator()
        out["second"] = cr.tune_allocator()
    """)
    assert out == {"after_import": False, "first": True, "second": True, "applied": True,
                   "mmapped": False}


@glibc
def test_environment_variable_applies_at_import():
    out = _probe(CHAINRULE_MALLOPT="1")
    assert out == {"after_import": True, "applied": True, "mmapped": False}
    assert _probe(CHAINRULE_MALLOPT="0")["after_import"] is False


FIT = """
    X = cr.randn(16, 2); y = (X[:, 0] > 0).long()
    cr.train.fit(cr.nn.Linear(2, 2), (X, y), loss="cross_entropy", optimizer="sgd", lr=0.1,
                 epochs=1, verbose=0)
"""

CLI = """
    import types
    from chainrule import cli
    seen = {}
    def command(args):
        seen["applied"] = _alloc.applied
        return 0
    def add_parser(sub):
        sub.add_parser("probe").set_defaults(func=command)
    sys.modules["probe_command"] = types.SimpleNamespace(add_parser=add_parser)
    cli.COMMANDS["probe"] = "probe_command"
    assert cli.main(["probe"]) == 0
    out["during_command"] = seen["applied"]
"""


@glibc
def test_fit_applies_the_settings():
    assert _probe(FIT) == {"after_import": False, "applied": True, "mmapped": False}


@glibc
def test_cli_applies_the_settings_before_the_command_runs():
    out = _probe(CLI)
    assert out == {"after_import": False, "during_command": True, "applied": True,
                   "mmapped": False}


@glibc
@pytest.mark.parametrize("body", ["out['returned'] = cr.tune_allocator()", FIT, CLI])
def test_opt_out_wins_everywhere(body):
    out = _probe(body, CHAINRULE_NO_MALLOPT="1", CHAINRULE_MALLOPT="1")
    assert out["after_import"] is False and out["applied"] is False
    assert out["mmapped"] is True
    assert out.get("returned", False) is False and out.get("during_command", False) is False


def test_not_glibc_changes_nothing(monkeypatch):
    # Where the C library is not glibc there is no mallopt to call: report False, touch nothing.
    monkeypatch.setattr(_alloc, "_is_glibc", lambda: False)
    monkeypatch.setattr(_alloc, "applied", False)
    monkeypatch.delenv(_alloc.ENV_OFF, raising=False)
    assert _alloc.tune_allocator() is False
    assert _alloc.applied is False


def test_docstring_example_runs():
    out = _probe("""
        import doctest
        result = doctest.testmod(_alloc)
        out["doctest"] = [result.attempted > 0, result.failed]
    """)
    assert out["doctest"] == [True, 0]
