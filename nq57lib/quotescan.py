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
import pyarrow.compute as pc

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


class _At:
    """The bytes of ``d`` from positions ``pos`` (before ``stop``, their quote's end), gathered on demand."""

    def __init__(self, d: np.ndarray, pos: np.ndarray, stop: np.ndarray):
        self.d, self.pos, self.stop = d, pos, stop
        self.G = np.zeros((len(pos), 0), np.int16)

    def __len__(self):
        return len(self.pos)

    def cols(self, width: int) -> np.ndarray:
        """The first ``width`` bytes of every row (``_END`` past the quote's end)."""
        if self.G.shape[1] < width:
            self.G = _gather(self.d, self.pos, self.stop, width)
        return self.G

    def sub(self, rows: np.ndarray, shift=0) -> "_At":
        return _At(self.d, self.pos[rows] + shift, self.stop[rows])


def _word_start_ok(at: _At, col: int) -> np.ndarray:
    """Whether the word at column ``col`` is certainly not whitespace, a range word ("-", "–", "đến"), a slash
    or a percent sign (and is a character this module knows: ASCII, a Vietnamese letter, a typographic quote)."""
    G = at.cols(col + 3)
    b, b1, b2 = G[:, col], G[:, col + 1], G[:, col + 2]
    ok = (b < 128) & ~_ASCII_WS[b] & (b != 45) & (b != 47) & (b != 37)
    ok |= (b >= 0xC3) & (b <= 0xC6)                                  # Vietnamese letters (2 bytes)
    ok |= (b == 0xE1) & ((b1 == 0xBA) | (b1 == 0xBB))                # Vietnamese letters (3 bytes)
    ok |= (b == 0xE2) & (b1 == 0x80) & ((b2 == 0x98) | (b2 == 0x99) | (b2 == 0x9C) | (b2 == 0x9D))  # ‘ ’ “ ”
    d_ = np.flatnonzero(ok & (b == 0xC4))                           # đ/Đ: is it "đến"?
    if len(d_):
        sub = at.sub(d_, col).cols(8)
        den = np.zeros(len(d_), bool)
        for v in _DEN:
            den |= _startswith(sub, 0, v)
        ok[d_[den]] = False
    return ok


def _key(G: np.ndarray, col: int, length: int) -> np.ndarray:
    """The ``length`` bytes of each row of ``G`` from column ``col``, as one integer (``_END`` as 0)."""
    key = np.zeros(len(G), np.uint64)
    for k in range(length):
        b = G[:, col + k] if col + k < G.shape[1] else np.full(len(G), _END, np.int16)
        key = (key << np.uint64(8)) | np.where(b == _END, 0, b).astype(np.uint64)
    return key


_SCALE_KEYS = {}
for _word, _f in _SCALE_WORDS:
    _SCALE_KEYS.setdefault(len(_word), {})[int.from_bytes(_word, "big")] = _f


def _scale_at(at: _At, col: int):
    """At the word starting at column ``col``: (is a scale word, its factor, the column after it)."""
    n = len(at)
    found, factor, after = np.zeros(n, bool), np.ones(n), np.full(n, col, np.int64)
    cand = np.flatnonzero(np.isin(at.cols(col + 1)[:, col], list(b"nNvVtT")))
    if not len(cand):
        return found, factor, after
    G = at.sub(cand, col).cols(max(_SCALE_KEYS) + 1)
    left = np.arange(len(cand))
    for length, table in _SCALE_KEYS.items():
        if not len(left):
            break
        keys = _key(G[left], 0, length)
        hit = np.isin(keys, np.array(list(table), np.uint64))
        if hit.any():
            rows = cand[left[hit]]
            found[rows] = True
            factor[rows] = [table[int(k)] for k in keys[hit]]
            after[rows] = col + length
            left = left[~hit]
    return found, factor, after


def _right(at: _At, second: bool):
    """What follows a number (``at`` is the byte after its last digit): (certain, scale factor, kind)
    with kind 0 (nothing), 1 (a slash and a number: "51,69/85%"), 2 (a hyphen and a number: "9-10%").
    ``second``: the number is itself the second of a slash or the high end of a range (nothing may follow)."""
    n = len(at)
    G = at.cols(5)
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
    p = np.flatnonzero(pct & (b1 == 32))
    if len(p):
        ok[p] = _word_start_ok(at.sub(p), 2)
    # a space and a word: a scale word multiplies; any other word that is not a range word ends the number
    sp = np.flatnonzero(b0 == 32)
    if len(sp):
        at_sp = at.sub(sp)
        word_ok = _word_start_ok(at_sp, 1)
        is_scale, f, after = _scale_at(at_sp, 1)
        ok[sp[word_ok & ~is_scale]] = True
        s = np.flatnonzero(word_ok & is_scale)
        if len(s):
            A = at_sp.sub(s, 0)
            A = _At(A.d, A.pos + after[s], A.stop).cols(8)              # what follows the scale word
            a0, a1 = A[:, 0], A[:, 1]
            plain = (a1 != _END) & (a1 < 128) & ~_ASCII_WS[a1]
            viet = ((a1 >= 0xC3) & (a1 <= 0xC6)) | (a1 == 0xE1)
            bad = np.zeros(len(s), bool)
            for v in _AFTER_SCALE:
                bad |= _startswith(A, 1, v)
            viet_ok = _word_start_ok(_At(at.d, at_sp.pos[s] + after[s], at_sp.stop[s]), 1)
            good = (a0 == _END) | _PUNCT[a0] | ((a0 == 32) & (plain | (viet & viet_ok)) & ~bad)
            ok[sp[s]] = good
            factor[sp[s]] = f[s]
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
        if isinstance(quotes, pa.ChunkedArray):
            quotes = quotes.combine_chunks()
        quotes = quotes.cast(pa.large_string())
        n = len(quotes)
        bufs = quotes.buffers()
        off = np.frombuffer(bufs[1], np.int64)[quotes.offset: quotes.offset + n + 1]
        d = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None and n else np.zeros(0, np.uint8)
        d, off = d[off[0]: off[-1]] if n else d, off - off[0]   # a slice of a column: its own bytes only
        self.d, self.off = d, off
        from .columnar import positions

        small = np.int32 if len(d) < 2**31 - 1 else np.int64   # positions and counts: half the memory
        P = positions(d, lambda chunk: (chunk - np.uint8(44)) <= 13, small)   # bytes , - . / and digits
        c = d[P] - np.uint8(44)                          # 0 ',' 1 '-' 2 '.' 3 '/' 4..13 digits
        nP = len(P)
        # runs: neighbouring digits, dots and commas within one quote
        brk = np.ones(nP, bool)
        if nP:
            brk[1:] = P[1:] != P[:-1] + 1
            # a quote that starts with one of these bytes right after a quote that ends with one: split there
            inner = off[1:-1][(off[1:-1] < len(d)) & (off[1:-1] > 0)]
            near = lambda at: (d[at] - np.uint8(44)) <= 13
            glued = inner[near(inner) & near(inner - 1)]
            brk[np.searchsorted(P, glued)] = True
        isn = (c != 1) & (c != 3)
        start_flag, end_flag = isn.copy(), isn.copy()
        start_flag[1:] &= brk[1:] | ~isn[:-1]
        end_flag[:-1] &= brk[1:] | ~isn[1:]
        starts, ends = np.flatnonzero(start_flag).astype(small), np.flatnonzero(end_flag).astype(small)
        del start_flag, end_flag, brk
        run_row = (np.searchsorted(off, P[starts], side="right") - 1).astype(small)
        en = english[run_row] if n else np.zeros(0, bool)
        digit = c >= 4
        last = ends.copy()                               # the last digit: dots and commas after it trail
        for _ in range(2):
            back = ~digit[last] & (last > starts)
            last[back] -= 1
        trailing = ends - last
        valid = digit[starts] & digit[last]
        # the separators inside each run (not the trailing ones); English pages swap commas and dots
        seps = np.flatnonzero(isn & ~digit).astype(small)
        sep_run = (np.searchsorted(starts, seps, side="right") - 1).astype(small)
        inside = seps <= last[np.maximum(sep_run, 0)]
        seps, sep_run = seps[inside], sep_run[inside]
        dot = (c[seps] == 2) != en[sep_run]              # a dot as the Vietnamese way reads it
        ndot = np.bincount(sep_run[dot], minlength=len(starts))
        ncom = np.bincount(sep_run[~dot], minlength=len(starts))
        same_next = np.zeros(len(seps), bool)
        same_next[:-1] = sep_run[1:] == sep_run[:-1]
        nxt = np.empty(len(seps), small)
        nxt[:-1] = seps[1:]
        nxt[~same_next] = last[sep_run[~same_next]] + 1
        gap = nxt - seps                                 # digits after the separator, plus one
        first_sep = np.ones(len(seps), bool)
        first_sep[1:] = ~same_next[:-1]
        # "16.803", "1.234,5": dots group three digits after one to three; a comma ends the integer part
        bad = (dot & (gap != 4)) | (dot & first_sep & ((seps - starts[sep_run]) > 3)) | (~dot & same_next)
        thousands = np.ones(len(starts), bool)
        thousands[sep_run[bad]] = False
        # a Vietnamese page's "62.86" or "1.5": one dot that cannot group thousands is the decimal point
        dot_gap = np.zeros(len(starts), np.int64)
        dot_gap[sep_run[dot]] = gap[dot]
        dot_decimal = ~en & (ndot == 1) & (ncom == 0) & (trailing == 0) & (dot_gap != 4)
        valid &= (ncom <= 1) & ((ndot == 0) | thousands | dot_decimal)
        keep = np.flatnonzero(valid)
        del isn, seps, sep_run, dot, same_next, nxt, gap, first_sep, bad, thousands, dot_gap
        # the value, read as nq57lib.numbers reads it: pyarrow parses the digits (correctly rounded, as float())
        lo, hi = P[starts[keep]], P[last[keep]] + 1
        bounds = np.empty(2 * len(keep), np.int64)
        bounds[0::2], bounds[1::2] = lo, hi
        text = pa.LargeStringArray.from_buffers(max(2 * len(keep) - 1, 0), pa.py_buffer(bounds), pa.py_buffer(d))
        text = text.take(pa.array(np.arange(0, 2 * len(keep), 2)))
        del bounds
        value = np.empty(len(keep))
        sep = (ndot + ncom)[keep] > 0
        k_en, k_dd = en[keep], dot_decimal[keep]
        for rows, edit in ((~sep, ()), (sep & k_dd, ()),                      # 168; 62.86 (a decimal dot)
                           (sep & k_en, ((",", ""),)),                         # 4,977.5 -> 4977.5
                           (sep & ~k_en & ~k_dd, ((".", ""), (",", ".")))):   # 16.803 -> 16803, 84,2 -> 84.2
            at = np.flatnonzero(rows)
            if len(at):
                part = text.take(pa.array(at))
                for old, new in edit:
                    part = pc.replace_substring(part, old, new)
                value[at] = pc.cast(part, pa.float64()).to_numpy(zero_copy_only=False)
        self.value = value
        self.run_row = run_row[keep]
        self.start, self.stop = lo, hi                   # bytes of the first digit, and after the last
        self.trailing = trailing[keep]
        prev_last = np.full(len(starts), -1, np.int64)   # the byte of the last digit before, in the same quote
        if len(starts) > 1:
            same = run_row[1:] == run_row[:-1]
            prev_last[1:][same] = P[last[:-1][same]]
        self.prev_digit = prev_last[keep]

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
        ok, factor, kind = _right(_At(self.d, self.stop[i], self.off[rows + 1]), second=False)
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
            ok2, f2, _ = _right(_At(self.d, self.stop[nxt], self.off[self.run_row[nxt] + 1]), second=True)
            good &= ok2
            ok[j] = good
            factor[j] = f2
            high_value[j] = self.value[nxt]
        ok &= self.value[i] * factor == want[i]
        if comparator is not None:
            asked = np.flatnonzero(ok & np.isin(comparator[rows], [">=", ">", "<=", "<", "between"]))
            if len(asked):
                said = self._said(i[asked], kind[asked], high_value[asked])
                wanted = comparator[rows[asked]]
                ok[asked] = [s is not False and s in (None, w) for s, w in zip(said, wanted)]
        out[rows[ok]] = True
        return out

    def _said(self, i: np.ndarray, kind: np.ndarray, high: np.ndarray) -> list:
        """The comparator with which each number ``i`` is stated (False: not known here)."""
        row = self.run_row[i]
        lo = np.where(self.prev_digit[i] >= 0, self.prev_digit[i] + 1, self.off[row])
        data = self.d.tobytes() if len(i) > 64 else None
        left = [(data[x:z] if data is not None else bytes(self.d[x:z])) for x, z in zip(lo.tolist(), self.start[i].tolist())]
        after = self.prev_digit[i] >= 0
        out = []
        memo: dict = {}
        for k in range(len(i)):
            if kind[k] == 2:
                out.append("between" if not high[k] < self.value[i[k]] else None)
                continue
            key = (left[k], bool(after[k]))
            if key not in memo:
                memo[key] = _words_comparator(left[k].decode("utf-8", errors="replace"), bool(after[k]))
            words = memo[key]
            out.append(None if kind[k] == 1 and words is not False and self.value[i[k]] == high[k] else words)
        return out


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
