"""Ranking evaluation during training: re-rank a validation run with the current model and score it with ranx."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import datasets

from rankkd.data.io import Qrels, Run


@dataclass
class RankingEvaluator:
    """Re-rank the top-``depth`` of ``run`` with the model being trained and report ranx metrics.

    Used by the rankkd trainers inside ``evaluate()``, so ``metric_for_best_model="ndcg@10"`` with
    ``load_best_model_at_end=True`` keeps the best checkpoint by nDCG@10 rather than by loss. Queries of ``qrels``
    missing from ``run`` count as 0 (ranx ``make_comparable``), so the mean is over every judged query.
    """

    run: Run
    queries: dict[str, str]
    corpus: dict[str, str]
    qrels: Qrels
    depth: int = 100
    metrics: Sequence[str] = ("ndcg@10", "map", "mrr@10")
    batch_size: int = 64
    query_max_length: int = 32
    passage_max_length: int = 224
    name: str = ""
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def examples(self) -> datasets.Dataset:
        """The validation queries as example-schema rows (what Trainer's ``eval_dataset`` slot holds)."""
        qids = [qid for qid in self.run if qid in self.queries]
        return datasets.Dataset.from_dict({"qid": qids, "query": [self.queries[q] for q in qids]})

    def __call__(self, model: Any, tokenizer: Any, encoder: Any = None) -> dict[str, float]:
        from rankkd.evaluation import evaluate_run
        from rankkd.inference import PointwiseReranker

        model.eval()
        reranker = PointwiseReranker(
            model,
            tokenizer,
            batch_size=self.batch_size,
            query_max_length=self.query_max_length,
            passage_max_length=self.passage_max_length,
            show_progress=False,
        )
        reranked = reranker.rerank(self.run, self.queries, self.corpus, depth=self.depth)
        scores = evaluate_run(self.qrels, reranked, metrics=tuple(self.metrics))
        prefix = f"{self.name}_" if self.name else ""
        result = {f"{prefix}{metric}": float(value) for metric, value in scores.items()}
        self.history.append(result)
        return result
