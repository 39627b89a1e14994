"""Value tests of the StyleGAN2 generator / discriminator: official defaults, layouts,
latent broadcasting and minibatch stddev, written out by hand."""

import math

import pytest
import torch

from mocohd.convert import rosinality_key_shapes
from mocohd.image_generator import Discriminator, Generator, MappingNetwork, channel_table, check_size
from mocohd.layers import EqualLinear, ModulatedConv2d, PixelNorm


def tiny(**kw):
    torch.manual_seed(0)
    return Generator(16, 32, 2, 1, channel_scale=0.0625, **kw)


def shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def strong_noise(g, strength=0.5):
    for m in g.modules():  # NoiseInjection starts at 0: give it a visible strength
        if hasattr(m, "weight") and m.weight.shape == (1,):
            m.weight.data.fill_(strength)
    return g


# ------------------------------------------------------------------ sizes and defaults


def test_channel_table_is_rosinalitys_at_multiplier_two():
    assert channel_table() == {4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256, 256: 128,
                               512: 64, 1024: 32}
    assert channel_table(1) == {4: 512, 8: 512, 16: 512, 32: 512, 64: 256, 128: 128, 256: 64,
                                512: 32, 1024: 16}
    # CPU widths scale every entry and never drop below 8 channels
    assert channel_table(1, 0.0625) == {4: 32, 8: 32, 16: 32, 32: 32, 64: 16, 128: 8, 256: 8, 512: 8, 1024: 8}


def test_sizes_from_8_to_1024_are_accepted():
    assert check_size(8) == 8 and check_size(1024) == 1024
    for bad in (4, 2048):
        with pytest.raises(ValueError, match="power of two"):
            check_size(bad)


def test_generator_defaults_are_rosinalitys_layout():
    # the released FFHQ/anime models: style_dim 512, n_mlp 8, channel_multiplier 2
    with torch.device("meta"):
        g = Generator(64)
    assert g.style_dim == 512 and shapes(g) == rosinality_key_shapes(64)
    # the mapping network runs at lr_mul 0.01, with fused leaky ReLUs
    lins = [m for m in g.style if isinstance(m, EqualLinear)]
    assert len(lins) == 8 and all(m.lr_mul == 0.01 and m.activation == "fused_lrelu" for m in lins)
    assert all(not m.fused for m in g.modules() if isinstance(m, ModulatedConv2d))


def test_generator_arguments_reach_every_layer():
    with torch.device("meta"):
        g = Generator(32, 16, 3, 1, lr_mlp=0.5, channel_scale=0.0625, fused_modconv=True, blur_kernel=(1, 1))
    assert g.channels == channel_table(1, 0.0625)
    assert g.input.input.shape == (1, 32, 4, 4) and g.convs[-1].conv.weight.shape == (1, 32, 32, 3, 3)
    assert [m.lr_mul for m in g.style if isinstance(m, EqualLinear)] == [0.5] * 3
    mods = [m for m in g.modules() if isinstance(m, ModulatedConv2d)]
    assert len(mods) == 1 + 1 + 3 * 3 and all(m.fused is True for m in mods)  # conv1, to_rgb1, 3 x (2 convs + rgb)
    # the blur of every upsampling conv is built from the given taps (1, 1) -> a 2x2 kernel
    assert [tuple(c.conv.blur.kernel.shape) for c in g.convs[::2]] == [(2, 2)] * 3


def test_mapping_network_is_pixelnorm_then_lrelu_layers_by_hand():
    torch.manual_seed(0)
    net = MappingNetwork(3, 1)
    assert isinstance(net[0], PixelNorm)
    lin = net[1]
    assert lin.lr_mul == 0.01
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[100.0, 0, 0], [0, -100.0, 0], [0, 0, 0]]))
        lin.bias.copy_(torch.tensor([0.0, 0.0, 50.0]))
    z = torch.tensor([[3.0, 6.0, 6.0]])  # pixel norm: z / rms(z) = z / sqrt(27) = [1, 2, 2] / sqrt(3)
    # weight * lr_mul / sqrt(3), bias * lr_mul, then sqrt(2) * leaky_relu(., 0.2)
    pre = [100 * 0.01 / math.sqrt(3) * 1 / math.sqrt(3), -100 * 0.01 / math.sqrt(3) * 2 / math.sqrt(3), 0.5]
    expected = [math.sqrt(2) * (v if v > 0 else 0.2 * v) for v in pre]
    torch.testing.assert_close(net(z), torch.tensor([expected]))
    torch.testing.assert_close(net(10 * z), net(z))  # pixel norm: the scale of z does not matter


def test_discriminator_defaults_are_rosinalitys_layout():
    with torch.device("meta"):
        d = Discriminator(16)
    sd = shapes(d)
    assert sd["convs.0.0.weight"] == (512, 3, 1, 1)  # from-RGB 1x1 to ch[16] = 512
    assert sd["convs.1.conv1.0.weight"] == (512, 512, 3, 3) and sd["convs.1.conv2.1.weight"] == (512, 512, 3, 3)
    assert sd["convs.2.conv2.1.weight"] == (512, 512, 3, 3) and "convs.3.conv1.0.weight" not in sd
    assert sd["final_conv.0.weight"] == (512, 513, 3, 3)  # + the minibatch-stddev channel
    assert sd["final_linear.0.weight"] == (512, 512 * 16) and sd["final_linear.1.weight"] == (1, 512)
    assert d.final_linear[0].activation == "fused_lrelu" and d.final_linear[1].activation is None
    assert d.stddev_group == 4 and d.stddev_feat == 1
    with torch.device("meta"):
        d64 = Discriminator(64)  # channel_multiplier 2: 512 at 64, 512 down to 4
    assert shapes(d64)["convs.0.0.weight"] == (512, 3, 1, 1)


def test_discriminator_arguments_reach_every_layer():
    with torch.device("meta"):
        d = Discriminator(64, channel_multiplier=1, channel_scale=0.0625, blur_kernel=(1, 1))
    sd = shapes(d)
    # widths ch[64] = 16 -> ch[32] = 32 -> ... -> ch[4] = 32
    assert sd["convs.0.0.weight"] == (16, 3, 1, 1)
    assert sd["convs.1.conv2.1.weight"] == (32, 16, 3, 3) and sd["convs.2.conv1.0.weight"] == (32, 32, 3, 3)
    assert sd["convs.4.conv2.1.weight"] == (32, 32, 3, 3) and sd["final_conv.0.weight"] == (32, 33, 3, 3)
    assert all(b.conv2[0].kernel.shape == (2, 2) for b in list(d.convs)[1:])


# ------------------------------------------------------------------ minibatch stddev


def test_minibatch_stddev_by_hand():
    d = Discriminator(8, channel_scale=0.0625)  # stddev_group 4
    # batch 6: groups must divide it, so group 3; samples (0, 2, 4) and (1, 3, 5) form groups
    x = torch.zeros(6, 2, 1, 2)
    x[[0, 2, 4], 0] = torch.tensor([1.0, 2.0, 3.0])[:, None, None]  # population var 2/3, channel 1 constant
    x[[1, 3, 5], 1] = torch.tensor([0.0, 0.0, 4.0])[:, None, None]  # population var 32/9
    out = d.minibatch_stddev(x)
    assert out.shape == (6, 3, 1, 2) and torch.equal(out[:, :2], x)
    eps = 1e-8
    s0 = (math.sqrt(2 / 3 + eps) + math.sqrt(eps)) / 2  # mean over channels (and pixels) of the std
    s1 = (math.sqrt(eps) + math.sqrt(32 / 9 + eps)) / 2
    expected = torch.tensor([s0, s1, s0, s1, s0, s1])[:, None, None].expand(6, 1, 2)
    torch.testing.assert_close(out[:, 2], expected, rtol=1e-6, atol=1e-7)
    # batch 8 with group 4: pairs (i, i + 2, i + 4, i + 6)
    y = torch.arange(8.0).view(8, 1, 1, 1)
    std = math.sqrt(torch.tensor([0.0, 2, 4, 6]).var(unbiased=False).item() + eps)
    torch.testing.assert_close(d.minibatch_stddev(y)[:, 1], torch.full((8, 1, 1), std))


def test_minibatch_stddev_keeps_the_input_dtype():
    d = Discriminator(8, channel_scale=0.0625)
    x = torch.randn(4, 3, 2, 2).to(torch.bfloat16)
    assert d.minibatch_stddev(x).dtype == torch.bfloat16


# ------------------------------------------------------------------ forward and latents


def test_forward_defaults_random_noise_and_no_latents():
    g, z = strong_noise(tiny()), torch.randn(2, 32)
    a, lat = g([z])
    b, _ = g(z)  # a bare tensor is one style
    assert lat is None
    assert (a - b).abs().max() > 1e-3  # fresh noise on every call by default
    fixed, _ = g(z, randomize_noise=False)
    torch.testing.assert_close(fixed, g.synthesize(g.get_latent(z), [getattr(g.noises, f"noise_{i}")
                                                                     for i in range(g.num_layers)]))


def test_explicit_noise_is_used_even_without_randomize_noise():
    g, z = strong_noise(tiny()), torch.randn(2, 32)
    noise = g.make_noise(2, torch.Generator().manual_seed(1))
    img, _ = g([z], noise=noise, randomize_noise=False)
    torch.testing.assert_close(img, g.synthesize(g.get_latent(z), noise))


def test_every_noise_map_drives_its_own_layer():
    g = strong_noise(tiny())
    w = g.get_latent(torch.randn(1, 32))
    zeros = [torch.zeros(1, 1, 2 ** ((i + 5) // 2), 2 ** ((i + 5) // 2)) for i in range(g.num_layers)]
    base = g.synthesize(w, zeros)
    for i in range(g.num_layers):
        noise = list(zeros)
        noise[i] = torch.ones_like(zeros[i])
        assert (g.synthesize(w, noise) - base).abs().max() > 1e-4, i


def test_per_layer_latents_pass_through_unchanged():
    g = tiny()
    lat = torch.randn(2, g.n_latent, 32)
    _, out = g(lat, input_is_latent=True, return_latents=True)
    torch.testing.assert_close(out, lat)


@pytest.mark.parametrize("k", [1, 4])
def test_style_mixing_at_a_given_layer(k):
    g = tiny()
    w1, w2 = torch.randn(2, 32), torch.randn(2, 32)
    _, lat = g([w1, w2], input_is_latent=True, inject_index=k, return_latents=True)
    torch.testing.assert_close(lat, torch.cat([w1[:, None].expand(-1, k, -1), w2[:, None].expand(-1, 6 - k, -1)], 1))


def test_random_style_mixing_splits_at_every_inner_layer_from_torchs_rng():
    g = tiny()
    w1, w2 = torch.zeros(1, 32), torch.ones(1, 32)
    seen = set()
    for seed in range(40):
        torch.manual_seed(seed)
        _, lat = g([w1, w2], input_is_latent=True, return_latents=True)
        k = int((lat[0, :, 0] == 0).sum())
        torch.manual_seed(seed)
        assert k == int(torch.randint(1, g.n_latent, ()))  # the split is drawn from torch's RNG
        assert torch.equal(lat[0, :k], w1.expand(k, -1)) and torch.equal(lat[0, k:], w2.expand(6 - k, -1))
        seen.add(k)
    assert seen == {1, 2, 3, 4, 5}  # each w drives at least one layer


def test_make_noise_shapes_device_and_seed():
    g = tiny()
    noise = g.make_noise()
    assert [tuple(n.shape) for n in noise] == [(1, 1, 4, 4), (1, 1, 8, 8), (1, 1, 8, 8), (1, 1, 16, 16), (1, 1, 16, 16)]
    a = g.make_noise(2, torch.Generator().manual_seed(3))
    b = g.make_noise(2, torch.Generator().manual_seed(3))
    assert all(torch.equal(x, y) for x, y in zip(a, b)) and a[0].shape == (2, 1, 4, 4)
    with torch.device("meta"):  # a generator on another device (meta stands in for a GPU)
        gm = Generator(8, 16, 1, 1, channel_scale=0.0625)
    assert all(n.device.type == "meta" for n in gm.make_noise(1))
