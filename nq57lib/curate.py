"""What ``notebooks/04_curate.ipynb`` shows: a document with every candidate figure marked in place, the
candidate table beside the rows of data/ that each duplicates or contradicts, and the staging CSV of the
rows the reviewer keeps (checked with :func:`nq57lib.staging.check`, appended with ``nq57 import``).
"""
from __future__ import annotations

import csv
import datetime as _dt
import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import _paths
from .errors import ImportRefused, ParameterError
from .extract import COLUMNS, THRESHOLD, Document, extract, read_document
from .numbers import format_number
from .report import Context, _HTML, table
from .staging import SOURCE_COLUMNS, DataRows, check
from .tables import target_text

#: the document the notebook reviews when ``path`` is None: a test page of the project (made-up figures),
#: read as of its date
EXAMPLE = _paths.PROJECT_ROOT / "tests" / "pages" / "dienbien_ke_hoach.txt"
EXAMPLE_PROVINCE, EXAMPLE_PUBLISHED = "Điện Biên", "2025-04-08"
#: the columns of a staging CSV (what ``nq57 import`` and ``nq57 validate --staging`` read)
STAGING_COLUMNS = ("kind", "province", "indicator", "year", "period_end", "period", "comparator", "value",
                   "value_high", "unit", "source_id", "quote", "note", "note_en")


@dataclass
class Review(Context):
    """A review: the checked parameters, the document and its candidate rows (with ``in_data``)."""

    doc: Document | None = None
    rows: pd.DataFrame | None = None


def start(path=None, province=None, lang="vi", published=None, source_id=None, keep=(), data_dir=None,
          staging=None, new_source=None) -> Review:
    """Check the notebook's parameters, read the document and propose its candidate rows.

    Raises
    ------
    ParameterError or DocumentError
        With one line saying what to change.
    """
    from .dataset import load
    from .labels import check_lang

    check_lang(lang)
    ds = load(data_dir)
    if path is None:
        path, province, published = EXAMPLE, province or EXAMPLE_PROVINCE, published or EXAMPLE_PUBLISHED
    if province is not None and str(province).strip():
        ds.find_province(str(province))
    if published:
        try:
            _dt.date.fromisoformat(str(published))
        except ValueError:
            raise ParameterError(f"published {published!r} is not a date: write it as \"YYYY-MM-DD\"") from None
    doc = read_document(path)
    rows = extract(doc, ds, province=province or None, published=published or None, source_id=source_id)
    rows.insert(0, "n", range(1, len(rows) + 1))
    rv = Review(ds=ds, lang=lang, params=dict(path=str(path), province=province, published=published,
                                              source_id=source_id, staging=staging, new_source=new_source or {}),
                doc=doc, rows=rows)
    rv.params["keep"] = keep_rows(rv, keep)
    rows["in_data"] = in_data(rows, ds)
    return rv


def keep_rows(rv: Review, keep) -> list[int]:
    """The row numbers a reviewer keeps: a list of numbers, one number, "all" (every row not marked) or
    "all!" (every row)."""
    n = len(rv.rows)
    if keep is None or keep == "" or keep == []:
        return []
    if isinstance(keep, str) and keep.strip() in ("all", "all!"):
        marked = rv.rows["marked"].tolist()
        return [i + 1 for i in range(n) if keep.strip() == "all!" or not marked[i]]
    if isinstance(keep, str):   # "1, 3" or "[1, 3]" (papermill -p passes text)
        keep = [k for k in keep.strip().strip("[]").replace(",", " ").split()]
    items = [keep] if isinstance(keep, int) else list(keep)
    out = []
    for k in items:
        text = str(k).strip()
        if isinstance(k, bool) or not text.isdigit() or not 1 <= int(text) <= n:
            raise ParameterError(f"keep: {k!r} is not a row number of the candidate table (1 to {n}); "
                                 f"write e.g. keep = [1, 3], or keep = \"all\"")
        out.append(int(text))
    return sorted(set(out))


# ------------------------------------------------------------------ the rows of data/ a candidate meets

def in_data(rows: pd.DataFrame, ds) -> list[str]:
    """For each candidate, the rows of data/ with the same unit, indicator and year (target, any document)
    or period end (figure): "=" when one gives the same value (a duplicate), "≠" another (a conflict)."""
    data = DataRows(ds, ds.data_dir)
    out = []
    for r in rows.to_dict("records"):
        name = "targets.csv" if r["kind"] == "target" else "observations.csv"
        found = []
        for line, old in data.same_fact(name, r["province"], r["indicator"], r["year"] or r["period_end"]):
            same = _same(old["value"], r["value"]) and _same(old.get("value_high", ""), r["value_high"])
            found.append(f"{'=' if same else '≠'} {name} {line}: {old['value']}"
                         + (f"-{old['value_high']}" if old.get("value_high") else "") + f" ({old['source_id']})")
        out.append("; ".join(found))
    return out


def _same(a: str, b: str) -> bool:
    if a == "" or b == "":
        return a == b
    return abs(float(a) - float(b)) < 1e-9


# ------------------------------------------------------------------ what the notebook shows

def summary(rv: Review) -> str:
    r = rv.rows
    marked = int(r["marked"].sum())
    dup = int(r["in_data"].str.startswith("=").sum())
    conflict = int(r["in_data"].str.contains("≠").sum())
    name = Path(rv.doc.path).name
    return rv.tr(
        f"Văn bản {name}: {len(r)} dòng đề xuất ({int((r.kind == 'target').sum())} mục tiêu, "
        f"{int((r.kind == 'observation').sum())} số liệu); {marked} dòng có độ tin cậy dưới {format_number(THRESHOLD)} "
        f"(đánh dấu ⚠, cần xem kỹ); {dup} dòng đã có trong data/, {conflict} dòng khác với data/. Công cụ chỉ đề xuất: "
        f"người rà soát quyết định giữ dòng nào.",
        f"Document {name}: {len(r)} candidate rows ({int((r.kind == 'target').sum())} targets, "
        f"{int((r.kind == 'observation').sum())} figures); {marked} below the confidence threshold {THRESHOLD} "
        f"(marked ⚠, look closely); {dup} already in data/, {conflict} differ from data/. The tool proposes; the "
        f"reviewer decides which rows to keep.")


def highlighted(rv: Review) -> _HTML:
    """The document's text with every candidate's quote marked and numbered, the figure in bold."""
    text = rv.doc.text
    spans: dict[tuple[int, int], list] = {}
    for r in rv.rows.to_dict("records"):
        spans.setdefault((int(r["start"]), int(r["end"])), []).append(r)
    out, pos = [], 0
    for (a, b), rs in sorted(spans.items()):
        if a < pos:       # overlapping quotes: mark the rest of the later one
            a = pos
        if a >= b:
            continue
        out.append(html.escape(text[pos:a]))
        ns, ne = int(rs[0]["number_start"]), int(rs[0]["number_end"])
        inner = (html.escape(text[a:max(a, ns)]) + "<b>" + html.escape(text[max(a, ns):min(b, ne)]) + "</b>"
                 + html.escape(text[min(b, ne):b])) if a <= ns < b else html.escape(text[a:b])
        colour = "#ffd9d9" if any(r["marked"] for r in rs) else "#fff2a8"
        tag = ",".join(str(r["n"]) for r in rs)
        out.append(f'<mark style="background:{colour}" title="{html.escape(_title(rs, rv))}">{inner}'
                   f'<sup>[{tag}]</sup></mark>')
        pos = b
    out.append(html.escape(text[pos:]))
    body = "".join(out).replace("\n", "<br>\n")
    markup = f'<div lang="vi" style="max-height:40em;overflow:auto;border:1px solid #ddd;padding:0.5em">{body}</div>'
    plain = "\n".join(f"[{r['n']}] {r['quote']}" for r in rv.rows.to_dict("records"))
    return _HTML(markup, plain)


def _title(rs, rv) -> str:
    return "; ".join(f"#{r['n']} {_kind(r['kind'], rv)} {r['indicator'] or '?'} {r['value']}" for r in rs)


def _kind(kind: str, rv: Review) -> str:
    return rv.tr("mục tiêu", "target") if kind == "target" else rv.tr("số liệu", "figure")


def _value(r, rv: Review, unit: str) -> str:
    v = float(r["value"])
    high = float(r["value_high"]) if r["value_high"] else None
    if r["kind"] == "target":
        return target_text(r["comparator"] or "=", v, high, unit, rv.lang)
    shown = format_number(v, lang=rv.lang) + ("%" if unit == "percent" else "")
    return (r["comparator"] + " " if r["comparator"] else "") + shown


QUOTE_COLUMN = ("Trích dẫn (nguyên văn tiếng Việt)", "Quote (Vietnamese, as written)")


def candidate_table(rv: Review) -> pd.DataFrame:
    """The candidates as the reviewer reads them: number, kind, unit, indicator, year or period, value,
    quote, confidence (⚠ below the threshold), the row of data/ it meets, and whether it is kept."""
    names = rv.ds.indicators.set_index("id")["name_en" if rv.lang == "en" else "name_vi"]
    kept = set(rv.params.get("keep", []))
    rows = []
    for r in rv.rows.to_dict("records"):
        ind = f"{r['indicator']} · {names[r['indicator']]}" if r["indicator"] else rv.tr("? (chưa khớp chỉ tiêu)",
                                                                                          "? (no indicator matched)")
        when = r["year"] if r["kind"] == "target" else " ".join(x for x in (r["period"], f"({r['period_end']})"
                                                                                if r["period_end"] else "") if x)
        meets = r["in_data"].replace("=", rv.tr("trùng", "same as"), 1) if r["in_data"].startswith("=") else \
            r["in_data"].replace("≠", rv.tr("khác", "differs from"))
        rows.append({
            "#": r["n"], rv.tr("Loại", "Kind"): _kind(r["kind"], rv), rv.tr("Đơn vị hành chính", "Unit"): r["province"],
            rv.tr("Chỉ tiêu", "Indicator"): ind, rv.tr("Năm / kỳ", "Year / period"): when,
            rv.tr("Giá trị", "Value"): _value(r, rv, r["unit"]),
            rv.tr(*QUOTE_COLUMN): r["quote"],
            rv.tr("Độ tin cậy", "Confidence"): format_number(float(r["confidence"]), 2, lang=rv.lang)
            + (" ⚠" if r["marked"] else ""),
            rv.tr("Trong data/", "In data/"): meets,
            rv.tr("Giữ", "Keep"): "✓" if r["n"] in kept else "",
        })
    return pd.DataFrame(rows)


def show_candidates(rv: Review) -> _HTML | None:
    t = candidate_table(rv)
    return table(t, vietnamese=(rv.tr(*QUOTE_COLUMN),)) if len(t) else None


# ------------------------------------------------------------------ the staging CSV

def staging_path(rv: Review) -> Path:
    if rv.params.get("staging"):
        return Path(rv.params["staging"])
    return _paths.OUTPUTS_DIR / "curate" / f"{Path(rv.doc.path).stem}.staging.csv"


def write_staging(rv: Review) -> Path | None:
    """Write the kept rows to the staging CSV (None when no row is kept).

    Raises
    ------
    ParameterError
        When rows are kept but ``source_id`` is not set.
    """
    keep = rv.params.get("keep", [])
    if not keep:
        return None
    source_id = rv.params.get("source_id")
    if not source_id:
        raise ParameterError("source_id is not set: give the id of the document in sources.csv, or a new id with "
                             "new_source = {'title': ..., 'publisher': ..., 'instrument': ...}")
    new_source = rv.params.get("new_source") or {}
    if isinstance(new_source, str):   # papermill -p passes text: read it as YAML (JSON is YAML too)
        import yaml
        try:
            new_source = yaml.safe_load(new_source) or {}
        except yaml.YAMLError:
            new_source = None
    if not isinstance(new_source, dict):
        raise ParameterError("new_source is not a mapping: write it as {\"title\": ..., \"publisher\": ..., "
                             "\"instrument\": ...}")
    new_source = {str(k): "" if v is None else str(v) for k, v in new_source.items()}
    unknown = set(new_source) - {k for k, *_ in SOURCE_COLUMNS if k != "id"}
    if unknown:
        raise ParameterError(f"new_source: {', '.join(sorted(unknown))} is not a column of sources.csv; use "
                             + ", ".join(k for k, *_ in SOURCE_COLUMNS if k != "id"))
    if new_source and "published" not in new_source and rv.params.get("published"):
        new_source["published"] = str(rv.params["published"])
    if new_source and "language" not in new_source:
        new_source["language"] = "vi"
    columns = list(STAGING_COLUMNS) + [f"source_{k}" for k in new_source]
    path = staging_path(rv)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for r in rv.rows[rv.rows["n"].isin(keep)].to_dict("records"):
            row = {c: r.get(c, "") for c in STAGING_COLUMNS if c in COLUMNS}
            row.update(source_id=source_id, note="", note_en="")
            row.update({f"source_{k}": v for k, v in new_source.items()})
            w.writerow([row.get(c, "") for c in columns])
    return path


def kept(rv: Review) -> list:
    """Write the staging CSV and check it as ``nq57 validate --staging`` does: what to show."""
    from .report import bullets, para

    path = write_staging(rv)
    if path is None:
        return [para(rv.tr("Chưa giữ dòng nào. Đặt keep = [1, 3] (số thứ tự trong bảng) hoặc keep = \"all\" (mọi dòng "
                           "không bị đánh dấu ⚠) cùng source_id, rồi chạy lại sổ tay: các dòng giữ lại được ghi vào "
                           "một tệp CSV chờ để kiểm tra trước khi thêm vào data/.",
                           "No row is kept yet. Set keep = [1, 3] (numbers of the table) or keep = \"all\" (every row "
                           "not marked ⚠) with source_id, and run the notebook again: the rows kept go to a staging "
                           "CSV, checked before they are appended to data/."))]
    shown = _shown_path(path)
    out = [para(rv.tr(f"Đã ghi {len(rv.params['keep'])} dòng vào {shown}.",
                      f"Wrote {len(rv.params['keep'])} rows to {shown}."))]
    try:
        plan = check(path, rv.ds.data_dir)
    except ImportRefused as e:
        plan = None
        problems = e.problems
    else:
        problems = plan.problems
    if problems:
        out.append(para(rv.tr("Chưa thể thêm vào data/: sửa các lỗi dưới đây trong tệp CSV chờ (hoặc sửa tham số), "
                              "rồi kiểm tra lại bằng nq57 validate --staging " + shown + ".",
                              "Not ready for data/: fix these problems in the staging CSV (or the parameters), then "
                              "check again with nq57 validate --staging " + shown + ".")))
        out.append(table(pd.DataFrame([{
            rv.tr("Dòng", "Line"): p.line, rv.tr("Cột", "Column"): p.column, rv.tr("Giá trị", "Value"): p.value,
            rv.tr("Vấn đề", "Problem"): p.message, rv.tr("Cách sửa", "Fix"): p.fix} for p in problems])))
    else:
        out.append(para(rv.tr(f"Tệp hợp lệ. Thêm vào data/ bằng: nq57 import {shown}",
                              f"The file is valid. Append it to data/ with: nq57 import {shown}")))
        out.append(bullets([line.strip() for line in plan.summary().splitlines()[1:]]))
    return out


def _shown_path(path: Path) -> str:
    """A path as the reader types it: relative to the project when inside it."""
    try:
        return str(Path(path).resolve().relative_to(_paths.PROJECT_ROOT))
    except ValueError:
        return str(path)
