"""TWOLAR (Baldelli et al., ECIR 2024) training data: synthetic queries -> pooled candidates -> LLM listwise labels.

1. queries from an unlabelled corpus: sentence cropping (a random span of one sentence) and/or doc2query
   (``doc2query/msmarco-t5-base-v1`` by default);
2. candidates pooled from several retrievers (BM25 via bm25s, dense via sentence-transformers MiniLM), fused by RRF;
3. the teacher LLM re-ranks the pooled candidates with sliding windows (every window cached: re-runs resume);
4. example-schema rows (``teacher_ranks``, RRF ``first_stage_scores``, ``labels`` = the source document as the only
   judged positive) saved as a DatasetDict ``train`` split with a card, ready for
   ``scripts/train_listwise.py --train_examples OUT`` (config ``scripts/configs/twolar.yaml``).

    python data_recipes/twolar.py --corpus ../shared/data/beir-scifact/corpus.jsonl --corpus-limit 200 \\
        --n-crop 100 --teacher smollm2 --depth 10 --window 5 --stride 2 --out data/twolar-scifact
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402  (the recipes' shared helpers live next to this script)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, help="corpus.jsonl / .tsv to make queries from and retrieve in.")
    parser.add_argument("--corpus-limit", type=int, default=None,
                        help="Use only this many (seeded random) documents as the corpus.")
    group = parser.add_argument_group("queries")
    group.add_argument("--n-crop", type=int, default=100, help="Documents to crop a query from (0: none).")
    group.add_argument("--crop-min-words", type=int, default=4)
    group.add_argument("--crop-max-words", type=int, default=12)
    group.add_argument("--n-doc2query", type=int, default=0, help="Documents to run doc2query on (0: none).")
    group.add_argument("--doc2query-model", default="doc2query/msmarco-t5-base-v1")
    group.add_argument("--doc2query-per-doc", type=int, default=1)
    group = parser.add_argument_group("candidates")
    group.add_argument("--retrievers", default="bm25,dense", help="Comma-separated subset of bm25,dense.")
    group.add_argument("--dense-model", default=None,
                       help="sentence-transformers model (default: the packaged all-MiniLM-L6-v2).")
    group.add_argument("--k-per-retriever", type=int, default=None,
                       help="Top-k of each retriever that enter the pool (default: --depth).")
    _common.add_teacher_args(parser)
    _common.add_output_args(parser)
    return parser


def main(argv: list[str] | None = None) -> Path:
    args = make_parser().parse_args(argv)
    _common.setup_logging(args.quiet)
    from rankkd.data.augment import SyntheticQueries, crop_queries, doc2query, load_doc2query, sample_docids
    from rankkd.data.io import read_corpus, write_queries, write_run
    from rankkd.data.retrieval import bm25_retrieve, dense_retrieve, pool_overlap, pool_runs
    from rankkd.data.schema import build_examples
    from rankkd.data.teacher import write_teacher

    import datasets

    timer = _common.Timer()
    retrievers = [r.strip() for r in args.retrievers.split(",") if r.strip()]
    unknown = set(retrievers) - {"bm25", "dense"}
    if unknown or not retrievers:
        raise SystemExit(f"--retrievers must be a non-empty subset of bm25,dense; got {args.retrievers!r}")
    full = read_corpus(args.corpus)
    corpus = {d: full[d] for d in sample_docids(full, args.corpus_limit, seed=args.seed)}

    with timer("queries"):
        synthetic = SyntheticQueries()
        if args.n_crop:
            docids = sample_docids(corpus, args.n_crop, seed=args.seed, min_words=args.crop_min_words)
            synthetic.merge(crop_queries(corpus, docids, min_words=args.crop_min_words,
                                         max_words=args.crop_max_words, seed=args.seed))
        if args.n_doc2query:
            from rankkd.teachers import TeacherCache

            model, tokenizer = load_doc2query(args.doc2query_model)
            docids = sample_docids(corpus, args.n_doc2query, seed=args.seed + 1)
            with TeacherCache(_common.cache_path(args)) as cache:
                synthetic.merge(doc2query(corpus, docids, model, tokenizer, model_id=args.doc2query_model,
                                          per_doc=args.doc2query_per_doc, seed=args.seed, cache=cache,
                                          progress=not args.quiet))
    if not synthetic.queries:
        raise SystemExit("no queries were generated: set --n-crop and/or --n-doc2query")

    k = args.k_per_retriever or args.depth
    runs = {}
    with timer("retrieval"):
        if "bm25" in retrievers:
            runs["bm25"] = bm25_retrieve(corpus, synthetic.queries, k=k)
        if "dense" in retrievers:
            from rankkd.models.pretrained import default_student_path

            runs["dense"] = dense_retrieve(corpus, synthetic.queries, k=k,
                                           model=args.dense_model or default_student_path(),
                                           progress=not args.quiet)
        pooled = pool_runs(runs, k_per_run=k, depth=args.depth)
    source_in_pool = sum(synthetic.sources[q] in pooled[q] for q in pooled) / len(pooled)

    with timer("teacher"):
        run_name = "rrf(" + ",".join(runs) + ")"
        annotation = _common.annotate(args, pooled, synthetic.queries, corpus, run_name)
    train = build_examples(synthetic.queries, corpus, run=pooled, teacher=annotation.records, qrels=synthetic.qrels)

    provenance = {
        "recipe": "twolar", "corpus": str(args.corpus), "corpus_docs": len(corpus), "seed": args.seed,
        "queries": {"total": len(synthetic), "crop": sum(m == "crop" for m in synthetic.methods.values()),
                    "doc2query": sum(m == "doc2query" for m in synthetic.methods.values()),
                    "skipped": synthetic.skipped, "doc2query_model": args.doc2query_model if args.n_doc2query
                    else None, "crop_words": [args.crop_min_words, args.crop_max_words]},
        "retrievers": {"names": list(runs), "k_per_retriever": k, "pooled_depth": args.depth, "fusion": "rrf(60)",
                       "unique_share": pool_overlap(runs, k), "source_doc_in_pool": round(source_in_pool, 4)},
        "teacher": annotation.provenance,
        "timings_seconds": timer.seconds,
    }

    def files(folder: Path) -> None:
        write_queries(synthetic.queries, folder / "queries.tsv")
        write_run(pooled, folder / "run.pool.txt", tag=run_name)
        write_teacher(annotation.records, folder / "teacher.jsonl")
        write_teacher(annotation.windows, folder / "teacher_windows.jsonl")

    meta = {"pretty_name": "TWOLAR-style listwise distillation data",
            "description": "Synthetic queries (sentence cropping / doc2query) over an unlabelled corpus, candidates "
                           "pooled from BM25 and a dense retriever, ranked by an LLM teacher with sliding windows "
                           "(TWOLAR, Baldelli et al., ECIR 2024). `labels` marks the document each query was made "
                           "from; all other candidates are unjudged (null).",
            "teacher": annotation.provenance["teacher"], "sources": [str(args.corpus)],
            "command": _common.command_line("twolar", argv), "provenance": provenance}
    return _common.finish(datasets.DatasetDict({"train": train}), args, meta, files)


if __name__ == "__main__":
    main()
