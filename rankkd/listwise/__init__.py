"""Listwise LLM re-rankers: RankZephyr-style prompts, a repairing permutation parser, SFT (LoRA) from teacher
rankings and rationales, and sliding-window / single-token (FIRST) inference."""

from rankkd.listwise.inference import (FunctionRanker, GenerativeRanker, RerankStats, SingleTokenRanker,
                                       identifier_token_ids, make_ranker, rerank_run, sliding_window_rerank,
                                       window_plan)
from rankkd.listwise.parsing import ParseResult, ParseSummary, parse_permutation, strip_reasoning
from rankkd.listwise.prompts import PromptConfig, build_messages, build_target, format_permutation, render_prompt, \
    truncate_by_tokens

__all__ = ["FunctionRanker", "GenerativeRanker", "ParseResult", "ParseSummary", "PromptConfig", "RerankStats",
           "SingleTokenRanker", "build_messages", "build_target", "format_permutation", "identifier_token_ids",
           "make_ranker", "parse_permutation", "render_prompt", "rerank_run", "sliding_window_rerank",
           "strip_reasoning", "truncate_by_tokens", "window_plan"]
