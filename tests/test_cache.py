"""Validated once per run: load() reads the prevalidated Dataset only when its key matches the data folder."""
import os

import pandas as pd
import pytest

import nq57lib
from nq57lib import DataValidationError, cache, dataset
from nq57lib.cache import ENV_VAR, prevalidate


def _frames_equal(a, b):
    for name in ("pillars", "provinces", "indicators", "sources", "targets", "observations"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


def test_the_interface():
    assert ENV_VAR == "NQ57_VALIDATED_DATA"


def test_a_matching_cache_is_used_without_validating(data_copy, tmp_path, monkeypatch):
    reference = dataset.validated_load(data_copy)
    path = prevalidate(data_copy, tmp_path / "cache")
    assert path.parent == tmp_path / "cache" and path.exists() and cache.key(data_copy) in path.name
    monkeypatch.setenv(ENV_VAR, str(path))
    monkeypatch.setattr(dataset, "validated_load", lambda *a, **k: pytest.fail("load() validated the data"))
    ds = nq57lib.load(data_copy)
    _frames_equal(ds, reference)
    assert ds.data_dir == data_copy and ds.cache == {}
    ds.cache["x"] = 1
    assert nq57lib.load(data_copy).cache == {}          # every load gets a Dataset of its own


def test_a_stale_cache_is_not_used(data_copy, tmp_path, monkeypatch):
    path = prevalidate(data_copy, tmp_path)
    obs = data_copy / "observations.csv"
    obs.write_text(obs.read_text(encoding="utf-8").replace(",168,", ",169,", 1).replace(
        "có 168 điểm", "có 169 điểm", 1), encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(path))
    ds = nq57lib.load(data_copy)                        # validated again: the new figure is there
    row = ds.observations.query("indicator == 'res57_conference_points' and quote.str.contains('điểm cầu')")
    assert row.value.tolist() == [169.0]


def test_a_stale_cache_of_invalid_data_reports_the_problem(data_copy, tmp_path, monkeypatch):
    path = prevalidate(data_copy, tmp_path)
    obs = data_copy / "observations.csv"
    obs.write_text(obs.read_text(encoding="utf-8").replace(",168,", ",mười,", 1), encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(path))
    with pytest.raises(DataValidationError, match="not a number"):
        nq57lib.load(data_copy)


def test_without_the_variable_load_validates(data_copy, tmp_path, monkeypatch):
    prevalidate(data_copy, tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    calls = []
    real = dataset.validated_load
    monkeypatch.setattr(dataset, "validated_load", lambda d=None: calls.append(d) or real(d))
    nq57lib.load(data_copy)
    assert calls == [data_copy]


def test_a_missing_or_foreign_cache_file_means_validating(data_copy, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere.pickle"))
    assert len(nq57lib.load(data_copy).targets)
    junk = tmp_path / "junk.pickle"
    junk.write_bytes(b"not a cache")
    monkeypatch.setenv(ENV_VAR, str(junk))
    assert len(nq57lib.load(data_copy).targets)


@pytest.mark.parametrize("name", dataset.DATA_FILES)
def test_the_key_covers_each_of_the_six_files_and_nothing_else(data_copy, name):
    before = cache.key(data_copy)
    (data_copy / "README.txt").write_text("not data", encoding="utf-8")
    assert cache.key(data_copy) == before
    (data_copy / name).write_bytes((data_copy / name).read_bytes() + b"\n")
    assert cache.key(data_copy) != before


def test_invalid_data_is_not_cached(data_copy, tmp_path):
    (data_copy / "targets.csv").write_text("province\n", encoding="utf-8")
    (tmp_path / "c").mkdir()
    with pytest.raises(DataValidationError):
        prevalidate(data_copy, tmp_path / "c")
    assert list((tmp_path / "c").iterdir()) == []


def test_the_file_is_written_atomically(data_copy, tmp_path, monkeypatch):
    import pickle

    def broken(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(pickle, "dump", broken)
    with pytest.raises(OSError):
        prevalidate(data_copy, tmp_path / "c")
    assert os.listdir(tmp_path / "c") == []            # no half-written file, no temporary left
