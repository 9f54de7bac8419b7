#!/usr/bin/env python
"""Listwise / pairwise distillation of a cross-encoder from teacher rankings (Rank-DistiLLM, TWOLAR, multi-stage).

    accelerate launch scripts/train_listwise.py --config scripts/configs/rank_distillm_ranknet.yaml
    python scripts/train_listwise.py --model_name_or_path MODEL --train_examples DATA --output_dir out --loss ranknet
"""

import sys

from rankkd.commands.train_listwise import main  # noqa: F401

if __name__ == "__main__":
    main(sys.argv[1:])
