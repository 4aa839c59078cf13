"""Assessment and comparison tables built from a Dataset."""
from __future__ import annotations

import math

import pandas as pd

from . import progress
from .dataset import INSTRUMENTS, Dataset
from .errors import ParameterError
from .numbers import format_number

METHODS = ("eurostat", "sdsn")
_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "", "between": ""}
_UNIT_SUFFIX = {"percent": "%"}


def decimal_year(ts) -> float:
    """A date as a fractional year (31/12/2024 -> 2024.997)."""
    ts = pd.Timestamp(ts)
    days = 366 if ts.is_leap_year else 365
    return ts.year + (ts.day_of_year - 1) / days


def target_time(year: int) -> float:
    """A target year as a fractional year: its last day (targets are "by the end of" the year)."""
    return decimal_year(pd.Timestamp(year=int(year), month=12, day=31))


def projection_kind(unit: str) -> str:
    """Linear pace for shares, indices and ranks; compound growth for counts and money."""
    return "linear" if unit in ("percent", "rank", "index") else "compound"


def target_text(comparator, value, value_high, unit, lang: str = "vi") -> str:
    """A target as users read it: "≥ 20%", "9-10%", "> 0,623" (Vietnamese) or "> 0.623" (English)."""
    if comparator is None or (isinstance(comparator, float) and math.isnan(comparator)):
        return "✓"
    suffix = _UNIT_SUFFIX.get(unit, "")
    if comparator == "between":
        return f"{format_number(value, lang=lang)}-{format_number(value_high, lang=lang)}{suffix}"
    sym = _SYMBOL.get(comparator, comparator)
    return f"{sym} {format_number(value, lang=lang)}{suffix}".strip()


def effective_targets(ds: Dataset, chosen_only: bool = True) -> pd.DataFrame:
    """Targets per unit: one per unit, indicator and year, chosen by the kind of document that set it.

    Several documents may set a target for the same unit, indicator and year (a Resolution 57 programme,
    the Party congress resolution, an earlier digital-transformation plan). The one whose ``instrument``
    comes first in :data:`~nq57lib.dataset.INSTRUMENTS` is used (``nq57_programme`` first), then the
    newest document, then the source id; the others are listed in ``also_set_by`` (source ids, ``;``).
    A unit that merged into another (``successor`` in provinces.csv) passes its targets on, marked in
    ``inherited_from``, unless the successor has its own target for the same indicator and year.

    Parameters
    ----------
    chosen_only : bool
        False gives every target row, with ``chosen`` telling which one is used.

    Returns
    -------
    DataFrame
        The columns of ``ds.targets`` plus ``instrument``, ``published``, ``inherited_from``,
        ``also_set_by`` and (``chosen_only=False``) ``chosen``. Computed once per Dataset.
    """
    key = ("effective_targets", chosen_only)
    if key not in ds.cache:
        ds.cache[key] = _effective_targets(ds, chosen_only)
    return ds.cache[key].copy()


def _effective_targets(ds: Dataset, chosen_only: bool) -> pd.DataFrame:
    src = ds.sources.set_index("id")
    t = ds.targets.copy()
    t["instrument"] = t["source_id"].map(src["instrument"])
    t["published"] = t["source_id"].map(src["published"])
    t["inherited_from"] = None
    successors = ds.provinces[ds.provinces.successor.fillna("") != ""]
    if len(successors):
        names = ds.provinces.set_index("slug")["name"]
        old = t.merge(successors[["slug", "successor", "name"]], left_on="province_slug", right_on="slug")
        own = set(zip(t.province_slug, t.indicator, t.year))
        old = old[[(s, i, y) not in own for s, i, y in zip(old.successor, old.indicator, old.year)]]
        if len(old):
            carried = old.drop(columns=["slug", "province_slug", "province", "inherited_from"]).rename(
                columns={"successor": "province_slug", "name": "inherited_from"})
            carried["province"] = carried["province_slug"].map(names)
            t = pd.concat([t, carried[t.columns]], ignore_index=True)
    rank = {k: i for i, k in enumerate(INSTRUMENTS)}
    t["_rank"] = t["instrument"].map(rank).fillna(len(rank))
    t["_pub"] = t["published"].astype("int64", errors="ignore") if False else t["published"].map(
        lambda d: d.value if pd.notna(d) else -2**63)
    t = t.sort_values(["province_slug", "indicator", "year", "_rank", "_pub", "source_id"],
                      ascending=[True, True, True, True, False, True], kind="stable")
    group = t.groupby(["province_slug", "indicator", "year"], sort=False)
    t["chosen"] = group.cumcount() == 0
    others = t[~t.chosen].groupby(["province_slug", "indicator", "year"])["source_id"].agg(";".join)
    t = t.drop(columns=["_rank", "_pub"])
    t["also_set_by"] = [others.get(k, "") for k in zip(t.province_slug, t.indicator, t.year)]
    t = t.sort_index(kind="stable")
    if chosen_only:
        t = t[t.chosen].drop(columns="chosen")
    return t.reset_index(drop=True)


def series(ds: Dataset, slug: str, indicator: str, target_years) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One unit's figures and targets (own or inherited; 2025 annual targets always) for one indicator:
    what a trajectory chart draws, and what the table beside it lists."""
    obs = ds.observations[(ds.observations.province_slug == slug) & (ds.observations.indicator == indicator)]
    t = effective_targets(ds)
    t = t[(t.province_slug == slug) & (t.indicator == indicator) & t.year.isin(list(target_years) + [2025])]
    return obs, t.sort_values("year")


def _check_year(ds: Dataset, year) -> None:
    if year not in set(ds.targets.year):
        raise ParameterError(f"No targets for the year {year!r}: the data has targets for "
                             + ", ".join(str(y) for y in sorted(set(ds.targets.year))))


def _check_method(method):
    if method not in METHODS:
        raise ParameterError(f"Unknown method {method!r}: use one of {', '.join(METHODS)}")


def assess(ds: Dataset, province: str | None = None, target_year: int | None = None,
           method: str = "eurostat") -> pd.DataFrame:
    """Where each province stands against each of its targets.

    Parameters
    ----------
    ds : Dataset
    province : str, optional
        Any spelling :meth:`Dataset.find_province` accepts; default every unit with targets.
    target_year : int, optional
        Only targets for this year (2025, 2030 or 2045).
    method : {"eurostat", "sdsn"}
        The trend method used when there are two or more observations.

    Returns
    -------
    DataFrame
        One row per province x indicator x target year: ``province``, ``province_slug``, ``indicator``,
        ``name_vi``, ``name_en``, ``pillar``, ``unit``, ``direction``, ``year``, ``comparator``,
        ``target``, ``target_high``, ``target_text``, ``baseline``, ``baseline_date``, ``latest``,
        ``latest_date``, ``latest_period``, ``n_obs``, ``gap`` (target minus latest), ``required_pace``
        (units a year from the latest value to the target: points a year for shares),
        ``actual_pace`` (units a year, baseline to latest), ``required_rate``, ``actual_rate``,
        ``ratio``, ``status``, ``reason``, ``projected``, ``year_reached``, ``method``, ``source_id``
        (the target's), ``instrument`` (the kind of document that set it), ``also_set_by`` (other
        sources that set a target for the same year, ``;``-separated; see :func:`effective_targets`),
        ``observation_sources``, ``inherited_from``.

        ``status`` is ``no_data`` when there is no figure yet, ``insufficient_data`` when there is
        one figure (or several for the same date: no trend), ``achieved`` when the latest figure meets
        the target (for a range, also beyond it on the good side), else the method's class.

    Examples
    --------
    >>> import nq57lib
    >>> a = nq57lib.assess(nq57lib.load(), province="Lai Châu", target_year=2030)
    >>> a.set_index("indicator").loc["coverage_5g_province", "status"]
    'no_data'
    """
    _check_method(method)
    targets = effective_targets(ds)
    if province is not None:
        slug = ds.find_province(province).name
        targets = targets[targets.province_slug == slug]
    if target_year is not None:
        _check_year(ds, target_year)
        targets = targets[targets.year == target_year]
    ind = ds.indicators.set_index("id")
    obs_by = {k: g for k, g in ds.observations.groupby(["province_slug", "indicator"])}
    order = ds.pillars.set_index("id")["order"]
    rows = [_assess_one(t, ind.loc[t["indicator"]], obs_by.get((t["province_slug"], t["indicator"])), method)
            for t in targets.to_dict("records")]
    out = pd.DataFrame(rows, columns=_COLUMNS)
    out["_order"] = out["pillar"].map(order)
    out = out.sort_values(["province", "_order", "indicator", "year"], kind="stable").drop(columns="_order")
    return out.reset_index(drop=True)


_COLUMNS = ["province", "province_slug", "indicator", "name_vi", "name_en", "pillar", "unit", "direction",
            "year", "comparator", "target", "target_high", "target_text", "baseline", "baseline_date",
            "latest", "latest_date", "latest_period", "n_obs", "gap", "required_pace", "actual_pace",
            "required_rate", "actual_rate", "ratio", "status", "reason", "projected", "year_reached",
            "method", "source_id", "instrument", "also_set_by", "observation_sources", "inherited_from"]


def _assess_one(t: dict, meta: pd.Series, obs: pd.DataFrame | None, method: str) -> dict:
    row = {k: None for k in _COLUMNS}
    row.update(province=t["province"], province_slug=t["province_slug"], indicator=t["indicator"],
               name_vi=meta["name_vi"], name_en=meta["name_en"], pillar=meta["pillar"], unit=meta["unit"],
               direction=meta["direction"], year=int(t["year"]), comparator=t["comparator"],
               target=t["value"], target_high=t["value_high"], source_id=t["source_id"],
               instrument=t["instrument"], also_set_by=t["also_set_by"],
               inherited_from=t.get("inherited_from"), method=method,
               target_text=target_text(t["comparator"], t["value"], t["value_high"], meta["unit"]),
               n_obs=0 if obs is None else len(obs))
    if obs is not None and len(obs):
        first, last = obs.iloc[0], obs.iloc[-1]
        row.update(baseline=first["value"], baseline_date=first["period_end"], latest=last["value"],
                   latest_date=last["period_end"], latest_period=last["period"],
                   observation_sources=";".join(dict.fromkeys(obs["source_id"])))
    if meta["unit"] == "milestone":
        status = progress.milestone([] if obs is None else obs["value"].tolist())
        row.update(status=status, method="milestone", reason={
            "met": "the source reports it done", "not_yet": "the source reports it not yet done",
            "no_data": "no report on this milestone yet"}[status])
        return row
    if obs is None or not len(obs):
        row.update(status="no_data", reason="no figure yet: measure this indicator")
        return row
    direction = meta["direction"]
    t_latest, t_target = decimal_year(row["latest_date"]), target_time(row["year"])
    goal = t["value"] if direction != "down" or t["comparator"] != "between" else t["value_high"]
    row["gap"] = goal - row["latest"]
    row["required_pace"] = progress.required_pace(t_latest, row["latest"], t_target, goal)
    if progress.meets(row["latest"], t["comparator"], t["value"], t["value_high"], direction):
        row.update(status="achieved", reason="the latest value already meets the target", required_pace=None)
    elif t_latest > t_target:
        row.update(status="not_achieved", reason=f"the target year {row['year']} has passed without the target being met")
    elif len(obs) == 1:
        row.update(status="insufficient_data",
                   reason=f"one observation ({row['latest_period']}): no trend from a single point")
    else:
        t_base = decimal_year(row["baseline_date"])
        if t_base == t_latest:
            row.update(status="insufficient_data", reason="all observations are for the same date")
            return row
        row["actual_pace"] = progress.linear_pace(t_base, row["baseline"], t_latest, row["latest"])
        if method == "sdsn":
            lo, hi = meta["lower_bound"], meta["upper_bound"]
            optimum, bound = (lo, hi) if direction == "down" else (hi, lo)
            if pd.isna(optimum) or pd.isna(bound):
                a = progress.Assessment("not_assessable", method="sdsn",
                                        reason="the SDSN method needs both bounds of the indicator")
            else:
                a = progress.sdsn(t_base, row["baseline"], t_latest, row["latest"], optimum, bound, goal, t_target)
        else:
            a = progress.eurostat(t_base, row["baseline"], t_latest, row["latest"], goal, t_target,
                                  direction=direction, comparator=t["comparator"])
        proj = progress.project(t_base, row["baseline"], t_latest, row["latest"], t_target, goal,
                                kind=projection_kind(meta["unit"]))
        row.update(status=a.status, reason=a.reason, ratio=a.ratio, actual_rate=a.actual_rate,
                   required_rate=a.required_rate, projected=proj.value,
                   year_reached=None if proj.year_reached is None else math.floor(proj.year_reached))
    return row


def compare(ds: Dataset, provinces: list[str], year: int = 2030, lang: str = "vi") -> pd.DataFrame:
    """Provinces' targets side by side, with the national target of Resolution 57 as a column.

    Parameters
    ----------
    provinces : list of str
        Province names in any spelling :meth:`Dataset.find_province` accepts.
    year : int
        Target year (2030 by default).
    lang : {"vi", "en"}
        Language of the indicator names.

    Returns
    -------
    DataFrame
        One row per indicator that any of the provinces (or the nation) targets: ``indicator``, ``name``,
        ``unit``, one column per province (the target as text), ``Việt Nam`` (the national target),
        ``ambition: <province>`` (province target / national target, inverted for lower-is-better; 1 is
        as ambitious as the nation), and ``note`` (where units or definitions differ, or a target is
        inherited from a pre-merger unit).

    Examples
    --------
    >>> import nq57lib
    >>> c = nq57lib.compare(nq57lib.load(), ["Lai Châu", "Lào Cai"])
    >>> c.set_index("indicator").loc["digital_economy_share", ["Lai Châu", "Lào Cai", "Việt Nam"]].tolist()
    ['9-10%', '20%', '≥ 30%']
    """
    if not provinces:
        raise ParameterError("Give at least one province to compare")
    _check_year(ds, year)
    slugs = []
    for p in provinces:
        s = ds.find_province(p).name
        if s not in slugs:
            slugs.append(s)
    nat = ds.provinces.loc[ds.provinces.level == "national"].iloc[0]
    t = effective_targets(ds)
    t = t[(t.year == year) & t.province_slug.isin(slugs + [nat.slug])]
    ind = ds.indicators.set_index("id")
    names = ds.provinces.set_index("slug")["name"]
    en_names = ds.provinces.set_index("slug")["name_en"]
    en_by_name = ds.provinces.set_index("name")["name_en"]
    cols = [names[s] for s in slugs]
    rows = []
    for indicator, g in t.groupby("indicator", sort=False):
        meta = ind.loc[indicator]
        by = g.set_index("province_slug")
        row = {"indicator": indicator, "name": meta["name_en" if lang == "en" else "name_vi"], "unit": meta["unit"]}
        notes = []
        national = by.loc[nat.slug] if nat.slug in by.index else None
        for slug, col in zip(slugs, cols):
            if slug not in by.index:
                row[col] = ""
                continue
            r = by.loc[slug]
            row[col] = target_text(r["comparator"], r["value"], r["value_high"], meta["unit"], lang)
            if isinstance(r["inherited_from"], str):
                if lang == "en":
                    notes.append(f"{en_names[slug]}: inherited from {en_by_name[r['inherited_from']]}")
                else:
                    notes.append(f"{col}: kế thừa từ {r['inherited_from']}")
            row[f"ambition: {col}"] = _ambition(r, national, meta["direction"])
        row[nat["name"]] = "" if national is None else target_text(
            national["comparator"], national["value"], national["value_high"], meta["unit"], lang)
        note = meta["note_en" if lang == "en" else "note"]
        if national is not None and isinstance(note, str) and note and any(s in by.index for s in slugs):
            notes.append(note)
        row["note"] = "; ".join(notes)
        rows.append(row)
    order = ["indicator", "name", "unit"] + cols + [nat["name"]] + [f"ambition: {c}" for c in cols] + ["note"]
    out = pd.DataFrame(rows)
    for c in order:
        if c not in out:
            out[c] = None
    out["_n"] = out[cols].ne("").sum(axis=1)
    out = out.sort_values(["_n", "indicator"], ascending=[False, True], kind="stable")
    return out[order].reset_index(drop=True)


def _ambition(r, national, direction) -> float | None:
    if national is None or pd.isna(r["value"]) or pd.isna(national["value"]):
        return None
    mine = r["value"] if pd.isna(r["value_high"]) else (r["value"] + r["value_high"]) / 2
    theirs = national["value"] if pd.isna(national["value_high"]) else (national["value"] + national["value_high"]) / 2
    if mine <= 0 or theirs <= 0:
        return None
    return theirs / mine if direction == "down" else mine / theirs


def coverage(ds: Dataset) -> dict:
    """What the data covers: per unit in force and per kind of document.

    Returns
    -------
    dict
        ``units``: one row per unit in force (not the nation): ``province_slug``, ``name``, ``name_en``,
        ``targets`` (its own), ``inherited`` (targets it takes over from the provinces that merged into
        it), ``figures`` (its own), ``former_figures`` (those of the provinces that merged into it),
        ``de_target`` (the digital-economy share target for 2030 it is assessed against, as text, or "").
        ``instruments``: one row per kind of document (``instrument``): ``sources``, ``targets``,
        ``figures``. ``n_units``, ``with_target``, ``with_figure`` and ``with_de_target``: counts of
        units in force.
    """
    p = ds.provinces
    current = p[(p.level == "province") & p.valid_to.isna()]
    t = effective_targets(ds)
    predecessors = p.dropna(subset=["successor"]).groupby("successor").slug.apply(set)
    own_t = ds.targets.groupby("province_slug").size()
    inh = t[t.inherited_from.notna()].groupby("province_slug").size()
    own_o = ds.observations.groupby("province_slug").size()
    de = t[(t.indicator == "digital_economy_share") & (t.year == 2030)].set_index("province_slug")
    rows = []
    for u in current.itertuples():
        former = predecessors.get(u.slug, set())
        de_text = ""
        if u.slug in de.index:
            r = de.loc[u.slug]
            de_text = target_text(r["comparator"], r["value"], r["value_high"], "percent", "vi")
        rows.append({"province_slug": u.slug, "name": u.name, "name_en": u.name_en,
                     "targets": int(own_t.get(u.slug, 0)), "inherited": int(inh.get(u.slug, 0)),
                     "figures": int(own_o.get(u.slug, 0)),
                     "former_figures": int(sum(own_o.get(s, 0) for s in former)), "de_target": de_text})
    units = pd.DataFrame(rows)
    src = ds.sources.set_index("id")["instrument"]
    from .dataset import INSTRUMENTS
    inst = pd.DataFrame({
        "instrument": list(INSTRUMENTS),
        "sources": [int((ds.sources.instrument == i).sum()) for i in INSTRUMENTS],
        "targets": [int((ds.targets.source_id.map(src) == i).sum()) for i in INSTRUMENTS],
        "figures": [int((ds.observations.source_id.map(src) == i).sum()) for i in INSTRUMENTS],
    })
    return {"units": units, "instruments": inst, "n_units": len(units),
            "with_target": int(((units.targets + units.inherited) > 0).sum()),
            "with_figure": int(((units.figures + units.former_figures) > 0).sum()),
            "with_de_target": int((units.de_target != "").sum())}
