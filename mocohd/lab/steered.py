"""Real blinks, drawn by the image generator itself: the "perfect pictures" control.

Every motion generator trained here on toy faces tells us the same thing through the probe
(``mocohd.lab.discriminator_probe``): the discriminators tell fakes from real clips by
their *pictures*, which only G_I decides, and feel almost nothing of the motion. The paper's
title says the cure: a good enough image generator. This module builds the limit of that
cure for the blink-alone world, where one can: real clips whose every frame G_I drew.

For each clip, a face w_0 is drawn from G_I exactly as the video generator draws its first
frame (same mapping network, same per-video noise maps). A search in the motion generator's
own residual set (``w_0 + k * lambda * tanh(u) @ basis``, the set k LSTM steps can reach)
finds the point that shuts that face's eyes while changing the rest of the picture as
little as it can (:func:`shut_latents`). The real toy clip's eye openness o_t in [0, 1]
then moves the face along the straight line from w_0 to that point: the blink keeps the
real clip's timing, shape and there-and-back, and the first frame is w_0's own. So real and
generated clips share their pictures frame for frame in distribution, and only their motion
can tell them apart: the question the loop is meant to answer.

Only toy clips that start with open eyes are used (:func:`open_eyed_blinks`, construction
version 2). The path measures the eyes relative to frame 0, the face w_0 as G_I drew it, so
a clip that starts mid-blink is drawn by opening the eyes *past* w_0, and they stay that way
for the rest of the clip: a one-way, lasting change. Version 1 kept those clips, a third of
them, and their "opening" outweighed the blinks (mean shut share -0.26 away from shut
against +0.15 towards it, over all frames of the 1,000 training clips): the image
discriminator of the run trained on them paid more for moving the eyes away from shut than
for a blink.

It is a control, not the paper: real data do not come from G_I. Use it as
``python -m mocohd.lab.trainer --data toy:faces_big_eyes_blinks --steered-real true ...``.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import os
from pathlib import Path

import torch

from mocohd.data import toyworld
from mocohd.data.toyworld import make_clips

STEERABLE = ("faces_big_eyes_blinks",)  # worlds whose only motion is the blink
VERSION = 2  # bump when the construction changes, so stale caches are not reused (2: open-eyed starts only)
OPEN_AT = 0.95  # a clip starts with open eyes when its first frame's eye openness is at least this


def check_steerable(domain: str) -> None:
    if domain not in STEERABLE:
        raise ValueError(f"steered real clips move only the eyes, so they need a world whose only motion is the "
                         f"blink: --data toy:{STEERABLE[0]} (not toy:{domain}); leave --steered-real out otherwise")


def shut_latents(video_generator, w0: torch.Tensor, noise: list, steps: int = 3, iterations: int = 20,
                 outside_weight: float = 10.0, net=None) -> torch.Tensor:
    """For each face w0 (B, D), the point of the ``steps``-step residual set that shuts its eyes
    (as the toy feature network reads them) while paying ``outside_weight`` x the mean |change|
    outside the band where real blinks happen. Returns latents (B, D)."""
    from mocohd.lab.motion_probes import blink_region, residual_search
    from mocohd.metrics.toy_features import load_toy_feature_net

    net = net or load_toy_feature_net()
    eye = list(net.config["factors"]["faces"]).index("motion:eye_open")
    rows = len(w0)
    *_, w_shut = residual_search(video_generator, STEERABLE[0], net, w0, noise, torch.full((rows,), eye),
                                 torch.full((rows,), -1.0), steps, iterations,
                                 blink_region(size=video_generator.image_generator.size), outside_weight)
    return w_shut


def blink_path(w0: torch.Tensor, w_shut: torch.Tensor, eye_open: torch.Tensor) -> torch.Tensor:
    """Latents (B, T, D) that follow a real clip's eye openness (B, T) in [0, 1]: the eyes shut by
    the share they shut in the real clip, relative to its first frame, so frame 0 is w0 itself.
    (A clip that starts mid-blink opens past w0, away from w_shut, as its real eyes open past
    frame 0; by at most the whole way to w_shut.)"""
    return w0[:, None] + shut_shares(eye_open)[..., None] * (w_shut - w0)[:, None]


def follow_within_reach(w: torch.Tensor, motion) -> torch.Tensor:
    """Latent paths (B, T, D) as a walker follows them that moves as the motion generator can:
    at most one residual step per frame, lambda * sigma_k along each principal direction k.
    Each frame steps from the walker's last frame straight towards the path's frame, scaled
    down (direction kept) when a coordinate would move further than one step. Frame 0 and
    every frame a walker can keep up with are unchanged.

    Why: a steered blink closes as fast as its toy clip, within one or two frames, while its
    shut point lies up to three steps away (:func:`shut_latents`), so most steered blinks move
    some coordinate 1.5 to 2 steps in one frame, faster than any motion generator can follow.
    Followed within reach, the blink keeps its shape and round trip, a frame or two slower."""
    frames = [w[:, 0]]
    for t in range(1, w.shape[1]):
        delta = w[:, t] - frames[-1]
        frames.append(frames[-1] + delta / residual_steps(delta, motion).clamp(min=1.0)[..., None])
    return torch.stack(frames, dim=1)


def residual_steps(delta: torch.Tensor, motion) -> torch.Tensor:
    """How many of the motion generator's residual steps a move ``delta`` (..., D) in W takes:
    its largest coordinate along the principal directions, in units of lambda * sigma_k
    (assumes the move lies in their span, as every path of a motion generator does)."""
    return ((delta @ motion.pca_comp.T) / motion.pca_stdev).abs().amax(-1) / motion.w_residual


def frame_steps(w: torch.Tensor, motion) -> torch.Tensor:
    """Latent paths (B, T, D) -> (B, T-1): the residual steps each frame's move takes; a motion
    generator can follow a path only where every entry is at most 1."""
    return residual_steps(w[:, 1:] - w[:, :-1], motion)


def shut_shares(eye_open: torch.Tensor) -> torch.Tensor:
    """(B, T) eye openness -> (B, T): where :func:`blink_path` puts each frame on the line from
    w_0 (0) to w_shut (1); negative values open the eyes past the face G_I drew."""
    start = eye_open[:, :1]
    return ((start - eye_open) / start.clamp(min=0.2)).clamp(-1.0, 1.0)  # 0: as at frame 0; 1: shut


def share_summary(eye_open: torch.Tensor, far: float = 0.3) -> dict:
    """How the steered clips that follow ``eye_open`` (B, T) move: the share of clips that start
    mid-blink, the mean share towards shut and away from it over all frames, and the share of
    frames more than ``far`` of the way each way."""
    share = shut_shares(eye_open)
    return {"start mid-blink": (eye_open[:, 0] < OPEN_AT).float().mean().item(),
            "mean towards shut": share.clamp(min=0).mean().item(),
            "mean away from shut": -share.clamp(max=0).mean().item(),
            f"frames > {far} towards shut": (share > far).float().mean().item(),
            f"frames > {far} away from shut": (share < -far).float().mean().item()}


def open_eyed_toy_clips(n: int, frames: int = 16, seed: int = 0, size: int = 32,
                        open_at: float = OPEN_AT) -> toyworld.ToyClips:
    """The first ``n`` toy blink-alone clips (drawn with ``seed``, in draws of ``2 n`` clips, then
    seed + 1, ...) whose first frame has its eyes open (eye openness at least ``open_at``): the
    clips a path that starts at G_I's face can follow without opening the eyes past it. The
    toy world draws the same motion at any ``size``."""
    parts, found = [], 0
    for draw in range(20):
        toy = make_clips(STEERABLE[0], 2 * n, frames=frames, size=size, seed=seed + draw)
        keep = toy.motion[:, 0, toy.motion_names.index("eye_open")] >= open_at
        parts.append(dataclasses.replace(toy, video=toy.video[keep], identity=toy.identity[keep],
                                         motion=toy.motion[keep], label=toy.label[keep]))
        found += int(keep.sum())
        if found >= n:
            first = lambda name: torch.cat([getattr(part, name) for part in parts])[:n]  # noqa: E731
            return dataclasses.replace(parts[0], **{name: first(name) for name in ("video", "identity", "motion", "label")})
    raise ValueError(f"found {found} toy clips starting with eye openness >= {open_at} in 20 draws, fewer than "
                     f"{n}; lower open_at")


def open_eyed_blinks(n: int, frames: int = 16, seed: int = 0, open_at: float = OPEN_AT) -> torch.Tensor:
    """The eye openness (n, frames) of :func:`open_eyed_toy_clips`."""
    toy = open_eyed_toy_clips(n, frames, seed, open_at=open_at)
    return toy.motion[:, :, toy.motion_names.index("eye_open")]


def steered_clips(video_generator, n: int, frames: int = 16, seed: int = 0, steps: int = 3, iterations: int = 20,
                  batch: int = 32, autocast=None, chunk: int = 32, progress: bool = False,
                  within_reach: bool = False) -> torch.Tensor:
    """``n`` real blink-alone clips drawn by G_I, following toy clips that start with open eyes
    (:func:`open_eyed_blinks`): (n, frames, 3, S, S) at G_I's size S, rendered
    as the trainer renders its fakes (``autocast``, e.g. the trainer's bf16 context, and no clamp),
    so that no rounding or range gives either side away. ``within_reach``: each path as
    :func:`follow_within_reach` follows it, at most one residual step per frame."""
    from contextlib import nullcontext

    from tqdm.auto import tqdm

    videos = []
    for w, noise in tqdm(steered_path_batches(video_generator, n, frames, seed, steps, iterations, batch, within_reach),
                         total=-(-n // batch), desc="steering real blinks", disable=not progress):
        with torch.no_grad(), (autocast or nullcontext()):
            videos.append(video_generator.render(w, noise=noise, chunk=chunk))
    return torch.cat(videos)


def steered_path_batches(video_generator, n: int, frames: int = 16, seed: int = 0, steps: int = 3,
                         iterations: int = 20, batch: int = 32, within_reach: bool = False):
    """The latent paths of :func:`steered_clips`, ``batch`` clips at a time: yields (w (b, frames,
    D), noise maps) for each batch, the paths G_I renders into the steered clips."""
    from mocohd.lab.motion_probes import draw_faces

    gi = video_generator.image_generator
    eye_open = open_eyed_blinks(n, frames, seed)
    generator = torch.Generator().manual_seed(seed + 1)
    for lo in range(0, n, batch):
        rows = slice(lo, min(lo + batch, n))
        w0, noise = draw_faces(gi, len(eye_open[rows]), generator)
        w_shut = shut_latents(video_generator, w0, noise, steps, iterations)
        w = blink_path(w0, w_shut, eye_open[rows])
        yield (follow_within_reach(w, video_generator.motion) if within_reach else w), noise


def shut_move_transfer(video_generator, n: int = 32, frames: int = 16, seed: int = 0, shifts=(1, 5, 11)) -> dict:
    """Is "shut the eyes" one direction in W, or one per face? For ``n`` steered blinks (drawn
    as :func:`steered_path_batches` draws them), each face's own shut move (w_0 to the path's
    farthest frame) against another face's (the moves rolled by each of ``shifts``) and the
    mean move, each added to the face and read by the feature network. Returns the mean eye
    reading {"face", "own move", "another face's move (roll k)"..., "mean move"}.

    The motion generator's step is a function of its state, which one encoder step computes
    from w_0: if every face's eyes shut along one direction, a constant step would blink them
    all; if each face needs its own, the LSTM has to learn the map from face to direction."""
    from mocohd.metrics.toy_features import load_toy_feature_net, video_factors

    w, noise = next(iter(steered_path_batches(video_generator, n, frames, seed, batch=n)))  # (searches with grad)
    farthest = (w - w[:, :1]).norm(dim=2).argmax(1)
    w0, move = w[:, 0], w[torch.arange(n), farthest] - w[:, 0]
    net = load_toy_feature_net()

    def eyes(latents):
        with torch.no_grad():
            video = video_generator.render(latents[:, None], noise=noise)
        factors, names = video_factors(video.float().clamp(-1, 1), STEERABLE[0], net)
        return factors[:, 0, names.index("motion:eye_open")].mean().item()

    readings = {"face": eyes(w0), "own move": eyes(w0 + move)}
    for k in dict.fromkeys(k % n for k in shifts if k % n):  # distinct pairings, none a face with itself
        readings[f"another face's move (roll {k})"] = eyes(w0 + move.roll(k, 0))
    readings["mean move"] = eyes(w0 + move.mean(0))
    return readings


def cache_key(image_generator_sha256: str, n: int, frames: int, seed: int, steps: int, bf16: bool,
              within_reach: bool = False) -> str:
    text = f"v{VERSION}-{image_generator_sha256}-n{n}-T{frames}-s{seed}-k{steps}-bf16{int(bf16)}"
    text += "-within-reach" if within_reach else ""  # (the other clips keep the keys they always had)
    return "steered-" + hashlib.sha256(text.encode()).hexdigest()[:16]


class SteeredVideoDataset(torch.utils.data.Dataset):
    """:func:`steered_clips` as a dataset of {"video": (T, 3, S, S), "label": 0}, average-pooled to
    ``size`` as the fakes are, kept in memory and cached under ``cache_dir`` (default data/cache)."""

    def __init__(self, video_generator, image_generator_sha256: str, n: int, frames: int, size: int, seed: int,
                 bf16: bool, autocast=None, chunk: int = 32, steps: int = 3, cache_dir: str | Path | None = None,
                 within_reach: bool = False):
        from mocohd.train.video_gan import pool_to_size

        key = cache_key(image_generator_sha256, n, frames, seed, steps, bf16, within_reach)
        path = Path(cache_dir or toyworld.DEFAULT_CACHE) / f"{key}.pt"
        if path.exists():
            from mocohd.checkpoint import torch_load  # refuses a cache file that holds pickled objects

            video = torch_load(path)
        else:
            video = steered_clips(video_generator, n, frames, seed, steps, autocast=autocast, chunk=chunk,
                                  progress=True, within_reach=within_reach)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            torch.save(video, tmp)
            os.replace(tmp, path)  # atomic: a killed run leaves no half-written cache
        self.video = pool_to_size(video.float(), size)
        self.n, self.frames, self.seed = n, frames, seed

    def as_clips(self):
        """The clips with the eye openness each follows (:func:`open_eyed_blinks`): an object with
        ``video`` (n, T, 3, S, S), ``motion`` (n, T, 1) and ``motion_names`` ["eye_open"].
        For clips drawn ``within_reach`` it is the toy clip's own timing, which the slowed blink
        follows a frame or two late: its deepest frame by this timing is still closing, so a
        blink cut there (:meth:`without_return`) stays part-shut rather than shut."""
        from types import SimpleNamespace

        eyes = open_eyed_blinks(self.n, self.frames, seed=self.seed)
        return SimpleNamespace(video=self.video, motion=eyes[:, :, None], motion_names=["eye_open"])

    def without_return(self) -> "SteeredVideoDataset":
        """The same clips, index for index, each made to fail by its motion alone: a whole blink
        loses its way back (the eyes shut and stay shut), any other clip is frozen at its first
        frame (:func:`mocohd.lab.round_trips.cut_or_frozen`); ``--cut-fakes``."""
        from mocohd.lab.round_trips import cut_or_frozen

        cut = copy.copy(self)
        cut.video = cut_or_frozen(self.as_clips(), "eye_open")
        return cut

    def __len__(self) -> int:
        return len(self.video)

    def __getitem__(self, i: int) -> dict:
        return {"video": self.video[i], "label": torch.tensor(0)}
