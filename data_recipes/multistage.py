"""Multi-stage fine-tuning (Pezzuti et al., ECIR 2025) data: contrastive groups + KD rows from teacher rankings.

Splits (example schema, for ``scripts/multistage.sh`` / ``scripts/train_curriculum.py``):

* ``train``       -- teacher-ranked top ``--depth`` rows carrying both ``teacher_ranks`` (KD stage, ``sampling: top``)
  and ``labels`` (contrastive stage, ``sampling: single_relevant``);
* ``contrastive`` -- fixed InfoNCE groups: a labelled positive + hard negatives from the top ``--contrastive-depth``
  (positives the run missed are added), for a contrastive stage that needs deeper negatives than the KD rows;
* ``distill``     -- the KD rows only (no labels needed), identical to ``train`` without ``labels``.

    python data_recipes/multistage.py --queries Q --corpus C --run run.bm25.txt --qrels qrels.txt \\
        --teacher-file teacher.jsonl --depth 20 --out data/multistage
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
    parser.add_argument("--contrastive-depth", type=int, default=200)
    parser.add_argument("--group-size", type=int, default=8)
    _common.add_teacher_args(parser, required=False)
    _common.add_output_args(parser)
    return parser


def main(argv: list[str] | None = None) -> Path:
    args = make_parser().parse_args(argv)
    _common.setup_logging(args.quiet)
    import datasets

    from rankkd.data.schema import build_examples
    from rankkd.data.teacher import write_teacher

    if not args.qrels:
        raise SystemExit("multistage needs --qrels: its contrastive stage trains on labelled positives")
    timer = _common.Timer()
    queries, corpus, run, qrels, report = _common.load_ir(args)
    with timer("teacher"):
        records, teacher_prov = _common.teacher_rankings(args, run, queries, corpus)
    train = build_examples(queries, corpus, run=run, teacher=records, qrels=qrels, depth=args.depth,
                           report=report)
    with timer("contrastive_groups"):
        contrastive = _common.contrastive_groups(queries, corpus, run, qrels, depth=args.contrastive_depth,
                                                 group_size=args.group_size, seed=args.seed, report=report)
    splits = {"train": train, "contrastive": contrastive, "distill": train.remove_columns("labels")}
    meta = _common.recipe_meta(
        "multistage", argv, args, pretty_name="Multi-stage (contrastive + KD) cross-encoder training data",
        description="Contrastive groups and knowledge-distillation rows from a first-stage run and LLM teacher "
                    "rankings (Pezzuti et al., ECIR 2025).",
        teacher_prov=teacher_prov, report=report, timer=timer, depth=args.depth,
        contrastive_depth=args.contrastive_depth, group_size=args.group_size)
    return _common.finish(datasets.DatasetDict(splits), args, meta,
                          lambda folder: write_teacher(records, folder / "teacher.jsonl"))


if __name__ == "__main__":
    main()
