"""First-stage retrieval over a small in-memory corpus, and pooling of several retrievers' candidates (TWOLAR).

* :func:`bm25_retrieve` -- BM25 with ``bm25s`` (English stopwords, no stemmer: ``PyStemmer`` is not a dependency);
* :func:`dense_retrieve` -- cosine similarity of ``sentence-transformers`` embeddings (exact search, fine up to a
  few hundred thousand passages on a CPU);
* :func:`pool_runs` -- the union of each run's top-``k`` per query, ordered by reciprocal-rank fusion.

Runs are ``{qid: {docid: score}}`` dicts ordered by descending score, like :mod:`rankkd.data.io` reads them.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from rankkd.data.io import Run, ranked_docids

logger = logging.getLogger(__name__)


def _check(corpus: Mapping[str, str], queries: Mapping[str, str], k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not corpus:
        raise ValueError("cannot retrieve from an empty corpus")
    if not queries:
        raise ValueError("no queries to retrieve for")


def bm25_retrieve(corpus: Mapping[str, str], queries: Mapping[str, str], *, k: int = 100, stopwords: str = "en",
                  k1: float = 1.5, b: float = 0.75, progress: bool = False) -> Run:
    """BM25 top-``k`` per query. Documents sharing no term with the query (score 0) are not retrieved, so a query
    may get fewer than ``k`` (or no) documents."""
    import bm25s

    _check(corpus, queries, k)
    docids = list(corpus)
    tokens = bm25s.tokenize([corpus[d] for d in docids], stopwords=stopwords, show_progress=progress)
    retriever = bm25s.BM25(k1=k1, b=b)
    retriever.index(tokens, show_progress=progress)
    qids = list(queries)
    q_tokens = bm25s.tokenize([queries[q] for q in qids], stopwords=stopwords, return_ids=False,
                              show_progress=progress)
    indices, scores = retriever.retrieve(q_tokens, k=min(k, len(docids)), show_progress=progress)
    run: Run = {}
    for qid, row_idx, row_scores in zip(qids, indices, scores):
        run[qid] = {docids[int(i)]: float(s) for i, s in zip(row_idx, row_scores) if s > 0}
    return run


def dense_retrieve(corpus: Mapping[str, str], queries: Mapping[str, str], *, k: int = 100,
                   model: Any = "sentence-transformers/all-MiniLM-L6-v2", batch_size: int = 64,
                   progress: bool = False, device: str | None = None) -> Run:
    """Exact cosine-similarity top-``k`` with a sentence-transformers bi-encoder (a model object or its path/id)."""
    import torch
    from sentence_transformers import SentenceTransformer

    _check(corpus, queries, k)
    encoder = model if not isinstance(model, str) else SentenceTransformer(model, device=device or "cpu")
    docids = list(corpus)
    qids = list(queries)
    doc_emb = encoder.encode([corpus[d] for d in docids], batch_size=batch_size, convert_to_tensor=True,
                             normalize_embeddings=True, show_progress_bar=progress)
    q_emb = encoder.encode([queries[q] for q in qids], batch_size=batch_size, convert_to_tensor=True,
                           normalize_embeddings=True, show_progress_bar=progress)
    run: Run = {}
    top = min(k, len(docids))
    for offset in range(0, len(qids), 1024):  # bounds the (queries x docs) score matrix
        sims = q_emb[offset:offset + 1024] @ doc_emb.T
        values, indices = torch.topk(sims, top, dim=1)
        for qid, vals, idx in zip(qids[offset:offset + 1024], values.tolist(), indices.tolist()):
            run[qid] = {docids[i]: float(v) for i, v in zip(idx, vals)}
    return run


def pool_runs(runs: Mapping[str, Run], *, k_per_run: int = 20, depth: int | None = None, rrf_k: int = 60) -> Run:
    """Pool the top-``k_per_run`` of every run per query; order by reciprocal-rank fusion ``sum 1/(rrf_k + rank)``
    (rank 1-based; ties keep first appearance, runs in the given order), keep the first ``depth`` (all if None).

    The scores of the returned run are the RRF scores, so the pooled order is also a usable first-stage order.
    """
    if not runs:
        raise ValueError("pool_runs needs at least one run")
    if k_per_run < 1:
        raise ValueError(f"k_per_run must be >= 1, got {k_per_run}")
    qids = dict.fromkeys(q for run in runs.values() for q in run)
    pooled: Run = {}
    for qid in qids:
        fused: dict[str, float] = {}
        for run in runs.values():
            for rank, docid in enumerate(ranked_docids(run.get(qid, {}))[:k_per_run], start=1):
                fused[docid] = fused.get(docid, 0.0) + 1.0 / (rrf_k + rank)
        order = sorted(fused, key=lambda d: -fused[d])  # stable: first appearance wins ties
        pooled[qid] = {d: fused[d] for d in order[:depth]}
    return pooled


def pool_overlap(runs: Mapping[str, Run], k: int) -> dict[str, float]:
    """For each run, the mean share of its top-``k`` that no other run has in its top-``k`` (what it adds)."""
    names = list(runs)
    out = {}
    for name in names:
        shares = []
        for qid, scores in runs[name].items():
            mine = set(ranked_docids(scores)[:k])
            others = set()
            for other in names:
                if other != name:
                    others |= set(ranked_docids(runs[other].get(qid, {}))[:k])
            if mine:
                shares.append(len(mine - others) / len(mine))
        out[name] = sum(shares) / len(shares) if shares else 0.0
    return out
