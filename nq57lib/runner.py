"""``nq57 run``: execute the report set in parallel and publish it; ``nq57 refresh``: regenerate the
notebooks' stored outputs.

A run writes into ``<out>/.tmp-<run id>/`` and renames it to ``<out>/<run id>/`` at the end;
``<out>/latest`` is switched (atomically) to a run only when every report in it succeeded, so a failed
or interrupted run never replaces a good one.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import html
import json
import os
import re
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from . import _paths
from .errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, EXIT_OUTPUT, Nq57Error
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_KEYS = {"name", "title", "notebook", "parameters", "for_each"}


class ConfigError(Nq57Error):
    """reports.yaml cannot be used."""
    exit_code = EXIT_INVALID


class OutputError(Nq57Error):
    """The output folder cannot be written, or another run holds it."""
    exit_code = EXIT_OUTPUT


@dataclass
class Job:
    id: str
    name: str
    title: str
    notebook: str
    parameters: dict
    status: str = "pending"
    duration_s: float = 0.0
    error: dict | None = None


@dataclass
class RunResult:
    run_dir: Path | None
    jobs: list[Job] = field(default_factory=list)
    status: str = "succeeded"
    exit_code: int = EXIT_OK


# ------------------------------------------------------------------ the report set

def load_reports(path: Path) -> list[dict]:
    import yaml

    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; restore reports.yaml or pass --reports FILE") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(e, 'problem', e)}); fix the indentation or quoting") from None
    reports = (spec or {}).get("reports") if isinstance(spec, dict) else None
    if not isinstance(reports, list) or not reports:
        raise ConfigError(f"{path}: needs a list under 'reports:' (see the project's reports.yaml)")
    for i, r in enumerate(reports, 1):
        if not isinstance(r, dict):
            raise ConfigError(f"{path}: report {i} is not a mapping of name, notebook, parameters")
        extra = set(r) - _KEYS
        if extra:
            raise ConfigError(f"{path}: report {i} has unknown key(s) {', '.join(sorted(extra))}; allowed: {', '.join(sorted(_KEYS))}")
        if not isinstance(r.get("name"), str) or not _NAME.fullmatch(r["name"]):
            raise ConfigError(f"{path}: report {i} needs a 'name' of lower-case letters, digits, - or _ (got {r.get('name')!r})")
        nb = (path.parent / str(r.get("notebook", ""))).resolve()
        if not str(nb).startswith(str(path.parent.resolve()) + os.sep) or nb.suffix != ".ipynb" or not nb.is_file():
            raise ConfigError(f"{path}: report {r['name']!r}: notebook {r.get('notebook')!r} is not an .ipynb file inside {path.parent}")
        if r.get("for_each") not in (None, "province"):
            raise ConfigError(f"{path}: report {r['name']!r}: for_each can only be 'province'")
        if not isinstance(r.get("parameters", {}), dict):
            raise ConfigError(f"{path}: report {r['name']!r}: parameters must be a mapping")
        r["_notebook"] = str(nb)
    return reports


def plan(ds, reports: list[dict], only=None, province=None) -> list[Job]:
    """Expand the report set into jobs (one per province for ``for_each: province``)."""
    from .tables import effective_targets

    t = effective_targets(ds)
    with_data = set(t.province_slug) | set(ds.observations.province_slug)
    in_force = ds.provinces[ds.provinces.valid_to.isna() & (ds.provinces.level == "province")]
    targeted = [r.name for r in in_force.itertuples() if r.slug in set(t.province_slug)]
    units = ds.provinces[ds.provinces.slug.isin(with_data)]
    only_slug = ds.find_province(province).name if province else None
    names = {r["name"] for r in reports}
    for o in only or []:
        if o not in names:
            raise ConfigError(f"--only {o!r}: no such report; the reports are {', '.join(sorted(names))}")
    jobs = []
    for r in reports:
        if only and r["name"] not in only:
            continue
        if province and r.get("for_each") != "province":
            continue
        params = dict(r.get("parameters") or {})
        if params.get("provinces") == "all":
            params["provinces"] = targeted
        title = str(r.get("title") or r["name"])
        if r.get("for_each") == "province":
            for u in units.itertuples():
                if only_slug and u.slug != only_slug:
                    continue
                jobs.append(Job(f"{r['name']}-{u.slug}", r["name"], title.replace("{province}", u.name),
                                r["_notebook"], {**params, "province": u.name}))
        else:
            jobs.append(Job(r["name"], r["name"], title, r["_notebook"], params))
    if not jobs:
        raise ConfigError("nothing to run: check --only and --province")
    return jobs


# ------------------------------------------------------------------ one job (in a worker process)

def _execute(job: Job, run_dir: str, data_dir: str | None) -> Job:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    start = time.monotonic()
    out_nb = Path(run_dir) / f"{job.id}.ipynb"
    # the kernel inherits this process's stderr: keep its chatter in a log beside the report
    (Path(run_dir) / "logs").mkdir(exist_ok=True)
    with open(Path(run_dir) / "logs" / f"{job.id}.log", "ab") as log_file:
        os.dup2(log_file.fileno(), 2)
    params = dict(job.parameters)
    if data_dir is not None:
        params["data_dir"] = data_dir
    try:
        papermill.execute_notebook(job.notebook, str(out_nb), parameters=params, kernel_name="python3",
                                   progress_bar=False, cwd=run_dir, execution_timeout=600)
        job.status = "succeeded"
    except PapermillExecutionError as e:
        job.status, job.error = "failed", {"cell": e.cell_index, "execution_count": e.exec_count,
                                           "error": e.ename, "message": str(e.evalue)[:1000]}
    except Exception as e:  # a dead kernel, a timeout, a notebook that cannot be read
        job.status, job.error = "failed", {"cell": None, "error": type(e).__name__, "message": str(e)[:1000]}
    if out_nb.exists():
        try:
            _to_html(out_nb, Path(run_dir) / f"{job.id}.html", job.title)
        except Exception as e:
            if job.status == "succeeded":
                job.status, job.error = "failed", {"cell": None, "error": type(e).__name__, "message": str(e)[:1000]}
    job.duration_s = round(time.monotonic() - start, 2)
    return job


def _to_html(nb_path: Path, html_path: Path, title: str) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(nb_path, as_version=4)
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    html_path.write_text(body, encoding="utf-8")


# ------------------------------------------------------------------ the run

def data_hash(data_dir: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(data_dir.glob("*.csv")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for pkg in ("nq57lib", "pandas", "matplotlib", "papermill", "nbconvert", "pandera"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


class _Terminated(BaseException):
    pass


def run(data_dir=None, out_dir=None, only=None, province=None, jobs=None, reports_file=None,
        progress: bool = True, log=print) -> RunResult:
    """Validate the data, execute the report set, publish it. See the module docstring."""
    from .dataset import load

    data_path = Path(data_dir) if data_dir else _paths.DATA_DIR
    ds = load(data_path)  # invalid data stops here, before any notebook (DataValidationError)
    reports = load_reports(Path(reports_file) if reports_file else _paths.REPORTS_FILE)
    todo = plan(ds, reports, only=only, province=province)
    out = Path(out_dir) if out_dir else _paths.OUTPUTS_DIR
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = open(out / ".nq57.lock", "w")
    except OSError as e:
        raise OutputError(f"cannot write to the output folder {out}: {e.strerror or e}; choose another with --out") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise OutputError(f"another nq57 run is writing to {out}; wait for it to finish or use another --out") from None
    try:
        return _run_locked(ds, data_path, data_dir, out, todo, jobs, progress, log)
    finally:
        lock.close()


def _run_locked(ds, data_path, data_dir, out, todo, jobs, progress, log) -> RunResult:
    from tqdm import tqdm

    run_id = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    n = 1
    while (out / run_id).exists() or (out / f".tmp-{run_id}").exists():
        n += 1
        run_id = f"{run_id.split('.')[0]}.{n}"
    tmp = out / f".tmp-{run_id}"
    try:
        tmp.mkdir()
    except OSError as e:
        raise OutputError(f"cannot write to the output folder {out}: {e.strerror or e}; choose another with --out") from None
    manifest = {"run_id": run_id, "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "data_dir": str(data_path), "data_hash": data_hash(data_path), "versions": _versions()}
    result = RunResult(None, todo)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))

    def on_term(signum, frame):
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, on_term)
    pool = ProcessPoolExecutor(max_workers=workers)
    try:
        futures = {pool.submit(_execute, j, str(tmp), str(data_dir) if data_dir else None): i for i, j in enumerate(todo)}
        bar = tqdm(total=len(todo), desc="nq57 run", unit="report", disable=not progress, file=sys.stderr)
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                todo[i] = fut.result()
            except Exception as e:  # the worker process itself died
                todo[i].status, todo[i].error = "failed", {"cell": None, "error": type(e).__name__, "message": str(e)[:1000]}
            bar.update(1)
            bar.set_postfix_str(f"{todo[i].id}: {todo[i].status}")
        bar.close()
        failed = [j for j in todo if j.status != "succeeded"]
        result.status = "failed" if failed else "succeeded"
        result.exit_code = EXIT_FAILED if failed else EXIT_OK
    except (_Terminated, KeyboardInterrupt):
        for p in list(getattr(pool, "_processes", {}).values()):
            p.terminate()
        for j in todo:
            if j.status == "pending":
                j.status = "interrupted"
        result.status, result.exit_code = "interrupted", EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
        pool.shutdown(wait=result.status != "interrupted", cancel_futures=True)
    manifest.update(finished=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                    status=result.status, exit_code=result.exit_code,
                    reports=[{"id": j.id, "name": j.name, "title": j.title, "notebook": os.path.relpath(j.notebook, _paths.PROJECT_ROOT),
                              "parameters": j.parameters, "status": j.status, "duration_s": j.duration_s,
                              "error": j.error, "html": f"{j.id}.html" if (tmp / f"{j.id}.html").exists() else None}
                             for j in todo])
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    (tmp / "index.html").write_text(_index(manifest), encoding="utf-8")
    final = out / (run_id if result.status != "interrupted" else f"{run_id}-interrupted")
    os.rename(tmp, final)
    result.run_dir = final
    if result.status == "succeeded":
        link = out / f".latest-{run_id}"
        os.symlink(final.name, link)
        os.replace(link, out / "latest")
    _report(result, final, out, log)
    return result


def _report(result: RunResult, final: Path, out: Path, log) -> None:
    ok = sum(j.status == "succeeded" for j in result.jobs)
    log(f"{ok} of {len(result.jobs)} reports succeeded: {final / 'index.html'}")
    for j in result.jobs:
        if j.status == "failed" and j.error:
            cell = f"cell {j.error['cell']}" if j.error.get("cell") is not None else "no cell"
            log(f"  FAILED {j.id} ({cell}): {j.error['error']}: {j.error['message'].splitlines()[0] if j.error['message'] else ''}")
    if result.status == "interrupted":
        log(f"Interrupted: the partial run is in {final}; {out / 'latest'} was not changed.")
    elif result.status == "failed":
        if (out / "latest").exists():
            log(f"{out / 'latest'} still points at the last run in which every report succeeded.")
        else:
            log(f"No run has fully succeeded yet, so {out / 'latest'} does not exist.")


_STATUS = {"succeeded": ("Thành công", "Succeeded"), "failed": ("Lỗi", "Failed"),
           "interrupted": ("Bị dừng", "Interrupted"), "pending": ("Chưa chạy", "Not run")}


def _index(manifest: dict) -> str:
    esc = html.escape
    rows = []
    for r in manifest["reports"]:
        vi, en = _STATUS.get(r["status"], (r["status"], r["status"]))
        link = f'<a href="{esc(r["html"])}">{esc(r["title"])}</a>' if r["html"] else esc(r["title"])
        err = ""
        if r["error"]:
            cell = f" (ô/cell {r['error']['cell']})" if r["error"].get("cell") is not None else ""
            msg = (r["error"]["message"] or "").splitlines()[0] if r["error"]["message"] else ""
            err = f"{esc(r['error']['error'])}{esc(cell)}: {esc(msg)}"
        rows.append(f'<tr class="{esc(r["status"])}"><td>{link}</td><td>{esc(vi)} / {esc(en)}</td>'
                    f'<td>{r["duration_s"]:.1f} s</td><td>{err}</td></tr>')
    vi, en = _STATUS.get(manifest["status"], (manifest["status"],) * 2)
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>nq57: báo cáo Nghị quyết 57 / Resolution 57 reports</title>
<style>body{{font-family:"DejaVu Sans",Arial,sans-serif;margin:2em;max-width:70em;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.4em .6em;text-align:left}}
tr.failed td{{background:#fbe9e7}}tr.interrupted td{{background:#fff8e1}}.meta{{color:#555;font-size:.9em}}</style></head>
<body><h1>Báo cáo theo dõi Nghị quyết 57-NQ/TW</h1><p>Resolution 57-NQ/TW progress reports</p>
<p class="meta">Lượt chạy / run {esc(manifest["run_id"])} · {esc(vi)} / {esc(en)} · dữ liệu / data sha256 {esc(manifest["data_hash"][:12])}
· <a href="manifest.json">manifest.json</a></p>
<table><thead><tr><th>Báo cáo / Report</th><th>Trạng thái / Status</th><th>Thời gian / Time</th><th>Lỗi / Error</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></body></html>
"""


# ------------------------------------------------------------------ refresh

def refresh(notebooks_dir: Path | None = None, log=print) -> list[Path]:
    """Execute each notebook with its default parameters and store the outputs in place (the nbval
    references), without papermill's volatile metadata (times, paths)."""
    import nbformat
    import papermill

    notebooks_dir = Path(notebooks_dir) if notebooks_dir else _paths.NOTEBOOKS_DIR
    done = []
    for nb_path in sorted(notebooks_dir.glob("[0-9]*.ipynb")):
        tmp = nb_path.with_suffix(".refresh.ipynb")
        try:
            papermill.execute_notebook(str(nb_path), str(tmp), kernel_name="python3", progress_bar=False,
                                       cwd=str(notebooks_dir))
            nb = nbformat.read(tmp, as_version=4)
        finally:
            tmp.unlink(missing_ok=True)
        nb.metadata.pop("papermill", None)
        for cell in nb.cells:
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
        nbformat.write(nb, nb_path)
        log(f"refreshed {nb_path}")
        done.append(nb_path)
    return done


# ------------------------------------------------------------------ CLI

def add_commands(sub) -> None:
    r = sub.add_parser("run", help="execute every report in reports.yaml and publish HTML under outputs/")
    r.add_argument("--data", metavar="DIR", help="data folder (default: the project's data/)")
    r.add_argument("--out", metavar="DIR", help="output folder (default: the project's outputs/)")
    r.add_argument("--only", metavar="NAME", action="append", help="run only this report (repeatable)")
    r.add_argument("--province", metavar="NAME", help="run only the per-province reports of this province")
    r.add_argument("--jobs", metavar="N", type=int, help="parallel processes (default: number of cores)")
    r.add_argument("--reports", metavar="FILE", help="report set (default: the project's reports.yaml)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=_run_cmd)
    f = sub.add_parser("refresh", help="regenerate the notebooks' stored outputs (nbval references)")
    f.set_defaults(func=lambda args: (refresh(), EXIT_OK)[1])


def _run_cmd(args) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs {args.jobs}: give 1 or more")
    result = run(data_dir=args.data, out_dir=args.out, only=args.only, province=args.province, jobs=args.jobs,
                 reports_file=args.reports, progress=not args.no_progress)
    return result.exit_code
