#!/usr/bin/env python
"""Re-rank the top-k of a TREC run with a listwise LLM (sliding windows; generation or FIRST single-token).

Example (SmolLM2 on 5 DL19 queries)::

    python scripts/rerank_listwise.py --model smollm2 --data ../shared/data/trec-dl-2019 --max-queries 5         --depth 20 --output out/dl19.listwise.run --mode generate
"""

import sys

from rankkd.commands.rerank_listwise import main  # noqa: F401

if __name__ == "__main__":
    main(sys.argv[1:])
