"""nq57 run --cluster: the report set on dask.distributed (an optional extra). One LocalCluster of two
workers serves the tests (reached by its tcp:// address, as a remote scheduler would be); tiny
notebooks are made by the tests."""
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nq57lib.cli import main
from test_runner import ROOT, _comparable, _notebook, _printed

HAVE_DASK = importlib.util.find_spec("distributed") is not None
needs_dask = pytest.mark.skipif(not HAVE_DASK, reason="dask.distributed is not installed (pip install -e '.[cluster]'; "
                                                      "make test installs it when it can)")
pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def scheduler():
    """The address of a LocalCluster with two worker processes, for the whole module."""
    import logging

    from distributed import LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    yield cluster.scheduler_address
    cluster.close()


@pytest.fixture
def reports(tmp_path):
    (tmp_path / "nb").mkdir()
    _notebook(tmp_path / "nb" / "ok.ipynb", 'print("fine", province, lang)')
    _notebook(tmp_path / "nb" / "broken.ipynb", 'raise ZeroDivisionError("boom in the second cell")')
    _notebook(tmp_path / "nb" / "loads.ipynb", "import nq57lib\nprint(len(nq57lib.load(data_dir).targets))")
    _notebook(tmp_path / "nb" / "kills_worker.ipynb", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)")
    _notebook(tmp_path / "nb" / "slow.ipynb", "import time\ntime.sleep(60)")

    def write(*entries):
        path = tmp_path / "reports.yaml"
        path.write_text("reports:\n" + "".join(entries), encoding="utf-8")
        return path
    return tmp_path, write


def _entry(name, nb, extra=""):
    return f"  - name: {name}\n    notebook: nb/{nb}.ipynb\n{extra}"


def _manifest_without_times(run: Path) -> dict:
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    for key in ("run_id", "started", "finished"):
        m.pop(key)
    for r in m["reports"]:
        r.pop("duration_s")
    return m


@needs_dask
def test_a_cluster_run_equals_a_local_run(scheduler, reports):
    tmp, write = reports
    shutil.copytree(ROOT / "data", tmp / "data")
    path = write(_entry("ok", "ok", "    title: '{province} / {lang}'\n    for_each: {province: [Lai Châu, lao-cai-cu], lang: [vi, en]}\n"),
                 _entry("broken", "broken"), _entry("loads", "loads"))
    common = ["run", "--reports", str(path), "--data", str(tmp / "data"), "--no-progress", "--force"]
    assert main(common + ["--out", str(tmp / "local")]) == 1
    assert main(common + ["--out", str(tmp / "dask"), "--cluster", scheduler]) == 1
    (local,) = [p for p in (tmp / "local").iterdir() if p.name[0].isdigit()]
    (remote,) = [p for p in (tmp / "dask").iterdir() if p.name[0].isdigit()]
    assert _manifest_without_times(local) == _manifest_without_times(remote)
    a, b = _comparable(local), _comparable(remote)
    assert sorted(a) == sorted(b) and len(a) == 12
    for name in a:
        assert a[name] == b[name], name
    assert _printed(remote / "loads.ipynb") == _printed(local / "loads.ipynb") != ""
    assert json.loads((remote / "loads.ipynb").read_text())["metadata"]["papermill"]["parameters"]["data_dir"] == str(tmp / "data")


@needs_dask
def test_a_cluster_run_publishes_latest_and_is_incremental(scheduler, reports):
    tmp, write = reports
    path = write(_entry("ok", "ok"))
    out = tmp / "out"
    assert main(["run", "--reports", str(path), "--out", str(out), "--no-progress", "--cluster", scheduler]) == 0
    first = (out / "latest").resolve()
    assert json.loads((first / "manifest.json").read_text())["reports"][0]["status"] == "succeeded"
    assert main(["run", "--reports", str(path), "--out", str(out), "--no-progress", "--cluster", scheduler]) == 0
    assert json.loads((out / "latest" / "manifest.json").read_text())["reports"][0]["reused_from"] == first.name


@needs_dask
def test_a_killed_worker_fails_one_report_not_the_run(scheduler, reports, capsys):
    tmp, write = reports
    path = write(_entry("killer", "kills_worker"), _entry("ok", "ok"), _entry("ok-two", "ok"))
    out = tmp / "out"
    assert main(["run", "--reports", str(path), "--out", str(out), "--no-progress", "--cluster", scheduler]) == 1
    (run,) = [p for p in out.iterdir() if p.name[0].isdigit()]
    by = {r["id"]: r for r in json.loads((run / "manifest.json").read_text())["reports"]}
    assert by["ok"]["status"] == by["ok-two"]["status"] == "succeeded"
    assert by["killer"]["status"] == "failed" and by["killer"]["error"]["error"] == "WorkerLost"
    assert "not tried again" in by["killer"]["error"]["message"]
    assert "FAILED killer (no cell): WorkerLost" in capsys.readouterr().out
    assert not (out / "latest").exists()


@needs_dask
def test_sigterm_cancels_a_cluster_run_and_keeps_it_as_interrupted(reports):
    tmp, write = reports
    path = write(_entry("slow", "slow"), _entry("ok", "ok"))
    out = tmp / "out"
    proc = subprocess.Popen([sys.executable, "-m", "nq57lib.cli", "run", "--reports", str(path), "--out", str(out),
                             "--no-progress", "--cluster", "local:1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 90
    while time.time() < deadline and not list(out.glob(".tmp-*")):
        time.sleep(0.2)
    time.sleep(6)  # the cluster is up and the slow report is running
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    (stopped,) = out.glob("*-interrupted")
    m = json.loads((stopped / "manifest.json").read_text())
    assert m["status"] == "interrupted" and not (out / "latest").exists()


@needs_dask
def test_an_unreachable_scheduler_is_one_line_and_nothing_is_written(reports, capsys, monkeypatch):
    from nq57lib import executor_dask
    monkeypatch.setattr(executor_dask, "CONNECT_TIMEOUT", 2)
    tmp, write = reports
    out = tmp / "out"
    assert main(["run", "--reports", str(write(_entry("ok", "ok"))), "--out", str(out), "--no-progress",
                 "--cluster", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: --cluster tcp://127.0.0.1:9: no dask scheduler answers there") and len(err.splitlines()) == 1
    assert not any(p.name[0].isdigit() or p.name.startswith(".tmp") for p in out.iterdir())


@pytest.mark.parametrize("address, message", [("scheduler:8786", "give a dask scheduler address (tcp://HOST:8786)"),
                                              ("local:zero", "local:N needs a number of workers")])
def test_a_bad_cluster_address_is_one_line(reports, capsys, address, message):
    tmp, write = reports
    if address.startswith("local") and not HAVE_DASK:
        message = "needs dask.distributed"
    assert main(["run", "--reports", str(write(_entry("ok", "ok"))), "--out", str(tmp / "out"), "--no-progress",
                 "--cluster", address]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_without_dask_cluster_says_how_to_install_it(reports, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the extra were not installed
    tmp, write = reports
    assert main(["run", "--reports", str(write(_entry("ok", "ok"))), "--out", str(tmp / "out"), "--no-progress",
                 "--cluster", "local:2"]) == 2
    assert "pip install -e '.[cluster]'" in capsys.readouterr().err
