"""Readers and writers for the IR file formats rankkd uses.

Formats (all UTF-8, one record per line, line numbers in errors are 1-based):

- run      ``qid Q0 docid rank score tag``      (TREC run, whitespace separated, 6 columns)
- qrels    ``qid iter docid rel``               (TREC qrels, graded integer ``rel``; negative grades are kept)
- queries  ``.tsv``: ``qid<TAB>text`` (exactly 2 fields) or ``.jsonl``: ``{"qid"|"_id"|"query_id", "text"|"query"}``
- corpus   ``.jsonl``: ``{"docid"|"_id"|"doc_id", "text"|"contents", optional "title"}`` or
           ``.tsv``: ``docid<TAB>text[<TAB>title]``
- teacher  ``.jsonl`` teacher rankings, see :mod:`rankkd.data.teacher` (re-exported here)

Title convention (``read_corpus(join_title=True)``): the passage text becomes ``"<title>. <text>"``; no extra period
is added when the title already ends in ``. ! ? :``, and the title is not prepended when the text already starts with
it (Cranfield-style corpora repeat the title at the start of the text). An empty text with a title becomes the title.

Bad input raises :class:`~rankkd.data.errors.DataFormatError` naming file, line and what was expected, or -- where a
repair is well defined -- is repaired and counted in an optional :class:`~rankkd.data.errors.RepairReport`.
Blank lines carry no data; they are skipped and counted as ``blank_line``. Writers are atomic and overwrite.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Iterator

from rankkd.data.errors import DataFormatError, RepairReport
from rankkd.data.teacher import TeacherRecord, read_teacher, teacher_records_to_run, write_teacher
from rankkd.utils import atomic_write

Run = dict[str, dict[str, float]]
Qrels = dict[str, dict[str, int]]

PathLike = str | os.PathLike

QUERY_ID_KEYS = ("qid", "_id", "query_id")
QUERY_TEXT_KEYS = ("text", "query")
DOC_ID_KEYS = ("docid", "_id", "doc_id")
DOC_TEXT_KEYS = ("text", "contents")
_DUPLICATE_POLICIES = ("error", "keep_first", "keep_max")

__all__ = [
    "Run",
    "Qrels",
    "TeacherRecord",
    "read_run",
    "write_run",
    "read_qrels",
    "write_qrels",
    "read_queries",
    "write_queries",
    "read_corpus",
    "write_corpus",
    "read_teacher",
    "write_teacher",
    "teacher_records_to_run",
    "ranked_docids",
    "join_title",
]


def _lines(path: PathLike, report: RepairReport | None) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` for non-blank lines, counting blank ones in ``report``."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                if report is not None:
                    report.add("blank_line", f"{path}:{number}")
                continue
            yield number, line


def _check_policy(on_duplicate: str) -> None:
    if on_duplicate not in _DUPLICATE_POLICIES:
        raise ValueError(f"on_duplicate must be one of {_DUPLICATE_POLICIES}, got {on_duplicate!r}")


def _ensure_report(report: RepairReport | None, path: PathLike) -> None:
    if report is not None and not report.source:
        report.source = str(path)


def _add_scored(
    table: dict,
    first_line: dict,
    qid: str,
    docid: str,
    value: float | int,
    *,
    path: PathLike,
    number: int,
    on_duplicate: str,
    report: RepairReport | None,
) -> None:
    """Insert ``value`` for (qid, docid), applying the duplicate policy (shared by runs and qrels)."""
    entries = table.setdefault(qid, {})
    if docid not in entries:
        entries[docid] = value
        first_line[(qid, docid)] = number
        return
    if on_duplicate == "error":
        raise DataFormatError(
            path,
            number,
            f"duplicate (qid, docid) = ({qid!r}, {docid!r}), first seen on line {first_line[(qid, docid)]}",
            "each (qid, docid) pair once (or on_duplicate='keep_first'/'keep_max')",
        )
    if on_duplicate == "keep_max" and value > entries[docid]:
        entries[docid] = value  # dict keeps the position of the first occurrence
    if report is not None:
        report.add(f"duplicate_pair_{on_duplicate}", f"{qid}/{docid} line {number}")


def _parse_number(text: str, kind: type, path: PathLike, number: int, column: str, expected: str):
    try:
        return kind(text)
    except ValueError:
        raise DataFormatError(path, number, f"{column} {text!r} is not {'an integer' if kind is int else 'a number'}",
                              expected) from None


# --------------------------------------------------------------------------------------------------------- runs
RUN_EXPECTED = "6 whitespace-separated columns 'qid Q0 docid rank score tag' with integer rank and finite score"


def read_run(path: PathLike, *, on_duplicate: str = "error", report: RepairReport | None = None) -> Run:
    """Read a TREC run into ``{qid: {docid: score}}`` (file order preserved).

    ``on_duplicate``: ``"error"`` (default) raises naming both lines; ``"keep_first"``/``"keep_max"`` keep one score
    and count the repair in ``report``.
    """
    _check_policy(on_duplicate)
    _ensure_report(report, path)
    run: Run = {}
    first_line: dict[tuple[str, str], int] = {}
    for number, line in _lines(path, report):
        parts = line.split()
        if len(parts) != 6:
            raise DataFormatError(path, number, f"{len(parts)} columns", RUN_EXPECTED)
        qid, _, docid, rank, score, _ = parts
        _parse_number(rank, int, path, number, "rank", RUN_EXPECTED)
        value = _parse_number(score, float, path, number, "score", RUN_EXPECTED)
        if not math.isfinite(value):
            raise DataFormatError(path, number, f"score {score!r} is not finite", RUN_EXPECTED)
        _add_scored(run, first_line, qid, docid, value, path=path, number=number, on_duplicate=on_duplicate,
                    report=report)
    return run


def ranked_docids(scores: dict[str, float]) -> list[str]:
    """Docids by score descending, ties broken by docid ascending (the order :func:`write_run` writes)."""
    return [docid for docid, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))]


def write_run(run: Run, path: PathLike, tag: str = "rankkd") -> None:
    """Write ``run`` as a TREC run: per query sorted by score (ties by docid), ranks 1..n; atomic, overwrites."""
    if not tag or any(ch.isspace() for ch in tag):
        raise ValueError(f"run tag must be a non-empty string without whitespace, got {tag!r}")
    with atomic_write(path) as handle:
        for qid, scores in run.items():
            for rank, docid in enumerate(ranked_docids(scores), start=1):
                score = scores[docid]
                if not math.isfinite(score):
                    raise ValueError(f"score of ({qid!r}, {docid!r}) is not finite: {score}")
                # repr keeps full float precision so a read/write round trip is exact
                handle.write(f"{qid} Q0 {docid} {rank} {float(score)!r} {tag}\n")


# -------------------------------------------------------------------------------------------------------- qrels
QRELS_EXPECTED = "4 whitespace-separated columns 'qid iter docid rel' with integer rel"


def read_qrels(path: PathLike, *, on_duplicate: str = "error", report: RepairReport | None = None) -> Qrels:
    """Read TREC qrels into ``{qid: {docid: rel}}``; graded, negative grades kept as-is."""
    _check_policy(on_duplicate)
    _ensure_report(report, path)
    qrels: Qrels = {}
    first_line: dict[tuple[str, str], int] = {}
    for number, line in _lines(path, report):
        parts = line.split()
        if len(parts) != 4:
            raise DataFormatError(path, number, f"{len(parts)} columns", QRELS_EXPECTED)
        qid, _, docid, rel = parts
        value = _parse_number(rel, int, path, number, "rel", QRELS_EXPECTED)
        _add_scored(qrels, first_line, qid, docid, value, path=path, number=number, on_duplicate=on_duplicate,
                    report=report)
    return qrels


def write_qrels(qrels: Qrels, path: PathLike) -> None:
    """Write TREC qrels ``qid 0 docid rel`` in dict order; atomic, overwrites."""
    with atomic_write(path) as handle:
        for qid, rels in qrels.items():
            for docid, rel in rels.items():
                handle.write(f"{qid} 0 {docid} {int(rel)}\n")


# ------------------------------------------------------------------------------------------------------ queries
def _suffix(path: PathLike, allowed: tuple[str, ...]) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        raise DataFormatError(path, None, f"unsupported file suffix {suffix!r}", f"one of {', '.join(allowed)}")
    return suffix


def _json_object(path: PathLike, number: int, line: str, expected: str) -> dict:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        raise DataFormatError(path, number, f"invalid JSON ({err.msg} at column {err.colno})", expected) from None
    if not isinstance(obj, dict):
        raise DataFormatError(path, number, f"JSON {type(obj).__name__}, not an object", expected)
    return obj


def _pick(obj: dict, keys: tuple[str, ...], path: PathLike, number: int, expected: str, *, required: bool = True,
          is_id: bool = False):
    for key in keys:
        if key in obj:
            value = obj[key]
            if is_id and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # numeric ids in JSON are still ids
            if not isinstance(value, str):
                raise DataFormatError(path, number, f"field {key!r} is {type(value).__name__}, not a string",
                                      expected)
            return value
    if required:
        raise DataFormatError(path, number, f"missing field (one of {', '.join(map(repr, keys))})", expected)
    return None


QUERIES_TSV_EXPECTED = "'qid<TAB>text' with exactly 2 fields and non-empty text"
QUERIES_JSONL_EXPECTED = 'a JSON object with "qid"/"_id"/"query_id" and non-empty "text"/"query"'


def read_queries(path: PathLike) -> dict[str, str]:
    """Read queries from ``.tsv`` or ``.jsonl`` into ``{qid: text}``; empty text or duplicate qid raises."""
    suffix = _suffix(path, (".tsv", ".jsonl"))
    expected = QUERIES_TSV_EXPECTED if suffix == ".tsv" else QUERIES_JSONL_EXPECTED
    queries: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for number, line in _lines(path, None):
        if suffix == ".tsv":
            parts = line.split("\t")
            if len(parts) != 2:
                raise DataFormatError(path, number, f"{len(parts)} tab-separated fields", expected)
            qid, text = parts[0].strip(), parts[1]
        else:
            obj = _json_object(path, number, line, expected)
            qid = _pick(obj, QUERY_ID_KEYS, path, number, expected, is_id=True).strip()
            text = _pick(obj, QUERY_TEXT_KEYS, path, number, expected)
        if not qid:
            raise DataFormatError(path, number, "empty qid", expected)
        if not text.strip():
            raise DataFormatError(path, number, f"empty query text for qid {qid!r}", expected)
        if qid in queries:
            raise DataFormatError(path, number, f"duplicate qid {qid!r}, first seen on line {first_line[qid]}",
                                  "each qid once")
        queries[qid] = text
        first_line[qid] = number
    return queries


def _check_tsv_field(value: str, what: str) -> None:
    if "\t" in value or "\n" in value or "\r" in value:
        raise ValueError(f"{what} {value[:60]!r} contains a tab or newline; write .jsonl instead of .tsv")


def write_queries(queries: dict[str, str], path: PathLike) -> None:
    """Write queries as ``.tsv`` or ``.jsonl`` (``{"qid","text"}``) by suffix; atomic, overwrites."""
    suffix = _suffix(path, (".tsv", ".jsonl"))
    with atomic_write(path) as handle:
        for qid, text in queries.items():
            if suffix == ".tsv":
                _check_tsv_field(qid, "qid")
                _check_tsv_field(text, f"query text of {qid!r}")
                handle.write(f"{qid}\t{text}\n")
            else:
                handle.write(json.dumps({"qid": qid, "text": text}, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------------------------------------------- corpus
CORPUS_TSV_EXPECTED = "'docid<TAB>text[<TAB>title]' (2 or 3 fields)"
CORPUS_JSONL_EXPECTED = 'a JSON object with "docid"/"_id"/"doc_id", "text"/"contents" and optional "title"'


def join_title(title: str | None, text: str) -> str:
    """Apply the corpus title convention (see the module docstring)."""
    title = (title or "").strip()
    if not title:
        return text
    if not text.strip():
        return title
    if " ".join(text.split()).lower().startswith(" ".join(title.split()).lower()):
        return text
    separator = " " if title[-1] in ".!?:" else ". "
    return f"{title}{separator}{text}"


def read_corpus(path: PathLike, *, join_title: bool = True, report: RepairReport | None = None) -> dict[str, str]:
    """Read a corpus from ``.jsonl`` or ``.tsv`` into ``{docid: text}``.

    With ``join_title`` the title is merged into the text (module docstring convention). Empty text is kept (or
    replaced by the title) and counted as ``empty_text``; a duplicate docid with identical text is counted as
    ``duplicate_docid_identical``; a duplicate docid with different text raises.
    """
    suffix = _suffix(path, (".tsv", ".jsonl"))
    expected = CORPUS_TSV_EXPECTED if suffix == ".tsv" else CORPUS_JSONL_EXPECTED
    _ensure_report(report, path)
    corpus: dict[str, str] = {}
    first_line: dict[str, int] = {}
    merge = join_title
    for number, line in _lines(path, report):
        if suffix == ".tsv":
            parts = line.split("\t")
            if len(parts) not in (2, 3):
                raise DataFormatError(path, number, f"{len(parts)} tab-separated fields", expected)
            docid, text = parts[0].strip(), parts[1]
            title = parts[2] if len(parts) == 3 else None
        else:
            obj = _json_object(path, number, line, expected)
            docid = _pick(obj, DOC_ID_KEYS, path, number, expected, is_id=True).strip()
            text = _pick(obj, DOC_TEXT_KEYS, path, number, expected)
            # "title": null is as good as no title
            title = _pick(obj, ("title",), path, number, expected) if obj.get("title") is not None else None
        if not docid:
            raise DataFormatError(path, number, "empty docid", expected)
        if not text.strip():
            if report is not None:
                report.add("empty_text", f"{docid} (line {number})")
        if merge:
            text = _join_title(title, text)
        if docid in corpus:
            if corpus[docid] != text:
                raise DataFormatError(path, number,
                                      f"docid {docid!r} repeated with different text (first on line "
                                      f"{first_line[docid]})", "one text per docid")
            if report is not None:
                report.add("duplicate_docid_identical", f"{docid} (lines {first_line[docid]}, {number})")
            continue
        corpus[docid] = text
        first_line[docid] = number
    return corpus


_join_title = join_title  # read_corpus's keyword argument shadows the function name


def write_corpus(corpus: dict[str, str], path: PathLike) -> None:
    """Write a corpus as ``.jsonl`` (``{"docid","text"}``) or ``.tsv`` by suffix; atomic, overwrites."""
    suffix = _suffix(path, (".tsv", ".jsonl"))
    with atomic_write(path) as handle:
        for docid, text in corpus.items():
            if suffix == ".tsv":
                _check_tsv_field(docid, "docid")
                _check_tsv_field(text, f"text of {docid!r}")
                handle.write(f"{docid}\t{text}\n")
            else:
                handle.write(json.dumps({"docid": docid, "text": text}, ensure_ascii=False) + "\n")
