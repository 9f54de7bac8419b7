"""Errors and repair accounting for everything rankkd reads.

Bad input either raises :class:`DataFormatError` (naming the file, the line and what was expected) or is repaired,
and every repair is counted in a :class:`RepairReport` that the caller can print or store. Nothing is dropped silently.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from os import PathLike

logger = logging.getLogger(__name__)


class DataFormatError(ValueError):
    """A file (or dataset row) does not have the expected format.

    The message reads ``<file>:<line>: <problem>; expected <expected>``.
    """

    def __init__(self, path: str | PathLike | None, line: int | None, problem: str, expected: str | None = None):
        self.path = None if path is None else str(path)
        self.line = line
        self.problem = problem
        self.expected = expected
        where = self.path or "<data>"
        if line is not None:
            where = f"{where}:{line}"
        message = f"{where}: {problem}"
        if expected:
            message += f"; expected {expected}"
        super().__init__(message)


@dataclass
class RepairReport:
    """Counts of the repairs made while reading, by kind, with a few examples of each."""

    source: str = ""
    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    max_examples: int = 3

    def add(self, kind: str, example: str = "", n: int = 1) -> None:
        self.counts[kind] += n
        if example:
            bucket = self.examples.setdefault(kind, [])
            if len(bucket) < self.max_examples:
                bucket.append(example)

    def __bool__(self) -> bool:
        return sum(self.counts.values()) > 0

    def merge(self, other: "RepairReport") -> "RepairReport":
        for kind, n in other.counts.items():
            self.counts[kind] += n
        for kind, examples in other.examples.items():
            bucket = self.examples.setdefault(kind, [])
            bucket.extend(examples[: max(0, self.max_examples - len(bucket))])
        return self

    def summary(self) -> str:
        if not self:
            return f"{self.source or 'input'}: no repairs"
        parts = []
        for kind, n in sorted(self.counts.items()):
            examples = self.examples.get(kind)
            parts.append(f"{kind}={n}" + (f" (e.g. {', '.join(examples)})" if examples else ""))
        return f"{self.source or 'input'}: repaired " + "; ".join(parts)

    def to_dict(self) -> dict:
        return {"source": self.source, "counts": dict(self.counts), "examples": self.examples}

    def log(self, level: int = logging.WARNING) -> None:
        """Log the summary (at WARNING when anything was repaired)."""
        logger.log(level if self else logging.DEBUG, self.summary())
