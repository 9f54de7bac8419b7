"""Configuration of listwise LLM SFT (RankZephyr / DeAR-L / DeAR-CoT / Reason-to-Rank students)."""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import SFTConfig


@dataclass
class ListwiseSFTConfig(SFTConfig):
    """``trl.SFTConfig`` plus the student model, LoRA, prompt and ranking-evaluation settings.

    The loss is on the completion only: rows are prompt/completion pairs, for which TRL's ``completion_only_loss``
    (default ``None`` = on for such data) masks the prompt tokens out of the labels.
    """

    model_name_or_path: str | None = field(default=None, metadata={"help": "Student causal LM (folder, id, 'smollm2')."})
    model_dtype: str = field(default="float32", metadata={"help": "Weights dtype for training (float32/bfloat16)."})
    use_lora: bool = field(default=True, metadata={"help": "Train a LoRA adapter (peft) instead of all weights."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank (DeAR: 16)."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha."})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    lora_target_modules: str = field(default="all-linear",
                                     metadata={"help": "'all-linear' or comma-separated module names."})
    merge_lora_on_save: bool = field(default=True,
                                     metadata={"help": "save_model() writes the merged full model, not the adapter."})
    target: str = field(default="permutation",
                        metadata={"help": "permutation | rationale | permutation_rationale | pointwise | comparative (see listwise.data)."})
    identifiers: str = field(default="number", metadata={"help": "Passage identifiers: number ([1]) or letter ([A])."})
    shuffle_windows: float = field(default=0.0, metadata={
        "help": "Probability of showing a training window in a random order (targets remapped), so the student "
                "cannot learn to copy the first-stage order (RankZephyr's augmentation)."})
    max_passage_tokens: int = field(default=100, metadata={"help": "Passage truncation, in tokens."})
    max_query_tokens: int = field(default=64, metadata={"help": "Query truncation, in tokens."})
    rank_eval_depth: int = field(default=20, metadata={"help": "Re-rank the top-k of the validation run."})
    rank_eval_window: int = field(default=20, metadata={"help": "Sliding-window size at evaluation."})
    rank_eval_stride: int = field(default=10, metadata={"help": "Sliding-window stride at evaluation."})
    rank_eval_batch_size: int = field(default=8, metadata={"help": "Windows per generate() call at evaluation."})
    rank_eval_max_new_tokens: int | None = field(default=None, metadata={"help": "Generation budget per window."})
    rank_eval_mode: str = field(default="generate", metadata={"help": "generate | single-token."})
    rank_eval_metric: str = field(default="ndcg@10", metadata={"help": "ranx metric logged as eval_<metric>."})

    def __post_init__(self) -> None:
        from rankkd.listwise.data import TARGET_KINDS

        if self.target not in TARGET_KINDS:
            raise ValueError(f"target must be one of {TARGET_KINDS}, got {self.target!r}")
        if not 0.0 <= self.shuffle_windows <= 1.0:
            raise ValueError(f"shuffle_windows is a probability in [0, 1], got {self.shuffle_windows!r}")
        if self.identifiers not in ("number", "letter"):
            raise ValueError(f"identifiers must be 'number' or 'letter', got {self.identifiers!r}")
        super().__post_init__()

    def prompt_config(self):
        """The :class:`~rankkd.listwise.prompts.PromptConfig` shared by training data and evaluation."""
        from rankkd.listwise.data import REASONING_TARGETS
        from rankkd.listwise.prompts import PromptConfig

        return PromptConfig(max_passage_tokens=self.max_passage_tokens, max_query_tokens=self.max_query_tokens,
                            identifiers=self.identifiers, reasoning=self.target in REASONING_TARGETS,
                            explain_after=self.target == "permutation_rationale")

    def lora_config(self):
        """``peft.LoraConfig`` for a causal LM from the ``lora_*`` fields, or None without ``use_lora``."""
        if not self.use_lora:
            return None
        from peft import LoraConfig

        targets = self.lora_target_modules
        target_modules = targets if targets == "all-linear" else [t.strip() for t in targets.split(",") if t.strip()]
        return LoraConfig(r=self.lora_r, lora_alpha=self.lora_alpha, lora_dropout=self.lora_dropout,
                          target_modules=target_modules, task_type="CAUSAL_LM")
