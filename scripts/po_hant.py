#!/usr/bin/env python3
"""Build the Traditional Chinese catalogue from the Simplified one.

zh_Hans/LC_MESSAGES/django.po is the catalogue that translators edit. This script writes
zh_Hant/LC_MESSAGES/django.po from it: every entry, comment and flag is copied, and every msgstr
is converted with zhconv (``zhconv.convert(s, "zh-tw")``). Placeholders (``%(name)s``, ``%d``,
``{name}``, ``{{ var }}``, HTML tags and entities) are cut out before the conversion and put back
unchanged.

zhconv's zh-tw table also swaps mainland words for Taiwanese ones (身份證 → 身分證, 用戶 → 使用者,
“ ” → 「 」...). Fangyi's users are mainland public-security and epidemic workers who read
Traditional script, like the seed report (社區民警, 網格員, 衛健工作人員, 派出所), so TERMS below
keeps the mainland vocabulary in Traditional characters. Fix a wrong word there, not by editing
zh_Hant's django.po by hand: the next run would overwrite the edit.

Usage (from the repository root, with the project's virtualenv):

    .venv/bin/python scripts/po_hant.py            # write fangyi/locale/zh_Hant/.../django.po
    .venv/bin/python scripts/po_hant.py --check    # exit 1 if that file is out of date
    .venv/bin/python scripts/po_hant.py SRC DEST   # other files

Then compile: ``cd fangyi && ../.venv/bin/python ../manage.py compilemessages``.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import zhconv

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "fangyi" / "locale"
SOURCE = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
TARGET = LOCALE / "zh_Hant" / "LC_MESSAGES" / "django.po"
ZHCONV_LOCALE = "zh-tw"

# Simplified source text -> the Traditional form to write, overriding zhconv's zh-tw table:
# mainland usage in Traditional characters, as in the seed report. Words and forms that are
# common to Hong Kong and Taiwan (帳號, 登錄, 為, 群眾, 啟用) stay as zh-tw writes them.
TERMS = {
    # zh-tw writes the Taiwanese word or form:
    "“": "“",  # 「 (the seed quotes with “ ”)
    "”": "”",  # 」
    "‘": "‘",  # 『
    "’": "’",  # 』
    "台湾": "台灣",  # 臺灣
    "平台": "平台",  # 平臺
    "字段": "字段",  # 欄位
    "软件": "軟件",  # 軟體
    "短信": "短信",  # 簡訊
    "服务器": "服務器",  # 伺服器
    "链接": "鏈接",  # 連結
    "打印": "打印",  # 列印
    "后台": "後台",  # 後臺
    "数据": "數據",  # 資料
    "导入": "導入",  # 匯入
    "导出": "導出",  # 匯出
    # Guards: right today, but Taiwanese in other conversion tables.
    "身份证": "身份證",  # 身分證 (居民身份證, as in the domain notes)
    "身份验证": "身份驗證",  # 身分驗證
    "用户": "用戶",  # 使用者
    "信息": "信息",  # 資訊 (the seed: 群眾提供信息)
    "程序": "程序",  # 程式
    "默认": "默認",  # 預設
    "二维码": "二維碼",  # QR碼
}

# What must pass through untouched: python-format and brace-format placeholders, Django
# template variables, HTML tags and entities.
PLACEHOLDER = re.compile(
    r"%(?:\([^)]+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsab%]"
    r"|\{\{.*?\}\}"
    r"|\{[^{}\s]*\}"
    r"|<[^<>]+>"
    r"|&#?\w+;"
)

KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")\s*$")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}
ESCAPES.update({"f": "\f", "v": "\v"})


# --- a small .po reader and writer ---------------------------------------------------------


@dataclass
class Entry:
    """One catalogue entry: comment lines as written, then keyword -> unescaped text."""

    comments: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def msgid(self) -> str:
        return self.fields.get("msgid", "")

    @property
    def flags(self) -> list[str]:
        return [
            f.strip()
            for line in self.comments
            if line.startswith("#,")
            for f in line[2:].split(",")
        ]

    def msgstrs(self) -> dict[str, str]:
        return {k: v for k, v in self.fields.items() if k.startswith("msgstr")}


def unquote(literal: str) -> str:
    body = literal.strip()[1:-1]
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(1)), body)


def parse(text: str) -> list[Entry]:
    entries: list[Entry] = []
    entry = Entry()
    key = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            if entry.comments or entry.fields:
                entries.append(entry)
            entry, key = Entry(), None
        elif stripped.startswith("#"):
            if entry.fields:  # a comment after the strings starts the next entry
                entries.append(entry)
                entry, key = Entry(), None
            entry.comments.append(stripped)
        elif match := KEYWORD.match(stripped):
            key = match.group(1)
            starts_entry = key == "msgctxt" or (key == "msgid" and "msgid" in entry.fields)
            if starts_entry and entry.fields:
                entries.append(entry)
                entry = Entry()
            entry.fields[key] = unquote(match.group(2))
        elif stripped.startswith('"') and key is not None:
            entry.fields[key] += unquote(stripped)
        else:
            raise ValueError(f"line {number}: cannot read {line!r}")
    if entry.comments or entry.fields:
        entries.append(entry)
    return entries


def quote(text: str) -> str:
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return text.replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


NO_BREAK_BEFORE = set("，。、；：！？）》」』”’…")
NO_BREAK_AFTER = set("（《「『“‘")


def _pieces(text: str) -> list[str]:
    """Split escaped text where a line may break: after a space, around a CJK character."""
    pieces: list[str] = []
    previous = ""
    for unit in re.findall(r"\\.|.", text, flags=re.S):
        wide = len(unit) == 1 and width(unit) == 2
        can_break = bool(pieces) and (previous == " " or wide or width(previous) == 2)
        if unit in NO_BREAK_BEFORE or previous in NO_BREAK_AFTER:
            can_break = False
        if can_break:
            pieces.append(unit)
        elif pieces:
            pieces[-1] += unit
        else:
            pieces.append(unit)
        previous = unit if len(unit) == 1 else ""
    return pieces


def wrap(keyword: str, text: str, limit: int = 79) -> list[str]:
    """Write one keyword the way msgmerge does: one line if it fits, else "" and chunks."""
    escaped = quote(text)
    single = f'{keyword} "{escaped}"'
    newline_inside = "\\n" in escaped[:-2]
    if width(single) <= limit and not newline_inside:
        return [single]
    lines = [f'{keyword} ""']
    for paragraph in re.findall(r".*?\\n|.+$", escaped):
        current = ""
        for piece in _pieces(paragraph):
            if current and width(current + piece) + 2 > limit:
                lines.append(f'"{current}"')
                current = piece
            else:
                current += piece
        if current:
            lines.append(f'"{current}"')
    return lines


def dump(entries: list[Entry]) -> str:
    blocks = []
    for entry in entries:
        lines = list(entry.comments)
        for key, value in entry.fields.items():
            lines.extend(wrap(key, value))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# --- the conversion ------------------------------------------------------------------------


def to_hant(text: str) -> str:
    """Convert Simplified text to Traditional, leaving every placeholder as it is."""
    out, last = [], 0
    for match in PLACEHOLDER.finditer(text):
        out.append(zhconv.convert(text[last : match.start()], ZHCONV_LOCALE, TERMS))
        out.append(match.group(0))
        last = match.end()
    out.append(zhconv.convert(text[last:], ZHCONV_LOCALE, TERMS))
    return "".join(out)


def set_header(header: str, name: str, value: str) -> str:
    lines = header.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith(f"{name}:"):
            lines[i] = f"{name}: {value}\n"
            return "".join(lines)
    return header + f"{name}: {value}\n"


HEADER_COMMENTS = [
    "# Fangyi: Traditional Chinese translation.",
    "# GENERATED by scripts/po_hant.py from zh_Hans/LC_MESSAGES/django.po: do not edit.",
    "#",
]


def build(source_text: str, language: str = "zh_Hant") -> str:
    entries = parse(source_text)
    for entry in entries:
        if entry.msgid == "" and "msgctxt" not in entry.fields:
            flags = [line for line in entry.comments if line.startswith("#,")]
            entry.comments = HEADER_COMMENTS + flags
            header = entry.fields.get("msgstr", "")
            header = set_header(header, "Language-Team", "Fangyi <zh-Hant>")
            entry.fields["msgstr"] = set_header(header, "Language", language)
            continue
        for key, value in entry.msgstrs().items():
            entry.fields[key] = to_hant(value)
    return dump(entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=SOURCE)
    parser.add_argument("target", nargs="?", type=Path, default=TARGET)
    parser.add_argument("--check", action="store_true", help="only tell whether target is stale")
    args = parser.parse_args(argv)

    result = build(args.source.read_text(encoding="utf-8"))
    current = args.target.read_text(encoding="utf-8") if args.target.exists() else None
    if args.check:
        if result != current:
            print(f"{args.target} is out of date: run scripts/po_hant.py", file=sys.stderr)
            return 1
        return 0
    args.target.parent.mkdir(parents=True, exist_ok=True)
    args.target.write_text(result, encoding="utf-8")
    count = sum(1 for e in parse(result) if e.msgid)
    print(f"wrote {args.target} ({count} entries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
