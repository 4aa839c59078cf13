"""assess (over arrays) gives exactly the table of assess_rows (row by row with the scalar progress functions).

Random targets and observations are drawn on the shipped reference tables: zero and negative figures, several
figures on one date, target years already passed, ranges, lower-is-better indicators, milestones, series
without figures and units that merged (inherited targets).
"""
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nq57lib
from nq57lib import tables
from nq57lib.dataset import Dataset, as_fact_dtypes

INDICATORS = ["digital_economy_share", "dti_rank_63", "st_dx_spending", "dti_score", "res57_conference_points",
              "community_tourism_3d", "researchers_per_10k", "pii_score", "it_staff_allowance_cost"]
UNITS = ["Lai Châu", "Lào Cai", "Lào Cai (cũ)", "Yên Bái", "Việt Nam", "Hà Giang"]
VALUES = [0.0, -3.0, 1.0, 5.0, 9.0, 10.0, 12.5, 30.0, 63.0, 100.0, 0.62, 1500.0]
DATES = ["2019-12-31", "2021-06-30", "2023-12-31", "2024-12-31", "2025-03-31", "2025-03-31", "2026-09-30"]


def make_dataset(ref, pick) -> Dataset:
    """Random targets and figures on the shipped reference tables; ``pick(options)`` chooses one option."""
    names = ref.provinces.set_index("name")["slug"]
    targets, obs = [], []
    for _ in range(pick(range(1, 26))):
        unit, indicator = pick(UNITS), pick(INDICATORS)
        milestone = indicator == "community_tourism_3d"
        year = pick([2020, 2025, 2030, 2045])
        comparator = None if milestone else pick(["=", ">=", ">", "<=", "<", "between"])
        value = np.nan if milestone else pick(VALUES)
        high = value + pick([0.5, 2.0]) if comparator == "between" else np.nan
        source = pick(["laocai_kh154", "laichau_2025_05", "laocai_2025_11", "tracuuquyhoach_gso_de2024"])
        targets.append((unit, names[unit], indicator, year, comparator, value, high, source, "", "", ""))
        for _ in range(pick(range(4))):
            date = pick(DATES)
            v = float(pick([0, 1])) if milestone else pick(VALUES)
            obs.append((unit, names[unit], indicator, date, date[:4], v, source, "", "", ""))
    t = pd.DataFrame(targets, columns=["province", "province_slug", "indicator", "year", "comparator", "value",
                                       "value_high", "source_id", "quote", "note", "note_en"])
    t = t.drop_duplicates(["province_slug", "indicator", "year", "source_id"])
    t["comparator"] = t["comparator"].astype(object)
    o = pd.DataFrame(obs, columns=["province", "province_slug", "indicator", "period_end", "period", "value",
                                   "source_id", "quote", "note", "note_en"])
    o["period_end"] = pd.to_datetime(o["period_end"]).astype("datetime64[us]")
    if pick([True, False]):
        o = o.sort_values(["province", "indicator", "period_end"], kind="stable")
    return Dataset(provinces=ref.provinces, indicators=ref.indicators, targets=as_fact_dtypes(t.reset_index(drop=True)),
                   observations=as_fact_dtypes(o.reset_index(drop=True)), sources=ref.sources, pillars=ref.pillars)


@st.composite
def datasets(draw, ref):
    return make_dataset(ref, lambda options: draw(st.sampled_from(list(options))))


@pytest.fixture(scope="module")
def ref():
    return nq57lib.load()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.data())
def test_assess_equals_the_row_by_row_reference(ref, data):
    ds = data.draw(datasets(ref))
    for method in ("eurostat", "sdsn"):
        pd.testing.assert_frame_equal(tables.assess(ds, method=method), tables.assess_rows(ds, method=method),
                                      check_exact=True)
    year = data.draw(st.sampled_from(sorted(set(ds.targets.year))))
    pd.testing.assert_frame_equal(tables.assess(ds, target_year=year), tables.assess_rows(ds, target_year=year),
                                  check_exact=True)


@pytest.mark.parametrize("method", ["eurostat", "sdsn"])
def test_on_the_shipped_data(ds, method):
    pd.testing.assert_frame_equal(nq57lib.assess(ds, method=method), tables.assess_rows(ds, method=method),
                                  check_exact=True)
    for province in sorted(set(ds.targets.province)):
        for year in (None, 2030):
            pd.testing.assert_frame_equal(nq57lib.assess(ds, province, year, method),
                                          tables.assess_rows(ds, province, year, method), check_exact=True)


def test_the_drawn_data_reach_every_status(ref):
    """The random datasets are not all of one kind: every status occurs."""
    rng = np.random.default_rng(57)
    pick = lambda options: list(options)[rng.integers(len(options))]
    seen = set()
    for _ in range(40):
        ds = make_dataset(ref, pick)
        for method in ("eurostat", "sdsn"):
            seen |= set(tables.assess(ds, method=method).status)
    assert seen >= {"achieved", "not_achieved", "insufficient_data", "no_data", "met", "not_yet", "not_assessable",
                    "moving_away", "significant_progress", "insufficient_progress", "decreasing", "stagnating"}
