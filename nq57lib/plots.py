"""Charts: each takes data, returns a matplotlib Figure, never calls plt.show().

Figures are built without pyplot (nothing is registered globally, nothing shows by itself). Colours are the Okabe-Ito colour-blind-safe palette, and every series also differs by marker and line
style so that charts survive greyscale printing. Every chart carries its source footnote. Output is
deterministic (no dates, fixed sizes and hash salt).
"""
from __future__ import annotations

import textwrap

import matplotlib
import matplotlib.ticker  # noqa: F401
from matplotlib.figure import Figure
import pandas as pd

from . import labels, progress
from .dataset import Dataset
from .labels import t
from .numbers import format_number
from .tables import decimal_year, effective_targets, projection_kind, series, target_time

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
HATCHES = ["", "//", "..", "xx", "\\\\", "++", "oo", "--"]
matplotlib.rcParams.update({"svg.hashsalt": "nq57", "font.family": "DejaVu Sans", "figure.dpi": 100,
                            "axes.spines.top": False, "axes.spines.right": False})


def to_png(fig) -> bytes:
    """The figure as PNG bytes, without a timestamp or software tag (the same figure gives the same bytes)."""
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def _footnote(fig, ds: Dataset, source_ids, lang: str):
    src = ds.sources.set_index("id")
    parts = []
    for sid in dict.fromkeys(s for s in source_ids if s):
        row = src.loc[sid]
        parts.append(f"{row['publisher']}: {row['title']}")
    text = f"{t('sources', lang)}: " + "; ".join(parts) if parts else ""
    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(text, 125)[:5]), fontsize=6.5, color="#333333",
             va="bottom", ha="left")


def trajectory(ds: Dataset, province: str, indicator: str, lang: str = "vi", target_years=(2030, 2045)):
    """Observations, the required path to each target, target markers and the projection at the current pace.

    Returns
    -------
    matplotlib.figure.Figure
    """
    labels.check_lang(lang)
    unit_row = ds.find_province(province)
    meta = ds.indicator(indicator)
    obs, tg = series(ds, unit_row.name, indicator, target_years)
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.add_subplot()
    fig.subplots_adjust(bottom=0.26, top=0.88)
    name = meta["name_en" if lang == "en" else "name_vi"]
    pname = unit_row["name_en" if lang == "en" else "name"]
    ax.set_title("\n".join(textwrap.wrap(f"{pname}: {name}", 80)), fontsize=10)
    x = [decimal_year(d) for d in obs.period_end]
    if len(obs):
        ax.plot(x, obs.value, color=OKABE_ITO[0], marker="o", linestyle="-", label=t("observed", lang), zorder=3)
        ax.annotate(format_number(obs.value.iloc[-1]), (x[-1], obs.value.iloc[-1]), textcoords="offset points",
                    xytext=(4, 6), fontsize=8)
    for i, row in enumerate(tg.itertuples()):
        goal = row.value
        tx = target_time(row.year)
        color = OKABE_ITO[1 + i % 3]
        ax.plot([tx], [goal], marker=MARKERS[1 + i % 3], markersize=9, linestyle="none", color=color,
                label=f"{t('target', lang)} {row.year}: {format_number(goal)}"
                      + (f"-{format_number(row.value_high)}" if pd.notna(row.value_high) else ""))
        if len(obs):
            ax.plot([x[-1], tx], [obs.value.iloc[-1], goal], color=color, linestyle="--", linewidth=1.2)
    if len(obs) >= 2 and len(tg):
        last = tg.year.max()
        end = target_time(last)
        p = progress.project(x[0], obs.value.iloc[0], x[-1], obs.value.iloc[-1], end,
                             float(tg[tg.year == last].value.iloc[0]), kind=projection_kind(meta["unit"]))
        if p.value is not None:
            ax.plot([x[-1], end], [obs.value.iloc[-1], p.value], color=OKABE_ITO[7], linestyle=":",
                    linewidth=1.5, label=t("projection", lang))
    if unit_row["valid_from"] is not pd.NaT and pd.notna(unit_row["valid_from"]) and len(obs):
        ax.axvline(decimal_year(unit_row["valid_from"]), color="#999999", linewidth=0.8, linestyle="-.")
    ax.set_xlabel(t("year", lang))
    ax.set_ylabel(labels.unit(meta["unit"], lang))
    if meta["direction"] == "down" and meta["unit"] == "rank":
        ax.invert_yaxis()
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.0f}"))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: format_number(v) if lang == "vi" else f"{v:g}"))
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, frameon=False, loc="best")
    _footnote(fig, ds, list(obs.source_id) + list(tg.source_id), lang)
    return fig


def compare_targets(ds: Dataset, provinces: list[str], year: int = 2030, lang: str = "vi", unit: str = "percent",
                    min_shared: int = 2):
    """Targets for one year across provinces and the nation, one bar group per indicator (one unit).

    Only indicators that at least ``min_shared`` of the series (provinces and the nation) target are drawn;
    when none are shared, every indicator is.
    """
    labels.check_lang(lang)
    slugs = [ds.find_province(p).name for p in provinces]
    nat = ds.provinces.loc[ds.provinces.level == "national"].iloc[0]
    tg = effective_targets(ds)
    tg = tg[(tg.year == year) & tg.province_slug.isin(slugs + [nat.slug]) & tg.value.notna()]
    ind = ds.indicators.set_index("id")
    tg = tg[tg.indicator.map(ind["unit"]) == unit]
    shared = tg.groupby("indicator").province_slug.nunique()
    if (shared >= min_shared).any():
        shared = shared[shared >= min_shared]
    tg = tg[tg.indicator.isin(shared.index)]
    order = [s for s in slugs if s in set(tg.province_slug)] + ([nat.slug] if nat.slug in set(tg.province_slug) else [])
    inds = sorted(tg.indicator.unique(), key=lambda i: (-shared[i], i))
    fig = Figure(figsize=(8, 0.55 * max(len(inds), 2) * max(len(order), 1) / 2 + 1.8))
    ax = fig.add_subplot()
    fig.subplots_adjust(left=0.42, bottom=0.2, top=0.9)
    h = 0.8 / max(len(order), 1)
    names = ds.provinces.set_index("slug")["name_en" if lang == "en" else "name"]
    for k, slug in enumerate(order):
        sub = tg[tg.province_slug == slug].set_index("indicator")
        ys = [i + k * h for i, ind_id in enumerate(inds) if ind_id in sub.index]
        vals = [sub.loc[ind_id, "value"] for ind_id in inds if ind_id in sub.index]
        label = t("national", lang) if slug == nat.slug else names[slug]
        ax.barh(ys, vals, height=h, color=OKABE_ITO[k % 8], hatch=HATCHES[k % 8], edgecolor="white", label=label)
        for y, v in zip(ys, vals):
            ax.text(v, y, " " + format_number(v), va="center", fontsize=7)
    ax.set_yticks([i + h * (len(order) - 1) / 2 for i in range(len(inds))])
    ax.set_yticklabels(["\n".join(textwrap.wrap(ind.loc[i, "name_en" if lang == "en" else "name_vi"], 45)) for i in inds], fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlabel(labels.unit(unit, lang))
    ax.set_title(t("compare_title", lang, year=year), fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    _footnote(fig, ds, tg.source_id, lang)
    return fig


STATUS_ORDER = ["achieved", "met", "significant_progress", "on_track", "moderate_progress", "moderately_improving",
                "insufficient_progress", "stagnating", "moving_away", "decreasing", "not_achieved", "not_yet",
                "insufficient_data", "not_assessable", "no_data"]
STATUS_COLOURS = {"achieved": "#009E73", "met": "#009E73", "significant_progress": "#56B4E9", "on_track": "#56B4E9",
                  "moderate_progress": "#0072B2", "moderately_improving": "#0072B2",
                  "insufficient_progress": "#E69F00", "stagnating": "#E69F00", "moving_away": "#D55E00",
                  "decreasing": "#D55E00", "not_achieved": "#CC79A7", "not_yet": "#F0E442",
                  "insufficient_data": "#BBBBBB", "not_assessable": "#888888", "no_data": "#DDDDDD"}


def status_overview(ds: Dataset, assessment: pd.DataFrame, lang: str = "vi"):
    """Number of targets by pillar and status, for one province's assessment (see :func:`nq57lib.assess`)."""
    labels.check_lang(lang)
    pillars = ds.pillars.set_index("id")
    counts = assessment.groupby(["pillar", "status"]).size().unstack(fill_value=0)
    counts = counts.loc[[p for p in pillars.sort_values("order").index if p in counts.index]]
    statuses = [s for s in STATUS_ORDER if s in counts.columns]
    fig = Figure(figsize=(8, 0.45 * len(counts) + 2.2))
    ax = fig.add_subplot()
    fig.subplots_adjust(left=0.3, bottom=0.3, top=0.9)
    left = pd.Series(0, index=counts.index)
    for k, s in enumerate(statuses):
        ax.barh(range(len(counts)), counts[s], left=left, color=STATUS_COLOURS[s], hatch=HATCHES[k % 8],
                edgecolor="white", label=progress.status_label(s, lang))
        left = left + counts[s]
    ax.set_yticks(range(len(counts)))
    ax.set_yticklabels([pillars.loc[p, "name_en" if lang == "en" else "name_vi"] for p in counts.index], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(t("count", lang))
    prov = ""
    if len(assessment):
        prov = ds.provinces.set_index("slug").loc[assessment["province_slug"].iloc[0], "name_en" if lang == "en" else "name"]
    ax.set_title(f"{prov}: {t('status_overview', lang)}", fontsize=10)
    ax.legend(fontsize=7.5, frameon=False, ncol=3, loc="upper center", bbox_to_anchor=(0.4, -0.15))
    return fig
