"""Executing one report: a notebook with papermill in a kept ("warm") kernel, then its HTML page.

Every executor (:mod:`nq57lib.executors`) runs reports through :func:`execute_job`, in whatever process
it uses as a worker. A worker keeps one kernel between reports (:class:`WarmKernel`): starting and
shutting down a kernel and importing pandas, matplotlib and nq57lib in it were most of a report's time.
Before each report the kernel is given back the state a new kernel has:

- a fresh namespace (IPython's ``reset``: every global of the previous report is gone) and the execution
  counter at 1, so cell numbers and tracebacks are those of a new kernel;
- the working folder, ``sys.path``, ``os.environ``, warning filters (and the "shown once" registries),
  matplotlib's settings and open figures, numpy's print options and pandas' options as they were when the
  kernel started.

What a report could still leave behind is a change inside a library module (monkeypatching). The reports
of this project do not do that, and tests/test_runner.py proves the pages equal those of new kernels.

The kernel manager is jupyter_client's *async* one (with the blocking one a kernel that dies leaves
papermill waiting until the execution timeout), with a new kernel client for each report. A kernel that
dies, or that a report leaves busy (a timeout), is dropped: that report fails and the next report gets a
new kernel.
"""
from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

from .reportset import Job

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: seconds a report may run in one cell before it fails (papermill's execution timeout)
CELL_TIMEOUT = 600
#: what nbclient gives a kernel it starts: no history file on disk
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]

#: what the report notebooks import, imported once when a kept kernel starts (before its state is noted)
PRELOAD = ("IPython.display", "nq57lib.report", "nq57lib.plots")

# Run silently in the kernel when it starts: a private module (not in the user's namespace) that keeps the
# state of a new kernel that has imported PRELOAD, and puts it back before each report.
_SETUP = r'''
def _nq57_setup(preload):
    import copy, importlib, os, sys, types, warnings
    m = types.ModuleType("_nq57_warm")
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    m.cwd, m.path, m.environ = os.getcwd(), list(sys.path), dict(os.environ)
    m.filters = list(warnings.filters)
    mpl = sys.modules.get("matplotlib")
    m.rc = copy.deepcopy(dict(mpl.rcParams)) if mpl else None
    np = sys.modules.get("numpy")
    m.np_print = np.get_printoptions() if np else None
    m.pd_options = None
    if "pandas" in sys.modules:
        try:
            from pandas._config import config as pdc
            m.pd_options = {k: pdc.get_option(k) for k in pdc._registered_options}
        except Exception:
            pass

    def reset():
        ip = get_ipython()
        ip.reset(new_session=True)
        ip.execution_count = 1
        os.chdir(m.cwd)
        sys.path[:] = m.path
        if dict(os.environ) != m.environ:
            os.environ.clear()
            os.environ.update(m.environ)
        warnings.filters[:] = m.filters
        getattr(warnings, "_filters_mutated", lambda: None)()  # forget which warnings were shown once
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")
        if m.rc is not None:
            import matplotlib
            dict.update(matplotlib.rcParams, copy.deepcopy(m.rc))
        numpy = sys.modules.get("numpy")
        if numpy is not None and m.np_print is not None:
            numpy.set_printoptions(**m.np_print)
        if m.pd_options is not None:  # what nq57lib or a report set
            from pandas._config import config as pdc
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for k, v in m.pd_options.items():
                    try:
                        if pdc.get_option(k) != v:
                            pdc.set_option(k, v)
                    except Exception:
                        pass

    m.reset = reset
    sys.modules["_nq57_warm"] = m

_nq57_setup(%r)
del _nq57_setup
'''
_RESET = '__import__("sys").modules["_nq57_warm"].reset()'


def skip_slow_imports() -> None:
    """Spare this process a second of imports: jsonschema (which nbformat imports) compiles about forty
    grammars when rfc3987-syntax is installed (jupyterlab brings it), for "iri" format checks that
    nbformat never asks for. Called in the run's worker processes only, never in a kernel or a user's
    process."""
    import sys

    sys.modules.setdefault("rfc3987_syntax", None)


def plain(text: str) -> str:
    """Text without terminal colour codes (tracebacks from kernels carry them)."""
    return _ANSI.sub("", text or "")


def kernel_manager_class():
    """The kernel manager the workers use: async, IPC transport (no TCP warning, nothing on the network)."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class Nq57KernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self):
            return "ipc"

        @default("ip")
        def _default_ip(self):
            # a private folder per kernel: kernels started at once in one folder would share socket names
            self._ipc_dir = tempfile.mkdtemp(prefix="nq57-kernel-")
            return os.path.join(self._ipc_dir, "k")

        def cleanup_ipc_files(self):
            super().cleanup_ipc_files()
            folder = getattr(self, "_ipc_dir", None)
            if folder:
                import shutil
                shutil.rmtree(folder, ignore_errors=True)

    return Nq57KernelManager


class KernelError(RuntimeError):
    """A kept kernel could not be started or reset."""


async def connect(km, timeout: float = 60):
    """A new client of ``km``'s kernel, ready: its kernel_info request answered on the shell channel and
    its status seen on IOPub (so no output of the first cell can be missed).

    jupyter_client's ``wait_for_ready`` does the same and then listens to IOPub for 0.2 s more, which
    was a fifth of a short report's time.
    """
    from queue import Empty

    kc = km.client()
    kc.start_channels()
    deadline = time.monotonic() + timeout
    try:
        while True:
            msg_id = kc.kernel_info()
            reply = None
            try:
                while reply is None or reply["parent_header"].get("msg_id") != msg_id:
                    reply = await kc.get_shell_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None:
                until = time.monotonic() + 0.5
                while time.monotonic() < until:
                    try:
                        msg = await kc.get_iopub_msg(timeout=max(0.01, until - time.monotonic()))
                    except Empty:
                        break
                    if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                            and msg["content"].get("execution_state") == "idle"):
                        kc._handle_kernel_info_reply(reply)
                        kc.allow_stdin = False
                        return kc
            if not await km.is_alive():
                raise KernelError("the kernel died before it answered")
            if time.monotonic() > deadline:
                raise KernelError(f"the kernel did not answer in {timeout:.0f} s")
    except BaseException:
        kc.stop_channels()
        raise


class WarmKernel:
    """One kernel kept between reports; :meth:`ready` gives it back a new kernel's state each time.

    ``cwd`` is where notebooks run, ``env`` the kernel's environment, ``log`` the file the kernel's own
    messages go to (``{n}`` is replaced by the count of kernels started, so a replacement gets its own).
    """

    def __init__(self, cwd: str, env: dict | None = None, log: str | None = None, preload=PRELOAD):
        self.cwd, self.env, self.log, self.preload = str(cwd), dict(env or os.environ), log, preload
        self.km = None
        self.started = 0
        self.reports = 0  # reports run in the current kernel

    def _run(self, coro):
        from jupyter_core.utils import run_sync

        async def call():
            return await coro
        return run_sync(call)()

    def alive(self) -> bool:
        return self.km is not None and self._run(self.km.is_alive())

    def start(self) -> None:
        self.started += 1
        self.reports = 0
        km = kernel_manager_class()(kernel_name="python3")
        log_file = None
        if self.log:
            log_file = open(self.log.format(n=self.started), "ab")
        try:
            self._run(km.start_kernel(cwd=self.cwd, env=self.env, extra_arguments=list(KERNEL_ARGUMENTS),
                                      stderr=log_file, stdout=log_file))
        finally:
            if log_file is not None:
                log_file.close()  # the kernel has its own copy
        self.km = km
        try:
            self._execute(_SETUP % (tuple(self.preload),), timeout=120)
        except Exception:
            self.close()
            raise

    def _execute(self, code: str, timeout: float = 60) -> None:
        """Run ``code`` silently on a client of its own; raise KernelError unless it succeeds."""
        async def go():
            kc = await connect(self.km, timeout)
            try:
                msg_id = kc.execute(code, silent=True, store_history=False, allow_stdin=False)
                deadline = time.monotonic() + timeout
                while True:
                    reply = await kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
                    if reply["parent_header"].get("msg_id") == msg_id:
                        return reply["content"]
            finally:
                kc.stop_channels()

        try:
            content = self._run(go())
        except Exception as e:
            raise KernelError(f"the kept kernel did not answer ({type(e).__name__}: {e})") from None
        if content.get("status") != "ok":
            raise KernelError(f"the kept kernel could not be reset: {content.get('ename')}: {content.get('evalue')}")

    def ready(self):
        """The kernel manager, with a kernel in a new kernel's state (started or reset)."""
        if self.km is not None and not self.alive():
            self.close()
        if self.km is None:
            self.start()
        elif self.reports:
            try:
                self._execute(_RESET)
            except KernelError:
                self.close()
                self.start()
        self.reports += 1
        return self.km

    def close(self) -> None:
        """Kill the kernel now (nothing in it is worth a graceful shutdown) and remove its files."""
        km, self.km = self.km, None
        if km is None:
            return
        try:
            self._run(km.shutdown_kernel(now=True))
        except Exception:
            try:
                self._run(km.cleanup_resources())
            except Exception:
                pass


def _engine():
    """papermill's nbclient engine with a given kernel manager, whose kernel client is closed after each
    report (papermill leaves a client it did not create open)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class WarmEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            safe = remove_args(["timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(safe, timeout=execution_timeout, startup_timeout=start_timeout,
                                 kernel_name=kernel_name, log=logger, log_output=log_output,
                                 stdout_file=stdout_file, stderr_file=stderr_file)
            client = PapermillNotebookClient(nb_man, **final)
            if client.km is not None:  # a kept kernel: connect here (see connect), not with nbclient
                from jupyter_core.utils import run_sync

                async def ready():
                    return await connect(client.km, start_timeout)
                client.kc = run_sync(ready)()
            try:
                return client.execute()
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()

    papermill_engines.register("nq57-warm", WarmEngine)
    return "nq57-warm"


def _error(e: BaseException, cell=None, count=None) -> dict:
    err = {"cell": cell, "execution_count": count, "error": type(e).__name__, "message": plain(str(e))[:1000]}
    if isinstance(e, OSError) and e.errno is not None:
        from .publish import describe_os_error
        err["errno"] = e.errno
        err["message"] = describe_os_error(e)
    return err


def execute_job(job: Job, run_dir: str, kernel: WarmKernel | None = None, notebook: str | None = None,
                parameters: dict | None = None, finish=None) -> Job:
    """Run one report's notebook with papermill and write ``<id>.ipynb`` and ``<id>.html`` into ``run_dir``.

    ``kernel`` is the worker's kept kernel (a new kernel just for this report when None). ``notebook`` and
    ``parameters`` replace the job's for execution (a remote worker's copies); ``finish(nb)`` may change
    the executed notebook before its page is made (to record the job's own). Sets the job's ``status``
    ("succeeded" or "failed"), ``error`` and ``duration_s``.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    start = time.monotonic()
    out_nb = Path(run_dir) / f"{job.id}.ipynb"
    own = kernel is None
    if own:
        kernel = WarmKernel(run_dir, log=str(Path(run_dir) / "logs" / f"{job.id}.log"), preload=())
    try:
        km = kernel.ready()
        papermill.execute_notebook(notebook or job.notebook, str(out_nb),
                                   parameters=job.parameters if parameters is None else parameters,
                                   kernel_name="python3", progress_bar=False, cwd=run_dir,
                                   execution_timeout=CELL_TIMEOUT, engine_name=_engine(), km=km)
        job.status = "succeeded"
    except PapermillExecutionError as e:
        job.status, job.error = "failed", {"cell": e.cell_index, "execution_count": e.exec_count,
                                           "error": e.ename, "message": plain(str(e.evalue))[:1000]}
    except Exception as e:  # a dead kernel, a timeout, a notebook that cannot be read or written
        job.status, job.error = "failed", _error(e)
        kernel.close()  # dead, or still busy with this report: the next report gets a new kernel
    finally:
        if own:
            kernel.close()
    if out_nb.exists():
        try:
            if finish is not None:
                import nbformat
                nb = nbformat.read(out_nb, as_version=4)
                finish(nb)
                nbformat.write(nb, out_nb)
            to_html(out_nb, Path(run_dir) / f"{job.id}.html", job.title)
        except Exception as e:
            if job.status == "succeeded":
                job.status, job.error = "failed", _error(e)
    job.duration_s = round(time.monotonic() - start, 2)
    return job


_EXPORTER = None


def to_html(nb_path: Path, html_path: Path, title: str) -> None:
    """The executed notebook as a page: code hidden, cells tagged ``remove-cell`` left out.

    The exporter (templates, preprocessors) is made once per process and kept.
    """
    global _EXPORTER
    import nbformat

    if _EXPORTER is None:
        from nbconvert import HTMLExporter
        from nbconvert.preprocessors import TagRemovePreprocessor

        exporter = HTMLExporter(template_name="lab")
        exporter.exclude_input = True
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
        exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"remove-cell"}), enabled=True)
        _EXPORTER = exporter
    nb = nbformat.read(nb_path, as_version=4)
    body, _ = _EXPORTER.from_notebook_node(nb, resources={"metadata": {"name": title}})
    html_path.write_text(body, encoding="utf-8")
