"""Data recipes end to end on tiny corpora with tiny models (offline), incl. a SIGKILL crash and resume."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import datasets
import pytest

REPO = Path(__file__).resolve().parents[1]
TOPICS = ["cats sleep on warm mats during the afternoon", "quantum computers use qubits for computation",
          "rivers flow from the mountains to the sea", "bread is baked from flour water and yeast",
          "volcanoes erupt molten rock called lava", "bees collect nectar from flowers to make honey"]


def recipe(name: str):
    spec = importlib.util.spec_from_file_location(f"recipe_{name}", REPO / "data_recipes" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """A tiny collection (36 docs, 4 queries, run, qrels, CoT teacher windows) and a tiny causal LM."""
    from rankkd.data.io import write_corpus, write_qrels, write_queries, write_run
    from rankkd.models.llm import make_tiny_causal_lm

    root = tmp_path_factory.mktemp("collection")
    corpus = {f"d{i}": f"{TOPICS[i % 6].capitalize()}. Document {i} talks about {TOPICS[i % 6].split()[0]} in "
                       f"detail. A final sentence number {i} closes it." for i in range(36)}
    write_corpus(corpus, root / "corpus.jsonl")
    queries = {f"q{t}": TOPICS[t].split(" ", 3)[-1] for t in range(4)}
    write_queries(queries, root / "queries.tsv")
    run = {f"q{t}": {f"d{i}": float(40 - i) for i in range(t, 36, 3)} for t in range(4)}
    write_run(run, root / "run.txt")
    write_qrels({f"q{t}": {f"d{t}": 2, f"d{t + 6}": 1} for t in range(3)}, root / "qrels.txt")
    windows = [{"qid": f"q{t}", "query": queries[f"q{t}"], "window": 0, "candidates": [f"d{t}", f"d{t + 3}",
                f"d{t + 6}"], "docids": [f"d{t + 6}", f"d{t}", f"d{t + 3}"],
                "rationale": "[3] directly addresses the query.\n[1] is related.\n[2] mentions other topics.\n\n"
                             "[3] > [1] > [2]"} for t in range(4)]
    (root / "teacher_cot.jsonl").write_text("".join(json.dumps(w) + "\n" for w in windows))
    full = [{"qid": f"q{t}", "query": queries[f"q{t}"], "docids": list(reversed(list(run[f"q{t}"])))[:20]}
            for t in range(4)]
    (root / "teacher.jsonl").write_text("".join(json.dumps(r) + "\n" for r in full))
    lm = make_tiny_causal_lm(root / "lm")
    return root, lm


def _twolar_args(root: Path, lm: Path, dense: Path, out: Path, cache: Path) -> list[str]:
    # single-token (FIRST) ranking: a random tiny LM then gives real, non-trivial permutations
    return ["--corpus", str(root / "corpus.jsonl"), "--n-crop", "10", "--teacher", str(lm), "--mode",
            "single-token", "--dense-model", str(dense), "--depth", "7", "--window", "4", "--stride", "2",
            "--teacher-batch-size", "1", "--dtype", "float32", "--out", str(out), "--cache", str(cache),
            "--license", "cc-by-4.0", "--quiet"]


def _rows(path: Path) -> list[dict]:
    return datasets.load_from_disk(str(path))["train"].to_list()


@pytest.mark.slow
def test_twolar_end_to_end(collection, tiny_bert_dir, tmp_path):
    from rankkd.data.hf import load_examples
    from rankkd.data.teacher import read_teacher

    root, lm = collection
    out = recipe("twolar").main(_twolar_args(root, lm, tiny_bert_dir, tmp_path / "out", tmp_path / "c.sqlite"))
    train = load_examples(out)  # what scripts/train_listwise.py --train_examples OUT loads (validated)
    assert len(train) == 10
    assert {"teacher_ranks", "first_stage_scores", "labels"} <= set(train.column_names)
    for row in train:
        assert len(row["docids"]) == 7 and sorted(row["teacher_ranks"]) == list(range(7))
        source = row["qid"].split("-")[1]  # crop-<docid>-<i>
        assert [d for d, label in zip(row["docids"], row["labels"]) if label is not None] == (
            [source] if source in row["docids"] else [])
    assert any(row["teacher_ranks"] != list(range(7)) for row in train)  # the teacher actually re-ordered
    card = (out / "README.md").read_text()
    assert "license: cc-by-4.0" in card and "| train | 10 |" in card and "template_hash" in card
    prov = json.loads((out / "provenance.json").read_text())
    teacher = prov["teacher"]
    assert (teacher["window"], teacher["stride"], teacher["depth"], teacher["passes"]) == (4, 2, 7, 1)
    assert teacher["windows"] == 10 * 3 and teacher["cache"]["computed"] == 30  # 7 docs, window 4 -> 3 windows
    assert prov["queries"]["crop"] == 10 and prov["retrievers"]["names"] == ["bm25", "dense"]
    assert len(read_teacher(out / "teacher.jsonl")) == 10 and len(read_teacher(out / "teacher_windows.jsonl")) == 30


@pytest.mark.slow
def test_twolar_resumes_after_sigkill_without_recomputing(collection, tiny_bert_dir, tmp_path):
    from rankkd.teachers import TeacherCache
    from rankkd.teachers.cache import HANG_AFTER_ENV

    root, lm = collection
    reference = recipe("twolar").main(_twolar_args(root, lm, tiny_bert_dir, tmp_path / "ref", tmp_path / "ref.db"))
    cache_file = tmp_path / "crash.db"
    args = _twolar_args(root, lm, tiny_bert_dir, tmp_path / "crash", cache_file)
    env = {**os.environ, HANG_AFTER_ENV: "7", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, str(REPO / "data_recipes" / "twolar.py"), *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            if cache_file.exists():
                with TeacherCache(cache_file) as cache:
                    if len(cache) >= 7:
                        break
            assert proc.poll() is None, "the annotation process ended before the crash"
            time.sleep(0.2)
        else:
            pytest.fail("the annotation never cached 7 windows")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "crash").exists()  # nothing half-saved
    with TeacherCache(cache_file) as cache:
        done_before = len(cache)
    assert done_before == 7

    resumed = recipe("twolar").main(args)
    with TeacherCache(cache_file) as cache:
        assert cache.max_recomputations() == 0  # no finished window computed twice
        assert cache.total_computed() == len(cache) == 30
    prov = json.loads((resumed / "provenance.json").read_text())["teacher"]["cache"]
    assert prov == {"hits": 7, "computed": 23}
    assert _rows(resumed) == _rows(reference)


def test_rank_distillm_and_multistage_from_teacher_file(collection, tmp_path):
    root, _ = collection
    common = ["--queries", str(root / "queries.tsv"), "--corpus", str(root / "corpus.jsonl"), "--run",
              str(root / "run.txt"), "--qrels", str(root / "qrels.txt"), "--teacher-file",
              str(root / "teacher.jsonl"), "--depth", "5", "--group-size", "4", "--quiet"]
    out = recipe("rank_distillm").main([*common, "--out", str(tmp_path / "rd")])
    dd = datasets.load_from_disk(str(out))
    assert sorted(dd) == ["pretrain", "train"]
    row = dd["train"][0]  # q0: run d0, d3, ...; teacher order reversed -> d12 best among the top 5
    assert row["docids"] == ["d0", "d3", "d6", "d9", "d12"] and row["teacher_ranks"] == [4, 3, 2, 1, 0]
    assert row["labels"] == [2.0, None, 1.0, None, None]
    assert len(dd["pretrain"]) == 3  # q3 has no positive: skipped and counted
    assert all(len(r["docids"]) == 4 and r["labels"][0] >= 1 for r in dd["pretrain"])
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["input_repairs"]["query_without_positive_skipped"] == 1

    out = recipe("multistage").main([*common, "--out", str(tmp_path / "ms")])
    dd = datasets.load_from_disk(str(out))
    assert sorted(dd) == ["contrastive", "distill", "train"]
    assert "labels" in dd["train"].column_names and "labels" not in dd["distill"].column_names


def test_dear_and_reason_to_rank(collection, tiny_bert_dir, tmp_path):
    root, lm = collection
    common = ["--queries", str(root / "queries.tsv"), "--corpus", str(root / "corpus.jsonl"),
              "--cot-file", str(root / "teacher_cot.jsonl"), "--student-tokenizer", str(lm), "--quiet"]
    out = recipe("dear").main([*common, "--run", str(root / "run.txt"), "--qrels", str(root / "qrels.txt"),
                               "--pointwise-teacher", str(tiny_bert_dir), "--depth", "4", "--out",
                               str(tmp_path / "dear")])
    dd = datasets.load_from_disk(str(out))
    train = dd["train"]
    assert len(train) == 4 and all(len(r["teacher_scores"]) == 4 for r in train)
    for r in train:  # ranks follow the scores
        assert [r["teacher_ranks"][i] for i in sorted(range(4), key=lambda i: -r["teacher_scores"][i])] == [0, 1, 2, 3]
    sft = dd["cot_sft"]
    assert len(sft) == 4
    assert sft[0]["completion"][0]["content"].endswith("[3] > [1] > [2]")
    assert "directly addresses" in sft[0]["completion"][0]["content"]

    out = recipe("reason_to_rank").main([*common, "--out", str(tmp_path / "r2r")])
    dd = datasets.load_from_disk(str(out))
    assert sorted(dd) == ["comparative", "listwise", "pointwise"]
    assert len(dd["pointwise"]) == 12 and len(dd["comparative"]) == 4
    judgements = [r["completion"][0]["content"].rsplit("Judgement: ", 1)[1] for r in dd["pointwise"]]
    assert judgements[:3] == ["relevant", "not relevant", "relevant"]  # [1] rank 2, [2] rank 3, [3] rank 1


def test_import_shared_folder_and_hub(collection, tmp_path, monkeypatch):
    root, _ = collection
    shared = tmp_path / "shared"
    (shared / "toy").mkdir(parents=True)
    for name in ("queries.tsv", "corpus.jsonl", "qrels.txt", "teacher.jsonl", "teacher_cot.jsonl"):
        (shared / "toy" / name).write_bytes((root / name).read_bytes())
    (shared / "toy" / "run.bm25.txt").write_bytes((root / "run.txt").read_bytes())
    mod = recipe("import_shared")
    (out,) = mod.main(["--shared", str(shared), "--out", str(tmp_path / "imp"), "--with-qrels", "--quiet"])
    dd = datasets.load_from_disk(str(out))
    assert sorted(dd) == ["teacher", "teacher_cot"]
    assert len(dd["teacher"]) == 4 and dd["teacher"][0]["docids"][:2] == ["d0", "d3"]  # first-stage order
    assert dd["teacher_cot"][0]["rationale"].endswith("[3] > [1] > [2]")

    chat = datasets.Dataset.from_dict({"conversations": [[{"from": "human", "value": "rank these"},
                                                           {"from": "gpt", "value": "[2] > [1]"}]]})
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: chat)
    (out,) = mod.main(["--hub-id", "someone/cot", "--out", str(tmp_path / "hub"), "--quiet"])
    row = datasets.load_from_disk(str(out))["train"][0]
    assert row["prompt"] == [{"role": "user", "content": "rank these"}]
    assert row["completion"] == [{"role": "assistant", "content": "[2] > [1]"}]
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: datasets.Dataset.from_dict({"x": [1]}))
    from rankkd.data.errors import DataFormatError

    with pytest.raises(DataFormatError, match=r"someone/cot\[train\]: unrecognised columns \['x'\]"):
        mod.main(["--hub-id", "someone/cot", "--out", str(tmp_path / "hub2"), "--quiet"])


@pytest.mark.slow
def test_import_shared_real_r2r(shared_data, tmp_path):
    (out,) = recipe("import_shared").main(["--shared", str(shared_data), "--folders", "msmarco-train-r2r-cot",
                                           "--out", str(tmp_path), "--quiet"])
    dd = datasets.load_from_disk(str(out))
    assert len(dd["teacher"]) == 2200 and len(dd["teacher_gpt_4"]) == 600
    assert all(len(d) == 5 for d in dd["teacher"][:50]["docids"])
