"""nq57lib.progress.sdsn reproduces the SDSN 2019 Europe SDR's published trend arrows from its own inputs."""
from pathlib import Path

import pandas as pd

from nq57lib import progress

CSV = Path(__file__).parent / "conformance" / "sdsn2019_europe_trends.csv"
ARROW = {"achieved": "↑", "on_track": "↑", "moderately_improving": "➚", "stagnating": "→", "decreasing": "↓"}


def test_reproduces_at_least_98_5_percent_of_published_arrows(capsys):
    t = pd.read_csv(CSV, comment="#")
    assert len(t) == 2255
    t["ours"] = [ARROW[progress.sdsn(r.base_year, r.base_value, r.latest_year, r.latest_value,
                                     r.optimum, r.lower_bound, r.green_threshold).status]
                 for r in t.itertuples()]
    share = (t.ours == t.published).mean()
    table = pd.crosstab(t.published.rename("published"), t.ours.rename("nq57"), margins=True)
    with capsys.disabled():  # always in the log, not only on failure
        print(f"\nSDSN 2019 Europe SDR: {share:.2%} of {len(t)} arrows reproduced (rows: published, columns: nq57)\n{table}")
    assert share >= 0.985
