"""Speed and memory of nq57lib, as ratios against a baseline run side by side (never timed assertions).

    python benchmarks/run.py [--sizes 1 4 16] [--repeat 5]      (or: make bench)

Synthetic data is made here by code, in a temporary folder, never under data/: the reference tables
(pillars, indicators, sources, provinces) are the shipped ones; targets and observations are generated
for every unit in force x every quantitative indicator, ``size`` observations each, within bounds.

Benchmarks (each: median of --repeat runs, the two sides alternated):
- load:   nq57lib.load (read + validate + type) vs pandas.read_csv of the same six files (baseline)
- assess: nq57lib.assess on the loaded data vs a pandas groupby(...).last() over the observations
Results are printed and written to benchmarks/results/<time>.json (not committed).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

import nq57lib
from nq57lib import _paths

FILES = ("pillars.csv", "provinces.csv", "indicators.csv", "sources.csv", "targets.csv", "observations.csv")


def make_data(folder: Path, size: int, seed: int = 57) -> tuple[int, int]:
    rng = np.random.default_rng(seed)
    for name in FILES[:4]:
        shutil.copy(_paths.DATA_DIR / name, folder / name)
    prov = pd.read_csv(folder / "provinces.csv", dtype=str, keep_default_na=False)
    ind = pd.read_csv(folder / "indicators.csv", dtype=str, keep_default_na=False)
    units = prov[(prov.valid_to == "")].name.tolist()
    quant = ind[ind.unit != "milestone"]
    targets, obs = [], []
    for u in units:
        for r in quant.itertuples():
            lo = float(r.lower_bound) if r.lower_bound else 0.0
            hi = float(r.upper_bound) if r.upper_bound else lo + 1000.0
            vals = np.sort(rng.uniform(lo + 0.01 * (hi - lo), lo + 0.6 * (hi - lo), size))
            for year in (2030, 2045):
                t = round(float(rng.uniform(lo + 0.6 * (hi - lo), hi)), 2)
                targets.append((u, r.id, year, ">=", t, "", "laichau_2025_05", f"synthetic {t}", ""))
            for k, v in enumerate(vals):
                obs.append((u, r.id, f"{2020 + k // 4}-{3 * (k % 4) + 3:02d}-28", f"synthetic {k}", round(float(v), 3),
                            "laichau_2025_05", f"synthetic {k}", ""))
    pd.DataFrame(targets, columns=["province", "indicator", "year", "comparator", "value", "value_high", "source_id",
                                   "quote", "note"]).to_csv(folder / "targets.csv", index=False)
    pd.DataFrame(obs, columns=["province", "indicator", "period_end", "period", "value", "source_id", "quote",
                               "note"]).to_csv(folder / "observations.csv", index=False)
    return len(targets), len(obs)


def measure(fn, repeat: int) -> tuple[float, float]:
    """Median seconds and peak traced memory (MiB) of fn()."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(times), peak


def side_by_side(ours, baseline, repeat):
    # alternate the two sides so that drift on a shared machine affects both
    rounds = [(measure(ours, 1)[0], measure(baseline, 1)[0]) for _ in range(repeat)]
    t_ours, t_base = statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds)
    m_ours, m_base = measure(ours, 1)[1], measure(baseline, 1)[1]
    return {"ours_s": t_ours, "baseline_s": t_base, "time_ratio": t_ours / t_base,
            "ours_peak_mib": m_ours, "baseline_peak_mib": m_base, "memory_ratio": m_ours / m_base}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16], help="observations per unit x indicator")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    results = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            n_t, n_o = make_data(folder, size)
            load = side_by_side(lambda: nq57lib.load(folder),
                                lambda: [pd.read_csv(folder / f, dtype=str, keep_default_na=False) for f in FILES],
                                args.repeat)
            ds = nq57lib.load(folder)
            assess = side_by_side(lambda: nq57lib.assess(ds),
                                  lambda: ds.observations.groupby(["province_slug", "indicator"]).last(),
                                  args.repeat)
        for name, r in (("load", load), ("assess", assess)):
            results.append({"bench": name, "size": size, "targets": n_t, "observations": n_o, **r})
    print(f"{'bench':8} {'size':>4} {'targets':>8} {'obs':>8} {'ours s':>8} {'base s':>8} {'time x':>7} {'mem x':>6}")
    for r in results:
        print(f"{r['bench']:8} {r['size']:>4} {r['targets']:>8} {r['observations']:>8} {r['ours_s']:>8.3f} "
              f"{r['baseline_s']:>8.3f} {r['time_ratio']:>7.1f} {r['memory_ratio']:>6.1f}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    path = out / time.strftime("%Y%m%dT%H%M%S.json")
    path.write_text(json.dumps({"python": sys.version.split()[0], "pandas": pd.__version__, "results": results}, indent=2))
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
