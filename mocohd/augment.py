"""Augmentations of the discriminators' inputs, as the official code has them.

* :func:`warp` makes one random "view" of each image for the contrastive image
  discriminator: a cutout on a border, then one of a horizontal flip, a colour shift or
  a random affine warp. Two calls give the two views whose projections must match.
* :func:`random_temporal_flip` plays a batch of clips backwards half of the time before
  the video discriminator sees it.

Every function takes an optional ``torch.Generator`` so results are reproducible.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _uniform(low: float, high: float, generator: torch.Generator | None) -> float:
    return low + (high - low) * float(torch.rand((), generator=generator))


def _randint(n: int, generator: torch.Generator | None) -> int:
    """An integer in 0..n-1."""
    return int(torch.randint(n, (), generator=generator))


def cutout_border(img: torch.Tensor, max_ratio: float = 0.25, generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero a square of side ratio*H, ratio ~ U(max_ratio/2, max_ratio), in a band along one border.

    img is (C, H, W). The border (top, bottom, left, right) is chosen uniformly; the square
    lies within the outer ``max_ratio`` band of that border, so the centre object mostly stays.
    """
    _, h, w = img.shape
    ratio = _uniform(max_ratio / 2, max_ratio, generator)
    along = _uniform(0, 1 - max_ratio, generator)  # position along the border
    border = _randint(4, generator)
    if border == 0:  # top
        y0, x0 = _uniform(0, max_ratio - ratio, generator), along
    elif border == 1:  # bottom
        y0, x0 = _uniform(1 - max_ratio, 1 - ratio, generator), along
    elif border == 2:  # left
        y0, x0 = along, _uniform(0, max_ratio - ratio, generator)
    else:  # right
        y0, x0 = along, _uniform(1 - max_ratio, 1 - ratio, generator)
    side = round(h * ratio - 0.5)
    top, left = max(0, round(y0 * (h - 1) - 0.5)), max(0, round(x0 * (w - 1) - 0.5))
    out = img.clone()
    out[:, top : top + side, left : left + side] = 0.0
    return out


def hflip_maybe(img: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror (C, H, W) left-right with probability 1/2."""
    return img.flip(-1) if _randint(2, generator) == 1 else img


def colour_shift(img: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Add c ~ U(-0.5, 0.5) to all channels or to one of R, G, B (4 equal choices)."""
    c = _uniform(-0.5, 0.5, generator)
    which = _randint(4, generator)
    out = img.clone()
    if which == 0:
        out += c
    else:
        out[which - 1] += c
    return out


def random_affine(img: torch.Tensor, max_degrees: float = 180.0, max_shift: float = 0.1,
                  max_scale: float = 0.05, generator: torch.Generator | None = None) -> torch.Tensor:
    """Rotate by U(-180, 180) degrees, shift by U(-0.1, 0.1) (in [-1, 1] units) and scale by
    U(0.95, 1.05), sampling with reflection padding. (C, H, W) -> (C, H, W)."""
    angle = math.radians(_uniform(-max_degrees, max_degrees, generator))
    tx, ty = _uniform(-max_shift, max_shift, generator), _uniform(-max_shift, max_shift, generator)
    s = _uniform(1 - max_scale, 1 + max_scale, generator)
    theta = torch.tensor([[s * math.cos(angle), -s * math.sin(angle), tx],
                          [s * math.sin(angle), s * math.cos(angle), ty]], dtype=img.dtype, device=img.device)
    grid = F.affine_grid(theta[None], [1, *img.shape], align_corners=False)  # (1, H, W, 2)
    return F.grid_sample(img[None], grid, padding_mode="reflection", align_corners=False)[0]


def warp_one(img: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One random view of one image (C, H, W): cutout, then flip / colour / affine (1/3 each)."""
    out = cutout_border(img, generator=generator)
    choice = _randint(3, generator)
    if choice == 0:
        return hflip_maybe(out, generator)
    if choice == 1:
        return colour_shift(out, generator)
    return random_affine(out, generator=generator)


def warp(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random view of every image of a batch, drawn independently: (B, C, H, W) -> (B, C, H, W)."""
    if x.dim() != 4:
        raise ValueError(f"warp expects images (B, C, H, W), got shape {tuple(x.shape)}")
    return torch.stack([warp_one(img, generator) for img in x])


def random_temporal_flip(x: torch.Tensor, p: float = 0.5, generator: torch.Generator | None = None) -> torch.Tensor:
    """With probability p, reverse the whole batch of clips (B, C, T, H, W) in time.

    As in the official code one coin decides for the whole batch; real and fake batches get
    separate coins. The code gives no reason; a reading: it is data augmentation for the
    video D (twice the motions from few training videos), and it makes the D indifferent to
    the direction of time, so it judges how natural the motion is, not which way it runs.
    """
    if x.dim() != 5:
        raise ValueError(f"random_temporal_flip expects clips (B, C, T, H, W), got shape {tuple(x.shape)}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p={p} must be a probability in [0, 1]")
    flip = float(torch.rand((), generator=generator)) < p
    return x.flip(2) if flip else x
