"""Developers: how well ``nq57 extract`` finds the curated figures of the seed documents.

    python scripts/extract_eval.py ../shared/seeds      (or: make extract-eval)

For each seed document named in sources.csv (``note``: "seeds/NNN_..."), extract runs with the unit,
date and source id of the curated rows from it, and its rows are compared with those curated rows:

- recall: the share of the curated targets and figures (rows with a numeric value; milestones are not
  figures) for which extract proposes a row of the same kind and value (and value_high) whose quote
  overlaps the curated quote in the document;
- precision: the share of extract's rows that are real facts: rows that match a curated row that way, or
  that restate one (same kind, value and indicator elsewhere in the same document).

Also printed: how many recalled rows have the curated indicator, and every miss and every row that is not
a real fact, for a person to judge. The project's tests never read ../shared.
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

import nq57lib
from nq57lib.extract import extract, read_document


def _spans(text: str, quote: str) -> list[tuple[int, int]]:
    out, start = [], text.find(quote)
    while start >= 0:
        out.append((start, start + len(quote)))
        start = text.find(quote, start + 1)
    return out


def _same_value(a: str, b) -> bool:
    if a == "" or b is None or pd.isna(b):
        return (a == "") == (b is None or pd.isna(b))
    return abs(float(a) - float(b)) < 1e-9


def evaluate(seed_dir: Path, verbose: bool = True) -> tuple[float, float]:
    ds = nq57lib.load()
    units = ds.indicators.set_index("id")["unit"]
    found = tp_rows = n_rows = n_curated = right_indicator = restated = 0
    misses, wrong = [], []
    for src in ds.sources.itertuples():
        m = re.search(r"seeds/(\d{3}_\w+\.txt)", src.note or "")
        if not m or not (seed_dir / m.group(1)).is_file():
            continue
        doc = read_document(seed_dir / m.group(1))
        curated = []
        for kind, frame in (("target", ds.targets), ("observation", ds.observations)):
            rows = frame[(frame.source_id == src.id) & frame.value.notna()]
            for r in rows.itertuples():
                if units[r.indicator] != "milestone":
                    curated.append((kind, r, _spans(doc.text, r.quote)))
        province = Counter(r.province for _, r, _ in curated).most_common(1)[0][0] if curated else None
        rows = extract(doc, ds, province=province, source_id=src.id)
        n_rows += len(rows)
        n_curated += len(curated)

        def matches(c, kind, r, spans):
            return c.kind == kind and _same_value(c.value, r.value) and \
                _same_value(c.value_high, getattr(r, "value_high", None)) and \
                any(a < c.end and c.start < b for a, b in spans)

        real = [False] * len(rows)
        for kind, r, spans in curated:
            hits = [i for i, c in enumerate(rows.itertuples()) if matches(c, kind, r, spans)]
            for i in hits:
                real[i] = True
            if hits:
                found += 1
                right_indicator += any(rows.iloc[i].indicator == r.indicator for i in hits)
            else:
                misses.append(f"{src.id}: {kind} {r.indicator} {r.value:g} «{r.quote}»")
        for i, c in enumerate(rows.itertuples()):
            if not real[i] and any(c.kind == kind and _same_value(c.value, r.value) and c.indicator == r.indicator
                                   for kind, r, _ in curated):
                real[i] = True   # restates a curated fact
                restated += 1
            if real[i]:
                tp_rows += 1
            else:
                wrong.append(f"{src.id}: {c.kind} {c.indicator or '?'} {c.value} «{c.quote}» ({c.confidence})")
    recall = found / n_curated if n_curated else 0.0
    precision = tp_rows / n_rows if n_rows else 0.0
    print(f"extract on {seed_dir}: recall {recall:.1%} ({found} of {n_curated} curated targets and figures "
          f"proposed with the same kind and value), precision {precision:.1%} ({tp_rows} of {n_rows} rows are "
          f"real facts, {restated} of them restating a curated fact elsewhere in the document); the indicator is "
          f"the curated one for {right_indicator} of the {found} found")
    if verbose:
        for title, items in (("missed", misses), ("not a real fact", wrong)):
            if items:
                print(f"{title}:")
                for line in items:
                    print("  " + line)
    return recall, precision


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/seeds")
    if not folder.is_dir():
        print(f"{folder}: no such folder (the seed documents are in ../shared/seeds)", file=sys.stderr)
        sys.exit(2)
    evaluate(folder)
