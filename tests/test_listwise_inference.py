"""Sliding-window ordering, batching across queries, resume from a checkpoint, single-token (FIRST) ranking."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from rankkd.listwise.inference import (FunctionRanker, GenerativeRanker, RerankStats, SingleTokenRanker,
                                       identifier_token_ids, read_checkpoint, rerank_run, sliding_window_rerank,
                                       window_plan)
from rankkd.listwise.prompts import PromptConfig


def test_window_plan():
    assert window_plan(30, 20, 10) == [(10, 30), (0, 20)]
    assert window_plan(20, 20, 10) == [(0, 20)]
    assert window_plan(7, 4, 2) == [(3, 7), (1, 5), (0, 4)]
    assert window_plan(0) == []
    with pytest.raises(ValueError, match="stride 5 > window 4"):
        window_plan(10, 4, 5)


def reverse(query, passages):
    return list(range(len(passages)))[::-1]


def test_sliding_window_with_reversing_ranker_matches_hand_computed_order():
    # d0..d6, window 4 stride 2: windows (3,7) (1,5) (0,4), each reversed:
    # [0 1 2 3 4 5 6] -> (3,7) -> [0 1 2 6 5 4 3] -> (1,5) -> [0 5 6 2 1 4 3] -> (0,4) -> [2 6 5 0 1 4 3]
    docids = [f"d{i}" for i in range(7)]
    texts = {d: d.upper() for d in docids}
    ranker = FunctionRanker(reverse)
    out = sliding_window_rerank([("q", "query", docids)], texts, ranker, window=4, stride=2)
    assert out["q"] == ["d2", "d6", "d5", "d0", "d1", "d4", "d3"]
    assert ranker.calls == [1, 1, 1]


def test_sort_by_text_bubbles_best_to_top_and_batches_queries():
    # a ranker that sorts by the number in the passage text (higher better): after one sweep the best is on top
    scores = {f"d{i}": s for i, s in enumerate([3, 9, 1, 7, 0, 8, 2, 6])}
    texts = {d: str(s) for d, s in scores.items()}

    def by_value(query, passages):
        return sorted(range(len(passages)), key=lambda i: -int(passages[i]))

    ranker = FunctionRanker(by_value)
    items = [("a", "qa", list(scores)), ("b", "qb", list(scores)[:4])]
    out = sliding_window_rerank(items, texts, ranker, window=4, stride=2, batch_size=8)
    assert out["a"][0] == "d1"  # 9
    assert out["b"] == ["d1", "d3", "d0", "d2"]
    # step 1 has both queries' windows in one batch, then query a alone
    assert ranker.calls == [2, 1, 1]
    two = sliding_window_rerank(items, texts, FunctionRanker(by_value), window=4, stride=2, passes=3)
    assert two["a"][:3] == ["d1", "d5", "d3"]


def _data():
    run = {q: {f"{q}-d{i}": float(10 - i) for i in range(5)} for q in ("q1", "q2", "q3")}
    queries = {q: f"text {q}" for q in run}
    corpus = {d: f"passage {d}" for scores in run.values() for d in scores}
    return run, queries, corpus


def test_rerank_run_resumes_from_checkpoint(tmp_path):
    run, queries, corpus = _data()
    ckpt = tmp_path / "ckpt.jsonl"
    # q1 finished before the "crash", then a torn half line
    ckpt.write_text(json.dumps({"qid": "q1", "docids": ["q1-d4", "q1-d3"]}) + "\n" + '{"qid": "q2", "doc',
                    encoding="utf-8")
    seen = []

    def record(query, passages):
        seen.append(query)
        return reverse(query, passages)

    stats = RerankStats()
    out = rerank_run(run, queries, corpus, FunctionRanker(record), depth=3, window=3, stride=1, checkpoint=ckpt,
                     progress=False, stats=stats, batch_size=1)
    assert "text q1" not in seen and set(seen) == {"text q2", "text q3"}
    assert stats.queries_resumed == 1 and stats.queries_ranked == 2
    # q1 from the checkpoint, the rest of its list in first-stage order after it
    assert sorted(out["q1"], key=out["q1"].get, reverse=True) == ["q1-d4", "q1-d3", "q1-d0", "q1-d1", "q1-d2"]
    # q2: top-3 reversed, d3 d4 kept below; scores are len - rank
    assert out["q2"] == {"q2-d2": 5.0, "q2-d1": 4.0, "q2-d0": 3.0, "q2-d3": 2.0, "q2-d4": 1.0}
    done = read_checkpoint(ckpt)
    assert list(done) == ["q1", "q2", "q3"]  # the torn line was cut, new lines appended cleanly
    seen.clear()
    rerank_run(run, queries, corpus, FunctionRanker(record), depth=3, window=3, checkpoint=ckpt, progress=False)
    assert seen == []


def test_rerank_run_missing_text():
    run, queries, corpus = _data()
    with pytest.raises(KeyError, match="run queries have no text"):
        rerank_run(run, {}, corpus, FunctionRanker(reverse), progress=False)


class FakeTokenizer:
    """Characters are tokens: '[' -> 1, 'A'.. -> 10.., digits -> 100+d; enough for identifier lookup."""

    pad_token_id = 0
    padding_side = "left"

    def __call__(self, text, add_special_tokens=False, **kwargs):
        if isinstance(text, list):
            raise AssertionError("not used")
        ids = [1 if c == "[" else 100 + int(c) if c.isdigit() else 10 + ord(c) - ord("A") for c in text]
        return {"input_ids": ids}

    def convert_ids_to_tokens(self, ids):
        return [str(i) for i in ids]


def test_identifier_token_ids():
    tok = FakeTokenizer()
    assert identifier_token_ids(tok, 3, "letter") == [10, 11, 12]
    assert identifier_token_ids(tok, 9, "number")[:2] == [101, 102]
    with pytest.raises(ValueError, match="identifier '10' is not a single token"):
        identifier_token_ids(tok, 10, "number")


def test_single_token_ranker_orders_by_identifier_logits(monkeypatch):
    import torch

    import rankkd.listwise.inference as inference

    monkeypatch.setattr(inference, "render_prompt", lambda tok, q, p, cfg, assistant_prefix="": f"{q}|{len(p)}")

    class Tok(FakeTokenizer):
        def __call__(self, text, add_special_tokens=False, return_tensors=None, padding=False, **kwargs):
            if isinstance(text, list):
                return SimpleNamespace(to=lambda device: {"input_ids": torch.zeros(len(text), 2, dtype=torch.long)})
            return super().__call__(text)

    class Model:
        device = "cpu"

        def __call__(self, input_ids, logits_to_keep=1):
            logits = torch.zeros(input_ids.shape[0], 1, 40)
            logits[0, 0, [10, 11, 12]] = torch.tensor([0.1, 2.0, 1.0])   # B > C > A
            logits[1, 0, [10, 11, 12]] = torch.tensor([5.0, 5.0, 9.0])   # C > A = B (tie keeps input order)
            return SimpleNamespace(logits=logits)

    ranker = SingleTokenRanker(Model(), Tok(), PromptConfig(identifiers="letter"), batch_size=4)
    results = ranker.rank([("q", ["a", "b", "c"]), ("r", ["a", "b", "c"])])
    assert [r.order for r in results] == [[1, 2, 0], [2, 0, 1]]
    assert all(r.complete_without_repair for r in results)


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    from rankkd.models.llm import load_causal_lm, make_tiny_causal_lm

    return load_causal_lm(make_tiny_causal_lm(tmp_path_factory.mktemp("tiny-llm")), dtype="float32")


def test_generative_and_single_token_rankers_run_on_a_tiny_model(tiny_lm):
    model, tokenizer = tiny_lm
    assert tokenizer.padding_side == "left"
    windows = [("what is x", ["one passage", "two passage", "three"]), ("y", ["a b", "c"])]
    gen = GenerativeRanker(model, tokenizer, PromptConfig(), max_new_tokens=4, batch_size=2)
    results = gen.rank(windows)
    assert [sorted(r.order) for r in results] == [[0, 1, 2], [0, 1]]
    assert len(gen.last_outputs) == 2
    # the same window alone or batched with a longer one (left padding) gets the same answer
    assert gen.rank(windows[1:])[0].order == results[1].order
    first = SingleTokenRanker(model, tokenizer, PromptConfig(identifiers="letter"))
    assert [sorted(r.order) for r in first.rank(windows)] == [[0, 1, 2], [0, 1]]


def test_single_token_ranking_refuses_a_reasoning_first_prompt():
    with pytest.raises(ValueError, match="reasoning before the ranking"):
        SingleTokenRanker(model=None, tokenizer=None, prompt_config=PromptConfig(reasoning=True))
    ranker = SingleTokenRanker(model=None, tokenizer=None,
                               prompt_config=PromptConfig(reasoning=True, explain_after=True))
    assert ranker.prompt_config.explain_after


def test_generate_ranking_stops_after_the_ranking_line(tiny_lm):
    import torch

    from rankkd.listwise.inference import make_ranker

    model, tokenizer = tiny_lm
    explain_after = PromptConfig(identifiers="letter", reasoning=True, explain_after=True)
    answer = tokenizer("[B] > [A]\n", add_special_tokens=False, return_tensors="pt")["input_ids"][0]
    seen = {}

    class Model:
        device = "cpu"

        def generate(self, input_ids, attention_mask, **kwargs):
            seen.update(kwargs)
            tail = torch.cat([answer, torch.full((3,), tokenizer.pad_token_id)])  # padding after the stop
            return torch.cat([input_ids, tail.expand(input_ids.shape[0], -1)], dim=1)

    ranker = make_ranker(Model(), tokenizer, "generate-ranking", prompt_config=explain_after)
    results = ranker.rank([("q", ["a", "b"]), ("r", ["c", "d"])])
    assert [r.order for r in results] == [[1, 0], [1, 0]]
    assert seen["stop_strings"] == ["\n"] and seen["max_new_tokens"] == 5 * 2 + 8
    assert ranker.generated_tokens == 2 * len(answer)
    full = make_ranker(Model(), tokenizer, "generate", prompt_config=explain_after)
    seen.clear()
    full.rank([("q", ["a", "b"])])
    assert "stop_strings" not in seen and seen["max_new_tokens"] == 5 * 2 + 256
    with pytest.raises(ValueError, match="stop_after_ranking needs a prompt whose answer starts with the ranking"):
        make_ranker(Model(), tokenizer, "generate-ranking", prompt_config=PromptConfig())
