"""nq57 template and nq57 import: the spreadsheet round trip, into a temporary copy of data/.

Figures typed into workbooks here are made up by the tests; they never reach the project's data/.
"""
import csv
import datetime
import hashlib
import os
import re
import subprocess
import sys
import unicodedata

import pytest

import nq57lib
from nq57lib.errors import ImportRefused
from nq57lib.staging import FIGURE_COLUMNS, SHEET, SOURCES_SHEET, import_rows
from nq57lib.template import FREE_ROWS, GUIDE_SHEET, LISTS_SHEET, template

openpyxl = pytest.importorskip("openpyxl")


def _digest(data):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(data.glob("*.csv"))}


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "nq57lib.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def _columns(ws):
    return {str(c.value).rsplit("[", 1)[1].rstrip("]"): c.column for c in ws[1]}


def _fill(path, out, figures, sources=()):
    """Fill a template as a person would: {indicator: {column: value}} into the indicator's row (or a free
    row), and new documents into sheet "Nguồn mới"."""
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    col = _columns(ws)
    rows = {ws.cell(r, col["indicator"]).value: r for r in range(2, ws.max_row + 1)
            if ws.cell(r, col["indicator"]).value}
    free = iter(r for r in range(2, ws.max_row + 1) if not ws.cell(r, col["indicator"]).value)
    for indicator, cells in figures:
        row = rows.get(indicator) or next(free)
        ws.cell(row, col["indicator"]).value = indicator
        for key, value in cells.items():
            ws.cell(row, col[key]).value = value
    src = wb[SOURCES_SHEET]
    scol = _columns(src)
    for i, source in enumerate(sources, start=2):
        for key, value in source.items():
            src.cell(i, scol[key]).value = value
    wb.save(out)
    return out


NEW_SOURCE = {"id": "test_laichau_q2", "title": "Báo cáo thử nghiệm (số liệu giả)", "publisher": "Kiểm thử",
              "published": datetime.date(2025, 7, 10), "language": "vi", "instrument": "report"}


def _figures(value=41.5, period_end=datetime.date(2025, 6, 30)):
    return [
        ("cashless_transactions_share", {"value": value, "period_end": period_end, "period": "6 tháng đầu năm 2025",
                                         "source_id": "test_laichau_q2",
                                         "quote": "giao dịch không dùng tiền mặt đạt 41,5%"}),
        ("internet_subscriptions", {"value": 60000, "unit": "count", "period_end": datetime.date(2025, 6, 30),
                                    "period": "6 tháng đầu năm 2025", "source_id": "test_laichau_q2",
                                    "quote": "60.000 thuê bao internet"}),
    ]


@pytest.fixture
def blank(data_copy, tmp_path):
    path, n = template("Lai Châu", tmp_path / "laichau.xlsx", data_dir=data_copy)
    return path


# ------------------------------------------------------------------ the workbook

def test_the_template_lists_the_units_targets_read_only(blank, data_copy):
    ds = nq57lib.load(data_copy)
    wb = openpyxl.load_workbook(blank)
    assert wb.sheetnames == [GUIDE_SHEET, SHEET, SOURCES_SHEET, LISTS_SHEET]
    assert wb[LISTS_SHEET].sheet_state == "hidden"
    ws = wb[SHEET]
    header = [c.value for c in ws[1]]
    assert header[1] == "Mã chỉ tiêu / Indicator id [indicator]"          # Vietnamese first, then English
    col = _columns(ws)
    targets = ds.targets[ds.targets.province == "Lai Châu"]
    n = targets[["indicator", "year"]].drop_duplicates().shape[0]
    assert ws.max_row == 1 + n + FREE_ROWS
    listed = {(ws.cell(r, col["indicator"]).value, ws.cell(r, col["target_year"]).value) for r in range(2, n + 2)}
    assert listed == set(zip(targets.indicator, targets.year.astype(int)))
    row = next(r for r in range(2, n + 2) if ws.cell(r, col["indicator"]).value == "digital_economy_share"
               and ws.cell(r, col["target_year"]).value == 2030)
    assert ws.cell(row, col["target"]).value == "9-10%" and ws.cell(row, col["indicator_unit"]).value == "percent"
    assert ws.protection.sheet
    assert ws.cell(row, col["indicator"]).protection.locked and ws.cell(row, col["target"]).protection.locked
    for key in ("value", "unit", "period_end", "period", "source_id", "quote"):
        assert not ws.cell(row, col[key]).protection.locked, key


def test_the_template_shows_the_latest_figure_held(data_copy, tmp_path):
    with open(data_copy / "observations.csv", "a", encoding="utf-8", newline="") as f:   # made-up figures
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Lai Châu", "cashless_transactions_share", "2023-12-31", "2023", "30", "laichau_2025_05", "đạt 30%", "", ""])
        w.writerow(["Lai Châu", "cashless_transactions_share", "2024-12-31", "2024", "35,5".replace(",", "."),
                    "laichau_2025_05", "đạt 35,5%", "", ""])
    path, n = template("Lai Châu", tmp_path / "t.xlsx", year=2030, data_dir=data_copy)
    ws = openpyxl.load_workbook(path)[SHEET]
    col = _columns(ws)
    row = next(r for r in range(2, n + 2) if ws.cell(r, col["indicator"]).value == "cashless_transactions_share")
    assert [ws.cell(row, col[k]).value for k in ("latest_value", "latest_period", "latest_source")] == [
        "35,5", "2024", "laichau_2025_05"]


def test_the_template_validates_cells_where_excel_can(blank):
    ws = openpyxl.load_workbook(blank)[SHEET]
    col = {k: openpyxl.utils.get_column_letter(v) for k, v in _columns(ws).items()}
    kinds = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            kinds.setdefault(re.match(r"[A-Z]+", rng).group(0), set()).add(dv.type)
    assert kinds[col["value"]] >= {"decimal"} and kinds[col["unit"]] == {"list"}
    assert kinds[col["period_end"]] == {"date"} and kinds[col["source_id"]] == {"list"}
    dates = next(dv for dv in ws.data_validations.dataValidation if dv.type == "date")
    assert dates.formula2 == "TODAY()"                                       # no figure dated after today
    percent = next(dv for dv in ws.data_validations.dataValidation if dv.type == "decimal" and dv.formula2 == "100")
    assert percent.formula1 == "0"


def test_the_guide_explains_every_column_in_both_languages(blank):
    guide = openpyxl.load_workbook(blank)[GUIDE_SHEET]
    rows = {r[0]: r for r in guide.iter_rows(values_only=True) if r and r[0]}
    for key, vi, en, _ in FIGURE_COLUMNS:
        row = rows[f"{vi} / {en} [{key}]"]
        assert row[1] and row[2] and row[1] != row[2]


def test_template_options(data_copy, tmp_path):
    path, n = template("Lai Châu", tmp_path / "y2025.xlsx", year=2025, data_dir=data_copy)
    ws = openpyxl.load_workbook(path)[SHEET]
    assert n >= 1 and {ws.cell(r, 6).value for r in range(2, n + 2)} == {2025}
    r = _cli("template", "--province", "Lai Châu", "--year", "2040", "--data", data_copy, tmp_path / "x.xlsx")
    assert r.returncode == 2 and "no targets for 2040" in r.stderr and not (tmp_path / "x.xlsx").exists()
    r = _cli("template", "--province", "Lai Châu", "--data", data_copy, path)
    assert r.returncode == 2 and "exists" in r.stderr                         # a filled workbook is never overwritten
    r = _cli("template", "--province", "Atlantis", "--data", data_copy, tmp_path / "x.xlsx")
    assert r.returncode == 2 and "Unknown province 'Atlantis'" in r.stderr


def test_a_merged_units_template_shows_inherited_targets(data_copy, tmp_path):
    path, n = template("Lào Cai", tmp_path / "laocai.xlsx", data_dir=data_copy)
    ws = openpyxl.load_workbook(path)[SHEET]
    col = _columns(ws)
    set_by = [ws.cell(r, col["target_source"]).value for r in range(2, n + 2)]
    assert any("kế thừa từ Lào Cai (cũ)" in s for s in set_by) and any("kế thừa" not in s for s in set_by)


# ------------------------------------------------------------------ the round trip

def test_round_trip_template_fill_import_load(blank, data_copy, tmp_path):
    before = {name: (data_copy / name).read_bytes() for name in ("observations.csv", "sources.csv", "targets.csv")}
    filled = _fill(blank, tmp_path / "filled.xlsx", _figures(), [NEW_SOURCE])
    r = _cli("import", filled, "--data", data_copy)
    assert r.returncode == 0, r.stderr
    assert "Appended 1 row to sources.csv, 2 rows to observations.csv" in r.stdout
    ds = nq57lib.load(data_copy)
    obs = ds.observations.set_index(["province", "indicator", "source_id"])
    assert obs.loc[("Lai Châu", "cashless_transactions_share", "test_laichau_q2"), "value"] == 41.5
    assert obs.loc[("Lai Châu", "internet_subscriptions", "test_laichau_q2"), "period_end"] == datetime.datetime(2025, 6, 30)
    assert ds.sources.set_index("id").loc["test_laichau_q2", "title"] == NEW_SOURCE["title"]
    # appended at the end: every old byte kept, in order and format
    for name in ("observations.csv", "sources.csv"):
        assert (data_copy / name).read_bytes().startswith(before[name])
    assert (data_copy / "targets.csv").read_bytes() == before["targets.csv"]
    tail = (data_copy / "observations.csv").read_text(encoding="utf-8").splitlines()[-2:]
    assert tail[0] == ('Lai Châu,cashless_transactions_share,2025-06-30,6 tháng đầu năm 2025,41.5,test_laichau_q2,'
                       '"giao dịch không dùng tiền mặt đạt 41,5%",,')
    # importing the same file again adds nothing
    again = _digest(data_copy)
    r = _cli("import", filled, "--data", data_copy)
    assert r.returncode == 0 and "Appended nothing" in r.stdout and "already in observations.csv line" in r.stdout
    assert _digest(data_copy) == again


def test_dry_run_prints_what_would_change_and_writes_nothing(blank, data_copy, tmp_path):
    filled = _fill(blank, tmp_path / "filled.xlsx", _figures(), [NEW_SOURCE])
    before = _digest(data_copy)
    r = _cli("import", filled, "--dry-run", "--data", data_copy)
    assert r.returncode == 0, r.stderr
    assert "Would append 1 row to sources.csv, 2 rows to observations.csv" in r.stdout
    assert "Lai Châu cashless_transactions_share 2025-06-30 = 41.5 (test_laichau_q2)" in r.stdout
    assert "Nothing was written (--dry-run)." in r.stdout
    assert _digest(data_copy) == before


def test_validate_staging_checks_a_file_without_writing(blank, data_copy, tmp_path):
    filled = _fill(blank, tmp_path / "filled.xlsx", _figures(), [NEW_SOURCE])
    before = _digest(data_copy)
    r = _cli("validate", "--staging", filled, "--data", data_copy)
    assert r.returncode == 0 and r.stdout.startswith("OK: ") and "nq57 import" in r.stdout
    assert _digest(data_copy) == before


# ------------------------------------------------------------------ bad input changes nothing

def _refused(path, data_copy):
    before = _digest(data_copy)
    r = _cli("import", path, "--data", data_copy)
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr, r.stderr
    assert "Nothing was written to data/." in r.stderr
    assert _digest(data_copy) == before
    return r.stderr


def test_a_cell_with_percent_text_refuses_the_whole_file(blank, data_copy, tmp_path):
    filled = _fill(blank, tmp_path / "filled.xlsx", _figures(value="84,2 %"), [NEW_SOURCE])
    err = _refused(filled, data_copy)
    assert len(err.strip().splitlines()) == 1                    # one problem, one line; the good row is not written
    assert 'sheet "Số liệu", row 3, column "Số liệu mới / New figure [value]": "84,2 %" is text, not a number' in err
    assert "type 84.2" in err


def test_a_quarter_in_the_date_column_refuses_the_file(blank, data_copy, tmp_path):
    filled = _fill(blank, tmp_path / "filled.xlsx", _figures(period_end="Quý 1/2025"), [NEW_SOURCE])
    err = _refused(filled, data_copy)
    assert len(err.strip().splitlines()) == 1
    assert '"Ngày cuối kỳ / Last day covered [period_end]": "Quý 1/2025" is not a date' in err
    assert "2025-03-31" in err and "period column" in err


def test_a_workbook_without_the_figures_sheet(data_copy, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.active.append(["indicator", "value"])
    wb.save(tmp_path / "other.xlsx")
    err = _refused(tmp_path / "other.xlsx", data_copy)
    assert len(err.strip().splitlines()) == 1 and 'has no sheet "Số liệu" (its sheets: Sheet1)' in err


@pytest.mark.parametrize("name, content, message", [
    ("empty.xlsx", b"", "is empty"),
    ("report.pdf", b"%PDF-1.7\n" + bytes(64), "is a PDF document, not a workbook (.xlsx) or CSV text"),
    ("binary.csv", b"indicator,value\x00\x01\x02", "is a binary file"),
    ("broken.xlsx", b"PK\x03\x04" + bytes(64), "cannot be read as an Excel workbook"),
    ("cp1258.csv", unicodedata.normalize("NFD", "indicator,value,period_end,source_id,quote\nhdi,0.7,2024-12-31,x,"
                                          "Chỉ số đạt 0,7").encode("cp1258", errors="replace"),
     "is not UTF-8"),
    ("missing.xlsx", None, "no such file"),
])
def test_unreadable_files_give_one_line(data_copy, tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    err = _refused(path, data_copy)
    assert len(err.strip().splitlines()) == 1 and message in err


def test_an_unfilled_template_has_nothing_to_import(blank, data_copy):
    err = _refused(blank, data_copy)
    assert "has no new figure" in err


def test_every_problem_is_listed_with_its_row_and_fix(blank, data_copy, tmp_path):
    figures = [
        ("cashless_transactions_share", {"value": 141.5, "period_end": datetime.date(2025, 6, 30), "period": "6 tháng",
                                         "source_id": "laichau_2025_05", "quote": "đạt 141,5%"}),
        ("internet_subscriptions", {"value": 60000, "unit": "percent", "period_end": datetime.date(2025, 6, 30),
                                    "period": "2025", "source_id": "laichau_2025_05", "quote": "60.000 thuê bao"}),
        ("mobile_subscriptions", {"value": 390001, "period_end": datetime.date(2025, 6, 30), "period": "2025",
                                  "source_id": "laichau_2025_05", "quote": "khoảng 390.000 thuê bao"}),
        ("telecom_base_stations", {"value": 2104, "period_end": datetime.date(2025, 6, 30), "period": "2025",
                                   "source_id": "no_such_source", "quote": "2.104 trạm"}),
    ]
    filled = _fill(blank, tmp_path / "filled.xlsx", figures)
    err = _refused(filled, data_copy)
    lines = err.strip().splitlines()
    assert "filled.xlsx is refused, 4 problems" in lines[0]
    assert any("141.5" in l and "outside the bounds" in l for l in lines)
    assert any('"percent" is not the unit of internet_subscriptions (count)' in l for l in lines)
    assert any('"390001" is not in its quote' in l for l in lines)
    assert any('"no_such_source" is not a known source' in l and "Nguồn mới" not in l for l in lines)
    assert all(" row " in l and "Fix: " in l for l in lines[1:])


def test_a_figure_that_conflicts_with_data_is_refused(blank, data_copy, tmp_path):
    held = nq57lib.load(data_copy).observations
    row = held[(held.province == "Lai Châu") & (held.indicator == "records_digitisation_share")].iloc[0]
    figures = [("records_digitisation_share", {"value": row.value + 1, "period_end": row.period_end.date(),
                                                "period": row.period, "source_id": "laichau_2025_05",
                                                "quote": f"đạt {row.value + 1:g}%".replace(".", ",")})]
    err = _refused(_fill(blank, tmp_path / "filled.xlsx", figures), data_copy)
    assert "conflicts with observations.csv line" in err and f"which gives {row.value:g}" in err


def test_a_failed_rename_puts_every_file_back(blank, data_copy, tmp_path, monkeypatch):
    filled = _fill(blank, tmp_path / "filled.xlsx", _figures(), [NEW_SOURCE])
    before = _digest(data_copy)
    real = os.replace

    def replace(src, dst):
        if str(dst).endswith("observations.csv"):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError):
        import_rows(filled, data_copy)
    assert _digest(data_copy) == before                      # sources.csv was renamed first, and was put back
    assert not [p for p in data_copy.iterdir() if p.name.endswith(".tmp")]


def test_line_ends_and_byte_order_mark_are_kept(blank, data_copy, tmp_path):
    path = data_copy / "observations.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    import_rows(_fill(blank, tmp_path / "filled.xlsx", _figures(), [NEW_SOURCE]), data_copy)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == raw.count(b"\n")
    assert len(nq57lib.load(data_copy).observations.query("source_id == 'test_laichau_q2'")) == 2


# ------------------------------------------------------------------ CSV files of the same columns

def test_a_csv_of_the_template_columns_and_a_staging_csv(data_copy, tmp_path):
    plain = tmp_path / "figures.csv"
    with open(plain, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Tỉnh, thành / Province or city [province]", "indicator", "value", "period_end", "period",
                    "source_id", "quote"])
        w.writerow(["lai chau", "mobile_subscriptions", "400000", "2025-06-30", "6 tháng đầu năm 2025",
                    "laichau_2025_05", "400.000 thuê bao"])
    staging = tmp_path / "staging.csv"
    with open(staging, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kind", "province", "indicator", "year", "period_end", "period", "comparator", "value", "value_high",
                    "unit", "source_id", "quote", "note", "note_en", "source_title", "source_publisher",
                    "source_instrument", "source_language", "source_published"])
        w.writerow(["target", "Điện Biên", "digital_economy_share", "2030", "", "", ">=", "15", "", "percent",
                    "test_dienbien_plan", "kinh tế số chiếm tối thiểu 15% GRDP", "", "", "Kế hoạch thử nghiệm",
                    "Kiểm thử", "nq57_programme", "vi", "2025-04-08"])
    import_rows(plain, data_copy)
    import_rows(staging, data_copy)
    ds = nq57lib.load(data_copy)
    assert ds.observations.query("province == 'Lai Châu' and value == 400000").shape[0] == 1
    t = ds.targets.query("province == 'Điện Biên' and source_id == 'test_dienbien_plan'").iloc[0]
    assert (t.indicator, t.year, t.comparator, t.value) == ("digital_economy_share", 2030, ">=", 15.0)


def test_a_csv_number_with_a_decimal_comma_is_refused(data_copy, tmp_path):
    path = tmp_path / "figures.csv"
    path.write_text("province,indicator,value,period_end,period,source_id,quote\n"
                    "Lai Châu,cashless_transactions_share,\"84,2\",2025-06-30,2025,laichau_2025_05,\"đạt 84,2%\"\n",
                    encoding="utf-8")
    with pytest.raises(ImportRefused) as e:
        import_rows(path, data_copy)
    p = e.value.problems[0]
    assert (p.line, p.where, p.column, p.value) == (2, "line", "value", "84,2") and "type 84.2" in p.fix
