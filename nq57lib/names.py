"""Matching province names as people type them: any case, with or without diacritics, NFC or NFD."""
from __future__ import annotations

import difflib
import re
import unicodedata


def fold(text: str) -> str:
    """A matching key: lower case, no diacritics, 'đ' as 'd', punctuation as spaces.

    >>> fold("Lào Cai (cũ)")
    'lao cai cu'
    >>> fold("ĐẮK LẮK") == fold("dak-lak")
    True
    """
    text = unicodedata.normalize("NFD", str(text))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = text.replace("đ", "d").replace("Đ", "D").casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def suggest(value: str, choices: list[str], n: int = 3, cutoff: float = 0.75) -> list[str]:
    """The choices closest to ``value`` (compared without case or diacritics).

    The cutoff is high on purpose: Vietnamese place names share syllables ("Hà", "Quảng", "Bình"), and a
    suggestion that points at another province is worse than none.

    >>> suggest("Lào Kai", ["Lào Cai", "Lai Châu"]), suggest("Hà Tây", ["Hà Tĩnh", "Hà Nội"])
    (['Lào Cai'], [])
    """
    folded = {}
    for c in choices:
        folded.setdefault(fold(c), c)
    hits = difflib.get_close_matches(fold(value), list(folded), n=n, cutoff=cutoff)
    return [folded[h] for h in hits]


def did_you_mean(value: str, choices: list[str]) -> str:
    hits = suggest(value, choices)
    return f"did you mean {' or '.join(repr(h) for h in hits)}?" if hits else ""
