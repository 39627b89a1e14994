"""DiffAugment (Zhao et al., 2020): differentiable augmentations applied to real *and*
fake images before the discriminator, so a GAN trained on few images does not let D
memorise them. MoCoGAN-HD's authors used it for the UCF-101 and FaceForensics generators.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def color(x):
    b = x.shape[0]
    x = x + (torch.rand(b, 1, 1, 1, device=x.device) - 0.5)  # brightness
    mean = x.mean(1, keepdim=True)
    x = (x - mean) * (torch.rand(b, 1, 1, 1, device=x.device) * 2) + mean  # saturation
    mean = x.mean([1, 2, 3], keepdim=True)
    return (x - mean) * (torch.rand(b, 1, 1, 1, device=x.device) + 0.5) + mean  # contrast


def translation(x, ratio=0.125):
    """Shift each image by up to ratio * size pixels, filling with zeros."""
    b, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sy, sy + 1, (b,), device=x.device)
    dx = torch.randint(-sx, sx + 1, (b,), device=x.device)
    rows = (torch.arange(h, device=x.device)[None] - dy[:, None]).clamp(-1, h)  # (B, H)
    cols = (torch.arange(w, device=x.device)[None] - dx[:, None]).clamp(-1, w)
    padded = F.pad(x, [1, 1, 1, 1])  # index -1 / h land on the zero border
    idx_r = (rows + 1)[:, None, :, None].expand(-1, x.shape[1], -1, w + 2)
    out = padded.gather(2, idx_r)
    idx_c = (cols + 1)[:, None, None, :].expand(-1, x.shape[1], h, -1)
    return out.gather(3, idx_c)


def cutout(x, ratio=0.5):
    """Zero a random square of side ratio * size in each image."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device)
    ys = torch.arange(h, device=x.device)[None, :, None]
    xs = torch.arange(w, device=x.device)[None, None, :]
    keep = ~((ys - cy).abs() <= ch // 2) | ~((xs - cx).abs() <= cw // 2)
    return x * keep[:, None].to(x.dtype)


def diff_augment(x, policy=("color", "translation", "cutout")):
    for name in policy:
        x = {"color": color, "translation": translation, "cutout": cutout}[name](x)
    return x
