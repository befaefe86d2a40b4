"""The catalogues are complete, keep their placeholders, and the site speaks each language.

A new string marked for translation fails this suite until it is translated in
fangyi/locale/zh_Hans/LC_MESSAGES/django.po and zh_Hant is regenerated:

    make messages            # or manage.py makemessages ... (see the Makefile)
    edit fangyi/locale/zh_Hans/LC_MESSAGES/django.po
    .venv/bin/python scripts/po_hant.py
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import translation

from tests.conftest import login

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "fangyi" / "locale"
CHINESE = ["zh_Hans", "zh_Hant"]
ALL = [*CHINESE, "en"]


def po_path(locale: str) -> Path:
    return LOCALE / locale / "LC_MESSAGES" / "django.po"


# --- a small .po reader ----------------------------------------------------------------------


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    strings: dict[str, str] = field(default_factory=dict)

    @property
    def msgid(self) -> str:
        return self.strings.get("msgid", "")

    @property
    def msgstrs(self) -> dict[str, str]:
        return {k: v for k, v in self.strings.items() if k.startswith("msgstr")}

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and "msgctxt" not in self.strings

    def __str__(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


UNESCAPE = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def unquote(literal: str) -> str:
    return re.sub(r"\\(.)", lambda m: UNESCAPE.get(m[1], m[1]), literal.strip()[1:-1])


def parse_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    current: Entry | None = None
    key = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            current, key = None, None
            continue
        starts = line.startswith(("#", "msgctxt ", "msgid "))
        if current is None or (starts and "msgid" in current.strings):
            current = Entry(number)
            entries.append(current)
        if line.startswith("#,"):
            current.flags |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            pass
        elif match := re.match(
            r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$", line
        ):
            key = match[1]
            current.strings[key] = unquote(match[2])
        elif line.startswith('"') and key:
            current.strings[key] += unquote(line)
        else:
            raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
    return entries


def messages(locale: str) -> list[Entry]:
    return [e for e in parse_po(po_path(locale)) if not e.is_header]


def header(locale: str) -> tuple[Entry, dict[str, str]]:
    entry = next(e for e in parse_po(po_path(locale)) if e.is_header)
    fields = dict(
        line.split(":", 1) for line in entry.strings.get("msgstr", "").splitlines() if ":" in line
    )
    return entry, {k.strip(): v.strip() for k, v in fields.items()}


# python-format: %(name)s, %s, %d, %%; brace-format: {name}, {0}, {}, with !conv and :spec.
PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsab%]")
BRACE = re.compile(r"(?<!\{)\{(?:[A-Za-z_][\w.]*|\d*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def placeholders(text: str, flags: set[str]) -> Counter:
    found: list[str] = re.findall(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]", text)
    if "python-format" in flags:
        found = [p for p in PERCENT.findall(text) if p != "%%"]
    if "python-brace-format" in flags or "python-format" not in flags:
        found += BRACE.findall(text)
    return Counter(found)


# --- the catalogues ----------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ALL)
def test_the_catalogue_exists_and_reads(locale):
    assert po_path(locale).exists(), f"run `make messages` to create {po_path(locale)}"
    assert messages(locale), f"{po_path(locale)} has no messages"


@pytest.mark.parametrize("locale", ALL)
def test_the_header_is_usable(locale):
    entry, fields = header(locale)
    assert "fuzzy" not in entry.flags, f"{locale}: the header is fuzzy, so msgfmt would drop it"
    assert fields.get("Content-Type") == "text/plain; charset=UTF-8"
    assert fields.get("Language") == locale
    plural = "nplurals=2; plural=(n != 1);" if locale == "en" else "nplurals=1; plural=0;"
    assert fields.get("Plural-Forms") == plural


@pytest.mark.parametrize("locale", ALL)
def test_no_entry_is_fuzzy(locale):
    fuzzy = [str(e) for e in messages(locale) if "fuzzy" in e.flags]
    assert not fuzzy, f"{locale}: check these and remove their fuzzy flag: {fuzzy}"


@pytest.mark.parametrize("locale", CHINESE)
def test_every_message_is_translated(locale):
    untranslated = [
        str(e) for e in messages(locale) if not e.msgstrs or not all(e.msgstrs.values())
    ]
    hint = "translate them in zh_Hans, then run scripts/po_hant.py"
    assert not untranslated, f"{locale}: {len(untranslated)} untranslated ({hint}): {untranslated}"


@pytest.mark.parametrize("locale", CHINESE)
def test_chinese_has_one_plural_form(locale):
    wrong = [
        str(e)
        for e in messages(locale)
        if "msgid_plural" in e.strings and set(e.msgstrs) != {"msgstr[0]"}
    ]
    assert not wrong, f"{locale}: plural entries need msgstr[0] only: {wrong}"


@pytest.mark.parametrize("locale", ALL)
def test_placeholders_are_kept(locale):
    problems = []
    for e in messages(locale):
        singular = placeholders(e.msgid, e.flags)
        if "msgid_plural" in e.strings:
            plural = placeholders(e.strings["msgid_plural"], e.flags)
            if locale == "en":
                wanted = {"msgstr[0]": singular, "msgstr[1]": plural}
            else:  # one form for every number: it must take what either English form takes
                wanted = {"msgstr[0]": singular | plural}
        else:
            wanted = {"msgstr": singular}
        for key, text in e.msgstrs.items():
            if text and placeholders(text, e.flags) != wanted.get(key):
                got = dict(placeholders(text, e.flags))
                problems.append(f"{e} {key}: source has {dict(wanted.get(key, {}))}, got {got}")
    assert not problems, f"{locale}: placeholders differ:\n" + "\n".join(problems)


def test_both_chinese_catalogues_have_the_same_messages():
    def keys(locale):
        return {(e.strings.get("msgctxt"), e.msgid) for e in messages(locale)}

    assert keys("zh_Hans") == keys("zh_Hant"), "run scripts/po_hant.py"
    assert keys("zh_Hans") == keys("en"), "run `make messages`"


def test_traditional_is_generated_from_simplified():
    """zh_Hant is scripts/po_hant.py's output: a hand edit there would be lost."""
    pytest.importorskip("zhconv")
    spec = importlib.util.spec_from_file_location("po_hant", ROOT / "scripts" / "po_hant.py")
    po_hant = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = po_hant  # its dataclass looks itself up there
    try:
        spec.loader.exec_module(po_hant)
    finally:
        del sys.modules[spec.name]

    with tempfile.TemporaryDirectory() as tmp:
        built = Path(tmp) / "django.po"
        built.write_text(po_hant.build(po_path("zh_Hans").read_text(encoding="utf-8")), "utf-8")
        expected = {e.msgid: e.msgstrs for e in parse_po(built) if not e.is_header}
    actual = {e.msgid: e.msgstrs for e in messages("zh_Hant")}
    stale = sorted(k for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k))
    assert not stale, f"zh_Hant is out of date, run scripts/po_hant.py: {stale}"


def test_traditional_keeps_mainland_terms():
    text = "\n".join(v for e in messages("zh_Hant") for v in e.msgstrs.values())
    for word in ["社區民警", "網格員", "衛健工作人員", "派出所", "轄區", "居民身份證"]:
        assert word in text
    for taiwanese in ["身分證", "使用者", "資訊", "「", "臺"]:
        assert taiwanese not in text


# --- the compiled catalogues at work -----------------------------------------------------------


@pytest.fixture(scope="module")
def compiled():
    """Compile any .po newer than its .mo (`make compilemessages` does the same)."""
    stale = []
    for locale in ALL:
        po, mo = po_path(locale), po_path(locale).with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append((po, mo))
    if stale:
        msgfmt = shutil.which("msgfmt")
        if msgfmt is None:
            pytest.fail("stale .mo files and no msgfmt: run `make compilemessages`")
        for po, mo in stale:
            fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo")
            os.close(fd)
            subprocess.run([msgfmt, "--check-format", "-o", tmp, str(po)], check=True)  # noqa: S603
            os.chmod(tmp, 0o644)  # mkstemp makes it private
            os.replace(tmp, mo)
        # Changing LOCALE_PATHS makes Django forget the catalogues it has already loaded.
        with override_settings(LOCALE_PATHS=list(settings.LOCALE_PATHS)):
            pass


PLURALS = [
    ("%(c)s household", "%(c)s households", {"zh-hans": "%(c)s 户", "zh-hant": "%(c)s 戶"}),
    ("%(age)s year", "%(age)s years", {"zh-hans": "%(age)s 岁", "zh-hant": "%(age)s 歲"}),
]


@pytest.mark.parametrize(("singular", "plural", "chinese"), PLURALS)
def test_plurals_in_each_language(compiled, singular, plural, chinese):
    with translation.override("en"):
        assert translation.ngettext(singular, plural, 1) == singular
        assert translation.ngettext(singular, plural, 2) == plural
        assert translation.ngettext(singular, plural, 0) == plural
    for language, text in chinese.items():
        with translation.override(language):
            for n in (0, 1, 2, 14):
                assert translation.ngettext(singular, plural, n) == text


def test_the_template_plural_renders(compiled):
    from django.template import Context, Template

    template = Template(
        "{% load i18n %}{% blocktranslate count c=n %}{{ c }} bed{% plural %}"
        "{{ c }} beds{% endblocktranslate %}"
    )
    with translation.override("en"):
        assert template.render(Context({"n": 1})) == "1 bed"
        assert template.render(Context({"n": 3})) == "3 beds"
    with translation.override("zh-hans"):
        assert template.render(Context({"n": 3})) == "3 张床位"
    with translation.override("zh-hant"):
        assert template.render(Context({"n": 1})) == "1 張床位"


def home(client, **headers):
    response = client.get("/", **headers)
    assert response.status_code == 200
    return response, response.content.decode()


@pytest.mark.parametrize(
    ("accept", "language", "word", "not_words"),
    [
        ("en", "en", ">People<", [">人员<", ">人員<"]),
        ("en-US,en;q=0.9", "en", ">People<", [">人员<", ">人員<"]),
        ("zh-TW", "zh-hant", ">人員<", ["People", ">人员<"]),
        ("zh-Hant", "zh-hant", ">人員<", ["People", ">人员<"]),
        ("zh-HK,zh;q=0.8", "zh-hant", ">人員<", ["People", ">人员<"]),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-hans", ">人员<", ["People", ">人員<"]),
        (None, "zh-hans", ">人员<", ["People", ">人員<"]),
    ],
)
def test_the_home_page_follows_accept_language(
    compiled, officer, accept, language, word, not_words
):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    response, html = home(login(officer), **headers)
    assert response.headers["Content-Language"] == language
    assert f'<html lang="{language}">' in html
    assert word in html
    for other in not_words:
        assert other not in html


def test_the_language_switch_sticks(compiled, officer):
    client = login(officer)
    assert ">人员<" in home(client)[1]

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    response, html = home(client)
    assert response.headers["Content-Language"] == "en"
    assert ">People<" in html
    # The chosen language wins over the browser's.
    assert ">People<" in home(client, HTTP_ACCEPT_LANGUAGE="zh-CN")[1]

    client.post("/i18n/setlang/", {"language": "zh-hant", "next": "/"})
    assert ">人員<" in home(client)[1]
