"""Shared fixtures: tiny videos whose frames say which frame they are.

Frame ``i`` of a :func:`numbered_frames` video is one flat colour whose red value is
``STEP * i``, so a test can read back which frames a loader picked, even after lossy
compression, cropping and resizing (a flat colour survives all three).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

STEP = 6  # red value step between consecutive frames; 6 * 40 < 256


def numbered_frames(n: int, height: int = 24, width: int = 32) -> np.ndarray:
    """uint8 (n, height, width, 3): frame i is flat with red = STEP * i."""
    frames = np.zeros((n, height, width, 3), np.uint8)
    frames[..., 0] = (STEP * np.arange(n))[:, None, None]
    frames[..., 1] = 90
    frames[..., 2] = 160
    return frames


def frame_numbers(video) -> list[int]:
    """Inverse of numbered_frames for a float (T, 3, H, W) video in [-1, 1] or uint8 (T, H, W, 3)."""
    video = np.asarray(video, dtype=np.float64)
    red = (video[:, 0] + 1) * 127.5 if video.shape[-1] != 3 else video[..., 0]
    return [int(round(r.mean() / STEP)) for r in red]


def write_frames_folder(folder: Path, frames: np.ndarray, pattern: str = "img_{}.png") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / pattern.format(i))
    return folder


@pytest.fixture
def numbered():
    return numbered_frames


@pytest.fixture
def numbers_of():
    return frame_numbers


@pytest.fixture
def frames_folder():
    return write_frames_folder
