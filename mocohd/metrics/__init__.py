"""Metrics: the Fréchet distance and the feature networks it is measured on.

The toy-feature names load lazily, so that ``python -m mocohd.metrics.toy_features_train`` runs
its module once.
"""

from mocohd.metrics.frechet import feature_statistics, frechet_distance

_TOY_FEATURE_NAMES = ("ToyFeatureNet", "load_toy_feature_net", "image_frechet_distance")

__all__ = ["feature_statistics", "frechet_distance", *_TOY_FEATURE_NAMES]


def __getattr__(name: str):
    if name in _TOY_FEATURE_NAMES:
        from mocohd.metrics import toy_features

        return getattr(toy_features, name)
    raise AttributeError(f"module 'mocohd.metrics' has no attribute {name!r}")
