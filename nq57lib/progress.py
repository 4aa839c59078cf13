"""Progress methods that statistical offices publish; pure functions, no I/O.

Years may be fractional (a figure for 31/3/2025 is year 2025.25); rates are per year.

References
----------
- Eurostat (2023), *Sustainable development in the European Union, Monitoring report*, annex
  "Assessment of progress": compound annual growth rates, for indicators with and without a quantitative
  target.
- Sachs, J. et al. / SDSN & IEEP (2019), *The 2019 Europe Sustainable Development Report*, methodology
  annex "Trends": linear pace of the normalised score toward the green threshold by 2030.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, asdict

#: Eurostat thresholds on the ratio actual / required growth: [0.95, inf) significant, [0.60, 0.95) moderate,
#: [0, 0.60) insufficient, (-inf, 0) moving away. A ratio exactly on a boundary takes the better class.
EUROSTAT_SIGNIFICANT, EUROSTAT_MODERATE = 0.95, 0.60
#: Ratios and rates are rounded to this many decimals before they are classified, so that floating-point
#: noise cannot move a value that sits exactly on a boundary into the worse class.
_DECIMALS = 9
#: Eurostat thresholds for indicators without a target, on the (direction-adjusted) annual growth rate.
EUROSTAT_NO_TARGET_BAND = 0.01
#: SDSN thresholds on the ratio actual / required pace of the normalised score.
SDSN_ON_TRACK, SDSN_MODERATE = 1.0, 0.5

STATUSES = {
    "achieved": ("Đã đạt", "Achieved"),
    "significant_progress": ("Tiến bộ rõ rệt", "Significant progress"),
    "moderate_progress": ("Tiến bộ vừa phải", "Moderate progress"),
    "insufficient_progress": ("Tiến bộ chưa đủ", "Insufficient progress"),
    "moving_away": ("Đi ngược mục tiêu", "Moving away"),
    "not_achieved": ("Quá hạn, chưa đạt", "Target year passed, not achieved"),
    "on_track": ("Đúng lộ trình", "On track"),
    "moderately_improving": ("Cải thiện vừa phải", "Moderately improving"),
    "stagnating": ("Đình trệ", "Stagnating"),
    "decreasing": ("Suy giảm", "Decreasing"),
    "moderate_movement_away": ("Đi ngược nhẹ", "Moderate movement away"),
    "significant_movement_away": ("Đi ngược rõ rệt", "Significant movement away"),
    "insufficient_data": ("Chưa đủ số liệu để tính xu hướng", "Not enough figures for a trend"),
    "not_assessable": ("Không đánh giá được", "Not assessable"),
    "met": ("Đã hoàn thành", "Met"),
    "not_yet": ("Chưa hoàn thành", "Not yet"),
    "no_data": ("Chưa có số liệu", "No figure yet"),
}


@dataclass(frozen=True)
class Assessment:
    """The result of one assessment.

    ``ratio`` is actual pace / required pace; ``actual_rate`` and ``required_rate`` are per year
    (compound growth for Eurostat, score points for SDSN); ``reason`` says why in plain words, always
    for ``insufficient_data`` and ``not_assessable``.
    """

    status: str
    ratio: float | None = None
    actual_rate: float | None = None
    required_rate: float | None = None
    method: str = ""
    reason: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def meets(value: float, comparator: str | None, target: float, target_high: float | None = None,
          direction: str = "up") -> bool:
    """Whether ``value`` satisfies a target written as ``comparator target``.

    "=" means the stated level is reached (at least it for ``up``, at most it for ``down``). "between"
    (a range such as "khoảng 9-10%") is met inside [target, target_high] and beyond it on the good side:
    above the range of an ``up`` indicator, below the range of a ``down`` one.

    >>> meets(80.0, ">", 80), meets(80.0, ">=", 80), meets(9.5, "between", 9, 10), meets(40, "<=", 50)
    (False, True, True, True)
    >>> meets(12, "between", 9, 10), meets(8, "between", 9, 10), meets(8, "between", 9, 10, "down")
    (True, False, True)
    """
    if comparator in (None, "", "="):
        comparator = "<=" if direction == "down" else ">="
    if comparator == ">=":
        return value >= target
    if comparator == ">":
        return value > target
    if comparator == "<=":
        return value <= target
    if comparator == "<":
        return value < target
    if comparator == "between":
        if direction == "down":
            return value <= (target if target_high is None else target_high)
        return value >= target
    raise ValueError(f"unknown comparator {comparator!r}")


def cagr(v0: float, t0: float, v1: float, t1: float) -> float:
    """Compound annual growth rate (v1 / v0) ** (1 / (t1 - t0)) - 1."""
    return (v1 / v0) ** (1.0 / (t1 - t0)) - 1.0


def eurostat(base_year: float, base_value: float, latest_year: float, latest_value: float,
             target_value: float, target_year: float, direction: str = "up",
             comparator: str | None = None) -> Assessment:
    """Eurostat's assessment of progress toward a quantitative target.

    ratio = CAGR_actual / CAGR_required, with CAGR_actual = (x_latest / x_base)^(1/(t_latest - t_base)) - 1
    and CAGR_required = (x_target / x_base)^(1/(t_target - t_base)) - 1 (Eurostat SDG monitoring report,
    "Assessment of progress towards quantitative targets"). Status: ``achieved`` when the latest value
    already meets the target (checked first); ``not_achieved`` when the target year has passed;
    ``significant_progress`` ratio >= 0.95; ``moderate_progress`` 0.60 <= ratio < 0.95;
    ``insufficient_progress`` 0 <= ratio < 0.60; ``moving_away`` ratio < 0. A ratio exactly on a boundary
    takes the better class. ``direction="down"`` is for lower-is-better indicators: both rates are then
    negative and the ratio keeps its meaning. ``not_assessable`` (with the reason) when a value is not
    positive or the years give no rate.

    >>> a = eurostat(2020, 10, 2024, 12, 20, 2030)
    >>> a.status, round(a.ratio, 2)
    ('moderate_progress', 0.65)
    """
    method = "eurostat"
    if meets(latest_value, comparator, target_value, direction=direction):
        return Assessment("achieved", method=method, reason="the latest value already meets the target")
    if latest_year >= target_year:
        return Assessment("not_achieved", method=method,
                          reason=f"the target year {int(target_year)} has passed without the target being met")
    if min(base_value, latest_value, target_value) <= 0:
        return Assessment("not_assessable", method=method,
                          reason="compound growth needs positive values (a value is zero or negative)")
    if latest_year <= base_year:
        return Assessment("not_assessable", method=method,
                          reason="the base and latest values are for the same time: no rate can be computed")
    actual = cagr(base_value, base_year, latest_value, latest_year)
    required = cagr(base_value, base_year, target_value, target_year)
    if required == 0 or (required > 0) != (direction != "down"):
        return Assessment("moving_away" if (actual > 0) == (direction == "down") and actual != 0 else "not_assessable",
                          actual_rate=actual, required_rate=required, method=method,
                          reason="the base value already met the target, so no growth is required")
    ratio = round(float(actual) / float(required), _DECIMALS)  # Python's round: numpy's rounds differently
    if ratio >= EUROSTAT_SIGNIFICANT:
        status = "significant_progress"
    elif ratio >= EUROSTAT_MODERATE:
        status = "moderate_progress"
    elif ratio >= 0:
        status = "insufficient_progress"
    else:
        status = "moving_away"
    return Assessment(status, ratio, actual, required, method,
                      f"actual {actual:+.2%}/yr against {required:+.2%}/yr required")


def eurostat_no_target(base_year: float, base_value: float, latest_year: float, latest_value: float,
                       direction: str = "up") -> Assessment:
    """Eurostat's four categories for an indicator without a quantitative target.

    g = CAGR from base to latest, sign-flipped when lower is better. ``significant_progress`` g > 1%/yr;
    ``moderate_progress`` 0 < g <= 1%; ``moderate_movement_away`` -1% <= g <= 0; ``significant_movement_away``
    g < -1%.

    >>> eurostat_no_target(2020, 100, 2024, 110).status
    'significant_progress'
    """
    method = "eurostat_no_target"
    if min(base_value, latest_value) <= 0:
        return Assessment("not_assessable", method=method, reason="compound growth needs positive values")
    if latest_year <= base_year:
        return Assessment("not_assessable", method=method, reason="base and latest are for the same time")
    g = cagr(base_value, base_year, latest_value, latest_year)
    g_adj = round(float(-g if direction == "down" else g), _DECIMALS)
    if g_adj > EUROSTAT_NO_TARGET_BAND:
        status = "significant_progress"
    elif g_adj > 0:
        status = "moderate_progress"
    elif g_adj >= -EUROSTAT_NO_TARGET_BAND:
        status = "moderate_movement_away"
    else:
        status = "significant_movement_away"
    return Assessment(status, None, g, None, method, f"growth {g:+.2%}/yr")


def sdsn_score(x: float, optimum: float, lower_bound: float) -> float:
    """SDSN's normalised score 100 (x - lower bound) / (optimum - lower bound), not clipped."""
    return 100.0 * (x - lower_bound) / (optimum - lower_bound)


def sdsn(base_year: float, base_value: float, latest_year: float, latest_value: float, optimum: float,
         lower_bound: float, threshold: float, target_year: float = 2030) -> Assessment:
    """The SDSN SDG Index trend method (2019 Europe SDR, methodology annex "Trends").

    On the unclipped score s(x) = 100 (x - lb) / (optimum - lb): actual pace = (s_latest - s_base) /
    (t_latest - t_base); required pace = (s_threshold - s_base) / (target_year - t_base); ratio =
    actual / required. ``achieved`` when the latest value is at or beyond the green threshold;
    ``decreasing`` when the score falls; ``on_track`` ratio >= 1; ``moderately_improving``
    0.5 <= ratio < 1; ``stagnating`` below. The direction comes from optimum vs lower bound.

    >>> sdsn(2015, 13.9, 2018, 14.3, optimum=0, lower_bound=25.6, threshold=15).status
    'achieved'
    """
    method = "sdsn"
    if optimum == lower_bound:
        return Assessment("not_assessable", method=method, reason="optimum equals the lower bound")
    s_base, s_latest = sdsn_score(base_value, optimum, lower_bound), sdsn_score(latest_value, optimum, lower_bound)
    s_goal = sdsn_score(threshold, optimum, lower_bound)
    if s_latest >= s_goal:
        return Assessment("achieved", method=method, reason="at or beyond the green threshold")
    if latest_year <= base_year:
        return Assessment("not_assessable", method=method, reason="base and latest are for the same year")
    actual = (s_latest - s_base) / (latest_year - base_year)
    if actual < 0:
        return Assessment("decreasing", None, actual, None, method, "the score is falling")
    if target_year <= base_year:
        return Assessment("not_assessable", actual_rate=actual, method=method,
                          reason="the target year is not after the base year")
    required = (s_goal - s_base) / (target_year - base_year)
    ratio = round(float(actual) / float(required), _DECIMALS)  # Python's round: numpy's rounds differently
    status = "on_track" if ratio >= SDSN_ON_TRACK else "moderately_improving" if ratio >= SDSN_MODERATE else "stagnating"
    return Assessment(status, ratio, actual, required, method, f"{ratio:.0%} of the required pace")


# ------------------------------------------------------------------ paces and projections

def linear_pace(t0: float, v0: float, t1: float, v1: float) -> float:
    """Change per year on a straight line (percentage points a year for shares)."""
    if t1 == t0:
        raise ValueError("the two times are equal: no pace")
    return (v1 - v0) / (t1 - t0)


def required_pace(latest_year: float, latest_value: float, target_year: float, target_value: float,
                  kind: str = "linear") -> float | None:
    """The pace needed from the latest value to reach the target at the target year.

    ``kind="linear"`` gives units (points) a year: "cần tăng 3,2 điểm %/năm"; ``"compound"`` a growth rate.
    None when the target year is not after the latest value.

    >>> round(required_pace(2025.0, 13.17, 2030.0, 30.0), 3)
    3.366
    """
    if target_year <= latest_year:
        return None
    if kind == "compound":
        if latest_value <= 0 or target_value <= 0:
            return None
        return cagr(latest_value, latest_year, target_value, target_year)
    return linear_pace(latest_year, latest_value, target_year, target_value)


@dataclass(frozen=True)
class Projection:
    """Where the current pace leads: the value at the target year, the share of the required
    distance (base to target) it covers, and the year the target is reached (None: never at this pace)."""

    value: float | None
    share_of_distance: float | None
    year_reached: float | None
    kind: str


def project(base_year: float, base_value: float, latest_year: float, latest_value: float,
            target_year: float, target_value: float, kind: str = "linear") -> Projection:
    """Project the current pace (``linear`` for shares, ``compound`` otherwise) to the target year.

    >>> p = project(2020, 12.66, 2024, 13.17, 2030, 30)
    >>> round(p.value, 2), p.year_reached is not None
    (13.93, True)
    """
    if latest_year <= base_year:
        return Projection(None, None, None, kind)
    if kind == "compound":
        if base_value <= 0 or latest_value <= 0:
            return Projection(None, None, None, kind)
        g = cagr(base_value, base_year, latest_value, latest_year)
        value = latest_value * (1 + g) ** (target_year - latest_year)
        reached = None
        if target_value > 0 and g != 0 and (target_value - latest_value) * g > 0:
            reached = latest_year + math.log(target_value / latest_value) / math.log1p(g)
    else:
        pace = linear_pace(base_year, base_value, latest_year, latest_value)
        value = latest_value + pace * (target_year - latest_year)
        reached = None
        if pace != 0 and (target_value - latest_value) * pace > 0:
            reached = latest_year + (target_value - latest_value) / pace
    distance = target_value - base_value
    share = (value - base_value) / distance if distance else None
    return Projection(value, share, reached, kind)


def milestone(values) -> str:
    """``met`` if any observation is 1, ``not_yet`` if observations exist but none is 1, else ``no_data``."""
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return "no_data"
    return "met" if any(v == 1 for v in values) else "not_yet"


def status_label(status: str, lang: str = "vi") -> str:
    """The status as users read it, in Vietnamese (default) or English."""
    vi, en = STATUSES.get(status, (status, status))
    return en if lang == "en" else vi
