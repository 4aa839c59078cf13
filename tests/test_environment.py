"""environment.yml (for conda users) must list exactly pyproject.toml's pinned dependencies."""
import os
import subprocess
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(spec: str) -> tuple[str, str]:
    name, _, version = spec.partition("==")
    return name.strip().lower().replace("_", "-"), version.strip()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = {_norm(s) for s in project["dependencies"] + extras["test"] + extras["cluster"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "nq57"
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    listed = {_norm(d) for d in deps if isinstance(d, str) and "==" in d} | {_norm(d) for d in pip if "==" in d}
    assert listed == wanted, f"only in environment.yml: {listed - wanted}; only in pyproject.toml: {wanted - listed}"
    assert pip[-1] == "-e ."


def test_dask_is_only_in_the_cluster_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = lambda specs: {_norm(s)[0] for s in specs}
    assert {"dask", "distributed"} <= names(project["optional-dependencies"]["cluster"])
    assert not {"dask", "distributed"} & (names(project["dependencies"]) | names(project["optional-dependencies"]["test"]))
    assert all("==" in s for s in project["optional-dependencies"]["cluster"]), "pinned"


def test_pandas_and_matplotlib_pinned_exactly():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = dict(_norm(d) for d in deps)
    assert pins["pandas"] and pins["matplotlib"], "stored notebook outputs need exact pins"


def test_make_lab_allows_root_when_run_as_root():
    r = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    line = next(l for l in r.stdout.splitlines() if "jupyter lab" in l)
    assert ("--allow-root" in line) == (os.geteuid() == 0), line


def test_the_workbook_library_is_a_runtime_dependency():
    """nq57 template and nq57 import need openpyxl at run time, not only in the tests."""
    deps = dict(_norm(d) for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    assert deps.get("openpyxl"), "openpyxl must be in [project] dependencies"
