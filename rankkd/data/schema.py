"""The example schema every rankkd trainer consumes.

A :class:`datasets.Dataset` with one row per query (or per teacher window -- then ``qid`` repeats) and columns:

required
    ``qid: str``, ``query: str``,
    ``docids: list[str]`` -- the candidates, in first-stage / presented order (never in teacher order unless the
    teacher order is all that is known), ``texts: list[str]`` -- their passage texts, aligned with ``docids``.
optional (a column exists only when that information is known; a ``None`` inside a list means "unknown")
    ``first_stage_scores: list[float]`` -- first-stage (e.g. BM25) score of each candidate,
    ``teacher_ranks: list[int]`` -- 0-based rank of each candidate in the teacher order (0 = best), computed among
    the row's candidates (so they are ``0..len-1`` when the teacher ranked them all),
    ``teacher_scores: list[float]`` -- the teacher's own score per candidate, when the teacher gave scores,
    ``labels: list[float]`` -- graded qrels; unjudged candidates are ``None``, NOT 0,
    ``rationale: str`` -- the teacher's free-text output (CoT teachers), for rationale distillation.

Every list column has exactly ``len(docids)`` entries per row (:func:`validate_examples` checks this).
Features are declared explicitly (:data:`FEATURES`) so all-``None`` columns still get the right type.
"""

from __future__ import annotations

from typing import Any

import datasets

from rankkd.data.errors import DataFormatError, RepairReport
from rankkd.data.io import Qrels, Run, ranked_docids
from rankkd.data.targets import ranks_from_order
from rankkd.data.teacher import TeacherRecord

EXAMPLE_COLUMNS: tuple[str, ...] = ("qid", "query", "docids", "texts")
OPTIONAL_COLUMNS: tuple[str, ...] = ("first_stage_scores", "teacher_ranks", "teacher_scores", "labels", "rationale")
LIST_COLUMNS: tuple[str, ...] = ("docids", "texts", "first_stage_scores", "teacher_ranks", "teacher_scores", "labels")

FEATURES = datasets.Features(
    {
        "qid": datasets.Value("string"),
        "query": datasets.Value("string"),
        "docids": datasets.List(datasets.Value("string")),
        "texts": datasets.List(datasets.Value("string")),
        "first_stage_scores": datasets.List(datasets.Value("float64")),
        "teacher_ranks": datasets.List(datasets.Value("int32")),
        "teacher_scores": datasets.List(datasets.Value("float64")),
        "labels": datasets.List(datasets.Value("float32")),
        "rationale": datasets.Value("string"),
    }
)


def example_features(columns: list[str] | tuple[str, ...]) -> datasets.Features:
    """The declared features restricted to ``columns`` (in that order)."""
    return datasets.Features({name: FEATURES[name] for name in columns})


def _query_text(queries: dict[str, str], qid: str, source: str) -> str:
    try:
        return queries[qid]
    except KeyError:
        raise DataFormatError(source, None, f"query {qid!r} is not in the queries", "a query text for every qid") \
            from None


def _texts(corpus: dict[str, str], docids: list[str], qid: str, source: str) -> list[str]:
    texts = []
    for docid in docids:
        if docid not in corpus:
            raise DataFormatError(source, None, f"docid {docid!r} (query {qid!r}) is not in the corpus",
                                  "every candidate id in the corpus")
        texts.append(corpus[docid])
    return texts


def build_examples(
    queries: dict[str, str],
    corpus: dict[str, str],
    *,
    run: Run | None = None,
    teacher: list[TeacherRecord] | None = None,
    qrels: Qrels | None = None,
    depth: int | None = None,
    report: RepairReport | None = None,
) -> datasets.Dataset:
    """Join queries, corpus texts, first-stage run, teacher rankings and qrels into the example schema.

    With ``teacher``: one row per record; candidates are ``record.candidates`` if given, else the ``run`` order
    restricted to the record's ids (ids the run lacks are appended in teacher order and counted as
    ``teacher_docid_not_in_run``), else ``record.docids`` (teacher order). With only ``run``: one row per run query,
    candidates = its top ``depth`` by score. ``depth`` truncates the candidate list in both cases.
    A ``query`` text differing from ``queries[qid]`` (beyond whitespace) is counted as ``teacher_query_mismatch``;
    ``queries`` wins.
    """
    if teacher is None and run is None:
        raise ValueError("build_examples needs a run, teacher records, or both")
    if depth is not None and depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    rows: list[dict[str, Any]] = []
    if teacher is not None:
        for index, record in enumerate(teacher):
            source = record.origin or f"teacher record {index}"
            query = _query_text(queries, record.qid, source)
            # whitespace-only differences are common (TSV writers normalise runs of spaces) and harmless
            if report is not None and record.query and record.query.split() != query.split():
                report.add("teacher_query_mismatch", f"{record.qid} ({source})")
            if record.candidates is not None:
                candidates = list(record.candidates)
            elif run is not None:
                scores = run.get(record.qid, {})
                wanted = set(record.docids)
                candidates = [d for d in ranked_docids(scores) if d in wanted]
                missing = [d for d in record.docids if d not in scores]
                if missing and report is not None:
                    report.add("teacher_docid_not_in_run", f"{record.qid}: {missing[:3]}", n=len(missing))
                candidates += missing
            else:
                candidates = list(record.docids)
            candidates = candidates[:depth]
            row = {"qid": record.qid, "query": query, "docids": candidates,
                   "texts": _texts(corpus, candidates, record.qid, source),
                   "teacher_ranks": ranks_from_order(candidates, record.docids),
                   "rationale": record.rationale}
            if record.scores is not None:
                by_id = dict(zip(record.docids, record.scores))
                row["teacher_scores"] = [by_id.get(d) for d in candidates]
            rows.append(row)
    else:
        for qid, scores in run.items():
            candidates = ranked_docids(scores)[:depth]
            rows.append({"qid": qid, "query": _query_text(queries, qid, "run"), "docids": candidates,
                         "texts": _texts(corpus, candidates, qid, "run")})
    for row in rows:
        if run is not None:
            scores = run.get(row["qid"], {})
            row["first_stage_scores"] = [scores.get(d) for d in row["docids"]]
        if qrels is not None:
            judged = qrels.get(row["qid"], {})
            row["labels"] = [None if d not in judged else float(judged[d]) for d in row["docids"]]

    columns = list(EXAMPLE_COLUMNS)
    if run is not None:
        columns.append("first_stage_scores")
    if teacher is not None:
        columns.append("teacher_ranks")
        if any("teacher_scores" in row for row in rows):
            columns.append("teacher_scores")
    if qrels is not None:
        columns.append("labels")
    if teacher is not None and any(row.get("rationale") is not None for row in rows):
        columns.append("rationale")
    data = {name: [row.get(name, [None] * len(row["docids"])) if name in LIST_COLUMNS else row.get(name)
                   for row in rows] for name in columns}
    return datasets.Dataset.from_dict(data, features=example_features(columns))


def validate_examples(ds: datasets.Dataset) -> None:
    """Raise DataFormatError for missing required columns, unknown columns, or list columns whose length differs
    from ``docids`` (naming row and column); also checks ids are unique and teacher ranks are a partial permutation.
    """
    missing = [name for name in EXAMPLE_COLUMNS if name not in ds.column_names]
    if missing:
        raise DataFormatError("examples", None, f"missing required column(s) {missing}",
                              f"columns {list(EXAMPLE_COLUMNS)} (+ optional {list(OPTIONAL_COLUMNS)})")
    list_columns = [name for name in LIST_COLUMNS if name in ds.column_names]
    offset = 0
    for batch in ds.select_columns(["qid", *list_columns]).iter(batch_size=1000):
        for i, docids in enumerate(batch["docids"]):
            row = offset + i
            if not batch["qid"][i]:
                raise DataFormatError("examples", None, f"row {row}: empty qid", "a non-empty qid")
            if docids is None or len(docids) == 0:
                raise DataFormatError("examples", None, f"row {row}: no candidates in 'docids'", ">= 1 candidate")
            if len(set(docids)) != len(docids):
                raise DataFormatError("examples", None, f"row {row}: repeated docids in 'docids'", "unique docids")
            for name in list_columns[1:]:
                values = batch[name][i]
                if values is None or len(values) != len(docids):
                    got = "None" if values is None else len(values)
                    raise DataFormatError("examples", None,
                                          f"row {row}: column {name!r} has {got} entries but 'docids' has "
                                          f"{len(docids)}", "every list column aligned with 'docids'")
            if "teacher_ranks" in list_columns:
                ranks = [r for r in batch["teacher_ranks"][i] if r is not None]
                if len(set(ranks)) != len(ranks) or any(r < 0 for r in ranks):
                    raise DataFormatError("examples", None, f"row {row}: teacher_ranks {ranks} repeat or are "
                                          "negative", "distinct 0-based ranks")
        offset += len(batch["docids"])
