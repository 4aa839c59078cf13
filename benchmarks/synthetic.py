"""Synthetic data for benchmarks and tests, made by code in a folder the caller gives (never data/).

The reference tables (pillars, provinces, indicators, sources) are the shipped ones; targets and
observations are generated for every unit x every indicator, with figures inside the indicators' bounds
and quotes written the way the shipped quotes are ("đã đạt tỷ lệ 56,7%", "16.803 đại biểu tham gia",
"mức đầu tư đạt 574 tỷ đồng", "51,69/85%", "khoảng 9-10%", English pages' "4,977"), so that the loader's
checks do the same work as on real data. Everything generated is valid: the loader accepts it.

    make_data(folder, n_observations=100_000, seed=57) -> (n_targets, n_observations)
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ("pillars.csv", "provinces.csv", "indicators.csv", "sources.csv")

# {x}: the figure written the source's way; {p}: a percent sign for percent indicators; {n}: the indicator's name
OBS_TEMPLATES = [
    "đã đạt tỷ lệ {x}{p}", "{n} đạt {x}{p} trong kỳ", "toàn tỉnh có {x} {unitword}", "{x} {unitword} tham gia",
    "đến cuối tháng {m}/{y} đạt {x}{p}", "tương đương {x} {unitword}", "{n}: {x}{p} (ước)", "còn {x}{p}",
    "Quý {q}/{y}: {n} đạt {x}{p}", "chiếm {x}{p} tổng số", "{x}/{t}{p} kế hoạch", "ước đạt khoảng {x}{p}",
]
SCALE_WORDS = {"vnd_billion": "tỷ đồng", "vnd_million": "triệu đồng", "vnd_million_per_month": "triệu đồng/tháng"}
TARGET_TEMPLATES = {">=": ["phấn đấu tối thiểu {x}{p}", "ít nhất {x}{p} {n}"], ">": ["trên {x}{p} {n}", "{n} đạt trên {x}{p}"],
                    "=": ["{x}{p} {n}", "{n} đạt {x}{p}"], "<=": ["top {x}", "tối đa {x}{p}"],
                    "between": ["khoảng {x}-{h}{p}"]}


def _vi(v: float, decimals: int) -> str:
    """A figure as a Vietnamese page writes it: 16.803, 84,2."""
    text = f"{v:,.{decimals}f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text.rstrip("0").rstrip(",") if decimals else text


def _en(v: float, decimals: int) -> str:
    text = f"{v:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if decimals else text


def _data_text(v: float, decimals: int) -> str:
    """A figure as data files write it: a dot for decimals, no thousands separator."""
    return f"{v:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{v:.0f}"


def make_data(folder: Path, n_observations: int = 100_000, seed: int = 57, targets_per_series: int = 2):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in REFERENCE:
        shutil.copy(ROOT / "data" / name, folder / name)
    read = lambda n: pd.read_csv(folder / n, dtype=str, keep_default_na=False)
    prov, ind, src = read("provinces.csv"), read("indicators.csv"), read("sources.csv")
    units = prov.name.tolist()
    documents = src[src.url == ""].id.tolist()
    english = src[src.language == "en"].id.tolist()
    pages = src[(src.url != "") & (src.language == "vi")].id.tolist()
    series = [(u, r) for u in units for r in ind.itertuples()]
    per = max(1, -(-n_observations // len(series)))
    today = dt.date.today()
    months = [(today.replace(day=1) - pd.DateOffset(months=k + 1)) for k in range(per)]
    ends = [(m + pd.offsets.MonthEnd(0)).date().isoformat() for m in months]
    obs, targets = [], []
    for u, r in series:
        if len(obs) >= n_observations and len(targets) >= targets_per_series * len(series):
            break
        lo = float(r.lower_bound) if r.lower_bound else 0.0
        hi = float(r.upper_bound) if r.upper_bound else lo + 50_000.0
        decimals = {"percent": 2, "index": 4 if hi <= 1 else 2, "vnd_million_per_month": 1}.get(r.unit, 0)
        pct = "%" if r.unit == "percent" else (" " + SCALE_WORDS[r.unit]) if r.unit in SCALE_WORDS else ""
        unitword = "người"
        for k in range(per if len(obs) < n_observations else 0):
            date = ends[k]
            y, m = int(date[:4]), int(date[5:7])
            if r.unit == "milestone":
                v = float(rng.integers(0, 2))
                source = documents[rng.integers(len(documents))]
                obs.append((u, r.id, date, f"Tháng {m}/{y}", _data_text(v, 0), source,
                            "đã hoàn thành" if v else "chưa hoàn thành", "", ""))
                continue
            v = round(float(rng.uniform(lo + 0.05 * (hi - lo), lo + 0.6 * (hi - lo))), decimals)
            if r.unit == "rank":
                v = float(max(1, int(v)))
            kind = rng.random()
            if kind < 0.05:     # a web page cited without a quote: the note says what it states
                obs.append((u, r.id, date, f"Tháng {m}/{y}", _data_text(v, decimals), pages[rng.integers(len(pages))],
                            "", f"Trang nêu: {r.name_vi} = {_vi(v, decimals)}", ""))
                continue
            if kind < 0.10 and r.unit not in SCALE_WORDS:   # an English page
                x = _en(v, decimals)
                obs.append((u, r.id, date, f"{m}/{y}", _data_text(v, decimals), english[rng.integers(len(english))],
                            f"{r.name_en} reached {x}{pct} in {m}/{y}", "", ""))
                continue
            x = _vi(v, decimals)
            template = OBS_TEMPLATES[rng.integers(len(OBS_TEMPLATES))]
            if r.unit in SCALE_WORDS:
                template = "mức đạt {x}{p}"
            quote = template.format(x=x, p=pct, n=r.name_vi, unitword=unitword, m=m, y=y, q=(m - 1) // 3 + 1,
                                    t=_vi(min(hi, v + 10), decimals))
            obs.append((u, r.id, date, f"Quý {(m - 1) // 3 + 1}/{y}" if m % 3 == 0 else f"Tháng {m}/{y}",
                        _data_text(v, decimals), documents[rng.integers(len(documents))], quote,
                        "ước tính" if kind > 0.97 else "", ""))
        for year in (2030, 2045, 2025)[:targets_per_series]:
            source = documents[rng.integers(len(documents))]
            if r.unit == "milestone":
                targets.append((u, r.id, year, "", "", "", source, f"hoàn thành {r.name_vi}", "", ""))
                continue
            t = round(float(rng.uniform(lo + 0.6 * (hi - lo), hi)), decimals)
            if r.unit == "rank":
                t = float(max(1, int(t)))
            comparator = "<=" if r.direction == "down" else ["=", ">=", ">", "between"][rng.integers(4)]
            high = ""
            if comparator == "between":
                t = round(min(t, hi - 2 * 10.0 ** -decimals if decimals else hi - 2), decimals)
                high = round(float(rng.uniform(t, hi)), decimals)
                if high <= t:
                    comparator, high = ">=", ""
            template = TARGET_TEMPLATES[comparator][rng.integers(len(TARGET_TEMPLATES[comparator]))]
            quote = template.format(x=_vi(t, decimals), h=_vi(high, decimals) if high != "" else "",
                                    p=pct, n=r.name_vi.lower())
            targets.append((u, r.id, year, comparator, _data_text(t, decimals),
                            _data_text(high, decimals) if high != "" else "", source, quote, "", ""))
    order = np.lexsort((rng.random(len(obs)), [o[2] for o in obs]))   # as figures arrive: by date, units mixed
    obs = [obs[i] for i in order]
    pd.DataFrame(targets, columns=["province", "indicator", "year", "comparator", "value", "value_high", "source_id",
                                   "quote", "note", "note_en"]).to_csv(folder / "targets.csv", index=False)
    pd.DataFrame(obs, columns=["province", "indicator", "period_end", "period", "value", "source_id", "quote", "note",
                               "note_en"]).to_csv(folder / "observations.csv", index=False)
    return len(targets), len(obs)


if __name__ == "__main__":
    import sys

    print(make_data(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100_000))


def assess_dataset(n_targets: int = 100_000, seed: int = 57):
    """A Dataset in memory for assess: the shipped reference tables, ``n_targets`` targets (every unit x every
    indicator x successive target years), two figures a series, one source a target."""
    import nq57lib
    from nq57lib.dataset import Dataset, as_fact_dtypes

    ref = nq57lib.load(ROOT / "data")
    rng = np.random.default_rng(seed)
    prov, ind = ref.provinces, ref.indicators
    units = prov[["name", "slug"]].to_numpy()
    series = [(u, s, r.id, r.unit, r.lower_bound, r.upper_bound, r.direction)
              for u, s in units for r in ind.itertuples()]
    years = list(range(2025, 2025 + max(1, -(-n_targets // len(series)))))
    t_rows, o_rows = [], []
    documents = ref.sources[ref.sources.url == ""].id.tolist()
    for u, s, i, unit, lo, hi, direction in series:
        lo = 0.0 if np.isnan(lo) else lo
        hi = lo + 1000.0 if np.isnan(hi) else hi
        a, b = sorted(rng.uniform(lo + 0.05 * (hi - lo), lo + 0.6 * (hi - lo), 2))
        if unit == "milestone":
            a, b = 0.0, float(rng.integers(0, 2))
        for date, v in (("2023-12-31", a), ("2024-12-31", b)):
            o_rows.append((u, s, i, date, date[:4], round(v, 2), documents[0], "", "", ""))
        for year in years:
            if len(t_rows) >= n_targets:
                break
            if unit == "milestone":
                t_rows.append((u, s, i, year, None, np.nan, np.nan, documents[0], "", "", ""))
                continue
            v = round(float(rng.uniform(lo + 0.3 * (hi - lo), hi)), 2)
            comparator = "<=" if direction == "down" else ["=", ">=", ">", "between"][rng.integers(4)]
            high = min(hi, v + 1.0) if comparator == "between" else np.nan
            t_rows.append((u, s, i, year, comparator, v, high, documents[rng.integers(len(documents))], "", "", ""))
    t = pd.DataFrame(t_rows, columns=["province", "province_slug", "indicator", "year", "comparator", "value",
                                      "value_high", "source_id", "quote", "note", "note_en"])
    t["comparator"] = t["comparator"].astype(object)
    o = pd.DataFrame(o_rows, columns=["province", "province_slug", "indicator", "period_end", "period", "value",
                                      "source_id", "quote", "note", "note_en"])
    o["period_end"] = pd.to_datetime(o["period_end"]).astype("datetime64[us]")
    o = o.sort_values(["province", "indicator", "period_end"], kind="stable").reset_index(drop=True)
    return Dataset(provinces=prov, indicators=ind, targets=as_fact_dtypes(t), observations=as_fact_dtypes(o),
                   sources=ref.sources, pillars=ref.pillars, data_dir=ROOT / "data")
