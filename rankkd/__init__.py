"""rankkd: distil large-language-model passage re-rankers into small, fast re-rankers."""

__version__ = "0.1.0"
