"""The shipped data: every figure carries its own evidence, and the province table is complete."""
import math
import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from nq57lib import find_numbers
from nq57lib.dataset import UNIT_SCALE

ROOT = Path(__file__).resolve().parents[1]


def _evidence_rows(ds):
    units = ds.indicators.set_index("id")["unit"]
    for kind, frame in (("target", ds.targets), ("observation", ds.observations)):
        for row in frame.itertuples():
            if row.quote and units[row.indicator] != "milestone" and not pd.isna(row.value):
                yield kind, row, units[row.indicator]


def test_every_quote_states_its_value(ds):
    """Each figure is checked against its own quote, parsed the Vietnamese way (unit scaling allowed)."""
    failures = []
    checked = 0
    for kind, row, unit in _evidence_rows(ds):
        in_quote = set()
        for p in find_numbers(row.quote):
            for v in (p.value, p.value_high, p.second):
                if v is not None:
                    in_quote.add(round(v * p.scale, 6))
        wanted = [row.value] + ([row.value_high] if kind == "target" and not pd.isna(row.value_high) else [])
        for v in wanted:
            checked += 1
            if round(v * UNIT_SCALE.get(unit, 1), 6) not in in_quote:
                failures.append(f"{kind} {row.province}/{row.indicator}: {v} not in {row.quote!r}")
    assert not failures, "\n".join(failures)
    assert checked > 80


def test_every_figure_has_a_source_and_quote_or_url(ds):
    urls = ds.sources.set_index("id")["url"]
    for frame in (ds.targets, ds.observations):
        for row in frame.itertuples():
            assert row.source_id in urls.index
            assert row.quote or (urls[row.source_id] and row.note), row


def test_text_is_nfc(ds):
    for frame in (ds.provinces, ds.indicators, ds.targets, ds.observations, ds.sources):
        for col in frame.select_dtypes(exclude=["number", "datetime"]).columns:
            for v in frame[col].dropna().astype(str):
                assert unicodedata.is_normalized("NFC", v)


def test_34_units_in_force_plus_national_and_pre_merger_units(ds):
    p = ds.provinces
    in_force = p[(p.level == "province") & p.valid_to.isna()]
    assert len(in_force) == 34
    assert in_force.code.is_unique and in_force.name.is_unique
    assert (p.level == "national").sum() == 1
    old = p.set_index("slug")
    assert old.loc["lao-cai-cu", "successor"] == "lao-cai" == old.loc["yen-bai", "successor"]
    assert old.loc["lao-cai-cu", "valid_to"] == pd.Timestamp("2025-06-30")
    assert old.loc["lao-cai", "valid_from"] == pd.Timestamp("2025-07-01")
    assert p.name.is_unique and p.slug.is_unique


def test_q1_2025_belongs_to_old_lao_cai_and_november_to_the_merged_one(ds):
    o = ds.observations
    q1 = o[o.source_id == "laocai_q1_2025"]
    nov = o[o.source_id == "laocai_2025_11"]
    assert set(q1.province) == {"Lào Cai (cũ)"}
    assert set(nov.province) == {"Lào Cai"}
    assert (q1.period_end <= pd.Timestamp("2025-06-30")).all()
    assert (nov.period_end >= pd.Timestamp("2025-07-01")).all()


def test_reported_against_target_gives_observation_and_2025_target(ds):
    t = ds.targets.query("indicator == 'online_dossier_receipt_share' and year == 2025").iloc[0]
    o = ds.observations.query("indicator == 'online_dossier_receipt_share'").iloc[0]
    assert (o.value, t.value) == (51.69, 85.0)


def test_weaker_external_rows_are_never_targets(ds):
    weak = ds.sources[ds.sources.note.str.contains("2nd", na=False)].id
    assert not ds.targets.source_id.isin(weak).any()


def test_numeric_columns_are_numeric(ds):
    assert pd.api.types.is_float_dtype(ds.targets.value)
    assert pd.api.types.is_integer_dtype(ds.targets.year)
    assert pd.api.types.is_datetime64_any_dtype(ds.observations.period_end)
    assert ds.targets.year.between(2025, 2045).all()


def test_data_dictionary_documents_every_file_and_column():
    from nq57lib.dataset import COLUMNS
    readme = (ROOT / "data" / "README.md").read_text()
    for name, (required, optional) in COLUMNS.items():
        assert f"## {name}" in readme, name
        section = readme.split(f"## {name}")[1].split("\n## ")[0]
        for col in required + optional:
            assert f"`{col}`" in section, f"{name}: {col}"
