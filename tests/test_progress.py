"""The progress methods, from their definitions; boundaries included."""
import math

import pytest

from nq57lib import progress as p


def _at_ratio(ratio, direction="up"):
    """An input whose actual/required CAGR ratio is exactly `ratio` (base 2020, latest 2024, target 2030)."""
    base, target = (100.0, 200.0) if direction == "up" else (200.0, 100.0)
    required = (target / base) ** (1 / 10) - 1
    latest = base * (1 + ratio * required) ** 4
    return dict(base_year=2020, base_value=base, latest_year=2024, latest_value=latest,
                target_value=target, target_year=2030, direction=direction)


@pytest.mark.parametrize("ratio, status", [
    (1.2, "significant_progress"), (0.95, "significant_progress"), (0.9499, "moderate_progress"),
    (0.60, "moderate_progress"), (0.5999, "insufficient_progress"), (0.0, "insufficient_progress"),
    (-0.01, "moving_away"),
])
@pytest.mark.parametrize("direction", ["up", "down"])
def test_eurostat_classes_and_boundaries(ratio, status, direction):
    a = p.eurostat(**_at_ratio(ratio, direction))
    assert a.status == status
    assert a.ratio == pytest.approx(ratio, abs=1e-9)


def test_eurostat_achieved_is_checked_first():
    a = p.eurostat(2020, 50, 2024, 31, 30, 2030, direction="down")
    assert a.status != "achieved"
    assert p.eurostat(2020, 50, 2024, 29, 30, 2030, direction="down").status == "achieved"
    assert p.eurostat(2020, 10, 2024, 40, 30, 2030).status == "achieved"
    assert p.eurostat(2020, 10, 2024, 30, 30, 2030, comparator=">").status != "achieved"


def test_eurostat_zero_or_negative_values_are_not_assessable():
    for args in ((2020, 0, 2024, 5, 10, 2030), (2020, -1, 2024, 5, 10, 2030)):
        a = p.eurostat(*args)
        assert a.status == "not_assessable" and "positive" in a.reason


def test_eurostat_base_year_equal_to_latest_year():
    a = p.eurostat(2024, 10, 2024, 12, 20, 2030)
    assert a.status == "not_assessable" and "same time" in a.reason


def test_eurostat_target_year_already_past():
    a = p.eurostat(2020, 10, 2026, 12, 20, 2025)
    assert a.status == "not_achieved" and "2025" in a.reason


def test_eurostat_base_year_equal_to_target_year():
    a = p.eurostat(2030, 10, 2030, 12, 20, 2030)
    assert a.status == "not_achieved"


@pytest.mark.parametrize("growth, status", [
    (0.02, "significant_progress"), (0.0101, "significant_progress"), (0.01, "moderate_progress"),
    (0.001, "moderate_progress"), (0.0, "moderate_movement_away"), (-0.01, "moderate_movement_away"),
    (-0.0101, "significant_movement_away"),
])
def test_eurostat_no_target(growth, status):
    latest = 100 * (1 + growth) ** 5
    assert p.eurostat_no_target(2020, 100, 2025, latest).status == status


def test_eurostat_no_target_lower_is_better_flips_the_sign():
    assert p.eurostat_no_target(2020, 100, 2025, 90, direction="down").status == "significant_progress"
    assert p.eurostat_no_target(2020, 100, 2025, 90).status == "significant_movement_away"


@pytest.mark.parametrize("latest, status", [
    (80, "achieved"), (90, "achieved"), (64, "on_track"), (56, "moderately_improving"),
    (51, "stagnating"), (49, "decreasing"),
])
def test_sdsn_classes(latest, status):
    # score = value (optimum 100, lower bound 0); threshold 80; base 50 in 2015 -> required 2 points/yr to 2030
    a = p.sdsn(2015, 50, 2020, latest, optimum=100, lower_bound=0, threshold=80)
    assert a.status == status


def test_sdsn_lower_is_better_and_unclipped_score():
    # optimum 0 below the lower bound 25: falling values are improving; a value beyond the bound scores < 0
    assert p.sdsn(2015, 30, 2018, 29, optimum=0, lower_bound=25, threshold=10).status in {"stagnating", "moderately_improving", "on_track"}
    assert p.sdsn(2015, 30, 2018, 31, optimum=0, lower_bound=25, threshold=10).status == "decreasing"
    assert p.sdsn_score(30, 0, 25) == pytest.approx(-20)


def test_sdsn_ratio_exactly_one_is_on_track():
    a = p.sdsn(2015, 50, 2020, 60, optimum=100, lower_bound=0, threshold=80)
    assert a.ratio == pytest.approx(1.0) and a.status == "on_track"


def test_projection_linear_and_compound():
    lin = p.project(2020, 10, 2024, 14, 2030, 20)
    assert lin.value == pytest.approx(20) and lin.year_reached == pytest.approx(2030) and lin.share_of_distance == pytest.approx(1)
    comp = p.project(2020, 100, 2024, 100 * 1.1 ** 4, 2030, 100 * 1.1 ** 10, kind="compound")
    assert comp.value == pytest.approx(100 * 1.1 ** 10) and comp.year_reached == pytest.approx(2030)
    away = p.project(2020, 10, 2024, 8, 2030, 20)
    assert away.year_reached is None and away.share_of_distance < 0


def test_required_pace_in_points_per_year():
    assert p.required_pace(2025, 1.5, 2030, 3) == pytest.approx(0.3)
    assert p.required_pace(2030, 1.5, 2030, 3) is None
    assert p.required_pace(2025, 50, 2030, 100, kind="compound") == pytest.approx(2 ** 0.2 - 1)


def test_milestone():
    assert p.milestone([]) == "no_data"
    assert p.milestone([0, float("nan")]) == "not_yet"
    assert p.milestone([0, 1]) == "met"


def test_meets_comparators():
    assert p.meets(9, "between", 9, 10) and not p.meets(8.5, "between", 9, 10)
    # above the range of a higher-is-better indicator is achieved; below it, for a lower-is-better one
    assert p.meets(10.5, "between", 9, 10) and p.meets(8.5, "between", 9, 10, direction="down")
    assert not p.meets(10.5, "between", 9, 10, direction="down")
    assert p.meets(3, "=", 3) and p.meets(40, "=", 50, direction="down")
    with pytest.raises(ValueError):
        p.meets(1, "~", 1)


def test_the_ratio_does_not_depend_on_numpy_or_python_floats():
    # numpy's round(x, 9) rounds a large ratio differently from Python's: figures read by pandas are numpy floats
    import numpy as np
    args = (2026.7479452054795, 12.29, 2026.830136986301, 57.35, 62.26, 2045.9972602739726)
    py = p.eurostat(*args)
    np_ = p.eurostat(*(np.float64(a) for a in args))
    assert py.ratio == np_.ratio and py.ratio == round(py.actual_rate / py.required_rate, 9)
    s_py = p.sdsn(2015, 1, 2015.01, 90, 100, 0, 95, 2030)
    s_np = p.sdsn(*(np.float64(a) for a in (2015, 1, 2015.01, 90, 100, 0, 95, 2030)))
    assert s_py.ratio == s_np.ratio
