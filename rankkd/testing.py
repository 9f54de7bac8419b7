"""Tiny models built from a config, for tests and offline demos (never downloaded)."""

from __future__ import annotations

from pathlib import Path

_WORDS = (
    "the a an of to in and is for on with what how why who when where does do are was be by as at it this that from "
    "cat dog flea life cycle cost concrete floor definition law judgment river bank money water tree leaf sun moon "
    "year day time long short big small high low good bad new old first last many much more most other some such "
    "ranking passage query document search relevant answer question model neural network learning data"
).split()


def write_wordpiece_vocab(path: Path) -> Path:
    """A small WordPiece vocabulary: special tokens, letters, ## letters and a few hundred common words."""
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [str(d) for d in range(10)]
    punct = list(".,;:!?'\"()[]-_/&%$#@*+=<>")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + letters + punct + ["##" + c for c in letters] + _WORDS
    seen: dict[str, None] = dict.fromkeys(vocab)
    path.write_text("\n".join(seen) + "\n", encoding="utf-8")
    return path


def make_tiny_cross_encoder(out_dir: str | Path, seed: int = 0, num_labels: int = 1) -> Path:
    """Save a 2-layer, 32-dim BERT sequence classifier and its tokenizer to ``out_dir``."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    vocab_path = write_wordpiece_vocab(out_dir / "vocab.txt")
    tokens = vocab_path.read_text(encoding="utf-8").split("\n")[:-1]
    tokenizer = BertTokenizerFast(vocab={tok: i for i, tok in enumerate(tokens)}, do_lower_case=True)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=num_labels,
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


_FILLER = [w for w in _WORDS if w not in {"relevant", "answer"}]


def make_toy_examples(n_queries: int = 16, n_candidates: int = 6, seed: int = 0):
    """A learnable toy ranking task in the example schema.

    Each passage holds 0, 1 or 2 copies of the word "answer" among filler words; its grade is that count. The
    "teacher" ranks by grade (ties by position) and scores ``grade + noise``; ``labels`` are the grades. A model that
    learns to count the word ranks perfectly, so a trainer that works makes nDCG go up within a few dozen steps.
    """
    import random

    import datasets

    rng = random.Random(seed)
    rows: dict[str, list] = {k: [] for k in ("qid", "query", "docids", "texts", "teacher_ranks", "teacher_scores", "labels")}
    for q in range(n_queries):
        grades = [rng.choice([0, 0, 1, 2]) for _ in range(n_candidates)]
        texts = []
        for grade in grades:
            words = [rng.choice(_FILLER) for _ in range(rng.randint(6, 12))]
            for _ in range(grade):
                words.insert(rng.randrange(len(words) + 1), "answer")
            texts.append(" ".join(words))
        order = sorted(range(n_candidates), key=lambda i: (-grades[i], i))
        ranks = [0] * n_candidates
        for rank, i in enumerate(order):
            ranks[i] = rank
        rows["qid"].append(f"q{q}")
        rows["query"].append(" ".join(rng.choice(_FILLER) for _ in range(3)))
        rows["docids"].append([f"q{q}d{i}" for i in range(n_candidates)])
        rows["texts"].append(texts)
        rows["teacher_ranks"].append(ranks)
        rows["teacher_scores"].append([g + rng.uniform(-0.2, 0.2) for g in grades])
        rows["labels"].append([float(g) for g in grades])
    return datasets.Dataset.from_dict(rows)


def main(argv: list[str] | None = None) -> None:
    """``python -m rankkd.testing toy OUT_DIR [N_QUERIES]``: save the toy task (for offline smoke runs of the scripts)."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[0] != "toy":
        raise SystemExit("usage: python -m rankkd.testing toy OUT_DIR [N_QUERIES]")
    n_queries = int(args[2]) if len(args) > 2 else 64
    make_toy_examples(n_queries, 8).save_to_disk(args[1])
    print(args[1])


if __name__ == "__main__":
    main()
