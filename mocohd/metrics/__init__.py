"""Metrics: the Fréchet distance and the feature networks it is measured on."""

from mocohd.metrics.frechet import feature_statistics, frechet_distance

__all__ = ["feature_statistics", "frechet_distance"]
