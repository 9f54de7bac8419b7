"""Candidate sampling: pick groups of ``n`` passages per query for listwise / pairwise training.

A sampler returns candidate INDICES into the row's ``docids``. The pool is the first ``depth`` candidates (all when
``depth`` is None). Strategies:

- ``top``: the first ``n`` of the pool.
- ``random``: ``n`` distinct random pool indices, returned in candidate (first-stage) order.
- ``single_relevant``: one positive (chosen at random among the positives anywhere in the list) first, then ``n-1``
  distinct random non-positives from the pool in candidate order. No positive -> ValueError, or ``[]`` with
  ``on_missing_positive="skip"``.
- ``top_and_random``: the first ``ceil(n/2)`` of the pool, then ``n - ceil(n/2)`` random ones from the rest of the
  pool (in candidate order).

Too few candidates: samplers never repeat a candidate (repeats would give a listwise loss two copies of the same
passage), so a group is SHORTER than ``n`` when the pool is too small. :func:`sample_groups` counts such rows as
``short_group`` and drops them when ``drop_short=True``.
"""

from __future__ import annotations

import hashlib
import random
from typing import Callable

import datasets

from rankkd.data.errors import RepairReport
from rankkd.data.io import Qrels, Run, ranked_docids
from rankkd.data.schema import LIST_COLUMNS


def _pool(docids: list[str], depth: int | None) -> list[int]:
    return list(range(len(docids) if depth is None else min(depth, len(docids))))


def _top(docids, n, *, depth=None, positives=None, rng=None, **_) -> list[int]:
    return _pool(docids, depth)[:n]


def _random(docids, n, *, depth=None, positives=None, rng: random.Random, **_) -> list[int]:
    pool = _pool(docids, depth)
    return sorted(rng.sample(pool, min(n, len(pool))))


def _single_relevant(docids, n, *, depth=None, positives=None, rng: random.Random, on_missing_positive="error",
                     **_) -> list[int]:
    positives = positives or set()
    positive_idx = [i for i, docid in enumerate(docids) if docid in positives]
    if not positive_idx:
        if on_missing_positive == "skip":
            return []
        raise ValueError("single_relevant sampling needs a labelled positive among the candidates; none found "
                         "(use on_missing_positive='skip' to skip such queries)")
    chosen = rng.choice(positive_idx)
    negatives = [i for i in _pool(docids, depth) if docids[i] not in positives]
    return [chosen, *sorted(rng.sample(negatives, min(n - 1, len(negatives))))]


def _top_and_random(docids, n, *, depth=None, positives=None, rng: random.Random, **_) -> list[int]:
    pool = _pool(docids, depth)
    n_top = (n + 1) // 2
    rest = pool[n_top:]
    return pool[:n_top] + sorted(rng.sample(rest, min(n - n_top, len(rest))))


SAMPLERS: dict[str, Callable[..., list[int]]] = {
    "top": _top,
    "random": _random,
    "single_relevant": _single_relevant,
    "top_and_random": _top_and_random,
}


def sample_group(
    docids: list[str],
    n: int,
    strategy: str,
    *,
    depth: int | None = None,
    positives: set[str] | None = None,
    rng: random.Random,
    on_missing_positive: str = "error",
) -> list[int]:
    """Indices of the sampled candidates (see the module docstring for strategies and the short-list rule)."""
    if strategy not in SAMPLERS:
        raise ValueError(f"unknown sampling strategy {strategy!r}; available: {', '.join(sorted(SAMPLERS))}")
    if n < 1:
        raise ValueError(f"group size n must be >= 1, got {n}")
    if depth is not None and depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    if on_missing_positive not in ("error", "skip"):
        raise ValueError(f"on_missing_positive must be 'error' or 'skip', got {on_missing_positive!r}")
    return SAMPLERS[strategy](docids, n, depth=depth, positives=positives, rng=rng,
                              on_missing_positive=on_missing_positive)


def _row_rng(seed: int, index: int) -> random.Random:
    # string seeds are hashed with SHA-512 by random.Random: stable across processes and Python runs
    return random.Random(f"rankkd-sample:{seed}:{index}")


def sample_groups(
    ds: datasets.Dataset,
    n: int,
    strategy: str,
    *,
    depth: int | None = None,
    seed: int = 0,
    min_rel: float = 1,
    on_missing_positive: str = "error",
    drop_short: bool = False,
    report: RepairReport | None = None,
) -> datasets.Dataset:
    """Sample a group per row and slice every list column consistently (deterministic given ``seed``).

    ``single_relevant`` takes positives from the ``labels`` column (``label >= min_rel``). Rows skipped for lack of a
    positive are counted as ``no_positive_skipped``; rows with fewer than ``n`` candidates as ``short_group``
    (and ``short_group_dropped`` when ``drop_short``).
    """
    if strategy == "single_relevant" and "labels" not in ds.column_names:
        raise ValueError("single_relevant sampling needs a 'labels' column (build_examples(..., qrels=...))")
    list_columns = [name for name in ds.column_names if name in LIST_COLUMNS]
    counts = {"no_positive_skipped": 0, "short_group": 0, "short_group_dropped": 0}

    def apply(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
        out: dict[str, list] = {name: [] for name in batch}
        for row_in_batch, row in enumerate(indices):
            docids = batch["docids"][row_in_batch]
            positives = None
            if "labels" in batch:
                labels = batch["labels"][row_in_batch]
                positives = {d for d, label in zip(docids, labels) if label is not None and label >= min_rel}
            picked = sample_group(docids, n, strategy, depth=depth, positives=positives, rng=_row_rng(seed, row),
                                  on_missing_positive=on_missing_positive)
            if not picked:
                counts["no_positive_skipped"] += 1
                continue
            if len(picked) < n:
                counts["short_group"] += 1
                if drop_short:
                    counts["short_group_dropped"] += 1
                    continue
            for name in batch:
                value = batch[name][row_in_batch]
                out[name].append([value[i] for i in picked] if name in list_columns else value)
        return out

    fingerprint = hashlib.sha256(
        repr((ds._fingerprint, n, strategy, depth, seed, min_rel, on_missing_positive, drop_short)).encode()
    ).hexdigest()[:16]
    result = ds.map(apply, batched=True, with_indices=True, features=ds.features, new_fingerprint=fingerprint,
                    load_from_cache_file=False, desc=f"sampling {strategy} groups of {n}")
    if report is not None:
        for kind, count in counts.items():
            if count:
                report.add(kind, n=count)
    return result


def hard_negatives(run: Run, qrels: Qrels, k: int, *, depth: int = 200, min_rel: int = 1) -> dict[str, list[str]]:
    """Per query, the ``k`` best-ranked docids within the run's top ``depth`` that are not positives.

    Positives are qrels entries with ``rel >= min_rel``; judged non-relevant docs are allowed (they are the most
    reliable negatives). Every run query gets an entry, possibly shorter than ``k``.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    out: dict[str, list[str]] = {}
    for qid, scores in run.items():
        judged = qrels.get(qid, {})
        ranked = ranked_docids(scores)[:depth]
        out[qid] = [d for d in ranked if judged.get(d, min_rel - 1) < min_rel][:k]
    return out
