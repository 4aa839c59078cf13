"""``nq57 template``: an Excel workbook in which provincial staff fill in new figures for one unit.

Sheet "Số liệu" has a row per target of the unit (read-only: indicator, name, unit, target, year, the
document that set it, and the latest figure data/ holds), then empty columns for the new figure, its
unit, the last day it covers, its period as the source words it, the source and the exact quote; empty
rows at the bottom take figures of other indicators. Sheet "Nguồn mới" takes new documents, sheet
"Hướng dẫn" explains every column in Vietnamese and English. Cells are checked as they are typed where
Excel allows it (numbers within the indicator's bounds, dates from 2000 to today, units, kinds of document,
source and indicator ids from lists); ``nq57 import`` checks everything again.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import labels
from .dataset import INSTRUMENTS, UNITS, load
from .errors import ParameterError
from .numbers import format_number
from .staging import FIGURE_COLUMNS, SHEET, SOURCE_COLUMNS, SOURCES_SHEET, label
from .tables import effective_targets, target_text

GUIDE_SHEET = "Hướng dẫn"
LISTS_SHEET = "Danh mục"
#: empty rows for figures of indicators without a target, and for new documents
FREE_ROWS = 30

_GUIDE = {
    "province": ("Đơn vị hành chính của số liệu (điền sẵn).", "The unit the figure is about (filled in)."),
    "indicator": ("Mã chỉ tiêu trong data/indicators.csv. Ở các dòng trống cuối bảng, chọn từ danh sách.",
                  "The indicator id in data/indicators.csv. In the empty rows at the bottom, pick one from the list."),
    "name": ("Tên chỉ tiêu.", "The indicator's name."),
    "indicator_unit": ("Đơn vị đo của chỉ tiêu: percent (%), count (số lượng), vnd_billion (tỷ đồng)...",
                       "The indicator's unit: percent, count, vnd_billion (VND billion)..."),
    "target": ("Mục tiêu đã ghi trong data/ (chỉ để tham khảo).", "The target recorded in data/ (for reference)."),
    "target_year": ("Năm của mục tiêu.", "The target's year."),
    "target_source": ("Mã văn bản đặt mục tiêu (sources.csv); \"kế thừa\" khi mục tiêu do tỉnh cũ đặt.",
                      "The document that set the target (sources.csv); \"inherited\" when a former province set it."),
    "latest_value": ("Số liệu gần nhất data/ đang có.", "The latest figure data/ holds."),
    "latest_period": ("Kỳ của số liệu gần nhất.", "Its period."),
    "latest_source": ("Nguồn của số liệu gần nhất.", "Its source."),
    "value": ("ĐIỀN: số liệu mới, gõ như một con số (84,2 hoặc 84.2 tùy cài đặt Excel), không kèm %, chữ hay đơn vị. "
              "Mốc (milestone): 1 là đã đạt, 0 là chưa.",
              "FILL IN: the new figure, typed as a number (no %, words or unit). Milestones: 1 met, 0 not yet."),
    "unit": ("ĐIỀN: đơn vị của số liệu mới; phải trùng đơn vị của chỉ tiêu (đổi triệu đồng ra tỷ đồng nếu cần).",
             "FILL IN: the unit of the new figure; it must be the indicator's unit (convert if needed)."),
    "period_end": ("ĐIỀN: ngày cuối cùng số liệu phản ánh, dạng ngày (2025-03-31), không sau hôm nay. "
                   "\"Quý 1/2025\" ghi ở cột kỳ báo cáo.",
                   "FILL IN: the last day the figure covers, as a date (2025-03-31), not after today. "
                   "\"Quý 1/2025\" goes in the period column."),
    "period": ("ĐIỀN: kỳ báo cáo như văn bản ghi: \"Quý 1/2025\", \"6 tháng đầu năm 2025\", \"2024\".",
               "FILL IN: the period as the source words it: \"Quý 1/2025\", \"6 tháng đầu năm 2025\", \"2024\"."),
    "source_id": ("ĐIỀN: mã nguồn trong sources.csv, hoặc mã của văn bản mới khai ở trang \"Nguồn mới\".",
                  "FILL IN: a source id of sources.csv, or the id of a new document described in sheet \"Nguồn mới\"."),
    "quote": ("ĐIỀN: câu ngắn nhất của văn bản nêu con số, chép nguyên văn (kể cả cách viết số: \"84,2%\").",
              "FILL IN: the shortest phrase of the document that states the figure, copied exactly (\"84,2%\")."),
    "note": ("Ghi chú (không bắt buộc).", "A note (optional)."),
    "note_en": ("Ghi chú bằng tiếng Anh (không bắt buộc).", "The note in English (optional)."),
}
_STEPS = [
    ("1. Điền mỗi số liệu mới vào một dòng của trang \"Số liệu\" (các cột màu vàng). Một chỉ tiêu có nhiều kỳ: "
     "chép dòng đó thành nhiều dòng.",
     "1. Fill in one new figure a row in sheet \"Số liệu\" (the yellow columns). Several periods of one indicator: "
     "copy its row."),
    ("2. Văn bản nguồn chưa có trong sources.csv: khai ở trang \"Nguồn mới\" (mã, tiêu đề, cơ quan, ngày, loại văn bản).",
     "2. A document not yet in sources.csv: describe it in sheet \"Nguồn mới\" (id, title, publisher, date, kind)."),
    ("3. Kiểm tra: nq57 import TỆP.xlsx --dry-run (in ra các dòng sẽ thêm, hoặc từng lỗi với trang, dòng, cột, giá trị "
     "và cách sửa).",
     "3. Check: nq57 import FILE.xlsx --dry-run (prints the rows it would add, or every problem with sheet, row, "
     "column, value and fix)."),
    ("4. Nhập: nq57 import TỆP.xlsx. Có một lỗi là cả tệp bị từ chối, data/ không đổi.",
     "4. Import: nq57 import FILE.xlsx. One problem refuses the whole file; data/ does not change."),
]


def _fmt(v) -> str:
    return "" if v is None or pd.isna(v) else format_number(float(v))


def template(province: str, out: str | Path, year: int | None = None, data_dir: str | Path | None = None,
             overwrite: bool = False) -> tuple[Path, int]:
    """Write the workbook for one unit; return its path and the number of target rows.

    Parameters
    ----------
    province : a unit as :meth:`Dataset.find_province` takes it
    out : the .xlsx file to write (an existing file is kept unless ``overwrite``: it may hold work)
    year : only the targets of this year (default: every year)

    Raises
    ------
    ParameterError
        An unknown unit, a year without targets for it, an existing ``out``, or a name not ending in .xlsx.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise ParameterError(f"{out}: the workbook's name must end in .xlsx")
    if out.exists() and not overwrite:
        raise ParameterError(f"{out} exists (it may hold figures someone typed): choose another name, or add --force")
    ds = load(data_dir)
    unit = ds.find_province(province)
    slug = unit.name
    t = effective_targets(ds)
    t = t[t.province_slug == slug]
    if year is not None:
        years = sorted(set(t.year))
        t = t[t.year == int(year)]
        if t.empty:
            raise ParameterError(f"{unit['name']} has no targets for {year} in data/"
                                 + (f": use one of {', '.join(map(str, years))}, or leave --year out" if years else
                                    ": leave --year out to get a sheet for its figures"))
    ind = ds.indicators.set_index("id")
    order = ds.pillars.set_index("id")["order"]
    t = t.assign(_p=t.indicator.map(ind["pillar"]).map(order)).sort_values(["year", "_p", "indicator"])
    obs = ds.observations[ds.observations.province_slug == slug].sort_values("period_end")
    latest = obs.groupby("indicator").tail(1).set_index("indicator")

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    keys = [c[0] for c in FIGURE_COLUMNS]
    ws.append([label(vi, en, key) for key, vi, en, _ in FIGURE_COLUMNS])
    for r in t.itertuples():
        meta = ind.loc[r.indicator]
        last = latest.loc[r.indicator] if r.indicator in latest.index else None
        set_by = r.source_id + (f" (kế thừa từ {r.inherited_from} / inherited)" if isinstance(r.inherited_from, str)
                                else "")
        ws.append([unit["name"], r.indicator, meta["name_vi"], meta["unit"],
                   target_text(r.comparator, r.value, r.value_high, meta["unit"]), int(r.year), set_by,
                   _fmt(last["value"]) if last is not None else "",
                   last["period"] if last is not None else "", last["source_id"] if last is not None else "",
                   None, meta["unit"], None, None, None, None, None, None])
    n_targets = len(t)
    for _ in range(FREE_ROWS):
        ws.append([unit["name"]] + [None] * (len(keys) - 1))
    last_row = ws.max_row

    grey = PatternFill("solid", fgColor="EEEEEE")
    yellow = PatternFill("solid", fgColor="FFF6CC")
    for col, (key, vi, en, filled) in enumerate(FIGURE_COLUMNS, start=1):
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = {"name": 42, "quote": 60, "target_source": 22, "period": 24,
                                              "note": 30, "note_en": 30}.get(key, 16)
        head = ws.cell(1, col)
        head.font = Font(bold=True)
        head.alignment = Alignment(wrap_text=True, vertical="top")
        for row in range(2, last_row + 1):
            cell = ws.cell(row, col)
            free = row > n_targets + 1 and key == "indicator"
            cell.fill = yellow if filled or free else grey
            cell.protection = Protection(locked=not (filled or free))
            if key == "period_end":
                cell.number_format = "yyyy-mm-dd"
    ws.row_dimensions[1].height = 48
    ws.freeze_panes = ws.cell(2, keys.index("value") + 1)
    ws.protection.sheet = True
    for what in ("formatColumns", "formatRows", "insertRows", "deleteRows", "sort", "autoFilter"):
        setattr(ws.protection, what, False)   # allowed: copying a row, widening a column, sorting

    lists = wb.create_sheet(LISTS_SHEET)
    sources = ds.sources["id"].tolist()
    lists.append(["source_id", "indicator", "unit"])
    indicators = ds.indicators["id"].tolist()
    for i in range(max(len(sources) + FREE_ROWS, len(indicators), len(UNITS))):
        src = sources[i] if i < len(sources) else (
            f'=IF(\'{SOURCES_SHEET}\'!A{i - len(sources) + 2}="","",\'{SOURCES_SHEET}\'!A{i - len(sources) + 2})'
            if i < len(sources) + FREE_ROWS else None)
        lists.append([src, indicators[i] if i < len(indicators) else None, UNITS[i] if i < len(UNITS) else None])
    lists.sheet_state = "hidden"

    def col(key):
        return get_column_letter(keys.index(key) + 1)

    def validation(kind, ranges, prompt, **kw):
        dv = DataValidation(type=kind, allow_blank=True, showErrorMessage=True, showInputMessage=True,
                            promptTitle="nq57", prompt=prompt[:255], errorTitle="nq57", **kw)
        for rng in [ranges] if isinstance(ranges, str) else ranges:
            dv.add(rng)
        ws.add_data_validation(dv)

    a, b = 2, last_row
    bounds: dict[tuple, list[int]] = {}
    for row in range(2, last_row + 1):
        ind_id = ws.cell(row, keys.index("indicator") + 1).value
        meta = ind.loc[ind_id] if ind_id in ind.index else None
        if meta is not None and meta["unit"] == "milestone":
            key = ("whole", 0, 1)
        elif meta is not None and not (pd.isna(meta["lower_bound"]) and pd.isna(meta["upper_bound"])):
            key = ("decimal", meta["lower_bound"], meta["upper_bound"])
        else:
            key = ("decimal", None, None)
        bounds.setdefault(key, []).append(row)
    for (kind, lo, hi), members in bounds.items():
        cells = [f"{col('value')}{r}" for r in members]
        if lo is None or (pd.isna(lo) and pd.isna(hi)):
            validation("decimal", cells, "Một con số, không kèm % hay chữ. / A number, without % or words.",
                       operator="between", formula1="-1E+15", formula2="1E+15",
                       error="Gõ một con số (không kèm % hay chữ). / Type a number (no % or words).")
        elif pd.isna(hi):
            validation(kind, cells, f"Một con số từ {lo:g} trở lên. / A number of {lo:g} or more.",
                       operator="greaterThanOrEqual", formula1=f"{lo:g}",
                       error=f"Con số phải từ {lo:g} trở lên. / The figure must be {lo:g} or more.")
        else:
            lo = 0 if pd.isna(lo) else lo
            validation(kind, cells, f"Một con số từ {lo:g} đến {hi:g}. / A number from {lo:g} to {hi:g}.",
                       operator="between", formula1=f"{lo:g}", formula2=f"{hi:g}",
                       error=f"Con số phải từ {lo:g} đến {hi:g}. / The figure must be between {lo:g} and {hi:g}.")
    validation("list", f"{col('unit')}{a}:{col('unit')}{b}", "Đơn vị của chỉ tiêu. / The indicator's unit.",
               formula1=f"'{LISTS_SHEET}'!$C$2:$C${len(UNITS) + 1}",
               error="Chọn một đơn vị trong danh sách. / Pick a unit from the list.")
    validation("date", f"{col('period_end')}{a}:{col('period_end')}{b}",
               "Ngày cuối kỳ, ví dụ 2025-03-31, không sau hôm nay. / The last day covered, not after today.",
               operator="between", formula1="DATE(2000,1,1)", formula2="TODAY()",
               error="Gõ một ngày từ 2000 đến hôm nay; \"Quý 1/2025\" ghi ở cột kỳ báo cáo. / "
                     "Type a date from 2000 to today; \"Quý 1/2025\" goes in the period column.")
    validation("list", f"{col('source_id')}{a}:{col('source_id')}{b}",
               "Mã nguồn trong sources.csv hoặc ở trang \"Nguồn mới\". / A source id.",
               formula1=f"'{LISTS_SHEET}'!$A$2:$A${len(sources) + FREE_ROWS + 1}", errorStyle="warning",
               error="Mã nguồn chưa có: khai ở trang \"Nguồn mới\". / Unknown source: describe it in \"Nguồn mới\".")
    validation("list", f"{col('indicator')}{n_targets + 2}:{col('indicator')}{b}",
               "Chọn mã chỉ tiêu. / Pick an indicator id.",
               formula1=f"'{LISTS_SHEET}'!$B$2:$B${len(indicators) + 1}",
               error="Chọn một mã chỉ tiêu trong danh sách. / Pick an indicator id from the list.")

    src = wb.create_sheet(SOURCES_SHEET)
    src.append([label(vi, en, key) for key, vi, en in SOURCE_COLUMNS])
    for c in range(1, len(SOURCE_COLUMNS) + 1):
        src.cell(1, c).font = Font(bold=True)
        src.cell(1, c).alignment = Alignment(wrap_text=True, vertical="top")
        src.column_dimensions[get_column_letter(c)].width = 40 if SOURCE_COLUMNS[c - 1][0] in ("title", "url") else 18
    src.row_dimensions[1].height = 48
    skeys = [c[0] for c in SOURCE_COLUMNS]
    for key, kw in (("published", dict(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="TODAY()",
                                       error="Gõ ngày đăng (YYYY-MM-DD). / Type the date published.")),
                    ("language", dict(type="list", formula1='"vi,en"', error="vi hoặc/or en")),
                    ("instrument", dict(type="list", formula1='"' + ",".join(INSTRUMENTS) + '"',
                                        error="Chọn loại văn bản (data/README.md). / Pick a kind of document."))):
        letter = get_column_letter(skeys.index(key) + 1)
        dv = DataValidation(allow_blank=True, showErrorMessage=True, errorTitle="nq57", **kw)
        dv.add(f"{letter}2:{letter}{FREE_ROWS + 1}")
        src.add_data_validation(dv)
    for row in range(2, FREE_ROWS + 2):
        src.cell(row, skeys.index("published") + 1).number_format = "yyyy-mm-dd"

    guide = wb.create_sheet(GUIDE_SHEET, 0)
    guide.append([f"Mẫu nhập số liệu cho {unit['name']} (Nghị quyết 57-NQ/TW)",
                  f"New figures for {unit['name_en']} (Resolution 57-NQ/TW)"])
    guide["A1"].font = guide["B1"].font = Font(bold=True, size=13)
    guide.append([])
    for vi, en in _STEPS:
        guide.append([vi, en])
    guide.append([])
    guide.append(["Cột (trang \"Số liệu\")", "Ý nghĩa", "Meaning"])
    for c in range(1, 4):
        guide.cell(guide.max_row, c).font = Font(bold=True)
    for key, vi, en, _ in FIGURE_COLUMNS:
        guide.append([label(vi, en, key)] + list(_GUIDE[key]))
    guide.append([])
    guide.append(["Loại văn bản (trang \"Nguồn mới\")", "", "Kinds of document"])
    for kind in INSTRUMENTS:
        guide.append([kind, labels.instrument(kind, "vi"), labels.instrument(kind, "en")])
    for letter, width in (("A", 48), ("B", 70), ("C", 70)):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.move_sheet(LISTS_SHEET, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(LISTS_SHEET))
    wb.active = wb.sheetnames.index(SHEET)
    wb.properties.title = f"nq57: số liệu mới cho {unit['name']}"
    wb.properties.subject = "nq57 template"
    wb.properties.keywords = slug
    wb.save(out)
    return out, n_targets
