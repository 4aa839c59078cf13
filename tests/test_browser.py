"""Reports in a real browser (headless Chromium): not blank, no broken image, data shown as text only."""
import base64
import csv
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from nq57lib.cli import main

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser, pytest.mark.notebook,
              pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test installs it when it can)")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
SCRIPT = "<script>document.title='pwned-script'</script>"
IMG = "<img src=x onerror=\"document.title='pwned-img'\">"


def _chromium(*args):
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A run on a copy of the data whose Lai Châu quote and a source title carry markup."""
    tmp = tmp_path_factory.mktemp("browser")
    data = tmp / "data"
    shutil.copytree(ROOT / "data", data)
    rows = list(csv.reader(open(data / "observations.csv", encoding="utf-8")))
    i = next(i for i, r in enumerate(rows) if r[0] == "Lai Châu" and r[1] == "mooc_dx_learners")
    rows[i][6] = f"2.191 học viên {SCRIPT} {IMG}"
    with open(data / "observations.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    rows = list(csv.reader(open(data / "sources.csv", encoding="utf-8")))
    for r in rows:
        if r[0] == "laichau_2025_05":
            r[2] = f"Cổng <b>Lai Châu</b> {IMG}"
    with open(data / "sources.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    out = tmp / "out"
    assert main(["run", "--data", str(data), "--out", str(out), "--province", "Lai Châu", "--no-progress"]) == 0
    assert main(["run", "--data", str(data), "--out", str(out), "--only", "overview", "--no-progress"]) == 0
    return out


def test_quotes_and_titles_with_markup_appear_literally_and_run_nothing(published):
    report = next(published.glob("*/trajectories-lai-chau-vi.html"))
    html = report.read_text(encoding="utf-8")
    assert "&lt;script&gt;document.title='pwned-script'&lt;/script&gt;" in html
    assert SCRIPT not in html and IMG not in html
    dom = _chromium("--dump-dom", report.as_uri()).stdout
    assert "pwned" not in re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    assert not re.search(r"<img[^>]*onerror", dom)
    assert "&lt;script&gt;document.title" in dom          # shown as text
    overview = next(published.glob("*/overview-vi.html")).read_text(encoding="utf-8")  # partial runs: not in latest
    assert "Cổng &lt;b&gt;Lai Châu&lt;/b&gt;" in overview and "<b>Lai Châu</b>" not in overview


def _png_ok(data: bytes) -> bool:
    import io
    import matplotlib.image as mpimg
    img = mpimg.imread(io.BytesIO(data), format="png")
    return img.shape[0] > 50 and img.shape[1] > 50 and float(img[..., :3].std()) > 0.01


def test_index_and_a_report_render_with_images(published, tmp_path):
    report = next(published.glob("*/overview-vi.html"))   # --only/--province runs are partial: latest stays
    index = report.parent / "index.html"
    traj = next(published.glob("*/trajectories-lai-chau-vi.html"))
    images = re.findall(r'<img[^>]+src="data:image/png;base64,([^"]+)"', traj.read_text(encoding="utf-8"))
    assert images, "the report has charts"
    assert all(_png_ok(base64.b64decode(b)) for b in images), "no broken image"
    for page, height in ((index, 900), (traj, 2400), (report, 1600)):
        shot = tmp_path / f"{page.stem}.png"
        r = _chromium(f"--screenshot={shot}", f"--window-size=1280,{height}", page.as_uri())
        assert shot.exists(), r.stderr[-2000:]
        assert _png_ok(shot.read_bytes()), f"{page.name} renders blank"
