"""LLM-teacher rankings: the :class:`TeacherRecord` type and its JSONL reader/writer.

One JSON object per line::

    {"qid": str, "query": str, "docids": [str, ...],          # required; docids in teacher order, best first
     "scores": [float, ...],                                  # optional, aligned with docids
     "candidates": [str, ...],                                # optional, the order shown to the LLM
     "window": int, "rationale": str,                         # optional (CoT / sliding-window teachers)
     "source": str, "teacher": str, "run": str,               # optional provenance
     ...}                                                     # anything else is kept in ``extra``

Checks: required keys and types, duplicate docids, docids not a permutation of candidates, ids outside
``corpus_ids``, non-finite scores. With ``on_invalid="error"`` each raises a DataFormatError naming file and line;
with ``on_invalid="repair"`` the ranking is repaired RankGPT-style -- drop duplicates (keep the first occurrence),
drop unknown ids, append missing candidates in presented order -- and every repair is counted in the report.
Scores that no longer align after a repair, or that are not finite, are dropped (``scores=None``) and counted.
Missing/ill-typed required keys cannot be repaired and always raise.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Iterable

from rankkd.data.errors import DataFormatError, RepairReport
from rankkd.utils import atomic_write

TEACHER_EXPECTED = (
    'a JSON object with "qid" (str), "query" (str), "docids" (list of str, teacher order) and optional "scores", '
    '"candidates", "window", "rationale", "source", "teacher", "run"'
)
_KNOWN_KEYS = ("qid", "query", "docids", "scores", "candidates", "window", "rationale", "source", "teacher", "run")


@dataclass
class TeacherRecord:
    """One teacher ranking of one query (or of one window of its candidates)."""

    qid: str
    query: str
    docids: list[str]
    scores: list[float] | None = None
    candidates: list[str] | None = None
    window: int | None = None
    rationale: str | None = None
    source: str | None = None
    teacher: str | None = None
    run: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # "file:line" the record was read from, for error messages downstream; not part of equality
    origin: str | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The JSON object :func:`write_teacher` writes (None fields omitted, ``extra`` merged last)."""
        obj: dict[str, Any] = {"qid": self.qid, "query": self.query}
        for key in ("window", "candidates"):
            if getattr(self, key) is not None:
                obj[key] = getattr(self, key)
        obj["docids"] = list(self.docids)
        for key in ("scores", "rationale", "source", "teacher", "run"):
            if getattr(self, key) is not None:
                obj[key] = getattr(self, key)
        clash = set(self.extra) & set(_KNOWN_KEYS)
        if clash:
            raise ValueError(f"extra fields {sorted(clash)} clash with TeacherRecord fields")
        obj.update(self.extra)
        return obj


def _id_list(value: Any, key: str, path, number: int) -> list[str]:
    if not isinstance(value, list):
        raise DataFormatError(path, number, f"{key!r} is {type(value).__name__}, not a list", TEACHER_EXPECTED)
    out = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str):
            raise DataFormatError(path, number, f"{key!r} contains {item!r}, not a string id", TEACHER_EXPECTED)
        out.append(item)
    return out


def _optional_str(obj: dict, key: str, path, number: int) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise DataFormatError(path, number, f"{key!r} is {type(value).__name__}, not a string", TEACHER_EXPECTED)
    return value


def _dedupe(ids: list[str]) -> tuple[list[str], list[str]]:
    """(ids without repeats in first-occurrence order, the repeated ids)."""
    seen: set[str] = set()
    kept, repeated = [], []
    for docid in ids:
        (repeated if docid in seen else kept).append(docid)
        seen.add(docid)
    return kept, repeated


def _parse_record(obj: dict, path, number: int, corpus_ids: set[str] | None, repair: bool,
                  report: RepairReport | None) -> TeacherRecord:
    where = f"{path}:{number}"

    def problem(kind: str, message: str, expected: str) -> None:
        """Raise in error mode; count the repair otherwise."""
        if not repair:
            raise DataFormatError(path, number, message, expected)
        if report is not None:
            report.add(kind, f"{where} {message}")

    for key in ("qid", "query", "docids"):
        if key not in obj:
            raise DataFormatError(path, number, f"missing required key {key!r}", TEACHER_EXPECTED)
    qid = obj["qid"]
    if isinstance(qid, int) and not isinstance(qid, bool):
        qid = str(qid)
    if not isinstance(qid, str) or not qid:
        raise DataFormatError(path, number, f"qid {qid!r} is not a non-empty string", TEACHER_EXPECTED)
    query = obj["query"]
    if not isinstance(query, str):
        raise DataFormatError(path, number, f"query is {type(query).__name__}, not a string", TEACHER_EXPECTED)
    docids = _id_list(obj["docids"], "docids", path, number)
    candidates = None if obj.get("candidates") is None else _id_list(obj["candidates"], "candidates", path, number)

    scores = obj.get("scores")
    if scores is not None:
        if not isinstance(scores, list) or not all(
            isinstance(s, (int, float)) and not isinstance(s, bool) for s in scores
        ):
            raise DataFormatError(path, number, "'scores' is not a list of numbers", TEACHER_EXPECTED)
        if len(scores) != len(docids):
            raise DataFormatError(path, number, f"{len(scores)} scores for {len(docids)} docids",
                                  "'scores' aligned with 'docids'")
        scores = [float(s) for s in scores]
        if not all(math.isfinite(s) for s in scores):
            problem("nonfinite_scores_dropped", "non-finite teacher score", "finite scores")
            scores = None

    window = obj.get("window")
    if window is not None and (not isinstance(window, int) or isinstance(window, bool)):
        raise DataFormatError(path, number, f"window {window!r} is not an integer", TEACHER_EXPECTED)

    original = list(docids)
    if candidates is not None:
        candidates, repeated = _dedupe(candidates)
        if repeated:
            problem("duplicate_candidates_dropped", f"duplicate candidates {repeated[:3]}", "unique candidates")
        if corpus_ids is not None:
            unknown = [d for d in candidates if d not in corpus_ids]
            if unknown:
                problem("unknown_candidates_dropped", f"candidates not in corpus {unknown[:3]}", "ids in the corpus")
                candidates = [d for d in candidates if d in corpus_ids]
    docids, repeated = _dedupe(docids)
    if repeated:
        problem("duplicate_docids_dropped", f"duplicate docids {repeated[:3]}", "each docid once")
    allowed = set(candidates) if candidates is not None else corpus_ids
    if allowed is not None:
        unknown = [d for d in docids if d not in allowed]
        if unknown:
            what = "not among the candidates" if candidates is not None else "not in corpus"
            problem("unknown_docids_dropped", f"docids {what} {unknown[:3]}", "a permutation of the candidates"
                    if candidates is not None else "ids in the corpus")
            docids = [d for d in docids if d in allowed]
    if candidates is not None:
        present = set(docids)
        missing = [d for d in candidates if d not in present]
        if missing:
            problem("missing_candidates_appended", f"candidates missing from docids {missing[:3]}",
                    "docids to be a permutation of the candidates")
            docids = docids + missing  # RankGPT: unranked candidates keep their presented order, at the end
    if not docids:
        raise DataFormatError(path, number, "no valid docids", TEACHER_EXPECTED)
    if scores is not None and docids != original:
        # a repaired ranking no longer aligns with the scores the teacher produced
        if report is not None:
            report.add("scores_dropped_after_repair", where)
        scores = None

    extra = {k: v for k, v in obj.items() if k not in _KNOWN_KEYS}
    return TeacherRecord(
        qid=qid,
        query=query,
        docids=docids,
        scores=scores,
        candidates=candidates,
        window=window,
        rationale=_optional_str(obj, "rationale", path, number),
        source=_optional_str(obj, "source", path, number),
        teacher=_optional_str(obj, "teacher", path, number),
        run=_optional_str(obj, "run", path, number),
        extra=extra,
        origin=where,
    )


def read_teacher(
    path: str | os.PathLike,
    *,
    corpus_ids: set[str] | None = None,
    on_invalid: str = "repair",
    report: RepairReport | None = None,
) -> list[TeacherRecord]:
    """Read teacher rankings (JSONL, format in the module docstring), validating or repairing each record."""
    if on_invalid not in ("repair", "error"):
        raise ValueError(f"on_invalid must be 'repair' or 'error', got {on_invalid!r}")
    if report is not None and not report.source:
        report.source = str(path)
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                if report is not None:
                    report.add("blank_line", f"{path}:{number}")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataFormatError(path, number, f"invalid JSON ({err.msg} at column {err.colno})",
                                      TEACHER_EXPECTED) from None
            if not isinstance(obj, dict):
                raise DataFormatError(path, number, f"JSON {type(obj).__name__}, not an object", TEACHER_EXPECTED)
            records.append(_parse_record(obj, path, number, corpus_ids, on_invalid == "repair", report))
    return records


def write_teacher(records: Iterable[TeacherRecord], path: str | os.PathLike) -> None:
    """Write records as JSONL (one object per line, :meth:`TeacherRecord.to_json`); atomic, overwrites."""
    with atomic_write(path) as handle:
        for record in records:
            if record.scores is not None and not all(math.isfinite(s) for s in record.scores):
                raise ValueError(f"record {record.qid!r} has non-finite scores")
            handle.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")


def teacher_records_to_run(
    records: Iterable[TeacherRecord], *, on_multiple: str = "error"
) -> dict[str, dict[str, float]]:
    """Teacher orders as a run: ``score = len(docids) - position`` (best gets ``len``, last gets 1).

    A query may appear in one record only: windows of one query or several teacher runs cannot be merged into one
    ranking without extra assumptions. ``on_multiple="error"`` raises; ``"first"`` keeps the first record per qid.
    """
    if on_multiple not in ("error", "first"):
        raise ValueError(f"on_multiple must be 'error' or 'first', got {on_multiple!r}")
    run: dict[str, dict[str, float]] = {}
    origins: dict[str, str | None] = {}
    for record in records:
        if record.qid in run:
            if on_multiple == "first":
                continue
            raise DataFormatError(record.origin, None,
                                  f"qid {record.qid!r} has several teacher records (first at {origins[record.qid]})",
                                  "one record per query (filter by run/window, or on_multiple='first')")
        n = len(record.docids)
        run[record.qid] = {docid: float(n - position) for position, docid in enumerate(record.docids)}
        origins[record.qid] = record.origin
    return run
