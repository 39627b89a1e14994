"""Reading and writing videos, frame folders and image folders.

Decoding and encoding go through mediapy, wired on import to the ffmpeg binary that the
``imageio-ffmpeg`` package ships, so no system ffmpeg is needed. ``imageio-ffmpeg`` is pinned
to 0.6.0 (ffmpeg 7): the ffmpeg 9 inside 0.8 rejects the ``-vsync`` flag that mediapy's
reader passes.

Two layouts meet here:

- on disk and in mediapy: ``uint8`` arrays ``(T, H, W, 3)``;
- in the models: float tensors ``(T, 3, H, W)`` in [-1, 1].

:func:`to_uint8` and :func:`from_uint8` convert between them (any leading dimensions).
"""

from __future__ import annotations

import re
from pathlib import Path

import imageio_ffmpeg
import mediapy
import numpy as np
import torch
from PIL import Image

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
mediapy.set_ffmpeg(FFMPEG)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
WRITE_CODECS = {".mp4": "h264", ".avi": "mpeg4", ".gif": "gif"}


class UnreadableVideoError(ValueError):
    """A video file that ffmpeg cannot decode."""


class UnreadableImageError(ValueError):
    """An image file that PIL cannot decode."""


class MixedImageSizesError(ValueError):
    """A folder whose images do not all have the same size."""


class MissingFramesError(ValueError):
    """A folder of numbered frames with a hole in the numbering (a frame lost in extraction)."""


# ----------------------------------------------------------------------------------------
# Conversions


def to_uint8(video) -> np.ndarray:
    """Float ``(..., 3, H, W)`` in [-1, 1] (tensor or array) to uint8 ``(..., H, W, 3)``."""
    video = torch.as_tensor(video).detach().float().cpu()
    if video.dim() < 3 or video.shape[-3] != 3:
        raise ValueError(f"expected a float video (..., 3, H, W) in [-1, 1], got shape {tuple(video.shape)}")
    out = ((video.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return out.movedim(-3, -1).numpy()


def from_uint8(frames) -> torch.Tensor:
    """Uint8 ``(..., H, W, 3)`` (array or tensor) to float ``(..., 3, H, W)`` in [-1, 1]."""
    frames = torch.as_tensor(np.asarray(frames))
    if frames.dtype != torch.uint8 or frames.dim() < 3 or frames.shape[-1] != 3:
        raise ValueError(f"expected uint8 frames (..., H, W, 3), got {frames.dtype} {tuple(frames.shape)}")
    return frames.movedim(-1, -3).float().div(127.5).sub(1)


def center_square_crop(frames: np.ndarray, center: tuple[float, float] | None = None,
                       side: int | None = None) -> np.ndarray:
    """The square ``side`` x ``side`` crop of ``(..., H, W, C)`` frames around ``center`` (x, y).

    Defaults: the image centre and the largest square that fits. A box that would leave the
    image is shifted back inside it.
    """
    height, width = frames.shape[-3], frames.shape[-2]
    side = min(height, width) if side is None else int(side)
    if not 1 <= side <= min(height, width):
        raise ValueError(f"crop side {side} does not fit in frames of {height}x{width} pixels; "
                         f"choose a side from 1 to {min(height, width)}")
    cx, cy = (width / 2, height / 2) if center is None else center
    left = int(np.clip(round(cx - side / 2), 0, width - side))
    top = int(np.clip(round(cy - side / 2), 0, height - side))
    return frames[..., top:top + side, left:left + side, :]


def resize(frames: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Resize uint8 ``(H, W, 3)`` or ``(T, H, W, 3)`` frames to ``size`` (an int for a square,
    or (height, width)) with PIL's Lanczos filter (what the official loader's ANTIALIAS was)."""
    height, width = (size, size) if isinstance(size, int) else size
    if frames.ndim == 3:
        return resize(frames[None], (height, width))[0]
    if frames.shape[1:3] == (height, width):
        return frames
    return np.stack([np.asarray(Image.fromarray(f).resize((width, height), Image.LANCZOS)) for f in frames])


# ----------------------------------------------------------------------------------------
# Videos


def _existing_file(path) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        what = "is a folder, not a video file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"{path} {what}; check the path (datasets: see README, 'Bring your own data')")
    return path


def read_video(path) -> np.ndarray:
    """All frames of an mp4/avi/... file as uint8 ``(T, H, W, 3)``."""
    path = _existing_file(path)
    try:
        video = mediapy.read_video(path)
    except Exception as error:  # mediapy raises RuntimeError/ValueError with ffmpeg's message
        detail = " / ".join([line.strip() for line in str(error).splitlines() if line.strip()][-2:])
        raise UnreadableVideoError(
            f"cannot decode video {path} (ffmpeg: {detail}); the file may be truncated or "
            f"corrupt: check that it plays, re-encode it (ffmpeg -i IN -c:v libx264 OUT.mp4) or remove it "
            f"(see docs/troubleshooting.md#ffmpeg-and-video-files)"
        ) from error
    if video.ndim != 4 or len(video) == 0:
        raise UnreadableVideoError(f"video {path} has no frames; re-encode it or remove it from the dataset")
    return np.ascontiguousarray(video)


def video_fps(path) -> float:
    """Frames per second stored in a video file's header."""
    path = _existing_file(path)
    try:
        with mediapy.VideoReader(path) as reader:
            return float(reader.fps)
    except Exception as error:
        raise UnreadableVideoError(f"cannot read the header of video {path}: {error}") from error


def write_video(path, frames, fps: float = 8) -> Path:
    """Write uint8 ``(T, H, W, 3)`` frames (or a float ``(T, 3, H, W)`` video in [-1, 1]) to
    ``.mp4`` (h264), ``.avi`` (mpeg4) or ``.gif``; folders are created. Returns the path."""
    path = Path(path).expanduser()
    codec = WRITE_CODECS.get(path.suffix.lower())
    if codec is None:
        raise ValueError(f"cannot write {path}: choose a file name ending in {', '.join(WRITE_CODECS)}")
    frames = _as_uint8_frames(frames)
    path.parent.mkdir(parents=True, exist_ok=True)
    mediapy.write_video(path, frames, fps=fps, codec=codec)
    return path


def _as_uint8_frames(frames) -> np.ndarray:
    if torch.is_tensor(frames) and frames.is_floating_point():
        frames = to_uint8(frames)
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected uint8 frames (T, H, W, 3) or a float video (T, 3, H, W), "
                         f"got {frames.dtype} {frames.shape}")
    return frames


# ----------------------------------------------------------------------------------------
# Folders of frames and of images


def natural_key(path: str | Path) -> list:
    """Sort key that orders ``img_2.png`` before ``img_10.png`` (digits compare as numbers)."""
    parts = re.split(r"(\d+)", Path(path).name.lower())
    return [int(p) if p.isdigit() else p for p in parts]


def list_images(folder, recursive: bool = False) -> list[Path]:
    """Image files in ``folder`` (and its subfolders if ``recursive``) in natural order."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} does not exist; check the path")
    pattern = "**/*" if recursive else "*"
    files = [p for p in folder.glob(pattern) if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()]
    # order by folder, then naturally by name inside it
    return sorted(files, key=lambda p: ([natural_key(part) for part in p.relative_to(folder).parts[:-1]], natural_key(p)))


def read_image(path) -> np.ndarray:
    """One image as uint8 ``(H, W, 3)``."""
    path = _existing_file(path)
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except OSError as error:
        raise UnreadableImageError(f"cannot read image {path}: {error}; re-save it or remove it") from error


def check_same_size(files: list[Path], folder) -> tuple[int, int]:
    """(width, height) shared by all ``files``; a clear error at the first one that differs.
    Reads only the image headers."""
    sizes = {}
    for f in files:
        try:
            with Image.open(f) as image:
                sizes[f] = image.size
        except OSError as error:
            raise UnreadableImageError(f"cannot read image {f}: {error}; re-save it or remove it") from error
    first = files[0]
    for f, size in sizes.items():
        if size != sizes[first]:
            raise MixedImageSizesError(
                f"images in {folder} differ in size: {first.name} is {sizes[first][0]}x{sizes[first][1]} "
                f"but {f.name} is {size[0]}x{size[1]} (width x height); resize them all to one size "
                f"(or remove the odd ones)")
    return sizes[first]


def check_numbering(files: list[Path], folder) -> None:
    """Raise :class:`MissingFramesError` when frames named alike (``0001.png``, ``img_7.jpg``:
    one pattern, one number each) skip a number: read in order, the video would jump over the
    lost frames as if nothing were missing. Names of other kinds are not checked."""
    patterns = {re.sub(r"\d+(?=\D*$)", "#", f.name) for f in files}
    numbers = [int(m.group(1)) for f in files if (m := re.search(r"(\d+)\D*$", f.name))]
    if len(patterns) != 1 or len(numbers) != len(files) or len(files) < 3:
        return
    steps = np.diff(sorted(numbers))
    step = int(steps.min())
    if step < 1 or (steps == step).all():
        return
    at = int(np.argmax(steps != step))
    ordered = sorted(files, key=lambda f: int(re.search(r"(\d+)\D*$", f.name).group(1)))
    raise MissingFramesError(
        f"frame folder {folder} skips frames: {ordered[at].name} is followed by {ordered[at + 1].name}, its frames "
        f"otherwise {step} apart; read in order, the clip would jump over the missing frames. Extract the frames "
        f"again, or move the frames after the gap to a folder of their own (a video of its own)")


def read_frames_folder(folder, extensions=IMAGE_EXTENSIONS) -> np.ndarray:
    """A video stored as one image per frame, as uint8 ``(T, H, W, 3)``.

    Any sortable file names work (``0001.png``, ``img_2.jpg``, ``frame10.png``): they are put in
    natural order, so ``img_2`` comes before ``img_10``.
    """
    files = [f for f in list_images(folder) if f.suffix.lower() in extensions]
    if not files:
        raise FileNotFoundError(f"frame folder {folder} has no images ({', '.join(extensions)}); "
                                f"put one image per frame in it")
    check_numbering(files, folder)
    check_same_size(files, folder)
    return np.stack([read_image(f) for f in files])


def read_image_folder(folder, size: int | None = None, recursive: bool = True) -> np.ndarray:
    """All images under ``folder`` as uint8 ``(N, H, W, 3)``.

    With ``size``, each image is centre-cropped to a square and resized to ``size`` x ``size``,
    so images of any size mix; without it they must all have one size.
    """
    files = list_images(folder, recursive=recursive)
    if not files:
        raise FileNotFoundError(f"image folder {folder} has no images ({', '.join(IMAGE_EXTENSIONS)})")
    if size is None:
        check_same_size(files, folder)
        return np.stack([read_image(f) for f in files])
    return np.stack([resize(center_square_crop(read_image(f)), size) for f in files])
