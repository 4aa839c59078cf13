"""nq57lib: how Vietnamese provinces are doing against their Resolution 57-NQ/TW targets.

>>> import nq57lib
>>> ds = nq57lib.load()
>>> ds.targets.query("province == 'Việt Nam' and indicator == 'digital_economy_share'")[["year", "comparator", "value"]].values.tolist()
[[2030, '>=', 30.0], [2045, '>=', 50.0]]
"""
from __future__ import annotations

import importlib

from .errors import DataValidationError, Nq57Error, ParameterError, Problem
from .numbers import ParsedNumber, find_numbers, format_number, parse_number

__all__ = [
    "load", "validate", "Dataset", "assess", "compare",
    "parse_number", "find_numbers", "format_number", "ParsedNumber",
    "progress", "plots",
    "Nq57Error", "DataValidationError", "ParameterError", "Problem",
]
__version__ = "0.1.0"

_LAZY = {"progress": ".progress", "plots": ".plots", "assess": ".tables", "compare": ".tables",
         "load": ".dataset", "validate": ".dataset", "Dataset": ".dataset"}


def __getattr__(name):  # heavy modules (pandas, matplotlib) load on first use, not on import (`nq57 run` with
    # nothing changed needs neither)
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name], __name__)
        return module if name in ("progress", "plots") else getattr(module, name)
    raise AttributeError(f"module 'nq57lib' has no attribute {name!r}")
