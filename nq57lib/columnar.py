"""targets.csv and observations.csv as columns: pyarrow reads them, every check is a column operation.

:func:`read_facts` gives the typed targets and observations, or None when it finds anything it cannot
certify: a problem, or text outside what these column checks are shown to read exactly as the reference
reader (:mod:`nq57lib.rowreader`) does. The caller then reads the two files row by row, which words every
problem with its line; so error messages are the reference reader's, and this module only has to be
right when it says "valid", never to explain.

What it must agree on with the reference reader, and how:

- **CSV**: Python's csv module (strict) refuses a quote that closes before the end of a cell (``"x"y``)
  where pyarrow reads ``xy``; :func:`_quoting_ok` checks every quote character of the file first.
  Quoted line breaks are read alike (``newlines_in_values``). Cells are trimmed of exactly the characters
  ``str.strip()`` removes (:data:`PY_WHITESPACE`), not pyarrow's notion of whitespace.
- **NFC**: the reference reader normalizes the whole text first. Here each cell is normalized on its own
  (the same result: the CSV's commas, quotes and line breaks never combine with a mark), and only where
  :func:`_maybe_not_nfc` finds (conservatively) a character that NFC could change; distinct values of the
  dictionary columns are normalized in Python.
- **Cells**: the low-cardinality columns (province, indicator, source, year, comparator, dates, periods)
  are read as dictionaries; their distinct values go through the reference reader's own pandera checks
  and province resolution. Numbers are checked byte by byte against ``-?[0-9]+(?:\\.[0-9]+)?`` (ASCII digits,
  as the reference reader requires). Dates: ``pc.strptime`` would turn
  2025-02-30 into 2025-03-02, so dates are parsed by pandas on the distinct values, as the reference does.
- **Quotes**: :mod:`nq57lib.quotescan` certifies most rows; the others get the reference quote check,
  row by row.

Threads (numpy and pyarrow release the GIL): pyarrow parses while the quote characters are checked; the
quote check reads the quotes (in two halves at once from 200,000 rows) while the other checks run; the
targets file is read meanwhile. The frames are made after the quote check, so that its temporaries are
freed first (peak memory about 3x the frames).
"""
from __future__ import annotations

import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .dataset import COLUMNS, UNIT_SCALE, as_fact_dtypes, not_a_regular_file
from .quotescan import QuoteScan

#: the characters str.strip() removes (Python 3.11, Unicode 14); tests/test_columnar.py recomputes them
PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
                 "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
#: columns read as dictionaries (few distinct values); the others are plain text
_DICT = {"province", "indicator", "source_id", "year", "comparator", "period_end", "period"}

# UTF-8 lead bytes (and second bytes after a lead) of every character that NFC may change or reorder:
# canonical compositions' second characters, combining marks, characters that are not NFC by themselves.
# tests/test_columnar.py recomputes the set from unicodedata.
_NFC_LEADS = [0xCC, 0xCD, 0xCE, 0xD2, 0xD6, 0xD7, 0xD8, 0xD9, 0xDB, 0xDC, 0xDD, 0xDF]
_NFC_SECOND = {
    0xE0: [*range(0xA0, 0xB6), *range(0xB7, 0xC0)],
    0xE1: [0x80, 0x82, 0x85, 0x86, 0x87, 0x8D, 0x9C, 0x9F, 0xA2, 0xA4, *range(0xA8, 0xB1), 0xB3, 0xB7, 0xBD, 0xBE, 0xBF],
    0xE2: [0x83, 0x84, 0x8C, 0xAB, 0xB3, 0xB5, 0xB7],
    0xE3: [0x80, 0x82],
    0xEA: [0x99, 0x9A, 0x9B, 0xA0, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAF],
    0xEF: [*range(0xA4, 0xAE), 0xB8],
    0xF0: [0x90, 0x91, 0x96, 0x9B, 0x9D, 0x9E, 0xAF],
}
_NFC_THIRD = {(0xE2, 0x80): [0x80, 0x81]}  # U+2000 and U+2001 (NFC: U+2002, U+2003)
_LEAD_KIND = np.zeros(256, np.uint8)    # 1: always maybe; 2: look at the second byte
_LEAD_KIND[_NFC_LEADS] = 1
_LEAD_KIND[list(_NFC_SECOND)] = 2
_SECOND = np.zeros((256, 256), bool)
for _lead, _seconds in _NFC_SECOND.items():
    _SECOND[_lead, _seconds] = True


_CHUNK = 1 << 22   # bytes a byte scan looks at at once: small temporaries, few page faults


def positions(b: np.ndarray, test, dtype=np.int64) -> np.ndarray:
    """The positions where ``test(chunk)`` is true, found chunk by chunk."""
    parts = [(np.flatnonzero(test(b[k: k + _CHUNK])) + k).astype(dtype, copy=False) for k in range(0, len(b), _CHUNK)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _maybe_not_nfc(b: np.ndarray) -> bool:
    """Whether the UTF-8 bytes may hold a character that NFC changes (conservative: True may be wrong)."""
    hi = positions(b, lambda c: c >= 0xCC)
    if not len(hi):
        return False
    kind = _LEAD_KIND[b[hi]]
    if (kind == 1).any():
        return True
    two = hi[kind == 2]
    two = two[two + 1 < len(b)]
    if _SECOND[b[two], b[two + 1]].any():
        return True
    for (lead, second), thirds in _NFC_THIRD.items():
        at = two[(b[two] == lead) & (b[two + 1] == second)]
        at = at[at + 2 < len(b)]
        if np.isin(b[at + 2], thirds).any():
            return True
    return False


_BESIDE_QUOTE = np.zeros(256, bool)
_BESIDE_QUOTE[[44, 10, 13, 34]] = True     # , \n \r "


def _quoting_ok(b: np.ndarray) -> bool:
    """Every double quote opens a cell (after a comma, a line break or the start), closes it (before a comma,
    a line break or the end), or doubles a quote inside it: what Python's strict csv reader accepts and
    reads as pyarrow does. A quote in the middle of an unquoted cell is refused too (the reference reader
    decides)."""
    q = positions(b, lambda c: c == 34)
    if len(q) % 2:
        return False
    if not len(q):
        return True
    opens, closes = q[0::2], q[1::2]
    ok_open = (opens == 0) | _BESIDE_QUOTE[b[np.maximum(opens - 1, 0)]]
    ok_close = (closes == len(b) - 1) | _BESIDE_QUOTE[b[np.minimum(closes + 1, len(b) - 1)]]
    return bool(ok_open.all() and ok_close.all())


#: why the last :func:`read_facts` returned None ("" when it did not): for tests and benchmarks
last_refusal = ""


def _refuse(why: str) -> None:
    global last_refusal
    last_refusal = why
    return None


class _Text:
    """A dictionary column: its distinct values (trimmed, Python str) and each row's code."""

    def __init__(self, values: list[str], codes: np.ndarray):
        self.values, self.codes = values, codes

    def map(self, table: dict, default=None) -> np.ndarray:
        """Each row's value looked up in ``table`` (an object array)."""
        per_value = np.array([table.get(v, default) for v in self.values] + [default], object)
        return per_value[self.codes]

    def arrow(self) -> pa.Array:
        return pa.array(self.values, pa.string()).take(pa.array(self.codes))


def _buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets as int64, the bytes) of a string array, without copying the bytes."""
    arr = arr.cast(pa.large_string())
    off = np.frombuffer(arr.buffers()[1], np.int64)[arr.offset: arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    return off, (np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8))


_WS_BYTE = np.zeros(256, bool)
_WS_BYTE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True


def _needs_trim(arr: pa.Array) -> bool:
    """Whether a cell may start or end with a character str.strip() removes (conservative)."""
    off, d = _buffers(arr)
    full = off[1:] > off[:-1]
    if not full.any():
        return False
    first, end = off[:-1][full], off[1:][full]
    f0, f1 = d[first], d[np.minimum(first + 1, len(d) - 1)]
    l0, l1 = d[end - 1], d[np.maximum(end - 2, 0)]
    start_ws = _WS_BYTE[f0] | np.isin(f0, [0xC2, 0xE2, 0xE3]) | ((f0 == 0xE1) & (f1 == 0x9A))
    end_ws = _WS_BYTE[l0] | (np.isin(l0, [0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x9F, 0xA0,
                                          0xA8, 0xA9, 0xAF]) & np.isin(l1, [0xC2, 0x80, 0x81, 0x9A]))
    return bool(start_ws.any() or end_ws.any())


def _clean_text(arr: pa.Array, nfc: bool = True) -> pa.Array:
    """A plain text column as the reference reader has it: NFC (as the whole text was), stripped.
    ``nfc=False``: a number column, whose cells are checked to be ASCII later."""
    if _needs_trim(arr):
        arr = pc.utf8_trim(arr, PY_WHITESPACE)
    if nfc and _maybe_not_nfc(_buffers(arr)[1]):
        arr = pc.utf8_normalize(arr, "NFC")
    return arr


def _clean_values(values: list[str]) -> list[str]:
    return [unicodedata.normalize("NFC", v).strip() for v in values]


def _read(path: Path, required: tuple, optional: tuple) -> dict | None:
    """The file's columns (dictionary columns as :class:`_Text`, others as pyarrow strings), each cell NFC and
    stripped; None when it is not certain that Python's csv module reads the file the same way."""
    if not_a_regular_file(path):
        return _refuse("not a regular file")
    raw = path.read_bytes()
    start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    b = np.frombuffer(raw, np.uint8)[start:]
    if not len(b) or b"\x00" in raw[start: start + 65536]:
        return _refuse("empty or binary")
    end = raw.find(b"\n", start)
    line = raw[start: end if end >= 0 else len(raw)]
    if b'"' in line or b"\r" in line.rstrip(b"\r"):
        return _refuse("a header with quotes or line breaks")
    try:
        header = _clean_values(line.decode("utf-8").split(","))
    except UnicodeDecodeError:
        return _refuse("a header that is not UTF-8")
    if len(set(header)) != len(header) or set(required) - set(header) or set(header) - set(required + optional):
        return _refuse("header columns")
    names = [f"c{i}" for i in range(len(header))]
    types = {n: pa.dictionary(pa.int32(), pa.string()) if h in _DICT else pa.string() for n, h in zip(names, header)}
    options = dict(read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
                   parse_options=pacsv.ParseOptions(newlines_in_values=True),
                   convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                                        quoted_strings_can_be_null=False))
    with ThreadPoolExecutor(1) as pool:          # pyarrow parses while the quotes are checked here
        parsed = pool.submit(pacsv.read_csv, pa.BufferReader(pa.py_buffer(raw)[start:]), **options)
        if not _quoting_ok(b):
            parsed.cancel()
            return _refuse("a quote character the strict csv reader may refuse")
        try:
            table = parsed.result()
        except (pa.ArrowInvalid, pa.ArrowException, UnicodeDecodeError):
            return _refuse("pyarrow cannot parse it")
    del raw, b
    pa.default_memory_pool().release_unused()
    n = table.num_rows
    cols = {}
    for name, h in zip(names, header):
        col = table.column(name)
        if h in _DICT:
            col = col.unify_dictionaries() if col.num_chunks > 1 else col
            if col.num_chunks:
                values = _clean_values(col.chunk(0).dictionary.to_pylist())
                codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in col.chunks])
            else:
                values, codes = [], np.zeros(0, np.int32)
            canon: dict[str, int] = {}   # values equal once cleaned get one code
            recode = np.array([canon.setdefault(v, len(canon)) for v in values] + [0], np.int32)
            cols[h] = _Text(list(canon), recode[codes] if len(canon) != len(values) else codes)
        else:
            # numbers are checked to be ASCII later; the quotes' NFC check runs with the quote check
            cols[h] = _clean_text(col.combine_chunks() if col.num_chunks != 1 else col.chunk(0),
                                  nfc=h not in ("value", "value_high", "quote"))
    for h in required + optional:
        if h not in cols:
            cols[h] = _Text([""], np.zeros(n, np.int32)) if h in _DICT else pa.array([""] * n, pa.string())
    cols["_n"] = n
    return cols


def _lengths(arr: pa.Array) -> np.ndarray:
    return pc.binary_length(arr).to_numpy(zero_copy_only=False)


def _numbers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(is empty, value as float, the text) of a number column; None when a cell is not -?digits[.digits]
    in ASCII (the reference reader decides then)."""
    off, d = _buffers(arr)
    d = d[off[0]: off[-1]]
    off = off - off[0]
    empty = off[1:] == off[:-1]
    if len(d):
        digit = (d >= 48) & (d <= 57)
        dot, minus = d == 46, d == 45
        if not (digit | dot | minus).all():
            return None
        full = off[:-1][~empty]                   # the cells with bytes lie end to end: one segment each
        ndot, nminus = np.zeros(len(empty), np.int64), np.zeros(len(empty), np.int64)
        ndot[~empty] = np.add.reduceat(dot.astype(np.int32), full)
        nminus[~empty] = np.add.reduceat(minus.astype(np.int32), full)
        first = np.where(empty, 0, d[np.minimum(off[:-1], len(d) - 1)])
        ok = empty | ((ndot <= 1) & ((nminus == 0) | ((nminus == 1) & (first == 45))))
        # a dot needs a digit on each side; a minus needs a digit after it
        dots = np.flatnonzero(dot)
        if len(dots):
            row = np.searchsorted(off, dots, side="right") - 1
            ok[row] &= (dots > off[row]) & (dots + 1 < off[row + 1]) & digit[np.maximum(dots - 1, 0)] \
                & digit[np.minimum(dots + 1, len(d) - 1)]
        minus_rows = np.flatnonzero(nminus == 1)
        ok[minus_rows] &= (off[minus_rows + 1] - off[minus_rows] >= 2) & digit[np.minimum(off[minus_rows] + 1, len(d) - 1)]
        if not ok.all():
            return None
    values = pc.cast(pc.if_else(pc.equal(arr, ""), None, arr), pa.float64()).to_numpy(zero_copy_only=False)
    return empty, values.astype(float), arr


def read_facts(data_dir: Path, refs, today: str) -> dict[str, pd.DataFrame] | None:
    """The typed targets and observations, or None (read them row by row: there may be a problem)."""
    global last_refusal
    last_refusal = ""
    if refs.provinces is None or refs.indicators is None or refs.sources is None:
        return _refuse("a reference table is missing")

    def one(name):
        cols = _read(Path(data_dir) / name, *COLUMNS[name])
        frame = None if cols is None else _facts(name, cols, refs, today)
        if frame is None:
            raise _Refused(f"{name}: {last_refusal}")
        return frame

    with ThreadPoolExecutor(1) as pool:   # the small targets file meanwhile
        targets = pool.submit(one, "targets.csv")
        try:
            observations = one("observations.csv")
            return {"targets": targets.result(), "observations": observations}
        except _Refused as e:
            targets.cancel()
            return _refuse(str(e))


class _Refused(Exception):
    pass


def _cells_ok(name: str, cols: dict) -> bool:
    """The reference reader's pandera checks on the distinct values of the dictionary columns."""
    from .rowreader import cell_problems

    texts = {h: c.values for h, c in cols.items() if isinstance(c, _Text)}
    width = max([len(v) for v in texts.values()] + [1])
    frame = pd.DataFrame({h: pd.Series((v or [""]) + [(v or [""])[0]] * (width - len(v or [""])), dtype=object)
                          for h, v in texts.items()})
    frame["_line"] = 0
    return not cell_problems(name, frame)


#: from this many quotes on, the quote check runs on two halves at once
_SPLIT_ROWS = 200_000


def _scan(quote, english, asked) -> tuple[np.ndarray, pa.Array | None]:
    """Rows whose quote certainly states their figures (see :mod:`nq57lib.quotescan`), and the quotes in NFC
    when they were not (else None). ``asked`` is a Future of (value quantities, high-end quantities or None,
    comparators or None): the quotes are read while the caller computes them."""

    def part(lo, hi, quote):
        piece = quote.slice(lo, hi - lo)
        if quote is original and _maybe_not_nfc(_buffers(piece)[1]):
            return None
        scan = QuoteScan(piece, english[lo:hi])
        qty_value, qty_high, comparator = asked.result()
        certain = scan.states(qty_value[lo:hi], None if comparator is None else comparator[lo:hi])
        if qty_high is not None:
            certain &= scan.states(qty_high[lo:hi])
        return certain

    def run(quote):
        n = len(quote)
        if n < _SPLIT_ROWS:
            return [part(0, n, quote)]
        with ThreadPoolExecutor(2) as pool:     # two halves at once: numpy and pyarrow release the GIL
            return [h.result() for h in [pool.submit(part, lo, hi, quote) for lo, hi in ((0, n // 2), (n // 2, n))]]

    original = quote
    parts = run(quote)
    if any(p is None for p in parts):           # quotes that are not NFC (rare): normalized, then read
        quote = pc.utf8_normalize(quote, "NFC")
        parts = run(quote)
    return np.concatenate(parts), (None if quote is original else quote)


def _facts(name: str, cols: dict, refs, today: str) -> pd.DataFrame | None:
    """Every check of rowreader.fact_checks as column operations, then the typed frame (None: refused).

    The quote check (numpy and pyarrow, which release the GIL) runs in other threads meanwhile."""
    targets = name == "targets.csv"
    n = cols["_n"]
    ind, src = refs.indicators, refs.sources
    if any(x not in ind for x in cols["indicator"].values) or any(x not in src for x in cols["source_id"].values):
        return _refuse("an unknown indicator or source")
    english = cols["source_id"].map({k: s.get("language") == "en" for k, s in src.items()}).astype(bool)
    asked = Future()
    with ThreadPoolExecutor(1) as pool:
        certain = pool.submit(_scan, cols["quote"], english, asked)
        try:
            value = _numbers(cols["value"])
            high = _numbers(cols["value_high"]) if targets else (np.ones(n, bool), np.full(n, np.nan), None)
            if value is None or high is None:
                asked.set_result((np.full(n, np.nan), None, None))
                return _refuse("a number cell")
            v_empty, v, v_text = value
            h_empty, h, _ = high
            unit = cols["indicator"].map({k: m["unit"] for k, m in ind.items()})
            milestone = unit == "milestone"
            scale = cols["indicator"].map({k: UNIT_SCALE.get(m["unit"], 1.0) for k, m in ind.items()}).astype(float)
            comparator = cols["comparator"].map({c: c for c in cols["comparator"].values}, "") if targets else None
            q_empty = _lengths(cols["quote"]) == 0
            question = ~q_empty & ~milestone
            asked.set_result((np.where(question & ~v_empty, v * scale, np.nan),
                              np.where(question & ~h_empty, h * scale, np.nan) if targets else None, comparator))
            province = _check(name, cols, refs, today, targets, unit, milestone, comparator, v, v_text, v_empty,
                              h, h_empty, q_empty)
            order = None if province is None or targets else _observation_order(cols, province, refs)
        finally:
            if not asked.done():
                asked.set_result((np.full(n, np.nan), None, None))
            certain, normalized = certain.result()   # its temporaries are freed before the frames are made
            pa.default_memory_pool().release_unused()
    if province is None or (not targets and order is None):
        return None
    frame = (_typed_targets(cols, province, refs, v, h, v_empty, h_empty) if targets
             else _typed_observations(cols, province, refs, v, *order))
    if frame is None:
        return None
    if normalized is not None:           # quotes that were not NFC: the frame and the residue get them in NFC
        cols["quote"] = normalized
        perm = cols.get("_perm")
        frame["quote"] = (normalized if perm is None else normalized.take(pa.array(perm))).to_pandas().array
    residue = np.flatnonzero(~certain)
    if len(residue) and not _reference_quotes(name, cols, residue, refs, today):
        return _refuse("the quote check")
    return frame


def _check(name, cols, refs, today, targets, unit, milestone, comparator, v, v_text, v_empty, h, h_empty, q_empty):
    """The checks other than the quote check; each row's province (its row in provinces.csv), or None."""
    if cols["_n"] and not _cells_ok(name, cols):
        return _refuse("a cell check")
    ind, src = refs.indicators, refs.sources
    num = lambda s: float(s) if s not in ("", None) else np.nan
    lo = cols["indicator"].map({k: num(m.get("lower_bound", "")) for k, m in ind.items()}).astype(float)
    hi = cols["indicator"].map({k: num(m.get("upper_bound", "")) for k, m in ind.items()}).astype(float)
    has_url = cols["source_id"].map({k: bool(s.get("url")) for k, s in src.items()}).astype(bool)
    province = _provinces(cols, refs, targets)
    if province is None:
        return _refuse("an unknown province")
    # rowreader.fact_problems
    if targets:
        comp_empty = comparator == ""
        between = comparator == "between"
        bad = milestone & (~comp_empty | ~v_empty | ~h_empty)
        q = ~milestone
        bad |= q & comp_empty
        bad |= q & between & h_empty
        bad |= q & ~between & ~comp_empty & ~h_empty
        bad |= q & ~v_empty & ~h_empty & (h < v)
        bad |= q & v_empty
        bad |= q & ~h_empty & ((h < lo) | (h > hi))
    else:
        zero_one = (_lengths(v_text) == 1) & np.isin(v, [0.0, 1.0]) & ~np.signbit(v)
        bad = milestone & ~zero_one
        bad |= ~milestone & v_empty
    bad |= ~milestone & ~v_empty & ((v < lo) | (v > hi))
    if bad.any():
        return _refuse("a fact check (bounds, comparator, milestone)")
    # a document's figure needs a quote, a web page's a note; a reported figure cannot be after today
    note_empty = _lengths(cols["note"]) == 0
    if (q_empty & ~has_url).any() or (q_empty & has_url & note_empty).any():
        return _refuse("a quote or note is missing")
    if not targets and any(p > today for p in cols["period_end"].values):
        return _refuse("an observation after today")
    return province


def _reference_quotes(name, cols, rows, refs, today) -> bool:
    """The reference quote check (rowreader.quote_problems) on the rows the scan could not certify."""
    from .rowreader import quote_problems

    get = lambda h: (lambda i: cols[h].values[cols[h].codes[i]]) if isinstance(cols[h], _Text) else \
        (lambda i, a=cols[h]: a[int(i)].as_py())
    fields = [h for h in ("indicator", "source_id", "quote", "value", "value_high", "comparator", "period_end")
              if h in cols]
    readers = {h: get(h) for h in fields}
    problems = []
    for i in rows:
        row = {h: readers[h](i) for h in fields}
        row["_line"] = 0
        quote_problems(name, row, refs.indicators.get(row["indicator"]), problems, today,
                       refs.sources.get(row["source_id"]))
        if problems:
            return False
    return True


def _provinces(cols, refs, targets: bool) -> np.ndarray | None:
    """Each row's province as its row in provinces.csv (resolved by date where a code named two units over
    time); None if one is unknown."""
    index = refs.index
    row_of = {s: i for i, s in enumerate(refs.provinces["slug"])}
    prov = cols["province"]
    dated = np.array([index.depends_on_date(v) for v in prov.values] + [False], bool)
    fixed = [None if d else index.resolve(v) for v, d in zip(prov.values, dated)]
    if any(s is None for s, d in zip(fixed, dated) if not d):
        return None
    code = np.array([-1 if s is None else row_of[s] for s in fixed] + [-1], np.int64)[prov.codes]
    rows = np.flatnonzero(dated[prov.codes])
    if len(rows):
        when = cols["year"] if targets else cols["period_end"]
        pairs = pd.DataFrame({"p": prov.codes[rows], "w": when.codes[rows]})
        for (p, w), group in pairs.groupby(["p", "w"]).groups.items():
            on = f"{when.values[w]}-12-31" if targets else when.values[w]
            s = index.resolve(prov.values[p], on)
            if s is None:
                return None
            code[rows[np.asarray(group)]] = row_of[s]
    return code


def _province_columns(code: np.ndarray, refs):
    take = pa.array(code)
    return (pa.array(refs.provinces["name"].tolist(), pa.string()).take(take).to_pandas(),
            pa.array(refs.provinces["slug"].tolist(), pa.string()).take(take).to_pandas())


def _text(col) -> pd.Series:
    arr = col.arrow() if isinstance(col, _Text) else col
    return arr.to_pandas()


def _typed_targets(cols, sc, refs, v, h, v_empty, h_empty) -> pd.DataFrame | None:
    ind, src = cols["indicator"], cols["source_id"]
    year_values = np.array([int(y) for y in cols["year"].values] + [0], np.int64)
    key = pd.DataFrame({"s": sc, "i": ind.codes, "y": year_values[cols["year"].codes], "src": src.codes})
    if key.duplicated().any():
        return _refuse("a duplicate target")
    province, province_slug = _province_columns(sc, refs)
    comp_values = np.array([c or None for c in cols["comparator"].values] + [None], object)
    frame = pd.DataFrame({
        "province": province, "province_slug": province_slug, "indicator": _text(ind),
        "year": year_values[cols["year"].codes],
        "comparator": pd.Series(comp_values[cols["comparator"].codes], dtype=object),
        "value": np.where(v_empty, np.nan, v), "value_high": np.where(h_empty, np.nan, h),
        "source_id": _text(src), "quote": _text(cols["quote"]), "note": _text(cols["note"]),
        "note_en": _text(cols["note_en"]),
    })
    return as_fact_dtypes(frame)


def _rank(values: list) -> np.ndarray:
    """The rank of each distinct value in sorted order (and 0 for the code past the end)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    rank = np.zeros(len(values) + 1, np.int64)
    rank[order] = np.arange(len(values))
    return rank


def _observation_order(cols, sc, refs):
    """(the permutation that sorts observations by province name, indicator and date, the distinct dates), or
    None when two have the same unit, indicator and date. The sort is stable and its keys unique (else it is
    a duplicate), so the order is computed by counting."""
    ind, pe = cols["indicator"], cols["period_end"]
    dates = pd.to_datetime(pd.Series(pe.values, dtype=object))
    n_ind, n_date = len(ind.values) + 1, len(pe.values) + 1
    key = (_rank(refs.provinces["name"].tolist())[sc] * n_ind + _rank(ind.values)[ind.codes]) * n_date \
        + _rank(list(dates.array))[pe.codes]
    size = len(refs.provinces) * n_ind * n_date
    if size <= 4 * len(key) + 1_000_000:
        seen = np.bincount(key, minlength=size + 1)
        if (seen > 1).any():
            return _refuse("a duplicate observation")
        position = (np.cumsum(seen) - 1)[key]
        perm = np.empty(len(key), np.int64)
        perm[position] = np.arange(len(key))
    else:
        perm = np.argsort(key, kind="stable")
        if (key[perm][1:] == key[perm][:-1]).any():
            return _refuse("a duplicate observation")
    return perm, dates


def _typed_observations(cols, sc, refs, v, perm, dates) -> pd.DataFrame | None:
    """The observations in the order of :func:`_observation_order`, as the reference reader sorts them."""
    ind, pe, per, src = cols["indicator"], cols["period_end"], cols["period"], cols["source_id"]
    identity = bool((perm == np.arange(len(perm))).all())
    cols["_perm"] = None if identity else perm
    take = (lambda a: a) if identity else (lambda a: a if not pc.max(pc.binary_length(a)).as_py()
                                           else a.take(pa.array(perm)))
    codes = (lambda t: t.codes) if identity else (lambda t: t.codes[perm])
    names = refs.provinces["name"].tolist(), refs.provinces["slug"].tolist()
    where = sc if identity else sc[perm]
    build = {   # each a pyarrow take (the GIL released): two at a time
        "province": lambda: _Text(names[0], where).arrow(), "province_slug": lambda: _Text(names[1], where).arrow(),
        "indicator": lambda: _Text(ind.values, codes(ind)).arrow(),
        "period": lambda: _Text(per.values, codes(per)).arrow(),
        "source_id": lambda: _Text(src.values, codes(src)).arrow(),
        "quote": lambda: take(cols["quote"]), "note": lambda: take(cols["note"]),
        "note_en": lambda: take(cols["note_en"])}
    with ThreadPoolExecutor(2) as pool:
        text = dict(zip(build, pool.map(lambda f: f().to_pandas(), build.values())))
    frame = pd.DataFrame({
        "province": text["province"], "province_slug": text["province_slug"], "indicator": text["indicator"],
        "period_end": dates.to_numpy()[codes(pe)], "period": text["period"], "value": v if identity else v[perm],
        "source_id": text["source_id"], "quote": text["quote"], "note": text["note"], "note_en": text["note_en"],
    })
    return as_fact_dtypes(frame)
