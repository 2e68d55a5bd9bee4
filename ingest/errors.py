"""What can go wrong in an ingest, with the place it went wrong."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class SourceError(Exception):
    """A source or manifest cannot be read or parsed at all (CLI exit code 2)."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one record, located for the steward who has to fix it."""

    file: str
    record: str  # e.g. "feature 12 (ID 946289)"
    field: str  # source field(s) the problem is about, "" when not tied to one
    value: str
    message: str
    severity: str = "Violation"  # Violation, Warning or Info (SHACL severities)

    def __str__(self) -> str:
        field = f" [{self.field}]" if self.field else ""
        value = f" value {self.value!r}:" if self.value else ""
        return f"{self.severity}: {self.file}, {self.record}{field}:{value} {self.message}"
