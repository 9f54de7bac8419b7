"""Run a multi-stage curriculum (e.g. contrastive then KD, or the reverse) from a YAML file.

    python scripts/train_curriculum.py scripts/configs/multistage_cl_kd.yaml [--set key=value ...]
"""

from __future__ import annotations

import argparse
import json
import sys


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", help="curriculum YAML: output_dir, model_name_or_path, defaults, stages")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a top-level key or a default (YAML value), e.g. --set defaults.max_steps=5")
    return parser


def main(argv: list[str] | None = None) -> list[dict]:
    import logging

    import yaml

    from rankkd.trainers.curriculum import run_curriculum

    args = make_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with open(args.config, encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set expects KEY=VALUE, got {item!r}")
        target = spec
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = yaml.safe_load(value)
    results = run_curriculum(spec)
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
