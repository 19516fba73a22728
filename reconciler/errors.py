"""Exit codes and the exception types that carry them to the CLI.

User errors (bad manifest, refused plan, unreachable server) are printed as one clear message
and never as a traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # runtime or API error
    CHANGES = 2  # plan --detailed-exitcode found changes
    INVALID = 3  # invalid manifest
    REFUSED = 4  # plan refused by a safety rule
    STALE = 5  # saved plan no longer matches the server
    PARTIAL = 6  # apply finished partially


class ReconcilerError(Exception):
    """An error the user can act on; the CLI prints it without a traceback."""

    exit_code: ExitCode = ExitCode.ERROR


@dataclass(frozen=True)
class Position:
    file: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One finding about a manifest: where, which field, what is wrong, what to do."""

    message: str
    position: Position | None = None
    field: str = ""
    suggestion: str = ""
    severity: str = "error"  # error | warning
    rule: str = ""  # lint rule id, empty for schema/structure errors

    def format(self) -> str:
        where = f"{self.position}: " if self.position else ""
        sev = self.severity + (f" {self.rule}" if self.rule else "")
        field = f" {self.field}:" if self.field else ""
        text = f"{where}{sev}:{field} {self.message}"
        if self.suggestion:
            text += f" ({self.suggestion})"
        return text


class ManifestError(ReconcilerError):
    exit_code = ExitCode.INVALID

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(p.format() for p in problems))


class PlanRefused(ReconcilerError):
    exit_code = ExitCode.REFUSED


class StalePlan(ReconcilerError):
    exit_code = ExitCode.STALE
