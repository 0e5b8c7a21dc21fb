"""Every public callable, called with every category of bad input, against PyTorch.

See ``_bad_input.py`` for the verdicts and ``_bad_input_table.py`` for the good calls the bad
ones are derived from. A call passes when chainrule matches PyTorch's value (PyTorch accepts)
or refuses with a clean error naming the function (PyTorch refuses), never a raw NumPy or
Python error, never a hang.
"""

from __future__ import annotations

import pytest

from _bad_input import sweep
from _bad_input_table import EXCLUDED, SPEC_IDS, SPECS, allowed, public_callables


def test_every_public_callable_is_swept():
    missing = [c for c in public_callables() if c not in SPEC_IDS and c not in EXCLUDED]
    assert not missing, f"public callables with no sweep row and no exclusion: {missing}"


def test_exclusions_are_still_public():
    gone = [c for c in EXCLUDED if c not in public_callables()]
    assert not gone, f"excluded names that are no longer public: {gone}"


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_bad_input(spec):
    verdicts = sweep(spec, allowed)
    good = verdicts[0]
    assert good.category == "good" and good.verdict == "ok", f"the good call fails: {good}"
    bad = [f"{v.verdict} {v.arg}={v.category}: {v.detail}" for v in verdicts if v.verdict != "ok"]
    assert not bad, "\n".join(bad)
