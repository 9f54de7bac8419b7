"""A crash-safe on-disk cache of teacher calls (sqlite3, stdlib).

Every teacher call (one listwise window, one pointwise pair, one doc2query document) is stored under
``sha256(model id + exact prompt + generation settings)`` (:func:`cache_key`), so a crash or a re-run never repeats
finished work and a changed prompt, model or setting never reuses a stale answer.

Why sqlite: each batch of results is one transaction (WAL journal), so a ``SIGKILL`` at any moment leaves every
committed answer readable and no half-written row; several processes may read and write the same file.

Every write of a key that already exists increments its ``n_computed`` column: ``max_recomputations() == 0`` proves
that no finished call was computed twice (the crash/resume tests check exactly that).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

#: Test hook for crash tests: after this many new rows written by this process, sleep (so a test can SIGKILL it
#: with a known amount of finished work). Unset in normal use.
HANG_AFTER_ENV = "RANKKD_CACHE_TEST_HANG_AFTER"


def stable_json(obj: Any) -> str:
    """Canonical JSON (sorted keys, no whitespace) so equal settings always hash equally."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(model_id: str, prompt: Any, settings: dict[str, Any] | None = None) -> str:
    """sha256 of (model id, the exact prompt -- a string or chat messages --, generation settings)."""
    return sha256_text(stable_json({"model": model_id, "prompt": prompt, "settings": settings or {}}))


@dataclass
class CacheStats:
    """What this process did with the cache: answers reused (``hits``) and answers computed and stored."""

    hits: int = 0
    computed: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"hits": self.hits, "computed": self.computed}


class TeacherCache:
    """``key -> JSON value`` store on disk; ``path=None`` keeps it in memory (tests, throwaway runs)."""

    def __init__(self, path: str | os.PathLike | None):
        self.path = None if path is None else Path(path)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(":memory:" if self.path is None else str(self.path), timeout=60.0)
        # WAL: readers never block the writer; synchronous=NORMAL keeps every commit across a process crash
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, model TEXT NOT NULL, value TEXT NOT NULL, "
            "n_computed INTEGER NOT NULL DEFAULT 1, created REAL NOT NULL)"
        )
        self._conn.commit()
        self.stats = CacheStats()
        hang = os.environ.get(HANG_AFTER_ENV)
        self._hang_after = int(hang) if hang else None

    # -------------------------------------------------------------------------------------------------- reading
    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        """The cached values of those ``keys`` that are present (counted as hits)."""
        found: dict[str, Any] = {}
        unique = list(dict.fromkeys(keys))
        for offset in range(0, len(unique), 500):  # sqlite limits the number of bound parameters
            chunk = unique[offset:offset + 500]
            marks = ",".join("?" * len(chunk))
            for key, value in self._conn.execute(f"SELECT key, value FROM calls WHERE key IN ({marks})", chunk):
                found[key] = json.loads(value)
        self.stats.hits += len(found)
        return found

    def get(self, key: str) -> Any | None:
        return self.get_many([key]).get(key)

    def __contains__(self, key: str) -> bool:
        return self._conn.execute("SELECT 1 FROM calls WHERE key = ?", (key,)).fetchone() is not None

    def __len__(self) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0]

    def max_recomputations(self) -> int:
        """How many times the most-recomputed key was computed beyond its first time (0 = never recomputed)."""
        row = self._conn.execute("SELECT MAX(n_computed) FROM calls").fetchone()
        return 0 if row[0] is None else int(row[0]) - 1

    def total_computed(self) -> int:
        """Computations ever stored in this file, over all processes (``len(self)`` + recomputations)."""
        row = self._conn.execute("SELECT COALESCE(SUM(n_computed), 0) FROM calls").fetchone()
        return int(row[0])

    # -------------------------------------------------------------------------------------------------- writing
    def put_many(self, items: Iterable[tuple[str, str, Any]]) -> None:
        """Store ``(key, model_id, value)`` triples in ONE transaction (all or nothing across a crash)."""
        rows = [(key, model, stable_json(value), time.time()) for key, model, value in items]
        if not rows:
            return
        with self._conn:  # commits on success, rolls back on error
            self._conn.executemany(
                "INSERT INTO calls (key, model, value, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value, n_computed = n_computed + 1",
                rows,
            )
        self.stats.computed += len(rows)
        if self._hang_after is not None and self.stats.computed >= self._hang_after:
            time.sleep(3600)  # crash-test hook: wait here to be killed

    def put(self, key: str, model_id: str, value: Any) -> None:
        self.put_many([(key, model_id, value)])

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "TeacherCache":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def cached_map(
    cache: TeacherCache | None,
    keys: Sequence[str],
    model_id: str,
    compute: Callable[[list[int]], list[Any]],
    *,
    batch_size: int,
    progress: Callable[[int], None] | None = None,
) -> list[Any]:
    """Values for ``keys``: cached ones read back, the rest computed ``batch_size`` at a time by ``compute(indices)``
    and committed after each batch, so a crash loses at most one batch. Repeated keys are computed once."""
    values: list[Any] = [None] * len(keys)
    found = cache.get_many(keys) if cache is not None else {}
    first_index: dict[str, int] = {}
    todo: list[int] = []
    for i, key in enumerate(keys):
        if key in found:
            values[i] = found[key]
        elif key not in first_index:
            first_index[key] = i
            todo.append(i)
    if progress is not None and len(keys) - len(todo):
        progress(len(keys) - len(todo))
    for offset in range(0, len(todo), batch_size):
        batch = todo[offset:offset + batch_size]
        computed = compute(batch)
        if len(computed) != len(batch):
            raise RuntimeError(f"teacher returned {len(computed)} answers for {len(batch)} inputs")
        for i, value in zip(batch, computed):
            values[i] = value
        if cache is not None:
            cache.put_many((keys[i], model_id, value) for i, value in zip(batch, computed))
        if progress is not None:
            progress(len(batch))
    for i, key in enumerate(keys):  # repeats of a key computed in this call
        if values[i] is None and key in first_index:
            values[i] = values[first_index[key]]
    return values
