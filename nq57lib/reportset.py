"""The report set (reports.yaml): reading it, checking it up front, and expanding it into jobs.

A report is one notebook with parameters. ``for_each`` makes a grid of reports: ``for_each: province``
is one report per unit with data; a mapping gives several parameters at once, every combination of their
values, e.g. ``for_each: {province: all, lang: [vi, en], method: [eurostat, sdsn]}`` is every unit with
data in both languages by both methods (a report id per combination: ``trajectories-lai-chau-en-sdsn``). Everything is
checked before any notebook runs: unknown keys, two reports with one name, a parameter the notebook
does not declare, a value the notebook would refuse (``method: SDSN``). Each problem is a
:class:`ConfigError` (exit code 2) that says where and what to change.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import EXIT_INVALID, Nq57Error, ParameterError
from .names import did_you_mean

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_KEYS = {"name", "title", "notebook", "parameters", "for_each"}


class ConfigError(Nq57Error):
    """reports.yaml (or a run option) cannot be used."""
    exit_code = EXIT_INVALID


@dataclass
class Job:
    """One report to produce: a notebook, its parameters, and (once run) its outcome."""

    id: str
    name: str
    title: str
    notebook: str
    parameters: dict
    status: str = "pending"
    duration_s: float = 0.0
    error: dict | None = None
    inputs: dict = field(default_factory=dict)


def notebook_parameters(path: str | Path) -> list[str]:
    """The names a notebook declares in its ``parameters`` cell (names assigned at the top level, as
    papermill reads them), without importing papermill (a second of imports, in the run's own process).

    >>> import tempfile, nbformat
    >>> nb = nbformat.v4.new_notebook()
    >>> cell = nbformat.v4.new_code_cell("lang = 'vi'  # help\\nyears: list = [2030]\\na = b = 1")
    >>> cell.metadata["tags"] = ["parameters"]
    >>> nb.cells = [cell]
    >>> with tempfile.NamedTemporaryFile("w", suffix=".ipynb", delete=False) as f:
    ...     nbformat.write(nb, f)
    >>> notebook_parameters(f.name)
    ['lang', 'years', 'a', 'b']
    """
    import ast
    import json

    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            try:
                tree = ast.parse(source)
            except SyntaxError as e:
                raise ConfigError(f"{path}: the parameters cell is not valid Python (line {e.lineno}): fix the notebook") from None
            names: list[str] = []
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name) and n.id not in names:
                            names.append(n.id)
            return names
    return []


def load_reports(path: Path) -> list[dict]:
    """Read and check reports.yaml (shape only; values are checked by :func:`plan` against the data)."""
    import yaml

    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; restore reports.yaml or pass --reports FILE") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(e, 'problem', e)}); fix the indentation or quoting") from None
    reports = (spec or {}).get("reports") if isinstance(spec, dict) else None
    if not isinstance(reports, list) or not reports:
        raise ConfigError(f"{path}: needs a list under 'reports:' (see the project's reports.yaml)")
    seen: dict[str, int] = {}
    for i, r in enumerate(reports, 1):
        if not isinstance(r, dict):
            raise ConfigError(f"{path}: report {i} is not a mapping of name, notebook, parameters")
        extra = set(r) - _KEYS
        if extra:
            raise ConfigError(f"{path}: report {i} has unknown key(s) {', '.join(sorted(extra))}; allowed: {', '.join(sorted(_KEYS))}")
        if not isinstance(r.get("name"), str) or not _NAME.fullmatch(r["name"]):
            raise ConfigError(f"{path}: report {i} needs a 'name' of lower-case letters, digits, - or _ (got {r.get('name')!r})")
        if r["name"] in seen:
            raise ConfigError(f"{path}: reports {seen[r['name']]} and {i} are both named {r['name']!r}; "
                              "give each report its own name (their pages would overwrite each other)")
        seen[r["name"]] = i
        nb = (path.parent / str(r.get("notebook", ""))).resolve()
        if not str(nb).startswith(str(path.parent.resolve()) + os.sep) or nb.suffix != ".ipynb" or not nb.is_file():
            raise ConfigError(f"{path}: report {r['name']!r}: notebook {r.get('notebook')!r} is not an .ipynb file inside {path.parent}")
        if not isinstance(r.get("parameters", {}) or {}, dict):
            raise ConfigError(f"{path}: report {r['name']!r}: parameters must be a mapping")
        grid = r.get("for_each")
        if grid is not None and not isinstance(grid, (str, dict)):
            raise ConfigError(f"{path}: report {r['name']!r}: for_each is a parameter name (province) or a mapping "
                              "of parameter names to lists of values, e.g. {province: all, lang: [vi, en]}")
        r["_notebook"] = str(nb)
        r["_path"] = str(path)
        _grid(r)  # an empty list, a parameter given twice
    return reports


def _grid(r: dict) -> dict:
    """for_each as a mapping of parameter -> 'all' or a list of values."""
    grid = r.get("for_each")
    if grid is None:
        return {}
    if isinstance(grid, str):
        return {grid: "all"}
    out = {}
    for k, v in grid.items():
        if v != "all" and not isinstance(v, list):
            v = [v]
        if v == []:
            raise ConfigError(f"{r['_path']}: report {r['name']!r}: for_each {k}: the list is empty; "
                              f"give at least one value, e.g. {{{k}: [vi, en]}}, or remove {k}")
        if str(k) in (r.get("parameters") or {}):
            raise ConfigError(f"{r['_path']}: report {r['name']!r}: {k} is both in parameters and in for_each; "
                              "keep it in one of them")
        out[str(k)] = v
    return out


def _slug(value) -> str:
    from .names import fold

    return "-".join(fold(str(value)).split()) or "x"


def plan(ds, reports: list[dict], only=None, province=None) -> list[Job]:
    """Expand the report set into jobs and check every parameter against its notebook and the data.

    ``province: all`` in ``for_each`` is every unit with targets or figures; ``provinces: all`` in
    ``parameters`` is every unit in force with targets. ``only`` keeps the named reports; ``province``
    keeps, of the reports that vary by province, that unit's.
    """
    from .report import check_parameters
    from .tables import effective_targets

    t = effective_targets(ds)
    with_data = set(t.province_slug) | set(ds.observations.province_slug)
    units = ds.provinces[ds.provinces.slug.isin(with_data)]
    only_slug = ds.find_province(province).name if province else None
    names = {r["name"] for r in reports}
    for o in only or []:
        if o not in names:
            hint = did_you_mean(o, sorted(names))
            raise ConfigError(f"--only {o!r}: no such report{'; ' + hint if hint else ''}; the reports are {', '.join(sorted(names))}")
    jobs: list[Job] = []
    for r in reports:
        where = f"{r['_path']}: report {r['name']!r}"
        declared = notebook_parameters(r["_notebook"])
        grid = _grid(r)
        params = dict(r.get("parameters") or {})
        for key in list(params) + list(grid):
            if key not in declared:
                hint = did_you_mean(key, declared)
                raise ConfigError(f"{where}: {key!r} is not a parameter of {os.path.basename(r['_notebook'])}"
                                  f"{'; ' + hint if hint else ''}; its parameters are {', '.join(declared)}")
        if only and r["name"] not in only:
            continue
        if province and "province" not in grid:
            continue
        axes = []
        for key, values in grid.items():
            if values == "all":
                if key != "province":
                    raise ConfigError(f"{where}: for_each {key}: 'all' is only for province; list the values, e.g. [vi, en]")
                values = [u.name for u in units.itertuples() if not only_slug or u.slug == only_slug]
            elif key == "province" and only_slug:
                values = [v for v in values if ds.find_province(str(v)).name == only_slug]
            axes.append((key, list(values)))
        combos = [{}]
        for key, values in axes:
            combos = [{**c, key: v} for c in combos for v in values]
        title = str(r.get("title") or r["name"])
        for combo in combos:
            p = {**params, **combo}
            try:
                p = check_parameters(ds, p)
            except ParameterError as e:
                raise ConfigError(f"{where}: {e}") from None
            suffix = "".join(f"-{ds.find_province(str(v)).name if k == 'province' else _slug(v)}" for k, v in combo.items())
            names_in_title = {k: (ds.find_province(str(v))["name"] if k == "province" else v) for k, v in combo.items()}
            try:
                shown = title.format(**names_in_title)
            except (KeyError, IndexError, ValueError):
                raise ConfigError(f"{where}: the title {title!r} names a placeholder that for_each does not give; "
                                  f"use {', '.join('{' + k + '}' for k in grid) or 'no placeholder'}") from None
            jobs.append(Job(r["name"] + suffix, r["name"], shown, r["_notebook"], p))
    if not jobs:
        raise ConfigError("nothing to run: check --only and --province")
    ids = [j.id for j in jobs]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ConfigError(f"two reports would be written to the same page ({', '.join(dup)}): give the reports distinct names")
    return jobs
