"""What every video metric needs besides its formula: a feature network and a protocol.

A number such as "FVD 700" means nothing without the way it was measured: how many videos,
how long the clips, which frames (the stride), how frames were resized, and which network
with which weights looked at them. Papers compare numbers measured in different ways all
the time; here every number travels with its :class:`Protocol` and prints it:

    FVD = 512.3 | n_videos=2048 frames=16 stride=1 resize=224x224 bilinear network=I3D ...

The networks behind the metrics (I3D for FVD, C3D for the UCF-101 Inception Score, the toy
feature network for FD_toy) all offer the same small interface, :class:`FeatureNetwork`, and
a classifier adds ``logits`` (:class:`Classifier`). :func:`stream_statistics` and
:func:`frechet_score` then work the same way for every one of them.
"""

from __future__ import annotations

import math
import re
import typing
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from mocohd.checkpoint import sha256
from mocohd.metrics.frechet import StreamingStats, frechet_distance

RANDOM_INIT = "random init"  # weights_sha256 of a network nobody trained: numbers only test the plumbing
NO_NETWORK = "none"  # weights_sha256 of a metric computed on pixels (PSNR, SSIM, mean-colour ACD)
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Protocol:
    """How a number was measured. ``str()`` gives it on one line.

    ``n_videos``: how many samples (an int, or a pair ``(real, generated)``); ``frames``:
    clip length (None for images); ``stride``: frames skipped between the frames taken (1 =
    consecutive; None for images); ``resize``: what frames were resized to, and how;
    ``network``: the feature network; ``weights_sha256``: the sha256 of its weights file,
    or :data:`RANDOM_INIT`, or :data:`NO_NETWORK`; ``unit``: "videos" or "images";
    ``notes``: anything else a reader needs (splits, preprocessing, missing files).
    """

    n_videos: int | tuple[int, int]
    frames: int | None
    stride: int | None
    resize: str | None
    network: str
    weights_sha256: str
    unit: str = "videos"
    notes: str = ""

    def __post_init__(self):
        if not (_SHA256.fullmatch(self.weights_sha256) or self.weights_sha256 in (RANDOM_INIT, NO_NETWORK)):
            raise ValueError(f"weights_sha256 must be a 64-digit lowercase hex sha256, {RANDOM_INIT!r} or "
                             f"{NO_NETWORK!r}, got {self.weights_sha256!r}")

    def __str__(self) -> str:
        n = self.n_videos if isinstance(self.n_videos, int) else " vs ".join(map(str, self.n_videos))
        weights = f"sha256:{self.weights_sha256}" if _SHA256.fullmatch(self.weights_sha256) else self.weights_sha256
        fields = [f"n_{self.unit}={n}", f"frames={_or_dash(self.frames)}", f"stride={_or_dash(self.stride)}",
                  f"resize={_or_dash(self.resize)}", f"network={self.network}", f"weights={weights}"]
        return " ".join(fields) + (f" ({self.notes})" if self.notes else "")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Score:
    """A metric's value with its protocol; ``str()`` prints both on one line."""

    metric: str
    value: float
    protocol: Protocol
    sd: float | None = None  # the spread over splits (IS) or videos, where there is one

    def __str__(self) -> str:
        spread = f" ± {self.sd:.4g}" if self.sd is not None else ""
        return f"{self.metric} = {self.value:.4g}{spread} | {self.protocol}"

    def __float__(self) -> float:
        return float(self.value)


def _or_dash(value) -> str:
    return "-" if value is None else str(value)


# ----------------------------------------------------------------------------------------
# The interface of a feature network


@typing.runtime_checkable
class FeatureNetwork(typing.Protocol):
    """What a metric needs from a network.

    ``name``: what it is, with its training data ("I3D (Kinetics-400)"); ``weights_sha256``:
    see :class:`Protocol`; ``input_size``: the frame size it sees after its own resizing
    ``(H, W)``; ``features(x)``: ``(N, D)`` float features of a batch of videos
    ``(N, T, 3, H, W)`` or images ``(N, 3, H, W)`` in [-1, 1], any size (it resizes).
    """

    name: str
    weights_sha256: str
    input_size: tuple[int, ...]

    def features(self, x: torch.Tensor) -> torch.Tensor: ...


@typing.runtime_checkable
class Classifier(FeatureNetwork, typing.Protocol):
    """A feature network that also classifies: ``logits(x)`` is ``(N, K)``, before softmax."""

    def logits(self, x: torch.Tensor) -> torch.Tensor: ...


def check_finite(values, what: str = "videos") -> None:
    """Raise unless every value is finite: a NaN or inf would make the metric NaN (or, worse, a
    plausible number), so it is named here, with where to look."""
    x = torch.as_tensor(values) if not torch.is_tensor(values) else values
    if x.is_floating_point() or x.is_complex():
        bad = int((~torch.isfinite(x)).sum())
        if bad:
            raise ValueError(f"{what} contain NaN or inf ({bad} of {x.numel()} values): a generator that diverged "
                             "or a division by zero upstream; find them (torch.isfinite) and drop or fix those "
                             "samples before scoring")


def weights_id(path: str | Path | None) -> str:
    """The ``weights_sha256`` of a weights file, or :data:`RANDOM_INIT` when there is none."""
    return RANDOM_INIT if path is None else sha256(path)


def batches(samples, batch_size: int) -> Iterable[torch.Tensor]:
    """A tensor ``(N, ...)`` cut into batches, or any iterable of batches passed through
    (e.g. a generator that makes videos on the fly, so they never sit in memory together)."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if torch.is_tensor(samples):
        return samples.split(batch_size)
    if isinstance(samples, Iterable):
        return samples
    raise TypeError(f"samples must be a tensor (N, ...) or an iterable of batches, got {type(samples).__name__}")


@torch.no_grad()
def stream_statistics(network: FeatureNetwork, samples, batch_size: int = 16) -> StreamingStats:
    """Feature statistics of ``samples`` accumulated batch by batch (float64)."""
    stats = StreamingStats()
    for batch in batches(samples, batch_size):
        stats.update(network.features(batch))
    if stats.n == 0:
        raise ValueError("no samples: the tensor or iterable was empty")
    return stats


def frechet_score(network: FeatureNetwork, samples_a, samples_b, *, metric: str, frames: int | None,
                  stride: int | None, resize: str | None, batch_size: int = 16, unit: str = "videos",
                  notes: str = "") -> Score:
    """The Fréchet distance between two sample sets on ``network``'s features, with its protocol.

    ``samples_*``: tensors or iterables of batches (see :func:`batches`); ``samples_a`` is
    the reference (real) set. ``frames``/``stride``/``resize`` describe how the clips were
    made: the function cannot know, so the caller says it and the score prints it.
    """
    stats_a = stream_statistics(network, samples_a, batch_size)
    stats_b = stream_statistics(network, samples_b, batch_size)
    value = frechet_distance(*stats_a.statistics(), *stats_b.statistics())
    protocol = Protocol(n_videos=(stats_a.n, stats_b.n), frames=frames, stride=stride, resize=resize,
                        network=network.name, weights_sha256=network.weights_sha256, unit=unit, notes=notes)
    return Score(metric, value, protocol)


def mean_and_sd(values) -> tuple[float, float]:
    """Mean and (population) standard deviation of per-video or per-split values, float64."""
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0:
        raise ValueError("no values to average")
    if not np.isfinite(array).all():  # e.g. the +inf PSNR of identical frames: a mean, but no spread
        return float(array.mean()), math.nan
    return float(array.mean()), float(array.std())
