import numpy as np
import pytest
import torch
from PIL import Image

from mocohd.data import video_io
from mocohd.data.video_io import (MixedImageSizesError, UnreadableVideoError, center_square_crop, from_uint8,
                                  natural_key, read_frames_folder, read_image_folder, read_video, resize, to_uint8,
                                  write_video)


def test_mediapy_uses_the_shipped_ffmpeg():
    import imageio_ffmpeg
    import mediapy

    assert video_io.FFMPEG == imageio_ffmpeg.get_ffmpeg_exe()
    assert mediapy._config.ffmpeg_name_or_path == video_io.FFMPEG


def test_uint8_float_round_trip_is_exact():
    frames = np.random.default_rng(0).integers(0, 256, (3, 5, 7, 3), dtype=np.uint8)
    video = from_uint8(frames)
    assert video.shape == (3, 3, 5, 7) and video.dtype == torch.float32
    assert video.min() >= -1 and video.max() <= 1
    assert np.array_equal(to_uint8(video), frames)


def test_conversions_keep_leading_dims_and_reject_wrong_layouts():
    assert to_uint8(torch.zeros(2, 4, 3, 8, 8)).shape == (2, 4, 8, 8, 3)
    assert to_uint8(torch.full((3, 2, 2), -1.0)).max() == 0
    with pytest.raises(ValueError, match=r"\(\.\.\., 3, H, W\)"):
        to_uint8(torch.zeros(4, 8, 8, 3))
    with pytest.raises(ValueError, match="uint8"):
        from_uint8(np.zeros((4, 8, 8, 3), np.float32))


def test_center_square_crop_default_and_shifted_inside():
    frames = np.arange(2 * 4 * 6 * 1).reshape(2, 4, 6, 1)
    crop = center_square_crop(frames)
    assert crop.shape == (2, 4, 4, 1)
    assert np.array_equal(crop, frames[:, :, 1:5])
    # a centre near the edge moves the box back inside the image
    assert np.array_equal(center_square_crop(frames, center=(0, 0), side=2), frames[:, 0:2, 0:2])
    with pytest.raises(ValueError, match="does not fit"):
        center_square_crop(frames, side=5)


def test_resize_shapes_and_flat_colour():
    frames = np.full((3, 10, 10, 3), 77, np.uint8)
    assert resize(frames, 4).shape == (3, 4, 4, 3)
    assert resize(frames[0], (6, 8)).shape == (6, 8, 3)
    assert (resize(frames, 4) == 77).all()


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_video_round_trip(tmp_path, numbered, numbers_of, suffix):
    frames = numbered(12, 32, 48)
    path = write_video(tmp_path / f"clip{suffix}", frames, fps=10)
    back = read_video(path)
    assert back.shape == frames.shape and back.dtype == np.uint8
    assert numbers_of(back) == list(range(12))
    assert np.abs(back.astype(int) - frames).mean() < 4
    assert video_io.video_fps(path) == pytest.approx(10)


def test_write_gif_from_float_video(tmp_path):
    video = torch.linspace(-1, 1, 6)[:, None, None, None].expand(6, 3, 16, 16)
    path = write_video(tmp_path / "sub" / "clip.gif", video, fps=5)
    assert path.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    with Image.open(path) as gif:
        assert gif.n_frames == 6 and gif.size == (16, 16)


def test_write_video_rejects_unknown_suffix_and_bad_arrays(tmp_path):
    with pytest.raises(ValueError, match=r"\.mp4"):
        write_video(tmp_path / "clip.xyz", np.zeros((2, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match=r"\(T, H, W, 3\)"):
        write_video(tmp_path / "clip.mp4", np.zeros((8, 8, 3), np.uint8))


def test_read_video_missing_file_names_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.mp4 does not exist"):
        read_video(tmp_path / "nope.mp4")


def test_read_video_corrupt_and_truncated(tmp_path, numbered):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 50)
    with pytest.raises(UnreadableVideoError, match="bad.mp4.*re-encode"):
        read_video(bad)
    good = write_video(tmp_path / "good.mp4", numbered(8))
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    with pytest.raises(UnreadableVideoError, match="cut.mp4"):
        read_video(cut)


def test_unreadable_image_names_path(tmp_path, numbered, frames_folder):
    folder = frames_folder(tmp_path / "video", numbered(3))
    (folder / "img_1.png").write_bytes(b"not a png")
    with pytest.raises(video_io.UnreadableImageError, match="img_1.png.*re-save"):
        video_io.read_image(folder / "img_1.png")
    with pytest.raises(video_io.UnreadableImageError, match="img_1.png"):
        read_frames_folder(folder)


def test_natural_sort_orders_numbers_by_value():
    names = ["img_10.png", "img_2.png", "img_1.png", "frame.png"]
    assert sorted(names, key=natural_key) == ["frame.png", "img_1.png", "img_2.png", "img_10.png"]


@pytest.mark.parametrize("pattern", ["img_{}.png", "{:04d}.png", "frame{}.jpg"])
def test_frames_folder_any_sortable_names(tmp_path, numbered, numbers_of, frames_folder, pattern):
    frames = numbered(12)
    frames_folder(tmp_path / "video", frames, pattern)
    back = read_frames_folder(tmp_path / "video")
    assert back.shape == frames.shape
    assert numbers_of(back) == list(range(12))  # img_10 after img_9, not after img_1


def test_frames_folder_errors(tmp_path, numbered, frames_folder):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_frames_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty has no images"):
        read_frames_folder(tmp_path / "empty")
    folder = frames_folder(tmp_path / "mixed", numbered(3, 24, 32))
    Image.fromarray(numbered(1, 20, 20)[0]).save(folder / "img_3.png")
    with pytest.raises(MixedImageSizesError, match=r"img_0.png is 32x24 but img_3.png is 20x20.*resize"):
        read_frames_folder(folder)


def test_image_folder_recursive_with_and_without_size(tmp_path, numbered, frames_folder):
    frames_folder(tmp_path / "cats", numbered(2, 24, 32))
    frames_folder(tmp_path / "dogs" / "deep", numbered(3, 24, 32))
    images = read_image_folder(tmp_path)
    assert images.shape == (5, 24, 32, 3)
    Image.fromarray(numbered(1, 40, 50)[0]).save(tmp_path / "odd.png")
    with pytest.raises(MixedImageSizesError):
        read_image_folder(tmp_path)
    assert read_image_folder(tmp_path, size=16).shape == (6, 16, 16, 3)
