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
    assert by["ok"]["status"] == "succeeded"
    assert by["broken-raises"]["error"]["error"] == "ZeroDivisionError" and by["broken-raises"]["error"]["cell"] == 1
    assert by["dead-kernel"]["status"] == "failed" and "Dead" in by["dead-kernel"]["error"]["error"] + by["dead-kernel"]["error"]["message"]
    printed = capsys.readouterr().out
    assert "FAILED broken-raises (cell 1): ZeroDivisionError: boom in the second cell" in printed
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
