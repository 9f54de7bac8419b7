"""Acceptance benchmark of the listwise LLM layer: LoRA-SFT SmolLM2-135M-Instruct on Reason-to-Rank teacher windows,
then re-rank the BM25 top-k of TREC DL19 with sliding windows, by generation and by FIRST single-token logits.

One model serves both modes: training prompts and targets use LETTER identifiers (``[A] > [C] > ...``), because
SmolLM2 splits ``[12]`` into ``[ 1 2 ]`` while every ``[X]`` letter is one token after ``[``. Windows are shown
in a seeded random order (``--shuffle``): unshuffled, the student learned to copy the BM25 order. ``--target``:
``permutation`` (the permutation only: generation is short and parsing reliable), or ``permutation_rationale``
(Reason-to-Rank's answer: the permutation, then the teacher's explanation; mode ``generate`` then writes the
explanation too, and mode ``generate-ranking`` stops at the end of the ranking line). Training stops at ``--train-minutes``
(a callback checks wall time after every optimizer step; the LR is constant, no warm-up by default, so stopping at any
step leaves no half-finished decay schedule). On the shared 2-core CPU, ``--threads 1`` was about 2x faster than 2
(OpenMP barriers stall when other processes hold the cores).

    python scripts/bench/listwise_sft.py --quick                       # smoke run: 2 steps, 2 queries
    nohup python scripts/bench/listwise_sft.py --output-dir out/listwise_sft > out/listwise_sft.log 2>&1 &

The last printed line is one JSON object: parse_rate (windows answered with a complete permutation WITHOUT repair),
dl19_ndcg10_generate, dl19_ndcg10_single_token, speedup_single_token, bm25 nDCG@10 on the same queries, train
seconds/steps/windows, repair counts. Intermediate JSON is written to ``<output-dir>/benchmark.json`` after each phase.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

logger = logging.getLogger("rankkd.bench.listwise_sft")

SHARED = Path(os.environ.get("RANKKD_SHARED_DATA", "/work/shared/data"))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train-data", default=str(SHARED / "msmarco-train-r2r-cot"))
    p.add_argument("--teachers", default="teacher.jsonl,teacher.gpt-4.jsonl", help="window files in --train-data")
    p.add_argument("--eval-data", default=str(SHARED / "trec-dl-2019"))
    p.add_argument("--output-dir", default="out/listwise_sft", help="merged model + benchmark.json + runs")
    p.add_argument("--train-minutes", type=float, default=45.0, help="wall-time budget of training")
    p.add_argument("--max-steps", type=int, default=100_000, help="upper bound; the time budget normally stops first")
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--warmup-steps", type=int, default=0,
                   help="the first step of a warm-up has lr 0: a lost step in a ~20-step run")
    p.add_argument("--batch-size", type=int, default=2, help="windows per forward pass")
    p.add_argument("--grad-accum", type=int, default=2)
    p.add_argument("--target", default="permutation", choices=["permutation", "permutation_rationale"],
                   help="permutation only, or Reason-to-Rank's answer: the permutation, then the teacher's "
                        "explanation (then mode generate writes the explanation; add generate-ranking to --modes "
                        "to time the ranking line alone)")
    p.add_argument("--shuffle", type=float, default=1.0,
                   help="probability of showing a training window in random order (0: the teacher files' order; the "
                        "first 30-min run without it learned to copy the BM25 order)")
    p.add_argument("--full-ft", action="store_true", help="train all weights instead of a LoRA adapter")
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument("--train-dtype", default="float32", help="weights dtype while training (bf16 backward was far "
                                                             "slower on this CPU)")
    p.add_argument("--eval-dtype", default="float32")
    p.add_argument("--max-passage-tokens", type=int, default=48)
    p.add_argument("--max-query-tokens", type=int, default=32)
    p.add_argument("--depth", type=int, default=20)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--stride", type=int, default=3)
    p.add_argument("--eval-batch-size", type=int, default=4, help="windows per batch = queries per chunk")
    p.add_argument("--max-queries", type=int, default=None, help="re-rank only the first N DL19 queries (run order)")
    p.add_argument("--modes", default="single-token,generate")
    p.add_argument("--eval-minutes", type=float, default=40.0,
                   help="stop starting new query chunks after this much re-ranking time (both modes together)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model-dir", help="skip training: evaluate this saved (merged) model folder instead")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 steps of 1 window, 2 queries, depth 8")
    return p


class TimeLimit:
    """Trainer callback factory: stop training once ``seconds`` of wall time have passed since training began."""

    @staticmethod
    def make(seconds: float) -> Any:
        from transformers import TrainerCallback

        class _TimeLimit(TrainerCallback):
            def __init__(self) -> None:
                self.started: float | None = None
                self.stopped_by_time = False

            def on_train_begin(self, args, state, control, **kwargs):
                self.started = time.perf_counter()

            def on_step_end(self, args, state, control, **kwargs):
                if self.started is not None and time.perf_counter() - self.started >= seconds:
                    self.stopped_by_time = True
                    control.should_training_stop = True
                return control

        return _TimeLimit()


def write_json(path: Path, obj: dict) -> None:
    from rankkd.utils import atomic_write

    with atomic_write(path) as handle:
        json.dump(obj, handle, indent=2)


def train(args: argparse.Namespace, out: Path, result: dict) -> Any:
    """SFT the student until the time budget; returns the merged model (eval mode) and its tokenizer."""
    from rankkd.data.errors import RepairReport
    from rankkd.data.io import read_corpus, read_queries
    from rankkd.data.teacher import read_teacher
    from rankkd.listwise.data import build_sft_examples
    from rankkd.listwise.sft_config import ListwiseSFTConfig
    from rankkd.listwise.sft_trainer import ListwiseSFTTrainer
    from rankkd.models.llm import default_llm, load_causal_lm

    folder = Path(args.train_data)
    report = RepairReport(source="listwise SFT data")
    corpus = read_corpus(folder / "corpus.jsonl", report=report)
    records = []
    for name in args.teachers.split(","):
        records.extend(read_teacher(folder / name.strip(), corpus_ids=set(corpus), report=report))
    # GPT-3.5 and GPT-4 windows interleaved at random: the budget covers only part of an epoch
    random.Random(args.seed).shuffle(records)
    if args.quick:
        records = records[:8]
    model, tokenizer = load_causal_lm(default_llm(), dtype=args.train_dtype)
    model.train()
    config = ListwiseSFTConfig(
        output_dir=str(out), model_name_or_path=str(default_llm()), use_lora=not args.full_ft, lora_r=args.lora_r,
        lora_alpha=2 * args.lora_r, target=args.target, identifiers="letter", shuffle_windows=args.shuffle,
        max_passage_tokens=args.max_passage_tokens, max_query_tokens=args.max_query_tokens,
        max_steps=2 if args.quick else args.max_steps, learning_rate=args.lr, warmup_steps=args.warmup_steps,
        lr_scheduler_type="constant_with_warmup", per_device_train_batch_size=1 if args.quick else args.batch_size,
        gradient_accumulation_steps=1 if args.quick else args.grad_accum, logging_steps=1, save_strategy="no",
        report_to="none", use_cpu=True, seed=args.seed, bf16=False, gradient_checkpointing=False,
        dataloader_num_workers=0, max_length=1024)
    train_set = build_sft_examples(records, corpus, tokenizer, target=args.target,
                                   prompt_config=config.prompt_config(),
                                   queries=read_queries(folder / "queries.tsv"), report=report,
                                   shuffle=config.shuffle_windows, seed=args.seed)
    stopper = TimeLimit.make(args.train_minutes * 60)
    trainer = ListwiseSFTTrainer(model=model, args=config, train_dataset=train_set, processing_class=tokenizer,
                                 callbacks=[stopper])
    started = time.perf_counter()
    outcome = trainer.train()
    seconds = time.perf_counter() - started
    steps = trainer.state.global_step
    losses = [float(e["loss"]) for e in trainer.state.log_history if "loss" in e]
    windows = steps * config.per_device_train_batch_size * config.gradient_accumulation_steps
    result.update({
        "train_seconds": round(seconds, 1), "train_steps": steps, "train_windows": min(windows, len(train_set)),
        "train_windows_available": len(train_set), "train_stopped_by_time": stopper.stopped_by_time,
        "train_loss_first": losses[0] if losses else None,
        "train_loss_last5": sum(losses[-5:]) / len(losses[-5:]) if losses else None,
        "train_runtime_metric": outcome.metrics.get("train_runtime"),
        "data_repairs": report.to_dict()["counts"],
        "config": {"lora": not args.full_ft, "lora_r": args.lora_r, "lr": args.lr, "batch": args.batch_size,
                   "grad_accum": args.grad_accum, "max_passage_tokens": args.max_passage_tokens,
                   "identifiers": "letter", "target": args.target, "shuffle": args.shuffle,
                   "train_dtype": args.train_dtype,
                   "schedule": "constant_with_warmup", "threads": args.threads},
    })
    logger.info("trained %d steps (%d windows) in %.0f s", steps, windows, seconds)
    trainer.save_merged(out / "model")
    model = trainer.model
    model.eval()
    return model, tokenizer, config.prompt_config()


def evaluate(args: argparse.Namespace, model: Any, tokenizer: Any, prompt_config: Any, out: Path,
             result: dict) -> None:
    """Re-rank the BM25 top-``depth`` in each mode; nDCG@10, clean-parse rate, timings; BM25 on the same queries."""
    import torch

    from rankkd.data.io import read_corpus, read_qrels, read_queries, read_run, write_run
    from rankkd.evaluation import evaluate_run
    from rankkd.listwise.inference import RerankStats, make_ranker, rerank_run

    folder = Path(args.eval_data)
    run = read_run(folder / "run.bm25.txt")
    qrels = read_qrels(folder / "qrels.txt")
    queries, corpus = read_queries(folder / "queries.tsv"), read_corpus(folder / "corpus.jsonl")
    limit = 2 if args.quick else args.max_queries
    qids = [q for q in run if q in qrels][:limit] if limit else [q for q in run if q in qrels]
    run = {q: run[q] for q in qids}
    qrels = {q: qrels[q] for q in qids}
    depth = 8 if args.quick else args.depth
    model = model.to(getattr(torch, args.eval_dtype))
    result.update({"eval_queries": len(qids), "eval_queries_total": len(read_qrels(folder / "qrels.txt")),
                   "depth": depth, "window": args.window, "stride": args.stride,
                   "bm25_ndcg10": float(evaluate_run(qrels, run, ["ndcg@10"])["ndcg@10"])})
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    rankers = {m: make_ranker(model, tokenizer, m, prompt_config=prompt_config, batch_size=args.eval_batch_size)
               for m in modes}
    stats = {m: RerankStats() for m in modes}
    reranked: dict[str, dict] = {m: {} for m in modes}
    budget = args.eval_minutes * 60
    started = time.perf_counter()
    chunk = args.eval_batch_size
    # Modes alternate chunk by chunk, so when the eval budget runs out both modes have ranked the same queries.
    for offset in range(0, len(qids), chunk):
        if time.perf_counter() - started >= budget:
            logger.warning("eval budget of %.0f min spent after %d of %d queries", args.eval_minutes, offset,
                           len(qids))
            break
        sub = {q: run[q] for q in qids[offset:offset + chunk]}
        for mode in modes:
            reranked[mode].update(rerank_run(sub, queries, corpus, rankers[mode], depth=depth, window=args.window,
                                             stride=args.stride, batch_size=args.eval_batch_size, progress=False,
                                             stats=stats[mode]))
        logger.info("ranked %d/%d queries: %s", offset + len(sub), len(qids),
                    {m: round(stats[m].seconds) for m in modes})
    done = list(reranked[modes[0]])
    done_qrels = {q: qrels[q] for q in done}
    result.update({"eval_queries_ranked": len(done),
                   "bm25_ndcg10_same_queries": float(evaluate_run(done_qrels, {q: run[q] for q in done},
                                                                  ["ndcg@10"])["ndcg@10"])})
    for mode in modes:
        key = mode.replace("-", "_")
        write_run(reranked[mode], out / f"dl19.{key}.run", tag=f"smollm2-sft-{key}")
        parse = stats[mode].parse
        result.update({
            f"dl19_ndcg10_{key}": float(evaluate_run(done_qrels, reranked[mode], ["ndcg@10"])["ndcg@10"]),
            f"{key}_seconds": round(stats[mode].seconds, 1), f"{key}_windows": parse.n,
        })
        if hasattr(rankers[mode], "generated_tokens"):
            result[f"{key}_tokens_per_window"] = round(rankers[mode].generated_tokens / max(parse.n, 1), 1)
        if mode in ("generate", "generate-ranking"):
            result[f"{key}_parse_rate"] = parse.clean_rate
        if mode == "generate":
            # complete permutation with no repair at all (not merely "something parsed")
            result.update({"parse_rate": parse.clean_rate, "parsed_any_rate": parse.parse_rate,
                           "repairs": {"failed": parse.failed, "duplicates": parse.n_duplicates,
                                       "out_of_range": parse.n_out_of_range, "missing": parse.n_missing},
                           "failed_examples": parse.failed_examples,
                           "example_outputs": list(rankers[mode].last_outputs)[:3]})
    if "generate_seconds" in result and "single_token_seconds" in result:
        result["speedup_single_token"] = result["generate_seconds"] / max(result["single_token_seconds"], 1e-9)
    if "generate_ranking_seconds" in result and "single_token_seconds" in result:
        # against generating the ranking line alone (no explanation): the strict comparison
        result["speedup_single_token_vs_ranking_line"] = (result["generate_ranking_seconds"]
                                                          / max(result["single_token_seconds"], 1e-9))


def main(argv: list[str] | None = None) -> dict:
    import torch

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.output_dir + ("-quick" if args.quick and args.output_dir == "out/listwise_sft" else ""))
    out.mkdir(parents=True, exist_ok=True)
    result: dict = {"quick": args.quick, "command": " ".join([sys.argv[0], *(argv if argv is not None else
                                                                              sys.argv[1:])])}
    if args.model_dir:
        from rankkd.listwise.prompts import PromptConfig
        from rankkd.models.llm import load_causal_lm

        model, tokenizer = load_causal_lm(args.model_dir, dtype=args.eval_dtype)
        explain = args.target == "permutation_rationale"
        prompt_config = PromptConfig(max_passage_tokens=args.max_passage_tokens,
                                     max_query_tokens=args.max_query_tokens, identifiers="letter",
                                     reasoning=explain, explain_after=explain)
        result["model_dir"] = args.model_dir
    else:
        model, tokenizer, prompt_config = train(args, out, result)
    write_json(out / "benchmark.json", result)
    evaluate(args, model, tokenizer, prompt_config, out, result)
    write_json(out / "benchmark.json", result)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
