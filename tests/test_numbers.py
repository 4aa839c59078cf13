import math

import pytest
from hypothesis import given, strategies as st

from nq57lib import find_numbers, format_number, parse_number
from nq57lib.numbers import stated_quantities


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


@pytest.mark.parametrize("text, expected", [
    # "từ a đến b" is a range; "a đến b" without "từ" after a year is two figures
    ("phấn đấu từ 20% đến 25%", [(20, "between", 25)]),
    # ("từ" alone reads as "from ... up", as in "từ 30% trở lên")
    ("từ 12,87% GDP năm 2021 lên 14,02% GDP năm 2025", [(12.87, ">=", None), (2021, None, None),
                                                        (14.02, None, None), (2025, None, None)]),
    ("12% năm 2020 đến 15%", [(12, None, None), (2020, None, None), (15, None, None)]),
    # a dash between a larger and a smaller number is not a range ("2025-2020" is not 2025..2020)
    ("giai đoạn 2030-2025", [(2030, None, None), (2025, None, None)]),
    ("9-10%", [(9, "between", 10)]),
])
def test_find_numbers_ranges_need_a_low_then_a_high(text, expected):
    got = [(p.value, p.comparator, p.value_high) for p in find_numbers(text)]
    assert got == [(float(v), c, None if h is None else float(h)) for v, c, h in expected]


def test_english_pages_write_thousands_with_commas_and_decimals_with_dots():
    from nq57lib.numbers import stated_quantities
    assert stated_quantities("home to 4,977 base transceiver stations", "en") == [(4977.0, None)]
    assert stated_quantities("scoring 0.6419 points", "en") == [(0.6419, None)]
    # the same text read as Vietnamese is 4.977 (a decimal comma) and 6419
    assert stated_quantities("home to 4,977 base transceiver stations") == [(4.977, None)]


def test_a_dot_that_cannot_group_thousands_is_a_decimal_point_in_vietnamese():
    from nq57lib.numbers import stated_quantities
    assert stated_quantities("Thái Nguyên (47.75 điểm, xếp hạng 10)") == [(47.75, None), (10.0, None)]
    assert stated_quantities("16.803 người") == [(16803.0, None)]


def test_ranks_in_words_are_read_only_for_rank_indicators():
    from nq57lib.numbers import stated_quantities
    assert stated_quantities("Đà Nẵng dẫn đầu cả nước") == []
    assert stated_quantities("Đà Nẵng dẫn đầu cả nước", ranks=True) == [(1.0, None)]
    assert stated_quantities("Thua Thien-Hue came in second place", "en", ranks=True) == [(2.0, None)]


def test_scale_and_comparator_words_with_a_dotless_or_dotted_i_are_read():
    # the pattern matches them case-insensitively (Python folds "ı" and "İ" with "i"); reading them must not fail
    assert stated_quantities("trıệu 5") == [(5.0, None)] and stated_quantities("5 trıệu") == [(5e6, None)]
    assert parse_number("5 TRİỆU đồng").scale == 1e6
    assert stated_quantities("trên 5 TRİỆU") == [(5e6, ">")] and stated_quantities("KHOẢNG 5") == [(5.0, None)]
