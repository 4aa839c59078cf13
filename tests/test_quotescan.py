"""The vectorised quote check certifies only what the reference (numbers.stated_quantities) accepts.

Random quotes are drawn from the pieces that make numbers hard to read (thousands dots, decimal commas,
ranges, slashes, scale words, "tỷ lệ", "đến", other scripts' digits and spaces, English pages); for each,
a figure is asked that the quote may or may not state. Whatever QuoteScan certifies, the reference must
accept; and the usual ways of writing a figure must be certified (else the check would always fall back
to the slow reference and the load would not scale).
"""
import math
import re

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nq57lib.numbers import as_vietnamese_numbers, find_numbers, stated_quantities
from nq57lib.quotescan import QuoteScan


def reference_ok(quote, value, scale, lang, comparator=None):
    """The rule of rowreader.quote_problems, from the reference function."""
    stated = stated_quantities(quote, lang=lang)
    hits = [c for q, c in stated if q == round(value * scale, 6)]
    if not hits:
        return False
    return comparator in (None, "", "=") or None in hits or comparator in hits


def certified(quotes, values, scales, langs, comparators=None):
    scan = QuoteScan(pa.array(quotes, pa.string()), np.array([l == "en" for l in langs], bool))
    qty = np.array(values, float) * np.array(scales, float)
    return scan.states(qty, None if comparators is None else np.array(comparators, object))


NUMBERS = st.one_of(
    st.integers(0, 10**7).map(str),
    st.integers(0, 10**7).map(lambda n: f"{n:,}".replace(",", ".")),            # 16.803
    st.tuples(st.integers(0, 999), st.integers(0, 9999)).map(lambda t: f"{t[0]},{t[1]}"),   # 84,2
    st.tuples(st.integers(0, 999), st.integers(0, 99999)).map(lambda t: f"{t[0]}.{t[1]}"),  # 62.86 / 1.234
    st.sampled_from(["01", "0,4874", "1.548", "4,977", "0.4096", "1,234,567", "1.2.3", "12.", "9-10", "95/95",
                     "51,69/85", "2021- 2025", "10-5", "5/ 10", "٣", "５", "1١", "00"]),
)
SEPARATORS = st.sampled_from([" ", " ", " ", "  ", "\xa0", "\u2009", "%", " %", "-", "–", "/", " - ", " / ", ",", ".",
                              ":", "(", ")", '"', "“", "”", ";", "\t"])
WORDS = st.sampled_from(["tỷ", "TỶ", "Tỷ", "tỉ", "triệu", "TRIỆU", "trıệu", "nghìn", "ngàn", "vạn", "tỷ lệ", "lệ",
                         "triệu tỷ", "nghìn tỷ", "đến", "ĐẾN", "Đến", "từ", "trên", "hơn", "nhơn", "tối thiểu", "ít nhất",
                         "không dưới", "khoảng", "gần", "xấp xỉ", "dưới", "top", "đạt", "đồng", "người", "năm", "trong",
                         "triển khai", "ngày", "tăng", "GRDP", "ha", "km", "điểm", "lượt"])
SCALES = st.sampled_from(["tỷ", "TỶ", "tỉ", "triệu", "trıệu", "nghìn", "ngàn", "vạn", "tỷ lệ", "triệu tỷ", "nghìn tỷ"])
SPACES = st.sampled_from([" ", " ", " ", "", "  ", "\xa0"])
# a number with what may come before and after it: the structures that decide how it is read
FIGURE = st.tuples(st.sampled_from(["", "", "đạt ", "tối thiểu ", "trên ", "khoảng ", "từ ", "(", "-", "/", "nhơn "]),
                   NUMBERS, st.sampled_from(["", "", "", "%", ",", ".", "-", "/", " - ", " đến "]),
                   st.one_of(st.just(""), st.just(""), NUMBERS), st.sampled_from(["", "", "%", "."]), SPACES,
                   st.one_of(st.just(""), SCALES, WORDS), SPACES,
                   st.one_of(st.just(""), WORDS, SEPARATORS)).map("".join)
QUOTES = st.one_of(st.lists(st.one_of(NUMBERS, SEPARATORS, WORDS), min_size=1, max_size=12).map("".join),
                   st.lists(st.one_of(FIGURE, WORDS, SPACES), min_size=1, max_size=4).map("".join),
                   st.lists(FIGURE, min_size=1, max_size=3).map(" ".join))


def _candidates(quote):
    """Figures the quote may state: its own numbers read a few ways (scaled or not), so that many draws ask a
    true figure and many ask one that differs only by a scale word or a separator."""
    out = [1.0, 0.0]
    for lang in ("vi", "en"):
        out += [q for q, _ in stated_quantities(quote, lang=lang)]
        for p in find_numbers(as_vietnamese_numbers(quote, lang)):
            out += [v for v in (p.value, p.value_high, p.second) if v is not None]
    for token in re.findall(r"\d[\d.,]*", quote):
        for swap in (token, token.translate(str.maketrans(",.", ".,"))):
            try:
                out.append(float(swap.replace(".", "").replace(",", ".")))
            except ValueError:
                pass
    return out


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
@example(None)
def test_nothing_is_certified_that_the_reference_refuses(data):
    if data is None:  # a fixed sample of the hard cases (hypothesis' @example)
        rows = [("từ 5 đến 10 tỷ", 5e9, 1.0, "vi", ">="), ("1-5-10 tỷ", 5.0, 1.0, "vi", None),
                ("1-5-10 tỷ", 5.0, 1e9, "vi", None), ("1/5-10 tỷ", 5.0, 1e9, "vi", None),
                ("574 tỷ lệ", 574.0, 1.0, "vi", None), ("5 triệu tỷ lệ", 5e6, 1.0, "vi", None),
                ("10-5%", 10.0, 1.0, "vi", "between"), ("9-10%", 9.0, 1.0, "vi", "between"),
                ("84,٣%", 84.0, 1.0, "vi", None), ("62.86. điểm", 62.86, 1.0, "vi", None)]
    else:
        n = data.draw(st.integers(1, 6))
        rows = []
        for _ in range(n):
            quote = data.draw(QUOTES)
            scale = data.draw(st.sampled_from([1.0, 1.0, 1e6, 1e9]))
            value = data.draw(st.sampled_from(_candidates(quote))) / scale
            lang = data.draw(st.sampled_from(["vi", "vi", "en"]))
            comparator = data.draw(st.sampled_from([None, "=", ">=", ">", "<=", "<", "between"]))
            rows.append((quote, value, scale, lang, comparator))
    got = certified(*zip(*rows))
    for ok, (quote, value, scale, lang, comparator) in zip(got, rows):
        if ok:
            assert reference_ok(quote, value, scale, lang, comparator), (quote, value, scale, lang, comparator)


@pytest.mark.parametrize("quote, value, scale, lang, comparator", [
    ("đã đạt tỷ lệ 56,7%", 56.7, 1, "vi", None),
    ("16.803 đại biểu tham gia học tập", 16803, 1, "vi", None),
    ("mức đầu tư đạt 574 tỷ đồng", 574, 1e9, "vi", None),
    ("trên 01 triệu lượt truy cập", 1e6, 1, "vi", None),
    ("439,2 triệu đồng/tháng", 439.2, 1e6, "vi", None),
    ("Tỷ lệ hồ sơ tiếp nhận trực tuyến 51,69/85%", 51.69, 1, "vi", None),
    ("Tỷ lệ hồ sơ tiếp nhận trực tuyến 51,69/85%", 85, 1, "vi", "="),
    ("Kinh tế số đóng góp tối thiểu 20% vào GRDP", 20, 1, "vi", ">="),
    ("kinh tế số chiếm khoảng 9-10% GRDP", 9, 1, "vi", "between"),
    ("kinh tế số chiếm khoảng 9-10% GRDP", 10, 1, "vi", None),
    ("đạt 62.86 điểm", 62.86, 1, "vi", None),
    ("a total of 4,977 stations", 4977, 1, "en", None),
    ("DTI score 0.4096", 0.4096, 1, "en", None),
    ("cấp xã: 95/95%", 95, 1, "vi", None),
    ("Quý 1/2025: đạt 84,2% (ước)", 84.2, 1, "vi", None),
])
def test_the_usual_ways_of_writing_a_figure_are_certified(quote, value, scale, lang, comparator):
    assert reference_ok(quote, value, scale, lang, comparator)
    assert certified([quote], [value], [scale], [lang], [comparator])[0]


@pytest.mark.parametrize("quote, value, comparator", [
    ("tối thiểu 20%", 25, None),          # another figure
    ("tối thiểu 20%", 20, "<"),           # the quote says at least
    ("574 tỷ lệ", 574e9, None),          # "tỷ lệ" is a rate, not a scale
    ("từ 9 đến 10%", 9, ">="),            # a range
])
def test_what_the_reference_refuses_is_not_certified(quote, value, comparator):
    assert not reference_ok(quote, value, 1, "vi", comparator)
    assert not certified([quote], [value], [1], ["vi"], [comparator])[0]


def test_rows_with_nothing_to_check_are_certified_and_empty_quotes_are_not():
    got = certified(["", "đạt 5%", ""], [math.nan, 5, 5], [1, 1, 1], ["vi"] * 3)
    assert got.tolist() == [True, True, False]


def test_numbers_of_neighbouring_quotes_are_not_read_as_one():
    # the quotes lie end to end in one buffer: "đạt 5" and "6%" must not make 56
    assert not certified(["đạt 5", "6%"], [56, 6], [1, 1], ["vi", "vi"])[0]
    assert certified(["đạt 5", "", "6%"], [5, math.nan, 6], [1, 1, 1], ["vi"] * 3).tolist() == [True, True, True]
