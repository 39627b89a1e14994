import numpy as np
import pytest
import torch
from PIL import Image

from mocohd.data.folders import (FrameFoldersDataset, ImageFolderDataset, UCF101Dataset, VideoFilesDataset,
                                 VideoTooShortError, clip_indices)
from mocohd.data.video_io import MixedImageSizesError, UnreadableVideoError, write_video

FRAMES, STEP = 4, 2  # small clips: need FRAMES * STEP + 1 = 9 frames


def test_clip_indices_follow_the_official_sampling():
    g = torch.Generator().manual_seed(0)
    starts = set()
    for _ in range(200):
        idx = clip_indices(40, 16, 2, g, "v")
        assert len(idx) == 16 and np.all(np.diff(idx) == 2)
        starts.add(idx[0])
    assert min(starts) == 0 and max(starts) == 40 - 1 - 32  # start in [0, len - 1 - frames * time_step]
    assert list(clip_indices(33, 16, 2, g, "v")) == list(range(0, 32, 2))  # the shortest video that fits


def test_clip_indices_too_short_names_video_lengths_and_fix():
    with pytest.raises(VideoTooShortError, match=r"video a/b.avi has 32 frames.*16 frames with time_step 2.*at least 33.*lower frames or time_step"):
        clip_indices(32, 16, 2, None, "a/b.avi")


def make_ucf(root, numbered, lengths=(12, 10)):
    for cls in ("PlayingGuitar", "ApplyEyeMakeup"):
        for k, n in enumerate(lengths):
            write_video(root / cls / f"v_{cls}_g01_c0{k + 1}.avi", numbered(n, 24, 32), fps=25)
    return root


def test_ucf101_items_labels_and_sampling(tmp_path, numbered, numbers_of):
    data = UCF101Dataset(make_ucf(tmp_path / "ucf", numbered), frames=FRAMES, time_step=STEP, size=16, seed=0)
    assert len(data) == 4
    assert data.label_names == ("ApplyEyeMakeup", "PlayingGuitar")
    assert [int(data[i]["label"]) for i in range(4)] == [0, 0, 1, 1]
    item = data[0]
    assert {"video", "label"} <= set(item)  # the keys real and toy clips share
    assert item["video"].shape == (FRAMES, 3, 16, 16) and item["video"].dtype == torch.float32
    assert item["video"].min() >= -1 and item["video"].max() <= 1
    numbers = numbers_of(item["video"])
    assert np.all(np.diff(numbers) == STEP) and 0 <= numbers[0] <= 12 - 1 - FRAMES * STEP
    batch = next(iter(torch.utils.data.DataLoader(data, batch_size=2)))
    assert batch["video"].shape == (2, FRAMES, 3, 16, 16) and batch["label"].tolist() == [0, 0]


def test_seeded_datasets_repeat(tmp_path, numbered):
    root = make_ucf(tmp_path / "ucf", numbered, lengths=(30,))
    a = UCF101Dataset(root, frames=FRAMES, time_step=STEP, size=16, seed=5)
    b = UCF101Dataset(root, frames=FRAMES, time_step=STEP, size=16, seed=5)
    assert all(torch.equal(a[i]["video"], b[i]["video"]) for i in range(len(a)))


def test_ucf101_rejects_videos_outside_class_folders(tmp_path, numbered):
    root = make_ucf(tmp_path / "ucf", numbered)
    write_video(root / "loose.avi", numbered(10), fps=25)
    with pytest.raises(ValueError, match="loose.avi"):
        UCF101Dataset(root, frames=FRAMES, time_step=STEP, size=16)


def test_voxceleb_mp4s_recursive_and_video_too_short(tmp_path, numbered, numbers_of):
    write_video(tmp_path / "vox" / "id001" / "clip1" / "00001.mp4", numbered(9, 32, 48), fps=25)
    write_video(tmp_path / "vox" / "id002" / "short.mp4", numbered(6, 32, 48), fps=25)
    data = VideoFilesDataset(tmp_path / "vox", frames=FRAMES, time_step=STEP, size=32)
    assert len(data) == 2 and data.label_names == ()
    item = data[0]
    assert item["video"].shape == (FRAMES, 3, 32, 32) and int(item["label"]) == 0
    assert numbers_of(item["video"]) == [0, 2, 4, 6]  # 9 frames: only start 0 fits
    with pytest.raises(VideoTooShortError, match=r"short.mp4 has 6 frames.*needs at least 9"):
        data[1]


def test_unreadable_video_file(tmp_path, numbered):
    root = make_ucf(tmp_path / "ucf", numbered)
    bad = root / "PlayingGuitar" / "v_broken.avi"
    bad.write_bytes(b"\x00" * 4096)
    data = UCF101Dataset(root, frames=FRAMES, time_step=STEP, size=16)
    broken = [i for i, p in enumerate(data.sources) if p == bad][0]
    with pytest.raises(UnreadableVideoError, match="v_broken.avi"):
        data[broken]


@pytest.mark.parametrize("pattern", ["img_{}.png", "{:05d}.jpg"])
def test_frame_folders_faceforensics_and_sky_layouts(tmp_path, numbered, numbers_of, frames_folder, pattern):
    frames_folder(tmp_path / "ff" / "000", numbered(12), pattern)
    frames_folder(tmp_path / "ff" / "001", numbered(9), pattern)
    frames_folder(tmp_path / "sky" / "sky_train" / "07U1fSrk9oI" / "07U1fSrk9oI_1", numbered(9), pattern)
    ff = FrameFoldersDataset(tmp_path / "ff", frames=FRAMES, time_step=STEP, size=16, seed=1)
    assert [p.name for p in ff.sources] == ["000", "001"]
    numbers = numbers_of(ff[0]["video"])
    assert np.all(np.diff(numbers) == STEP) and numbers[0] <= 12 - 1 - FRAMES * STEP  # img_10 sorted after img_9
    assert numbers_of(ff[1]["video"]) == [0, 2, 4, 6]
    sky = FrameFoldersDataset(tmp_path / "sky", frames=FRAMES, time_step=STEP, size=16)
    assert len(sky) == 1 and sky[0]["video"].shape == (FRAMES, 3, 16, 16)


def test_frame_folder_mixed_sizes(tmp_path, numbered, frames_folder):
    folder = frames_folder(tmp_path / "ff" / "000", numbered(9, 24, 32))
    Image.fromarray(numbered(1, 30, 30)[0]).save(folder / "img_8.png")  # a frame no clip uses: still found
    data = FrameFoldersDataset(tmp_path / "ff", frames=FRAMES, time_step=STEP, size=16)
    with pytest.raises(MixedImageSizesError, match=r"000.*img_0.png is 32x24 but img_8.png is 30x30"):
        data[0]


def test_frame_folder_too_short(tmp_path, numbered, frames_folder):
    frames_folder(tmp_path / "ff" / "000", numbered(5))
    with pytest.raises(VideoTooShortError, match=r"000 has 5 frames.*at least 33"):
        FrameFoldersDataset(tmp_path / "ff")[0]


def test_image_folder_afhq_layout(tmp_path, numbered, frames_folder):
    frames_folder(tmp_path / "afhq" / "train" / "dog", numbered(3, 24, 32))
    frames_folder(tmp_path / "afhq" / "train" / "cat", numbered(2, 40, 40), "flickr_cat_{:06d}.jpg")
    data = ImageFolderDataset(tmp_path / "afhq", size=16)
    assert len(data) == 5
    image = data[0]
    assert image.shape == (3, 16, 16) and -1 <= image.min() <= image.max() <= 1


@pytest.mark.parametrize("make", [
    lambda root: UCF101Dataset(root, frames=FRAMES, time_step=STEP, size=16),
    lambda root: VideoFilesDataset(root, frames=FRAMES, time_step=STEP, size=16),
    lambda root: FrameFoldersDataset(root, frames=FRAMES, time_step=STEP, size=16),
    lambda root: ImageFolderDataset(root, size=16),
])
def test_missing_and_empty_dataset_folders(tmp_path, make):
    with pytest.raises(FileNotFoundError, match=r"dataset folder .*missing does not exist.*fix the path"):
        make(tmp_path / "missing")
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("no data here")
    with pytest.raises(FileNotFoundError, match=r"dataset folder .*empty contains no"):
        make(tmp_path / "empty")


@pytest.mark.parametrize("size", [48, 0, -64, 100])
def test_size_not_power_of_two(tmp_path, numbered, frames_folder, size):
    frames_folder(tmp_path / "ff" / "000", numbered(9))
    with pytest.raises(ValueError, match=f"size must be a positive power of two.*{size}"):
        FrameFoldersDataset(tmp_path / "ff", frames=FRAMES, time_step=STEP, size=size)
    with pytest.raises(ValueError, match="power of two"):
        ImageFolderDataset(tmp_path / "ff", size=size)


@pytest.mark.parametrize("kwargs, name", [({"frames": 0}, "frames"), ({"time_step": -2}, "time_step")])
def test_bad_clip_arguments(tmp_path, numbered, frames_folder, kwargs, name):
    frames_folder(tmp_path / "ff" / "000", numbered(9))
    with pytest.raises(ValueError, match=f"{name} must be a positive int"):
        FrameFoldersDataset(tmp_path / "ff", **kwargs)
