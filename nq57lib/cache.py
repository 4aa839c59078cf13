"""Validated once per run: the typed Dataset, cached in a file that ``load`` reads instead of validating.

The interface (the runner relies on it exactly)::

    from nq57lib.cache import prevalidate, ENV_VAR      # ENV_VAR == "NQ57_VALIDATED_DATA"

    path = prevalidate(data_dir, cache_dir)   # validates data_dir (DataValidationError if invalid) and
                                              # writes the typed Dataset to cache_dir/dataset-<key>.pickle
    env[ENV_VAR] = str(path)                  # for the notebook kernels of this run

In a process where ``os.environ[ENV_VAR]`` names an existing cache file, :func:`nq57lib.load` returns the
Dataset stored there **without validating again**, but only when the file's key matches the data folder it
is asked to load: the key is a sha256 over the six data files' names and bytes (re-hashed on every load,
about 0.1 s for 100 MB) plus a hash of nq57lib's source and the versions of Python, pandas, numpy and
pyarrow. A data file changed after ``prevalidate``, another data folder, a changed nq57lib, or a missing or
unreadable cache file: ``load`` validates as usual. Without the variable (a notebook run by hand),
``load`` always validates.

The file is written atomically (a temporary file in ``cache_dir``, then renamed), so a reader never sees a
half-written cache. It is a pickle: only ever point ``NQ57_VALIDATED_DATA`` at a file that nq57 wrote.
"""
from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path

from . import _paths

ENV_VAR = "NQ57_VALIDATED_DATA"
#: the first bytes of a cache file, then the key (64 hex digits) and a newline, then the pickled Dataset
_MAGIC = b"nq57-validated-dataset 1\n"

__all__ = ["ENV_VAR", "prevalidate", "key", "cached_dataset"]


def files_hash(data_dir: str | Path) -> str | None:
    """sha256 over the six data files (names and bytes), in the order of ``DATA_FILES``; None when one of
    them is not a regular file (checked before opening: a named pipe would block)."""
    from .dataset import DATA_FILES, not_a_regular_file

    h = hashlib.sha256()
    for name in DATA_FILES:
        path = Path(data_dir) / name
        if not_a_regular_file(path):
            return None
        h.update(name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def code_hash() -> str:
    """sha256 over nq57lib's source files and the versions that shape a pickled Dataset."""
    import numpy
    import pandas
    import pyarrow

    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    h.update(f"{sys.version}|{pandas.__version__}|{numpy.__version__}|{pyarrow.__version__}".encode())
    return h.hexdigest()


def key(data_dir: str | Path) -> str | None:
    """The cache key of a data folder: its files' hash and nq57lib's code hash, hashed together (None when
    a data file is missing or not a regular file)."""
    files = files_hash(data_dir)
    return None if files is None else hashlib.sha256(f"{files}:{code_hash()}".encode()).hexdigest()


def prevalidate(data_dir: str | Path | None, cache_dir: str | Path) -> Path:
    """Validate ``data_dir`` once and write the typed Dataset to ``cache_dir``; return the file's path.

    Raises
    ------
    DataValidationError
        When the data has problems (nothing is written).
    """
    from .dataset import validated_load

    data_dir = Path(data_dir) if data_dir is not None else _paths.DATA_DIR
    cache_dir = Path(cache_dir)
    digest = key(data_dir)  # before reading: a file changed while validating gives a key that will not match
    ds = validated_load(data_dir)  # DataValidationError, also for a missing or irregular file (digest None)
    ds.cache.clear()
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"dataset-{digest}.pickle"
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".dataset-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + digest.encode() + b"\n")
            pickle.dump(ds, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def cached_dataset(data_dir: Path):
    """The Dataset that ``os.environ[ENV_VAR]`` names, when its key matches ``data_dir``; else None."""
    name = os.environ.get(ENV_VAR)
    if not name:
        return None
    try:
        if not Path(name).is_file() or not Path(data_dir).is_dir():
            return None
        digest = key(data_dir)
        if digest is None:
            return None
        with open(name, "rb") as f:
            if f.read(len(_MAGIC) + 65) != _MAGIC + digest.encode() + b"\n":
                return None
            ds = pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError):
        return None  # missing, unreadable or from another nq57lib: validate as usual
    ds.data_dir = Path(data_dir)
    return ds
