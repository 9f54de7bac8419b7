"""The example schema (build/validate), teacher-rank targets, and local Hugging Face loading."""

from __future__ import annotations

import json
import math

import datasets
import numpy as np
import pytest
import torch

from rankkd.data.errors import DataFormatError, RepairReport
from rankkd.data.hf import load_corpus_hf, load_examples, load_queries_hf
from rankkd.data.schema import EXAMPLE_COLUMNS, OPTIONAL_COLUMNS, build_examples, validate_examples
from rankkd.data.targets import (
    TARGET_TRANSFORMS,
    get_target_transform,
    ranks_from_order,
    teacher_topk_as_qrels,
)
from rankkd.data.teacher import TeacherRecord

QUERIES = {"q1": "how long do fleas live", "q2": "concrete floor cost"}
CORPUS = {f"d{i}": f"passage {i}" for i in range(1, 7)}
RUN = {"q1": {"d3": 1.0, "d1": 3.0, "d2": 2.0}, "q2": {"d6": 4.0, "d4": 5.0, "d5": 4.0}}
QRELS = {"q1": {"d1": 2, "d3": 0, "d9": 1}, "q2": {"d5": -1}}


def test_build_from_run_with_depth_and_qrels():
    ds = build_examples(QUERIES, CORPUS, run=RUN, qrels=QRELS, depth=2)
    assert ds.column_names == ["qid", "query", "docids", "texts", "first_stage_scores", "labels"]
    assert ds.to_list() == [
        {"qid": "q1", "query": QUERIES["q1"], "docids": ["d1", "d2"], "texts": ["passage 1", "passage 2"],
         "first_stage_scores": [3.0, 2.0], "labels": [2.0, None]},  # d2 unjudged -> None, not 0
        # tie at 4.0 between d5 and d6 is broken by docid
        {"qid": "q2", "query": QUERIES["q2"], "docids": ["d4", "d5"], "texts": ["passage 4", "passage 5"],
         "first_stage_scores": [5.0, 4.0], "labels": [None, -1.0]},
    ]
    validate_examples(ds)


def test_build_with_teacher_records():
    records = [
        # candidates given: presented order kept, ranks from the teacher order
        TeacherRecord("q1", QUERIES["q1"], ["d2", "d3", "d1"], candidates=["d3", "d1", "d2"], rationale="why"),
        # no candidates: run order restricted to the teacher's ids; d6 is not in q1's run -> appended, counted
        TeacherRecord("q1", "different text", ["d6", "d3", "d1"], scores=[0.9, 0.5, 0.1]),
    ]
    report = RepairReport()
    ds = build_examples(QUERIES, CORPUS, run=RUN, teacher=records, qrels=QRELS, report=report)
    assert ds.column_names == ["qid", "query", "docids", "texts", "first_stage_scores", "teacher_ranks",
                               "teacher_scores", "labels", "rationale"]
    rows = ds.to_list()
    assert rows[0]["docids"] == ["d3", "d1", "d2"] and rows[0]["teacher_ranks"] == [1, 2, 0]
    assert rows[0]["teacher_scores"] == [None, None, None] and rows[0]["rationale"] == "why"
    assert rows[1]["docids"] == ["d1", "d3", "d6"] and rows[1]["teacher_ranks"] == [2, 1, 0]
    assert rows[1]["teacher_scores"] == pytest.approx([0.1, 0.5, 0.9])
    assert rows[1]["first_stage_scores"] == [3.0, 1.0, None]
    assert rows[1]["labels"] == [2.0, 0.0, None]
    assert rows[1]["query"] == QUERIES["q1"] and rows[1]["rationale"] is None
    assert report.counts == {"teacher_query_mismatch": 1, "teacher_docid_not_in_run": 1}
    validate_examples(ds)


def test_build_teacher_only_and_depth():
    records = [TeacherRecord("q2", "x", ["d5", "d4", "d6"])]
    ds = build_examples(QUERIES, CORPUS, teacher=records, depth=2)
    assert ds.column_names == ["qid", "query", "docids", "texts", "teacher_ranks"]
    assert ds[0]["docids"] == ["d5", "d4"] and ds[0]["teacher_ranks"] == [0, 1]


def test_build_empty_optional_columns_are_typed():
    ds = build_examples(QUERIES, CORPUS, run=RUN, qrels={})
    assert ds.features["labels"] == datasets.List(datasets.Value("float32"))
    assert ds.features["first_stage_scores"] == datasets.List(datasets.Value("float64"))
    assert ds[0]["labels"] == [None, None, None]


def test_build_errors():
    with pytest.raises(DataFormatError, match=r"t\.jsonl:4: docid 'd99' \(query 'q1'\) is not in the corpus"):
        build_examples(QUERIES, CORPUS, teacher=[TeacherRecord("q1", "x", ["d1", "d99"], origin="t.jsonl:4")])
    with pytest.raises(DataFormatError, match=r"run: docid 'zz' \(query 'q1'\) is not in the corpus"):
        build_examples(QUERIES, CORPUS, run={"q1": {"zz": 1.0}})
    with pytest.raises(DataFormatError, match=r"run: query 'q3' is not in the queries"):
        build_examples(QUERIES, CORPUS, run={"q3": {"d1": 1.0}})
    with pytest.raises(ValueError, match="needs a run, teacher records, or both"):
        build_examples(QUERIES, CORPUS)


def test_validate_examples_errors():
    good = {"qid": ["q"], "query": ["x"], "docids": [["a", "b"]], "texts": [["A", "B"]]}
    validate_examples(datasets.Dataset.from_dict(good))
    with pytest.raises(DataFormatError, match=r"missing required column\(s\) \['texts'\]"):
        validate_examples(datasets.Dataset.from_dict({k: v for k, v in good.items() if k != "texts"}))
    bad = dict(good, qid=["q", "r"], query=["x", "y"], docids=[["a", "b"], ["c", "d"]], texts=[["A", "B"], ["C"]])
    with pytest.raises(DataFormatError, match=r"row 1: column 'texts' has 1 entries but 'docids' has 2"):
        validate_examples(datasets.Dataset.from_dict(bad))
    with pytest.raises(DataFormatError, match=r"row 0: column 'labels' has 3 entries"):
        validate_examples(datasets.Dataset.from_dict(dict(good, labels=[[1.0, None, 0.0]])))
    with pytest.raises(DataFormatError, match=r"row 0: repeated docids"):
        validate_examples(datasets.Dataset.from_dict(dict(good, docids=[["a", "a"]])))
    with pytest.raises(DataFormatError, match=r"row 0: teacher_ranks \[0, 0\] repeat"):
        validate_examples(datasets.Dataset.from_dict(dict(good, teacher_ranks=[[0, 0]])))
    assert set(EXAMPLE_COLUMNS).isdisjoint(OPTIONAL_COLUMNS)


# -------------------------------------------------------------------------------------------------------- targets
def _same(got, expected):
    got = np.asarray(got.tolist() if isinstance(got, torch.Tensor) else got, dtype=float)
    np.testing.assert_allclose(got, np.asarray(expected, dtype=float), equal_nan=True)


RANKS = [0, 1, 3, None]


@pytest.mark.parametrize(
    ("name", "kwargs", "expected"),
    [
        ("reciprocal", {}, [1.0, 0.5, 0.25, math.nan]),
        ("linear", {}, [4.0, 3.0, 1.0, math.nan]),  # depth = group size 4
        ("linear", {"depth": 2}, [2.0, 1.0, 0.0, math.nan]),  # 2 - 3 clamped to 0
        ("topk", {"k": 2}, [1.0, 1.0, 0.0, math.nan]),
    ],
)
def test_target_transforms(name, kwargs, expected):
    transform = get_target_transform(name, **kwargs)
    _same(transform(RANKS), expected)
    _same(transform(np.array([0, 1, 3, np.nan])), expected)
    tensor = transform(torch.tensor([0.0, 1.0, 3.0, float("nan")]))
    assert isinstance(tensor, torch.Tensor)
    _same(tensor, expected)


def test_target_transforms_batched_and_scores():
    _same(get_target_transform("linear")(torch.tensor([[0, 1], [1, 0]])), [[2.0, 1.0], [1.0, 2.0]])
    _same(get_target_transform("reciprocal")([[0, 1], [1, None]]), [[1.0, 0.5], [0.5, math.nan]])
    _same(get_target_transform("scores")([2.5, None, -1.0]), [2.5, math.nan, -1.0])
    assert set(TARGET_TRANSFORMS) == {"reciprocal", "linear", "topk", "scores"}
    with pytest.raises(ValueError, match="unknown target transform 'softmax'; available: linear, reciprocal"):
        get_target_transform("softmax")


def test_ranks_from_order_and_topk_qrels():
    assert ranks_from_order(["a", "b", "c"], ["c", "a", "b"]) == [1, 2, 0]
    # ids outside the candidates are skipped; unranked candidates are None
    assert ranks_from_order(["a", "b", "c"], ["x", "b", "a"]) == [1, 0, None]
    records = [TeacherRecord("q", "x", ["c", "a", "b"]), TeacherRecord("q", "x", ["d", "c"]),
               TeacherRecord("r", "y", ["e"])]
    assert teacher_topk_as_qrels(records, 1) == {"q": {"c": 1, "a": 0, "b": 0, "d": 1}, "r": {"e": 1}}


# ------------------------------------------------------------------------------------------------------------- hf
def test_load_examples_from_disk_and_files(tmp_path):
    ds = build_examples(QUERIES, CORPUS, run=RUN, qrels=QRELS)
    ds.save_to_disk(str(tmp_path / "single"))
    assert load_examples(tmp_path / "single").to_list() == ds.to_list()
    datasets.DatasetDict({"train": ds, "dev": ds.select([0])}).save_to_disk(str(tmp_path / "dict"))
    assert load_examples(tmp_path / "dict", split="dev").to_list() == ds.select([0]).to_list()
    with pytest.raises(DataFormatError, match=r"no split 'test'; expected one of \['dev', 'train'\]"):
        load_examples(tmp_path / "dict", split="test")
    ds.to_parquet(str(tmp_path / "ex.parquet"))
    assert load_examples(tmp_path / "ex.parquet")["docids"] == ds["docids"]
    broken = ds.remove_columns("texts")
    broken.to_json(str(tmp_path / "broken.jsonl"))
    with pytest.raises(DataFormatError, match=r"missing required column\(s\) \['texts'\]"):
        load_examples(tmp_path / "broken.jsonl")


def test_load_queries_and_corpus_hf_local(tmp_path):
    (tmp_path / "queries.jsonl").write_text('{"_id": "1", "text": "a"}\n{"_id": "2", "text": "b"}\n')
    assert load_queries_hf(tmp_path / "queries.jsonl") == {"1": "a", "2": "b"}
    (tmp_path / "corpus.jsonl").write_text(
        "".join(json.dumps(o) + "\n" for o in [{"_id": "d1", "title": "T", "text": "x"},
                                                {"_id": "d2", "title": "", "text": ""},
                                                {"_id": "d1", "title": "T", "text": "x"}]))
    report = RepairReport()
    assert load_corpus_hf(tmp_path / "corpus.jsonl", report=report) == {"d1": "T. x", "d2": ""}
    assert report.counts == {"empty_text": 1, "duplicate_docid_identical": 1}
    (tmp_path / "dup.jsonl").write_text('{"_id": "1", "text": "a"}\n{"_id": "1", "text": "b"}\n')
    with pytest.raises(DataFormatError, match=r"row 1: duplicate qid '1'"):
        load_queries_hf(tmp_path / "dup.jsonl")


@pytest.mark.slow
def test_build_examples_on_shared_data(shared_data):
    from rankkd.data.io import read_corpus, read_qrels, read_queries, read_run
    from rankkd.data.teacher import read_teacher

    dl19 = shared_data / "trec-dl-2019"
    queries, corpus = read_queries(dl19 / "queries.tsv"), read_corpus(dl19 / "corpus.jsonl")
    run, qrels = read_run(dl19 / "run.bm25.txt"), read_qrels(dl19 / "qrels.txt")
    report = RepairReport()
    teacher = read_teacher(dl19 / "teacher.jsonl", corpus_ids=set(corpus), on_invalid="error")
    ds = build_examples(queries, corpus, run=run, teacher=teacher, qrels=qrels, report=report)
    validate_examples(ds)
    assert not report, report.summary()
    assert ds.num_rows == 43 and all(sorted(r) == list(range(100)) for r in ds["teacher_ranks"])
    # candidates are in BM25 order, so first-stage scores are non-increasing
    assert all(s == sorted(s, reverse=True) for s in ds["first_stage_scores"])

    r2r = shared_data / "msmarco-train-r2r-cot"
    corpus = read_corpus(r2r / "corpus.jsonl")
    windows = read_teacher(r2r / "teacher.jsonl", corpus_ids=set(corpus), on_invalid="error")
    ds = build_examples(read_queries(r2r / "queries.tsv"), corpus, teacher=windows,
                        qrels=read_qrels(r2r / "qrels.txt"), report=report)
    validate_examples(ds)
    assert not report, report.summary()
    assert ds.num_rows == 2200 and {len(d) for d in ds["docids"]} == {5}
    assert sum(label == 1.0 for labels in ds["labels"] for label in labels) == 395
    assert all(r is not None for r in ds["rationale"])
