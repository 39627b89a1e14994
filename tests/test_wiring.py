"""Value tests for wiring that shape tests cannot see: each network or rule is computed a
second time, written out by hand here, and the two must agree. A ReLU for the leaky one, a
pooling that counts its padding, a to-RGB layer fed the wrong style, a wrong EMA decay or a
contrastive term that trains when it is switched off each fail one of these."""

import math

import pytest
import torch
import torch.nn.functional as F

from mocohd.config import image_preset
from mocohd.discriminators import MultiscalePatchDiscriminator
from mocohd.image_generator import Generator
from mocohd.train.image_gan import accumulate


# --------------------------------------------------------------------------------------
# The PatchGAN, written out


def patch_scale_reference(stages, x, stride_pool=2):
    """One pix2pixHD scale: 4x4 convs with padding 2; no norm after the first, then
    InstanceNorm on each sample's own statistics (train mode); LeakyReLU(0.2); logits last."""
    feats = []
    for j, stage in enumerate(stages):
        conv = stage[0]
        x = F.conv2d(x, conv.weight, conv.bias, stride=conv.stride, padding=2)
        if j == len(stages) - 1:
            feats.append(x)
            break
        if j > 0:
            x = F.instance_norm(x, eps=1e-5)
        x = torch.where(x >= 0, x, 0.2 * x)
        feats.append(x)
    return feats


def average_without_padding(x):
    """3x3 average pooling, stride 2, padding 1, dividing by the pixels inside the image only."""
    ones = torch.ones_like(x[:1, :1])
    total = F.conv2d(F.pad(x, (1, 1, 1, 1)), torch.ones(x.shape[1], 1, 3, 3), stride=2, groups=x.shape[1])
    count = F.conv2d(F.pad(ones, (1, 1, 1, 1)), torch.ones(1, 1, 3, 3), stride=2)
    return total / count


def test_multiscale_patchgan_equals_its_written_out_forward():
    torch.manual_seed(0)
    d = MultiscalePatchDiscriminator(6, ndf=8, n_layers=2, num_D=2, dims=2).train()
    for p in d.parameters():  # N(0, 0.02) weights give small activations; larger ones test the slope too
        p.data.normal_(0, 0.3)
    x = torch.randn(2, 6, 20, 20)
    ours = d(x)
    finest = patch_scale_reference(d.scale_stages(1), x)
    coarse = patch_scale_reference(d.scale_stages(0), average_without_padding(x))
    for got, want in zip(ours, (finest, coarse)):
        assert len(got) == len(want) == 4
        for a, b in zip(got, want):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    assert (ours[0][0] < 0).any()  # the leaky slope was exercised


def test_pooling_between_scales_ignores_the_padding():
    x = torch.ones(1, 6, 8, 8)  # a flat image stays flat only if the padding is not counted
    d = MultiscalePatchDiscriminator(6, ndf=4, n_layers=1, num_D=2, dims=2)
    torch.testing.assert_close(d.downsample(x), torch.ones(1, 6, 4, 4))


# --------------------------------------------------------------------------------------
# The synthesis network: which style goes where


def synthesis_reference(g: Generator, latent: torch.Tensor) -> torch.Tensor:
    """rosinality's order: conv1 <- w[0], to_rgb1 <- w[1]; then per resolution the upsampling
    conv <- w[i], the plain conv <- w[i+1] and its to-RGB <- w[i+2], i = 1, 3, 5, ..."""
    zero = [torch.zeros(()) for _ in range(g.num_layers)]
    out = g.conv1(g.input(latent.shape[0]), latent[:, 0], zero[0])
    skip = g.to_rgb1(out, latent[:, 1])
    for k, to_rgb in enumerate(g.to_rgbs):
        i = 1 + 2 * k
        out = g.convs[2 * k](out, latent[:, i], zero[i])
        out = g.convs[2 * k + 1](out, latent[:, i + 1], zero[i + 1])
        skip = to_rgb(out, latent[:, i + 2], skip)
    return skip


def test_each_layer_of_the_synthesis_network_reads_its_own_style():
    torch.manual_seed(0)
    cfg = image_preset("smoke", size=16, style_dim=16, n_mlp=1, channel_scale=1 / 32)
    g = Generator(**cfg.generator_kwargs()).eval()
    for p in g.parameters():  # trained-looking: noise strengths and biases away from zero
        p.data.add_(0.1 * torch.randn_like(p))
    latent = torch.randn(2, g.n_latent, g.style_dim)  # a different w for every layer
    with torch.no_grad():
        torch.testing.assert_close(g.synthesize(latent, use_noise=False), synthesis_reference(g, latent))


# --------------------------------------------------------------------------------------
# Training rules


def test_ema_moves_one_minus_beta_of_the_way():
    ema, model = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    for p, q in zip(ema.parameters(), model.parameters()):
        p.data.fill_(1.0), q.data.fill_(3.0)
    accumulate(ema, model, 0.75)
    for p in ema.parameters():
        torch.testing.assert_close(p.data, torch.full_like(p, 1.5))  # 0.75 * 1 + 0.25 * 3


def test_ema_decay_is_rosinalitys_half_life_of_ten_kimg():
    # rosinality: accum = 0.5 ** (32 / (10 * 1000)) at batch 32: the EMA's half-life is 10k images
    cfg = image_preset("full", batch=32)
    assert cfg.ema_beta() == pytest.approx(0.5 ** (32 / 10_000)) == pytest.approx(0.997784, abs=1e-6)
    assert math.isclose(cfg.ema_beta() ** (10_000 / 32), 0.5)


# --------------------------------------------------------------------------------------
# The contrastive term trains the cross-domain image D only when it is on


@pytest.fixture(scope="module")
def untrained_generator(tmp_path_factory):
    from mocohd.bench import untrained_generator_files

    cfg = image_preset("smoke", size=32, style_dim=32, n_mlp=1, channel_scale=0.0625)
    return untrained_generator_files(tmp_path_factory.mktemp("gen"), cfg)[0]


def image_d_after_one_update(generator, folder, **switches):
    from mocohd.config import video_preset
    from mocohd.train.video_gan import VideoGANTrainer

    cfg = video_preset("smoke", image_generator=str(generator), n_clips=8, g_steps=1, bf16=False,
                       cross_domain=True, **switches)
    t = VideoGANTrainer(cfg, folder)
    torch.manual_seed(1)
    logs = t.d_update(t.next_real())
    return {k: v.clone() for k, v in t.d_img_online.state_dict().items()}, logs


def test_no_contrastive_trains_the_image_d_without_the_contrastive_term(untrained_generator, tmp_path):
    runs = {(on, w): image_d_after_one_update(untrained_generator, tmp_path / f"{on}-{w}", contrastive=on,
                                              w_contrastive=w) for on in (True, False) for w in (1.0, 8.0)}
    weights = {key: run[0] for key, run in runs.items()}

    def same(a, b):
        return all(torch.equal(weights[a][k], weights[b][k]) for k in weights[a])

    assert runs[(False, 1.0)][1]["contrastive"] == pytest.approx(runs[(True, 1.0)][1]["contrastive"])  # still logged
    assert same((False, 1.0), (False, 8.0))  # off: its weight changes nothing
    assert not same((True, 1.0), (True, 8.0))  # on: it does
    assert not same((True, 1.0), (False, 1.0))


def test_scaled_leaky_relu_by_value():
    from mocohd.layers import ScaledLeakyReLU

    x = torch.tensor([-2.0, -0.5, 0.0, 1.5])
    expected = torch.tensor([-0.4, -0.1, 0.0, 1.5]) * math.sqrt(2)
    torch.testing.assert_close(ScaledLeakyReLU(0.2)(x), expected)
    torch.testing.assert_close(ScaledLeakyReLU(0.1)(x), torch.tensor([-0.2, -0.05, 0.0, 1.5]) * math.sqrt(2))
