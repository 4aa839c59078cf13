"""Charts: each takes data, returns a matplotlib Figure, never calls plt.show().

Figures are built without pyplot (nothing is registered globally, nothing shows by itself) and laid out
with matplotlib's constrained layout: titles, legends and the source footnote get their own room, so no
text overlaps and nothing is cut (checked by :func:`layout_problems` in the tests). Colours are the
Okabe-Ito colour-blind-safe palette, and every series also differs by marker and line style so that
charts survive greyscale printing. Every chart carries its source footnote. Output is deterministic (no
dates, fixed sizes and hash salt).

Time axis: a tick labelled 2024 stands for 31 December 2024, so a figure for the year 2024 and a
target "by 2030" sit exactly on their year; a figure for the first quarter of 2025 sits a quarter of
the way after the 2024 tick.
"""
from __future__ import annotations

import textwrap

import matplotlib
import matplotlib.axes
import matplotlib.ticker
from matplotlib.figure import Figure
import pandas as pd

from . import labels, progress
from .dataset import Dataset
from .errors import ParameterError
from .labels import t
from .names import did_you_mean
from .numbers import format_number
from .tables import decimal_year, effective_targets, projection_kind, series, target_text, target_time

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
HATCHES = ["", "//", "..", "xx", "\\\\", "++", "oo", "--"]
#: marker of each kind of document in the comparison chart
INSTRUMENT_MARKERS = {"nq57_programme": "o", "party_congress": "s", "dx_plan": "^", "other_plan": "D",
                      "report": "v", "index": "P", "statistics": "X"}
matplotlib.rcParams.update({"svg.hashsalt": "nq57", "font.family": "DejaVu Sans", "figure.dpi": 100,
                            "axes.spines.top": False, "axes.spines.right": False})
_FOOTNOTE_CHARS = 18  # characters of 6.5 pt text per inch of figure width


def to_png(fig) -> bytes:
    """The figure as PNG bytes, without a timestamp or software tag (the same figure gives the same bytes)."""
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def chart_year(ts) -> float:
    """The x position of a date: the tick labelled Y is 31 December of Y (see the module docstring).

    >>> chart_year("2024-12-31"), round(chart_year("2025-03-31"), 3)
    (2024.0, 2024.247)
    """
    return decimal_year(pd.Timestamp(ts) + pd.Timedelta(days=1)) - 1


def _source_lines(ds: Dataset, source_ids, lang: str, width_in: float) -> list[str]:
    """The footnote naming the documents behind a chart, wrapped to the figure's width (at most 4 lines)."""
    src = ds.sources.set_index("id")
    titles = [src.loc[sid, "title"] for sid in dict.fromkeys(s for s in source_ids if s)]
    if not titles:
        return []
    width = int(width_in * _FOOTNOTE_CHARS)
    lines = textwrap.wrap(f"{t('sources', lang)}: " + "; ".join(titles), width)
    if len(lines) > 4:
        lines = lines[:4]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return lines


def _new_figure(width: float, height: float, footnote: list[str]):
    """A figure of ``height`` inches for the chart plus room for the footnote under it.

    The chart lives in its own sub-figure (returned second), laid out with constrained layout, so its
    legend and labels can never run into the footnote.
    """
    foot_h = 0.12 + 0.115 * len(footnote) if footnote else 0
    fig = Figure(figsize=(width, height + foot_h), layout="constrained")
    fig.get_layout_engine().set(h_pad=0.06, w_pad=0.06)
    if not footnote:
        return fig, fig
    panel, foot = fig.subfigures(2, 1, height_ratios=[height, foot_h])
    foot.text(0.01, 0.92, "\n".join(footnote), fontsize=6.5, color="#333333", va="top", ha="left")
    return fig, panel


def _integer_axis(axis) -> None:
    axis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, min_n_ticks=1))


def _year_axis(ax, lo: float, hi: float, lang: str, max_labels: int = 13) -> None:
    """Whole years only, each labelled once, at most ``max_labels`` of them (steps of 1, 2, 5 or 10)."""
    span = max(hi - lo, 1)
    step = next(s for s in (1, 2, 5, 10, 20) if span / s < max_labels)
    ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(step))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.0f}"))
    ax.set_xlim(lo - 0.5, hi + 0.5)
    ax.set_xlabel(t("year_end", lang))


def _value_formatter(lang: str):
    return matplotlib.ticker.FuncFormatter(lambda v, _: format_number(v, lang=lang))


def _check_indicator(ds: Dataset, indicator: str) -> pd.Series:
    if indicator not in set(ds.indicators.id):
        hint = did_you_mean(indicator, ds.indicators.id.tolist())
        raise ParameterError(f"Unknown indicator {indicator!r}" + (f"; {hint}" if hint else "")
                             + ": use an id from data/indicators.csv")
    return ds.indicator(indicator)


def trajectory(ds: Dataset, province: str, indicator: str, lang: str = "vi", target_years=(2030, 2045)):
    """Observations, the required path to each target, target markers and the projection at the current pace.

    Raises
    ------
    ParameterError
        For an unknown indicator, or a unit with neither a figure nor a target for it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    labels.check_lang(lang)
    unit_row = ds.find_province(province)
    meta = _check_indicator(ds, indicator)
    obs, tg = series(ds, unit_row.name, indicator, target_years)
    pname = unit_row["name_en" if lang == "en" else "name"]
    name = meta["name_en" if lang == "en" else "name_vi"]
    if not len(obs) and not len(tg):
        raise ParameterError(f"{pname} has no figure and no target for {indicator!r}: nothing to draw")
    fig, panel = _new_figure(7.5, 4.6, _source_lines(ds, list(obs.source_id) + list(tg.source_id), lang, 7.5))
    ax = panel.add_subplot()
    ax.set_title("\n".join(textwrap.wrap(f"{pname}: {name}", 80)), fontsize=10)
    _draw_trajectory(ax, unit_row, meta, obs, tg, lang, detailed=True)
    handles, names = ax.get_legend_handles_labels()
    if handles:
        panel.legend(handles, names, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return fig


def trajectories(ds: Dataset, province: str, indicators: list[str], lang: str = "vi", target_years=(2030, 2045),
                 ncols: int = 2):
    """Small multiples: one panel per indicator, the same drawing as :func:`trajectory`, in one figure.

    Each target is labelled on its panel ("2030: ≥ 30%"); one legend for the figure explains the marks.
    One figure is laid out once, so a report with many charts costs a fraction of separate figures.
    """
    labels.check_lang(lang)
    unit_row = ds.find_province(province)
    metas = [_check_indicator(ds, i) for i in indicators]
    data = [series(ds, unit_row.name, i, target_years) for i in indicators]
    keep = [(m, o, t) for m, (o, t) in zip(metas, data) if len(o) or len(t)]
    if not keep:
        raise ParameterError(f"{unit_row['name']} has no figure and no target for {indicators!r}: nothing to draw")
    ncols = max(1, min(ncols, len(keep)))
    nrows = -(-len(keep) // ncols)
    ids = [s for _, o, t in keep for s in list(o.source_id) + list(t.source_id)]
    width = 7.5 if ncols > 1 else 6
    fig, panel = _new_figure(width, 2.7 * nrows + 0.8, _source_lines(ds, ids, lang, width))
    axes = panel.subplots(nrows, ncols, squeeze=False).ravel()
    pname = unit_row["name_en" if lang == "en" else "name"]
    panel.suptitle(t("trajectories_title", lang, province=pname), fontsize=11)
    from matplotlib.lines import Line2D
    legend = {}
    for ax, (meta, obs, tg) in zip(axes, keep):
        ax.set_title("\n".join(textwrap.wrap(meta["name_en" if lang == "en" else "name_vi"], 45)), fontsize=8.5)
        _draw_trajectory(ax, unit_row, meta, obs, tg, lang, detailed=False)
        for h, n in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(n, h)
    for ax in axes[len(keep):]:
        ax.remove()  # an empty cell of the grid
    generic = {t("observed", lang): Line2D([], [], color=OKABE_ITO[0], marker="o"),
               t("target", lang): Line2D([], [], color=OKABE_ITO[1], marker=MARKERS[1], linestyle="none", markersize=7),
               t("required_path", lang): Line2D([], [], color=OKABE_ITO[1], linestyle="--"),
               t("projection", lang): Line2D([], [], color=OKABE_ITO[7], linestyle=":")}
    shown = {n: h for n, h in generic.items() if n in legend or n == t("target", lang)}
    shown.update({n: h for n, h in legend.items() if n.startswith(t("merger", lang, date="").split(" ")[0])})
    panel.legend(list(shown.values()), list(shown.keys()), loc="outside lower center", ncols=3, fontsize=8,
                 frameon=False)
    return fig


def _draw_trajectory(ax, unit_row, meta, obs, tg, lang: str, detailed: bool) -> None:
    """One unit's series for one indicator on ``ax``: figures, targets, required paths, the projection.

    ``detailed``: legend entries carry each target's value (one chart per figure); otherwise each
    target is labelled beside its marker and the legend entries are generic (small multiples).
    """
    tg = tg[tg.value.notna()]
    x = [chart_year(d) for d in obs.period_end]
    direction = meta["direction"]
    if len(obs):
        ax.plot(x, obs.value, color=OKABE_ITO[0], marker="o", linestyle="-", label=t("observed", lang), zorder=3)
        last_period = labels.period_text(obs.period.iloc[-1], obs.period_end.iloc[-1], lang)
        # the label grows away from the nearer edge of the time axis, so it never runs into the axis labels
        span = [min(x + list(tg.year)), max(x + list(tg.year))]
        where = (x[-1] - span[0]) / (span[1] - span[0]) if span[1] > span[0] else 0.0
        ha, dx = ("left", 4) if where < 0.3 else ("right", -4) if where > 0.7 else ("center", 0)
        width = 34 if detailed else 22
        ax.annotate("\n".join(textwrap.wrap(f"{format_number(obs.value.iloc[-1], lang=lang)} ({last_period})", width)),
                    (x[-1], obs.value.iloc[-1]), textcoords="offset points", xytext=(dx, 8),
                    fontsize=8 if detailed else 7, ha=ha)
    for i, row in enumerate(tg.itertuples()):
        goal = row.value if direction != "down" or pd.isna(row.value_high) else row.value_high
        color = OKABE_ITO[1 + i % 3]
        text = target_text(row.comparator, row.value, row.value_high, meta["unit"], lang)
        ax.plot([row.year], [goal], marker=MARKERS[1 + i % 3], markersize=9 if detailed else 7, linestyle="none",
                color=color, label=f"{t('target', lang)} {row.year}: {text}" if detailed else t("target", lang))
        if not detailed:
            # above the marker, unless the last figure's label (always above its point) could be there
            above = not len(obs) or (goal > obs.value.iloc[-1]) != (direction == "down" and meta["unit"] == "rank")
            ax.annotate(f"{row.year}: {text}", (row.year, goal), textcoords="offset points",
                        xytext=(-4, 7) if above else (-4, -9), va="bottom" if above else "top",
                        fontsize=7, ha="right", color=color)
        met = len(obs) and progress.meets(obs.value.iloc[-1], row.comparator, row.value, row.value_high, direction)
        if len(obs) and not met and row.year > x[-1]:
            ax.plot([x[-1], row.year], [obs.value.iloc[-1], goal], color=color, linestyle="--", linewidth=1.2,
                    label=f"{t('required_path', lang)} {row.year}" if detailed else t("required_path", lang))
    if len(obs) >= 2 and len(tg):
        last = tg.year.max()
        goal = tg[tg.year == last].value.iloc[0]
        p = progress.project(x[0], obs.value.iloc[0], x[-1], obs.value.iloc[-1], float(last), float(goal),
                             kind=projection_kind(meta["unit"]))
        if p.value is not None and last > x[-1]:
            ax.plot([x[-1], last], [obs.value.iloc[-1], p.value], color=OKABE_ITO[7], linestyle=":",
                    linewidth=1.5, label=t("projection", lang))
    xs = x + [float(y) for y in tg.year]
    start = unit_row["valid_from"]
    if pd.notna(start) and len(obs):
        merge_x = chart_year(start - pd.Timedelta(days=1))
        ax.axvline(merge_x, color="#999999", linewidth=0.8, linestyle="-.",
                   label=t("merger", lang, date=start.strftime("%d/%m/%Y")))
        xs.append(merge_x)
    _year_axis(ax, min(xs), max(xs), lang, 13 if detailed else 6)
    if not detailed:
        ax.set_xlabel("")
        ax.tick_params(labelsize=7)
    ax.set_ylabel(labels.unit(meta["unit"], lang), fontsize=None if detailed else 7.5)
    if meta["unit"] in ("rank", "count"):
        _integer_axis(ax.yaxis)
    if direction == "down" and meta["unit"] == "rank":
        ax.invert_yaxis()
    ax.yaxis.set_major_formatter(_value_formatter(lang))
    ax.margins(y=0.15 if detailed else 0.3)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)


def compare_targets(ds: Dataset, provinces: list[str], year: int = 2030, lang: str = "vi", unit: str = "percent",
                    min_shared: int = 2, max_panels: int = 4, indicators: list[str] | None = None):
    """Targets for one year, one panel per indicator that several units share, units sorted by their target.

    Each unit's target is a dot (a range is a line between its two ends), its marker the kind of document
    that set it; the national target of Resolution 57 is a dashed line. Only indicators of ``unit`` that
    at least ``min_shared`` series (units and the nation) target are drawn, the most shared first (at most
    ``max_panels``); when none are shared, every indicator is. ``indicators`` draws those only.
    """
    labels.check_lang(lang)
    slugs = [ds.find_province(p).name for p in provinces]
    nat = ds.provinces.loc[ds.provinces.level == "national"].iloc[0]
    tg = effective_targets(ds)
    tg = tg[(tg.year == year) & tg.province_slug.isin(slugs + [nat.slug]) & tg.value.notna()]
    ind = ds.indicators.set_index("id")
    tg = tg[tg.indicator.map(ind["unit"]) == unit]
    if indicators is not None:
        tg = tg[tg.indicator.isin(indicators)]
    shared = tg.groupby("indicator").province_slug.nunique()
    if (shared >= min_shared).any():
        shared = shared[shared >= min_shared]
    inds = sorted(shared.index, key=lambda i: (-shared[i], i))[:max_panels]
    names = ds.provinces.set_index("slug")["name_en" if lang == "en" else "name"]
    rows = [tg[(tg.indicator == i) & (tg.province_slug != nat.slug)] for i in inds]
    heights = [max(len(r), 1) for r in rows]
    fig, panel = _new_figure(8, 0.26 * sum(heights) + 1.0 * max(len(inds), 1) + 1.6,
                             _source_lines(ds, tg[tg.indicator.isin(inds)].source_id, lang, 8))
    panel.suptitle(t("compare_title", lang, year=year), fontsize=11)
    if not inds:
        ax = panel.add_subplot()
        ax.set_axis_off()
        ax.text(0.5, 0.5, t("no_data", lang), ha="center", va="center")
        return fig
    axes = panel.subplots(len(inds), 1, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    used = {}
    for ax, indicator, sub in zip(axes, inds, rows):
        meta = ind.loc[indicator]
        down = meta["direction"] == "down"
        sub = sub.assign(_mid=sub.value.where(sub.value_high.isna(), (sub.value + sub.value_high) / 2))
        sub = sub.sort_values(["_mid", "province_slug"], ascending=[down, True])
        for k, r in enumerate(sub.itertuples()):
            y = len(sub) - 1 - k
            mk = INSTRUMENT_MARKERS.get(r.instrument, "o")
            used[r.instrument] = mk
            if pd.notna(r.value_high):
                ax.plot([r.value, r.value_high], [y, y], color=OKABE_ITO[0], linewidth=3, solid_capstyle="butt")
                ax.plot([r.value, r.value_high], [y, y], linestyle="none", marker=mk, color=OKABE_ITO[0], markersize=6)
            else:
                ax.plot([r.value], [y], linestyle="none", marker=mk, color=OKABE_ITO[0], markersize=6)
            end = r.value if pd.isna(r.value_high) else r.value_high
            ax.annotate(target_text(r.comparator, r.value, r.value_high, unit, lang) + (" *" if r.inherited_from else ""),
                        (end, y), textcoords="offset points", xytext=(6, 0), va="center", fontsize=7.5)
        ax.set_yticks(range(len(sub)))
        ax.set_yticklabels([names[s] for s in sub.province_slug][::-1], fontsize=8)
        ax.set_ylim(-0.7, len(sub) - 0.3)
        national = tg[(tg.indicator == indicator) & (tg.province_slug == nat.slug)]
        hi = max([*sub.value, *sub.value_high.dropna(), *national.value, 1.0])
        if len(national):
            v = national.value.iloc[0]
            ax.axvline(v, color=OKABE_ITO[3], linestyle="--", linewidth=1.2)
            ax.text(v, len(sub) - 0.3, " " + t("national_target", lang, value=target_text(
                national.comparator.iloc[0], v, national.value_high.iloc[0], unit, lang)),
                color=OKABE_ITO[3], fontsize=7.5, va="bottom", ha="left")
        ax.set_xlim(0, hi * 1.25)
        ax.xaxis.set_major_formatter(_value_formatter(lang))
        ax.set_title("\n".join(textwrap.wrap(meta["name_en" if lang == "en" else "name_vi"], 90)), fontsize=9,
                     loc="left", pad=14 if len(national) else 6)
        ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
    axes[-1].set_xlabel(labels.unit(unit, lang))
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], linestyle="none", marker=m, color=OKABE_ITO[0], label=labels.instrument(k, lang))
               for k, m in used.items()]
    panel.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=7.5, frameon=False)
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
    if not len(assessment):
        raise ParameterError("The assessment is empty: there are no targets to summarise")
    pillars = ds.pillars.set_index("id")
    counts = assessment.groupby(["pillar", "status"]).size().unstack(fill_value=0)
    counts = counts.loc[[p for p in pillars.sort_values("order").index if p in counts.index]]
    statuses = [s for s in STATUS_ORDER if s in counts.columns]
    fig, panel = _new_figure(8, 0.4 * len(counts) + 2.4, [])
    ax = panel.add_subplot()
    left = pd.Series(0, index=counts.index)
    for k, s in enumerate(statuses):
        ax.barh(range(len(counts)), counts[s], left=left, color=STATUS_COLOURS[s], hatch=HATCHES[k % 8],
                edgecolor="white", label=progress.status_label(s, lang))
        left = left + counts[s]
    ax.set_yticks(range(len(counts)))
    ax.set_yticklabels([pillars.loc[p, "name_en" if lang == "en" else "name_vi"] for p in counts.index], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(t("count", lang))
    _integer_axis(ax.xaxis)
    prov = ds.provinces.set_index("slug").loc[assessment["province_slug"].iloc[0], "name_en" if lang == "en" else "name"]
    ax.set_title(f"{prov}: {t('status_overview', lang)}", fontsize=10)
    panel.legend(loc="outside lower center", ncols=3, fontsize=7.5, frameon=False)
    return fig


def layout_problems(fig) -> list[str]:
    """Text that is cut by the figure's edge or overlaps other text, after drawing (empty when clean).

    Every visible text artist counts: titles, tick labels, axis labels, legend entries, annotations and
    the source footnote.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.bbox
    axes = [a for a in fig.findobj(matplotlib.axes.Axes)]
    tick_texts, drawn = set(), set()
    for ax in axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.majorTicks + axis.minorTicks:
                tick_texts.update({id(tick.label1), id(tick.label2)})
            for tick in axis._update_ticks():  # the ticks inside the view: those that are drawn
                drawn.update({id(tick.label1)} if tick.label1.get_visible() else set())
                drawn.update({id(tick.label2)} if tick.label2.get_visible() else set())
    texts = [a for a in fig.findobj(Text) if a.get_visible() and a.get_text().strip()
             and (id(a) not in tick_texts or id(a) in drawn)]
    extents = []
    problems = []
    for a in texts:
        e = a.get_window_extent(renderer)
        if e.x0 < box.x0 - 0.5 or e.y0 < box.y0 - 0.5 or e.x1 > box.x1 + 0.5 or e.y1 > box.y1 + 0.5:
            problems.append(f"cut by the edge: {a.get_text()[:40]!r}")
        extents.append((a, e))
    for i, (a, e) in enumerate(extents):
        for b, f in extents[i + 1:]:
            if e.overlaps(f):
                overlap_w = min(e.x1, f.x1) - max(e.x0, f.x0)
                overlap_h = min(e.y1, f.y1) - max(e.y0, f.y0)
                if overlap_w > 1 and overlap_h > 1:
                    problems.append(f"overlap: {a.get_text()[:30]!r} and {b.get_text()[:30]!r}")
    return problems
