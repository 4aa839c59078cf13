import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A writable copy of the shipped data/, to break in a test."""
    dest = tmp_path / "data"
    shutil.copytree(DATA, dest, ignore=shutil.ignore_patterns("README.md"))
    return dest


@pytest.fixture(scope="session")
def ds():
    import nq57lib
    return nq57lib.load()
