"""Load re-rankers: plain sequence classifiers (encoder cross-encoders or decoder LLMs with a score head) and
PEFT LoRA adapters on top of them.

Padding convention: every rankkd scorer pads on the **right**. For encoders that is the usual layout; for decoder LLMs
it matters because Hugging Face decoders number positions 0..L-1 over the padded row regardless of the attention
mask, so left padding would shift the positions of the real tokens and make a score depend on how long the other rows
of the batch are. The classification head of a decoder pools the rightmost token that is not ``config.pad_token_id``,
which is correct for right padding as long as a real sequence does not end in the pad id (checked by the scorer).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_DTYPES = ("auto", "bfloat16", "bf16", "float32", "fp32", "float16", "fp16")


def resolve_dtype(dtype: Any = "auto") -> "torch.dtype":  # noqa: F821 - torch is imported lazily
    """Turn ``"auto" | "bfloat16" | "float32" | "float16" | torch.dtype`` into a ``torch.dtype``.

    ``"auto"`` is bf16 when :func:`rankkd.utils.bf16_supported` says bf16 matmuls are native here (CUDA with bf16, or a
    CPU with AVX512-BF16/AMX) and float32 otherwise: emulated bf16 on an older CPU is slower than fp32.
    """
    import torch

    from rankkd.utils import bf16_supported

    if isinstance(dtype, torch.dtype):
        return dtype
    if not isinstance(dtype, str) or dtype.lower() not in _DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of auto, bfloat16, float32, float16 or a torch.dtype")
    name = dtype.lower()
    if name == "auto":
        return torch.bfloat16 if bf16_supported() else torch.float32
    if name in ("bfloat16", "bf16"):
        return torch.bfloat16
    if name in ("float16", "fp16"):
        return torch.float16
    return torch.float32


def is_peft_adapter(path_or_id: str | os.PathLike) -> bool:
    """True when ``path_or_id`` is a local folder holding a PEFT adapter (``adapter_config.json``)."""
    return (Path(path_or_id) / "adapter_config.json").is_file()


def _ensure_pad_token(model: Any, tokenizer: Any) -> None:
    """Give decoder LLMs a pad token so batches work; keep ``config.pad_token_id`` and the tokenizer in sync.

    Decoder-only tokenizers (Llama, Mistral, Qwen, ...) often ship without a pad token; the usual fix is pad = eos.
    The sequence-classification head needs ``config.pad_token_id`` to find the last real token of each row.
    """
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token is None:
            raise ValueError(
                f"tokenizer of {type(model).__name__} has neither a pad nor an eos token; "
                "set tokenizer.pad_token before scoring batches"
            )
        tokenizer.pad_token = tokenizer.eos_token
        logger.info("tokenizer had no pad token; using eos %r as pad", tokenizer.eos_token)
    # Decoders read the pad id from the text config (multimodal configs nest it); set both to be safe.
    configs = [model.config]
    get_text_config = getattr(model.config, "get_text_config", None)
    if get_text_config is not None and get_text_config() is not model.config:
        configs.append(get_text_config())
    for config in configs:
        if getattr(config, "pad_token_id", None) is None:
            config.pad_token_id = tokenizer.pad_token_id
    tokenizer.padding_side = "right"


def load_sequence_classifier(
    path_or_id: str | os.PathLike,
    *,
    dtype: Any = "auto",
    num_labels: int | None = 1,
    trust_remote_code: bool = False,
    merge_lora: bool = False,
    is_trainable: bool = False,
    device: Any = None,
    attn_implementation: str | None = None,
) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` for scoring (eval mode, on ``device``, in ``dtype``).

    ``path_or_id`` is an ``AutoModelForSequenceClassification`` folder or Hub id, or a PEFT adapter folder
    (``adapter_config.json`` present): the base named by ``base_model_name_or_path`` is loaded, then the adapter via
    ``peft``; ``merge_lora=True`` folds the LoRA weights into the base (faster inference, plain model returned);
    ``is_trainable=True`` keeps the adapter trainable (to continue training it).
    The tokenizer is taken from the adapter folder when it has one (training may have added a pad token), else from
    the base. ``num_labels=None`` keeps the checkpoint's own value; otherwise a mismatching head is re-initialised by
    transformers (with its usual warning). ``trust_remote_code`` stays off unless asked for.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch_dtype = resolve_dtype(dtype)
    path_str = str(path_or_id)
    adapter_dir: str | None = None
    base = path_str
    if is_peft_adapter(path_str):
        adapter_dir = path_str
        adapter_cfg = json.loads((Path(path_str) / "adapter_config.json").read_text(encoding="utf-8"))
        base = adapter_cfg.get("base_model_name_or_path")
        if not base:
            raise ValueError(
                f"{path_str}/adapter_config.json has no base_model_name_or_path; cannot find the base model"
            )

    model_kwargs: dict[str, Any] = {"dtype": torch_dtype, "trust_remote_code": trust_remote_code}
    if num_labels is not None:
        model_kwargs["num_labels"] = num_labels
    if attn_implementation is not None:
        model_kwargs["attn_implementation"] = attn_implementation
    model = AutoModelForSequenceClassification.from_pretrained(base, **model_kwargs)

    tok_source = adapter_dir if adapter_dir and (Path(adapter_dir) / "tokenizer_config.json").is_file() else base
    tokenizer = AutoTokenizer.from_pretrained(tok_source, trust_remote_code=trust_remote_code)
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"{tok_source}: rankkd needs a fast (Rust) tokenizer, got {type(tokenizer).__name__}")

    if adapter_dir is not None:
        from peft import PeftModel

        if len(tokenizer) > model.get_input_embeddings().num_embeddings:
            # The adapter was trained after adding tokens (e.g. a pad token); the base must be resized to match.
            model.resize_token_embeddings(len(tokenizer))
        # autocast_adapter_dtype=False keeps the LoRA weights in the base dtype (peft upcasts them to fp32 by
        # default, which is meant for training and makes every bf16 LoRA matmul mix dtypes).
        model = PeftModel.from_pretrained(model, adapter_dir, is_trainable=is_trainable,
                                          autocast_adapter_dtype=is_trainable)
        if merge_lora:
            model = model.merge_and_unload()

    _ensure_pad_token(model, tokenizer)
    if device is not None:
        model.to(device)
    model.eval()
    return model, tokenizer
