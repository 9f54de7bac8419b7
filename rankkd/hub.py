"""Saving, documenting and publishing rankkd datasets.

* :func:`save_dataset_dict` -- ``DatasetDict.save_to_disk`` into a temporary sibling folder, card and provenance
  written there too, then renamed over ``out_dir``: a crash never leaves a half-written dataset folder behind;
* :func:`write_dataset_card` -- a Hub dataset card (``README.md``: YAML metadata + splits, columns, teacher,
  provenance, license);
* :func:`push_dataset` -- ``push_to_hub`` plus the card; the token comes from ``$HF_TOKEN`` (never printed).

The saved folder loads with ``datasets.load_from_disk`` and directly as ``--train_examples`` of the training scripts.
"""

from __future__ import annotations

import contextlib

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

logger = logging.getLogger(__name__)

#: What each known column holds (the example schema of :mod:`rankkd.data.schema` and the SFT rows of
#: :mod:`rankkd.listwise.data`).
COLUMN_DOCS: dict[str, str] = {
    "qid": "query id",
    "query": "query text",
    "docids": "candidate passage ids, in first-stage / presented order",
    "texts": "candidate passage texts, aligned with `docids`",
    "first_stage_scores": "first-stage retrieval score of each candidate",
    "teacher_ranks": "0-based rank of each candidate in the teacher's order (0 = best)",
    "teacher_scores": "the teacher's own relevance score of each candidate",
    "labels": "graded relevance labels; unjudged candidates are null (not 0)",
    "rationale": "the teacher's free-text output (reasoning) for this row",
    "prompt": "chat messages shown to the student (system + user)",
    "completion": "the assistant answer to learn (reasoning and/or permutation)",
    "order": "0-based teacher permutation of `docids`",
}


def _feature_type(feature: Any) -> str:
    """A short readable type: ``string``, ``list<float64>``, ..."""
    dtype = getattr(feature, "dtype", None)
    if dtype is not None and type(feature).__name__ == "Value":
        return str(dtype)
    inner = getattr(feature, "feature", None)
    if inner is not None:
        return f"list<{_feature_type(inner)}>"
    if isinstance(feature, list) and feature:
        return f"list<{_feature_type(feature[0])}>"
    if isinstance(feature, dict):
        return "struct"
    return type(feature).__name__


def dataset_card(dataset_dict: Any, meta: Mapping[str, Any]) -> str:
    """The text of a dataset card for ``dataset_dict`` (a ``DatasetDict``).

    ``meta`` keys (all optional): ``pretty_name``, ``description``, ``license`` (SPDX id or ``other``),
    ``license_note``, ``language`` (list), ``tags`` (list), ``teacher``, ``sources`` (list of str), ``command``,
    ``provenance`` (dict, rendered as JSON), ``citation``.
    """
    import yaml

    splits = list(dataset_dict)
    header: dict[str, Any] = {
        "license": meta.get("license", "other"),
        "language": list(meta.get("language", ["en"])),
        "task_categories": ["text-ranking"],
        "tags": ["rankkd", "knowledge-distillation", "reranking", *meta.get("tags", [])],
        "pretty_name": meta.get("pretty_name", "rankkd distillation data"),
        "configs": [{"config_name": "default",
                     "data_files": [{"split": s, "path": f"data/{s}-*"} for s in splits]}],
    }
    lines = ["---", yaml.safe_dump(header, sort_keys=False, allow_unicode=True).strip(), "---", "",
             f"# {header['pretty_name']}", ""]
    if meta.get("description"):
        lines += [str(meta["description"]).strip(), ""]
    lines += ["## Splits", "", "| split | rows |", "|---|---|"]
    lines += [f"| {s} | {len(dataset_dict[s]):,} |" for s in splits]
    lines += [""]
    for split in splits:
        ds = dataset_dict[split]
        lines += [f"## Columns of `{split}`", "", "| column | type | meaning |", "|---|---|---|"]
        for name, feature in ds.features.items():
            lines.append(f"| `{name}` | {_feature_type(feature)} | {COLUMN_DOCS.get(name, '')} |")
        lines.append("")
    if meta.get("teacher"):
        lines += ["## Teacher", "", f"`{meta['teacher']}`", ""]
    if meta.get("sources"):
        lines += ["## Sources", ""] + [f"- {s}" for s in meta["sources"]] + [""]
    if meta.get("provenance"):
        lines += ["## Provenance", "", "```json", json.dumps(meta["provenance"], indent=2, sort_keys=True,
                                                              ensure_ascii=False, default=str), "```", ""]
    if meta.get("command"):
        lines += ["## How it was built", "", "```bash", str(meta["command"]), "```", ""]
    lines += ["## Usage", "", "```python", "from datasets import load_dataset, load_from_disk",
              "ds = load_from_disk('<folder>')  # or load_dataset('<repo id>')", "```", "",
              "Example-schema splits train rankkd students directly: "
              "`python scripts/train_listwise.py --train_examples <folder or repo id> --train_split <split> ...`.", ""]
    lines += ["## License", "", f"`{header['license']}`" + (f" -- {meta['license_note']}"
                                                            if meta.get("license_note") else ""), ""]
    if meta.get("citation"):
        lines += ["## Citation", "", "```bibtex", str(meta["citation"]).strip(), "```", ""]
    return "\n".join(lines)


def write_dataset_card(dataset_dict: Any, out_dir: str | os.PathLike, meta: Mapping[str, Any]) -> Path:
    """Write ``out_dir/README.md`` (see :func:`dataset_card`) atomically; returns its path."""
    from rankkd.utils import atomic_write

    path = Path(out_dir) / "README.md"
    with atomic_write(path) as handle:
        handle.write(dataset_card(dataset_dict, meta))
    return path


def save_dataset_dict(dataset_dict: Any, out_dir: str | os.PathLike, meta: Mapping[str, Any] | None = None,
                      extra_files: Mapping[str, str] | None = None,
                      writer: Callable[[Path], None] | None = None) -> Path:
    """Save ``dataset_dict`` + card (+ ``provenance.json`` from ``meta['provenance']``, + ``extra_files``
    ``{name: text}``, + whatever ``writer(folder)`` writes) to a temporary sibling folder, then rename it to
    ``out_dir``, replacing an older one."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        dataset_dict.save_to_disk(str(tmp))
        meta = dict(meta or {})
        write_dataset_card(dataset_dict, tmp, meta)
        if meta.get("provenance") is not None:
            (tmp / "provenance.json").write_text(json.dumps(meta["provenance"], indent=2, sort_keys=True,
                                                            ensure_ascii=False, default=str) + "\n",
                                                 encoding="utf-8")
        for name, text in (extra_files or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")
        if writer is not None:
            writer(tmp)
        old = None
        if out_dir.exists():
            # directories cannot be os.replace'd over a non-empty one: move the old one aside first
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
            os.rmdir(old)
            os.rename(out_dir, old)
        os.rename(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def push_dataset(dataset_dict: Any, repo_id: str, *, card_dir: str | os.PathLike | None = None,
                 meta: Mapping[str, Any] | None = None, token: str | None = None, private: bool | None = None,
                 commit_message: str = "Upload rankkd dataset") -> str:
    """Push ``dataset_dict`` (a ``DatasetDict`` or a ``save_to_disk`` folder) to the Hub dataset ``repo_id`` and
    upload its card (``card_dir/README.md`` if it exists, else one generated from ``meta``).

    The token is ``token`` or ``$HF_TOKEN`` (or the cached login); it is never printed or logged.
    Returns the dataset URL.
    """
    import datasets
    from huggingface_hub import HfApi

    if isinstance(dataset_dict, (str, os.PathLike)):
        card_dir = card_dir or dataset_dict
        dataset_dict = datasets.load_from_disk(str(dataset_dict))
    if not isinstance(dataset_dict, datasets.DatasetDict):
        raise TypeError(f"push_dataset needs a DatasetDict, got {type(dataset_dict).__name__}")
    token = token or os.environ.get("HF_TOKEN") or None
    card = Path(card_dir) / "README.md" if card_dir is not None else None
    text = card.read_text(encoding="utf-8") if card is not None and card.is_file() else \
        dataset_card(dataset_dict, meta or {})
    with hub_errors(repo_id, token):
        dataset_dict.push_to_hub(repo_id, token=token, private=private, commit_message=commit_message)
        # push_to_hub writes a minimal card; ours replaces it (its YAML `configs` point at the same data/ files)
        HfApi(token=token).upload_file(path_or_fileobj=text.encode("utf-8"), path_in_repo="README.md",
                                       repo_id=repo_id, repo_type="dataset", commit_message="Add rankkd dataset card")
    url = f"https://huggingface.co/datasets/{repo_id}"
    logger.info("pushed %s", url)
    return url


class HubPushError(RuntimeError):
    """A push to the Hugging Face Hub failed; the message never contains the token."""


@contextlib.contextmanager
def hub_errors(repo_id: str, token: str | None):
    """Turn Hub failures into :class:`HubPushError` with a clear reason, scrubbing the token from the message."""
    from huggingface_hub.errors import OfflineModeIsEnabled

    def scrub(text: str) -> str:
        return text.replace(token, "***") if token else text

    try:
        yield
    except OfflineModeIsEnabled:
        raise HubPushError(
            f"cannot push to {repo_id!r}: Hugging Face Hub offline mode is on (HF_HUB_OFFLINE=1). The files are ready "
            "locally; unset HF_HUB_OFFLINE on a machine with network access and push again"
        ) from None
    except Exception as error:  # connection, auth, permission: say which, without the token
        raise HubPushError(f"cannot push to {repo_id!r}: {type(error).__name__}: {scrub(str(error))}") from None


def push_model(folder: str | os.PathLike, repo_id: str, *, token: str | None = None, private: bool | None = None,
               commit_message: str = "Upload rankkd model") -> str:
    """Push a saved model folder (merged weights or a LoRA adapter, with its model card) to the Hub model ``repo_id``.

    The folder must hold a model card (``README.md``, written by rankkd on save) and either ``config.json`` or
    ``adapter_config.json``. The token is ``token`` or ``$HF_TOKEN`` (or the cached login); it is never printed or
    logged. Returns the model URL.
    """
    from huggingface_hub import HfApi

    folder = Path(folder)
    if not ((folder / "config.json").is_file() or (folder / "adapter_config.json").is_file()):
        raise FileNotFoundError(f"{folder} has neither config.json nor adapter_config.json: not a saved model folder")
    if not (folder / "README.md").is_file():
        raise FileNotFoundError(f"{folder} has no README.md model card; save the model with a rankkd trainer first")
    token = token or os.environ.get("HF_TOKEN") or None
    with hub_errors(repo_id, token):
        api = HfApi(token=token)
        api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=repo_id, commit_message=commit_message,
                          ignore_patterns=["checkpoint-*", "*.tmp", ".*"])
    url = f"https://huggingface.co/{repo_id}"
    logger.info("pushed %s", url)
    return url
