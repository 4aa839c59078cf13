"""The vectorised progress methods equal the scalar ones (the reference), row for row, bit for bit."""
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nq57lib import progress as p
from nq57lib import progress_arrays as pa

YEARS = st.one_of(st.integers(2015, 2050).map(float), st.floats(2015, 2050, allow_nan=False))
VALUES = st.one_of(st.sampled_from([0.0, -1.0, 1.0, 10.0, 100.0, 0.5]), st.floats(-50, 1e4, allow_nan=False),
                   st.integers(-5, 200).map(float))
COMPARATORS = st.sampled_from([None, "=", ">=", ">", "<=", "<", "between"])
DIRECTIONS = st.sampled_from(["up", "down"])


@st.composite
def series(draw):
    """A base and a latest figure (same dates, passed target years, ratios on class boundaries included)."""
    by = draw(YEARS)
    ly = draw(st.one_of(st.just(by), YEARS.map(lambda y: max(y, by)), st.floats(0, 10).map(lambda d: by + d)))
    ty = draw(st.one_of(YEARS, st.just(ly), st.floats(0, 20).map(lambda d: by + d)))
    bv, tv = draw(VALUES), draw(VALUES)
    direction = draw(DIRECTIONS)
    lv = draw(VALUES)
    if draw(st.booleans()) and bv > 0 and tv > 0 and ty >= by + 1 and ly >= by + 0.5 and tv != bv:
        # a latest value whose ratio to the required growth is exactly on (or next to) a class boundary
        ratio = draw(st.sampled_from([1.2, 0.95, 0.9499, 0.6, 0.5999, 0.0, -0.01, 1.0, 0.5, 0.4999]))
        try:
            base = 1 + ratio * ((tv / bv) ** (1 / (ty - by)) - 1)
            lv = bv * base ** (ly - by) if base > 0 else lv
        except OverflowError:
            pass
    return dict(base_year=by, base_value=bv, latest_year=ly, latest_value=lv, target_value=tv, target_year=ty,
                direction=direction, comparator=draw(COMPARATORS))


def _same(a, b):
    """Equal floats, NaN for None, bit for bit."""
    b = math.nan if b is None else b
    return (math.isnan(a) and math.isnan(b)) or a == b


def _columns(rows, keys):
    return {k: np.array([r[k] for r in rows], object if k in ("direction", "comparator") else float) for k in keys}


SETTINGS = dict(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(**SETTINGS)
@given(st.lists(series(), min_size=1, max_size=20))
def test_eurostat(rows):
    got = pa.eurostat(**_columns(rows, rows[0]))
    for k, r in enumerate(rows):
        try:
            want = p.eurostat(**r)
        except OverflowError:       # the scalar function overflows on absurd growth: not compared
            continue
        assert got["status"][k] == want.status and got["reason"][k] == want.reason, (r, want)
        for name in ("ratio", "actual_rate", "required_rate"):
            assert _same(got[name][k], getattr(want, name)), (name, r, want)


@settings(**SETTINGS)
@given(st.lists(st.tuples(series(), VALUES, VALUES, st.booleans()), min_size=1, max_size=20))
def test_sdsn(draws):
    rows = []
    for s, a, b, same_bounds in draws:
        optimum, lower = (a, a) if same_bounds and len(rows) % 3 == 0 else (a, b)
        rows.append(dict(base_year=s["base_year"], base_value=s["base_value"], latest_year=s["latest_year"],
                         latest_value=s["latest_value"], optimum=optimum, lower_bound=lower,
                         threshold=s["target_value"], target_year=s["target_year"]))
    got = pa.sdsn(**_columns(rows, rows[0]))
    for k, r in enumerate(rows):
        try:
            want = p.sdsn(**r)
        except ZeroDivisionError:
            continue
        assert got["status"][k] == want.status and got["reason"][k] == want.reason, (r, want)
        for name in ("ratio", "actual_rate", "required_rate"):
            assert _same(got[name][k], getattr(want, name)), (name, r, want)


@settings(**SETTINGS)
@given(st.lists(st.tuples(series(), st.booleans()), min_size=1, max_size=20))
def test_project(draws):
    rows = [dict(base_year=s["base_year"], base_value=s["base_value"], latest_year=s["latest_year"],
                 latest_value=s["latest_value"], target_year=s["target_year"], target_value=s["target_value"],
                 compound=c) for s, c in draws]
    cols = _columns(rows, rows[0])
    got = pa.project(**cols)
    for k, r in enumerate(rows):
        args = dict(r, kind="compound" if r.pop("compound") else "linear")
        try:
            want = p.project(**args)
        except (OverflowError, ZeroDivisionError, ValueError):
            continue
        for name in ("value", "share_of_distance", "year_reached"):
            assert _same(got[name][k], getattr(want, name)), (name, args, want)


@settings(**SETTINGS)
@given(st.lists(st.tuples(VALUES, COMPARATORS, VALUES, st.one_of(st.none(), VALUES), DIRECTIONS),
                min_size=1, max_size=30))
def test_meets(rows):
    v, c, t, h, d = (np.array(x, object) for x in zip(*rows))
    with_high = pa.meets(v.astype(float), c, t.astype(float), np.array([math.nan if x is None else x for x in h]), d)
    without = pa.meets(v.astype(float), c, t.astype(float), None, d)
    for k, (value, comparator, target, high, direction) in enumerate(rows):
        assert with_high[k] == p.meets(value, comparator, target, math.nan if high is None else high, direction)
        assert without[k] == p.meets(value, comparator, target, None, direction)


def test_every_status_is_reached():
    """The drawn series are not all of one kind: each status of both methods occurs in a fixed sample."""
    rng = np.random.default_rng(5)
    n = 4000
    by = rng.integers(2015, 2030, n).astype(float)
    ly = by + rng.choice([0, 1, 3, 9, 20], n)
    ty = by + rng.choice([-1, 0, 5, 15], n)
    bv, lv, tv = (rng.choice([-1, 0, 5, 10, 12, 20, 30], n).astype(float) for _ in range(3))
    d = rng.choice(["up", "down"], n).astype(object)
    e = pa.eurostat(by, bv, ly, lv, tv, ty, d, rng.choice([None, ">=", "between"], n).astype(object))
    s = pa.sdsn(by, bv, ly, lv, np.where(d == "down", 0.0, 40.0), np.where(d == "down", 40.0, 0.0), tv, ty)
    assert set(e["status"]) >= {"achieved", "not_achieved", "not_assessable", "significant_progress",
                                "moderate_progress", "insufficient_progress", "moving_away"}
    assert set(s["status"]) >= {"achieved", "not_assessable", "decreasing", "on_track", "moderately_improving",
                                "stagnating"}


def test_a_ratio_exactly_on_a_boundary_takes_the_better_class_as_the_scalar_does():
    for ratio, status in [(0.95, "significant_progress"), (0.60, "moderate_progress"), (0.0, "insufficient_progress")]:
        base, target = 100.0, 200.0
        required = (target / base) ** (1 / 10) - 1
        latest = base * (1 + ratio * required) ** 4
        got = pa.eurostat([2020.0], [base], [2024.0], [latest], [target], [2030.0], ["up"], [None])
        assert got["status"][0] == p.eurostat(2020, base, 2024, latest, target, 2030).status == status
