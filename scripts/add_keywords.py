"""Maintainers: fill the ``keywords`` cell of indicators from a two-column CSV (id,keywords), for rows
added to data/indicators.csv without it (e.g. scripts/keywords_new_indicators.csv after a merge).

    python scripts/add_keywords.py data/indicators.csv scripts/keywords_new_indicators.csv

A row that lacks the cell gets it; a row whose cell is empty gets the words; a row with words keeps them.
Every other cell and line is left as it is (the file is edited line by line, not rewritten by a CSV writer).
"""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path


def _cell(value: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([value])
    return buf.getvalue()


def main(indicators: str, keywords: str) -> int:
    path = Path(indicators)
    words = {r["id"]: r["keywords"] for r in csv.DictReader(open(keywords, encoding="utf-8"))}
    text = path.read_text(encoding="utf-8")
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    header = next(csv.reader([lines[0]]))
    if "keywords" not in header:
        print(f"{path}: no keywords column in the header", file=sys.stderr)
        return 2
    at = header.index("keywords")
    done = 0
    for i, line in enumerate(lines[1:], start=1):
        if not line:
            continue
        cells = next(csv.reader([line]))
        if cells[0] not in words:
            continue
        if len(cells) == at:                       # the cell is missing: add it
            lines[i] = line + "," + _cell(words[cells[0]])
            done += 1
        elif len(cells) == at + 1 and cells[at] == "" and at == len(header) - 1:
            lines[i] = line + _cell(words[cells[0]])  # the last cell is empty: fill it
            done += 1
    path.write_text(newline.join(lines), encoding="utf-8")
    print(f"{path}: keywords added to {done} indicators")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
