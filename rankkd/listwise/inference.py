"""Listwise re-ranking with an LLM: sliding windows over the top-k, many queries' windows batched together.

Two window rankers share one interface (``rank(windows) -> list[ParseResult]``, a window = ``(query, passages)``):

* :class:`GenerativeRanker` renders the prompt, generates (greedy by default, left padding) and parses the answer;
* :class:`SingleTokenRanker` (FIRST) runs one forward pass on ``prompt + "["`` and orders the passages by the logit
  of their identifier's token -- no decoding of the rest. It needs every identifier to be one token after ``[``:
  SmolLM2 splits ``[12]`` into ``[ 1 2 ]``, so with windows over 9 passages use ``identifiers="letter"``.

Sliding window (RankGPT): windows of ``window`` passages from the bottom of the top-``depth`` list up, moving by
``stride``, so strong passages bubble to the top; ``passes`` repeats the sweep. The windows of one query depend on each
other, those of different queries do not, so step ``t`` of every query in a chunk is ranked in one batch.

Resume: each finished query is appended to a JSONL checkpoint (one ``write`` + fsync per line); a torn last line from
a crash is cut off on the next start (and counted), and finished queries are skipped.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from rankkd.data.errors import RepairReport
from rankkd.listwise.parsing import ParseResult, ParseSummary, parse_permutation
from rankkd.listwise.prompts import PromptConfig, identifier, render_prompt

logger = logging.getLogger(__name__)

Run = dict[str, dict[str, float]]
Window = tuple[str, Sequence[str]]


class WindowRanker(Protocol):
    """Ranks a batch of windows; returns one :class:`ParseResult` (order over the window's passages) per window."""

    def rank(self, windows: Sequence[Window]) -> list[ParseResult]: ...


def window_plan(n: int, window: int = 20, stride: int = 10) -> list[tuple[int, int]]:
    """``(start, end)`` of the windows of one RankGPT sweep over ``n`` candidates, bottom first.

    E.g. ``n=30, window=20, stride=10`` -> ``[(10, 30), (0, 20)]``; ``n=7, window=4, stride=2`` ->
    ``[(3, 7), (1, 5), (0, 4)]`` (the top window is always full); a list no longer than the window is one window.
    """
    if window < 1 or stride < 1:
        raise ValueError(f"window and stride must be >= 1, got {window}, {stride}")
    if stride > window:
        raise ValueError(f"stride {stride} > window {window} would leave passages unranked")
    if n <= 0:
        return []
    plan = []
    end = n
    while True:
        if end - window <= 0:
            # the last window is a full one at the top (RankGPT's loop would stop short of position 0)
            plan.append((0, min(window, n)))
            return plan
        plan.append((end - window, end))
        end -= stride


@dataclass
class QueryState:
    """The evolving order of one query's candidates while its windows are ranked."""

    qid: str
    query: str
    docids: list[str]
    texts: dict[str, str]
    steps: list[tuple[int, int]]
    step: int = 0

    @property
    def done(self) -> bool:
        return self.step >= len(self.steps)

    def current_window(self) -> Window:
        start, end = self.steps[self.step]
        return self.query, [self.texts[d] for d in self.docids[start:end]]

    def apply(self, order: Sequence[int]) -> None:
        start, end = self.steps[self.step]
        segment = self.docids[start:end]
        self.docids[start:end] = [segment[i] for i in order]
        self.step += 1


def sliding_window_rerank(
    items: Sequence[tuple[str, str, list[str]]],
    texts: dict[str, str],
    ranker: WindowRanker,
    *,
    window: int = 20,
    stride: int = 10,
    passes: int = 1,
    batch_size: int = 16,
    summary: ParseSummary | None = None,
) -> dict[str, list[str]]:
    """Re-order ``[(qid, query, docids), ...]`` with sliding windows; windows of all items batched by step.

    Returns ``{qid: new order of docids}``; parse outcomes of every window are added to ``summary``.
    """
    if passes < 1:
        raise ValueError(f"passes must be >= 1, got {passes}")
    states = [QueryState(qid, query, list(docids), texts, window_plan(len(docids), window, stride) * passes)
              for qid, query, docids in items]
    while True:
        active = [s for s in states if not s.done]
        if not active:
            break
        for offset in range(0, len(active), batch_size):
            chunk = active[offset:offset + batch_size]
            results = ranker.rank([s.current_window() for s in chunk])
            for state, result in zip(chunk, results):
                if summary is not None:
                    summary.add(result)
                state.apply(result.order)
    return {s.qid: s.docids for s in states}


# ------------------------------------------------------------------------------------------------------ rankers
def _batches(seq: Sequence, size: int):
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


@dataclass
class GenerativeRanker:
    """Generate the permutation (greedy unless ``do_sample``) and parse it; texts kept in ``last_outputs``.

    ``stop_after_ranking`` (only with an ``explain_after`` prompt, where the ranking is the first line) stops each
    answer at the end of its ranking line: the explaining student ranks without writing its explanation.
    ``generated_tokens`` counts the answer tokens generated so far (up to, not including, the end token).
    """

    model: Any
    tokenizer: Any
    prompt_config: PromptConfig = field(default_factory=PromptConfig)
    max_new_tokens: int | None = None
    batch_size: int = 8
    do_sample: bool = False
    stop_after_ranking: bool = False
    last_outputs: list[str] = field(default_factory=list)
    generated_tokens: int = 0

    def __post_init__(self) -> None:
        if self.stop_after_ranking and not self.prompt_config.explain_after:
            raise ValueError("stop_after_ranking needs a prompt whose answer starts with the ranking "
                             "(PromptConfig(reasoning=True, explain_after=True))")

    def _budget(self, n: int) -> int:
        # "[12] > " is ~6 tokens per passage with digit-splitting tokenizers; reasoning needs a fixed extra budget
        per = 6 if self.prompt_config.identifiers == "number" else 5
        extra = 256 if self.prompt_config.reasoning and not self.stop_after_ranking else 8
        return self.max_new_tokens or per * n + extra

    def rank(self, windows: Sequence[Window]) -> list[ParseResult]:
        import torch

        results: list[ParseResult] = []
        self.last_outputs = []
        self.tokenizer.padding_side = "left"
        for batch in _batches(list(windows), self.batch_size):
            prompts = [render_prompt(self.tokenizer, q, p, self.prompt_config) for q, p in batch]
            enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
            enc = enc.to(self.model.device)
            max_new = max(self._budget(len(p)) for _, p in batch)
            stop = {"stop_strings": ["\n"], "tokenizer": self.tokenizer} if self.stop_after_ranking else {}
            with torch.inference_mode():
                out = self.model.generate(**enc, max_new_tokens=max_new, do_sample=self.do_sample,
                                          pad_token_id=self.tokenizer.pad_token_id, **stop)
            new = out[:, enc["input_ids"].shape[1]:]
            self.generated_tokens += int((new != self.tokenizer.pad_token_id).sum())
            texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
            for (_, passages), text in zip(batch, texts):
                self.last_outputs.append(text)
                results.append(parse_permutation(text, len(passages), self.prompt_config.identifiers))
        return results


def identifier_token_ids(tokenizer: Any, n: int, style: str = "number", prefix: str = "[") -> list[int]:
    """The token id of each of the first ``n`` identifiers as it follows ``prefix`` (FIRST's single-token scores).

    Raises ValueError when an identifier is not exactly one token after ``prefix`` or two identifiers share a token.
    """
    base = tokenizer(prefix, add_special_tokens=False)["input_ids"]
    ids = []
    for i in range(n):
        label = identifier(i, style)
        tokens = tokenizer(prefix + label, add_special_tokens=False)["input_ids"]
        if tokens[:len(base)] != base or len(tokens) != len(base) + 1:
            raise ValueError(f"identifier {label!r} is not a single token after {prefix!r} for this tokenizer "
                             f"({tokenizer.convert_ids_to_tokens(tokens)}); use identifiers='letter' or a window "
                             f"of at most 9 passages")
        ids.append(tokens[-1])
    if len(set(ids)) != n:
        raise ValueError(f"identifiers share tokens: {ids}")
    return ids


@dataclass
class SingleTokenRanker:
    """FIRST: order a window by the first-identifier logits after ``prompt + "["`` (one forward pass, no decoding)."""

    model: Any
    tokenizer: Any
    prompt_config: PromptConfig = field(default_factory=PromptConfig)
    batch_size: int = 8
    _token_cache: dict[int, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.prompt_config.reasoning and not self.prompt_config.explain_after:
            raise ValueError("single-token ranking reads the first answer token, but this prompt asks for reasoning "
                             "before the ranking; use reasoning=False or explain_after=True")

    def _ids(self, n: int) -> list[int]:
        if n not in self._token_cache:
            self._token_cache[n] = identifier_token_ids(self.tokenizer, n, self.prompt_config.identifiers)
        return self._token_cache[n]

    def rank(self, windows: Sequence[Window]) -> list[ParseResult]:
        import torch

        results: list[ParseResult] = []
        self.tokenizer.padding_side = "left"
        for batch in _batches(list(windows), self.batch_size):
            prompts = [render_prompt(self.tokenizer, q, p, self.prompt_config, assistant_prefix="[")
                       for q, p in batch]
            enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
            enc = enc.to(self.model.device)
            with torch.inference_mode():
                # logits_to_keep=1: only the last position goes through the LM head
                logits = self.model(**enc, logits_to_keep=1).logits[:, -1, :].float()
            for row, (_, passages) in zip(logits, batch):
                ids = self._ids(len(passages))
                scores = row[ids]
                # stable sort: ties keep the input (first-stage) order
                order = sorted(range(len(ids)), key=lambda i: (-float(scores[i]), i))
                results.append(ParseResult(order=order, parsed_ok=True, complete_without_repair=True))
        return results


# ------------------------------------------------------------------------------------------------------ resume
def read_checkpoint(path: str | os.PathLike, report: RepairReport | None = None) -> dict[str, list[str]]:
    """Finished queries ``{qid: docids}`` of a checkpoint; a torn last line is cut off and counted."""
    path = Path(path)
    if not path.is_file():
        return {}
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        # a crash during the last append: drop the partial line so later appends start on a clean line
        keep = data.rfind(b"\n") + 1
        with open(path, "r+b") as handle:
            handle.truncate(keep)
        if report is not None:
            report.add("torn_checkpoint_line_dropped", str(path))
        data = data[:keep]
    done: dict[str, list[str]] = {}
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        obj = json.loads(line)
        done[str(obj["qid"])] = [str(d) for d in obj["docids"]]
    return done


def append_checkpoint(path: str | os.PathLike, entries: Sequence[dict]) -> None:
    """Append finished queries, one JSON line each, in a single write + fsync (a crash tears at most the tail)."""
    if not entries:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    payload = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries).encode("utf-8")
    with open(path, "ab") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


@dataclass
class RerankStats:
    """What a listwise re-ranking did: parse outcomes, windows, queries computed/skipped, wall time."""

    parse: ParseSummary = field(default_factory=ParseSummary)
    queries_ranked: int = 0
    queries_resumed: int = 0
    seconds: float = 0.0

    def metrics(self) -> dict[str, float]:
        return {**self.parse.metrics(), "queries_ranked": float(self.queries_ranked),
                "queries_resumed": float(self.queries_resumed), "seconds": self.seconds}


def rerank_run(
    run: Run,
    queries: dict[str, str],
    corpus: dict[str, str],
    ranker: WindowRanker,
    *,
    depth: int = 20,
    window: int = 20,
    stride: int = 10,
    passes: int = 1,
    batch_size: int = 16,
    queries_per_chunk: int | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    stats: RerankStats | None = None,
) -> Run:
    """Re-rank the top-``depth`` of every query of ``run`` with sliding windows; returns a run (rank-based scores).

    Queries are processed in chunks of ``queries_per_chunk`` (default ``batch_size``), whose windows share batches;
    a finished chunk is appended to ``checkpoint`` before the next starts. Candidates below ``depth`` keep their
    first-stage order after the re-ranked ones. Scores are ``len(list) - rank``.
    """
    from tqdm.auto import tqdm

    from rankkd.data.io import ranked_docids

    stats = stats if stats is not None else RerankStats()
    started = time.perf_counter()
    done = read_checkpoint(checkpoint) if checkpoint else {}
    full = {qid: ranked_docids(scores) for qid, scores in run.items()}
    todo = [qid for qid in full if qid not in done]
    stats.queries_resumed = len(full) - len(todo)
    missing_queries = [qid for qid in todo if qid not in queries]
    if missing_queries:
        raise KeyError(f"{len(missing_queries)} run queries have no text, e.g. {missing_queries[:3]}")
    chunk_size = queries_per_chunk or batch_size
    bar = tqdm(total=len(todo), desc="listwise rerank", unit="query", disable=not progress)
    for offset in range(0, len(todo), chunk_size):
        chunk = todo[offset:offset + chunk_size]
        items = [(qid, queries[qid], full[qid][:depth]) for qid in chunk]
        needed = {d for _, _, docids in items for d in docids}
        absent = [d for d in needed if d not in corpus]
        if absent:
            raise KeyError(f"{len(absent)} candidate docids have no text in the corpus, e.g. {absent[:3]}")
        orders = sliding_window_rerank(items, {d: corpus[d] for d in needed}, ranker, window=window, stride=stride,
                                       passes=passes, batch_size=batch_size, summary=stats.parse)
        if checkpoint:
            append_checkpoint(checkpoint, [{"qid": qid, "docids": orders[qid]} for qid in chunk])
        done.update(orders)
        stats.queries_ranked += len(chunk)
        bar.update(len(chunk))
    bar.close()
    out: Run = {}
    for qid, ranked in full.items():
        head = done[qid]
        head_set = set(head)
        order = head + [d for d in ranked if d not in head_set]
        out[qid] = {docid: float(len(order) - rank) for rank, docid in enumerate(order)}
    stats.seconds += time.perf_counter() - started
    if stats.parse.n:
        logger.info("listwise parse: %s", stats.parse.summary())
    return out


def make_ranker(model: Any, tokenizer: Any, mode: str = "generate", **kwargs: Any) -> WindowRanker:
    """``"generate"`` -> :class:`GenerativeRanker`, ``"generate-ranking"`` -> one that stops after the ranking line
    (explain-after students), ``"single-token"`` -> :class:`SingleTokenRanker`."""
    if mode == "generate":
        return GenerativeRanker(model, tokenizer, **kwargs)
    if mode in ("generate-ranking", "generate_ranking"):
        return GenerativeRanker(model, tokenizer, stop_after_ranking=True, **kwargs)
    if mode in ("single-token", "single_token", "first"):
        kwargs.pop("max_new_tokens", None)
        kwargs.pop("do_sample", None)
        return SingleTokenRanker(model, tokenizer, **kwargs)
    raise ValueError(f"mode must be 'generate', 'generate-ranking' or 'single-token', got {mode!r}")


PermutationFn = Callable[[str, Sequence[str]], Sequence[int]]


@dataclass
class FunctionRanker:
    """A ranker from a plain function ``(query, passages) -> order`` (baselines, tests)."""

    fn: PermutationFn
    calls: list[int] = field(default_factory=list)

    def rank(self, windows: Sequence[Window]) -> list[ParseResult]:
        self.calls.append(len(windows))
        return [ParseResult(order=list(self.fn(q, p)), parsed_ok=True, complete_without_repair=True)
                for q, p in windows]
