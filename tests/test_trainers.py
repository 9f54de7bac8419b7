"""Trainer behaviour on a learnable toy task with a tiny BERT: parameters change, losses are logged, ranking improves."""

from __future__ import annotations

import math

import pytest
import torch

from rankkd.testing import make_toy_examples


def _tiny_model(path, dropout: float = 0.0):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=1, hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout
    )
    return model, AutoTokenizer.from_pretrained(path)


def _evaluator(ds):
    """A RankingEvaluator over the toy rows: run = candidate order, qrels = the grades."""
    from rankkd.evaluation.ranking_evaluator import RankingEvaluator

    run, qrels, queries, corpus = {}, {}, {}, {}
    for row in ds:
        queries[row["qid"]] = row["query"]
        run[row["qid"]] = {d: float(len(row["docids"]) - i) for i, d in enumerate(row["docids"])}
        qrels[row["qid"]] = {d: int(y) for d, y in zip(row["docids"], row["labels"])}
        corpus.update(zip(row["docids"], row["texts"]))
    return RankingEvaluator(run=run, queries=queries, corpus=corpus, qrels=qrels, depth=100, metrics=("ndcg@10",))


def _config(cls, tmp_path, **kw):
    defaults = dict(
        output_dir=str(tmp_path / "out"),
        per_device_train_batch_size=4,
        learning_rate=3e-3,
        num_train_epochs=6,
        logging_steps=5,
        save_strategy="no",
        report_to="none",
        seed=0,
        use_cpu=True,
        group_size=6,
        disable_tqdm=True,
    )
    defaults.update(kw)
    return cls(**defaults)


def _snapshot(model):
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def test_listwise_ranknet_learns_and_changes_every_parameter(tiny_bert_dir, tmp_path):
    from rankkd.trainers import ListwiseConfig, ListwiseTrainer

    train, held_out = make_toy_examples(32, 6, seed=1), make_toy_examples(12, 6, seed=2)
    model, tokenizer = _tiny_model(tiny_bert_dir)
    evaluator = _evaluator(held_out)
    before_ndcg = evaluator(model, tokenizer)["ndcg@10"]
    before = _snapshot(model)
    args = _config(ListwiseConfig, tmp_path, loss="ranknet")
    trainer = ListwiseTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer)
    trainer.train()
    after_ndcg = evaluator(model, tokenizer)["ndcg@10"]
    unchanged = [n for n, p in model.named_parameters() if p.requires_grad and torch.equal(p, before[n])]
    # Embeddings of tokens that never occur (and the unused pooler bias path) can legitimately stay put.
    unchanged = [n for n in unchanged if "embeddings" not in n]
    assert not unchanged, f"parameters that did not change: {unchanged}"
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert losses and all(math.isfinite(x) for x in losses)
    assert after_ndcg > before_ndcg + 0.05, (before_ndcg, after_ndcg)


def test_combined_loss_logs_each_component(tiny_bert_dir, tmp_path):
    from rankkd.trainers import ListwiseConfig, ListwiseTrainer

    model, tokenizer = _tiny_model(tiny_bert_dir)
    args = _config(ListwiseConfig, tmp_path, loss="listnet+ranknet", loss_weights=[0.3, 0.7], num_train_epochs=1,
                   logging_steps=2)
    trainer = ListwiseTrainer(model=model, args=args, train_dataset=make_toy_examples(16, 6), processing_class=tokenizer)
    trainer.train()
    logged = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert logged and {"loss_listnet", "loss_ranknet"} <= set(logged[0])


def test_config_rejects_mismatched_loss_weights(tmp_path):
    from rankkd.trainers import ListwiseConfig

    with pytest.raises(ValueError, match=r"2 component\(s\) but loss_weights has 1"):
        _config(ListwiseConfig, tmp_path, loss="kl_div+ranknet", loss_weights=[1.0])


def test_unknown_loss_name_lists_the_available_ones(tiny_bert_dir, tmp_path):
    from rankkd.trainers import ListwiseConfig, ListwiseTrainer

    model, tokenizer = _tiny_model(tiny_bert_dir)
    args = _config(ListwiseConfig, tmp_path, loss="no_such_loss")
    with pytest.raises(ValueError, match="ranknet"):
        ListwiseTrainer(model=model, args=args, train_dataset=make_toy_examples(4, 6), processing_class=tokenizer)


def test_gradient_accumulation_matches_a_larger_batch(tiny_bert_dir, tmp_path):
    """One SGD step on 4 queries == one step accumulated over 2 x 2 queries (no dropout, fixed groups).

    SGD, not Adam: RankNet leaves the head bias without gradient, and Adam would turn float noise there into a full step.
    """
    from rankkd.trainers import ListwiseConfig, ListwiseTrainer

    data = make_toy_examples(4, 6, seed=3)
    params = []
    for batch, accumulation in ((4, 1), (2, 2)):
        model, tokenizer = _tiny_model(tiny_bert_dir)
        initial = torch.cat([p.detach().flatten() for p in model.parameters()])
        args = _config(ListwiseConfig, tmp_path / f"ga{accumulation}", loss="ranknet", num_train_epochs=1,
                       per_device_train_batch_size=batch, gradient_accumulation_steps=accumulation,
                       learning_rate=100.0, lr_scheduler_type="constant", warmup_steps=0, optim="sgd")
        trainer = ListwiseTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
        trainer.train()
        assert trainer.state.global_step == 1
        params.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
        assert (params[-1] - initial).abs().max() > 5e-3  # the step really moved the weights
    torch.testing.assert_close(params[0], params[1], atol=2e-5, rtol=1e-4)


def test_pointwise_kd_with_dataset_teacher_scores(tiny_bert_dir, tmp_path):
    from rankkd.trainers import PointwiseKDConfig, PointwiseKDTrainer

    model, tokenizer = _tiny_model(tiny_bert_dir)
    before = _snapshot(model)
    args = _config(PointwiseKDConfig, tmp_path, group_size=2, num_train_epochs=2, logging_steps=2)
    trainer = PointwiseKDTrainer(model=model, args=args, train_dataset=make_toy_examples(16, 6),
                                 processing_class=tokenizer)
    trainer.train()
    logged = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert {"loss_kl_div", "loss_ranknet"} <= set(logged[0])
    assert any(not torch.equal(p, before[n]) for n, p in model.named_parameters() if n in before)


def test_pointwise_kd_online_teacher_is_frozen_and_drives_the_student(tiny_bert_dir, tmp_path):
    from rankkd.testing import make_tiny_cross_encoder
    from rankkd.trainers import PointwiseKDConfig, PointwiseKDTrainer

    teacher_dir = make_tiny_cross_encoder(tmp_path / "teacher", seed=7)
    teacher, teacher_tokenizer = _tiny_model(teacher_dir)
    teacher_before = _snapshot(teacher)
    model, tokenizer = _tiny_model(tiny_bert_dir)
    student_before = _snapshot(model)
    args = _config(PointwiseKDConfig, tmp_path, group_size=3, num_train_epochs=1, sampling="top",
                   ranking_target="teacher", teacher_dtype="float32")
    trainer = PointwiseKDTrainer(model=model, args=args, train_dataset=make_toy_examples(8, 6),
                                 processing_class=tokenizer, teacher_model=teacher, teacher_tokenizer=teacher_tokenizer)
    trainer.train()
    assert all(torch.equal(p, teacher_before[n]) for n, p in teacher.named_parameters())
    assert any(not torch.equal(p, student_before[n]) for n, p in model.named_parameters() if n in student_before)


def test_lora_trains_only_the_adapter_and_head(tiny_bert_dir, tmp_path):
    from rankkd.trainers import ListwiseConfig, ListwiseTrainer

    model, tokenizer = _tiny_model(tiny_bert_dir)
    args = _config(ListwiseConfig, tmp_path, use_lora=True, lora_r=4, lora_target_modules=["query", "value"],
                   num_train_epochs=1)
    trainer = ListwiseTrainer(model=model, args=args, train_dataset=make_toy_examples(8, 6), processing_class=tokenizer)
    trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n or "classifier" in n for n in trainable), trainable
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    changed = {n for n, p in trainer.model.named_parameters() if not torch.equal(p, before[n])}
    assert changed and all("lora_" in n or "classifier" in n for n in changed)


def test_checkpoint_resume_continues_where_it_stopped(tiny_bert_dir, tmp_path):
    from rankkd.trainers import ListwiseConfig, ListwiseTrainer

    data = make_toy_examples(16, 6)
    model, tokenizer = _tiny_model(tiny_bert_dir)
    args = _config(ListwiseConfig, tmp_path, num_train_epochs=1, save_strategy="steps", save_steps=2, max_steps=2)
    ListwiseTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer).train()
    assert (tmp_path / "out" / "checkpoint-2").is_dir()
    model, tokenizer = _tiny_model(tiny_bert_dir)
    args = _config(ListwiseConfig, tmp_path, num_train_epochs=1, save_strategy="no", max_steps=4)
    trainer = ListwiseTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
    trainer.train(resume_from_checkpoint=str(tmp_path / "out" / "checkpoint-2"))
    assert trainer.state.global_step == 4
    steps = [entry["step"] for entry in trainer.state.log_history if "loss" in entry]
    assert not steps or min(steps) > 2  # the finished steps were not redone


def test_ranking_evaluator_keeps_the_best_checkpoint(tiny_bert_dir, tmp_path):
    from rankkd.trainers import ListwiseConfig, ListwiseTrainer

    model, tokenizer = _tiny_model(tiny_bert_dir)
    evaluator = _evaluator(make_toy_examples(8, 6, seed=5))
    args = _config(ListwiseConfig, tmp_path, num_train_epochs=3, eval_strategy="epoch", save_strategy="epoch",
                   load_best_model_at_end=True, metric_for_best_model="ndcg@10", save_total_limit=1)
    trainer = ListwiseTrainer(model=model, args=args, train_dataset=make_toy_examples(16, 6),
                              processing_class=tokenizer, ranking_evaluator=evaluator)
    trainer.train()
    evals = [entry["eval_ndcg@10"] for entry in trainer.state.log_history if "eval_ndcg@10" in entry]
    assert len(evals) >= 3
    assert trainer.state.best_metric == pytest.approx(max(evals))


def test_length_sorted_chunks_give_the_scores_of_one_padded_pass(tiny_bert_dir, tmp_path):
    from rankkd.trainers import ListwiseConfig, ListwiseTrainer

    model, tokenizer = _tiny_model(tiny_bert_dir)
    model.eval()
    data = make_toy_examples(6, 6, seed=9)
    scores = []
    for chunk in (None, 5):
        args = _config(ListwiseConfig, tmp_path, length_sorted_chunks=chunk)
        trainer = ListwiseTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
        batch = trainer.data_collator([data[i] for i in range(6)])
        with torch.no_grad():
            scores.append(trainer.score_groups(model, batch))
    assert scores[0].shape == (6, 6)
    torch.testing.assert_close(scores[0], scores[1], atol=1e-5, rtol=1e-5)


def test_biencoder_student_learns_and_saves_a_plain_encoder(tiny_bert_dir, tmp_path):
    import numpy as np
    from transformers import AutoModel, AutoTokenizer

    from rankkd.inference.biencoder import BiEncoderReranker
    from rankkd.trainers import BiEncoderListwiseConfig, BiEncoderListwiseTrainer

    train, held_out = make_toy_examples(32, 6, seed=1), make_toy_examples(12, 6, seed=2)
    model = AutoModel.from_pretrained(tiny_bert_dir, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_dir)

    def ndcg(m):
        from rankkd.evaluation import evaluate_run

        ev = _evaluator(held_out)
        return evaluate_run(ev.qrels, BiEncoderReranker(m, tokenizer, show_progress=False).rerank(
            ev.run, ev.queries, ev.corpus), metrics=("ndcg@10",))["ndcg@10"]

    before_ndcg, before = ndcg(model), _snapshot(model)
    args = _config(BiEncoderListwiseConfig, tmp_path, loss="ranknet", learning_rate=3e-3, temperature=0.1)
    trainer = BiEncoderListwiseTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer)
    trainer.train()
    assert any(not torch.equal(p, before[n]) for n, p in model.named_parameters() if n in before)
    assert ndcg(model) > before_ndcg + 0.05
    trainer.save_model(str(tmp_path / "bi"))
    reloaded = BiEncoderReranker.from_pretrained(tmp_path / "bi", dtype="float32", show_progress=False)
    np.testing.assert_allclose(
        reloaded.score_pairs(["a cat"], ["answer"]),
        BiEncoderReranker(model.float(), tokenizer, show_progress=False).score_pairs(["a cat"], ["answer"]), atol=1e-5)
