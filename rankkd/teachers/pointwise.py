"""Pointwise teacher scores, cached per (query, passage) pair.

* :class:`CrossEncoderTeacher` -- a sequence classifier through :class:`~rankkd.inference.pointwise.PointwiseReranker`
  (monoBERT/monoELECTRA, or a decoder LLM with a score head such as RankLLaMA);
* :class:`YesNoTeacher` -- an LLM's relevance judgement ``logit(yes) - logit(no)`` after the prompt
  ``Query: ... Document: ... Relevant:`` (monoT5 with ``true``/``false`` for encoder-decoders; a causal LM otherwise).

:func:`score_run` re-scores the top-``depth`` of a run; every pair's score is cached (see :mod:`rankkd.teachers.cache`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from rankkd.data.io import Run, ranked_docids
from rankkd.teachers.cache import TeacherCache, cache_key, cached_map, sha256_text, stable_json

MONOT5_TEMPLATE = "Query: {query} Document: {document} Relevant:"


class PointwiseTeacher:
    """Base: subclasses define ``model_id``, ``batch_size``, ``settings()``, ``pair_prompt()`` and ``_score()``."""

    model_id: str
    batch_size: int
    cache: TeacherCache | None

    def settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def pair_prompt(self, query: str, passage: str) -> Any:
        """The exact model input of a pair (its cache key material)."""
        raise NotImplementedError

    def _score(self, queries: Sequence[str], passages: Sequence[str]) -> list[float]:
        raise NotImplementedError

    def template_hash(self) -> str:
        return sha256_text(stable_json({"probe": self.pair_prompt("<query>", "<passage>"),
                                        "settings": self.settings()}))

    def score(self, queries: Sequence[str], passages: Sequence[str], progress: Any = None) -> np.ndarray:
        """One float per ``(query, passage)`` pair; cached pairs are not recomputed."""
        if len(queries) != len(passages):
            raise ValueError(f"got {len(queries)} queries but {len(passages)} passages; they are scored pairwise")
        settings = self.settings()
        keys = [cache_key(self.model_id, self.pair_prompt(q, p), settings) for q, p in zip(queries, passages)]
        values = cached_map(self.cache, keys, self.model_id,
                            lambda idx: [float(s) for s in self._score([queries[i] for i in idx],
                                                                       [passages[i] for i in idx])],
                            batch_size=self.batch_size, progress=progress)
        return np.asarray(values, dtype=np.float64)


class CrossEncoderTeacher(PointwiseTeacher):
    """A :class:`~rankkd.inference.pointwise.PointwiseReranker` as a cached teacher."""

    def __init__(self, reranker: Any, model_id: str, *, cache: TeacherCache | None = None,
                 batch_size: int | None = None) -> None:
        self.reranker = reranker
        self.model_id = model_id
        self.cache = cache
        self.batch_size = batch_size or reranker.batch_size
        reranker.show_progress = False  # the teacher's own bar counts pairs

    @classmethod
    def from_pretrained(cls, path_or_id: str, *, cache: TeacherCache | None = None, **kwargs: Any
                        ) -> "CrossEncoderTeacher":
        from rankkd.inference.pointwise import PointwiseReranker

        return cls(PointwiseReranker.from_pretrained(path_or_id, **kwargs), str(path_or_id), cache=cache)

    def settings(self) -> dict[str, Any]:
        r = self.reranker
        return {"kind": "cross-encoder", "query_max_length": r.query_max_length,
                "passage_max_length": r.passage_max_length, "positive_label": r.positive_label}

    def pair_prompt(self, query: str, passage: str) -> Any:
        return {"query": query, "passage": passage}

    def _score(self, queries: Sequence[str], passages: Sequence[str]) -> list[float]:
        return self.reranker.score_pairs(list(queries), list(passages)).tolist()


@dataclass
class YesNoTeacher(PointwiseTeacher):
    """Score = ``logit(yes) - logit(no)`` of the first answer token (monoT5 / RankLLaMA-style prompting).

    Works with causal LMs (last position of the left-padded prompt) and encoder-decoders (first decoder step, monoT5
    with ``yes_token="true"``, ``no_token="false"``). Query and passage are truncated by tokens before filling
    ``template``; ``use_chat_template`` wraps the filled template as a user turn (instruction-tuned LMs).
    """

    model: Any
    tokenizer: Any
    model_id: str
    template: str = MONOT5_TEMPLATE
    yes_token: str = " yes"
    no_token: str = " no"
    use_chat_template: bool = False
    max_query_tokens: int = 64
    max_passage_tokens: int = 256
    batch_size: int = 16
    cache: TeacherCache | None = None
    _ids: tuple[int, int] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if "{query}" not in self.template or "{document}" not in self.template:
            raise ValueError(f"template must contain {{query}} and {{document}}, got {self.template!r}")
        ids = []
        for word in (self.yes_token, self.no_token):
            tokens = self.tokenizer(word, add_special_tokens=False)["input_ids"]
            if len(tokens) != 1:
                raise ValueError(f"{word!r} is {len(tokens)} tokens for this tokenizer "
                                 f"({self.tokenizer.convert_ids_to_tokens(tokens)}); pick single-token answers")
            ids.append(tokens[0])
        if ids[0] == ids[1]:
            raise ValueError(f"{self.yes_token!r} and {self.no_token!r} map to the same token")
        self._ids = (ids[0], ids[1])
        self.encoder_decoder = bool(getattr(self.model.config, "is_encoder_decoder", False))

    def settings(self) -> dict[str, Any]:
        return {"kind": "yes-no", "yes": self.yes_token, "no": self.no_token, "chat": self.use_chat_template}

    def pair_prompt(self, query: str, passage: str) -> str:
        from rankkd.listwise.prompts import truncate_by_tokens

        (query,) = truncate_by_tokens(self.tokenizer, [" ".join(query.split())], self.max_query_tokens)
        (passage,) = truncate_by_tokens(self.tokenizer, [" ".join(passage.split())], self.max_passage_tokens)
        text = self.template.format(query=query, document=passage)
        if self.use_chat_template and not self.encoder_decoder:
            text = self.tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                                      add_generation_prompt=True)
        return text

    def _score(self, queries: Sequence[str], passages: Sequence[str]) -> list[float]:
        import torch

        prompts = [self.pair_prompt(q, p) for q, p in zip(queries, passages)]
        yes, no = self._ids
        if self.encoder_decoder:
            enc = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.model.device)
            start = self.model.config.decoder_start_token_id
            decoder = torch.full((len(prompts), 1), start, dtype=torch.long, device=self.model.device)
            with torch.inference_mode():
                logits = self.model(**enc, decoder_input_ids=decoder).logits[:, -1, :].float()
        else:
            self.tokenizer.padding_side = "left"  # the next-token logits of every row sit at the last position
            if self.tokenizer.pad_token_id is None:
                self.tokenizer.pad_token = self.tokenizer.eos_token
            # chat-rendered prompts already contain their special tokens
            enc = self.tokenizer(prompts, return_tensors="pt", padding=True,
                                 add_special_tokens=not self.use_chat_template).to(self.model.device)
            with torch.inference_mode():
                logits = self.model(**enc, logits_to_keep=1).logits[:, -1, :].float()
        return (logits[:, yes] - logits[:, no]).tolist()


@dataclass
class PointwiseScores:
    """Teacher scores of a run's top-``depth``: ``{qid: {docid: score}}`` in first-stage order, plus provenance."""

    scores: Run
    provenance: dict[str, Any]


def score_run(run: Run, queries: Mapping[str, str], corpus: Mapping[str, str], teacher: PointwiseTeacher, *,
              depth: int = 100, run_name: str | None = None, progress: bool = True) -> PointwiseScores:
    """Teacher scores of the top-``depth`` candidates of each query (keys keep the first-stage order)."""
    from tqdm.auto import tqdm

    started = time.perf_counter()
    owners: list[tuple[str, str]] = []
    q_texts: list[str] = []
    p_texts: list[str] = []
    for qid, docs in run.items():
        if qid not in queries:
            raise KeyError(f"query {qid!r} of the run has no text")
        for docid in ranked_docids(docs)[:depth]:
            if docid not in corpus:
                raise KeyError(f"docid {docid!r} (query {qid!r}) has no text in the corpus")
            owners.append((qid, docid))
            q_texts.append(queries[qid])
            p_texts.append(corpus[docid])
    hits0 = teacher.cache.stats.hits if teacher.cache is not None else 0
    computed0 = teacher.cache.stats.computed if teacher.cache is not None else 0
    with tqdm(total=len(owners), desc="teacher pairs", unit="pair", disable=not progress) as bar:
        values = teacher.score(q_texts, p_texts, progress=bar.update)
    out: Run = {qid: {} for qid in run}
    for (qid, docid), value in zip(owners, values.tolist()):
        out[qid][docid] = float(value)
    provenance = {"teacher": teacher.model_id, "teacher_settings": teacher.settings(),
                  "template_hash": teacher.template_hash(), "first_stage_run": run_name, "depth": depth,
                  "pairs": len(owners),
                  "cache": {"hits": (teacher.cache.stats.hits - hits0) if teacher.cache is not None else 0,
                            "computed": (teacher.cache.stats.computed - computed0) if teacher.cache is not None
                            else len(owners)},
                  "seconds": round(time.perf_counter() - started, 3)}
    return PointwiseScores(scores=out, provenance=provenance)
