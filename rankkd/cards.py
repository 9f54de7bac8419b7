"""Model cards for rankkd students: base model, teacher, training data, losses with citations, hyper-parameters, results.

Written next to the weights on every save (``README.md``, Hugging Face model-card format with YAML metadata), so a
pushed model says how it was made.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import yaml

from rankkd.utils import atomic_write

_HYPERPARAMETERS = (
    "learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size", "gradient_accumulation_steps",
    "warmup_steps", "weight_decay", "lr_scheduler_type", "bf16", "seed", "group_size", "sampling", "depth", "target",
    "target_transform", "query_max_length", "passage_max_length", "loss", "loss_weights", "use_lora", "lora_r",
    "lora_alpha", "alpha", "temperature", "ranking_loss", "ranking_target",
)


def _losses_section(losses: Mapping[str, Any], weights: Mapping[str, float]) -> tuple[list[str], list[str]]:
    rows, citations = [], []
    for name, loss in losses.items():
        config = loss.get_config_dict() if hasattr(loss, "get_config_dict") else {}
        rows.append(f"| `{name}` | `{type(loss).__name__}` | {weights.get(name, 1.0):g} | `{json.dumps(config)}` |")
        citation = getattr(loss, "citation", "")
        if citation and citation not in citations:
            citations.append(citation.strip())
    return rows, citations


def render_model_card(
    *,
    model_name: str,
    base_model: str | None,
    teacher: str | None,
    training_data: str | None,
    losses: Mapping[str, Any] | None = None,
    loss_weights: Mapping[str, float] | None = None,
    hyperparameters: Mapping[str, Any] | None = None,
    results: Mapping[str, float] | None = None,
    method: str = "",
    pipeline_tag: str = "text-classification",
    license: str | None = None,
) -> str:
    """The card as markdown text with YAML front matter."""
    meta: dict[str, Any] = {"library_name": "transformers", "pipeline_tag": pipeline_tag,
                            "tags": ["rankkd", "reranker", "knowledge-distillation", "information-retrieval"]}
    if base_model:
        meta["base_model"] = base_model
    if license:
        meta["license"] = license
    lines = ["---", yaml.safe_dump(meta, sort_keys=False).strip(), "---", "", f"# {model_name}", ""]
    lines.append(
        f"A passage re-ranker distilled with [rankkd](https://github.com/) {('(' + method + ') ') if method else ''}"
        "from an LLM teacher's rankings."
    )
    lines += ["", "| | |", "|---|---|", f"| base model | `{base_model or 'unknown'}` |",
              f"| teacher | {teacher or 'not recorded'} |", f"| training data | {training_data or 'not recorded'} |", ""]
    if losses:
        rows, citations = _losses_section(losses, loss_weights or {})
        lines += ["## Loss", "", "| component | class | weight | configuration |", "|---|---|---|---|", *rows, ""]
    else:
        citations = []
    if hyperparameters:
        lines += ["## Hyper-parameters", "", "| name | value |", "|---|---|"]
        lines += [f"| `{k}` | `{v}` |" for k, v in hyperparameters.items() if v is not None]
        lines.append("")
    if results:
        lines += ["## Results (ranx)", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in results.items()]
        lines.append("")
    lines += ["## Usage", "", "```python", "from rankkd import load_ranker", "",
              f'ranker = load_ranker("{model_name}")',
              'scores = ranker.score_pairs(["what is a flea"], ["Fleas are small wingless insects."])', "```", ""]
    if citations:
        lines += ["## Citations", "", "```bibtex", *citations, "```", ""]
    return "\n".join(lines)


def hyperparameters_of(args: Any) -> dict[str, Any]:
    """The card-worthy fields of a training config (those it has)."""
    return {name: getattr(args, name) for name in _HYPERPARAMETERS if hasattr(args, name)}


def write_model_card(out_dir: str | Path, **kwargs: Any) -> Path:
    """Render and write ``<out_dir>/README.md`` atomically; returns its path."""
    path = Path(out_dir) / "README.md"
    with atomic_write(path) as handle:
        handle.write(render_model_card(**kwargs))
    return path
