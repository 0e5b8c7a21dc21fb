"""Classify every listed PyTorch name and write the coverage page."""

from __future__ import annotations

import importlib
import inspect
import re
import types
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import torch

import chainrule as cr
from chainrule._refused import REFUSED, NotSupportedError

from . import examples, names, parity
from .names import NAMESPACES, Namespace

STATUSES = ("parity-tested", "implemented", "refused", "missing")
# The summary's rows: a namespace, split by kind where it is large.
_GROUPS = {"": [("functions", {"function"}), ("classes and constants",
                                              {"class", "constant", "submodule"}),
                ("dtypes", {"dtype"})],
           "Tensor": [("methods and properties", {"method", "property"}),
                      ("operators", {"operator"})]}
# The namespace keys chainrule._refused uses.
_REFUSED_KEY = {"": "torch", "Tensor": "Tensor", "nn": "nn", "nn.functional": "nn.functional"}


@dataclass
class Entry:
    name: str
    kind: str
    status: str
    note: str = ""
    value: object = None  # chainrule's object, when it has one


def chainrule_place(ns: Namespace) -> tuple[str, object | None]:
    """chainrule's counterpart of a namespace, as ``(label, object)``; object None if none."""
    for path in ns.chainrule:
        if path == "":
            return "cr", cr
        if path == "Tensor":
            return "cr.Tensor", cr.Tensor
        try:
            return f"cr.{path}", importlib.import_module(f"chainrule.{path}")
        except ImportError:
            continue
    return f"cr.{ns.chainrule[0]}", None


def lookup(owner, name: str, torch_value=None) -> tuple[str, object | None]:
    """("implemented" | "refused" | "missing", the object) for ``owner.name`` in chainrule."""
    if owner is None:
        return "missing", None
    if isinstance(owner, type) and name.startswith("__"):  # an operator: chainrule's own?
        for cls in owner.__mro__[:-1]:
            if name in vars(cls):
                return "implemented", vars(cls)[name]
        return "missing", None
    try:
        value = getattr(owner, name)
    except NotSupportedError:
        return "refused", None
    except (AttributeError, ImportError):  # ImportError: a lazy submodule that cannot load
        return "missing", None
    if isinstance(value, types.ModuleType) and not isinstance(torch_value, types.ModuleType):
        return "missing", None  # a chainrule submodule that happens to share the name
    return "implemented", value


def _category(value) -> str:
    """Functions, classes and values: a hint pairs only names of the same category."""
    if isinstance(value, types.ModuleType):
        return "module"
    if isinstance(value, type):
        return "class"
    return "callable" if callable(value) else "value"


def _files(files: set[str]) -> str:
    shown = sorted(files)
    more = f" +{len(shown) - 2}" if len(shown) > 2 else ""
    return "compared in " + ", ".join(f"`{f}`" for f in shown[:2]) + more


class Coverage:
    """Every namespace's entries, the parity evidence and the examples' status."""

    def __init__(self, tests_dir: Path) -> None:
        self.parity = parity.collect(tests_dir)
        self.places = {ns.key: chainrule_place(ns) for ns in NAMESPACES}
        self.listings = {}
        self.entries: dict[str, list[Entry]] = {}
        for ns in NAMESPACES:
            refused = set(REFUSED.get(_REFUSED_KEY.get(ns.key, ""), {}))
            listing = names.listing(ns.key, refused if ns.key in _REFUSED_KEY else set())
            self.listings[ns.key] = listing
            self.entries[ns.key] = [self._classify(ns, name, kind)
                                    for name, kind in listing.names.items()]
        self._same_objects()

    def _classify(self, ns: Namespace, name: str, kind: str) -> Entry:
        label, owner = self.places[ns.key]
        torch_value = getattr(names.torch_object(ns.key), name)
        status, _ = lookup(owner, name, torch_value)
        if status == "refused":
            family = REFUSED[_REFUSED_KEY[ns.key]][name]
            return Entry(name, kind, status, family.feature)
        if status == "missing":
            return Entry(name, kind, status, self._elsewhere(ns.key, name, torch_value))
        _, value = lookup(owner, name, torch_value)
        evidence = self.parity.get((ns.key, name))
        if evidence:
            return Entry(name, kind, "parity-tested", _files(evidence), value)
        return Entry(name, kind, "implemented", "", value)

    def _same_objects(self) -> None:
        """Rule 3 of ``parity``: a name bound to the very function or class a parity-tested
        name is bound to (``cr.clip`` is ``cr.clamp``) is parity-tested too."""
        tested: dict[int, str] = {}
        for ns in NAMESPACES:
            label = self.places[ns.key][0]
            for e in self.entries[ns.key]:
                if e.status == "parity-tested" and callable(e.value):
                    tested.setdefault(id(e.value), f"{label}.{e.name}")
        for ns in NAMESPACES:
            for e in self.entries[ns.key]:
                if e.status == "implemented" and callable(e.value) and id(e.value) in tested:
                    e.status = "parity-tested"
                    e.note = f"the same object as `{tested[id(e.value)]}`"

    def _elsewhere(self, key: str, name: str, torch_value) -> str:
        """Where else chainrule has the name, if anywhere (``cr.gradcheck`` for
        ``torch.autograd.gradcheck``)."""
        for other in NAMESPACES:
            label, owner = self.places[other.key]
            if other.key == key or owner is None:
                continue
            status, value = lookup(owner, name, torch_value)
            if status == "implemented" and _category(value) == _category(torch_value):
                return f"chainrule has `{label}.{name}`"
        return ""

    # -- the examples --

    def example(self, entry: str) -> tuple[str, str]:
        """(status, note) of one curated example name."""
        path, keywords = examples.parse(entry)
        rest = path.removeprefix("torch.")
        ns = max((n for n in NAMESPACES if not n.key or rest.startswith(n.key + ".")),
                 key=lambda n: len(n.key))
        tail = rest[len(ns.key) + 1:].split(".") if ns.key else rest.split(".")
        listed = {e.name: e for e in self.entries[ns.key]}
        label, owner = self.places[ns.key]
        status, note, value = "implemented", "", owner
        theirs = _torch_object(ns.key)
        for i, part in enumerate(tail):
            theirs = getattr(theirs, part, None)  # a submodule on both sides is a match
            status, value = lookup(value, part, theirs)
            if status != "implemented":
                where = ".".join([label] + tail[:i + 1])
                note = "" if i == len(tail) - 1 else f"no `{where}`"
                break
        if status == "implemented" and len(tail) == 1 and tail[0] in listed:
            status = listed[tail[0]].status
        if status in ("implemented", "parity-tested") and keywords:
            lacking = _lacking_keywords(value, keywords)
            if lacking:
                note = "lacks keyword " + ", ".join(f"`{k}`" for k in lacking)
        return status, note


def _torch_object(path: str):
    """``torch.<path>`` (``''`` is ``torch``, ``'Tensor'`` the class)."""
    obj = torch
    for part in filter(None, path.split(".")):
        obj = getattr(obj, part)
    return obj


def _lacking_keywords(value, keywords) -> list[str]:
    try:
        parameters = inspect.signature(value).parameters
    except (TypeError, ValueError):
        return []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return []
    return [k for k in keywords if k not in parameters]


# ---- the page ------------------------------------------------------------------------------


def _doc(module) -> str:
    """A module docstring, less its first line, as Markdown."""
    text = inspect.cleandoc(module.__doc__).split("\n", 1)[1].strip()
    return text.replace("``", "`")


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render(cov: Coverage) -> str:
    out: list[str] = []
    w = out.append
    w("# chainrule and PyTorch 2.13: API coverage\n")
    w("<!-- Generated by scripts/pytorch_coverage.py: do not edit by hand. -->\n")
    w("This page measures chainrule's API against PyTorch 2.13, name by name. "
      "`scripts/pytorch_coverage.py` writes it, in a few seconds, and "
      "`tests/test_pytorch_coverage.py` fails whenever the page differs from what the script "
      "writes now: after changing the API or its parity tests, run "
      "`python scripts/pytorch_coverage.py`.\n")
    w("Each listed PyTorch name is in one class:\n")
    w("| class | meaning |\n|---|---|")
    w("| parity-tested | chainrule has the name at the corresponding place (`cr.X`, "
      "`cr.Tensor.X`, `cr.nn.X`, ...) and the test suite compares it with PyTorch "
      "([how this is decided](#how-parity-tested-is-decided)) |")
    w("| implemented | chainrule has the name there, and it is not a refusal; no test found "
      "compares it with PyTorch |")
    w("| refused | left out on purpose: using it raises `cr.NotSupportedError`, which says why "
      "and what to use instead ([the list](#refused-on-purpose)) |")
    w("| missing | chainrule does not have it (the note says where chainrule has the same name "
      "elsewhere, if it does) |\n")

    w("## Summary\n")
    w("| namespace | chainrule | " + " | ".join(STATUSES) + " | total |")
    w("|---|---|" + "---:|" * (len(STATUSES) + 1))
    totals: Counter = Counter()
    for ns in NAMESPACES:
        place, owner = cov.places[ns.key]
        label = f"`{place}`" if owner is not None else "none yet"
        groups = _GROUPS.get(ns.key, [("", None)])
        for group, kinds in groups:
            entries = [e for e in cov.entries[ns.key] if kinds is None or e.kind in kinds]
            counts = Counter(e.status for e in entries)
            totals.update(counts)
            title = f"`{ns.torch_label}`" + (f" ({group})" if group else "")
            w(f"| {title} | {label} | " + " | ".join(str(counts[s]) for s in STATUSES)
              + f" | {len(entries)} |")
    w("| **all** | | " + " | ".join(f"**{totals[s]}**" for s in STATUSES)
      + f" | **{sum(totals.values())}** |\n")

    _render_examples(cov, w)
    _render_refused(w)
    w("## How parity-tested is decided\n")
    w(_doc(parity) + "\n")
    _render_filters(cov, w)
    for ns in NAMESPACES:
        label, owner = cov.places[ns.key]
        w(f"## `{ns.torch_label}`\n")
        where = f"`{label}`" if owner is not None else f"nothing yet (`{label}` would be the place)"
        counts = Counter(e.status for e in cov.entries[ns.key])
        w(f"chainrule's counterpart: {where}. "
          + ", ".join(f"{counts[s]} {s}" for s in STATUSES) + ".\n")
        w("| name | kind | status | note |\n|---|---|---|---|")
        for e in sorted(cov.entries[ns.key], key=lambda e: (e.name.lower(), e.name)):
            w(f"| `{e.name}` | {e.kind} | {e.status} | {_md(e.note)} |")
        w("")
    return "\n".join(out).rstrip() + "\n"


def _render_examples(cov: Coverage, w) -> None:
    w("## What public examples use\n")
    w("The PyTorch names used by well-known public programs, listed by hand in "
      "`scripts/api_coverage/examples.py` (methods on their class, keyword arguments in "
      "parentheses when the program passes them; torchvision and other packages left out), "
      "checked the same way as the lists below.\n")
    w("| program | names | " + " | ".join(STATUSES) + " | lacking a keyword |")
    w("|---|---:|" + "---:|" * (len(STATUSES) + 1))
    gaps: dict[str, tuple[str, str, list[str]]] = {}
    for program, used in examples.PROGRAMS.items():
        counts: Counter = Counter()
        for entry in dict.fromkeys(used):
            status, note = cov.example(entry)
            counts[status] += 1
            if note.startswith("lacks"):
                counts["lacking"] += 1
            if status in ("missing", "refused") or note.startswith("lacks"):
                path = examples.parse(entry)[0]
                gaps.setdefault(path, (status, note, []))[2].append(program)
        w(f"| {program} | {sum(counts[s] for s in STATUSES)} | "
          + " | ".join(str(counts[s]) for s in STATUSES) + f" | {counts['lacking']} |")
    w("")
    w("What those programs use that chainrule refuses, lacks, or has without a keyword they "
      "pass:\n")
    w("| name | status | note | used by |\n|---|---|---|---|")
    for path in sorted(gaps, key=lambda p: (gaps[p][0], p)):
        status, note, programs = gaps[path]
        w(f"| `{path}` | {status} | {_md(note)} | {'; '.join(programs)} |")
    w("")


def _render_refused(w) -> None:
    w("## Refused on purpose\n")
    w("The table lives in `src/chainrule/_refused.py`. `cr`, `cr.nn` and `cr.nn.functional` "
      "answer these names from their module `__getattr__` (called only for names a module "
      "lacks, so it costs existing names nothing); `Tensor` holds a raising descriptor for "
      "each. The error is `cr.NotSupportedError`, both a `NotImplementedError` and an "
      "`AttributeError` (so `hasattr` answers False), and reads \"chainrule does not support "
      "<feature> (<name>): <why>; <what to use instead>\".\n")
    families: dict[object, list[str]] = defaultdict(list)
    prefix = {"torch": "cr.", "Tensor": "Tensor.", "nn": "cr.nn.",
              "nn.functional": "cr.nn.functional."}
    for key, table in REFUSED.items():
        for name, family in table.items():
            families[family].append(f"`{prefix[key]}{name}`")
    w("| feature | why | instead | names |\n|---|---|---|---|")
    for family, refused in families.items():
        w(f"| {family.feature} | {_md(family.why)} | {_md(family.instead)} | "
          f"{', '.join(refused)} |")
    w("")


def _render_filters(cov: Coverage, w) -> None:
    w("## How names are chosen\n")
    doc = _doc(names)
    w(re.sub(r"`(DEPRECATED|TORCH_CLASSES|OPERATORS)`",
             r"`\1` in `scripts/api_coverage/names.py`", doc) + "\n")
    w("What each rule left out:\n")
    w("| namespace | rule | count | names |\n|---|---|---:|---|")
    for ns in NAMESPACES:
        for rule, dropped in sorted(cov.listings[ns.key].dropped.items()):
            shown = "" if rule in ("private", "dunder") else ", ".join(
                f"`{n}`" for n in dropped)
            w(f"| `{ns.torch_label}` | {rule} | {len(dropped)} | {shown} |")
    w("")


def check_torch() -> None:
    if not torch.__version__.startswith("2.13."):
        raise SystemExit(f"pytorch_coverage: needs torch 2.13 (the oracle), found "
                         f"{torch.__version__}")
