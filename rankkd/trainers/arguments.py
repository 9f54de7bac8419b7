"""Where the training and validation data come from: a dataclass for the scripts, and the functions that load it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import datasets

from rankkd.data.errors import RepairReport

logger = logging.getLogger(__name__)


@dataclass
class DataArguments:
    """Training data (an example-schema dataset, or files to build one) and an optional validation run.

    Either ``train_examples`` (a ``save_to_disk`` folder, a json/jsonl/parquet file or a Hub id in the example schema)
    or ``train_teacher`` (teacher JSONL files, comma-separated) with ``train_queries`` and ``train_corpus`` (and
    optionally ``train_run`` for first-stage order and ``train_qrels`` for labels).
    """

    train_examples: str | None = field(default=None, metadata={"help": "Example-schema dataset: folder, file or Hub id."})
    train_split: str = field(default="train", metadata={"help": "Split of train_examples."})
    train_teacher: str | None = field(default=None, metadata={"help": "Teacher JSONL file(s), comma-separated."})
    train_queries: str | None = field(default=None, metadata={"help": "Queries (.tsv/.jsonl) for train_teacher."})
    train_corpus: str | None = field(default=None, metadata={"help": "Corpus (.jsonl/.tsv) for train_teacher."})
    train_run: str | None = field(default=None, metadata={"help": "First-stage run (candidate order, depth)."})
    train_qrels: str | None = field(default=None, metadata={"help": "Qrels giving labels (never test qrels)."})
    train_depth: int | None = field(default=None, metadata={"help": "Keep the first `depth` candidates per row."})
    max_train_rows: int | None = field(default=None, metadata={"help": "Use only the first N rows (smoke tests)."})
    eval_run: str | None = field(default=None, metadata={"help": "Validation run to re-rank during training."})
    eval_queries: str | None = field(default=None, metadata={"help": "Validation queries."})
    eval_corpus: str | None = field(default=None, metadata={"help": "Validation corpus."})
    eval_qrels: str | None = field(default=None, metadata={"help": "Validation qrels."})
    eval_depth: int = field(default=100, metadata={"help": "Re-rank the top-`eval_depth` of eval_run."})
    max_eval_queries: int | None = field(default=None, metadata={"help": "Use only the first N validation queries."})


def build_train_dataset(args: DataArguments) -> datasets.Dataset:
    """The training rows in the example schema, from ``train_examples`` or from teacher files."""
    from rankkd.data.hf import load_examples
    from rankkd.data.io import read_corpus, read_qrels, read_queries, read_run
    from rankkd.data.schema import build_examples
    from rankkd.data.teacher import read_teacher

    if args.train_examples:
        ds = load_examples(args.train_examples, split=args.train_split)
    elif args.train_teacher:
        if not (args.train_queries and args.train_corpus):
            raise ValueError("train_teacher needs train_queries and train_corpus to find the query and passage texts")
        report = RepairReport(source="training data")
        queries = read_queries(args.train_queries)
        corpus = read_corpus(args.train_corpus, report=report)
        records = []
        for path in args.train_teacher.split(","):
            records.extend(read_teacher(path.strip(), corpus_ids=set(corpus), report=report))
        run = read_run(args.train_run) if args.train_run else None
        qrels = read_qrels(args.train_qrels) if args.train_qrels else None
        ds = build_examples(queries, corpus, run=run, teacher=records, qrels=qrels, depth=args.train_depth,
                            report=report)
        report.log()
    else:
        raise ValueError("no training data: set train_examples, or train_teacher with train_queries and train_corpus")
    if args.max_train_rows is not None:
        ds = ds.select(range(min(args.max_train_rows, len(ds))))
    logger.info("training rows: %d (columns: %s)", len(ds), ", ".join(ds.column_names))
    return ds


def build_ranking_evaluator(args: DataArguments, config) -> "RankingEvaluator | None":  # noqa: F821
    """A :class:`RankingEvaluator` over the validation run, or None when no validation run is configured."""
    if not args.eval_run:
        return None
    missing = [name for name in ("eval_queries", "eval_corpus", "eval_qrels") if not getattr(args, name)]
    if missing:
        raise ValueError(f"eval_run is set but {missing} are not; a validation run needs queries, corpus and qrels")
    from rankkd.data.io import read_corpus, read_qrels, read_queries, read_run
    from rankkd.evaluation.ranking_evaluator import RankingEvaluator

    run = read_run(args.eval_run)
    if args.max_eval_queries is not None:
        run = dict(list(run.items())[: args.max_eval_queries])
    qrels = {qid: rels for qid, rels in read_qrels(args.eval_qrels).items() if qid in run}
    return RankingEvaluator(
        run=run,
        queries=read_queries(args.eval_queries),
        corpus=read_corpus(args.eval_corpus),
        qrels=qrels,
        depth=args.eval_depth,
        batch_size=config.per_device_eval_batch_size,
        query_max_length=config.query_max_length,
        passage_max_length=config.passage_max_length,
    )
