"""Listwise LLM teacher: RankGPT sliding windows over a first-stage run, every window answer cached on disk.

The teacher is a :class:`~rankkd.listwise.inference.WindowRanker`, so the windows are planned and applied by the same
:func:`~rankkd.listwise.inference.sliding_window_rerank` used at inference time, with the same prompts
(:func:`~rankkd.listwise.prompts.render_prompt`) and the same repairing parser. Underneath, a backend produces the raw
answer text of a window:

* :class:`HFListwiseBackend` -- any causal LM loaded with transformers (generative, or FIRST single-token);
* :class:`~rankkd.teachers.openai_compat.OpenAIChatBackend` -- an OpenAI-compatible ``/chat/completions`` endpoint.

Each window's raw answer is cached under ``sha256(model id + exact prompt + generation settings)``; answers are parsed
on read, so a re-run after a crash replays finished windows from the cache (zero model calls) and computes only the
rest, and the sliding window -- deterministic given the answers -- ends in exactly the same orders.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Sequence

from rankkd.data.io import Run, ranked_docids
from rankkd.data.teacher import TeacherRecord
from rankkd.listwise.inference import Window, make_ranker, sliding_window_rerank
from rankkd.listwise.parsing import ParseResult, ParseSummary, parse_permutation
from rankkd.listwise.prompts import PromptConfig, format_permutation, render_prompt, user_message
from rankkd.teachers.cache import TeacherCache, cache_key, cached_map, sha256_text, stable_json

logger = logging.getLogger(__name__)


class ListwiseBackend(Protocol):
    """Produces the raw answer text of listwise windows; ``prompt`` is the exact model input (the cache key)."""

    model_id: str
    prompt_config: PromptConfig
    batch_size: int

    def prompt(self, query: str, passages: Sequence[str]) -> Any: ...

    def settings(self) -> dict[str, Any]: ...

    def template_hash(self) -> str: ...

    def generate(self, windows: Sequence[Window]) -> list[str]: ...


# PromptConfig fields added after teacher caches existed: at these values they leave every prompt as it was, so they
# stay out of the hash and the older caches remain valid.
_HASH_OMIT_AT = {"explain_after": False}


def prompt_template_hash(prompt_config: PromptConfig, chat_template: str | None = None) -> str:
    """sha256 of everything that shapes a prompt besides its content: prompt config, the user-turn wording (rendered
    for a fixed probe window) and the chat template. Changes whenever the prompt wording changes."""
    probe = user_message("<query>", ["<passage 1>", "<passage 2>"], prompt_config)
    config = {k: v for k, v in asdict(prompt_config).items() if k not in _HASH_OMIT_AT or v != _HASH_OMIT_AT[k]}
    return sha256_text(stable_json({"config": config, "probe": probe, "chat_template": chat_template}))


@dataclass
class HFListwiseBackend:
    """A transformers causal LM as a listwise teacher (``mode="generate"`` or ``"single-token"`` FIRST scoring).

    Generation is greedy unless ``do_sample``; with sampling the answers still never change after they are cached.
    """

    model: Any
    tokenizer: Any
    model_id: str
    prompt_config: PromptConfig = field(default_factory=PromptConfig)
    mode: str = "generate"
    max_new_tokens: int | None = None
    batch_size: int = 8
    do_sample: bool = False

    def __post_init__(self) -> None:
        kwargs: dict[str, Any] = {"prompt_config": self.prompt_config, "batch_size": self.batch_size}
        if self.mode == "generate":
            kwargs.update(max_new_tokens=self.max_new_tokens, do_sample=self.do_sample)
        self._ranker = make_ranker(self.model, self.tokenizer, self.mode, **kwargs)
        self._prefix = "" if self.mode == "generate" else "["

    def prompt(self, query: str, passages: Sequence[str]) -> str:
        return render_prompt(self.tokenizer, query, passages, self.prompt_config, assistant_prefix=self._prefix)

    def settings(self) -> dict[str, Any]:
        return {"backend": "transformers", "mode": self.mode, "max_new_tokens": self.max_new_tokens,
                "do_sample": self.do_sample}

    def template_hash(self) -> str:
        return prompt_template_hash(self.prompt_config, getattr(self.tokenizer, "chat_template", None))

    def generate(self, windows: Sequence[Window]) -> list[str]:
        results = self._ranker.rank(windows)
        if self.mode == "generate":
            return list(self._ranker.last_outputs)
        # single-token scores give an order directly; store it as the permutation text it stands for
        return [format_permutation(r.order, self.prompt_config.identifiers) for r in results]


class DocText(str):
    """A passage text that remembers its docid, so the teacher can log windows by docid.

    ``sliding_window_rerank`` hands rankers only ``(query, texts)``; carrying the ids on the strings lets the teacher
    write window records without re-implementing the sliding window.
    """

    docid: str

    def __new__(cls, text: str, docid: str) -> "DocText":
        obj = super().__new__(cls, text)
        obj.docid = docid
        return obj


class QueryText(str):
    """A query text that remembers its qid (see :class:`DocText`)."""

    qid: str

    def __new__(cls, text: str, qid: str) -> "QueryText":
        obj = super().__new__(cls, text)
        obj.qid = qid
        return obj


@dataclass
class ListwiseTeacher:
    """A cached :class:`~rankkd.listwise.inference.WindowRanker` over a :class:`ListwiseBackend`.

    ``window_records`` collects one :class:`TeacherRecord` per ranked window whose texts carry ids
    (:class:`DocText` / :class:`QueryText`, as :func:`annotate_run` passes them): candidates in the order shown,
    docids in teacher order, the raw answer as ``rationale`` when the prompt asks for reasoning.
    """

    backend: ListwiseBackend
    cache: TeacherCache | None = None
    window_records: list[TeacherRecord] = field(default_factory=list)
    progress: Any = None  # a tqdm bar counting windows, set by annotate_run
    _window_index: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def model_id(self) -> str:
        return self.backend.model_id

    def key(self, query: str, passages: Sequence[str]) -> str:
        return cache_key(self.backend.model_id, self.backend.prompt(query, passages), self.backend.settings())

    def answers(self, windows: Sequence[Window]) -> list[str]:
        """Raw answer texts of ``windows`` (cached ones reused, the rest generated and committed batch by batch)."""
        keys = [self.key(q, p) for q, p in windows]
        progress = self.progress.update if self.progress is not None else None
        return cached_map(self.cache, keys, self.backend.model_id,
                          lambda idx: self.backend.generate([windows[i] for i in idx]),
                          batch_size=self.backend.batch_size, progress=progress)

    def rank(self, windows: Sequence[Window]) -> list[ParseResult]:
        style = self.backend.prompt_config.identifiers
        texts = self.answers(windows)
        results = [parse_permutation(text, len(p), style) for (_, p), text in zip(windows, texts)]
        for (query, passages), text, result in zip(windows, texts, results):
            self._log(query, passages, text, result)
        return results

    def reset_log(self) -> None:
        self.window_records = []
        self._window_index = {}

    def _log(self, query: str, passages: Sequence[str], text: str, result: ParseResult) -> None:
        if not isinstance(query, QueryText) or not all(isinstance(p, DocText) for p in passages):
            return
        candidates = [p.docid for p in passages]
        index = self._window_index.get(query.qid, 0)
        self._window_index[query.qid] = index + 1
        self.window_records.append(TeacherRecord(
            qid=query.qid, query=str(query), docids=[candidates[i] for i in result.order], candidates=candidates,
            window=index, rationale=text if self.backend.prompt_config.reasoning else None,
            teacher=self.backend.model_id, source="rankkd.teachers.listwise",
            extra={"permutation_repaired": not result.complete_without_repair, "parse_failed": result.failed},
        ))


@dataclass
class ListwiseAnnotation:
    """The output of :func:`annotate_run`: one full ranking per query, the window log, and provenance."""

    records: list[TeacherRecord]
    windows: list[TeacherRecord]
    summary: ParseSummary
    provenance: dict[str, Any]


def annotate_run(
    run: Run,
    queries: dict[str, str],
    corpus: dict[str, str],
    teacher: ListwiseTeacher,
    *,
    depth: int = 20,
    window: int = 20,
    stride: int = 10,
    passes: int = 1,
    queries_per_chunk: int = 16,
    run_name: str | None = None,
    seed: int = 0,
    progress: bool = True,
) -> ListwiseAnnotation:
    """Re-rank the top-``depth`` of every query of ``run`` with the teacher's sliding windows.

    Returns one :class:`TeacherRecord` per query (``candidates`` = first-stage top-``depth`` order, ``docids`` =
    teacher order), every window as a record, the parse/repair summary and a provenance dict (teacher, template
    hash, first-stage run, window, stride, passes, seed, parse failures, repairs, cache hits/computed, seconds).
    """
    import torch
    from tqdm.auto import tqdm

    from rankkd.listwise.inference import window_plan

    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    missing = [qid for qid in run if qid not in queries]
    if missing:
        raise KeyError(f"{len(missing)} run queries have no text, e.g. {missing[:3]}")
    torch.manual_seed(seed)  # only matters for sampling teachers; greedy decoding ignores it
    started = time.perf_counter()
    hits0 = teacher.cache.stats.hits if teacher.cache is not None else 0
    computed0 = teacher.cache.stats.computed if teacher.cache is not None else 0
    items = []
    for qid, scores in run.items():
        top = ranked_docids(scores)[:depth]
        absent = [d for d in top if d not in corpus]
        if absent:
            raise KeyError(f"query {qid!r}: {len(absent)} candidates have no text in the corpus, e.g. {absent[:3]}")
        items.append((qid, QueryText(queries[qid], qid), top))
    n_windows = sum(len(window_plan(len(top), window, stride)) * passes for _, _, top in items)
    teacher.reset_log()
    summary = ParseSummary()
    orders: dict[str, list[str]] = {}
    bar = tqdm(total=n_windows, desc="teacher windows", unit="window", disable=not progress)
    teacher.progress = bar
    try:
        for offset in range(0, len(items), queries_per_chunk):
            chunk = items[offset:offset + queries_per_chunk]
            texts = {d: DocText(corpus[d], d) for _, _, top in chunk for d in top}
            orders.update(sliding_window_rerank(chunk, texts, teacher, window=window, stride=stride, passes=passes,
                                                batch_size=teacher.backend.batch_size, summary=summary))
    finally:
        teacher.progress = None
        bar.close()
    records = [TeacherRecord(qid=qid, query=str(query), docids=orders[qid], candidates=list(top),
                             source="rankkd.teachers.listwise", teacher=teacher.model_id, run=run_name)
               for qid, query, top in items]
    repairs = summary.to_repair_report("teacher answers")
    provenance = {
        "teacher": teacher.model_id,
        "teacher_settings": teacher.backend.settings(),
        "prompt_config": asdict(teacher.backend.prompt_config),
        "template_hash": teacher.backend.template_hash(),
        "first_stage_run": run_name,
        "depth": depth, "window": window, "stride": stride, "passes": passes, "seed": seed,
        "queries": len(items), "windows": summary.n,
        "parse_failures": summary.failed, "windows_repaired": summary.n - summary.complete_without_repair,
        "repairs": dict(repairs.counts),
        "cache": {"hits": (teacher.cache.stats.hits - hits0) if teacher.cache is not None else 0,
                  "computed": (teacher.cache.stats.computed - computed0) if teacher.cache is not None else summary.n},
        "seconds": round(time.perf_counter() - started, 3),
    }
    if summary.n:
        logger.info("teacher parse: %s", summary.summary())
    return ListwiseAnnotation(records=records, windows=list(teacher.window_records), summary=summary,
                              provenance=provenance)


def load_listwise_teacher(
    spec: str,
    *,
    cache: TeacherCache | str | None = None,
    prompt_config: PromptConfig | None = None,
    mode: str = "generate",
    batch_size: int = 8,
    max_new_tokens: int | None = None,
    do_sample: bool = False,
    dtype: Any = "auto",
    endpoint_model: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    tokenizer: Any = None,
    model_id: str | None = None,
) -> ListwiseTeacher:
    """A listwise teacher from ``spec``: an ``http(s)://`` URL -> OpenAI-compatible endpoint (``endpoint_model``
    names the served model; the key is read from ``$api_key_env``), anything else -> :func:`load_causal_lm`
    (folder, Hub id, ``smollm2`` alias, ``.gguf`` file)."""
    config = prompt_config or PromptConfig()
    if isinstance(cache, (str, bytes)) or hasattr(cache, "__fspath__"):
        cache = TeacherCache(cache)
    if spec.startswith(("http://", "https://")):
        from rankkd.teachers.openai_compat import OpenAIChatBackend

        if not endpoint_model:
            raise ValueError("an endpoint teacher needs endpoint_model (the model name the server serves)")
        backend: ListwiseBackend = OpenAIChatBackend(
            base_url=spec, model=endpoint_model, model_id=model_id, prompt_config=config, tokenizer=tokenizer,
            api_key_env=api_key_env, max_tokens=max_new_tokens, batch_size=batch_size)
    else:
        from rankkd.models.llm import load_causal_lm

        model, tok = load_causal_lm(spec, dtype=dtype)
        backend = HFListwiseBackend(model, tok, model_id=model_id or _model_id(spec), prompt_config=config, mode=mode,
                                    max_new_tokens=max_new_tokens, batch_size=batch_size, do_sample=do_sample)
    return ListwiseTeacher(backend=backend, cache=cache)



def _model_id(spec: str) -> str:
    """The teacher id in cache keys: the spec itself (Hub id, alias), or the absolute path of a local folder/file.

    Two different local models never share answers this way; moving a folder only costs recomputation.
    """
    from pathlib import Path

    path = Path(spec)
    return str(path.resolve()) if path.exists() else spec
