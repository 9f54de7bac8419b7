"""Rank-DistiLLM (Schlatt et al., ECIR 2025) data: LLM re-rankings of a first-stage top-k + InfoNCE groups.

Splits (example schema, for ``scripts/rank_distillm.sh``):

* ``train``    -- the teacher's sliding-window re-ranking of each query's top ``--depth`` (``teacher_ranks``,
  first-stage scores, ``labels`` when ``--qrels`` is given) for RankNet / ADR-MSE fine-tuning;
* ``pretrain`` -- (with ``--qrels``) InfoNCE pre-fine-tuning groups: a labelled positive + ``--group-size - 1`` hard
  negatives sampled from the top ``--pretrain-depth``.

    python data_recipes/rank_distillm.py --queries Q --corpus C --run run.bm25.txt --qrels qrels.txt \\
        --teacher smollm2 --depth 100 --window 20 --stride 10 --out data/rank-distillm
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
    _common.add_ir_args(parser)
    parser.add_argument("--teacher-file", default=None, help="Use existing teacher rankings (JSONL) instead.")
    parser.add_argument("--pretrain-depth", type=int, default=200, help="Hard negatives come from this top-k.")
    parser.add_argument("--group-size", type=int, default=8, help="InfoNCE group: 1 positive + N-1 negatives.")
    _common.add_teacher_args(parser, required=False)
    _common.add_output_args(parser)
    return parser


def main(argv: list[str] | None = None) -> Path:
    args = make_parser().parse_args(argv)
    _common.setup_logging(args.quiet)
    import datasets

    from rankkd.data.schema import build_examples
    from rankkd.data.teacher import write_teacher

    timer = _common.Timer()
    queries, corpus, run, qrels, report = _common.load_ir(args)
    with timer("teacher"):
        records, teacher_prov = _common.teacher_rankings(args, run, queries, corpus)
    train = build_examples(queries, corpus, run=run, teacher=records, qrels=qrels, depth=args.depth, report=report)
    splits = {"train": train}
    if qrels is not None:
        with timer("pretrain_groups"):
            splits["pretrain"] = _common.contrastive_groups(queries, corpus, run, qrels, depth=args.pretrain_depth,
                                                            group_size=args.group_size, seed=args.seed,
                                                            report=report)
    meta = _common.recipe_meta(
        "rank_distillm", argv, args, pretty_name="Rank-DistiLLM-style distillation data",
        description="Teacher re-rankings of a first-stage top-k (`train`) and InfoNCE groups with hard negatives "
                    "(`pretrain`), following Rank-DistiLLM (Schlatt et al., ECIR 2025).",
        teacher_prov=teacher_prov, report=report, timer=timer, depth=args.depth,
        pretrain_depth=args.pretrain_depth, group_size=args.group_size)
    return _common.finish(datasets.DatasetDict(splits), args, meta,
                          lambda folder: write_teacher(records, folder / "teacher.jsonl"))


if __name__ == "__main__":
    main()
