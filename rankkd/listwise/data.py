"""Prompt/completion SFT data for listwise LLM students, built from teacher rankings.

Three target kinds (all conversational prompt/completion rows, so TRL applies the student's chat template and puts the
loss on the completion only):

``permutation``  completion = the teacher permutation ``[4] > [1] > ...`` (RankZephyr / DeAR-L).
``rationale``    completion = the teacher's reasoning, then the permutation (DeAR-CoT). The Reason-to-Rank
                 rationales start with the ranking line; it is removed from the reasoning and the (repaired) teacher
                 permutation is put last, where the parser and the prompt's instruction expect it.
``permutation_rationale``  the permutation first, then the teacher's reasoning (Reason-to-Rank's own answer format:
                 the student ranks and explains; single-token ranking reads the first identifier and skips the rest).
``pointwise``    one row per passage: query + that passage -> the teacher's reason for it + a relevance judgement
                 (Reason-to-Rank's direct-relevance reasoning). The judgement comes from the teacher's rank:
                 ``relevant`` for its top ``relevant_top`` passages of the window, else ``not relevant``.
``comparative``  one row per window: reasons in teacher order phrased as comparisons of neighbours, then the order.

Rows also carry ``qid``, ``docids`` (candidates in prompt order), ``order`` (0-based teacher permutation) and
``shuffled`` (whether the prompt order was shuffled).

``shuffle`` (a probability) shows a window's candidates in a seeded random order, with the target permutation and the
rationale's passage ids remapped to match. Teacher windows list candidates in first-stage order and the teacher often
keeps the first passage first, so a student trained on them alone learns to copy the input order; RankZephyr
(Pradeep et al., 2023) shuffles the input order for the same reason.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from typing import Any, Sequence

import datasets

from rankkd.data.errors import DataFormatError, RepairReport
from rankkd.data.teacher import TeacherRecord
from rankkd.listwise.parsing import parse_permutation
from rankkd.listwise.prompts import PromptConfig, build_messages, build_target, format_permutation, identifier, \
    truncate_by_tokens

#: targets whose prompt asks for an explanation as well as the ranking
REASONING_TARGETS = ("rationale", "permutation_rationale", "comparative")
TARGET_KINDS = ("permutation", "rationale", "permutation_rationale", "pointwise", "comparative")

# "- Passage [4] is ...", "[4] is ...", "Passage 4: ..." at the start of a line (after bullets / numbering)
_REASON_HEAD = re.compile(r"^\s*(?:[-*•]|\d+[.)])?\s*(?:passage\s*)?\[?\s*(\d+|[A-Z])\s*\]?(?=[\s:,.)]|$)",
                          re.IGNORECASE)
_RANKING_LINE = re.compile(r"^\s*(?:(?:final\s+)?ranking\s*:)?\s*\[?\s*\w+\s*\]?\s*(?:>\s*\[?\s*\w+\s*\]?\s*)+\S*\s*$",
                           re.IGNORECASE)
_REASONING_HEADER = re.compile(r"^\s*(?:reasoning|explanation|rationale)\s*:\s*$", re.IGNORECASE)


def split_rationale(rationale: str, n: int, style: str = "number") -> tuple[str, dict[int, str]]:
    """Split a teacher rationale into ``(reasoning_without_ranking_lines, {0-based passage: its reason})``.

    A line belongs to passage ``k`` when it *starts* with ``[k]`` / ``Passage [k]`` (after a bullet); lines that
    follow it without such a head continue its reason. Ranking lines (``[1] > [4] > ...``) and a bare
    ``Reasoning:`` header are dropped from the reasoning. Ids outside ``1..n`` are not attributed.
    """
    kept: list[str] = []
    reasons: dict[int, list[str]] = {}
    current: int | None = None
    for line in rationale.splitlines():
        if _RANKING_LINE.match(line) or _REASONING_HEADER.match(line):
            current = None
            continue
        kept.append(line)
        if not line.strip():
            current = None
            continue
        head = _REASON_HEAD.match(line)
        index = None
        if head:
            from rankkd.listwise.prompts import identifier_index

            index = identifier_index(head.group(1), style)
            if index is None or not 0 <= index < n:
                current = None  # a passage that does not exist: its text belongs to nobody
                continue
        if index is not None:
            current = index
            text = line[head.end():].lstrip(" :-,").strip()
            reasons.setdefault(index, []).append(_sentence(text))
        elif current is not None:
            reasons[current].append(line.strip())
    reasoning = "\n".join(kept).strip()
    return reasoning, {k: " ".join(v).strip() for k, v in reasons.items()}


def _sentence(text: str) -> str:
    """``directly addresses X`` -> ``It directly addresses X``; already-complete sentences unchanged."""
    if not text:
        return text
    first = text.split()[0].lower()
    if first in {"is", "was", "has", "does", "directly", "provides", "mentions", "discusses", "focuses", "talks",
                 "contains", "describes", "explains", "gives", "lacks", "only", "also", "addresses", "seems",
                 "appears", "offers", "includes", "covers", "may", "might", "could", "should", "would", "can"}:
        return f"It {text}"
    return text[0].upper() + text[1:]


def _window(record: TeacherRecord, corpus: dict[str, str]) -> tuple[list[str], list[str], list[int]]:
    """(candidates in prompt order, their texts, 0-based teacher order)."""
    candidates = list(record.candidates) if record.candidates is not None else list(record.docids)
    position = {docid: i for i, docid in enumerate(candidates)}
    order = [position[d] for d in record.docids if d in position]
    if sorted(order) != list(range(len(candidates))):
        raise DataFormatError(record.origin, None, f"teacher docids of {record.qid!r} are not a permutation of its "
                              "candidates", "records read with read_teacher(on_invalid='repair')")
    texts = []
    for docid in candidates:
        if docid not in corpus:
            raise DataFormatError(record.origin, None, f"docid {docid!r} (query {record.qid!r}) is not in the corpus",
                                  "every candidate id in the corpus")
        texts.append(corpus[docid])
    return candidates, texts, order


_PASSAGE_ID = re.compile(r"\[(\d+)\]")


def relabel_passages(text: str, position: dict[int, int], style: str = "number") -> str:
    """Rewrite the numeric passage ids ``[k]`` of a teacher text: old 0-based index ``k - 1`` becomes
    ``[identifier(position[k - 1], style)]``; ids outside ``position`` are left as they are."""
    def relabel(match: re.Match) -> str:
        old = int(match.group(1)) - 1
        return f"[{identifier(position[old], style)}]" if old in position else match.group(0)

    return _PASSAGE_ID.sub(relabel, text)


def shuffle_record(record: TeacherRecord, rng: random.Random) -> TeacherRecord:
    """``record`` with its candidates in a random prompt order; the teacher order (``docids``) is unchanged and the
    rationale's numeric passage ids (``[3]``) are renumbered to the new prompt positions."""
    candidates = list(record.candidates) if record.candidates is not None else list(record.docids)
    shown = candidates[:]
    rng.shuffle(shown)
    new_position = {old: shown.index(docid) for old, docid in enumerate(candidates)}
    rationale = relabel_passages(record.rationale, new_position) if record.rationale else record.rationale
    return replace(record, candidates=shown, rationale=rationale)


def _check_rationale_order(record: TeacherRecord, order: list[int], n: int, style: str,
                           report: RepairReport | None) -> None:
    """Count rationales whose own ranking line disagrees with the (repaired) teacher order."""
    if report is None or not record.rationale:
        return
    parsed = parse_permutation(record.rationale, n, style)
    if parsed.failed:
        report.add("rationale_without_ranking", record.origin or record.qid)
    elif parsed.order != order:
        report.add("rationale_ranking_differs_from_docids", record.origin or record.qid)


def build_sft_examples(
    records: Sequence[TeacherRecord],
    corpus: dict[str, str],
    tokenizer: Any,
    *,
    target: str = "permutation",
    prompt_config: PromptConfig | None = None,
    queries: dict[str, str] | None = None,
    relevant_top: int = 2,
    report: RepairReport | None = None,
    shuffle: float = 0.0,
    seed: int = 0,
) -> datasets.Dataset:
    """Conversational prompt/completion rows (see the module docstring) from teacher window records.

    ``queries`` overrides the record's query text when given. Records without a rationale are skipped for the
    reasoning targets and counted as ``no_rationale_skipped``; nothing is dropped silently. ``shuffle`` is the
    probability that a window is shown in a random order (see the module docstring); ``seed`` makes it repeatable.
    """
    if target not in TARGET_KINDS:
        raise ValueError(f"target must be one of {TARGET_KINDS}, got {target!r}")
    if not 0.0 <= shuffle <= 1.0:
        raise ValueError(f"shuffle is a probability in [0, 1], got {shuffle!r}")
    rng = random.Random(seed)
    config = prompt_config or PromptConfig(reasoning=target in REASONING_TARGETS,
                                           explain_after=target == "permutation_rationale")
    style = config.identifiers
    rows: dict[str, list] = {"prompt": [], "completion": [], "qid": [], "docids": [], "order": [], "shuffled": []}
    shuffled = False

    def add(prompt: list[dict], completion: str, qid: str, docids: list[str], order: list[int]) -> None:
        rows["shuffled"].append(shuffled)
        rows["prompt"].append(prompt)
        rows["completion"].append([{"role": "assistant", "content": completion}])
        rows["qid"].append(qid)
        rows["docids"].append(docids)
        rows["order"].append(order)

    for record in records:
        query = queries.get(record.qid, record.query) if queries else record.query
        # draw for every record, so which windows are shuffled does not depend on the target kind
        shuffled = rng.random() < shuffle
        if shuffled:
            record = shuffle_record(record, rng)
        candidates, texts, order = _window(record, corpus)
        n = len(candidates)
        if target == "permutation":
            add(build_messages(tokenizer, query, texts, config), build_target(order, None, style), record.qid,
                candidates, order)
            continue
        if not record.rationale:
            if report is not None:
                report.add("no_rationale_skipped", record.origin or record.qid)
            continue
        rationale = record.rationale
        if style != "number":
            # teacher rationales name passages [1]..[n]; the student's prompt uses this style's labels
            rationale = relabel_passages(rationale, {i: i for i in range(n)}, style)
            record = replace(record, rationale=rationale)
        _check_rationale_order(record, order, n, style, report)
        reasoning, reasons = split_rationale(rationale, n, style)
        if target in ("rationale", "permutation_rationale"):
            add(build_messages(tokenizer, query, texts, config),
                build_target(order, reasoning, style, explain_after=target == "permutation_rationale"), record.qid,
                candidates, order)
        elif target == "comparative":
            add(build_messages(tokenizer, query, texts, config),
                build_target(order, comparative_reasoning(order, reasons, style), style), record.qid, candidates,
                order)
        else:
            rank_of = {index: rank for rank, index in enumerate(order)}
            for index in range(n):
                reason = reasons.get(index)
                if not reason:
                    if report is not None:
                        report.add("passage_without_reason_skipped", f"{record.qid}:{candidates[index]}")
                    continue
                judgement = "relevant" if rank_of[index] < relevant_top else "not relevant"
                add(pointwise_messages(tokenizer, query, texts[index], config),
                    f"{reason}\nJudgement: {judgement}", record.qid, [candidates[index]], [0])
    return datasets.Dataset.from_dict(rows)


def comparative_reasoning(order: Sequence[int], reasons: dict[int, str], style: str = "number") -> str:
    """Comparisons of neighbours in the teacher order, each justified by the better passage's reason."""
    lines = []
    for rank, index in enumerate(order):
        reason = reasons.get(index, "")
        label = f"[{identifier(index, style)}]"
        if rank + 1 < len(order):
            lines.append(f"{label} ranks above [{identifier(order[rank + 1], style)}]: {reason}".rstrip(": "))
        else:
            lines.append(f"{label} is the least relevant: {reason}".rstrip(": "))
    return "\n".join(lines)


def pointwise_messages(tokenizer: Any, query: str, passage: str, config: PromptConfig) -> list[dict[str, str]]:
    """A single-passage relevance question (for the pointwise-reasoning target)."""
    (query,) = truncate_by_tokens(tokenizer, [" ".join(query.split())], config.max_query_tokens)
    (passage,) = truncate_by_tokens(tokenizer, [" ".join(passage.split())], config.max_passage_tokens)
    messages = []
    if config.system_prompt:
        messages.append({"role": "system", "content": config.system_prompt})
    messages.append({"role": "user", "content": f"Search Query: {query}.\nPassage: {passage}\n"
                                                 "Explain briefly whether the passage answers the query, then end "
                                                 "with 'Judgement: relevant' or 'Judgement: not relevant'."})
    return messages


__all__ = ["TARGET_KINDS", "build_sft_examples", "comparative_reasoning", "format_permutation", "pointwise_messages",
           "split_rationale"]
