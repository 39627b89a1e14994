"""The video generator: frame 0 is G_I's image of w0, noise held per video, gradients reach
the motion generator only, chunked rendering, interpolation, seeds."""

import pytest
import torch

from mocohd.image_generator import Generator
from mocohd.motion import MotionGenerator, one_thread
from mocohd.video_generator import VideoGenerator

W_DIM = 32


@pytest.fixture(autouse=True)
def single_thread():
    """Tiny matrices: one thread is faster than two fighting over a busy machine."""
    with one_thread():
        yield


def tiny_image_generator(seed: int = 0) -> Generator:
    torch.manual_seed(seed)
    g = Generator(16, W_DIM, 2, 1, channel_scale=0.0625)
    with torch.no_grad():  # an untrained G_I ignores noise (its strengths start at 0): make it matter
        for name, p in g.named_parameters():
            if name.endswith("noise.weight"):
                p.fill_(0.5)
    return g


def tiny_video_generator(seed: int = 0) -> VideoGenerator:
    g = tiny_image_generator(seed)
    q, _ = torch.linalg.qr(torch.randn(W_DIM, W_DIM, generator=torch.Generator().manual_seed(seed)))
    motion = MotionGenerator(W_DIM, 16, 8, pca_comp=q.T, pca_stdev=torch.linspace(1.0, 0.2, W_DIM))
    with torch.no_grad():
        motion.w.mul_(50)  # visible motion
    return VideoGenerator(g, motion)


@pytest.fixture(scope="module")
def vg():
    return tiny_video_generator()


def test_shapes_and_w0(vg):
    z = torch.randn(2, W_DIM)
    with torch.no_grad():
        out = vg(z, n_frames=5, chunk=3)
    assert out["video"].shape == (2, 5, 3, 16, 16)
    assert out["w"].shape == (2, 5, W_DIM)
    assert out["e"].shape == out["e_rec"].shape == (2, 4, W_DIM)
    assert torch.equal(out["w"][:, 0], vg.image_generator.get_latent(z))


def test_frame_zero_is_the_image_generators_image(vg):
    z = torch.randn(3, W_DIM)
    noise = vg.video_noise(3, torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = vg(z, n_frames=4, noise=noise, chunk=5)
        image = vg.image_generator.synthesize(vg.image_generator.get_latent(z), noise=noise)
        no_noise = vg(z, n_frames=4, noise="none")
        image_no_noise = vg.image_generator.synthesize(vg.image_generator.get_latent(z), use_noise=False)
    torch.testing.assert_close(out["video"][:, 0], image, atol=1e-5, rtol=0)
    torch.testing.assert_close(no_noise["video"][:, 0], image_no_noise, atol=1e-5, rtol=0)
    assert (out["video"][:, 0] - no_noise["video"][:, 0]).abs().max() > 1e-3  # the noise does matter


def test_noise_is_held_constant_over_a_videos_frames(vg):
    """With a still path (w_t = w0 for all t), "video" noise gives identical frames; fresh
    noise per frame would not."""
    w = vg.image_generator.get_latent(torch.randn(2, W_DIM))[:, None].expand(-1, 6, -1)  # (B, T, D)
    with torch.no_grad():
        video = vg.render(w, noise="video", chunk=4)
        fresh = vg.image_generator.synthesize(w.reshape(12, W_DIM))  # fresh noise per frame
    torch.testing.assert_close(video, video[:, :1].expand_as(video), atol=1e-5, rtol=0)
    assert (video[0, 0] - video[1, 0]).abs().max() > 1e-3  # different videos, different content
    assert (fresh[0] - fresh[1]).abs().max() > 1e-3


def test_chunking_does_not_change_the_video(vg):
    w = torch.randn(2, 5, W_DIM)
    noise = vg.video_noise(2, torch.Generator().manual_seed(3))
    with torch.no_grad():
        a = vg.render(w, noise=noise, chunk=1)
        b = vg.render(w, noise=noise, chunk=32)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_same_seed_same_video(vg):
    z = torch.randn(2, W_DIM)
    with torch.no_grad():
        a = vg(z, 4, generator=torch.Generator().manual_seed(11))["video"]
        b = vg(z, 4, generator=torch.Generator().manual_seed(11))["video"]
        c = vg(z, 4, generator=torch.Generator().manual_seed(12))["video"]
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_gradients_reach_the_motion_generator_never_the_image_generator():
    vg = tiny_video_generator()
    vg.train()
    assert vg.motion.training and not vg.image_generator.training
    out = vg(torch.randn(2, W_DIM), n_frames=4, chunk=3)
    out["video"].square().mean().backward()
    assert all(p.grad is None for p in vg.image_generator.parameters())
    assert not any(p.requires_grad for p in vg.image_generator.parameters())
    for name in ("w", "cell.weight_ih", "cell.weight_hh", "enc_cell.weight_ih"):
        grad = dict(vg.motion.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name


def test_interpolation_gives_2t_minus_1_frames_with_midpoints(vg):
    z = torch.randn(1, W_DIM)
    with torch.no_grad():
        plain = vg(z, 5, noise="none", generator=torch.Generator().manual_seed(2))
        inter = vg(z, 5, noise="none", interpolation=True, generator=torch.Generator().manual_seed(2))
    assert inter["video"].shape[1] == 9 and inter["w"].shape[1] == 9
    assert inter["e"].shape[1] == 4  # one noise per LSTM step
    torch.testing.assert_close(inter["w"][:, ::2], plain["w"])
    torch.testing.assert_close(inter["w"][:, 1::2], (plain["w"][:, :-1] + plain["w"][:, 1:]) / 2)
    torch.testing.assert_close(inter["video"][:, ::2], plain["video"], atol=1e-5, rtol=0)


def test_bf16_autocast_and_channels_last():
    vg = tiny_video_generator()
    vg.image_generator.memory_format = torch.channels_last
    z = torch.randn(2, W_DIM)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = vg(z, 3, chunk=4)
    assert out["video"].shape == (2, 3, 3, 16, 16)
    assert out["w"].dtype == torch.float32  # the path itself is accumulated in fp32
    assert torch.isfinite(out["video"].float()).all()
    out["video"].float().mean().backward()
    assert vg.motion.w.grad is not None


def test_bad_arguments():
    vg = tiny_video_generator()
    z = torch.randn(2, W_DIM)
    with pytest.raises(ValueError, match="noise must be"):
        vg(z, 3, noise="frame")
    with pytest.raises(ValueError, match="one map per noise layer"):
        vg(z, 3, noise=[torch.zeros(2, 1, 4, 4)])
    with pytest.raises(ValueError, match="chunk"):
        vg(z, 3, chunk=0)
    with pytest.raises(ValueError, match="style_dim"):
        VideoGenerator(tiny_image_generator(), MotionGenerator(16, 8, 8))
