"""ListwiseSFTTrainer on a tiny Llama: completion-only labels, a short run that learns, ranking evaluation, merge."""

from __future__ import annotations

import pytest

from rankkd.data.teacher import TeacherRecord
from rankkd.listwise.data import build_sft_examples

CORPUS = {f"d{i}": f"passage number {i} about topic {i}" for i in range(4)}
RECORDS = [TeacherRecord(qid=f"q{k}", query=f"topic {k}", candidates=["d0", "d1", "d2", "d3"],
                         docids=[f"d{k}"] + [f"d{i}" for i in range(4) if i != k]) for k in range(4)]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    from rankkd.models.llm import make_tiny_causal_lm

    return make_tiny_causal_lm(tmp_path_factory.mktemp("tiny-llm"), hidden_size=64)


def _trainer(tiny_dir, tmp_path, use_lora, steps, lr, rank_eval=None):
    from transformers import AutoTokenizer

    from rankkd.listwise.sft_config import ListwiseSFTConfig
    from rankkd.listwise.sft_trainer import ListwiseSFTTrainer

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    data = build_sft_examples(RECORDS, CORPUS, tokenizer)
    config = ListwiseSFTConfig(output_dir=str(tmp_path / "out"), model_name_or_path=str(tiny_dir), use_lora=use_lora,
                               lora_r=8, max_steps=steps, learning_rate=lr, per_device_train_batch_size=4,
                               logging_steps=1, save_strategy="no", report_to="none", use_cpu=True, seed=0,
                               rank_eval_depth=4, rank_eval_window=4, rank_eval_stride=2, rank_eval_max_new_tokens=16,
                               lr_scheduler_type="constant", bf16=False, gradient_checkpointing=False,
                               max_passage_tokens=8)
    return ListwiseSFTTrainer(args=config, train_dataset=data, rank_eval=rank_eval)


def test_prompt_tokens_are_masked_in_the_collated_batch(tiny_dir, tmp_path):
    trainer = _trainer(tiny_dir, tmp_path, use_lora=True, steps=1, lr=1e-3)
    tokenizer = trainer.processing_class
    rows = [trainer.train_dataset[i] for i in range(2)]
    batch = trainer.data_collator(rows)
    labels, input_ids = batch["labels"][0], batch["input_ids"][0]
    kept = input_ids[labels != -100]
    # exactly the completion (permutation + end-of-turn) carries loss
    assert tokenizer.decode(kept).replace(" ", "") == "[1]>[2]>[3]>[4]<|im_end|>".replace(" ", "") or \
        tokenizer.decode(kept).startswith("[1] > [2] > [3] > [4]<|im_end|>")
    prompt_len = int((labels == -100).sum() - (batch["attention_mask"][0] == 0).sum())
    assert "Search Query: topic 0." in tokenizer.decode(input_ids[:prompt_len])


def test_lora_parameters_change_and_merge(tiny_dir, tmp_path):
    import torch

    trainer = _trainer(tiny_dir, tmp_path, use_lora=True, steps=2, lr=1e-2)
    lora_params = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
    assert lora_params and all("lora_" in n for n in lora_params)
    trainer.train()
    changed = [n for n, p in trainer.model.named_parameters() if n in lora_params and
               not torch.equal(p.detach(), lora_params[n])]
    assert changed
    out = trainer.save_merged(tmp_path / "merged")
    from rankkd.models.llm import load_causal_lm

    model, _ = load_causal_lm(out, dtype="float32")
    assert not any("lora_" in n for n, _ in model.named_parameters())


def test_short_sft_run_learns_the_toy_set(tiny_dir, tmp_path):
    from rankkd.listwise.sft_trainer import ListwiseEvalSet

    run = {r.qid: {d: 4.0 - i for i, d in enumerate(r.candidates)} for r in RECORDS}
    qrels = {r.qid: {r.docids[0]: 1} for r in RECORDS}
    rank_eval = ListwiseEvalSet(run=run, queries={r.qid: r.query for r in RECORDS}, corpus=CORPUS, qrels=qrels,
                                max_queries=2)
    # full fine-tuning: a random tiny model memorises 4 permutations in a few steps (LoRA on it is too weak)
    trainer = _trainer(tiny_dir, tmp_path, use_lora=False, steps=15, lr=1e-2, rank_eval=rank_eval)
    trainer.train()
    losses = [float(entry["loss"]) for entry in trainer.state.log_history if "loss" in entry]
    assert losses[-1] < 0.5 * losses[0]
    metrics = trainer.evaluate()
    assert set(metrics) >= {"eval_ndcg@10", "eval_parse_rate", "eval_clean_rate", "eval_answers"}
    assert metrics["eval_answers"] == 2.0 and 0.0 <= metrics["eval_ndcg@10"] <= 1.0


def test_config_validation(tmp_path):
    from rankkd.listwise.sft_config import ListwiseSFTConfig

    with pytest.raises(ValueError, match="target must be one of"):
        ListwiseSFTConfig(output_dir=str(tmp_path), target="nonsense", report_to="none", use_cpu=True)
    config = ListwiseSFTConfig(output_dir=str(tmp_path), target="rationale", report_to="none", use_cpu=True)
    assert config.prompt_config().reasoning and config.lora_config().r == 16
