"""Bad input in data/: each failure mode gives file, line, column, value and fix; the CLI exits 2."""
import csv
import os
import re
import shutil
import subprocess
import sys
import unicodedata

import pytest

import nq57lib
from nq57lib import DataValidationError
from nq57lib.cli import main


def _rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def _write(path, rows, **kw):
    with open(path, "w", encoding=kw.pop("encoding", "utf-8"), newline="") as f:
        csv.writer(f, lineterminator=kw.pop("newline", "\n")).writerows(rows)


def _set(path, line, column, value):
    """Set one cell, addressed as a spreadsheet shows it (line 1 is the header)."""
    rows = _rows(path)
    rows[line - 1][rows[0].index(column)] = value
    _write(path, rows)


def _problems(data):
    with pytest.raises(DataValidationError) as e:
        nq57lib.load(data)
    return e.value.problems


def _one(data, file, line, column, about=""):
    """The problem at one cell (the one whose message contains ``about`` when a cell has several)."""
    probs = [p for p in _problems(data) if (p.file, p.line, p.column) == (file, line, column) and about in p.message]
    assert probs, f"no problem at {file}:{line}:{column} about {about!r}; got {_problems(data)}"
    return probs[0]


def test_clean_data_validates(capsys):
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


def test_unknown_province_with_did_you_mean(data_copy):
    _set(data_copy / "targets.csv", 2, "province", "Lào Kai")
    p = _one(data_copy, "targets.csv", 2, "province")
    assert p.value == "Lào Kai" and "did you mean 'Lào Cai'" in p.fix


def test_unknown_indicator(data_copy):
    _set(data_copy / "targets.csv", 3, "indicator", "digital_economy_shar")
    p = _one(data_copy, "targets.csv", 3, "indicator")
    assert "not a known indicator" in p.message and "digital_economy_share" in p.fix


def test_unknown_source(data_copy):
    _set(data_copy / "observations.csv", 2, "source_id", "laocai_q2_2025")
    p = _one(data_copy, "observations.csv", 2, "source_id")
    assert "not a known source" in p.message and "laocai_q1_2025" in p.fix


def test_non_numeric_value(data_copy):
    _set(data_copy / "observations.csv", 4, "value", "mười")
    p = _one(data_copy, "observations.csv", 4, "value")
    assert p.value == "mười" and "not a number" in p.message


def test_vietnamese_decimal_comma_in_a_numeric_column(data_copy):
    _set(data_copy / "observations.csv", 5, "value", "84,2")
    p = _one(data_copy, "observations.csv", 5, "value")
    assert "comma" in p.message and "write 84.2" in p.fix


def test_percent_outside_0_100(data_copy):
    rows = _rows(data_copy / "targets.csv")
    line = next(i + 1 for i, r in enumerate(rows) if r[1] == "cashless_transactions_share")
    _set(data_copy / "targets.csv", line, "value", "180")
    p = _one(data_copy, "targets.csv", line, "value", about="outside the bounds")
    assert "0 to 100" in p.message


def test_year_outside_2000_2050(data_copy):
    _set(data_copy / "targets.csv", 2, "year", "2300")
    p = _one(data_copy, "targets.csv", 2, "year")
    assert "between 2000 and 2050" in p.message


def test_duplicated_fact_with_two_values(data_copy):
    rows = _rows(data_copy / "observations.csv")
    dup = list(rows[1]); dup[4] = "999"
    rows.append(dup)
    _write(data_copy / "observations.csv", rows)
    p = _one(data_copy, "observations.csv", len(rows), "value")
    assert "conflicts with line 2" in p.message


def test_duplicated_fact_with_the_same_value(data_copy):
    rows = _rows(data_copy / "observations.csv")
    rows.append(list(rows[1]))
    _write(data_copy / "observations.csv", rows)
    assert "duplicates line 2" in _one(data_copy, "observations.csv", len(rows), "value").message


def test_missing_column(data_copy):
    rows = [r[:7] + r[8:] for r in _rows(data_copy / "targets.csv")]  # drop "quote"
    _write(data_copy / "targets.csv", rows)
    p = _one(data_copy, "targets.csv", 1, "quote")
    assert "required column is missing" in p.message


def test_extra_unknown_column(data_copy):
    rows = _rows(data_copy / "sources.csv")
    rows[0].append("licence")
    for r in rows[1:]:
        r.append("")
    _write(data_copy / "sources.csv", rows)
    p = _one(data_copy, "sources.csv", 1, "licence")
    assert "not a column of this file" in p.message and "remove the column" in p.fix


def test_file_cut_off_in_the_middle_of_a_row(data_copy):
    path = data_copy / "observations.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.rfind(",", 0, len(text) - 40)], encoding="utf-8")
    n = len(_rows(path))
    p = _one(data_copy, "observations.csv", n, "")
    assert "cut off" in p.message


def test_file_cut_off_inside_a_quoted_cell(data_copy):
    path = data_copy / "targets.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.rfind('"') ], encoding="utf-8")
    p = [p for p in _problems(data_copy) if p.file == "targets.csv"][0]
    assert "cut off" in p.message and p.line > 1


def test_stray_double_quote_inside_a_quoted_cell(data_copy):
    path = data_copy / "sources.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace('"Lai Châu đang', '"Lai Châu "đang', 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    p = [p for p in _problems(data_copy) if p.file == "sources.csv"][0]
    assert p.line == 4 and "double quote" in p.message and '("")' in p.fix


def test_empty_file(data_copy):
    (data_copy / "sources.csv").write_bytes(b"")
    p = _one(data_copy, "sources.csv", 0, "")
    assert "empty" in p.message and "id,title" in p.fix


@pytest.mark.parametrize("encoding", ["cp1258", "cp1252"])
def test_legacy_encoding(data_copy, encoding):
    path = data_copy / "pillars.csv"
    text = path.read_text(encoding="utf-8") if encoding == "cp1258" else "id,name_vi,name_en,order\nx,Café,Café,1\n"
    path.write_bytes(unicodedata.normalize("NFC", text).encode(encoding, errors="strict") if encoding == "cp1252"
                     else unicodedata.normalize("NFD", text).encode("cp1258", errors="replace"))
    p = [p for p in _problems(data_copy) if p.file == "pillars.csv"][0]
    assert "not UTF-8" in p.message and "CSV UTF-8" in p.fix and p.line >= 2


def test_value_high_below_value(data_copy):
    rows = _rows(data_copy / "targets.csv")
    line = next(i + 1 for i, r in enumerate(rows) if r[3] == "between")
    _set(data_copy / "targets.csv", line, "value_high", "8")
    p = _one(data_copy, "targets.csv", line, "value_high")
    assert "below value" in p.message and "swap" in p.fix


def test_comparator_and_value_high_disagree(data_copy):
    rows = _rows(data_copy / "targets.csv")
    line = next(i + 1 for i, r in enumerate(rows) if r[3] == "between")
    _set(data_copy / "targets.csv", line, "comparator", ">=")
    assert "only used with the comparator 'between'" in _one(data_copy, "targets.csv", line, "value_high").message


def test_missing_quote_for_a_document(data_copy):
    _set(data_copy / "targets.csv", 2, "quote", "")
    assert "required" in _one(data_copy, "targets.csv", 2, "quote").message


def test_all_problems_reported_at_once(data_copy):
    _set(data_copy / "targets.csv", 2, "year", "1999")
    _set(data_copy / "observations.csv", 2, "value", "x")
    _set(data_copy / "indicators.csv", 2, "unit", "percents")
    files = {p.file for p in _problems(data_copy)}
    assert files == {"targets.csv", "observations.csv", "indicators.csv"}


def test_bom_crlf_and_nfd_are_the_same_data(data_copy):
    reference = nq57lib.load(data_copy)
    for path in data_copy.glob("*.csv"):
        text = unicodedata.normalize("NFD", path.read_text(encoding="utf-8"))
        path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    again = nq57lib.load(data_copy)
    for name in ("targets", "observations", "provinces", "indicators", "sources"):
        a, b = getattr(reference, name), getattr(again, name)
        assert a.astype(str).equals(b.astype(str)), name


def test_province_by_code_alias_or_without_diacritics(data_copy):
    path = data_copy / "observations.csv"
    rows = _rows(path)
    col = rows[0].index("province")
    n_lai_chau = sum(r[col] == "Lai Châu" for r in rows[1:])
    for r in rows[1:]:
        if r[col] == "Lai Châu":
            r[col] = "LAI CHAU"
        elif r[col] == "Yên Bái":
            r[col] = "15"   # code 15 belonged to Yên Bái before 1/7/2025 and to the new Lào Cai after
        elif r[col] == "Lào Cai":
            r[col] = "lao-cai"
    _write(path, rows)
    ds = nq57lib.load(data_copy)
    assert ds.observations.province.value_counts()["Lai Châu"] == n_lai_chau > 0
    assert set(ds.observations[ds.observations.indicator.str.startswith("dti_rank_")].province) >= {"Yên Bái"}


def test_cli_prints_problems_without_traceback_and_exits_2(data_copy):
    _set(data_copy / "targets.csv", 2, "value", "84,2")
    r = subprocess.run([sys.executable, "-m", "nq57lib.cli", "validate", "--data", str(data_copy)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert 'targets.csv, line 2, column "value": "84,2"' in r.stderr and "Fix: write 84.2" in r.stderr


def test_cli_missing_folder_exits_2(tmp_path):
    assert main(["validate", "--data", str(tmp_path / "nope")]) == 2


def _mutations():
    """Every bad-input failure mode, as (id, mutate(data_dir), expected file)."""
    def cell(file, line, col, value):
        return lambda d: _set(d / file, line, col, value)

    def append_dup(d):
        rows = _rows(d / "observations.csv"); dup = list(rows[1]); dup[4] = "999"; rows.append(dup)
        _write(d / "observations.csv", rows)

    def drop_col(d):
        _write(d / "targets.csv", [r[:7] + r[8:] for r in _rows(d / "targets.csv")])

    def extra_col(d):
        rows = _rows(d / "sources.csv"); rows[0].append("licence")
        for r in rows[1:]:
            r.append("")
        _write(d / "sources.csv", rows)

    def cut(d):
        t = (d / "observations.csv").read_text(encoding="utf-8")
        (d / "observations.csv").write_text(t[: t.rfind(",", 0, len(t) - 40)], encoding="utf-8")

    def legacy(d, enc):
        (d / "pillars.csv").write_bytes("id,name_vi,name_en,order\nx,Kinh tế số,Café,1\n".encode(enc, errors="replace"))

    def high_below(d):
        rows = _rows(d / "targets.csv")
        _set(d / "targets.csv", next(i + 1 for i, r in enumerate(rows) if r[3] == "between"), "value_high", "8")

    return [
        ("unknown_province", cell("targets.csv", 2, "province", "Lào Kai"), "targets.csv"),
        ("unknown_indicator", cell("targets.csv", 2, "indicator", "kinh_te_so"), "targets.csv"),
        ("unknown_source", cell("observations.csv", 2, "source_id", "nowhere"), "observations.csv"),
        ("non_numeric", cell("observations.csv", 2, "value", "mười"), "observations.csv"),
        ("decimal_comma", cell("observations.csv", 2, "value", "84,2"), "observations.csv"),
        ("percent_over_100", cell("targets.csv", 2, "value", "120"), "targets.csv"),
        ("year_outside", cell("targets.csv", 2, "year", "2060"), "targets.csv"),
        ("duplicate_conflict", append_dup, "observations.csv"),
        ("missing_column", drop_col, "targets.csv"),
        ("extra_column", extra_col, "sources.csv"),
        ("cut_off", cut, "observations.csv"),
        ("empty_file", lambda d: (d / "sources.csv").write_bytes(b""), "sources.csv"),
        ("cp1258", lambda d: legacy(d, "cp1258"), "pillars.csv"),
        ("cp1252", lambda d: legacy(d, "cp1252"), "pillars.csv"),
        ("value_high_below_value", high_below, "targets.csv"),
    ]


@pytest.mark.parametrize("mode, mutate, file", _mutations(), ids=[m[0] for m in _mutations()])
def test_every_failure_mode_exits_2_with_file_line_column_value_and_fix(data_copy, mode, mutate, file):
    mutate(data_copy)
    r = subprocess.run([sys.executable, "-m", "nq57lib.cli", "validate", "--data", str(data_copy)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == ""
    assert "Traceback" not in r.stderr
    lines = [l for l in r.stderr.splitlines() if l.startswith(f"  - {file}")]
    assert lines, r.stderr
    assert re.match(rf"  - {re.escape(file)}(, line \d+)?(, column \"[^\"]+\")?: .+\. Fix: .+", lines[0]), lines[0]


# ------------------------------------------------------------------ a figure must be what its quote states

def _cli_validate(data):
    return subprocess.run([sys.executable, "-m", "nq57lib.cli", "validate", "--data", str(data)],
                          capture_output=True, text=True, timeout=120)


def _target_line(data, indicator, year="2030", province="Lào Cai (cũ)"):
    rows = _rows(data / "targets.csv")
    return next(i + 1 for i, r in enumerate(rows) if r[:3] == [province, indicator, year])


def test_a_target_that_contradicts_its_quote_is_refused(data_copy):
    line = _target_line(data_copy, "digital_economy_share")   # quote: "Kinh tế số đóng góp tối thiểu 20% vào GRDP"
    _set(data_copy / "targets.csv", line, "value", "25")
    p = _one(data_copy, "targets.csv", line, "value", about="is not in its quote")
    assert "tối thiểu 20%" in p.message and "states 20" in p.message and "25" in p.fix
    r = _cli_validate(data_copy)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f'targets.csv, line {line}, column "value": "25" is not in its quote' in r.stderr


def test_a_quote_without_a_number_cannot_support_a_figure(data_copy):
    line = _target_line(data_copy, "cashless_transactions_share")
    _set(data_copy / "targets.csv", line, "quote", "giao dịch không dùng tiền mặt")
    p = _one(data_copy, "targets.csv", line, "value", about="states no number")
    assert "digits included" in p.fix


def test_a_comparator_that_contradicts_the_quote_is_refused(data_copy):
    line = _target_line(data_copy, "digital_economy_share")   # "tối thiểu 20%" is >=
    _set(data_copy / "targets.csv", line, "comparator", "<")
    p = _one(data_copy, "targets.csv", line, "comparator")
    assert p.value == "<" and "set comparator to >=" in p.fix


def test_a_range_end_must_be_in_the_quote_too(data_copy):
    line = _target_line(data_copy, "digital_economy_share", province="Lai Châu")   # "khoảng 9-10% GRDP"
    _set(data_copy / "targets.csv", line, "value_high", "12")
    assert "is not in its quote" in _one(data_copy, "targets.csv", line, "value_high").message


def test_scale_words_are_read_when_checking_a_quote(data_copy):
    rows = _rows(data_copy / "observations.csv")
    rows.append(["Việt Nam", "st_dx_spending", "2024-12-31", "2024", "1500000", "laocai_2025_11",
                 "ước đạt hơn 1,5 triệu tỷ đồng", "", ""])
    _write(data_copy / "observations.csv", rows)
    nq57lib.load(data_copy)   # 1.500.000 tỷ đồng (vnd_billion) is what "1,5 triệu tỷ đồng" states


def test_an_observation_dated_after_today_is_refused(data_copy):
    import datetime
    future = (datetime.date.today() + datetime.timedelta(days=40)).isoformat()
    _set(data_copy / "observations.csv", 2, "period_end", future)
    p = _one(data_copy, "observations.csv", 2, "period_end", about="after today")
    assert p.value == future and "targets.csv" in p.fix


def test_the_first_line_of_a_validation_error_is_the_problem_itself(data_copy):
    _set(data_copy / "targets.csv", 2, "year", "1999")
    _set(data_copy / "observations.csv", 2, "value", "x")
    with pytest.raises(DataValidationError) as e:
        nq57lib.load(data_copy)
    first = str(e.value).splitlines()[0]
    assert first.startswith(("observations.csv, line 2", "targets.csv, line 2")) and "more problem" in first


# ------------------------------------------------------------------ only the six files, only regular files

def test_stray_csv_entries_are_ignored_and_hashed_out(data_copy):
    import os
    from nq57lib.runner import data_hash
    before = data_hash(data_copy)
    os.symlink("loop.csv", data_copy / "loop.csv")          # a symlink loop
    (data_copy / "folder.csv").mkdir()                       # a folder with a .csv name
    os.mkfifo(data_copy / "pipe.csv")                        # a named pipe: reading it would hang
    r = _cli_validate(data_copy)
    assert r.returncode == 0, r.stderr
    assert data_hash(data_copy) == before


@pytest.mark.parametrize("kind, make, message", [
    ("fifo", lambda p: os.mkfifo(p), "is a named pipe, not a file"),
    ("folder", lambda p: p.mkdir(), "is a folder, not a file"),
    ("loop", lambda p: os.symlink(p.name, p), "symbolic link that points at itself"),
    ("broken_link", lambda p: os.symlink("nowhere.csv", p), "broken symbolic link"),
])
def test_a_data_file_that_is_not_a_regular_file_is_refused(data_copy, kind, make, message):
    path = data_copy / "targets.csv"
    path.unlink()
    make(path)
    r = _cli_validate(data_copy)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "targets.csv" in r.stderr and message in r.stderr


@pytest.mark.parametrize("content, message", [
    (b"\x7fELF\x02\x01\x01\x00" + bytes(200), "is a program (ELF binary), not CSV text"),
    (b"PK\x03\x04" + bytes(100), "is an Excel workbook or another zip archive, not CSV text"),
    (b"id,name\x00x\x00", "is a binary file, not CSV text"),
])
def test_a_binary_file_is_named_for_what_it_is(data_copy, content, message):
    (data_copy / "sources.csv").write_bytes(content)
    p = _one(data_copy, "sources.csv", 0, "", about="not CSV text")
    assert message in p.message and "CSV UTF-8" in p.fix


def test_thousands_of_unknown_columns_give_one_line(data_copy):
    rows = _rows(data_copy / "pillars.csv")
    rows = [r + [f"x{i}" if k == 0 else "" for i in range(10_000)] for k, r in enumerate(rows)]
    _write(data_copy / "pillars.csv", rows)
    probs = [p for p in _problems(data_copy) if p.file == "pillars.csv"]
    assert len(probs) == 1 and "10000 columns" in probs[0].value and "'x0'" in probs[0].message


def test_a_renamed_province_does_not_point_at_another_one(ds):
    with pytest.raises(nq57lib.ParameterError) as e:
        ds.find_province("Hà Tây")        # merged into Hà Nội in 2008; not a close spelling of Hà Tĩnh
    assert "did you mean" not in str(e.value)
    assert ds.find_province("Hà Giang")["successor"] == "tuyen-quang"   # a 2025 predecessor is a unit of its own
