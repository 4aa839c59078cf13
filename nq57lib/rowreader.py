"""The reference reader: every data file row by row, every problem with its file, line, column, value and fix.

Python's csv module reads the text (strict quoting, line numbers as a spreadsheet shows them), pandera checks
each cell, and the checks across rows and files run row by row. It reads the four reference tables (pillars,
provinces, indicators, sources) on every load; it reads targets.csv and observations.csv only when the
columnar reader (:mod:`nq57lib.columnar`) finds something it cannot certify, so that a problem is reported
exactly as here.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .dataset import (COLUMNS, COMPARATORS, INSTRUMENTS, UNIT_SCALE, UNITS, YEAR_MAX, YEAR_MIN, _DATE, _DATE_RE,
                      _NUMBER, _ProvinceIndex, _clean, as_fact_dtypes, not_a_regular_file)
from .errors import Problem
from .names import did_you_mean
from .numbers import format_number, stated_quantities


# ---------------------------------------------------------------- reading files

_MAGIC = ((b"\x7fELF", "a program (ELF binary)"), (b"PK\x03\x04", "an Excel workbook or another zip archive"),
          (b"%PDF", "a PDF document"), (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Word file"),
          (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"\x1f\x8b", "a gzip archive"))


def binary_kind(raw: bytes) -> str:
    """What a binary file is ('' for text): a CSV has no NUL bytes."""
    for magic, kind in _MAGIC:
        if raw.startswith(magic):
            return kind
    return "a binary file" if b"\x00" in raw[:65536] else ""


def read_csv(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    """One data file as text cells (stripped, NFC) with its CSV line in ``_line``; None when it cannot be read."""
    name = path.name
    required, optional = COLUMNS[name]
    not_regular = not_a_regular_file(path)
    if not_regular:
        problems.append(Problem(name, 0, "", str(path), not_regular,
                                f"restore {name} as a plain CSV file (see data/README.md for its columns)"))
        return None
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    binary = binary_kind(raw)
    if binary:
        problems.append(Problem(name, 0, "", raw[:8].hex(" "), f"is {binary}, not CSV text",
                                "save the table as 'CSV UTF-8 (Comma delimited)' under this name, "
                                "or restore the file from the project"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        bad = raw[e.start: e.start + 4]
        problems.append(Problem(
            name, line, f"character {col}", bad.hex(" "),
            "the file is not UTF-8 (it looks like a legacy code page such as cp1258 or cp1252)",
            "open it in Excel and use File > Save As > 'CSV UTF-8 (Comma delimited)', "
            "or in LibreOffice choose the character set 'Unicode (UTF-8)'"))
        return None
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        problems.append(Problem(name, 0, "", "", "the file is empty",
                                f"restore it with its header line: {','.join(required + optional)}"))
        return None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    last = 0
    try:
        for record in reader:
            start, last = last + 1, reader.line_num
            if record and any(c.strip() for c in record):
                rows.append((start, record))
    except csv.Error as e:
        if "expected after" in str(e):
            message = f"the CSV cannot be read ({e}): a cell has a double quote (\") inside quotes"
            fix = 'write a double quote inside a quoted cell as two ("")'
        else:
            message = f"the CSV cannot be read ({e}): a quoted cell is not closed, so the file may have been cut off"
            fix = 'close the quote (") of the cell or restore the missing end of the file'
        problems.append(Problem(name, last + 1, "", "", message, fix))
        return None
    if not rows:
        problems.append(Problem(name, 0, "", "", "the file is empty",
                                f"restore it with its header line: {','.join(required + optional)}"))
        return None
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    ok = True
    for col in required:
        if col not in header:
            ok = False
            problems.append(Problem(name, header_line, col, "", "required column is missing",
                                    f"add a column named '{col}' to the header line"))
    unknown = [col for col in header if col not in required + optional]
    if len(unknown) > 3:  # a file that is not this table: one line, not one per column
        ok = False
        shown = ", ".join(repr(c) for c in unknown[:3])
        problems.append(Problem(name, header_line, "", f"{len(unknown)} columns",
                                f"are not columns of this file ({shown} and {len(unknown) - 3} more)",
                                f"keep only the columns {', '.join(required + optional)}"))
        unknown = []
    for col in unknown:
        ok = False
        hint = did_you_mean(col, list(required + optional))
        problems.append(Problem(name, header_line, col, col, "is not a column of this file",
                                (f"rename it ({hint})" if hint else "remove the column")
                                + f"; the columns are: {', '.join(required + optional)}"))
    if not ok:
        return None
    records = []
    for line, record in rows[1:]:
        if len(record) != len(header):
            cut = line == rows[-1][0] and len(record) < len(header)
            problems.append(Problem(
                name, line, "", ",".join(record)[:80],
                f"the row has {len(record)} cells but the header has {len(header)}"
                + ("; the file seems cut off in the middle of this row" if cut else ""),
                "put a cell that contains a comma in double quotes, and make every row as long as the header"))
            continue
        rec = {h: c.strip() for h, c in zip(header, record)}
        rec["_line"] = line
        records.append(rec)
    frame = pd.DataFrame(records, columns=list(header) + ["_line"], dtype=object)
    for col in required + optional:
        if col not in frame:
            frame[col] = ""
    return frame.fillna("")



# ---------------------------------------------------------------- cell checks (pandera)

_CHECKS = {
    "required": ("is required", "fill in the cell"),
    "number": ("is not a number", "write a plain number with a dot for decimals and no thousands separator, e.g. 84.2 or 16803"),
    "year": (f"is not a year between {YEAR_MIN} and {YEAR_MAX}", "write the target year as four digits, e.g. 2030"),
    "date": (f"is not a date (YYYY-MM-DD) between {YEAR_MIN} and {YEAR_MAX}", "write the date as YYYY-MM-DD, e.g. 2025-03-31"),
    "comparator": ("is not a comparator", "use one of " + ", ".join(COMPARATORS)),
    "unit": ("is not a known unit", "use one of " + ", ".join(UNITS)),
    "direction": ("is not a direction", "use up, down or milestone"),
    "level": ("is not a level", "use national or province"),
    "language": ("is not a language code", "use the page's two-letter ISO 639-1 code: vi, en (de for a German page)"),
    "instrument": ("is not a kind of document", "use one of " + ", ".join(INSTRUMENTS) + " (data/README.md, sources.csv)"),
    "snake_id": ("is not a valid id", "use lower-case letters, digits and underscores, starting with a letter"),
    "slug": ("is not a valid slug", "use lower-case letters and digits joined by hyphens, e.g. lao-cai-cu"),
    "url": ("is not a web address", "start it with https:// or http://"),
}


def _schema(name: str):
    import pandera.pandas as pa

    def check(key, fn):
        return pa.Check(fn, name=key, error=key)

    def req():
        return check("required", lambda s: s.str.len() > 0)

    def opt(regex, key):
        return check(key, lambda s: s.str.fullmatch(regex) | (s == ""))

    def one_of(values, key, allow_empty=False):
        allowed = set(values) | ({""} if allow_empty else set())
        return check(key, lambda s: s.isin(allowed))

    def year_ok(s):
        y = pd.to_numeric(s.where(s.str.fullmatch(r"\d{4}"), None), errors="coerce")
        return y.between(YEAR_MIN, YEAR_MAX)

    def date_ok(s, allow_empty):
        d = pd.to_datetime(s.where(s.str.fullmatch(_DATE), None), errors="coerce", format="%Y-%m-%d")
        ok = d.dt.year.between(YEAR_MIN, YEAR_MAX)
        return ok | (s == "") if allow_empty else ok

    def col(*checks):
        return pa.Column(object, checks=list(checks), required=False, nullable=False)

    number = opt(_NUMBER, "number")
    specs = {
        "pillars.csv": {"id": col(req(), opt(r"[a-z][a-z0-9_]*", "snake_id")), "name_vi": col(req()),
                        "name_en": col(req()), "order": col(number)},
        "provinces.csv": {"code": col(req()), "name": col(req()), "name_en": col(req()),
                          "slug": col(req(), opt(r"[a-z0-9]+(?:-[a-z0-9]+)*", "slug")),
                          "level": col(one_of(("national", "province"), "level")),
                          "valid_from": col(check("date", lambda s: date_ok(s, True))),
                          "valid_to": col(check("date", lambda s: date_ok(s, True)))},
        "indicators.csv": {"id": col(req(), opt(r"[a-z][a-z0-9_]*", "snake_id")), "name_vi": col(req()),
                           "name_en": col(req()), "unit": col(one_of(UNITS, "unit")),
                           "direction": col(one_of(("up", "down", "milestone"), "direction")),
                           "pillar": col(req()), "lower_bound": col(number), "upper_bound": col(number)},
        "sources.csv": {"id": col(req(), opt(r"[a-z][a-z0-9_]*", "snake_id")), "title": col(req()),
                        "publisher": col(req()), "language": col(req(), check("language", lambda s: s.str.fullmatch(r"[a-z]{2}"))),
                        "instrument": col(one_of(INSTRUMENTS, "instrument")),
                        "published": col(check("date", lambda s: date_ok(s, True))),
                        "url": col(opt(r"https?://\S+", "url"))},
        "targets.csv": {"province": col(req()), "indicator": col(req()), "source_id": col(req()),
                        "year": col(check("year", year_ok)),
                        "comparator": col(one_of(COMPARATORS, "comparator", allow_empty=True)),
                        "value": col(number), "value_high": col(number)},
        "observations.csv": {"province": col(req()), "indicator": col(req()), "source_id": col(req()),
                             "period": col(req()), "period_end": col(check("date", lambda s: date_ok(s, False))),
                             "value": col(number)},
    }
    return pa.DataFrameSchema(specs[name], strict=False)


def cell_problems(name: str, frame: pd.DataFrame) -> list[Problem]:
    """The cell checks of one file (pandera), each failure as a Problem."""
    import pandera.pandas as pa

    try:
        _schema(name).validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    problems = []
    for case in cases.to_dict("records"):
        idx = case.get("index")
        if idx is None or pd.isna(idx):
            continue
        key = str(case["check"])
        message, fix = _CHECKS.get(key, (f"fails check {key}", "correct the value"))
        value = str(frame.at[idx, case["column"]])
        if key == "number" and "," in value:
            message = "uses a comma: data files take a dot as the decimal separator"
            fix = f"write {value.replace('.', '').replace(',', '.')} (no thousands separator)"
        problems.append(Problem(name, int(frame.at[idx, "_line"]), str(case["column"]), value, message, fix))
    return problems


# ---------------------------------------------------------------- cross-file checks

def _unique(name, frame, col, problems):
    dup = frame[frame[col].duplicated(keep="first") & (frame[col] != "")]
    for row in dup.to_dict("records"):
        first = frame.loc[frame[col] == row[col], "_line"].iloc[0]
        problems.append(Problem(name, row["_line"], col, row[col], f"repeats the {col} of line {first}",
                                "give every row its own id, or delete the duplicate row"))


def _ref(name, row, col, known, what, problems):
    value = row[col]
    if value and value not in known:
        hint = did_you_mean(value, sorted(known))
        fix = f"use an id from {what}s.csv or add it there first"
        problems.append(Problem(name, row["_line"], col, value, f"is not a known {what}",
                                f"{hint} {fix}" if hint else fix))


def _num(v):
    try:
        return float(v) if v != "" else None
    except ValueError:
        return None


@dataclass
class References:
    """What the fact files (targets, observations) are checked against: the reference tables as read
    (None when a file could not be read), the province index, and indicators and sources by id."""

    provinces: pd.DataFrame | None
    index: _ProvinceIndex | None
    indicators: dict | None
    sources: dict | None


def reference_checks(frames: dict[str, pd.DataFrame], problems: list[Problem]) -> References:
    """Checks across the rows of pillars, provinces, indicators and sources."""
    pillars, provinces, indicators, sources = (frames.get(f) for f in (
        "pillars.csv", "provinces.csv", "indicators.csv", "sources.csv"))
    for name, frame, col in (("pillars.csv", pillars, "id"), ("provinces.csv", provinces, "slug"),
                             ("indicators.csv", indicators, "id"), ("sources.csv", sources, "id")):
        if frame is not None:
            _unique(name, frame, col, problems)
    index = None
    if provinces is not None:
        index = _ProvinceIndex(provinces)
        for key, slugs in index.ambiguous_keys().items():
            problems.append(Problem("provinces.csv", 0, "name/aliases", key,
                                    f"matches more than one unit ({', '.join(sorted(slugs))})",
                                    "make names and aliases unique: add '(cũ)' to a pre-merger unit"))
        slugs = set(provinces["slug"])
        for row in provinces.to_dict("records"):
            if row["successor"] and row["successor"] not in slugs:
                hint = did_you_mean(row["successor"], sorted(slugs))
                problems.append(Problem("provinces.csv", row["_line"], "successor", row["successor"],
                                        "is not the slug of a unit in this file",
                                        (hint + " " if hint else "") + "use the slug of the unit it merged into"))
            if row["valid_from"] and row["valid_to"] and row["valid_from"] > row["valid_to"]:
                problems.append(Problem("provinces.csv", row["_line"], "valid_to", row["valid_to"],
                                        f"is before valid_from {row['valid_from']}", "swap or correct the dates"))
    if indicators is not None:
        known_pillars = set(pillars["id"]) if pillars is not None else None
        for row in indicators.to_dict("records"):
            if known_pillars is not None:
                _ref("indicators.csv", row, "pillar", known_pillars, "pillar", problems)
            lo, hi = _num(row["lower_bound"]), _num(row["upper_bound"])
            if lo is not None and hi is not None and lo > hi:
                problems.append(Problem("indicators.csv", row["_line"], "upper_bound", row["upper_bound"],
                                        f"is below lower_bound {row['lower_bound']}", "swap or correct the bounds"))
            if (row["unit"] == "milestone") != (row["direction"] == "milestone"):
                problems.append(Problem("indicators.csv", row["_line"], "direction", row["direction"],
                                        "must be 'milestone' exactly when the unit is 'milestone'",
                                        "set both unit and direction to milestone, or neither"))
    ind = indicators.set_index("id").to_dict("index") if indicators is not None else None
    src = sources.set_index("id").to_dict("index") if sources is not None else None
    return References(provinces, index, ind, src)


def fact_checks(name: str, frame: pd.DataFrame, refs: References, problems: list[Problem],
                today: str) -> list[str | None]:
    """Checks of targets.csv or observations.csv row by row; returns the resolved province slug of each row."""
    date_col = key_col = "year" if name == "targets.csv" else "period_end"
    provinces, index, ind, src = refs.provinces, refs.index, refs.indicators, refs.sources
    slugs_out = []
    for row in frame.to_dict("records"):
        slug = None
        if provinces is not None and row["province"]:
            on = f"{row[date_col]}-12-31" if date_col == "year" else row[date_col]
            slug = index.resolve(row["province"], on)
            if slug is None:
                hint = did_you_mean(row["province"], provinces["name"].tolist() + provinces["name_en"].tolist())
                problems.append(Problem(name, row["_line"], "province", row["province"], "is not a known province",
                                        (hint + " " if hint else "") + "use a name, slug, alias or code from provinces.csv"))
        slugs_out.append(slug)
        if ind is not None:
            _ref(name, row, "indicator", ind, "indicator", problems)
        if src is not None:
            _ref(name, row, "source_id", src, "source", problems)
        meta = ind.get(row["indicator"]) if ind is not None else None
        source = src.get(row["source_id"]) if src is not None else None
        fact_problems(name, row, meta, problems)
        quote_problems(name, row, meta, problems, today, source)
        if source is not None and not row["quote"]:
            if not source.get("url"):
                problems.append(Problem(name, row["_line"], "quote", "", "is required for a figure from a document",
                                        "copy the exact short phrase of the source that states the figure"))
            elif not row.get("note"):
                problems.append(Problem(name, row["_line"], "note", "", "is required when a web page is cited without a quote",
                                        "say in a few words what the page states (its address is in sources.csv)"))
    _duplicates(name, frame, slugs_out, key_col, problems)
    return slugs_out


_SAYS = {">=": "tối thiểu, ít nhất", ">": "trên, hơn", "<=": "tối đa, không quá, top", "<": "dưới",
         "between": "a range such as 9-10%"}


def quote_problems(name, row, meta, problems, today: str, source=None) -> None:
    """A figure must be what its own quote states, and a reported figure cannot lie in the future."""
    line = row["_line"]
    if name == "observations.csv" and row["period_end"] > today and _DATE_RE.fullmatch(row["period_end"]):
        problems.append(Problem(name, line, "period_end", row["period_end"],
                                f"is after today ({today}): a reported figure cannot cover a time that has not come",
                                "write the last day the figure covers; a figure to reach in the future belongs in targets.csv"))
    quote = row["quote"]
    if not quote or meta is None or meta["unit"] == "milestone":
        return
    scale = UNIT_SCALE.get(meta["unit"], 1.0)
    stated = stated_quantities(quote, lang=(source or {}).get("language", "vi"), ranks=meta["unit"] == "rank")
    cols = ["value"] + (["value_high"] if name == "targets.csv" and row.get("value_high") else [])
    for col in cols:
        v = _num(row[col])
        if v is None:
            continue
        hits = [c for q, c in stated if q == round(v * scale, 6)]
        if not hits:
            said = sorted({format_number(q / scale) for q, _ in stated})
            if not said:
                message = f'is not in its quote: "{quote}" states no number'
                fix = "copy the exact phrase of the source that states the figure, digits included"
            else:
                message = f'is not in its quote: "{quote}" states {" and ".join(said)}'
                fix = (f"write the figure the quote states (numbers in data files take a dot for decimals), "
                       f"or copy the phrase of the source that states {row[col]}")
            problems.append(Problem(name, line, col, row[col], message, fix))
        elif name == "targets.csv" and col == "value" and row["comparator"] not in ("", "=") \
                and None not in hits and row["comparator"] not in hits:
            said = hits[0]
            problems.append(Problem(name, line, "comparator", row["comparator"],
                                    f'contradicts the quote, which states {row[col]} as "{said}" ({_SAYS.get(said, said)})',
                                    f"set comparator to {said}" + (" and value_high to the upper end" if said == "between" else "")))


def fact_problems(name, row, meta, problems):
    line = row["_line"]
    value, high = _num(row["value"]), _num(row.get("value_high", ""))
    milestone = meta is not None and meta["unit"] == "milestone"
    if name == "targets.csv":
        if milestone:
            for col in ("comparator", "value", "value_high"):
                if row[col]:
                    problems.append(Problem(name, line, col, row[col], "must be empty for a milestone indicator",
                                            "leave comparator and values empty: a milestone target is met or not"))
            return
        if meta is not None and not row["comparator"]:
            problems.append(Problem(name, line, "comparator", "", "is required for a quantitative target",
                                    "use one of " + ", ".join(COMPARATORS)))
        if row["comparator"] == "between" and high is None:
            problems.append(Problem(name, line, "value_high", row.get("value_high", ""),
                                    "is required when the comparator is 'between'",
                                    "put the upper end of the range in value_high (9-10% -> value 9, value_high 10)"))
        if row["comparator"] not in ("between", "") and row.get("value_high"):
            problems.append(Problem(name, line, "value_high", row["value_high"],
                                    f"is only used with the comparator 'between', not '{row['comparator']}'",
                                    "empty value_high, or set comparator to between"))
        if value is not None and high is not None and high < value:
            problems.append(Problem(name, line, "value_high", row["value_high"], f"is below value {row['value']}",
                                    "value is the lower end of the range and value_high the upper end: swap them"))
    if meta is None:
        return
    if milestone:
        if row["value"] not in ("0", "1"):
            problems.append(Problem(name, line, "value", row["value"], "must be 1 (met) or 0 (not yet) for a milestone",
                                    "write 1 when the source says the milestone is reached, 0 when it says it is not"))
        return
    if row["value"] == "":
        problems.append(Problem(name, line, "value", "", "is required", "fill in the figure"))
    lo, hi = _num(meta.get("lower_bound", "")), _num(meta.get("upper_bound", ""))
    for col, v in (("value", value), ("value_high", high)):
        if v is None:
            continue
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            bounds = f"{'-inf' if lo is None else f'{lo:g}'} to {'+inf' if hi is None else f'{hi:g}'}"
            problems.append(Problem(name, line, col, row[col],
                                    f"is outside the bounds of {row['indicator']} ({meta['unit']}: {bounds})",
                                    "check the figure and its unit against the source"))


def _duplicates(name, frame, slugs, key_col, problems):
    seen: dict[tuple, dict] = {}
    for row, slug in zip(frame.to_dict("records"), slugs):
        if slug is None:
            continue
        # several documents may set a target for the same unit, indicator and year (they are all kept and
        # one is chosen by instrument priority); one document setting two is a true duplicate
        key = (slug, row["indicator"], row[key_col]) + ((row["source_id"],) if name == "targets.csv" else ())
        if key in seen:
            first = seen[key]
            same = (first["value"], first.get("value_high", "")) == (row["value"], row.get("value_high", ""))
            what = f"{row['indicator']} for {row['province']} at {row[key_col]}"
            if same:
                problems.append(Problem(name, row["_line"], "value", row["value"],
                                        f"duplicates line {first['_line']} ({what})", "delete one of the two rows"))
            else:
                problems.append(Problem(name, row["_line"], "value", row["value"],
                                        f"conflicts with line {first['_line']}, which gives {first['value']} for {what}",
                                        "keep the figure the newer or more official source states and delete the other row"))
        else:
            seen[key] = row


# ---------------------------------------------------------------- typing

def typed_facts(frames, resolved, names) -> dict[str, pd.DataFrame]:
    """targets and observations as the Dataset holds them (see :func:`~nq57lib.dataset.as_fact_dtypes`)."""
    clean = _clean

    targets = frames["targets.csv"].copy()
    targets["province_slug"] = resolved["targets.csv"]
    targets["province"] = targets["province_slug"].map(names)
    targets = clean(targets, ("province", "province_slug", "indicator", "year", "comparator", "value",
                              "value_high", "source_id", "quote", "note", "note_en"))
    targets["year"] = targets["year"].astype(int)
    for col in ("value", "value_high"):
        targets[col] = pd.to_numeric(targets[col].replace("", None)).astype(float)
    targets["comparator"] = targets["comparator"].replace("", None)

    obs = frames["observations.csv"].copy()
    obs["province_slug"] = resolved["observations.csv"]
    obs["province"] = obs["province_slug"].map(names)
    obs = clean(obs, ("province", "province_slug", "indicator", "period_end", "period", "value",
                      "source_id", "quote", "note", "note_en"))
    obs["period_end"] = pd.to_datetime(obs["period_end"])
    obs["value"] = pd.to_numeric(obs["value"]).astype(float)
    obs = obs.sort_values(["province", "indicator", "period_end"], kind="stable").reset_index(drop=True)
    return {"targets": as_fact_dtypes(targets), "observations": as_fact_dtypes(obs)}
