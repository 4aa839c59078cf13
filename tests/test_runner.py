"""nq57 run: publishing, failures, faults and hostile input. Tiny notebooks are made by code."""
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from nq57lib import runner
from nq57lib.cli import main

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.notebook


def _notebook(path: Path, code: str) -> None:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    p = nbformat.v4.new_code_cell('province = "x"  # help\nlang = "vi"  # help\ndata_dir = None  # help')
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p, nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)


BEHAVIOURS = {
    "ok": 'print("fine", province)',
    "broken_raises": 'raise ZeroDivisionError("boom in the second cell")',
    "dead_kernel": "import os\nos._exit(1)",
    "slow": "import time\ntime.sleep(60)",
}


@pytest.fixture
def project(tmp_path):
    """A reports folder with tiny notebooks, and a function that writes a reports.yaml for some of them."""
    nbdir = tmp_path / "nb"
    nbdir.mkdir()
    for name, code in BEHAVIOURS.items():
        _notebook(nbdir / f"{name}.ipynb", code)

    def reports(*names, extra=""):
        lines = ["reports:"] + [f"  - name: {n.replace('_', '-')}\n    notebook: nb/{n}.ipynb\n    parameters: {{}}" for n in names]
        path = tmp_path / "reports.yaml"
        path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
        return path
    return tmp_path, reports


def _run(reports, out, *extra):
    return main(["run", "--reports", str(reports), "--out", str(out), "--no-progress", "--jobs", "2", *extra])


def test_a_good_run_publishes_index_manifest_and_latest(project, capsys):
    tmp, reports = project
    out = tmp / "out"
    assert _run(reports("ok"), out) == 0
    latest = out / "latest"
    assert latest.is_symlink() and (latest / "index.html").exists() and (latest / "ok.html").exists()
    m = json.loads((latest / "manifest.json").read_text())
    assert m["status"] == "succeeded" and len(m["data_hash"]) == 64 and m["versions"]["pandas"]
    assert m["reports"][0]["status"] == "succeeded" and m["reports"][0]["duration_s"] > 0
    assert str(latest / "index.html").split("/")[-1] in capsys.readouterr().out
    assert not list(out.glob(".tmp-*"))


def test_failures_are_listed_and_the_previous_good_run_stays(project, capsys):
    tmp, reports = project
    out = tmp / "out"
    assert _run(reports("ok"), out) == 0
    good = os.readlink(out / "latest")
    good_files = sorted(p.name for p in (out / good).iterdir())
    assert _run(reports("ok", "broken_raises", "dead_kernel"), out) == 1
    assert os.readlink(out / "latest") == good
    assert sorted(p.name for p in (out / good).iterdir()) == good_files
    runs = sorted(p for p in out.iterdir() if p.is_dir() and p.name != good and not p.is_symlink())
    m = json.loads((runs[-1] / "manifest.json").read_text())
    by = {r["id"]: r for r in m["reports"]}
    assert m["status"] == "failed" and m["exit_code"] == 1
    assert by["ok"]["status"] == "reused" and by["ok"]["reused_from"] == good  # unchanged since the good run
    # cell 2: papermill's injected parameters cell (data_dir, always given) comes before the failing one
    assert by["broken-raises"]["error"]["error"] == "ZeroDivisionError" and by["broken-raises"]["error"]["cell"] == 2
    assert by["dead-kernel"]["status"] == "failed" and "Dead" in by["dead-kernel"]["error"]["error"] + by["dead-kernel"]["error"]["message"]
    printed = capsys.readouterr().out
    assert "FAILED broken-raises (cell 2): ZeroDivisionError: boom in the second cell" in printed
    assert "FAILED dead-kernel" in printed
    index = (runs[-1] / "index.html").read_text()
    assert "boom in the second cell" in index and "Lỗi / Failed" in index


def test_invalid_data_stops_before_any_notebook(project, tmp_path, capsys):
    tmp, reports = project
    data = tmp / "data"
    shutil.copytree(ROOT / "data", data)
    (data / "targets.csv").write_text((data / "targets.csv").read_text().replace(",2030,>=,20,", ",2030,>=,hai mươi,", 1))
    out = tmp / "out"
    assert main(["run", "--data", str(data), "--reports", str(reports("ok")), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert 'targets.csv, line 2, column "value": "hai mươi" is not a number' in err
    assert not out.exists()


def test_output_folder_that_cannot_be_written(project, capsys):
    tmp, reports = project
    (tmp / "a_file").write_text("x")
    assert _run(reports("ok"), tmp / "a_file" / "out") == 3
    assert "cannot write to the output folder" in capsys.readouterr().err


def test_two_runs_at_once_on_the_same_outputs(project, capsys):
    tmp, reports = project
    out = tmp / "out"
    out.mkdir()
    with open(out / ".nq57.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert _run(reports("ok"), out) == 3
    assert "another nq57 run is writing" in capsys.readouterr().err
    assert not (out / "latest").exists()


def test_sigterm_leaves_latest_and_records_the_interruption(project):
    tmp, reports = project
    out = tmp / "out"
    assert _run(reports("ok"), out) == 0
    good = os.readlink(out / "latest")
    proc = subprocess.Popen([sys.executable, "-m", "nq57lib.cli", "run", "--reports", str(reports("slow")), "--out", str(out),
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not list(out.glob(".tmp-*/logs/slow.log")):
        time.sleep(0.2)
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert os.readlink(out / "latest") == good
    (stopped,) = out.glob("*-interrupted")
    assert json.loads((stopped / "manifest.json").read_text())["status"] == "interrupted"
    assert "Interrupted" in stdout


def test_report_names_cannot_escape_the_output_folder(project, capsys):
    tmp, reports = project
    path = tmp / "reports.yaml"
    path.write_text("reports:\n  - name: ../../evil\n    notebook: nb/ok.ipynb\n", encoding="utf-8")
    assert _run(path, tmp / "out") == 2
    assert "needs a 'name' of lower-case letters" in capsys.readouterr().err
    path.write_text("reports:\n  - name: ok\n    notebook: ../../etc/passwd.ipynb\n", encoding="utf-8")
    assert _run(path, tmp / "out") == 2
    assert "is not an .ipynb file inside" in capsys.readouterr().err


def test_yaml_is_read_safely(project, capsys):
    tmp, reports = project
    path = tmp / "reports.yaml"
    marker = tmp / "pwned"
    path.write_text(f'reports: !!python/object/apply:os.system ["touch {marker}"]\n', encoding="utf-8")
    assert _run(path, tmp / "out") == 2
    assert not marker.exists()
    assert "not valid YAML" in capsys.readouterr().err


def test_unknown_only_and_bad_jobs(project, capsys):
    tmp, reports = project
    assert _run(reports("ok"), tmp / "out", "--only", "nothing") == 2
    assert "no such report" in capsys.readouterr().err
    assert _run(reports("ok"), tmp / "out", "--jobs", "0") == 2


def test_bad_notebook_parameters_are_refused_before_anything_runs(project, capsys):
    tmp, _ = project
    path = tmp / "reports.yaml"
    nb = ROOT / "notebooks" / "03_trajectories.ipynb"
    shutil.copy(nb, tmp / "nb" / "03_trajectories.ipynb")
    for params, message in [("{province: Atlantis, lang: en}", "report 'traj': Unknown province 'Atlantis'"),
                            ("{province: Lai Châu, method: SDSN}", "report 'traj': Unknown method 'SDSN'"),
                            ("{province: Lai Châu, methd: sdsn}", "'methd' is not a parameter of 03_trajectories.ipynb; did you mean 'method'?")]:
        path.write_text("reports:\n  - name: traj\n    notebook: nb/03_trajectories.ipynb\n"
                        f"    parameters: {params}\n", encoding="utf-8")
        assert _run(path, tmp / "out") == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
        assert not (tmp / "out").exists() or not any((tmp / "out").glob("2*"))


def test_hostile_province_names_are_passed_as_text_not_code(project):
    tmp, reports = project
    data = tmp / "data"
    shutil.copytree(ROOT / "data", data)
    marker = tmp / "PWNED"
    hostile = f'Tỉnh X\\"); open({str(marker)!r}, "w"); ("'
    with open(data / "provinces.csv", "a", encoding="utf-8") as f:
        f.write('99,"' + hostile.replace('"', '""') + '",X,tinh-x,province,,,,,test\n')
    with open(data / "observations.csv", "a", encoding="utf-8") as f:
        f.write("tinh-x,dti_rank_34,2024-12-31,2024,5,dti_2022,,test,\n")
    _notebook(tmp / "nb" / "echo.ipynb", "print(repr(province))")
    path = tmp / "reports.yaml"
    path.write_text("reports:\n  - name: echo\n    notebook: nb/echo.ipynb\n    for_each: province\n", encoding="utf-8")
    assert main(["run", "--data", str(data), "--reports", str(path), "--out", str(tmp / "out"),
                 "--province", "tinh-x", "--no-progress"]) == 0
    assert not marker.exists()
    (page,) = (tmp / "out").glob("2*/echo-tinh-x.ipynb")  # a --province run is partial: latest is not moved
    out = json.loads(page.read_text(encoding="utf-8"))
    assert repr(hostile) in "".join(out["cells"][-1]["outputs"][0]["text"])


# ------------------------------------------------------------------ a killed run, paths, partial runs, a full disk

def _marked_processes(mark: str) -> list[int]:
    """Processes whose environment carries ``mark`` (the run, its workers and their kernels)."""
    found = []
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if mark.encode() in env.read_bytes():
                found.append(int(env.parent.name))
        except OSError:
            pass
    return found


def test_a_killed_run_leaves_no_workers_no_kernels_and_no_lock(project, capsys):
    import uuid
    tmp, reports = project
    out = tmp / "out"
    mark = f"NQ57_TEST_MARK={uuid.uuid4().hex}"
    env = {**os.environ, mark.split("=")[0]: mark.split("=")[1]}
    proc = subprocess.Popen([sys.executable, "-m", "nq57lib.cli", "run", "--reports", str(reports("slow", "ok")),
                             "--out", str(out), "--no-progress", "--jobs", "2"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not list(out.glob(".tmp-*/logs/slow.log")):
        time.sleep(0.2)
    time.sleep(3)   # the slow notebook's kernel is running
    assert len(_marked_processes(mark)) >= 3, "the run, a worker and a kernel"
    proc.kill()     # kill -9: no chance to clean up
    proc.wait()
    deadline = time.time() + 20
    while time.time() < deadline and _marked_processes(mark):
        time.sleep(0.3)
    assert _marked_processes(mark) == [], "workers or kernels outlived the run"
    assert list(out.glob(".tmp-*")), "the dead run left its temporary folder (cleaned by the next run)"
    capsys.readouterr()
    assert _run(reports("ok"), out) == 0
    assert "Removed what an earlier run that did not finish left behind: .tmp-" in capsys.readouterr().out
    assert not list(out.glob(".tmp-*"))


def test_a_busy_output_folder_names_the_process_holding_it(project, capsys):
    tmp, reports = project
    out = tmp / "out"
    out.mkdir()
    with open(out / ".nq57.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("424242")
        held.flush()
        assert _run(reports("ok"), out) == 3
    assert "another nq57 run (process 424242) is writing to" in capsys.readouterr().err


def test_a_relative_data_path_works_in_every_notebook(project):
    tmp, _ = project
    shutil.copytree(ROOT / "data", tmp / "data")
    _notebook(tmp / "nb" / "loads.ipynb", "import nq57lib\nprint(len(nq57lib.load(data_dir).targets))")
    path = tmp / "reports.yaml"
    path.write_text("reports:\n  - name: loads\n    notebook: nb/loads.ipynb\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "nq57lib.cli", "run", "--data", "data", "--reports", "reports.yaml",
                        "--out", "out", "--no-progress"], cwd=tmp, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    m = json.loads((tmp / "out" / "latest" / "manifest.json").read_text())
    assert m["reports"][0]["parameters"]["data_dir"] == str(tmp / "data")


def test_a_partial_run_never_replaces_latest(project, capsys):
    tmp, reports = project
    out = tmp / "out"
    path = reports("ok", "broken_raises")
    path.write_text(path.read_text().replace("broken-raises", "ok-two").replace("nb/broken_raises", "nb/ok"))
    assert _run(path, out) == 0
    full = os.readlink(out / "latest")
    assert _run(path, out, "--only", "ok") == 0
    assert os.readlink(out / "latest") == full
    runs = sorted(p for p in out.iterdir() if p.is_dir() and not p.is_symlink() and p.name != full)
    m = json.loads((runs[-1] / "manifest.json").read_text())
    assert m["partial"] is True and [r["id"] for r in m["reports"]] == ["ok"]
    assert "partial run" in (runs[-1] / "index.html").read_text()
    assert "latest was not changed" in capsys.readouterr().out


def test_a_full_disk_gives_exit_3_and_leaves_nothing_behind(project):
    import resource
    tmp, reports = project
    out = tmp / "out"
    assert _run(reports("ok"), out) == 0
    good = os.readlink(out / "latest")

    def small_files():   # every file this run writes may hold 8 KB: a disk that fills up at once
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    r = subprocess.run([sys.executable, "-m", "nq57lib.cli", "run", "--reports", str(reports("ok")), "--out", str(out),
                        "--no-progress", "--force"],  # executed again, not reused: it has pages to write
                       capture_output=True, text=True, timeout=300, preexec_fn=small_files)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "file size limit" in r.stderr and "nothing was published" in r.stderr
    assert not list(out.glob(".tmp-*")) and os.readlink(out / "latest") == good
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted([good, "latest"])


def test_jobs_above_the_core_count_are_capped(project, capsys):
    tmp, reports = project
    assert main(["run", "--reports", str(reports("ok")), "--out", str(tmp / "out"), "--no-progress", "--jobs", "512"]) == 0
    assert f"--jobs 512 is more than the {os.cpu_count()} cores of this machine: using {os.cpu_count()}" in capsys.readouterr().out


def test_two_reports_with_one_name_are_refused(project, capsys):
    tmp, _ = project
    path = tmp / "reports.yaml"
    path.write_text("reports:\n  - name: same\n    notebook: nb/ok.ipynb\n  - name: same\n    notebook: nb/slow.ipynb\n")
    assert _run(path, tmp / "out") == 2
    assert "reports 1 and 2 are both named 'same'" in capsys.readouterr().err


def test_for_each_makes_a_grid_of_reports(project, capsys):
    tmp, _ = project
    path = tmp / "reports.yaml"
    path.write_text("reports:\n  - name: echo\n    title: '{province} ({lang})'\n    notebook: nb/ok.ipynb\n"
                    "    for_each: {province: [Lai Châu, lao-cai-cu], lang: [vi, en]}\n", encoding="utf-8")
    assert _run(path, tmp / "out") == 0
    m = json.loads((tmp / "out" / "latest" / "manifest.json").read_text())
    assert sorted(r["id"] for r in m["reports"]) == ["echo-lai-chau-en", "echo-lai-chau-vi", "echo-lao-cai-cu-en",
                                                    "echo-lao-cai-cu-vi"]
    assert {r["title"] for r in m["reports"]} >= {"Lai Châu (en)", "Lào Cai (cũ) (vi)"}
    path.write_text("reports:\n  - name: echo\n    notebook: nb/ok.ipynb\n    for_each: {province: all, lang: [vi, fr]}\n")
    assert _run(path, tmp / "out") == 2
    assert "Unknown language 'fr'" in capsys.readouterr().err


def test_kernels_talk_over_ipc_not_tcp(project):
    tmp, _ = project
    _notebook(tmp / "nb" / "transport.ipynb", "from ipykernel.kernelapp import IPKernelApp\nprint(IPKernelApp.instance().transport)")
    path = tmp / "reports.yaml"
    path.write_text("reports:\n  - name: transport\n    notebook: nb/transport.ipynb\n", encoding="utf-8")
    assert _run(path, tmp / "out") == 0
    assert _printed(tmp / "out" / "latest" / "transport.ipynb") == "ipc"
    logs = list((tmp / "out" / "latest" / "logs").glob("kernel-*.log"))
    assert logs, "the kept kernel's own messages have a log"
    assert not any("running over TCP" in p.read_text() for p in logs)


# ------------------------------------------------------------------ warm workers: one kernel kept between reports

def _printed(nb_path: Path) -> str:
    """What the notebook's last cell printed (stdout), stripped."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return "".join("".join(o["text"]) for o in nb["cells"][-1]["outputs"] if o.get("name") == "stdout").strip()


SETS_STATE = """import os, sys, warnings, json
import matplotlib, pandas as pd
leak = 42
os.chdir("/")
sys.path.append("/nowhere")
os.environ["NQ57_LEAK"] = "1"
warnings.simplefilter("error")
matplotlib.rcParams["lines.linewidth"] = 9.5
pd.set_option("display.max_rows", 3)
print(os.getpid())"""

SEES_STATE = """import os, sys, warnings, json
import matplotlib, pandas as pd
print(json.dumps({"pid": os.getpid(), "leak": "leak" in globals(), "cwd": os.getcwd(), "path": "/nowhere" in sys.path,
                  "env": "NQ57_LEAK" in os.environ, "filters": repr(warnings.filters),
                  "linewidth": matplotlib.rcParams["lines.linewidth"], "max_rows": pd.get_option("display.max_rows")}))"""


def test_a_warm_worker_gives_each_report_a_new_kernels_state(project):
    """Two reports in one kept kernel (one worker): the second sees nothing the first left."""
    tmp, _ = project
    _notebook(tmp / "nb" / "sets.ipynb", SETS_STATE)
    _notebook(tmp / "nb" / "sees.ipynb", SEES_STATE)
    path = tmp / "reports.yaml"
    path.write_text("reports:\n  - name: sees-first\n    notebook: nb/sees.ipynb\n  - name: sets\n    notebook: nb/sets.ipynb\n"
                    "  - name: sees\n    notebook: nb/sees.ipynb\n", encoding="utf-8")
    out = tmp / "out"
    assert main(["run", "--reports", str(path), "--out", str(out), "--no-progress", "--jobs", "1"]) == 0
    run = out / "latest"
    fresh = json.loads(_printed(run / "sees-first.ipynb"))
    after = json.loads(_printed(run / "sees.ipynb"))
    assert int(_printed(run / "sets.ipynb")) == fresh["pid"] == after["pid"], "one kernel served the three reports"
    assert after == fresh, "the third report saw what the second left"
    assert fresh["leak"] is False and fresh["path"] is False and fresh["env"] is False
    assert fresh["cwd"] != "/" and fresh["linewidth"] != 9.5 and fresh["max_rows"] != 3 and "'error', None, Warning" not in fresh["filters"]
    counts = [[c["execution_count"] for c in json.loads((run / f"{n}.ipynb").read_text())["cells"] if c["cell_type"] == "code"]
              for n in ("sees-first", "sees")]
    assert counts[0] == counts[1] == [1, 2, 3], "counted as in a new kernel"


def test_a_kernel_that_dies_on_a_warm_worker_fails_that_report_and_the_next_gets_a_new_kernel(project):
    tmp, _ = project
    _notebook(tmp / "nb" / "pid.ipynb", "import os\nprint(os.getpid())")
    path = tmp / "reports.yaml"
    names = ["pid-a", "broken", "pid-b", "dead", "pid-c"]
    books = ["pid", "broken_raises", "pid", "dead_kernel", "pid"]
    path.write_text("reports:\n" + "".join(f"  - name: {n}\n    notebook: nb/{b}.ipynb\n" for n, b in zip(names, books)),
                    encoding="utf-8")
    out = tmp / "out"
    assert main(["run", "--reports", str(path), "--out", str(out), "--no-progress", "--jobs", "1"]) == 1
    (run,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    by = {r["id"]: r for r in json.loads((run / "manifest.json").read_text())["reports"]}
    assert [by[n]["status"] for n in names] == ["succeeded", "failed", "succeeded", "failed", "succeeded"]
    assert by["broken"]["error"]["error"] == "ZeroDivisionError"
    assert "Dead" in by["dead"]["error"]["error"] + by["dead"]["error"]["message"]
    pids = {n: int(_printed(run / f"{n}.ipynb")) for n in ("pid-a", "pid-b", "pid-c")}
    assert pids["pid-a"] == pids["pid-b"], "an error in a cell does not cost the kernel"
    assert pids["pid-c"] != pids["pid-b"], "the report after a dead kernel gets a new one"
    assert len(list((run / "logs").glob("kernel-*.log"))) == 2


def _comparable(run: Path) -> dict:
    """Every executed notebook and page of a run, without what differs between any two runs: times, the
    output path, and the random ids of the cells papermill adds (parameters, error markers)."""
    out = {}
    for nb_path in sorted(run.glob("*.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        page = (run / f"{nb_path.stem}.html").read_text(encoding="utf-8")
        for key in ("start_time", "end_time", "duration", "output_path"):
            nb["metadata"]["papermill"].pop(key, None)
        for cell in nb["cells"]:
            cell["metadata"].pop("papermill", None)
            cell["metadata"].pop("execution", None)
            added = {"injected-parameters", "papermill-error-cell-tag"} & set(cell["metadata"].get("tags", []))
            if added:  # cells papermill adds get a new random id in every run
                page = page.replace(cell["id"], min(added))
                cell["id"] = min(added)
        out[nb_path.name] = nb
        out[f"{nb_path.stem}.html"] = page
    return out


def test_a_warm_worker_writes_what_new_kernels_write(tmp_path):
    """The real notebooks, three reports in one kept kernel and each in a new kernel: equal but for times."""
    from nq57lib.executors import LocalExecutor
    path = tmp_path / "reports.yaml"
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    path.write_text("reports:\n  - name: overview\n    notebook: notebooks/01_overview.ipynb\n    parameters: {lang: en}\n"
                    "  - name: traj\n    notebook: notebooks/03_trajectories.ipynb\n"
                    "    for_each: {province: [Lai Châu, lao-cai-cu]}\n", encoding="utf-8")
    warm = runner.run(reports_file=path, out_dir=tmp_path / "warm", jobs=1, progress=False, log=lambda *a: None)
    cold = runner.run(reports_file=path, out_dir=tmp_path / "cold", progress=False, log=lambda *a: None,
                      executor=LocalExecutor(1, warm=False))
    assert warm.exit_code == cold.exit_code == 0
    a, b = _comparable(warm.run_dir), _comparable(cold.run_dir)
    assert sorted(a) == sorted(b) and len(a) == 6
    for name in a:
        assert a[name] == b[name], name


# ------------------------------------------------------------------ incremental runs

def _manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text(encoding="utf-8"))


def test_an_unchanged_run_reuses_every_report_and_moves_latest(project, capsys):
    tmp, reports = project
    out = tmp / "out"
    path = reports("ok")
    assert _run(path, out) == 0
    first = (out / "latest").resolve()
    assert _run(path, out) == 0
    second = (out / "latest").resolve()
    assert second != first, "a complete run of reused reports is the new latest"
    (r,) = _manifest(second)["reports"]
    assert r["status"] == "reused" and r["reused_from"] == first.name and r["inputs"] == _manifest(first)["reports"][0]["inputs"]
    for name in ("ok.ipynb", "ok.html"):
        assert (second / name).stat().st_ino == (first / name).stat().st_ino, "hard-linked, not executed again"
    assert "Dùng lại / Reused" in (second / "index.html").read_text() and first.name in (second / "index.html").read_text()
    assert "1 unchanged since an earlier run, reused" in capsys.readouterr().out
    assert _run(path, out, "--force") == 0
    (r,) = _manifest((out / "latest").resolve())["reports"]
    assert r["status"] == "succeeded" and r["reused_from"] is None
    assert ((out / "latest") / "ok.html").stat().st_ino != (first / "ok.html").stat().st_ino


def test_a_run_with_nothing_changed_neither_loads_nor_validates_the_data(project, monkeypatch):
    tmp, reports = project
    out = tmp / "out"
    assert _run(reports("ok"), out) == 0
    import nq57lib.dataset

    def no_load(*a, **k):
        raise AssertionError("the data was loaded again")
    monkeypatch.setattr(nq57lib.dataset, "load", no_load)
    assert _run(reports("ok"), out) == 0
    assert _manifest((out / "latest").resolve())["reports"][0]["status"] == "reused"


def test_only_what_changed_runs_again(project, tmp_path):
    tmp, reports = project
    out = tmp / "out"
    shutil.copy(tmp / "nb" / "ok.ipynb", tmp / "nb" / "other.ipynb")
    path = tmp / "reports.yaml"
    path.write_text("reports:\n  - name: ok\n    notebook: nb/ok.ipynb\n  - name: other\n    notebook: nb/other.ipynb\n"
                    "  - name: broken\n    notebook: nb/broken_raises.ipynb\n", encoding="utf-8")
    assert _run(path, out) == 1
    _notebook(tmp / "nb" / "other.ipynb", 'print("changed")')
    assert _run(path, out) == 1
    runs = sorted(p for p in out.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    by = {r["id"]: r["status"] for r in _manifest(runs[-1])["reports"]}
    assert by == {"ok": "reused", "other": "succeeded", "broken": "failed"}, "a failed report is never reused"
    assert _printed(runs[-1] / "other.ipynb") == "changed"


def test_a_changed_figure_runs_every_report_again(project):
    tmp, _ = project
    data = tmp / "data"
    shutil.copytree(ROOT / "data", data)
    _notebook(tmp / "nb" / "loads.ipynb", "import nq57lib\nprint(len(nq57lib.load(data_dir).targets))")
    path = tmp / "reports.yaml"
    path.write_text("reports:\n  - name: loads\n    notebook: nb/loads.ipynb\n  - name: ok\n    notebook: nb/ok.ipynb\n",
                    encoding="utf-8")
    out = tmp / "out"
    args = ["run", "--data", str(data), "--reports", str(path), "--out", str(out), "--no-progress"]
    assert main(args) == 0
    assert {r["status"] for r in _manifest(out / "latest")["reports"]} == {"succeeded"}
    text = (data / "observations.csv").read_text(encoding="utf-8")  # one province's figure and its quote
    old = "res57_conference_points,2025-03-31,Quý 1/2025,168,laocai_q1_2025,toàn tỉnh có 168 điểm cầu"
    assert old in text
    (data / "observations.csv").write_text(text.replace(old, old.replace("168", "169")), encoding="utf-8")
    assert main(args) == 0
    assert {r["status"] for r in _manifest(out / "latest")["reports"]} == {"succeeded"}, "any data change runs them all"
    assert main(args) == 0
    assert {r["status"] for r in _manifest(out / "latest")["reports"]} == {"reused"}


def test_a_new_nq57lib_runs_every_report_again(project, monkeypatch):
    from nq57lib import incremental
    tmp, reports = project
    out = tmp / "out"
    assert _run(reports("ok"), out) == 0
    monkeypatch.setattr(incremental, "source_hash", lambda: "another nq57lib")
    assert _run(reports("ok"), out) == 0
    assert _manifest(out / "latest")["reports"][0]["status"] == "succeeded"


def test_the_data_is_validated_once_per_run_and_the_kernels_are_told(project, monkeypatch):
    """With nq57lib.cache (the loader's cache of validated data), the run calls prevalidate once and
    every kernel's environment names the validated file."""
    import types
    tmp, _ = project
    calls = []

    def prevalidate(data_dir, cache_dir):
        calls.append((data_dir, cache_dir))
        cache_dir.mkdir(parents=True, exist_ok=True)
        (cache_dir / "validated.bin").write_bytes(b"ok")
        return cache_dir / "validated.bin"
    fake = types.SimpleNamespace(prevalidate=prevalidate, ENV_VAR="NQ57_VALIDATED_DATA")
    monkeypatch.setitem(sys.modules, "nq57lib.cache", fake)
    _notebook(tmp / "nb" / "env.ipynb", 'import os\nprint(os.environ.get("NQ57_VALIDATED_DATA"))')
    path = tmp / "reports.yaml"
    path.write_text("reports:\n  - name: env\n    notebook: nb/env.ipynb\n  - name: env-two\n    notebook: nb/env.ipynb\n",
                    encoding="utf-8")
    out = tmp / "out"
    assert _run(path, out) == 0
    assert calls == [(ROOT / "data", out / ".cache")]
    assert {_printed(out / "latest" / f"{n}.ipynb") for n in ("env", "env-two")} == {str(out / ".cache" / "validated.bin")}
    assert _run(path, out) == 0 and len(calls) == 1, "nothing to execute: nothing to validate"


def test_the_data_files_hashed_are_the_loaders():
    from nq57lib import dataset, incremental
    assert set(incremental.DATA_FILES) == set(dataset.DATA_FILES)


# ------------------------------------------------------------------ the report grid

def test_a_national_grid_is_one_line(ds, tmp_path):
    """Every unit with data x both languages x both methods, planned from the real notebook (nothing runs)."""
    from nq57lib.reportset import load_reports, plan
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    path = tmp_path / "reports.yaml"
    path.write_text("reports:\n  - name: traj\n    title: '{province} ({lang}, {method})'\n"
                    "    notebook: notebooks/03_trajectories.ipynb\n    parameters: {target_years: [2030, 2045]}\n"
                    "    for_each: {province: all, lang: [vi, en], method: [eurostat, sdsn]}\n", encoding="utf-8")
    jobs = plan(ds, load_reports(path))
    single = plan(ds, load_reports(ROOT / "reports.yaml"), only=["trajectories"])  # the one-parameter form
    units = list(dict.fromkeys(j.parameters["province"] for j in single))
    assert len(units) > 10 and len(jobs) == 4 * len(units)
    by = {j.id: j for j in jobs}
    assert len(by) == len(jobs)
    lai = by["traj-lai-chau-en-sdsn"]
    assert lai.parameters == {"target_years": [2030, 2045], "province": "Lai Châu", "lang": "en", "method": "sdsn"}
    assert lai.title == "Lai Châu (en, sdsn)"
    assert {(j.parameters["province"], j.parameters["lang"], j.parameters["method"]) for j in jobs} == {
        (u, lang, m) for u in units for lang in ("vi", "en") for m in ("eurostat", "sdsn")}


def test_a_grid_with_an_empty_list_or_a_parameter_twice_is_refused(project, capsys):
    tmp, _ = project
    path = tmp / "reports.yaml"
    path.write_text("reports:\n  - name: echo\n    notebook: nb/ok.ipynb\n    for_each: {province: all, lang: []}\n")
    assert _run(path, tmp / "out") == 2
    assert "for_each lang: the list is empty" in capsys.readouterr().err
    path.write_text("reports:\n  - name: echo\n    notebook: nb/ok.ipynb\n    parameters: {lang: vi}\n"
                    "    for_each: {province: all, lang: [vi, en]}\n")
    assert _run(path, tmp / "out") == 2
    err = capsys.readouterr().err
    assert "lang is both in parameters and in for_each" in err and "Traceback" not in err
    assert not (tmp / "out").exists() or not any((tmp / "out").glob("2*"))
