"""The shared body of ``scripts/train_*.py``: parse a config (YAML and/or flags), build data, train, evaluate, save."""

from __future__ import annotations

import json
import logging
from typing import Sequence

logger = logging.getLogger("rankkd")


def parse(config_cls: type, argv: Sequence[str] | None = None):
    """``(config, data_args)`` from ``--config file.yaml`` plus command-line flags (flags win), via TRL's parser."""
    from trl import TrlParser

    from rankkd.trainers.arguments import DataArguments

    parser = TrlParser(dataclass_types=[config_cls, DataArguments])
    config, data_args = parser.parse_args_and_config(args=list(argv) if argv is not None else None)
    return config, data_args


def train_main(config_cls: type, trainer_cls: type, argv: Sequence[str] | None = None) -> dict:
    """Train ``trainer_cls`` with the parsed config; returns the final metrics (also written to ``output_dir``)."""
    from rankkd.trainers.arguments import build_ranking_evaluator, build_train_dataset
    from rankkd.utils import atomic_write

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config, data_args = parse(config_cls, argv)
    train_dataset = build_train_dataset(data_args)
    evaluator = build_ranking_evaluator(data_args, config)
    trainer = trainer_cls(model=config.model_name_or_path, args=config, train_dataset=train_dataset,
                          ranking_evaluator=evaluator)
    result = trainer.train(resume_from_checkpoint=config.resume_from_checkpoint)
    metrics = dict(result.metrics)
    if evaluator is not None:
        metrics.update(trainer.evaluate())
    trainer.save_model(config.output_dir)
    if trainer.is_world_process_zero():
        with atomic_write(f"{config.output_dir}/rankkd_metrics.json") as handle:
            json.dump(metrics, handle, indent=2)
        logger.info("final metrics: %s", json.dumps(metrics))
    if config.push_to_hub:
        trainer.push_to_hub()
    return metrics
