"""assess() and compare() on the real data, and on small made-up data where the answer is known."""
import shutil

import pandas as pd
import pytest

import nq57lib
from nq57lib import ParameterError


def test_assess_covers_every_unit_with_targets_and_explains_every_gap(ds):
    a = nq57lib.assess(ds)
    with_targets = set(ds.targets.province)
    assert with_targets <= set(a.province)
    assert a.status.notna().all()
    unclear = a[a.status.isin(["insufficient_data", "not_assessable"]) & (a.reason.fillna("") == "")]
    assert unclear.empty
    assert a[["province", "indicator", "year"]].duplicated().sum() == 0


def test_merged_lao_cai_inherits_old_targets_and_uses_its_own_observation(ds):
    a = nq57lib.assess(ds, province="lao cai", target_year=2030).set_index("indicator")
    row = a.loc["st_dx_budget_share"]
    assert row.inherited_from == "Lào Cai (cũ)"
    assert row.latest == 1.5 and row.status == "insufficient_data"
    assert row.required_pace == pytest.approx((3 - 1.5) / (2030.997 - 2025.830), rel=1e-3)
    assert "one observation" in row.reason


def test_reported_against_annual_target(ds):
    a = nq57lib.assess(ds, province="Lào Cai (cũ)", target_year=2025).set_index("indicator")
    assert a.loc["online_dossier_receipt_share", "gap"] == pytest.approx(85 - 51.69)
    assert a.loc["work_records_online_share_province", "status"] == "achieved"


def test_national_series_gets_a_eurostat_status(ds):
    a = nq57lib.assess(ds, province="Việt Nam", target_year=2030).set_index("indicator")
    row = a.loc["digital_economy_share"]
    n = len(ds.observations.query("province == 'Việt Nam' and indicator == 'digital_economy_share'"))
    assert n >= 5 and row.n_obs == n and row.status == "insufficient_progress"
    assert 0 < row.ratio < 0.6
    s = nq57lib.assess(ds, province="Việt Nam", target_year=2030, method="sdsn").set_index("indicator")
    assert s.loc["digital_economy_share", "status"] == "stagnating"


def test_milestones(ds, data_copy):
    a = nq57lib.assess(ds, province="Lai Châu").set_index("indicator")
    assert a.loc["community_tourism_3d", "status"] == "no_data"
    ds2 = _tiny(None, data_copy, ["Lai Châu,community_tourism_3d,2025-06-30,6/2025,1,laichau_2025_05,x,test\n"])
    assert nq57lib.assess(ds2, "Lai Châu").set_index("indicator").loc["community_tourism_3d", "status"] == "met"


def test_bad_parameters(ds):
    with pytest.raises(ParameterError, match="Unknown method"):
        nq57lib.assess(ds, method="ols")
    with pytest.raises(ParameterError, match="No targets for the year 2019"):
        nq57lib.assess(ds, target_year=2019)
    with pytest.raises(ParameterError, match="Known provinces"):
        nq57lib.assess(ds, province="Atlantis")
    with pytest.raises(ParameterError, match="at least one province"):
        nq57lib.compare(ds, [])


def test_compare_with_national_column_and_notes(ds):
    c = nq57lib.compare(ds, ["Lai Chau", "LÀO CAI"]).set_index("indicator")
    de = c.loc["digital_economy_share"]
    # the merged Lào Cai's own target (its 2025 congress: "khoảng 20%") comes before its predecessor's
    assert (de["Lai Châu"], de["Lào Cai"], de["Việt Nam"]) == ("9-10%", "20%", "≥ 30%")
    assert de["ambition: Lào Cai"] == pytest.approx(20 / 30)
    assert de["ambition: Lai Châu"] == pytest.approx(9.5 / 30)
    assert "GRDP" in de["note"]
    # for 2045 only the former Lào Cai set one: the merged unit inherits it, and the note says so
    de45 = nq57lib.compare(ds, ["Lào Cai"], year=2045).set_index("indicator").loc["digital_economy_share"]
    assert de45["Lào Cai"] == "> 40%" and "kế thừa" in de45["note"]
    en = nq57lib.compare(ds, ["Lai Châu"], lang="en").set_index("indicator")
    assert en.loc["digital_economy_share", "name"] == "Digital economy share of GDP/GRDP"


def _tiny(tmp_path, data_copy, obs_rows):
    """The shipped reference tables with made-up observations for one target: answers known by hand."""
    (data_copy / "observations.csv").write_text(
        "province,indicator,period_end,period,value,source_id,quote,note\n" + "".join(obs_rows), encoding="utf-8")
    return nq57lib.load(data_copy)


def test_two_points_give_eurostat_status_and_projection(tmp_path, data_copy):
    ds = _tiny(tmp_path, data_copy, [
        "Lai Châu,digital_economy_share,2021-12-31,2021,5,laichau_2025_05,đạt 5%,test\n",
        "Lai Châu,digital_economy_share,2024-12-31,2024,6,laichau_2025_05,đạt 6%,test\n",
    ])
    row = nq57lib.assess(ds, "Lai Châu", 2030).set_index("indicator").loc["digital_economy_share"]
    assert row.actual_pace == pytest.approx(1 / 3, rel=1e-3)
    assert row.projected == pytest.approx(8, rel=1e-2)
    assert row.status in {"moderate_progress", "insufficient_progress"}
    assert row.year_reached == 2033


def test_plots_return_figures_with_footnotes(ds):
    from nq57lib import plots
    import matplotlib.figure
    import matplotlib.text
    for fig in (plots.trajectory(ds, "Việt Nam", "digital_economy_share", lang="en"),
                plots.compare_targets(ds, ["Lai Châu", "Lào Cai"]),
                plots.status_overview(ds, nq57lib.assess(ds, "Lai Châu"))):
        assert isinstance(fig, matplotlib.figure.Figure)
        texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
        assert any(texts)
    fig = plots.trajectory(ds, "Việt Nam", "digital_economy_share")
    (foot,) = [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text().startswith("Nguồn:")]
    assert "Kinh tế số đưa Việt Nam bước vào kỷ nguyên mới" in foot


def test_plots_are_deterministic(ds, tmp_path):
    from nq57lib import plots
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    plots.trajectory(ds, "Việt Nam", "digital_economy_share").savefig(a, metadata={"Date": None})
    plots.trajectory(ds, "Việt Nam", "digital_economy_share").savefig(b, metadata={"Date": None})
    assert a.read_bytes() == b.read_bytes()
