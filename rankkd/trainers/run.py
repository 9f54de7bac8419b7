"""The shared body of ``scripts/train_*.py``: parse a config (YAML and/or flags), build data, train, evaluate, save."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Sequence

logger = logging.getLogger("rankkd")

METRICS_FILE = "rankkd_metrics.json"


def parse(config_cls: type, argv: Sequence[str] | None = None):
    """``(config, data_args)`` from ``--config file.yaml`` plus command-line flags (flags win), via TRL's parser."""
    from trl import TrlParser

    from rankkd.trainers.arguments import DataArguments

    parser = TrlParser(dataclass_types=[config_cls, DataArguments])
    config, data_args = parser.parse_args_and_config(args=list(argv) if argv is not None else None)
    return config, data_args


def train_from_args(config, data_args, trainer_cls: type) -> dict:
    """Build data and trainer, train (resuming if asked), evaluate, save; returns the final metrics.

    The metrics land in ``<output_dir>/rankkd_metrics.json``, written last and atomically: its presence means the
    run finished (curricula use that to skip finished stages).
    """
    from rankkd.trainers.arguments import build_ranking_evaluator, build_train_dataset
    from rankkd.utils import atomic_write

    train_dataset = build_train_dataset(data_args)
    evaluator = build_ranking_evaluator(data_args, config)
    trainer = trainer_cls(model=config.model_name_or_path, args=config, train_dataset=train_dataset,
                          ranking_evaluator=evaluator)
    trainer.training_data_description = describe_data(data_args, len(train_dataset))
    result = trainer.train(resume_from_checkpoint=config.resume_from_checkpoint)
    metrics = dict(result.metrics)
    metrics["init_model"] = str(config.model_name_or_path)  # provenance: what this run started from
    if evaluator is not None:
        metrics.update(trainer.evaluate())
    trainer.save_model(config.output_dir)
    if trainer.is_world_process_zero():
        trainer.processing_class.save_pretrained(config.output_dir)
        trainer.create_model_card()
        with atomic_write(f"{config.output_dir}/{METRICS_FILE}") as handle:
            json.dump(metrics, handle, indent=2)
        logger.info("final metrics: %s", json.dumps(metrics))
    if config.push_to_hub and trainer.is_world_process_zero():
        from rankkd.hub import push_model

        # Our push uploads the final folder with rankkd's card; errors are clear and never show the token.
        push_model(config.output_dir, config.hub_model_id or Path(config.output_dir).name, token=config.hub_token)
    return metrics


def describe_data(data_args, n_rows: int) -> str:
    """A one-line description of the training data for the model card."""
    if data_args.train_examples:
        return f"`{data_args.train_examples}` ({n_rows} rows)"
    files = ", ".join(f"`{Path(p.strip()).name}`" for p in (data_args.train_teacher or "").split(",") if p.strip())
    return f"teacher rankings {files} ({n_rows} rows)"


def train_main(config_cls: type, trainer_cls: type, argv: Sequence[str] | None = None) -> dict:
    """Entry point of the training scripts: parse, then :func:`train_from_args`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config, data_args = parse(config_cls, argv)
    return train_from_args(config, data_args, trainer_cls)
