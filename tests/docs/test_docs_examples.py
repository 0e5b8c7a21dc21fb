"""The Python examples in the hand-written docs pages run as shown."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("name", ["data.md", "devices.md", "memory.md", "nn.md", "onnx.md"])
def test_python_blocks_run(name, tmp_path, monkeypatch):
    text = (DOCS / name).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    monkeypatch.chdir(tmp_path)
    scope = {"__name__": "__doc_example__"}
    for code in blocks:
        exec(compile(code, name, "exec"), scope)


def test_training_optimizer_examples_run(tmp_path, monkeypatch):
    """The examples of training.md's optimizer section (the rest of the page trains on MNIST)."""
    text = (DOCS / "training.md").read_text(encoding="utf-8")
    section = text.split("\n## Optimizers\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        scope = {"__name__": "__doc_example__"}
        exec(compile(code, "training.md", "exec"), scope)
    assert abs(scope["w"].detach().numpy()).max() < 2.0  # SignSGD moved the weights


def test_training_checkpoint_examples_run(tmp_path, monkeypatch):
    """training.md's checkpoint section: fit resumed inside an epoch, and the hand-written loop
    resumed through cr.save/cr.load, both asserting bit-identical parameters."""
    text = (DOCS / "training.md").read_text(encoding="utf-8")
    section = text.split("\n## Checkpoints and exact resume\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    scope = {"__name__": "__doc_example__"}
    for code in blocks:
        exec(compile(code, "training.md", "exec"), scope)


def test_deploy_page_commands_are_real():
    """docs/deploy.md's five commands parse with the real command line, and the files they
    name are in the repository."""
    import glob
    import shlex

    from chainrule import cli

    text = (DOCS / "deploy.md").read_text(encoding="utf-8")
    block = re.findall(r"```sh\n(.*?)```", text, flags=re.S)[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines()]
    commands = [c for c in commands if c and not c.startswith("pip ")]
    assert len(commands) == 5
    root = DOCS.parent
    for command in commands:
        words = shlex.split(command)
        if words[0] == "chainrule":
            args = cli.build_parser().parse_args(words[1:])
            assert args.func is not None
        else:
            assert words[:2] == ["python", "examples/06_onnxruntime.py"]
        for word in words:
            if word.startswith("examples/"):
                assert glob.glob(str(root / word)), word
    for code in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        compile(code, "deploy.md", "exec")
