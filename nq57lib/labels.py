"""Words users read, in Vietnamese (default) and English."""
from __future__ import annotations

from .errors import ParameterError

LANGS = ("vi", "en")

_TEXT = {
    "year": ("Năm", "Year"),
    "year_end": ("Năm (mốc 31/12)", "Year (at 31 December)"),
    "observed": ("Số liệu báo cáo", "Reported"),
    "target": ("Chỉ tiêu", "Target"),
    "required_path": ("Lộ trình cần thiết", "Required path"),
    "projection": ("Dự báo theo tốc độ hiện tại", "Projection at the current pace"),
    "source": ("Nguồn", "Source"),
    "sources": ("Nguồn", "Sources"),
    "national": ("Việt Nam (NQ 57)", "Viet Nam (Res. 57)"),
    "count": ("Số chỉ tiêu", "Number of targets"),
    "status_overview": ("Tình hình thực hiện chỉ tiêu theo nhóm", "Progress on targets by pillar"),
    "compare_title": ("Chỉ tiêu năm {year}: so sánh giữa các tỉnh", "Targets for {year}: provinces compared"),
    "trajectories_title": ("{province}: quỹ đạo so với chỉ tiêu", "{province}: trajectories against the targets"),
    "no_data": ("Chưa có số liệu", "No figure yet"),
    "merger": ("Sáp nhập {date}", "Merger {date}"),
    "national_target": ("Mục tiêu quốc gia (NQ 57): {value}", "National target (Res. 57): {value}"),
    "set_by": ("Văn bản đặt mục tiêu", "Set by"),
}

#: The kinds of document that set targets or report figures (sources.csv ``instrument``)
INSTRUMENTS = {
    "nq57_programme": ("Chương trình, kế hoạch thực hiện NQ 57", "Resolution 57 programme or plan"),
    "party_congress": ("Nghị quyết Đại hội Đảng bộ 2025-2030", "Party congress resolution 2025-2030"),
    "dx_plan": ("Nghị quyết, kế hoạch chuyển đổi số trước đó", "Earlier digital-transformation plan"),
    "other_plan": ("Kế hoạch khác", "Other plan"),
    "report": ("Báo cáo, tin kết quả", "Results report or news"),
    "index": ("Bộ chỉ số", "Official index"),
    "statistics": ("Số liệu thống kê", "Official statistics"),
}


def instrument(kind: str, lang: str = "vi") -> str:
    """The kind of document as users read it."""
    vi, en = INSTRUMENTS.get(kind, (kind, kind))
    return en if lang == "en" else vi

UNITS = {
    "percent": ("%", "%"), "count": ("số lượng", "count"), "index": ("điểm", "score"), "rank": ("hạng", "rank"),
    "per_10k_people": ("trên 1 vạn dân", "per 10,000 people"), "vnd_billion": ("tỷ đồng", "VND billion"),
    "vnd_million": ("triệu đồng", "VND million"), "vnd_million_per_month": ("triệu đồng/tháng", "VND million a month"),
    "milestone": ("mốc", "milestone"),
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ParameterError(f"Unknown language {lang!r}: use 'vi' (Tiếng Việt) or 'en' (English)")
    return lang


def t(key: str, lang: str = "vi", **kw) -> str:
    """A user-facing phrase in the chosen language."""
    vi, en = _TEXT[key]
    return (en if check_lang(lang) == "en" else vi).format(**kw)


def unit(u: str, lang: str = "vi") -> str:
    vi, en = UNITS.get(u, (u, u))
    return en if lang == "en" else vi


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_PERIOD_RULES = [  # (Vietnamese pattern, English template); \d groups are kept
    (r"quý (\d)/(\d{4})", "Q{0} {1}"),
    (r"hết quý (\d)/(\d{4})", "to the end of Q{0} {1}"),
    (r"năm (\d{4})", "{0}"),
    (r"(\d{4}) \(ước\)", "{0} (estimate)"),
    (r"năm (\d{4}) \(ước\)", "{0} (estimate)"),
    (r"(\d+) tháng đầu năm (\d{4})", "first {0} months of {1}"),
    (r"tháng (\d{1,2})/(\d{4})", "{month0} {1}"),
    (r"khoảng tháng (\d{1,2})/(\d{4})", "around {month0} {1}"),
    (r"(\d{1,2})-(\d{1,2})/(\d{4})", "{month0}-{month1} {2}"),
    (r"đến (\d{1,2}/\d{1,2}/\d{4})", "to {0}"),
    (r"đến cuối tháng (\d{1,2})/(\d{4})", "to the end of {month0} {1}"),
    (r"đến nay", "to date"),
    (r"đầu năm (\d{4})", "early {0}"),
    (r"cuối năm (\d{4})", "end of {0}"),
    (r"giữa năm (\d{4})", "mid-{0}"),
    (r"đầu nhiệm kỳ (\d{4}-\d{4})", "start of the {0} term"),
    (r"nhiệm kỳ (\d{4}-\d{4})", "the {0} term"),
    (r"giai đoạn (\d{4}-\d{4})", "{0}"),
    (r"phát biểu ngày (\d{1,2}/\d{1,2}/\d{4})", "statement of {0}"),
    (r"ngày (\d{1,2}/\d{1,2}/\d{4})", "{0}"),
]


def period_text(period: str, period_end=None, lang: str = "vi") -> str:
    """The period of a figure as users read it: as the source words it in Vietnamese; in English a
    translation of the usual forms ("Quý 1/2025" -> "Q1 2025", "01-10/2025" -> "January-October 2025"),
    or, for a wording it does not know, "to <day/month/year>" from the period's last day.

    >>> period_text("Quý 1/2025", lang="en"), period_text("đến cuối tháng 10/2025", lang="en")
    ('Q1 2025', 'to the end of October 2025')
    >>> period_text("DTI 2023", lang="en"), period_text("đầu nhiệm kỳ 2020-2025", lang="en")
    ('DTI 2023', 'start of the 2020-2025 term')
    """
    import re
    import unicodedata

    text = " ".join(str(period).split())
    if lang != "en":
        return text
    for pattern, template in _PERIOD_RULES:
        m = re.fullmatch(pattern, text, flags=re.IGNORECASE)
        if m:
            groups = m.groups()
            months = {f"month{i}": _MONTHS[int(g) - 1] for i, g in enumerate(groups) if g.isdigit() and 1 <= int(g) <= 12}
            try:
                return template.format(*groups, **months)
            except (KeyError, IndexError):
                break
    if text.isascii():
        return text
    if period_end is not None and str(period_end) not in ("", "NaT"):
        import pandas as pd
        return "to " + pd.Timestamp(period_end).strftime("%d/%m/%Y")
    folded = unicodedata.normalize("NFD", text)
    return "".join(c for c in folded if unicodedata.category(c) != "Mn").replace("đ", "d").replace("Đ", "D")
