"""Reading and writing figures the Vietnamese way ("84,2%", "16.803", "574 tỷ đồng")."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

_NUM = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"
_COMPARATOR_WORDS = {
    "tối thiểu": ">=", "ít nhất": ">=", "không dưới": ">=", "từ": ">=",
    "trên": ">", "hơn": ">", "vượt": ">",
    "tối đa": "<=", "không quá": "<=", "dưới": "<", "top": "<=", "tốp": "<=",
}
_APPROX_WORDS = ("khoảng", "gần", "xấp xỉ")
_SCALES = {"nghìn": 1e3, "ngàn": 1e3, "vạn": 1e4, "triệu": 1e6, "tỷ": 1e9, "tỉ": 1e9}
# "1,5 triệu tỷ" is 1.5e15 and "2 nghìn tỷ" 2e12: a scale word may be followed by "tỷ"
_SCALE = rf"(?:{'|'.join(_SCALES)})(?:\s+(?:tỷ|tỉ))?"
_WORDS = "|".join(sorted(list(_COMPARATOR_WORDS) + list(_APPROX_WORDS), key=len, reverse=True))
_PATTERN = re.compile(
    rf"(?P<words>(?:(?:{_WORDS})\s+)*)"
    rf"(?P<num>{_NUM})(?![\d.,]\d)"
    rf"(?:\s*%?\s*(?P<conn>[-–]|đến)\s*(?P<high>{_NUM})(?![\d.,]\d))?"
    rf"(?:\s*/\s*(?P<second>{_NUM}))?"
    rf"(?:\s*(?P<pct>%)|\s*(?P<scale>{_SCALE})(?!\w)(?!\s+lệ))?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedNumber:
    """A figure read from Vietnamese text.

    ``value`` is the number as written (before ``scale``); ``value * scale`` is the
    quantity in base units (574 tỷ đồng -> 574 * 1e9 đồng).
    """

    value: float
    comparator: str | None = None
    value_high: float | None = None
    second: float | None = None
    unit: str = ""
    scale: float = 1.0
    approximate: bool = False


def _to_float(token: str) -> float:
    return float(token.replace(".", "").replace(",", "."))


def _canonical(word: str, known) -> str:
    """The known word that ``word`` matched case-insensitively (lower() alone misses "ı" for "i")."""
    lower = word.lower()
    return lower if lower in known else next(k for k in known if re.fullmatch(re.escape(k), word, re.IGNORECASE))


def _from_match(m: re.Match, unit: str) -> ParsedNumber:
    comparator = None
    approximate = False
    for word in re.findall(_WORDS, m.group("words") or "", flags=re.IGNORECASE):
        word = _canonical(word, list(_COMPARATOR_WORDS) + list(_APPROX_WORDS))
        if word in _APPROX_WORDS:
            approximate = True
        else:
            comparator = _COMPARATOR_WORDS[word]
    high = _to_float(m.group("high")) if m.group("high") else None
    if high is not None:
        comparator = "between"
    scale_word = " ".join(_canonical(w, _SCALES) for w in (m.group("scale") or "").split())
    if m.group("pct"):
        unit = "%"
    elif scale_word:
        unit = (scale_word + " " + unit).strip()
    scale = math.prod(_SCALES[w] for w in scale_word.split()) if scale_word else 1.0
    return ParsedNumber(
        value=_to_float(m.group("num")),
        comparator=comparator,
        value_high=high,
        second=_to_float(m.group("second")) if m.group("second") else None,
        unit=unit,
        scale=scale,
        approximate=approximate,
    )


def parse_number(text: str) -> ParsedNumber:
    """Parse one figure written the Vietnamese way.

    The decimal separator is a comma and the thousands separator a dot. A leading
    comparator word ("trên", "tối thiểu", "ít nhất", "hơn", "dưới", ...) gives
    ``comparator``; "khoảng" sets ``approximate``; "9-10%" gives a range
    (``comparator="between"``, ``value_high``); "51,69/85%" gives the reported value
    and, in ``second``, the figure after the slash (the plan target).

    Parameters
    ----------
    text : str
        The figure, e.g. "84,2%", "16.803", "574 tỷ đồng", "trên 80%".

    Returns
    -------
    ParsedNumber

    Raises
    ------
    ValueError
        When the text holds no figure, holds text that is not a comparator word or
        a unit, or uses a dot as a decimal separator.

    Examples
    --------
    >>> parse_number("84,2%").value
    84.2
    >>> parse_number("16.803").value
    16803.0
    >>> p = parse_number("574 tỷ đồng"); (p.value, p.unit, p.scale)
    (574.0, 'tỷ đồng', 1000000000.0)
    >>> p = parse_number("9-10%"); (p.comparator, p.value, p.value_high)
    ('between', 9.0, 10.0)
    >>> p = parse_number("51,69/85%"); (p.value, p.second)
    (51.69, 85.0)
    >>> parse_number("trên 80%").comparator
    '>'
    """
    if not isinstance(text, str):
        raise ValueError(f"parse_number expects text, got {type(text).__name__} {text!r}")
    stripped = " ".join(text.split())
    bad_dot = re.search(r"(?<![\d.])\d+\.(?:\d{1,2}|\d{4,})(?![\d.])", stripped)
    if bad_dot:
        token = bad_dot.group(0)
        raise ValueError(
            f"{text!r}: '{token}' uses a dot as the decimal separator; in Vietnamese the decimal "
            f"separator is a comma and the dot groups thousands (write '{token.replace('.', ',')}')"
        )
    m = _PATTERN.match(stripped)
    if not m or m.start() != 0:
        raise ValueError(
            f"{text!r} is not a figure: expected a number such as '84,2%', '16.803', '574 tỷ đồng', "
            f"optionally after a comparator word such as 'trên' or 'tối thiểu'"
        )
    rest = stripped[m.end():].strip()
    if rest and (m.group("pct") or not rest[0].isalpha()):
        raise ValueError(f"{text!r}: unexpected text {rest!r} after the figure")
    return _from_match(m, rest)


def find_numbers(text: str) -> list[ParsedNumber]:
    """Every figure in a sentence, in order (see :func:`parse_number`).

    >>> [p.value for p in find_numbers("Tỷ lệ hồ sơ tiếp nhận trực tuyến 51,69/85%")]
    [51.69]
    """
    return [p for _, _, p in locate_numbers(text)]


def locate_numbers(text: str) -> list[tuple[int, int, ParsedNumber]]:
    """Every figure in a text with where it stands: ``(start, end, figure)``, in order.

    The span covers what :func:`find_numbers` reads as one figure: its comparator words, the number,
    a range's high end, the figure after a slash, and "%" or a scale word.

    >>> [(s, e, p.value) for s, e, p in locate_numbers("đạt 84,2%; trên 80%")]
    [(4, 9, 84.2), (11, 19, 80.0)]
    """
    out, pos = [], 0
    while True:
        m = _PATTERN.search(text, pos)
        if m is None:
            return out
        p = _from_match(m, "")
        if m.group("high") and (p.value_high < p.value or (
                m.group("conn") == "đến" and "từ" not in (m.group("words") or "").lower())):
            # "12% năm 2020 đến 15%" is two figures, not a range: only "từ a đến b" or "a-b" with a <= b is
            p = ParsedNumber(p.value, None if p.comparator == "between" else p.comparator, None, p.second,
                             p.unit, p.scale, p.approximate)
            out.append((m.start(), m.end("num"), p))
            pos = m.end("num")
            continue
        out.append((m.start(), m.end(), p))
        pos = m.end()


def format_number(value: float, decimals: int | None = None, percent: bool = False, lang: str = "vi") -> str:
    """Write a number the Vietnamese way: "16.803", "84,2", "84,2%" (``lang="en"``: "16,803", "84.2").

    ``decimals=None`` keeps the digits the number needs (up to 4).

    >>> format_number(16803)
    '16.803'
    >>> format_number(84.2, percent=True)
    '84,2%'
    >>> format_number(-3.25, decimals=1)
    '-3,2'
    >>> format_number(16803.5, lang="en")
    '16,803.5'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if decimals is None:
        text = f"{value:,.4f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:,.{decimals}f}"
    if lang != "en":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    if text in ("-0", "-0,0", "-0,00", "-0.0", "-0.00"):
        text = text[1:]
    return text + ("%" if percent else "")


_SWAP = str.maketrans(",.", ".,")
_NUMERIC_RUN = re.compile(r"\d[\d,.]*\d")
_DOT_DECIMAL = re.compile(r"(?<![\d.,])(\d+)\.(\d{1,2}|\d{4,})(?![\d.,])")


def as_vietnamese_numbers(text: str, lang: str = "vi") -> str:
    """Text with its numbers written the Vietnamese way, for reading by :func:`find_numbers`.

    English pages write "4,977" and "0.4096": commas and dots swap. Vietnamese pages sometimes write a
    decimal with a dot ("62.86 điểm"); a dot followed by one, two, or four or more digits cannot group
    thousands, so it is read as the decimal point.

    >>> as_vietnamese_numbers("4,977 stations, DTI 0.4096", "en"), as_vietnamese_numbers("đạt 62.86 điểm; 16.803 người")
    ('4.977 stations, DTI 0,4096', 'đạt 62,86 điểm; 16.803 người')
    """
    if lang == "en":
        return _NUMERIC_RUN.sub(lambda m: m.group(0).translate(_SWAP), text)
    return _DOT_DECIMAL.sub(r"\1,\2", text)


# ranks stated in words ("dẫn đầu", "đứng thứ hai", "ranked third"), read only for rank indicators
_RANK_WORDS = [
    (re.compile(r"dẫn đầu|đứng đầu|(?:hạng|thứ|giải) nhất|\b(?:first|1st|leads?|led|tops?|topped)\b", re.I), 1),
    (re.compile(r"(?:hạng|thứ|giải) nhì|thứ hai|\b(?:second|2nd|runner-up)\b", re.I), 2),
    (re.compile(r"thứ ba\b|\b(?:third|3rd)\b", re.I), 3),
    (re.compile(r"thứ tư\b|\b(?:fourth|4th)\b", re.I), 4),
    (re.compile(r"\b(?:fifth|5th)\b", re.I), 5),
]


def stated_quantities(text: str, lang: str = "vi", ranks: bool = False) -> list[tuple[float, str | None]]:
    """Every quantity a sentence states, scaled to base units, with the comparator word before it.

    The low and high ends of a range and the figure after a slash count too ("51,69/85%" states
    51.69 and 85). Quantities are rounded to 6 decimals so that they compare exactly. ``lang`` is the
    language the text was written in (numbers are read its way, see :func:`as_vietnamese_numbers`);
    ``ranks`` also reads ranks stated in words ("dẫn đầu" is 1, "đứng thứ hai" 2).

    >>> stated_quantities("tối thiểu 20% vào GRDP; 574 tỷ đồng; khoảng 9-10%")
    [(20.0, '>='), (574000000000.0, None), (9.0, 'between'), (10.0, 'between')]
    >>> stated_quantities("TP Hà Nội dẫn đầu", ranks=True), stated_quantities("a total of 4,977 stations", "en")
    ([(1.0, None)], [(4977.0, None)])
    """
    out = []
    for p in find_numbers(as_vietnamese_numbers(text, lang)):
        for v in (p.value, p.value_high, p.second):
            if v is not None:
                out.append((round(v * p.scale, 6), p.comparator if v != p.second else None))
    if ranks:
        out += [(float(n), None) for pattern, n in _RANK_WORDS if pattern.search(text)]
    return out
