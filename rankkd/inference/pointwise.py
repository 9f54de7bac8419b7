"""Fast pointwise re-ranking with a sequence classifier (cross-encoder or decoder LLM with a score head).

Why it is faster than scoring ``tokenizer(query, passage)`` batch by batch:

* every unique query and every unique passage is tokenized exactly once (one batched call to the Rust tokenizer,
  no special tokens), and identical (query, passage) pairs are scored once;
* query and passage are truncated *separately* (``query_max_length`` / ``passage_max_length`` tokens) so a long
  passage can never squeeze the query out, then assembled with the tokenizer's own special-token layout (learned once
  from the tokenizer's post-processor, so BERT ``[CLS] q [SEP] p [SEP]``, RoBERTa ``<s> q </s></s> p </s>`` and
  decoder templates like ``<bos> q p`` all come out exactly as ``tokenizer(q, p)`` would make them);
* pairs are sorted by token length and padded per batch only to the longest row (right padding, see
  :mod:`rankkd.models.loading`), the model runs under ``torch.inference_mode()`` with weights in bf16 where bf16
  matmuls are native (measured faster than fp32-weights + autocast on the reference CPU, at the same distance from
  fp32 scores), and scores are mapped back to input order.

Scores do not depend on batch composition: padding is masked and right-aligned, so a pair gets the same score alone
or in any batch (up to float rounding of differently-shaped matmuls).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rankkd.data.encoding import PairEncoder

logger = logging.getLogger(__name__)

Run = dict[str, dict[str, float]]

class MissingTextError(KeyError):
    """A query id or document id of the run has no text in the queries / corpus given to :meth:`rerank`."""

    def __str__(self) -> str:  # KeyError would print the message wrapped in quotes
        return str(self.args[0]) if self.args else ""


def _model_max_positions(model: Any, tokenizer: Any) -> int | None:
    """The longest input the model accepts, from the config (``max_position_embeddings``) or the tokenizer."""
    config = getattr(model, "config", None)
    get_text = getattr(config, "get_text_config", None)
    config = get_text() if get_text is not None else config
    limit = getattr(config, "max_position_embeddings", None)
    tok_limit = getattr(tokenizer, "model_max_length", None)
    # Tokenizers without a limit report a huge sentinel (int(1e30)); ignore it.
    if tok_limit is not None and tok_limit < 1_000_000:
        limit = tok_limit if limit is None else min(limit, tok_limit)
    if limit is not None and getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
        # RoBERTa-style position ids start at padding_idx + 1, so 514 positions hold 512 tokens.
        limit = min(limit, 512)
    return limit


class PointwiseReranker:
    """Score (query, passage) pairs with a sequence classifier and re-rank runs.

    Args:
        model: a ``*ForSequenceClassification`` model (or a PEFT model wrapping one).
        tokenizer: its fast tokenizer.
        batch_size: pairs per forward pass.
        query_max_length: query tokens kept (special tokens not counted); 32 covers MS MARCO / TREC DL queries.
        passage_max_length: passage tokens kept (special tokens not counted). 224 keeps 32 + 224 + 3 specials under
            the classic 256-token cross-encoder budget while covering ~97% of MS MARCO passages untruncated.
        dtype: ``None`` keeps the model's dtype; ``"auto"`` (bf16 where native, else fp32), ``"bfloat16"``,
            ``"float32"`` or a ``torch.dtype`` casts the weights once.
        device: where to run; ``None`` keeps the model where it is.
        show_progress: tqdm bar over pairs.
        positive_label: for ``num_labels > 1``, the class whose log-probability is the score (default: the last
            class, i.e. label 1 of a binary relevant/non-relevant head). Log-softmax rather than the raw logit, so the
            ranking equals ranking by the softmax probability (monoBERT convention) without its saturation at 1.0.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        batch_size: int = 64,
        query_max_length: int = 32,
        passage_max_length: int = 224,
        dtype: Any = None,
        device: Any = None,
        show_progress: bool = True,
        positive_label: int | None = None,
    ) -> None:
        import torch

        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if query_max_length <= 0 or passage_max_length < 0:
            raise ValueError(
                f"query_max_length must be > 0 and passage_max_length >= 0, got {query_max_length}/{passage_max_length}"
            )
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(f"PointwiseReranker needs a fast (Rust) tokenizer, got {type(tokenizer).__name__}")
        if dtype is not None:
            from rankkd.models.loading import resolve_dtype

            model = model.to(resolve_dtype(dtype))
        if device is not None:
            model = model.to(device)
        model.eval()
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.query_max_length = query_max_length
        self.passage_max_length = passage_max_length
        self.show_progress = show_progress
        self.encoder = PairEncoder(tokenizer, query_max_length, passage_max_length)
        self.template = self.encoder.template
        max_total = query_max_length + passage_max_length + self.template.num_special
        limit = _model_max_positions(model, tokenizer)
        if limit is not None and max_total > limit:
            raise ValueError(
                f"query_max_length + passage_max_length + {self.template.num_special} special tokens = {max_total} "
                f"exceeds the model's maximum input length {limit}"
            )
        # Pad with the id the model's config knows: a decoder's classification head pools the rightmost token that
        # is not config.pad_token_id, so padding with any other id would make it pool a padding position.
        config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
        pad_id = getattr(config, "pad_token_id", None)
        if pad_id is None:
            pad_id = tokenizer.pad_token_id
        if pad_id is None:
            raise ValueError(
                "the tokenizer has no pad token; load the model with rankkd.models.load_sequence_classifier"
            )
        self.pad_id = int(pad_id)
        if self.template.suffix and self.template.suffix[-1] == self.pad_id:
            raise ValueError(
                f"every pair ends in token id {self.pad_id}, which is also the pad id; a last-token classification "
                "head could not find the end of the sequence. Give the tokenizer a pad token distinct from eos"
            )
        self.use_token_types = "token_type_ids" in getattr(tokenizer, "model_input_names", ())
        num_labels = int(getattr(model.config, "num_labels", 1))
        self.num_labels = num_labels
        if num_labels > 1:
            self.positive_label = num_labels - 1 if positive_label is None else positive_label
            if not 0 <= self.positive_label < num_labels:
                raise ValueError(f"positive_label {positive_label} is not a class of a {num_labels}-label head")
        else:
            self.positive_label = 0
        self._torch = torch

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_pretrained(cls, path_or_id: str | os.PathLike, **kwargs: Any) -> "PointwiseReranker":
        """Load with :func:`rankkd.models.load_sequence_classifier` and wrap.

        Loader keywords (``dtype`` — default ``"auto"`` —, ``num_labels``, ``trust_remote_code``, ``merge_lora`` —
        default ``True`` here since merged LoRA is faster to run —, ``device``, ``attn_implementation``) go to the
        loader; the rest to :class:`PointwiseReranker`.
        """
        from rankkd.models.loading import load_sequence_classifier

        loader_keys = ("dtype", "num_labels", "trust_remote_code", "merge_lora", "device", "attn_implementation")
        loader_kw = {k: kwargs.pop(k) for k in loader_keys if k in kwargs}
        loader_kw.setdefault("merge_lora", True)
        model, tokenizer = load_sequence_classifier(path_or_id, **loader_kw)
        return cls(model, tokenizer, **kwargs)

    # ------------------------------------------------------------------ tokenization
    def _tokenize(self, texts: Sequence[str], max_length: int) -> list[list[int]]:
        return self.encoder.tokenize(texts, max_length)

    def _assemble(self, q_ids: list[int], p_ids: list[int]) -> tuple[list[int], list[int]]:
        return self.encoder.assemble(q_ids, p_ids)

    # ------------------------------------------------------------------ scoring
    def score_pairs(self, queries: Sequence[str], passages: Sequence[str]) -> np.ndarray:
        """Scores (float32, one per pair, in input order) of ``zip(queries, passages)``.

        Single-label heads give the raw logit; multi-label heads the log-probability of ``positive_label``.
        """
        if len(queries) != len(passages):
            raise ValueError(f"got {len(queries)} queries but {len(passages)} passages; they are scored pairwise")
        if not len(queries):
            return np.zeros(0, dtype=np.float32)
        for kind, texts in (("query", queries), ("passage", passages)):
            for i, text in enumerate(texts):
                if not isinstance(text, str):
                    raise TypeError(f"{kind} {i} is {type(text).__name__}, expected str")
        q_index: dict[str, int] = {}
        p_index: dict[str, int] = {}
        pair_index: dict[tuple[int, int], int] = {}
        inverse = np.empty(len(queries), dtype=np.int64)
        for i, (q, p) in enumerate(zip(queries, passages)):
            key = (q_index.setdefault(q, len(q_index)), p_index.setdefault(p, len(p_index)))
            inverse[i] = pair_index.setdefault(key, len(pair_index))
        if len(pair_index) < len(queries):
            logger.info("scoring %d unique pairs out of %d", len(pair_index), len(queries))
        q_tok = self._tokenize(list(q_index), self.query_max_length)
        p_tok = self._tokenize(list(p_index), self.passage_max_length)
        unique_scores = self._score_token_pairs([(q_tok[qi], p_tok[pi]) for qi, pi in pair_index])
        return unique_scores[inverse]

    def _score_token_pairs(self, pairs: list[tuple[list[int], list[int]]]) -> np.ndarray:
        torch = self._torch
        n_special = self.template.num_special
        lengths = np.fromiter((len(q) + len(p) + n_special for q, p in pairs), dtype=np.int64, count=len(pairs))
        # Longest first: the first batch is the biggest, so an out-of-memory error shows up immediately, and
        # neighbours in the sorted order have near-equal lengths, so little compute goes to padding.
        order = np.argsort(-lengths, kind="stable")
        scores = np.empty(len(pairs), dtype=np.float32)
        device = next(self.model.parameters()).device
        # Only a template without trailing special tokens can end in the pad id (checked per row below).
        check_last = not self.template.suffix
        from tqdm.auto import tqdm

        with torch.inference_mode(), tqdm(
            total=len(pairs), unit="pair", desc="re-ranking", disable=not self.show_progress, leave=False
        ) as bar:
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                width = int(lengths[idx].max())
                input_ids = torch.full((len(idx), width), self.pad_id, dtype=torch.long)
                attention = torch.zeros((len(idx), width), dtype=torch.long)
                token_types = torch.zeros((len(idx), width), dtype=torch.long) if self.use_token_types else None
                for row, j in enumerate(idx):
                    ids, types = self._assemble(*pairs[j])
                    if check_last and ids and ids[-1] == self.pad_id:
                        raise ValueError(
                            f"pair {int(j)} ends in the pad token id {self.pad_id}; a last-token classification head "
                            "would pool the wrong position. Give the tokenizer a pad token distinct from eos"
                        )
                    n = len(ids)
                    input_ids[row, :n] = torch.tensor(ids, dtype=torch.long)
                    attention[row, :n] = 1
                    if token_types is not None:
                        token_types[row, :n] = torch.tensor(types, dtype=torch.long)
                inputs = {"input_ids": input_ids.to(device), "attention_mask": attention.to(device)}
                if token_types is not None:
                    inputs["token_type_ids"] = token_types.to(device)
                logits = self.model(**inputs).logits.float()
                scores[idx] = self._logits_to_scores(logits).cpu().numpy()
                bar.update(len(idx))
        return scores

    def _logits_to_scores(self, logits: "torch.Tensor") -> "torch.Tensor":  # noqa: F821
        if self.num_labels == 1:
            return logits[:, 0]
        return logits.log_softmax(dim=-1)[:, self.positive_label]

    # ------------------------------------------------------------------ runs
    def rerank(
        self,
        run: Mapping[str, Mapping[str, float]],
        queries: Mapping[str, str],
        corpus: Mapping[str, str],
        *,
        depth: int | None = 100,
    ) -> Run:
        """Re-score the top-``depth`` documents of each query of ``run`` (``None``: all of them).

        Documents below ``depth`` keep their original relative order and are placed below every re-ranked document
        (their new scores are ``min(re-ranked) - 1, -2, ...``). The input order is by score, descending, ties in
        insertion order. Returns ``{qid: {docid: score}}`` with each query's documents in descending score order.
        Raises :class:`MissingTextError` naming the query / document ids that have no text.
        """
        if depth is not None and depth < 0:
            raise ValueError(f"depth must be >= 0 or None, got {depth}")
        ranked: dict[str, list[str]] = {}
        missing_q: list[str] = []
        missing_d: list[tuple[str, str]] = []
        q_texts: list[str] = []
        p_texts: list[str] = []
        owners: list[tuple[str, str]] = []
        for qid, docs in run.items():
            # sorted() is stable, so equal scores keep the run's (file) order.
            order = [d for d, _ in sorted(docs.items(), key=lambda kv: -kv[1])]
            ranked[qid] = order
            top = order if depth is None else order[:depth]
            if not top:
                continue
            if qid not in queries:
                missing_q.append(qid)
                continue
            for docid in top:
                text = corpus.get(docid)
                if text is None:
                    missing_d.append((qid, docid))
                    continue
                q_texts.append(queries[qid])
                p_texts.append(text)
                owners.append((qid, docid))
        if missing_q or missing_d:
            parts = []
            if missing_q:
                parts.append(f"{len(missing_q)} query id(s) without text: {', '.join(missing_q[:5])}")
            if missing_d:
                shown = ", ".join(f"{d} (query {q})" for q, d in missing_d[:5])
                parts.append(f"{len(missing_d)} document id(s) without text: {shown}")
            raise MissingTextError("; ".join(parts))

        scores = self.score_pairs(q_texts, p_texts)
        new_scores: dict[str, dict[str, float]] = {qid: {} for qid in ranked}
        for (qid, docid), score in zip(owners, scores.tolist()):
            new_scores[qid][docid] = score
        result: Run = {}
        for qid, order in ranked.items():
            top_scores = new_scores[qid]
            out = dict(sorted(top_scores.items(), key=lambda kv: -kv[1]))
            rest = [] if depth is None else order[depth:]
            floor = math.floor(min(top_scores.values())) if top_scores else 0.0
            for k, docid in enumerate(rest, start=1):
                out[docid] = float(floor - k)
            result[qid] = out
        return result

