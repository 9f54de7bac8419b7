"""Shared machinery of rankkd's re-ranker trainers: configs, group scoring, loss components, ranking evaluation."""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from transformers import PreTrainedModel, Trainer, TrainingArguments

from rankkd.data.collators import GroupCollator
from rankkd.data.encoding import PairEncoder
from rankkd.losses import CombinedLoss, RankingLoss, get_loss

if TYPE_CHECKING:
    from rankkd.evaluation.ranking_evaluator import RankingEvaluator

logger = logging.getLogger(__name__)


@dataclass
class RerankerConfig(TrainingArguments):
    """Fields shared by every rankkd re-ranker trainer (on top of :class:`transformers.TrainingArguments`).

    Parameters that control the data:
        group_size: candidates per query in one training group (the ``N`` of the ``[B, N]`` score matrix).
        sampling: how the group is drawn from a row's candidates: top, random, single_relevant, top_and_random.
        depth: sample only from the first ``depth`` candidates of each row (None: all).
        target: which row column the loss learns from: teacher_ranks, teacher_scores, labels, or none.
        target_transform: teacher-rank to target transform (reciprocal, linear, topk); only for teacher_ranks.
        query_max_length / passage_max_length: separate token budgets for the query and the passage.

    Parameters that control the loss:
        loss: a loss name from :data:`rankkd.losses.LOSSES`, or several joined by ``+`` (e.g. ``"kl_div+ranknet"``).
        loss_weights: weights for the components, in the order of ``loss`` (default: all 1.0).
        loss_kwargs: keyword arguments per component, ``{"kl_div": {"temperature": 2.0}}``.

    Parameters that control the model:
        model_name_or_path: the student; a folder or Hub id of an ``AutoModelForSequenceClassification``.
        use_lora / lora_r / lora_alpha / lora_dropout / lora_target_modules: train a LoRA adapter (peft) instead.
        trust_remote_code: off unless asked for.
    """

    model_name_or_path: str | None = field(default=None, metadata={"help": "Student model folder or Hub id."})
    trust_remote_code: bool = field(default=False, metadata={"help": "Allow custom model code from the Hub."})
    teacher_name: str | None = field(default=None, metadata={"help": "The teacher, for the model card."})
    group_size: int = field(default=8, metadata={"help": "Candidates per query in a training group."})
    sampling: str = field(default="top", metadata={"help": "top | random | single_relevant | top_and_random"})
    depth: int | None = field(default=None, metadata={"help": "Sample only within the first `depth` candidates."})
    target: str = field(default="teacher_ranks", metadata={"help": "teacher_ranks | teacher_scores | labels | none"})
    target_transform: str = field(default="reciprocal", metadata={"help": "reciprocal | linear | topk"})
    query_max_length: int = field(default=32, metadata={"help": "Query token budget."})
    passage_max_length: int = field(default=224, metadata={"help": "Passage token budget."})
    length_sorted_chunks: int | None = field(
        default=8,
        metadata={"help": "Run the batch's pairs through the model in chunks of this many, sorted by length, each "
                  "padded only to its own longest pair (less padding and memory, same gradients). 8 measured best "
                  "on a 2-core CPU; on GPUs use 64 or more. None: one pass."},
    )
    loss: str = field(default="ranknet", metadata={"help": "Loss name(s) joined by '+', e.g. 'kl_div+ranknet'."})
    loss_weights: list[float] | None = field(default=None, metadata={"help": "Weights of the loss components."})
    loss_kwargs: dict[str, Any] | str | None = field(
        default=None, metadata={"help": "Per-component kwargs as a dict (or JSON string): {name: {kw: value}}."}
    )
    use_lora: bool = field(default=False, metadata={"help": "Train a LoRA adapter instead of the full model."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha."})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    lora_target_modules: list[str] | None = field(
        default=None, metadata={"help": "Modules to adapt (default: peft's choice for the architecture)."}
    )

    def __post_init__(self) -> None:
        # Rows carry list columns the model does not take; the collator needs them all.
        self.remove_unused_columns = False
        if isinstance(self.loss_kwargs, str):
            import json

            self.loss_kwargs = json.loads(self.loss_kwargs) if self.loss_kwargs.strip() else None
        names = self.loss_names
        if self.loss_weights is not None and len(self.loss_weights) != len(names):
            raise ValueError(
                f"loss={self.loss!r} has {len(names)} component(s) but loss_weights has {len(self.loss_weights)} "
                f"values ({self.loss_weights}); give one weight per component"
            )
        if self.group_size < 1:
            raise ValueError(f"group_size must be >= 1, got {self.group_size}")
        if self.bf16 and not self.use_cpu and not _has_accelerator():
            # transformers refuses bf16 without use_cpu on a CPU-only machine; bf16 autocast on CPU is what we want.
            logger.info("no GPU/accelerator found: training on the CPU (use_cpu=True) with bf16 autocast")
            self.use_cpu = True
        super().__post_init__()

    @property
    def loss_names(self) -> list[str]:
        return [name.strip() for name in self.loss.split("+") if name.strip()]


def build_loss(config: RerankerConfig) -> CombinedLoss:
    """The configured loss as a :class:`CombinedLoss` (a single loss is a combination of one)."""
    names = config.loss_names
    weights = config.loss_weights or [1.0] * len(names)
    kwargs = config.loss_kwargs or {}
    unknown = set(kwargs) - set(names)
    if unknown:
        raise ValueError(f"loss_kwargs names {sorted(unknown)} are not components of loss={config.loss!r}")
    losses = {name: get_loss(name, **kwargs.get(name, {})) for name in names}
    return CombinedLoss(losses, dict(zip(names, weights)))


def apply_lora(model: PreTrainedModel, config: RerankerConfig) -> PreTrainedModel:
    """Wrap ``model`` in a peft LoRA adapter for sequence classification (the score head stays trainable)."""
    from peft import LoraConfig, TaskType, get_peft_model

    lora = LoraConfig(
        task_type=TaskType.SEQ_CLS,
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.lora_target_modules,
    )
    return get_peft_model(model, lora)


class RerankerTrainer(Trainer):
    """A :class:`~transformers.Trainer` that scores groups of candidates and applies a ranking loss.

    ``compute_loss`` runs the model on the ``B·N`` encoded pairs of a batch, scatters the scores into a ``[B, N]``
    matrix (ragged groups are padded and masked) and applies the configured (combined) loss. Each loss component is
    logged next to the total (averaged over the logging interval and across processes).

    Subclasses supply the targets in :meth:`targets_for` (e.g. from an online teacher).
    """

    loss_is_scaled_for_ga = False  # our loss is a per-batch mean: let the Trainer divide by the accumulation steps

    def __init__(
        self,
        model: PreTrainedModel | str | None = None,
        args: RerankerConfig | None = None,
        train_dataset=None,
        eval_dataset=None,
        processing_class=None,
        loss: RankingLoss | CombinedLoss | None = None,
        ranking_evaluator: "RankingEvaluator | None" = None,
        **kwargs: Any,
    ):
        if args is None:
            raise ValueError("pass args=RerankerConfig(...) (or a subclass): it holds the group and loss settings")
        model, processing_class = self._resolve_model(model, args, processing_class)
        if args.use_lora and not _is_peft(model):
            model = apply_lora(model, args)
        self.encoder = PairEncoder(processing_class, args.query_max_length, args.passage_max_length)
        self._eval_loss = eval_dataset is not None
        if eval_dataset is None and ranking_evaluator is not None:
            # Trainer insists on an eval_dataset when eval_strategy is set; the evaluator's rows stand in for it,
            # but evaluation is the re-ranking, not a loss on those rows.
            eval_dataset = ranking_evaluator.examples
        if not args.label_names:
            args.label_names = ["targets"]  # lets the eval loop compute the loss on an eval_dataset
        data_collator = kwargs.pop("data_collator", None) or self.make_collator(args)
        if train_dataset is not None and args.sampling == "single_relevant":
            train_dataset = keep_rows_with_positive(train_dataset, data_collator.min_positive_label)
        super().__init__(
            model=model,
            args=args,
            train_dataset=train_dataset,
            eval_dataset=eval_dataset,
            processing_class=processing_class,
            data_collator=data_collator,
            **kwargs,
        )
        if loss is None:
            loss = build_loss(args)
            logger.info("No loss passed, using %s from the config: %s", args.loss, loss)
        self.loss_fn = loss if isinstance(loss, CombinedLoss) else CombinedLoss({"loss": loss}, {"loss": 1.0})
        self.ranking_evaluator = ranking_evaluator
        self._component_sums: dict[str, dict[str, list[float]]] = {"train": defaultdict(list), "eval": defaultdict(list)}

    # ------------------------------------------------------------------ set-up
    @staticmethod
    def _resolve_model(model, args: RerankerConfig, tokenizer):
        """A model id/folder becomes ``(model, tokenizer)`` through the same loader as inference (fp32 weights: the
        Trainer's bf16 autocast does the rest; a LoRA adapter folder stays an adapter, to train further)."""
        from transformers import AutoTokenizer

        from rankkd.models.loading import _ensure_pad_token, load_sequence_classifier

        model = model if model is not None else args.model_name_or_path
        if model is None:
            raise ValueError("no student: pass model=... or set model_name_or_path in the config")
        if isinstance(model, str):
            model, loaded_tokenizer = load_sequence_classifier(
                model, dtype="float32", num_labels=1, trust_remote_code=args.trust_remote_code, is_trainable=True
            )
            tokenizer = tokenizer or loaded_tokenizer
        if tokenizer is None:
            name = getattr(model.config, "_name_or_path", None)
            if not name:
                raise ValueError("pass processing_class=<tokenizer>: the model does not say where it was loaded from")
            tokenizer = AutoTokenizer.from_pretrained(name, trust_remote_code=args.trust_remote_code)
        _ensure_pad_token(model, tokenizer)
        return model, tokenizer

    def make_collator(self, args: RerankerConfig) -> GroupCollator:
        return GroupCollator(
            encoder=self.encoder,
            group_size=args.group_size,
            strategy=args.sampling,
            depth=args.depth,
            target=args.target,
            target_transform=args.target_transform,
            seed=args.seed,
            keep_texts=self.needs_texts,
        )

    needs_texts = False  # an online teacher needs the raw texts in the batch

    # ------------------------------------------------------------------ training
    def score_pairs(self, model, inputs: dict[str, Any]) -> torch.Tensor:
        """One score per encoded pair, in batch order.

        With ``length_sorted_chunks`` the pairs go through the model in length-sorted chunks, each cut to its own
        longest pair: a batch of B·N pairs padded to the single longest one wastes most of its compute on padding.
        The scores (and so the gradients) are those of one padded pass, up to floating-point rounding.
        """
        model_inputs = {k: inputs[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in inputs}
        chunk = self.args.length_sorted_chunks
        n_pairs = model_inputs["input_ids"].shape[0]
        # Only right padding: trimming left padding would shift the position ids of decoder models.
        if not chunk or n_pairs <= chunk or self.encoder.padding_side == "left":
            return self._pair_logits(model, model_inputs)
        lengths = model_inputs["attention_mask"].sum(dim=1)
        order = torch.argsort(lengths, descending=True, stable=True)
        # Equal-sized chunks of at most `chunk` pairs: 40 pairs go as 20 + 20, not 32 + 8 (32 padded to the longest).
        size = -(-n_pairs // -(-n_pairs // chunk))
        pieces = []
        for start in range(0, n_pairs, size):
            index = order[start : start + size]
            width = int(lengths[index].max())
            pieces.append(self._pair_logits(model, {k: v[index][:, :width] for k, v in model_inputs.items()}))
        logits = torch.empty(n_pairs, dtype=pieces[0].dtype, device=pieces[0].device)
        return logits.index_copy(0, order.to(logits.device), torch.cat(pieces))

    @staticmethod
    def _pair_logits(model, model_inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = model(**model_inputs).logits
        if logits.shape[-1] > 1:
            # Two-class heads (monoBERT style): the relevance score is the positive-class logit.
            return logits[:, -1]
        return logits[:, 0]

    def score_groups(self, model, inputs: dict[str, Any]) -> torch.Tensor:
        """Scores of the batch's pairs as a ``[B, N]`` matrix (padding entries are 0 and masked)."""
        logits = self.score_pairs(model, inputs)
        scores = torch.zeros(inputs["mask"].numel(), dtype=logits.dtype, device=logits.device)
        scores = scores.index_put((inputs["pair_index"],), logits.reshape(-1))
        return scores.view_as(inputs["mask"]).float()

    def targets_for(self, inputs: dict[str, Any]) -> torch.Tensor:
        return inputs["targets"]

    def compute_loss(self, model, inputs, return_outputs: bool = False, num_items_in_batch=None):
        scores = self.score_groups(model, inputs)
        targets = self.targets_for(inputs).to(scores.device)
        total, components = self.loss_fn.forward_with_components(scores, targets, inputs["mask"])
        mode = "train" if model.training else "eval"
        if len(components) > 1:
            for name, value in components.items():
                self._component_sums[mode][f"loss_{name}"].append(value.detach())
        return (total, {"scores": scores}) if return_outputs else total

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        mode = "train" if "loss" in logs else "eval"
        sums = self._component_sums[mode]
        if sums:
            for key, values in sums.items():
                value = self.accelerator.gather_for_metrics(torch.stack(values).mean().reshape(1)).mean().item()
                logs[key if mode == "train" else f"eval_{key}"] = round(value, 6)
            sums.clear()
        super().log(logs, start_time)

    # ------------------------------------------------------------------ cards
    training_data_description: str | None = None
    method_name = "listwise distillation"

    def create_model_card(self, model_name: str | None = None, results: dict[str, float] | None = None,
                          **kwargs: Any) -> None:
        """Write rankkd's model card (base model, teacher, data, losses with citations, hyper-parameters, results).

        Called on ``push_to_hub`` by the Trainer and after the final save by the scripts.
        """
        from rankkd.cards import hyperparameters_of, write_model_card

        if not self.is_world_process_zero():
            return
        logged: dict[str, float] = {}
        for entry in self.state.log_history:
            logged.update({k: v for k, v in entry.items() if k.startswith("eval_") and isinstance(v, (int, float))})
        # Results measured outside the Trainer (e.g. a test-set re-ranking) are passed in and win.
        logged = {k.removeprefix("eval_"): v for k, v in logged.items() if not k.endswith(("runtime", "per_second"))}
        logged.update(results or {})
        write_model_card(
            self.args.output_dir,
            model_name=model_name or self.args.hub_model_id or Path(self.args.output_dir).name,
            base_model=self.args.model_name_or_path or getattr(self.model.config, "_name_or_path", None),
            teacher=self.args.teacher_name,
            training_data=self.training_data_description,
            losses=dict(self.loss_fn.losses),
            loss_weights=self.loss_fn.weights,
            hyperparameters=hyperparameters_of(self.args),
            results=logged,
            method=self.method_name,
        )

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        """Token-free ranking evaluation: re-rank a validation run with the current model and report ranx metrics.

        With a ``ranking_evaluator`` the metrics (e.g. ``eval_ndcg@10``) can drive ``metric_for_best_model`` and
        ``load_best_model_at_end``. Without one, falls back to the loss on ``eval_dataset``.
        """
        metrics: dict[str, float] = {}
        if eval_dataset is not None or self._eval_loss:
            metrics.update(super().evaluate(eval_dataset, ignore_keys, metric_key_prefix))
        if self.ranking_evaluator is not None:
            model = self.accelerator.unwrap_model(self.model)
            was_training = model.training
            ranking = self.ranking_evaluator(model, self.processing_class, self.encoder)
            model.train(was_training)
            ranking = {f"{metric_key_prefix}_{k}": float(v) for k, v in ranking.items()}
            self.log(dict(ranking))
            self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, ranking)
            metrics.update(ranking)
        return metrics


def keep_rows_with_positive(dataset, min_label: float = 1.0):
    """Rows with at least one labelled positive (``labels >= min_label``); the others are counted and reported.

    ``single_relevant`` sampling needs a positive per group; rows without one (e.g. MS MARCO's sparse labels) cannot
    form a group, so they are left out of training, loudly.
    """
    if "labels" not in dataset.column_names:
        raise ValueError(
            "sampling='single_relevant' needs a 'labels' column (graded qrels per candidate); the training rows have "
            f"only {dataset.column_names}. Pass qrels when building the examples, or choose another sampling"
        )
    keep = [
        i for i, labels in enumerate(dataset["labels"]) if any(y is not None and y >= min_label for y in labels)
    ]
    if len(keep) < len(dataset):
        logger.warning(
            "single_relevant sampling: %d of %d training rows have no labelled positive (label >= %s) and are not used",
            len(dataset) - len(keep), len(dataset), min_label,
        )
        if not keep:
            raise ValueError("no training row has a labelled positive; single_relevant sampling cannot form a group")
        dataset = dataset.select(keep)
    return dataset


def _has_accelerator() -> bool:
    import torch

    return torch.cuda.is_available() or (hasattr(torch, "xpu") and torch.xpu.is_available()) or (
        hasattr(torch.backends, "mps") and torch.backends.mps.is_available()
    )


def _is_peft(model) -> bool:
    try:
        from peft import PeftModel
    except ImportError:  # pragma: no cover - peft is a dependency
        return False
    return isinstance(model, PeftModel)
