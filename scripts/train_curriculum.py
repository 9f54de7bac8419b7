#!/usr/bin/env python
"""Run a multi-stage curriculum (e.g. contrastive then KD, or the reverse) from a YAML file.

    python scripts/train_curriculum.py scripts/configs/multistage_cl_kd.yaml [--set key=value ...]
"""

import sys

from rankkd.commands.train_curriculum import main, make_parser  # noqa: F401

if __name__ == "__main__":
    main(sys.argv[1:])
