"""Pointwise knowledge distillation of re-rankers (DeAR-P): KL to a teacher plus a ranking loss."""

from __future__ import annotations

from typing import Any

import torch

from rankkd.data.collators import GroupCollator
from rankkd.data.encoding import PairEncoder
from rankkd.trainers.base import RerankerTrainer
from rankkd.trainers.pointwise_kd_config import PointwiseKDConfig


class PointwiseKDTrainer(RerankerTrainer):
    """Distil a teacher's pointwise scores into a student sequence classifier.

    ``loss = alpha · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − alpha) · ranking_loss`` over each query's group,
    the two components logged as ``loss_kl`` and ``loss_<ranking_loss>``. The student is any
    ``AutoModelForSequenceClassification``: an encoder cross-encoder, or a decoder LLM with a classification head
    (set ``use_lora=True`` for DeAR's LoRA students).

    The teacher signal is either precomputed in the dataset (``teacher_scores``) or produced online by
    ``teacher_model`` (an ``nn.Module`` or a path), which runs under ``torch.no_grad`` in its own dtype and in
    batches of ``teacher_batch_size`` pairs, on the raw texts, with its own tokenizer.
    """

    method_name = "pointwise KD (DeAR-P)"

    def __init__(self, model=None, args: PointwiseKDConfig | None = None, teacher_model=None, teacher_tokenizer=None, **kwargs):
        args = args if args is not None else PointwiseKDConfig(output_dir="rankkd-pointwise-kd")
        teacher_model = teacher_model if teacher_model is not None else args.teacher_model_name_or_path
        self.has_online_teacher = teacher_model is not None
        if self.has_online_teacher and args.target != "none":
            args.target = "none"
        super().__init__(model=model, args=args, **kwargs)
        self.teacher = None
        if self.has_online_teacher:
            self.teacher, self.teacher_encoder = self._load_teacher(teacher_model, teacher_tokenizer, args)

    @property
    def needs_texts(self) -> bool:  # type: ignore[override]
        return self.has_online_teacher

    def make_collator(self, args: PointwiseKDConfig) -> GroupCollator:
        collator = super().make_collator(args)
        if args.ranking_target == "labels":
            collator.extra_targets = ("labels",)
        return collator

    @staticmethod
    def _load_teacher(teacher, tokenizer, args: PointwiseKDConfig):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32, "auto": "auto"}[args.teacher_dtype]
        if isinstance(teacher, str):
            tokenizer = tokenizer or AutoTokenizer.from_pretrained(teacher, trust_remote_code=args.trust_remote_code)
            teacher = AutoModelForSequenceClassification.from_pretrained(
                teacher, dtype=dtype, trust_remote_code=args.trust_remote_code
            )
        elif tokenizer is None:
            raise ValueError("an online teacher passed as a model needs teacher_tokenizer=... as well")
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        if getattr(teacher.config, "pad_token_id", None) is None:
            teacher.config.pad_token_id = tokenizer.pad_token_id
        teacher.eval().requires_grad_(False)
        encoder = PairEncoder(tokenizer, args.query_max_length, args.passage_max_length)
        return teacher, encoder

    @torch.no_grad()
    def teacher_scores(self, queries: list[str], passages: list[str]) -> torch.Tensor:
        """Teacher logits for the pairs, in input order (batched by ``teacher_batch_size``)."""
        device = next(self.teacher.parameters()).device
        if device != self.args.device:
            self.teacher.to(self.args.device)
        out = []
        size = self.args.teacher_batch_size
        for start in range(0, len(queries), size):
            batch = self.teacher_encoder(queries[start : start + size], passages[start : start + size])
            logits = self.teacher(**{k: v.to(self.args.device) for k, v in batch.items()}).logits
            out.append((logits[:, -1] if logits.shape[-1] > 1 else logits[:, 0]).float())
        return torch.cat(out)

    def targets_for(self, inputs: dict[str, Any]) -> torch.Tensor:
        if not self.has_online_teacher:
            return inputs["targets"]
        flat = self.teacher_scores(inputs["queries"], inputs["passages"])
        targets = torch.full(inputs["mask"].shape, float("nan"), device=flat.device)
        return targets.view(-1).index_put((inputs["pair_index"].to(flat.device),), flat).view_as(targets)

    def compute_loss(self, model, inputs, return_outputs: bool = False, num_items_in_batch=None):
        scores = self.score_groups(model, inputs)
        mask = inputs["mask"].to(scores.device)
        teacher = self.targets_for(inputs).to(scores.device)
        if self.args.ranking_target == "labels":
            ranking_targets = inputs["targets_labels"].to(scores.device)
        else:
            ranking_targets = teacher
        components = {}
        names = list(self.loss_fn.losses)
        kl_name, rank_name = names[0], names[1]
        components[kl_name] = self.loss_fn.losses[kl_name](scores, teacher, mask)
        components[rank_name] = self.loss_fn.losses[rank_name](scores, ranking_targets, mask)
        total = sum(self.loss_fn.weights[name] * value for name, value in components.items())
        mode = "train" if model.training else "eval"
        for name, value in components.items():
            self._component_sums[mode][f"loss_{name}"].append(value.detach())
        return (total, {"scores": scores}) if return_outputs else total
