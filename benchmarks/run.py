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
- report:      the heaviest report of reports.yaml (the longest in the last full run; --report-id to choose)
               vs the floor notebook (parameters cell + `import nq57lib; ds = nq57lib.load(data_dir); from
               nq57lib import plots, report`), both by the papermill Python API in this process, alternated.
- reportset:   `nq57 run --force` (the report set of reports.yaml) vs a sequential shell loop of `papermill`
               and `jupyter nbconvert --to html --no-input` over the same reports and parameters
- incremental: `nq57 run` with nothing changed vs `nq57 run --force` (a full run)
- cluster:     `nq57 run --force --cluster local:2` vs `nq57 run --force --jobs 2` on a grid of every unit
               with data x vi and en (needs the cluster extra; skipped without it)
  The last three run whole commands on the shipped data (--run-repeat runs a side, median); their memory is
  the peak of the summed resident memory of the command and every process under it, kernels included.

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


# ---------------------------------------------------------------- whole reports and runs (shipped data)

def _tree_rss_mib(root: int) -> float:
    """Resident memory (MiB) of ``root`` and every process under it, from /proc."""
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


def run_measured(cmd, cwd=None) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB, the process tree sampled every 50 ms) of a command."""
    import threading
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
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
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): {err[-2000:]}")
    return seconds, peak[0]


def runs_side_by_side(ours, baseline, repeat: int) -> dict:
    """``ours`` and ``baseline`` return (seconds, peak MiB); alternated, medians of the times."""
    rounds = [(ours(), baseline()) for _ in range(repeat)]
    t_ours = statistics.median(r[0][0] for r in rounds)
    t_base = statistics.median(r[1][0] for r in rounds)
    m_ours, m_base = max(r[0][1] for r in rounds), max(r[1][1] for r in rounds)
    return {"ours_s": t_ours, "baseline_s": t_base, "time_ratio": t_ours / t_base,
            "ours_peak_mib": m_ours, "baseline_peak_mib": m_base, "memory_ratio": m_ours / m_base}


BIN = Path(sys.executable).parent


def _nq57(*args) -> list[str]:
    return [str(BIN / "nq57"), "run", "--no-progress", *args]


def _jobs(folder: Path):
    from nq57lib import _paths
    from nq57lib.runner import _plan
    jobs, _, _ = _plan(_paths.DATA_DIR, _paths.REPORTS_FILE, folder / "plan-only", None, None)
    return jobs


def _cli_loop_script(folder: Path) -> str:
    """The report set of reports.yaml as a sequential shell loop of papermill and nbconvert CLI calls."""
    import shlex

    import yaml
    lines = ["set -e"]
    for j in _jobs(folder):
        nb = folder / f"{j.id}.ipynb"
        lines.append(f"{shlex.quote(str(BIN / 'papermill'))} {shlex.quote(j.notebook)} {shlex.quote(str(nb))} "
                     f"-y {shlex.quote(yaml.safe_dump(j.parameters, allow_unicode=True))} --no-progress-bar -k python3")
        lines.append(f"{shlex.quote(str(BIN / 'jupyter'))} nbconvert --to html --no-input {shlex.quote(str(nb))}")
    return "\n".join(lines)


@bench("report")
def report_bench(args, tmp: Path):
    """The heaviest report against the floor notebook, both by the papermill Python API in this process."""
    import nbformat
    import papermill as pm

    out = tmp / "report-runs"
    subprocess.run(_nq57("--force", "--out", str(out)), check=True, stdout=subprocess.DEVNULL)
    manifest = json.loads(next(out.glob("2*/manifest.json")).read_text(encoding="utf-8"))
    reports = {r["id"]: r for r in manifest["reports"]}
    rid = args.report_id or max(reports, key=lambda i: reports[i]["duration_s"] or 0)
    job = reports[rid]
    floor = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})
    params = nbformat.v4.new_code_cell("data_dir = None")
    params.metadata["tags"] = ["parameters"]
    floor.cells = [params, nbformat.v4.new_code_cell(
        "import nq57lib\nds = nq57lib.load(data_dir)\nfrom nq57lib import plots, report")]
    floor_path = tmp / "floor.ipynb"
    nbformat.write(floor, floor_path)
    notebook = job["notebook"] if Path(job["notebook"]).is_absolute() else str(HERE.parent / job["notebook"])
    data_dir = job["parameters"].get("data_dir")

    def run(path, parameters):
        pm.execute_notebook(str(path), str(tmp / "executed.ipynb"), parameters=parameters, kernel_name="python3",
                            progress_bar=False, log_output=False)
    row = side_by_side(lambda: run(notebook, job["parameters"]), lambda: run(floor_path, {"data_dir": data_dir}),
                       args.repeat)
    return {"bench": "heaviest report", "size": f"{rid} vs the floor notebook", **row, "goal": "time <= 1.3x"}


@bench("reportset")
def reportset_bench(args, tmp: Path):
    """The report set by `nq57 run` against the sequential papermill + nbconvert CLI loop."""
    script = tmp / "loop.sh"
    script.write_text(_cli_loop_script(tmp), encoding="utf-8")
    n = sum(1 for line in script.read_text().splitlines() if "papermill" in line)
    r = runs_side_by_side(lambda: run_measured(_nq57("--force", "--out", str(tmp / "out"))),
                          lambda: run_measured(["bash", str(script)], cwd=tmp), args.run_repeat)
    return {"bench": "report set", "size": f"{n} reports vs the papermill+nbconvert CLI loop", **r,
            "goal": "time <= 1/8x"}


@bench("incremental")
def incremental_bench(args, tmp: Path):
    """`nq57 run` with nothing changed against a full run (`--force`), same output folder."""
    out = str(tmp / "incremental")
    run_measured(_nq57("--out", out))  # the plan and reports to reuse
    r = runs_side_by_side(lambda: run_measured(_nq57("--out", out)),
                          lambda: run_measured(_nq57("--force", "--out", out)), args.run_repeat)
    return {"bench": "unchanged run", "size": "vs a full run (--force)", **r, "goal": "time <= 0.05x"}


@bench("cluster")
def cluster_bench(args, tmp: Path):
    """A LocalCluster of 2 workers against the local pool of 2 processes, on every unit x vi and en."""
    import importlib.util
    import shutil

    from nq57lib import _paths
    if importlib.util.find_spec("distributed") is None:
        print("cluster: skipped (dask.distributed is not installed: make cluster)")
        return []
    folder = tmp / "cluster"
    shutil.copytree(_paths.NOTEBOOKS_DIR, folder / "notebooks")
    (folder / "reports.yaml").write_text(
        "reports:\n  - name: trajectories\n    title: '{province} ({lang})'\n"
        "    notebook: notebooks/03_trajectories.ipynb\n    parameters: {target_years: [2030, 2045], method: eurostat}\n"
        "    for_each: {province: all, lang: [vi, en]}\n", encoding="utf-8")
    grid = ["--force", "--reports", str(folder / "reports.yaml")]
    r = runs_side_by_side(lambda: run_measured(_nq57(*grid, "--out", str(folder / "dask"), "--cluster", "local:2")),
                          lambda: run_measured(_nq57(*grid, "--out", str(folder / "pool"), "--jobs", "2")),
                          args.run_repeat)
    n = len(json.loads(next((folder / "pool").glob("2*/manifest.json")).read_text())["reports"])
    return {"bench": "LocalCluster(2)", "size": f"{n} reports vs the local pool of 2", **r}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHES), help="run only these benchmarks")
    ap.add_argument("--rows", type=int, default=1_000_000, help="observations in the load benchmark")
    ap.add_argument("--targets", type=int, default=100_000, help="targets in the assess benchmark")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--before", action="store_true", help="also time the row-by-row implementations, once")
    ap.add_argument("--run-repeat", type=int, default=1, help="runs of each side of the whole-command benchmarks")
    ap.add_argument("--report-id", help="the report of the report benchmark (default: the longest of a full run)")
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
