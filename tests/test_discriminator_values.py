"""Value tests of the PatchGAN discriminators and their configs: the official defaults,
presets built at call time, and how every config field reaches the modules."""

import pytest
import torch
from torch import nn

from mocohd.contrastive_discriminator import ContrastiveImageDiscriminator
from mocohd.discriminators import (
    DiscriminatorConfig,
    MultiscalePatchDiscriminator,
    PatchDiscriminator,
    StateDictMismatch,
    build_image_discriminator,
    build_video_discriminator,
    image_pair_input,
    load_official_state_dict,
    patch_layers,
    scale_width,
)
from mocohd.losses import contrastive_loss, queued_contrastive_loss


def first_widths(d):
    return [d.scale_stages(i)[0][0].out_channels for i in range(d.num_D)]


def conv_widths(stages):
    return [s[0].out_channels for s in stages]


# ------------------------------------------------------------------ presets


def test_presets_hold_the_documented_sizes():
    # built inside the test: module-level constants would not see a changed preset
    paper = DiscriminatorConfig.preset("paper")
    assert paper == DiscriminatorConfig()
    assert (paper.size, paper.frames, paper.ndf, paper.d_ch, paper.proj_dim, paper.q_len) == (128, 16, 64, 96, 256, 4096)
    assert (paper.num_D, paper.n_layers, paper.moco_m, paper.moco_t) == (2, 3, 0.999, 0.07)
    full = DiscriminatorConfig.preset("full")
    assert full == paper.with_(size=64, frames=16, ndf=32, d_ch=32, proj_dim=128, q_len=1024)
    smoke = DiscriminatorConfig.preset("smoke")
    assert smoke == paper.with_(size=32, frames=8, ndf=16, d_ch=16, proj_dim=64, q_len=256)
    assert [DiscriminatorConfig.for_size(s) for s in (32, 64, 128)] == [smoke, full, paper]


# ------------------------------------------------------------------ PatchGAN defaults and layout


def test_patch_layers_defaults_are_pix2pixhds():
    with torch.device("meta"):
        stages = patch_layers(6)  # ndf 64, 3 strided layers, 2D
    assert conv_widths(stages) == [64, 128, 256, 512, 1]
    assert all(type(s[0]) is nn.Conv2d for s in stages)
    assert [s[0].stride for s in stages] == [(2, 2)] * 3 + [(1, 1)] * 2
    assert [len(s) for s in stages] == [2, 3, 3, 3, 1]  # no norm after the first conv, none on the logits


def test_patch_widths_are_capped_at_512():
    with torch.device("meta"):
        assert conv_widths(patch_layers(3, ndf=256, n_layers=3)) == [256, 512, 512, 512, 1]
        assert conv_widths(patch_layers(3, ndf=64, n_layers=4)) == [64, 128, 256, 512, 512, 1]
        stages = patch_layers(3, ndf=256, n_layers=3)
    assert [s[0].in_channels for s in stages] == [3, 256, 512, 512, 512]


def test_single_scale_defaults_and_dims():
    with torch.device("meta"):
        d = PatchDiscriminator(6)
    assert d.model0[0].out_channels == 64 and type(d.model0[0]) is nn.Conv2d and d.n_stages == 5
    d3 = PatchDiscriminator(3, ndf=4, n_layers=1, dims=3)
    assert all(type(getattr(d3, f"model{j}")[0]) is nn.Conv3d for j in range(3))


def test_multiscale_defaults_are_the_official_image_d():
    with torch.device("meta"):
        d = MultiscalePatchDiscriminator(6)
    assert d.num_D == 2 and d.dims == 2 and first_widths(d) == [64, 64]
    assert type(d.scale0_layer0[0]) is nn.Conv2d and d.downsample.stride == 2
    with torch.device("meta"):
        assert first_widths(MultiscalePatchDiscriminator(6, widths="flat")) == [64, 64]  # ndf 64 at every scale
    assert scale_width(32, 0, 2) == 64 and scale_width(32, 1, 2) == 32  # the official rule by default


@pytest.mark.parametrize("frames, time_pooled", [(16, False), (17, True)])
def test_clips_longer_than_16_frames_are_pooled_in_time(frames, time_pooled):
    d = MultiscalePatchDiscriminator(3, ndf=4, dims=3, frames=frames)
    x = torch.randn(1, 3, 8, 8, 8)
    assert d.downsample(x).shape[2] == (4 if time_pooled else 8)
    if frames == 16:  # the default clip length is 16: space-only pooling
        assert MultiscalePatchDiscriminator(3, ndf=4, dims=3).downsample(x).shape[2] == 8


def test_patch_weights_are_centred_normals():
    torch.manual_seed(0)
    d = MultiscalePatchDiscriminator(6, ndf=16, dims=2)
    w = torch.cat([m.weight.flatten() for m in d.modules() if isinstance(m, nn.Conv2d)])
    assert abs(w.mean().item()) < 0.002 and abs(w.std().item() - 0.02) < 0.002


# ------------------------------------------------------------------ builders follow the config


def test_builders_use_every_config_field():
    cfg = DiscriminatorConfig.preset("smoke").with_(num_D=3, ndf=8, widths="flat")
    for d in (build_image_discriminator(cfg), build_video_discriminator(cfg), build_video_discriminator(cfg, True)):
        assert d.num_D == 3 and first_widths(d) == [8, 8, 8]
    official = cfg.with_(widths="official")
    assert first_widths(build_video_discriminator(official)) == [32, 16, 8]


def test_video_d_pools_time_by_the_clip_length_it_sees():
    # in-domain D sees T - 1 frames (frame 0 is stacked on the others), cross-domain all T
    x = torch.randn(1, 3, 8, 8, 8)
    smoke = DiscriminatorConfig.preset("smoke").with_(ndf=4)
    t17, t18 = smoke.with_(frames=17), smoke.with_(frames=18)
    assert build_video_discriminator(t17, cross_domain=True).downsample(x).shape[2] == 4  # 17 frames
    assert build_video_discriminator(t17).downsample(x).shape[2] == 8  # 16 frames
    assert build_video_discriminator(t18).downsample(x).shape[2] == 4  # 17 frames


# ------------------------------------------------------------------ inputs and errors


def test_frame_index_must_name_a_later_frame():
    v = torch.randn(1, 5, 3, 4, 4)
    assert image_pair_input(v, 4).shape == (1, 6, 4, 4)
    for k in (0, 5):
        with pytest.raises(ValueError, match=rf"k={k} must be in 1\.\.4 \(T=5\)"):
            image_pair_input(v, k)


def test_a_video_d_fed_a_frame_says_what_a_video_looks_like():
    d3 = MultiscalePatchDiscriminator(3, ndf=4, dims=3)
    with pytest.raises(ValueError, match=r"5-D input.*\(B, C, T, H, W\)"):
        d3(torch.randn(1, 3, 8, 8))
    d2 = MultiscalePatchDiscriminator(3, ndf=4, dims=2)
    with pytest.raises(ValueError, match="4-D input") as err:  # an image D does not point to the video builders
        d2(torch.randn(1, 3, 2, 8, 8))
    assert "video_input" not in str(err.value)


# ------------------------------------------------------------------ official checkpoints


class Wrapper(nn.Module):
    """The official D_img / D_3d wrappers keep the PatchGAN under ``netD``."""

    def __init__(self):
        super().__init__()
        self.netD = MultiscalePatchDiscriminator(6, ndf=4, n_layers=1, dims=2)


def test_a_wrapper_with_netD_keeps_the_prefix():
    torch.manual_seed(0)
    src, dst = Wrapper(), Wrapper()
    ckpt = {"module." + k: v.clone() + 1 for k, v in src.state_dict().items()}
    load_official_state_dict(dst, ckpt)
    assert torch.equal(dst.netD.scale0_layer0[0].weight, src.netD.scale0_layer0[0].weight + 1)


def test_a_mismatch_names_the_module():
    d = MultiscalePatchDiscriminator(6, ndf=4, n_layers=1, dims=2)
    with pytest.raises(StateDictMismatch, match="MultiscalePatchDiscriminator"):
        load_official_state_dict(d, {"scale0_layer0.0.weight": torch.zeros(1)})


# ------------------------------------------------------------------ the contrastive D's temperature


def test_queued_contrastive_loss_uses_the_discriminators_temperature():
    cfg = DiscriminatorConfig.preset("smoke").with_(q_len=6, d_ch=4, proj_dim=8, moco_t=0.5)
    d = ContrastiveImageDiscriminator(cfg, batch_size=2)
    r1, r2, f1, f2 = (torch.randn(2, 8, generator=torch.Generator().manual_seed(i)) for i in range(4))
    expected = contrastive_loss(r1, r2, d.q_real[:6], 0.5) + contrastive_loss(f1, f2, d.q_fake[:6], 0.5)
    assert queued_contrastive_loss(d, r1, r2, f1, f2).item() == pytest.approx(expected.item())
