#!/usr/bin/env python
"""SFT a causal-LM listwise re-ranker (LoRA) on teacher windows; log validation nDCG@10 + parse rate; save merged.

Config from ``--config file.yaml`` and/or flags (TRL's parser, flags win), e.g.::

    python scripts/train_listwise_sft.py --model_name_or_path smollm2 --output_dir out/dear-l         --train_teacher ../shared/data/msmarco-train-r2r-cot/teacher.jsonl         --train_corpus ../shared/data/msmarco-train-r2r-cot/corpus.jsonl --target permutation         --eval_data ../shared/data/trec-dl-2019 --max_eval_queries 5 --max_steps 50
"""

import sys

from rankkd.commands.train_listwise_sft import main  # noqa: F401

if __name__ == "__main__":
    main(sys.argv[1:])
