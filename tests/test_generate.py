"""Long videos (mocohd.generate): the paths of each method on values, and the export command."""

import mediapy
import pytest
import torch
from PIL import Image

from mocohd import generate
from mocohd.data.video_io import video_fps
from mocohd.generate import MOTION_STREAM, keyframes_needed, long_path, long_video, main, unroll
from mocohd.motion import MotionGenerator
from mocohd.params import shipped_checkpoint
from mocohd.train.video_gan import load_video_generator

FACES = shipped_checkpoint("faces_motion.pt")


@pytest.fixture(scope="module")
def faces():
    torch.set_num_threads(1)
    return load_video_generator(FACES)


@pytest.fixture
def motion():
    torch.manual_seed(0)
    m = MotionGenerator(w_dim=8, h_dim=6, n_pca=4, pca_comp=torch.linalg.qr(torch.randn(8, 8))[0][:4],
                        pca_stdev=torch.tensor([2.0, 1.0, 0.5, 0.3])).eval()
    with torch.no_grad():
        m.b.fill_(0.5)  # a steady drift, so that paths leave their training reach
    return m


def draws(seed=3):
    return torch.Generator().manual_seed(seed)


@torch.no_grad()
def test_unroll_is_the_motion_generators_own_path(motion):
    w0 = torch.randn(3, 8)
    expected, _, _ = motion(w0, 20, generator=draws())
    assert torch.equal(unroll(motion, w0, 20, draws()), expected)
    assert torch.equal(long_path(motion, w0, 20, "unroll", draws()), expected)


@torch.no_grad()
def test_interpolation_keeps_the_keyframes_and_puts_means_between(motion):
    w0 = torch.randn(2, 8)
    for levels, frames in ((1, 31), (2, 61), (1, 64), (2, 64)):
        w = long_path(motion, w0, frames, "interpolate", draws(), levels=levels)
        keys = unroll(motion, w0, keyframes_needed(frames, levels), draws())
        assert w.shape == (2, frames, 8)
        stride = 2**levels
        assert torch.equal(w[:, ::stride], keys[:, :len(range(0, frames, stride))])
        between = w[:, 1:-1:2] if frames % 2 else w[:, 1:-2:2]  # odd frames with a neighbour on each side
        assert torch.allclose(between, (w[:, 0:-2:2] + w[:, 2::2])[:, :between.shape[1]] / 2, atol=1e-6)
    assert keyframes_needed(31, 1) == 16 and keyframes_needed(61, 2) == 16  # the paper's 16 -> 31 -> 61


@torch.no_grad()
def test_clamp_stays_within_the_training_reach(motion):
    w0 = torch.randn(4, 8)
    free = unroll(motion, w0, 40, draws())
    held = long_path(motion, w0, 40, "clamp", draws(), train_frames=8)
    assert torch.equal(held[:, :8], free[:, :8])  # untouched within the training length
    dist = generate.sigma_distance(motion, held - held[:, :1])  # (B, T)
    reach = generate.sigma_distance(motion, free[:, :8] - w0[:, None]).amax(dim=1)  # (B,)
    assert (dist[:, 8:] <= reach[:, None] + 1e-4).all()
    assert (generate.sigma_distance(motion, free[:, -1] - w0) > 2 * reach).all(), "the drift should have left it"


@torch.no_grad()
def test_return_goes_out_and_back_along_training_length_paths(motion):
    w0 = torch.randn(2, 8)
    w = long_path(motion, w0, 40, "return", draws(), train_frames=6)
    first = unroll(motion, w0, 6, draws())
    assert torch.equal(w[:, :6], first)  # out: as unrolled
    assert torch.equal(w[:, 6:11], first[:, :5].flip(1))  # back along it, to w_0 at frame 10
    assert torch.equal(w[:, 10], w0) and torch.equal(w[:, 20], w0) and w.shape[1] == 40
    assert not torch.equal(w[:, 11], first[:, 1])  # then out along a fresh path


@torch.no_grad()
def test_long_video_of_the_shipped_faces_model(faces):
    out = long_video(faces, 6, "unroll", seed=2, videos=2, progress=False)
    assert out["video"].shape == (2, 6, 3, 64, 64) and out["video"].abs().max() <= 1
    z = torch.randn(2, faces.image_generator.style_dim, generator=draws(2))
    w, _, _ = faces.motion(faces.image_generator.get_latent(z), 6, generator=draws(2 + MOTION_STREAM))
    assert torch.equal(out["w"], w)
    again = long_video(faces, 9, "interpolate", seed=2, videos=2, progress=False)
    assert torch.allclose(again["video"][:, 0], out["video"][:, 0], atol=1e-4)  # the same content for one seed
    assert again["keyframes"].tolist() == [0, 2, 4, 6, 8]


def test_the_export_command_writes_a_video_mediapy_reads_back(tmp_path):
    paths = main([str(FACES), "--frames", "10", "--method", "interpolate", "--out", str(tmp_path / "v.mp4"),
                  "--seed", "1", "--fps", "5", "--gif", "--threads", "1"])
    assert [p.name for p in paths] == ["v.mp4", "v.gif"]
    video = mediapy.read_video(tmp_path / "v.mp4")
    assert video.shape == (10, 64, 64, 3)
    assert video_fps(tmp_path / "v.mp4") == pytest.approx(5)
    assert Image.open(tmp_path / "v.gif").n_frames == 10
    gif_only = main([str(FACES), "--frames", "4", "--method", "clamp", "--videos", "2", "--scale", "2",
                     "--out", str(tmp_path / "two.gif"), "--threads", "1"])
    assert Image.open(gif_only[0]).n_frames == 4 and Image.open(gif_only[0]).size == (2 * 128 + 2, 128)


@pytest.mark.parametrize("args, message", [
    (["--frames", "1"], "frames must be an int >= 2"),
    (["--method", "loop"], "unknown method 'loop'; choose one of unroll"),
    (["--levels", "0"], "levels"),
    (["--seed", "-1"], "seed must be an int >= 0"),
    (["--fps", "0"], "--fps must be > 0"),
    (["--out", "video.avi"], "ending in .mp4 or .gif"),
])
def test_bad_arguments_say_what_to_give(args, message, tmp_path, capsys):
    argv = [str(FACES), "--out", str(tmp_path / "v.mp4"), *args]
    with pytest.raises(SystemExit):
        main(argv)
    assert message in capsys.readouterr().err
    assert not (tmp_path / "v.mp4").exists()


def test_a_missing_checkpoint_names_the_fix(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([str(tmp_path / "nope.pt"), "--out", str(tmp_path / "v.mp4")])
    assert "no checkpoint at" in capsys.readouterr().err


def test_long_video_refuses_bad_values(faces):
    with pytest.raises(ValueError, match="frames must be an int >= 2"):
        long_video(faces, 1)
    with pytest.raises(ValueError, match="unknown method"):
        long_video(faces, 8, method="pingpong")
    with pytest.raises(ValueError, match="ending in .mp4 or .gif"):
        generate.write_long_video("v.avi", torch.zeros(4, 3, 8, 8))
