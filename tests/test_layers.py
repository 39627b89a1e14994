"""Value tests of StyleGAN2's building blocks (mocohd.layers): hand-computed outputs, the
alignment of the resampling filters, and rosinality's state-dict layout (released ``g_ema``
and discriminator checkpoints load into these modules key for key)."""

import math

import pytest
import torch
import torch.nn.functional as F

from mocohd.layers import (Blur, ConstantInput, ConvLayer, EqualConv2d, EqualLinear, FusedLeakyReLU,
                           ModulatedConv2d, NoiseInjection, PixelNorm, ResBlock, ScaledLeakyReLU, StyledConv,
                           ToRGB, Upsample)

SQRT2 = math.sqrt(2)


def shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def plane(h, w, a=1.0, b=10.0, dtype=torch.float64):
    """The image a * row + b * column: a linear filter's alignment shows on it exactly."""
    rows, cols = torch.meshgrid(torch.arange(h, dtype=dtype), torch.arange(w, dtype=dtype), indexing="ij")
    return (a * rows + b * cols)[None, None]


# ---- activations and normalisation ----

def test_pixel_norm_by_value():
    z = torch.tensor([[3.0, 4.0], [0.0, 0.0], [-1.0, 1.0]])
    out = PixelNorm()(z)
    # each row over its own root mean square: sqrt((9 + 16) / 2), and an all-zero latent stays zero (no NaN)
    expected = torch.tensor([[3.0, 4.0], [0.0, 0.0], [-1.0, 1.0]]) / torch.tensor([[12.5], [1.0], [1.0]]).sqrt()
    torch.testing.assert_close(out, expected)


def test_fused_leaky_relu_module_adds_its_bias():
    act = FusedLeakyReLU(2)
    assert shapes(act) == {"bias": (2,)} and not act.bias.any()
    act.bias.data = torch.tensor([1.0, -1.0])
    x = torch.tensor([[-2.0, 0.5], [1.0, 3.0]])
    torch.testing.assert_close(act(x), torch.tensor([[-0.2, -0.1], [2.0, 2.0]]) * SQRT2)  # slope 0.2, gain sqrt(2)
    other = FusedLeakyReLU(2, negative_slope=0.1, scale=1.0)
    torch.testing.assert_close(other(x), torch.tensor([[-0.2, 0.5], [1.0, 3.0]]))


def test_scaled_leaky_relu_default_slope_is_0_2():
    torch.testing.assert_close(ScaledLeakyReLU()(torch.tensor([-1.0, 2.0])), torch.tensor([-0.2, 2.0]) * SQRT2)


# ---- equalized learning rate ----

def test_equal_linear_defaults_and_value():
    lin = EqualLinear(4, 3)
    assert shapes(lin) == {"weight": (3, 4), "bias": (3,)} and not lin.bias.any()
    x = torch.randn(2, 4)
    torch.testing.assert_close(lin(x), x @ lin.weight.t() / 2)  # 1 / sqrt(fan_in 4)
    no_bias = EqualLinear(4, 3, bias=False)
    assert shapes(no_bias) == {"weight": (3, 4)}
    torch.testing.assert_close(no_bias(x), x @ no_bias.weight.t() / 2)


def test_equal_linear_lr_mul_scales_weight_and_bias():
    # rosinality / official TF: the stored bias is bias_init and the layer uses bias * lr_mul
    lin = EqualLinear(4, 3, bias_init=0.5, lr_mul=0.1)
    x = torch.randn(2, 4)
    torch.testing.assert_close(lin(torch.zeros(2, 4)), torch.full((2, 3), 0.05))
    torch.testing.assert_close(lin(x), x @ lin.weight.t() * 0.1 / 2 + 0.05)
    act = EqualLinear(4, 3, bias_init=-1.0, lr_mul=0.5, activation="fused_lrelu")
    torch.testing.assert_close(act(torch.zeros(1, 4)), torch.full((1, 3), -0.5 * 0.2 * SQRT2))
    assert EqualLinear(4, 3, bias=False, activation="fused_lrelu")(torch.zeros(1, 4)).abs().max() == 0


def test_equal_conv2d_defaults_and_value():
    conv = EqualConv2d(2, 3, 3)
    assert shapes(conv) == {"weight": (3, 2, 3, 3), "bias": (3,)} and not conv.bias.any()
    conv.weight.data.fill_(1.0)
    conv.bias.data = torch.tensor([1.0, 2.0, 3.0])
    out = conv(torch.ones(1, 2, 5, 5))  # stride 1, no padding
    assert out.shape == (1, 3, 3, 3)
    # 18 taps of one, scaled by 1 / sqrt(18), plus the bias
    torch.testing.assert_close(out, (math.sqrt(18) + torch.tensor([1.0, 2.0, 3.0])).view(1, 3, 1, 1).expand(1, 3, 3, 3))
    assert EqualConv2d(2, 3, 3, bias=False).bias is None


# ---- resampling filters ----

@pytest.mark.parametrize("taps", [(1, 3, 3, 1), (1, 5, 10, 10, 5, 1)])
def test_upsample_keeps_a_plane_and_is_centred(taps):
    up = Upsample(taps).double()
    out = up(plane(8, 8))
    assert out.shape == (1, 1, 16, 16)
    # output pixel j sits at input coordinate j / 2 - 1/4 (pixel centres); away from the zero-padded border
    # a symmetric filter reproduces a plane exactly, with the gain factor**2 undoing the zero insertion
    want = plane(16, 16) / 2 - 0.25 * 11
    torch.testing.assert_close(out[..., 3:-3, 3:-3], want[..., 3:-3, 3:-3])


def test_box_upsample_repeats_pixels():
    x = torch.randn(1, 2, 3, 5)
    torch.testing.assert_close(Upsample((1, 1, 1, 1), factor=4)(x), x.repeat_interleave(4, 2).repeat_interleave(4, 3))


def test_blur_keeps_a_constant_image():
    out = Blur((1, 3, 3, 1), pad=(2, 1))(torch.ones(1, 1, 8, 8))
    torch.testing.assert_close(out[..., 2:-2, 2:-2], torch.ones(1, 1, 4, 4))
    # after zero insertion (one pixel in four), upsample_factor=2 restores the level
    sparse = torch.zeros(1, 1, 16, 16)
    sparse[..., ::2, ::2] = 1
    out = Blur((1, 3, 3, 1), pad=(1, 1), upsample_factor=2)(sparse)
    torch.testing.assert_close(out[..., 2:-2, 2:-2], torch.ones_like(out[..., 2:-2, 2:-2]))


# ---- modulated convolution ----

@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_modulated_conv_value_without_demodulation(k, fused):
    conv = ModulatedConv2d(2, 3, k, 4, demodulate=False, fused=fused)
    conv.modulation.weight.data.zero_()  # the style is then the modulation's bias, initialised to one
    conv.weight.data.fill_(1.0)
    out = conv(torch.ones(2, 2, 7, 6), torch.randn(2, 4))
    assert out.shape == (2, 3, 7, 6)  # "same" padding
    # 2 * k * k taps of one, each scaled by 1 / sqrt(fan_in = 2 * k * k)
    torch.testing.assert_close(out[..., k // 2:7 - k // 2, k // 2:6 - k // 2],
                               torch.full((2, 3, 7 - 2 * (k // 2), 6 - 2 * (k // 2)), math.sqrt(2 * k * k)))


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("taps", [(1, 3, 3, 1), (1, 5, 10, 10, 5, 1)])
@pytest.mark.parametrize("k", [1, 3])
def test_upsampling_modulated_conv_is_upsample_then_conv(k, taps, fused):
    # the transposed conv + blur of the official code is Upsample(taps) followed by the conv with the flipped
    # kernel: same gain, same alignment (away from the borders, where the two pad differently)
    torch.manual_seed(0)
    conv = ModulatedConv2d(2, 3, k, 4, demodulate=False, upsample=True, blur_kernel=taps, fused=fused).double()
    x, s = torch.randn(2, 2, 5, 6, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    out = conv(x, s)
    assert out.shape == (2, 3, 10, 12)
    style = conv.modulation(s)
    weight = torch.flip(conv.weight[0] / math.sqrt(2 * k * k), [2, 3])
    want = torch.cat([F.conv2d(Upsample(taps).double()(x[i:i + 1] * style[i].view(1, -1, 1, 1)), weight, padding=k // 2)
                      for i in range(2)])
    torch.testing.assert_close(out[..., 3:-3, 3:-3], want[..., 3:-3, 3:-3])


def test_demodulation_coefficients_are_fp32_under_bf16_autocast():
    torch.manual_seed(0)
    conv = ModulatedConv2d(6, 5, 3, 4)
    weight, style = conv.scale * conv.weight[0], torch.randn(3, 6)
    # the definition: one over the norm of the modulated filter w[o] * s[b], per sample b and output o
    want = (weight[None] * style[:, None, :, None, None]).pow(2).sum([2, 3, 4]).rsqrt()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = conv._demod(weight, style)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, want, rtol=1e-5, atol=0)


def test_fused_option_defaults_off_and_reaches_the_conv():
    # the scaled form is the default (faster on a CPU, see make bench); the option reaches every conv
    assert not ModulatedConv2d(2, 3, 3, 4).fused and not StyledConv(2, 3, 3, 4).conv.fused
    assert not ToRGB(2, 4).conv.fused
    assert StyledConv(2, 3, 3, 4, fused=True).conv.fused is True and ToRGB(2, 4, fused=True).conv.fused is True
    assert "fused=True" in repr(StyledConv(2, 3, 3, 4, upsample=True, fused=True))


def test_styled_conv_is_demodulated_and_takes_the_blur_kernel():
    torch.manual_seed(0)
    layer = StyledConv(3, 4, 3, 5)
    assert layer.conv.demodulate is True
    x, s = torch.randn(2, 3, 6, 6), torch.randn(2, 5)
    before = layer(x, s, noise=torch.zeros(2, 1, 6, 6))
    layer.conv.weight.data.mul_(10)  # demodulation: the filters' scale drops out
    torch.testing.assert_close(layer(x, s, noise=torch.zeros(2, 1, 6, 6)), before, rtol=1e-4, atol=1e-5)
    plain = StyledConv(3, 4, 3, 5, demodulate=False)  # without it, the output scales with the filters (bias 0)
    before = plain(x, s, noise=torch.zeros(2, 1, 6, 6))
    plain.conv.weight.data.mul_(10)
    torch.testing.assert_close(plain(x, s, noise=torch.zeros(2, 1, 6, 6)), before * 10, rtol=1e-4, atol=1e-5)
    assert shapes(StyledConv(3, 4, 3, 5, upsample=True, blur_kernel=(1, 2, 1)))["conv.blur.kernel"] == (3, 3)


# ---- noise, constant input, toRGB ----

def test_noise_injection_by_value():
    layer = NoiseInjection()
    assert shapes(layer) == {"weight": (1,)}
    layer.weight.data.fill_(0.5)
    x, noise = torch.randn(2, 3, 4, 6), torch.randn(2, 1, 4, 6)
    torch.testing.assert_close(layer(x, noise), x + 0.5 * noise)
    # drawn noise: one map per sample, shared by its channels, on a non-square image
    layer.weight.data.fill_(1.0)
    drawn = layer(torch.zeros(2, 3, 4, 6))
    assert drawn.shape == (2, 3, 4, 6)
    assert torch.equal(drawn[:, 0], drawn[:, 2]) and not torch.equal(drawn[0], drawn[1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_noise_injection_draws_noise_on_the_input_device_and_dtype():
    layer = NoiseInjection().cuda()
    layer.weight.data.fill_(1.0)
    out = layer(torch.zeros(2, 3, 4, 6, device="cuda", dtype=torch.bfloat16))
    assert out.device.type == "cuda" and out.dtype == torch.bfloat16 and out.abs().max() > 0


def test_constant_input_layout():
    const = ConstantInput(5)
    assert shapes(const) == {"input": (1, 5, 4, 4)}
    out = const(3)
    assert out.shape == (3, 5, 4, 4) and torch.equal(out[2], const.input[0])


def test_to_rgb_layout_and_value():
    rgb = ToRGB(4, 6)
    assert shapes(rgb) == {"upsample.kernel": (4, 4), "conv.weight": (1, 3, 4, 1, 1), "conv.modulation.weight": (4, 6),
                           "conv.modulation.bias": (4,), "bias": (1, 3, 1, 1)}
    rgb.conv.modulation.weight.data.zero_()  # style = 1
    rgb.conv.weight.data.fill_(2.0)
    rgb.bias.data = torch.tensor([0.1, 0.2, 0.3]).view(1, 3, 1, 1)
    out = rgb(torch.ones(1, 4, 8, 8), torch.randn(1, 6), skip=torch.full((1, 3, 4, 4), 5.0))
    # no demodulation: 4 inputs times 2 / sqrt(4) = 4; plus the bias; plus the upsampled skip image (5)
    want = (4.0 + 5.0 + torch.tensor([0.1, 0.2, 0.3])).view(1, 3, 1, 1).expand(1, 3, 4, 4)
    torch.testing.assert_close(out[..., 2:-2, 2:-2], want)


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("upsample", [False, True])
def test_bf16_activations_through_fp32_layers_stay_bf16(upsample, fused):
    torch.manual_seed(0)
    conv, rgb = StyledConv(4, 4, 3, 6, upsample=upsample, fused=fused), ToRGB(4, 6, fused=fused)
    conv.noise.weight.data.fill_(0.3)
    rgb.bias.data.fill_(0.5)
    x, s = torch.randn(2, 4, 4, 4), torch.randn(2, 6)
    size = 8 if upsample else 4
    noise, skip = torch.randn(2, 1, size, size), torch.randn(2, 3, size // 2, size // 2)
    h = conv(x.bfloat16(), s, noise)
    out = rgb(h, s, skip.bfloat16())
    assert h.dtype == out.dtype == torch.bfloat16
    want = rgb(conv(x, s, noise), s, skip)
    torch.testing.assert_close(out.float(), want, rtol=0.05, atol=0.1)


# ---- discriminator blocks ----

def test_conv_layer_layouts_follow_rosinality():
    assert shapes(ConvLayer(2, 3, 3)) == {"0.weight": (3, 2, 3, 3), "1.bias": (3,)}
    assert shapes(ConvLayer(2, 3, 3, downsample=True)) == {"0.kernel": (4, 4), "1.weight": (3, 2, 3, 3), "2.bias": (3,)}
    assert shapes(ConvLayer(2, 3, 3, activate=False)) == {"0.weight": (3, 2, 3, 3), "0.bias": (3,)}
    assert shapes(ConvLayer(2, 3, 3, bias=False)) == {"0.weight": (3, 2, 3, 3)}
    assert shapes(ConvLayer(2, 3, 1, downsample=True, activate=False, bias=False)) == {"0.kernel": (4, 4),
                                                                                       "1.weight": (3, 2, 1, 1)}


@pytest.mark.parametrize("k", [1, 3, 5])
def test_conv_layer_keeps_size_or_halves_it_centred(k):
    assert ConvLayer(2, 2, k)(torch.randn(1, 2, 7, 6)).shape == (1, 2, 7, 6)
    down = ConvLayer(1, 1, k, downsample=True, activate=False, bias=False).double()
    down[1].weight.data.zero_()
    down[1].weight.data[0, 0, k // 2, k // 2] = 1 / down[1].scale  # the identity filter
    out = down(plane(12, 12))
    assert out.shape == (1, 1, 6, 6)
    # output pixel j covers input pixels 2j and 2j + 1: its centre is 2j + 1/2 (away from the border)
    want = plane(6, 6) * 2 + 0.5 * 11
    torch.testing.assert_close(out[..., 1:-1, 1:-1], want[..., 1:-1, 1:-1])


def test_conv_layer_without_bias_uses_a_scaled_leaky_relu():
    layer = ConvLayer(1, 1, 1, bias=False)
    layer[0].weight.data.fill_(1.0)
    x = torch.tensor([-1.0, 2.0]).view(1, 1, 1, 2)
    torch.testing.assert_close(layer(x), torch.tensor([-0.2, 2.0]).view(1, 1, 1, 2) * SQRT2)


def test_res_block_layout_follows_rosinality():
    assert shapes(ResBlock(2, 3)) == {"conv1.0.weight": (2, 2, 3, 3), "conv1.1.bias": (2,), "conv2.0.kernel": (4, 4),
                                      "conv2.1.weight": (3, 2, 3, 3), "conv2.2.bias": (3,), "skip.0.kernel": (4, 4),
                                      "skip.1.weight": (3, 2, 1, 1)}
    assert shapes(ResBlock(2, 3, blur_kernel=(1, 2, 1)))["conv2.0.kernel"] == (3, 3)


def test_res_block_sums_a_linear_skip_over_sqrt2():
    torch.manual_seed(0)
    block = ResBlock(2, 3)
    x = torch.randn(1, 2, 8, 8)
    torch.testing.assert_close(block.skip(-x), -block.skip(x))  # the skip path has no activation
    both = block(x)
    skip_weight = block.skip[1].weight.data.clone()
    block.skip[1].weight.data.zero_()
    main = block(x)
    block.skip[1].weight.data.copy_(skip_weight)
    block.conv2[1].weight.data.zero_()
    skip = block(x)
    torch.testing.assert_close(both, main + skip)
    # the skip alone: a 1x1 conv of ones over 2 inputs (scaled by 1 / sqrt(2)), blurred, over sqrt(2)
    block.skip[1].weight.data.fill_(1.0)
    torch.testing.assert_close(block(torch.ones(1, 2, 8, 8))[..., 1:-1, 1:-1], torch.full((1, 3, 2, 2), 1.0))
