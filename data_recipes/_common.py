"""Shared command-line pieces of the data recipes: output/push flags, listwise-teacher flags, saving with a card.

Recipes import this module after putting their own folder on ``sys.path`` (they are scripts, not a package).
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any, Callable

logger = logging.getLogger("data_recipes")


def add_output_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument("--out", required=True, help="Folder for the DatasetDict (save_to_disk), its card and files.")
    group.add_argument("--push-to-hub", metavar="REPO_ID", default=None,
                       help="Also push to this Hub dataset repo (token from $HF_TOKEN, never printed).")
    group.add_argument("--private", action="store_true", help="Create the Hub repo as private.")
    group.add_argument("--license", default="other", help="License id for the card (default: other).")
    group.add_argument("--seed", type=int, default=0)
    group.add_argument("--quiet", action="store_true", help="No progress bars.")


def add_teacher_args(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    group = parser.add_argument_group("listwise teacher")
    group.add_argument("--teacher", required=required, default=None,
                       help="Causal LM folder / Hub id / 'smollm2', or an OpenAI-compatible base URL (http...).")
    group.add_argument("--endpoint-model", default=None, help="Model name served by the endpoint (URL teachers).")
    group.add_argument("--api-key-env", default="OPENAI_API_KEY", help="Env var holding the endpoint API key.")
    group.add_argument("--cache", default=None,
                       help="sqlite cache of teacher calls (default: <out>.teacher-cache.sqlite beside --out).")
    group.add_argument("--depth", type=int, default=20, help="Candidates per query re-ranked by the teacher.")
    group.add_argument("--window", type=int, default=20)
    group.add_argument("--stride", type=int, default=10)
    group.add_argument("--passes", type=int, default=1)
    group.add_argument("--teacher-batch-size", type=int, default=8)
    group.add_argument("--mode", default="generate", choices=["generate", "single-token"])
    group.add_argument("--max-new-tokens", type=int, default=None)
    group.add_argument("--max-passage-tokens", type=int, default=100)
    group.add_argument("--identifiers", default="number", choices=["number", "letter"])
    group.add_argument("--reasoning", action="store_true", help="Ask the teacher to explain before ranking (CoT).")
    group.add_argument("--dtype", default="auto")


def cache_path(args: argparse.Namespace) -> Path:
    return Path(args.cache) if args.cache else Path(str(Path(args.out).resolve()) + ".teacher-cache.sqlite")


def build_listwise_teacher(args: argparse.Namespace) -> Any:
    from rankkd.listwise.prompts import PromptConfig
    from rankkd.teachers import TeacherCache, load_listwise_teacher

    config = PromptConfig(max_passage_tokens=args.max_passage_tokens, identifiers=args.identifiers,
                          reasoning=args.reasoning)
    return load_listwise_teacher(args.teacher, cache=TeacherCache(cache_path(args)), prompt_config=config,
                                 mode=args.mode, batch_size=args.teacher_batch_size,
                                 max_new_tokens=args.max_new_tokens, dtype=args.dtype,
                                 endpoint_model=args.endpoint_model, api_key_env=args.api_key_env)


def annotate(args: argparse.Namespace, run: dict, queries: dict, corpus: dict, run_name: str) -> Any:
    """Run the listwise teacher over ``run`` with the flags of :func:`add_teacher_args`."""
    from rankkd.teachers import annotate_run

    teacher = build_listwise_teacher(args)
    try:
        return annotate_run(run, queries, corpus, teacher, depth=args.depth, window=args.window, stride=args.stride,
                            passes=args.passes, run_name=run_name, seed=args.seed, progress=not args.quiet)
    finally:
        if teacher.cache is not None:
            teacher.cache.close()


def command_line(recipe: str, argv: list[str] | None) -> str:
    """The command as it can be re-run (no secrets are ever passed as flags)."""
    return f"python data_recipes/{recipe}.py " + shlex.join(sys.argv[1:] if argv is None else argv)


def recipe_meta(recipe: str, argv: list[str] | None, args: argparse.Namespace, *, pretty_name: str,
                description: str, teacher_prov: dict, report: Any, timer: "Timer", extra_sources: tuple = (),
                teacher_file_key: str = "teacher_file", **fields: Any) -> dict[str, Any]:
    """The dataset-card metadata every recipe writes: what, from which inputs, which teacher, how, with which repairs."""
    inputs = {name: getattr(args, name, None) for name in ("queries", "corpus", "run", "qrels")}
    provenance = {"recipe": recipe, **inputs, **fields, "seed": getattr(args, "seed", None), "teacher": teacher_prov,
                  "input_repairs": dict(report.counts), "timings_seconds": timer.seconds}
    return {"pretty_name": pretty_name, "description": description,
            "teacher": teacher_prov.get("teacher") or teacher_prov.get(teacher_file_key),
            "sources": [p for p in (*inputs.values(), *extra_sources) if p],
            "command": command_line(recipe, argv), "provenance": provenance}


def finish(dataset_dict: Any, args: argparse.Namespace, meta: dict[str, Any],
           files: Callable[[Path], None] | None = None, out: str | Path | None = None,
           push_to: str | None = None) -> Path:
    """Validate example-schema splits, save atomically to ``out`` (default ``--out``) with card + provenance
    (+ ``files(tmp_dir)``), push to ``push_to`` (default ``--push-to-hub``) if set."""
    from rankkd.data.schema import EXAMPLE_COLUMNS, validate_examples
    from rankkd.hub import push_dataset, save_dataset_dict

    for split, ds in dataset_dict.items():
        if all(c in ds.column_names for c in EXAMPLE_COLUMNS):
            validate_examples(ds)
    meta = {"license": args.license, **meta}
    out = save_dataset_dict(dataset_dict, out or args.out, meta, writer=files)
    counts = ", ".join(f"{split}={len(ds)}" for split, ds in dataset_dict.items())
    print(f"saved {out} ({counts})", flush=True)
    push_to = push_to or args.push_to_hub
    if push_to:
        url = push_dataset(dataset_dict, push_to, card_dir=out, private=args.private or None)
        print(f"pushed {url}", flush=True)
    return out


class Timer:
    """Named wall-clock timings for the provenance (``with timer("retrieval"): ...``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._name: str | None = None

    def __call__(self, name: str) -> "Timer":
        self._name = name
        return self

    def __enter__(self) -> "Timer":
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._name is not None
        self.seconds[self._name] = round(self.seconds.get(self._name, 0.0) + time.perf_counter() - self._start, 3)


def setup_logging(quiet: bool = False) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(levelname)s %(name)s: %(message)s")



def add_ir_args(parser: argparse.ArgumentParser, *, run_required: bool = True) -> None:
    group = parser.add_argument_group("input collection")
    group.add_argument("--queries", required=True, help="queries.tsv / .jsonl")
    group.add_argument("--corpus", required=True, help="corpus.jsonl / .tsv")
    group.add_argument("--run", required=run_required, default=None, help="First-stage TREC run to re-rank.")
    group.add_argument("--qrels", default=None, help="TREC qrels giving labels (training qrels only).")
    group.add_argument("--max-queries", type=int, default=None, help="Use only the first N run queries.")


def load_ir(args: argparse.Namespace) -> tuple[dict, dict, dict | None, dict | None, Any]:
    """(queries, corpus, run, qrels, repair report) from the flags of :func:`add_ir_args`."""
    from rankkd.data.errors import RepairReport
    from rankkd.data.io import read_corpus, read_qrels, read_queries, read_run

    report = RepairReport(source="inputs")
    queries = read_queries(args.queries)
    corpus = read_corpus(args.corpus, report=report)
    run = read_run(args.run, report=report) if args.run else None
    if run is not None and args.max_queries is not None:
        run = dict(list(run.items())[:args.max_queries])
    qrels = read_qrels(args.qrels, report=report) if args.qrels else None
    return queries, corpus, run, qrels, report


def teacher_rankings(args: argparse.Namespace, run: dict, queries: dict, corpus: dict) -> tuple[list, dict]:
    """Teacher records for the run's queries: read from ``--teacher-file`` or computed with ``--teacher``."""
    from rankkd.data.errors import RepairReport
    from rankkd.data.teacher import read_teacher

    if getattr(args, "teacher_file", None):
        report = RepairReport(source=args.teacher_file)
        records = [r for r in read_teacher(args.teacher_file, corpus_ids=set(corpus), report=report)
                   if r.qid in run]
        return records, {"teacher_file": args.teacher_file, "records": len(records),
                         "repairs": dict(report.counts)}
    if not args.teacher:
        raise SystemExit("give --teacher (a model to run) or --teacher-file (existing teacher rankings)")
    annotation = annotate(args, run, queries, corpus, Path(args.run).name if args.run else "run")
    return annotation.records, annotation.provenance


def contrastive_groups(queries: dict, corpus: dict, run: dict, qrels: dict, *, depth: int, group_size: int,
                       seed: int, report: Any) -> Any:
    """InfoNCE groups: a labelled positive first, then ``group_size - 1`` negatives sampled from the run's top
    ``depth`` (Rank-DistiLLM / localized contrastive estimation). Positives the run missed are appended to the
    candidates (counted as ``positive_added_from_qrels``); queries without any positive are counted and skipped."""
    from rankkd.data.io import ranked_docids
    from rankkd.data.sampling import sample_groups
    from rankkd.data.schema import build_examples

    deep: dict[str, dict[str, float]] = {}
    for qid, scores in run.items():
        positives = [d for d, rel in qrels.get(qid, {}).items() if rel >= 1 and d in corpus]
        if not positives:
            report.add("query_without_positive_skipped", qid)
            continue
        top = ranked_docids(scores)[:depth]
        row = {d: scores[d] for d in top}
        floor = min(row.values(), default=0.0)
        for k, docid in enumerate(d for d in positives if d not in row):
            row[docid] = floor - 1.0 - k  # below every retrieved candidate
            report.add("positive_added_from_qrels", f"{qid}/{docid}")
        deep[qid] = row
    rows = build_examples(queries, corpus, run=deep, qrels=qrels)
    return sample_groups(rows, group_size, "single_relevant", seed=seed, on_missing_positive="skip",
                         report=report)


def add_rationale_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("teacher rationales")
    group.add_argument("--cot-file", default=None,
                       help="Existing CoT window records (JSONL with candidates + rationale), e.g. "
                            "msmarco-train-r2r-cot/teacher.jsonl; otherwise --teacher generates them (--reasoning).")
    group.add_argument("--student-tokenizer", default="smollm2",
                       help="Tokenizer that truncates passages in SFT prompts (the student's; default SmolLM2).")


def rationale_windows(args: argparse.Namespace, run: dict | None, queries: dict, corpus: dict
                      ) -> tuple[list, dict]:
    """Window records with rationales: read from ``--cot-file`` or generated by ``--teacher`` with reasoning on."""
    from rankkd.data.errors import RepairReport
    from rankkd.data.teacher import read_teacher

    if args.cot_file:
        report = RepairReport(source=args.cot_file)
        records = read_teacher(args.cot_file, corpus_ids=set(corpus), report=report)
        if args.max_queries is not None:
            keep = set(list(dict.fromkeys(r.qid for r in records))[:args.max_queries])
            records = [r for r in records if r.qid in keep]
        return records, {"cot_file": args.cot_file, "windows": len(records), "repairs": dict(report.counts)}
    if not args.teacher or run is None:
        raise SystemExit("give --cot-file, or --teacher with --run to generate rationales")
    args.reasoning = True  # rationales are the point of these recipes
    annotation = annotate(args, run, queries, corpus, Path(args.run).name)
    return annotation.windows, annotation.provenance


def load_student_tokenizer(spec: str) -> Any:
    from transformers import AutoTokenizer

    from rankkd.models.llm import SMOLLM2_ALIASES, default_llm, prepare_tokenizer

    path = str(default_llm()) if spec in SMOLLM2_ALIASES else spec
    return prepare_tokenizer(AutoTokenizer.from_pretrained(path))
