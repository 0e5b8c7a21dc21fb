"""The package's layers, read from the source: each imports only the layers below it.

tensor -> autograd -> ops -> nn / optim -> train, with the tools (explain, diagnose, viz) reading
the engine and never the other way round. A new import that crosses a layer fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "chainrule"


def _imports(path: Path) -> set[str]:
    """The chainrule modules ``path`` imports, at any depth of its code, as dotted names."""
    module = ".".join(path.relative_to(PKG.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
            found.update(n for n in names if n.startswith("chainrule"))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("chainrule"))
    return found


def _files(sub: str):
    root = PKG / sub
    return sorted(root.rglob("*.py")) if root.is_dir() else [root]


TOOLS = ("chainrule.explain", "chainrule.diagnose", "chainrule.viz", "chainrule.messages")


@pytest.mark.parametrize("path", _files("autograd"), ids=lambda p: p.name)
def test_autograd_depends_only_on_tensor_and_itself(path):
    bad = {m for m in _imports(path)
           if not (m.startswith("chainrule.autograd") or m == "chainrule.tensor")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_tensor_calls_no_op():
    bad = {m for m in _imports(PKG / "tensor.py")
           if not (m.startswith("chainrule.autograd") or m in ("chainrule.dtypes",
                                                                 "chainrule.random",
                                                                 "chainrule._fpstate",
                                                                 "chainrule.devices",
                                                                 "chainrule.printing"))}
    assert not bad, f"tensor.py imports {sorted(bad)}"


@pytest.mark.parametrize("sub", ["tensor.py", "autograd", "ops", "nn", "optim", "data",
                                 "train"])
def test_the_engine_and_training_stack_never_import_the_tools(sub):
    for path in _files(sub):
        bad = {m for m in _imports(path) if m.startswith(TOOLS)}
        assert not bad, f"{path.relative_to(PKG)} imports {sorted(bad)}"


def test_ops_do_not_import_nn_or_optim():
    for path in _files("ops"):
        bad = {m for m in _imports(path)
               if m.startswith(("chainrule.nn", "chainrule.optim", "chainrule.train"))}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_the_reader_sees_relative_imports_resolved():
    # the checker itself: ``from ..tensor import Tensor`` in autograd/engine.py is chainrule.tensor
    assert "chainrule.tensor" in _imports(PKG / "autograd" / "engine.py")
    assert "chainrule.ops.op" in _imports(PKG / "ops" / "elementwise.py")
