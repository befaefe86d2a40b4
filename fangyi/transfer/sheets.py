"""The screening sheet: its columns, and reading and writing xlsx and csv.

The columns are documented in docs/import-template.md. Headers are matched in either script
(Traditional or Simplified) and with a few common variants; the order of the columns does
not matter, and unknown columns are ignored (and kept in the errors file).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zhconv
from django.utils.translation import gettext as _

from fangyi.core.errors import DomainError

XLSX = "xlsx"
CSV = "csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv"
CONTENT_TYPES = {XLSX: XLSX_TYPE, CSV: CSV_TYPE}


@dataclass(frozen=True)
class Column:
    key: str
    hant: str  # the header in Traditional script (the template's default)
    hans: str  # the header in Simplified script
    required: bool = False
    example: str = ""
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("node", "網格/小區", "网格/小区", True, "機務小區", ("網格", "小區", "小區/網格")),
    Column("address", "地址", "地址", True, "機務小區3棟2單元501", ("住址", "家庭住址")),
    Column("name", "姓名", "姓名", False, "韋秀英"),
    Column("id_type", "證件類型", "证件类型", False, "居民身份證"),
    Column(
        "id_number",
        "證件號碼",
        "证件号码",
        False,
        "450107195503120028",
        ("身份證號碼", "身份證號", "身份證"),
    ),
    Column("phone", "手機號碼", "手机号码", False, "13907710001", ("手機", "電話", "聯繫電話")),
    Column("relation", "與戶主關係", "与户主关系", False, "戶主", ("關係",)),
    Column("date", "排查日期", "排查日期", True, "2020-02-03", ("日期", "上門日期")),
    Column("outcome", "上門結果", "上门结果", False, "已排查", ("排查結果",)),
    Column("temperature", "體溫", "体温", False, "36.5", ("體溫(℃)", "體溫(°C)")),
    Column("temperature_method", "測溫方式", "测温方式", False, "額溫"),
    Column("symptoms", "症狀", "症状", False, "無"),
    Column("travel_place", "旅居地", "旅居地", False, "武漢市", ("旅居史",)),
    Column("travel_from", "旅居開始", "旅居开始", False, "2020-01-18"),
    Column("travel_to", "旅居結束", "旅居结束", False, "2020-01-22"),
    Column("transport", "交通方式", "交通方式", False, "火車 G1234"),
    Column("contact", "接觸史", "接触史", False, "無"),
    Column("contact_date", "接觸日期", "接触日期", False, ""),
    Column("notes", "備註", "备注", False, ""),
)
BY_KEY = {c.key: c for c in COLUMNS}
ERROR_HEADER = {"hant": "錯誤", "hans": "错误"}
# The errors file also says which row of the uploaded sheet each bad row was (its line number,
# the header being line 1), so that the sheet's keeper can find it there.
ROW_HEADER = {"hant": "原行號", "hans": "原行号"}


def header_key(text: Any) -> str:
    """A header as compared: simplified script, no spaces or marks, full-width folded."""
    value = unicodedata.normalize("NFKC", str(text or ""))
    value = re.sub(r"[\s*＊:：]", "", value)
    value = value.replace("（", "(").replace("）", ")")
    return zhconv.convert(value, "zh-hans").lower()


_HEADER_INDEX: dict[str, str] = {}
for _c in COLUMNS:
    for _name in (_c.hant, _c.hans, _c.key, *_c.aliases):
        _HEADER_INDEX[header_key(_name)] = _c.key
    # "網格/小區" also as "網格／小區" or "網格 / 小區"
    _HEADER_INDEX[header_key(_c.hant).replace("/", "")] = _c.key
_ERROR_KEYS = {header_key(v) for v in (*ERROR_HEADER.values(), *ROW_HEADER.values())}


def column_of(header: Any) -> str | None:
    key = header_key(header)
    return _HEADER_INDEX.get(key) or _HEADER_INDEX.get(key.replace("/", ""))


def is_error_header(header: Any) -> bool:
    """The columns the errors file adds (row number, errors): ignored when it comes back."""
    return header_key(header) in _ERROR_KEYS


def template_headers(script: str = "hant") -> list[str]:
    return [c.hans if script == "hans" else c.hant for c in COLUMNS]


def script_of(headers: Sequence[str]) -> str:
    """ "hans" when the sheet's recognised headers are written in Simplified script."""
    for h in headers:
        c = BY_KEY.get(column_of(h) or "")
        if c is not None and c.hant != c.hans:
            text = re.sub(r"\s", "", str(h))
            if text == c.hans:
                return "hans"
            if text == c.hant:
                return "hant"
    return "hant"


# ---------------------------------------------------------------------------------------------
# reading


class SheetError(DomainError):
    """The file as a whole cannot be read (the rows are never looked at)."""


@dataclass
class Sheet:
    headers: list[str]  # as written in the file (errors come back under the same ones)
    keys: list[str | None]  # the column each header is, or None for unknown ones
    rows: list[tuple[int, list[Any]]]  # (line number in the file, cells)
    encoding: str = ""  # csv only

    def __post_init__(self) -> None:
        self._index = {k: i for i, k in enumerate(self.keys) if k is not None}

    @property
    def script(self) -> str:
        return script_of(self.headers)

    def header_for(self, key: str) -> str:
        """The header of column `key` as the file wrote it (or the template's)."""
        i = self._index.get(key)
        if i is not None:
            return str(self.headers[i]).strip()
        c = BY_KEY.get(key)
        if c is None:
            return ""
        return c.hans if self.script == "hans" else c.hant

    def values(self, cells: Sequence[Any]) -> dict[str, Any]:
        return {k: (cells[i] if i < len(cells) else None) for k, i in self._index.items()}


def fmt_of(filename: str) -> str | None:
    suffix = Path(filename or "").suffix.lower()
    return {".xlsx": XLSX, ".csv": CSV}.get(suffix)


def _uncsv(cell: str) -> str:
    """A cell as typed: the apostrophe write_csv puts before a formula-like text comes off."""
    if cell[:1] == "'" and cell[1:2] in FORMULA_START and cell[1:2] != "":
        return cell[1:]
    return cell


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _headers_checked(raw: Sequence[Any]) -> tuple[list[str], list[str | None]]:
    headers = ["" if h is None else str(h).strip() for h in raw]
    while headers and not headers[-1]:
        headers.pop()
    keys: list[str | None] = []
    for h in headers:
        key = None if is_error_header(h) else column_of(h)
        keys.append(key if key not in keys else None)
    missing = [c for c in COLUMNS if c.required and c.key not in keys]
    if missing:
        script = script_of(headers)
        names = "、".join(c.hans if script == "hans" else c.hant for c in missing)
        raise SheetError(
            _(
                "The first row must hold the template's headers; missing: %(names)s. "
                "Download the template and copy your rows into it."
            )
            % {"names": names},
            field="file",
        )
    return headers, keys


def decode_csv(data: bytes) -> tuple[str, str]:
    """The text of a csv file and its encoding: UTF-8 (with or without BOM) or GBK (as Chinese
    Excel saves "CSV"), read as GB18030, its superset."""
    if b"\x00" in data[:4096]:
        raise SheetError(_("This is not a CSV text file."), field="file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig":
            return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
        return text, "gbk"
    raise SheetError(
        _("The CSV file is neither UTF-8 nor GBK: save it again as CSV (UTF-8)."), field="file"
    )


def _read_csv(data: bytes, max_rows: int, header_only: bool = False) -> Sheet:
    text, encoding = decode_csv(data)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        first = next(reader)
    except StopIteration:
        raise SheetError(_("The file is empty."), field="file") from None
    except csv.Error as exc:
        raise SheetError(
            _("This CSV file cannot be read: %(e)s") % {"e": exc}, field="file"
        ) from None
    headers, keys = _headers_checked(first)
    rows: list[tuple[int, list[Any]]] = []
    if header_only:
        return Sheet(headers, keys, rows, encoding)
    try:
        for cells in reader:
            if all(_blank(c) for c in cells):
                continue
            rows.append((reader.line_num, [_uncsv(c) for c in cells]))
            if len(rows) > max_rows:
                break
    except csv.Error as exc:
        raise SheetError(
            _("Line %(n)d of the CSV file cannot be read: %(e)s")
            % {"n": reader.line_num, "e": exc},
            field="file",
        ) from None
    return Sheet(headers, keys, rows, encoding)


def _read_xlsx(data: bytes, max_rows: int, header_only: bool = False) -> Sheet:
    from openpyxl import load_workbook

    if not data.startswith(b"PK"):
        raise SheetError(_("This is not an Excel workbook (.xlsx)."), field="file")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise SheetError(
            _("This Excel workbook cannot be read: save it again as .xlsx."), field="file"
        ) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise SheetError(_("The workbook has no sheet."), field="file")
        it = sheet.iter_rows(values_only=True)
        first = None
        for line, cells in enumerate(it, start=1):
            if not all(_blank(c) for c in cells):
                first = (line, cells)
                break
        if first is None:
            raise SheetError(_("The file is empty."), field="file")
        headers, keys = _headers_checked(first[1])
        rows: list[tuple[int, list[Any]]] = []
        if header_only:
            return Sheet(headers, keys, rows)
        for line, cells in enumerate(it, start=first[0] + 1):
            if all(_blank(c) for c in cells):
                continue
            rows.append((line, list(cells[: len(headers)])))
            if len(rows) > max_rows:
                break
        return Sheet(headers, keys, rows)
    finally:
        book.close()


def read_sheet(data: bytes, fmt: str, *, max_rows: int = 100_000) -> Sheet:
    """The header row checked and every non-blank row after it. More than `max_rows` rows:
    SheetError."""
    sheet = _read_csv(data, max_rows) if fmt == CSV else _read_xlsx(data, max_rows)
    if len(sheet.rows) > max_rows:
        raise SheetError(
            _("A sheet holds at most %(n)s rows: split the file.") % {"n": f"{max_rows:,}"},
            field="file",
        )
    return sheet


MAX_UNPACKED = 300 * 1024 * 1024  # an xlsx is a zip: what it unpacks to, at most


def _check_unpacked_size(data: bytes) -> None:
    """A workbook that unpacks to far more than any screening sheet (a zip bomb) is refused
    before openpyxl reads it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise SheetError(
            _("This Excel workbook cannot be read: save it again as .xlsx."), field="file"
        ) from None
    if unpacked > MAX_UNPACKED:
        raise SheetError(_("This workbook is too large to import: split it."), field="file")


def peek(data: bytes, fmt: str) -> tuple[list[str], str]:
    """Check a file at upload, before anything is stored: its content is the format its name
    says, it can be read, and its first row holds the required headers. Reads the header row
    only, so a large file answers at once. Returns the headers and, for csv, the encoding."""
    if fmt == XLSX:
        if not data.startswith(b"PK\x03\x04"):
            raise SheetError(
                _("This file is not an Excel workbook (.xlsx), whatever its name says."),
                field="file",
            )
        _check_unpacked_size(data)
        sheet = _read_xlsx(data, 0, header_only=True)
        return sheet.headers, ""
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF")) or b"\x00" in data[:4096]:
        raise SheetError(
            _("This file is not a CSV text file, whatever its name says."), field="file"
        )
    sheet = _read_csv(data, 0, header_only=True)
    return sheet.headers, sheet.encoding


# ---------------------------------------------------------------------------------------------
# writing


# A text that a spreadsheet would run as a formula (=HYPERLINK(...) in an address, say).
FORMULA_START = ("=", "+", "-", "@")


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value


def _xlsx_cell(sheet, value: Any) -> Any:
    """A value for a write-only row; text that starts like a formula stays text."""
    if isinstance(value, str) and value.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # openpyxl would otherwise store it as a formula
        return cell
    return _cell(value)


def write_xlsx(
    out, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = ""
) -> None:
    """A workbook in openpyxl's write-only mode (rows stream to disk, memory stays flat)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=(title or "Sheet1")[:31])
    bold = Font(bold=True)
    head = []
    for h in headers:
        cell = WriteOnlyCell(sheet, value=h)
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    book.save(out)


def write_csv(
    out, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, encoding: str = "utf-8-sig"
) -> None:
    """csv bytes into the binary file `out`. GBK where the upload was GBK; otherwise UTF-8
    with a BOM, which Excel needs to read UTF-8."""
    if encoding in ("", "utf-8"):
        encoding = "utf-8-sig"
    elif encoding == "gbk":
        encoding = "gb18030"  # GBK's superset: the same bytes, and no name is lost
    wrapper = io.TextIOWrapper(out, encoding=encoding, errors="replace", newline="")
    writer = csv.writer(wrapper)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else _csv_value(v) for v in row])
    wrapper.flush()
    wrapper.detach()


def _csv_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != dt.time(0) else value.date()
    if isinstance(value, str) and value.startswith(FORMULA_START):
        # Excel would run it as a formula: a leading apostrophe makes it text (OWASP's
        # CSV-injection advice). The importer drops that apostrophe again.
        return "'" + value
    return value


def write_sheet(out, fmt: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], **kw) -> None:
    if fmt == CSV:
        write_csv(out, headers, rows, encoding=kw.get("encoding", "utf-8-sig"))
    else:
        write_xlsx(out, headers, rows, title=kw.get("title", ""))


def template_rows(script: str = "hant") -> list[list[str]]:
    """Two example rows: a household visited, and a door where nobody was home."""
    example = [c.example for c in COLUMNS]
    nobody = [""] * len(COLUMNS)
    keys = [c.key for c in COLUMNS]
    nobody[keys.index("node")] = "機務小區"
    nobody[keys.index("address")] = "機務小區5棟1單元302"
    nobody[keys.index("date")] = "2020-02-03"
    nobody[keys.index("outcome")] = "無人在家"
    rows = [example, nobody]
    if script == "hans":
        rows = [[zhconv.convert(v, "zh-hans") for v in r] for r in rows]
    return rows
