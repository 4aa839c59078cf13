"""Speed and memory of nq57lib, as ratios against a baseline run side by side (never timed assertions).

    python benchmarks/run.py [--only load assess] [--rows 1000000] [--targets 100000] [--repeat 5] [--before]
    (or: make bench)

Each benchmark is one function registered with ``@bench(name)``: it gets the options and a temporary folder,
and returns one row (or a list of rows) with ``ours_s``, ``baseline_s`` and, where it applies, peak memory.
Another benchmark plugs in as one more such function. Synthetic data is made by code in the temporary
folder (benchmarks/synthetic.py), never under data/.

- load:   nq57lib.load (read, validate everything including the quote check, type) vs pyarrow.csv.read_csv of
          the same six files, at --rows observations. Memory: the peak resident memory that load adds, over the
          memory of the frames it returns (measured in a fresh process).
- assess: nq57lib.assess over every target (--targets, two figures a series) vs a lean loop that only computes
          the Eurostat status with the scalar function (columns pulled out once, dict look-ups, one call a
          target). "cold": a fresh Dataset (effective targets and series computed); "warm": computed already.
- --before also times the row-by-row implementations once (the row reader for the facts; assess_rows).

Times are medians of --repeat runs, the two sides alternated so that load from other processes on a shared
machine falls on both. Results are printed and written to benchmarks/results/<time>.json (not committed).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synthetic  # noqa: E402  (benchmarks/synthetic.py)

BENCHES: dict = {}


def bench(name: str):
    """Register a benchmark: ``fn(args, tmp: Path) -> dict | list[dict]``."""
    def register(fn):
        BENCHES[name] = fn
        return fn
    return register


def side_by_side(ours, baseline, repeat: int) -> dict:
    """Median wall times of ``ours()`` and ``baseline()``, alternated (one warm-up run of each first)."""
    ours(), baseline()
    a, b = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        ours()
        a.append(time.perf_counter() - t)
        t = time.perf_counter()
        baseline()
        b.append(time.perf_counter() - t)
    return {"ours_s": statistics.median(a), "baseline_s": statistics.median(b),
            "time_ratio": statistics.median(a) / statistics.median(b)}


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mib() -> float:
    """The process's peak resident memory (VmHWM: ru_maxrss would count the parent's size at fork)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def child_peak(kind: str, folder: Path) -> dict:
    """Peak resident memory (MiB) that one run adds in a fresh process, and the size of what it returns."""
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(folder)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child(kind: str, folder: str) -> None:
    import pyarrow.csv as pacsv

    import nq57lib
    from nq57lib.dataset import DATA_FILES

    nq57lib.load()                                 # the imports a load triggers (pandera, ...) are not its data
    [pacsv.read_csv(f) for f in sorted(synthetic.ROOT.joinpath("data").glob("*.csv"))]
    before = _rss_mib()
    if kind == "load":
        ds = nq57lib.load(folder)
        size = sum(getattr(ds, n).memory_usage(deep=True).sum() for n in
                   ("pillars", "provinces", "indicators", "sources", "targets", "observations")) / 2**20
    else:
        tables = [pacsv.read_csv(Path(folder) / f) for f in DATA_FILES]
        size = sum(t.nbytes for t in tables) / 2**20
    peak = _peak_rss_mib() - before
    print(json.dumps({"peak_mib": peak, "result_mib": size}))


@bench("load")
def load_bench(args, tmp: Path):
    import pyarrow.csv as pacsv

    import nq57lib
    from nq57lib import columnar, dataset

    folder = tmp / "load"
    n_targets, n_obs = synthetic.make_data(folder, args.rows)
    nq57lib.load(folder)
    if columnar.last_refusal:
        raise SystemExit(f"the columnar reader declined the synthetic data: {columnar.last_refusal}")
    row = {"bench": "load", "size": f"{n_obs:,} observations, {n_targets:,} targets",
           **side_by_side(lambda: dataset.validated_load(folder),
                          lambda: [pacsv.read_csv(folder / f) for f in dataset.DATA_FILES], args.repeat)}
    ours, base = child_peak("load", folder), child_peak("pyarrow", folder)
    row.update(ours_peak_mib=ours["peak_mib"], baseline_peak_mib=base["peak_mib"], frames_mib=ours["result_mib"],
               memory_ratio=ours["peak_mib"] / ours["result_mib"], goal="time <= 6x, memory <= 3x frames")
    if args.before:
        original = columnar.read_facts
        columnar.read_facts = lambda *a, **k: None          # the row reader for everything, as before
        try:
            t = time.perf_counter()
            dataset.validated_load(folder)
            row["before_s"] = time.perf_counter() - t
            row["before_ratio"] = row["before_s"] / row["baseline_s"]
        finally:
            columnar.read_facts = original
    return row


def lean_loop(ds) -> list:
    """The Eurostat status of every target with the scalar function: the baseline of the assess benchmark."""
    from nq57lib import progress, tables

    obs = ds.observations
    when = tables._decimal_years(obs["period_end"].to_numpy())
    first, last = {}, {}
    for key, t, v in zip(zip(obs["province_slug"].tolist(), obs["indicator"].tolist()), when.tolist(),
                         obs["value"].tolist()):
        first.setdefault(key, (t, v))
        last[key] = (t, v)
    direction = dict(zip(ds.indicators["id"], ds.indicators["direction"]))
    t = ds.targets
    out = []
    for slug, ind, year_end, value, comparator in zip(t["province_slug"].tolist(), t["indicator"].tolist(),
                                                       tables._target_times(t["year"].to_numpy()).tolist(),
                                                       t["value"].tolist(), t["comparator"].tolist()):
        f, l_ = first.get((slug, ind)), last.get((slug, ind))
        if f is None or direction[ind] == "milestone":
            out.append(None)
            continue
        out.append(progress.eurostat(f[0], f[1], l_[0], l_[1], value, year_end, direction[ind], comparator).status)
    return out


@bench("assess")
def assess_bench(args, tmp: Path):
    import nq57lib
    from nq57lib import tables

    ds = synthetic.assess_dataset(args.targets)
    size = f"{len(ds.targets):,} targets, {len(ds.observations):,} observations"

    def cold():
        ds.cache.clear()
        nq57lib.assess(ds)

    rows = [{"bench": "assess (cold)", "size": size, **side_by_side(cold, lambda: lean_loop(ds), args.repeat)},
            {"bench": "assess (warm)", "size": size,
             **side_by_side(lambda: nq57lib.assess(ds), lambda: lean_loop(ds), args.repeat)}]
    for r in rows:
        r["goal"] = "time <= 1x"
    if args.before:
        t = time.perf_counter()
        tables.assess_rows(ds)
        rows[0]["before_s"] = time.perf_counter() - t
        rows[0]["before_ratio"] = rows[0]["before_s"] / rows[0]["baseline_s"]
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHES), help="run only these benchmarks")
    ap.add_argument("--rows", type=int, default=1_000_000, help="observations in the load benchmark")
    ap.add_argument("--targets", type=int, default=100_000, help="targets in the assess benchmark")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--before", action="store_true", help="also time the row-by-row implementations, once")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="nq57-bench-") as tmp:
        for name in args.only or list(BENCHES):
            out = BENCHES[name](args, Path(tmp))
            results.extend(out if isinstance(out, list) else [out])
    print(f"{'bench':14} {'size':44} {'ours s':>8} {'base s':>8} {'time x':>7} {'peak MiB':>9} {'mem x':>6} "
          f"{'before x':>9}  goal")
    for r in results:
        peak = f"{r['ours_peak_mib']:9.0f}" if "ours_peak_mib" in r else f"{'':9}"
        mem = f"{r['memory_ratio']:6.2f}" if "memory_ratio" in r else f"{'':6}"
        before = f"{r['before_ratio']:9.1f}" if "before_ratio" in r else f"{'':9}"
        print(f"{r['bench']:14} {r['size']:44} {r['ours_s']:8.3f} {r['baseline_s']:8.3f} {r['time_ratio']:7.2f} "
              f"{peak} {mem} {before}  {r.get('goal', '')}")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / time.strftime("%Y%m%dT%H%M%S.json")
    import pandas as pd
    import pyarrow as pa
    path.write_text(json.dumps({"python": sys.version.split()[0], "pandas": pd.__version__, "pyarrow": pa.__version__,
                                "cpus": os.cpu_count(), "results": results}, indent=2))
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
