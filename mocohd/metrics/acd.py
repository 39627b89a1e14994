"""Average Content Distance (ACD): does a video keep its content from frame to frame?

MoCoGAN (Tulyakov et al., CVPR 2018, Sec. 4.1) represents every frame by a content vector
and defines ACD as "the average pairwise L2 distance of the per-frame ... vectors": lower
means the content (the object, the person) stays the same while the video moves.

* **Mean-colour form** (MoCoGAN's shape-motion experiment): the vector is the average colour
  of the frame, 3 numbers, optionally over a mask (MoCoGAN averaged the pixels of the
  generated shape). :func:`acd_mean_colour`. Colours are in the videos' own units ([-1, 1]
  for mocohd videos; multiply by 127.5 for 8-bit units).
* **Embedding form** (MoCoGAN's faces, with OpenFace identity embeddings): the vector is an
  identity embedding of the frame. :func:`acd_embedding` takes any embedder callable
  ``frames (M, 3, H, W) -> (M, D)``; which one is used is recorded in the protocol.

"Pairwise" is read as all pairs of frames of a video (i < j): a face that drifts slowly
away from its first frame is caught, where neighbouring frames alone would each differ
little. ``pairs="consecutive"`` gives the other common reading (frames t and t + 1 only).
Per-video values are averaged over videos; the score's ``sd`` is their spread.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from mocohd.metrics.protocol import NO_NETWORK, RANDOM_INIT, Protocol, Score, check_finite, mean_and_sd

PAIRS = ("all", "consecutive")


def content_distances(vectors, pairs: str = "all") -> np.ndarray:
    """Per-video ACD ``(N,)`` float64 from per-frame content vectors ``(N, T, D)``, T >= 2."""
    v = torch.as_tensor(vectors).double()
    if v.dim() != 3 or v.shape[1] < 2:
        raise ValueError(f"content vectors must be (N videos, T >= 2 frames, D), got shape {tuple(v.shape)}")
    check_finite(v, "content vectors")
    if pairs == "all":
        distances = torch.cdist(v, v, compute_mode="donot_use_mm_for_euclid_dist")  # (N, T, T): |v_i - v_j|
        i, j = torch.triu_indices(v.shape[1], v.shape[1], offset=1)  # each pair once, i < j
        per_video = distances[:, i, j].mean(dim=1)
    elif pairs == "consecutive":
        per_video = (v[:, 1:] - v[:, :-1]).norm(dim=2).mean(dim=1)  # |v_{t+1} - v_t|
    else:
        raise ValueError(f"pairs must be one of {PAIRS}, got {pairs!r}")
    return per_video.numpy()


def mean_colours(videos: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Average colour per frame: (N, T, 3, H, W) -> (N, T, 3), float64.

    ``mask`` (N, T, H, W), or anything that broadcasts to (N, T, 1, H, W): pixel weights
    (1 = the object); every frame must have some."""
    _check_videos(videos)
    x = videos.double()
    if mask is None:
        return x.mean(dim=(3, 4))
    weights = mask.double()
    weights = weights.unsqueeze(2) if weights.dim() == 4 else weights  # (N, T, 1, H, W)
    total = weights.sum(dim=(3, 4))  # (N, T, 1)
    if (total <= 0).any():
        raise ValueError("the mask is empty in some frame; every frame needs object pixels to average")
    return (x * weights).sum(dim=(3, 4)) / total


def acd_mean_colour(videos: torch.Tensor, mask: torch.Tensor | None = None, *, pairs: str = "all",
                    stride: int | None = None) -> Score:
    """ACD in MoCoGAN's mean-colour form, with its protocol (no network: pixels only)."""
    mean, sd = mean_and_sd(content_distances(mean_colours(videos, mask), pairs))
    protocol = Protocol(n_videos=videos.shape[0], frames=videos.shape[1], stride=stride, resize=None,
                        network="mean colour" + (" (masked)" if mask is not None else ""), weights_sha256=NO_NETWORK,
                        notes=f"{pairs} frame pairs; colours in the videos' units")
    return Score("ACD", mean, protocol, sd)


@torch.no_grad()
def embed_frames(videos: torch.Tensor, embedder: Callable[[torch.Tensor], torch.Tensor],
                 batch_size: int = 64) -> torch.Tensor:
    """Run ``embedder`` on every frame: (N, T, 3, H, W) -> (N, T, D).

    ``embedder``: a callable ``(M, 3, H, W) -> (M, D)``, or a feature network (an object
    with a ``features`` method, such as ``ToyFeatureNet``), whose ``features`` is used."""
    _check_videos(videos)
    embed = embedder.features if callable(getattr(embedder, "features", None)) else embedder
    n, t = videos.shape[:2]
    frames = videos.flatten(0, 1)  # (N*T, 3, H, W)
    vectors = torch.cat([torch.as_tensor(embed(chunk)).detach().float().cpu() for chunk in frames.split(batch_size)])
    if vectors.dim() != 2 or vectors.shape[0] != n * t:
        raise ValueError(f"the embedder must map M frames (M, 3, H, W) to (M, D) vectors; for {n * t} frames it "
                         f"returned shape {tuple(vectors.shape)}")
    return vectors.unflatten(0, (n, t))


def acd_embedding(videos: torch.Tensor, embedder: Callable[[torch.Tensor], torch.Tensor], *, name: str | None = None,
                  weights_sha256: str | None = None, pairs: str = "all", stride: int | None = None,
                  batch_size: int = 64) -> Score:
    """ACD on identity embeddings (MoCoGAN's faces form), with its protocol.

    ``name`` and ``weights_sha256`` describe the embedder; by default they are read from
    its ``name`` / ``weights_sha256`` attributes, else "embedder" / "random init"."""
    vectors = embed_frames(videos, embedder, batch_size)
    mean, sd = mean_and_sd(content_distances(vectors, pairs))
    name = name or getattr(embedder, "name", None) or "embedder"
    weights = weights_sha256 or getattr(embedder, "weights_sha256", None) or RANDOM_INIT
    protocol = Protocol(n_videos=videos.shape[0], frames=videos.shape[1], stride=stride,
                        resize=_or_none(getattr(embedder, "input_size", None)), network=name,
                        weights_sha256=weights, notes=f"{pairs} frame pairs; {vectors.shape[2]}-d embeddings")
    return Score("ACD", mean, protocol, sd)


def _or_none(size) -> str | None:
    return None if size is None else "x".join(map(str, size))


def _check_videos(videos) -> None:
    if not torch.is_tensor(videos) or videos.dim() != 5 or videos.shape[2] != 3 or not videos.is_floating_point():
        shape = tuple(videos.shape) if torch.is_tensor(videos) else type(videos).__name__
        raise ValueError(f"videos must be a float tensor (N, T, 3, H, W), got {shape}")
    if videos.shape[1] < 2:
        raise ValueError(f"ACD compares frames of a video: need T >= 2 frames, got {videos.shape[1]}")
