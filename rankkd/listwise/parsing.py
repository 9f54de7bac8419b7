"""Parse an LLM's ranking answer into a permutation, repairing and counting what was wrong.

Accepted: ``[2] > [1] > [3]``, ``2 > 1 > 3``, ``[2], [1], [3]``, ``Ranking: ...``, text before/after the ranking,
``<think>...</think>`` or free reasoning before it, letter identifiers ``[B] > [A]`` with ``style="letter"``.

Which ids are the ranking: after removing ``<think>`` blocks, the text after the last ``ranking:``/``answer:`` label if
there is one; there, every *chain* of identifiers joined only by separators (``>``, ``,``, ``->``) is a candidate;
chains with ``>`` beat comma chains, then the chain with most distinct ids wins (the last on ties), because
reasoning mentions single passages (``Passage [4] is ...``) while the ranking lists them all.

Repairs (RankGPT's): repeated ids dropped (first occurrence kept), ids outside ``1..n`` dropped, ids never mentioned
appended in input order. Each is counted in :class:`ParseResult`; :class:`ParseSummary` aggregates rates.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from rankkd.data.errors import RepairReport
from rankkd.listwise.prompts import identifier_index

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_LABEL = re.compile(r"(?:final\s+)?(?:ranking|answer|order)\s*(?:is)?\s*:", re.IGNORECASE)
_SEPARATOR = r">|,|->|→|≻"
_TOKEN = {
    "number": re.compile(rf"\[\s*(\d+)\s*\]|(?<![\w.\[])(\d+)(?![\w\]]|\.\d)|({_SEPARATOR})"),
    # bare letters only in upper case: "a", "I" in prose are words, and a chain needs a separator anyway
    "letter": re.compile(rf"\[\s*([A-Za-z])\s*\]|(?<![\w.\[])([A-Z])(?![\w\]])|({_SEPARATOR})"),
}


@dataclass
class ParseResult:
    """One parsed answer: ``order`` (0-based, a full permutation of ``range(n)``) and what was repaired."""

    order: list[int]
    parsed_ok: bool
    complete_without_repair: bool
    n_duplicates: int = 0
    n_out_of_range: int = 0
    n_missing: int = 0
    failed: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def strip_reasoning(text: str) -> str:
    """Remove ``<think>...</think>`` blocks; with an unclosed/unopened tag keep only the text after ``</think>``."""
    text = _THINK.sub(" ", text)
    if "</think>" in text.lower():
        text = text[text.lower().rfind("</think>") + len("</think>"):]
    elif "<think>" in text.lower():
        # reasoning that never closed: nothing after it is a final answer, but a ranking may still be inside
        text = text.replace("<think>", " ").replace("<THINK>", " ")
    return text


def _chains(text: str, style: str) -> list[tuple[list[str], bool]]:
    """``(labels, has_gt)`` for each maximal run of identifiers separated only by separator tokens/whitespace."""
    chains: list[tuple[list[str], bool]] = []
    labels: list[str] = []
    has_gt = False
    expect_id = True  # after a separator (or at start) an id may follow
    last_end = 0
    for match in _TOKEN[style].finditer(text):
        gap = text[last_end:match.start()]
        label = match.group(1) or match.group(2)
        if labels and gap.strip():
            chains.append((labels, has_gt))
            labels, has_gt, expect_id = [], False, True
        if label is not None:
            if labels and not expect_id:  # "[1] [2]" without a separator: a new chain
                chains.append((labels, has_gt))
                labels, has_gt = [], False
            labels.append(label)
            expect_id = False
        elif labels:
            if expect_id:  # two separators in a row end the chain
                chains.append((labels, has_gt))
                labels, has_gt = [], False
            else:
                has_gt = has_gt or match.group(3) != ","
                expect_id = True
        last_end = match.end()
    if labels:
        chains.append((labels, has_gt))
    return chains


def parse_permutation(text: str, n: int, style: str = "number") -> ParseResult:
    """Parse ``text`` into a permutation of ``range(n)`` (see the module docstring for the rules and repairs)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if style not in _TOKEN:
        raise ValueError(f"style must be one of {tuple(_TOKEN)}, got {style!r}")
    cleaned = strip_reasoning(text or "")
    labels_found = list(_LABEL.finditer(cleaned))
    if labels_found:
        cleaned = cleaned[labels_found[-1].end():]
    chains = _chains(cleaned, style)
    # a one-id answer is a ranking only when nothing longer exists
    best: list[str] | None = None
    if chains:
        best = max(enumerate(chains), key=lambda item: (item[1][1], len(set(item[1][0])), item[0]))[1][0]
    if not best:
        return ParseResult(order=list(range(n)), parsed_ok=False, complete_without_repair=False, n_missing=n,
                           failed=True)
    seen: set[int] = set()
    order: list[int] = []
    duplicates = out_of_range = 0
    for label in best:
        index = identifier_index(label, style)
        if index is None or not 0 <= index < n:
            out_of_range += 1
        elif index in seen:
            duplicates += 1
        else:
            seen.add(index)
            order.append(index)
    missing = [i for i in range(n) if i not in seen]
    order.extend(missing)
    clean = duplicates == 0 and out_of_range == 0 and not missing
    return ParseResult(order=order, parsed_ok=True, complete_without_repair=clean, n_duplicates=duplicates,
                       n_out_of_range=out_of_range, n_missing=len(missing), failed=False)


@dataclass
class ParseSummary:
    """Totals over many parsed answers; ``parse_rate`` = share parsed at all, ``clean_rate`` = share needing no repair."""

    n: int = 0
    parsed_ok: int = 0
    complete_without_repair: int = 0
    failed: int = 0
    n_duplicates: int = 0
    n_out_of_range: int = 0
    n_missing: int = 0
    failed_examples: list[str] = field(default_factory=list)
    max_examples: int = 3

    def add(self, result: ParseResult, text: str | None = None) -> None:
        self.n += 1
        self.parsed_ok += result.parsed_ok
        self.complete_without_repair += result.complete_without_repair
        self.failed += result.failed
        self.n_duplicates += result.n_duplicates
        self.n_out_of_range += result.n_out_of_range
        self.n_missing += result.n_missing
        if result.failed and text is not None and len(self.failed_examples) < self.max_examples:
            self.failed_examples.append(text[:200])

    def merge(self, other: "ParseSummary") -> "ParseSummary":
        for name in ("n", "parsed_ok", "complete_without_repair", "failed", "n_duplicates", "n_out_of_range",
                     "n_missing"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        room = max(0, self.max_examples - len(self.failed_examples))
        self.failed_examples.extend(other.failed_examples[:room])
        return self

    @property
    def parse_rate(self) -> float:
        return self.parsed_ok / self.n if self.n else 0.0

    @property
    def clean_rate(self) -> float:
        return self.complete_without_repair / self.n if self.n else 0.0

    def metrics(self, prefix: str = "") -> dict[str, float]:
        """Flat numbers for logging: rates and per-answer repair counts."""
        per = max(self.n, 1)
        return {f"{prefix}parse_rate": self.parse_rate, f"{prefix}clean_rate": self.clean_rate,
                f"{prefix}failed": float(self.failed), f"{prefix}answers": float(self.n),
                f"{prefix}duplicates_per_answer": self.n_duplicates / per,
                f"{prefix}out_of_range_per_answer": self.n_out_of_range / per,
                f"{prefix}missing_per_answer": self.n_missing / per}

    def to_repair_report(self, source: str = "listwise answers") -> RepairReport:
        """The repairs as a :class:`RepairReport` (kinds: parse_failed, duplicate_ids_dropped, ...)."""
        report = RepairReport(source=source)
        for kind, count in (("parse_failed_input_order_kept", self.failed),
                            ("duplicate_ids_dropped", self.n_duplicates),
                            ("out_of_range_ids_dropped", self.n_out_of_range),
                            ("missing_ids_appended", self.n_missing)):
            if count:
                report.add(kind, n=count)
        for example in self.failed_examples:
            report.examples.setdefault("parse_failed_input_order_kept", []).append(example)
        return report

    def summary(self) -> str:
        return (f"{self.n} answers: parse rate {self.parse_rate:.1%}, no repair needed {self.clean_rate:.1%}, "
                f"failed {self.failed}, duplicates {self.n_duplicates}, out of range {self.n_out_of_range}, "
                f"missing {self.n_missing}")
