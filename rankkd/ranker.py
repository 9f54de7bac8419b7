"""``load_ranker``: one call for any model rankkd trains — pointwise or listwise, merged or a LoRA adapter."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

POINTWISE, LISTWISE = "pointwise", "listwise"


def _read_json(path_or_id: str | os.PathLike, filename: str) -> dict | None:
    """A JSON file from a local folder or a Hub repo (None when the repo has no such file)."""
    local = Path(path_or_id) / filename
    if local.is_file():
        return json.loads(local.read_text(encoding="utf-8"))
    if Path(path_or_id).exists():
        return None
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    try:
        return json.loads(Path(hf_hub_download(str(path_or_id), filename)).read_text(encoding="utf-8"))
    except EntryNotFoundError:
        return None


def ranker_kind(path_or_id: str | os.PathLike) -> str:
    """``"pointwise"`` for sequence classifiers (and SEQ_CLS adapters), ``"listwise"`` for causal LMs."""
    adapter = _read_json(path_or_id, "adapter_config.json")
    if adapter is not None:
        task = str(adapter.get("task_type") or "")
        if task == "SEQ_CLS":
            return POINTWISE
        if task == "CAUSAL_LM":
            return LISTWISE
        base = adapter.get("base_model_name_or_path")
        if not base:
            raise ValueError(f"{path_or_id}: adapter_config.json has neither task_type nor base_model_name_or_path")
        return ranker_kind(base)
    config = _read_json(path_or_id, "config.json")
    if config is None:
        raise ValueError(f"{path_or_id}: no config.json or adapter_config.json; not a transformers model folder")
    architectures = config.get("architectures") or []
    if any(a.endswith("ForSequenceClassification") for a in architectures):
        return POINTWISE
    if any(a.endswith(("ForCausalLM", "ForConditionalGeneration")) for a in architectures):
        return LISTWISE
    raise ValueError(
        f"{path_or_id}: architectures {architectures} are neither a sequence classifier (pointwise re-ranker) nor a "
        "causal LM (listwise re-ranker)"
    )


@dataclass
class ListwiseReranker:
    """A causal-LM listwise re-ranker with the same ``rerank(run, queries, corpus, depth=...)`` call as the pointwise one."""

    model: Any
    tokenizer: Any
    mode: str = "generate"
    window: int = 20
    stride: int = 10
    batch_size: int = 8
    ranker_kwargs: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        from rankkd.listwise.inference import make_ranker

        self.ranker = make_ranker(self.model, self.tokenizer, self.mode, **self.ranker_kwargs)

    def rerank(self, run, queries, corpus, *, depth: int = 20, checkpoint: str | None = None):
        from rankkd.listwise.inference import rerank_run

        return rerank_run(run, queries, corpus, self.ranker, depth=depth, window=self.window, stride=self.stride,
                          batch_size=self.batch_size, checkpoint=checkpoint)


def load_ranker(path_or_id: str | os.PathLike, *, kind: str = "auto", trust_remote_code: bool = False,
                **kwargs: Any):
    """Load a trained re-ranker: a folder or Hub id, merged weights or a LoRA adapter (on its base).

    Pointwise models come back as :class:`~rankkd.inference.PointwiseReranker` (``score_pairs``, ``rerank``),
    causal LMs as :class:`ListwiseReranker` (``rerank`` with sliding windows; ``mode="single-token"`` for FIRST-style
    ranking). ``kwargs`` go to the reranker (batch size, max lengths, window, ...).
    """
    kind = ranker_kind(path_or_id) if kind == "auto" else kind
    if kind == POINTWISE:
        from rankkd.inference import PointwiseReranker

        return PointwiseReranker.from_pretrained(path_or_id, trust_remote_code=trust_remote_code, **kwargs)
    if kind == LISTWISE:
        from rankkd.models.llm import load_causal_lm

        model, tokenizer = load_causal_lm(path_or_id, trust_remote_code=trust_remote_code)
        return ListwiseReranker(model, tokenizer, **kwargs)
    raise ValueError(f"kind must be 'auto', 'pointwise' or 'listwise', got {kind!r}")
