"""IR metrics on ranx: evaluate one run, compare several with significance tests, Trainer ``compute_metrics``.

Conventions (the same everywhere in rankkd):

- **Query set = the qrels.** With ``make_comparable=True`` (default) a query that is in the qrels but has no results in
  the run scores 0 on every metric and *is* counted in the mean (a system that returns nothing for a query must not
  look better for it); a query that is in the run but not in the qrels cannot be judged and is ignored. Both counts
  are reported (:class:`EvaluationResult`), never dropped silently. This matches ``trec_eval -c``.
- **Graded nDCG.** ranx's ``ndcg`` uses the linear gain ``rel_i / log2(i + 1)`` (Järvelin & Kekäläinen), the
  ``trec_eval`` formulation and the one behind the published TREC-DL numbers; ``ndcg_burges`` uses the exponential
  gain ``(2**rel_i - 1) / log2(i + 1)``. The ideal ranking is built from the qrels. Judgements below 1 (0 and
  negative grades) are non-relevant for every metric (ranx ``rel_lvl=1``; ``ndcg@10-l2`` raises the level).
- TREC-DL passage convention: MAP and recall count grade >= 2 as relevant, i.e. ``map-l2`` / ``recall@100-l2``
  (BM25 on DL19: map 0.2993 vs map-l2 0.2476); nDCG always uses the full graded labels.
- Metric names are ranx's: ``ndcg@k``, ``ndcg_burges@k``, ``map[@k]``, ``mrr[@k]``, ``recall@k``, ``precision@k``,
  ``r-precision``, ``hits@k``, ``hit_rate@k``, ``f1@k``, ``bpref``, ``dcg@k``, ``dcg_burges@k``, ``rbp.95``.
- Documents with equal scores are ordered by ranx's (unstable) sort, not by trec_eval's docid rule; real re-ranker
  scores practically never tie, but a run of constant scores is evaluated in an arbitrary order.

ranx compiles its metrics with numba: the first call in a fresh environment JIT-compiles (~40 s of CPU); numba then
caches the machine code next to ranx, so later processes pay ~2.5 s to import ranx and ~5 s on the first call (cache
load plus numba's uncached typed-list set-up), then milliseconds. Passing ``ranx.Run``/``ranx.Qrels`` objects costs
one more uncached compile (~4 s, to read numba typed dicts from Python): prefer dicts or paths. Everything heavy is
imported inside functions, so importing this module is instant.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:  # pragma: no cover - typing only
    import ranx

    from rankkd.evaluation.report import ComparisonReport

logger = logging.getLogger(__name__)

DEFAULT_METRICS: tuple[str, ...] = ("ndcg@10", "map", "mrr@10", "recall@100")
STAT_TESTS: tuple[str, ...] = ("student", "fisher", "tukey")

PathLike = Union[str, os.PathLike]
QrelsLike = Union["ranx.Qrels", Mapping[str, Mapping[str, int]], PathLike]
RunLike = Union["ranx.Run", Mapping[str, Mapping[str, float]], PathLike]


class EvaluationResult(dict):
    """``{metric: mean}`` (or ``{metric: {qid: score}}``) plus how the query set was formed.

    Attributes:
        num_queries: queries evaluated (= queries in the qrels with ``make_comparable=True``).
        missing: qrels queries without results in the run, scored 0 (sorted qids).
        ignored: run queries absent from the qrels, not evaluated (sorted qids).
    """

    def __init__(self, scores: dict, *, num_queries: int, missing: Sequence[str] = (), ignored: Sequence[str] = ()):
        super().__init__(scores)
        self.num_queries = num_queries
        self.missing = tuple(missing)
        self.ignored = tuple(ignored)

    def summary(self) -> str:
        """One line: ``evaluated N queries (M without results scored 0; K run queries not in qrels ignored)``."""
        return (f"evaluated {self.num_queries} queries ({len(self.missing)} without results scored 0; "
                f"{len(self.ignored)} run queries not in qrels ignored)")


# ------------------------------------------------------------------------------------------------ input handling
def _is_path(obj: Any) -> bool:
    return isinstance(obj, (str, os.PathLike))


def as_qrels_dict(qrels: QrelsLike) -> dict[str, dict[str, int]]:
    """Plain ``{qid: {docid: rel}}`` from a dict, a ``ranx.Qrels`` or a TREC qrels file (read by rankkd.data.io)."""
    if _is_path(qrels):
        from rankkd.data.io import read_qrels

        return read_qrels(qrels)
    if hasattr(qrels, "qrels") and hasattr(qrels, "to_dict"):  # ranx.Qrels, without importing ranx
        qrels = qrels.to_dict()
    if not isinstance(qrels, Mapping):
        raise TypeError(f"qrels must be a dict, a ranx.Qrels or a path, got {type(qrels).__name__}")
    out: dict[str, dict[str, int]] = {}
    for qid, judged in qrels.items():
        if not judged:
            # ranx cannot represent a query without judgements; it carries no information, so refuse it loudly
            raise ValueError(f"qrels query {qid!r} has no judgements; expected at least one (docid, rel) pair")
        rels: dict[str, int] = {}
        for docid, rel in judged.items():
            if isinstance(rel, float) and not rel.is_integer():
                raise ValueError(f"qrels relevance of ({qid!r}, {docid!r}) is {rel}; expected an integer grade")
            rels[str(docid)] = int(rel)
        out[str(qid)] = rels
    return out


def as_run_dict(run: RunLike) -> dict[str, dict[str, float]]:
    """Plain ``{qid: {docid: score}}`` from a dict, a ``ranx.Run`` or a TREC run file; non-finite scores raise."""
    if _is_path(run):
        from rankkd.data.io import read_run

        return read_run(run)
    if hasattr(run, "run") and hasattr(run, "to_dict"):  # ranx.Run
        run = run.to_dict()
    if not isinstance(run, Mapping):
        raise TypeError(f"run must be a dict, a ranx.Run or a path, got {type(run).__name__}")
    out: dict[str, dict[str, float]] = {}
    for qid, scored in run.items():
        scores: dict[str, float] = {}
        for docid, score in scored.items():
            score = float(score)
            if not math.isfinite(score):
                raise ValueError(f"run score of ({qid!r}, {docid!r}) is {score}; expected a finite number")
            scores[str(docid)] = score
        out[str(qid)] = scores
    return out


def validate_metrics(metrics: Sequence[str] | str) -> list[str]:
    """Check metric names against ranx before any numba work; returns them as a list."""
    from ranx.meta.evaluate import extract_metric_and_params
    from ranx.metrics import metric_switch

    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not metrics:
        raise ValueError("no metrics given; expected e.g. ['ndcg@10', 'map']")
    for metric in metrics:
        try:
            name, _, _ = extract_metric_and_params(metric)
            metric_switch(name)
        except (ValueError, IndexError) as err:
            raise ValueError(f"unknown metric {metric!r} ({err}); expected a ranx metric such as ndcg@10, "
                             "ndcg_burges@10, map, mrr@10, recall@100, precision@5") from None
    if len(set(metrics)) != len(metrics):
        raise ValueError(f"duplicate metric names in {metrics}")
    return metrics


def _align(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]], make_comparable: bool
           ) -> tuple[dict[str, dict[str, float]], list[str], list[str]]:
    """Restrict ``run`` to the qrels queries; returns (run, missing qids, ignored qids)."""
    missing = sorted(q for q in qrels if not run.get(q))
    ignored = sorted(q for q in run if q not in qrels)
    if not make_comparable and (missing or ignored):
        raise ValueError(
            f"run and qrels query ids differ: {len(missing)} qrels queries without results (e.g. {missing[:3]}), "
            f"{len(ignored)} run queries not in qrels (e.g. {ignored[:3]}); pass make_comparable=True to score the "
            "former 0 and ignore the latter")
    return {q: run[q] for q in qrels if run.get(q)}, missing, ignored


def _id_width(table: Mapping[str, Mapping[str, Any]]) -> int:
    """Width of the numpy unicode dtype for the docids: a power of two >= 32.

    ranx's own ``Run(dict)``/``Qrels(dict)`` use ``'<U{longest docid}'``, and numba compiles (~30-40 s) a new
    specialisation of ranx's ``create_and_sort`` for every width it meets; rounding up to a few widths lets the
    on-disk numba cache serve nearly every call.
    """
    longest = max((len(docid) for docs in table.values() for docid in docs), default=1)
    width = 32
    while width < longest:
        width *= 2
    return width


def _typed_table(table: Mapping[str, Mapping[str, Any]], dtype: type) -> Any:
    """ranx's internal numba dict ``{qid: {docid: value}}``, sorted by qid and by value (what Run/Qrels hold)."""
    import numpy as np
    from numba.typed import List as TypedList
    from ranx.data_structures.common import create_and_sort

    width = f"<U{_id_width(table)}"
    q_ids = TypedList(list(table))
    doc_ids = TypedList([np.array(list(docs), dtype=width) for docs in table.values()])
    values = TypedList([np.array(list(docs.values()), dtype=dtype) for docs in table.values()])
    return create_and_sort(q_ids, doc_ids, values)


def _ranx_qrels(qrels: dict[str, dict[str, int]]) -> "ranx.Qrels":
    import numpy as np
    from ranx import Qrels

    if not qrels:
        raise ValueError("qrels are empty; expected at least one judged query")
    ranx_qrels = Qrels()  # filled like Qrels.from_dict does, with our fixed-width ids
    ranx_qrels.qrels = _typed_table(qrels, np.int64)
    ranx_qrels.sorted = True
    return ranx_qrels


def _ranx_run(run: dict[str, dict[str, float]], qids: Sequence[str], name: str | None = None) -> "ranx.Run":
    """A ranx.Run over exactly ``qids``: empty results for those absent from ``run`` (ranx scores them 0)."""
    import numpy as np
    from ranx import Run

    ranx_run = Run(name=name)
    ranx_run.run = _typed_table({qid: run.get(qid, {}) for qid in qids}, np.float64)
    ranx_run.sorted = True
    return ranx_run


@contextlib.contextmanager
def _quiet_numba() -> Iterator[None]:
    """Silence ranx's harmless 'unsafe cast from uint64 to int64' numba warning (it hashes docids)."""
    from numba.core.errors import NumbaTypeSafetyWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumbaTypeSafetyWarning)
        yield


# ------------------------------------------------------------------------------------------------------- public
def evaluate_run(
    qrels: QrelsLike,
    run: RunLike,
    metrics: Sequence[str] | str = DEFAULT_METRICS,
    *,
    per_query: bool = False,
    make_comparable: bool = True,
    threads: int = 0,
) -> EvaluationResult:
    """Evaluate ``run`` against graded ``qrels`` with ranx.

    Args:
        qrels: ``{qid: {docid: rel}}``, a ``ranx.Qrels`` or a TREC qrels path.
        run: ``{qid: {docid: score}}``, a ``ranx.Run`` or a TREC run path (higher score = better rank).
        metrics: ranx metric names; ``ndcg@k`` is trec_eval's linear-gain nDCG, ``ndcg_burges@k`` the exponential.
        per_query: return ``{metric: {qid: score}}`` instead of ``{metric: mean}``.
        make_comparable: score qrels queries missing from the run as 0 and ignore run queries not in the qrels
            (see the module docstring); ``False`` raises when the query sets differ.
        threads: numba threads (0 = all).

    Returns:
        :class:`EvaluationResult` (a dict) with ``num_queries``, ``missing`` and ``ignored`` attributes; the counts
        are also logged at INFO.
    """
    from ranx import evaluate

    metrics = validate_metrics(metrics)
    qrels_d = as_qrels_dict(qrels)
    run_d, missing, ignored = _align(qrels_d, as_run_dict(run), make_comparable)
    ranx_qrels = _ranx_qrels(qrels_d)
    ranx_run = _ranx_run(run_d, list(qrels_d))
    with _quiet_numba():
        evaluate(ranx_qrels, ranx_run, metrics, threads=threads, save_results_in_run=True)
    if per_query:
        scores: dict = {m: {q: float(v) for q, v in ranx_run.scores[m].items()} for m in metrics}
    else:
        scores = {m: float(ranx_run.mean_scores[m]) for m in metrics}
    result = EvaluationResult(scores, num_queries=len(qrels_d), missing=missing, ignored=ignored)
    logger.info("%s", result.summary())
    return result


def compare_runs(
    qrels: QrelsLike,
    runs: Mapping[str, RunLike],
    metrics: Sequence[str] | str = DEFAULT_METRICS,
    *,
    stat_test: str = "student",
    max_p: float = 0.05,
    n_permutations: int = 1000,
    random_seed: int = 42,
    make_comparable: bool = True,
    threads: int = 0,
) -> "ComparisonReport":
    """Evaluate several runs on the same qrels and test every pair for significance with ``ranx.compare``.

    Args:
        qrels: as in :func:`evaluate_run`.
        runs: ``{name: run}`` (dicts, ``ranx.Run`` or paths); the order is the table order.
        metrics: ranx metric names.
        stat_test: ``"student"`` (two-sided paired t-test), ``"fisher"`` (randomisation test, ``n_permutations``)
            or ``"tukey"`` (Tukey's HSD, corrects for multiple comparisons).
        max_p: a difference with p <= ``max_p`` is significant.
        make_comparable: as in :func:`evaluate_run`; every run is scored on the full qrels query set.

    Returns:
        :class:`~rankkd.evaluation.report.ComparisonReport` with means, per-query scores, pairwise p-values and
        which runs each run significantly beats.
    """
    from ranx import compare

    from rankkd.evaluation.report import ComparisonReport, MAX_RUNS

    if stat_test not in STAT_TESTS:
        raise ValueError(f"stat_test must be one of {STAT_TESTS}, got {stat_test!r}")
    if not 0.0 < max_p < 1.0:
        raise ValueError(f"max_p must be in (0, 1), got {max_p}")
    if not runs:
        raise ValueError("no runs to compare; expected {name: run}")
    if len(runs) > MAX_RUNS:
        raise ValueError(f"{len(runs)} runs given; at most {MAX_RUNS} fit in one table (one letter each)")
    metrics = validate_metrics(metrics)
    qrels_d = as_qrels_dict(qrels)
    ranx_qrels = _ranx_qrels(qrels_d)
    names = [str(name) for name in runs]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate run names: {names}")
    ranx_runs, missing, ignored = [], {}, {}
    for name, run in runs.items():
        run_d, missing[name], ignored[name] = _align(qrels_d, as_run_dict(run), make_comparable)
        ranx_runs.append(_ranx_run(run_d, list(qrels_d), name=name))
        logger.info("%s: %d of %d queries without results (scored 0), %d run queries not in qrels ignored",
                    name, len(missing[name]), len(qrels_d), len(ignored[name]))

    with _quiet_numba():
        report = compare(ranx_qrels, ranx_runs, metrics, stat_test=stat_test, n_permutations=n_permutations,
                         max_p=max_p, random_seed=random_seed, threads=threads, make_comparable=False)

    # ranx.evaluate (called by compare) stores the per-query scores in each Run; read them from there
    per_query = {r.name: {m: {q: float(v) for q, v in r.scores[m].items()} for m in metrics} for r in ranx_runs}
    means = {name: {m: float(report.results[name][m]) for m in metrics} for name in names}
    p_values: dict[str, dict[str, dict[str, float | None]]] = {a: {} for a in names}
    significant: dict[str, dict[str, list[str]]] = {a: {m: [] for m in metrics} for a in names}
    for a in names:
        for b in names:
            if a == b:
                continue
            p_values[a][b] = {}
            for m in metrics:
                entry = report.comparisons[frozenset((a, b))][m]
                p = float(entry["p_value"])
                # identical per-query scores give p = nan in scipy; that is "no evidence", never significant
                p_values[a][b][m] = None if math.isnan(p) else p
                if bool(entry["significant"]) and not math.isnan(p) and means[a][m] > means[b][m]:
                    significant[a][m].append(b)
    return ComparisonReport(
        metrics=metrics, run_names=names, mean_scores=means, per_query=per_query, p_values=p_values,
        significant=significant, stat_test=stat_test, max_p=max_p, num_queries=len(qrels_d),
        missing_queries={n: len(v) for n, v in missing.items()},
        ignored_queries={n: len(v) for n, v in ignored.items()},
    )


# ----------------------------------------------------------------------------------------- pairwise predictions
def pairs_to_run(query_ids: Sequence[str], doc_ids: Sequence[str], scores: Sequence[float]
                 ) -> dict[str, dict[str, float]]:
    """Turn per-pair rows (one (query, doc, score) per row) into ``{qid: {docid: score}}``.

    Raises on length mismatch, non-finite scores and a (query, doc) pair that occurs twice (its two scores would
    silently overwrite each other).
    """
    if not len(query_ids) == len(doc_ids) == len(scores):
        raise ValueError(f"length mismatch: {len(query_ids)} query ids, {len(doc_ids)} doc ids, "
                         f"{len(scores)} scores; expected one of each per row")
    run: dict[str, dict[str, float]] = {}
    for row, (qid, docid, score) in enumerate(zip(query_ids, doc_ids, scores)):
        qid, docid, score = str(qid), str(docid), float(score)
        if not math.isfinite(score):
            raise ValueError(f"row {row}: score of ({qid!r}, {docid!r}) is {score}; expected a finite number")
        docs = run.setdefault(qid, {})
        if docid in docs:
            raise ValueError(f"row {row}: duplicate (query, doc) pair ({qid!r}, {docid!r}); expected each pair once")
        docs[docid] = score
    return run


def _scores_from_predictions(predictions: Any) -> "Any":
    """1-D relevance scores from Trainer predictions: (n,), (n, 1), or (n, 2) logits (relevant minus not)."""
    import numpy as np

    if isinstance(predictions, (tuple, list)) and predictions and not np.isscalar(predictions[0]):
        predictions = predictions[0]  # models that return extra outputs: logits come first
    scores = np.asarray(predictions, dtype=np.float64)
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    elif scores.ndim == 2 and scores.shape[1] == 2:
        scores = scores[:, 1] - scores[:, 0]  # log-odds of "relevant"; ranks like softmax[:, 1]
    if scores.ndim != 1:
        raise ValueError(f"predictions of shape {scores.shape}; expected (n,), (n, 1) or (n, 2) relevance logits")
    return scores


def make_compute_metrics(
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    qrels: QrelsLike,
    metrics: Sequence[str] | str = DEFAULT_METRICS,
    *,
    make_comparable: bool = True,
) -> Callable[[Any], dict[str, float]]:
    """A Trainer ``compute_metrics``: ``EvalPrediction`` -> ``{metric: mean}`` over the eval set's queries.

    ``query_ids``/``doc_ids`` give the (query, doc) of each eval row in dataset order (Trainer keeps that order).
    ``qrels`` are the full judgements, so relevant documents the candidates missed still count against recall/nDCG;
    qrels queries without any eval row score 0 (with ``make_comparable``). Rows of queries not in the qrels are
    ignored. Also returns ``num_queries``.
    """
    metrics = validate_metrics(metrics)
    query_ids, doc_ids = [str(q) for q in query_ids], [str(d) for d in doc_ids]
    qrels_d = as_qrels_dict(qrels)

    def compute_metrics(eval_prediction: Any) -> dict[str, float]:
        predictions = getattr(eval_prediction, "predictions", eval_prediction)
        scores = _scores_from_predictions(predictions)
        run = pairs_to_run(query_ids, doc_ids, scores)
        result = evaluate_run(qrels_d, run, metrics, make_comparable=make_comparable)
        return {**result, "num_queries": float(result.num_queries)}

    return compute_metrics
