"""Evaluate and compare TREC runs with ranx: prints a markdown table, optionally writes markdown, JSON and a PNG chart.

Example:
    python scripts/evaluate.py --qrels ../shared/data/trec-dl-2019/qrels.txt \\
        --run bm25=../shared/data/trec-dl-2019/run.bm25.txt --run student=runs/student.txt \\
        --metrics ndcg@10 map-l2 mrr@10 recall@100-l2 --markdown out.md --json out.json --plot out.png

Every query in the qrels is evaluated; a query without results in a run scores 0, run queries without judgements
are ignored (both counted in the output). TREC-DL passage convention: MAP and recall treat grade >= 2 as relevant,
i.e. ``map-l2`` / ``recall@100-l2``; nDCG uses the graded labels (linear gain, as trec_eval).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_METRICS = ["ndcg@10", "map", "mrr@10", "recall@100"]  # kept equal to rankkd.evaluation.DEFAULT_METRICS


def _named_run(text: str) -> tuple[str, str]:
    """``NAME=FILE`` -> (NAME, FILE); a bare ``FILE`` is named after the file (``run.bm25.txt`` -> ``run.bm25``)."""
    name, sep, path = text.partition("=")
    if not sep:
        path, name = text, Path(text).name.removesuffix(".txt").removesuffix(".trec")
    if not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=FILE, got {text!r}")
    return name, path


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evaluate.py",
        description="Evaluate TREC runs against qrels with ranx and test the differences for significance.",
        epilog="Queries in the qrels but missing from a run score 0; run queries not in the qrels are ignored.",
    )
    parser.add_argument("--qrels", required=True, help="TREC qrels file 'qid 0 docid rel' (graded)")
    parser.add_argument("--run", dest="runs", action="append", type=_named_run, required=True, metavar="NAME=FILE",
                        help="TREC run 'qid Q0 docid rank score tag'; repeat to compare several runs (table order)")
    parser.add_argument("--metrics", nargs="+", default=DEFAULT_METRICS, metavar="METRIC",
                        help="ranx metric names (default: %(default)s); e.g. ndcg_burges@10, map-l2, precision@5")
    parser.add_argument("--stat-test", choices=("student", "fisher", "tukey"), default="student",
                        help="significance test between every pair of runs (default: %(default)s)")
    parser.add_argument("--max-p", type=float, default=0.05, help="significance threshold (default: %(default)s)")
    parser.add_argument("--digits", type=int, default=4, help="decimals in the table (default: %(default)s)")
    parser.add_argument("--markdown", type=Path, help="also write the markdown table here")
    parser.add_argument("--json", type=Path, help="write means, per-query scores and p-values as JSON here")
    parser.add_argument("--plot", type=Path, help="write a PNG bar chart here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    names = [name for name, _ in args.runs]
    if len(set(names)) != len(names):
        raise SystemExit(f"error: duplicate run names {names}; name them with --run NAME=FILE")

    import logging

    from rankkd.data.io import read_qrels, read_run
    from rankkd.evaluation import compare_runs
    from rankkd.utils import atomic_write

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    qrels = read_qrels(args.qrels)
    runs = {name: read_run(path) for name, path in args.runs}
    report = compare_runs(qrels, runs, args.metrics, stat_test=args.stat_test, max_p=args.max_p)
    markdown = report.to_markdown(digits=args.digits)
    print(markdown, end="")
    if args.markdown:
        with atomic_write(args.markdown) as handle:
            handle.write(markdown)
    if args.json:
        report.to_json(args.json)
    if args.plot:
        report.plot(args.plot)
    for path in (args.markdown, args.json, args.plot):
        if path:
            print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
