"""The embedded quickstart collection and the bi-encoder re-ranker it uses."""

from __future__ import annotations

import numpy as np
import pytest


def test_inverse_cloze_collection_removes_the_query_sentence():
    from rankkd.quickstart import pydoc_collection

    corpus, queries, qrels = pydoc_collection(n_queries=20, seed=1)
    assert len(queries) >= 15 and set(qrels) == set(queries)
    for qid, query in queries.items():
        (docid, rel), = qrels[qid].items()
        assert rel == 1 and docid in corpus
        assert query not in corpus[docid]  # the cut sentence is gone from its passage
    assert pydoc_collection(n_queries=20, seed=1)[1] == queries  # deterministic


def test_biencoder_scores_are_cosines_and_rerank_keeps_the_tail(tiny_bert_dir):
    from rankkd.inference.biencoder import BiEncoderReranker
    from rankkd.inference.pointwise import MissingTextError

    ranker = BiEncoderReranker.from_pretrained(tiny_bert_dir, dtype="float32", show_progress=False, batch_size=2)
    scores = ranker.score_pairs(["cat dog", "cat dog", "tree"], ["cat dog", "the river bank", "tree"])
    assert scores[0] == pytest.approx(1.0, abs=1e-5) and scores[2] == pytest.approx(1.0, abs=1e-5)
    assert -1.0 <= scores[1] < 1.0
    # batched encoding equals one-at-a-time encoding
    alone = np.stack([ranker.encode([t], 32)[0] for t in ["cat dog", "the river bank", "a tree leaf"]])
    np.testing.assert_allclose(ranker.encode(["cat dog", "the river bank", "a tree leaf"], 32), alone, atol=1e-5)

    run = {"q": {"d1": 3.0, "d2": 2.0, "d3": 1.0}}
    corpus = {"d1": "the river bank", "d2": "cat dog", "d3": "moon"}
    reranked = ranker.rerank(run, {"q": "cat dog"}, corpus, depth=2)
    order = sorted(reranked["q"], key=reranked["q"].get, reverse=True)
    assert order == ["d2", "d1", "d3"]
    with pytest.raises(MissingTextError, match="document 'd9'"):
        ranker.rerank({"q": {"d9": 1.0}}, {"q": "x"}, corpus)


def test_end_to_end_quickstart_with_tiny_models(tiny_bert_dir, tmp_path):
    """first stage -> teacher -> student training -> ranx table + PNG, with tiny stand-ins for SmolLM2 and MiniLM."""
    import json

    from rankkd.models.llm import make_tiny_causal_lm
    from rankkd.quickstart import main

    teacher = make_tiny_causal_lm(tmp_path / "teacher")
    summary = main(["--out", str(tmp_path / "qs"), "--train-queries", "4", "--test-queries", "5", "--depth", "4",
                    "--teacher", str(teacher), "--student", str(tiny_bert_dir)])
    out = tmp_path / "qs"
    table = (out / "results.md").read_text()
    for name in ("BM25", "SmolLM2 teacher", "MiniLM zero-shot", "MiniLM distilled"):
        assert name in table
    assert (out / "results.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "results.json").read_text())["num_queries"] == summary["test_queries"] == 5
    card = (out / "student" / "README.md").read_text()
    assert "RankNetLoss" in card and "## Results (ranx)" in card and "ndcg@10 (pydoc inverse-cloze test" in card
    # the teacher's work is checkpointed per query: a re-run recomputes nothing
    lines = (out / "teacher.train.ckpt.jsonl").read_text().splitlines()
    assert len(lines) == summary["train_queries"]
