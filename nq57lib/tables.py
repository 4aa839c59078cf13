"""Assessment and comparison tables built from a Dataset."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import progress, progress_arrays
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


def _take_or(values, at: np.ndarray, codes: np.ndarray, dtype) -> pd.Series:
    """``values[at[codes]]`` with missing values where ``at`` is -1 (a Series.map by way of factorize)."""
    picked = pd.Series(values).reindex(np.where(at < 0, len(values), at)).astype(dtype).array
    return picked.take(codes) if len(codes) else picked[:0]


def _keys(a: list, b: list) -> tuple[np.ndarray, np.ndarray]:
    """Integer keys for the rows of two lists of columns (equal rows, equal keys)."""
    ka, kb = np.zeros(len(a[0]), np.int64), np.zeros(len(b[0]), np.int64)
    for x, y in zip(a, b):
        codes, uniques = pd.factorize(pd.concat([pd.Series(x).reset_index(drop=True),
                                                 pd.Series(y).reset_index(drop=True)], ignore_index=True))
        ka, kb = ka * (len(uniques) + 1) + codes[: len(x)], kb * (len(uniques) + 1) + codes[len(x):]
    return ka, kb


def _effective_targets(ds: Dataset, chosen_only: bool) -> pd.DataFrame:
    src = ds.sources.set_index("id")
    t = ds.targets.copy()
    codes, ids = pd.factorize(t["source_id"])
    at = src.index.get_indexer(ids)
    t["instrument"] = _take_or(src["instrument"].array, at, codes, "str")
    t["published"] = _take_or(src["published"].array, at, codes, src["published"].dtype)
    t["inherited_from"] = None
    successors = ds.provinces[ds.provinces.successor.fillna("") != ""]
    if len(successors):
        names = ds.provinces.set_index("slug")["name"]
        mine = t[t["province_slug"].isin(successors["slug"])]
        old = mine.merge(successors[["slug", "successor", "name"]], left_on="province_slug", right_on="slug")
        key_old, key_own = _keys([old.successor, old.indicator, old.year], [t.province_slug, t.indicator, t.year])
        old = old[~np.isin(key_old, key_own)]
        if len(old):
            carried = old.drop(columns=["slug", "province_slug", "province", "inherited_from"]).rename(
                columns={"successor": "province_slug", "name": "inherited_from"})
            carried["province"] = carried["province_slug"].map(names)
            t = pd.concat([t, carried[t.columns]], ignore_index=True)
    # the priority: instrument, then the newest document, then the source id (a stable sort of the keys)
    rank = {k: i for i, k in enumerate(INSTRUMENTS)}
    codes, kinds = pd.factorize(t["instrument"], use_na_sentinel=False)
    inst_rank = np.array([rank.get(k, len(rank)) for k in kinds], np.int64)[codes] if len(t) else np.zeros(0)
    pub = _sort_codes(pd.Series(t["published"].to_numpy("datetime64[ns]").view("i8")))   # NaT last: the oldest
    slug, ind, year = _sort_codes(t["province_slug"]), _sort_codes(t["indicator"]), _sort_codes(t["year"])
    perm = np.lexsort([_sort_codes(t["source_id"]), pub.max(initial=0) - pub, inst_rank, year, ind, slug])
    key = (slug[perm], ind[perm], year[perm])
    first = np.ones(len(t), bool)
    first[1:] = (key[0][1:] != key[0][:-1]) | (key[1][1:] != key[1][:-1]) | (key[2][1:] != key[2][:-1])
    group = np.cumsum(first) - 1
    chosen = np.empty(len(t), bool)
    chosen[perm] = first
    # also_set_by: the other sources of the same unit, indicator and year, in priority order
    source = t["source_id"].to_numpy(object)[perm]
    others = np.flatnonzero(~first)
    joined = {}
    for g, s_ in zip(group[others].tolist(), source[others].tolist()):
        joined[g] = joined[g] + ";" + s_ if g in joined else s_
    also = np.empty(len(t), object)
    also[perm] = [joined.get(g, "") for g in group.tolist()] if joined else ""
    t["chosen"] = chosen
    t["also_set_by"] = pd.array(also, dtype="str")
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
    targets = _targets(ds, province, target_year, method)
    order = ds.pillars.set_index("id")["order"]
    pillar = ds.indicators.set_index("id")["pillar"]
    codes, inds = pd.factorize(targets["indicator"])
    pillar_order = pd.Series(inds).map(pillar).map(order).to_numpy(float)[codes]
    keys = [targets["province"], pd.Series(pillar_order), targets["indicator"], targets["year"]]
    perm = np.lexsort([_sort_codes(k) for k in reversed(keys)]) if len(targets) else np.zeros(0, np.int64)
    return _assess_columns(ds, targets.take(perm), method)     # in the order _in_order gives


def assess_rows(ds: Dataset, province: str | None = None, target_year: int | None = None,
                method: str = "eurostat") -> pd.DataFrame:
    """:func:`assess` computed row by row with the scalar functions of :mod:`nq57lib.progress`: the reference
    that the vectorised :func:`assess` is tested against (the same table; about 0.2 ms a target)."""
    targets = _targets(ds, province, target_year, method)
    ind = ds.indicators.set_index("id")
    obs_by = {k: g for k, g in ds.observations.groupby(["province_slug", "indicator"])}
    rows = [_assess_one(t, ind.loc[t["indicator"]], obs_by.get((t["province_slug"], t["indicator"])), method)
            for t in targets.to_dict("records")]
    return _in_order(ds, pd.DataFrame(rows, columns=_COLUMNS))


def _targets(ds: Dataset, province, target_year, method) -> pd.DataFrame:
    _check_method(method)
    targets = effective_targets(ds)
    if province is not None:
        slug = ds.find_province(province).name
        targets = targets[targets.province_slug == slug]
    if target_year is not None:
        _check_year(ds, target_year)
        targets = targets[targets.year == target_year]
    return targets


def _in_order(ds: Dataset, out: pd.DataFrame) -> pd.DataFrame:
    """Sorted by province, pillar order, indicator and year (stable), as sort_values would."""
    order = ds.pillars.set_index("id")["order"]
    keys = [out["province"], out["pillar"].map(order), out["indicator"], out["year"]]
    perm = np.lexsort([_sort_codes(k) for k in reversed(keys)]) if len(out) else np.zeros(0, np.int64)
    return out.take(perm).reset_index(drop=True)


def _sort_codes(values: pd.Series) -> np.ndarray:
    """Integer codes in the order sort_values sorts ``values`` (missing values last)."""
    codes, uniques = pd.factorize(values, sort=True)
    return np.where(codes < 0, len(uniques), codes)


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


# ------------------------------------------------------------------ assess over arrays

def _series_stats(ds: Dataset) -> dict:
    """Per unit and indicator with figures: the first and the last observation (in the observations' order:
    dates ascending), their count, the sources in order of first use, what a milestone needs; ``index`` (the
    series' keys) and ``time`` (the figures' decimal years). Computed once per Dataset."""
    if "series_stats" in ds.cache:
        return ds.cache["series_stats"]
    obs = ds.observations
    slug_codes, slugs = pd.factorize(obs["province_slug"])
    ind_codes, inds = pd.factorize(obs["indicator"])
    codes, index = pd.factorize(slug_codes.astype(np.int64) * max(len(inds), 1) + ind_codes, sort=False)
    perm = np.argsort(codes, kind="stable")            # each series' rows together, in their order
    sc = codes[perm]
    g = len(index)
    bounds = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1], True]) if len(sc) else np.zeros(1, np.int64)
    first, last = perm[bounds[:-1]], perm[bounds[1:] - 1]
    value = obs["value"].to_numpy(float)
    date = obs["period_end"].to_numpy()
    # sources in order of first use: most series have one
    src_codes, src_names = pd.factorize(obs["source_id"], sort=False)
    pairs = pd.DataFrame({"g": sc, "s": src_codes[perm]}).drop_duplicates()
    names = np.asarray(src_names, object)
    sources = names[src_codes[first]] if g else np.zeros(0, object)
    many = np.flatnonzero(np.bincount(pairs["g"].to_numpy(), minlength=g) > 1)
    if len(many):
        sources = sources.copy()
        for k, grp in pairs[pairs["g"].isin(many)].groupby("g", sort=False)["s"]:
            sources[k] = ";".join(names[grp.to_numpy()])
    stats = {"index": pd.Index(index), "slugs": pd.Index(slugs), "indicators": pd.Index(inds), "n_obs": np.bincount(codes, minlength=g), "baseline": value[first],
             "baseline_date": date[first], "latest": value[last], "latest_date": date[last],
             "latest_period": obs["period"].to_numpy(object)[last], "observation_sources": sources,
             "has_value": np.bincount(codes, weights=~np.isnan(value), minlength=g) > 0,
             "has_one": np.bincount(codes, weights=value == 1, minlength=g) > 0}
    ds.cache["series_stats"] = stats
    return stats


def _decimal_years(dates: np.ndarray) -> np.ndarray:
    """decimal_year for an array of datetime64 (NaT gives NaN)."""
    d = pd.DatetimeIndex(dates)
    days = np.where(d.is_leap_year, 366, 365)
    return d.year.to_numpy(float) + (d.day_of_year.to_numpy(float) - 1) / days


def _target_times(years: np.ndarray) -> np.ndarray:
    """target_time for an array of years."""
    years = np.asarray(years, np.int64)
    leap = (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))
    days = np.where(leap, 366, 365)
    return years.astype(float) + (days - 1) / days


_SWAP = str.maketrans(",.", ".,")


def _numbers_vi(values: np.ndarray) -> pa.Array:
    """format_number(v) (Vietnamese, decimals as needed) for an array of floats."""
    text = pa.array(list(map("{:,.4f}".format, values.tolist())), pa.string())
    text = pc.utf8_rtrim(pc.utf8_rtrim(text, "0"), ".")
    text = pc.replace_substring(pc.replace_substring(pc.replace_substring(text, ",", "\x00"), ".", ","), "\x00", ".")
    text = pc.if_else(pc.equal(text, "-0"), pa.scalar("0"), text)
    return pc.if_else(pa.array(np.isnan(values)), pa.scalar("–"), text)


def _target_texts(comparator: np.ndarray, value: np.ndarray, high: np.ndarray, unit: np.ndarray) -> pa.Array:
    """target_text (Vietnamese) for columns, each distinct number formatted once."""
    codes, numbers = pd.factorize(np.concatenate([value, high]), use_na_sentinel=False)
    text = _numbers_vi(np.asarray(numbers, float))
    fv, fh = text.take(pa.array(codes[: len(value)])), text.take(pa.array(codes[len(value):]))
    c_codes, c_values = pd.factorize(comparator, use_na_sentinel=False)
    c_values = list(c_values)
    plain_c = [c is None or (isinstance(c, float) and c != c) for c in c_values]
    head = pa.array([("" if p else (_SYMBOL.get(c, c) + " " if _SYMBOL.get(c, c) else "")) for c, p in
                     zip(c_values, plain_c)], pa.string()).take(pa.array(c_codes))
    plain = np.array(plain_c, bool)[c_codes]
    between = np.array([c == "between" for c in c_values], bool)[c_codes]
    u_codes, u_values = pd.factorize(unit, use_na_sentinel=False)
    suffix = pa.array([_UNIT_SUFFIX.get(u, "") for u in u_values], pa.string()).take(pa.array(u_codes))
    ranged = pc.binary_join_element_wise(fv, "-", fh, suffix, "")
    single = pc.binary_join_element_wise(head, fv, suffix, "")
    out = pc.if_else(pa.array(between), ranged, single)
    return pc.if_else(pa.array(plain), pa.scalar("✓"), out)


def _missing(values: np.ndarray, missing: np.ndarray):
    """A column as a list of dicts would make it: None where ``missing`` (all None: an object column)."""
    if missing.all():
        return np.full(len(values), None, object)
    if values.dtype.kind in "fM":
        out = values.copy()
        out[missing] = np.nan if values.dtype.kind == "f" else np.datetime64("NaT")
        return out
    return _strings(values, missing)


def _strings(values, missing=None):
    """Text (None where ``missing``) as a list of dicts would make it: ``str`` when there is a string, float NaN
    when there are only NaN, object when all are None."""
    values = np.asarray(values, object)
    if missing is not None:
        values = values.copy()
        values[missing] = None
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    uniques = list(uniques)
    if any(isinstance(u, str) for u in uniques):
        text = pa.array([u if isinstance(u, str) else None for u in uniques], pa.string())
        return text.take(pa.array(codes)).to_pandas().array
    missing = values[pd.isna(values)]
    if (missing != missing).any():                                  # NaN (not equal to itself), not only None
        return np.full(len(values), np.nan)
    return values


class _Texts:
    """A text column built from a few constant texts and some formatted ones, as one pyarrow array."""

    def __init__(self, n: int, default: str = ""):
        self.constants = [default]
        self.code = np.zeros(n, np.int64)
        self.formatted: list = []

    def set(self, mask, text: str) -> None:
        if text not in self.constants:
            self.constants.append(text)
        self.code[mask] = self.constants.index(text)

    def set_each(self, rows: np.ndarray, texts) -> None:
        """One text a row (``rows``: positions)."""
        self.code[rows] = -1 - (len(self.formatted) + np.arange(len(rows)))
        self.formatted.extend(texts)

    def series_array(self):
        table = pa.array(self.constants + list(self.formatted), pa.string())
        at = np.where(self.code >= 0, self.code, len(self.constants) - 1 - self.code)
        return table.take(pa.array(at)).to_pandas().array


def _assess_columns(ds: Dataset, t: pd.DataFrame, method: str) -> pd.DataFrame:
    """What _assess_one gives for every target at once (see assess)."""
    n = len(t)
    if not n:
        return pd.DataFrame([], columns=_COLUMNS)
    st = _series_stats(ds)
    slug_at, ind_at = _lookup(st["slugs"], t["province_slug"]), _lookup(st["indicators"], t["indicator"])
    at = st["index"].get_indexer(slug_at.astype(np.int64) * max(len(st["indicators"]), 1) + ind_at)
    at[(slug_at < 0) | (ind_at < 0)] = -1
    has = at >= 0
    if len(st["n_obs"]):
        pick = lambda col: st[col][np.maximum(at, 0)]
    else:    # no figures at all
        empty = {"n_obs": 0, "baseline": np.nan, "latest": np.nan, "baseline_date": np.datetime64("NaT", "us"),
                 "latest_date": np.datetime64("NaT", "us"), "latest_period": None, "observation_sources": None,
                 "has_value": False, "has_one": False}
        pick = lambda col: np.full(n, empty[col], object if col in ("latest_period", "observation_sources") else None)
    ip = _lookup(pd.Index(ds.indicators["id"]), t["indicator"])
    meta = lambda col: ds.indicators[col].to_numpy()[ip]
    unit, direction = meta("unit").astype(object), meta("direction").astype(object)
    milestone = unit == "milestone"
    comparator = t["comparator"].to_numpy(object)
    value, high = t["value"].to_numpy(float), t["value_high"].to_numpy(float)
    year = t["year"].to_numpy(np.int64)
    n_obs = np.where(has, pick("n_obs"), 0).astype(np.int64)
    baseline, latest = pick("baseline").astype(float), pick("latest").astype(float)
    baseline_date, latest_date = pick("baseline_date"), pick("latest_date")
    status, reason, method_col = _Texts(n), _Texts(n), _Texts(n, method)
    nan = lambda: np.full(n, np.nan)
    gap, required_pace, actual_pace, required_rate, actual_rate, ratio, projected, reached = (nan() for _ in range(8))
    quant = ~milestone & has
    # milestones
    met = has & pick("has_one").astype(bool)
    not_yet = has & pick("has_value").astype(bool) & ~met
    for mask, code, why in ((milestone & met, "met", "the source reports it done"),
                            (milestone & not_yet, "not_yet", "the source reports it not yet done"),
                            (milestone & ~met & ~not_yet, "no_data", "no report on this milestone yet")):
        status.set(mask, code)
        reason.set(mask, why)
    method_col.set(milestone, "milestone")
    status.set(~milestone & ~has, "no_data")
    reason.set(~milestone & ~has, "no figure yet: measure this indicator")
    # quantitative targets with figures
    t_latest = _decimal_years(latest_date)
    t_target = _target_times(year)
    goal = np.where((direction == "down") & (comparator == "between"), high, value)
    gap[quant] = (goal - latest)[quant]
    with np.errstate(divide="ignore", invalid="ignore"):
        pace_needed = np.where(t_target > t_latest, (goal - latest) / (t_target - t_latest), np.nan)
    required_pace[quant] = pace_needed[quant]
    achieved = np.zeros(n, bool)
    q = np.flatnonzero(quant)
    achieved[q] = progress_arrays.meets(latest[q], comparator[q], value[q], high[q], direction[q])
    status.set(achieved, "achieved")
    reason.set(achieved, "the latest value already meets the target")
    todo = quant & ~achieved
    passed = todo & (t_latest > t_target)
    status.set(passed, "not_achieved")
    reason.set_each(np.flatnonzero(passed), map("the target year {} has passed without the target being met".format,
                                                 year[passed].tolist()))
    todo &= ~passed
    one = todo & (n_obs == 1)
    status.set(one, "insufficient_data")
    reason.set_each(np.flatnonzero(one), map("one observation ({}): no trend from a single point".format,
                                             pick("latest_period")[one].tolist()))
    todo &= ~one
    t_base = _decimal_years(baseline_date)
    same = todo & (t_base == t_latest)
    status.set(same, "insufficient_data")
    reason.set(same, "all observations are for the same date")
    rest = np.flatnonzero(todo & ~same)
    if len(rest):
        tb, bv, tl, lv, tt, gl = (a[rest] for a in (t_base, baseline, t_latest, latest, t_target, goal))
        actual_pace[rest] = (lv - bv) / (tl - tb)
        if method == "sdsn":
            lo, hi = meta("lower_bound").astype(float)[rest], meta("upper_bound").astype(float)[rest]
            down = direction[rest] == "down"
            optimum, bound = np.where(down, lo, hi), np.where(down, hi, lo)
            a = progress_arrays.sdsn(tb, bv, tl, lv, optimum, bound, gl, tt)
            no_bounds = np.isnan(optimum) | np.isnan(bound)
            a["status"][no_bounds] = "not_assessable"
            a["reason"][no_bounds] = "the SDSN method needs both bounds of the indicator"
            for k in ("ratio", "actual_rate", "required_rate"):
                a[k][no_bounds] = np.nan
        else:
            a = progress_arrays.eurostat(tb, bv, tl, lv, gl, tt, direction[rest], comparator[rest])
        proj = progress_arrays.project(tb, bv, tl, lv, tt, gl, ~np.isin(unit[rest], ["percent", "rank", "index"]))
        codes, kinds = pd.factorize(a["status"])
        for k, kind in enumerate(kinds):
            status.set(rest[codes == k], kind)
        reason.set_each(rest, a["reason"].tolist())
        ratio[rest], actual_rate[rest], required_rate[rest] = a["ratio"], a["actual_rate"], a["required_rate"]
        projected[rest] = proj["value"]
        reached[rest] = np.floor(proj["year_reached"])
    required_pace[achieved] = np.nan
    none_pace = ~quant | achieved | ~(t_target > t_latest)      # progress.required_pace gives None then
    computed = np.zeros(n, bool)
    computed[rest] = True
    text = lambda col: pa.array(ds.indicators[col].tolist(), pa.string()).take(pa.array(ip)).to_pandas().array
    column = lambda col: t[col].array if t[col].dtype == "str" else _strings(t[col].to_numpy(object))
    return pd.DataFrame({
        "province": column("province"), "province_slug": column("province_slug"), "indicator": column("indicator"),
        "name_vi": text("name_vi"), "name_en": text("name_en"), "pillar": text("pillar"), "unit": text("unit"),
        "direction": text("direction"), "year": year, "comparator": _strings(comparator),
        "target": value, "target_high": high,
        "target_text": _target_texts(comparator, value, high, unit).to_pandas().array,
        "baseline": _missing(baseline, ~has), "baseline_date": _missing(baseline_date, ~has),
        "latest": _missing(latest, ~has), "latest_date": _missing(latest_date, ~has),
        "latest_period": _stats_text(st, "latest_period", at, has), "n_obs": n_obs,
        "gap": _missing(gap, ~quant), "required_pace": _missing(required_pace, none_pace),
        "actual_pace": _missing(actual_pace, ~computed),
        "required_rate": _missing(required_rate, np.isnan(required_rate)),
        "actual_rate": _missing(actual_rate, np.isnan(actual_rate)),
        "ratio": _missing(ratio, np.isnan(ratio)),
        "status": status.series_array(), "reason": reason.series_array(),
        "projected": _missing(projected, ~computed | np.isnan(projected)),
        "year_reached": _year_reached(reached),
        "method": method_col.series_array(),
        "source_id": column("source_id"), "instrument": column("instrument"), "also_set_by": column("also_set_by"),
        "observation_sources": _stats_text(st, "observation_sources", at, has),
        "inherited_from": column("inherited_from"),
    }, columns=_COLUMNS)


def _stats_text(st: dict, col: str, at: np.ndarray, has: np.ndarray):
    """A text of each target's series (None without figures), as a list of dicts would make the column."""
    if not has.any():
        return np.full(len(at), None, object)
    key = col + "_arrow"
    if key not in st:
        st[key] = pa.array(st[col].tolist(), pa.string())
    return st[key].take(pa.array(np.where(has, at, 0), mask=~has)).to_pandas().array


def _lookup(index: pd.Index, values: pd.Series) -> np.ndarray:
    """index.get_indexer(values), each distinct value looked up once."""
    codes, uniques = pd.factorize(values)
    return index.get_indexer(uniques)[codes] if len(codes) else np.zeros(0, np.int64)


def _year_reached(reached: np.ndarray):
    """Whole years (ints) or None, as _assess_one gives them: int64 when every row has one."""
    missing = np.isnan(reached)
    if missing.all():
        return np.full(len(reached), None, object)
    return reached.astype(np.int64) if not missing.any() else reached


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
