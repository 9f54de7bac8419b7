#!/usr/bin/env python
"""Evaluate and compare TREC runs with ranx: prints a markdown table, optionally writes markdown, JSON and a PNG chart.

Example:
    python scripts/evaluate.py --qrels ../shared/data/trec-dl-2019/qrels.txt \
        --run bm25=../shared/data/trec-dl-2019/run.bm25.txt --run student=runs/student.txt \
        --metrics ndcg@10 map-l2 mrr@10 recall@100-l2 --markdown out.md --json out.json --plot out.png

Every query in the qrels is evaluated; a query without results in a run scores 0, run queries without judgements
are ignored (both counted in the output). TREC-DL passage convention: MAP and recall treat grade >= 2 as relevant,
i.e. ``map-l2`` / ``recall@100-l2``; nDCG uses the graded labels (linear gain, as trec_eval).
"""

import sys

from rankkd.commands.evaluate import main, make_parser  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
