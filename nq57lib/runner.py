"""``nq57 run``: validate the data, execute the report set and publish it; ``nq57 refresh``: regenerate
the notebooks' stored outputs.

The pieces live in modules named after them: the report set and its grid (:mod:`nq57lib.reportset`),
where reports execute (:mod:`nq57lib.executors`), and publishing: lock, manifest, index, ``latest``
(:mod:`nq57lib.publish`). This module puts them together and holds the command-line options.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import _paths
from .errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from .publish import OutputError, OutputLock, clean_stale, discard, finish, new_run_folder, output_failure
from .reportset import ConfigError, Job, load_reports, plan

__all__ = ["run", "refresh", "RunResult", "ConfigError", "OutputError", "data_hash"]


@dataclass
class RunResult:
    run_dir: Path | None
    jobs: list[Job] = field(default_factory=list)
    status: str = "succeeded"
    exit_code: int = EXIT_OK
    partial: bool = False


def data_hash(data_dir: Path) -> str:
    """sha256 over the six data files (names and bytes); nothing else in the folder is read."""
    from .dataset import DATA_FILES

    h = hashlib.sha256()
    for name in DATA_FILES:
        h.update(name.encode())
        h.update((data_dir / name).read_bytes())
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


def workers_for(jobs: int | None, n_jobs: int, log=print) -> int:
    """How many worker processes: --jobs, capped at the number of cores (more only slows a run down)."""
    cores = os.cpu_count() or 1
    if jobs is not None and jobs > cores:
        log(f"--jobs {jobs} is more than the {cores} cores of this machine: using {cores}")
    return max(1, min(jobs or cores, cores, n_jobs))


def run(data_dir=None, out_dir=None, only=None, province=None, jobs=None, reports_file=None,
        progress: bool = True, log=print, executor=None) -> RunResult:
    """Validate the data, execute the report set, publish it (see :mod:`nq57lib.publish`).

    Paths are resolved here, before anything runs: notebooks execute in the run folder, where a
    relative ``data_dir`` would mean something else.
    """
    from .dataset import load

    data_path = Path(data_dir).resolve() if data_dir else _paths.DATA_DIR
    ds = load(data_path)  # invalid data stops here, before any notebook (DataValidationError)
    reports = load_reports(Path(reports_file).resolve() if reports_file else _paths.REPORTS_FILE)
    todo = plan(ds, reports, only=only, province=province)
    if data_dir:
        for j in todo:
            j.parameters["data_dir"] = str(data_path)
    out = Path(out_dir).resolve() if out_dir else _paths.OUTPUTS_DIR
    with OutputLock(out):
        clean_stale(out, log)
        return _run_locked(ds, data_path, out, todo, jobs, progress, log, executor,
                           partial=bool(only or province))


def _run_locked(ds, data_path, out, todo, jobs, progress, log, executor, partial) -> RunResult:
    from tqdm import tqdm

    from .executors import LocalExecutor

    run_id, tmp = new_run_folder(out)
    try:
        digest = data_hash(data_path)
    except OSError as e:
        discard(tmp)
        raise OutputError(f"cannot read the data files in {data_path}: {e.strerror}") from None
    manifest = {"run_id": run_id, "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "data_dir": str(data_path), "data_hash": digest, "versions": _versions(), "partial": partial}
    result = RunResult(None, todo, partial=partial)
    ex = executor or LocalExecutor(workers_for(jobs, len(todo), log))
    bar = tqdm(total=len(todo), desc="nq57 run", unit="report", disable=not progress, file=sys.stderr)

    def done(job):
        bar.update(1)
        bar.set_postfix_str(f"{job.id}: {job.status}")

    def on_term(signum, frame):
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        ex.map(todo, tmp, done)
        failed = [j for j in todo if j.status != "succeeded"]
        result.status = "failed" if failed else "succeeded"
        result.exit_code = EXIT_FAILED if failed else EXIT_OK
    except (_Terminated, KeyboardInterrupt):
        ex.cancel()
        for j in todo:
            if j.status == "pending":
                j.status = "interrupted"
        result.status, result.exit_code = "interrupted", EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
        bar.close()
        if result.status != "interrupted":
            ex.close()
    full = output_failure(todo)
    if full:
        discard(tmp)
        raise OutputError(f"cannot write the reports into {out}: {full}; nothing was published, "
                          f"{out / 'latest'} is unchanged")
    manifest.update(finished=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                    status=result.status, exit_code=result.exit_code,
                    reports=[{"id": j.id, "name": j.name, "title": j.title,
                              "notebook": os.path.relpath(j.notebook, _paths.PROJECT_ROOT),
                              "parameters": j.parameters, "status": j.status, "duration_s": j.duration_s,
                              "error": j.error, "html": f"{j.id}.html" if (tmp / f"{j.id}.html").exists() else None}
                             for j in todo])
    final = finish(out, tmp, run_id, manifest, publish_latest=result.status == "succeeded" and not partial)
    result.run_dir = final
    _report(result, final, out, log)
    return result


def _report(result: RunResult, final: Path, out: Path, log) -> None:
    ok = sum(j.status == "succeeded" for j in result.jobs)
    log(f"{ok} of {len(result.jobs)} reports succeeded: {final / 'index.html'}")
    for j in result.jobs:
        if j.status == "failed" and j.error:
            cell = f"cell {j.error['cell']}" if j.error.get("cell") is not None else "no cell"
            first = j.error["message"].splitlines()[0] if j.error["message"] else ""
            log(f"  FAILED {j.id} ({cell}): {j.error['error']}: {first}")
    if result.status == "interrupted":
        log(f"Interrupted: the partial run is in {final}; {out / 'latest'} was not changed.")
    elif result.partial:
        log(f"A partial run (--only/--province) is published under its time only; {out / 'latest'} was not changed.")
    elif result.status == "failed":
        if (out / "latest").exists():
            log(f"{out / 'latest'} still points at the last run in which every report succeeded.")
        else:
            log(f"No run has fully succeeded yet, so {out / 'latest'} does not exist.")


# ------------------------------------------------------------------ refresh

def refresh(notebooks_dir: Path | None = None, log=print) -> list[Path]:
    """Execute each report notebook with its default parameters and store the outputs in place (the nbval
    references), without papermill's volatile metadata (times, paths)."""
    import nbformat
    import papermill

    from .kernels import kernel_manager_class

    notebooks_dir = Path(notebooks_dir) if notebooks_dir else _paths.NOTEBOOKS_DIR
    done = []
    for nb_path in report_notebooks(notebooks_dir):
        tmp = nb_path.with_suffix(".refresh.ipynb")
        try:
            papermill.execute_notebook(str(nb_path), str(tmp), kernel_name="python3", progress_bar=False,
                                       cwd=str(notebooks_dir), kernel_manager_class=kernel_manager_class())
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


def report_notebooks(notebooks_dir: Path) -> list[Path]:
    """The project's report notebooks (``NN_name.ipynb``), not scratch copies or papermill outputs."""
    import re

    return sorted(p for p in notebooks_dir.glob("*.ipynb") if re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", p.name))


# ------------------------------------------------------------------ CLI

def add_commands(sub) -> None:
    r = sub.add_parser("run", help="execute every report in reports.yaml and publish HTML under outputs/")
    r.add_argument("--data", metavar="DIR", help="data folder (default: the project's data/)")
    r.add_argument("--out", metavar="DIR", help="output folder (default: the project's outputs/)")
    r.add_argument("--only", metavar="NAME", action="append", help="run only this report (repeatable); a partial run does not move latest")
    r.add_argument("--province", metavar="NAME", help="run only the per-province reports of this province; does not move latest")
    r.add_argument("--jobs", metavar="N", type=int, help="parallel processes (default and maximum: number of cores)")
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
