"""The columnar reader gives exactly what the row reader gives, or declines (and the row reader words the problem).

Each case runs both readers on the same folder: when the columnar reader accepts the data, the row reader must
accept it too and the frames must be equal (values and dtypes); the traps found by the prototype are shown to
be declined or read alike.
"""
import datetime
import importlib.util
import unicodedata

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nq57lib import DataValidationError, columnar, dataset, rowreader

from conftest import DATA, ROOT


def _synthetic():
    spec = importlib.util.spec_from_file_location("synthetic", ROOT / "benchmarks" / "synthetic.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def both(folder):
    """(columnar result or None, row reader result or the problems)."""
    problems = []
    frames = {n: rowreader.read_csv(folder / n, problems) for n in dataset.REFERENCE_FILES}
    for n, f in frames.items():
        if f is not None:
            problems += rowreader.cell_problems(n, f)
    refs = rowreader.reference_checks(frames, problems)
    assert not problems, problems
    today = datetime.date.today().isoformat()
    fast = columnar.read_facts(folder, refs, today)
    slow_problems = []
    slow = dataset._row_facts(folder, refs, today, slow_problems)
    return fast, (slow_problems or slow)


def same(folder):
    fast, slow = both(folder)
    assert fast is not None, columnar.last_refusal
    assert isinstance(slow, dict), slow
    for key in ("targets", "observations"):
        pd.testing.assert_frame_equal(fast[key], slow[key], check_exact=True)
    return fast


def declined(folder, about=""):
    fast, slow = both(folder)
    assert fast is None and about in columnar.last_refusal, columnar.last_refusal
    return slow


def _edit(path, old, new, count=1):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def test_the_shipped_data(data_copy):
    same(data_copy)


def test_synthetic_data_shaped_like_the_shipped_data(tmp_path):
    _synthetic().make_data(tmp_path, 3000)
    ds = same(tmp_path)
    assert len(ds["observations"]) == 3000 and ds["observations"].quote.str.len().gt(0).mean() > 0.8


def test_the_quote_check_in_two_halves_gives_the_same(tmp_path, monkeypatch):
    _synthetic().make_data(tmp_path, 2000)
    monkeypatch.setattr(columnar, "_SPLIT_ROWS", 100)
    same(tmp_path)
    monkeypatch.setattr(columnar, "_SPLIT_ROWS", 10**9)
    same(tmp_path)


def test_dtypes_are_the_datasets(data_copy):
    fast = same(data_copy)
    assert str(fast["targets"].comparator.dtype) == "object" and fast["targets"].comparator.isna().any()
    assert str(fast["observations"].period_end.dtype) == "datetime64[us]"
    for col in dataset.FACT_TEXT:
        assert fast["observations"][col].dtype == "str"


def test_bom_crlf_nfd_and_padding_are_read_alike(data_copy):
    for path in data_copy.glob("*.csv"):
        text = unicodedata.normalize("NFD", path.read_text(encoding="utf-8"))
        path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    same(data_copy)


def test_whitespace_python_strips_and_pyarrow_might_not(data_copy):
    # \x1c-\x1f, NBSP, the ideographic space: str.strip() removes them all
    _edit(data_copy / "observations.csv", "Lai Châu,", "\x1c\u3000Lai Châu\xa0,")
    _edit(data_copy / "targets.csv", ",2030,", ", 2030\u2009,")
    fast = same(data_copy)
    assert "Lai Châu" in set(fast["observations"].province)


def test_quoted_line_breaks_and_doubled_quotes(data_copy):
    path = data_copy / "observations.csv"
    rows = path.read_text(encoding="utf-8").split("\n")
    rows[3] = rows[3][: rows[3].rfind(",")] + ',"dòng một\ndòng ""hai"""'
    path.write_text("\n".join(rows), encoding="utf-8")
    fast = same(data_copy)
    assert fast["observations"].note_en.str.contains("dòng một\ndòng \"hai\"", regex=False).any()


def test_a_quote_that_closes_before_the_cell_ends_is_declined(data_copy):
    # pyarrow reads "x"y as xy; Python's strict csv refuses it: the row reader reports it
    _edit(data_copy / "targets.csv", ',"100% doanh nghiệp', ',"100% doanh nghiệp"x')
    problems = declined(data_copy, "quote character")
    assert any("double quote" in p.message for p in problems)


def test_an_impossible_date_is_declined_not_moved(data_copy):
    # pyarrow's strptime would read 2025-02-30 as 2025-03-02
    _edit(data_copy / "observations.csv", "2025-03-31", "2025-02-30")
    problems = declined(data_copy, "cell check")
    assert any(p.column == "period_end" and p.value == "2025-02-30" for p in problems)


def test_a_digit_of_another_script_is_left_to_the_row_reader(data_copy):
    _edit(data_copy / "observations.csv", ",168,", ",١٦٨,")
    problems = declined(data_copy, "number")
    assert any(p.value == "١٦٨" and "not a number" in p.message for p in problems)


def test_codes_aliases_and_spellings_resolve_alike(data_copy):
    path = data_copy / "observations.csv"
    text = path.read_text(encoding="utf-8").replace("\nLai Châu,", "\nLAI CHAU,").replace("\nYên Bái,", "\n15,")
    path.write_text(text, encoding="utf-8")
    fast = same(data_copy)
    assert "Yên Bái" in set(fast["observations"].province)


def test_columns_in_another_order_and_an_optional_one_missing(data_copy):
    path = data_copy / "targets.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns="note_en")
    frame[list(reversed(frame.columns))].to_csv(path, index=False)
    same(data_copy)


def test_a_duplicate_is_declined(data_copy):
    path = data_copy / "observations.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines + [lines[1]]) + "\n", encoding="utf-8")
    problems = declined(data_copy, "duplicate")
    assert any("duplicates line" in p.message for p in problems)


def test_python_whitespace_is_what_the_reader_strips():
    assert columnar.PY_WHITESPACE == "".join(c for c in map(chr, range(0x110000)) if c.isspace())


def test_every_character_nfc_may_change_is_flagged():
    """Characters that are not NFC alone, combine with a character before them, or have a combining class."""
    seconds = set()
    for cp in range(0x80, 0x110000):
        d = unicodedata.decomposition(chr(cp))
        if d and not d.startswith("<") and len(d.split()) == 2:
            seconds.add(int(d.split()[1], 16))
    seconds |= set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))   # Hangul vowels and final consonants
    missed = []
    for cp in range(0x80, 0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        if unicodedata.combining(ch) or not unicodedata.is_normalized("NFC", ch) or cp in seconds:
            if not columnar._maybe_not_nfc(np.frombuffer(("a" + ch + "b").encode(), np.uint8)):
                missed.append(hex(cp))
    assert not missed
    viet = "Tỷ lệ hồ sơ trực tuyến đạt 84,2% – “Lào Cai (cũ)” Đắk Lắk Hồ Chí Minh"
    assert not columnar._maybe_not_nfc(np.frombuffer(viet.encode(), np.uint8))


EDITS = [
    ("observations.csv", ",168,", ",169,"), ("observations.csv", ",168,", ",168.0,"),
    ("observations.csv", ",168,", ", 168 ,"), ("observations.csv", ",168,", ",-168,"),
    ("observations.csv", ",168,", ",1e2,"), ("observations.csv", ",168,", ",,"),
    ("observations.csv", "2025-03-31", "2035-03-31"), ("observations.csv", "2025-03-31", "2025-3-31"),
    ("observations.csv", "laocai_q1_2025", "laocai_q9_2025"), ("observations.csv", "Lào Cai (cũ)", "Lao Cai cu"),
    ("observations.csv", "toàn tỉnh có 168 điểm cầu", "toàn tỉnh có 168 tỷ điểm cầu"),
    ("observations.csv", "toàn tỉnh có 168 điểm cầu", "toàn tỉnh có  168  điểm cầu"),
    ("observations.csv", "toàn tỉnh có 168 điểm cầu", "toàn tỉnh có 16,8 điểm cầu"),
    ("targets.csv", ",>=,20,", ",>,20,"), ("targets.csv", ",>=,20,", ",=,20,"), ("targets.csv", ",>=,20,", ",<=,20,"),
    ("targets.csv", ",>=,20,", ",between,20,"), ("targets.csv", ",2030,", ",2051,"), ("targets.csv", ",2030,", ",203O,"),
    ("targets.csv", "tối thiểu 20%", "tối thiểu 20 %"), ("targets.csv", "tối thiểu 20%", "từ 20 đến 25%"),
    ("targets.csv", "tối thiểu 20%", "khoảng 20-25%"), ("observations.csv", ",", "\u00a0,"),
    ("observations.csv", "\n", "\n\n"), ("observations.csv", "\n", "\r\n"), ("targets.csv", "\n", "\n,,,,,,,,,\n"),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(EDITS), min_size=1, max_size=3))
def test_what_the_columnar_reader_accepts_the_row_reader_accepts_identically(tmp_path_factory, edits):
    folder = tmp_path_factory.mktemp("data")
    for name in dataset.DATA_FILES:
        (folder / name).write_bytes((DATA / name).read_bytes())
    for name, old, new in edits:
        text = (folder / name).read_text(encoding="utf-8")
        (folder / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    fast, slow = both(folder)
    if fast is not None:
        assert isinstance(slow, dict), slow
        for key in ("targets", "observations"):
            pd.testing.assert_frame_equal(fast[key], slow[key], check_exact=True)
    with_cache = None
    try:
        with_cache = dataset.validated_load(folder)
    except DataValidationError as e:
        assert not isinstance(slow, dict) and sorted(map(str, e.problems)) == sorted(map(str, slow))
    else:
        assert isinstance(slow, dict)
        pd.testing.assert_frame_equal(with_cache.observations, slow["observations"], check_exact=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="0123456789.-5 a١", max_size=6), min_size=1, max_size=8))
def test_number_cells_are_read_as_the_reference_reads_them(cells):
    import re
    import pyarrow as pa
    from nq57lib.dataset import _NUMBER
    got = columnar._numbers(pa.array(cells, pa.string()))
    valid = all(c == "" or re.fullmatch(_NUMBER, c) for c in cells)
    if got is None:
        assert not valid or any(not c.isascii() for c in cells)
    else:
        assert valid
        empty, values, _ = got
        for c, e, v in zip(cells, empty, values):
            assert e == (c == "") and (e or v == float(c))
