"""Datasets for real data, in the layouts the official MoCoGAN-HD scripts use.

===================  =========================================  =================================
dataset              layout under ``root``                      class
===================  =========================================  =================================
UCF-101              ``<ClassName>/<video>.avi``                :class:`UCF101Dataset` (labels)
FaceForensics, Sky   ``<video>/<frame>.png|jpg`` (one folder    :class:`FrameFoldersDataset`
time-lapse           of frames per video, at any depth)
VoxCeleb             ``**/<video>.mp4``                         :class:`VideoFilesDataset`
AFHQ, FFHQ           ``**/<image>.png|jpg``                     :class:`ImageFolderDataset`
===================  =========================================  =================================

Clips are sampled as the official loader does: a random start in
``[0, len - 1 - frames * time_step]``, then ``frames`` frames ``time_step`` apart (16 and 2 by
default), so a video needs at least ``frames * time_step + 1`` frames; each frame is
centre-cropped to a square, resized to ``size`` x ``size`` (Lanczos) and scaled to [-1, 1].

Items are dicts ``{"video": (T, 3, S, S) float, "label": long}``, like
:class:`~mocohd.data.toyworld.ToyVideoDataset`'s; ``label`` is the class index for UCF-101 and
0 where a dataset has no labels (``label_names`` is then empty), as in the toy world.
Image items are ``(3, S, S)`` tensors, like :class:`~mocohd.data.toyworld.ToyImageDataset`'s.
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np
import torch

from mocohd.data.video_io import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, center_square_crop, check_numbering,
                                  check_same_size, from_uint8, list_images, natural_key, read_image, read_video,
                                  resize)
from mocohd.params import check_power_of_two


class VideoTooShortError(ValueError):
    """A video with fewer frames than the clip asked of it."""


def check_root(root) -> Path:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder {root} does not exist; download the dataset there or fix "
                                f"the path (layouts: README, 'Bring your own data')")
    return root


def check_clip_args(frames, time_step, size) -> None:
    for name, value in (("frames", frames), ("time_step", time_step)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    check_power_of_two(size, "size")


def clip_indices(length: int, frames: int, time_step: int, generator: torch.Generator | None,
                 name: str) -> np.ndarray:
    """Frame indices of one clip: a random start, then ``frames`` frames ``time_step`` apart."""
    needed = frames * time_step + 1
    if length < needed:
        raise VideoTooShortError(
            f"video {name} has {length} frames, but a clip of {frames} frames with time_step {time_step} "
            f"needs at least {needed} (frames * time_step + 1); lower frames or time_step, or remove the video")
    last_start = length - 1 - frames * time_step
    start = int(torch.randint(0, last_start + 1, (1,), generator=generator))
    return start + time_step * np.arange(frames)


def to_clip(frames: np.ndarray, size: int) -> torch.Tensor:
    """uint8 (T, H, W, 3) frames -> centre square crop -> size x size -> float (T, 3, S, S)."""
    return from_uint8(resize(center_square_crop(frames), size))


class _ClipDataset(torch.utils.data.Dataset):
    """Shared clip sampling; subclasses list ``self.sources`` and read frames from one."""

    label_names: tuple[str, ...] = ()

    def __init__(self, root, frames: int = 16, time_step: int = 2, size: int = 128, seed: int | None = None):
        check_clip_args(frames, time_step, size)
        self.root = check_root(root)
        self.frames, self.time_step, self.size = frames, time_step, size
        # With a seed the clip starts are repeatable; without one they follow torch's global
        # generator (which DataLoader seeds per worker).
        self.generator = None if seed is None else torch.Generator().manual_seed(seed)
        self.sources: list[Path] = []
        self.labels: list[int] = []

    def _require_sources(self, what: str) -> None:
        if not self.sources:
            raise FileNotFoundError(f"dataset folder {self.root} contains no {what}; check the path and "
                                    f"the layout (README, 'Bring your own data')")

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, i: int) -> dict:
        video = self.read_clip(self.sources[i])  # (T, H, W, 3) uint8
        label = self.labels[i] if self.labels else 0
        return {"video": to_clip(video, self.size), "label": torch.tensor(label)}

    def read_clip(self, source: Path) -> np.ndarray:
        raise NotImplementedError


class VideoFilesDataset(_ClipDataset):
    """Every video file under ``root`` (recursive): VoxCeleb's mp4s, or any folder of videos."""

    def __init__(self, root, frames: int = 16, time_step: int = 2, size: int = 128, seed: int | None = None,
                 extensions=VIDEO_EXTENSIONS):
        super().__init__(root, frames, time_step, size, seed)
        self.sources = sorted((p for p in self.root.rglob("*") if p.suffix.lower() in extensions and p.is_file()),
                              key=lambda p: [natural_key(part) for part in p.relative_to(self.root).parts])
        self._require_sources(f"video files ({', '.join(extensions)})")

    def read_clip(self, source: Path) -> np.ndarray:
        video = read_video(source)
        return video[clip_indices(len(video), self.frames, self.time_step, self.generator, str(source))]


class UCF101Dataset(VideoFilesDataset):
    """UCF-101: ``root/<ClassName>/*.avi``; the label is the class folder's index in sorted order."""

    def __init__(self, root, frames: int = 16, time_step: int = 2, size: int = 128, seed: int | None = None,
                 extensions=(".avi",)):
        super().__init__(root, frames, time_step, size, seed, extensions)
        outside = [p for p in self.sources if p.parent.parent != self.root]
        if outside:
            raise ValueError(f"UCF-101 videos must sit one folder deep, in their class folder "
                             f"(root/<ClassName>/<video>.avi), but {outside[0]} does not; move it")
        self.label_names = tuple(sorted({p.parent.name for p in self.sources}))
        self.labels = [self.label_names.index(p.parent.name) for p in self.sources]


class FrameFoldersDataset(_ClipDataset):
    """One folder of frames per video (FaceForensics, Sky time-lapse): every folder under
    ``root`` that holds images directly is one video. Frame names may be anything sortable."""

    def __init__(self, root, frames: int = 16, time_step: int = 2, size: int = 128, seed: int | None = None):
        super().__init__(root, frames, time_step, size, seed)
        folders = {p.parent for p in self.root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()}
        self.sources = sorted(folders, key=lambda p: [natural_key(part) for part in p.relative_to(self.root).parts])
        self._require_sources("folders of frames (one folder of images per video)")
        self._same_size: set[Path] = set()  # folders whose frames were checked (headers only)

    def read_clip(self, source: Path) -> np.ndarray:
        files = list_images(source)
        indices = clip_indices(len(files), self.frames, self.time_step, self.generator, str(source))
        if source not in self._same_size:
            check_numbering(files, source)
            check_same_size(files, source)
            self._same_size.add(source)
        return np.stack([read_image(files[j]) for j in indices])


class ImageFolderDataset(torch.utils.data.Dataset):
    """Every image under ``root`` (recursive: AFHQ's ``train/dog/...``, FFHQ's numbered folders),
    centre-cropped, resized to ``size`` and scaled to [-1, 1]: items are (3, S, S) tensors."""

    def __init__(self, root, size: int = 128):
        check_power_of_two(size, "size")
        self.root = check_root(root)
        self.size = size
        self.files = list_images(self.root, recursive=True)
        if not self.files:
            raise FileNotFoundError(f"dataset folder {self.root} contains no images ({', '.join(IMAGE_EXTENSIONS)}); "
                                    f"check the path and the layout (README, 'Bring your own data')")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> torch.Tensor:
        return to_clip(read_image(self.files[i])[None], self.size)[0]
