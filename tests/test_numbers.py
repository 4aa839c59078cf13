import math

import pytest
from hypothesis import given, strategies as st

from nq57lib import find_numbers, format_number, parse_number


@pytest.mark.parametrize("text, value, comparator, extra", [
    ("84,2%", 84.2, None, {"unit": "%"}),
    ("16.803", 16803, None, {}),
    ("1,5%", 1.5, None, {}),
    ("574 tỷ đồng", 574, None, {"unit": "tỷ đồng", "scale": 1e9}),
    ("439,2 triệu đồng/tháng", 439.2, None, {"unit": "triệu đồng/tháng", "scale": 1e6}),
    ("9-10%", 9, "between", {"value_high": 10}),
    ("khoảng 9 - 10%", 9, "between", {"value_high": 10, "approximate": True}),
    ("trên 80%", 80, ">", {}),
    ("tối thiểu 20%", 20, ">=", {}),
    ("ít nhất 3", 3, ">=", {}),
    ("hơn 40%", 40, ">", {}),
    ("51,69/85%", 51.69, None, {"second": 85}),
    ("0,623", 0.623, None, {}),
    ("trên 01 triệu", 1, ">", {"scale": 1e6}),
    ("1.562.000", 1562000, None, {}),
    ("1,5 triệu tỷ đồng", 1.5, None, {"scale": 1e15, "unit": "triệu tỷ đồng"}),
    ("2 nghìn tỷ", 2, None, {"scale": 1e12}),
    ("top 50", 50, "<=", {}),
])
def test_parse_number_vietnamese_forms(text, value, comparator, extra):
    p = parse_number(text)
    assert p.value == pytest.approx(value)
    assert p.comparator == comparator
    for key, expected in extra.items():
        assert getattr(p, key) == expected, key


@pytest.mark.parametrize("text, fragment", [
    ("", "not a figure"),
    ("abc", "not a figure"),
    ("đạt 30%", "not a figure"),
    ("1.5%", "decimal separator is a comma"),
    ("84,2% trở lên", "unexpected text"),
])
def test_parse_number_rejects_with_a_clear_message(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_number(text)


def test_parse_number_rejects_non_text():
    with pytest.raises(ValueError, match="expects text"):
        parse_number(84.2)


def test_ty_le_is_a_ratio_not_a_billion():
    (p,) = find_numbers("100% tỷ lệ thủ tục hành chính")
    assert (p.value, p.scale, p.unit) == (100.0, 1.0, "%")
    (q,) = find_numbers("đạt 574 tỷ đồng")
    assert q.scale == 1e9


def test_find_numbers_in_a_sentence():
    found = find_numbers("Tỷ lệ hồ sơ tiếp nhận trực tuyến 51,69/85%; tỷ lệ hồ sơ trả kết quả 68,12/85%")
    assert [(p.value, p.second) for p in found] == [(51.69, 85.0), (68.12, 85.0)]


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_format_then_parse_gives_the_number_back(d):
    x = float(d)
    assert parse_number(format_number(x)).value == pytest.approx(x)
    assert parse_number(format_number(x, percent=True)).unit == "%"


@given(st.integers(min_value=0, max_value=10**12))
def test_integers_round_trip_with_thousands_dots(n):
    text = format_number(n)
    assert "," not in text
    assert parse_number(text).value == n


def test_format_number_missing_value():
    assert format_number(math.nan) == "–"
