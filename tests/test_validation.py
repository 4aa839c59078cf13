"""Bad input in data/: each failure mode gives file, line, column, value and fix; the CLI exits 2."""
import csv
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
    for r in rows[1:]:
        if r[col] == "Lai Châu":
            r[col] = "LAI CHAU"
        elif r[col] == "Yên Bái":
            r[col] = "15"   # code 15 belonged to Yên Bái before 1/7/2025 and to the new Lào Cai after
        elif r[col] == "Lào Cai":
            r[col] = "lao-cai"
    _write(path, rows)
    ds = nq57lib.load(data_copy)
    assert ds.observations.province.value_counts()["Lai Châu"] == 21
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
