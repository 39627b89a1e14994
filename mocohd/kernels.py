"""The two custom CUDA ops of StyleGAN2, written in plain PyTorch so they run on a CPU.

The official MoCoGAN-HD code JIT-compiles rosinality's CUDA kernels ``upfirdn2d`` and
``fused_bias_act`` at import time and has no CPU path. Here each op is a few tensor calls,
and each has a slow, obvious reference (Python loops) that the tests compare against.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up=1, down=1, pad=(0, 0)) -> torch.Tensor:
    """Upsample (zero insertion), FIR-filter, downsample (striding) a batch of images.

    x: (B, C, H, W); kernel: (kh, kw). ``up``, ``down`` are ints or (y, x) pairs;
    ``pad`` is (pad0, pad1) applied to both axes, or (x0, x1, y0, y1); negative pads crop.
    Output side: (H * up + pad0 + pad1 - kh) // down + 1.
    """
    (up_y, up_x), (down_y, down_x) = _pair(up), _pair(down)
    px0, px1, py0, py1 = (pad[0], pad[1], pad[0], pad[1]) if len(pad) == 2 else pad
    b, c, h, w = x.shape
    # 1. zero insertion: each pixel followed by (up - 1) zeros along each axis
    if (up_x, up_y) != (1, 1):  # (a pad by nothing would still copy the whole tensor)
        x = x.reshape(b, c, h, 1, w, 1)
        x = F.pad(x, [0, up_x - 1, 0, 0, 0, up_y - 1])
        x = x.reshape(b, c, h * up_y, w * up_x)
    # 2. pad (or crop, for negative pads)
    if max(px0, px1, py0, py1) > 0:
        x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0): x.shape[2] - max(-py1, 0), max(-px0, 0): x.shape[3] - max(-px1, 0)]
    # 3. FIR filter: a true convolution, so the kernel is flipped for conv2d's correlation
    weight = torch.flip(kernel, [0, 1]).to(x.dtype)[None, None].repeat(c, 1, 1, 1)
    x = F.conv2d(x, weight, groups=c)
    # 4. keep every down-th pixel
    return x[:, :, ::down_y, ::down_x]


def upfirdn2d_reference(x: torch.Tensor, kernel: torch.Tensor, up=1, down=1, pad=(0, 0)) -> torch.Tensor:
    """The same op with explicit loops: slow, obvious, for tests only."""
    (up_y, up_x), (down_y, down_x) = _pair(up), _pair(down)
    px0, px1, py0, py1 = (pad[0], pad[1], pad[0], pad[1]) if len(pad) == 2 else pad
    b, c, h, w = x.shape
    big = x.new_zeros(b, c, h * up_y, w * up_x)
    for i in range(h):
        for j in range(w):
            big[:, :, i * up_y, j * up_x] = x[:, :, i, j]
    hp, wp = h * up_y + py0 + py1, w * up_x + px0 + px1
    padded = x.new_zeros(b, c, hp, wp)
    for i in range(hp):
        for j in range(wp):
            si, sj = i - py0, j - px0
            if 0 <= si < big.shape[2] and 0 <= sj < big.shape[3]:
                padded[:, :, i, j] = big[:, :, si, sj]
    kh, kw = kernel.shape
    out_h, out_w = hp - kh + 1, wp - kw + 1
    out = x.new_zeros(b, c, out_h, out_w)
    for i in range(out_h):
        for j in range(out_w):
            acc = x.new_zeros(b, c)
            for u in range(kh):
                for v in range(kw):
                    # convolution: output(i, j) = sum padded(i + u, j + v) * k(kh-1-u, kw-1-v)
                    acc = acc + padded[:, :, i + u, j + v] * kernel[kh - 1 - u, kw - 1 - v]
            out[:, :, i, j] = acc
    return out[:, :, ::down_y, ::down_x]


class _BiasLeakyReLU(torch.autograd.Function):
    """leaky_relu(x + bias) * scale in one buffer: the forward writes its three steps into the
    output in place, and the backward reads the output alone. Written out as three tensor ops
    (add, leaky_relu, mul), autograd keeps three activation-sized tensors and makes three
    passes back; at the paper's widths each is 0.5 GB for a batch of 32 frames at 64 px."""

    @staticmethod
    def forward(ctx, x, bias, negative_slope, scale):
        if bias is None:
            out = F.leaky_relu(x, negative_slope)
        else:
            out = x + bias.view(1, -1, *([1] * (x.dim() - 2))).to(x.dtype)
            F.leaky_relu_(out, negative_slope)
        out.mul_(scale)
        ctx.save_for_backward(out)
        ctx.negative_slope, ctx.scale, ctx.bias_shape = negative_slope, scale, None if bias is None else bias.shape
        ctx.bias_dtype = None if bias is None else bias.dtype
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        grad_x, grad_bias = _BiasLeakyReLUBackward.apply(grad, out, ctx.negative_slope, ctx.scale,
                                                         ctx.bias_shape, ctx.bias_dtype)
        return grad_x, grad_bias, None, None


class _BiasLeakyReLUBackward(torch.autograd.Function):
    """The backward of :class:`_BiasLeakyReLU` as its own op, so that it can be differentiated
    again (R1 and the gradient penalty back-propagate through a gradient). The output has the
    sign of x + bias (scale > 0), so it is all the backward needs."""

    @staticmethod
    def forward(ctx, grad, out, negative_slope, scale, bias_shape, bias_dtype):
        grad_x = torch.ops.aten.leaky_relu_backward(grad, out, negative_slope, True).mul_(scale)
        ctx.save_for_backward(out)
        ctx.negative_slope, ctx.scale = negative_slope, scale
        grad_bias = None
        if bias_shape is not None:
            dims = [0, *range(2, grad_x.dim())]
            total = torch.promote_types(grad_x.dtype, torch.float32)  # bf16 sums in fp32
            grad_bias = grad_x.sum(dims, dtype=total).to(bias_dtype).view(bias_shape)
        return grad_x, grad_bias

    @staticmethod
    def backward(ctx, grad_grad_x, grad_grad_bias):
        # grad_x is linear in grad, with the same slope mask as the forward: so is its gradient
        (out,) = ctx.saved_tensors
        g = grad_grad_x if grad_grad_x is not None else torch.zeros_like(out)
        if grad_grad_bias is not None:
            g = g + grad_grad_bias.view(1, -1, *([1] * (out.dim() - 2))).to(g.dtype)
        return torch.ops.aten.leaky_relu_backward(g, out, ctx.negative_slope, True) * ctx.scale, None, None, None, None, None


def fused_leaky_relu(x: torch.Tensor, bias: torch.Tensor | None, negative_slope=0.2, scale=math.sqrt(2)) -> torch.Tensor:
    """leaky_relu(x + bias) * sqrt(2): the sqrt(2) keeps the activations' second moment at
    one, which equalized learning rate assumes (He initialisation folded into the op).
    The three steps share one buffer (:class:`_BiasLeakyReLU`); the tests check it against
    :func:`fused_leaky_relu_reference`, gradients and gradients of gradients included."""
    return _BiasLeakyReLU.apply(x, bias, negative_slope, scale)


def fused_leaky_relu_reference(x, bias, negative_slope=0.2, scale=math.sqrt(2)):
    """Elementwise definition, for tests only."""
    if bias is not None:
        x = x + bias.view(1, -1, *([1] * (x.dim() - 2)))
    return torch.where(x >= 0, x, x * negative_slope) * scale


def make_blur_kernel(taps) -> torch.Tensor:
    """A separable 2-D FIR kernel from 1-D taps, normalised to sum to one."""
    k = torch.tensor(taps, dtype=torch.float32)
    if k.dim() == 1:
        k = k[None, :] * k[:, None]
    return k / k.sum()
