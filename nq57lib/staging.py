"""New rows for data/: read, checked with the loader's own rules, and appended all at once.

Three kinds of file hold new rows:

- a workbook made by ``nq57 template`` and filled in (sheet "Số liệu": one new figure a row; sheet
  "Nguồn mới": the new documents they come from);
- a CSV file of the same columns (headed by the labels of the sheet or by the short names in brackets);
- the staging CSV that ``notebooks/04_curate.ipynb`` writes (the same short names, with ``kind``:
  target or observation, and, for a document not yet in sources.csv, ``source_title``,
  ``source_publisher``...).

:func:`check` reads a file and tells what would change, or every problem (sheet or file, row, column,
value, fix): a figure that is text, a date column that holds "Quý 1/2025", an unknown indicator, a unit
that is not the indicator's, a figure its quote does not state, a figure that conflicts with one already
in data/. The rows are checked by loading a temporary copy of data/ with them appended, so the rules are
exactly those of ``nq57 validate``. :func:`apply` appends them: every data file is written to a temporary
file first and then renamed over the old one, so a file is either as it was or complete; if a later file
cannot be renamed, the ones already renamed are put back.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import os
import shutil
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import _paths
from .dataset import COLUMNS, UNITS, load
from .errors import DataValidationError, ImportRefused, ParameterError, Problem
from .numbers import parse_number

SHEET = "Số liệu"
SOURCES_SHEET = "Nguồn mới"

#: the columns of sheet "Số liệu": (short name, Vietnamese label, English label, filled in by the user)
FIGURE_COLUMNS = (
    ("province", "Tỉnh, thành", "Province or city", False),
    ("indicator", "Mã chỉ tiêu", "Indicator id", False),
    ("name", "Tên chỉ tiêu", "Indicator", False),
    ("indicator_unit", "Đơn vị của chỉ tiêu", "Indicator's unit", False),
    ("target", "Mục tiêu", "Target", False),
    ("target_year", "Năm mục tiêu", "Target year", False),
    ("target_source", "Văn bản đặt mục tiêu", "Target set by", False),
    ("latest_value", "Số liệu gần nhất đã có", "Latest figure held", False),
    ("latest_period", "Kỳ của số liệu đó", "Its period", False),
    ("latest_source", "Nguồn của số liệu đó", "Its source", False),
    ("value", "Số liệu mới", "New figure", True),
    ("unit", "Đơn vị của số liệu mới", "Unit of the new figure", True),
    ("period_end", "Ngày cuối kỳ", "Last day covered", True),
    ("period", "Kỳ báo cáo (như nguồn ghi)", "Period (as the source words it)", True),
    ("source_id", "Mã nguồn", "Source id", True),
    ("quote", "Trích dẫn nguyên văn", "Exact quote", True),
    ("note", "Ghi chú", "Note", True),
    ("note_en", "Ghi chú bằng tiếng Anh", "Note in English", True),
)
#: the columns of sheet "Nguồn mới" (sources.csv's columns)
SOURCE_COLUMNS = (
    ("id", "Mã nguồn", "Source id"),
    ("title", "Tiêu đề văn bản", "Title"),
    ("publisher", "Cơ quan, tác giả", "Publisher"),
    ("published", "Ngày đăng (ngày văn bản ghi)", "Date published"),
    ("url", "Địa chỉ web", "Web address"),
    ("language", "Ngôn ngữ (vi, en)", "Language"),
    ("instrument", "Loại văn bản", "Kind of document"),
    ("doc_number", "Số văn bản", "Document number"),
    ("note", "Ghi chú", "Note"),
)
#: what a staging CSV adds: target rows, and a new source on the figure rows
STAGING_COLUMNS = ("kind", "year", "comparator", "value_high")
SOURCE_FIELDS = tuple(f"source_{key}" for key, *_ in SOURCE_COLUMNS if key != "id")


def label(vi: str, en: str, key: str) -> str:
    """A column's header: Vietnamese first, English, and the short name a CSV may use instead."""
    return f"{vi} / {en} [{key}]"


# ------------------------------------------------------------------ reading new rows

@dataclass
class NewRow:
    """One row to append: the data file, its cells (the data file's columns, as text), and where it
    came from (for messages)."""

    file: str                      # targets.csv, observations.csv or sources.csv
    cells: dict[str, str]
    origin: str                    # 'new.xlsx, sheet "Số liệu"' or 'staging.csv'
    row: int                       # the row (worksheet) or line (CSV) it came from
    where: str = "row"
    labels: dict[str, str] = field(default_factory=dict)   # data column -> the column's header in the file
    unit: str = ""                 # the unit the row says its figure is in (checked against the indicator's)
    bad: bool = False              # a cell could not be read: the row is not checked further

    def problem(self, column: str, value, message: str, fix: str) -> Problem:
        self.bad = True
        return Problem(self.origin, self.row, self.labels.get(column, column), "" if value is None else str(value),
                       message, fix, self.where)


def _header_keys(header: list, keys: dict[str, tuple[str, str]]) -> dict[int, str]:
    """Column index -> short name, from headers written as the template's label, the short name (alone or
    in brackets), or either language's label."""
    from .names import fold

    out = {}
    for i, cell in enumerate(header):
        text = " ".join(str(cell or "").split())
        if not text:
            continue
        bracket = text.rsplit("[", 1)[-1].rstrip("]").strip() if text.endswith("]") else ""
        key = bracket if bracket in keys else next((k for k in keys if fold(text) == fold(k)), None) or next(
            (k for k, (vi, en) in keys.items() if fold(text) in (fold(vi), fold(en), fold(f"{vi} / {en}"))), None)
        if key and key not in out.values():
            out[i] = key
    return out


def _file_problem(path: Path, message: str, fix: str) -> ImportRefused:
    return ImportRefused([Problem(str(path), 0, "", "", message, fix)], str(path))


_MAGIC = ((b"%PDF", "a PDF document"), (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Word file"),
          (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"\x7fELF", "a program"),
          (b"\x1f\x8b", "a gzip archive"))


def read_new_rows(path: str | Path) -> tuple[list[NewRow], list[Problem]]:
    """The rows of a filled template (.xlsx), a CSV of its columns, or a staging CSV, with the problems
    found in the cells themselves (text in a number column, a date column that holds no date...).

    Raises
    ------
    ImportRefused
        When the file as a whole cannot be used: missing, empty, binary, not UTF-8, a workbook without
        the sheet "Số liệu", a table without the columns of the template.
    """
    p = Path(path)
    if not p.exists():
        raise _file_problem(p, "no such file", "check the path")
    if p.is_dir() or not p.is_file():
        raise _file_problem(p, "is not a file", "give the path of a workbook (.xlsx) or a CSV file")
    raw = p.read_bytes()
    if not raw.strip():
        raise _file_problem(p, "is empty", "fill in a workbook made by `nq57 template` and import that")
    if raw.startswith(b"PK\x03\x04"):
        return _read_workbook(p)
    kind = next((k for magic, k in _MAGIC if raw.startswith(magic)), "")
    if kind or b"\x00" in raw[:65536]:
        raise _file_problem(p, f"is {kind or 'a binary file'}, not a workbook (.xlsx) or CSV text",
                            "save the sheet as an Excel workbook (.xlsx) or as 'CSV UTF-8 (Comma delimited)'")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ImportRefused([Problem(str(p), line, "", raw[e.start:e.start + 4].hex(" "),
                                     "the file is not UTF-8 (it looks like a legacy code page such as cp1258)",
                                     "save it again as 'CSV UTF-8 (Comma delimited)'")], str(p)) from None
    return _read_csv(p, unicodedata.normalize("NFC", text))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFC", " ".join(str(value).split()))


def _number_cell(row: NewRow, column: str, value, problems: list[Problem], typed: bool) -> str:
    """A figure as data files write it; a problem when the cell is text (a workbook) or not a plain
    number (a CSV file: a dot for decimals, no thousands separator)."""
    from .extract import _number

    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        problems.append(row.problem(column, value, "is not a number", "type the figure, e.g. 84.2"))
        return ""
    if isinstance(value, (int, float)):
        return _number(float(value))
    text = _text(value)
    if not typed:
        try:
            float(text)
            if "e" not in text.lower() and text.strip() not in ("nan", "inf", "-inf"):
                return text
        except ValueError:
            pass
    try:
        p = parse_number(text)
        hint = f"type {_number(p.value)}" + (" (without %: the unit has its own column)" if p.unit == "%" else
                                             " in the indicator's unit" if p.scale > 1 else "")
    except ValueError:
        hint = "type the figure alone, e.g. 84.2"
    if typed:
        problems.append(row.problem(column, text, "is text, not a number",
                                    f"{hint} in a number cell (Excel: a cell formatted as Number, not Text)"))
    else:
        problems.append(row.problem(column, text, "is not a plain number",
                                    f"{hint}: a dot for decimals and no thousands separator"))
    return ""


def _date_cell(row: NewRow, column: str, value, problems: list[Problem]) -> str:
    """A date as YYYY-MM-DD; a problem for anything else ("Quý 1/2025", "31/3/2025")."""
    if value is None or value == "":
        return ""
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = _text(value)
    try:
        return _dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    from .extract import _time_phrases

    times = [t for t in _time_phrases(text, None) if t.period_end]
    if times and column == "period_end":
        fix = (f"write the last day the figure covers, {times[0].period_end}, as a date (YYYY-MM-DD); "
               f"'{text}' belongs in the period column")
    else:
        fix = "write the date as YYYY-MM-DD, e.g. 2025-03-31 (or as an Excel date)"
    problems.append(row.problem(column, text, "is not a date", fix))
    return ""


def _read_workbook(p: Path) -> tuple[list[NewRow], list[Problem]]:
    try:
        import openpyxl
        wb = openpyxl.load_workbook(p, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise _file_problem(p, f"cannot be read as an Excel workbook ({type(e).__name__})",
                            "open it in Excel or LibreOffice and save it again as .xlsx") from None
    if SHEET not in wb.sheetnames:
        raise _file_problem(p, f'has no sheet "{SHEET}" (its sheets: {", ".join(wb.sheetnames)})',
                            f"fill in a workbook made by `nq57 template`, or copy your rows into its sheet \"{SHEET}\"")
    problems: list[Problem] = []
    rows = _read_table(p, f'{p.name}, sheet "{SHEET}"', list(wb[SHEET].iter_rows(values_only=True)), "row", True,
                       problems)
    if SOURCES_SHEET in wb.sheetnames:
        rows += _read_sources(f'{p.name}, sheet "{SOURCES_SHEET}"',
                              list(wb[SOURCES_SHEET].iter_rows(values_only=True)), "row", True, problems)
    return rows, problems


def _read_csv(p: Path, text: str) -> tuple[list[NewRow], list[Problem]]:
    try:
        table = [r for r in csv.reader(io.StringIO(text, newline=""), strict=True)]
    except csv.Error as e:
        raise _file_problem(p, f"cannot be read as CSV ({e})", 'close every quoted cell; write a " inside one as ""')
    problems: list[Problem] = []
    return _read_table(p, p.name, table, "line", False, problems), problems


_KEYS = {key: (vi, en) for key, vi, en, _ in FIGURE_COLUMNS}
_KEYS.update({"kind": ("Loại", "Kind"), "year": ("Năm", "Year"), "comparator": ("So sánh", "Comparator"),
              "value_high": ("Cận trên", "Upper end")})
_KEYS.update({f"source_{key}": (f"Nguồn: {vi}", f"Source: {en}") for key, vi, en in SOURCE_COLUMNS if key != "id"})


_FILLED = [key for key, _, _, filled in FIGURE_COLUMNS if filled and key != "unit"]


def _read_table(p: Path, origin: str, table: list, where: str, typed: bool, problems: list[Problem]) -> list[NewRow]:
    if not table or not any(table[0]):
        raise _file_problem(p, f"{origin}: the first row holds no column names",
                            "keep the header row of the template (or the short names: value, period_end, ...)")
    keys = _header_keys(list(table[0]), _KEYS)
    missing = [k for k in ("indicator", "value", "period_end", "source_id", "quote") if k not in keys.values()]
    if missing:
        raise _file_problem(p, f"{origin}: no column {', '.join(missing)}",
                            "use a workbook made by `nq57 template`, or a CSV with its columns "
                            "(the labels or the short names in brackets)")
    headers = {keys[i]: " ".join(str(table[0][i]).split()) for i in keys}
    out = []
    for n, values in enumerate(table[1:], start=2):
        cells = {keys[i]: values[i] for i in keys if i < len(values)}
        if not _text(cells.get("kind")) and all(_text(cells.get(k)) == "" for k in _FILLED):
            continue  # a target's row that was not filled in (its unit is filled in beforehand)
        kind = _text(cells.get("kind")) or "observation"
        row = NewRow("targets.csv" if kind == "target" else "observations.csv", {}, origin, n, where, headers)
        if kind not in ("target", "observation"):
            problems.append(row.problem("kind", kind, "is not a kind of row", "write target or observation"))
            continue
        data = {c: _text(cells.get(c)) for c in ("province", "indicator", "period", "source_id", "quote", "note",
                                                  "note_en", "comparator")}
        data["value"] = _number_cell(row, "value", cells.get("value"), problems, typed)
        if kind == "target":
            data["year"] = _text(cells.get("year"))
            data["value_high"] = _number_cell(row, "value_high", cells.get("value_high"), problems, typed)
            row.cells = {c: data.get(c, "") for c in sum(COLUMNS["targets.csv"], ())}
        else:
            data["period_end"] = _date_cell(row, "period_end", cells.get("period_end"), problems)
            row.cells = {c: data.get(c, "") for c in sum(COLUMNS["observations.csv"], ())}
        row.unit = _text(cells.get("unit"))
        out.append(row)
        source = {f[len("source_"):]: _text(cells.get(f)) for f in SOURCE_FIELDS}
        if any(source.values()):
            names = {f[len("source_"):]: headers.get(f, f) for f in SOURCE_FIELDS}
            src = NewRow("sources.csv", {"id": data["source_id"], **source}, origin, n, where,
                         dict(names, id=headers.get("source_id", "source_id")))
            src.cells["published"] = _date_cell(src, "published", cells.get("source_published"), problems)
            out.append(src)
    return out


def _read_sources(origin: str, table: list, where: str, typed: bool, problems: list[Problem]) -> list[NewRow]:
    if not table:
        return []
    keys = _header_keys(list(table[0]), {k: (vi, en) for k, vi, en in SOURCE_COLUMNS})
    headers = {keys[i]: " ".join(str(table[0][i]).split()) for i in keys}
    out = []
    for n, values in enumerate(table[1:], start=2):
        cells = {keys[i]: values[i] for i in keys if i < len(values)}
        if all(_text(v) == "" for v in cells.values()):
            continue
        row = NewRow("sources.csv", {}, origin, n, where, headers)
        data = {k: _text(cells.get(k)) for k, *_ in SOURCE_COLUMNS}
        data["published"] = _date_cell(row, "published", cells.get("published"), problems)
        row.cells = data
        out.append(row)
    return out


# ------------------------------------------------------------------ the data files as written

def _data_file(path: Path) -> tuple[str, list[str], list[tuple[int, dict]]]:
    """A data file's text as written (without a BOM), its header, and its rows (NFC) with the line each
    starts on, as the loader counts lines."""
    raw_text = path.read_bytes().decode("utf-8-sig")
    reader = csv.reader(io.StringIO(unicodedata.normalize("NFC", raw_text), newline=""))
    rows, header, last = [], [], 0
    for record in reader:
        start, last = last + 1, reader.line_num
        if not header:
            header = [h.strip() for h in record]
            continue
        if record and any(c.strip() for c in record):
            rows.append((start, {h: c.strip() for h, c in zip(header, record)}))
    return raw_text, header, rows


def _appended(raw_text: str, header: list[str], rows: list[dict]) -> str:
    """The file's text with rows added at the end, in its own columns, line ends and quoting."""
    newline = "\r\n" if "\r\n" in raw_text else "\n"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline)
    for r in rows:
        writer.writerow([r.get(h, "") for h in header])
    body = raw_text if raw_text.endswith(("\n", "\r")) or not raw_text else raw_text + newline
    return body + buf.getvalue()


class DataRows:
    """The rows of data/'s files as written, with the line each starts on (as the loader counts), and
    the facts among them that state the same thing as a new row."""

    FILES = ("sources.csv", "targets.csv", "observations.csv")

    def __init__(self, ds, data_dir: Path):
        self.ds = ds
        self.text, self.header, self.lines = {}, {}, {}
        for name in self.FILES:
            self.text[name], self.header[name], self.lines[name] = _data_file(Path(data_dir) / name)
        self._slugs: dict[str, str | None] = {}

    def slug(self, name: str) -> str | None:
        """The unit a name in a data file or a new row stands for (None when none)."""
        if name not in self._slugs:
            try:
                self._slugs[name] = self.ds.find_province(name).name if name else None
            except ParameterError:
                self._slugs[name] = None
        return self._slugs[name]

    def same_fact(self, file: str, province: str, indicator: str, when: str, source_id: str | None = None):
        """The (line, row) pairs of ``file`` for the same unit, indicator and year (targets.csv) or period
        end (observations.csv), and the same source when ``source_id`` is given."""
        key = "year" if file == "targets.csv" else "period_end"
        unit = self.slug(province)
        if unit is None or not indicator or not when:
            return []
        return [(line, old) for line, old in self.lines[file]
                if old["indicator"] == indicator and old.get(key) == when and self.slug(old["province"]) == unit
                and (source_id is None or old["source_id"] == source_id)]


# ------------------------------------------------------------------ checking

@dataclass
class Plan:
    """What importing a file would do: the rows to append per data file, the rows skipped because
    data/ holds them already, and the problems that refuse the file."""

    file: str
    data_dir: Path
    append: dict[str, list[NewRow]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.append.values())

    def summary(self, done: bool = False) -> str:
        """What changes (or would change), one line per row."""
        verb = "Appended" if done else "Would append"
        parts = [f"{len(v)} row{'s' if len(v) != 1 else ''} to {k}" for k, v in self.append.items() if v]
        lines = [f"{verb} {', '.join(parts) if parts else 'nothing'} in {self.data_dir}."]
        for name, rows in self.append.items():
            for r in rows:
                c = r.cells
                what = (f"{c['id']}: {c['title']}" if name == "sources.csv" else
                        f"{c['province']} {c['indicator']} {c.get('year') or c.get('period_end')} = {c['value']}"
                        + (f"-{c['value_high']}" if c.get("value_high") else "") + f" ({c['source_id']})")
                lines.append(f"  + {name}: {what}   [{r.origin}, {r.where} {r.row}]")
        for s in self.skipped:
            lines.append(f"  = {s}")
        return "\n".join(lines)


def check(path: str | Path, data_dir: str | Path | None = None) -> Plan:
    """Read a file of new rows and check every row with the loader's rules; nothing is written.

    Returns
    -------
    Plan
        ``problems`` is empty when the file can be imported.

    Raises
    ------
    ImportRefused
        When the file as a whole cannot be read (see :func:`read_new_rows`).
    DataValidationError
        When data/ itself has problems (fix them first: ``nq57 validate``).
    """
    data_dir = Path(data_dir) if data_dir is not None else _paths.DATA_DIR
    rows, problems = read_new_rows(path)
    plan = Plan(str(path), data_dir, problems=problems)
    ds = load(data_dir)
    units = ds.indicators.set_index("id")["unit"]
    if not any(r.file != "sources.csv" for r in rows):
        plan.problems.append(Problem(str(path), 0, "", "", "has no new figure",
                                     f"fill in the column \"Số liệu mới / New figure\" of sheet \"{SHEET}\" (one "
                                     "figure a row, with its date, source and quote)"))
    data = DataRows(ds, data_dir)
    known_sources = {c["id"]: (line, c) for line, c in data.lines["sources.csv"]}
    new_sources: dict[str, NewRow] = {}
    keep: list[NewRow] = []
    for r in rows:
        c = r.cells
        if r.bad:
            continue
        if r.file == "sources.csv":
            if c["id"] in known_sources:
                line, old = known_sources[c["id"]]
                if all(not c.get(k) or c[k] == old.get(k, "") for k in c):
                    continue  # the same document: nothing to add
                plan.problems.append(r.problem("id", c["id"], f"is the id of another document in sources.csv "
                                                f"(line {line}: {old.get('title', '')})",
                                               "give the new document an id of its own, or use that source"))
                continue
            if c["id"] in new_sources:
                if new_sources[c["id"]].cells != c and any(c[k] and c[k] != new_sources[c["id"]].cells.get(k)
                                                           for k in c):
                    plan.problems.append(r.problem("id", c["id"], "describes the source differently from "
                                                   f"{new_sources[c['id']].where} {new_sources[c['id']].row}",
                                                   "describe each new source once, the same way"))
                continue
            new_sources[c["id"]] = r
            keep.append(r)
            continue
        ind = c["indicator"]
        if ind in units and getattr(r, "unit", "") and r.unit != units[ind]:
            plan.problems.append(r.problem("unit", r.unit, f"is not the unit of {ind} ({units[ind]})",
                                           f"convert the figure to {units[ind]} and write {units[ind]} here"))
            continue
        if getattr(r, "unit", "") and r.unit not in UNITS:
            plan.problems.append(r.problem("unit", r.unit, "is not a known unit", "use one of " + ", ".join(UNITS)))
            continue
        # the loader counts two targets of one document for one unit, indicator and year as a duplicate
        same = data.same_fact(r.file, c["province"], ind, c.get("year") or c.get("period_end", ""),
                              c["source_id"] if r.file == "targets.csv" else None)
        if same:
            line, old = same[0]
            what = f"{r.file} line {line} ({old['province']}, {old['indicator']}, " \
                   f"{old.get('year') or old.get('period_end')}, {old['source_id']})"
            if old["value"] == c["value"] and old.get("value_high", "") == c.get("value_high", ""):
                plan.skipped.append(f"{r.origin}, {r.where} {r.row}: already in {what}: skipped")
                continue
            plan.problems.append(r.problem("value", c["value"], f"conflicts with {what}, which gives {old['value']}",
                                           f"if the new figure corrects it, edit {r.file} by hand; otherwise "
                                           "correct this row (its period, indicator or value)"))
            continue
        keep.append(r)
    for r in keep:
        plan.append.setdefault(r.file, []).append(r)
    plan.append = {k: plan.append[k] for k in ("sources.csv", "targets.csv", "observations.csv") if k in plan.append}
    if plan.append:
        plan.problems += _loader_problems(plan, data_dir, data)
    return plan


def _loader_problems(plan: Plan, data_dir: Path, data: DataRows) -> list[Problem]:
    """Load a temporary copy of data/ with the rows appended; the loader's problems on those rows,
    told by the sheet or file and row they came from."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="nq57-import-") as tmp:
        tmp = Path(tmp)
        for name in COLUMNS:
            if (data_dir / name).is_file():
                shutil.copyfile(data_dir / name, tmp / name)
        origin: dict[tuple[str, int], NewRow] = {}
        for name, rows in plan.append.items():
            text = data.text[name]
            first = text.count("\n") + (1 if text.endswith("\n") else 2)
            (tmp / name).write_text(_appended(text, data.header[name], [r.cells for r in rows]), encoding="utf-8",
                                    newline="")
            for i, r in enumerate(rows):
                origin[(name, first + i)] = r
        try:
            load(tmp)
        except DataValidationError as e:
            for p in e.problems:
                r = origin.get((p.file, p.line))
                if r is not None:
                    message = p.message
                    for (name, line), other in origin.items():  # "duplicates line 145": the row of this file
                        if name == p.file and f"line {line}" in message:
                            message = message.replace(f"line {line}", f"{other.where} {other.row}")
                    problems.append(Problem(r.origin, r.row, r.labels.get(p.column, p.column), p.value, message,
                                            p.fix, r.where))
                else:
                    problems.append(p)
    return problems


# ------------------------------------------------------------------ appending

def apply(plan: Plan) -> None:
    """Append the plan's rows to data/, every file or none.

    Each file is written in full to a temporary file beside it and renamed over it (a reader sees the
    old file or the new one, never half of it); if a rename fails, the files already renamed are put back.
    """
    if plan.problems:
        raise ImportRefused(plan.problems, plan.file)
    written: list[tuple[Path, bytes]] = []
    temps: list[tuple[Path, Path]] = []
    try:
        for name, rows in plan.append.items():
            path = plan.data_dir / name
            raw = path.read_bytes()
            text, header, _ = _data_file(path)
            new = _appended(text, header, [r.cells for r in rows]).encode("utf-8")
            if raw.startswith(b"\xef\xbb\xbf"):
                new = b"\xef\xbb\xbf" + new
            tmp = path.with_name(f".{name}.nq57-import.tmp")
            with open(tmp, "wb") as f:
                f.write(new)
                f.flush()
                os.fsync(f.fileno())
            shutil.copymode(path, tmp)
            temps.append((tmp, path))
            written.append((path, raw))
        done = []
        try:
            for tmp, path in temps:
                os.replace(tmp, path)
                done.append(path)
        except OSError:
            for path, raw in written:
                if path in done:
                    path.write_bytes(raw)
            raise
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)


def import_rows(path: str | Path, data_dir: str | Path | None = None, dry_run: bool = False) -> Plan:
    """Check a file of new rows and, unless ``dry_run``, append them to data/ (see :func:`check`).

    Raises
    ------
    ImportRefused
        Listing every problem; nothing is written.
    """
    plan = check(path, data_dir)
    if plan.problems:
        raise ImportRefused(plan.problems, plan.file)
    if not dry_run:
        apply(plan)
    return plan
