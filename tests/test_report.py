"""Report building blocks: English pages in English, one status vocabulary, links, parameters."""
import re
import unicodedata

import pandas as pd
import pytest

import nq57lib
from nq57lib import ParameterError, report
from nq57lib.labels import period_text

VIETNAMESE_LETTERS = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯ]|[\u0300-\u0323]")


def _ctx(ds, province, lang):
    return report.Context(ds=ds, lang=lang, province=ds.find_province(province))


def _allowed_vietnamese(ds) -> list[str]:
    """Proper names and document titles may keep Vietnamese; nothing else on an English page may."""
    names = list(ds.provinces.name) + list(ds.provinces.name_en) + list(ds.sources.title) + list(ds.sources.publisher)
    names += ["Bình dân học vụ số"]   # the campaign's own name, inside English indicator names
    return sorted({n for n in names if n}, key=len, reverse=True)


def _no_vietnamese_outside_quotes_and_names(text: str, ds) -> list[str]:
    text = unicodedata.normalize("NFC", text)
    for name in _allowed_vietnamese(ds):
        text = text.replace(name, " ")
    return sorted({w for w in re.findall(r"\w+", text) if VIETNAMESE_LETTERS.search(unicodedata.normalize("NFD", w))})


def test_english_tables_are_english_except_quotes_and_names(ds):
    units = sorted(set(ds.targets.province_slug) | set(ds.observations.province_slug))
    leaks = {}
    for slug in units:
        ctx = _ctx(ds, slug, "en")
        a = report.assessment(ctx, [2030, 2045])
        frames = [report.assessment_table(a, ctx), report.status_counts(a, ctx), report.other_figures(ctx, a),
                  report.missing(a, ctx), report.before_merger(ctx)]
        e = report.evidence(ctx, slug)
        frames.append(e.drop(columns=[report.EVIDENCE_QUOTE[1]]))
        text = " ".join(f.to_string() for f in frames) + " " + report.summary(a, ctx) + " " + report.merger_text(ctx)
        bad = _no_vietnamese_outside_quotes_and_names(text, ds)
        if bad:
            leaks[slug] = bad
    assert not leaks, leaks


def test_quotes_are_marked_as_vietnamese_and_links_escaped(ds):
    ctx = _ctx(ds, "Lào Cai", "en")
    html = report.evidence_table(ctx, "lao-cai").markup
    assert '<td lang="vi">' in html and "Quote (Vietnamese, as the source wrote it)" in html
    assert '<a href="https://mail.doingoailaocai.vn/vi/bai-viet/24110"' in html
    df = pd.DataFrame({"Link": ['https://x.vn/"onmouseover="alert(1)', "https://ok.vn/a?b=1&c=2"]})
    markup = report.table(df, links=["Link"]).markup
    assert 'onmouseover="alert' not in markup and '<a href="https://ok.vn/a?b=1&amp;c=2"' in markup


@pytest.mark.parametrize("vi, en", [
    ("Quý 1/2025", "Q1 2025"), ("01-10/2025", "January-October 2025"), ("đến 17/11/2025", "to 17/11/2025"),
    ("đầu nhiệm kỳ 2020-2025", "start of the 2020-2025 term"), ("6 tháng đầu năm 2025", "first 6 months of 2025"),
    ("năm 2024", "2024"), ("DTI 2023", "DTI 2023"), ("hết Quý 3/2025", "to the end of Q3 2025"),
])
def test_periods_in_english(vi, en):
    assert period_text(vi, lang="en") == en
    assert period_text(vi, lang="vi") == vi


def test_every_period_in_the_data_has_an_english_form(ds):
    bad = [p for p, d in zip(ds.observations.period, ds.observations.period_end)
           if VIETNAMESE_LETTERS.search(unicodedata.normalize("NFD", period_text(p, d, "en")))]
    assert not bad


def test_one_status_for_no_figure_and_the_summary_agrees_with_the_table(ds):
    for slug in sorted(set(nq57lib.assess(ds).province_slug)):
        for lang in ("vi", "en"):
            ctx = _ctx(ds, slug, lang)
            a = report.assessment(ctx)
            counts = report.status_counts(a, ctx).set_index(ctx.tr("Đánh giá", "Status")).iloc[:, 0]
            label = nq57lib.progress.status_label("no_data", lang)
            n = int(counts.get(label, 0))
            assert f"{label}: {n}." in report.summary(a, ctx), slug
            assert len(report.missing(a, ctx)) == n
    a = nq57lib.assess(ds)
    assert not ((a.status == "insufficient_data") & (a.n_obs == 0)).any()
    assert ((a.status == "no_data") == (a.n_obs == 0)).all()


def test_a_figure_above_a_range_target_is_met(ds):
    row = {"unit": "percent", "status": "achieved", "latest": 12.0, "latest_period": "2025", "latest_date": None,
           "comparator": "between", "target": 9.0, "target_high": 10.0, "direction": "up", "year": 2030}
    ctx = _ctx(ds, "Lai Châu", "en")
    assert report.explain(row, ctx) == "Latest figure 12 (2025): target met (above the range)."


def test_a_date_beyond_2100_reads_not_before_2100(ds):
    row = {"unit": "percent", "status": "insufficient_progress", "latest": 13.17, "latest_period": "2024",
           "latest_date": None, "comparator": ">=", "target": 30.0, "target_high": None, "direction": "up",
           "year": 2030, "gap": 16.83, "required_pace": 2.8, "actual_pace": 0.13, "year_reached": 2313}
    text = report.explain(row, _ctx(ds, "Việt Nam", "en"))
    assert "not before 2100; 21.5× the current pace is needed" in text and "2313" not in text


@pytest.mark.parametrize("value, years", [(2030, [2030]), ("2030", [2030]), ("2030, 2045", [2030, 2045]),
                                           (["2030"], [2030]), ([2030, 2045], [2030, 2045])])
def test_target_years_accepts_the_usual_spellings(value, years):
    assert report.target_years_param(value) == years


@pytest.mark.parametrize("value", ["soon", [2030, "x"], [], True, 20.30])
def test_target_years_refuses_others_in_one_line(value):
    with pytest.raises(ParameterError) as e:
        report.target_years_param(value)
    assert "\n" not in str(e.value)


def test_provinces_all_means_every_unit_with_targets(ds):
    p = report.check_parameters(ds, {"provinces": "all"})["provinces"]
    assert "Lai Châu" in p and "Lào Cai" in p and "Việt Nam" not in p


def test_the_comparison_in_english_is_english(ds):
    ctx = report.Context(ds=ds, lang="en", provinces=[ds.find_province(p) for p in report.units_with_targets(ds)])
    for year in (2025, 2030, 2045):
        text = report.compare_table(ctx, year).to_string() + " ".join(report.compare_narrative(ctx, year))
        assert not _no_vietnamese_outside_quotes_and_names(text, ds), year
