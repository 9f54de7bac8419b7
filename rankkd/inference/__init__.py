"""Inference: fast pointwise re-ranking of first-stage runs."""

from rankkd.inference.pointwise import MissingTextError, PairTemplate, PointwiseReranker, Run

__all__ = ["MissingTextError", "PairTemplate", "PointwiseReranker", "Run"]
