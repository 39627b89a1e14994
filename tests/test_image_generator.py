import math

import pytest
import torch

from mocohd.image_generator import Discriminator, Generator, channel_table, check_size
from mocohd.layers import EqualConv2d, EqualLinear, ModulatedConv2d


def tiny(**kw):
    torch.manual_seed(0)
    return Generator(16, 32, 2, 1, channel_scale=0.0625, **kw)


def test_channel_table_follows_rosinality_times_scale():
    assert channel_table(2)[256] == 128 and channel_table(2)[64] == 512 and channel_table(1)[64] == 256
    assert channel_table(1, 0.25)[32] == 128


@pytest.mark.parametrize("bad", [48, 2, 2048, "64"])
def test_bad_size_is_named(bad):
    with pytest.raises(ValueError, match="power of two"):
        check_size(bad)


def test_equalized_layers_scale_by_fan_in():
    lin = EqualLinear(100, 7, lr_mul=0.01)
    assert lin.scale == pytest.approx(0.01 / 10)
    conv = EqualConv2d(8, 4, 3)
    assert conv.scale == pytest.approx(1 / math.sqrt(72))


@pytest.mark.parametrize("upsample", [False, True])
def test_modulated_conv_grouped_equals_scaled(upsample):
    torch.manual_seed(0)
    a = ModulatedConv2d(6, 5, 3, 8, upsample=upsample, fused=False).double()
    b = ModulatedConv2d(6, 5, 3, 8, upsample=upsample, fused=True).double()
    b.load_state_dict(a.state_dict())
    x, s = torch.randn(3, 6, 7, 7, dtype=torch.float64), torch.randn(3, 8, dtype=torch.float64)
    torch.testing.assert_close(a(x, s), b(x, s))
    # and the same gradients, to the input, the styles and both networks' weights
    xa, sa, xb, sb = (t.clone().requires_grad_() for t in (x, s, x, s))
    upstream = torch.randn_like(a(x, s))
    (a(xa, sa) * upstream).sum().backward()
    (b(xb, sb) * upstream).sum().backward()
    for got, want in ((xa.grad, xb.grad), (sa.grad, sb.grad), (a.weight.grad, b.weight.grad),
                      (a.modulation.weight.grad, b.modulation.weight.grad)):
        torch.testing.assert_close(got, want)


def test_demodulation_gives_unit_variance_outputs():
    torch.manual_seed(0)
    conv = ModulatedConv2d(64, 64, 3, 16)
    out = conv(torch.randn(8, 64, 16, 16), torch.randn(8, 16))
    assert out[..., 1:-1, 1:-1].std().item() == pytest.approx(1.0, rel=0.1)


def test_generator_shapes_and_counts():
    g = tiny()
    assert g.num_layers == 5 and g.n_latent == 6
    img, lat = g([torch.randn(3, 32)], return_latents=True)
    assert img.shape == (3, 3, 16, 16) and lat.shape == (3, 6, 32)
    d = Discriminator(16, 1, channel_scale=0.0625)
    assert d(img).shape == (3, 1)


def test_fixed_noise_is_deterministic_and_noise_free_differs():
    g, z = tiny(), torch.randn(2, 32)
    for m in g.modules():  # give the noise inputs a visible strength
        if hasattr(m, "weight") and m.weight.shape == (1,):
            m.weight.data.fill_(0.5)
    a, _ = g([z], randomize_noise=False)
    b, _ = g([z], randomize_noise=False)
    torch.testing.assert_close(a, b)
    c = g.synthesize(g.get_latent(z), use_noise=False)
    assert (a - c).abs().max() > 1e-3


def test_truncation_pulls_towards_mean_latent():
    g, z = tiny(), torch.randn(4, 32)
    mean = g.mean_latent(512)
    _, lat = g([z], truncation=0.5, truncation_latent=mean, return_latents=True)
    w = g.get_latent(z)
    torch.testing.assert_close(lat[:, 0], mean + 0.5 * (w - mean))
    _, full = g([z], truncation=0.0, truncation_latent=mean, return_latents=True)
    torch.testing.assert_close(full[:, 0], mean.expand(4, -1))
    with pytest.raises(ValueError, match="mean_latent"):
        g([z], truncation=0.5)


def test_style_mixing_uses_each_w_on_its_layers():
    g = tiny()
    z1, z2 = torch.randn(2, 32), torch.randn(2, 32)
    _, lat = g([z1, z2], inject_index=2, return_latents=True)
    torch.testing.assert_close(lat[:, :2], g.get_latent(z1)[:, None].expand(-1, 2, -1))
    torch.testing.assert_close(lat[:, 2:], g.get_latent(z2)[:, None].expand(-1, 4, -1))


def test_channels_last_and_bf16_match_fp32():
    g, z = tiny(), torch.randn(2, 32)
    ref, _ = g([z], randomize_noise=False)
    g.memory_format = torch.channels_last
    cl, _ = g([z], randomize_noise=False)
    torch.testing.assert_close(cl, ref, atol=1e-5, rtol=1e-5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        bf, _ = g([z], randomize_noise=False)
    assert (bf.float() - ref).abs().mean() < 0.05 * ref.abs().mean() + 1e-3


def test_gradients_flow_to_latents_only_when_frozen():
    g = tiny().requires_grad_(False)
    w = g.get_latent(torch.randn(2, 32)).requires_grad_(True)
    g.synthesize(w).sum().backward()
    assert w.grad is not None and w.grad.abs().sum() > 0
    assert all(p.grad is None for p in g.parameters())
