"""Long videos from a trained video generator: unrolling the LSTM, interpolating in W, and two fixes.

MoCoGAN-HD trains its motion generator on 16-frame clips, and then makes longer videos in
two ways (notebook 07 measures both):

* ``unroll``: let the LSTM run on, one residual step per frame, for as many frames as asked
  (the paper's FaceForensics videos);
* ``interpolate``: unroll fewer *keyframes* and insert W midpoints between them, ``levels``
  times: K keyframes give 2K - 1 frames after one level, 4K - 3 after two (16 -> 31 -> 61, the
  paper's AFHQ and VoxCeleb videos). Every 2^levels-th frame is a keyframe, exactly.

Two fixes the paper does not have, both built on what the model does within its 16 training
frames:

* ``clamp``: unroll, but from the training length on keep each w_t within the distance from
  w_0 (in sigma along the PCA directions) that its own path reached in its first 16 frames;
  a step that would leave that ball is scaled back onto it;
* ``return``: walk out along a training-length path and back along it to w_0, then out along
  a fresh one (new LSTM noise) and back, and so on: every frame lies on a path of at most 16
  frames from w_0, and a path played backwards is what the 3D discriminator was taught to
  accept (``temporal_flip``).

Content (z and the StyleGAN noise maps) is drawn from ``seed``, the LSTM's noise from a second
stream (``seed + MOTION_STREAM``), so every method shows the same faces for one seed, and
``unroll`` gives exactly the W path of ``video_generator.motion(w0, frames, that stream)``.

Command line::

    python -m mocohd.generate data/checkpoints/faces_motion.pt --frames 256 --method unroll --out video.mp4 --seed 0
    python -m mocohd.generate CHECKPOINT --frames 128 --method interpolate --levels 2 --out v.gif
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .checkpoint import load_checkpoint
from .data.video_io import write_video
from .motion import MotionGenerator, draw_noise, interpolate_midpoints
from .train.video_gan import FORMAT, video_generator_from
from .video_generator import VideoGenerator
from .viz import video_grid

METHODS = ("unroll", "interpolate", "clamp", "return")
TRAIN_FRAMES = 16  # the official clip length; a checkpoint's config says its own
MOTION_STREAM = 10_007  # the LSTM noise is drawn from seed + this
FORMATS = (".mp4", ".gif")


# --------------------------------------------------------------------------------------
# Checking a request


def _positive_int(name: str, value, least: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{name} must be an int >= {least}, got {value!r}")
    return value


def check_request(frames, method, levels=1, videos=1, seed=0, train_frames=TRAIN_FRAMES) -> None:
    """Raise a ValueError naming the bad argument and what to give instead."""
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 2:
        raise ValueError(f"frames must be an int >= 2 (a video needs two frames to move), got {frames!r}; "
                         "e.g. frames=256")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    _positive_int("levels (midpoint levels of 'interpolate')", levels)
    _positive_int("videos", videos)
    _positive_int("train_frames (the clip length the model was trained on)", train_frames, least=2)
    _positive_int("seed", seed, least=0)


def keyframes_needed(frames: int, levels: int) -> int:
    """The fewest keyframes K with (K - 1) 2^levels + 1 >= frames (levels of midpoints)."""
    return math.ceil((frames - 1) / 2**levels) + 1


# --------------------------------------------------------------------------------------
# Paths in W


def sigma_distance(motion: MotionGenerator, displacement: torch.Tensor) -> torch.Tensor:
    """|w_t - w_0| in sigma along the PCA directions: (..., D) -> (...); the norm of
    :func:`mocohd.motion.pca_coordinates`."""
    return ((displacement @ motion.pca_comp.T) / motion.pca_stdev).norm(dim=-1)


def unroll(motion: MotionGenerator, w0: torch.Tensor, n_frames: int, generator: torch.Generator | None = None,
           clamp_after: int | None = None) -> torch.Tensor:
    """w0 (B, D) -> w (B, T, D): the LSTM's own recurrence, as ``MotionGenerator.forward``
    (the same draws, the same path). ``clamp_after=L``: from frame L on, each w_t is kept
    within the farthest sigma distance from w_0 that the path reached in frames 0..L-1."""
    basis = motion.pca_basis()  # (n_pca, D)
    h, c = motion.enc_cell(w0)
    ws, reach = [w0], w0.new_zeros(w0.shape[0])  # reach: (B,)
    for t in range(1, n_frames):
        h, c = motion.cell(draw_noise(w0, generator), (h, c))
        w = ws[-1] + motion.w_residual * (motion.coefficients(h) @ basis)  # (B, D)
        if clamp_after is not None:
            distance = sigma_distance(motion, w - w0)  # (B,)
            if t < clamp_after:
                reach = torch.maximum(reach, distance)
            else:
                shrink = (reach / distance.clamp_min(1e-12)).clamp(max=1)  # 1 inside the ball
                w = w0 + (w - w0) * shrink[:, None]
        ws.append(w)
    return torch.stack(ws, dim=1)


def interpolated(motion: MotionGenerator, w0: torch.Tensor, frames: int, levels: int,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Unrolled keyframes with ``levels`` levels of W midpoints between them, cut to ``frames``."""
    w = unroll(motion, w0, keyframes_needed(frames, levels), generator)  # (B, K, D)
    for _ in range(levels):
        w = interpolate_midpoints(w)  # (B, 2K - 1, D)
    return w[:, :frames]


def out_and_back(motion: MotionGenerator, w0: torch.Tensor, frames: int, train_frames: int,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Out along a training-length path, back along it to w_0, out along a fresh one, ..."""
    parts = [w0[:, None]]  # (B, 1, D)
    while sum(p.shape[1] for p in parts) < frames:
        spoke = unroll(motion, w0, train_frames, generator)  # (B, L, D), spoke[:, 0] == w0
        parts += [spoke[:, 1:], spoke[:, :-1].flip(1)]  # frames 1..L-1, then L-2..0
    return torch.cat(parts, dim=1)[:, :frames]


def long_path(motion: MotionGenerator, w0: torch.Tensor, frames: int, method: str, generator: torch.Generator,
              levels: int = 1, train_frames: int = TRAIN_FRAMES) -> torch.Tensor:
    """w0 (B, D) -> a W path (B, frames, D) by ``method`` (see the module's docstring)."""
    check_request(frames, method, levels, w0.shape[0], 0, train_frames)
    if method == "unroll":
        return unroll(motion, w0, frames, generator)
    if method == "clamp":
        return unroll(motion, w0, frames, generator, clamp_after=train_frames)
    if method == "interpolate":
        return interpolated(motion, w0, frames, levels, generator)
    return out_and_back(motion, w0, frames, train_frames, generator)


def keyframe_index(frames: int, method: str, levels: int = 1) -> torch.Tensor:
    """Which frames are the LSTM's own outputs (the rest are W midpoints): every frame, or
    every 2^levels-th for ``interpolate``."""
    return torch.arange(0, frames, 2**levels if method == "interpolate" else 1)


# --------------------------------------------------------------------------------------
# Frames


@torch.no_grad()
def render_frames(video_generator: VideoGenerator, w: torch.Tensor, noise, chunk: int = 32,
                  progress: bool = True) -> torch.Tensor:
    """w (B, T, D) -> video (B, T, 3, H, W) in [-1, 1], ``chunk`` frames of every video per G_I
    call, with a progress bar over the frames. ``noise``: per-video maps, or "none"."""
    b, t = w.shape[:2]
    parts = []
    with tqdm(total=b * t, desc="rendering frames", unit="frame", disable=not progress) as bar:
        for start in range(0, t, chunk):
            parts.append(video_generator.render(w[:, start:start + chunk], noise=noise, chunk=b * chunk))
            bar.update(parts[-1].shape[0] * parts[-1].shape[1])
    return torch.cat(parts, dim=1).clamp(-1, 1)


@torch.no_grad()
def long_video(video_generator: VideoGenerator, frames: int, method: str = "unroll", seed: int = 0, videos: int = 1,
               levels: int = 1, train_frames: int = TRAIN_FRAMES, noise: str = "video", chunk: int = 32,
               progress: bool = True, render: bool = True) -> dict:
    """``videos`` long videos of ``frames`` frames from one seed:
    {"video": (B, T, 3, H, W) in [-1, 1] (None with ``render=False``), "w": (B, T, D),
    "keyframes": frame indices drawn by the LSTM, "method", "seconds": {"path", "render"}}."""
    check_request(frames, method, levels, videos, seed, train_frames)
    content = torch.Generator().manual_seed(seed)
    motion_noise = torch.Generator().manual_seed(seed + MOTION_STREAM)
    z = torch.randn(videos, video_generator.image_generator.style_dim, generator=content)
    maps = video_generator.video_noise(videos, content) if noise == "video" else noise
    start = time.perf_counter()
    w0 = video_generator.image_generator.get_latent(z).float()  # (B, D)
    w = long_path(video_generator.motion, w0, frames, method, motion_noise, levels, train_frames)
    path_s = time.perf_counter() - start
    video = render_frames(video_generator, w, maps, chunk, progress) if render else None
    return {"video": video, "w": w, "keyframes": keyframe_index(frames, method, levels), "method": method,
            "seconds": {"path": path_s, "render": time.perf_counter() - start - path_s}}


# --------------------------------------------------------------------------------------
# From a real first frame: invert it into W, then let the motion generator continue it


def invert(image_generator, images: torch.Tensor, steps: int = 300, lr: float = 0.05, progress: bool = False) -> dict:
    """Find, for each image (B, 3, H, W) in [-1, 1], the w whose noise-free rendering is
    closest to it in pixels (mean squared error), by Adam from the centre of W.

    A video model only ever starts from a w it drew itself; to compare its motion with a
    real video's continuation (the sky time-lapse PSNR/SSIM), it has to start from the real
    first frame, so that frame is projected into W first. Returns {"w": (B, D), "image":
    the rendering, "mse": (B,) its error}. ``lr`` is in units of W's per-dimension spread."""
    _positive_int("steps", steps)
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be (B, 3, H, W) in [-1, 1], got {tuple(images.shape)}")
    size = image_generator.size
    target = images.float()
    if target.shape[-1] != size or target.shape[-2] != size:
        raise ValueError(f"images must be {size}x{size}, the image generator's size; got {tuple(target.shape[-2:])}")
    with torch.no_grad():  # W's centre and spread: the search moves in units of that spread
        z = torch.randn(4096, image_generator.style_dim, generator=torch.Generator().manual_seed(0))
        ws = image_generator.get_latent(z.to(image_generator.input.input.device)).float()
        centre, spread = ws.mean(0), ws.std(0)
    target = target.to(centre.device)
    u = torch.zeros(target.shape[0], centre.shape[0], device=centre.device, requires_grad=True)  # w = centre + spread * u
    optimizer = torch.optim.Adam([u], lr=lr)
    for _ in tqdm(range(steps), desc="inverting first frames", disable=not progress):
        loss = (image_generator.synthesize(centre + spread * u, use_noise=False) - target).pow(2).mean(dim=(1, 2, 3))
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()
    with torch.no_grad():
        w = centre + spread * u
        image = image_generator.synthesize(w, use_noise=False).clamp(-1, 1)
        mse = (image - target).pow(2).mean(dim=(1, 2, 3))
    return {"w": w.detach(), "image": image, "mse": mse}


@torch.no_grad()
def continue_from(video_generator: VideoGenerator, first_frames: torch.Tensor, n_frames: int, seed: int = 0,
                  steps: int = 300) -> dict:
    """Videos (B, n_frames, 3, H, W) that start at the inverted real frames and move as the
    motion generator moves them (noise-free rendering, as the inversion). Frame 0 is the
    inversion's rendering. Returns {"video", "w", "inversion_mse"}."""
    with torch.enable_grad():
        inverted = invert(video_generator.image_generator, first_frames, steps=steps)
    w = unroll(video_generator.motion, inverted["w"], n_frames, torch.Generator().manual_seed(seed + MOTION_STREAM))
    video = render_frames(video_generator, w, "none", progress=False)
    return {"video": video, "w": w, "inversion_mse": inverted["mse"]}


def write_long_video(path, video: torch.Tensor, fps: float = 8, scale: int = 1, gif: bool = False) -> list[Path]:
    """Write a video (T, 3, H, W), or several (B, T, 3, H, W) side by side, to ``path`` (.mp4
    through imageio-ffmpeg's ffmpeg, or .gif); ``gif=True`` also writes a GIF beside an mp4.
    ``scale`` enlarges the frames (nearest neighbour). Returns the paths written."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"cannot write {path}: give a file name ending in .mp4 or .gif")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    _positive_int("scale", scale)
    grid = video_grid(video[None] if video.dim() == 4 else video, scale=scale)  # (T, H', W', 3) uint8
    written = [write_video(path, grid, fps=fps)]
    if gif and path.suffix.lower() != ".gif":
        written.append(write_video(path.with_suffix(".gif"), grid, fps=fps))
    return written


# --------------------------------------------------------------------------------------
# Command line: python -m mocohd.generate CHECKPOINT --frames 256 --method unroll --out video.mp4


def load_model(checkpoint, image_generator=None) -> tuple[VideoGenerator, dict]:
    """A video generator from a video-GAN checkpoint (run or shipped), and its config
    (``frames``: the clip length it was trained on; ``data``: its clips)."""
    path = Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}: give a motion checkpoint, e.g. "
                                "data/checkpoints/faces_motion.pt or RUN_FOLDER/checkpoint.pt "
                                "(`make checkpoints` rebuilds the shipped ones)")
    ckpt = load_checkpoint(path, FORMAT)
    return video_generator_from(ckpt, path, image_generator), ckpt["config"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mocohd.generate",
                                description="Write a long video from a trained MoCoGAN-HD motion generator.")
    p.add_argument("checkpoint", help="a video-GAN checkpoint, e.g. data/checkpoints/faces_motion.pt")
    p.add_argument("--frames", type=int, default=256, help="frames to generate (>= 2; default 256)")
    p.add_argument("--method", default="unroll", help=f"one of {', '.join(METHODS)} (default unroll)")
    p.add_argument("--levels", type=int, default=1, help="midpoint levels for --method interpolate (default 1)")
    p.add_argument("--out", required=True, help="the video file to write: .mp4 or .gif")
    p.add_argument("--seed", type=int, default=0, help="draws the content and the motion (default 0)")
    p.add_argument("--videos", type=int, default=1, help="videos side by side in the file (default 1)")
    p.add_argument("--fps", type=float, default=8, help="frames per second of the file (default 8)")
    p.add_argument("--scale", type=int, default=1, help="enlarge frames by this integer factor (default 1)")
    p.add_argument("--gif", action="store_true", help="also write a GIF beside the mp4")
    p.add_argument("--noise", default="video", choices=("video", "none"), help="StyleGAN noise maps (default video)")
    p.add_argument("--threads", type=int, default=None, help="PyTorch threads (default: leave PyTorch's)")
    p.add_argument("--image-generator", default=None, help="the frozen G_I, when it has moved since training")
    return p


def main(argv=None) -> list[Path]:
    p = parser()
    args = p.parse_args(argv)
    if Path(args.out).suffix.lower() not in FORMATS:
        p.error(f"--out {args.out}: give a file name ending in .mp4 or .gif")
    if not args.fps > 0 or args.scale < 1 or (args.threads is not None and args.threads < 1):
        p.error(f"--fps must be > 0, --scale and --threads >= 1 (got {args.fps}, {args.scale}, {args.threads})")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        check_request(args.frames, args.method, args.levels, args.videos, args.seed)
        video_generator, config = load_model(args.checkpoint, args.image_generator)
    except (ValueError, FileNotFoundError) as error:
        p.error(str(error))
    out = long_video(video_generator, args.frames, args.method, args.seed, args.videos, args.levels,
                     train_frames=config.get("frames", TRAIN_FRAMES), noise=args.noise)
    written = write_long_video(args.out, out["video"], fps=args.fps, scale=args.scale, gif=args.gif)
    seconds = sum(out["seconds"].values())
    print(f"{args.frames} frames ({args.method}) in {seconds:.1f} s -> {', '.join(map(str, written))}")
    return written


if __name__ == "__main__":
    main()
