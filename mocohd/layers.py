"""StyleGAN2's building blocks, in the paper's vocabulary.

Attribute names follow rosinality's stylegan2-pytorch (which MoCoGAN-HD builds on), so a
released ``g_ema`` state dict loads into these modules key for key.

Equalized learning rate (Karras et al.): weights are stored as N(0, 1) and scaled by
1/sqrt(fan_in) at every call. Adam's update size is then the same for every layer,
whatever its fan-in, which is what keeps deep GANs stable without careful init.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .kernels import fused_leaky_relu, make_blur_kernel, upfirdn2d


class PixelNorm(nn.Module):
    """Normalise each latent vector to unit root-mean-square (the mapping net's input)."""

    def forward(self, z):
        return z * torch.rsqrt(z.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class FusedLeakyReLU(nn.Module):
    """Bias + leaky ReLU + sqrt(2) gain, with its own bias parameter."""

    def __init__(self, channels: int, negative_slope=0.2, scale=math.sqrt(2)):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))
        self.negative_slope, self.scale = negative_slope, scale

    def forward(self, x):
        return fused_leaky_relu(x, self.bias, self.negative_slope, self.scale)


class ScaledLeakyReLU(nn.Module):
    def __init__(self, negative_slope=0.2):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope) * math.sqrt(2)


class Upsample(nn.Module):
    """2x upsampling: zero insertion then the blur kernel (times factor^2 to keep the mean)."""

    def __init__(self, taps=(1, 3, 3, 1), factor=2):
        super().__init__()
        self.factor = factor
        self.register_buffer("kernel", make_blur_kernel(taps) * factor**2)
        p = self.kernel.shape[0] - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)

    def forward(self, x):
        return upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad)


class Blur(nn.Module):
    """Low-pass filter that removes the aliasing of strided (de)convolutions."""

    def __init__(self, taps, pad, upsample_factor=1):
        super().__init__()
        self.register_buffer("kernel", make_blur_kernel(taps) * upsample_factor**2)
        self.pad = pad

    def forward(self, x):
        return upfirdn2d(x, self.kernel, pad=self.pad)


class EqualConv2d(nn.Module):
    def __init__(self, in_channel, out_channel, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channel, in_channel, kernel_size, kernel_size))
        self.scale = 1 / math.sqrt(in_channel * kernel_size**2)
        self.stride, self.padding = stride, padding
        self.bias = nn.Parameter(torch.zeros(out_channel)) if bias else None

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, self.bias, stride=self.stride, padding=self.padding)


class EqualLinear(nn.Module):
    """Equalized-lr linear layer. ``lr_mul`` < 1 slows a layer down: the mapping network
    uses 0.01, so W moves slowly compared with the synthesis network."""

    def __init__(self, in_dim, out_dim, bias=True, bias_init=0.0, lr_mul=1.0, activation=None):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim).div_(lr_mul))
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init))) if bias else None
        self.activation = activation
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul

    def forward(self, x):
        bias = None if self.bias is None else self.bias * self.lr_mul
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), bias)
        return F.linear(x, self.weight * self.scale, bias)


class ModulatedConv2d(nn.Module):
    """StyleGAN2's modulated convolution: the style scales the weight's input channels
    (modulation), then each output filter is rescaled to unit norm (demodulation), which
    replaces AdaIN's instance normalisation without its droplet artefacts.

    Two equal implementations:
    - ``fused=True``: the official grouped convolution, one weight per sample;
    - ``fused=False`` (default): scale the input by the style, run one shared conv, scale
      the output by the demodulation coefficients. Measured faster on a CPU (see
      ``make bench``), and the tests check that both agree.
    """

    def __init__(self, in_channel, out_channel, kernel_size, style_dim, demodulate=True,
                 upsample=False, blur_kernel=(1, 3, 3, 1), fused=False):
        super().__init__()
        self.in_channel, self.out_channel, self.kernel_size = in_channel, out_channel, kernel_size
        self.upsample, self.demodulate, self.fused = upsample, demodulate, fused
        if upsample:
            factor = 2
            p = (len(blur_kernel) - factor) - (kernel_size - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2 + factor - 1, p // 2 + 1), upsample_factor=factor)
        self.scale = 1 / math.sqrt(in_channel * kernel_size**2)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.randn(1, out_channel, in_channel, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_channel, bias_init=1)

    def extra_repr(self):
        return f"{self.in_channel}, {self.out_channel}, k={self.kernel_size}, upsample={self.upsample}, fused={self.fused}"

    def forward(self, x, style):
        style = self.modulation(style)  # (B, in)
        return self._grouped(x, style) if self.fused else self._scaled(x, style)

    def _demod(self, weight, style):
        """1 / ||w * s|| per sample and output channel: (B, out).

        The squared norm of output filter o of sample b is sum_{i,k} (w[o,i,k] s[b,i])^2
        = sum_i s[b,i]^2 * sum_k w[o,i,k]^2: a (B, in) x (in, out) product. The grouped form
        builds the per-sample weight (B, out, in, k, k), tens of millions of numbers per layer
        at the paper's widths, only to square and sum it (and backpropagate through it)."""
        squared = weight.pow(2).sum([2, 3])  # (out, in), in the weight's precision
        with torch.autocast(style.device.type, enabled=False):  # not in bf16: the elementwise form never was
            return torch.rsqrt(style.to(squared.dtype).pow(2) @ squared.t() + 1e-8)

    def _scaled(self, x, style):
        b = x.shape[0]
        weight = self.scale * self.weight[0]  # (out, in, k, k)
        x = x * style.reshape(b, -1, 1, 1).to(x.dtype)
        if self.upsample:
            out = F.conv_transpose2d(x, weight.transpose(0, 1).to(x.dtype), stride=2)
            out = self.blur(out)
        else:
            out = F.conv2d(x, weight.to(x.dtype), padding=self.padding)
        if self.demodulate:
            out = out * self._demod(weight, style).reshape(b, -1, 1, 1).to(out.dtype)
        return out

    def _grouped(self, x, style):
        b, c, h, w = x.shape
        weight = self.scale * self.weight * style.view(b, 1, c, 1, 1)  # (B, out, in, k, k)
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8).view(b, -1, 1, 1, 1)
        x = x.reshape(1, b * c, h, w)
        k = self.kernel_size
        if self.upsample:
            weight = weight.transpose(1, 2).reshape(b * c, self.out_channel, k, k)
            out = F.conv_transpose2d(x, weight.to(x.dtype), stride=2, groups=b)
            out = self.blur(out.view(b, self.out_channel, out.shape[-2], out.shape[-1]))
            return out
        out = F.conv2d(x, weight.reshape(b * self.out_channel, c, k, k).to(x.dtype), padding=self.padding, groups=b)
        return out.view(b, self.out_channel, h, w)


class NoiseInjection(nn.Module):
    """Adds per-pixel noise scaled by a learned strength. In MoCoGAN-HD one noise map is
    drawn per video and repeated over its frames, so noise never flickers in time."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x, noise=None):
        if noise is None:
            noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], dtype=x.dtype, device=x.device)
        return x + self.weight.to(x.dtype) * noise.to(x.dtype)


class ConstantInput(nn.Module):
    """The learned 4x4 tensor the synthesis network starts from."""

    def __init__(self, channel, size=4):
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channel, size, size))

    def forward(self, batch: int):
        return self.input.expand(batch, -1, -1, -1)


class StyledConv(nn.Module):
    def __init__(self, in_channel, out_channel, kernel_size, style_dim, upsample=False,
                 blur_kernel=(1, 3, 3, 1), demodulate=True, fused=False):
        super().__init__()
        self.conv = ModulatedConv2d(in_channel, out_channel, kernel_size, style_dim, demodulate=demodulate,
                                    upsample=upsample, blur_kernel=blur_kernel, fused=fused)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_channel)

    def forward(self, x, style, noise=None):
        return self.activate(self.noise(self.conv(x, style), noise))


class ToRGB(nn.Module):
    """1x1 modulated conv to RGB (no demodulation), added to the upsampled image so far:
    the 'skip' generator of StyleGAN2, where each resolution refines the picture."""

    def __init__(self, in_channel, style_dim, upsample=True, blur_kernel=(1, 3, 3, 1), fused=False):
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = ModulatedConv2d(in_channel, 3, 1, style_dim, demodulate=False, fused=fused)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x, style, skip=None):
        out = self.conv(x, style) + self.bias.to(x.dtype)
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class ConvLayer(nn.Sequential):
    """Discriminator conv: [blur] + equalized conv (stride 2 when downsampling) + activation.
    A Sequential so its keys are ``0.weight``, ``1.bias``, ... as in released checkpoints."""

    def __init__(self, in_channel, out_channel, kernel_size, downsample=False,
                 blur_kernel=(1, 3, 3, 1), bias=True, activate=True):
        layers = []
        if downsample:
            p = (len(blur_kernel) - 2) + (kernel_size - 1)
            layers.append(Blur(blur_kernel, pad=((p + 1) // 2, p // 2)))
            stride, padding = 2, 0
        else:
            stride, padding = 1, kernel_size // 2
        layers.append(EqualConv2d(in_channel, out_channel, kernel_size, stride=stride, padding=padding,
                                  bias=bias and not activate))
        if activate:
            layers.append(FusedLeakyReLU(out_channel) if bias else ScaledLeakyReLU(0.2))
        super().__init__(*layers)


class ResBlock(nn.Module):
    """Residual discriminator block; the sum is divided by sqrt(2) to keep its variance."""

    def __init__(self, in_channel, out_channel, blur_kernel=(1, 3, 3, 1)):
        super().__init__()
        self.conv1 = ConvLayer(in_channel, in_channel, 3)
        self.conv2 = ConvLayer(in_channel, out_channel, 3, downsample=True, blur_kernel=blur_kernel)
        self.skip = ConvLayer(in_channel, out_channel, 1, downsample=True, activate=False, bias=False)

    def forward(self, x):
        return (self.conv2(self.conv1(x)) + self.skip(x)) / math.sqrt(2)
