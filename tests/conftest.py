"""Shared fixtures: the staged real data beside the repo (skipped when absent) and tiny offline models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RANKKD_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or $RANKKD_SHARED_DATA); the test is skipped when it is not there."""
    if not (SHARED_DATA / "trec-dl-2019" / "qrels.txt").is_file():
        pytest.skip(f"real data not found at {SHARED_DATA} (set RANKKD_SHARED_DATA or place shared/ beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    """A 2-layer BERT cross-encoder (num_labels=1) with a real WordPiece tokenizer, saved to disk; built in ms."""
    from rankkd.testing import make_tiny_cross_encoder

    return make_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-bert"))
