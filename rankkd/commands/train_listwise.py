"""Listwise / pairwise distillation of a cross-encoder from teacher rankings (Rank-DistiLLM, TWOLAR, multi-stage).

    accelerate launch scripts/train_listwise.py --config scripts/configs/rank_distillm_ranknet.yaml
    python scripts/train_listwise.py --model_name_or_path MODEL --train_examples DATA --output_dir out --loss ranknet
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> dict:
    from rankkd.trainers import ListwiseConfig, ListwiseTrainer
    from rankkd.trainers.run import train_main

    return train_main(ListwiseConfig, ListwiseTrainer, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
