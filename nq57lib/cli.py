"""The ``nq57`` command: parses options, calls the Python API, maps errors to exit codes.

Exit codes: 0 success; 1 a report failed (``run``); 2 invalid data or options;
3 the output folder cannot be written or another run holds it; 130 interrupted.
"""
from __future__ import annotations

import argparse
import sys

from .errors import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, EXIT_OUTPUT


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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nq57", description="Resolution 57-NQ/TW provincial tracker.")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check the data files and list every problem")
    v.add_argument("--data", metavar="DIR", help="data folder (default: the project's data/)")
    v.set_defaults(func=_validate)
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
    except Nq57Error as e:
        print(f"Error: {e}", file=sys.stderr)
        return getattr(e, "exit_code", EXIT_INVALID)
    except OSError as e:  # a file the command needed could not be read or written
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        print(f"Error: {e.strerror or e}{where}", file=sys.stderr)
        return EXIT_OUTPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
