"""nq57 extract: candidate rows from Vietnamese text and web pages.

The pages under tests/pages/ were written for these tests (made-up figures); the facts each states are
listed by hand in tests/pages/expected.csv. The seed documents are measured by `make extract-eval`, never here.
"""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

import nq57lib
from nq57lib.dataset import UNIT_SCALE
from nq57lib.extract import COLUMNS, THRESHOLD, Document, extract, read_document
from nq57lib.numbers import stated_quantities

PAGES = Path(__file__).resolve().parent / "pages"
#: how each test page is read: the unit it is about and its date
PAGE_ARGS = {
    "dienbien_ke_hoach.txt": dict(province="Điện Biên", published="2025-04-08"),
    "sonla_bao_cao.html": dict(province="Sơn La", published="2025-07-15"),
    "nothing.txt": dict(),
}


def _rows(ds, text, **kw):
    return extract(Document("", text), ds, **kw)


def _one(ds, text, **kw):
    rows = _rows(ds, text, **kw)
    assert len(rows) == 1, rows[["kind", "value", "quote"]].to_string()
    return rows.iloc[0]


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "nq57lib.cli", "extract", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=cwd)


# ------------------------------------------------------------------ recall and precision on the test pages

def test_recall_and_precision_on_the_test_pages(ds):
    expected = list(csv.DictReader(open(PAGES / "expected.csv", encoding="utf-8")))
    assert set(e["page"] for e in expected) <= set(PAGE_ARGS)
    found = rows_total = real = 0
    for page, kw in PAGE_ARGS.items():
        doc = read_document(PAGES / page)
        rows = extract(doc, ds, **kw)
        rows_total += len(rows)
        facts = [e for e in expected if e["page"] == page]
        matched = set()
        for e in facts:
            hits = [i for i, r in rows.iterrows() if r.kind == e["kind"] and float(r.value) == float(e["value"])
                    and (r.value_high == "" if not e["value_high"] else float(r.value_high) == float(e["value_high"]))
                    and e["in_quote"] in r.quote]
            found += bool(hits)
            matched.update(hits)
        real += len(matched)
    recall, precision = found / len(expected), real / rows_total
    assert recall >= 0.9, recall
    assert precision >= 0.7, precision


def test_a_page_that_states_no_figure_gives_no_row(ds):
    assert extract(read_document(PAGES / "nothing.txt"), ds).empty


# ------------------------------------------------------------------ what a row says

@pytest.mark.parametrize("text, value, high, unit", [
    ("Năm 2024, tỷ lệ hồ sơ tiếp nhận trực tuyến đã đạt 84,2%.", "84.2", "", "percent"),
    ("Toàn tỉnh có 16.803 đại biểu tham gia học tập Nghị quyết 57.", "16803", "", "count"),
    ("Phấn đấu đến năm 2030 kinh tế số chiếm khoảng 9-10% GRDP.", "9", "10", "percent"),
    ("Năm 2024, kinh phí cho khoa học, công nghệ và chuyển đổi số đạt 1,5 triệu tỷ đồng.", "1500000", "", "vnd_billion"),
    ("Năm 2024, kinh phí cho khoa học và chuyển đổi số đạt 574 tỷ đồng.", "574", "", "vnd_billion"),
])
def test_vietnamese_numbers_are_read(ds, text, value, high, unit):
    r = _one(ds, text)
    assert (r.value, r.value_high, r.unit) == (value, high, unit)


@pytest.mark.parametrize("text, comparator", [
    ("Đến năm 2030, kinh tế số đóng góp tối thiểu 20% GRDP.", ">="),
    ("Đến năm 2030, trên 80% người dân sử dụng dịch vụ công trực tuyến.", ">"),
    ("Đến năm 2030, kinh tế số chiếm khoảng 9-10% GRDP.", "between"),
    ("Đến năm 2030, tỉnh vào top 10 về chỉ số chuyển đổi số.", "<="),
    ("Đến năm 2030, tỉnh thuộc nhóm 20 địa phương dẫn đầu về chỉ số chuyển đổi số.", "<="),
    ("Đến năm 2030, 80% giao dịch không dùng tiền mặt.", "="),
])
def test_a_targets_comparator_comes_from_its_words(ds, text, comparator):
    r = _one(ds, text)
    assert r.kind == "target" and r.comparator == comparator and r.year == "2030"


@pytest.mark.parametrize("text, kind", [
    ("Tỉnh phấn đấu tỷ lệ hồ sơ tiếp nhận trực tuyến đạt 90%.", "target"),
    ("Mục tiêu: 100% doanh nghiệp ứng dụng công nghệ số.", "target"),
    ("Tỷ lệ hồ sơ tiếp nhận trực tuyến đạt 90% vào năm 2030.", "target"),
    ("Ít nhất 5 doanh nghiệp công nghệ đầu tư tại tỉnh.", "target"),
    ("Tỷ lệ hồ sơ tiếp nhận trực tuyến đã đạt 62,5%.", "observation"),
    ("Tỷ lệ hồ sơ tiếp nhận trực tuyến ước đạt 62,5%.", "observation"),
    ("Năm 2024 tỷ lệ hồ sơ tiếp nhận trực tuyến đạt 62,5%.", "observation"),
    ("Tỉnh xếp thứ 12 về chỉ số chuyển đổi số (DTI).", "observation"),
])
def test_target_or_observation_from_the_wording(ds, text, kind):
    assert _one(ds, text).kind == kind


def test_a_heading_sets_the_kind_and_year_of_the_list_below_it(ds):
    rows = _rows(ds, "Kế hoạch của tỉnh\nMục tiêu đến năm 2030\n80% giao dịch không dùng tiền mặt; 100% doanh nghiệp "
                     "ứng dụng công nghệ số.\nTầm nhìn đến năm 2045\nKinh tế số chiếm 40% GRDP.")
    assert rows[["kind", "year", "value"]].values.tolist() == [
        ["target", "2030", "80"], ["target", "2030", "100"], ["target", "2045", "40"]]


def test_a_year_is_never_invented(ds):
    target = _one(ds, "Phân bổ ít nhất 3% tổng chi ngân sách hằng năm cho khoa học và chuyển đổi số.")
    assert (target.kind, target.year) == ("target", "")
    figure = _one(ds, "Toàn tỉnh có 1.875 trạm thu phát sóng di động.")
    assert (figure.kind, figure.period_end, figure.period) == ("observation", "", "")
    # "đến nay" and a month without a year are read only against the document's date
    text = "Tính đến nay, toàn tỉnh có 1.875 trạm thu phát sóng. Từ đầu năm đến hết tháng 10, kinh phí cho khoa học đạt 574 tỷ đồng."
    assert _rows(ds, text)[["period_end", "period"]].values.tolist() == [["", ""], ["", ""]]
    dated = _rows(ds, text, published="2025-11-17")
    assert dated[["period_end", "period"]].values.tolist() == [["2025-11-17", "đến 17/11/2025"], ["2025-10-31", "01-10/2025"]]


@pytest.mark.parametrize("text, end, period", [
    ("Trong Quý 1 năm 2025, tỷ lệ hồ sơ tiếp nhận trực tuyến đạt 51,69%.", "2025-03-31", "Quý 1/2025"),
    ("Trong Quý II/2025, tỷ lệ hồ sơ tiếp nhận trực tuyến đạt 51,69%.", "2025-06-30", "Quý 2/2025"),
    ("6 tháng đầu năm 2025, tỷ lệ hồ sơ tiếp nhận trực tuyến đạt 51,69%.", "2025-06-30", "6 tháng đầu năm 2025"),
    ("Đến cuối tháng 10/2025, tỷ lệ số hóa hồ sơ đạt 84,2%.", "2025-10-31", "đến cuối tháng 10/2025"),
    ("Tính đến ngày 30/6/2025, toàn tỉnh có 2.450 trạm thu phát sóng.", "2025-06-30", "đến 30/6/2025"),
    ("Năm 2024, toàn tỉnh có 2.450 trạm thu phát sóng.", "2024-12-31", "2024"),
])
def test_the_period_of_a_figure(ds, text, end, period):
    r = _one(ds, text)
    assert (r.kind, r.period_end, r.period) == ("observation", end, period)


def test_a_figure_against_its_plan_gives_a_figure_and_a_target(ds):
    rows = _rows(ds, "Kết quả Quý 1 năm 2025\nTỷ lệ hồ sơ tiếp nhận trực tuyến 51,69/85%.")
    assert rows[["kind", "value", "year", "period_end", "indicator"]].values.tolist() == [
        ["observation", "51.69", "", "2025-03-31", "online_dossier_receipt_share"],
        ["target", "85", "2025", "", "online_dossier_receipt_share"]]


def test_the_quote_is_the_shortest_clause_exactly_as_written(ds):
    text = ("Phát triển nguồn nhân lực: Tối thiểu 50% lao động được trang bị kỹ năng số cơ bản và 20% có kỹ năng số "
            "chuyên sâu; 100% cán bộ, công chức, viên chức và 80% người dân nông thôn được đào tạo về chuyển đổi số.")
    rows = _rows(ds, "Mục tiêu đến năm 2030\n" + text)
    assert rows.quote.tolist() == [
        "Phát triển nguồn nhân lực: Tối thiểu 50% lao động được trang bị kỹ năng số cơ bản",
        "20% có kỹ năng số chuyên sâu", "100% cán bộ, công chức, viên chức",
        "80% người dân nông thôn được đào tạo về chuyển đổi số"]
    assert rows.indicator.tolist() == ["workers_basic_digital_skills_share", "workers_advanced_digital_skills_share",
                                       "officials_trained_share", "rural_residents_trained_share"]


def test_every_quote_is_a_slice_of_the_page_that_states_its_figure(ds):
    units = ds.indicators.set_index("id")["unit"]
    n = 0
    for page, kw in PAGE_ARGS.items():
        doc = read_document(PAGES / page)
        for r in extract(doc, ds, **kw).itertuples():
            assert doc.text[r.start:r.end] == r.quote
            scale = UNIT_SCALE.get(units.get(r.indicator, r.unit), 1)
            assert round(float(r.value) * scale, 6) in [q for q, _ in stated_quantities(r.quote)], r
            n += 1
    assert n > 15


def test_a_proposed_row_passes_the_loaders_checks_when_appended(data_copy, ds):
    r = _one(ds, "Kế hoạch của tỉnh Lai Châu\nĐến năm 2030, tỷ lệ hồ sơ tiếp nhận trực tuyến đạt trên 85%.")
    with open(data_copy / "targets.csv", "a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(
            [r.province, r.indicator, r.year, r.comparator, r.value, r.value_high, "laichau_2025_05", r.quote, "", ""])
    t = nq57lib.load(data_copy).targets
    assert ((t.province == "Lai Châu") & (t.indicator == "online_dossier_receipt_share") & (t.value == 85.0)
            & (t.comparator == ">")).any()


def test_indicators_are_matched_by_the_keywords_in_data(data_copy):
    text = "Năm 2024, chỉ số hạnh phúc số của tỉnh đạt 0,61 điểm."
    assert _one(nq57lib.load(data_copy), text).indicator == ""
    rows = list(csv.reader(open(data_copy / "indicators.csv", encoding="utf-8")))
    col = rows[0].index("keywords")
    for row in rows:
        if row[0] == "dti_score":
            row[col] += ";chỉ số hạnh phúc số"
    with open(data_copy / "indicators.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    assert _one(nq57lib.load(data_copy), text).indicator == "dti_score"


# ------------------------------------------------------------------ what is not a figure

@pytest.mark.parametrize("furniture", [
    "Cập nhật: 14:25 | 08/04/2025 | Lượt xem: 2.341",
    "Thứ hai - 19/05/2025 09:36 66 0",
    "Kế hoạch số 154/KH-UBND và Chương trình 414-CTr/TU về chuyển đổi số được ban hành.",
    "Ban Chỉ đạo Nghị quyết 57 họp về khoa học, công nghệ và chuyển đổi số.",
    "Kế hoạch chuyển đổi số gồm 19 chỉ tiêu và 8 nhiệm vụ, giải pháp.",
    "Điện thoại Sở Khoa học và Công nghệ: 0214.3840.044",
    "Đang truy cập23 | Hôm nay11,235 | Tổng lượt truy cập37,504,936",
    "Tổng số điểm của bài viết là: 0 trong 0 đánh giá",
    "Xem thêm tin chuyển đổi số tại bài 20251021181803153.",
    "Hội nghị kỷ niệm 95 năm ngày thành lập ngành khoa học.",
    "Trong 2 ngày (27-28/7/2020), tỉnh tổ chức hội thảo chuyển đổi số.",
    "Thời tiết hôm nay: nhiệt độ 18-26 độ C, độ ẩm 85%.",
    "Kết quả xổ số: giải đặc biệt 58213.",
    "Tỉnh phủ sóng 5G và tiến tới 6G; số hóa 3D các điểm du lịch.",
])
def test_page_furniture_is_not_a_figure(ds, furniture):
    assert _rows(ds, "Tin của tỉnh\n" + furniture).empty


def test_figures_about_another_province(ds):
    text = "Tin của tỉnh Điện Biên\nNăm 2024, Sơn La có tỷ lệ hồ sơ tiếp nhận trực tuyến đạt 71,3%."
    assert _one(ds, text).province == "Sơn La"                 # without --province, the province named wins
    assert _rows(ds, text, province="Điện Biên").empty           # page furniture for Điện Biên's page
    assert _one(ds, text, province="Sơn La").province == "Sơn La"


def test_a_derived_gap_to_the_plan_is_not_a_figure(ds):
    rows = _rows(ds, "Kết quả Quý 1 năm 2025\nTỷ lệ hồ sơ công việc xử lý trên môi trường mạng cấp tỉnh: 98/95% "
                     "(vượt 3% so với kế hoạch).")
    assert rows.value.tolist() == ["98", "95"]


def test_low_confidence_rows_are_marked_not_dropped(ds):
    rows = _rows(ds, "Tin chuyển đổi số\nTỉnh có 20 sản phẩm OCOP được giới thiệu trên nền tảng số.\n"
                     "Đến năm 2030, kinh tế số chiếm tối thiểu 20% GRDP.")
    assert len(rows) == 2
    assert (rows.confidence.astype(float) < THRESHOLD).tolist() == rows.marked.tolist() == [True, False]
    assert rows.iloc[0].indicator == "" and "OCOP" in rows.iloc[0].quote   # no indicator: the phrase is kept


# ------------------------------------------------------------------ the command

def test_cli_prints_the_candidate_rows_as_csv(tmp_path):
    r = _cli(PAGES / "dienbien_ke_hoach.txt", "--province", "Dien Bien", "--published", "2025-04-08")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(r.stdout.splitlines()))
    assert rows[0] == list(COLUMNS) == ["kind", "province", "indicator", "year", "period_end", "period", "comparator",
                                        "value", "value_high", "unit", "quote", "confidence"]
    assert ["target", "Điện Biên", "digital_economy_share", "2030", "", "", ">=", "15", "", "percent"] in [
        row[:10] for row in rows[1:]]
    assert "below the review threshold 0.5" in r.stderr


def test_cli_json(tmp_path):
    r = _cli(PAGES / "sonla_bao_cao.html", "--format", "json", "--published", "2025-07-15")
    assert r.returncode == 0, r.stderr
    items = json.loads(r.stdout)
    assert set(items[0]) == set(COLUMNS) | {"marked"}
    assert {"kind": "observation", "value": 312.0, "unit": "vnd_billion"}.items() <= next(
        i for i in items if i["value"] == 312.0).items()


def test_cli_header_only_when_nothing_is_stated(tmp_path):
    r = _cli(PAGES / "nothing.txt")
    assert r.returncode == 0 and r.stdout == ",".join(COLUMNS) + "\n"
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    r = _cli(empty)
    assert r.returncode == 0 and r.stdout == ",".join(COLUMNS) + "\n" and "is empty" in r.stderr


@pytest.mark.parametrize("name, content, message", [
    ("missing.txt", None, "no such file"),
    ("report.pdf", b"%PDF-1.7\n" + bytes(100), "is a PDF document, not text"),
    ("binary.txt", b"Kinh t\x00\x01\x02 s\x00", "is a binary file, not text"),
    ("cp1258.txt", "Kinh tế số đạt 20%".encode("cp1258", errors="replace"), "is not UTF-8 text"),
    ("folder", "dir", "is a folder, not a document"),
])
def test_cli_unreadable_file_gives_one_line_and_exit_2(tmp_path, name, content, message):
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    r = _cli(path)
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr and "Traceback" not in r.stderr


def test_cli_bad_options_exit_2(tmp_path):
    r = _cli(PAGES / "nothing.txt", "--published", "19/05/2025")
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = _cli(PAGES / "nothing.txt", "--province", "Atlantis")
    assert r.returncode == 2 and "Unknown province 'Atlantis'" in r.stderr


def test_a_page_saved_as_utf16_by_notepad_is_read(tmp_path):
    path = tmp_path / "notepad.txt"
    path.write_bytes("Tin\nNăm 2024, toàn tỉnh có 1.875 trạm thu phát sóng.".encode("utf-16"))
    r = _cli(path)
    assert r.returncode == 0 and ",1875," in r.stdout
