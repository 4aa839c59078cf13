"""Extract the SDSN 2019 Europe SDR trend inputs and published arrows into a compact CSV for the tests.

    python scripts/extract_sdsn.py ../shared/conformance/sdsn-2019-europe-sdr/data.xlsx

Writes tests/conformance/sdsn2019_europe_trends.csv (the tests never read ../shared).
Source: SDSN & IEEP (2019), The 2019 Europe Sustainable Development Report, CC BY 4.0.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "tests" / "conformance" / "sdsn2019_europe_trends.csv"
HEADER = (
    "# SDSN & IEEP. 2019. The 2019 Europe Sustainable Development Report. Sustainable Development Solutions\n"
    "# Network and Institute for European Environmental Policy: Paris and Brussels. github.com/sdsna/2019EUIndex\n"
    "# Licence: Creative Commons Attribution 4.0 (CC BY 4.0). Extracted by scripts/extract_sdsn.py from data.xlsx:\n"
    "# sheets Codebook (years used, optimum, lower bound, green threshold), Raw Trend Data (values), Full Database (arrows).\n"
)


def main(xlsx: str) -> int:
    book = pd.ExcelFile(xlsx)
    codebook = pd.read_excel(book, "Codebook")
    raw = pd.read_excel(book, "Raw Trend Data")
    full = pd.read_excel(book, "Full Database")
    raw.columns = [str(c).strip() for c in raw.columns]
    full.columns = [str(c).strip() for c in full.columns]
    rows = []
    for ind in codebook[codebook["Trend"].astype(str).str.strip().str.lower() == "yes"].itertuples():
        name = str(ind.Indicator).strip()
        base, latest = (int(y) for y in str(ind.Years_Used).split("-"))
        values = raw.pivot_table(index="id", columns="year", values=name, aggfunc="first") if name in raw else None
        arrows = full.set_index("id").get(f"Trend {name}")
        if values is None or arrows is None:
            continue
        for country, arrow in arrows.dropna().items():
            if country not in values.index or base not in values or latest not in values:
                continue
            b, l = values.at[country, base], values.at[country, latest]
            if pd.isna(b) or pd.isna(l):
                continue
            rows.append({"indicator": name, "country": country, "base_year": base, "base_value": b,
                         "latest_year": latest, "latest_value": l,
                         "optimum": getattr(ind, "_9"), "lower_bound": getattr(ind, "_10"),
                         "green_threshold": getattr(ind, "_11"), "published": str(arrow).strip()})
    table = pd.DataFrame(rows)
    with open(OUT, "w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        table.to_csv(f, index=False, lineterminator="\n", float_format="%.10g")
    print(f"{len(table)} country x indicator arrows -> {OUT}")
    print(table.published.value_counts().to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
