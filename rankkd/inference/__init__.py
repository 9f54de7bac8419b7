"""Inference: fast pointwise re-ranking of first-stage runs."""

from rankkd.data.encoding import PairTemplate
from rankkd.inference.pointwise import MissingTextError, PointwiseReranker, Run

__all__ = ["MissingTextError", "PairTemplate", "PointwiseReranker", "Run"]
