"""provinces.csv against the official list of the 34 units (PyPI package vietnam-provinces, 2025 data)."""
import pandas as pd
from vietnam_provinces import Province

from nq57lib.names import fold


def _official():
    return {int(p.code): p.name for p in Province.iter_all()}


def test_the_34_units_in_force_have_the_official_codes_and_names(ds):
    p = ds.provinces
    in_force = p[(p.level == "province") & p.valid_to.isna()]
    official = _official()
    assert len(official) == 34 == len(in_force)
    ours = {int(r.code): r for r in in_force.itertuples()}
    assert set(ours) == set(official)
    for code, name in official.items():
        short = name.removeprefix("Thành phố ").strip()
        mine = ours[code]
        assert fold(short) in {fold(mine.name), fold(mine.name.removeprefix("Thành phố "))} | {
            fold(a) for a in str(mine.aliases).split(";")}, (code, name, mine.name)


def test_every_pre_merger_province_names_a_successor_in_force(ds):
    p = ds.provinces.set_index("slug")
    old = p[p.valid_to.notna()]
    assert len(old) == 52                              # 63 provinces before 1/7/2025, 11 of them unchanged
    assert (old.valid_to == pd.Timestamp("2025-06-30")).all()
    assert old.successor.isin(p[p.valid_to.isna()].index).all()
    merged = p[p.valid_from == pd.Timestamp("2025-07-01")]
    assert len(merged) == 23 and set(old.successor) == set(merged.index)
    assert len(p[(p.level == "province") & p.valid_from.isna() & p.valid_to.isna()]) == 11
