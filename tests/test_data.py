"""The shipped data: every figure carries its own evidence, and the province table is complete."""
import math
import re
import unicodedata
from pathlib import Path

import pandas as pd

import nq57lib
import pytest

from nq57lib.numbers import stated_quantities
from nq57lib.dataset import UNIT_SCALE

ROOT = Path(__file__).resolve().parents[1]


def _evidence_rows(ds):
    units = ds.indicators.set_index("id")["unit"]
    for kind, frame in (("target", ds.targets), ("observation", ds.observations)):
        for row in frame.itertuples():
            if row.quote and units[row.indicator] != "milestone" and not pd.isna(row.value):
                yield kind, row, units[row.indicator]


def test_every_quote_states_its_value(ds):
    """Each figure is checked against its own quote, read in its page's language (an English page writes
    4,977 and 0.6419), ranks also in words ("dẫn đầu", "second"); unit scaling allowed."""
    failures = []
    checked = 0
    lang = ds.sources.set_index("id")["language"]
    for kind, row, unit in _evidence_rows(ds):
        in_quote = {v for v, _ in stated_quantities(row.quote, lang[row.source_id], ranks=unit == "rank")}
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
    t = ds.targets.query("indicator == 'online_dossier_receipt_share' and year == 2025 "
                         "and province == 'Lào Cai (cũ)'").iloc[0]
    o = ds.observations.query("indicator == 'online_dossier_receipt_share' and province == 'Lào Cai (cũ)'").iloc[0]
    assert (o.value, t.value) == (51.69, 85.0)


def test_weaker_external_rows_are_never_targets(ds):
    weak = ds.sources[ds.sources.note.str.contains("2nd", na=False)].id
    assert not ds.targets.source_id.isin(weak).any()


def test_numeric_columns_are_numeric(ds):
    assert pd.api.types.is_float_dtype(ds.targets.value)
    assert pd.api.types.is_integer_dtype(ds.targets.year)
    assert pd.api.types.is_datetime64_any_dtype(ds.observations.period_end)
    # plans from 2021-2022 also set targets for 2022-2024; Resolution 57 looks to 2030 and 2045
    assert ds.targets.year.between(2021, 2045).all()


def test_data_dictionary_documents_every_file_and_column():
    from nq57lib.dataset import COLUMNS
    readme = (ROOT / "data" / "README.md").read_text()
    for name, (required, optional) in COLUMNS.items():
        assert f"## {name}" in readme, name
        section = readme.split(f"## {name}")[1].split("\n## ")[0]
        for col in required + optional:
            assert f"`{col}`" in section, f"{name}: {col}"


def test_every_web_page_row_has_a_url_a_quote_or_note_and_a_date_or_a_reason(ds):
    """Issue 9: a figure from a web page carries the page's address, the exact words (or a note saying
    where the figure comes from), and the page's date or a note saying why there is none."""
    src = ds.sources.set_index("id")
    web = src[src.url.fillna("") != ""]
    assert len(web) > 150
    for frame in (ds.targets, ds.observations):
        rows = frame[frame.source_id.isin(web.index)]
        assert (rows.quote.str.len().gt(0) | rows.note.str.len().gt(0)).all(), rows[rows.quote.eq("") & rows.note.eq("")]
    undated = web[web.published.isna()]
    reason = undated.note.str.contains(r"ngày|date", case=False, regex=True)
    assert reason.all(), list(undated[~reason].index)
    assert web.url.map(str.isascii).all(), "URLs are ASCII (percent-encode a Vietnamese path)"
    assert web.instrument.isin(nq57lib.dataset.INSTRUMENTS).all()


def test_machine_translated_pages_are_marked(ds):
    """vietnam.vn/<language>/ pages are machine translations of Vietnamese articles: each one used is
    marked, and the loader exposes the mark."""
    src = ds.sources
    auto = src[src.url.fillna("").str.contains(r"vietnam\.vn/(?:en|fr|es|de|ja|zh)/", regex=True)]
    assert len(auto) >= 3
    assert auto.machine_translated.all(), list(auto[~auto.machine_translated].id)
    assert (auto.language != "vi").all()
    assert not src[src.language == "vi"].machine_translated.any()


def test_no_copy_sites_and_no_pages_addressed_to_tools(ds):
    """Never a gambling or spam mirror, nor the mirror of a news aggregator, nor a legal-text site whose
    pages address AI tools."""
    bad = ("baomoi.net.vn", "hethongphapluat", "tour-time", "7msport", "cafebet", "shopstoreadventure", "game.")
    urls = ds.sources.url.fillna("")
    for b in bad:
        assert not urls.str.contains(b, regex=False).any(), b


def test_coverage_of_the_34_units(ds):
    """Issue 9's aim: a quantitative target for 25 or more of the 34 units (a pre-merger province's target
    counts for the unit it became part of)."""
    p = ds.provinces
    current = p[(p.level == "province") & p.valid_to.isna()]
    successor = dict(zip(p.slug, p.successor.fillna("")))
    t = ds.targets[ds.targets.value.notna()]
    units = {successor.get(s) or s for s in t.province_slug}
    assert len(set(current.slug) & units) >= 25
