"""``ListwiseSFTTrainer``: TRL SFT of a causal-LM listwise re-ranker, evaluated by the rankings it generates.

Training is plain ``trl.SFTTrainer`` on prompt/completion rows (:mod:`rankkd.listwise.data`): TRL tokenizes
``prompt`` with the chat template's generation prompt and ``prompt + completion`` in full, and with
``completion_only_loss`` (on by default for such rows) labels every prompt token ``-100``. LoRA comes from
``args.lora_config()`` unless a ``peft_config`` is passed.

``evaluate()`` adds what token loss cannot show: the model re-ranks the top-k of a small validation run with sliding
windows, and ``eval_ndcg@10`` (ranx via :func:`rankkd.evaluation.evaluate_run`) and ``eval_parse_rate`` are logged.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from trl import SFTTrainer

from rankkd.listwise.sft_config import ListwiseSFTConfig

logger = logging.getLogger(__name__)


@dataclass
class ListwiseEvalSet:
    """A validation run to re-rank during training: first-stage run, query and passage texts, graded qrels."""

    run: dict[str, dict[str, float]]
    queries: dict[str, str]
    corpus: dict[str, str]
    qrels: dict[str, dict[str, int]]
    max_queries: int | None = None

    def __post_init__(self) -> None:
        judged = [qid for qid in self.run if qid in self.qrels]
        if not judged:
            raise ValueError("no query of the validation run has qrels")
        if self.max_queries is not None:
            judged = judged[: self.max_queries]
        self.run = {qid: self.run[qid] for qid in judged}
        self.qrels = {qid: self.qrels[qid] for qid in judged}


class ListwiseSFTTrainer(SFTTrainer):
    """SFT for listwise LLM students with ranking evaluation (nDCG + parse rate) and merged-LoRA saving."""

    def __init__(self, model: Any = None, args: ListwiseSFTConfig | None = None, train_dataset: Any = None,
                 eval_dataset: Any = None, processing_class: Any = None, *, rank_eval: ListwiseEvalSet | None = None,
                 peft_config: Any = None, **kwargs: Any):
        if args is None:
            raise ValueError("ListwiseSFTTrainer needs args=ListwiseSFTConfig(...)")
        model = model if model is not None else args.model_name_or_path
        if model is None:
            raise ValueError("no student: pass model=... or set model_name_or_path in the config")
        if isinstance(model, (str, os.PathLike)):
            from rankkd.models.llm import load_causal_lm

            model, tokenizer = load_causal_lm(model, dtype=args.model_dtype)
            model.train()
            processing_class = processing_class if processing_class is not None else tokenizer
        if processing_class is not None:
            from rankkd.models.llm import prepare_tokenizer

            prepare_tokenizer(processing_class, model)
        if peft_config is None:
            peft_config = args.lora_config()
        self.rank_eval = rank_eval
        # Trainer refuses eval_strategy != "no" without an eval_dataset; the ranking evaluation needs none.
        restore = None
        if eval_dataset is None and rank_eval is not None and str(args.eval_strategy) not in ("no", "IntervalStrategy.NO"):
            restore, args.eval_strategy = args.eval_strategy, "no"
        try:
            super().__init__(model=model, args=args, train_dataset=train_dataset, eval_dataset=eval_dataset,
                             processing_class=processing_class, peft_config=peft_config, **kwargs)
        finally:
            if restore is not None:
                args.eval_strategy = restore
                self.args.eval_strategy = restore

    def rank_evaluate(self, metric_key_prefix: str = "eval") -> dict[str, float]:
        """Re-rank ``rank_eval`` with the current model; ``{prefix_<metric>, prefix_parse_rate, ...}``."""
        from rankkd.evaluation import evaluate_run
        from rankkd.listwise.inference import RerankStats, make_ranker, rerank_run

        if self.rank_eval is None:
            return {}
        args: ListwiseSFTConfig = self.args
        model = self.model
        was_training = model.training
        model.eval()
        kwargs = {"prompt_config": args.prompt_config(), "batch_size": args.rank_eval_batch_size}
        if args.rank_eval_mode == "generate":
            kwargs["max_new_tokens"] = args.rank_eval_max_new_tokens
        ranker = make_ranker(model, self.processing_class, args.rank_eval_mode, **kwargs)
        stats = RerankStats()
        try:
            run = rerank_run(self.rank_eval.run, self.rank_eval.queries, self.rank_eval.corpus, ranker,
                             depth=args.rank_eval_depth, window=args.rank_eval_window, stride=args.rank_eval_stride,
                             batch_size=args.rank_eval_batch_size, progress=False, stats=stats)
        finally:
            model.train(was_training)
        scores = evaluate_run(self.rank_eval.qrels, run, [args.rank_eval_metric])
        metrics = {f"{metric_key_prefix}_{name}": float(value) for name, value in scores.items()}
        metrics.update({f"{metric_key_prefix}_{k}": v for k, v in stats.parse.metrics().items()})
        metrics[f"{metric_key_prefix}_rank_seconds"] = stats.seconds
        return metrics

    def evaluate(self, eval_dataset: Any = None, ignore_keys: list[str] | None = None,
                 metric_key_prefix: str = "eval") -> dict[str, float]:
        """Token loss on ``eval_dataset`` (when there is one) plus the ranking metrics of :meth:`rank_evaluate`."""
        metrics: dict[str, float] = {}
        if eval_dataset is not None or self.eval_dataset is not None:
            metrics.update(super().evaluate(eval_dataset, ignore_keys, metric_key_prefix))
        if self.rank_eval is not None:
            ranking = self.rank_evaluate(metric_key_prefix)
            self.log(ranking)
            metrics.update(ranking)
            self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, ranking)
        return metrics

    def save_merged(self, output_dir: str | os.PathLike | None = None) -> str:
        """Fold the LoRA weights into the base and save a plain causal-LM folder (+ tokenizer). Ends training use:
        the trainer's model is the merged model afterwards."""
        output_dir = str(output_dir or self.args.output_dir)
        model = self.accelerator.unwrap_model(self.model)
        if hasattr(model, "merge_and_unload"):
            model = model.merge_and_unload()
            self.model = model
        if self.is_world_process_zero():
            model.save_pretrained(output_dir)
            self.processing_class.save_pretrained(output_dir)
        return output_dir
