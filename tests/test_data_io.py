"""Readers/writers in rankkd.data.io and rankkd.data.teacher: round trips, every bad input, atomic writes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rankkd.data.errors import DataFormatError, RepairReport
from rankkd.data.io import (
    join_title,
    read_corpus,
    read_qrels,
    read_queries,
    read_run,
    write_corpus,
    write_qrels,
    write_queries,
    write_run,
)
from rankkd.data.teacher import TeacherRecord, read_teacher, teacher_records_to_run, write_teacher


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------------------ run
def test_run_round_trip_sorted_and_atomic(tmp_path):
    run = {"q2": {"d1": 1.5, "d2": 3.25, "d0": 1.5}, "q1": {"a": 0.1}}
    path = tmp_path / "out" / "run.txt"
    write_run(run, path, tag="mine")
    write_run(run, path, tag="mine")  # re-running must overwrite, not append
    lines = path.read_text().splitlines()
    # ties (1.5) are broken by docid ascending: d0 before d1
    assert lines == ["q2 Q0 d2 1 3.25 mine", "q2 Q0 d0 2 1.5 mine", "q2 Q0 d1 3 1.5 mine", "q1 Q0 a 1 0.1 mine"]
    assert read_run(path) == run
    assert list(read_run(path)) == ["q2", "q1"]  # insertion order kept
    assert sorted(p.name for p in path.parent.iterdir()) == ["run.txt"]  # no temp files left


def test_write_run_failure_keeps_old_file(tmp_path):
    path = tmp_path / "run.txt"
    write_run({"q": {"d": 1.0}}, path)
    with pytest.raises(ValueError, match="not finite"):
        write_run({"q": {"d": float("nan")}}, path)
    assert path.read_text() == "q Q0 d 1 1.0 rankkd\n"
    assert [p.name for p in tmp_path.iterdir()] == ["run.txt"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("q1 Q0 d1 1 2.0", r"run\.txt:2: 5 columns; expected 6 whitespace-separated columns"),
        ("q1 Q0 d1 first 2.0 t", r"run\.txt:2: rank 'first' is not an integer"),
        ("q1 Q0 d1 1 high t", r"run\.txt:2: score 'high' is not a number"),
        ("q1 Q0 d1 1 nan t", r"run\.txt:2: score 'nan' is not finite"),
        ("q1 Q0 d1 1 -inf t", r"run\.txt:2: score '-inf' is not finite"),
    ],
)
def test_read_run_malformed(tmp_path, line, message):
    path = _write(tmp_path / "run.txt", f"q1 Q0 d0 1 3.0 t\n{line}\n")
    with pytest.raises(DataFormatError, match=message):
        read_run(path)


def test_read_run_duplicates(tmp_path):
    path = _write(tmp_path / "run.txt", "q Q0 a 1 1.0 t\nq Q0 b 2 0.5 t\nq Q0 a 3 2.0 t\n")
    message = r"run\.txt:3: duplicate \(qid, docid\) = \('q', 'a'\), first seen on line 1"
    with pytest.raises(DataFormatError, match=message):
        read_run(path)
    report = RepairReport()
    assert read_run(path, on_duplicate="keep_first", report=report) == {"q": {"a": 1.0, "b": 0.5}}
    assert report.counts == {"duplicate_pair_keep_first": 1}
    report = RepairReport()
    kept = read_run(path, on_duplicate="keep_max", report=report)
    assert kept == {"q": {"a": 2.0, "b": 0.5}} and list(kept["q"]) == ["a", "b"]
    assert report.counts == {"duplicate_pair_keep_max": 1}
    with pytest.raises(ValueError, match="on_duplicate must be one of"):
        read_run(path, on_duplicate="drop")


def test_blank_lines_are_counted(tmp_path):
    path = _write(tmp_path / "run.txt", "q Q0 a 1 1.0 t\n\nq Q0 b 2 0.5 t\n")
    report = RepairReport()
    assert read_run(path, report=report) == {"q": {"a": 1.0, "b": 0.5}}
    assert report.counts == {"blank_line": 1}
    assert report.source == str(path)


# ---------------------------------------------------------------------------------------------------------- qrels
def test_qrels_round_trip_negative_grades(tmp_path):
    qrels = {"q1": {"d1": 3, "d2": -2, "d3": 0}, "q2": {"d1": -1}}
    path = tmp_path / "qrels.txt"
    write_qrels(qrels, path)
    write_qrels(qrels, path)
    assert path.read_text().splitlines() == ["q1 0 d1 3", "q1 0 d2 -2", "q1 0 d3 0", "q2 0 d1 -1"]
    assert read_qrels(path) == qrels


def test_read_qrels_errors_and_repairs(tmp_path):
    with pytest.raises(DataFormatError, match=r"qrels\.txt:1: 3 columns; expected 4 whitespace-separated columns"):
        read_qrels(_write(tmp_path / "qrels.txt", "q 0 d\n"))
    with pytest.raises(DataFormatError, match=r"qrels\.txt:2: rel '1\.5' is not an integer"):
        read_qrels(_write(tmp_path / "qrels.txt", "q 0 a 1\nq 0 d 1.5\n"))
    path = _write(tmp_path / "qrels.txt", "q 0 a 1\nq 0 a 2\n")
    with pytest.raises(DataFormatError, match=r"qrels\.txt:2: duplicate .* first seen on line 1"):
        read_qrels(path)
    report = RepairReport()
    assert read_qrels(path, on_duplicate="keep_max", report=report) == {"q": {"a": 2}}
    assert report.counts["duplicate_pair_keep_max"] == 1


# -------------------------------------------------------------------------------------------------------- queries
@pytest.mark.parametrize("suffix", [".tsv", ".jsonl"])
def test_queries_round_trip(tmp_path, suffix):
    queries = {"1": "what is a flea", "b7": "naïve query: unicode ✓"}
    path = tmp_path / f"queries{suffix}"
    write_queries(queries, path)
    write_queries(queries, path)
    assert read_queries(path) == queries
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_read_queries_jsonl_key_variants(tmp_path):
    path = _write(tmp_path / "q.jsonl", '{"_id": "a", "text": "x"}\n{"query_id": 7, "query": "y"}\n')
    assert read_queries(path) == {"a": "x", "7": "y"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("q.tsv", "1\tok\n2\tone\ttab too many\n", r"q\.tsv:2: 3 tab-separated fields; expected 'qid<TAB>text'"),
        ("q.tsv", "1\tok\n2\t  \n", r"q\.tsv:2: empty query text for qid '2'"),
        ("q.tsv", "1\tok\n1\tagain\n", r"q\.tsv:2: duplicate qid '1', first seen on line 1"),
        ("q.jsonl", '{"qid": "1", "text": ""}\n', r"q\.jsonl:1: empty query text"),
        ("q.jsonl", '{"qid": "1", "text": "a"}\n{"qid": "2", "text": "b"\n', r"q\.jsonl:2: invalid JSON"),
        ("q.jsonl", '{"qid": "1"}\n', r"q\.jsonl:1: missing field \(one of 'text', 'query'\)"),
        ("q.jsonl", '["1", "a"]\n', r"q\.jsonl:1: JSON list, not an object"),
        ("q.csv", "1,a\n", r"q\.csv: unsupported file suffix '\.csv'; expected one of \.tsv, \.jsonl"),
    ],
)
def test_read_queries_bad_input(tmp_path, name, content, message):
    with pytest.raises(DataFormatError, match=message):
        read_queries(_write(tmp_path / name, content))


def test_write_queries_tsv_rejects_tabs(tmp_path):
    with pytest.raises(ValueError, match="contains a tab or newline"):
        write_queries({"1": "a\tb"}, tmp_path / "q.tsv")
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------------------------------------- corpus
@pytest.mark.parametrize("suffix", [".tsv", ".jsonl"])
def test_corpus_round_trip(tmp_path, suffix):
    corpus = {"d1": "first passage", "d2": 'quotes " and unicode é'}
    path = tmp_path / f"corpus{suffix}"
    write_corpus(corpus, path)
    write_corpus(corpus, path)
    assert read_corpus(path) == corpus
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_title_convention():
    assert join_title("Fleas", "They jump.") == "Fleas. They jump."
    assert join_title("Do fleas jump?", "Yes.") == "Do fleas jump? Yes."
    assert join_title("wing in a slipstream", "wing in a  slipstream . an experiment") == \
        "wing in a  slipstream . an experiment"  # title already leads the text
    assert join_title("Only title", "") == "Only title"
    assert join_title(None, "text") == "text"
    assert join_title("  ", "text") == "text"


def test_read_corpus_titles_and_repairs(tmp_path):
    path = _write(
        tmp_path / "c.jsonl",
        '{"docid": "a", "title": "T", "text": "body"}\n'
        '{"_id": "b", "title": "Only", "contents": ""}\n'
        '{"doc_id": 3, "text": ""}\n'
        '{"docid": "a", "title": "T", "text": "body"}\n',
    )
    report = RepairReport()
    assert read_corpus(path, report=report) == {"a": "T. body", "b": "Only", "3": ""}
    assert report.counts == {"empty_text": 2, "duplicate_docid_identical": 1}
    assert report.examples["duplicate_docid_identical"] == ["a (lines 1, 4)"]
    assert read_corpus(path, join_title=False) == {"a": "body", "b": "", "3": ""}
    tsv = _write(tmp_path / "c.tsv", "a\tbody\tT\nb\tplain\n")
    assert read_corpus(tsv) == {"a": "T. body", "b": "plain"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("c.jsonl", '{"docid": "a", "text": "x"}\n{"docid": "b", text: 1}\n', r"c\.jsonl:2: invalid JSON"),
        ("c.jsonl", '{"docid": "a", "text": "x"}\n{"docid": "a", "text": "y"}\n',
         r"c\.jsonl:2: docid 'a' repeated with different text \(first on line 1\)"),
        ("c.jsonl", '{"text": "x"}\n', r"c\.jsonl:1: missing field \(one of 'docid', '_id', 'doc_id'\)"),
        ("c.jsonl", '{"docid": "a", "text": 5}\n', r"c\.jsonl:1: field 'text' is int, not a string"),
        ("c.tsv", "a\n", r"c\.tsv:1: 1 tab-separated fields; expected 'docid<TAB>text\[<TAB>title\]'"),
    ],
)
def test_read_corpus_bad_input(tmp_path, name, content, message):
    with pytest.raises(DataFormatError, match=message):
        read_corpus(_write(tmp_path / name, content))


# -------------------------------------------------------------------------------------------------------- teacher
CORPUS_IDS = {"a", "b", "c", "d", "e"}


def _teacher_file(tmp_path: Path, *objs: dict) -> Path:
    return _write(tmp_path / "teacher.jsonl", "".join(json.dumps(o) + "\n" for o in objs))


def test_teacher_round_trip(tmp_path):
    records = [
        TeacherRecord(qid="q1", query="flea life", docids=["b", "a", "c"], scores=[3.0, 2.0, 1.0],
                      candidates=["a", "b", "c"], window=0, rationale="[2] > [1] > [3]", source="src",
                      teacher="gpt-4", run="run1", extra={"permutation_repaired": False}),
        TeacherRecord(qid="q2", query="other", docids=["d"]),
    ]
    path = tmp_path / "t.jsonl"
    write_teacher(records, path)
    write_teacher(records, path)
    assert read_teacher(path, corpus_ids=CORPUS_IDS, on_invalid="error") == records
    first = json.loads(path.read_text().splitlines()[0])
    assert list(first)[:5] == ["qid", "query", "window", "candidates", "docids"]
    assert [p.name for p in tmp_path.iterdir()] == ["t.jsonl"]


@pytest.mark.parametrize(
    ("obj", "message", "repaired", "counts"),
    [
        ({"qid": "q", "query": "x", "docids": ["a", "b", "a"]}, r"teacher\.jsonl:2: duplicate docids \['a'\]",
         ["a", "b"], {"duplicate_docids_dropped": 1}),
        ({"qid": "q", "query": "x", "docids": ["a", "zz", "b"]}, r"teacher\.jsonl:2: docids not in corpus \['zz'\]",
         ["a", "b"], {"unknown_docids_dropped": 1}),
        ({"qid": "q", "query": "x", "candidates": ["a", "b", "c", "d"], "docids": ["c", "c", "e", "a"]},
         r"teacher\.jsonl:2: duplicate docids",
         ["c", "a", "b", "d"],  # RankGPT: drop dup, drop out-of-window id, append missing in presented order
         {"duplicate_docids_dropped": 1, "unknown_docids_dropped": 1, "missing_candidates_appended": 1}),
        ({"qid": "q", "query": "x", "candidates": ["a", "b", "c"], "docids": ["b", "a"]},
         r"teacher\.jsonl:2: candidates missing from docids \['c'\]; expected docids to be a permutation",
         ["b", "a", "c"], {"missing_candidates_appended": 1}),
    ],
)
def test_teacher_invalid_permutations(tmp_path, obj, message, repaired, counts):
    path = _teacher_file(tmp_path, {"qid": "ok", "query": "fine", "docids": ["a"]}, obj)
    with pytest.raises(DataFormatError, match=message):
        read_teacher(path, corpus_ids=CORPUS_IDS, on_invalid="error")
    report = RepairReport()
    records = read_teacher(path, corpus_ids=CORPUS_IDS, report=report)
    assert records[1].docids == repaired
    assert dict(report.counts) == counts


def test_teacher_scores(tmp_path):
    path = _teacher_file(tmp_path, {"qid": "q", "query": "x", "docids": ["a", "b"], "scores": [1.0, float("nan")]})
    with pytest.raises(DataFormatError, match=r"teacher\.jsonl:1: non-finite teacher score"):
        read_teacher(path, on_invalid="error")
    report = RepairReport()
    assert read_teacher(path, report=report)[0].scores is None
    assert report.counts == {"nonfinite_scores_dropped": 1}
    # a repaired ranking cannot keep scores aligned with the teacher's original list
    path = _teacher_file(tmp_path, {"qid": "q", "query": "x", "docids": ["a", "a", "b"], "scores": [3, 2, 1]})
    report = RepairReport()
    assert read_teacher(path, report=report)[0].scores is None
    assert report.counts == {"duplicate_docids_dropped": 1, "scores_dropped_after_repair": 1}
    path = _teacher_file(tmp_path, {"qid": "q", "query": "x", "docids": ["a", "b"], "scores": [1.0]})
    with pytest.raises(DataFormatError, match=r"teacher\.jsonl:1: 1 scores for 2 docids"):
        read_teacher(path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"qid": "q", "docids": ["a"]}', r"teacher\.jsonl:1: missing required key 'query'"),
        ('{"qid": "q", "query": "x"}', r"teacher\.jsonl:1: missing required key 'docids'"),
        ('{"qid": "q", "query": "x", "docids": "a b"}', r"teacher\.jsonl:1: 'docids' is str, not a list"),
        ('{"qid": "q", "query": "x", "docids": ["a"], "window": "0"}', r"window '0' is not an integer"),
        ('{"qid": "q", "query": "x", "docids": ["zz"]}', r"teacher\.jsonl:1: no valid docids"),
        ('{"qid": "q", "query": ', r"teacher\.jsonl:1: invalid JSON"),
    ],
)
def test_teacher_unrepairable(tmp_path, line, message):
    path = _write(tmp_path / "teacher.jsonl", line + "\n")
    with pytest.raises(DataFormatError, match=message):
        read_teacher(path, corpus_ids=CORPUS_IDS, on_invalid="repair")


def test_teacher_records_to_run():
    records = [TeacherRecord("q1", "x", ["c", "a", "b"], origin="t.jsonl:1"), TeacherRecord("q2", "y", ["d"])]
    run = teacher_records_to_run(records)
    assert run == {"q1": {"c": 3.0, "a": 2.0, "b": 1.0}, "q2": {"d": 1.0}}
    twice = records + [TeacherRecord("q1", "x", ["a", "b", "c"], origin="t.jsonl:3")]
    message = r"t\.jsonl:3: qid 'q1' has several teacher records \(first at t\.jsonl:1\)"
    with pytest.raises(DataFormatError, match=message):
        teacher_records_to_run(twice)
    assert teacher_records_to_run(twice, on_multiple="first") == run


def test_teacher_run_written_as_trec_preserves_order(tmp_path):
    run = teacher_records_to_run([TeacherRecord("q", "x", ["z", "a", "m"])])
    write_run(run, tmp_path / "t.run")
    assert [line.split()[2] for line in (tmp_path / "t.run").read_text().splitlines()] == ["z", "a", "m"]


# ------------------------------------------------------------------------------------------------ real shared data
@pytest.mark.slow
def test_shared_data_loads_cleanly(shared_data):
    """Every staged file loads; the only repairs are the documented ones (2 empty Cranfield texts)."""
    dl19 = shared_data / "trec-dl-2019"
    report = RepairReport()
    corpus = read_corpus(dl19 / "corpus.jsonl", report=report)
    queries = read_queries(dl19 / "queries.tsv")
    run = read_run(dl19 / "run.bm25.txt", report=report)
    qrels = read_qrels(dl19 / "qrels.txt", report=report)
    assert (len(queries), len(corpus), len(qrels)) == (43, 4297, 43)
    assert len(run) == 43 and all(len(scores) == 100 for scores in run.values())
    assert set(run) == set(queries) == set(qrels)
    assert sum(len(r) for r in qrels.values()) == 9260
    ids = set(corpus)
    assert all(d in ids for scores in run.values() for d in scores)
    teacher = read_teacher(dl19 / "teacher.jsonl", corpus_ids=ids, on_invalid="error")
    assert len(teacher) == 43 and all(set(r.docids) == set(run[r.qid]) for r in teacher)
    assert len(read_teacher(dl19 / "teacher.all.jsonl", corpus_ids=ids, on_invalid="error")) == 258
    for name in ("teacher_cot.gpt-3.5-turbo.jsonl", "teacher_cot.gpt-4.jsonl"):
        windows = read_teacher(dl19 / name, corpus_ids=ids, on_invalid="error")
        assert len(windows) == 172 and all(len(r.candidates) == 5 for r in windows)
        # the provenance flags one repaired window per teacher; it is a valid permutation as stored
        assert sum(r.extra["permutation_repaired"] for r in windows) == 1
    for path in sorted((dl19 / "teacher_runs").glob("*.txt")):
        assert len(read_run(path, report=report)) == 43

    r2r = shared_data / "msmarco-train-r2r-cot"
    corpus = read_corpus(r2r / "corpus.jsonl", report=report)
    ids = set(corpus)
    assert (len(read_queries(r2r / "queries.tsv")), len(corpus)) == (1100, 10852)
    qrels = read_qrels(r2r / "qrels.txt", report=report)
    assert (len(qrels), sum(len(r) for r in qrels.values())) == (386, 395)
    gpt35 = read_teacher(r2r / "teacher.jsonl", corpus_ids=ids, on_invalid="error")
    gpt4 = read_teacher(r2r / "teacher.gpt-4.jsonl", corpus_ids=ids, on_invalid="error")
    assert (len(gpt35), len(gpt4)) == (2200, 600)
    assert sum(r.extra["permutation_repaired"] for r in gpt35) == 1
    assert sum(r.extra["permutation_repaired"] for r in gpt4) == 9
    assert not report, report.summary()

    for folder in sorted(p for p in shared_data.iterdir() if p.is_dir()):
        folder_report = RepairReport()
        read_corpus(folder / "corpus.jsonl", report=folder_report)
        for queries_file in folder.glob("queries*.tsv"):
            read_queries(queries_file)
        for qrels_file in folder.glob("qrels*.txt"):
            read_qrels(qrels_file, report=folder_report)
        if (folder / "run.bm25.txt").is_file():
            scores = read_run(folder / "run.bm25.txt", report=folder_report).values()
            assert all(math.isfinite(s) for per_query in scores for s in per_query.values())
        expected = {"empty_text": 2} if folder.name == "cranfield" else {}
        assert dict(folder_report.counts) == expected, (folder.name, folder_report.summary())
