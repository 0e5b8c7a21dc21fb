"""The report's renderings (en/zh text, dict/JSON), the plots and the `chainrule diagnose` CLI."""

import json

import pytest

from chainrule.cli import main
from chainrule.diagnose.demo import run_demo
from chainrule.messages import say

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def monitor():
    return run_demo("deep-sigmoid", steps=12, depth=6, width=16)


def test_text_report_states_the_computed_numbers(monitor):
    report = monitor.report()
    v = report.verdict("vanishing_gradients")
    assert v.flagged
    text = report.render()
    assert "[ERROR] Vanishing gradients" in text or "[WARNING] Vanishing gradients" in text
    assert f"{v.facts['layer_ratio']:.1e}" in text  # the evidence quotes the measured ratio
    assert "ReLU or GELU" in text and "He (Kaiming)" in text
    assert str(report) == text


def test_chinese_report_has_the_same_facts(monitor):
    report = monitor.report()
    zh = report.render("zh")
    ratio = f"{report.verdict('vanishing_gradients').facts['layer_ratio']:.1e}"
    assert "梯度消失" in zh and ratio in zh and "对策" in zh
    with pytest.raises(ValueError):
        report.render("fr")


def test_dict_and_json(monitor, tmp_path):
    report = monitor.report()
    d = report.to_dict()
    assert d["flags"] == report.flags
    codes = {v["code"] for v in d["verdicts"]}
    assert codes == {"vanishing_gradients", "exploding_gradients", "dead_relu", "saturation",
                     "lr_too_large", "lr_too_small"}
    path = tmp_path / "r.json"
    report.to_json(str(path), lang="zh")
    back = json.loads(path.read_text(encoding="utf-8"))
    first = back["verdicts"][0]
    assert first["title"] == say("zh", f"verdict.{first['code']}")  # the Chinese title
    assert len(back["layers"]) == 6


def test_plots_are_written(monitor, tmp_path):
    paths = monitor.save_plots(str(tmp_path))
    names = sorted(p.rsplit("/", 1)[-1] for p in paths)
    assert names == ["activations.png", "curves.png", "gradient_flow.png", "update_ratios.png"]
    for p in paths:
        with open(p, "rb") as f:
            assert f.read(8) == PNG
    fig = monitor.plot_gradient_flow()
    assert fig.axes[0].get_yscale() == "log"


def test_cli_writes_report_and_plots(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["diagnose", "--model", "relu-he", "--dataset", "digits", "--steps", "6",
                 "--depth", "3", "--width", "8", "--out", str(out)])
    assert code == 0
    for name in ("report.txt", "report.zh.txt", "report.json", "records.json",
                 "gradient_flow.png", "curves.png", "update_ratios.png", "activations.png"):
        assert (out / name).exists(), name
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["run"]["model"] == "relu-he" and data["info"]["records"] == 6
    assert "Gradient health report" in capsys.readouterr().out
