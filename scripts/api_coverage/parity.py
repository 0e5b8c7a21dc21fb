"""Which chainrule names the test suite compares with PyTorch: the "parity-tested" class.

The rules read the tests themselves, so the answer follows the suite and cannot drift from it:

1. **The op table.** Every row of ``tests/test_ops.py`` runs ``test_torch_parity``, which
   compares the row's outputs and input gradients with torch's. A row's chainrule side is one
   function, ``fn(L, *tensors)``. ``op_table`` runs it on each of the row's cases with the
   oracle's ``L`` (``tests/_oracle.py``: ``cr.<name>``, else ``cr.nn.functional.<name>``),
   wrapped to record what the row's own code reaches: ``L.<name>``, Tensor attributes
   (``x.sum``, ``x.T``) and Tensor operators (``a + b``, ``x[i]``). Only lookups made by code
   in ``test_ops.py`` count, not those chainrule makes internally, and a case that raises
   counts for nothing.
2. **Twin tests.** Anywhere in ``tests/``, a unit (a module-level function or a method, with
   its decorators, or another module-level statement such as a table) that names the same API
   on chainrule's side and on torch's side, at the corresponding place:

   - ``nn.Linear(...)`` and ``torch.nn.Linear(...)``; ``cr.optim.SGD`` and
     ``torch.optim.SGD`` in one table entry;
   - ``getattr(F, fn)`` and ``getattr(TF, fn)``, where ``fn`` is a string, a parameter of the
     test's ``pytest.mark.parametrize`` or a ``for`` loop over literal strings, or a parameter
     of a helper (``_both(name)``) whose callers pass such strings;
   - a lambda ``lambda m, o: m.StepLR(o, ...)`` taken from the test's parametrize values and
     called by the test with both ``cr.optim.lr_scheduler`` and ``torch.optim.lr_scheduler``.

   Names are resolved through the file's imports with ``ast``; nothing is run.
3. **The same object.** A name bound to the very function or class that a name found by
   rule 1 or 2 is bound to counts too (``cr.clip`` is ``cr.clamp``, the method ``Tensor.exp``
   is ``cr.exp``); its note names the name that was compared. ``report.py`` applies this one.

Out of reach of both rules: Tensor methods called on variables outside the op table (the
library of a variable is not known statically), so ``y.backward()`` in a twin test counts
nowhere.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections import defaultdict
from pathlib import Path

from .names import NAMESPACES, OPERATORS

Key = tuple[str, str]  # (namespace key, name), e.g. ("nn", "Linear"), ("", "exp")

# chainrule's and torch's module paths (below the package) of each compared namespace.
_CHAINRULE = {path: ns.key for ns in NAMESPACES for path in ns.chainrule}
_CHAINRULE["functional"] = ""  # chainrule.functional.<op> is cr.<op>
_TORCH = {ns.key: ns.key for ns in NAMESPACES}


def collect(tests_dir: Path) -> dict[Key, set[str]]:
    """Every parity-tested name, with the test files (relative to ``tests_dir``) showing it."""
    found: dict[Key, set[str]] = defaultdict(set)
    for key in op_table(tests_dir / "test_ops.py"):
        found[key].add("test_ops.py")
    for path in sorted(tests_dir.rglob("*.py")):
        for key in twins(path.read_text(encoding="utf-8")):
            found[key].add(path.relative_to(tests_dir).as_posix())
    return dict(found)


# ---- rule 1: the op table ------------------------------------------------------------------


def op_table(path: Path) -> set[Key]:
    """Run every row of the op table once per case, recording what the row's code reaches."""
    tests_dir = str(path.parent)
    added = tests_dir not in sys.path
    if added:
        sys.path.insert(0, tests_dir)  # the table imports tests/_oracle.py
    try:
        spec = importlib.util.spec_from_file_location("_api_coverage_test_ops", path)
        table = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = table  # its dataclasses look their module up there
        spec.loader.exec_module(table)
    finally:
        if added:
            sys.path.remove(tests_dir)
    source = table._arrays.__code__.co_filename

    import chainrule as cr

    oracle = table.CR  # tests/_oracle.py's namespace: L.<name> on chainrule's side
    modules = ((cr, ""), (cr.nn.functional, "nn.functional"))
    found: set[Key] = set()

    class RecordingNamespace:
        """``L`` as the op table gets it from the oracle, noting where each name came from."""

        def __getattr__(self, name):
            value = getattr(oracle, name)
            for module, key in modules:
                if getattr(module, name, None) is value:
                    found.add((key, name))
                    break
            return value

    tensor = cr.Tensor
    own = vars(tensor).get("__getattribute__")  # None: Tensor uses object's
    plain = own or object.__getattribute__

    def spy_attribute(self, name):
        if sys._getframe(1).f_code.co_filename == source:
            found.add(("Tensor", name))
        return plain(self, name)

    def spy_operator(name, function):
        def operator(*args, **kwargs):
            if sys._getframe(1).f_code.co_filename == source:
                found.add(("Tensor", name))
            return function(*args, **kwargs)
        return operator

    operators = {n: f for n, f in vars(tensor).items() if n in OPERATORS}
    tensor.__getattribute__ = spy_attribute
    try:
        for name, function in operators.items():
            setattr(tensor, name, spy_operator(name, function))
        recording = RecordingNamespace()
        for row in table.ROWS:
            for case in row.cases:
                seen = set(found)
                try:
                    row.fn(recording, *table.make_inputs(table._arrays(row, case), "cr"))
                except Exception:  # a failing row compares nothing (and fails the suite)
                    found.intersection_update(seen)
    finally:
        if own is None:
            del tensor.__getattribute__
        else:
            tensor.__getattribute__ = own
        for name, function in operators.items():
            setattr(tensor, name, function)
    return found


# ---- rule 2: twin tests --------------------------------------------------------------------


def twins(source: str) -> set[Key]:
    """The APIs that some unit of this test file names on both sides."""
    if "torch" not in source or "chainrule" not in source:
        return set()  # one side is missing throughout
    module = _Module(ast.parse(source))
    pairs: set[Key] = set()
    for unit in module.units:
        sides: dict[str, set[Key]] = {"cr": set(), "torch": set()}
        for side, key in module.names_in(unit):
            sides[side].add(key)
        pairs |= sides["cr"] & sides["torch"]
        pairs |= module.two_sided_lambdas(unit)
    return pairs


def _place(path: str | None) -> tuple[str, str, str | None] | None:
    """``chainrule.nn.Linear`` -> ("cr", "nn", "Linear"); a namespace itself -> name None."""
    if path is None:
        return None
    top, _, rest = path.partition(".")
    table = {"chainrule": _CHAINRULE, "torch": _TORCH}.get(top)
    if table is None:
        return None
    side = "cr" if top == "chainrule" else "torch"
    if rest in table:
        return side, table[rest], None
    prefix, _, name = rest.rpartition(".")
    if prefix in table:
        return side, table[prefix], name
    return None


def _strings(node: ast.AST | None) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    return set()


def _is_parametrize(decorator: ast.AST) -> bool:
    return (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == "parametrize")


class _Module:
    """One test file: its imports, module-level values and units."""

    def __init__(self, tree: ast.Module) -> None:
        self.imports: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    self.imports[a.asname or a.name.split(".")[0]] = (
                        a.name if a.asname else a.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    self.imports[a.asname or a.name] = f"{node.module}.{a.name}"
        self.values: dict[str, ast.AST] = {}  # module-level NAME = value
        self.functions: dict[str, ast.FunctionDef] = {}
        self.units: list[ast.AST] = []
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        self.values[target.id] = stmt.value
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[stmt.name] = stmt
            if isinstance(stmt, ast.ClassDef):
                self.units.extend(stmt.body)
            else:
                self.units.append(stmt)
        # Each unit's nodes, walked once; the calls of each module-level function name.
        self.nodes = {id(unit): list(ast.walk(unit)) for unit in self.units}
        self.calls: dict[str, list[tuple[ast.Call, ast.AST]]] = defaultdict(list)
        for unit in self.units:
            for node in self.nodes[id(unit)]:
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    self.calls[node.func.id].append((node, unit))

    def dotted(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.imports.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    # -- names on each side --

    def names_in(self, unit: ast.AST):
        for node in self.nodes[id(unit)]:
            if isinstance(node, (ast.Name, ast.Attribute)):
                place = _place(self.dotted(node))
                if place and place[2] is not None:
                    yield place[0], (place[1], place[2])
                elif place and place[1] == "Tensor":  # the class, a name of torch itself
                    yield place[0], ("", "Tensor")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id == "getattr" and len(node.args) >= 2):
                place = _place(self.dotted(node.args[0]))
                if place and place[2] is None:
                    for name in self.strings_of(node.args[1], unit):
                        yield place[0], (place[1], name)

    def strings_of(self, node: ast.AST, unit: ast.AST, follow_calls: bool = True) -> set[str]:
        """The strings an expression can stand for in a unit (see the module docstring)."""
        if not isinstance(node, ast.Name):
            return _strings(node)
        out: set[str] = set()
        for values, index, width in self._bindings(node.id, unit):
            for element in values:
                out |= _strings(self._pick(element, index, width))
        if follow_calls and isinstance(unit, (ast.FunctionDef, ast.AsyncFunctionDef)):
            params = [a.arg for a in unit.args.args]
            if node.id in params:
                position = params.index(node.id)
                for call, caller in self.calls[unit.name]:
                    arg = call.args[position] if position < len(call.args) else next(
                        (k.value for k in call.keywords if k.arg == node.id), None)
                    if arg is not None:
                        out |= self.strings_of(arg, caller, False)
        return out

    def _bindings(self, name: str, unit: ast.AST):
        """(elements, index, width) for each parametrize list or for loop binding ``name``."""
        for decorator in getattr(unit, "decorator_list", []):
            if _is_parametrize(decorator) and len(decorator.args) >= 2:
                names = self._argnames(decorator.args[0])
                if name in names:
                    yield self._elements(decorator.args[1]), names.index(name), len(names)
        for node in self.nodes.get(id(unit), ()):
            if isinstance(node, ast.For):
                target = node.target
                names = ([target.id] if isinstance(target, ast.Name) else
                         [e.id if isinstance(e, ast.Name) else "" for e in target.elts]
                         if isinstance(target, ast.Tuple) else [])
                if name in names:
                    yield self._elements(node.iter), names.index(name), len(names)

    @staticmethod
    def _argnames(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [n.strip() for n in node.value.split(",")]
        if isinstance(node, (ast.List, ast.Tuple)):
            return [e.value for e in node.elts if isinstance(e, ast.Constant)]
        return []

    def _elements(self, node: ast.AST) -> list[ast.AST]:
        if isinstance(node, ast.Name) and node.id in self.values:
            node = self.values[node.id]
        return list(node.elts) if isinstance(node, (ast.List, ast.Tuple, ast.Set)) else []

    @staticmethod
    def _pick(element: ast.AST, index: int, width: int) -> ast.AST | None:
        if (isinstance(element, ast.Call) and isinstance(element.func, ast.Attribute)
                and element.func.attr == "param"):  # pytest.param(...)
            items = element.args
        elif width == 1:
            return element
        elif isinstance(element, (ast.Tuple, ast.List)):
            items = element.elts
        else:
            return None
        return items[index] if index < len(items) else None

    # -- lambdas called with both libraries --

    def two_sided_lambdas(self, unit: ast.AST) -> set[Key]:
        sides: dict[tuple[str, int, str], set[str]] = defaultdict(set)
        for call in self.nodes[id(unit)]:
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
                for position, arg in enumerate(call.args):
                    place = _place(self.dotted(arg))
                    if place and place[2] is None:
                        sides[(call.func.id, position, place[1])].add(place[0])
        found: set[Key] = set()
        for (callee, position, namespace), seen in sides.items():
            if seen != {"cr", "torch"}:
                continue
            sources = [element for values, _, _ in self._bindings(callee, unit)
                       for element in values]
            if callee in self.functions:
                sources.append(self.functions[callee])
            for source in sources:
                for fn in ast.walk(source):
                    if isinstance(fn, (ast.Lambda, ast.FunctionDef)) and (
                            position < len(fn.args.args)):
                        param = fn.args.args[position].arg
                        found |= {(namespace, name) for name in self._attributes_of(fn, param)}
        return found

    def _attributes_of(self, fn: ast.AST, param: str) -> set[str]:
        names = set()
        for node in ast.walk(fn):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id == param):
                names.add(node.attr)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id == "getattr" and len(node.args) >= 2
                  and isinstance(node.args[0], ast.Name) and node.args[0].id == param):
                names |= _strings(node.args[1])
        return names
