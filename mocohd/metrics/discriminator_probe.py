"""What the trained discriminators respond to, one toy-world motion at a time.

The motion generator learns only what its discriminators reward. If the 3D D scores a real
clip with a blink the same as the same clip with the eyes held open, no gradient asks the
generator to blink, however long it trains. The toy world can draw a clip twice, once as
drawn and once with one motion factor held at rest (``make_clips(..., hold=...)``), every
other pixel the same; so for each factor this probe measures

* **effect**: the mean of D(clip as drawn) - D(same clip, factor held at rest) over the
  clips in which that factor moves by more than ``EVENT_RANGE``, with its standard error;
* **pixels**: how much the motion changes the picture, the mean |clip as drawn - clip held|
  over every pixel and frame of those clips;
* next to the **real - fake gap**: mean D(real clips) - mean D(generated clips), the
  difference the discriminator does act on. An effect far below the gap means the
  discriminator hardly looks at that motion.

Scores are the mean logit over every patch and every scale (higher = "more real" under
RaLSGAN). The 3D D sees the whole clip; the image D sees (frame 0, frame k) and is scored at
the frame k where the factor is farthest from rest (the shut eyes of a blink).

Command line (in-domain run checkpoints: the shipped motion files keep no discriminators):
``python -m mocohd.metrics.discriminator_probe runs/ckpt/video_faces/checkpoint.pt``
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from ..data.toyworld import HOLDABLE, make_clips
from ..discriminators import video_input_in_domain
from ..losses import final_maps
from .motion_stats import EVENT_RANGE

# each factor's resting value: eyes open, mouth shut, head straight
RESTING = {"eye_open": 1.0, "mouth_open": 0.0, "yaw": 0.0, "pitch": 0.0}


def mean_logit(outputs) -> torch.Tensor:
    """PatchGAN outputs (one or several scales) -> (B,): the mean logit, averaged over scales."""
    return torch.stack([m.flatten(1).mean(1) for m in final_maps(outputs)]).mean(0)


@torch.no_grad()
def video_scores(d_3d, video: torch.Tensor) -> torch.Tensor:
    """(B, T, C, H, W) -> (B,): the in-domain 3D D's score of each clip."""
    return mean_logit(d_3d(video_input_in_domain(video)))


@torch.no_grad()
def pair_scores(d_img, video: torch.Tensor) -> torch.Tensor:
    """(B, T, C, H, W) -> (B, T-1): the image D's score of (frame 0, frame k) for k = 1..T-1."""
    b, t = video.shape[:2]
    first = video[:, :1].expand(b, t - 1, *video.shape[2:])
    pairs = torch.cat([first, video[:, 1:]], dim=2).flatten(0, 1)  # (B (T-1), 2C, H, W)
    return mean_logit(d_img(pairs)).view(b, t - 1)


def held_clips(domain: str, factor: str, n: int, frames: int, size: int, seed: int) -> tuple:
    """The same ``n`` real clips twice: as drawn, and with ``factor`` held at rest."""
    drawn = make_clips(domain, n, frames=frames, size=size, seed=seed)
    held = make_clips(domain, n, frames=frames, size=size, seed=seed, hold={factor: RESTING[factor]})
    return drawn, held


def _mean_and_error(x: torch.Tensor) -> tuple[float, float]:
    if len(x) == 0:
        return float("nan"), float("nan")
    error = x.std() / len(x) ** 0.5 if len(x) > 1 else torch.tensor(float("nan"))
    return x.mean().item(), error.item()


def factor_effects(score_video, score_pairs, domain: str, n: int = 96, frames: int = 16, size: int = 64,
                   seed: int = 12345) -> dict:
    """{factor: {"clips": moving clips, "pixels": mean |pixel change|, "video": (effect, error),
    "image": (effect, error)}}; pixel values run from -1 to 1.

    ``score_video(video) -> (B,)`` and ``score_pairs(video) -> (B, T-1)`` score real clips;
    either may be None to skip that discriminator."""
    if domain not in HOLDABLE:
        raise ValueError(f"the probe holds one motion factor at rest; {domain!r} has no such factors "
                         f"(use {', '.join(HOLDABLE)})")
    out = {}
    for factor in HOLDABLE[domain]:
        drawn, held = held_clips(domain, factor, n, frames, size, seed)
        i = drawn.motion_names.index(factor)
        path = drawn.motion[..., i]  # (B, T)
        moving = (path.amax(1) - path.amin(1)) > EVENT_RANGE
        # how much of the picture the motion changes: mean |drawn - held| over pixels and frames
        row = {"clips": int(moving.sum()), "pixels": (drawn.video - held.video)[moving].abs().mean().item()}
        if score_video is not None:
            row["video"] = _mean_and_error((score_video(drawn.video) - score_video(held.video))[moving])
        if score_pairs is not None:
            k = (path[:, 1:] - RESTING[factor]).abs().argmax(1)  # the frame farthest from rest, minus 1
            pick = lambda s: s.gather(1, k[:, None])[:, 0]  # noqa: E731
            row["image"] = _mean_and_error((pick(score_pairs(drawn.video)) - pick(score_pairs(held.video)))[moving])
        out[factor] = row
    return out


@torch.no_grad()
def generated_clips(video_generator, n: int, frames: int, size: int, seed: int) -> torch.Tensor:
    """(n, T, 3, size, size): clips of the motion generator, average-pooled to the Ds' size
    as in training."""
    z = torch.randn(n, video_generator.image_generator.style_dim, generator=torch.Generator().manual_seed(seed))
    video = video_generator(z, n_frames=frames, generator=torch.Generator().manual_seed(seed + 1))["video"]
    video = video.float().clamp(-1, 1)
    k = video.shape[-1] // size
    return video if k == 1 else F.avg_pool2d(video.flatten(0, 1), k).unflatten(0, video.shape[:2])


def probe(checkpoint, n: int = 96, seed: int = 12345) -> dict:
    """Every factor's effect on both discriminators of an in-domain run checkpoint, and the
    real - fake gap of each, on ``n`` held-out real clips and ``n`` generated ones."""
    from ..train.video_gan import load_discriminators, load_video_generator

    nets = load_discriminators(checkpoint)
    cfg, d_3d, d_img = nets["config"], nets["d_3d"], nets["d_img"]
    if not cfg.data.startswith("toy:"):
        raise ValueError(f"{checkpoint} was trained on {cfg.data}; the probe needs toy-world clips, whose "
                         "motion factors it can hold at rest (a run with --data toy:faces or toy:animals)")
    domain, frames, size = cfg.data[4:], cfg.frames, nets["d_cfg"].size
    real = make_clips(domain, n, frames=frames, size=size, seed=seed).video
    fake = generated_clips(load_video_generator(checkpoint), n, frames, size, seed)
    score_pairs = lambda v: pair_scores(d_img, v)  # noqa: E731
    score_video = lambda v: video_scores(d_3d, v)  # noqa: E731
    gap = {"video": (score_video(real).mean() - score_video(fake).mean()).item(),
           "image": (score_pairs(real).mean() - score_pairs(fake).mean()).item()}
    return {"checkpoint": str(checkpoint), "step": nets["step"], "clips": n, "seed": seed,
            "real_minus_fake": gap, "factors": factor_effects(score_video, score_pairs, domain, n, frames, size, seed)}


def format_probe(result: dict) -> str:
    lines = [f"{result['checkpoint']} (step {result['step']}, {result['clips']} real clips, seed {result['seed']})"]
    for d, name in (("video", "3D D"), ("image", "image D")):
        lines.append(f"  {name}: real - fake {result['real_minus_fake'][d]:+.4f}; "
                     "clip as drawn - clip with the factor at rest:")
        for factor, row in result["factors"].items():
            effect, error = row[d]
            lines.append(f"    {factor:<11} {effect:+.4f} ± {error:.4f}  ({row['clips']} clips where it moves; "
                         f"mean pixel change {row['pixels']:.4f})")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m mocohd.metrics.discriminator_probe", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoints", nargs="+", help="in-domain video-GAN run checkpoints (RUN/checkpoint.pt)")
    p.add_argument("--clips", type=int, default=96)
    p.add_argument("--seed", type=int, default=12345, help="real clips drawn apart from the training set's")
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    for path in args.checkpoints:
        print(format_probe(probe(path, args.clips, args.seed)))


if __name__ == "__main__":
    main()
