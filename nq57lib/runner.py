"""``nq57 run``: plan the report set, execute what changed, publish; ``nq57 refresh``: regenerate the
notebooks' stored outputs.

Each concern lives in a module named after it: the report set and its grid (:mod:`nq57lib.reportset`),
what can be reused from earlier runs (:mod:`nq57lib.incremental`), where reports execute
(:mod:`nq57lib.executors`, :mod:`nq57lib.executor_dask`) and how one is executed (:mod:`nq57lib.kernels`),
and publishing: lock, manifest, index, ``latest`` (:mod:`nq57lib.publish`). This module puts them
together and holds the command-line options.
"""
from __future__ import annotations

import datetime as _dt
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import _paths
from .errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from .incremental import Inputs, data_hash, keys_only, load_plan, reuse, save_plan
from .publish import (OutputError, OutputLock, clean_stale, discard, finish, manifest_entry, new_run_folder,
                      output_failure)
from .reportset import ConfigError, Job, load_reports, notebook_parameters, plan

__all__ = ["run", "refresh", "RunResult", "ConfigError", "OutputError", "data_hash"]


@dataclass
class RunResult:
    run_dir: Path | None
    jobs: list[Job] = field(default_factory=list)
    status: str = "succeeded"
    exit_code: int = EXIT_OK
    partial: bool = False


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


def _validated_data(data_path: Path, out: Path) -> dict:
    """Validate the data once for the whole run: the kernels' environment names the validated copy, and
    ``nq57lib.load`` in each notebook skips validation (nq57lib.cache; nothing when it is not there)."""
    try:
        from .cache import ENV_VAR, prevalidate
    except ImportError:
        return {}
    from .publish import OUTPUT_ERRNOS, _why
    try:
        return {ENV_VAR: str(prevalidate(data_path, out / ".cache"))}
    except OSError as e:
        if e.errno not in OUTPUT_ERRNOS:
            raise
        raise OutputError(f"cannot write the validated data into {out / '.cache'}: {_why(e)}; nothing was "
                          f"published, {out / 'latest'} is unchanged") from None


def _plan(data_path: Path, reports_path: Path, out: Path, only, province):
    """The jobs of this run, the inputs they share, and the plan's key if the plan is new (to keep).

    The kept plan is used when nothing that makes it has changed (no load, no validation); otherwise the
    data is loaded (and validated) and the report set planned.
    """
    reports = load_reports(reports_path)
    options = {"only": sorted(only or []), "province": province, "data_dir": str(data_path)}
    try:
        inputs = Inputs(data_path)
        key = inputs.plan_key(reports_path, [r["_notebook"] for r in reports], options)
    except OSError:
        inputs = key = None  # unreadable data: load() below says what is wrong
    kept = load_plan(out, key) if key else None
    if kept is not None:
        return kept, inputs, None
    from .dataset import load

    ds = load(data_path)  # invalid data stops here, before any notebook (DataValidationError)
    todo = plan(ds, reports, only=only, province=province)
    # every notebook that takes data_dir is given it: the executed notebook says which data it read, and a
    # remote worker (--cluster) can put its own copy of the data in its place
    takes = {nb: "data_dir" in notebook_parameters(nb) for nb in {j.notebook for j in todo}}
    for j in todo:
        if takes[j.notebook]:
            j.parameters["data_dir"] = str(data_path)
    return todo, inputs, key


def run(data_dir=None, out_dir=None, only=None, province=None, jobs=None, reports_file=None,
        progress: bool = True, log=print, executor=None, cluster: str | None = None,
        force: bool = False) -> RunResult:
    """Plan the report set, reuse what has not changed (unless ``force``), execute the rest, publish it
    (see :mod:`nq57lib.publish`). ``cluster`` is a ``--cluster`` address (dask.distributed).

    Paths are resolved here, before anything runs: notebooks execute in the run folder, where a
    relative ``data_dir`` would mean something else.
    """
    data_path = Path(data_dir).resolve() if data_dir else _paths.DATA_DIR
    reports_path = Path(reports_file).resolve() if reports_file else _paths.REPORTS_FILE
    out = Path(out_dir).resolve() if out_dir else _paths.OUTPUTS_DIR
    todo, inputs, new_plan = _plan(data_path, reports_path, out, only, province)
    with OutputLock(out):
        clean_stale(out, log)
        own = executor is None and bool(cluster)
        if own:
            from .executors import for_cluster
            executor = for_cluster(cluster)  # connects now: an unreachable scheduler stops the run here
        try:
            if new_plan:
                save_plan(out, new_plan, todo)
            return _run_locked(data_path, out, todo, inputs, jobs, progress, log, executor,
                               partial=bool(only or province), force=force)
        finally:
            if own:
                executor.close()


def _run_locked(data_path, out, todo, inputs, jobs, progress, log, executor, partial, force) -> RunResult:
    from .executors import LocalExecutor

    run_id, tmp = new_run_folder(out)
    try:
        if inputs is None:
            inputs = Inputs(data_path)
    except OSError as e:
        discard(tmp)
        raise OutputError(f"cannot read the data files in {data_path}: {e.strerror}") from None
    manifest = {"run_id": run_id, "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "data_dir": str(data_path), "data_hash": inputs.data, "versions": _versions(), "partial": partial}
    result = RunResult(None, todo, partial=partial)
    if force:
        keys_only(todo, inputs)
        to_run = list(todo)
    else:
        to_run = reuse(todo, inputs, out, tmp)
    try:
        env = _validated_data(data_path, out) if to_run else {}
    except BaseException:
        discard(tmp)  # nothing ran: no temporary folder left behind
        raise
    ex = executor or LocalExecutor(workers_for(jobs, len(to_run) or 1, log))
    bar = None
    if progress and to_run:
        from tqdm import tqdm
        bar = tqdm(total=len(to_run), desc="nq57 run", unit="report", file=sys.stderr)

    def done(job):
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"{job.id}: {job.status}")

    def on_term(signum, frame):
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        ex.map(to_run, tmp, done, env)
        failed = [j for j in todo if j.status not in ("succeeded", "reused")]
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
        if bar is not None:
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
                    reports=[manifest_entry(j, tmp, _paths.PROJECT_ROOT) for j in todo])
    final = finish(out, tmp, run_id, manifest, publish_latest=result.status == "succeeded" and not partial)
    result.run_dir = final
    _report(result, final, out, log)
    return result


def _report(result: RunResult, final: Path, out: Path, log) -> None:
    ok = sum(j.status in ("succeeded", "reused") for j in result.jobs)
    reused = sum(j.status == "reused" for j in result.jobs)
    again = f" ({reused} unchanged since an earlier run, reused; --force runs them again)" if reused else ""
    log(f"{ok} of {len(result.jobs)} reports succeeded{again}: {final / 'index.html'}")
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
    r.add_argument("--force", action="store_true", help="run every report, even those unchanged since an earlier run")
    r.add_argument("--cluster", metavar="ADDRESS", help="run the reports on a dask.distributed cluster: tcp://HOST:8786 "
                   "(a running scheduler) or local:N (N workers on this machine); needs pip install -e '.[cluster]'")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=_run_cmd)
    f = sub.add_parser("refresh", help="regenerate the notebooks' stored outputs (nbval references)")
    f.set_defaults(func=lambda args: (refresh(), EXIT_OK)[1])


def _run_cmd(args) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs {args.jobs}: give 1 or more")
    result = run(data_dir=args.data, out_dir=args.out, only=args.only, province=args.province, jobs=args.jobs,
                 reports_file=args.reports, progress=not args.no_progress, cluster=args.cluster, force=args.force)
    return result.exit_code
