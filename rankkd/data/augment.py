"""Synthetic queries for unlabelled corpora (TWOLAR): sentence cropping and doc2query.

Both return :class:`SyntheticQueries`: query texts, the document each query was made from (a pseudo-positive, usable
as a one-judgement qrels) and the method. Everything is deterministic given ``seed``: the random stream of a document
depends only on ``(seed, docid)``, so adding documents never changes the queries of the others.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

DEFAULT_DOC2QUERY = "doc2query/msmarco-t5-base-v1"

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class SyntheticQueries:
    """``queries`` ``{qid: text}``, ``sources`` ``{qid: docid it was made from}``, ``method`` per qid."""

    queries: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)
    #: documents that gave no query, by reason (too short to crop, empty generation) -- never dropped silently
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def __len__(self) -> int:
        return len(self.queries)

    def add(self, qid: str, text: str, docid: str, method: str) -> None:
        if qid in self.queries:
            raise ValueError(f"duplicate synthetic query id {qid!r}")
        self.queries[qid] = text
        self.sources[qid] = docid
        self.methods[qid] = method

    def merge(self, other: "SyntheticQueries") -> "SyntheticQueries":
        for qid, text in other.queries.items():
            self.add(qid, text, other.sources[qid], other.methods[qid])
        for reason, n in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + n
        return self

    @property
    def qrels(self) -> dict[str, dict[str, int]]:
        """The source document of each query as its only (pseudo-)relevant document."""
        return {qid: {docid: 1} for qid, docid in self.sources.items()}


def _rng(seed: int, *parts: str) -> random.Random:
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def sample_docids(corpus: Mapping[str, str], n: int | None, *, seed: int = 0, min_words: int = 1) -> list[str]:
    """``n`` docids (all when ``None``) drawn without replacement among documents with ``>= min_words`` words,
    returned in corpus order (deterministic given ``seed``)."""
    eligible = [d for d, text in corpus.items() if len(text.split()) >= min_words]
    if n is None or n >= len(eligible):
        return eligible
    chosen = set(random.Random(seed).sample(eligible, n))
    return [d for d in eligible if d in chosen]


def crop_query(text: str, rng: random.Random, *, min_words: int = 4, max_words: int = 12) -> str | None:
    """A random contiguous span of ``min_words..max_words`` words from one random sentence of ``text``.

    Sentences with at least ``min_words`` words are preferred; a text without one is cropped as a whole.
    Returns None when the text has fewer than ``min_words`` words.
    """
    if min_words < 1 or max_words < min_words:
        raise ValueError(f"need 1 <= min_words <= max_words, got {min_words}, {max_words}")
    sentences = [s.split() for s in _SENTENCE_END.split(text.strip())]
    long_enough = [s for s in sentences if len(s) >= min_words]
    if not long_enough:
        words = text.split()
        if len(words) < min_words:
            return None
        long_enough = [words]
    words = rng.choice(long_enough)
    length = rng.randint(min_words, min(max_words, len(words)))
    start = rng.randint(0, len(words) - length)
    return " ".join(words[start:start + length]).strip(" ,;:")


def crop_queries(corpus: Mapping[str, str], docids: Sequence[str], *, per_doc: int = 1, min_words: int = 4,
                 max_words: int = 12, seed: int = 0, prefix: str = "crop") -> SyntheticQueries:
    """``per_doc`` cropped queries for each of ``docids`` (ids ``{prefix}-{docid}-{i}``); too-short documents are
    counted in ``skipped`` -- pick docids with :func:`sample_docids` ``(min_words=...)`` to avoid that."""
    out = SyntheticQueries()
    for docid in docids:
        rng = _rng(seed, "crop", docid)
        for i in range(per_doc):
            text = crop_query(corpus[docid], rng, min_words=min_words, max_words=max_words)
            if text:
                out.add(f"{prefix}-{docid}-{i}", text, docid, "crop")
            else:
                out.skip("crop_document_too_short")
    return out


def load_doc2query(model_id: str = DEFAULT_DOC2QUERY, *, dtype: Any = "auto") -> tuple[Any, Any]:
    """``(model, tokenizer)`` of a seq2seq doc2query model (folder or Hub id), eval mode."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from rankkd.models.loading import resolve_dtype

    model = AutoModelForSeq2SeqLM.from_pretrained(model_id, dtype=resolve_dtype(dtype))
    model.eval()
    return model, AutoTokenizer.from_pretrained(model_id)


def doc2query(
    corpus: Mapping[str, str],
    docids: Sequence[str],
    model: Any,
    tokenizer: Any,
    *,
    model_id: str = DEFAULT_DOC2QUERY,
    per_doc: int = 1,
    max_input_tokens: int = 256,
    max_new_tokens: int = 32,
    do_sample: bool = True,
    top_k: int = 10,
    batch_size: int = 8,
    seed: int = 0,
    cache: Any = None,
    prefix: str = "d2q",
    progress: bool = True,
) -> SyntheticQueries:
    """``per_doc`` queries per document generated by a doc2query seq2seq model (top-k sampling by default, as in
    docTTTTTquery). Each document's queries are cached (``rankkd.teachers.cache.TeacherCache``) when ``cache`` is
    given; empty generations are counted in ``skipped``."""
    import torch
    from tqdm.auto import tqdm

    from rankkd.teachers.cache import cache_key, cached_map

    settings = {"kind": "doc2query", "per_doc": per_doc, "max_input_tokens": max_input_tokens,
                "max_new_tokens": max_new_tokens, "do_sample": do_sample, "top_k": top_k, "seed": seed}
    keys = [cache_key(model_id, corpus[d], settings) for d in docids]

    def generate(indices: list[int]) -> list[list[str]]:
        texts = [corpus[docids[i]] for i in indices]
        # seeded from the batch's first document: reproducible for a given batch, and finished batches are cached
        torch.manual_seed(_rng(seed, "d2q", docids[indices[0]]).getrandbits(63))
        enc = tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=max_input_tokens)
        with torch.inference_mode():
            out = model.generate(**enc.to(model.device), max_new_tokens=max_new_tokens, do_sample=do_sample,
                                 top_k=top_k if do_sample else None, num_return_sequences=per_doc)
        decoded = [" ".join(t.split()) for t in tokenizer.batch_decode(out, skip_special_tokens=True)]
        return [decoded[j * per_doc:(j + 1) * per_doc] for j in range(len(indices))]

    with tqdm(total=len(docids), desc="doc2query", unit="doc", disable=not progress) as bar:
        generated = cached_map(cache, keys, model_id, generate, batch_size=batch_size, progress=bar.update)
    out = SyntheticQueries()
    for docid, queries in zip(docids, generated):
        for i, text in enumerate(queries):
            if text:
                out.add(f"{prefix}-{docid}-{i}", text, docid, "doc2query")
            else:
                out.skip("doc2query_empty_generation")
    return out
