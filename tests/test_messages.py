"""The one message catalogue of explain and diagnose: both languages always say the same."""

import pytest

from chainrule import messages
from chainrule.messages import check, fields, problems, say


def test_every_key_exists_in_both_languages_with_the_same_placeholders():
    assert problems() == []
    en, zh = (messages._TABLES[lang] for lang in messages.LANGS)
    assert set(en) == set(zh)
    assert {"forward", "why_detached", "verdict.dead_relu", "remedy.clip"} <= set(en)
    for key in en:
        assert fields(en[key]) == fields(zh[key]), key


def test_problems_catches_a_missing_key_and_disagreeing_placeholders(monkeypatch):
    tables = {lang: dict(t) for lang, t in messages._TABLES.items()}
    del tables["zh"]["forward"]
    tables["zh"]["why_ok"] = "d{out}/d{wrt} 存在"  # {value} lost in translation
    tables["zh"]["evidence.spike"] = tables["en"]["evidence.spike"].replace(":.2e", ":.1e")
    monkeypatch.setattr(messages, "_TABLES", tables)
    found = "\n".join(problems())
    assert "'forward' is missing in zh" in found
    assert "'why_ok'" in found and "value" in found
    assert "'evidence.spike'" in found and "peak_norm:.1e" in found


def test_a_key_defined_in_two_sections_is_a_problem(monkeypatch):
    twice = {"explain": messages._SECTIONS["explain"],
             "other": {"en": {"forward": "x"}, "zh": {"forward": "x"}}}
    monkeypatch.setattr(messages, "_SECTIONS", twice)
    _, clashes = messages._merge()
    assert clashes == ["'forward' (en) is defined twice, again in other",
                       "'forward' (zh) is defined twice, again in other"]


def test_say_fills_the_template_in_either_language():
    assert say("en", "why_used_by", name="h", op="L") == "h, used by L"
    assert say("zh", "why_used_by", name="h", op="L") == "h，被 L 使用"
    assert say("en", "verdict.vanishing_gradients") == "Vanishing gradients"
    assert say("zh", "report.colon") == "："


def test_one_language_check_and_a_clear_error_for_an_unknown_key():
    assert check("zh") == "zh"
    with pytest.raises(ValueError, match=r"lang must be one of \('en', 'zh'\), got 'fr'"):
        say("fr", "forward")
    with pytest.raises(KeyError, match="no message 'nope' in the 'en' catalogue"):
        say("en", "nope")


def test_explain_and_diagnose_use_the_catalogue_language_check():
    import chainrule as cr
    from chainrule.diagnose.report import DiagnosisReport

    w = cr.tensor(1.0, requires_grad=True, name="w")
    for call in (lambda: cr.explain(w * 2.0, lang="fr"),
                 lambda: cr.why_no_grad(w * 2.0, wrt=w, lang="fr"),
                 lambda: DiagnosisReport([]).render("fr")):
        with pytest.raises(ValueError, match="lang must be one of"):
            call()


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(messages)
    assert result.attempted > 0 and result.failed == 0
