import pytest
import torch
from torch import nn

from mocohd.contrastive_discriminator import (
    BigGANDiscriminator,
    ContrastiveImageDiscriminator,
    biggan_arch,
    build_contrastive_discriminator,
)
from mocohd.discriminators import (
    DiscriminatorConfig,
    MultiscalePatchDiscriminator,
    PatchDiscriminator,
    StateDictMismatch,
    build_image_discriminator,
    build_video_discriminator,
    image_pair_input,
    load_official_state_dict,
    video_input_cross_domain,
    video_input_in_domain,
)
from mocohd.losses import contrastive_loss, queued_contrastive_loss


PAPER, FULL, SMOKE = (DiscriminatorConfig.preset(n) for n in ("paper", "full", "smoke"))


# ------------------------------------------------------------------ official layouts
# Written from the facts about the official code (pix2pixHD MultiscaleDiscriminator with
# getIntermFeat, BigGAN D with torch spectral_norm, the D_img wrapper), independently of
# the module code, so that a renamed submodule shows up here.


def official_patch_layout(in_ch, ndf=64, n_layers=3, num_D=2, dims=2, prefix="module.netD.", flat=False):
    """vid2vid's MultiscaleDiscriminator: scale i's NLayerDiscriminator is built with
    ndf_i = min(64, ndf * 2**(num_D - 1 - i)) (``flat``: ndf everywhere, mocohd's old rule)."""
    k = (4,) * dims
    table = {}
    for i in range(num_D):
        ndf_i = ndf if flat else min(64, ndf * 2 ** (num_D - 1 - i))
        widths = [in_ch] + [min(ndf_i * 2**j, 512) for j in range(n_layers + 1)] + [1]
        for j in range(n_layers + 2):
            base = f"{prefix}scale{i}_layer{j}."
            table[base + "0.weight"] = (widths[j + 1], widths[j], *k)
            table[base + "0.bias"] = (widths[j + 1],)
            if 1 <= j <= n_layers:  # instance norm with running stats
                table[base + "1.running_mean"] = (widths[j + 1],)
                table[base + "1.running_var"] = (widths[j + 1],)
                table[base + "1.num_batches_tracked"] = ()
    return table


def sn_entries(name, out_ch, in_ch, kernel=None):
    shape = (out_ch, in_ch) + ((kernel, kernel) if kernel else ())
    fan_in = in_ch * (kernel * kernel if kernel else 1)
    return {f"{name}.weight_orig": shape, f"{name}.weight_u": (out_ch,),
            f"{name}.weight_v": (fan_in,), f"{name}.bias": (out_ch,)}


def official_contrastive_layout(blocks, proj_dim, q_len, prefix="module."):
    table = {f"{prefix}q_real": (q_len, proj_dim), f"{prefix}q_fake": (q_len, proj_dim), f"{prefix}q_ptr": (1,)}
    for net in ("modelD", "modelD_ema"):
        for i, (c_in, c_out, down) in enumerate(blocks):
            b = f"{prefix}{net}.blocks.{i}.0."
            table |= sn_entries(b + "conv1", c_out, c_in, 3) | sn_entries(b + "conv2", c_out, c_out, 3)
            if c_in != c_out or down:
                table |= sn_entries(b + "conv_sc", c_out, c_in, 1)
        last = blocks[-1][1]
        table |= sn_entries(f"{prefix}{net}.proj0", proj_dim, last)
        table |= sn_entries(f"{prefix}{net}.proj1", proj_dim, proj_dim)
        table |= sn_entries(f"{prefix}{net}.proj2", proj_dim, proj_dim)
        table |= sn_entries(f"{prefix}{net}.linear", 1, proj_dim)
    return table


PAPER_BLOCKS = [(3, 96, True), (96, 192, True), (192, 384, True), (384, 768, True),
                (768, 1536, True), (1536, 1536, False)]  # BigGAN D at 128x128, D_ch 96


def layout(module, prefix=""):
    return {prefix + k: tuple(v.shape) for k, v in module.state_dict().items()}


def fake_checkpoint(table, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {k: (torch.randint(0, 9, s, generator=g) if k.endswith(("num_batches_tracked", "q_ptr"))
                else torch.randn(s, generator=g)) for k, s in table.items()}


@pytest.fixture(scope="module")
def paper_contrastive():
    # On the meta device: shapes without the memory and the orthogonal init of 2 x 87M weights.
    with torch.device("meta"):
        return build_contrastive_discriminator(PAPER, batch_size=16)


# ------------------------------------------------------------------ shapes


def test_paper_patch_shapes_match_the_official_maps():
    torch.manual_seed(0)
    d2 = build_image_discriminator(PAPER)
    out = d2(torch.randn(1, 6, 128, 128))
    assert len(out) == 2 and all(len(scale) == 5 for scale in out)
    assert [tuple(s[-1].shape) for s in out] == [(1, 1, 19, 19), (1, 1, 11, 11)]
    d3 = build_video_discriminator(PAPER)  # in-domain: 6 ch x 15 frames
    out = d3(torch.randn(1, 6, 15, 128, 128))
    assert [tuple(s[-1].shape) for s in out] == [(1, 1, 5, 19, 19), (1, 1, 5, 11, 11)]
    assert [tuple(f.shape[1:3]) for f in out[0]] == [(64, 8), (128, 5), (256, 3), (512, 4), (1, 5)]


def test_paper_cross_domain_video_d_sees_plain_16_frame_clips():
    d3 = build_video_discriminator(PAPER, cross_domain=True)
    assert d3.scale0_layer0[0].in_channels == 3
    out = d3(torch.randn(1, 3, 16, 128, 128))
    assert [tuple(s[-1].shape) for s in out] == [(1, 1, 5, 19, 19), (1, 1, 5, 11, 11)]


def test_paper_contrastive_d_shapes(paper_contrastive):
    x = torch.empty(1, 3, 128, 128, device="meta")
    out, proj = paper_contrastive(x)
    assert out.shape == (1, 1) and proj.shape == (1, 256)
    assert paper_contrastive(x, proj_only=True).shape == (1, 256)
    assert paper_contrastive.q_real.shape == (4096, 256) and paper_contrastive.q_len == 4096


@pytest.mark.parametrize("cfg, maps2d, maps3d", [
    (FULL, [(11, 11), (7, 7)], [(5, 11, 11), (5, 7, 7)]),
    (SMOKE, [(7, 7), (5, 5)], [(4, 7, 7), (4, 5, 5)]),
])
def test_cpu_preset_shapes(cfg, maps2d, maps3d):
    video = torch.rand(2, cfg.frames, 3, cfg.size, cfg.size) * 2 - 1
    out = build_image_discriminator(cfg)(image_pair_input(video, 1))
    assert [tuple(s[-1].shape[2:]) for s in out] == maps2d
    out = build_video_discriminator(cfg)(video_input_in_domain(video))
    assert [tuple(s[-1].shape[2:]) for s in out] == maps3d
    d = build_contrastive_discriminator(cfg, batch_size=2)
    out, proj = d(video[:, 0])
    assert out.shape == (2, 1) and proj.shape == (2, cfg.proj_dim)


def test_long_clips_are_pooled_in_time_too():
    short = MultiscalePatchDiscriminator(3, ndf=4, dims=3, frames=16)
    long = MultiscalePatchDiscriminator(3, ndf=4, dims=3, frames=32)
    x = torch.randn(1, 3, 32, 16, 16)
    t_short = [s[-1].shape[2] for s in short(x)]
    t_long = [s[-1].shape[2] for s in long(x)]
    assert t_short[0] == t_short[1]  # spatial-only pooling
    assert t_long[1] < t_long[0]


def test_single_scale_patch_d_is_the_same_design():
    single = PatchDiscriminator(6, ndf=8, dims=2)
    multi = MultiscalePatchDiscriminator(6, ndf=8, dims=2)
    multi.load_state_dict({k.replace("model", "scale1_layer"): v for k, v in single.state_dict().items()}
                          | {k: v for k, v in multi.state_dict().items() if k.startswith("scale0")})
    x = torch.randn(1, 6, 32, 32)
    assert torch.allclose(single(x)[-1], multi(x)[0][-1])  # finest scale = modules "scale1"


def test_patch_init_and_norm():
    d = build_image_discriminator(SMOKE)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 10
    w = torch.cat([c.weight.flatten() for c in convs])
    assert abs(w.std().item() - 0.02) < 0.002
    norms = [m for m in d.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert len(norms) == 6 and all(n.track_running_stats and not n.affine for n in norms)


# ------------------------------------------------------------------ inputs


def test_input_builders():
    v = torch.randn(2, 5, 3, 8, 8)  # (B, T, C, H, W)
    pair = image_pair_input(v, 3)
    assert pair.shape == (2, 6, 8, 8)
    assert torch.equal(pair[:, :3], v[:, 0]) and torch.equal(pair[:, 3:], v[:, 3])
    x = video_input_in_domain(v)
    assert x.shape == (2, 6, 4, 8, 8)
    for t in range(4):
        assert torch.equal(x[:, :3, t], v[:, 0]) and torch.equal(x[:, 3:, t], v[:, t + 1])
    assert torch.equal(video_input_cross_domain(v), v.transpose(1, 2))
    with pytest.raises(ValueError, match="k=0"):
        image_pair_input(v, 0)
    with pytest.raises(ValueError, match="B, T, C, H, W"):
        video_input_in_domain(v[0])


def test_bad_sizes_and_inputs_are_named():
    with pytest.raises(ValueError, match="'tiny'"):
        DiscriminatorConfig.preset("tiny")
    with pytest.raises(ValueError, match="size=48"):
        DiscriminatorConfig.for_size(48)
    assert DiscriminatorConfig.for_size(64) == FULL
    with pytest.raises(ValueError, match="resolution 48"):
        biggan_arch(48, 8)
    with pytest.raises(ValueError, match="dims=4"):
        MultiscalePatchDiscriminator(3, dims=4)
    with pytest.raises(ValueError, match="5-D input"):
        build_video_discriminator(SMOKE)(torch.randn(1, 6, 32, 32))
    with pytest.raises(ValueError, match="32, 32"):
        BigGANDiscriminator(32, 4, 8)(torch.randn(1, 3, 64, 64))


# ------------------------------------------------------------------ BigGAN D


def test_biggan_blocks_follow_the_official_arch():
    assert biggan_arch(128, 96) == PAPER_BLOCKS
    assert [b[1] for b in biggan_arch(64, 8)] == [8, 16, 32, 64, 128]
    assert biggan_arch(32, 8) == [(3, 32, True), (32, 32, True), (32, 32, False), (32, 32, False)]


def test_spectral_norm_on_every_conv_and_linear():
    d = BigGANDiscriminator(64, 8, 16)
    layers = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    # 5 blocks x 2 convs + 5 shortcuts (every block pools or widens) + 4 linears
    assert len(layers) == 5 * 2 + 5 + 4
    assert not BigGANDiscriminator(128, 2, 4).blocks[5][0].learnable_sc  # 16ch -> 16ch, no pooling
    for m in layers:
        assert hasattr(m, "weight_orig") and hasattr(m, "weight_u")
        assert any(type(h).__name__ == "SpectralNorm" for h in m._forward_pre_hooks.values())
    # after a few power iterations every weight has spectral norm ~1
    for _ in range(30):
        d(torch.randn(2, 3, 64, 64))
    s = torch.linalg.matrix_norm(d.proj1.weight, ord=2)
    assert s.item() == pytest.approx(1.0, abs=1e-3)


# ------------------------------------------------------------------ momentum copy and queues


def small_contrastive(batch_size=4, q_len=10):
    return ContrastiveImageDiscriminator(SMOKE.with_(q_len=q_len, d_ch=4, proj_dim=8), batch_size)


def test_momentum_copy_starts_equal_has_no_grad_and_follows_the_rule():
    d = small_contrastive()
    for p, p_ema in zip(d.modelD.parameters(), d.modelD_ema.parameters()):
        assert torch.equal(p, p_ema) and not p_ema.requires_grad
    with torch.no_grad():
        for p in d.modelD.parameters():
            p.add_(torch.randn_like(p))
    before_q = [p.clone() for p in d.modelD.parameters()]
    before_k = [p.clone() for p in d.modelD_ema.parameters()]
    d.momentum_update()
    for q, k0, k1 in zip(before_q, before_k, d.modelD_ema.parameters()):
        assert torch.allclose(k1, 0.999 * k0 + 0.001 * q, atol=1e-7)


def test_clone_is_an_independent_copy_even_after_a_forward_with_grad():
    d = BigGANDiscriminator(32, 4, 8)
    d(torch.randn(2, 3, 32, 32))[0].sum().backward()
    twin = d.clone()
    assert all(torch.equal(a, b) for a, b in zip(d.state_dict().values(), twin.state_dict().values()))
    with torch.no_grad():
        twin.proj0.weight_orig.zero_()
    assert d.proj0.weight_orig.abs().sum() > 0


def test_queues_start_as_unit_columns():
    d = small_contrastive()
    assert torch.allclose(d.q_real.norm(dim=0), torch.ones(8))
    assert not torch.allclose(d.q_real, d.q_fake)


def test_queue_pointer_wraps():
    d = small_contrastive(batch_size=4, q_len=10)
    assert d.q_len == 8  # q_len // batch * batch
    ptrs = []
    for step in range(3):
        d.enqueue(torch.full((4, 8), float(step)), torch.full((4, 8), -float(step)))
        ptrs.append(int(d.q_ptr))
    assert ptrs == [4, 0, 4]
    assert torch.equal(d.q_real[:4], torch.full((4, 8), 2.0))  # step 2 overwrote the oldest rows
    assert torch.equal(d.q_real[4:8], torch.full((4, 8), 1.0))
    assert torch.equal(d.q_fake[4:8], torch.full((4, 8), -1.0))
    d.enqueue(torch.full((6, 8), 9.0), torch.zeros(6, 8))  # a batch that crosses the end wraps
    assert int(d.q_ptr) == 2
    assert torch.equal(d.q_real[[4, 5, 6, 7, 0, 1]], torch.full((6, 8), 9.0))
    with pytest.raises(ValueError, match="B <= 8"):
        d.enqueue(torch.zeros(9, 8), torch.zeros(9, 8))


def test_queued_contrastive_loss_uses_each_set_with_its_own_queue():
    d = small_contrastive(batch_size=2, q_len=6)
    r1, r2, f1, f2 = (torch.randn(2, 8) for _ in range(4))
    expected = contrastive_loss(r1, r2, d.q_real[:6], 0.07) + contrastive_loss(f1, f2, d.q_fake[:6], 0.07)
    assert queued_contrastive_loss(d, r1, r2, f1, f2).item() == pytest.approx(expected.item())
    swapped = contrastive_loss(r1, r2, d.q_fake[:6], 0.07) + contrastive_loss(f1, f2, d.q_real[:6], 0.07)
    assert queued_contrastive_loss(d, r1, r2, f1, f2).item() != pytest.approx(swapped.item())


# ------------------------------------------------------------------ official checkpoints


def test_paper_layouts_match_the_official_keys(paper_contrastive):
    assert layout(build_image_discriminator(PAPER), "module.netD.") == official_patch_layout(6, dims=2)
    assert layout(build_video_discriminator(PAPER), "module.netD.") == official_patch_layout(6, dims=3)
    assert layout(build_video_discriminator(PAPER, True), "module.netD.") == official_patch_layout(3, dims=3)
    assert layout(paper_contrastive, "module.") == official_contrastive_layout(PAPER_BLOCKS, 256, 4096)


@pytest.mark.parametrize("ndf", [16, 32, 64])
def test_patch_widths_follow_the_official_rule_at_every_ndf(ndf):
    cfg = PAPER.with_(ndf=ndf)
    assert layout(build_image_discriminator(cfg), "module.netD.") == official_patch_layout(6, ndf=ndf, dims=2)
    assert layout(build_video_discriminator(cfg, True), "module.netD.") == official_patch_layout(3, ndf=ndf, dims=3)
    d = build_video_discriminator(cfg)
    ckpt = fake_checkpoint(official_patch_layout(6, ndf=ndf, dims=3))
    load_official_state_dict(d, ckpt)  # a checkpoint of the official code at this ndf loads
    assert torch.equal(d.scale0_layer0[0].weight, ckpt["module.netD.scale0_layer0.0.weight"])
    # the coarse scale (scale0) is min(64, 2 ndf) wide, the fine one ndf
    assert d.scale0_layer0[0].out_channels == min(64, 2 * ndf) and d.scale1_layer0[0].out_channels == ndf


def test_flat_widths_keep_the_old_layout_and_a_coarse_three_scale_rule():
    cfg = FULL.with_(widths="flat")
    assert layout(build_image_discriminator(cfg), "module.netD.") == official_patch_layout(6, ndf=32, dims=2, flat=True)
    three = MultiscalePatchDiscriminator(3, ndf=16, num_D=3, dims=2)
    assert [three.scale_stages(i)[0][0].out_channels for i in range(3)] == [64, 32, 16]
    with pytest.raises(ValueError, match="'official'.*'flat'"):
        MultiscalePatchDiscriminator(3, ndf=16, dims=2, widths="wide")


@pytest.mark.parametrize("prefix", ["module.netD.", "netD.", ""])
def test_official_video_d_checkpoint_loads(prefix):
    d = build_video_discriminator(PAPER)
    ckpt = fake_checkpoint(official_patch_layout(6, dims=3, prefix=prefix))
    load_official_state_dict(d, ckpt)
    assert torch.equal(d.scale1_layer3[0].weight, ckpt[f"{prefix}scale1_layer3.0.weight"])
    assert torch.equal(d.scale0_layer2[1].running_var, ckpt[f"{prefix}scale0_layer2.1.running_var"])


@pytest.mark.parametrize("prefix", ["module.", ""])
def test_official_contrastive_checkpoint_loads(prefix):
    cfg = SMOKE  # same layout rules as the paper's, at a size that is cheap to fill
    d = build_contrastive_discriminator(cfg, batch_size=4)
    ckpt = fake_checkpoint(official_contrastive_layout(biggan_arch(32, 16), 64, 256, prefix=prefix))
    load_official_state_dict(d, ckpt)
    assert torch.equal(d.q_fake, ckpt[prefix + "q_fake"])
    assert torch.equal(d.modelD_ema.blocks[2][0].conv2.weight_orig, ckpt[prefix + "modelD_ema.blocks.2.0.conv2.weight_orig"])
    d(torch.randn(1, 3, 32, 32))  # still runs


def test_official_image_d_checkpoint_loads():
    d = build_image_discriminator(PAPER)
    ckpt = fake_checkpoint(official_patch_layout(6, dims=2))
    load_official_state_dict(d, ckpt)
    assert torch.equal(d.scale0_layer0[0].bias, ckpt["module.netD.scale0_layer0.0.bias"])


def test_a_bad_checkpoint_gives_one_error_listing_every_problem():
    d = build_image_discriminator(SMOKE)
    before = {k: v.clone() for k, v in d.state_dict().items()}
    ckpt = fake_checkpoint(official_patch_layout(6, ndf=16, dims=2))
    del ckpt["module.netD.scale0_layer1.0.bias"]
    ckpt["module.netD.scale0_layer9.0.weight"] = torch.zeros(1)
    ckpt["module.netD.scale1_layer0.0.weight"] = torch.zeros(16, 3, 4, 4)
    with pytest.raises(StateDictMismatch) as err:
        load_official_state_dict(d, ckpt)
    msg = str(err.value)
    assert "missing (1): scale0_layer1.0.bias" in msg
    assert "unexpected (1): scale0_layer9.0.weight" in msg
    assert "mis-shaped (1): scale1_layer0.0.weight: file (16, 3, 4, 4) vs model (16, 6, 4, 4)" in msg
    assert all(torch.equal(before[k], v) for k, v in d.state_dict().items())  # nothing loaded
