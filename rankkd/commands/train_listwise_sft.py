"""SFT a causal-LM listwise re-ranker (LoRA) on teacher windows; log validation nDCG@10 + parse rate; save merged.

Config from ``--config file.yaml`` and/or flags (TRL's parser, flags win), e.g.::

    python scripts/train_listwise_sft.py --model_name_or_path smollm2 --output_dir out/dear-l \
        --train_teacher ../shared/data/msmarco-train-r2r-cot/teacher.jsonl \
        --train_corpus ../shared/data/msmarco-train-r2r-cot/corpus.jsonl --target permutation \
        --eval_data ../shared/data/trec-dl-2019 --max_eval_queries 5 --max_steps 50
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

logger = logging.getLogger("rankkd")


@dataclass
class ListwiseDataArguments:
    """Teacher windows to train on and an optional validation collection to re-rank."""

    train_teacher: str = field(metadata={"help": "Teacher JSONL file(s) with candidates/docids, comma-separated."})
    train_corpus: str = field(metadata={"help": "Corpus (.jsonl/.tsv) holding the candidates' texts."})
    train_queries: str | None = field(default=None, metadata={"help": "Queries overriding the records' texts."})
    max_train_rows: int | None = field(default=None, metadata={"help": "Use only the first N teacher records."})
    eval_data: str | None = field(default=None, metadata={"help": "Folder with run.bm25.txt, queries.tsv, "
                                                                   "corpus.jsonl, qrels.txt to re-rank."})
    max_eval_queries: int | None = field(default=5, metadata={"help": "Validation queries re-ranked per evaluation."})


def main(argv: Sequence[str] | None = None) -> dict:
    from trl import TrlParser

    from rankkd.data.errors import RepairReport
    from rankkd.data.io import read_corpus, read_qrels, read_queries, read_run
    from rankkd.data.teacher import read_teacher
    from rankkd.listwise.data import build_sft_examples
    from rankkd.listwise.sft_config import ListwiseSFTConfig
    from rankkd.listwise.sft_trainer import ListwiseEvalSet, ListwiseSFTTrainer
    from rankkd.models.llm import load_causal_lm
    from rankkd.utils import atomic_write

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = TrlParser(dataclass_types=[ListwiseSFTConfig, ListwiseDataArguments])
    config, data_args = parser.parse_args_and_config(args=list(argv) if argv is not None else None)
    if not config.model_name_or_path:
        raise SystemExit("set --model_name_or_path (a causal LM folder, or 'smollm2')")

    report = RepairReport(source="listwise SFT data")
    corpus = read_corpus(data_args.train_corpus, report=report)
    records = []
    for path in data_args.train_teacher.split(","):
        records.extend(read_teacher(path.strip(), corpus_ids=set(corpus), report=report))
    records = records[: data_args.max_train_rows] if data_args.max_train_rows else records
    model, tokenizer = load_causal_lm(config.model_name_or_path, dtype=config.model_dtype)
    model.train()
    queries = read_queries(data_args.train_queries) if data_args.train_queries else None
    train = build_sft_examples(records, corpus, tokenizer, target=config.target,
                               prompt_config=config.prompt_config(), queries=queries, report=report,
                               shuffle=config.shuffle_windows, seed=config.seed)
    report.log()
    logger.info("%d %s rows from %d teacher records", len(train), config.target, len(records))

    rank_eval = None
    if data_args.eval_data:
        folder = Path(data_args.eval_data)
        rank_eval = ListwiseEvalSet(run=read_run(folder / "run.bm25.txt"), queries=read_queries(folder / "queries.tsv"),
                                    corpus=read_corpus(folder / "corpus.jsonl"), qrels=read_qrels(folder / "qrels.txt"),
                                    max_queries=data_args.max_eval_queries)
    trainer = ListwiseSFTTrainer(model=model, args=config, train_dataset=train, processing_class=tokenizer,
                                 rank_eval=rank_eval)
    result = trainer.train(resume_from_checkpoint=config.resume_from_checkpoint)
    metrics = dict(result.metrics)
    if rank_eval is not None:
        metrics.update(trainer.evaluate())
    if config.use_lora and not config.merge_lora_on_save:
        trainer.save_model(config.output_dir)
    else:
        trainer.save_merged(config.output_dir)
    if trainer.is_world_process_zero():
        metrics["data_repairs"] = report.to_dict()["counts"]
        with atomic_write(f"{config.output_dir}/rankkd_metrics.json") as handle:
            json.dump(metrics, handle, indent=2)
        logger.info("final metrics: %s", json.dumps(metrics))
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
