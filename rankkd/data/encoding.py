"""(query, passage) pair encoding shared by training and inference.

Queries and passages are tokenized separately (no special tokens), cut to their own token budgets, and assembled with
the tokenizer's own special-token layout (:class:`PairTemplate`), so a long passage can never push the query out, as
joint truncation can, and every unique text is tokenized once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

_PROBE_A = "query probe text"
_PROBE_B = "passage probe text here"


@dataclass(frozen=True)
class PairTemplate:
    """Where the special tokens go around a (query, passage) pair, as produced by the tokenizer's post-processor.

    ``prefix`` / ``middle`` / ``suffix`` are the special-token ids before the query, between query and passage and
    after the passage; the ``*_types`` fields are their token type ids and ``query_type`` / ``passage_type`` the type
    ids of the query and passage tokens.
    """

    prefix: tuple[int, ...]
    middle: tuple[int, ...]
    suffix: tuple[int, ...]
    prefix_types: tuple[int, ...]
    middle_types: tuple[int, ...]
    suffix_types: tuple[int, ...]
    query_type: int
    passage_type: int

    @property
    def num_special(self) -> int:
        return len(self.prefix) + len(self.middle) + len(self.suffix)

    @classmethod
    def from_tokenizer(cls, tokenizer: Any) -> "PairTemplate":
        """Learn the layout by encoding one probe pair with special tokens and reading its sequence ids."""
        enc = tokenizer(
            [_PROBE_A], [_PROBE_B], add_special_tokens=True, truncation=False, padding=False,
            return_token_type_ids=True, return_attention_mask=False,
        )
        ids: list[int] = enc["input_ids"][0]
        types: list[int] = enc["token_type_ids"][0] if "token_type_ids" in enc else [0] * len(ids)
        seq_ids = enc.sequence_ids(0)
        plain_a = tokenizer(_PROBE_A, add_special_tokens=False)["input_ids"]
        plain_b = tokenizer(_PROBE_B, add_special_tokens=False)["input_ids"]
        pos_a = [i for i, s in enumerate(seq_ids) if s == 0]
        pos_b = [i for i, s in enumerate(seq_ids) if s == 1]
        # The layout must be "specials, A, specials, B, specials" with A and B copied verbatim; anything else (a
        # template that re-orders or rewrites the sequences) cannot be assembled from separately tokenized parts.
        contiguous = (
            pos_a and pos_b and pos_a == list(range(pos_a[0], pos_a[-1] + 1))
            and pos_b == list(range(pos_b[0], pos_b[-1] + 1)) and pos_a[-1] < pos_b[0]
        )
        if not contiguous or [ids[i] for i in pos_a] != plain_a or [ids[i] for i in pos_b] != plain_b:
            raise ValueError(
                f"cannot derive a pair template from {type(tokenizer).__name__}: encoding a pair does not give "
                "'specials + query + specials + passage + specials'"
            )
        a0, a1, b0, b1 = pos_a[0], pos_a[-1] + 1, pos_b[0], pos_b[-1] + 1
        return cls(
            prefix=tuple(ids[:a0]), middle=tuple(ids[a1:b0]), suffix=tuple(ids[b1:]),
            prefix_types=tuple(types[:a0]), middle_types=tuple(types[a1:b0]), suffix_types=tuple(types[b1:]),
            query_type=types[a0], passage_type=types[b0],
        )


class PairEncoder:
    """Tokenize (query, passage) pairs with separate query and passage token budgets.

    ``encode`` gives unpadded features (each distinct query tokenized once: a group shares its query across N
    passages); ``pad`` pads a list of features to its longest one on the tokenizer's padding side.
    """

    def __init__(self, tokenizer: Any, query_max_length: int = 32, passage_max_length: int = 224):
        if not getattr(tokenizer, "is_fast", False):
            raise TypeError(
                f"{type(tokenizer).__name__} is not a fast (Rust) tokenizer; load it with AutoTokenizer.from_pretrained"
            )
        if query_max_length < 1 or passage_max_length < 0:
            raise ValueError(
                f"query_max_length must be >= 1 and passage_max_length >= 0, got {query_max_length}, {passage_max_length}"
            )
        self.tokenizer = tokenizer
        self.query_max_length = query_max_length
        self.passage_max_length = passage_max_length
        self.template = PairTemplate.from_tokenizer(tokenizer)
        pad_id = tokenizer.pad_token_id
        if pad_id is None:
            pad_id = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
        self.pad_token_id = int(pad_id)
        self.padding_side = getattr(tokenizer, "padding_side", "right")
        self.uses_token_type_ids = "token_type_ids" in getattr(tokenizer, "model_input_names", ())

    def tokenize(self, texts: Sequence[str], max_length: int) -> list[list[int]]:
        """Token ids of each text, no special tokens, at most ``max_length`` each (one batched Rust call)."""
        if not texts:
            return []
        if max_length == 0:
            return [[] for _ in texts]
        return self.tokenizer(
            list(texts), add_special_tokens=False, truncation=True, max_length=max_length, padding=False,
            return_attention_mask=False, return_token_type_ids=False,
        )["input_ids"]

    def assemble(self, q_ids: list[int], p_ids: list[int]) -> tuple[list[int], list[int]]:
        """``(input_ids, token_type_ids)`` of one pair in the tokenizer's special-token layout."""
        t = self.template
        ids = [*t.prefix, *q_ids, *t.middle, *p_ids, *t.suffix]
        types = [
            *t.prefix_types, *([t.query_type] * len(q_ids)), *t.middle_types,
            *([t.passage_type] * len(p_ids)), *t.suffix_types,
        ]
        return ids, types

    def encode(self, queries: Sequence[str], passages: Sequence[str]) -> list[dict[str, list[int]]]:
        """Unpadded features (``input_ids``, ``token_type_ids``) of aligned queries and passages."""
        if len(queries) != len(passages):
            raise ValueError(f"got {len(queries)} queries but {len(passages)} passages; they must be aligned")
        unique_queries = list(dict.fromkeys(queries))
        query_ids = dict(zip(unique_queries, self.tokenize(unique_queries, self.query_max_length)))
        passage_ids = self.tokenize(passages, self.passage_max_length)
        features = []
        for query, p_ids in zip(queries, passage_ids):
            ids, types = self.assemble(query_ids[query], p_ids)
            features.append({"input_ids": ids, "token_type_ids": types})
        return features

    def pad(self, features: Sequence[dict[str, list[int]]], with_token_type_ids: bool = True) -> dict[str, torch.Tensor]:
        """Pad to the longest feature (dynamic padding) on the tokenizer's padding side."""
        length = max(len(f["input_ids"]) for f in features)
        input_ids = torch.full((len(features), length), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(features), length), dtype=torch.long)
        token_type_ids = torch.zeros((len(features), length), dtype=torch.long)
        for row, feature in enumerate(features):
            n = len(feature["input_ids"])
            span = slice(length - n, length) if self.padding_side == "left" else slice(0, n)
            input_ids[row, span] = torch.tensor(feature["input_ids"], dtype=torch.long)
            attention_mask[row, span] = 1
            token_type_ids[row, span] = torch.tensor(feature["token_type_ids"], dtype=torch.long)
        batch = {"input_ids": input_ids, "attention_mask": attention_mask}
        if with_token_type_ids:
            batch["token_type_ids"] = token_type_ids
        return batch

    def __call__(self, queries: Sequence[str], passages: Sequence[str]) -> dict[str, torch.Tensor]:
        return self.pad(self.encode(queries, passages), with_token_type_ids=self.uses_token_type_ids)
