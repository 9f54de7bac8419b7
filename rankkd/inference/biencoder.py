"""Re-ranking with a bi-encoder (mean-pooled, normalised embeddings; cosine similarity), e.g. MiniLM-L6.

A bi-encoder encodes each query and each passage once, independently, so re-ranking a top-100 costs 100 passage
encodings per query at most (shared passages are encoded once for the whole run) instead of 100 joint passes. It is
rankkd's zero-shot baseline student: the sentence-transformers MiniLM weights already rank MS MARCO passages well
as a bi-encoder, knowledge a freshly initialised cross-encoder head would throw away.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rankkd.inference.pointwise import MissingTextError, Run

logger = logging.getLogger(__name__)


class BiEncoderReranker:
    """Score (query, passage) pairs by the cosine of their mean-pooled embeddings and re-rank runs.

    Args:
        model: an ``AutoModel`` encoder (BERT, MiniLM, ...).
        tokenizer: its fast tokenizer.
        batch_size: texts per forward pass (texts are length-sorted first).
        query_max_length / passage_max_length: token budgets (special tokens included).
        dtype: ``None`` keeps the model's dtype, else ``"auto"``, ``"bfloat16"``, ``"float32"``.
        show_progress: tqdm bar over texts.
    """

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 64, query_max_length: int = 32,
                 passage_max_length: int = 256, dtype: Any = None, show_progress: bool = True) -> None:
        if dtype is not None:
            from rankkd.models.loading import resolve_dtype

            model = model.to(resolve_dtype(dtype))
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.query_max_length = query_max_length
        self.passage_max_length = passage_max_length
        self.show_progress = show_progress

    @classmethod
    def from_pretrained(cls, path_or_id: str | os.PathLike, *, dtype: Any = "auto", trust_remote_code: bool = False,
                        **kwargs: Any) -> "BiEncoderReranker":
        from transformers import AutoModel, AutoTokenizer

        from rankkd.models.loading import resolve_dtype

        model = AutoModel.from_pretrained(path_or_id, dtype=resolve_dtype(dtype), trust_remote_code=trust_remote_code)
        tokenizer = AutoTokenizer.from_pretrained(path_or_id, trust_remote_code=trust_remote_code)
        return cls(model, tokenizer, **kwargs)

    def encode(self, texts: Sequence[str], max_length: int) -> np.ndarray:
        """L2-normalised mean-pooled embeddings (float32), in input order."""
        import torch
        from tqdm.auto import tqdm

        encoded = self.tokenizer(list(texts), truncation=True, max_length=max_length, padding=False)["input_ids"]
        order = np.argsort([-len(ids) for ids in encoded], kind="stable")
        out = np.empty((len(texts), self.model.config.hidden_size), dtype=np.float32)
        pad = self.tokenizer.pad_token_id or 0
        with torch.inference_mode(), tqdm(total=len(texts), unit="text", desc="encoding",
                                          disable=not self.show_progress, leave=False) as bar:
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                width = max(len(encoded[i]) for i in idx)
                ids = torch.full((len(idx), width), pad, dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for row, i in enumerate(idx):
                    ids[row, : len(encoded[i])] = torch.tensor(encoded[i])
                    mask[row, : len(encoded[i])] = 1
                hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
                pooled = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
                out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
                bar.update(len(idx))
        return out

    def score_pairs(self, queries: Sequence[str], passages: Sequence[str]) -> np.ndarray:
        """Cosine similarity of each (query, passage) pair; every distinct text is encoded once."""
        if len(queries) != len(passages):
            raise ValueError(f"got {len(queries)} queries but {len(passages)} passages; they are scored pairwise")
        unique_q, unique_p = list(dict.fromkeys(queries)), list(dict.fromkeys(passages))
        q_emb = dict(zip(unique_q, self.encode(unique_q, self.query_max_length)))
        p_emb = dict(zip(unique_p, self.encode(unique_p, self.passage_max_length)))
        return np.array([float(q_emb[q] @ p_emb[p]) for q, p in zip(queries, passages)], dtype=np.float32)

    def rerank(self, run: Mapping[str, Mapping[str, float]], queries: Mapping[str, str], corpus: Mapping[str, str],
               *, depth: int | None = 100) -> Run:
        """Re-score the top-``depth`` of each query; documents below keep their order beneath the re-ranked ones."""
        from rankkd.data.io import ranked_docids

        heads, pairs_q, pairs_p, keys = {}, [], [], []
        for qid, scores in run.items():
            if qid not in queries:
                raise MissingTextError(f"query {qid!r} of the run has no text in the queries")
            ranked = ranked_docids(scores)
            head = ranked if depth is None else ranked[:depth]
            heads[qid] = (head, ranked[len(head):])
            for docid in head:
                if docid not in corpus:
                    raise MissingTextError(f"document {docid!r} (query {qid!r}) has no text in the corpus")
                pairs_q.append(queries[qid])
                pairs_p.append(corpus[docid])
                keys.append((qid, docid))
        scores = self.score_pairs(pairs_q, pairs_p)
        out: Run = {qid: {} for qid in heads}
        for (qid, docid), score in zip(keys, scores):
            out[qid][docid] = float(score)
        for qid, (head, tail) in heads.items():
            floor = min(out[qid].values(), default=0.0)
            for rank, docid in enumerate(tail, start=1):
                out[qid][docid] = floor - rank  # below every re-ranked document, first-stage order kept
        return out
