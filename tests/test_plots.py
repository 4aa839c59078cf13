"""Charts: laid out without overlaps or cut text, years where a reader expects them, integer counts."""
import matplotlib.lines
import matplotlib.text
import pytest

import nq57lib
from nq57lib import ParameterError, plots
from nq57lib.plots import layout_problems


def _charted(ds):
    a = nq57lib.assess(ds)
    keep = a[(a.unit != "milestone") & (a.n_obs > 0)]
    return sorted(set(zip(keep.province_slug, keep.indicator)))


def test_every_trajectory_chart_is_laid_out_cleanly(ds):
    pairs = _charted(ds)
    assert len(pairs) >= 10
    bad = {}
    for slug, indicator in pairs:
        for lang in ("vi", "en"):
            problems = layout_problems(plots.trajectory(ds, slug, indicator, lang))
            if problems:
                bad[(slug, indicator, lang)] = problems
    assert not bad, bad


@pytest.mark.parametrize("year", [2025, 2030, 2045])
def test_the_comparison_and_status_charts_are_laid_out_cleanly(ds, year):
    from nq57lib.report import units_with_targets
    units = units_with_targets(ds)
    for lang in ("vi", "en"):
        assert layout_problems(plots.compare_targets(ds, units, year, lang)) == []
        assert layout_problems(plots.compare_targets(ds, units[:2], year, lang)) == []
    for slug in sorted(set(nq57lib.assess(ds).province_slug))[:6]:
        assert layout_problems(plots.status_overview(ds, nq57lib.assess(ds, slug))) == []


def test_the_layout_check_sees_overlaps_and_cut_text():
    from matplotlib.figure import Figure
    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, "một câu rất dài")
    ax.text(0.5, 0.5, "một câu rất dài")
    fig.text(0.9, 0.5, "this runs off the edge of the figure")
    problems = layout_problems(fig)
    assert any(p.startswith("overlap") for p in problems) and any(p.startswith("cut") for p in problems)


def _xticks(fig):
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    return [(t, l.get_text()) for t, l in zip(ax.get_xticks(), ax.get_xticklabels()) if lo <= t <= hi]


def test_a_2024_figure_sits_at_2024_and_a_2030_target_at_2030(ds):
    fig = plots.trajectory(ds, "Việt Nam", "digital_economy_share", "vi", target_years=[2030])
    ax = fig.axes[0]
    observed = next(l for l in ax.get_lines() if l.get_label() == "Số liệu báo cáo")
    years = sorted(ds.observations.query("province == 'Việt Nam' and indicator == 'digital_economy_share'")
                   .period_end.dt.year)
    assert 2024 in years and list(observed.get_xdata()) == [float(y) for y in years]
    target = next(l for l in ax.get_lines() if l.get_label().startswith("Chỉ tiêu 2030"))
    assert list(target.get_xdata()) == [2030]
    labels = [text for _, text in _xticks(fig)]
    assert len(labels) == len(set(labels)), labels                 # each year labelled once
    assert all(float(t).is_integer() and text == f"{t:.0f}" for t, text in _xticks(fig))


def test_a_first_quarter_figure_sits_after_the_previous_year_end(ds):
    fig = plots.trajectory(ds, "Lào Cai (cũ)", "online_dossier_receipt_share", "en")
    observed = next(l for l in fig.axes[0].get_lines() if l.get_label() == "Reported")
    (x,) = observed.get_xdata()
    assert 2024.2 < x < 2024.3                                      # 31/3/2025: a quarter after the 2024 tick
    labels = [text for _, text in _xticks(fig)]
    assert labels == sorted(set(labels))


def test_rank_and_count_axes_have_whole_numbers_only(ds):
    for province, indicator in [("Yên Bái", "dti_rank_63"), ("Lào Cai", "st_organisations")]:
        ax = plots.trajectory(ds, province, indicator, "en").axes[0]
        lo, hi = sorted(ax.get_ylim())
        assert all(float(t).is_integer() for t in ax.get_yticks() if lo <= t <= hi)
    a = nq57lib.assess(ds, "Lào Cai (cũ)")
    ax = plots.status_overview(ds, a).axes[0]
    lo, hi = ax.get_xlim()
    assert all(float(t).is_integer() for t in ax.get_xticks() if lo <= t <= hi)


def test_an_already_met_target_has_no_required_path(ds):
    fig = plots.trajectory(ds, "Lào Cai (cũ)", "work_records_online_share_province", "en")   # 98 against 95
    names = [l.get_label() for l in fig.axes[0].get_lines()]
    assert "Target 2025: 95%" in names
    assert not any(n.startswith("Required path") for n in names)


def test_the_merger_line_is_labelled(ds):
    fig = plots.trajectory(ds, "Lào Cai", "st_dx_budget_share", "en")
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    assert "Merger 01/07/2025" in texts


def test_charts_refuse_what_they_cannot_draw(ds):
    with pytest.raises(ParameterError, match="has no figure and no target"):
        plots.trajectory(ds, "Hà Giang", "digital_economy_share")
    with pytest.raises(ParameterError, match="did you mean 'digital_economy_share'"):
        plots.trajectory(ds, "Lai Châu", "digital_economy_shar")
    with pytest.raises(ParameterError, match="No targets for the year 2031"):
        nq57lib.compare(ds, ["Lai Châu"], year=2031)


def test_every_small_multiples_figure_is_laid_out_cleanly(ds):
    """The trajectories report draws all of a unit's charts as panels of one figure: no text overlaps there
    either (a target's label moves below its marker when the last figure's label is above)."""
    a = nq57lib.assess(ds)
    keep = a[(a.unit != "milestone") & (a.n_obs > 0)]
    assert keep.province_slug.nunique() >= 20
    bad = {}
    for slug, g in keep.groupby("province_slug"):
        indicators = list(dict.fromkeys(g.indicator))
        for lang in ("vi", "en"):
            fig = plots.trajectories(ds, slug, indicators, lang)
            assert len([ax for ax in fig.axes if ax.axison]) == len(indicators)
            problems = layout_problems(fig)
            if problems:
                bad[(slug, lang)] = problems
    assert not bad, bad


def test_small_multiples_refuse_a_unit_with_nothing_to_draw(ds):
    with pytest.raises(ParameterError, match="nothing to draw"):
        plots.trajectories(ds, "Lai Châu", [])
