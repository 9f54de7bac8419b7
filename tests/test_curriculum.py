"""Multi-stage curricula: each stage starts from the previous one's model; finished stages are skipped on re-run."""

from __future__ import annotations

import json

import pytest

from rankkd.testing import make_toy_examples


def _spec(tiny_bert_dir, tmp_path):
    data = tmp_path / "toy"
    make_toy_examples(8, 6).save_to_disk(str(data))
    common = dict(train_examples=str(data), max_steps=2, per_device_train_batch_size=4, save_strategy="no",
                  report_to="none", use_cpu=True, learning_rate=1e-3, disable_tqdm=True)
    return {
        "output_dir": str(tmp_path / "cur"),
        "model_name_or_path": str(tiny_bert_dir),
        "defaults": common,
        "stages": [
            {"name": "contrastive", "trainer": "listwise", "loss": "infonce", "target": "none",
             "sampling": "single_relevant", "group_size": 4},
            {"name": "distill", "trainer": "listwise", "loss": "ranknet", "group_size": 6},
        ],
    }


def test_stages_chain_and_finished_stages_are_skipped(tiny_bert_dir, tmp_path, caplog):
    from rankkd.trainers.curriculum import run_curriculum

    spec = _spec(tiny_bert_dir, tmp_path)
    results = run_curriculum(spec)
    assert [r["stage"] for r in results] == ["contrastive", "distill"]
    first, second = (tmp_path / "cur" / "0-contrastive"), (tmp_path / "cur" / "1-distill")
    assert (first / "rankkd_metrics.json").is_file() and (second / "model.safetensors").is_file()
    # stage 2 started from stage 1's saved model
    assert json.loads((second / "rankkd_metrics.json").read_text())["init_model"] == str(first)
    assert results[0]["metrics"]["init_model"] == str(tiny_bert_dir)

    stamp = (second / "model.safetensors").stat().st_mtime_ns
    with caplog.at_level("INFO"):
        again = run_curriculum(spec)
    assert (second / "model.safetensors").stat().st_mtime_ns == stamp
    assert "finished earlier: skipping" in caplog.text
    assert again[1]["metrics"] == results[1]["metrics"]


def test_unknown_trainer_is_named(tiny_bert_dir, tmp_path):
    from rankkd.trainers.curriculum import run_curriculum

    spec = _spec(tiny_bert_dir, tmp_path)
    spec["stages"][0]["trainer"] = "pairwise_magic"
    with pytest.raises(ValueError, match=r"stage 0 \(contrastive\): unknown trainer 'pairwise_magic'"):
        run_curriculum(spec)


def test_biencoder_stages_chain(tiny_bert_dir, tmp_path):
    import torch
    from safetensors.torch import load_file

    from rankkd.trainers.curriculum import run_curriculum

    spec = _spec(tiny_bert_dir, tmp_path)
    for stage in spec["stages"]:
        stage["trainer"] = "biencoder"
    results = run_curriculum(spec)
    first, second = (tmp_path / "cur" / "0-contrastive"), (tmp_path / "cur" / "1-distill")
    assert results[1]["metrics"]["init_model"] == str(first)
    a, b = load_file(str(first / "model.safetensors")), load_file(str(second / "model.safetensors"))
    # the second stage trained the first stage's encoder further
    name = next(k for k in a if k.endswith("query.weight"))
    assert a[name].shape == b[name].shape and not torch.equal(a[name], b[name])
