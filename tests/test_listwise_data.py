"""Listwise prompts (token truncation, chat template) and prompt/completion data from teacher records."""

from __future__ import annotations

import pytest

from rankkd.data.errors import DataFormatError, RepairReport
from rankkd.data.teacher import TeacherRecord
from rankkd.listwise.data import build_sft_examples, split_rationale
from rankkd.listwise.parsing import parse_permutation
from rankkd.listwise.prompts import PromptConfig, build_target, format_permutation, render_prompt, truncate_by_tokens


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from transformers import AutoTokenizer

    from rankkd.models.llm import make_tiny_causal_lm

    return AutoTokenizer.from_pretrained(make_tiny_causal_lm(tmp_path_factory.mktemp("tiny-llm")))


def test_truncate_by_tokens_cuts_on_token_boundaries(tokenizer):
    text = "passage answers the query passage answers the query"
    (short,) = truncate_by_tokens(tokenizer, [text], 3)
    assert len(tokenizer(short, add_special_tokens=False)["input_ids"]) == 3
    assert text.startswith(short)
    assert truncate_by_tokens(tokenizer, ["query"], 5) == ["query"]


def test_render_prompt_uses_chat_template_and_numbers(tokenizer):
    config = PromptConfig(max_passage_tokens=2)
    prompt = render_prompt(tokenizer, "what is x", ["first passage text here", "second\npassage"], config)
    assert prompt.startswith("<|im_start|>system\nYou are RankLLM")
    assert prompt.endswith("<|im_end|>\n<|im_start|>assistant\n")
    assert "Rank the passages based on their relevance to the search query: what is x." in prompt
    assert "Search Query: what is x." in prompt
    lines = prompt.splitlines()
    first = next(line for line in lines if line.startswith("[1] "))
    assert len(tokenizer(first[4:], add_special_tokens=False)["input_ids"]) == 2
    wide = render_prompt(tokenizer, "q", ["a", "second\npassage"], PromptConfig(max_passage_tokens=50))
    assert "[2] second passage\n" in wide  # newlines inside a passage flattened
    assert "e.g., [2] > [1]" in prompt
    letters = render_prompt(tokenizer, "q", ["a", "b"], PromptConfig(identifiers="letter"), assistant_prefix="[")
    assert "[A] a" in letters and letters.endswith("assistant\n[")


def test_targets():
    assert format_permutation([3, 0, 1, 2]) == "[4] > [1] > [2] > [3]"
    assert format_permutation([1, 0], "letter") == "[B] > [A]"
    assert build_target([1, 0], "  because. ") == "because.\n\n[2] > [1]"
    with pytest.raises(ValueError, match="identifiers must be one of"):
        PromptConfig(identifiers="roman")


R2R = ("[2] > [3] > [1]\n\nReasoning:\n- Passage [2] directly addresses the query.\n"
       "- Passage [3] is similar to Passage [2] but vaguer.\n  It continues here.\n- Passage [1] is off topic.\n"
       "- Passage [9] does not exist.")


def test_split_rationale():
    reasoning, reasons = split_rationale(R2R, 3)
    assert not reasoning.startswith("[2] > [3]") and "Reasoning:" not in reasoning
    assert reasons == {1: "It directly addresses the query.",
                       2: "It is similar to Passage [2] but vaguer. It continues here.",
                       0: "It is off topic."}


def _records():
    return [TeacherRecord(qid="q1", query="what is x", candidates=["d1", "d2", "d3"], docids=["d2", "d3", "d1"],
                          rationale=R2R, origin="t.jsonl:1"),
            TeacherRecord(qid="q2", query="y", candidates=["d1", "d3"], docids=["d3", "d1"], origin="t.jsonl:2")]


CORPUS = {"d1": "one passage", "d2": "two passage", "d3": "three passage"}


def test_permutation_and_rationale_rows(tokenizer):
    ds = build_sft_examples(_records(), CORPUS, tokenizer, target="permutation")
    assert ds["completion"][0] == [{"role": "assistant", "content": "[2] > [3] > [1]"}]
    assert ds["completion"][1][0]["content"] == "[2] > [1]"
    assert ds["order"] == [[1, 2, 0], [1, 0]]
    assert ds["prompt"][0][-1]["role"] == "user" and "[1] one passage" in ds["prompt"][0][-1]["content"]

    report = RepairReport()
    cot = build_sft_examples(_records(), CORPUS, tokenizer, target="rationale", report=report)
    assert len(cot) == 1 and report.counts == {"no_rationale_skipped": 1}
    content = cot["completion"][0][0]["content"]
    assert content.endswith("\n\n[2] > [3] > [1]") and content.startswith("- Passage [2] directly addresses")
    assert "First explain briefly" in cot["prompt"][0][-1]["content"]


def test_pointwise_and_comparative_rows(tokenizer):
    report = RepairReport()
    point = build_sft_examples(_records()[:1], CORPUS, tokenizer, target="pointwise", relevant_top=1, report=report)
    contents = [c[0]["content"] for c in point["completion"]]
    assert contents == ["It is off topic.\nJudgement: not relevant",
                        "It directly addresses the query.\nJudgement: relevant",
                        "It is similar to Passage [2] but vaguer. It continues here.\nJudgement: not relevant"]
    assert point["docids"] == [["d1"], ["d2"], ["d3"]]
    comp = build_sft_examples(_records()[:1], CORPUS, tokenizer, target="comparative")
    assert comp["completion"][0][0]["content"] == (
        "[2] ranks above [3]: It directly addresses the query.\n"
        "[3] ranks above [1]: It is similar to Passage [2] but vaguer. It continues here.\n"
        "[1] is the least relevant: It is off topic.\n\n[2] > [3] > [1]")


def test_bad_records(tokenizer):
    with pytest.raises(DataFormatError, match=r"t.jsonl:1: docid 'd2' \(query 'q1'\) is not in the corpus"):
        build_sft_examples(_records()[:1], {"d1": "a", "d3": "c"}, tokenizer)
    with pytest.raises(ValueError, match="target must be one of"):
        build_sft_examples(_records(), CORPUS, tokenizer, target="listnet")


def test_shuffled_windows_keep_the_teacher_order(tokenizer):
    records = _records() * 20
    ds = build_sft_examples(records, CORPUS, tokenizer, target="permutation", shuffle=1.0, seed=3)
    assert all(ds["shuffled"])
    # the prompt order changed for some windows, yet every target still names the teacher's order
    assert any(row != list(r.candidates) for row, r in zip(ds["docids"], records))
    for docids, order, record in zip(ds["docids"], ds["order"], records):
        assert [docids[i] for i in order] == record.docids
    again = build_sft_examples(records, CORPUS, tokenizer, target="permutation", shuffle=1.0, seed=3)
    assert again["docids"] == ds["docids"]
    half = build_sft_examples(records, CORPUS, tokenizer, target="permutation", shuffle=0.5, seed=0)
    assert 0 < sum(half["shuffled"]) < len(records)
    none = build_sft_examples(records, CORPUS, tokenizer, target="permutation")
    assert not any(none["shuffled"]) and none["docids"] == [list(r.candidates) for r in records]
    with pytest.raises(ValueError, match="shuffle is a probability"):
        build_sft_examples(records, CORPUS, tokenizer, shuffle=2)


def test_shuffle_renumbers_the_rationale():
    import random

    from rankkd.listwise.data import shuffle_record

    record = _records()[0]
    for seed in range(6):
        shuffled = shuffle_record(record, random.Random(seed))
        new_id = {d: shuffled.candidates.index(d) + 1 for d in record.candidates}
        assert shuffled.docids == record.docids
        # d2 (old [2]) is the one that "directly addresses the query"; d1 (old [1]) is off topic
        assert f"Passage [{new_id['d2']}] directly addresses" in shuffled.rationale
        assert f"Passage [{new_id['d1']}] is off topic" in shuffled.rationale
        assert shuffled.rationale.splitlines()[0] == " > ".join(f"[{new_id[d]}]" for d in record.docids)


def test_permutation_rationale_rows_rank_first_and_use_the_prompt_labels(tokenizer):
    ds = build_sft_examples(_records(), CORPUS, tokenizer, target="permutation_rationale",
                            prompt_config=PromptConfig(identifiers="letter", reasoning=True, explain_after=True))
    content = ds["completion"][0][0]["content"]
    first, rest = content.split("\n\n", 1)
    assert first == "[B] > [C] > [A]"
    # the teacher wrote numeric ids; the student sees letters, so its explanation names letters too
    assert rest.startswith("- Passage [B] directly addresses") and "Passage [C] is similar to Passage [B]" in rest
    assert "[9]" in rest  # an id outside the window is left as written
    assert "ranking on the first line" in ds["prompt"][0][-1]["content"]
    assert parse_permutation(content, 3, "letter").order == [1, 2, 0]
    with pytest.raises(ValueError, match="explain_after=True needs reasoning=True"):
        PromptConfig(explain_after=True)
