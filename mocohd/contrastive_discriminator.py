"""The cross-domain contrastive image discriminator of MoCoGAN-HD.

A BigGAN-style residual network with spectral norm on every conv and linear layer, a GAN
head and a 256-d projection head, plus a momentum copy and two queues of projections (MoCo).
It never sees dataset images: "real" is generated frame 0, "fake" is generated frame k, so it
teaches the motion generator to keep content while the frame changes (notebook 03). Module
names follow the official code so that its ``modelD_img_*.pth`` loads with
:func:`mocohd.discriminators.load_official_state_dict`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from mocohd.discriminators import DiscriminatorConfig


def biggan_arch(resolution: int, ch: int) -> list[tuple[int, int, bool]]:
    """(in_channels, out_channels, downsample) per residual block, as BigGAN's ``D_arch``."""
    widths = {  # multiples of ch: in of block 0 is RGB
        128: ([1, 2, 4, 8, 16, 16], [True] * 5 + [False]),
        64: ([1, 2, 4, 8, 16], [True] * 4 + [False]),
        32: ([4, 4, 4, 4], [True, True, False, False]),
    }
    if resolution not in widths:
        raise ValueError(f"BigGAN discriminator resolution {resolution} not supported; use one of {sorted(widths)}")
    mults, downs = widths[resolution]
    outs = [m * ch for m in mults]
    ins = [3] + outs[:-1]
    return list(zip(ins, outs, downs))


def _sn_conv(c_in: int, c_out: int, kernel: int) -> nn.Module:
    return spectral_norm(nn.Conv2d(c_in, c_out, kernel_size=kernel, padding=kernel // 2))


class DBlock(nn.Module):
    """Residual block: [ReLU] conv3 ReLU conv3 [avgpool2] + shortcut (1x1 SN conv if needed)."""

    def __init__(self, c_in: int, c_out: int, downsample: bool, preactivation: bool):
        super().__init__()
        self.preactivation, self.downsample = preactivation, downsample
        self.conv1 = _sn_conv(c_in, c_out, 3)  # "wide": hidden width = c_out
        self.conv2 = _sn_conv(c_out, c_out, 3)
        self.learnable_sc = c_in != c_out or downsample
        if self.learnable_sc:
            self.conv_sc = _sn_conv(c_in, c_out, 1)

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 2) if self.downsample else x

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if not self.learnable_sc:
            return self._pool(x)
        # Pre-activated blocks project then pool; the first block pools then projects.
        return self._pool(self.conv_sc(x)) if self.preactivation else self.conv_sc(self._pool(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        return self._pool(h) + self.shortcut(x)


class BigGANDiscriminator(nn.Module):
    """BigGAN ResNet discriminator with a projection head; spectral norm on every conv/linear.

    ``forward(x, proj_only=False)``: x (B, 3, R, R) -> ``(out (B, 1), proj (B, proj_dim))``,
    or just ``proj`` when ``proj_only``. Shared trunk h = ReLU(proj0(sum-pooled features));
    GAN head ``linear(h)``; projection head ``proj2(ReLU(proj1(h)))``.
    """

    def __init__(self, resolution: int = 128, d_ch: int = 96, proj_dim: int = 256, init: bool = True):
        super().__init__()
        self.resolution, self.d_ch, self.proj_dim = resolution, d_ch, proj_dim
        arch = biggan_arch(resolution, d_ch)
        # Each block sits in its own one-element ModuleList, so the parameter names match
        # the official checkpoints ("blocks.3.0.conv1.weight_orig").
        self.blocks = nn.ModuleList(
            nn.ModuleList([DBlock(c_in, c_out, down, preactivation=i > 0)])
            for i, (c_in, c_out, down) in enumerate(arch)
        )
        last = arch[-1][1]
        self.proj0 = spectral_norm(nn.Linear(last, proj_dim))
        self.proj1 = spectral_norm(nn.Linear(proj_dim, proj_dim))
        self.proj2 = spectral_norm(nn.Linear(proj_dim, proj_dim))
        self.linear = spectral_norm(nn.Linear(proj_dim, 1))
        if init:
            self.init_weights()

    def init_weights(self) -> None:
        """BigGAN's 'ortho' init, on the weights before spectral normalisation."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.orthogonal_(m.weight_orig)

    def clone(self) -> "BigGANDiscriminator":
        """An independent copy with the same weights (``copy.deepcopy`` fails on spectral-normed
        modules once they have run a forward pass with gradients)."""
        twin = BigGANDiscriminator(self.resolution, self.d_ch, self.proj_dim, init=False)
        twin.load_state_dict(self.state_dict())
        return twin.to(next(self.parameters()).device)

    def forward(self, x: torch.Tensor, proj_only: bool = False):
        if x.dim() != 4 or x.shape[-1] != self.resolution or x.shape[-2] != self.resolution:
            raise ValueError(f"expected images (B, 3, {self.resolution}, {self.resolution}), got {tuple(x.shape)}")
        h = x
        for (block,) in self.blocks:
            h = block(h)
        h = F.relu(h).sum(dim=(2, 3))  # (B, C): sum-pool, as BigGAN
        h = F.relu(self.proj0(h))  # (B, proj_dim)
        proj = self.proj2(F.relu(self.proj1(h)))  # (B, proj_dim)
        if proj_only:
            return proj
        return self.linear(h), proj  # (B, 1), (B, proj_dim)


class ContrastiveImageDiscriminator(nn.Module):
    """The cross-domain image D: online BigGAN D, its momentum copy, and two projection queues.

    * ``modelD`` is trained; ``modelD_ema`` (the MoCo "key encoder") follows it by
      ``momentum_update()``: theta_k <- m theta_k + (1 - m) theta_q, with m = 0.999;
    * ``q_real`` / ``q_fake`` (q_len x proj_dim) hold key projections of augmented frame 0
      ("real") and frame k ("fake") from past steps: negatives for the contrastive loss
      that are cheap (no gradient) and many (far more than a CPU batch); the loss that reads
      them is :func:`mocohd.losses.queued_contrastive_loss`.

    The queues' effective length is ``q_len // batch_size * batch_size`` (as official, so
    that whole batches fit); they share one pointer that wraps around.
    """

    def __init__(self, cfg: DiscriminatorConfig, batch_size: int):
        super().__init__()
        if not 1 <= batch_size <= cfg.q_len:
            raise ValueError(f"batch_size={batch_size} must be in 1..q_len={cfg.q_len}")
        self.m, self.temperature = cfg.moco_m, cfg.moco_t
        self.modelD = BigGANDiscriminator(cfg.size, cfg.d_ch, cfg.proj_dim)
        self.modelD_ema = self.modelD.clone()
        for p in self.modelD_ema.parameters():
            p.requires_grad_(False)
        # Random unit *columns* (normalised over dim 0), as the official initial queues.
        self.register_buffer("q_real", F.normalize(torch.randn(cfg.q_len, cfg.proj_dim), dim=0))
        self.register_buffer("q_fake", F.normalize(torch.randn(cfg.q_len, cfg.proj_dim), dim=0))
        self.register_buffer("q_ptr", torch.zeros(1, dtype=torch.long))
        self.q_len = cfg.q_len // batch_size * batch_size

    def forward(self, x: torch.Tensor, ema: bool = False, proj_only: bool = False):
        return (self.modelD_ema if ema else self.modelD)(x, proj_only=proj_only)

    @torch.no_grad()
    def momentum_update(self) -> None:
        for p, p_ema in zip(self.modelD.parameters(), self.modelD_ema.parameters()):
            p_ema.mul_(self.m).add_(p.detach(), alpha=1.0 - self.m)

    @torch.no_grad()
    def enqueue(self, real_proj: torch.Tensor, fake_proj: torch.Tensor) -> None:
        """Write a batch of key projections (B, proj_dim) into both queues and move the pointer."""
        n = real_proj.shape[0]
        if fake_proj.shape != real_proj.shape or n > self.q_len:
            raise ValueError(f"enqueue needs two (B, proj_dim) batches with B <= {self.q_len}; got "
                             f"{tuple(real_proj.shape)} and {tuple(fake_proj.shape)}")
        ptr = int(self.q_ptr)
        rows = (ptr + torch.arange(n)) % self.q_len
        self.q_real[rows] = real_proj.to(self.q_real)
        self.q_fake[rows] = fake_proj.to(self.q_fake)
        self.q_ptr[0] = (ptr + n) % self.q_len


def build_contrastive_discriminator(cfg: DiscriminatorConfig, batch_size: int) -> ContrastiveImageDiscriminator:
    return ContrastiveImageDiscriminator(cfg, batch_size)
