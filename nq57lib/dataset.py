"""Loading and validating the curated data files (data/*.csv).

Every load validates everything first and reports all problems at once
(:class:`~nq57lib.errors.DataValidationError`), each with the file, the CSV line,
the column, the bad value and the fix.

Where the work is done:

- :mod:`nq57lib.rowreader`: the reference reader, row by row (Python's csv module, pandera, per-row
  checks), which words every problem; it reads the four small reference tables on every load.
- :mod:`nq57lib.columnar`: targets.csv and observations.csv as columns (pyarrow), every check as a column
  operation; when it finds anything it cannot certify, the reference reader reads those files instead, so
  that problems are reported exactly as it words them.
- :mod:`nq57lib.cache`: within one ``nq57 run``, the Dataset validated once (``NQ57_VALIDATED_DATA``).
"""
from __future__ import annotations

import datetime as _dt
import errno
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import _paths
from .cache import ENV_VAR
from .errors import DataValidationError, ParameterError, Problem
from .names import did_you_mean, fold

UNITS = (
    "percent", "count", "index", "rank", "per_10k_people", "vnd_billion", "vnd_million",
    "vnd_million_per_month", "milestone",
)
#: how many đồng (or units) one unit of the data holds: used to check a value against its quote
UNIT_SCALE = {"vnd_billion": 1e9, "vnd_million": 1e6, "vnd_million_per_month": 1e6}
COMPARATORS = (">=", ">", "<=", "<", "=", "between")
YEAR_MIN, YEAR_MAX = 2000, 2050
#: The kinds of document a source is (sources.csv ``instrument``), in the order of priority used when
#: several documents set a target for the same unit, indicator and year (data/README.md).
INSTRUMENTS = ("nq57_programme", "party_congress", "dx_plan", "other_plan", "report", "index", "statistics")
#: The six data files; nothing else in a data folder is read.
DATA_FILES = ("pillars.csv", "provinces.csv", "indicators.csv", "sources.csv", "targets.csv", "observations.csv")
#: the tables the facts refer to (small: always read row by row) and the facts (read as columns)
REFERENCE_FILES, FACT_FILES = DATA_FILES[:4], DATA_FILES[4:]

# file -> (required columns, optional columns)
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pillars.csv": (("id", "name_vi", "name_en"), ("order", "keywords")),
    "provinces.csv": (("code", "name", "name_en", "slug", "level"),
                      ("valid_from", "valid_to", "successor", "aliases", "note")),
    "indicators.csv": (("id", "name_vi", "name_en", "unit", "direction", "pillar"),
                       ("lower_bound", "upper_bound", "note", "note_en", "keywords")),
    "sources.csv": (("id", "title", "publisher", "language", "instrument"),
                    ("published", "url", "doc_number", "note")),
    "targets.csv": (("province", "indicator", "year", "comparator", "value", "source_id", "quote"),
                    ("value_high", "note", "note_en")),
    "observations.csv": (("province", "indicator", "period_end", "period", "value", "source_id", "quote"),
                         ("note", "note_en")),
}

_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"  # ASCII digits: float() would read "١٦٨", pandas would not
_DATE = r"\d{4}-\d{2}-\d{2}"
_DATE_RE = re.compile(_DATE)


@dataclass
class Dataset:
    """The curated data as tidy DataFrames.

    Attributes
    ----------
    provinces : DataFrame
        One row per provincial unit (and Việt Nam): code, name, name_en, slug, level,
        valid_from, valid_to, successor, aliases, note.
    indicators : DataFrame
        id, name_vi, name_en, unit, direction, pillar, lower_bound, upper_bound, note, note_en, keywords
        (the words ``nq57 extract`` matches a figure's clause with: ``;`` between alternatives, ``+``
        between words that must all occur; ``pillars`` has ``keywords`` too: the words of its topic).
    targets : DataFrame
        province (canonical name), province_slug, indicator, year (int64), comparator (object, None for
        a milestone), value, value_high (float64), source_id, quote, note, note_en.
    observations : DataFrame
        province, province_slug, indicator, period_end (datetime64[us]), period, value (float64),
        source_id, quote, note, note_en; sorted by province, indicator and period_end.

    The text columns of targets and observations are pandas' string dtype ``str`` (:data:`FACT_TEXT`;
    "" when empty); those of the reference tables are ``object``.
    sources : DataFrame
        id, title, publisher, published, url, language, instrument (the kind of document, see
        :data:`INSTRUMENTS`), doc_number, note, machine_translated (bool: the note says "machine
        translation").
    pillars : DataFrame
        id, name_vi, name_en, order.
    """

    provinces: pd.DataFrame
    indicators: pd.DataFrame
    targets: pd.DataFrame
    observations: pd.DataFrame
    sources: pd.DataFrame
    pillars: pd.DataFrame
    data_dir: Path = field(default=_paths.DATA_DIR)
    #: results derived from the data (effective targets, indexes), computed once per Dataset
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def find_province(self, name: str) -> pd.Series:
        """The provinces row for a name as a person types it (any case, without diacritics,
        NFD, a slug, an alias or the statistics-office code).

        Raises
        ------
        ParameterError
            When nothing matches; the message lists the closest names, or all of them.
        """
        slug = _ProvinceIndex(self.provinces).resolve(str(name))
        if slug is None:
            names = self.provinces["name"].tolist()
            hint = did_you_mean(str(name), names + self.provinces["name_en"].tolist())
            current = self.provinces[self.provinces.valid_to.isna()]["name"].tolist()
            former = self.provinces[self.provinces.valid_to.notna()]["name"].tolist()
            raise ParameterError(
                f"Unknown province {name!r}. " + (hint[0].upper() + hint[1:] + " " if hint else "")
                + "Known provinces: " + ", ".join(current)
                + (f"; and {len(former)} former provinces (before the 2025 merger) such as "
                   + ", ".join(repr(f) for f in former[:3]) if former else "")
            )
        return self.provinces.set_index("slug").loc[slug].rename(slug)

    def indicator(self, indicator_id: str) -> pd.Series:
        """The indicators row for an id."""
        return self.indicators.set_index("id").loc[indicator_id]


def _iso(value) -> str:
    """A validity date as YYYY-MM-DD text, from a CSV cell or a Timestamp; '' when open."""
    if value is None or value == "" or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)[:10]


class _ProvinceIndex:
    """Name, alias, slug and code lookup; codes reused after the 2025 merger resolve by date."""

    def __init__(self, provinces: pd.DataFrame):
        self.keys: dict[str, set[str]] = {}
        self.codes: dict[str, list[tuple[str, str, str]]] = {}
        self.names = dict(zip(provinces["slug"], provinces["name"]))
        for row in provinces.to_dict("records"):
            slug = row["slug"]
            words = [row["name"], row["name_en"], slug] + [
                a for a in str(row.get("aliases") or "").split(";") if a.strip()]
            for w in words:
                self.keys.setdefault(fold(w), set()).add(slug)
            self.codes.setdefault(str(row["code"]).strip(), []).append(
                (slug, _iso(row.get("valid_from")), _iso(row.get("valid_to"))))

    def ambiguous_keys(self) -> dict[str, set[str]]:
        return {k: v for k, v in self.keys.items() if len(v) > 1}

    def _units(self, text: str) -> list[tuple[str, str, str]] | None:
        return self.codes.get(text) or self.codes.get(text.zfill(2) if text.isdigit() else text)

    def depends_on_date(self, text: str) -> bool:
        """Whether ``text`` is a code that named several units over time (:meth:`resolve` needs the date)."""
        units = self._units(unicodedata.normalize("NFC", str(text)).strip())
        return bool(units) and len(units) > 1

    def resolve(self, text: str, on_date: str | None = None) -> str | None:
        text = unicodedata.normalize("NFC", str(text)).strip()
        units = self._units(text)
        if units:
            if len(units) == 1:
                return units[0][0]
            for slug, start, end in units:
                if on_date and (not start or start <= on_date) and (not end or on_date <= end):
                    return slug
            current = [u for u in units if not u[2]]
            return current[0][0] if current else units[0][0]
        hits = self.keys.get(fold(text))
        return next(iter(hits)) if hits and len(hits) == 1 else None


# ---------------------------------------------------------------- files

def not_a_regular_file(path: Path) -> str:
    """Why ``path`` cannot be read as a data file ('' when it is a regular file, or a link to one).

    Checked with stat before anything opens the file, so a named pipe cannot make a run hang.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "is a broken symbolic link" if os.path.islink(path) else "file is missing"
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "is a symbolic link that points at itself (a loop)"
        return f"cannot be read ({e.strerror})"
    if stat.S_ISREG(mode):
        return ""
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))
    return "is " + next((k for test, k in kinds if test(mode)), "not a regular file") + ", not a file"


# ---------------------------------------------------------------- load

def validate(data_dir: str | Path | None = None) -> list[Problem]:
    """Every problem in a data folder (an empty list when the data is clean)."""
    try:
        load(data_dir)
    except DataValidationError as e:
        return e.problems
    return []


def load(data_dir: str | Path | None = None) -> Dataset:
    """Load and validate the curated data.

    Parameters
    ----------
    data_dir : str or Path, optional
        A folder holding the six CSV files; default the project's ``data/``.

    Returns
    -------
    Dataset
        With ``province`` in targets and observations as the canonical name from
        provinces.csv, numeric columns numeric and dates as datetime64.

    Raises
    ------
    DataValidationError
        Listing every problem at once.

    Examples
    --------
    >>> ds = load()
    >>> row = ds.targets.query("province == 'Lai Châu' and indicator == 'digital_economy_share' and year == 2030").iloc[0]
    >>> row.comparator, float(row.value), float(row.value_high)
    ('between', 9.0, 10.0)
    """
    data_dir = Path(data_dir) if data_dir is not None else _paths.DATA_DIR
    if os.environ.get(ENV_VAR):
        from .cache import cached_dataset

        ds = cached_dataset(data_dir)
        if ds is not None:
            return ds
    return validated_load(data_dir)


def validated_load(data_dir: str | Path | None = None) -> Dataset:
    """:func:`load` that always validates (never reads the cache of :mod:`nq57lib.cache`)."""
    from . import columnar, rowreader

    data_dir = Path(data_dir) if data_dir is not None else _paths.DATA_DIR
    problems: list[Problem] = []
    if not data_dir.is_dir():
        raise DataValidationError([Problem(str(data_dir), 0, "", "", "is not a folder",
                                           "pass the folder that holds provinces.csv, targets.csv, ...")], str(data_dir))
    frames = {name: rowreader.read_csv(data_dir / name, problems) for name in REFERENCE_FILES}
    for name, frame in frames.items():
        if frame is not None:
            problems.extend(rowreader.cell_problems(name, frame))
    refs = rowreader.reference_checks(frames, problems)
    today = _dt.date.today().isoformat()
    facts = None if problems else columnar.read_facts(data_dir, refs, today)
    if facts is None:  # a problem somewhere, or something the columnar reader cannot certify
        facts = _row_facts(data_dir, refs, today, problems)
    if problems:
        raise DataValidationError(problems, str(data_dir))
    return Dataset(**_typed_references(frames), **facts, data_dir=data_dir)


def _row_facts(data_dir: Path, refs, today: str, problems: list[Problem]) -> dict[str, pd.DataFrame]:
    """targets and observations read and checked row by row (problems appended); typed when there are none."""
    from . import rowreader

    frames = {name: rowreader.read_csv(data_dir / name, problems) for name in FACT_FILES}
    resolved = {}
    for name, frame in frames.items():
        if frame is not None:
            problems.extend(rowreader.cell_problems(name, frame))
            resolved[name] = rowreader.fact_checks(name, frame, refs, problems, today)
    if problems:
        return {}
    names = dict(zip(refs.provinces["slug"], refs.provinces["name"]))
    return rowreader.typed_facts(frames, resolved, names)


#: the text columns of targets and observations: pandas' string dtype (``str``), never missing ("" when empty)
FACT_TEXT = ("province", "province_slug", "indicator", "period", "source_id", "quote", "note", "note_en")


def as_fact_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """targets or observations with their text columns as ``str`` (the other columns are typed already)."""
    for col in FACT_TEXT:
        if col in frame and frame[col].dtype != "str":
            frame[col] = frame[col].astype("str")
    return frame


def _clean(frame, cols):
    return frame[list(cols)].reset_index(drop=True).copy()


def _typed_references(frames) -> dict[str, pd.DataFrame]:
    """The four reference tables as the Dataset holds them (numbers, dates; text stays object)."""
    clean = _clean

    pillars = clean(frames["pillars.csv"], ("id", "name_vi", "name_en", "order", "keywords"))
    pillars["order"] = pd.to_numeric(pillars["order"].replace("", None))
    provinces = clean(frames["provinces.csv"], sum(COLUMNS["provinces.csv"], ()))
    for col in ("valid_from", "valid_to"):
        provinces[col] = pd.to_datetime(provinces[col].replace("", None))
    indicators = clean(frames["indicators.csv"], sum(COLUMNS["indicators.csv"], ()))
    for col in ("lower_bound", "upper_bound"):
        indicators[col] = pd.to_numeric(indicators[col].replace("", None)).astype(float)
    sources = clean(frames["sources.csv"], ("id", "title", "publisher", "published", "url", "language", "instrument",
                                             "doc_number", "note"))
    sources["published"] = pd.to_datetime(sources["published"].replace("", None))
    # data/README.md: a machine-translated page says "machine translation" in its note; users see it
    sources["machine_translated"] = sources["note"].str.contains("machine translation", case=False, regex=False)
    return {"pillars": pillars, "provinces": provinces, "indicators": indicators, "sources": sources}
