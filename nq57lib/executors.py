"""Executors: where the reports of a run are executed. One small interface, so that adding an executor
touches one file.

An executor takes the jobs of a run and calls ``done(job)`` as each finishes, in any order; the job then
has ``status`` ("succeeded" or "failed"), ``error`` and ``duration_s``, and its ``<id>.ipynb`` and
``<id>.html`` are in the run folder. ``cancel()`` stops what is left (Ctrl-C, SIGTERM).

- :class:`LocalExecutor`: worker processes on this machine (the default).
- ``nq57lib.executor_dask.DaskExecutor``: a dask.distributed cluster (optional extra ``[cluster]``).

Workers are started fresh (``spawn``), so they never inherit the run's lock on the output folder, and
each asks the kernel to send it SIGTERM when the run's process dies (Linux ``PR_SET_PDEATHSIG``); the
kernels they start watch their parent the same way (ipykernel's parent poller) and use IPC sockets, not
TCP, on this machine.
"""
from __future__ import annotations

import os
import re
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from .reportset import Job

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    """Text without terminal colour codes (tracebacks from kernels carry them)."""
    return _ANSI.sub("", text or "")


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


def _worker_init(parent_pid: int) -> None:
    die_with_parent()
    if os.getppid() != parent_pid:  # the run died before this worker got going
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle: it cancels the jobs


def kernel_manager_class():
    """The kernel manager the workers use: IPC transport (no TCP warning, nothing on the network)."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class Nq57KernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self):
            return "ipc"

        @default("ip")
        def _default_ip(self):
            # a private folder per kernel: kernels started at once in one folder would share socket names
            import tempfile
            self._ipc_dir = tempfile.mkdtemp(prefix="nq57-kernel-")
            return os.path.join(self._ipc_dir, "k")

        def cleanup_ipc_files(self):
            super().cleanup_ipc_files()
            folder = getattr(self, "_ipc_dir", None)
            if folder:
                import shutil
                shutil.rmtree(folder, ignore_errors=True)

    return Nq57KernelManager


def _error(e: BaseException, cell=None, count=None) -> dict:
    err = {"cell": cell, "execution_count": count, "error": type(e).__name__, "message": plain(str(e))[:1000]}
    if isinstance(e, OSError) and e.errno is not None:
        from .publish import describe_os_error
        err["errno"] = e.errno
        err["message"] = describe_os_error(e)
    return err


def execute_job(job: Job, run_dir: str) -> Job:
    """Run one report's notebook with papermill and convert it to HTML (in a worker process).

    The kernel's own messages go to ``logs/<id>.log`` in the run folder.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    start = time.monotonic()
    out_nb = Path(run_dir) / f"{job.id}.ipynb"
    try:
        with open(Path(run_dir) / "logs" / f"{job.id}.log", "ab") as log_file:
            os.dup2(log_file.fileno(), 2)  # the kernel inherits this process's stderr
        papermill.execute_notebook(job.notebook, str(out_nb), parameters=job.parameters, kernel_name="python3",
                                   progress_bar=False, cwd=run_dir, execution_timeout=600,
                                   kernel_manager_class=kernel_manager_class())
        job.status = "succeeded"
    except PapermillExecutionError as e:
        job.status, job.error = "failed", {"cell": e.cell_index, "execution_count": e.exec_count,
                                           "error": e.ename, "message": plain(str(e.evalue))[:1000]}
    except Exception as e:  # a dead kernel, a timeout, a notebook that cannot be read or written
        job.status, job.error = "failed", _error(e)
    if out_nb.exists():
        try:
            to_html(out_nb, Path(run_dir) / f"{job.id}.html", job.title)
        except Exception as e:
            if job.status == "succeeded":
                job.status, job.error = "failed", _error(e)
    job.duration_s = round(time.monotonic() - start, 2)
    return job


def to_html(nb_path: Path, html_path: Path, title: str) -> None:
    """The executed notebook as a page: code hidden, cells tagged ``remove-cell`` left out."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(nb_path, as_version=4)
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"remove-cell"}), enabled=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    html_path.write_text(body, encoding="utf-8")


class LocalExecutor:
    """Worker processes on this machine, ``workers`` at a time."""

    def __init__(self, workers: int):
        import multiprocessing

        self.workers = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_worker_init, initargs=(os.getpid(),))

    def map(self, jobs: list[Job], run_dir: Path, done) -> None:
        futures = {self.pool.submit(execute_job, j, str(run_dir)): j for j in jobs}
        for fut in as_completed(futures):
            job = futures[fut]
            try:
                result = fut.result()
                job.status, job.error, job.duration_s = result.status, result.error, result.duration_s
            except Exception as e:  # the worker process itself died
                job.status, job.error = "failed", _error(e)
            done(job)

    def cancel(self) -> None:
        for p in list(getattr(self.pool, "_processes", {}).values()):
            p.terminate()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
