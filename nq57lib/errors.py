"""The nq57 exception family.

Every error is written for a person who edits CSV files in Excel: it says where
the problem is, what the bad value is and how to fix it.
"""
from __future__ import annotations

from dataclasses import dataclass

#: exit codes of the nq57 command (README, "Exit codes")
EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_OUTPUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class Nq57Error(Exception):
    """Base class of every error nq57lib raises on purpose."""

    def _render_traceback_(self):  # IPython/Jupyter: show the message a person can act on, not a stack
        return [f"{type(self).__name__}: {line}" if i == 0 else line for i, line in enumerate(str(self).splitlines())]


@dataclass(frozen=True)
class Problem:
    """One problem found in a data file.

    ``line`` is the line of the CSV file as a spreadsheet or text editor shows it
    (the header is line 1); 0 when the problem concerns the whole file. ``where`` names what
    ``line`` counts: "line" in a CSV file, "row" in a worksheet.
    """

    file: str
    line: int
    column: str
    value: str
    message: str
    fix: str
    where: str = "line"

    def __str__(self) -> str:
        where = self.file if self.line == 0 else f"{self.file}, {self.where} {self.line}"
        if self.column:
            where += f', column "{self.column}"'
        value = f' "{self.value}"' if self.value != "" else " (empty)"
        return f"{where}:{value} {self.message}. Fix: {self.fix}"


class DataValidationError(Nq57Error):
    """The data files have problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem], data_dir: str = "data"):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.message))
        self.data_dir = data_dir
        super().__init__(str(self))

    def __str__(self) -> str:
        """The first problem on the first line (what a run's failure list and index show), then all of them."""
        n = len(self.problems)
        if n == 0:
            return f"{self.data_dir}: invalid data"
        head = f"{self.problems[0]}"
        if n == 1:
            return head
        more = f" (and {n - 1} more problem{'s' if n > 2 else ''} in {self.data_dir}, listed below)"
        return "\n".join([head + more] + [f"  - {p}" for p in self.problems])

    def report(self) -> str:
        """Every problem, one a line, under a header: what ``nq57 validate`` prints."""
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in {self.data_dir} (fix them, then run `nq57 validate` again):"
        return "\n".join([head] + [f"  - {p}" for p in self.problems])


class ParameterError(Nq57Error, ValueError):
    """A notebook or function parameter has a value that cannot be used."""


class ImportRefused(Nq57Error):
    """New rows (a filled template, a CSV of its columns, a staging CSV) cannot be appended to data/:
    ``problems`` lists every one, with the sheet or file, row, column, value and fix. Nothing is written."""

    exit_code = EXIT_INVALID

    def __init__(self, problems: list[Problem], file: str):
        self.problems = list(problems)
        self.file = file
        super().__init__(str(self))

    def __str__(self) -> str:
        tail = "Nothing was written to data/."
        if len(self.problems) == 1:
            first = self._line(self.problems[0])
            return f"{first}{'' if first.endswith('.') else '.'} {tail}"
        return "\n".join([f"{self.file} is refused, {len(self.problems)} problems (fix them and import again). {tail}"]
                         + [f"  - {self._line(p)}" for p in self.problems])

    @staticmethod
    def _line(p: Problem) -> str:
        if p.line == 0 and not p.column and not p.value:  # about the file as a whole
            return f"{p.file}: {p.message}. Fix: {p.fix}"
        return str(p)
