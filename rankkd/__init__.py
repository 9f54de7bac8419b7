"""rankkd: distil large-language-model passage re-rankers into small, fast re-rankers."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Lazy: `import rankkd` (and `rankkd --help`) must not pull in torch.
    if name == "load_ranker":
        from rankkd.ranker import load_ranker

        return load_ranker
    raise AttributeError(f"module 'rankkd' has no attribute {name!r}")


__all__ = ["__version__", "load_ranker"]
