#!/usr/bin/env python3
"""Write fangyi/core/data/divisions.tsv, the administrative divisions of GB/T 2260.

Two packages ship the code list, and neither is a run-time dependency of Fangyi (cpca pulls in
pandas; GB2260's newest revision is 2014): their data is kept here as one file, regenerated
with this script when a new list is published.

- **cpca 0.5.5** (MIT): ``cpca/resources/adcodes.csv``, the county-level divisions in force
  (12-digit codes; the first six are the GB/T 2260 code). These are the divisions a risk area
  or an origin is picked from, status ``current``.
- **GB2260 0.4.1** (BSD): every published revision from 2002 to 2014. A code found only there
  is ``retired``: no longer in force, but still printed in the ID numbers issued under it
  (110228 密云县 became 110118 密云区 in 2015). These only explain an ID number's region.

Columns: code, name (Simplified), name in Traditional script, short name (the name without
省/市/县/自治州..., what people type: 宜昌 for 宜昌市), pinyin of the short name, status, and for
a retired code the last revision that had it.

Usage (the two packages in a throwaway environment; the project's own venv for zhconv and
pypinyin)::

    python -m venv /tmp/div && /tmp/div/bin/pip install --no-deps cpca==0.5.5 GB2260==0.4.1
    .venv/bin/python scripts/divisions.py --site /tmp/div/lib/python3.11/site-packages
"""

from __future__ import annotations

import argparse
import ast
import csv
import re
import sys
from pathlib import Path

from pypinyin import lazy_pinyin
from zhconv import convert

OUT = Path(__file__).resolve().parent.parent / "fangyi" / "core" / "data" / "divisions.tsv"
PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
SUFFIXES = (
    "特别行政区",
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "地区",
    "林区",
    "新区",
    "省",
    "市",
    "盟",
    "州",
    "县",
    "旗",
    "区",
)


def short_name(name: str, nations: list[str]) -> str:
    """宜昌市 → 宜昌, 恩施土家族苗族自治州 → 恩施, 广西壮族自治区 → 广西; "" when the rest would
    be a single character (城区, 郊区: only the full name is matched)."""
    cut = len(name)
    for nation in nations:
        at = name.find(nation, 2)
        if at != -1:
            cut = min(cut, at)
    rest = name[:cut]
    if cut == len(name):
        for suffix in SUFFIXES:
            if rest.endswith(suffix) and len(rest) > len(suffix):
                rest = rest[: -len(suffix)]
                break
    return rest if len(rest) >= 2 and rest != name else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", required=True, help="site-packages holding cpca and gb2260")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    site = Path(args.site)

    nations = [
        row[0].strip() for row in csv.reader((site / "cpca/resources/56_nations.csv").open())
    ]
    # 土家族 and also 土家 (长阳土家族自治县): cut at the nation's name without 族 too.
    nations += [n[:-1] for n in nations if n.endswith("族") and len(n) > 2]
    nations.sort(key=len, reverse=True)

    current: dict[str, str] = {}
    with (site / "cpca/resources/adcodes.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            current[row["adcode"][:6]] = row["name"].strip()

    # GB2260's data.py is one dict literal {year: {code: name}}: read it without importing.
    tree = ast.parse((site / "gb2260/data.py").read_text(encoding="utf-8"))
    data = ast.literal_eval(tree.body[-1].value)  # type: ignore[attr-defined]
    retired: dict[str, tuple[str, int]] = {}
    # Years are 2002..2014 and months 200306..200506: order by the year they fall in.
    for year in sorted((y for y in data if y), key=lambda y: (int(str(y)[:4]), y)):
        label = int(str(year)[:4])
        for code, name in data[year].items():
            code = f"{code:06d}"
            if code not in current and name not in PLACEHOLDERS:
                retired[code] = (name, label)

    rows = []
    for code, name in sorted(current.items()):
        short = "" if name in PLACEHOLDERS else short_name(name, nations)
        rows.append((code, name, short, "current", ""))
    for code, (name, year) in sorted(retired.items()):
        rows.append((code, name, short_name(name, nations), "retired", str(year)))
    rows.sort()

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as f:
        f.write("# GB/T 2260 divisions: cpca 0.5.5 (MIT, in force), GB2260 0.4.1 (BSD, retired)\n")
        f.write("# written by scripts/divisions.py; do not edit by hand\n")
        for code, name, short, status, year in rows:
            pinyin = "".join(lazy_pinyin(short)).lower() if short else ""
            pinyin = re.sub(r"[^a-z]", "", pinyin)
            hant = convert(name, "zh-hant")
            f.write("\t".join([code, name, hant, short, pinyin, status, year]) + "\n")
    print(f"{len(rows)} divisions ({len(current)} current) -> {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
