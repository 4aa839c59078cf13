"""Speed and memory of nq57lib, as ratios against a baseline run side by side (never timed assertions).

    python benchmarks/run.py [--sizes 1 4 16] [--repeat 5]      (or: make bench)

Synthetic data is made here by code, in a temporary folder, never under data/: the reference tables
(pillars, indicators, sources, provinces) are the shipped ones; targets and observations are generated
for every unit in force x every quantitative indicator, ``size`` observations each, within bounds.

Benchmarks (each: median of --repeat runs, the two sides alternated):
- load:   nq57lib.load (read + validate + type) vs pandas.read_csv of the same six files (baseline)
- assess: nq57lib.assess on the loaded data vs a pandas groupby(...).last() over the observations

Runs (commands in their own processes, on the shipped data; median of --run-repeat runs; memory is the
peak of the summed resident memory of the command and every process under it, kernels included):
- reportset:   `nq57 run --force` (the report set of reports.yaml) vs a sequential shell loop of
               `papermill` and `jupyter nbconvert --to html --no-input` over the same reports and parameters
- incremental: `nq57 run` with nothing changed vs `nq57 run --force` (a full run)
- cluster:     `nq57 run --force --cluster local:2` vs `nq57 run --force --jobs 2` on a grid of every unit
               with data x vi and en (needs the cluster extra; skipped without it)
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


# ------------------------------------------------------------------ runs: whole commands, side by side

def _tree_rss_mib(root: int) -> float:
    """Resident memory (MiB) of ``root`` and every process under it, from /proc."""
    import os
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            children.setdefault(int(fields[1]), []).append(pid)
            rss[pid] = int(fields[21]) * page
        except (OSError, ValueError, IndexError):
            pass
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total / 2**20


def run_measured(cmd, cwd=None, shell=False) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB, the process tree sampled every 50 ms) of a command."""
    import subprocess
    import threading
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0.0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_mib(proc.pid))
            time.sleep(0.05)
    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - t0
    watcher.join()
    if proc.returncode not in (0,):
        raise RuntimeError(f"{cmd if isinstance(cmd, str) else ' '.join(map(str, cmd))} failed ({proc.returncode}): {err[-2000:]}")
    return seconds, peak[0]


def runs_side_by_side(ours, baseline, repeat: int) -> dict:
    """``ours`` and ``baseline`` are functions returning (seconds, peak MiB); alternated, medians."""
    rounds = []
    for _ in range(repeat):
        rounds.append((ours(), baseline()))
    t_ours = statistics.median(r[0][0] for r in rounds)
    t_base = statistics.median(r[1][0] for r in rounds)
    m_ours = max(r[0][1] for r in rounds)
    m_base = max(r[1][1] for r in rounds)
    return {"ours_s": t_ours, "baseline_s": t_base, "time_ratio": t_ours / t_base,
            "ours_peak_mib": m_ours, "baseline_peak_mib": m_base, "memory_ratio": m_ours / m_base}


BIN = Path(sys.executable).parent


def _nq57(*args) -> list[str]:
    return [str(BIN / "nq57"), "run", "--no-progress", *args]


def _cli_loop_script(folder: Path) -> str:
    """The report set of reports.yaml as a sequential shell loop of papermill and nbconvert CLI calls."""
    import shlex

    import yaml

    from nq57lib.runner import _plan
    jobs, _, _ = _plan(_paths.DATA_DIR, _paths.REPORTS_FILE, folder / "plan-only", None, None)
    lines = ["set -e"]
    for j in jobs:
        nb = folder / f"{j.id}.ipynb"
        lines.append(f"{shlex.quote(str(BIN / 'papermill'))} {shlex.quote(j.notebook)} {shlex.quote(str(nb))} "
                     f"-y {shlex.quote(yaml.safe_dump(j.parameters, allow_unicode=True))} --no-progress-bar -k python3")
        lines.append(f"{shlex.quote(str(BIN / 'jupyter'))} nbconvert --to html --no-input {shlex.quote(str(nb))}")
    return "\n".join(lines)


def bench_reportset(repeat: int) -> dict:
    """The report set by `nq57 run` against the sequential papermill + nbconvert CLI loop."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        script = folder / "loop.sh"
        script.write_text(_cli_loop_script(folder), encoding="utf-8")
        n = sum(1 for line in script.read_text().splitlines() if "papermill" in line)
        r = runs_side_by_side(lambda: run_measured(_nq57("--force", "--out", str(folder / "out"))),
                              lambda: run_measured(["bash", str(script)], cwd=folder), repeat)
    return {"bench": "report set vs CLI loop", "reports": n, **r}


def bench_incremental(repeat: int) -> dict:
    """`nq57 run` with nothing changed against a full run (`--force`), same output folder."""
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "out")
        run_measured(_nq57("--out", out))  # the plan and reports to reuse
        r = runs_side_by_side(lambda: run_measured(_nq57("--out", out)),
                              lambda: run_measured(_nq57("--force", "--out", out)), repeat)
    return {"bench": "unchanged vs full run", "reports": None, **r}


def bench_cluster(repeat: int) -> dict | None:
    """A LocalCluster of 2 workers against the local pool of 2 processes, on every unit x vi and en."""
    import importlib.util
    if importlib.util.find_spec("distributed") is None:
        print("cluster: skipped (dask.distributed is not installed: pip install -e '.[cluster]')")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copytree(_paths.NOTEBOOKS_DIR, folder / "notebooks")
        (folder / "reports.yaml").write_text(
            "reports:\n  - name: trajectories\n    title: '{province} ({lang})'\n"
            "    notebook: notebooks/03_trajectories.ipynb\n    parameters: {target_years: [2030, 2045], method: eurostat}\n"
            "    for_each: {province: all, lang: [vi, en]}\n", encoding="utf-8")
        grid = ["--force", "--reports", str(folder / "reports.yaml")]
        r = runs_side_by_side(lambda: run_measured(_nq57(*grid, "--out", str(folder / "dask"), "--cluster", "local:2")),
                              lambda: run_measured(_nq57(*grid, "--out", str(folder / "pool"), "--jobs", "2")), repeat)
        n = len(json.loads(next((folder / "pool").glob("2*/manifest.json")).read_text())["reports"])
    return {"bench": "LocalCluster(2) vs pool(2)", "reports": n, **r}


RUN_BENCHES = {"reportset": bench_reportset, "incremental": bench_incremental, "cluster": bench_cluster}


def print_runs(rows: list[dict]) -> None:
    print(f"{'run bench':26} {'reports':>7} {'ours s':>8} {'base s':>8} {'time x':>7} {'speed-up':>8} "
          f"{'ours MiB':>9} {'base MiB':>9} {'mem x':>6}")
    for r in rows:
        print(f"{r['bench']:26} {r['reports'] or '':>7} {r['ours_s']:>8.2f} {r['baseline_s']:>8.2f} {r['time_ratio']:>7.3f} "
              f"{1 / r['time_ratio']:>8.1f} {r['ours_peak_mib']:>9.0f} {r['baseline_peak_mib']:>9.0f} {r['memory_ratio']:>6.2f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1, 4, 16], help="observations per unit x indicator (none: skip load and assess)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--runs", nargs="*", default=list(RUN_BENCHES), choices=list(RUN_BENCHES),
                    help="which run benchmarks (default: all; none: --runs with no name)")
    ap.add_argument("--run-repeat", type=int, default=1, help="runs of each side of a run benchmark (median)")
    args = ap.parse_args(argv)
    runs = [r for r in (RUN_BENCHES[name](args.run_repeat) for name in args.runs) if r]  # whole commands first
    if runs:
        print_runs(runs)
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
    results += runs
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    path = out / time.strftime("%Y%m%dT%H%M%S.json")
    path.write_text(json.dumps({"python": sys.version.split()[0], "pandas": pd.__version__, "results": results}, indent=2))
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
