"""rankkd's IR data layer: file readers/writers, teacher rankings, the example schema, sampling and targets.

The plain-file API (:mod:`~rankkd.data.io`, :mod:`~rankkd.data.teacher`, :mod:`~rankkd.data.targets`) is imported
eagerly; names that need ``datasets`` (schema, sampling, hf) are imported on first use to keep ``import rankkd.data``
light.
"""

from __future__ import annotations

import importlib
from typing import Any

from rankkd.data.errors import DataFormatError, RepairReport
from rankkd.data.io import (
    Qrels,
    Run,
    ranked_docids,
    read_corpus,
    read_qrels,
    read_queries,
    read_run,
    write_corpus,
    write_qrels,
    write_queries,
    write_run,
)
from rankkd.data.targets import (
    TARGET_TRANSFORMS,
    get_target_transform,
    ranks_from_order,
    teacher_topk_as_qrels,
)
from rankkd.data.teacher import TeacherRecord, read_teacher, teacher_records_to_run, write_teacher

_LAZY = {
    "EXAMPLE_COLUMNS": "rankkd.data.schema",
    "OPTIONAL_COLUMNS": "rankkd.data.schema",
    "build_examples": "rankkd.data.schema",
    "validate_examples": "rankkd.data.schema",
    "SAMPLERS": "rankkd.data.sampling",
    "sample_group": "rankkd.data.sampling",
    "sample_groups": "rankkd.data.sampling",
    "hard_negatives": "rankkd.data.sampling",
    "load_queries_hf": "rankkd.data.hf",
    "load_corpus_hf": "rankkd.data.hf",
    "load_examples": "rankkd.data.hf",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rankkd.data' has no attribute {name!r}")


__all__ = [
    "DataFormatError",
    "RepairReport",
    "Run",
    "Qrels",
    "TeacherRecord",
    "ranked_docids",
    "read_run",
    "write_run",
    "read_qrels",
    "write_qrels",
    "read_queries",
    "write_queries",
    "read_corpus",
    "write_corpus",
    "read_teacher",
    "write_teacher",
    "teacher_records_to_run",
    "TARGET_TRANSFORMS",
    "get_target_transform",
    "ranks_from_order",
    "teacher_topk_as_qrels",
    *_LAZY,
]
