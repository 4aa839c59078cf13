"""Building blocks the notebooks share: parameter checks, headings, narrative and tables.

Everything that comes from a data file is shown as text, never as markup: headings and paragraphs go
through :func:`html.escape`, tables through pandas (which escapes cell text).
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

from . import labels, progress
from .dataset import Dataset, load
from .errors import ParameterError
from .labels import check_lang
from .numbers import format_number
from .tables import METHODS, assess, compare, effective_targets, series, target_text


class _HTML:
    """A piece of HTML for Jupyter's rich display (text/html) with a plain-text twin (text/plain)."""

    def __init__(self, markup: str, plain: str):
        self.markup, self.plain = markup, plain

    def _repr_html_(self):
        return self.markup

    def __repr__(self):
        return self.plain


_TABLE_STYLE = ("<style>table.nq57 td, table.nq57 th, .jp-RenderedHTMLCommon table.nq57 td, "
                ".jp-RenderedHTMLCommon table.nq57 th {text-align: left; vertical-align: top}</style>")


def _lower_first(text: str) -> str:
    """'Tỷ trọng kinh tế số trong GDP/GRDP' -> 'tỷ trọng kinh tế số trong GDP/GRDP' (acronyms kept)."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def table(df: pd.DataFrame) -> _HTML:
    """A table for display: no index column, nothing truncated, every cell escaped, text left-aligned."""
    markup = _TABLE_STYLE + df.to_html(index=False, escape=True, na_rep="", border=0, classes="nq57")
    with pd.option_context("display.max_colwidth", None, "display.width", 10_000):
        plain = df.to_string(index=False)
    return _HTML(markup, plain)


def heading(text: str, level: int = 2) -> _HTML:
    return _HTML(f"<h{level}>{html.escape(text)}</h{level}>", text)


def para(text: str) -> _HTML:
    return _HTML(f"<p>{html.escape(text)}</p>", text)


def bullets(items: list[str]) -> _HTML:
    inner = "".join(f"<li>{html.escape(i)}</li>" for i in items)
    return _HTML(f"<ul>{inner}</ul>", "\n".join(f"- {i}" for i in items))


@dataclass
class Context:
    """What a notebook works with once its parameters are checked."""

    ds: Dataset
    lang: str
    params: dict = field(default_factory=dict)
    province: pd.Series | None = None
    provinces: list[pd.Series] = field(default_factory=list)

    def tr(self, vi: str, en: str) -> str:
        return en if self.lang == "en" else vi

    def num(self, value, decimals: int | None = None, percent: bool = False) -> str:
        return format_number(value, decimals, percent, lang=self.lang)

    def pname(self, row: pd.Series) -> str:
        return row["name_en" if self.lang == "en" else "name"]

    def iname(self, indicator: str) -> str:
        return self.ds.indicator(indicator)["name_en" if self.lang == "en" else "name_vi"]


def start(notebook: str, **params) -> Context:
    """Check a notebook's parameters and load the data; raise ParameterError with a clear message.

    ``notebook`` is "overview", "compare" or "trajectories".
    """
    lang = params.get("lang", "vi")
    check_lang(lang)
    ds = load(params.get("data_dir"))
    ctx = Context(ds=ds, lang=lang, params=params)
    if notebook == "compare":
        provinces = params.get("provinces")
        if isinstance(provinces, str):
            provinces = [provinces]
        if not provinces:
            raise ParameterError("The list of provinces is empty: give at least one, e.g. provinces=['Lai Châu', 'Lào Cai']")
        ctx.provinces = [ds.find_province(p) for p in provinces]
        year = params.get("year", 2030)
        years = sorted(set(ds.targets.year))
        if year not in years:
            raise ParameterError(f"No targets for the year {year!r}: use one of {', '.join(map(str, years))}")
    elif notebook == "trajectories":
        ctx.province = ds.find_province(params.get("province", ""))
        method = params.get("method", "eurostat")
        if method not in METHODS:
            raise ParameterError(f"Unknown method {method!r}: use one of {', '.join(METHODS)}")
        years = params.get("target_years", [2030, 2045])
        if not years:
            raise ParameterError("target_years is empty: give at least one year, e.g. [2030, 2045]")
        first = ds.observations.period_end.min().year
        for y in years:
            if not isinstance(y, int) or y < first or y > 2050:
                raise ParameterError(f"Target year {y!r} is outside the data ({first}-2050): use e.g. [2030, 2045]")
    elif notebook != "overview":
        raise ParameterError(f"Unknown notebook {notebook!r}")
    return ctx


# ------------------------------------------------------------------ narrative

def explain(row, ctx: Context) -> str:
    """One assessment row in the words provincial planners use."""
    unit = row["unit"]
    pts = ctx.tr("điểm %/năm", "points a year") if unit == "percent" else ctx.tr(f"{labels.unit(unit, 'vi')}/năm", f"{labels.unit(unit, 'en')} a year")
    s = row["status"]
    if s in ("met", "not_yet", "no_data"):
        return {"met": ctx.tr("Đã hoàn thành theo báo cáo.", "Reported done."),
                "not_yet": ctx.tr("Báo cáo cho biết chưa hoàn thành.", "Reported not yet done."),
                "no_data": ctx.tr("Chưa có báo cáo về mốc này.", "No report on this milestone yet.")}[s]
    if s == "insufficient_data" and not row["n_obs"]:
        return ctx.tr("Chưa có số liệu: cần đo chỉ tiêu này.", "No figure yet: this indicator needs measuring.")
    latest = ctx.tr(f"Số liệu mới nhất {ctx.num(row['latest'])} ({row['latest_period']})",
                    f"Latest figure {ctx.num(row['latest'])} ({row['latest_period']})")
    if s == "achieved":
        return latest + ctx.tr(": đã đạt chỉ tiêu.", ": target already met.")
    if s == "not_achieved":
        return latest + ctx.tr(f": đã quá năm {row['year']} mà chưa đạt.", f": the year {row['year']} has passed without the target met.")
    need = row["required_pace"]
    gap = ctx.tr(f"; còn cách chỉ tiêu {ctx.num(abs(row['gap']), 2)}", f"; {ctx.num(abs(row['gap']), 2)} short of the target") \
        if row["gap"] is not None and not pd.isna(row["gap"]) else ""
    verb = ctx.tr("tăng" if (need or 0) >= 0 else "giảm", "rise" if (need or 0) >= 0 else "fall")
    req = ctx.tr(f"; cần {verb} {ctx.num(abs(need), 2)} {pts} để đạt năm {row['year']}",
                 f"; needs to {verb} {ctx.num(abs(need), 2)} {pts} to reach it by {row['year']}") \
        if need is not None and not pd.isna(need) else ""
    if s == "insufficient_data":
        return latest + gap + req + ctx.tr(" (mới có một số liệu, chưa tính được xu hướng).",
                                           " (a single figure: no trend yet).")
    shown = ctx.tr(f"; tốc độ thực tế {ctx.num(row['actual_pace'], 2)} {pts}", f"; shown pace {ctx.num(row['actual_pace'], 2)} {pts}") \
        if row["actual_pace"] is not None and not pd.isna(row["actual_pace"]) else ""
    reach = ""
    if row["year_reached"] is not None and not pd.isna(row["year_reached"]):
        reach = ctx.tr(f"; theo tốc độ này sẽ đạt vào khoảng năm {int(row['year_reached'])}",
                       f"; at this pace reached around {int(row['year_reached'])}")
    elif row["status"] not in ("not_assessable",):
        reach = ctx.tr("; theo tốc độ này sẽ không đạt", "; not reached at this pace")
    return latest + gap + req + shown + reach + "."


# ------------------------------------------------------------------ tables

def _cols(ctx, mapping):
    return {k: (v[1] if ctx.lang == "en" else v[0]) for k, v in mapping.items()}


_ASSESS_COLS = {"name": ("Chỉ tiêu", "Indicator"), "year": ("Năm", "Year"), "target_text": ("Mục tiêu", "Target"),
                "latest_text": ("Số liệu mới nhất", "Latest"), "status_text": ("Đánh giá", "Status"),
                "explain": ("Diễn giải", "Explanation")}


def assessment(ctx: Context, target_years=None, method: str = "eurostat") -> pd.DataFrame:
    a = assess(ctx.ds, province=ctx.province.name, method=method)
    if target_years:
        a = a[a.year.isin(list(target_years) + [2025])]
    return a.reset_index(drop=True)


def assessment_table(a: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """An assessment (from :func:`assessment`) as users read it."""
    out = pd.DataFrame({
        "name": a["name_en" if ctx.lang == "en" else "name_vi"],
        "year": a["year"].astype(str),
        "target_text": [target_text(c, v, h, u, ctx.lang) for c, v, h, u in
                        zip(a["comparator"], a["target"], a["target_high"], a["unit"])],
        "latest_text": [("–" if pd.isna(v) else f"{ctx.num(v)} ({p})") for v, p in zip(a["latest"], a["latest_period"])],
        "status_text": a["status"].map(lambda s: progress.status_label(s, ctx.lang)),
        "explain": [explain(r, ctx) for r in a.to_dict("records")],
    })
    inherited = a["inherited_from"].fillna("")
    out["name"] = [n + (" *" if i else "") for n, i in zip(out["name"], inherited)]
    return out.rename(columns=_cols(ctx, _ASSESS_COLS)).reset_index(drop=True)


def status_counts(a: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    c = a.groupby("status").size().reindex([s for s in progress.STATUSES if s in set(a.status)])
    return pd.DataFrame({ctx.tr("Đánh giá", "Status"): [progress.status_label(s, ctx.lang) for s in c.index],
                         ctx.tr("Số chỉ tiêu", "Targets"): c.values})


def pillar_names(ctx: Context) -> list[tuple[str, str]]:
    p = ctx.ds.pillars.sort_values("order")
    return list(zip(p.id, p["name_en" if ctx.lang == "en" else "name_vi"]))


def observation_table(obs: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    return pd.DataFrame({
        ctx.tr("Chỉ tiêu", "Indicator"): obs.indicator.map(ctx.iname),
        ctx.tr("Kỳ", "Period"): obs.period.values,
        ctx.tr("Giá trị", "Value"): [ctx.num(v) for v in obs.value],
    }).reset_index(drop=True)


def evidence(ctx: Context, slug: str) -> pd.DataFrame:
    """Every figure for one unit with its quote and its document: the source of each number shown."""
    ds = ctx.ds
    src = ds.sources.set_index("id")
    t = effective_targets(ds)
    t = t[t.province_slug == slug]
    o = ds.observations[ds.observations.province_slug == slug]
    rows = []
    for r in t.itertuples():
        rows.append((ctx.iname(r.indicator), ctx.tr(f"Mục tiêu {r.year}", f"Target {r.year}"),
                     "✓" if pd.isna(r.value) else ctx.num(r.value), r.quote or r.note, r.source_id))
    for r in o.itertuples():
        rows.append((ctx.iname(r.indicator), r.period, ctx.num(r.value), r.quote or r.note, r.source_id))
    out = pd.DataFrame(rows, columns=["i", "k", "v", "q", "s"])
    out["doc"] = [f"{src.loc[s, 'publisher']}: {src.loc[s, 'title']}" + (f" ({src.loc[s, 'url']})" if src.loc[s, "url"] else "")
                  for s in out.s]
    out = out.drop(columns="s")
    out.columns = [ctx.tr("Chỉ tiêu", "Indicator"), ctx.tr("Kỳ/mục tiêu", "Period/target"), ctx.tr("Giá trị", "Value"),
                   ctx.tr("Trích dẫn hoặc ghi chú", "Quote or note"), ctx.tr("Văn bản nguồn", "Source document")]
    return out


def compare_table(ctx: Context, year: int) -> pd.DataFrame:
    c = compare(ctx.ds, [p.name for p in ctx.provinces], year=year, lang=ctx.lang)
    amb = [col for col in c.columns if col.startswith("ambition: ")]
    for col in amb:
        c[col] = [("" if v is None or pd.isna(v) else ctx.num(v * 100, 0, percent=True)) for v in c[col]]
    c = c.drop(columns=["indicator"])
    if ctx.lang == "en":
        names = ctx.ds.provinces.set_index("name")["name_en"]
        c.columns = [names.get(col, col) if col in names.index else col for col in c.columns]
        c = c.rename(columns={col: col.replace("ambition: ", "Ambition vs national: ") for col in c.columns})
        c = c.rename(columns={"name": "Indicator", "unit": "Unit", "note": "Note"})
        c["Unit"] = c["Unit"].map(lambda u: labels.unit(u, "en"))
    else:
        c = c.rename(columns={col: col.replace("ambition: ", "So với quốc gia: ") for col in c.columns})
        c = c.rename(columns={"name": "Chỉ tiêu", "unit": "Đơn vị", "note": "Ghi chú"})
        c["Đơn vị"] = c["Đơn vị"].map(lambda u: labels.unit(u, "vi"))
    return c.fillna("")


def compare_narrative(ctx: Context, year: int) -> list[str]:
    """Sentences written from the data: each province's target against the national one."""
    c = compare(ctx.ds, [p.name for p in ctx.provinces], year=year, lang=ctx.lang)
    nat = ctx.ds.provinces.loc[ctx.ds.provinces.level == "national"].iloc[0]["name"]
    out = []
    for r in c.to_dict("records"):
        if not r.get(nat):
            continue
        for p in ctx.provinces:
            mine, amb = r.get(p["name"]), r.get(f"ambition: {p['name']}")
            if not mine or amb is None or pd.isna(amb):
                continue
            out.append(ctx.tr(
                f"{p['name']} đặt chỉ tiêu {_lower_first(r['name'])} {mine} năm {year}, bằng {ctx.num(amb * 100, 0)}% mức quốc gia ({r[nat]}).",
                f"{p['name_en']} targets {_lower_first(r['name'])} of {mine} for {year}, "
                f"{ctx.num(amb * 100, 0)}% of the national target ({r[nat]})."))
    return out


def figure(fig, alt: str = ""):
    """A chart for display in a notebook and in the HTML report (PNG; nbval compares the table beside it)."""
    from IPython.display import Image

    from .plots import to_png
    return Image(data=to_png(fig), format="png", metadata={"alt": alt} if alt else None)


def summary(a: pd.DataFrame, ctx: Context) -> str:
    """A one-paragraph summary of one unit's assessment."""
    n = len(a)
    if n == 0:
        return ctx.tr(f"Dữ liệu chưa ghi nhận chỉ tiêu nào của {ctx.pname(ctx.province)}; dưới đây là các số liệu đã được báo cáo.",
                      f"No targets are recorded for {ctx.pname(ctx.province)}; the figures reported for it are below.")
    by_year = a.groupby("year").size()
    years = ", ".join(f"{c} {ctx.tr('chỉ tiêu năm', 'for')} {y}" for y, c in by_year.items())
    done = int(a.status.isin(["achieved", "met"]).sum())
    no_obs = int(((a.n_obs == 0)).sum())
    inherited = a["inherited_from"].dropna().unique().tolist()
    text = ctx.tr(
        f"{ctx.pname(ctx.province)} có {n} chỉ tiêu ({years}). Đã đạt hoặc hoàn thành: {done}. "
        f"Chưa có số liệu nào: {no_obs}.",
        f"{ctx.pname(ctx.province)} has {n} targets ({years}). Met or done: {done}. With no figure yet: {no_obs}.")
    if inherited:
        text += " " + ctx.tr(f"Các chỉ tiêu đánh dấu * do {', '.join(inherited)} đặt ra trước sáp nhập và được kế thừa.",
                             f"Targets marked * were set by {', '.join(inherited)} before the merger and are carried over.")
    return text


def charted_indicators(a: pd.DataFrame) -> list[str]:
    """Indicators worth a trajectory chart: a numeric target and at least one figure."""
    keep = a[(a.unit != "milestone") & (a.n_obs > 0)]
    return list(dict.fromkeys(keep.indicator))


def chart_data(ctx: Context, indicator: str, target_years) -> pd.DataFrame:
    """The figures a trajectory chart draws, as a table (the part nbval compares)."""
    o, t = series(ctx.ds, ctx.province.name, indicator, target_years)
    unit = ctx.ds.indicator(indicator)["unit"]
    rows = [(r.period, ctx.tr("Số liệu", "Reported"), ctx.num(r.value)) for r in o.itertuples()]
    rows += [(str(r.year), ctx.tr("Mục tiêu", "Target"), target_text(r.comparator, r.value, r.value_high, unit, ctx.lang))
             for r in t.itertuples()]
    return pd.DataFrame(rows, columns=[ctx.tr("Kỳ", "Period"), ctx.tr("Loại", "Kind"), ctx.tr("Giá trị", "Value")])


def other_figures(ctx: Context, a: pd.DataFrame) -> pd.DataFrame:
    """Figures reported for the unit on indicators it has no target for."""
    o = ctx.ds.observations
    o = o[(o.province_slug == ctx.province.name) & ~o.indicator.isin(set(a.indicator))]
    return observation_table(o, ctx)


def missing(a: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Targets without any figure yet: what to measure next."""
    m = a[(a.n_obs == 0)]
    return pd.DataFrame({ctx.tr("Chỉ tiêu", "Indicator"): m["name_en" if ctx.lang == "en" else "name_vi"].values,
                         ctx.tr("Năm", "Year"): m.year.astype(str).values,
                         ctx.tr("Mục tiêu", "Target"): [target_text(c, v, h, u, ctx.lang) for c, v, h, u in
                                                        zip(m.comparator, m.target, m.target_high, m.unit)]})


# ------------------------------------------------------------------ overview

def units_table(ctx: Context) -> pd.DataFrame:
    ds = ctx.ds
    t = effective_targets(ds)
    nt = t[t.inherited_from.isna()].groupby("province_slug").size()
    no = ds.observations.groupby("province_slug").size()
    p = ds.provinces[ds.provinces.slug.isin(set(nt.index) | set(no.index))]
    fmt = lambda d: "" if pd.isna(d) else d.strftime("%d/%m/%Y")  # noqa: E731
    names = ds.provinces.set_index("slug")["name_en" if ctx.lang == "en" else "name"]
    return pd.DataFrame({
        ctx.tr("Đơn vị", "Unit"): p["name_en" if ctx.lang == "en" else "name"].values,
        ctx.tr("Mã", "Code"): p.code.values,
        ctx.tr("Hiệu lực từ", "Valid from"): p.valid_from.map(fmt).values,
        ctx.tr("Hiệu lực đến", "Valid to"): p.valid_to.map(fmt).values,
        ctx.tr("Sáp nhập vào", "Merged into"): [names.get(s, "") if s else "" for s in p.successor.fillna("")],
        ctx.tr("Chỉ tiêu", "Targets"): [int(nt.get(s, 0)) for s in p.slug],
        ctx.tr("Số liệu", "Figures"): [int(no.get(s, 0)) for s in p.slug],
    })


def pillar_table(ctx: Context) -> pd.DataFrame:
    ds = ctx.ds
    with_t, with_o = set(ds.targets.indicator), set(ds.observations.indicator)
    rows = []
    for pid, name in pillar_names(ctx):
        ids = set(ds.indicators[ds.indicators.pillar == pid].id)
        rows.append((name, len(ids), len(ids & with_t), len(ids & with_o)))
    return pd.DataFrame(rows, columns=[ctx.tr("Nhóm", "Pillar"), ctx.tr("Số chỉ tiêu", "Indicators"),
                                       ctx.tr("Có mục tiêu", "With targets"), ctx.tr("Có số liệu", "With figures")])


def coverage_matrix(ctx: Context) -> pd.DataFrame:
    """Province x indicator: M = mục tiêu (target), S = số liệu (figure), for every indicator with a target."""
    ds = ctx.ds
    t = effective_targets(ds)
    slugs = list(dict.fromkeys(t[t.inherited_from.isna()].province_slug))
    names = ds.provinces.set_index("slug")["name_en" if ctx.lang == "en" else "name"]
    inds = ds.indicators[ds.indicators.id.isin(set(t.indicator))].sort_values(["pillar", "id"])
    tk, ok = set(zip(t.province_slug, t.indicator)), set(zip(ds.observations.province_slug, ds.observations.indicator))
    letter_t, letter_o = ctx.tr("M", "T"), ctx.tr("S", "F")
    data = {ctx.tr("Chỉ tiêu", "Indicator"): inds["name_en" if ctx.lang == "en" else "name_vi"].values}
    for s in slugs:
        data[names[s]] = ["+".join(x for x, ok_ in ((letter_t, (s, i) in tk), (letter_o, (s, i) in ok)) if ok_)
                          for i in inds.id]
    return pd.DataFrame(data)


def sources_table(ctx: Context) -> pd.DataFrame:
    ds = ctx.ds
    n = pd.concat([ds.targets.source_id, ds.observations.source_id]).value_counts()
    s = ds.sources
    return pd.DataFrame({
        ctx.tr("Văn bản", "Document"): s.title.values, ctx.tr("Cơ quan, tác giả", "Publisher"): s.publisher.values,
        ctx.tr("Ngày", "Date"): s.published.map(lambda d: "" if pd.isna(d) else d.strftime("%d/%m/%Y")).values,
        ctx.tr("Địa chỉ", "Address"): s.url.values, ctx.tr("Số con số", "Figures"): [int(n.get(i, 0)) for i in s.id],
    })


def gaps_table(ctx: Context) -> pd.DataFrame:
    """Targets with no figure yet, per unit in force: what to measure next."""
    a = assess(ctx.ds)
    in_force = set(ctx.ds.provinces[ctx.ds.provinces.valid_to.isna()].slug)
    a = a[(a.n_obs == 0) & (a.unit != "milestone") & a.province_slug.isin(in_force)]
    return pd.DataFrame({
        ctx.tr("Đơn vị", "Unit"): a.province_slug.map(ctx.ds.provinces.set_index("slug")["name_en" if ctx.lang == "en" else "name"]).values,
        ctx.tr("Chỉ tiêu", "Indicator"): a["name_en" if ctx.lang == "en" else "name_vi"].values,
        ctx.tr("Năm", "Year"): a.year.astype(str).values,
        ctx.tr("Mục tiêu", "Target"): [target_text(c, v, h, u, ctx.lang) for c, v, h, u in
                                        zip(a.comparator, a.target, a.target_high, a.unit)],
    })
