"""Words users read, in Vietnamese (default) and English."""
from __future__ import annotations

from .errors import ParameterError

LANGS = ("vi", "en")

_TEXT = {
    "year": ("Năm", "Year"),
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
    "no_data": ("Chưa có số liệu", "No data"),
    "merger": ("Sáp nhập 1/7/2025", "Merger 1/7/2025"),
}

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
