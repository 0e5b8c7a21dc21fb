"""Every sentence chainrule's explain and diagnose tools print, in English and Chinese.

One catalogue, one lookup: ``say(lang, key, **values)`` fills a ``str.format`` template. The
templates live in one dict per language and section (``explain.EN``/``ZH`` for ``cr.explain``,
``cr.explain_step`` and ``cr.why_no_grad``; ``diagnose.EN``/``ZH`` for the gradient-health
report; ``memory.EN``/``ZH`` for ``cr.explain_memory``), so a translation is edited next to
its original. ``problems()`` lists what would make the two languages disagree; the test suite
requires it to be empty.

Example:
    >>> say("zh", "forward")
    '前向传播'
    >>> say("en", "verdict.dead_relu")
    'Dead ReLUs'
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from . import diagnose, explain, memory

LANGS = ("en", "zh")

_SECTIONS: dict[str, dict[str, Mapping[str, str]]] = {
    "explain": {"en": explain.EN, "zh": explain.ZH},
    "diagnose": {"en": diagnose.EN, "zh": diagnose.ZH},
    "memory": {"en": memory.EN, "zh": memory.ZH},
}


def _merge() -> tuple[dict[str, dict[str, str]], list[str]]:
    tables: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    clashes = []
    for section, by_lang in _SECTIONS.items():
        for lang in LANGS:
            for key, text in by_lang[lang].items():
                if key in tables[lang]:  # a later section would silently win
                    clashes.append(f"{key!r} ({lang}) is defined twice, again in {section}")
                tables[lang][key] = text
    return tables, clashes


_TABLES, _CLASHES = _merge()


def check(lang: str) -> str:
    """``lang`` itself when it is one of ``LANGS``; a ``ValueError`` otherwise.

    Example:
        >>> check("zh")
        'zh'
    """
    if lang not in _TABLES:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang


def say(lang: str, key: str, **values: object) -> str:
    """The sentence ``key`` in ``lang`` with ``values`` filled in.

    Example:
        >>> say("en", "why_used_by", name="w.detach()", op="L")
        'w.detach(), used by L'
    """
    try:
        template = _TABLES[check(lang)][key]
    except KeyError:
        raise KeyError(f"no message {key!r} in the {lang!r} catalogue") from None
    return template.format(**values)


def fields(template: str) -> set[str]:
    """The placeholders of a template, with their format specs: ``{'x:.2f', 'name'}``.

    Example:
        >>> sorted(fields("{out} is {ratio:.1e} times {out}"))
        ['out', 'ratio:.1e']
    """
    found = set()
    for _, name, spec, conv in string.Formatter().parse(template):
        if name is not None:
            found.add(name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else ""))
    return found


def problems() -> list[str]:
    """Everything that would make the languages disagree: a key missing in one of them, a key
    defined twice, or a key whose placeholders (names and formats) differ between languages.

    Example:
        >>> problems()
        []
    """
    found = list(_CLASHES)
    every = set().union(*(_TABLES[lang] for lang in LANGS))
    for key in sorted(every):
        missing = [lang for lang in LANGS if key not in _TABLES[lang]]
        if missing:
            found.append(f"{key!r} is missing in {', '.join(missing)}")
            continue
        first, *rest = (fields(_TABLES[lang][key]) for lang in LANGS)
        for lang, other in zip(LANGS[1:], rest):
            if other != first:
                found.append(f"{key!r}: {LANGS[0]} has {sorted(first)}, {lang} has "
                             f"{sorted(other)}")
    return found
