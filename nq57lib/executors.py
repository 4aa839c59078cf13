"""Executors: where the reports of a run are executed, behind one small interface.

An executor has three methods::

    map(jobs, run_dir, done, env)  # run every job; call done(job) as each finishes, in any order;
                                   # env: variables for the kernels (the validated data's cache file)
    cancel()                   # Ctrl-C or SIGTERM: stop what is left, now
    close()                    # the run is over: free workers and connections

After ``map`` each job has ``status`` ("succeeded" or "failed"), ``error`` and ``duration_s``, and its
``<id>.ipynb``, ``<id>.html`` and ``logs/<id>.log`` are in ``run_dir``. How a report is executed is
:func:`nq57lib.kernels.execute_job`, whatever the executor.

- :class:`LocalExecutor`: worker processes on this machine (the default), each with a kept kernel.
- :class:`nq57lib.executor_dask.DaskExecutor`: a dask.distributed cluster (``--cluster``; optional extra
  ``[cluster]``).

A third executor is one new module with a class of these three methods, and one line in
:data:`CLUSTERS` if ``--cluster`` should reach it.

Local workers are started fresh (``spawn``), so they never inherit the run's lock on the output folder,
and each asks the kernel to send it SIGTERM when the run's process dies (Linux ``PR_SET_PDEATHSIG``); the
kernels they start watch their parent the same way (ipykernel's parent poller) and use IPC sockets, not
TCP, on this machine.
"""
from __future__ import annotations

import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Protocol

from .kernels import _error, execute_job, skip_slow_imports
from .reportset import ConfigError, Job


class Executor(Protocol):
    def map(self, jobs: list[Job], run_dir: Path, done: Callable[[Job], None], env: dict | None = None) -> None: ...
    def cancel(self) -> None: ...
    def close(self) -> None: ...


#: ``--cluster`` addresses: a prefix and the module and class that take it (``cls(address)``)
CLUSTERS = {
    "tcp://": ("nq57lib.executor_dask", "DaskExecutor"),
    "tls://": ("nq57lib.executor_dask", "DaskExecutor"),
    "local:": ("nq57lib.executor_dask", "DaskExecutor"),
}


def for_cluster(address: str) -> Executor:
    """The executor for a ``--cluster`` address (ConfigError with one line if it cannot be used)."""
    import importlib

    for prefix, (module, name) in CLUSTERS.items():
        if address.startswith(prefix):
            return getattr(importlib.import_module(module), name)(address)
    raise ConfigError(f"--cluster {address!r}: give a dask scheduler address (tcp://HOST:8786) "
                      "or local:N for N workers on this machine")


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG
    except OSError:  # pragma: no cover - no libc
        pass


# ------------------------------------------------------------------ local worker processes

_KERNEL = None  # this worker's kept kernel
_SETTINGS: dict = {}


def _worker_init(parent_pid: int, env: dict, warm: bool) -> None:
    from multiprocessing.util import Finalize

    die_with_parent()
    if os.getppid() != parent_pid:  # the run died before this worker got going
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle: it cancels the jobs
    os.environ.update(env)
    _SETTINGS.update(warm=warm)
    skip_slow_imports()
    Finalize(None, _close_kernel, exitpriority=10)  # the pool shuts down: kill the kept kernel at once


def _close_kernel() -> None:
    global _KERNEL
    if _KERNEL is not None:
        _KERNEL.close()
        _KERNEL = None


def _local_job(job: Job, run_dir: str) -> Job:
    """In a worker: the report in this worker's kept kernel (started by its first report)."""
    global _KERNEL
    log = Path(run_dir) / "logs" / f"{job.id}.log"
    try:
        with open(log, "ab") as f:
            os.dup2(f.fileno(), 2)  # this worker's own warnings (papermill, nbconvert) go to the report's log
    except OSError as e:
        job.status, job.error = "failed", _error(e)
        return job
    if not _SETTINGS.get("warm", True):
        return execute_job(job, run_dir)
    if _KERNEL is None or _KERNEL.cwd != str(run_dir):
        from .kernels import WarmKernel
        _close_kernel()
        # the kernel's own messages (start, shutdown) go to logs/kernel-<worker pid>-<n>.log
        _KERNEL = WarmKernel(run_dir, log=str(Path(run_dir) / "logs" / f"kernel-{os.getpid()}-{{n}}.log"))
    return execute_job(job, run_dir, kernel=_KERNEL)


class LocalExecutor:
    """Worker processes on this machine, ``workers`` at a time, each keeping one kernel between reports
    (``warm=False``: a new kernel for every report). ``env`` is added to the workers' and kernels'
    environment. The processes start with the first report to run, not before."""

    def __init__(self, workers: int, env: dict | None = None, warm: bool = True):
        self.workers, self.env, self.warm = workers, dict(env or {}), warm
        self.pool = None

    def map(self, jobs: list[Job], run_dir: Path, done, env: dict | None = None) -> None:
        import multiprocessing

        if not jobs:
            return
        self.pool = ProcessPoolExecutor(max_workers=min(self.workers, len(jobs)),
                                        mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_worker_init, initargs=(os.getpid(), {**self.env, **(env or {})}, self.warm))
        futures = {self.pool.submit(_local_job, j, str(run_dir)): j for j in jobs}
        for fut in as_completed(futures):
            job = futures[fut]
            try:
                result = fut.result()
                job.status, job.error, job.duration_s = result.status, result.error, result.duration_s
            except Exception as e:  # the worker process itself died
                job.status, job.error = "failed", _error(e)
            done(job)

    def cancel(self) -> None:
        if self.pool is None:
            return
        for p in list(getattr(self.pool, "_processes", {}).values()):
            p.terminate()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
