"""The report set on a dask.distributed cluster: ``nq57 run --cluster tcp://HOST:8786`` (a running
scheduler) or ``--cluster local:N`` (a LocalCluster of N worker processes on this machine).

dask is an optional extra (``pip install -e '.[cluster]'``); nothing else in nq57 imports it.

Workers need nq57lib installed (the notebooks import it) but no shared file system: the data files (and
the validated data's cache file) are sent to every worker once, each report's notebook and parameters
travel with its task, and the executed notebook and its page come back (the kernels' own messages stay
in the worker's scratch folder, ``nq57-*/logs/kernel-<pid>-<n>.log``). A worker runs the
notebook on its own copy of the data and then writes, in the executed notebook, the parameters and paths
the run gave (papermill's own parameter cell), so the notebook and page are those a local run writes.
The client publishes exactly as a local run does (:mod:`nq57lib.publish`).

Each worker process keeps one kernel between reports, as local workers do (:mod:`nq57lib.kernels`).

A worker lost in the middle of a report fails that report ("WorkerLost"), whatever the scheduler's
``allowed-failures``: it is not tried again, on purpose. A report that takes its worker down (memory)
would take a second one down, and the next ``nq57 run`` executes only the reports that did not succeed
(the others are reused), so running it again is cheap and visible. Ctrl-C cancels the tasks not yet done.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import uuid
from pathlib import Path

from .kernels import _error
from .reportset import ConfigError, Job

#: seconds to wait for a scheduler given by --cluster
CONNECT_TIMEOUT = 10
_LOST = ("the dask worker running this report was lost (its machine or process stopped); it is not tried "
         "again: run nq57 run again to execute only the reports that did not succeed")


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ConfigError("--cluster needs dask.distributed, an optional extra: pip install -e '.[cluster]' "
                          "(make report and make test do not need it)") from None
    return distributed


class DaskExecutor:
    """Reports as tasks on a dask.distributed cluster (see the module's documentation)."""

    def __init__(self, address: str):
        distributed = _distributed()
        self.address, self.cluster, self.futures = address, None, []
        if address.startswith("local:"):
            n = address[len("local:"):]
            if not n.isdigit() or int(n) < 1:
                raise ConfigError(f"--cluster {address!r}: local:N needs a number of workers, e.g. local:2")
            self.cluster = distributed.LocalCluster(n_workers=int(n), threads_per_worker=1, processes=True,
                                                    dashboard_address=None, silence_logs=logging.ERROR)
            self.client = distributed.Client(self.cluster)
        else:
            try:
                self.client = distributed.Client(address, timeout=f"{CONNECT_TIMEOUT}s")
            except (OSError, TimeoutError, ValueError, TypeError) as e:
                why = str(e).splitlines()[0] if str(e) else type(e).__name__
                raise ConfigError(f"--cluster {address}: no dask scheduler answers there ({why}); start one with "
                                  "`dask scheduler` and workers with `dask worker ADDRESS`, or check the address") from None

    def map(self, jobs: list[Job], run_dir: Path, done, env: dict | None = None) -> None:
        from distributed import as_completed

        if not jobs:
            return
        shipped = _pack(jobs, env or {})
        (data,) = self.client.scatter([shipped], broadcast=True, hash=False)  # once per worker, one object
        topic = f"nq57-{uuid.uuid4().hex}"
        futures = {}
        for j in jobs:
            fut = self.client.submit(run_remote, _job_dict(j), str(run_dir), data, topic, key=f"{topic}-{j.id}",
                                     pure=False, retries=0)
            futures[fut] = j
        self.futures = list(futures)
        for fut in as_completed(list(futures)):
            job = futures[fut]
            try:
                result = fut.result()
            except Exception as e:  # the scheduler gave up on the task (KilledWorker), or it was cancelled
                lost = type(e).__name__ in ("KilledWorker", "FutureCancelledError", "CancelledError")
                job.status = "failed"
                job.error = ({"cell": None, "execution_count": None, "error": "WorkerLost", "message": _LOST}
                             if lost else _error(e))
            else:
                _unpack(job, result, run_dir)
            done(job)

    def cancel(self) -> None:
        try:
            self.client.cancel(self.futures, force=True)
        except Exception:
            pass
        self.close()

    def close(self) -> None:
        for thing in (self.client, self.cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:
                    pass
        self.client = self.cluster = None


def _job_dict(j: Job) -> dict:
    return {"id": j.id, "name": j.name, "title": j.title, "notebook": j.notebook, "parameters": j.parameters}


def _pack(jobs: list[Job], env: dict) -> dict:
    """What every worker needs once: the notebooks, the data files, and the files the kernels' environment
    names (the validated data), as bytes."""
    data_dirs = {j.parameters["data_dir"] for j in jobs if "data_dir" in j.parameters}
    files = {}
    for d in data_dirs:
        from .incremental import DATA_FILES
        files[d] = {name: (Path(d) / name).read_bytes() for name in DATA_FILES}
    env_files = {k: (Path(v).name, Path(v).read_bytes()) for k, v in env.items() if Path(v).is_file()}
    plain_env = {k: v for k, v in env.items() if k not in env_files}
    notebooks = {j.notebook: Path(j.notebook).read_bytes() for j in jobs}
    return {"data": files, "env_files": env_files, "env": plain_env, "notebooks": notebooks}


def _unpack(job: Job, result: dict, run_dir: Path) -> None:
    job.status, job.error, job.duration_s = result["status"], result["error"], result["duration_s"]
    try:
        for name, content in result["files"].items():
            (run_dir / name).write_bytes(content)
    except OSError as e:
        job.status, job.error = "failed", _error(e)


# ------------------------------------------------------------------ on a worker

_WORKER: dict = {}  # this worker process's folder, kept kernel and the environment it was started with


def _materialise(folder: Path, tag: str, files: dict) -> Path:
    """Write ``files`` (name -> bytes) once into ``folder/<tag>-<hash>`` and return that folder."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode())
        h.update(files[name])
    target = folder / f"{tag}-{h.hexdigest()[:16]}"
    if not target.is_dir():
        tmp = Path(tempfile.mkdtemp(dir=folder))
        for name, content in files.items():
            (tmp / name).write_bytes(content)
        os.replace(tmp, target)
    return target


def _first_attempt(topic: str, job_id: str) -> bool:
    """True unless this report already started on a worker that was lost (the scheduler runs a task
    again when its worker dies; nq57 fails it instead, see the module's documentation)."""
    from distributed import get_client, get_worker

    try:
        seen = any(msg == job_id for _, msg in get_client().get_events(topic))
    except Exception:
        seen = False
    get_worker().log_event(topic, job_id)
    return not seen


def _close_kernel() -> None:
    kernel = _WORKER.pop("kernel", None)
    if kernel is not None:
        kernel.close()


def run_remote(job: dict, client_run_dir: str, shipped: dict, topic: str) -> dict:
    """A task: execute one report in this worker's kept kernel and return its files as bytes."""
    from .kernels import WarmKernel, execute_job, skip_slow_imports

    start = time.monotonic()
    if not _first_attempt(topic, job["id"]):
        return {"status": "failed", "duration_s": 0.0, "files": {},
                "error": {"cell": None, "execution_count": None, "error": "WorkerLost", "message": _LOST}}
    skip_slow_imports()
    if "folder" not in _WORKER:  # in the worker's own scratch folder, which dask removes with the worker
        import atexit

        from distributed import get_worker
        _WORKER["folder"] = Path(tempfile.mkdtemp(prefix="nq57-", dir=get_worker().local_directory))
        (_WORKER["folder"] / "logs").mkdir()
        atexit.register(_close_kernel)
    folder = _WORKER["folder"]
    env = dict(os.environ)
    env.update(shipped["env"])
    for key, (name, content) in shipped["env_files"].items():
        env[key] = str(_materialise(folder, "env", {name: content}) / name)
    params = dict(job["parameters"])
    if "data_dir" in params:
        params["data_dir"] = str(_materialise(folder, "data", shipped["data"][job["parameters"]["data_dir"]]))
    nb_path = _materialise(folder, "notebook", {"notebook.ipynb": shipped["notebooks"][job["notebook"]]}) / "notebook.ipynb"
    kernel = _WORKER.get("kernel")
    if kernel is None or kernel.env != env:
        if kernel is not None:
            kernel.close()
        kernel = _WORKER["kernel"] = WarmKernel(str(folder), env=env,
                                                log=str(folder / "logs" / f"kernel-{os.getpid()}-{{n}}.log"))
    j = Job(**job)
    out_nb = Path(client_run_dir) / f"{j.id}.ipynb"

    def as_given(nb):
        """The parameters and paths the run gave, where the worker's copies were used."""
        from papermill.iorw import load_notebook_node
        from papermill.parameterize import parameterize_notebook

        nb.metadata.papermill["input_path"] = j.notebook
        nb.metadata.papermill["output_path"] = str(out_nb)
        if params == j.parameters:
            return
        ref = parameterize_notebook(load_notebook_node(str(nb_path)), j.parameters, kernel_name="python3")
        source = next(c.source for c in ref.cells if "injected-parameters" in c.metadata.get("tags", []))
        for cell in nb.cells:
            if "injected-parameters" in cell.metadata.get("tags", []):
                cell.source = source
        nb.metadata.papermill["parameters"] = ref.metadata.papermill["parameters"]

    execute_job(j, str(folder), kernel=kernel, notebook=str(nb_path), parameters=params, finish=as_given)
    files = {}
    for name in (f"{j.id}.ipynb", f"{j.id}.html"):
        p = folder / name
        if p.exists():
            files[name] = p.read_bytes()
            p.unlink()
    return {"status": j.status, "error": j.error, "duration_s": round(time.monotonic() - start, 2), "files": files}
