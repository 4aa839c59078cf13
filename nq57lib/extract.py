"""Candidate rows from a Vietnamese document (``nq57 extract``): the tool proposes, a person decides.

A document (UTF-8 text, or a saved web page) is read line by line; every figure that
:func:`~nq57lib.numbers.locate_numbers` finds is kept unless it is page furniture (dates, times, document
numbers, view counters, phone numbers, article ids, durations, a count of the document's own targets,
a figure about another province) or off the topic (no keyword of an indicator or a pillar in its sentence).
Each kept figure becomes a row: ``kind`` (target or observation) from the wording, the target year or the
period from the nearest time phrase, the indicator whose keywords (data/indicators.csv ``keywords``) match
its clause best, the unit, and the shortest clause that states it, exactly as written, as ``quote``.

``confidence`` (0-1) adds up what supports the row (see :func:`extract`); rows below :data:`THRESHOLD`
are marked for a closer look, never dropped.
"""
from __future__ import annotations

import datetime as _dt
import html
import html.parser
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import EXIT_INVALID, Nq57Error
from .names import fold
from .numbers import ParsedNumber, as_vietnamese_numbers, locate_numbers, stated_quantities

#: the columns of ``nq57 extract`` (CSV header, JSON keys)
COLUMNS = ("kind", "province", "indicator", "year", "period_end", "period", "comparator", "value",
           "value_high", "unit", "quote", "confidence")
#: rows with a confidence below this are marked for a closer look (``marked``), not dropped
THRESHOLD = 0.5
#: the least keyword score that names an indicator (a four-letter word in the quote)
MIN_SCORE = 4

_UNIT_SCALE = {"vnd_billion": 1e9, "vnd_million": 1e6, "vnd_million_per_month": 1e6}


class DocumentError(Nq57Error):
    """A document cannot be read as text (missing, a folder, binary, not UTF-8)."""

    exit_code = EXIT_INVALID


# ------------------------------------------------------------------ reading a document

@dataclass
class Document:
    """A document as text: ``text`` is what quotes are taken from (NFC; a web page's visible text)."""

    path: str
    text: str
    html: bool = False

    @property
    def name(self) -> str:
        return Path(self.path).name if self.path else "(text)"


_BINARY = ((b"%PDF", "a PDF document"), (b"PK\x03\x04", "an Excel workbook, Word document or zip archive"),
           (b"\xd0\xcf\x11\xe0", "an old Word or Excel file"), (b"\x89PNG", "a PNG image"),
           (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"), (b"\x7fELF", "a program"),
           (b"\x1f\x8b", "a gzip archive"))
_HTML_SUFFIXES = (".html", ".htm", ".xhtml")


def read_document(path: str | Path) -> Document:
    """Read a UTF-8 text file or a saved web page (HTML: its visible text, one block a line).

    Raises
    ------
    DocumentError
        One line saying why the file cannot be read and what to do: it is missing, a folder, a
        binary file (PDF, Word, Excel, image), or text in another encoding than UTF-8.
    """
    p = Path(path)
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        raise DocumentError(f"{p}: no such file; check the path") from None
    except OSError as e:
        raise DocumentError(f"{p}: cannot be read ({e.strerror})") from None
    if stat.S_ISDIR(mode):
        raise DocumentError(f"{p} is a folder, not a document: give the path of a .txt or .html file")
    if not stat.S_ISREG(mode):
        raise DocumentError(f"{p} is not a regular file (a pipe or a device): save the document to a file first")
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise DocumentError(f"{p}: cannot be read ({e.strerror})") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Windows Notepad's "Unicode"
        text = raw.decode("utf-16")
    else:
        kind = next((k for magic, k in _BINARY if raw.startswith(magic)), "")
        if kind or b"\x00" in raw[:65536]:
            raise DocumentError(f"{p} is {kind or 'a binary file'}, not text: save the document as text (.txt, "
                                f"UTF-8) or as a web page (.html) and extract from that")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            raise DocumentError(f"{p} is not UTF-8 text (byte {raw[e.start]:#04x} on line {line}; it looks like "
                                f"a legacy code page such as cp1258 or cp1252): save it again as UTF-8") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    is_html = p.suffix.lower() in _HTML_SUFFIXES or bool(re.match(r"\s*(?:<!doctype html|<html)", text, re.I))
    if is_html:
        text = html_to_text(text)
    return Document(str(p), unicodedata.normalize("NFC", text), is_html)


_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "nav", "footer", "aside", "form", "button",
              "select", "iframe", "head"}
_BLOCK_TAGS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
               "article", "header", "main", "blockquote", "figcaption", "figure", "dd", "dt", "dl", "pre", "hr",
               "title", "tbody", "thead", "caption"}


class _TextParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.in_title = False
        self.title = ""

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self.in_title = True
        elif tag in _SKIP_TAGS:
            self.skip += 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" | ")

    def handle_startendtag(self, tag, attrs):
        if tag in ("br", "hr"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        elif tag in _SKIP_TAGS and self.skip:
            self.skip -= 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        elif not self.skip:
            self.parts.append(re.sub(r"[ \t\xa0\n]+", " ", data))


def html_to_text(markup: str) -> str:
    """A web page's visible text: the title first, then one block (paragraph, heading, list item, table
    row) a line; scripts, styles, navigation, footers, asides and forms are left out.

    >>> html_to_text("<html><head><title>Tin</title></head><body><p>Đạt&nbsp;84,2%</p><nav>Trang chủ</nav></body></html>")
    'Tin\\nĐạt 84,2%'
    """
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    lines = [" ".join(line.split()).strip(" |") for line in "".join(parser.parts).split("\n")]
    title = " ".join(parser.title.split())
    body = [line for line in lines if line]
    if title and (not body or body[0] != title):
        body.insert(0, title)
    return "\n".join(body)


# ------------------------------------------------------------------ what is not a figure

_Y = r"(?:19|20)\d\d"
_FLAGS = re.IGNORECASE
_FURNITURE = [re.compile(rx, _FLAGS) for rx in (
    r"\d{1,2}\s*[-–]\s*\d{1,2}\s*/\s*\d{1,2}(?:\s*/\s*\d{2,4})?",                  # 27-28/7/2020
    r"(?<![\d.,])(?:0?[1-9]|[12]\d|3[01])\s*/\s*(?:0?[1-9]|1[0-2])(?:\s*/\s*\d{4}|\s*/\s*\d{2}(?!\d))?"
    r"(?!\s*%)(?![\d.,]*\d)",                                                         # 22/12/2024, 11/12
    r"\d{1,2}\s*:\s*\d{2}(?::\d{2})?",                                                # 09:36
    r"\d{1,2}\s*giờ(?:\s*\d{1,2}\s*phút)?",                                           # 13 giờ 30 phút
    r"\d+(?:\s*/\s*\d{2,4})?\s*[-/]\s*[A-ZĐ][A-ZĐa-zđ0-9/-]*",                      # 154/KH-UBND, 142/2024/QH15
    r"(?:nghị quyết|quyết định|kế hoạch|chương trình(?: hành động)?|đề án|thông tư|nghị định|công văn|chỉ thị"
    r"|kết luận|tờ trình|luật|hướng dẫn|tổ giúp việc|ban chỉ đạo nghị quyết)\s+(?:số\s*:?\s*)?\d+",
    r"(?<![\w])số\s*:\s*\d+",                                                           # Số: 47
    r"(?:lượt xem|lượt tải|lượt thích|lượt chia sẻ|bình luận|đang truy cập|đang online|hôm nay|trong tuần|tất cả"
    r"|tháng hiện tại|tháng trước|tổng lượt truy cập|thời gian chờ|lượt đọc)\s*:?\s*[\d.,]+",
    r"(?:điểm của bài viết là|đánh giá)\s*:?\s*\d+(?:\s+trong\s+\d+(?:\s+đánh giá)?)?|\d+\s+trong\s+\d+\s+đánh giá",
    r"(?:điện thoại|đt|fax|hotline|sđt|tel)\s*:?\s*[\d .()+-]{6,}",
    r"\(?\+?\d{2,4}\)?[ .]\d{3,4}[ .]\d{3,4}(?:[ .]\d{2,4})?(?![\d%])",              # 0214.3840.044
    r"(?:https?://|www\.)\S+|\S+@\S+",
    r"(?:tháng|quý)\s+(?:\d{1,2}|IV|I{1,3})(?!\w)",                                   # "hết tháng 10" with no year
)]
_DURATION_AFTER = re.compile(r"\s*(?:năm|tháng|tuần|ngày|giờ|phút|giây|bậc)(?!\w)", _FLAGS)   # "tăng 34 bậc": a change
_STRUCTURE_AFTER = re.compile(
    r"\s*(?:chỉ tiêu|nhiệm vụ,? giải pháp|nhóm (?:nhiệm vụ|giải pháp)|giải pháp|trọng điểm|điểm nghẽn|nội dung"
    r"|mục tiêu|khâu đột phá|đột phá|trụ cột|chỉ số (?:chính|thành phần|con)|tiêu chí|cấp(?!\s+(?:tỉnh|huyện|xã)))(?!\w)",
    _FLAGS)
_AGAINST_PLAN_AFTER = re.compile(r"\s*so với (?:kế hoạch|chỉ tiêu|mục tiêu)", _FLAGS)
_ORDINAL_BEFORE = re.compile(r"(?:(?<!\w)ngày|lần thứ|khóa|khoá|mã|phiên bản|mức độ|cấp độ)\s*:?\s*$", _FLAGS)


def _overlaps(a: int, b: int, spans) -> bool:
    return any(s < b and a < e for s, e in spans)


# ------------------------------------------------------------------ time phrases

@dataclass
class _Time:
    start: int
    end: int
    year: int | None = None      # the year the phrase names
    period_end: str = ""         # the last day it covers (YYYY-MM-DD), "" when rough
    period: str = ""             # as data files word it
    horizon: bool = False        # "đến năm 2030", "vào năm", "tầm nhìn", "giai đoạn 2026-2030": a target's horizon
    reach: bool = False          # "đến năm 2030", "vào năm", "tầm nhìn": worded as a target whatever the year
    inferred: bool = False       # the year was taken from --published
    asof: bool = False           # "đến nay", "hiện nay": the date of the document, for what follows

    def future(self, ref: _dt.date, dated: bool = True) -> bool:
        """A time still to come: after the reference year; a horizon ("đến năm 2025") also in that year,
        and, when the document's date is unknown, whatever its year (a plan names its horizon so)."""
        if self.year is None:
            return False
        return self.year > ref.year or (self.horizon and self.year == ref.year) or (self.reach and not dated)


#: "hiện" as "now", not the second syllable of "thực hiện" (to carry out)
_NOW = r"(?<!thực )(?<!\w)hiện\s+"
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def _month_end(year: int, month: int) -> str:
    if not 1 <= month <= 12:
        return ""
    nxt = _dt.date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - _dt.timedelta(days=1)).isoformat()


def _time_phrases(text: str, published: _dt.date | None) -> list[_Time]:
    out: list[_Time] = []
    taken: list[tuple[int, int]] = []

    def add(m, t: _Time):
        if _overlaps(m.start(), m.end(), taken):
            return
        before = text[max(0, m.start() - 8): m.start()].lower()
        if before.rstrip().endswith("so với"):  # a baseline ("tăng 30% so với giai đoạn 2021-2025"), not a time
            taken.append((m.start(), m.end()))
            return
        taken.append((m.start(), m.end()))
        out.append(t)

    for m in re.finditer(rf"(?P<pre>(?:tính\s+)?(?:đến\s+)?(?:hết|cuối|trong)\s+)?quý\s+(?P<q>IV|I{{1,3}}|[1-4])"
                         rf"(?:\s*/\s*|\s+năm\s+)(?P<y>{_Y})(?!\d)", text, _FLAGS):
        q = m.group("q").lower()
        q = _ROMAN.get(q) or int(q)
        y = int(m.group("y"))
        pre = "hết " if m.group("pre") and "hết" in m.group("pre").lower() else ""
        add(m, _Time(m.start(), m.end(), y, _month_end(y, 3 * q), f"{pre}Quý {q}/{y}".capitalize()
                     if not pre else f"hết Quý {q}/{y}"))
    for m in re.finditer(rf"(?P<n>\d{{1,2}})\s+tháng\s+(?:đầu\s+)?năm\s+(?P<y>{_Y})(?!\d)", text, _FLAGS):
        y, n = int(m.group("y")), int(m.group("n"))
        add(m, _Time(m.start(), m.end(), y, _month_end(y, n), f"{n} tháng đầu năm {y}"))
    for m in re.finditer(rf"(?P<pre>(?:tính\s+)?(?:từ đầu năm\s+)?(?:đến|tới)\s+(?:hết\s+|cuối\s+)?|hết\s+|cuối\s+)?"
                         rf"tháng\s+(?P<m>\d{{1,2}})(?:\s*/\s*|\s+năm\s+)(?P<y>{_Y})(?!\d)", text, _FLAGS):
        y, mo = int(m.group("y")), int(m.group("m"))
        pre = " ".join((m.group("pre") or "").lower().split())
        words = "đến cuối tháng" if "cuối" in pre else "đến hết tháng" if "hết" in pre else \
            "đến tháng" if pre.startswith(("đến", "tới", "tính")) else "tháng"
        period = f"01-{mo:02d}/{y}" if "từ đầu năm" in pre else f"{words} {mo}/{y}"
        add(m, _Time(m.start(), m.end(), y, _month_end(y, mo), period))
    for m in re.finditer(rf"(?:tính\s+)?(?:đến|tới)\s+(?:hết\s+)?(?:ngày\s+)?(?P<d>\d{{1,2}})/(?P<m>\d{{1,2}})/(?P<y>{_Y})",
                         text, _FLAGS):
        y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
        try:
            end = _dt.date(y, mo, d).isoformat()
        except ValueError:
            continue
        add(m, _Time(m.start(), m.end(), y, end, f"đến {d}/{mo}/{y}"))
    for m in re.finditer(rf"(?P<pre>(?:giai đoạn|thời kỳ|nhiệm kỳ)\s+)?(?P<a>{_Y})\s*[-–]\s*(?P<b>{_Y})(?!\d)", text, _FLAGS):
        a, b = int(m.group("a")), int(m.group("b"))
        if a < b:
            add(m, _Time(m.start(), m.end(), b, f"{b}-12-31", f"{a}-{b}", horizon=True))
    for m in re.finditer(rf"(?P<pre>(?:tầm nhìn|định hướng)\s+)?(?P<rel>(?:đến|tới|vào|trong|hết|cuối|đầu|giữa)\s+)?"
                         rf"(?P<n>năm\s+)?(?P<y>{_Y})(?![\d.,/]\d|\s*%)", text, _FLAGS):
        if not m.group("n") and not m.group("rel"):
            continue
        y = int(m.group("y"))
        rel = (m.group("rel") or "").strip().lower()
        horizon = bool(m.group("pre")) or rel in ("đến", "tới", "vào")
        if rel in ("đầu", "giữa"):
            add(m, _Time(m.start(), m.end(), y, "", f"{rel} năm {y}", horizon=False))
        elif rel in ("cuối", "hết"):
            add(m, _Time(m.start(), m.end(), y, f"{y}-12-31", f"cuối năm {y}"))
        else:
            add(m, _Time(m.start(), m.end(), y, f"{y}-12-31", str(y), horizon=horizon, reach=horizon))
    if published is not None:
        for m in re.finditer(r"(?P<pre>(?:tính\s+)?(?:từ đầu năm\s+)?(?:đến|tới)\s+(?:hết\s+|cuối\s+)?|hết\s+|cuối\s+)"
                             r"tháng\s+(?P<m>\d{1,2})(?!\d|\s*/\s*\d|\s+năm)", text, _FLAGS):
            mo = int(m.group("m"))
            if not 1 <= mo <= 12:
                continue
            y = published.year if mo <= published.month else published.year - 1
            pre = " ".join(m.group("pre").lower().split())
            period = f"01-{mo:02d}/{y}" if "từ đầu năm" in pre else f"đến hết tháng {mo}/{y}"
            add(m, _Time(m.start(), m.end(), y, _month_end(y, mo), period, inferred=True))
        for m in re.finditer(rf"(?:tính\s+)?(?:đến|tới)\s+(?:nay|thời điểm (?:này|hiện tại))|{_NOW}(?:nay|tại)(?!\w)"
                             rf"|{_NOW}(?:có|đã)(?!\w)|(?<=, )hiện(?=,)|^hiện(?=,)", text, _FLAGS | re.MULTILINE):
            p = published
            add(m, _Time(m.start(), m.end(), p.year, p.isoformat(), f"đến {p.day}/{p.month}/{p.year}", inferred=True,
                         asof=True))
    return sorted(out, key=lambda t: t.start)


# ------------------------------------------------------------------ target or observation

_TARGET_CUES = re.compile(
    r"phấn đấu|mục tiêu|chỉ tiêu|tầm nhìn|định hướng|đặt ra|đề ra|hướng tới|hướng đến|tối thiểu|ít nhất|không dưới"
    r"|không thấp hơn|cần đạt|phải đạt|sẽ đạt|sẽ|(?<!so với )kế hoạch|quy hoạch|đề án|chiến lược|chương trình hành động|phân bổ"
    r"|bố trí|tiến tới|dự kiến|dự chi|kỳ vọng|(?:thuộc|nằm trong|vào|trong) (?:nhóm|tốp|top)", _FLAGS)
_OBS_CUES = re.compile(
    rf"đã đạt|ước đạt|ước tính|đạt được|đã có|{_NOW}(?:có|đã|nay|tại)(?!\w)|(?<=, )hiện(?=,)|toàn tỉnh có"
    r"|toàn tỉnh đã|cả tỉnh có|(?<!\w)đã(?!\w)|tính đến|đến nay|xếp thứ|xếp hạng|đứng thứ|(?<!\w)còn(?!\w)|kết quả"
    r"|thực hiện được|hoàn thành|năm qua", _FLAGS)


def _cues(text: str) -> list[tuple[int, str]]:
    found = [(m.start(), "target") for m in _TARGET_CUES.finditer(text)]
    found += [(m.start(), "observation") for m in _OBS_CUES.finditer(text)]
    return sorted(found)


# ------------------------------------------------------------------ keywords: indicators, pillars, provinces

_TONE_PAIRS = {"oá": "óa", "oà": "òa", "oả": "ỏa", "oã": "õa", "oạ": "ọa", "oé": "óe", "oè": "òe", "oẻ": "ỏe",
               "oẽ": "õe", "oẹ": "ọe", "uý": "úy", "uỳ": "ùy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy"}
_TONE_RX = re.compile("|".join(_TONE_PAIRS))


def _matchable(text: str) -> str:
    """Lower case, with the tone mark where current spelling puts it ("hoá" and "hóa" alike)."""
    return _TONE_RX.sub(lambda m: _TONE_PAIRS[m.group(0)], text.lower())


def _terms(spec: str) -> list[tuple[str, ...]]:
    """Keyword alternatives from a cell: ``;`` separates alternatives, ``+`` joins terms that must all occur."""
    alts = []
    for alt in str(spec or "").split(";"):
        terms = tuple(_matchable(t.strip()) for t in alt.split("+") if t.strip())
        if terms:
            alts.append(terms)
    return alts


class _Keywords:
    """Indicators and pillars by their keywords (data/indicators.csv and data/pillars.csv ``keywords``)."""

    def __init__(self, indicators: pd.DataFrame, pillars: pd.DataFrame | None):
        self.units = dict(zip(indicators["id"], indicators["unit"]))
        self.alts: dict[str, list[tuple[str, ...]]] = {}
        for row in indicators.to_dict("records"):
            if row["unit"] == "milestone":
                continue
            self.alts[row["id"]] = _terms(row.get("keywords", "")) + [(_matchable(str(row["name_vi"])),)]
        topic = [a for alts in self.alts.values() for a in alts]
        if pillars is not None and "keywords" in pillars:
            for spec in pillars["keywords"].fillna(""):
                topic += _terms(spec)
        self.topic = topic
        self._rx: dict[str, re.Pattern] = {}

    def _find(self, term: str, text: str) -> bool:
        rx = self._rx.get(term)
        if rx is None:
            rx = self._rx[term] = re.compile(rf"(?<!\w){re.escape(term)}(?!\w)")
        return rx.search(text) is not None

    def on_topic(self, sentence: str) -> bool:
        low = _matchable(sentence)
        return any(all(self._find(t, low) for t in alt) for alt in self.topic)

    def best(self, places: list[tuple[str, float]], unit: str) -> tuple[str, float]:
        """The indicator whose keywords match best, with its score: each term counts its length times
        the weight of the nearest place it occurs in (the quote, the clause, the sentence)."""
        places = [(_matchable(p), w) for p, w in places]
        best, best_score = "", 0.0
        for ind, alts in self.alts.items():
            if not _compatible(unit, self.units[ind]):
                continue
            for alt in alts:
                score, in_quote, total = 0.0, 0.0, 0.0
                for term in alt:
                    w = next((w for text, w in places if self._find(term, text)), 0.0)
                    if not w:
                        break
                    score += _weight(term) * w
                    total += _weight(term)
                    in_quote += _weight(term) if w == places[0][1] else 0.0
                else:
                    score *= 0.5 + 0.5 * in_quote / total  # words outside the quote: a weaker match
                    if score > best_score:
                        best, best_score = ind, score
        return best, best_score


def _weight(term: str) -> float:
    """What a matched term is worth: its length; an acronym ("tfp", "hdi", "dti") or a number ("63", the
    base of a rank) is worth more than its few characters, since it names one thing."""
    short = term.isascii() and (term.isalpha() or term.isdigit()) and len(term) <= 5
    return max(len(term), 10) if short else len(term)


def _compatible(detected: str, unit: str) -> bool:
    if detected == unit:
        return True
    if detected.startswith("vnd_") and unit.startswith("vnd_"):
        return detected != "vnd_million_per_month" and unit != "vnd_million_per_month"
    if detected == "":
        return unit in ("index", "count", "rank", "percent")
    return detected in ("count", "decimal") and unit == "index"


class _Provinces:
    """Province names and aliases as they stand in a text; families of units (a merged unit, its
    predecessors, and units that share a name)."""

    def __init__(self, provinces: pd.DataFrame):
        self.rows = provinces.set_index("slug")
        names: dict[str, str] = {}
        # a name in a text is the unit of that name today ("Lào Cai"), not the one before the merger
        for old in (False, True):
            for row in provinces.to_dict("records"):
                if ("(cũ)" in row["name"]) != old:
                    continue
                aliases = [a.strip() for a in str(row.get("aliases") or "").split(";")]
                for name in [re.sub(r"\s*\(cũ\)\s*$", "", row["name"])] + aliases:
                    if len(name) >= 3 and not (name.isascii() and name.islower()):  # not "national"
                        names.setdefault(name.lower(), row["slug"])
        self.names = names
        alts = sorted(names, key=len, reverse=True)
        self.rx = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(a) for a in alts) + r")(?!\w)", re.IGNORECASE)
        self.national = set(provinces.loc[provinces["level"] == "national", "slug"])

    def named(self, sentence: str) -> list[str]:
        out = []
        for m in self.rx.finditer(sentence):
            slug = self.names[m.group(0).lower()]
            if slug not in out:
                out.append(slug)
        return out

    def _base(self, slug: str) -> str:
        return re.sub(r" cu$", "", fold(self.rows.loc[slug, "name"]))

    def same(self, a: str, b: str) -> bool:
        return a == b or self._base(a) == self._base(b)

    def related(self, a: str, b: str) -> bool:
        """b merged into a, or a into b."""
        sa, sb = self.rows.loc[a, "successor"] or "", self.rows.loc[b, "successor"] or ""
        return sa == b or sb == a


# ------------------------------------------------------------------ units and values

def _detect_unit(p: ParsedNumber, after: str, before: str, sentence: str) -> str:
    after_l, before_l = after.lower(), before.lower()
    if p.unit == "%":
        return "percent"
    if p.second in (63.0, 34.0) and p.value <= p.second and float(p.value).is_integer() and p.scale == 1:
        return "rank"   # "28/63", "14/34": a place among the 63 provinces (34 since the merger)
    if p.scale > 1 and re.match(r"\s*(?:tỷ\s+|tỉ\s+)?đồng", after_l):
        if re.match(r"\s*đồng\s*/\s*tháng", after_l) and p.scale == 1e6:
            return "vnd_million_per_month"
        return "vnd_billion" if p.scale >= 1e9 else "vnd_million"
    if re.match(r"\s*(?:tỷ|tỉ)\s+đồng", after_l):
        return "vnd_billion"
    if re.match(r"\s*triệu\s+đồng", after_l):
        return "vnd_million"
    if re.match(r"[^,;.]{0,30}?(?:/\s*(?:1\s+)?vạn|trên\s+(?:1\s+)?vạn|/\s*10\.000)\s+dân", after_l):
        return "per_10k_people"
    if re.search(r"(?:xếp|đứng)(?:\s+(?:hạng|thứ))?\s*(?:thứ\s*)?$|(?<!\w)hạng\s*$|vị trí(?:\s+thứ)?\s*$|(?:top|tốp)\s*$"
                 r"|nhóm\s*$", before_l):
        return "rank"
    if re.match(r"\s*điểm(?!\s*cầu)", after_l) and re.search(r"chỉ số|điểm số|pci|pii|dti|papi|sipas|par index", sentence.lower()):
        return "index"
    whole = float(p.value * p.scale).is_integer()
    return "count" if whole else "decimal"


def _number(v: float) -> str:
    """A number as data files write it: a dot for decimals, no thousands separator."""
    text = f"{v:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# ------------------------------------------------------------------ document layout

@dataclass
class _Line:
    start: int
    end: int
    heading: bool
    sentences: list[tuple[int, int]] = field(default_factory=list)


_SENTENCE_END = re.compile(r"(?<=[.!?…])(?:/\.)?\s+(?=[\"“'(\[]?[A-ZÀ-ỸĐ0-9])|(?<=\./\.)\s*")


def _layout(text: str) -> list[_Line]:
    lines = []
    pos = 0
    for raw in text.split("\n"):
        start, end = pos, pos + len(raw)
        pos = end + 1
        stripped = raw.strip()
        if not stripped:
            continue
        start += len(raw) - len(raw.lstrip())
        end -= len(raw) - len(raw.rstrip())
        words = stripped.split()
        heading = len(words) <= 12 and stripped[-1] not in ".;:!?,"
        line = _Line(start, end, heading)
        s = start
        for m in _SENTENCE_END.finditer(text, start, end):
            if m.start() > s:
                line.sentences.append((s, m.start()))
            s = m.end()
        if s < end:
            line.sentences.append((s, end))
        lines.append(line)
    return lines


def _clauses(text: str, s: int, e: int) -> list[tuple[int, int]]:
    out, a = [], s
    for m in re.finditer(r";", text[s:e]):
        out.append((a, s + m.start()))
        a = s + m.end()
    out.append((a, e))
    return out


_BOUNDARY = re.compile(r",\s+|:\s+|;\s+|\s+và\s+|\s+với\s+(?=\d)|\s+\|\s+")


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    """Without the separators, a leading "và"/"với", and an unclosed parenthesis at either end."""
    while a < b and text[a] in " ,;:|-–\t":
        a += 1
    m = re.match(r"(?:và|với|cùng)\s+(?=\S)", text[a:b])
    if m and any(c.isdigit() for c in text[a + m.end(): a + m.end() + 4]):
        a += m.end()
    while b > a and text[b - 1] in " ,;:|-–./\t(":
        b -= 1
    if text[a:b].count("(") > text[a:b].count(")"):  # an unclosed parenthesis: stop before it
        cut = text.rfind("(", a, b)
        if cut > a:
            b = cut
            while b > a and text[b - 1] == " ":
                b -= 1
    return a, b


def _boundaries(text: str, a: int, b: int) -> list[re.Match]:
    """Clause-like boundaries in text[a:b], leaving out those inside parentheses."""
    out, depth, last = [], 0, a
    for m in _BOUNDARY.finditer(text, a, b):
        depth += text.count("(", last, m.start()) - text.count(")", last, m.start())
        last = m.start()
        if depth <= 0:
            out.append(m)
    return out


_TAIL = re.compile(r",\s+|\s+\((?=[^)]*\d)")


def _segments(text: str, cs: int, ce: int, figs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The shortest stretch of a clause that states each figure: from the boundary before it (a comma,
    "và" or "với" after the previous figure; a colon when there is none, so that "cấp tỉnh: 98/95%" keeps
    its label) to the boundary before the next one. A long lead-in or tail is cut at a comma, and a
    parenthesis with a number after the figure is left out."""
    splits = []
    for (_, e1), (s2, _) in zip(figs, figs[1:]):
        found = _boundaries(text, e1, s2)
        commas = [m for m in found if not m.group(0).startswith(":")]
        found = commas or found
        splits.append((found[-1].start(), found[-1].end()) if found else (s2, s2))
    out = []
    for i, (s, e) in enumerate(figs):
        a = splits[i - 1][1] if i else cs
        b = splits[i][0] if i < len(splits) else ce
        if s - a > 90:  # a long lead-in: start after its last boundary that leaves three words or more
            cuts = [m.end() for m in _boundaries(text, a, s) if len(text[m.end():s].split()) >= 3]
            if cuts:
                a = cuts[-1]
        paren = re.compile(r"\s+\((?=[^)]*\d)").search(text, e, b)
        if paren:
            b = paren.start()   # "98/95% (vượt 3% so với kế hoạch)"
        elif b - s > 150:       # a long tail: stop at its first comma that keeps some words
            tail = [m for m in re.finditer(r",\s+", text[s:b]) if m.start() >= 40]
            if tail:
                b = s + tail[0].start()
        if not text[a:s].strip() and len(text[e:b].split()) < 2:
            # the figure alone: take the words before it too
            prev = [m.end() for m in _boundaries(text, cs, max(cs, a - 1))]
            a = prev[-1] if prev else cs
        out.append(_trim(text, a, b))
    return out


# ------------------------------------------------------------------ extract

@dataclass
class _Figure:
    start: int          # the figure's span, comparator words included
    end: int
    number: ParsedNumber
    line: _Line
    sentence: tuple[int, int]
    clause: tuple[int, int]
    province: str = ""


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame(columns=list(COLUMNS) + ["marked", "start", "end", "number_start", "number_end"])


def extract(document: Document | str | Path, ds=None, province: str | None = None,
            published: str | _dt.date | None = None, source_id: str | None = None,
            lang: str | None = None) -> pd.DataFrame:
    """Candidate rows for every figure a document states about S&T, innovation, DX or the digital economy.

    Parameters
    ----------
    document : Document, or the path of a .txt/.html file
    ds : Dataset, optional
        The data whose indicators, keywords, pillars and provinces are used (default: ``load()``).
    province : str, optional
        The unit the document is about (a name as :meth:`Dataset.find_province` takes it). Without it,
        each row's unit is the one its sentence names, else the one the document names most.
    published : "YYYY-MM-DD", optional
        The document's date: what "đến nay", "hiện nay" and a month without a year ("hết tháng 10") refer
        to, and the date before which a year is past. Without it these stay empty, and today is the date.
    source_id : str, optional
        A source in sources.csv: its date and language are used when ``published``/``lang`` are not given.
    lang : "vi" or "en", optional
        How numbers are written (English pages: "4,977"); default the source's language, else "vi".

    Returns
    -------
    DataFrame
        One row per candidate in document order, the columns :data:`COLUMNS` (``kind``, ``province``,
        ``indicator`` (empty when no indicator matches: the quote keeps the phrase), ``year`` (targets),
        ``period_end`` and ``period`` (observations), ``comparator``, ``value``, ``value_high``, ``unit``,
        ``quote``, ``confidence``) as text, then ``marked`` (confidence below :data:`THRESHOLD`) and the
        character offsets of the quote (``start``, ``end``) and of the figure (``number_start``,
        ``number_end``) in ``document.text``.

        ``confidence`` is the sum of: 0.2 for a figure on the topic; up to 0.35 for the indicator match
        (by the length of the matched keywords, less when they stand outside the quote); 0.2 when the
        kind comes from the words of its own sentence (0.15 from the paragraph, 0.1 from the paragraph
        before, a heading or the title, 0 by default: observation); 0.15 when the year or period comes
        from its own sentence (0.1 from around it, 0.05 when taken from ``published``); 0.1 when the unit
        is clear and agrees with the indicator's. A row without an indicator stays below the threshold
        (at most 0.45): it cannot enter data/ as it is.

    Examples
    --------
    >>> rows = extract(Document("", "Kế hoạch của tỉnh Lai Châu\\nĐến năm 2030, kinh tế số chiếm tối thiểu 20% GRDP."))
    >>> rows.loc[0, ["kind", "province", "indicator", "year", "comparator", "value", "unit"]].tolist()
    ['target', 'Lai Châu', 'digital_economy_share', '2030', '>=', '20', 'percent']
    >>> rows.loc[0, "quote"]
    'Đến năm 2030, kinh tế số chiếm tối thiểu 20% GRDP'
    """
    if ds is None:
        from .dataset import load
        ds = load()
    doc = document if isinstance(document, Document) else read_document(document)
    text = doc.text
    src = None
    if source_id and source_id in set(ds.sources["id"]):
        src = ds.sources.set_index("id").loc[source_id]
    if published is None and src is not None and pd.notna(src["published"]):
        published = pd.Timestamp(src["published"]).date()
    if isinstance(published, str) and published:
        published = _dt.date.fromisoformat(published)
    lang = lang or (src["language"] if src is not None else "vi")
    ref = published or _dt.date.today()

    def future(t: _Time) -> bool:
        return t.future(ref, dated=published is not None)

    kw = _Keywords(ds.indicators, ds.pillars)
    pv = _Provinces(ds.provinces)
    arg_slug = ds.find_province(province).name if province else None

    lines = _layout(text)
    if not lines:
        return _empty_frame()
    furniture = [(m.start(), m.end()) for rx in _FURNITURE for m in rx.finditer(text)]
    times = _time_phrases(text, published)
    time_spans = [(t.start, t.end) for t in times]
    cues = _cues(text)
    readable = as_vietnamese_numbers(text, lang)

    figures: list[_Figure] = []
    line_of = iter(lines)
    line = next(line_of)
    for s, e, p in locate_numbers(readable):
        while s >= line.end:
            line = next(line_of, None)
            if line is None:
                break
        if line is None:
            break
        if s < line.start:
            continue
        digit = s + next(i for i, c in enumerate(text[s:e]) if c.isdigit())
        if digit > s and text[s - 1: s].isalpha():  # comparator words glued to a word before: drop them
            s, p = digit, ParsedNumber(p.value, None if p.comparator != "between" else p.comparator, p.value_high,
                                       p.second, p.unit, p.scale, p.approximate)
        sentence = next(se for se in line.sentences if se[0] <= s < se[1]) if any(
            se[0] <= s < se[1] for se in line.sentences) else (line.start, line.end)
        clause = next(c for c in _clauses(text, *sentence) if c[0] <= s <= c[1])
        if _not_a_figure(text, s, e, digit, p, line, furniture, time_spans):
            continue
        # the topic of a list is in its lead-in; the topic of a lead-in may be in the sentence after it
        near = [se for se in line.sentences if se[1] <= sentence[0]][-2:] + \
            [se for se in line.sentences if se[0] >= sentence[1]][:1]
        if not any(kw.on_topic(text[a:b]) for a, b in [sentence] + near):
            continue
        figures.append(_Figure(s, e, p, line, sentence, clause))

    main = _main_province(pv, text, lines)
    kept: list[_Figure] = []
    for f in figures:
        named = [n for n in pv.named(text[f.sentence[0]:f.sentence[1]]) if n not in pv.national]
        national = [n for n in pv.named(text[f.sentence[0]:f.sentence[1]]) if n in pv.national]
        if arg_slug:
            if not named or any(pv.same(n, arg_slug) for n in named):
                f.province = arg_slug
            else:
                related = [n for n in named if pv.related(arg_slug, n)]
                if not related:
                    continue  # about another province
                f.province = related[0]
        else:
            f.province = named[0] if named else (national[0] if national and not main else main)
        kept.append(f)

    by_clause: dict[tuple[int, int], list[_Figure]] = {}
    for f in kept:
        by_clause.setdefault(f.clause, []).append(f)
    quotes: dict[int, tuple[int, int]] = {}
    for clause, figs in by_clause.items():
        for f, seg in zip(figs, _segments(text, clause[0], clause[1], [(f.start, f.end) for f in figs])):
            quotes[id(f)] = seg

    doc_line = lines[0]
    rows = []
    for f in kept:
        a, b = quotes[id(f)]
        rows += _rows(text, f, a, b, lines, doc_line, cues, times, future, kw, pv, lang)
    if not rows:
        return _empty_frame()
    frame = pd.DataFrame(rows)
    frame["marked"] = frame["confidence"].astype(float) < THRESHOLD
    return frame[list(COLUMNS) + ["marked", "start", "end", "number_start", "number_end"]].reset_index(drop=True)


def _not_a_figure(text, s, e, digit, p, line, furniture, time_spans) -> bool:
    before, after = text[digit - 1: digit], text[e: e + 1]
    before2 = text[max(0, digit - 2): digit]
    if before.isalnum() or (after.isalnum() and p.unit != "%") or after == "_":
        return True                                               # 5G, 3D, truy cập23, 060a3664.jpg
    if before == "/" or (len(before2) == 2 and before2[1] in ".,/-–" and before2[0].isdigit()):
        return True                                               # a denominator (/1 vạn dân), part of a token
    if after in ".,/" and text[e + 1: e + 2].isdigit():
        return True
    if _overlaps(digit, e, furniture) or _overlaps(digit, e, time_spans):
        return True
    token = text[digit:e]
    if p.unit != "%" and p.scale == 1 and all(v is None or (v.is_integer() and 1900 <= v <= 2100)
                                                for v in (p.value, p.value_high)) and "." not in token:
        return True                                               # a year
    if re.fullmatch(r"\d{7,}", token):
        return True                                               # an article id
    line_text = text[line.start:line.end]
    if line.heading and re.search(r"\d{1,2}:\d{2}|\d{1,2}/\d{1,2}/\d{4}", line_text):
        return True                                               # a date line: "Thứ hai - 19/05/2025 09:36 66 0"
    if p.unit != "%" and p.scale == 1:
        if _DURATION_AFTER.match(text, e) or _STRUCTURE_AFTER.match(text, e):
            return True                                           # "95 năm", "19 chỉ tiêu", "8 nhiệm vụ, giải pháp"
        if _ORDINAL_BEFORE.search(text[max(line.start, digit - 20): digit]):
            return True                                           # "ngày 16", "lần thứ 2", "số 06"
        word = re.search(r"(\S+)\s+$", text[max(line.start, digit - 30): digit])
        sentence_start = text[max(line.start, digit - 40): digit].rstrip()[-1:] in (".", "")
        if word and word.group(1)[:1].isupper() and not word.group(1).isupper() and not sentence_start \
                and re.match(r"\s*(?:[,;.)]|$)", text[e: e + 3]):
            return True                                           # "thôn Tượng 1, Tượng 3": part of a name
    if p.comparator == ">" and _AGAINST_PLAN_AFTER.match(text, e):
        return True                                               # "vượt 3% so với kế hoạch": derived
    if p.value == 0 and p.unit != "%":
        return True
    return False


def _main_province(pv: _Provinces, text: str, lines: list[_Line]) -> str:
    counts: dict[str, int] = {}
    first = pv.named(text[lines[0].start:lines[0].end])
    for m in pv.rx.finditer(text):
        slug = pv.names[m.group(0).lower()]
        if slug not in pv.national:
            counts[slug] = counts.get(slug, 0) + 1
    if first and first[0] not in pv.national:
        return first[0]
    return max(counts, key=counts.get) if counts else ""


def _nearest(items, pos: int, lo: int, hi: int, before_only: bool = False):
    """The item (with ``start``) nearest before ``pos`` in [lo, hi), else the first after it (in [pos, hi))."""
    before = [x for x in items if lo <= _start(x) < pos]
    if before:
        return before[-1]
    if before_only:
        return None
    after = [x for x in items if pos <= _start(x) < hi]
    return after[0] if after else None


def _start(x):
    return x.start if isinstance(x, _Time) else x[0]


def _kind(text: str, f: _Figure, numstart: int, lines, doc_line, cues, times, future) -> tuple[str, float]:
    cs, ce = f.clause
    ss, se = f.sentence
    if any(cs <= t.start < ce and future(t) for t in times):
        return "target", 0.2
    events = [(c[0], c[1]) for c in cues] + [(t.start, "target" if future(t) else "observation")
                                             for t in times if t.year is not None]
    events.sort()
    hit = _nearest(events, numstart, ss, ce)
    if hit:
        return hit[1], 0.2
    hit = _nearest(events, ss, f.line.start, ss, before_only=True)
    if hit:
        return hit[1], 0.15
    for ctx, lead in _context(lines, f.line, doc_line):
        hit = _nearest([e for e in events if not lead or _LEAD.match(text, e[0])],
                       ctx.end, ctx.start, ctx.end, before_only=True)
        if hit:
            return hit[1], 0.1
    return "observation", 0.0


def _context(lines, line, doc_line) -> list:
    """Where a figure's sentence says nothing of its kind or time: the paragraph before (a list often follows
    its lead-in: "Kế hoạch đặt mục tiêu đến năm 2030 ..."), the heading above, and the title."""
    i = lines.index(line)
    prev = lines[i - 1] if i > 1 else None
    return [(c, c is prev) for c in (prev, _heading_before(lines, line), doc_line) if c is not None]


#: what makes a paragraph the lead-in of the next one: the words that announce targets or results
_LEAD = re.compile(r"mục tiêu|chỉ tiêu|phấn đấu|tầm nhìn|định hướng|đặt ra|đề ra|kết quả|đạt được|(?:đến|tới|vào) năm",
                   _FLAGS)


def _heading_before(lines, line):
    i = lines.index(line)
    for prev in reversed(lines[1:i]):
        if prev.heading:
            return prev
    return None


def _when(f: _Figure, numstart: int, kind: str, lines, doc_line, times, future) -> tuple[_Time | None, float]:
    cs, ce = f.clause
    ss, _ = f.sentence
    usable = [t for t in times if t.year is not None and (kind == "target" or not future(t))]
    if kind == "target":
        usable = [t for t in usable if future(t) or t.horizon or t.period_end]
    right_after = [t for t in usable if f.end <= t.start <= f.end + 2 and t.start < ce]
    if right_after:   # "13,84% năm 2021, 13,51% năm 2022": the year written right after the figure
        return right_after[0], 0.15
    t = _nearest(usable, numstart, cs, ce, before_only=True) or \
        _nearest([u for u in usable if not u.asof], numstart, cs, ce) or \
        _nearest(usable, numstart, ss, ce, before_only=True)
    if t:
        return t, 0.15
    t = _nearest(usable, ss, f.line.start, ss, before_only=True)
    if t:
        return t, 0.1
    for ctx, lead in _context(lines, f.line, doc_line):
        t = _nearest([u for u in usable if not lead or u.reach or not u.horizon], ctx.end, ctx.start, ctx.end,
                     before_only=True)
        if t:
            return t, 0.1
    return None, 0.0


def _rows(text, f: _Figure, a, b, lines, doc_line, cues, times, future, kw: _Keywords, pv: _Provinces, lang):
    p = f.number
    numstart = f.start + next(i for i, c in enumerate(text[f.start:f.end]) if c.isdigit())
    quote = text[a:b]
    quantities = [q for q, _ in stated_quantities(quote, lang)]
    if round(p.value * p.scale, 6) not in quantities:   # the quote must state the figure (the loader checks it)
        a, b = _trim(text, *f.clause)
        quote = text[a:b]
    sentence = text[f.sentence[0]:f.sentence[1]]
    clause = text[f.clause[0]:f.clause[1]]
    before = text[max(f.line.start, f.start - 30): f.start]
    after = text[f.end: f.end + 40]
    unit = _detect_unit(p, after, before + text[f.start:numstart], sentence)
    kind, k_conf = _kind(text, f, numstart, lines, doc_line, cues, times, future)
    ind, score = kw.best([(quote, 1.0), (clause, 0.4), (sentence, 0.25)], unit)
    if score < MIN_SCORE:
        ind, score = "", 0.0
    ind_unit = kw.units.get(ind, "")
    out_unit = ind_unit or (unit if unit not in ("decimal",) else "")
    scale = _UNIT_SCALE.get(out_unit, 1.0)
    rank = out_unit == "rank"
    comparator = p.comparator or ""
    if rank and re.search(r"(?:nhóm|top|tốp)\s*$", before.lower()):
        comparator = "<="
    base = dict(province=pv.rows.loc[f.province, "name"] if f.province else "", indicator=ind,
                unit=out_unit, quote=quote, start=a, end=b, number_start=numstart, number_end=f.end)
    conf = 0.2 + 0.35 * min(1.0, score / 20) + (0.1 if ind and unit != "decimal" else 0.0)
    rows = []

    def add(kind_, value, high, comparator_, k, t_conf, when):
        row = dict(base, kind=kind_, comparator=comparator_, value=_number(value / scale),
                   value_high=_number(high / scale) if high is not None else "",
                   year="", period_end="", period="")
        if when is not None:
            if kind_ == "target":
                row["year"] = str(when.year)
            else:
                row["period_end"], row["period"] = when.period_end, when.period
            t_conf = 0.05 if when.inferred else t_conf
        total = min(0.99, conf + k + t_conf)
        if not row["indicator"]:   # it cannot enter data/ as it is: always for a closer look
            total = min(total, THRESHOLD - 0.05)
        row["confidence"] = f"{total:.2f}"
        rows.append(row)

    high = p.value_high * p.scale if p.value_high is not None else None
    if p.second is not None and not rank:
        when, t_conf = _when(f, numstart, "observation", lines, doc_line, times, future)
        add("observation", p.value * p.scale, None, comparator if kind == "observation" else "", 0.2, t_conf, when)
        if p.unit == "%":   # "51,69/85%": the figure against the year's plan
            plan, t2 = _when(f, numstart, "target", lines, doc_line, times, future)
            plan = plan or when
            add("target", p.second * p.scale, None, "=", 0.2, t2 or t_conf, plan)
        else:               # "85/145 nhiệm vụ": a part of a whole; the whole is a figure too
            base_ind = dict(base)
            base.update(indicator="", quote=quote)
            add("observation", p.second * p.scale, None, "", 0.1, t_conf, when)
            base.update(base_ind)
        return rows
    when, t_conf = _when(f, numstart, kind, lines, doc_line, times, future)
    if kind == "target" and not comparator:
        comparator = "="
    add(kind, p.value * p.scale, high, comparator, k_conf, t_conf, when)
    return rows
