"""The ``nq57`` command: parses options, calls the Python API, maps errors to exit codes.

Exit codes: 0 success; 1 a report failed (``run``); 2 invalid data, options or input (a document
``extract`` cannot read, a file ``import`` refuses); 3 the output folder cannot be written or another run
holds it; 130 interrupted.
"""
from __future__ import annotations

import argparse
import os
import sys

from .errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, EXIT_OUTPUT


def _validate(args) -> int:
    from .dataset import load
    ds = load(args.data)
    from .tables import coverage
    print(f"OK: {args.data or ds.data_dir} is valid: {len(ds.targets)} targets and "
          f"{len(ds.observations)} observations for {ds.provinces.shape[0]} provincial units, "
          f"{len(ds.indicators)} indicators, {len(ds.sources)} sources.")
    c = coverage(ds)
    n = c["n_units"]
    print(f"Coverage of the {n} units in force (a former province's rows count for the unit it merged into): "
          f"{c['with_target']}/{n} with a target, {c['with_figure']}/{n} with a figure, "
          f"{c['with_de_target']}/{n} with a 2030 digital-economy share target.")
    missing = c["units"][(c["units"].targets + c["units"].inherited) == 0].name.tolist()
    if missing:
        print("  No target yet: " + ", ".join(missing))
    print("Facts by kind of document (sources.csv instrument): " + "; ".join(
        f"{r.instrument} {r.targets} targets, {r.figures} figures" for r in c["instruments"].itertuples()))
    return EXIT_OK


def _validate_staging(args) -> int:
    """``nq57 validate --staging FILE``: the data, and the rows of FILE as if appended (nothing is written)."""
    from .errors import ImportRefused
    from .staging import check
    plan = check(args.staging, args.data)
    if plan.problems:
        raise ImportRefused(plan.problems, args.staging)
    print(f"OK: {args.staging} can be appended to {plan.data_dir}.\n{plan.summary()}\n"
          f"Append with: nq57 import {args.staging}")
    return EXIT_OK


def _print_rows(rows, fmt: str, columns) -> None:
    import csv
    import json

    if fmt == "json":
        def typed(key, v):
            if v == "":
                return None
            if key in ("value", "value_high", "confidence"):
                return float(v)
            return int(v) if key == "year" else v
        items = [{k: typed(k, r[k]) for k in columns} | {"marked": bool(r["marked"])} for r in rows.to_dict("records")]
        print(json.dumps(items, ensure_ascii=False, indent=1))
    else:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows[list(columns)].itertuples(index=False, name=None))
    sys.stdout.flush()


def _extract(args) -> int:
    import datetime

    from .dataset import load
    from .errors import ParameterError
    from .extract import COLUMNS, THRESHOLD, extract, read_document

    if args.published:
        try:
            datetime.date.fromisoformat(args.published)
        except ValueError:
            raise ParameterError(f"--published {args.published!r} is not a date: write it as YYYY-MM-DD, e.g. 2025-11-17") from None
    doc = read_document(args.path)
    rows = extract(doc, load(args.data), province=args.province, published=args.published, source_id=args.source_id)
    try:
        _print_rows(rows, args.format, COLUMNS)
    except BrokenPipeError:   # `nq57 extract page.txt | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    if not doc.text.strip():
        print(f"{args.path} is empty: no figure to propose.", file=sys.stderr)
    elif rows.empty:
        print(f"{args.path} states no figure about S&T, innovation, digital transformation or the digital economy.",
              file=sys.stderr)
    else:
        marked = int(rows["marked"].sum())
        print(f"{len(rows)} candidate rows from {args.path}; {marked} below the review threshold {THRESHOLD} "
              f"(confidence column): check those closely.", file=sys.stderr)
    return EXIT_OK


def _template(args) -> int:
    from .template import FREE_ROWS, template
    out, n = template(args.province, args.out, year=args.year, data_dir=args.data, overwrite=args.force)
    print(f"Wrote {out}: {n} target{'s' if n != 1 else ''} and {FREE_ROWS} empty rows. Fill in the yellow columns, "
          f"then check with: nq57 import {out} --dry-run")
    return EXIT_OK


def _import(args) -> int:
    from .staging import import_rows
    plan = import_rows(args.file, args.data, dry_run=args.dry_run)
    print(plan.summary(done=not args.dry_run))
    if args.dry_run:
        print("Nothing was written (--dry-run).")
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nq57", description="Resolution 57-NQ/TW provincial tracker.")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check the data files and list every problem")
    v.add_argument("--data", metavar="DIR", help="data folder (default: the project's data/)")
    v.add_argument("--staging", metavar="FILE", help="also check the rows of a staging CSV (04_curate) or a filled "
                                                     "template as if they were appended to the data")
    v.set_defaults(func=lambda args: (_validate_staging if args.staging else _validate)(args))
    e = sub.add_parser("extract", help="propose candidate rows from a Vietnamese document (.txt or .html)")
    e.add_argument("path", metavar="PATH", help="a UTF-8 text file or a saved web page")
    e.add_argument("--province", metavar="NAME", help="the unit the document is about (another unit's figures are left out)")
    e.add_argument("--published", metavar="YYYY-MM-DD", help="the document's date (what 'đến nay' and 'hết tháng 10' refer to)")
    e.add_argument("--source-id", metavar="ID", help="its source in sources.csv (gives the date and language)")
    e.add_argument("--format", choices=("csv", "json"), default="csv", help="output format (default csv)")
    e.add_argument("--data", metavar="DIR", help="data folder (default: the project's data/)")
    e.set_defaults(func=_extract)
    t = sub.add_parser("template", help="write an Excel workbook to fill in new figures for one unit")
    t.add_argument("--province", metavar="NAME", required=True, help="the unit")
    t.add_argument("--year", metavar="YYYY", type=int, help="only the targets of this year (default: all)")
    t.add_argument("--data", metavar="DIR", help="data folder (default: the project's data/)")
    t.add_argument("--force", action="store_true", help="overwrite OUT.xlsx if it exists")
    t.add_argument("out", metavar="OUT.xlsx", help="the workbook to write")
    t.set_defaults(func=_template)
    i = sub.add_parser("import", help="append the figures of a filled template (or a CSV of its columns) to data/")
    i.add_argument("file", metavar="FILE", help="a filled workbook (.xlsx), a CSV of its columns, or a staging CSV")
    i.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    i.add_argument("--data", metavar="DIR", help="data folder (default: the project's data/)")
    i.set_defaults(func=_import)
    try:
        from .runner import add_commands
    except ImportError:  # pragma: no cover - runner not installed
        pass
    else:
        add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    from .errors import DataValidationError, Nq57Error

    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except DataValidationError as e:
        print(e.report(), file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `nq57 validate | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Nq57Error as e:
        print(f"Error: {e}", file=sys.stderr)
        return getattr(e, "exit_code", EXIT_INVALID)
    except OSError as e:  # a file the command needed could not be read or written
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        print(f"Error: {e.strerror or e}{where}", file=sys.stderr)
        return EXIT_OUTPUT
    except Exception as e:  # a bug: one line a person can report, never a bare traceback
        print(f"Error: nq57 {args.command} failed unexpectedly ({type(e).__name__}: {e}); this is a bug, "
              f"please report it with the command you ran.", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
