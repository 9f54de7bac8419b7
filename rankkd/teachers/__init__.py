"""LLM teachers for building distillation data: listwise sliding-window rankings (transformers causal LMs or an
OpenAI-compatible endpoint) and pointwise scores (cross-encoders, yes/no LLM logits), every call cached on disk."""

from rankkd.teachers.cache import CacheStats, TeacherCache, cache_key, cached_map
from rankkd.teachers.listwise import (DocText, HFListwiseBackend, ListwiseAnnotation, ListwiseTeacher, QueryText,
                                      annotate_run, load_listwise_teacher, prompt_template_hash)
from rankkd.teachers.openai_compat import EndpointError, OpenAIChatBackend, WhitespaceTokenizer
from rankkd.teachers.pointwise import (MONOT5_TEMPLATE, CrossEncoderTeacher, PointwiseScores, PointwiseTeacher,
                                       YesNoTeacher, score_run)

__all__ = ["CacheStats", "CrossEncoderTeacher", "DocText", "EndpointError", "HFListwiseBackend", "ListwiseAnnotation",
           "ListwiseTeacher", "MONOT5_TEMPLATE", "OpenAIChatBackend", "PointwiseScores", "PointwiseTeacher",
           "QueryText", "TeacherCache", "WhitespaceTokenizer", "YesNoTeacher", "annotate_run", "cache_key",
           "cached_map", "load_listwise_teacher", "prompt_template_hash", "score_run"]
