"""pytest at the project root: nbval checks only the report notebooks (notebooks/NN_name.ipynb), never
scratch copies such as Untitled.ipynb or papermill outputs a user left in notebooks/."""
import re
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


def pytest_ignore_collect(collection_path, config):
    path = Path(collection_path)
    if path.suffix == ".ipynb" and path.parent == NOTEBOOKS:
        return not re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name)
    if path.suffix == ".ipynb" and ".ipynb_checkpoints" in path.parts:
        return True
    return None
