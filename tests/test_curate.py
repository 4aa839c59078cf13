"""notebooks/04_curate.ipynb under papermill: the review of a document, and the staging CSV of what is kept.

The document is a test page (tests/pages, made-up figures); rows that a candidate meets in data/ are made by
the test in a temporary copy of data/.
"""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

import nq57lib
from nq57lib.extract import extract, read_document

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks" / "04_curate.ipynb"
PAGE = ROOT / "tests" / "pages" / "dienbien_ke_hoach.txt"
pytestmark = pytest.mark.notebook


def _run(tmp_path, **params):
    import papermill
    out = tmp_path / "04_curate.out.ipynb"
    papermill.execute_notebook(str(NB), str(out), parameters=params, kernel_name="python3", progress_bar=False,
                               cwd=str(tmp_path))
    return json.loads(out.read_text(encoding="utf-8"))


def _html(nb) -> str:
    return "\n".join("".join(o.get("data", {}).get("text/html", "")) for c in nb["cells"] for o in c.get("outputs", []))


@pytest.fixture
def data_with_dienbien(data_copy):
    """A copy of data/ that already holds one figure of the test page and a different target (made up),
    and nothing else about Điện Biên (the shipped data has real rows for it)."""
    for name in ("targets.csv", "observations.csv"):
        with open(data_copy / name, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        with open(data_copy / name, "w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([r for r in rows if r[0] != "Điện Biên"])
    with open(data_copy / "observations.csv", "a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(
            ["Điện Biên", "telecom_base_stations", "2024-12-31", "2024", "1875", "laocai_2025_11", "có 1.875 trạm", "", ""])
    with open(data_copy / "targets.csv", "a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(
            ["Điện Biên", "digital_economy_share", "2030", ">=", "12", "", "laocai_2025_11", "tối thiểu 12%", "", ""])
    nq57lib.load(data_copy)
    return data_copy


def test_the_review_marks_every_candidate_and_the_rows_of_data_they_meet(tmp_path, data_with_dienbien):
    staging = tmp_path / "kept.csv"
    nb = _run(tmp_path, path=str(PAGE), province="Điện Biên", published="2025-04-08", data_dir=str(data_with_dienbien),
              staging=str(staging))
    html = _html(nb)
    rows = extract(read_document(PAGE), nq57lib.load(data_with_dienbien), province="Điện Biên", published="2025-04-08")
    assert html.count("<mark ") == len(set(zip(rows.start, rows.end))) == len(rows) > 10
    assert "tỷ trọng tối thiểu <b>15%</b> GRDP" in html          # the figure is bold inside its marked clause
    assert "Sơn La" in html and "9,8%" in html                      # the page is shown whole...
    assert "<b>9,8%</b>" not in html                                # ...but another province's figure is not proposed
    assert "trùng observations.csv" in html and "khác targets.csv" in html
    assert "Chưa giữ dòng nào" in html and not staging.exists()      # nothing kept: nothing written


def test_the_rows_kept_go_to_a_staging_csv_that_import_appends(tmp_path, data_copy):
    staging = tmp_path / "kept.csv"
    nb = _run(tmp_path, path=str(PAGE), province="Điện Biên", published="2025-04-08", data_dir=str(data_copy),
              staging=str(staging), keep=[2, 13], source_id="test_dienbien_plan",
              new_source={"title": "Trang thử nghiệm (số liệu giả)", "publisher": "Kiểm thử", "instrument": "dx_plan"})
    html = _html(nb)
    kept = list(csv.DictReader(open(staging, encoding="utf-8")))
    assert [(r["kind"], r["indicator"], r["value"]) for r in kept] == [
        ("target", "cashless_transactions_share", "70"), ("observation", "online_dossier_receipt_share", "62.5")]
    assert "Tệp hợp lệ" in html and "nq57 import" in html
    r = subprocess.run([sys.executable, "-m", "nq57lib.cli", "import", str(staging), "--data", str(data_copy)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    ds = nq57lib.load(data_copy)
    assert ds.targets.query("province == 'Điện Biên' and indicator == 'cashless_transactions_share'").value.tolist() == [70.0]
    added = ds.observations.query("province == 'Điện Biên' and source_id == 'test_dienbien_plan'")
    assert added.period_end.dt.year.tolist() == [2024] and added.value.tolist() == [62.5]
    assert ds.sources.set_index("id").loc["test_dienbien_plan", "instrument"] == "dx_plan"


def test_the_review_in_english(tmp_path):
    html = _html(_run(tmp_path, lang="en"))                      # the default document: the test page
    assert "Reviewing candidate figures" in html and "Candidate rows" in html and "No row is kept yet" in html
    assert "Rà soát" not in html
    assert "Phấn đấu kinh tế số chiếm tỷ trọng tối thiểu" in html  # quotes stay as written


@pytest.mark.parametrize("params, message", [
    ({"keep": [99]}, "keep: 99 is not a row number of the candidate table"),
    ({"path": "/nonexistent/page.txt"}, "no such file"),
    ({"keep": [1]}, "source_id is not set"),
])
def test_bad_parameters_stop_with_one_clear_line(tmp_path, params, message):
    from papermill.exceptions import PapermillExecutionError
    with pytest.raises(PapermillExecutionError) as e:
        _run(tmp_path, staging=str(tmp_path / "kept.csv"), **params)
    assert message in e.value.evalue and len(e.value.evalue.splitlines()) == 1
    assert not (tmp_path / "kept.csv").exists()
