"""PointwiseReranker / load_sequence_classifier / scripts/rerank.py on tiny offline models."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rankkd.inference import MissingTextError, PairTemplate, PointwiseReranker
from rankkd.models import load_sequence_classifier, resolve_dtype

REPO = Path(__file__).resolve().parents[1]

QUERIES = ["what is a flea", "cost of concrete floor", "definition of law", "why is the sun high"]
PASSAGES = [
    "a flea is a small dog and cat parasite",
    "the cost of a new concrete floor is high for a big house and the money is much",
    "law",
    "the sun is high in the day and the moon is high at night when the time is long",
]


@pytest.fixture(scope="module")
def tiny(tiny_bert_dir):
    """fp32 tiny BERT (model, tokenizer)."""
    return load_sequence_classifier(tiny_bert_dir, dtype="float32")


def reference_scores(model, tokenizer, queries, passages) -> np.ndarray:
    """Scores from the plain HF path, one pair at a time (no truncation needed for the short texts above).

    Lists, not strings: ``tokenizer(q, "")`` would drop an empty passage altogether (no second [SEP]), while the
    batched call (what sentence-transformers and rankkd do) keeps the pair layout.
    """
    out = []
    with torch.inference_mode():
        for q, p in zip(queries, passages):
            enc = tokenizer([q], [p], return_tensors="pt")
            out.append(model(**enc).logits.float()[0, 0].item())
    return np.array(out, dtype=np.float32)


def test_template_matches_tokenizer_pair_layout(tiny):
    _, tok = tiny
    t = PairTemplate.from_tokenizer(tok)
    cls_id, sep_id = tok.cls_token_id, tok.sep_token_id
    assert (t.prefix, t.middle, t.suffix) == ((cls_id,), (sep_id,), (sep_id,))
    assert (t.query_type, t.passage_type, t.suffix_types) == (0, 1, (1,))
    assert t.num_special == 3


def test_scores_equal_plain_hf_and_do_not_depend_on_batching(tiny):
    model, tok = tiny
    expected = reference_scores(model, tok, QUERIES, PASSAGES)
    batched = PointwiseReranker(model, tok, batch_size=3, show_progress=False).score_pairs(QUERIES, PASSAGES)
    alone = [
        PointwiseReranker(model, tok, batch_size=1, show_progress=False).score_pairs([q], [p])[0]
        for q, p in zip(QUERIES, PASSAGES)
    ]
    assert batched.dtype == np.float32 and batched.shape == (4,)
    np.testing.assert_allclose(batched, expected, atol=1e-5)
    np.testing.assert_allclose(batched, alone, atol=1e-5)


def test_bf16_scores_close_to_fp32(tiny_bert_dir, tiny):
    model, tok = tiny
    fp32 = PointwiseReranker(model, tok, show_progress=False).score_pairs(QUERIES, PASSAGES)
    bf16_model, bf16_tok = load_sequence_classifier(tiny_bert_dir, dtype="bfloat16")
    assert next(bf16_model.parameters()).dtype == torch.bfloat16
    rr = PointwiseReranker(bf16_model, bf16_tok, batch_size=3, show_progress=False)
    batched = rr.score_pairs(QUERIES, PASSAGES)
    alone = np.array([rr.score_pairs([q], [p])[0] for q, p in zip(QUERIES, PASSAGES)])
    # bf16 keeps ~3 significant digits; the logits of the tiny model are O(0.1-1)
    np.testing.assert_allclose(batched, fp32, atol=3e-2)
    np.testing.assert_allclose(batched, alone, atol=1e-2)


def test_query_and_passage_truncated_separately(tiny):
    model, tok = tiny
    rr = PointwiseReranker(model, tok, query_max_length=3, passage_max_length=5, show_progress=False)
    # every word below is a single token of the tiny vocabulary
    long_q, long_p = "cat dog flea life cycle", "the river bank money water tree leaf sun moon"
    got = rr.score_pairs([long_q], [long_p])
    np.testing.assert_allclose(got, reference_scores(model, tok, ["cat dog flea"], ["the river bank money water"]),
                               atol=1e-5)


def test_edge_inputs_empty_long_and_duplicate(tiny):
    model, tok = tiny
    rr = PointwiseReranker(model, tok, batch_size=2, passage_max_length=224, show_progress=False)
    very_long = " ".join(["water"] * 2000)
    queries = ["what is a flea", "what is a flea", "what is a flea", "definition of law"]
    passages = ["", very_long, "", "law"]
    got = rr.score_pairs(queries, passages)
    assert np.isfinite(got).all()
    assert got[0] == got[2]  # identical pair scored once, copied back
    np.testing.assert_allclose(got[[0, 3]], reference_scores(model, tok, ["what is a flea", "definition of law"],
                                                             ["", "law"]), atol=1e-5)
    np.testing.assert_allclose(got[1], reference_scores(model, tok, ["what is a flea"],
                                                        [" ".join(["water"] * 224)])[0], atol=1e-5)
    assert rr.score_pairs([], []).shape == (0,)


def test_bad_arguments(tiny):
    model, tok = tiny
    rr = PointwiseReranker(model, tok, show_progress=False)
    with pytest.raises(ValueError, match="got 2 queries but 1 passages"):
        rr.score_pairs(["a", "b"], ["c"])
    with pytest.raises(TypeError, match="passage 0 is NoneType, expected str"):
        rr.score_pairs(["a"], [None])
    with pytest.raises(ValueError, match="= 515 exceeds the model's maximum input length 512"):
        PointwiseReranker(model, tok, query_max_length=100, passage_max_length=412)
    with pytest.raises(ValueError, match="batch_size must be positive"):
        PointwiseReranker(model, tok, batch_size=0)


def test_two_label_head_scores_log_prob_of_positive_class(tmp_path):
    from rankkd.testing import make_tiny_cross_encoder

    path = make_tiny_cross_encoder(tmp_path / "two", num_labels=2)
    model, tok = load_sequence_classifier(path, dtype="float32", num_labels=2)
    got = PointwiseReranker(model, tok, show_progress=False).score_pairs(QUERIES[:2], PASSAGES[:2])
    with torch.inference_mode():
        logits = model(**tok(QUERIES[:2], PASSAGES[:2], padding=True, return_tensors="pt")).logits
    np.testing.assert_allclose(got, torch.log_softmax(logits, -1)[:, 1].numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="positive_label 2 is not a class of a 2-label head"):
        PointwiseReranker(model, tok, positive_label=2)


def test_rerank_depth_order_and_missing_text(tiny):
    model, tok = tiny
    rr = PointwiseReranker(model, tok, show_progress=False)
    queries = {"q1": QUERIES[0], "q2": QUERIES[1]}
    corpus = {f"d{i}": p for i, p in enumerate(PASSAGES)}
    corpus["d9"] = "no text needed below depth"
    run = {"q1": {"d0": 9.0, "d1": 8.0, "d2": 7.0, "d9": 1.0, "d3": 5.0}, "q2": {"d3": 2.0, "d2": 2.0}}
    out = rr.rerank(run, queries, corpus, depth=3)
    assert set(out) == {"q1", "q2"}
    q1 = list(out["q1"])
    assert set(q1[:3]) == {"d0", "d1", "d2"}
    assert q1[3:] == ["d3", "d9"]  # below depth: original order (d3 scored 5.0 > d9 1.0), below all re-ranked
    assert min(out["q1"][d] for d in q1[:3]) > out["q1"]["d3"] > out["q1"]["d9"]
    expected = reference_scores(model, tok, [QUERIES[0]] * 3, PASSAGES[:3])
    np.testing.assert_allclose([out["q1"][f"d{i}"] for i in range(3)], expected, atol=1e-5)
    assert list(out["q1"].values()) == sorted(out["q1"].values(), reverse=True)
    # depth=None re-scores everything
    assert set(rr.rerank({"q2": run["q2"]}, queries, corpus, depth=None)["q2"]) == {"d2", "d3"}

    with pytest.raises(MissingTextError, match=r"1 query id\(s\) without text: q3"):
        rr.rerank({"q3": {"d0": 1.0}}, queries, corpus)
    with pytest.raises(MissingTextError, match=r"document id\(s\) without text: dX \(query q1\)"):
        rr.rerank({"q1": {"d0": 2.0, "dX": 1.0}}, queries, corpus)
    # a missing docid below depth is fine: it is never scored
    assert list(rr.rerank({"q1": {"d0": 2.0, "dX": 1.0}}, queries, corpus, depth=1)["q1"]) == ["d0", "dX"]


def test_resolve_dtype(monkeypatch):
    import rankkd.utils

    monkeypatch.setattr(rankkd.utils, "bf16_supported", lambda: True)
    assert resolve_dtype("auto") is torch.bfloat16
    monkeypatch.setattr(rankkd.utils, "bf16_supported", lambda: False)
    assert resolve_dtype("auto") is torch.float32
    assert resolve_dtype("float32") is torch.float32 and resolve_dtype(torch.float16) is torch.float16
    with pytest.raises(ValueError, match="unknown dtype 'int8'"):
        resolve_dtype("int8")


def test_lora_adapter_loads_merged_and_unmerged(tmp_path, tiny_bert_dir, tiny):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification

    base = AutoModelForSequenceClassification.from_pretrained(tiny_bert_dir, num_labels=1)
    peft_model = get_peft_model(base, LoraConfig(task_type="SEQ_CLS", r=4, target_modules=["query", "value"]))
    torch.manual_seed(1)
    with torch.no_grad():  # LoRA B starts at zero; make the adapter actually change the scores
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.5)
    peft_model.save_pretrained(tmp_path / "adapter")
    assert json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())["base_model_name_or_path"]
    peft_model.eval()
    with torch.inference_mode():
        expected = [peft_model(**tiny[1](q, p, return_tensors="pt")).logits[0, 0].item()
                    for q, p in zip(QUERIES, PASSAGES)]
    plain = PointwiseReranker(*tiny, show_progress=False).score_pairs(QUERIES, PASSAGES)
    for merge in (False, True):
        rr = PointwiseReranker.from_pretrained(tmp_path / "adapter", dtype="float32", merge_lora=merge,
                                               show_progress=False)
        expected_type = "BertForSequenceClassification" if merge else "PeftModelForSequenceClassification"
        assert type(rr.model).__name__ == expected_type
        got = rr.score_pairs(QUERIES, PASSAGES)
        np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.abs(got - plain).max() > 1e-3  # the adapter was applied


def _tiny_decoder(tmp_path: Path, append_eos: bool = False) -> Path:
    """A 2-layer Llama classifier with a word-level tokenizer that adds <s> (and </s> if asked), has no pad token."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import LlamaConfig, LlamaForSequenceClassification, PreTrainedTokenizerFast

    words = sorted({w for text in QUERIES + PASSAGES for w in text.split()})
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, **{w: i + 3 for i, w in enumerate(words)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A",
        pair="<s> $A $B:1" + (" </s>:1" if append_eos else ""),
        special_tokens=[("<s>", 1), ("</s>", 2)],
    )
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256, num_labels=1,
                         bos_token_id=1, eos_token_id=2, pad_token_id=None)
    torch.manual_seed(0)
    out = tmp_path / ("llama-eos" if append_eos else "llama")
    LlamaForSequenceClassification(config).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def test_decoder_llm_gets_pad_token_and_right_padding_is_batch_invariant(tmp_path):
    model, tok = load_sequence_classifier(_tiny_decoder(tmp_path), dtype="float32")
    assert tok.pad_token == "</s>" and model.config.pad_token_id == 2 and tok.padding_side == "right"
    rr = PointwiseReranker(model, tok, batch_size=4, query_max_length=16, passage_max_length=64, show_progress=False)
    assert (rr.template.prefix, rr.template.middle, rr.template.suffix) == ((1,), (), ())
    batched = rr.score_pairs(QUERIES, PASSAGES)
    alone = []
    with torch.inference_mode():
        for q, p in zip(QUERIES, PASSAGES):
            alone.append(model(**tok(q, p, return_tensors="pt")).logits[0, 0].item())
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    with pytest.raises(ValueError, match="ends in the pad token id 2"):
        rr.score_pairs(["what is a flea"], ["law </s>"])
    # a template that appends eos while pad = eos can never work with a last-token head: refused up front
    model, tok = load_sequence_classifier(_tiny_decoder(tmp_path, append_eos=True), dtype="float32")
    with pytest.raises(ValueError, match="every pair ends in token id 2, which is also the pad id"):
        PointwiseReranker(model, tok, query_max_length=16, passage_max_length=64)


def _load_script():
    spec = importlib.util.spec_from_file_location("rerank_script", REPO / "scripts" / "rerank.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _script_inputs(tmp_path: Path) -> list[str]:
    (tmp_path / "queries.tsv").write_text("q1\twhat is a flea\nq2\tdefinition of law\n", encoding="utf-8")
    corpus = [{"docid": f"d{i}", "text": p} for i, p in enumerate(PASSAGES)]
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus), encoding="utf-8")
    (tmp_path / "run.txt").write_text(
        "q1 Q0 d1 1 3.0 bm25\nq1 Q0 d0 2 2.0 bm25\nq1 Q0 d3 3 1.0 bm25\nq2 Q0 d3 1 5.0 bm25\nq2 Q0 d2 2 4.0 bm25\n",
        encoding="utf-8",
    )
    return ["--run", str(tmp_path / "run.txt"), "--queries", str(tmp_path / "queries.tsv"),
            "--corpus", str(tmp_path / "corpus.jsonl"), "--depth", "2", "--dtype", "float32", "--no-progress"]


def test_rerank_script_end_to_end(tmp_path, tiny_bert_dir, capsys):
    out = tmp_path / "out" / "reranked.txt"
    summary = _load_script().main(["--model", str(tiny_bert_dir), "--output", str(out), *_script_inputs(tmp_path)])
    lines = [line.split() for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(l[0], l[3], l[5]) for l in lines] == [("q1", "1", "rankkd"), ("q1", "2", "rankkd"), ("q1", "3", "rankkd"),
                                                    ("q2", "1", "rankkd"), ("q2", "2", "rankkd")]
    assert lines[2][2] == "d3"  # below depth 2: stays last
    assert summary["pairs"] == 4 and summary["queries"] == 2
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == summary


@pytest.mark.slow  # ranx compiles its metrics with numba on first use (~10 s)
def test_rerank_script_prints_ndcg_with_qrels(tmp_path, tiny_bert_dir, capsys):
    (tmp_path / "qrels.txt").write_text("q1 0 d0 2\nq2 0 d2 1\n", encoding="utf-8")
    summary = _load_script().main(["--model", str(tiny_bert_dir), "--output", str(tmp_path / "o.txt"),
                                   "--qrels", str(tmp_path / "qrels.txt"), *_script_inputs(tmp_path)])
    # input run: q1 ranks d0 (rel 2) second of 3 -> nDCG 1/log2(3) = 0.6309; q2 ranks d2 (rel 1) second -> 0.6309
    assert summary["ndcg@10_before"] == pytest.approx(0.6309, abs=1e-4)
    assert 0.0 < summary["ndcg@10_after"] <= 1.0
    assert capsys.readouterr().out.startswith(f"nDCG@10  input 0.6309  ->  re-ranked {summary['ndcg@10_after']:.4f}")
