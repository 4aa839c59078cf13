"""Building blocks the notebooks share: parameter checks, headings, narrative and tables.

Everything that comes from a data file is shown as text, never as markup: headings, paragraphs and table
cells go through :func:`html.escape`; a web address becomes a link only when it is one (``http(s)://``)
and is escaped inside the ``href`` too.
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field

import pandas as pd

from . import labels, progress
from .dataset import Dataset, load
from .errors import ParameterError
from .labels import check_lang
from .numbers import format_number
from .tables import METHODS, _ambition, assess, compare, coverage, effective_targets, series, target_text

#: the act of the National Assembly that merged 63 provinces into 34 (in force 1 July 2025)
MERGER_ACT = ("Nghị quyết 202/2025/QH15 của Quốc hội", "National Assembly Resolution 202/2025/QH15")
#: beyond this year a projection is not worth a date ("not before 2100")
HORIZON = 2100


class _HTML:
    """A piece of HTML for Jupyter's rich display (text/html) with a plain-text twin (text/plain)."""

    def __init__(self, markup: str, plain: str):
        self.markup, self.plain = markup, plain

    def _repr_html_(self):
        return self.markup

    def __repr__(self):
        return self.plain


_TABLE_STYLE = ("<style>table.nq57 {border-collapse: collapse} table.nq57 td, table.nq57 th, "
                ".jp-RenderedHTMLCommon table.nq57 td, .jp-RenderedHTMLCommon table.nq57 th "
                "{text-align: left; vertical-align: top; padding: 0.25em 0.5em; border-bottom: 1px solid #ddd}</style>")
_URL = re.compile(r"https?://[^\s\"'<>]+")


def _cell(value, link: bool = False, lang: str | None = None) -> str:
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    attr = f' lang="{lang}"' if lang and text else ""
    if link and _URL.fullmatch(text):
        return f'<td><a href="{html.escape(text, quote=True)}" rel="noopener noreferrer">{html.escape(text)}</a></td>'
    return f"<td{attr}>{html.escape(text)}</td>"


def table(df: pd.DataFrame, links=(), vietnamese=()) -> _HTML:
    """A table for display: no index column, nothing truncated, every cell escaped, text left-aligned.

    ``links`` names columns whose web addresses become links; ``vietnamese`` names columns of text quoted
    from Vietnamese sources (marked ``lang="vi"``).
    """
    cols = list(df.columns)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(_cell(v, c in links, "vi" if c in vietnamese else None)
                                    for c, v in zip(cols, row)) + "</tr>"
                   for row in df.itertuples(index=False, name=None))
    markup = f'{_TABLE_STYLE}<table class="nq57"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
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


def section(title: str | None, content, level: int = 2, **table_options) -> _HTML | None:
    """A heading with its table (a DataFrame), list (of str) or paragraph (str); None when there is
    nothing to show, so that a report never shows an empty heading or a header-only table.
    Without a title: the content alone."""
    if content is None or (hasattr(content, "__len__") and len(content) == 0):
        return None
    if isinstance(content, pd.DataFrame):
        body = table(content, **table_options)
    elif isinstance(content, str):
        body = para(content)
    else:
        body = bullets(list(content))
    if not title:
        return body
    head = heading(title, level)
    return _HTML(head.markup + body.markup, head.plain + "\n" + body.plain)


def show(*items) -> None:
    """Display each item that is not None (a section with nothing to show is None)."""
    from IPython.display import display
    display(*[i for i in items if i is not None])


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

    def uname(self, slug: str) -> str:
        """A unit's name from its slug, in the report's language."""
        return self.ds.provinces.set_index("slug").loc[slug, "name_en" if self.lang == "en" else "name"]

    def iname(self, indicator: str) -> str:
        return self.ds.indicator(indicator)["name_en" if self.lang == "en" else "name_vi"]

    def period(self, period, period_end=None) -> str:
        return labels.period_text(period, period_end, self.lang)

    def note(self, row) -> str:
        """A row's note in the report's language ('' when there is none in that language)."""
        note = row.get("note_en", "") if self.lang == "en" else row.get("note", "")
        return "" if note is None or (isinstance(note, float) and math.isnan(note)) else str(note)

    def date(self, ts) -> str:
        return "" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%d/%m/%Y")


# ------------------------------------------------------------------ parameters

def target_years_param(value) -> list[int]:
    """``target_years`` as a list of years: accepts 2030, "2030", "2030, 2045", [2030, "2045"].

    >>> target_years_param("2030, 2045"), target_years_param(2045), target_years_param(["2030"])
    ([2030, 2045], [2045], [2030])
    """
    items = value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",") \
        if isinstance(value, str) else [value]
    years = []
    for item in items:
        text = str(item).strip()
        if isinstance(item, bool) or not re.fullmatch(r"\d{4}", text):
            raise ParameterError(f"target_years {value!r}: {item!r} is not a year; write years such as [2030, 2045] or \"2030, 2045\"")
        years.append(int(text))
    if not years:
        raise ParameterError("target_years is empty: give at least one year, e.g. [2030, 2045]")
    return years


def units_with_targets(ds: Dataset) -> list[str]:
    """Names of the units in force (not the nation) that have targets of their own or inherited."""
    t = effective_targets(ds)
    in_force = ds.provinces[ds.provinces.valid_to.isna() & (ds.provinces.level == "province")]
    return [r.name for r in in_force.itertuples() if r.slug in set(t.province_slug)]


def check_parameters(ds: Dataset, params: dict) -> dict:
    """Check the parameters a notebook or reports.yaml gives, by name; return them normalised.

    Known names: ``lang``, ``province``, ``provinces`` (a list, one name, or "all": every unit with
    targets), ``year``, ``target_years``, ``method``, ``data_dir``. Raises :class:`ParameterError` with one
    line saying what to change.
    """
    out = dict(params)
    if "lang" in out:
        check_lang(out["lang"])
    if "method" in out and out["method"] not in METHODS:
        raise ParameterError(f"Unknown method {out['method']!r}: use one of {', '.join(METHODS)}")
    if "province" in out:
        ds.find_province(str(out["province"]))
    if "provinces" in out:
        provinces = out["provinces"]
        if provinces == "all":
            provinces = units_with_targets(ds)
        elif isinstance(provinces, str):
            provinces = [provinces]
        if not provinces:
            raise ParameterError("The list of provinces is empty: give at least one, e.g. provinces=['Lai Châu', 'Lào Cai'], or 'all'")
        for p in provinces:
            ds.find_province(str(p))
        out["provinces"] = list(provinces)
    if "year" in out:
        years = sorted(set(ds.targets.year))
        if out["year"] not in years:
            raise ParameterError(f"No targets for the year {out['year']!r}: use one of {', '.join(map(str, years))}")
    if "target_years" in out:
        out["target_years"] = target_years_param(out["target_years"])
        first = ds.observations.period_end.min().year
        for y in out["target_years"]:
            if y < first or y > 2050:
                raise ParameterError(f"Target year {y!r} is outside the data ({first}-2050): use e.g. [2030, 2045]")
    return out


def start(notebook: str, **params) -> Context:
    """Check a notebook's parameters and load the data; raise ParameterError with a clear message.

    ``notebook`` is "overview", "compare" or "trajectories".
    """
    if notebook not in ("overview", "compare", "trajectories"):
        raise ParameterError(f"Unknown notebook {notebook!r}")
    check_lang(params.get("lang", "vi"))
    ds = load(params.get("data_dir"))
    if notebook == "compare" and "provinces" not in params:
        params["provinces"] = []
    params = check_parameters(ds, params)
    ctx = Context(ds=ds, lang=params.get("lang", "vi"), params=params)
    if notebook == "compare":
        ctx.provinces = [ds.find_province(p) for p in params["provinces"]]
    elif notebook == "trajectories":
        ctx.province = ds.find_province(params.get("province", ""))
    return ctx


# ------------------------------------------------------------------ narrative

def _pace_unit(unit: str, ctx: Context) -> str:
    if unit == "percent":
        return ctx.tr("điểm %/năm", "points a year")
    return ctx.tr(f"{labels.unit(unit, 'vi')}/năm", f"{labels.unit(unit, 'en')} a year")


def _present(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def explain(row, ctx: Context) -> str:
    """One assessment row in the words provincial planners use."""
    unit, s = row["unit"], row["status"]
    pts = _pace_unit(unit, ctx)
    if row["unit"] == "milestone":
        return {"met": ctx.tr("Đã hoàn thành theo báo cáo.", "Reported done."),
                "not_yet": ctx.tr("Báo cáo cho biết chưa hoàn thành.", "Reported not yet done."),
                "no_data": ctx.tr("Chưa có báo cáo về mốc này.", "No report on this milestone yet.")}[s]
    if s == "no_data":
        return ctx.tr("Chưa có số liệu: cần đo chỉ tiêu này.", "No figure yet: this indicator needs measuring.")
    latest = ctx.tr(f"Số liệu mới nhất {ctx.num(row['latest'])} ({ctx.period(row['latest_period'], row['latest_date'])})",
                    f"Latest figure {ctx.num(row['latest'])} ({ctx.period(row['latest_period'], row['latest_date'])})")
    if s == "achieved":
        beyond = row["comparator"] == "between" and _present(row["target_high"]) and (
            row["latest"] > row["target_high"] if row["direction"] != "down" else row["latest"] < row["target"])
        if beyond:
            side = ctx.tr("vượt trên", "above") if row["direction"] != "down" else ctx.tr("thấp hơn", "below")
            return latest + ctx.tr(f": đã đạt ({side} khoảng mục tiêu).", f": target met ({side} the range).")
        return latest + ctx.tr(": đã đạt chỉ tiêu.", ": target already met.")
    if s == "not_achieved":
        return latest + ctx.tr(f": đã quá năm {row['year']} mà chưa đạt.", f": the year {row['year']} has passed without the target met.")
    need = row["required_pace"]
    gap = ctx.tr(f"; còn cách chỉ tiêu {ctx.num(abs(row['gap']), 2)}", f"; {ctx.num(abs(row['gap']), 2)} short of the target") \
        if _present(row["gap"]) else ""
    verb = ctx.tr("tăng" if (need or 0) >= 0 else "giảm", "rise" if (need or 0) >= 0 else "fall")
    req = ctx.tr(f"; cần {verb} {ctx.num(abs(need), 2)} {pts} để đạt năm {row['year']}",
                 f"; needs to {verb} {ctx.num(abs(need), 2)} {pts} to reach it by {row['year']}") if _present(need) else ""
    if s == "insufficient_data":
        return latest + gap + req + ctx.tr(" (mới có một số liệu, chưa tính được xu hướng).",
                                           " (a single figure: no trend yet).")
    actual = row["actual_pace"]
    shown = ctx.tr(f"; tốc độ thực tế {ctx.num(actual, 2)} {pts}", f"; shown pace {ctx.num(actual, 2)} {pts}") \
        if _present(actual) else ""
    reach = ""
    if _present(row["year_reached"]) and row["year_reached"] <= HORIZON:
        reach = ctx.tr(f"; theo tốc độ này sẽ đạt vào khoảng năm {int(row['year_reached'])}",
                       f"; at this pace reached around {int(row['year_reached'])}")
    elif _present(row["year_reached"]):
        times = abs(need / actual) if _present(need) and _present(actual) and actual else None
        more = ctx.tr(f", cần gấp {ctx.num(times, 1)} lần tốc độ hiện tại", f"; {ctx.num(times, 1)}× the current pace is needed") \
            if times else ""
        reach = ctx.tr(f"; theo tốc độ này không đạt trước năm {HORIZON}{more}", f"; at this pace not before {HORIZON}{more}")
    elif s != "not_assessable":
        reach = ctx.tr("; theo tốc độ này sẽ không đạt", "; not reached at this pace")
    return latest + gap + req + shown + reach + "."


# ------------------------------------------------------------------ tables

def _cols(ctx, mapping):
    return {k: (v[1] if ctx.lang == "en" else v[0]) for k, v in mapping.items()}


_ASSESS_COLS = {"name": ("Chỉ tiêu", "Indicator"), "year": ("Năm", "Year"), "target_text": ("Mục tiêu", "Target"),
                "set_by": ("Văn bản đặt mục tiêu", "Set by"), "latest_text": ("Số liệu mới nhất", "Latest"),
                "status_text": ("Đánh giá", "Status"), "explain": ("Diễn giải", "Explanation")}


def assessment(ctx: Context, target_years=None, method: str = "eurostat") -> pd.DataFrame:
    """The unit's assessment for the target years (2025 annual-plan targets are always included)."""
    a = assess(ctx.ds, province=ctx.province.name, method=method)
    if target_years:
        a = a[a.year.isin(list(target_years_param(target_years)) + [2025])]
    return a.reset_index(drop=True)


def _set_by(row, ctx: Context, others: pd.DataFrame) -> str:
    text = labels.instrument(row["instrument"], ctx.lang)
    if row["also_set_by"]:
        alt = others[(others.province_slug == row["province_slug"]) & (others.indicator == row["indicator"])
                     & (others.year == row["year"]) & ~others.chosen]
        also = [f"{target_text(r.comparator, r.value, r.value_high, row['unit'], ctx.lang)} "
                f"({labels.instrument(r.instrument, ctx.lang)})" for r in alt.itertuples()]
        text += ctx.tr("; văn bản khác: ", "; also set by: ") + "; ".join(also)
    return text


def assessment_table(a: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """An assessment (from :func:`assessment`) as users read it."""
    others = effective_targets(ctx.ds, chosen_only=False)
    out = pd.DataFrame({
        "name": a["name_en" if ctx.lang == "en" else "name_vi"],
        "year": a["year"].astype(str),
        "target_text": [target_text(c, v, h, u, ctx.lang) for c, v, h, u in
                        zip(a["comparator"], a["target"], a["target_high"], a["unit"])],
        "set_by": [_set_by(r, ctx, others) for r in a.to_dict("records")],
        "latest_text": [("–" if pd.isna(v) else f"{ctx.num(v)} ({ctx.period(p, d)})")
                        for v, p, d in zip(a["latest"], a["latest_period"], a["latest_date"])],
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


def observation_table(obs: pd.DataFrame, ctx: Context, unit_column: bool = False) -> pd.DataFrame:
    data = {}
    if unit_column:
        data[ctx.tr("Đơn vị", "Unit")] = [ctx.uname(s) for s in obs.province_slug]
    data[ctx.tr("Chỉ tiêu", "Indicator")] = [ctx.iname(i) for i in obs.indicator]
    data[ctx.tr("Kỳ", "Period")] = [ctx.period(p, d) for p, d in zip(obs.period, obs.period_end)]
    data[ctx.tr("Giá trị", "Value")] = [ctx.num(v) for v in obs.value]
    return pd.DataFrame(data).reset_index(drop=True)


def _doc(ctx: Context, src: pd.DataFrame, sid: str) -> str:
    s = src.loc[sid]
    when = ctx.date(s["published"])
    return s["title"] + (f" ({when})" if when else "")


EVIDENCE_QUOTE = ("Trích dẫn nguyên văn hoặc ghi chú", "Quote (Vietnamese, as the source wrote it) or note")


def evidence(ctx: Context, slug: str) -> pd.DataFrame:
    """Every figure for one unit with its quote and its document: the source of each number shown."""
    ds = ctx.ds
    src = ds.sources.set_index("id")
    t = effective_targets(ds, chosen_only=False)
    t = t[t.province_slug == slug]
    o = ds.observations[ds.observations.province_slug == slug]
    rows = []
    for r in t.to_dict("records"):
        rows.append((ctx.iname(r["indicator"]), ctx.tr(f"Mục tiêu {r['year']}", f"Target {r['year']}"),
                     "✓" if pd.isna(r["value"]) else target_text(r["comparator"], r["value"], r["value_high"],
                                                                ds.indicator(r["indicator"])["unit"], ctx.lang),
                     r["quote"] or ctx.note(r), r["source_id"]))
    for r in o.to_dict("records"):
        rows.append((ctx.iname(r["indicator"]), ctx.period(r["period"], r["period_end"]), ctx.num(r["value"]),
                     r["quote"] or ctx.note(r), r["source_id"]))
    out = pd.DataFrame(rows, columns=["i", "k", "v", "q", "s"])
    out["doc"] = [_doc(ctx, src, s) for s in out.s]
    out["kind"] = [labels.instrument(src.loc[s, "instrument"], ctx.lang)
                   + (ctx.tr(" (bản dịch máy)", " (machine translation)") if src.loc[s, "machine_translated"] else "")
                   for s in out.s]
    out["url"] = [src.loc[s, "url"] for s in out.s]
    out = out.drop(columns="s")
    out.columns = [ctx.tr("Chỉ tiêu", "Indicator"), ctx.tr("Kỳ/mục tiêu", "Period/target"), ctx.tr("Giá trị", "Value"),
                   ctx.tr(*EVIDENCE_QUOTE), ctx.tr("Văn bản nguồn", "Source document"),
                   ctx.tr("Loại văn bản", "Kind of document"), ctx.tr("Địa chỉ", "Link")]
    return out


def evidence_table(ctx: Context, slug: str) -> _HTML | None:
    """The evidence of one unit as a displayed table: links clickable, quotes marked as Vietnamese."""
    e = evidence(ctx, slug)
    return section(ctx.tr("Nguồn của từng con số", "The source of every figure"), e,
                   links=(ctx.tr("Địa chỉ", "Link"),), vietnamese=(ctx.tr(*EVIDENCE_QUOTE),))


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


#: a comparison of more units than this is shown as rankings, not as one column per unit
MANY = 6


def is_many(ctx: Context) -> bool:
    """Whether the comparison has too many units for side-by-side columns (then: rankings)."""
    return len(ctx.provinces) > MANY


def _targets_of(ctx: Context, year: int, indicator: str | None = None) -> pd.DataFrame:
    """The effective targets of the compared units (and the nation) for one year."""
    t = effective_targets(ctx.ds)
    slugs = [p.name for p in ctx.provinces]
    t = t[(t.year == year) & t.province_slug.isin(slugs + [_nation(ctx).slug]) & t.value.notna()]
    return t if indicator is None else t[t.indicator == indicator]


def _nation(ctx: Context) -> pd.Series:
    return ctx.ds.provinces.loc[ctx.ds.provinces.level == "national"].iloc[0]


def ranking(ctx: Context, year: int, indicator: str = "digital_economy_share") -> pd.DataFrame:
    """Every compared unit's target for one indicator and year, the most ambitious first, with the kind
    of document that set it, the ratio to the national target and the former province it comes from.
    Units without such a target are listed last, so that a reader sees who has none."""
    meta = ctx.ds.indicator(indicator)
    t = _targets_of(ctx, year, indicator)
    nat = t[t.province_slug == _nation(ctx).slug]
    national = nat.iloc[0] if len(nat) else None
    src = ctx.ds.sources.set_index("id")
    rows = []
    for p in ctx.provinces:
        mine = t[t.province_slug == p.name]
        if not len(mine):
            rows.append((ctx.pname(p), ctx.tr("chưa có mục tiêu", "no target yet"), "", "", "", "", None))
            continue
        r = mine.iloc[0]
        amb = _ambition(r, national, meta["direction"])
        mid = r["value"] if pd.isna(r["value_high"]) else (r["value"] + r["value_high"]) / 2
        inherited = r["inherited_from"] if isinstance(r["inherited_from"], str) else ""
        if inherited and ctx.lang == "en":
            inherited = ctx.ds.provinces.set_index("name").loc[inherited, "name_en"]
        rows.append((ctx.pname(p), target_text(r["comparator"], r["value"], r["value_high"], meta["unit"], ctx.lang),
                     "" if amb is None else ctx.num(amb * 100, 0, percent=True),
                     labels.instrument(r["instrument"], ctx.lang), inherited, _doc(ctx, src, r["source_id"]),
                     -mid if meta["direction"] != "down" else mid))
    out = pd.DataFrame(rows, columns=["u", "t", "a", "k", "i", "d", "_sort"])
    out = out.sort_values("_sort", na_position="last", kind="stable").drop(columns="_sort")
    out.columns = [ctx.tr("Đơn vị", "Unit"), ctx.tr(f"Mục tiêu {year}", f"Target {year}"),
                   ctx.tr("So với mục tiêu quốc gia", "Against the national target"),
                   ctx.tr("Loại văn bản đặt mục tiêu", "Kind of document that set it"),
                   ctx.tr("Kế thừa từ tỉnh cũ", "Inherited from the former province"),
                   ctx.tr("Văn bản nguồn", "Source document")]
    return out.reset_index(drop=True)


def ranking_summary(ctx: Context, year: int, indicator: str = "digital_economy_share") -> list[str]:
    """Sentences written from the data about one shared target: how many units set it, the range, and
    how many match or exceed the national target."""
    meta = ctx.ds.indicator(indicator)
    t = _targets_of(ctx, year, indicator)
    nat = t[t.province_slug == _nation(ctx).slug]
    mine = t[t.province_slug != _nation(ctx).slug].copy()
    name = _lower_first(meta["name_en" if ctx.lang == "en" else "name_vi"])
    n, total = mine.province_slug.nunique(), len(ctx.provinces)
    if not n:
        return [ctx.tr(f"Chưa đơn vị nào có mục tiêu {name} cho năm {year}.",
                       f"No unit has a target for {name} in {year} yet.")]
    mine["_mid"] = mine.value.where(mine.value_high.isna(), (mine.value + mine.value_high) / 2)
    hi, lo = mine.loc[mine._mid.idxmax()], mine.loc[mine._mid.idxmin()]
    txt = lambda r: target_text(r["comparator"], r["value"], r["value_high"], meta["unit"], ctx.lang)
    med = target_text("=", mine._mid.median(), None, meta["unit"], ctx.lang)
    out = [ctx.tr(f"{n}/{total} đơn vị có mục tiêu {name} cho năm {year}: cao nhất {ctx.uname(hi.province_slug)} "
                  f"({txt(hi)}), thấp nhất {ctx.uname(lo.province_slug)} ({txt(lo)}), trung vị {med}.",
                  f"{n} of {total} units have a target for {name} in {year}: highest {ctx.uname(hi.province_slug)} "
                  f"({txt(hi)}), lowest {ctx.uname(lo.province_slug)} ({txt(lo)}), median {med}.")]
    if len(nat):
        v = nat.iloc[0]
        k = int((mine._mid >= v["value"]).sum()) if meta["direction"] != "down" else int((mine._mid <= v["value"]).sum())
        out.append(ctx.tr(f"{k} đơn vị đặt mục tiêu bằng hoặc vượt mục tiêu quốc gia của Nghị quyết 57 ({txt(v)}).",
                          f"{k} units match or exceed Resolution 57's national target ({txt(v)})."))
    inh = int(mine.inherited_from.notna().sum())
    if inh:
        out.append(ctx.tr(f"Với {inh} đơn vị, mục tiêu là của một tỉnh cũ (cột “Kế thừa từ tỉnh cũ”): chưa văn bản nào "
                          f"sau sáp nhập đặt mục tiêu này.",
                          f"For {inh} units the target is a former province's (column “Inherited from the former "
                          f"province”): no document since the merger sets it yet."))
    return out


def shared_targets(ctx: Context, year: int, min_units: int = 3, skip=("digital_economy_share",)) -> pd.DataFrame:
    """The other targets that at least ``min_units`` compared units set for the year, one row per unit,
    grouped by indicator and sorted by target within it."""
    t = _targets_of(ctx, year)
    t = t[(t.province_slug != _nation(ctx).slug) & ~t.indicator.isin(skip)]
    counts = t.groupby("indicator").province_slug.nunique()
    keep = counts[counts >= min_units].sort_values(ascending=False, kind="stable").index
    ind = ctx.ds.indicators.set_index("id")
    rows = []
    for i in keep:
        g = t[t.indicator == i].copy()
        down = ind.loc[i, "direction"] == "down"
        g["_mid"] = g.value.where(g.value_high.isna(), (g.value + g.value_high) / 2)
        for r in g.sort_values("_mid", ascending=down, kind="stable").to_dict("records"):
            rows.append((ctx.iname(i), ctx.uname(r["province_slug"]),
                         target_text(r["comparator"], r["value"], r["value_high"], ind.loc[i, "unit"], ctx.lang),
                         labels.instrument(r["instrument"], ctx.lang)))
    return pd.DataFrame(rows, columns=[ctx.tr("Chỉ tiêu", "Indicator"), ctx.tr("Đơn vị", "Unit"),
                                       ctx.tr(f"Mục tiêu {year}", f"Target {year}"),
                                       ctx.tr("Loại văn bản", "Kind of document")])


def dti_by_unit(ctx: Context) -> pd.DataFrame:
    """The DTI (provincial digital transformation index) of every compared unit: its 2024 rank among the
    34 units, and the latest rank among the 63 former provinces of the unit and of the provinces that
    merged into it (two scales, kept apart)."""
    ds = ctx.ds
    o = ds.observations
    r34 = o[o.indicator == "dti_rank_34"].sort_values("period_end").groupby("province_slug").last()
    r63 = o[o.indicator == "dti_rank_63"].sort_values("period_end").groupby("province_slug").last()
    p = ds.provinces
    preds = p.dropna(subset=["successor"]).groupby("successor").slug.apply(list)
    rows = []
    for u in ctx.provinces:
        former = [u.name] + sorted(preds.get(u.name, []))
        old = [f"{ctx.uname(s)}: {int(r63.loc[s, 'value'])} ({ctx.period(r63.loc[s, 'period'], r63.loc[s, 'period_end'])})"
               for s in former if s in r63.index]
        rank = r34.loc[u.name, "value"] if u.name in r34.index else None
        rows.append((ctx.pname(u), "" if rank is None else str(int(rank)), "; ".join(old), 99 if rank is None else rank))
    out = pd.DataFrame(rows, columns=["u", "a", "b", "_s"]).sort_values(["_s", "u"], kind="stable").drop(columns="_s")
    out.columns = [ctx.tr("Đơn vị", "Unit"), ctx.tr("Hạng DTI 2024 (trên 34)", "DTI 2024 rank (of 34)"),
                   ctx.tr("Hạng DTI gần nhất trên 63 tỉnh cũ", "Latest DTI rank among the 63 former provinces")]
    return out.reset_index(drop=True)


def coverage_units(ctx: Context) -> pd.DataFrame:
    """The 34 units in force: their own targets, the targets they inherit, their figures and those of the
    provinces that merged into them, and their 2030 digital-economy target."""
    c = coverage(ctx.ds)["units"]
    p = ctx.ds.provinces
    preds = p.dropna(subset=["successor"]).groupby("successor").slug.apply(list)
    return pd.DataFrame({
        ctx.tr("Đơn vị", "Unit"): c["name_en" if ctx.lang == "en" else "name"].values,
        ctx.tr("Các tỉnh cũ sáp nhập vào (1/7/2025)", "Former provinces merged into it (1 July 2025)"):
            [", ".join(ctx.uname(x) for x in sorted(preds.get(u, []))) for u in c.province_slug],
        ctx.tr("Mục tiêu của đơn vị", "Own targets"): c.targets.values,
        ctx.tr("Mục tiêu kế thừa từ tỉnh cũ", "Targets inherited"): c.inherited.values,
        ctx.tr("Số liệu của đơn vị", "Own figures"): c.figures.values,
        ctx.tr("Số liệu của các tỉnh cũ", "Former provinces' figures"): c.former_figures.values,
        ctx.tr("Mục tiêu kinh tế số 2030", "2030 digital-economy target"): c.de_target.values,
    })


def coverage_instruments(ctx: Context) -> pd.DataFrame:
    """How many sources, targets and figures each kind of document gives."""
    c = coverage(ctx.ds)["instruments"]
    return pd.DataFrame({
        ctx.tr("Loại văn bản", "Kind of document"): [labels.instrument(i, ctx.lang) for i in c.instrument],
        ctx.tr("Nguồn", "Sources"): c.sources.values, ctx.tr("Mục tiêu", "Targets"): c.targets.values,
        ctx.tr("Số liệu", "Figures"): c.figures.values,
    })


def _lower_first(text: str) -> str:
    """'Tỷ trọng kinh tế số trong GDP/GRDP' -> 'tỷ trọng kinh tế số trong GDP/GRDP' (acronyms kept)."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def figure(fig, alt: str = ""):
    """A chart for display in a notebook and in the HTML report (PNG; nbval compares the table beside it)."""
    from IPython.display import Image

    from .plots import to_png
    return Image(data=to_png(fig), format="png", metadata={"alt": alt} if alt else None)


def summary(a: pd.DataFrame, ctx: Context) -> str:
    """A one-paragraph summary of one unit's assessment: what is known and what is not."""
    name = ctx.pname(ctx.province)
    n = len(a)
    if n == 0:
        o = ctx.ds.observations[ctx.ds.observations.province_slug == ctx.province.name]
        if not len(o):
            return ctx.tr(f"Dữ liệu chưa có chỉ tiêu hay số liệu nào của {name}.",
                          f"The data holds no target and no figure for {name} yet.")
        inds = list(dict.fromkeys(ctx.iname(i) for i in o.indicator))
        shown = "; ".join(inds[:3]) + (ctx.tr(f" và {len(inds) - 3} chỉ tiêu khác", f" and {len(inds) - 3} more") if len(inds) > 3 else "")
        return ctx.tr(f"Dữ liệu chưa ghi nhận chỉ tiêu nào do {name} đặt ra, nên chưa đánh giá được tiến độ; "
                      f"có {len(o)} số liệu đã báo cáo ({shown}), trình bày dưới đây.",
                      f"No targets set by {name} are recorded, so progress cannot be assessed; "
                      f"{len(o)} reported figures ({shown}) are shown below.")
    by_year = a.groupby("year").size()
    years = ", ".join(f"{c} {ctx.tr('chỉ tiêu năm', 'for')} {y}" for y, c in by_year.items())
    done = int(a.status.isin(["achieved", "met"]).sum())
    no_fig = int((a.status == "no_data").sum())
    text = ctx.tr(
        f"{name} có {n} chỉ tiêu ({years}). Đã đạt hoặc hoàn thành: {done}. "
        f"{progress.status_label('no_data', 'vi')}: {no_fig}.",
        f"{name} has {n} targets ({years}). Met or done: {done}. {progress.status_label('no_data', 'en')}: {no_fig}.")
    inherited = a["inherited_from"].dropna().unique().tolist()
    if inherited:
        names = ", ".join(ctx.uname(ctx.ds.find_province(i).name) for i in inherited)
        text += " " + ctx.tr(f"Các chỉ tiêu đánh dấu * do {names} đặt ra trước sáp nhập và được kế thừa.",
                             f"Targets marked * were set by {names} before the merger and are carried over.")
    return text


def merger_text(ctx: Context) -> str:
    """What merged into what and when, for a merged unit or a former one ('' for other units)."""
    p = ctx.ds.provinces
    me = ctx.province
    olds = p[p.successor.fillna("") == me.name]
    if len(olds):
        when = ctx.date(me["valid_from"]) or "1/7/2025"
        parts = ", ".join(ctx.pname(r) for _, r in olds.iterrows())
        return ctx.tr(f"{ctx.pname(me)} được thành lập ngày {when} từ {parts} ({MERGER_ACT[0]}). "
                      "Số liệu các tỉnh cũ báo cáo trước sáp nhập được trình bày riêng ở mục «Trước sáp nhập», "
                      "không gộp vào xu hướng của tỉnh mới.",
                      f"{ctx.pname(me)} was formed on {when} from {parts} ({MERGER_ACT[1]}). "
                      "Figures the former provinces reported before the merger are shown separately under "
                      "\"Before the merger\", not mixed into the new unit's trend.")
    if isinstance(me["successor"], str) and me["successor"]:
        new = p.set_index("slug").loc[me["successor"]]
        partners = [ctx.pname(r) for _, r in p[(p.successor == me["successor"]) & (p.slug != me.name)].iterrows()]
        with_ = ctx.tr(f" cùng {', '.join(partners)}", f" with {', '.join(partners)}") if partners else ""
        return ctx.tr(f"{ctx.pname(me)} tồn tại đến ngày {ctx.date(me['valid_to'])}; từ {ctx.date(new['valid_from'])} "
                      f"đã sáp nhập{with_} thành {new['name']} ({MERGER_ACT[0]}).",
                      f"{ctx.pname(me)} existed until {ctx.date(me['valid_to'])}; on {ctx.date(new['valid_from'])} it merged"
                      f"{with_} into {new['name_en']} ({MERGER_ACT[1]}).")
    return ""


def before_merger(ctx: Context) -> pd.DataFrame:
    """For a merged unit: each former province's latest figure per indicator, reported before the merger."""
    p = ctx.ds.provinces
    olds = p[p.successor.fillna("") == ctx.province.name].slug
    o = ctx.ds.observations[ctx.ds.observations.province_slug.isin(set(olds))]
    latest = o.sort_values("period_end").groupby(["province_slug", "indicator"], sort=False).tail(1)
    latest = latest.sort_values(["province_slug", "indicator"])
    return observation_table(latest, ctx, unit_column=True)


def charted_indicators(a: pd.DataFrame) -> list[str]:
    """Indicators worth a trajectory chart: a numeric target and at least one figure."""
    keep = a[(a.unit != "milestone") & (a.n_obs > 0)]
    return list(dict.fromkeys(keep.indicator))


def chart_data(ctx: Context, indicator: str, target_years) -> pd.DataFrame:
    """The figures a trajectory chart draws, as a table (the part nbval compares)."""
    o, t = series(ctx.ds, ctx.province.name, indicator, target_years_param(target_years))
    unit = ctx.ds.indicator(indicator)["unit"]
    rows = [(ctx.period(r.period, r.period_end), ctx.tr("Số liệu", "Reported"), ctx.num(r.value)) for r in o.itertuples()]
    rows += [(str(r.year), ctx.tr("Mục tiêu", "Target"), target_text(r.comparator, r.value, r.value_high, unit, ctx.lang))
             for r in t.itertuples()]
    return pd.DataFrame(rows, columns=[ctx.tr("Kỳ", "Period"), ctx.tr("Loại", "Kind"), ctx.tr("Giá trị", "Value")])


def charts_data(ctx: Context, indicators: list[str], target_years) -> pd.DataFrame:
    """The figures the trajectory panels draw, one table for all of them (the part nbval compares)."""
    frames = []
    for indicator in indicators:
        d = chart_data(ctx, indicator, target_years)
        d.insert(0, ctx.tr("Chỉ tiêu", "Indicator"), ctx.iname(indicator))
        frames.append(d)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def other_figures(ctx: Context, a: pd.DataFrame) -> pd.DataFrame:
    """Figures reported for the unit on indicators it has no target for."""
    o = ctx.ds.observations
    o = o[(o.province_slug == ctx.province.name) & ~o.indicator.isin(set(a.indicator))]
    return observation_table(o, ctx)


def missing(a: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Targets without any figure yet (status ``no_data``): what to measure next."""
    m = a[a.status == "no_data"]
    return pd.DataFrame({ctx.tr("Chỉ tiêu", "Indicator"): m["name_en" if ctx.lang == "en" else "name_vi"].values,
                         ctx.tr("Năm", "Year"): m.year.astype(str).values,
                         ctx.tr("Mục tiêu", "Target"): [target_text(c, v, h, u, ctx.lang) for c, v, h, u in
                                                        zip(m.comparator, m.target, m.target_high, m.unit)]})


# ------------------------------------------------------------------ overview


def pillar_table(ctx: Context) -> pd.DataFrame:
    ds = ctx.ds
    with_t, with_o = set(ds.targets.indicator), set(ds.observations.indicator)
    rows = []
    for pid, name in pillar_names(ctx):
        ids = set(ds.indicators[ds.indicators.pillar == pid].id)
        rows.append((name, len(ids), len(ids & with_t), len(ids & with_o)))
    return pd.DataFrame(rows, columns=[ctx.tr("Nhóm", "Pillar"), ctx.tr("Số chỉ tiêu", "Indicators"),
                                       ctx.tr("Có mục tiêu", "With targets"), ctx.tr("Có số liệu", "With figures")])



def sources_table(ctx: Context) -> pd.DataFrame:
    """The documents behind the figures (those that state at least one), with a link where on the web."""
    ds = ctx.ds
    n = pd.concat([ds.targets.source_id, ds.observations.source_id]).value_counts()
    s = ds.sources[ds.sources.id.isin(set(n.index))]
    return pd.DataFrame({
        ctx.tr("Văn bản", "Document"): s.title.values, ctx.tr("Cơ quan, tác giả", "Publisher"): s.publisher.values,
        ctx.tr("Loại văn bản", "Kind of document"): [
            labels.instrument(i, ctx.lang) + (ctx.tr(" (bản dịch máy)", " (machine translation)") if mt else "")
            for i, mt in zip(s.instrument, s.machine_translated)],
        ctx.tr("Ngày", "Date"): s.published.map(ctx.date).values,
        ctx.tr("Địa chỉ", "Link"): s.url.values, ctx.tr("Số con số", "Figures"): [int(n.get(i, 0)) for i in s.id],
    })


def gaps_table(ctx: Context) -> pd.DataFrame:
    """Targets with no figure yet, per unit in force: what to measure next."""
    a = assess(ctx.ds)
    in_force = set(ctx.ds.provinces[ctx.ds.provinces.valid_to.isna()].slug)
    a = a[(a.status == "no_data") & (a.unit != "milestone") & a.province_slug.isin(in_force)]
    return pd.DataFrame({
        ctx.tr("Đơn vị", "Unit"): [ctx.uname(s) for s in a.province_slug],
        ctx.tr("Chỉ tiêu", "Indicator"): a["name_en" if ctx.lang == "en" else "name_vi"].values,
        ctx.tr("Năm", "Year"): a.year.astype(str).values,
        ctx.tr("Mục tiêu", "Target"): [target_text(c, v, h, u, ctx.lang) for c, v, h, u in
                                        zip(a.comparator, a.target, a.target_high, a.unit)],
    })
