"""The notebooks under papermill with non-default parameters, their parameter checks, and nbval's guard."""
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks"
pytestmark = pytest.mark.notebook


def _run(tmp_path, name, **params):
    import papermill
    out = tmp_path / f"{name}.out.ipynb"
    papermill.execute_notebook(str(NB / f"{name}.ipynb"), str(out), parameters=params, kernel_name="python3",
                               progress_bar=False, cwd=str(tmp_path))
    return json.loads(out.read_text(encoding="utf-8"))


def _text(nb) -> str:
    parts = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            parts.append("".join(data.get("text/html", data.get("text/plain", ""))))
            parts.append("".join(o.get("text", "")))
    return "\n".join(parts)


def test_every_notebook_has_a_parameters_cell_and_python3_kernel():
    for path in sorted(NB.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
        tagged = [i for i, c in enumerate(nb["cells"]) if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, path
        src = "".join(nb["cells"][tagged[0]]["source"])
        assert all("#" in line for line in src.splitlines() if line.strip()), "each parameter has a # help comment"
        assert "report.start(" in "".join(nb["cells"][tagged[0] + 1]["source"]), "the next cell checks the parameters"


def test_trajectories_in_english_for_another_province(tmp_path):
    text = _text(_run(tmp_path, "03_trajectories", province="Lai Chau", lang="en"))
    assert "Resolution 57-NQ/TW progress: Lai Châu" in text   # proper names keep their diacritics
    assert "Digital economy share of GDP/GRDP" in text and "9-10%" in text
    assert "Tỷ trọng kinh tế số" not in text


def test_trajectories_sdsn_method_national(tmp_path):
    text = _text(_run(tmp_path, "03_trajectories", province="VN", method="sdsn"))
    assert "Việt Nam" in text and "13,17" in text and "Đình trệ" in text


def test_compare_in_english_with_three_provinces(tmp_path):
    text = _text(_run(tmp_path, "02_compare_provinces", provinces=["Lai Châu", "Lào Cai", "lao-cai-cu"], year=2045, lang="en"))
    assert "Targets for 2045" in text and "&gt; 40%" in text


def test_overview_in_english(tmp_path):
    text = _text(_run(tmp_path, "01_overview", lang="en"))
    assert "What to measure next" in text and "Coverage: the 34 units in force" in text
    assert "Coverage by kind of document" in text and "Resolution 57 programme or plan" in text


def test_compare_all_units_gives_rankings_not_34_columns(tmp_path):
    """Issue 9: every unit at once, sorted, with the kind of document and the national target."""
    import nq57lib
    from nq57lib.report import units_with_targets
    ds = nq57lib.load()
    n = len(units_with_targets(ds))
    assert n == 34
    nb = _run(tmp_path, "02_compare_provinces", provinces="all", year=2030, lang="vi")
    text = _text(nb)
    assert f"/{n} đơn vị có mục tiêu tỷ trọng kinh tế số" in text
    assert "Xếp hạng mục tiêu tỷ trọng kinh tế số" in text and "Loại văn bản đặt mục tiêu" in text
    assert "Chỉ số chuyển đổi số (DTI) của từng đơn vị" in text
    assert "image/png" in json.dumps(nb)                     # the sorted dot chart
    # every unit in force is a row of the ranking, with or without a target
    for name in ("Hà Nội", "Cao Bằng", "Lai Châu", "Cà Mau"):
        assert name in text
    assert "chưa có mục tiêu" in text


@pytest.mark.parametrize("name, params, message", [
    ("03_trajectories", {"province": "Atlantis"}, "Unknown province 'Atlantis'"),
    ("03_trajectories", {"province": "Lai Châu", "target_years": [1990]}, "Target year 1990 is outside the data"),
    ("03_trajectories", {"province": "Lai Châu", "method": "ols"}, "Unknown method 'ols'"),
    ("03_trajectories", {"province": "Lai Châu", "lang": "fr"}, "Unknown language 'fr'"),
    ("02_compare_provinces", {"provinces": []}, "The list of provinces is empty"),
    ("02_compare_provinces", {"provinces": ["Lai Châu"], "year": 2040}, "No targets for the year 2040"),
])
def test_bad_parameters_stop_in_the_checking_cell_with_a_clear_message(tmp_path, name, params, message):
    from papermill.exceptions import PapermillExecutionError
    with pytest.raises(PapermillExecutionError) as e:
        _run(tmp_path, name, **params)
    assert e.value.ename == "ParameterError"
    assert message in e.value.evalue
    nb = json.loads((tmp_path / f"{name}.out.ipynb").read_text(encoding="utf-8"))
    failing = [c for c in nb["cells"] if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert len(failing) == 1 and "report.start(" in "".join(failing[0]["source"])


def test_a_unit_without_targets_shows_its_figures(tmp_path):
    text = _text(_run(tmp_path, "03_trajectories", province="Yên Bái", lang="en"))
    assert "No targets set by Yên Bái are recorded, so progress cannot be assessed" in text and "DTI 2022" in text
    assert "Yên Bái existed until 30/06/2025; on 01/07/2025 it merged with Lào Cai (former) into Lào Cai" in text
    for empty in ("Status overview", "Missing: targets with no figure yet", "Trajectories against the targets"):
        assert empty not in text, f"an empty section is shown: {empty}"


def test_a_merged_unit_shows_its_predecessors_figures_apart(tmp_path):
    text = _text(_run(tmp_path, "03_trajectories", province="Lào Cai", lang="en"))
    assert "Lào Cai was formed on 01/07/2025 from Lào Cai (former), Yên Bái" in text
    before = text.split("Before the merger: figures of the former provinces")[1]
    assert "Yên Bái" in before and "Lào Cai (former)" in before and "Q1 2025" in before


def test_names_without_diacritics_or_in_nfd_are_accepted(tmp_path):
    import unicodedata
    text = _text(_run(tmp_path, "03_trajectories", province=unicodedata.normalize("NFD", "Lào Cai (cũ)")))
    assert "Lào Cai (cũ)" in text


def _nbval(nb_path: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(cwd / "pytest.ini"),
                           "--nbval", "--nbval-current-env", str(nb_path)], cwd=cwd, capture_output=True, text=True)


def test_changing_one_target_value_makes_nbval_fail(tmp_path):
    """The published figures are guarded: nbval over the stored outputs fails when data/ changes."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    nb = json.loads((NB / "03_trajectories.ipynb").read_text(encoding="utf-8"))
    params = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    params["source"] = "".join(params["source"]).replace("data_dir = None", f"data_dir = {str(data)!r}")
    copy = tmp_path / "03_trajectories.ipynb"
    copy.write_text(json.dumps(nb), encoding="utf-8")
    same = _nbval(copy, tmp_path)
    assert same.returncode == 0, same.stdout[-2000:]
    rows = list(csv.reader(open(data / "targets.csv", encoding="utf-8")))
    # the target the default report (Lào Cai, the merged unit) is assessed against: its 2025 congress's
    i = next(i for i, r in enumerate(rows) if r[:3] == ["Lào Cai", "digital_economy_share", "2030"])
    rows[i][4] = "25"
    rows[i][7] = rows[i][7].replace("20%", "25%")  # a curator's change: the figure and the phrase that states it
    with open(data / "targets.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    changed = _nbval(copy, tmp_path)
    assert changed.returncode != 0
    assert "25%" in changed.stdout


def test_plain_papermill_cli(tmp_path):
    out = tmp_path / "out.ipynb"
    r = subprocess.run([sys.executable, "-m", "papermill", str(NB / "03_trajectories.ipynb"), str(out),
                        "-p", "province", "Lai Châu", "-p", "lang", "en", "--log-level", "ERROR"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Resolution 57-NQ/TW progress: Lai Châu" in _text(json.loads(out.read_text(encoding="utf-8")))
