"""Province names as people type them: any case, with or without diacritics, NFC or NFD (property-based)."""
import unicodedata

from hypothesis import given, settings, strategies as st

from nq57lib.names import fold

UNITS = None


def _ds():
    global UNITS
    if UNITS is None:
        import nq57lib
        UNITS = nq57lib.load()
    return UNITS


def _strip(text):
    t = unicodedata.normalize("NFD", text)
    return "".join(c for c in t if unicodedata.category(c) != "Mn").replace("đ", "d").replace("Đ", "D")


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=42), st.sampled_from(["NFC", "NFD"]), st.booleans(),
       st.lists(st.booleans(), min_size=40, max_size=40))
def test_any_spelling_of_a_name_finds_the_same_unit(i, form, strip, upper):
    ds = _ds()
    row = ds.provinces.iloc[i % len(ds.provinces)]
    text = _strip(row["name"]) if strip else row["name"]
    text = "".join(c.upper() if u else c.lower() for c, u in zip(text, upper + [False] * len(text)))
    text = unicodedata.normalize(form, text)
    assert ds.find_province(text).name == row["slug"]


@given(st.text(alphabet=st.characters(codec="utf-8", categories=["L", "M", "N", "Zs"]), max_size=30))
def test_fold_is_idempotent_and_ignores_normal_form(text):
    assert fold(fold(text)) == fold(text)
    assert fold(unicodedata.normalize("NFD", text)) == fold(unicodedata.normalize("NFC", text))


def test_codes_resolve_by_date_after_the_merger():
    from nq57lib.dataset import _ProvinceIndex
    index = _ProvinceIndex(_ds().provinces)
    assert index.resolve("15", "2024-12-31") == "yen-bai"
    assert index.resolve("15", "2025-11-17") == "lao-cai"
    assert index.resolve("15") == "lao-cai"
    assert index.resolve("10") == "lao-cai-cu"
