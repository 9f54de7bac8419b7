"""Candidate sampling strategies, group slicing over datasets, and hard negatives."""

from __future__ import annotations

import random

import datasets
import pytest

from rankkd.data.errors import RepairReport
from rankkd.data.sampling import SAMPLERS, hard_negatives, sample_group, sample_groups
from rankkd.data.schema import build_examples, validate_examples

DOCIDS = [f"d{i}" for i in range(10)]


def test_top_and_depth():
    assert sample_group(DOCIDS, 3, "top", rng=random.Random(0)) == [0, 1, 2]
    assert sample_group(DOCIDS, 5, "top", depth=2, rng=random.Random(0)) == [0, 1]  # short, never padded


@pytest.mark.parametrize("strategy", ["random", "top_and_random"])
def test_random_strategies_deterministic_distinct_within_depth(strategy):
    picks = [sample_group(DOCIDS, 4, strategy, depth=8, rng=random.Random(seed)) for seed in range(20)]
    assert picks[3] == sample_group(DOCIDS, 4, strategy, depth=8, rng=random.Random(3))
    assert len({tuple(p) for p in picks}) > 1  # it does vary with the seed
    for pick in picks:
        assert len(pick) == len(set(pick)) == 4 and all(0 <= i < 8 for i in pick)
        if strategy == "top_and_random":
            assert pick[:2] == [0, 1] and all(i >= 2 for i in pick[2:])  # ceil(4/2) top, rest from the remainder
        else:
            assert pick == sorted(pick)
    # odd n: ceil(n/2) from the top
    assert sample_group(DOCIDS, 5, "top_and_random", rng=random.Random(0))[:3] == [0, 1, 2]
    assert sorted(sample_group(DOCIDS, 20, strategy, depth=6, rng=random.Random(0))) == list(range(6))


def test_single_relevant():
    positives = {"d7", "d2"}
    for seed in range(20):
        pick = sample_group(DOCIDS, 4, "single_relevant", depth=5, positives=positives, rng=random.Random(seed))
        assert DOCIDS[pick[0]] in positives  # a positive first, even beyond depth (d7)
        assert len(pick) == 4 and all(i < 5 and DOCIDS[i] not in positives for i in pick[1:])
    assert {sample_group(DOCIDS, 2, "single_relevant", positives=positives, rng=random.Random(s))[0]
            for s in range(30)} == {2, 7}
    with pytest.raises(ValueError, match="needs a labelled positive among the candidates"):
        sample_group(DOCIDS, 4, "single_relevant", positives={"zz"}, rng=random.Random(0))
    assert sample_group(DOCIDS, 4, "single_relevant", positives=set(), rng=random.Random(0),
                        on_missing_positive="skip") == []


def test_sample_group_argument_errors():
    with pytest.raises(ValueError, match="unknown sampling strategy 'best'; available: random, single_relevant"):
        sample_group(DOCIDS, 2, "best", rng=random.Random(0))
    with pytest.raises(ValueError, match="group size n must be >= 1"):
        sample_group(DOCIDS, 0, "top", rng=random.Random(0))
    assert set(SAMPLERS) == {"top", "random", "single_relevant", "top_and_random"}


def _examples() -> datasets.Dataset:
    queries = {"q1": "one", "q2": "two", "q3": "three"}
    corpus = {f"d{i}": f"text {i}" for i in range(8)}
    run = {"q1": {f"d{i}": 10.0 - i for i in range(8)},
           "q2": {f"d{i}": 10.0 - i for i in range(3)},
           "q3": {f"d{i}": 10.0 - i for i in range(8)}}
    qrels = {"q1": {"d5": 2, "d0": 0}, "q2": {"d1": 1}, "q3": {"d0": 0}}
    return build_examples(queries, corpus, run=run, qrels=qrels)


def test_sample_groups_slices_every_list_column_consistently():
    ds = _examples()
    report = RepairReport()
    out = sample_groups(ds, 4, "single_relevant", seed=1, on_missing_positive="skip", report=report)
    assert out["qid"] == ["q1", "q2"]  # q3 has no positive (only a judged 0)
    assert report.counts == {"no_positive_skipped": 1, "short_group": 1}
    for row in out:
        assert row["labels"][0] >= 1 and all(label is None or label < 1 for label in row["labels"][1:])
        assert row["texts"] == [f"text {d[1:]}" for d in row["docids"]]
        assert row["first_stage_scores"] == [10.0 - int(d[1:]) for d in row["docids"]]
    assert len(out[0]["docids"]) == 4 and len(out[1]["docids"]) == 3
    validate_examples(out)
    assert out.features == ds.features
    again = sample_groups(ds, 4, "single_relevant", seed=1, on_missing_positive="skip")
    assert again.to_list() == out.to_list()
    other_seeds = [sample_groups(ds, 4, "single_relevant", seed=s, on_missing_positive="skip")["docids"]
                   for s in range(2, 8)]
    assert any(docids != out["docids"] for docids in other_seeds)


def test_sample_groups_drop_short_and_errors():
    ds = _examples()
    report = RepairReport()
    out = sample_groups(ds, 4, "top", report=report, drop_short=True)
    assert out["qid"] == ["q1", "q3"] and out["docids"][0] == ["d0", "d1", "d2", "d3"]
    assert report.counts == {"short_group": 1, "short_group_dropped": 1}
    with pytest.raises(ValueError, match="needs a labelled positive"):
        sample_groups(ds, 4, "single_relevant")
    with pytest.raises(ValueError, match="needs a 'labels' column"):
        sample_groups(ds.remove_columns("labels"), 4, "single_relevant")


def test_hard_negatives():
    run = {"q1": {"a": 5.0, "b": 4.0, "c": 3.0, "d": 2.0, "e": 1.0}, "q2": {"x": 1.0}}
    qrels = {"q1": {"a": 2, "b": 0, "d": 1}, "q2": {"x": 1}}
    # a and d are positives; b is a judged negative and is allowed
    assert hard_negatives(run, qrels, 2) == {"q1": ["b", "c"], "q2": []}
    assert hard_negatives(run, qrels, 5, depth=3) == {"q1": ["b", "c"], "q2": []}
    assert hard_negatives(run, qrels, 5, min_rel=2) == {"q1": ["b", "c", "d", "e"], "q2": ["x"]}
