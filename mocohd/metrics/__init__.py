"""Metrics: the Fréchet distance, the feature networks it is measured on, and the paper's scores.

Every score is a :class:`Score` that prints with its :class:`Protocol`. The networks load
lazily (only when asked for), so ``python -m mocohd.metrics.toy_features_train`` runs its
module once and importing the metrics costs nothing.
"""

from mocohd.metrics.frechet import StreamingStats, feature_statistics, frechet_distance
from mocohd.metrics.protocol import Protocol, Score, frechet_score, stream_statistics

_LAZY = {
    "ToyFeatureNet": "toy_features", "load_toy_feature_net": "toy_features", "image_frechet_distance": "toy_features",
    "ToyVideoNet": "toy_video_net", "load_toy_video_net": "toy_video_net", "fvd_toy": "toy_video_net",
    "is_toy": "toy_video_net", "ToyIdentityEncoder": "identity", "acd_mean_colour": "acd", "acd_embedding": "acd",
    "inception_score": "inception_score", "inception_score_of": "inception_score", "psnr_ssim": "psnr_ssim",
    "load_i3d": "i3d", "fvd": "i3d", "load_c3d": "c3d", "baseline_videos": "baselines",
    "random_walk_in_w": "baselines",
}

__all__ = ["StreamingStats", "feature_statistics", "frechet_distance", "Protocol", "Score", "frechet_score",
           "stream_statistics", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"mocohd.metrics.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'mocohd.metrics' has no attribute {name!r}")
