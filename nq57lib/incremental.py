"""Incremental runs: a report whose inputs have not changed since a run that produced it is reused from
that run instead of being executed again (``nq57 run --force`` executes everything).

A report's inputs, hashed together into its *key* (``inputs`` in the manifest):

- the notebook's bytes, the report's parameters and title (its page shows the title);
- the data: a hash of the six data files (:func:`data_hash`);
- nq57lib: a hash of the package's source files (:func:`source_hash`);
- the packages installed: the names and versions of every distribution on ``sys.path`` (:func:`environment_hash`).

Any change to the data re-runs every report: which rows a report reads cannot be known cheaply (a province's
report also shows the provinces it merged from, the targets it inherited, the national target and the
documents that also set its targets), and a page that silently keeps an old figure is worse than a run
that takes a minute.

No report depends on the date it runs (only validation reads today's date, and data valid once stays
valid): a report that did would need the date among its inputs.

Reuse looks in the newest published runs of the output folder (``latest`` first): a report with the same
id and key that succeeded there, whose page and notebook are still there, is hard-linked (copied where
links are not possible) into the new run, with status ``reused`` and the run it came from.

The plan of a run (the reports and their parameters, from reports.yaml and the data) is kept too, in
``<out>/.cache/plan-<key>.json``, keyed by what makes it: reports.yaml, its notebooks, the data, nq57lib
and the packages. A run with nothing changed reads it instead of loading, validating and planning again
(the data it names was validated by the run that wrote it, with the same code).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from . import _paths
from .reportset import Job

#: published runs searched for reports to reuse (newest first, after latest)
RUNS_SEARCHED = 10
DATA_FILES = ("pillars.csv", "provinces.csv", "indicators.csv", "sources.csv", "targets.csv", "observations.csv")


def data_hash(data_dir: Path) -> str:
    """sha256 over the six data files (names and bytes); nothing else in the folder is read."""
    h = hashlib.sha256()
    for name in DATA_FILES:
        h.update(name.encode())
        h.update((Path(data_dir) / name).read_bytes())
    return h.hexdigest()


def source_hash() -> str:
    """sha256 over nq57lib's source files (relative names and bytes)."""
    h = hashlib.sha256()
    for p in sorted(_paths.PACKAGE_DIR.rglob("*.py")):
        if "__pycache__" in p.parts:
            continue
        h.update(str(p.relative_to(_paths.PACKAGE_DIR)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def environment_hash() -> str:
    """sha256 over Python's version and every installed distribution's name and version, read from the
    ``*.dist-info`` folder names in the site-packages folders on ``sys.path`` (one directory listing each,
    no metadata parsing; the current folder, which may hold an editable install's ``.egg-info``, is not one)."""
    names = set()
    for entry in sys.path:
        if os.path.basename(entry) not in ("site-packages", "dist-packages"):
            continue
        try:
            names.update(n for n in os.listdir(entry) if n.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue
    return hashlib.sha256("\n".join([sys.version, *sorted(names)]).encode()).hexdigest()


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


class Inputs:
    """What every report of a run shares: the data, nq57lib and the installed packages."""

    def __init__(self, data_dir: Path):
        self.data = data_hash(data_dir)
        self.source = source_hash()
        self.environment = environment_hash()
        self._files: dict[str, str] = {}  # path -> sha256, read once per run

    def _sha(self, path: str | Path) -> str:
        key = str(path)
        if key not in self._files:
            self._files[key] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        return self._files[key]

    def plan_key(self, reports_file: Path, notebooks: list[str], options: dict) -> str:
        """What the plan of a run depends on: reports.yaml, its notebooks, the data, the code, the options."""
        return _digest({"reports": self._sha(reports_file), "notebooks": {n: self._sha(n) for n in sorted(set(notebooks))},
                        "data": self.data, "source": self.source, "environment": self.environment,
                        "options": options})

    def job_key(self, job: Job) -> str:
        return _digest({"id": job.id, "title": job.title, "notebook": self._sha(job.notebook), "parameters": job.parameters,
                        "data": self.data, "source": self.source, "environment": self.environment})


# ------------------------------------------------------------------ the plan, kept between runs

def _job_dict(j: Job) -> dict:
    return {"id": j.id, "name": j.name, "title": j.title, "notebook": j.notebook, "parameters": j.parameters}


def load_plan(out: Path, key: str) -> list[Job] | None:
    """The jobs a run with this plan key planned before, or None."""
    try:
        saved = json.loads((out / ".cache" / f"plan-{key}.json").read_text(encoding="utf-8"))
        return [Job(**d) for d in saved["jobs"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_plan(out: Path, key: str, jobs: list[Job]) -> None:
    """Keep the plan for the next run (best effort: a run never fails for its cache)."""
    folder = out / ".cache"
    try:
        folder.mkdir(exist_ok=True)
        for old in folder.glob("plan-*.json"):
            old.unlink()
        tmp = folder / f".plan-{key}.tmp"
        tmp.write_text(json.dumps({"jobs": [_job_dict(j) for j in jobs]}, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder / f"plan-{key}.json")
    except OSError:
        pass


# ------------------------------------------------------------------ reusing reports

def _previous_runs(out: Path) -> list[Path]:
    """Published run folders, ``latest`` first, then the newest."""
    runs = []
    latest = out / "latest"
    if latest.is_symlink() and latest.is_dir():
        runs.append(latest.resolve())
    try:
        names = sorted((p for p in out.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")),
                       key=lambda p: p.name, reverse=True)
    except OSError:
        return runs
    runs += [p for p in names[:RUNS_SEARCHED] if p.resolve() not in runs]
    return runs


def _index(out: Path) -> dict:
    """(report id, key) -> the run folder that holds that report, succeeded (or reused) there."""
    found = {}
    for run in reversed(_previous_runs(out)):  # newer runs overwrite older ones
        try:
            manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for r in manifest.get("reports", []):
            if r.get("status") in ("succeeded", "reused") and r.get("inputs"):
                found[(r["id"], r["inputs"])] = (run, manifest.get("run_id", run.name))
    return found


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def reuse(jobs: list[Job], inputs: Inputs, out: Path, run_dir: Path) -> list[Job]:
    """Give every job its key; link the reports that a previous run produced with the same key into
    ``run_dir`` (status ``reused``). Returns the jobs still to execute."""
    for j in jobs:
        j.inputs = {"key": inputs.job_key(j)}
    index = _index(out)
    todo = []
    for j in jobs:
        hit = index.get((j.id, j.inputs["key"]))
        files = [f"{j.id}.ipynb", f"{j.id}.html"]
        if hit and all((hit[0] / f).is_file() for f in files):
            try:
                for f in files:
                    _link(hit[0] / f, run_dir / f)
                if (hit[0] / "logs" / f"{j.id}.log").is_file():
                    _link(hit[0] / "logs" / f"{j.id}.log", run_dir / "logs" / f"{j.id}.log")
            except OSError:
                for f in files:
                    (run_dir / f).unlink(missing_ok=True)
                todo.append(j)
                continue
            j.status, j.duration_s = "reused", 0.0
            j.inputs["reused_from"] = hit[1]
        else:
            todo.append(j)
    return todo


def keys_only(jobs: list[Job], inputs: Inputs) -> None:
    """``--force``: every job gets its key (for the next run) and nothing is reused."""
    for j in jobs:
        j.inputs = {"key": inputs.job_key(j)}
