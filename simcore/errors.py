"""One error family for everything a user can get wrong.

Every problem a user can fix is a :class:`Problem`: where it is (file, row or line,
field), what is wrong and how to fix it. Library code collects *all* problems in an
input before raising one :class:`SimcoreError` that carries them, so a user fixes a
file in one pass instead of one error per run. The CLI prints one line per problem
and exits non-zero without a traceback.

Row numbers are spreadsheet row numbers: the header is row 1, the first record row 2,
so the number a user sees is the one their spreadsheet shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Literal

#: How many problems are listed before the rest are summarised as a count.
MAX_LISTED_PROBLEMS = 50

#: What replaces a password or token in anything simcore prints or writes.
REDACTED = "***"

# scheme://user:password@host -- the password runs to the last "@" of the token, so a
# password that itself holds "@" is hidden whole.
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*):[^\s'\"]*@")
# ...?password=... and similar query parameters of connection strings.
_QUERY_SECRET = re.compile(
    r"(?i)(?P<head>[?&;](?:password|passwd|pwd|secret|token|access_token|api_key|apikey)=)[^&;\s'\"]*")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters written as escapes
    (``\\n``), so that a problem about a key or value holding one is still one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def redact(text: str) -> str:
    """``text`` with the credentials of every URL hidden.

    ``postgresql://user:secret@host/db`` becomes ``postgresql://user:***@host/db``, and
    ``?password=secret`` becomes ``?password=***``. Every message, warning, manifest and
    output table goes through this, so a database URL pasted into the wrong field is
    never echoed with its password.
    """
    if "://" not in text and "=" not in text:
        return text
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:{REDACTED}@", text)
    return _QUERY_SECRET.sub(lambda m: f"{m.group('head')}{REDACTED}", text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in a user's input.

    Parameters
    ----------
    message
        What is wrong, stated as the violated rule ("churn date 2021-01-03 is before
        signup date 2021-02-01").
    hint
        How to fix it ("correct the dates or leave churn blank for an active customer").
    source
        File name (as the user wrote it) or another name of the input, e.g. ``"sql query"``.
    row
        Spreadsheet row number (header = 1) for tabular input.
    line
        Line number for text input such as YAML.
    field
        Column name or dotted config path (``economics.segments.smb.cac``).
    severity
        ``"error"`` stops the run; ``"warning"`` is reported and the run goes on.
    """

    message: str
    hint: str = ""
    source: str | None = None
    row: int | None = None
    line: int | None = None
    field: str | None = None
    severity: Literal["error", "warning"] = "error"

    def format(self) -> str:
        """One line: ``source, row 12, column 'mrr': message; hint``, credentials of any
        URL in it hidden (:func:`redact`) and control characters escaped (:func:`one_line`)."""
        where: list[str] = []
        if self.source:
            where.append(str(self.source))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"'{self.field}'")
        text = self.message
        if self.hint:
            text = f"{text}; {self.hint}"
        return one_line(redact(f"{', '.join(where)}: {text}" if where else text))

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.format()


class SimcoreError(Exception):
    """Base of every error a user can fix. Carries one or more :class:`Problem`.

    ``str(error)`` is the problems formatted one per line, capped at
    :data:`MAX_LISTED_PROBLEMS` with the total count.
    """

    exit_code = 1

    def __init__(self, problems: str | Problem | Iterable[Problem], *, total: int | None = None):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        #: Total number of problems found, which may exceed ``len(problems)`` when a
        #: validator stopped collecting early.
        self.total = max(total or 0, len(self.problems))
        super().__init__(self.render())

    def lines(self, limit: int = MAX_LISTED_PROBLEMS) -> list[str]:
        shown = [p.format() for p in self.problems[:limit]]
        if self.total > len(shown):
            shown.append(
                f"... and {self.total - len(shown)} more problems ({self.total} in all)"
            )
        return shown

    def render(self) -> str:
        return "\n".join(self.lines())


class ConfigError(SimcoreError):
    """A YAML config (or CLI flag standing in for it) is invalid."""


class DataError(SimcoreError):
    """A customer book, MRR history or other input table is invalid."""


class FitError(SimcoreError):
    """A model cannot be fitted to the data as given (too few events, bad family...)."""


class OutputError(SimcoreError):
    """Output cannot be written (directory exists, not writable...)."""


@dataclass
class ProblemCollector:
    """Collects problems while validating, keeping at most ``limit`` but counting all.

    Validators call :meth:`add` for every problem they find, then :meth:`raise_if_errors`.
    """

    source: str | None = None
    limit: int = MAX_LISTED_PROBLEMS
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    error_count: int = 0

    def add(self, message: str, hint: str = "", **where) -> None:
        where.setdefault("source", self.source)
        self.error_count += 1
        if len(self.errors) < self.limit:
            self.errors.append(Problem(message, hint, **where))

    def add_count(self, extra: int) -> None:
        """Count problems that were found but not listed individually."""
        self.error_count += extra

    def warn(self, message: str, hint: str = "", **where) -> None:
        where.setdefault("source", self.source)
        self.warnings.append(Problem(message, hint, severity="warning", **where))

    def raise_if_errors(self, error_type: type[SimcoreError] = DataError) -> None:
        if self.error_count:
            raise error_type(self.errors, total=self.error_count)
