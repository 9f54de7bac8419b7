"""RankGPT / RankZephyr-style listwise prompts and targets.

The user turn numbers the passages ``[1] ...`` (or ``[A] ...``), states the query before and after them and asks for
``[4] > [1] > ...``. Passages (and the query) are truncated by *tokens* of the ranking model's own tokenizer, and the
conversation is rendered with the model's chat template (``tokenizer.apply_chat_template``), so prompts built for
training and for inference are byte-identical.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any, Sequence

IDENTIFIER_STYLES = ("number", "letter")

DEFAULT_SYSTEM_PROMPT = (
    "You are RankLLM, an intelligent assistant that can rank passages based on their relevancy to the query."
)


@dataclass
class PromptConfig:
    """How a window is shown to the LLM.

    ``identifiers="letter"`` uses ``[A]..[Z]`` (FIRST-style): with tokenizers that split digits (SmolLM2, Llama-3)
    a two-digit number is two tokens, so only letters give every passage of a 20-window a single-token identifier.
    ``reasoning=True`` asks for a short explanation before the ranking (CoT students); the ranking stays the last line.
    With ``explain_after=True`` as well, the ranking comes first and the explanation after it (Reason-to-Rank's answer
    format): the student explains, and single-token ranking can still read the first identifier.
    """

    max_passage_tokens: int = 100
    max_query_tokens: int = 64
    identifiers: str = "number"
    system_prompt: str | None = DEFAULT_SYSTEM_PROMPT
    reasoning: bool = False
    explain_after: bool = False

    def __post_init__(self) -> None:
        if self.explain_after and not self.reasoning:
            raise ValueError("explain_after=True needs reasoning=True (it places the explanation after the ranking)")
        if self.identifiers not in IDENTIFIER_STYLES:
            raise ValueError(f"identifiers must be one of {IDENTIFIER_STYLES}, got {self.identifiers!r}")
        if self.max_passage_tokens < 1 or self.max_query_tokens < 1:
            raise ValueError("max_passage_tokens and max_query_tokens must be >= 1")


def identifier(index: int, style: str = "number") -> str:
    """The label of the ``index``-th (0-based) passage: ``"1"``, ``"2"``, ... or ``"A"``, ``"B"``, ..."""
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    if style == "number":
        return str(index + 1)
    if style == "letter":
        if index >= 26:
            raise ValueError(f"letter identifiers cover 26 passages, got index {index}; use identifiers='number'")
        return string.ascii_uppercase[index]
    raise ValueError(f"identifiers must be one of {IDENTIFIER_STYLES}, got {style!r}")


def identifier_index(label: str, style: str = "number") -> int | None:
    """Inverse of :func:`identifier` (0-based); ``None`` when ``label`` is not an identifier of ``style``."""
    label = label.strip()
    if style == "number":
        return int(label) - 1 if label.isdigit() else None
    if len(label) == 1 and label.isalpha():
        return string.ascii_uppercase.index(label.upper())
    return None


def truncate_by_tokens(tokenizer: Any, texts: Sequence[str], max_tokens: int) -> list[str]:
    """Cut each text after its first ``max_tokens`` tokens (one batched tokenizer call, character offsets).

    The cut is made on the original string at the end offset of the last kept token, so no decode round trip
    changes spacing or characters. Texts that fit are returned unchanged.
    """
    if not texts:
        return []
    enc = tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
    out = []
    for text, offsets in zip(texts, enc["offset_mapping"]):
        if len(offsets) <= max_tokens:
            out.append(text)
        else:
            out.append(text[: offsets[max_tokens - 1][1]].rstrip())
    return out


def _clean(text: str) -> str:
    # Newlines inside a passage would break the one-passage-per-line layout the model reads.
    return " ".join(text.split())


def user_message(query: str, passages: Sequence[str], config: PromptConfig) -> str:
    """The RankZephyr user turn for already-truncated ``query`` and ``passages``."""
    n = len(passages)
    if n == 0:
        raise ValueError("a listwise prompt needs at least one passage")
    ids = [identifier(i, config.identifiers) for i in range(n)]
    kind = "a numerical" if config.identifiers == "number" else "an alphabetical"
    example = f"[{ids[1]}] > [{ids[0]}]" if n > 1 else f"[{ids[0]}]"
    lines = [f"I will provide you with {n} passages, each indicated by {kind} identifier []. "
             f"Rank the passages based on their relevance to the search query: {query}.", ""]
    lines += [f"[{label}] {_clean(text)}" for label, text in zip(ids, passages)]
    lines += ["", f"Search Query: {query}.",
              f"Rank the {n} passages above based on their relevance to the search query. All the passages should "
              f"be included and listed using identifiers, in descending order of relevance. The output format should "
              f"be [] > [], e.g., {example}."]
    if config.reasoning and config.explain_after:
        lines[-1] += " Give the ranking on the first line, then explain briefly why the most relevant passages " \
                     "answer the query."
    elif config.reasoning:
        lines[-1] += " First explain briefly why the most relevant passages answer the query, then give the ranking " \
                     "on the last line."
    else:
        lines[-1] += " Only respond with the ranking results, do not say any word or explain."
    return "\n".join(lines)


def build_messages(tokenizer: Any, query: str, passages: Sequence[str], config: PromptConfig) -> list[dict[str, str]]:
    """Chat messages (system + user) for one window, query and passages truncated by tokens."""
    (query,) = truncate_by_tokens(tokenizer, [_clean(query)], config.max_query_tokens)
    passages = truncate_by_tokens(tokenizer, [_clean(p) for p in passages], config.max_passage_tokens)
    messages = []
    if config.system_prompt:
        messages.append({"role": "system", "content": config.system_prompt})
    messages.append({"role": "user", "content": user_message(query, passages, config)})
    return messages


def render_prompt(tokenizer: Any, query: str, passages: Sequence[str], config: PromptConfig,
                  *, assistant_prefix: str = "") -> str:
    """The prompt text as the model sees it: chat template with the generation prompt, plus ``assistant_prefix``
    (e.g. ``"["`` for single-token ranking, so the next token is the first identifier)."""
    messages = build_messages(tokenizer, query, passages, config)
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return text + assistant_prefix


def format_permutation(order: Sequence[int], style: str = "number") -> str:
    """``[4] > [1] > ...`` for a 0-based ``order`` (best first)."""
    return " > ".join(f"[{identifier(i, style)}]" for i in order)


def build_target(order: Sequence[int], reasoning: str | None = None, style: str = "number", *,
                 explain_after: bool = False) -> str:
    """The assistant answer: optional reasoning, then the permutation as the last line (or, with ``explain_after``,
    the permutation first and the reasoning after it)."""
    permutation = format_permutation(order, style)
    if reasoning and reasoning.strip():
        if explain_after:
            return f"{permutation}\n\n{reasoning.strip()}"
        return f"{reasoning.strip()}\n\n{permutation}"
    return permutation
