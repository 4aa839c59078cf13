"""Developers' audit: every number in the seed documents is either in data/ (inside a row's quote)
or listed, with the reason, in scripts/audit_skip.csv.

    python scripts/audit_seeds.py ../shared/seeds      (or: make audit)

Also checks that every quote of a seed-document row appears verbatim in its document.
The project's tests never read ../shared; this script is run by hand when the data changes.
"""
from __future__ import annotations

import csv
import re
import sys
import unicodedata
from pathlib import Path

import nq57lib

HERE = Path(__file__).resolve().parent

# numbers that are not figures: dates, years, times, document numbers, file names, page counters
_NOT_FIGURES = [
    ("date", r"\d{1,2}/\d{1,2}(?:/ ?\d{4})?|\d{1,2}-\d{1,2}/\d{1,2}/\d{4}"),
    ("year", r"(?<![\d.,])(?:19|20)\d\d(?!\d|[.,]\d|%)"),
    ("time", r"\d{1,2}:\d{2}|\d+ giờ \d+ phút"),
    ("document number", r"\d+[-/](?:NQ|CTr|QĐ|KH|TT|NĐ|QH)\w*|Số:? \d+|Đề án số \d+|số \d+/"),
    ("resolution name", r"Nghị quyết(?: số)? 57|Tổ giúp việc 57"),
    ("image file name", r"\w*\d\w*\.jpg"),
    ("page counter", r"(?:lượt xem|lượt tải|Đang truy cập|Hôm nay|Tháng hiện tại|Tháng trước|Tổng lượt truy cập"
                     r"|Đang online|Trong tuần|Tất cả|Thời gian chờ):? ?[\d.,]+|\d+ \d+\s+Trong bối cảnh"
                     r"|điểm của bài viết là: \d+ trong \d+"),
    ("phone number", r"0214\.\d{4}\.\d{3}"),
    ("ordinal or address", r"(?:Quý|thành phần|khối|Tượng|Cuông|lần thứ) \d+|\d+ năm Ngày|kỷ niệm \d+ năm|\d+ năm (?:Ngày|Cách mạng)"
                           r"|Trong \d+ ngày|từ ngày \d+|ngày \d+|tháng \d+"),
]


def main(seed_dir: str) -> int:
    ds = nq57lib.load()
    seeds = {p.name[:3]: unicodedata.normalize("NFC", p.read_text(encoding="utf-8"))
             for p in sorted(Path(seed_dir).glob("0*.txt"))}
    file_of = {}
    for row in ds.sources.itertuples():
        m = re.search(r"seeds/(\d{3})_", row.note or "")
        if m:
            file_of[row.id] = m.group(1)
    facts = [r for f in (ds.targets, ds.observations) for r in f.itertuples() if r.source_id in file_of]
    spans: dict[str, list[tuple[int, int]]] = {k: [] for k in seeds}
    missing_quotes = []
    for r in facts:
        text = seeds[file_of[r.source_id]]
        start = text.find(r.quote)
        if start < 0:
            missing_quotes.append(f"{r.source_id}: {r.quote!r}")
        while start >= 0:
            spans[file_of[r.source_id]].append((start, start + len(r.quote)))
            start = text.find(r.quote, start + 1)
    skips = list(csv.DictReader(open(HERE / "audit_skip.csv", encoding="utf-8")))
    total = covered = skipped = 0
    uncovered = []
    not_figures: dict[str, int] = {}
    for seed, text in seeds.items():
        for m in re.finditer(r"\d+(?:[.,]\d+)*", text):
            total += 1
            if any(a <= m.start() and m.end() <= b for a, b in spans[seed]):
                covered += 1
                continue
            kind = next((k for k, rx in _NOT_FIGURES for n in re.finditer(rx, text)
                         if n.start() <= m.start() and m.end() <= n.end()), None)
            if kind:
                not_figures[kind] = not_figures.get(kind, 0) + 1
                continue
            ctx = text[max(0, m.start() - 40): m.end() + 40].replace("\n", " ")
            if any(s["seed"] == seed and s["context"] in text[max(0, m.start() - 200): m.end() + 200]
                   and m.group(0) in s["context"] for s in skips):
                skipped += 1
                continue
            uncovered.append(f"{seed}: {m.group(0)!r} in …{ctx}…")
    print(f"seed numbers: {total}; in data/: {covered}; skipped with a reason: {skipped}; "
          f"not figures: {sum(not_figures.values())} ({', '.join(f'{k} {v}' for k, v in sorted(not_figures.items()))}); "
          f"unaccounted: {len(uncovered)}; quotes not found verbatim: {len(missing_quotes)}")
    for line in uncovered + missing_quotes:
        print("  " + line)
    return 1 if uncovered or missing_quotes else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "../shared/seeds"))
