#!/usr/bin/env python
"""Pointwise knowledge distillation (DeAR-P): alpha·T²·KL(teacher‖student) + (1−alpha)·ranking loss.

    accelerate launch scripts/train_pointwise.py --config scripts/configs/dear_pointwise.yaml
"""

import sys

from rankkd.commands.train_pointwise import main  # noqa: F401

if __name__ == "__main__":
    main(sys.argv[1:])
