"""The StyleGAN2 image generator G_I (mapping + synthesis) and its residual discriminator.

MoCoGAN-HD never changes G_I: it is pre-trained on images, frozen, and a video is a path
of latents w_0, w_1, ... through its W space. The architecture follows rosinality's
stylegan2-pytorch (the code MoCoGAN-HD builds on), key for key, plus one knob for CPUs:
``channel_scale`` multiplies every width (1.0 = the released models).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from .layers import (ConstantInput, ConvLayer, EqualLinear, PixelNorm, ResBlock, StyledConv, ToRGB)


def channel_table(channel_multiplier: int = 2, channel_scale: float = 1.0) -> dict[int, int]:
    """Feature maps per resolution: rosinality's table times ``channel_scale``."""
    base = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * channel_multiplier, 128: 128 * channel_multiplier,
            256: 64 * channel_multiplier, 512: 32 * channel_multiplier, 1024: 16 * channel_multiplier}
    return {res: max(8, int(round(ch * channel_scale))) for res, ch in base.items()}


def check_size(size: int, minimum: int = 8, maximum: int = 1024) -> int:
    if not isinstance(size, int) or size < minimum or size > maximum or size & (size - 1):
        raise ValueError(f"image size must be a power of two from {minimum} to {maximum}, got {size!r}; "
                         "use 64 for the CPU presets or 256 for the paper's")
    return size


class MappingNetwork(nn.Sequential):
    """z -> w: pixel norm then ``n_mlp`` equalized linear layers with lr_mul 0.01.
    A Sequential so its keys are ``style.1.weight`` ... as in released checkpoints."""

    def __init__(self, style_dim: int, n_mlp: int, lr_mlp: float = 0.01):
        layers = [PixelNorm()]
        layers += [EqualLinear(style_dim, style_dim, lr_mul=lr_mlp, activation="fused_lrelu") for _ in range(n_mlp)]
        super().__init__(*layers)


class Generator(nn.Module):
    def __init__(self, size: int, style_dim: int = 512, n_mlp: int = 8, channel_multiplier: int = 2,
                 blur_kernel=(1, 3, 3, 1), lr_mlp: float = 0.01, channel_scale: float = 1.0, fused_modconv: bool = False):
        super().__init__()
        self.size, self.style_dim = check_size(size), style_dim
        # torch.channels_last makes the convs' activations NHWC, which oneDNN runs faster on CPUs
        self.memory_format = torch.contiguous_format
        self.channels = channel_table(channel_multiplier, channel_scale)
        self.style = MappingNetwork(style_dim, n_mlp, lr_mlp)
        ch = self.channels
        conv = dict(blur_kernel=blur_kernel, fused=fused_modconv)
        self.input = ConstantInput(ch[4])
        self.conv1 = StyledConv(ch[4], ch[4], 3, style_dim, **conv)
        self.to_rgb1 = ToRGB(ch[4], style_dim, upsample=False, fused=fused_modconv)
        self.log_size = int(math.log2(size))
        self.num_layers = (self.log_size - 2) * 2 + 1  # noise inputs: one per styled conv
        self.n_latent = self.log_size * 2 - 2  # w inputs: styled convs + to-RGBs
        self.convs, self.to_rgbs, self.noises = nn.ModuleList(), nn.ModuleList(), nn.Module()
        for i in range(self.num_layers):
            res = 2 ** ((i + 5) // 2)
            self.noises.register_buffer(f"noise_{i}", torch.randn(1, 1, res, res))
        in_ch = ch[4]
        for i in range(3, self.log_size + 1):
            out_ch = ch[2**i]
            self.convs.append(StyledConv(in_ch, out_ch, 3, style_dim, upsample=True, **conv))
            self.convs.append(StyledConv(out_ch, out_ch, 3, style_dim, **conv))
            self.to_rgbs.append(ToRGB(out_ch, style_dim, fused=fused_modconv))
            in_ch = out_ch

    # --- latents -------------------------------------------------------------------------
    def get_latent(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, style_dim) -> w (B, style_dim) through the mapping network."""
        return self.style(z)

    @torch.no_grad()
    def mean_latent(self, n: int = 4096, generator: torch.Generator | None = None) -> torch.Tensor:
        """The centre of W, used for the truncation trick: (1, style_dim)."""
        z = torch.randn(n, self.style_dim, generator=generator).to(self.input.input.device)
        return self.style(z).mean(0, keepdim=True)

    def make_noise(self, batch: int = 1, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """One fresh noise map per noise input: shapes (batch, 1, res, res)."""
        dev = self.input.input.device
        return [torch.randn(batch, 1, 2 ** ((i + 5) // 2), 2 ** ((i + 5) // 2), generator=generator).to(dev)
                for i in range(self.num_layers)]

    def _broadcast(self, styles: list[torch.Tensor], inject_index: int | None) -> torch.Tensor:
        """One or two w's -> per-layer latents (B, n_latent, style_dim). Two w's = style
        mixing: the first drives the coarse layers, the second the fine ones."""
        if len(styles) == 1:
            s = styles[0]
            return s if s.dim() == 3 else s[:, None].repeat(1, self.n_latent, 1)
        if inject_index is None:
            inject_index = int(torch.randint(1, self.n_latent, ()))  # torch's RNG: resumable
        a = styles[0][:, None].repeat(1, inject_index, 1)
        b = styles[1][:, None].repeat(1, self.n_latent - inject_index, 1)
        return torch.cat([a, b], 1)

    # --- synthesis -----------------------------------------------------------------------
    def synthesize(self, latent: torch.Tensor, noise: list | None = None, use_noise: bool = True) -> torch.Tensor:
        """Per-layer latents (B, n_latent, D), or one w per image (B, D) -> images (B, 3, H, W).

        ``noise``: a list of ``num_layers`` maps (None entries draw fresh noise);
        ``use_noise=False`` adds no noise at all (MoCoGAN-HD's noise-free rendering).
        """
        if latent.dim() == 2:
            latent = latent[:, None].expand(-1, self.n_latent, -1)
        if not use_noise:
            noise = [torch.zeros(()) for _ in range(self.num_layers)]
        elif noise is None:
            noise = [None] * self.num_layers
        out = self.input(latent.shape[0]).contiguous(memory_format=self.memory_format)
        out = self.conv1(out, latent[:, 0], noise[0])
        skip = self.to_rgb1(out, latent[:, 1])
        i = 1
        for up, conv, n1, n2, to_rgb in zip(self.convs[::2], self.convs[1::2], noise[1::2], noise[2::2], self.to_rgbs):
            out = conv(up(out, latent[:, i], n1), latent[:, i + 1], n2)
            skip = to_rgb(out, latent[:, i + 2], skip)
            i += 2
        return skip

    def forward(self, styles, return_latents=False, inject_index=None, truncation=1.0, truncation_latent=None,
                input_is_latent=False, noise=None, randomize_noise=True):
        """rosinality's call signature: ``styles`` is a list of one or two z (or w with
        ``input_is_latent``). Returns (images, latents or None)."""
        if torch.is_tensor(styles):
            styles = [styles]
        if not input_is_latent:
            styles = [self.style(s) for s in styles]
        if truncation < 1:
            if truncation_latent is None:
                raise ValueError("truncation < 1 needs truncation_latent; pass generator.mean_latent()")
            styles = [truncation_latent + truncation * (s - truncation_latent) for s in styles]
        if noise is None and not randomize_noise:
            noise = [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]
        latent = self._broadcast(styles, inject_index)
        image = self.synthesize(latent, noise)
        return image, (latent if return_latents else None)


class Discriminator(nn.Module):
    """StyleGAN2's residual discriminator with minibatch standard deviation."""

    def __init__(self, size: int, channel_multiplier: int = 2, blur_kernel=(1, 3, 3, 1),
                 channel_scale: float = 1.0, stddev_group: int = 4):
        super().__init__()
        ch = channel_table(channel_multiplier, channel_scale)
        log_size = int(math.log2(check_size(size)))
        convs = [ConvLayer(3, ch[size], 1)]
        in_ch = ch[size]
        for i in range(log_size, 2, -1):
            convs.append(ResBlock(in_ch, ch[2 ** (i - 1)], blur_kernel))
            in_ch = ch[2 ** (i - 1)]
        self.convs = nn.Sequential(*convs)
        self.stddev_group, self.stddev_feat = stddev_group, 1
        self.final_conv = ConvLayer(in_ch + 1, ch[4], 3)
        self.final_linear = nn.Sequential(EqualLinear(ch[4] * 16, ch[4], activation="fused_lrelu"), EqualLinear(ch[4], 1))

    def minibatch_stddev(self, x: torch.Tensor) -> torch.Tensor:
        """Append one channel holding the std of features across a small group of
        samples: a generator that collapses to one image is then easy to spot."""
        b, c, h, w = x.shape
        group = min(b, self.stddev_group)
        while b % group:  # groups must divide the batch
            group -= 1
        y = x.float().view(group, -1, self.stddev_feat, c // self.stddev_feat, h, w)
        y = torch.sqrt(y.var(0, unbiased=False) + 1e-8).mean([2, 3, 4], keepdim=True).squeeze(2)
        y = y.repeat(group, 1, h, w).to(x.dtype)
        return torch.cat([x, y], 1)

    def forward(self, x):
        out = self.final_conv(self.minibatch_stddev(self.convs(x)))
        return self.final_linear(out.flatten(1))
