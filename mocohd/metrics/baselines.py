"""Baseline videos that show what a video metric sees.

A metric earns trust by ranking videos whose faults are known. From a set of real clips:

* ``shuffled``: each clip's frames in a random order. Every frame is real, so an image
  metric cannot tell; only a metric that reads motion can.
* ``static``: each clip's first frame held for the whole clip: real content, no motion.
* ``independent``: frame t of each video comes from a different real clip: real frames,
  real image statistics, but no single identity and no motion that makes sense.
* ``noise``: uniform noise in [-1, 1]: nothing real at all.

And from an image generator (``random_walk_in_w``): consecutive frames are w's that take
independent Gaussian steps in W, the motion one gets with no motion generator at all.
A video metric should put real clips first, then shuffled, static, and noise last.
"""

from __future__ import annotations

import torch

BASELINES = ("shuffled", "static", "independent", "noise")


def baseline_videos(name: str, real: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """The ``name`` baseline (one of ``BASELINES``) made from real clips ``(N, T, 3, H, W)``."""
    if not torch.is_tensor(real) or real.dim() != 5:
        raise ValueError(f"real clips must be a tensor (N, T, 3, H, W), got "
                         f"{tuple(real.shape) if torch.is_tensor(real) else type(real).__name__}")
    n, t = real.shape[:2]
    g = torch.Generator().manual_seed(seed)
    if name == "shuffled":
        order = torch.argsort(torch.rand(n, t, generator=g), dim=1)  # one permutation per clip
        return real[torch.arange(n)[:, None], order]
    if name == "static":
        return real[:, :1].expand_as(real).clone()
    if name == "independent":
        if n < 2:
            raise ValueError("independent frames need at least 2 real clips to draw frames from")
        source = torch.randint(n, (n, t), generator=g)  # frame t of video i from clip source[i, t]
        return real[source, torch.arange(t)[None, :]]
    if name == "noise":
        return torch.rand(real.shape, generator=g, dtype=real.dtype).mul_(2).sub_(1)
    raise ValueError(f"unknown baseline {name!r}; choose one of {BASELINES}")


@torch.no_grad()
def random_walk_in_w(image_generator, n_videos: int, n_frames: int = 16, step: float = 0.1, seed: int = 0,
                     batch_size: int = 64) -> torch.Tensor:
    """Videos ``(N, T, 3, H, W)`` from an image generator alone: w_0 = mapping(z), then
    w_t = w_{t-1} + ``step`` * (per-dimension std of W) * Gaussian noise. No learned motion."""
    g = torch.Generator().manual_seed(seed)
    device = image_generator.input.input.device
    z = torch.randn(4096, image_generator.style_dim, generator=g)
    scale = image_generator.get_latent(z.to(device)).std(0).cpu()  # W's own spread per dimension
    w = image_generator.get_latent(torch.randn(n_videos, image_generator.style_dim, generator=g).to(device)).cpu()
    steps = torch.randn(n_frames - 1, n_videos, w.shape[1], generator=g) * step * scale
    path = torch.cat([w[None], w[None] + steps.cumsum(0)])  # (T, N, D)
    flat = path.transpose(0, 1).reshape(n_videos * n_frames, -1)
    frames = torch.cat([image_generator.synthesize(chunk.to(device), use_noise=False).float().cpu()
                        for chunk in flat.split(batch_size)])
    return frames.clamp(-1, 1).unflatten(0, (n_videos, n_frames))
