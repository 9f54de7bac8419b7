"""Re-rank the top-k of a TREC run with a listwise LLM (sliding windows; generation or FIRST single-token).

Example (SmolLM2 on 5 DL19 queries)::

    python scripts/rerank_listwise.py --model smollm2 --data ../shared/data/trec-dl-2019 --max-queries 5 \
        --depth 20 --output out/dl19.listwise.run --mode generate
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="smollm2", help="causal LM folder/id, LoRA adapter folder, .gguf, or 'smollm2'")
    p.add_argument("--data", help="folder with queries.tsv, corpus.jsonl, run.bm25.txt and qrels.txt")
    p.add_argument("--run"), p.add_argument("--queries"), p.add_argument("--corpus"), p.add_argument("--qrels")
    p.add_argument("--output", required=True, help="TREC run to write")
    p.add_argument("--checkpoint", help="JSONL of finished queries (default: <output>.ckpt.jsonl)")
    p.add_argument("--mode", default="generate", choices=["generate", "single-token"])
    p.add_argument("--depth", type=int, default=20)
    p.add_argument("--window", type=int, default=20)
    p.add_argument("--stride", type=int, default=10)
    p.add_argument("--passes", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-queries", type=int)
    p.add_argument("--max-new-tokens", type=int)
    p.add_argument("--identifiers", default=None, choices=["number", "letter"],
                   help="default: number for generate, letter for single-token")
    p.add_argument("--reasoning", action="store_true", help="prompt for reasoning before the ranking (CoT students)")
    p.add_argument("--max-passage-tokens", type=int, default=100)
    p.add_argument("--dtype", default="auto")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> dict:
    import torch

    from rankkd.data.io import read_corpus, read_qrels, read_queries, read_run, write_run
    from rankkd.listwise.inference import RerankStats, make_ranker, rerank_run
    from rankkd.listwise.prompts import PromptConfig
    from rankkd.models.llm import load_causal_lm
    from rankkd.utils import atomic_write

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = Path(args.data) if args.data else None

    def pick(explicit: str | None, name: str) -> str | None:
        if explicit:
            return explicit
        return str(data / name) if data and (data / name).is_file() else None

    run_path, queries_path = pick(args.run, "run.bm25.txt"), pick(args.queries, "queries.tsv")
    corpus_path, qrels_path = pick(args.corpus, "corpus.jsonl"), pick(args.qrels, "qrels.txt")
    if not (run_path and queries_path and corpus_path):
        raise SystemExit("need --run, --queries and --corpus (or --data with run.bm25.txt, queries.tsv, corpus.jsonl)")
    run = read_run(run_path)
    if args.max_queries:
        run = {qid: run[qid] for qid in list(run)[: args.max_queries]}
    queries, corpus = read_queries(queries_path), read_corpus(corpus_path)
    identifiers = args.identifiers or ("letter" if args.mode == "single-token" else "number")
    config = PromptConfig(max_passage_tokens=args.max_passage_tokens, identifiers=identifiers,
                          reasoning=args.reasoning)
    model, tokenizer = load_causal_lm(args.model, dtype=args.dtype)
    kwargs = {"prompt_config": config, "batch_size": args.batch_size}
    if args.mode == "generate":
        kwargs["max_new_tokens"] = args.max_new_tokens
    ranker = make_ranker(model, tokenizer, args.mode, **kwargs)
    stats = RerankStats()
    checkpoint = args.checkpoint or f"{args.output}.ckpt.jsonl"
    out = rerank_run(run, queries, corpus, ranker, depth=args.depth, window=args.window, stride=args.stride,
                     passes=args.passes, batch_size=args.batch_size, checkpoint=checkpoint,
                     progress=not args.no_progress, stats=stats)
    write_run(out, args.output, tag=f"rankkd-listwise-{args.mode}")
    summary = {"mode": args.mode, "model": str(args.model), "queries": len(run), **stats.metrics()}
    if qrels_path:
        from rankkd.evaluation import evaluate_run

        qrels = read_qrels(qrels_path)
        qrels = {q: r for q, r in qrels.items() if q in run}
        summary.update({f"rerank_{k}": v for k, v in evaluate_run(qrels, out, ["ndcg@10"]).items()})
        summary.update({f"first_stage_{k}": v for k, v in evaluate_run(qrels, run, ["ndcg@10"]).items()})
    stats.parse.to_repair_report(f"{args.mode} answers").log()
    with atomic_write(f"{args.output}.json") as handle:
        json.dump(summary, handle, indent=2)
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
