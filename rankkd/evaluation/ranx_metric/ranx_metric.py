"""``rankkd_ranx``: ranking metrics (nDCG@10, MAP, MRR@10, Recall@100 ...) as a Hugging Face ``evaluate`` metric.

Load it offline with ``evaluate.load(<path to this file>)`` or :func:`rankkd.evaluation.load_ranx_metric`.
"""

import datasets
import evaluate

from rankkd.evaluation.metrics import DEFAULT_METRICS, evaluate_run, pairs_to_run

_DESCRIPTION = """
Ranking metrics computed with ranx from per-pair rows: every row is one (query, document) pair with the model's
score (``predictions``), the graded relevance label (``references``), ``query_ids`` and ``doc_ids``. The rows of a
query form its ranking (higher score first) and its judgements, so the metrics are measured over the candidates given:
relevant documents that are not among the rows cannot count against recall. nDCG uses the linear gain (trec_eval);
``ndcg_burges@k`` the exponential one. A query whose labels are all 0 scores 0.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `float`): relevance score per row (higher = more relevant).
    references (`list` of `int`): graded relevance label per row (0 = not relevant).
    query_ids (`list` of `str`): query id per row.
    doc_ids (`list` of `str`): document id per row; each (query, doc) pair at most once.
    metrics (`list` of `str`, optional): ranx metric names, default ndcg@10, map, mrr@10, recall@100.
Returns:
    `dict`: the mean of each metric over the queries, plus `num_queries`.
Examples:
    >>> metric = evaluate.load("rankkd/evaluation/ranx_metric/ranx_metric.py")
    >>> metric.compute(predictions=[0.9, 0.1], references=[0, 1], query_ids=["q", "q"], doc_ids=["a", "b"],
    ...                metrics=["mrr@10"])
    {'mrr@10': 0.5, 'num_queries': 1}
"""

_CITATION = """
@inproceedings{bassani2022ranx,
  author    = {Elias Bassani},
  title     = {ranx: A Blazing-Fast Python Library for Ranking Evaluation and Comparison},
  booktitle = {ECIR (2)},
  series    = {Lecture Notes in Computer Science},
  volume    = {13186},
  pages     = {259--264},
  publisher = {Springer},
  year      = {2022}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class RankkdRanx(evaluate.Metric):
    """rankkd_ranx: per-pair predictions -> ranx ranking metrics."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            module_type="metric",
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Value("float64"),
                    "references": datasets.Value("int64"),
                    "query_ids": datasets.Value("string"),
                    "doc_ids": datasets.Value("string"),
                }
            ),
            reference_urls=["https://github.com/AmenRa/ranx"],
        )

    def _compute(self, predictions, references, query_ids, doc_ids, metrics=DEFAULT_METRICS):
        run = pairs_to_run(query_ids, doc_ids, predictions)
        # the labels of the same rows are the judgements; pairs_to_run already rejected duplicate pairs
        qrels: dict = {}
        for qid, docid, label in zip(query_ids, doc_ids, references):
            qrels.setdefault(str(qid), {})[str(docid)] = int(label)
        result = evaluate_run(qrels, run, metrics)
        return {**result, "num_queries": result.num_queries}
