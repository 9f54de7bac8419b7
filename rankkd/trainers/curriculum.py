"""Multi-stage curricula as configuration: each stage trains from the previous stage's output and is evaluated.

A curriculum is a mapping (usually a YAML file)::

    output_dir: out/multistage-cl-kd
    model_name_or_path: google/electra-base-discriminator
    defaults: {per_device_train_batch_size: 16, bf16: true, eval_run: ..., eval_qrels: ...}
    stages:
      - {name: contrastive, trainer: listwise, loss: infonce, target: none, sampling: single_relevant, ...}
      - {name: distill, trainer: listwise, loss: ranknet, target: teacher_ranks, ...}

``trainer`` is ``listwise`` (cross-encoder), ``pointwise_kd`` or ``biencoder`` (a bi-encoder student trained with the
same losses; the stages of ``scripts/bench/twolar_scifact.py``).

Stage ``i`` writes to ``<output_dir>/<i>-<name>`` and starts from stage ``i-1``'s saved model (stage 0 from
``model_name_or_path``). A stage whose folder already holds ``rankkd_metrics.json`` finished earlier and is skipped,
so a crashed curriculum re-runs only what is left (Pezzuti et al., ECIR 2025: contrastive then KD, and the reverse).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Mapping

logger = logging.getLogger(__name__)


def _trainers() -> dict[str, tuple[type, type]]:
    from rankkd.trainers import BiEncoderListwiseConfig, BiEncoderListwiseTrainer, ListwiseConfig, ListwiseTrainer, \
        PointwiseKDConfig, PointwiseKDTrainer

    return {"listwise": (ListwiseConfig, ListwiseTrainer), "pointwise_kd": (PointwiseKDConfig, PointwiseKDTrainer),
            "biencoder": (BiEncoderListwiseConfig, BiEncoderListwiseTrainer)}


def run_curriculum(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Run every stage of ``spec`` in order; returns one ``{"stage", "output_dir", "metrics"}`` dict per stage."""
    from transformers import HfArgumentParser

    from rankkd.trainers.arguments import DataArguments
    from rankkd.trainers.run import METRICS_FILE, train_from_args

    for key in ("output_dir", "model_name_or_path", "stages"):
        if key not in spec:
            raise ValueError(f"curriculum is missing {key!r}; it needs output_dir, model_name_or_path and stages")
    stages = spec["stages"]
    if not isinstance(stages, list) or not stages:
        raise ValueError(f"curriculum 'stages' must be a non-empty list, got {stages!r}")
    trainers = _trainers()
    model = spec["model_name_or_path"]
    results = []
    for index, stage in enumerate(stages):
        stage = {**spec.get("defaults", {}), **stage}
        name = stage.pop("name", f"stage{index}")
        kind = stage.pop("trainer", "listwise")
        if kind not in trainers:
            raise ValueError(f"stage {index} ({name}): unknown trainer {kind!r}; expected one of {sorted(trainers)}")
        output_dir = Path(spec["output_dir"]) / f"{index}-{name}"
        done = output_dir / METRICS_FILE
        if done.is_file():
            logger.info("stage %d (%s) finished earlier: skipping, its model is %s", index, name, output_dir)
            metrics = json.loads(done.read_text(encoding="utf-8"))
        else:
            config_cls, trainer_cls = trainers[kind]
            stage.update(model_name_or_path=str(model), output_dir=str(output_dir))
            config, data_args = HfArgumentParser((config_cls, DataArguments)).parse_dict(stage)
            logger.info("stage %d (%s): %s from %s", index, name, kind, model)
            metrics = train_from_args(config, data_args, trainer_cls)
        results.append({"stage": name, "output_dir": str(output_dir), "metrics": metrics})
        model = output_dir
    return results
