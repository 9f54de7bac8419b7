"""Loading queries, corpora and example datasets through Hugging Face ``datasets``.

``name_or_path`` may be a directory written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``, a local
``.json``/``.jsonl``/``.parquet``/``.csv`` file, or a Hub dataset id (``datasets.load_dataset``; BEIR-style Hub
datasets use config and split ``"queries"`` / ``"corpus"`` with columns ``_id``, ``text``, ``title``).
Column names follow the same conventions as :mod:`rankkd.data.io`.
"""

from __future__ import annotations

import os
from pathlib import Path

import datasets

from rankkd.data.errors import DataFormatError, RepairReport
from rankkd.data.io import DOC_ID_KEYS, DOC_TEXT_KEYS, QUERY_ID_KEYS, QUERY_TEXT_KEYS, join_title
from rankkd.data.schema import validate_examples

_FILE_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet", ".csv": "csv"}


def load_split(name_or_path: str | os.PathLike, split: str = "train", *, config: str | None = None) -> datasets.Dataset:
    """One split as a Dataset, from a saved directory, a local file (its only split) or the Hub."""
    path = Path(name_or_path)
    if path.is_dir():
        loaded = datasets.load_from_disk(str(path))
        if isinstance(loaded, datasets.DatasetDict):
            if split not in loaded:
                raise DataFormatError(path, None, f"no split {split!r}", f"one of {sorted(loaded)}")
            return loaded[split]
        return loaded
    if path.is_file():
        builder = _FILE_BUILDERS.get(path.suffix.lower())
        if builder is None:
            raise DataFormatError(path, None, f"unsupported file suffix {path.suffix!r}",
                                  f"one of {', '.join(_FILE_BUILDERS)} (or use rankkd.data.io for TREC/TSV files)")
        # a single local file has exactly one split, which datasets calls "train"
        return datasets.load_dataset(builder, data_files=str(path), split="train")
    return datasets.load_dataset(str(name_or_path), config, split=split)


def _column(ds: datasets.Dataset, candidates: tuple[str, ...], given: str | None, source: str) -> str:
    if given is not None:
        if given not in ds.column_names:
            raise DataFormatError(source, None, f"no column {given!r}", f"one of {ds.column_names}")
        return given
    for name in candidates:
        if name in ds.column_names:
            return name
    raise DataFormatError(source, None, f"none of the columns {list(candidates)} (have {ds.column_names})",
                          "an id and a text column")


def load_queries_hf(
    name_or_path: str | os.PathLike,
    split: str = "queries",
    *,
    config: str | None = "queries",
    id_column: str | None = None,
    text_column: str | None = None,
) -> dict[str, str]:
    """``{qid: text}`` from a dataset; empty text or a repeated qid raises (naming the row)."""
    is_local = Path(name_or_path).exists()
    ds = load_split(name_or_path, split, config=None if is_local else config)
    source = str(name_or_path)
    id_col = _column(ds, QUERY_ID_KEYS, id_column, source)
    text_col = _column(ds, QUERY_TEXT_KEYS, text_column, source)
    queries: dict[str, str] = {}
    for row, (qid, text) in enumerate(zip(ds[id_col], ds[text_col])):
        qid = str(qid)
        if not text or not str(text).strip():
            raise DataFormatError(source, None, f"row {row}: empty query text for qid {qid!r}", "non-empty text")
        if qid in queries:
            raise DataFormatError(source, None, f"row {row}: duplicate qid {qid!r}", "each qid once")
        queries[qid] = str(text)
    return queries


def load_corpus_hf(
    name_or_path: str | os.PathLike,
    split: str = "corpus",
    *,
    config: str | None = "corpus",
    join_title: bool = True,
    report: RepairReport | None = None,
) -> dict[str, str]:
    """``{docid: text}`` with the same title convention and repair rules as :func:`rankkd.data.io.read_corpus`."""
    is_local = Path(name_or_path).exists()
    ds = load_split(name_or_path, split, config=None if is_local else config)
    source = str(name_or_path)
    if report is not None and not report.source:
        report.source = source
    id_col = _column(ds, DOC_ID_KEYS, None, source)
    text_col = _column(ds, DOC_TEXT_KEYS, None, source)
    titles = ds["title"] if "title" in ds.column_names else [None] * len(ds)
    corpus: dict[str, str] = {}
    for row, (docid, text, title) in enumerate(zip(ds[id_col], ds[text_col], titles)):
        docid, text = str(docid), text or ""
        if not text.strip() and report is not None:
            report.add("empty_text", f"{docid} (row {row})")
        if join_title:
            text = _join(title, text)
        if docid in corpus:
            if corpus[docid] != text:
                raise DataFormatError(source, None, f"row {row}: docid {docid!r} repeated with different text",
                                      "one text per docid")
            if report is not None:
                report.add("duplicate_docid_identical", f"{docid} (row {row})")
            continue
        corpus[docid] = text
    return corpus


_join = join_title  # load_corpus_hf's keyword argument shadows the function name


def load_examples(name_or_path: str | os.PathLike, split: str = "train", *, config: str | None = None,
                  validate: bool = True) -> datasets.Dataset:
    """An example dataset in the :mod:`rankkd.data.schema` format, validated unless ``validate=False``."""
    ds = load_split(name_or_path, split, config=config)
    if validate:
        validate_examples(ds)
    return ds
