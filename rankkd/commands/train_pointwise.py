"""Pointwise knowledge distillation (DeAR-P): alpha·T²·KL(teacher‖student) + (1−alpha)·ranking loss.

    accelerate launch scripts/train_pointwise.py --config scripts/configs/dear_pointwise.yaml
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> dict:
    from rankkd.trainers import PointwiseKDConfig, PointwiseKDTrainer
    from rankkd.trainers.run import train_main

    return train_main(PointwiseKDConfig, PointwiseKDTrainer, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
