"""'A figure must be what its quote states', for a whole column of quotes at once.

The reference is :func:`nq57lib.numbers.stated_quantities` (a regular expression, about 40 µs a quote):
this module reads the bytes of every quote with numpy and *certifies* a row only when that function would
certainly find the row's figure in its quote (with a comparator that does not contradict the target's).
It never decides that a figure is missing: a row it cannot certify is checked by the reference function
(:func:`nq57lib.rowreader.quote_problems`), so the result is always the reference's, and only the time
differs. tests/test_quotescan.py draws random quotes to show that nothing is certified that the
reference refuses.

A row is certified when its quote has a number written in one of the forms the reference reads the
same way whatever surrounds it::

    84,2%   16.803 đại biểu   574 tỷ đồng   khoảng 9-10%   51,69/85%   62.86 điểm (a Vietnamese page)
    (and an English page's 4,977 and 0.4096)

that is: ASCII digits with a decimal comma and thousands dots (or a dot that cannot group thousands),
after a space, a letter or punctuation and before the end, a space and a word that is not a range word
("-", "–", "đến"), a slash, a percent sign or punctuation; a scale word ("tỷ", "triệu", "nghìn", "ngàn",
"vạn", "tỉ") after it multiplies it. Anything else (ranges written "a đến b", two scale words, a number
glued to letters, other scripts' digits or spaces) is left to the reference.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pyarrow as pa

from .numbers import _APPROX_WORDS, _COMPARATOR_WORDS, _SCALES, _WORDS

_END = 256  # a gathered "byte" past the end of its quote
_PUNCT = np.zeros(257, bool)
_PUNCT[list(b",.;:)]}!?\"'(")] = True
_ASCII_WS = np.zeros(257, bool)
_ASCII_WS[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True


def _variants(word: str) -> list[bytes]:
    """Every spelling of ``word`` that Python's case-insensitive matching accepts, as UTF-8 bytes."""
    alts = {"i": "iIİı"}
    out = [""]
    for ch in word:
        options = alts.get(ch, ch + ch.upper() if ch.upper() != ch else ch)
        out = [o + x for o in out for x in dict.fromkeys(options)]
    return [o.encode() for o in out]


#: scale words and the factor each gives (as nq57lib.numbers computes it)
_SCALE_WORDS = [(v, math.prod([_SCALES[w]])) for w in _SCALES for v in _variants(w)]
_FACTORS = sorted({f for _, f in _SCALE_WORDS})
#: "đến" written in any case, up to its second letter: a range may follow
_DEN = [v[:5] for v in _variants("đế")]
#: words that, after a scale word, combine with it ("triệu tỷ") or make it no scale ("tỷ lệ")
_AFTER_SCALE = [v for w in ("lệ", "tỷ", "tỉ") for v in _variants(w)]
_WORDS_RE = re.compile(rf"(?:(?:{_WORDS})\s+)*\Z", re.IGNORECASE)
_LINKED_RE = re.compile(r"\s*%?\s*(?:[-–]|đến)\s*|\s*/\s*", re.IGNORECASE)


_POW10 = np.array([10.0 ** k for k in range(23)])   # exact powers of ten (numpy's power may not be)


def _startswith(G: np.ndarray, col: int, word: bytes) -> np.ndarray:
    """Rows of the gathered byte matrix ``G`` where ``word`` starts at column ``col``."""
    if col + len(word) > G.shape[1]:
        return np.zeros(len(G), bool)
    ok = G[:, col] == word[0]
    for k in range(1, len(word)):
        ok &= G[:, col + k] == word[k]
    return ok


def _gather(d: np.ndarray, start: np.ndarray, stop: np.ndarray, width: int) -> np.ndarray:
    """``width`` bytes of ``d`` from each ``start`` (``_END`` at and after ``stop``), as an int16 matrix."""
    idx = start[:, None] + np.arange(width)[None, :]
    inside = idx < stop[:, None]
    G = np.full(idx.shape, _END, np.int16)
    G[inside] = d[idx[inside]]
    return G


def _shift(G: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Each row of ``G`` from its own column ``col`` on (``_END`` beyond)."""
    idx = col[:, None] + np.arange(G.shape[1])[None, :]
    out = np.full(G.shape, _END, np.int16)
    inside = idx < G.shape[1]
    rows = np.broadcast_to(np.arange(len(G))[:, None], idx.shape)
    out[inside] = G[rows[inside], idx[inside]]
    return out


def _word_start_ok(G: np.ndarray, col: int) -> np.ndarray:
    """Whether the word at column ``col`` is certainly not whitespace, a range word ("-", "–", "đến"), a slash
    or a percent sign (and is a character this module knows: ASCII, a Vietnamese letter, a typographic quote)."""
    if col + 2 >= G.shape[1]:
        return np.zeros(len(G), bool)
    b, b1, b2 = G[:, col], G[:, col + 1], G[:, col + 2]
    ok = (b < 128) & ~_ASCII_WS[b] & (b != 45) & (b != 47) & (b != 37)
    ok |= (b >= 0xC3) & (b <= 0xC6)                                  # Vietnamese letters (2 bytes)
    ok |= (b == 0xE1) & ((b1 == 0xBA) | (b1 == 0xBB))                # Vietnamese letters (3 bytes)
    ok |= (b == 0xE2) & (b1 == 0x80) & ((b2 == 0x98) | (b2 == 0x99) | (b2 == 0x9C) | (b2 == 0x9D))  # ‘ ’ “ ”
    d_ = np.flatnonzero(ok & (b == 0xC4))                           # đ/Đ: is it "đến"?
    if len(d_):
        sub = G[d_]
        den = np.zeros(len(d_), bool)
        for v in _DEN:
            den |= _startswith(sub, col, v)
        ok[d_[den]] = False
    return ok


def _scale_at(G: np.ndarray, col: int):
    """At the word starting at column ``col``: (is a scale word, its factor, the column after it)."""
    n = len(G)
    found, factor, after = np.zeros(n, bool), np.ones(n), np.full(n, col, np.int64)
    cand = np.flatnonzero(np.isin(G[:, col], list(b"nNvVtT")))
    if len(cand):
        sub = G[cand]
        for word, f in _SCALE_WORDS:
            hit = _startswith(sub, col, word) & ~found[cand]
            found[cand[hit]] = True
            factor[cand[hit]] = f
            after[cand[hit]] = col + len(word)
    return found, factor, after


def _right(G: np.ndarray, second: bool):
    """What follows a number (``G[:, 0]`` is the byte after its last digit): (certain, scale factor, kind)
    with kind 0 (nothing), 1 (a slash and a number: "51,69/85%"), 2 (a hyphen and a number: "9-10%").
    ``second``: the number is itself the second of a slash or the high end of a range (nothing may follow)."""
    n = len(G)
    b0, b1 = G[:, 0], G[:, 1]
    factor = np.ones(n)
    kind = np.zeros(n, np.int8)
    dot_comma = (b0 == 44) | (b0 == 46)
    # the end; punctuation; a trailing dot or comma, then anything ASCII ("168," "84,2.")
    ok = (b0 == _END) | (_PUNCT[b0] & ~dot_comma) | (dot_comma & ((b1 == _END) | (b1 < 128)))
    if not second:
        digit1 = (b1 >= 48) & (b1 <= 57)
        kind[(b0 == 47) & digit1] = 1
        kind[(b0 == 45) & digit1] = 2
        ok |= kind > 0
    # a percent sign: then the end, punctuation, or a space and a word that is not a range word
    pct = b0 == 37
    ok |= pct & ((b1 == _END) | _PUNCT[b1])
    ok |= pct & (b1 == 32) & _word_start_ok(G, 2)
    # a space and a word: a scale word multiplies; any other word that is not a range word ends the number
    space = (b0 == 32) & _word_start_ok(G, 1)
    is_scale, f, after = _scale_at(G, 1)
    ok |= space & ~is_scale
    s = np.flatnonzero(space & is_scale)
    if len(s):
        A = _shift(G[s], after[s])                                   # what follows the scale word
        a0, a1 = A[:, 0], A[:, 1]
        plain = (a1 != _END) & (a1 < 128) & ~_ASCII_WS[a1]
        viet = ((a1 >= 0xC3) & (a1 <= 0xC6)) | (a1 == 0xE1)
        bad = np.zeros(len(s), bool)
        for v in _AFTER_SCALE:
            bad |= _startswith(A, 1, v)
        good = (a0 == _END) | _PUNCT[a0] | ((a0 == 32) & (plain | (viet & _word_start_ok(A, 1))) & ~bad)
        ok[s] = good
        factor[s] = f[s]
    return ok, factor, kind


class QuoteScan:
    """The numbers of every quote of a column, read once; :meth:`states` asks which rows state a quantity.

    Parameters
    ----------
    quotes : pyarrow.StringArray
        The quotes, NFC, stripped, no nulls.
    english : ndarray of bool
        Rows whose source is an English page (numbers read "4,977" and "0.4096").
    """

    def __init__(self, quotes: pa.Array, english: np.ndarray):
        quotes = pa.array(quotes, pa.large_string()) if not isinstance(quotes, pa.Array) else quotes
        if isinstance(quotes, pa.ChunkedArray):
            quotes = quotes.combine_chunks()
        quotes = quotes.cast(pa.large_string())
        n = len(quotes)
        self.n = n
        bufs = quotes.buffers()
        off = np.frombuffer(bufs[1], np.int64)[quotes.offset: quotes.offset + n + 1]
        d = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
        self.d, self.off = d, off
        x = d - np.uint8(44)
        P = np.flatnonzero(x <= 13)                      # , - . / and digits
        c = x[P].astype(np.int8)                         # 0 ',' 1 '-' 2 '.' 3 '/' 4..13 digits
        first = np.searchsorted(P, off[:-1])
        row = (np.cumsum(np.bincount(first, minlength=len(P) + 1)[: len(P)]) - 1).astype(np.int64)
        adj = np.zeros(len(P), bool)                     # P[i] and P[i+1] are neighbours in one quote
        if len(P) > 1:
            adj[:-1] = (P[1:] == P[:-1] + 1) & (row[1:] == row[:-1])
        isn = (c != 1) & (c != 3)
        prev_in = np.zeros(len(P), bool)
        prev_in[1:] = adj[:-1] & isn[:-1]
        starts = np.flatnonzero(isn & ~prev_in)
        next_in = adj & np.concatenate([isn[1:], [False]])
        ends = np.flatnonzero(isn & ~next_in)            # inclusive
        english_p = english[row] if n else np.zeros(0, bool)
        c2 = c.copy()                                    # English pages: commas and dots swap
        c2[english_p & (c == 0)] = 2
        c2[english_p & (c == 2)] = 0
        digit = c >= 4
        last = ends.copy()                               # the last digit of each run
        for _ in range(2):
            back = ~digit[last] & (last > starts)
            last[back] -= 1
        trailing = ends - last
        valid = digit[starts] & digit[last]
        cum = lambda flags: np.concatenate([[0], np.cumsum(flags)])
        cdot, ccom, cdig = cum(c2 == 2), cum(c2 == 0), cum(digit)
        ndot = cdot[last + 1] - cdot[starts]
        ncom = ccom[last + 1] - ccom[starts]
        ndig = cdig[last + 1] - cdig[starts]
        valid &= (ndig <= 15) & (ncom <= 1)
        run_row = row[starts]
        vi = ~english[run_row] if n else np.zeros(0, bool)
        # separators inside runs: thousands dots must group three digits, a comma ends the integer part
        flags = np.zeros(len(P), np.int64)
        flags[starts] = 1
        run_of = np.cumsum(flags) - 1
        delta = np.bincount(starts, minlength=len(P) + 1) - np.bincount(last + 1, minlength=len(P) + 1)
        in_run = np.cumsum(delta[:-1]) > 0
        sep_idx = np.flatnonzero(in_run & ~digit)
        sep_run = run_of[sep_idx]
        nxt = np.empty(len(sep_idx), np.int64)
        same_next = np.zeros(len(sep_idx), bool)
        if len(sep_idx):
            same_next[:-1] = sep_run[1:] == sep_run[:-1]
            nxt[:-1] = sep_idx[1:]
            nxt[~same_next] = last[sep_run[~same_next]] + 1
        gap = nxt - sep_idx
        is_dot = c2[sep_idx] == 2
        first_sep = np.ones(len(sep_idx), bool)
        first_sep[1:] = sep_run[1:] != sep_run[:-1]
        bad = (is_dot & (gap != 4)) | (is_dot & first_sep & ((sep_idx - starts[sep_run]) > 3)) | (~is_dot & same_next)
        thousands_ok = np.ones(len(starts), bool)
        thousands_ok[sep_run[bad]] = False
        # a Vietnamese page's "62.86" or "1.5": one dot that cannot group thousands is the decimal point
        dot_decimal = vi & (ndot == 1) & (ncom == 0) & (trailing == 0)
        if len(sep_idx):
            dd_gap = np.zeros(len(starts), np.int64)
            dd_gap[sep_run[is_dot]] = gap[is_dot]
            dot_decimal &= dd_gap != 4
        else:
            dot_decimal &= False
        valid &= (ndot == 0) | thousands_ok | dot_decimal
        # the value: the digits as an integer, over ten to the number of decimals
        dig_idx = np.flatnonzero(digit & in_run)
        druns = run_of[dig_idx]
        exp = cdig[last[druns] + 1] - cdig[dig_idx + 1]
        mant = np.bincount(druns, weights=(c[dig_idx] - 4) * _POW10[np.minimum(exp, 22)], minlength=len(starts))
        k = np.zeros(len(starts), np.int64)
        dec_pos = sep_idx[c2[sep_idx] == np.where(dot_decimal[sep_run], 2, 0)] if len(sep_idx) else sep_idx
        dec_run = run_of[dec_pos]
        k[dec_run] = cdig[last[dec_run] + 1] - cdig[dec_pos + 1]
        value = mant / _POW10[np.minimum(k, 22)]
        keep = np.flatnonzero(valid)
        self.run_row = run_row[keep]
        self.value = value[keep]
        self.start = P[starts[keep]]                     # byte of the first digit
        self.stop = P[last[keep]] + 1                    # byte after the last digit
        self.trailing = trailing[keep]
        self.prev_digit = np.full(len(keep), -1, np.int64)   # byte of the digit before, in the same quote
        if len(keep):
            before = starts[keep] - 1
            digit_before = np.maximum.accumulate(np.where(digit, np.arange(len(P)), -1))
            pd_idx = np.where(before >= 0, digit_before[np.maximum(before, 0)], -1)
            same = (pd_idx >= 0) & (row[np.maximum(pd_idx, 0)] == self.run_row)
            self.prev_digit[same] = P[pd_idx[same]]

    def _left_ok(self, i: np.ndarray) -> np.ndarray:
        """The character before the number is certainly not another script's digit."""
        start, row_start = self.start[i], self.off[self.run_row[i]]
        G = _gather(self.d, np.maximum(start - 3, 0), start, 3)
        have = start - row_start
        b1 = np.where(have >= 1, G[:, 2], _END)
        b2 = np.where(have >= 2, G[:, 1], _END)
        b3 = np.where(have >= 3, G[:, 0], _END)
        return ((b1 == _END) | (b1 < 128) | ((b1 < 0xC0) & np.isin(b2, [0xC3, 0xC4, 0xC5, 0xC6]))
                | ((b1 < 0xC0) & (b3 == 0xE1) & np.isin(b2, [0xBA, 0xBB]))
                | ((b1 < 0xC0) & (b3 == 0xE2) & (b2 == 0x80)))

    def _fresh(self, i: np.ndarray) -> np.ndarray:
        """Numbers that certainly start a match of their own: no digit before them in the quote, or a letter
        (not the "n" of "đến") or punctuation (not "%", "-", "/") between that digit and them."""
        fresh = self.prev_digit[i] < 0
        k = np.flatnonzero(~fresh)
        if len(k):
            lo = self.prev_digit[i[k]] + 1
            hi = self.start[i[k]]
            G = _gather(self.d, np.maximum(hi - 12, lo), hi, 12)
            letter = ((G >= 65) & (G <= 90)) | ((G >= 97) & (G <= 122))
            punct = (G < 128) & ~letter & ~_ASCII_WS[np.minimum(G, 256)] & ~np.isin(G, list(b"%-/"))
            barrier = (letter & (G != ord("n")) & (G != ord("N"))) | punct
            fresh[k] = barrier.any(axis=1)
        return fresh

    def _comparator(self, i: int) -> str | None | bool:
        """The comparator word before number ``i`` (None: none), or False when it cannot be told here."""
        row = self.run_row[i]
        lo = self.prev_digit[i] + 1 if self.prev_digit[i] >= 0 else self.off[row]
        text = bytes(self.d[lo: self.start[i]]).decode("utf-8", errors="replace")
        return _words_comparator(text, self.prev_digit[i] >= 0)

    def states(self, qty: np.ndarray, comparator: np.ndarray | None = None) -> np.ndarray:
        """Rows whose quote certainly states ``qty`` (value times the unit's scale; NaN: nothing asked, True).

        ``comparator`` (targets): a row whose comparator is not None, "" or "=" is certified only by a number
        the quote states with that comparator or none.
        """
        out = np.isnan(qty)
        if not len(self.value):
            return out
        want = qty[self.run_row]
        maybe = self.value == want
        for f in _FACTORS:
            maybe |= self.value * f == want
        i = np.flatnonzero(maybe)
        i = i[self._left_ok(i)]
        if not len(i):
            return out
        rows = self.run_row[i]
        row_end = self.off[rows + 1]
        G = _gather(self.d, self.stop[i], row_end, 16)
        ok, factor, kind = _right(G, second=False)
        trailing = self.trailing[i]
        ok &= trailing <= 1
        # after a slash or a hyphen: the next number, and what follows it, gives the scale (unless this number
        # may itself end a range or a slash before it: "1-5-10")
        linked = ok & (kind > 0)
        j = np.flatnonzero(linked)
        fresh = self._fresh(i[j])
        ok[j[~fresh]] = False
        j = j[fresh]
        high_value = np.full(len(i), np.nan)
        if len(j):
            nxt = i[j] + 1
            good = (nxt < len(self.value))
            nxt = np.minimum(nxt, len(self.value) - 1)
            good &= (self.run_row[nxt] == rows[j]) & (self.start[nxt] == self.stop[i[j]] + 1) & (self.trailing[nxt] == 0)
            G2 = _gather(self.d, self.stop[nxt], self.off[self.run_row[nxt] + 1], 16)
            ok2, f2, _ = _right(G2, second=True)
            good &= ok2
            ok[j] = good
            factor[j] = f2
            high_value[j] = self.value[nxt]
        ok &= self.value[i] * factor == want[i]
        if comparator is not None:
            asked = np.array([c not in (None, "", "=") for c in comparator[rows]], bool)
            for n in np.flatnonzero(ok & asked):
                said = self._said(i[n], kind[n], high_value[n])
                ok[n] = said is not False and said in (None, comparator[rows[n]])
        out[rows[ok]] = True
        return out

    def _said(self, i: int, kind: int, high: float):
        """The comparator with which number ``i`` is stated (False: not known here)."""
        if kind == 2:
            return "between" if not high < self.value[i] else None
        words = self._comparator(i)
        if kind == 1 and words is not False and self.value[i] == high:
            return None
        return words


_memo: dict[tuple[str, bool], str | None | bool] = {}


def _words_comparator(text: str, after_number: bool) -> str | None | bool:
    """The comparator of the words right before a number ("tối thiểu ", "trên "); False when the text
    links the number to the one before it (a range or a slash) or holds another script's digit."""
    key = (text, after_number)
    if key not in _memo:
        said: str | None | bool = None
        if (after_number and _LINKED_RE.fullmatch(text)) or any(ch.isdigit() for ch in text) or "\ufffd" in text:
            said = False
        else:
            chain = _WORDS_RE.search(text).group(0)
            for word in re.findall(_WORDS, chain, flags=re.IGNORECASE):
                if word.lower() not in _APPROX_WORDS:
                    said = _COMPARATOR_WORDS.get(word.lower(), False)
        if len(_memo) > 100_000:
            _memo.clear()
        _memo[key] = said
    return _memo[key]
