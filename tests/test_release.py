"""What a user shares: model cards written on save, load_ranker for every kind, compatibility with other loaders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rankkd.testing import make_toy_examples


@pytest.fixture(scope="module")
def trained_dir(tiny_bert_dir, tmp_path_factory):
    """A tiny cross-encoder trained for 2 steps through the real script entry point."""
    from rankkd.commands.train_listwise import main

    root = tmp_path_factory.mktemp("release")
    make_toy_examples(8, 6).save_to_disk(str(root / "toy"))
    out = root / "student"
    main(["--model_name_or_path", str(tiny_bert_dir), "--train_examples", str(root / "toy"), "--output_dir", str(out),
          "--max_steps", "2", "--per_device_train_batch_size", "4", "--save_strategy", "no", "--report_to", "none",
          "--use_cpu", "true", "--loss", "listnet+ranknet", "--loss_weights", "0.5", "0.5",
          "--teacher_name", "toy teacher", "--disable_tqdm", "true"])
    return out


def test_model_card_names_base_teacher_data_losses_and_citations(trained_dir, tiny_bert_dir):
    card = (trained_dir / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: transformers")
    assert f"base_model: {tiny_bert_dir}" in card
    assert "toy teacher" in card and "(8 rows)" in card
    assert "`ListNetLoss`" in card and "`RankNetLoss`" in card
    assert "Cao" in card  # ListNet's citation
    assert "| `learning_rate` |" in card
    metrics = json.loads((trained_dir / "rankkd_metrics.json").read_text())
    assert metrics["init_model"] == str(tiny_bert_dir)


def test_load_ranker_and_other_loaders_agree(trained_dir):
    import torch
    from sentence_transformers import CrossEncoder
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from rankkd import load_ranker
    from rankkd.inference import PointwiseReranker

    queries, passages = ["the cat answer"] * 2, ["answer the dog", "a tree leaf"]
    ranker = load_ranker(trained_dir, dtype="float32", show_progress=False)
    assert isinstance(ranker, PointwiseReranker)
    ours = ranker.score_pairs(queries, passages)
    st = CrossEncoder(str(trained_dir), device="cpu").predict(list(zip(queries, passages)), activation_fn=torch.nn.Identity())
    np.testing.assert_allclose(ours, st, atol=1e-5)
    model = AutoModelForSequenceClassification.from_pretrained(trained_dir).eval()
    tok = AutoTokenizer.from_pretrained(trained_dir)
    with torch.no_grad():
        plain = model(**tok(queries, passages, return_tensors="pt", padding=True)).logits[:, 0].numpy()
    np.testing.assert_allclose(ours, plain, atol=1e-5)


def test_load_ranker_takes_a_lora_adapter(tiny_bert_dir, tmp_path):
    from rankkd import load_ranker
    from rankkd.trainers import ListwiseConfig, ListwiseTrainer

    args = ListwiseConfig(output_dir=str(tmp_path / "lora"), use_lora=True, lora_r=4, lora_target_modules=["query"],
                          max_steps=1, per_device_train_batch_size=2, report_to="none", use_cpu=True,
                          save_strategy="no", group_size=6)
    trainer = ListwiseTrainer(model=str(tiny_bert_dir), args=args, train_dataset=make_toy_examples(4, 6))
    trainer.train()
    trainer.save_model(str(tmp_path / "lora"))
    assert (tmp_path / "lora" / "adapter_config.json").is_file()
    ranker = load_ranker(tmp_path / "lora", dtype="float32", show_progress=False)
    scores = ranker.score_pairs(["cat"], ["answer"])
    assert scores.shape == (1,) and np.isfinite(scores).all()


def test_load_ranker_takes_a_causal_lm_as_listwise(tmp_path):
    from rankkd import load_ranker
    from rankkd.models.llm import make_tiny_causal_lm
    from rankkd.ranker import ListwiseReranker, ranker_kind

    path = make_tiny_causal_lm(tmp_path / "lm")
    assert ranker_kind(path) == "listwise"
    assert isinstance(load_ranker(path, mode="single-token", window=4, stride=2), ListwiseReranker)


def test_load_ranker_refuses_what_it_cannot_rank(tmp_path):
    from rankkd.ranker import ranker_kind

    with pytest.raises(ValueError, match="no config.json or adapter_config.json"):
        ranker_kind(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    with pytest.raises(ValueError, match="neither a sequence classifier"):
        ranker_kind(tmp_path)


def test_push_model_offline_gives_a_clear_error_without_the_token(trained_dir, monkeypatch, caplog):
    import huggingface_hub.constants

    from rankkd.hub import HubPushError, push_model

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    secret = "hf_" + "x" * 30
    with caplog.at_level("DEBUG"), pytest.raises(HubPushError, match="offline mode is on") as info:
        push_model(trained_dir, "someone/student", token=secret)
    assert secret not in str(info.value) and secret not in caplog.text


def test_push_model_refuses_a_folder_without_card(tmp_path):
    from rankkd.hub import push_model

    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="no README.md model card"):
        push_model(tmp_path, "someone/student")


def test_hub_errors_scrub_the_token():
    from rankkd.hub import HubPushError, hub_errors

    secret = "hf_" + "y" * 30
    with pytest.raises(HubPushError) as info:
        with hub_errors("someone/x", secret):
            raise ConnectionError(f"401 for token {secret}")
    assert "***" in str(info.value) and secret not in str(info.value)


def test_training_continues_from_a_saved_lora_adapter(tiny_bert_dir, tmp_path):
    """A LoRA adapter folder given as the student is loaded trainable (curricula chain adapter stages)."""
    import torch

    from rankkd.trainers import ListwiseConfig, ListwiseTrainer

    def config(out):
        return ListwiseConfig(output_dir=str(out), use_lora=True, lora_r=4, lora_target_modules=["query"],
                              max_steps=1, per_device_train_batch_size=2, report_to="none", use_cpu=True,
                              save_strategy="no", group_size=6, learning_rate=1e-2)

    first = ListwiseTrainer(model=str(tiny_bert_dir), args=config(tmp_path / "a"), train_dataset=make_toy_examples(4, 6))
    first.train()
    first.save_model(str(tmp_path / "a"))
    second = ListwiseTrainer(model=str(tmp_path / "a"), args=config(tmp_path / "b"), train_dataset=make_toy_examples(4, 6))
    trainable = {n: p.detach().clone() for n, p in second.model.named_parameters() if p.requires_grad}
    assert any("lora_" in n for n in trainable)
    second.train()
    assert any(not torch.equal(p, trainable[n]) for n, p in second.model.named_parameters() if n in trainable)


def test_push_dataset_offline_gives_a_clear_error_and_keeps_the_card(tmp_path, monkeypatch):
    import datasets
    import huggingface_hub.constants

    from rankkd.hub import HubPushError, push_dataset, save_dataset_dict

    dd = datasets.DatasetDict({"train": make_toy_examples(3, 4)})
    folder = save_dataset_dict(dd, tmp_path / "ds", meta={"pretty_name": "toy", "teacher": "toy teacher"})
    card = (folder / "README.md").read_text()
    assert "toy teacher" in card and "teacher_ranks" in card
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    with pytest.raises(HubPushError, match="cannot push to 'someone/toy'"):
        push_dataset(folder, "someone/toy", token="hf_" + "z" * 30)


def test_default_cross_encoder_head_is_seeded(tmp_path):
    import torch
    from transformers import AutoModelForSequenceClassification

    from rankkd.models.pretrained import save_default_cross_encoder

    heads = []
    for name in ("a", "b"):
        folder = save_default_cross_encoder(tmp_path / name, seed=3)
        model = AutoModelForSequenceClassification.from_pretrained(folder)
        assert model.config.num_labels == 1 and (folder / "tokenizer.json").is_file()
        heads.append(model.classifier.weight.detach())
    torch.testing.assert_close(heads[0], heads[1])
