"""Evaluation on ranx: :func:`evaluate_run`, :func:`compare_runs` (-> :class:`ComparisonReport`), a Trainer
``compute_metrics`` factory and the ``rankkd_ranx`` metric for the Hugging Face ``evaluate`` library.

See :mod:`rankkd.evaluation.metrics` for the conventions (query set = qrels, missing queries score 0, linear-gain nDCG).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rankkd.evaluation.metrics import (
    DEFAULT_METRICS,
    STAT_TESTS,
    EvaluationResult,
    as_qrels_dict,
    as_run_dict,
    compare_runs,
    evaluate_run,
    make_compute_metrics,
    pairs_to_run,
    validate_metrics,
)
from rankkd.evaluation.report import ComparisonReport

RANX_METRIC_PATH = Path(__file__).resolve().parent / "ranx_metric" / "ranx_metric.py"

__all__ = [
    "DEFAULT_METRICS",
    "STAT_TESTS",
    "RANX_METRIC_PATH",
    "ComparisonReport",
    "EvaluationResult",
    "as_qrels_dict",
    "as_run_dict",
    "compare_runs",
    "evaluate_run",
    "load_ranx_metric",
    "make_compute_metrics",
    "pairs_to_run",
    "validate_metrics",
]


def load_ranx_metric(**kwargs: Any):
    """``evaluate.load`` of the bundled ``rankkd_ranx`` metric script (works offline; kwargs go to ``evaluate.load``)."""
    import evaluate

    return evaluate.load(str(RANX_METRIC_PATH), **kwargs)
