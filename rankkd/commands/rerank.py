"""Re-rank a first-stage TREC run with a cross-encoder (or decoder LLM / LoRA adapter) and write a TREC run.

    python scripts/rerank.py --model out/minilm-kd --run data/run.bm25.txt --queries data/queries.tsv \
        --corpus data/corpus.jsonl --output runs/minilm.txt --qrels data/qrels.txt
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="sequence-classifier folder / Hub id, or a PEFT adapter folder")
    parser.add_argument("--run", required=True, help="first-stage TREC run to re-rank")
    parser.add_argument("--queries", required=True, help="queries (.tsv qid<TAB>text or .jsonl)")
    parser.add_argument("--corpus", required=True, help="passages (.jsonl or .tsv)")
    parser.add_argument("--output", required=True, help="re-ranked TREC run to write (atomically)")
    parser.add_argument("--depth", type=int, default=100, help="re-rank the top DEPTH of each query (default 100)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--query-max-length", type=int, default=32, help="query tokens kept (default 32)")
    parser.add_argument("--passage-max-length", type=int, default=224, help="passage tokens kept (default 224)")
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float32", "float16"],
                        help="auto = bf16 where the hardware has native bf16, else fp32")
    parser.add_argument("--device", default=None, help="torch device (default: cpu / the loader's choice)")
    parser.add_argument("--num-labels", type=int, default=1,
                        help="classification head size (default 1: one relevance logit; 2 for binary monoBERT-style "
                             "heads, scored by the log-probability of the last class)")
    parser.add_argument("--trust-remote-code", action="store_true")
    parser.add_argument("--tag", default="rankkd", help="run tag written in the last column")
    parser.add_argument("--qrels", default=None, help="if given, print nDCG@10 of the input and re-ranked runs")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def main(argv: list[str] | None = None) -> dict:
    """Re-rank and write ``--output``; returns a summary dict (also printed as JSON)."""
    args = make_parser().parse_args(argv)

    from rankkd.data.io import read_corpus, read_queries, read_run, write_run
    from rankkd.inference import PointwiseReranker

    run = read_run(args.run)
    queries = read_queries(args.queries)
    corpus = read_corpus(args.corpus)
    reranker = PointwiseReranker.from_pretrained(
        args.model,
        dtype=args.dtype,
        device=args.device,
        num_labels=args.num_labels,
        trust_remote_code=args.trust_remote_code,
        batch_size=args.batch_size,
        query_max_length=args.query_max_length,
        passage_max_length=args.passage_max_length,
        show_progress=not args.no_progress,
    )
    start = time.perf_counter()
    reranked = reranker.rerank(run, queries, corpus, depth=args.depth)
    seconds = time.perf_counter() - start
    write_run(reranked, args.output, tag=args.tag)
    n_pairs = sum(min(len(docs), args.depth) for docs in run.values())
    summary: dict = {
        "output": str(args.output),
        "queries": len(reranked),
        "pairs": n_pairs,
        "seconds": round(seconds, 3),
        "pairs_per_s": round(n_pairs / seconds, 1) if seconds > 0 else None,
    }
    if args.qrels:
        from rankkd.data.io import read_qrels
        from rankkd.evaluation import evaluate_run

        qrels = read_qrels(args.qrels)
        before = evaluate_run(qrels, run, ["ndcg@10"])["ndcg@10"]
        after = evaluate_run(qrels, reranked, ["ndcg@10"])["ndcg@10"]
        print(f"nDCG@10  input {before:.4f}  ->  re-ranked {after:.4f}")
        summary["ndcg@10_before"] = round(before, 4)
        summary["ndcg@10_after"] = round(after, 4)
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
