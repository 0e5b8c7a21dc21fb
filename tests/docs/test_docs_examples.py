"""The Python examples in the hand-written docs pages run as shown."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("name", ["data.md", "devices.md"])
def test_python_blocks_run(name, tmp_path, monkeypatch):
    text = (DOCS / name).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    monkeypatch.chdir(tmp_path)
    scope = {"__name__": "__doc_example__"}
    for code in blocks:
        exec(compile(code, name, "exec"), scope)
