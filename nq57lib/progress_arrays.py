"""The progress methods of :mod:`nq57lib.progress` over arrays: one call for every series.

The scalar functions of :mod:`nq57lib.progress` are the reference: each function here gives, row for row,
what its scalar namesake gives (tests/test_progress_arrays.py draws random series to show it), bit for bit.
Arithmetic is numpy's (IEEE, as Python's floats); powers, logarithms and ``round`` go through Python's own
functions element by element, because numpy's vectorised ones may differ in the last bit (and a ratio on a
class boundary must fall on the same side).

Results are dicts of arrays: ``status`` and ``reason`` (object arrays of str), ``ratio``, ``actual_rate``,
``required_rate`` (float, NaN where the scalar result has None).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .progress import (EUROSTAT_MODERATE, EUROSTAT_SIGNIFICANT, SDSN_MODERATE, SDSN_ON_TRACK, _DECIMALS)


_UFUNCS: dict = {}


def _py(fn, *arrays) -> np.ndarray:
    """``fn`` on Python floats, element by element (bit for bit what the scalar code computes). Where Python
    raises (a power that overflows, zero to a negative power: growth so extreme that the scalar function
    fails), inf; a logarithm out of its domain, NaN."""
    arrays = [np.asarray(a, float) for a in arrays]
    if fn not in _UFUNCS:
        _UFUNCS[fn] = np.frompyfunc(fn, len(arrays), 1)
    try:
        return _UFUNCS[fn](*arrays).astype(float)
    except (OverflowError, ZeroDivisionError, ValueError):
        pass

    def safe(*xs):
        try:
            return fn(*xs)
        except (OverflowError, ZeroDivisionError):
            return math.inf
        except ValueError:
            return math.nan
    return np.array([safe(*xs) for xs in zip(*(a.tolist() for a in arrays))], float)


_ROUND = np.frompyfunc(round, 2, 1)


def _round(x: np.ndarray) -> np.ndarray:
    """Python's round(x, 9) (numpy's rounds some values differently)."""
    return _ROUND(np.asarray(x, float), _DECIMALS).astype(float)


def _cagr(v0, t0, v1, t1) -> np.ndarray:
    """(v1 / v0) ** (1 / (t1 - t0)) - 1, as progress.cagr computes it."""
    with np.errstate(all="ignore"):
        return _py(pow, v1 / v0, 1.0 / (t1 - t0)) - 1.0


_OPS = {"": 0, "=": 0, ">=": 1, ">": 2, "<=": 3, "<": 4, "between": 5}


def meets(value, comparator, target, target_high=None, direction="up") -> np.ndarray:
    """progress.meets for arrays (``comparator``, ``direction``: object arrays; ``target_high`` None or floats)."""
    value, target = np.asarray(value, float), np.asarray(target, float)
    n = len(value)
    comparator = np.asarray(comparator, object)
    down = np.broadcast_to(np.asarray(direction, object), (n,)) == "down"
    op = np.full(n, -1, np.int8)
    na = np.asarray(pd.isna(comparator), bool)
    op[na] = [0 if c is None else -1 for c in comparator[na].tolist()]       # None is "="; NaN is no comparator
    codes, kinds = pd.factorize(comparator[~na])
    if len(codes):
        op[~na] = np.array([_OPS.get(k, -1) for k in kinds], np.int8)[codes]
    if (op < 0).any():
        raise ValueError(f"unknown comparator {comparator[op < 0][0]!r}")
    op = np.where(op == 0, np.where(down, 3, 1), op)
    high = target if target_high is None else np.asarray(target_high, float)
    with np.errstate(invalid="ignore"):
        return np.select([op == 1, op == 2, op == 3, op == 4, down],
                         [value >= target, value > target, value <= target, value < target, value <= high],
                         value >= target)


def eurostat(base_year, base_value, latest_year, latest_value, target_value, target_year, direction,
             comparator) -> dict:
    """progress.eurostat for arrays."""
    by, bv, ly, lv, tv, ty = (np.asarray(a, float) for a in (base_year, base_value, latest_year, latest_value,
                                                             target_value, target_year))
    n = len(bv)
    direction = np.broadcast_to(np.asarray(direction, object), (n,))
    down = direction == "down"
    status = np.full(n, "", object)
    reason = np.full(n, "", object)
    ratio, actual, required = (np.full(n, np.nan) for _ in range(3))
    todo = np.ones(n, bool)

    def settle(mask, st, why):
        nonlocal todo
        mask = mask & todo
        status[mask] = st
        if isinstance(why, str):
            reason[mask] = why
        else:
            reason[mask] = why(mask)
        todo &= ~mask
        return mask

    settle(meets(lv, comparator, tv, None, direction), "achieved", "the latest value already meets the target")
    settle(ly >= ty, "not_achieved",
           lambda m: [f"the target year {int(t)} has passed without the target being met" for t in ty[m].tolist()])
    settle(np.minimum(np.minimum(bv, lv), tv) <= 0, "not_assessable",
           "compound growth needs positive values (a value is zero or negative)")
    settle(ly <= by, "not_assessable", "the base and latest values are for the same time: no rate can be computed")
    rest = np.flatnonzero(todo)
    if len(rest):
        a = _cagr(bv[rest], by[rest], lv[rest], ly[rest])
        r = _cagr(bv[rest], by[rest], tv[rest], ty[rest])
        actual[rest], required[rest] = a, r
        d = down[rest]
        no_growth = (r == 0) | ((r > 0) != ~d)
        away = ((a > 0) == d) & (a != 0)
        ng = rest[no_growth]
        status[ng] = np.where(away[no_growth], "moving_away", "not_assessable")
        reason[ng] = "the base value already met the target, so no growth is required"
        cls = rest[~no_growth]
        if len(cls):
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                q = _round(actual[cls] / required[cls])
            ratio[cls] = q
            status[cls] = np.select([q >= EUROSTAT_SIGNIFICANT, q >= EUROSTAT_MODERATE, q >= 0],
                                    ["significant_progress", "moderate_progress", "insufficient_progress"],
                                    "moving_away")
            pct = "{:+.2%}".format
            reason[cls] = list(map("actual {}/yr against {}/yr required".format,
                                   map(pct, actual[cls].tolist()), map(pct, required[cls].tolist())))
    return {"status": status, "ratio": ratio, "actual_rate": actual, "required_rate": required, "reason": reason}


def sdsn(base_year, base_value, latest_year, latest_value, optimum, lower_bound, threshold, target_year) -> dict:
    """progress.sdsn for arrays."""
    by, bv, ly, lv, opt, lb, th, ty = (np.asarray(a, float) for a in (
        base_year, base_value, latest_year, latest_value, optimum, lower_bound, threshold, target_year))
    n = len(bv)
    status = np.full(n, "", object)
    reason = np.full(n, "", object)
    ratio, actual, required = (np.full(n, np.nan) for _ in range(3))
    todo = np.ones(n, bool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        score = lambda x: 100.0 * (x - lb) / (opt - lb)
        s_base, s_latest, s_goal = score(bv), score(lv), score(th)
        act = (s_latest - s_base) / (ly - by)
        req = (s_goal - s_base) / (ty - by)

    def settle(mask, st, why, with_actual=False):
        nonlocal todo
        mask = mask & todo
        status[mask], reason[mask] = st, why
        if with_actual:
            actual[mask] = act[mask]
        todo &= ~mask

    settle(opt == lb, "not_assessable", "optimum equals the lower bound")
    settle(s_latest >= s_goal, "achieved", "at or beyond the green threshold")
    settle(ly <= by, "not_assessable", "base and latest are for the same year")
    settle(act < 0, "decreasing", "the score is falling", with_actual=True)
    settle(ty <= by, "not_assessable", "the target year is not after the base year", with_actual=True)
    rest = np.flatnonzero(todo)
    if len(rest):
        actual[rest], required[rest] = act[rest], req[rest]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            q = _round(act[rest] / req[rest])
        ratio[rest] = q
        status[rest] = np.select([q >= SDSN_ON_TRACK, q >= SDSN_MODERATE], ["on_track", "moderately_improving"],
                                 "stagnating")
        reason[rest] = [f"{x:.0%} of the required pace" for x in ratio[rest].tolist()]
    return {"status": status, "ratio": ratio, "actual_rate": actual, "required_rate": required, "reason": reason}


def project(base_year, base_value, latest_year, latest_value, target_year, target_value, compound) -> dict:
    """progress.project for arrays (``compound``: bool array, True for kind "compound"): ``value``,
    ``share_of_distance`` and ``year_reached`` (NaN where the scalar result has None)."""
    by, bv, ly, lv, ty, tv = (np.asarray(a, float) for a in (base_year, base_value, latest_year, latest_value,
                                                             target_year, target_value))
    n = len(bv)
    compound = np.broadcast_to(np.asarray(compound, bool), (n,))
    value, reached = np.full(n, np.nan), np.full(n, np.nan)
    ok = ly > by
    c = np.flatnonzero(ok & compound & (bv > 0) & (lv > 0))
    if len(c):
        g = _cagr(bv[c], by[c], lv[c], ly[c])
        value[c] = lv[c] * _py(pow, 1 + g, ty[c] - ly[c])
        r = (tv[c] > 0) & (g != 0) & ((tv[c] - lv[c]) * g > 0)
        k = c[r]
        with np.errstate(all="ignore"):
            reached[k] = ly[k] + _py(math.log, tv[k] / lv[k]) / _py(math.log1p, g[r])
    lin = np.flatnonzero(ok & ~compound)
    if len(lin):
        pace = (lv[lin] - bv[lin]) / (ly[lin] - by[lin])
        value[lin] = lv[lin] + pace * (ty[lin] - ly[lin])
        r = (pace != 0) & ((tv[lin] - lv[lin]) * pace > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            reached[lin[r]] = ly[lin[r]] + (tv[lin[r]] - lv[lin[r]]) / pace[r]
    distance = tv - bv
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where((distance != 0) & ~np.isnan(value), (value - bv) / distance, np.nan)
    return {"value": value, "share_of_distance": share, "year_reached": reached}
