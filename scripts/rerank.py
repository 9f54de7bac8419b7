#!/usr/bin/env python
"""Re-rank a first-stage TREC run with a cross-encoder (or decoder LLM / LoRA adapter) and write a TREC run.

    python scripts/rerank.py --model out/minilm-kd --run data/run.bm25.txt --queries data/queries.tsv         --corpus data/corpus.jsonl --output runs/minilm.txt --qrels data/qrels.txt
"""

import sys

from rankkd.commands.rerank import main, make_parser  # noqa: F401

if __name__ == "__main__":
    main(sys.argv[1:])
