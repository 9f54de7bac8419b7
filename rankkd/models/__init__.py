"""Model loading: sequence classifiers (cross-encoders, decoder LLMs with a score head) and PEFT LoRA adapters."""

from rankkd.models.loading import is_peft_adapter, load_sequence_classifier, resolve_dtype

__all__ = ["is_peft_adapter", "load_sequence_classifier", "resolve_dtype"]
