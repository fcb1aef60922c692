"""The Simplified Chinese catalog is complete: every message has a translation, none is
fuzzy, placeholders survive, and the compiled catalog is the one Django loads."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import minsheng

PO = Path(minsheng.__file__).resolve().parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%\([a-z_]+\)\.0f|\{[a-z_]*\}")


def _string(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line) for line in lines)


def entries() -> list[dict]:
    """Each entry: flags, msgid, msgid_plural and msgstr values, parsed by hand (polib is
    not a dependency). Obsolete (``#~``) entries are skipped."""
    out = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        lines = [ln for ln in block.strip().splitlines() if ln and not ln.startswith("#~")]
        if not any(ln.startswith("msgid ") for ln in lines):
            continue
        entry: dict = {"flags": [], "msgstr": {}}
        key, parts = None, []

        def flush(key=None, parts=None, entry=entry):
            if key is not None:
                if key.startswith("msgstr"):
                    entry["msgstr"][key] = _string(parts)
                else:
                    entry[key] = _string(parts)

        for ln in lines:
            if ln.startswith("#,"):
                entry["flags"] += [f.strip() for f in ln[2:].split(",")]
            elif ln.startswith("#"):
                continue
            elif ln.startswith('"'):
                parts.append(ln)
            else:
                flush(key, parts)
                key, rest = ln.split(" ", 1)
                parts = [rest]
        flush(key, parts)
        out.append(entry)
    return out


def test_catalog_exists_and_has_chinese_plural_forms():
    header = entries()[0]
    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"]["msgstr"]
    assert "Language: zh_Hans" in header["msgstr"]["msgstr"]


def test_every_entry_is_translated_and_none_is_fuzzy():
    messages = entries()[1:]
    assert len(messages) > 300
    fuzzy = [e["msgid"] for e in messages if "fuzzy" in e["flags"]]
    untranslated = [
        e["msgid"] for e in messages if not e["msgstr"] or any(not v.strip() for v in e["msgstr"].values())
    ]
    assert fuzzy == []
    assert untranslated == []


def test_placeholders_are_kept_in_translations():
    for e in entries()[1:]:
        wanted = sorted(PLACEHOLDER.findall(e["msgid"]))
        for value in e["msgstr"].values():
            assert sorted(PLACEHOLDER.findall(value)) == wanted, e["msgid"]


def test_compiled_catalog_is_current_and_loaded():
    from django.utils import translation

    mo = PO.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_size > 0
    with translation.override("zh-hans"):
        assert translation.gettext("Accepted, awaiting assignment") == "已受理，待派单"
        assert translation.gettext("Someone else has already handled or changed this case.").startswith(
            "已被他人处理"
        )
    # Every msgid of the .po is in the .mo: a stale .mo would answer English.
    with translation.override("zh-hans"):
        for e in entries()[1:]:
            if "msgid_plural" not in e and "msgctxt" not in e:
                assert translation.gettext(e["msgid"]) == e["msgstr"]["msgstr"], e["msgid"]
