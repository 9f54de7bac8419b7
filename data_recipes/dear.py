"""DeAR (Abdallah et al., EMNLP Findings 2025) data: pointwise teacher scores + CoT SFT rows from teacher rationales.

Splits:

* ``train``   -- (with ``--run`` and a pointwise teacher) example-schema rows of the run's top ``--depth`` with
  ``teacher_scores`` (and ``teacher_ranks``, ``labels`` with ``--qrels``) for DeAR-P
  (``scripts/configs/dear_pointwise.yaml``). Teacher: ``--pointwise-teacher`` (a cross-encoder / sequence
  classifier) or ``--yes-no-teacher`` (an LLM's ``logit(yes) - logit(no)``, monoT5/RankLLaMA-style prompt);
* ``cot_sft`` -- (with ``--cot-file`` or ``--teacher``) prompt/completion rows: the listwise prompt -> the teacher's
  reasoning then its permutation (DeAR-CoT), for ``scripts/train_listwise_sft.py``.

    python data_recipes/dear.py --queries Q --corpus C --run run.bm25.txt --qrels qrels.txt \\
        --pointwise-teacher MODEL --depth 20 --cot-file teacher_cot.jsonl --out data/dear
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
    _common.add_ir_args(parser, run_required=False)
    group = parser.add_argument_group("pointwise teacher")
    group.add_argument("--pointwise-teacher", default=None, help="Sequence-classifier teacher (folder / Hub id).")
    group.add_argument("--yes-no-teacher", default=None, help="LLM teacher scored by logit(yes) - logit(no).")
    group.add_argument("--yes-no-template", default=None, help="Prompt with {query} and {document}.")
    group.add_argument("--yes-token", default=" yes")
    group.add_argument("--no-token", default=" no")
    group.add_argument("--yes-no-chat", action="store_true", help="Wrap the prompt in the LLM's chat template.")
    group.add_argument("--pointwise-batch-size", type=int, default=16)
    _common.add_rationale_args(parser)
    _common.add_teacher_args(parser, required=False)
    _common.add_output_args(parser)
    return parser


def pointwise_teacher(args: argparse.Namespace, cache) -> object:
    from rankkd.teachers import CrossEncoderTeacher, YesNoTeacher
    from rankkd.teachers.pointwise import MONOT5_TEMPLATE

    if args.pointwise_teacher and args.yes_no_teacher:
        raise SystemExit("give one of --pointwise-teacher and --yes-no-teacher")
    if args.pointwise_teacher:
        return CrossEncoderTeacher.from_pretrained(args.pointwise_teacher, cache=cache,
                                                   batch_size=args.pointwise_batch_size)
    from rankkd.models.llm import load_causal_lm

    model, tokenizer = load_causal_lm(args.yes_no_teacher, dtype=args.dtype)
    return YesNoTeacher(model, tokenizer, model_id=args.yes_no_teacher, template=args.yes_no_template or
                        MONOT5_TEMPLATE, yes_token=args.yes_token, no_token=args.no_token,
                        use_chat_template=args.yes_no_chat, batch_size=args.pointwise_batch_size, cache=cache)


def main(argv: list[str] | None = None) -> Path:
    args = make_parser().parse_args(argv)
    _common.setup_logging(args.quiet)
    import datasets

    from rankkd.data.io import ranked_docids
    from rankkd.data.schema import build_examples
    from rankkd.data.teacher import TeacherRecord
    from rankkd.listwise.data import build_sft_examples
    from rankkd.teachers import TeacherCache, score_run

    timer = _common.Timer()
    queries, corpus, run, qrels, report = _common.load_ir(args)
    splits: dict = {}
    provenance: dict = {"recipe": "dear", "queries": args.queries, "corpus": args.corpus, "run": args.run,
                        "qrels": args.qrels, "depth": args.depth, "seed": args.seed}
    if args.pointwise_teacher or args.yes_no_teacher:
        if run is None:
            raise SystemExit("pointwise teacher scores need --run (the candidates to score)")
        with timer("pointwise_teacher"), TeacherCache(_common.cache_path(args)) as cache:
            teacher = pointwise_teacher(args, cache)
            scored = score_run(run, queries, corpus, teacher, depth=args.depth, run_name=args.run,
                               progress=not args.quiet)
        records = []
        for qid, scores in scored.scores.items():
            order = sorted(scores, key=lambda d: -scores[d])
            records.append(TeacherRecord(qid=qid, query=queries[qid], docids=order,
                                         scores=[scores[d] for d in order], candidates=list(scores),
                                         teacher=teacher.model_id))
        top = {qid: {d: run[qid][d] for d in ranked_docids(run[qid])[:args.depth]} for qid in run}
        splits["train"] = build_examples(queries, corpus, run=top, teacher=records, qrels=qrels, report=report)
        provenance["pointwise_teacher"] = scored.provenance
    if args.cot_file or args.teacher:
        with timer("rationales"):
            windows, prov = _common.rationale_windows(args, run, queries, corpus)
        tokenizer = _common.load_student_tokenizer(args.student_tokenizer)
        splits["cot_sft"] = build_sft_examples(windows, corpus, tokenizer, target="rationale", queries=queries,
                                               report=report)
        provenance["rationales"] = prov
    if not splits:
        raise SystemExit("nothing to build: give a pointwise teacher (--pointwise-teacher / --yes-no-teacher) "
                         "and/or rationales (--cot-file / --teacher)")
    provenance.update(input_repairs=dict(report.counts), timings_seconds=timer.seconds)
    meta = {"pretty_name": "DeAR-style distillation data (pointwise scores + CoT)",
            "description": "Pointwise teacher scores for DeAR-P and chain-of-thought listwise SFT rows for DeAR-CoT "
                           "(Abdallah et al., EMNLP Findings 2025).",
            "teacher": args.pointwise_teacher or args.yes_no_teacher or args.teacher or args.cot_file,
            "sources": [p for p in (args.queries, args.corpus, args.run, args.qrels, args.cot_file) if p],
            "command": _common.command_line("dear", argv), "provenance": provenance}
    return _common.finish(datasets.DatasetDict(splits), args, meta)


if __name__ == "__main__":
    main()
