"""The Inception Score: are the videos each clearly one class, and are the classes varied?

Salimans et al. (2016), for videos with the UCF-101 C3D (TGAN, MoCoGAN, MoCoGAN-HD):

.. math::

    \\mathrm{IS} = \\exp\\Bigl(\\mathbb{E}_x\\, \\mathrm{KL}\\bigl(p(y \\mid x) \\,\\Vert\\, p(y)\\bigr)\\Bigr),
    \\qquad p(y) = \\mathbb{E}_x\\, p(y \\mid x)

computed on each of ``splits`` equal parts of the samples, reported as the mean and the
standard deviation over the parts (OpenAI's ``improved-gan`` code; TGANv2's
``inception_score``). It lies between 1 (every video gets the same prediction) and the
number of classes K (every prediction certain, classes used equally); a split of n samples
cannot score above n, so splits must hold many more samples than K. TGAN's
``calc_inception.py`` used one split of 10,000 videos; TGANv2 ten runs of 2,048, each one
split.

Here ``0 log 0 = 0`` exactly (``scipy.special.rel_entr``), where the reference code adds an
epsilon of 1e-7 or 1e-20 to the probabilities: the difference is far below the digits anyone
reports, and a perfect classifier scores exactly K.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import rel_entr

from mocohd.metrics.protocol import Classifier, Protocol, Score, batches

PROBABILITY_TOLERANCE = 1e-3  # rows must sum to 1 within this (float32 softmax round-off is far below)


def split_scores(probabilities, splits: int = 10) -> np.ndarray:
    """The IS of each split, float64 ``(splits,)``, from class probabilities ``(N, K)``.

    Split i holds rows ``i N / splits`` to ``(i + 1) N / splits`` (integer division), as in
    the reference code."""
    p = _check_probabilities(probabilities)
    n = p.shape[0]
    if not isinstance(splits, int) or not 1 <= splits <= n:
        raise ValueError(f"splits must be an int from 1 to the number of samples ({n}), got {splits!r}")
    scores = []
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]  # (n_i, K)
        marginal = part.mean(axis=0, keepdims=True)  # p(y), (1, K)
        kl = rel_entr(part, marginal).sum(axis=1)  # KL(p(y|x) || p(y)) per sample, (n_i,)
        scores.append(np.exp(kl.mean()))
    return np.asarray(scores)


def inception_score(probabilities, splits: int = 10) -> tuple[float, float]:
    """(mean, standard deviation) of the per-split IS of class probabilities ``(N, K)``."""
    scores = split_scores(probabilities, splits)
    return float(scores.mean()), float(scores.std())


@torch.no_grad()
def inception_score_of(classifier: Classifier, videos, *, splits: int = 10, frames: int | None = None,
                       stride: int, resize: str | None = None, batch_size: int = 8, notes: str = "") -> Score:
    """IS of ``videos`` (a tensor (N, T, 3, H, W) in [-1, 1] or an iterable of batches) on
    ``classifier``'s softmax, with its protocol. ``stride``: how far apart the clip's frames
    were taken (1 = consecutive); recorded, not used."""
    parts, n, seen_frames = [], 0, None
    for batch in batches(videos, batch_size):
        parts.append(classifier.logits(batch).double().softmax(dim=1).numpy())
        n, seen_frames = n + batch.shape[0], batch.shape[1]
    mean, sd = inception_score(np.concatenate(parts), splits)
    extra = getattr(classifier, "notes", "")
    protocol = Protocol(n_videos=n, frames=frames if frames is not None else seen_frames, stride=stride,
                        resize=resize if resize is not None else getattr(classifier, "resize", None),
                        network=classifier.name, weights_sha256=classifier.weights_sha256,
                        notes="; ".join(x for x in (f"{splits} splits", extra, notes) if x))
    return Score("IS", mean, protocol, sd)


def _check_probabilities(probabilities) -> np.ndarray:
    if torch.is_tensor(probabilities):
        probabilities = probabilities.detach().cpu().double().numpy()
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(f"probabilities must be (N samples, K >= 2 classes), got shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probabilities must be finite and non-negative; pass softmax outputs, not logits")
    worst = np.abs(p.sum(axis=1) - 1).max()
    if worst > PROBABILITY_TOLERANCE:
        raise ValueError(f"each row of probabilities must sum to 1 (off by up to {worst:.3g}); "
                         "apply a softmax over the classes first")
    return p
