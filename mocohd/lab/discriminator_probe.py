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
* **the gap in three parts** (:func:`gap_parts`): what the motion of real clips is worth,
  what the motion of generated clips costs, and what is left with every clip frozen at its
  first frame (the pictures alone).

Scores are the mean logit over every patch and every scale (higher = "more real" under
RaLSGAN). The 3D D sees the whole clip; the image D sees (frame 0, frame k) and is scored at
the frame k where the factor is farthest from rest (the shut eyes of a blink). Both are scored
in train mode, the function the motion generator was trained against: their InstanceNorm
layers keep running statistics (as the official code's), which only eval mode would use.

Command line (in-domain run checkpoints: the shipped motion files keep no discriminators):
``python -m mocohd.lab.discriminator_probe runs/ckpt/video_faces/checkpoint.pt``; and whether
a fresh 3D D can learn to see a motion when it is the only difference
(:func:`fresh_discriminator_check`):
``python -m mocohd.lab.discriminator_probe --fresh eye_open yaw --steps 1500`` (``--against
no-return``: whether it can tell a blink from eyes that shut and stay shut; ``--steered-run
RUN/checkpoint.pt``: on that run's own G_I-drawn blinks; ``--loss ralsgan``: with the training
loop's own 3D D loss); and, for a
blink-alone run, whether adding a real blink to its own clips would raise their scores
(:func:`blink_reward`): ``python -m mocohd.lab.discriminator_probe --blink-reward RUN/checkpoint.pt``;
and how such a run's 3D D scores its held-out whole blinks against the same clips cut and frozen
(:func:`round_trip_scores`): ``python -m mocohd.lab.discriminator_probe --round-trips RUN/checkpoint.pt``
"""

from __future__ import annotations

import argparse

import torch

from mocohd.lab.round_trips import frozen, held_clips, returning, without_return
from mocohd.data.toyworld import HOLDABLE, RESTING, make_clips
from mocohd.discriminators import image_pair_input, video_input_in_domain
from mocohd.losses import final_maps
from mocohd.metrics.motion_stats import EVENT_RANGE, factor_range
from mocohd.train.cli import check_counts


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
    return torch.stack([mean_logit(d_img(image_pair_input(video, k))) for k in range(1, video.shape[1])], dim=1)


def moving(clips, factor: str) -> torch.Tensor:
    """(B,) bool: the clips in which ``factor`` moves by more than ``EVENT_RANGE``."""
    return factor_range(clips.motion)[:, clips.motion_names.index(factor)] > EVENT_RANGE


def _mean_and_error(x: torch.Tensor) -> tuple[float, float]:
    if len(x) == 0:
        return float("nan"), float("nan")
    error = x.std() / len(x) ** 0.5 if len(x) > 1 else torch.tensor(float("nan"))
    return x.mean().item(), error.item()


def factor_effects(score_video, score_pairs, domain: str, n: int = 96, frames: int = 16, size: int = 64,
                   seed: int = 12345, supersample: int = 1) -> dict:
    """{factor: {"clips": moving clips, "pixels": mean |pixel change|, "video": (effect, error),
    "image": (effect, error)}}; pixel values run from -1 to 1. Clips are drawn as in training
    (``supersample``: see ``make_clips``).

    ``score_video(video) -> (B,)`` and ``score_pairs(video) -> (B, T-1)`` score real clips;
    either may be None to skip that discriminator."""
    if domain not in HOLDABLE:
        raise ValueError(f"the probe holds one motion factor at rest; {domain!r} has no such factors "
                         f"(use {', '.join(HOLDABLE)})")
    # the clips as drawn are the same for every factor: draw and score them once
    drawn = make_clips(domain, n, frames=frames, size=size, seed=seed, supersample=supersample)
    drawn_video = score_video(drawn.video) if score_video is not None else None
    drawn_pairs = score_pairs(drawn.video) if score_pairs is not None else None
    out = {}
    for factor in HOLDABLE[domain]:
        held = make_clips(domain, n, frames=frames, size=size, seed=seed, hold={factor: RESTING[factor]},
                          supersample=supersample)
        moves = moving(drawn, factor)
        if not moves.any():  # a factor these clips never move (faces_big_eyes_blinks: all but the blink)
            continue
        # how much of the picture the motion changes: mean |drawn - held| over pixels and frames
        row = {"clips": int(moves.sum()), "pixels": (drawn.video - held.video)[moves].abs().mean().item()}
        if score_video is not None:
            row["video"] = _mean_and_error((drawn_video - score_video(held.video))[moves])
        if score_pairs is not None:
            path = drawn.motion[..., drawn.motion_names.index(factor)]  # (B, T)
            k = (path[:, 1:] - RESTING[factor]).abs().argmax(1)  # the frame farthest from rest, minus 1
            pick = lambda s: s.gather(1, k[:, None])[:, 0]  # noqa: E731
            row["image"] = _mean_and_error((pick(drawn_pairs) - pick(score_pairs(held.video)))[moves])
        out[factor] = row
    return out


@torch.no_grad()
def generated_clips(video_generator, n: int, frames: int, size: int, seed: int) -> torch.Tensor:
    """(n, T, 3, size, size): clips of the motion generator, average-pooled to the Ds' size
    as in training."""
    from mocohd.train.video_gan import pool_to_size

    z = torch.randn(n, video_generator.image_generator.style_dim, generator=torch.Generator().manual_seed(seed))
    video = video_generator(z, n_frames=frames, generator=torch.Generator().manual_seed(seed + 1))["video"]
    return pool_to_size(video.float().clamp(-1, 1), size)


def gap_parts(score, real: torch.Tensor, fake: torch.Tensor) -> dict:
    """Split mean score(real) - mean score(fake) into three parts that add up to it:

    - ``real_motion``: score(real) - score(real frozen), what real clips' motion earns;
    - ``pictures``: score(real frozen) - score(fake frozen), the gap with no motion at all;
    - ``fake_motion``: score(fake frozen) - score(fake), what the generated motion costs.

    A large ``pictures`` part with small motion parts says the discriminator tells fakes by
    how their frames look, which the motion generator cannot change (G_I draws them).
    ``score`` maps clips (B, T, C, H, W) to (B,) or (B, k) scores."""
    mean = lambda v: score(v).float().mean().item()  # noqa: E731
    real_s, real_still, fake_still, fake_s = mean(real), mean(frozen(real)), mean(frozen(fake)), mean(fake)
    return {"real_motion": real_s - real_still, "pictures": real_still - fake_still, "fake_motion": fake_still - fake_s}


def _load_run(checkpoint) -> dict:
    """An in-domain toy-world run checkpoint's discriminators and video generator, read once
    (a run checkpoint is large), with its domain, the Ds' frame size and the pooling factor."""
    from mocohd.checkpoint import load_checkpoint
    from mocohd.config import from_dict, legacy_video_config
    from mocohd.lab.config import LabVideoGANConfig
    from mocohd.train.video_gan import FORMAT, check_frame_sizes, discriminators_from, video_generator_from

    ckpt = load_checkpoint(checkpoint, FORMAT)
    nets = discriminators_from(ckpt, checkpoint)
    cfg = from_dict(LabVideoGANConfig, legacy_video_config(ckpt["config"]))  # the paper's settings and the lab's (off if absent)
    if not cfg.data.startswith("toy:"):
        raise ValueError(f"{checkpoint} was trained on {cfg.data}; the probe needs toy-world clips, whose "
                         "motion factors it can hold at rest (a run with --data toy:faces or toy:animals)")
    video_generator = video_generator_from(ckpt, checkpoint)
    size = nets["d_cfg"].size
    pool = check_frame_sizes(video_generator.image_generator.size, size)  # real clips pooled as in training
    return {"config": cfg, "step": nets["step"], "d_3d": nets["d_3d"], "d_img": nets["d_img"],
            "video_generator": video_generator, "domain": cfg.data[4:], "size": size, "pool": pool,
            "d_cfg": nets["d_cfg"], "image_generator_sha256": ckpt.get("image_generator_sha256"),
            "checkpoint": str(checkpoint)}


def probe(checkpoint, n: int = 96, seed: int = 12345) -> dict:
    """Every factor's effect on both discriminators of an in-domain run checkpoint, and the
    real - fake gap of each, on ``n`` held-out real clips and ``n`` generated ones (for a
    ``--steered-real`` run, held-out steered clips; the factors' effects on toy clips as ever)."""
    from mocohd.train.video_gan import pool_to_size

    run = _load_run(checkpoint)
    cfg, d_3d, d_img, video_generator = run["config"], run["d_3d"], run["d_img"], run["video_generator"]
    domain, frames, size, k = run["domain"], cfg.frames, run["size"], run["pool"]
    if cfg.steered_real:  # the run's real clips were G_I's own blinks: held-out ones, rendered as the fakes
        from mocohd.lab.steered import steered_clips

        steered = steered_clips(video_generator, n, frames, seed=seed, within_reach=cfg.steered_within_reach)
        real = pool_to_size(steered.float().clamp(-1, 1), size)
    else:
        real = make_clips(domain, n, frames=frames, size=size, seed=seed, supersample=k).video
    fake = generated_clips(video_generator, n, frames, size, seed)
    score_pairs = lambda v: pair_scores(d_img, v)  # noqa: E731
    score_video = lambda v: video_scores(d_3d, v)  # noqa: E731
    parts = {"video": gap_parts(score_video, real, fake), "image": gap_parts(score_pairs, real, fake)}
    gap = {d: sum(part.values()) for d, part in parts.items()}  # the parts add up to mean D(real) - mean D(fake)
    return {"checkpoint": str(checkpoint), "step": run["step"], "clips": n, "seed": seed,
            "real_minus_fake": gap, "gap_parts": parts, "factors": factor_effects(score_video, score_pairs, domain, n, frames, size, seed, k)}


def blink_reward(checkpoint, amplitudes=(0.1, 0.25, 0.5, 1.0), n: int = 32, seed: int = 12345,
                 iterations: int = 20) -> dict:
    """Would the discriminators pay the motion generator for blinking?

    The probe's "real motion" part says what a blink earns on a *real* clip. What the generator
    feels is the score of its own clips, so this adds a real blink to them: ``n`` generated
    clips of a blink-alone run, each given a real toy clip's blink on top of its own latent
    path. At amplitude a, frame t moves a x the real clip's shut share at t towards the point
    that shuts that face's eyes (:func:`mocohd.lab.steered.shut_latents`, the search behind
    the steered real clips); so a = 1 adds the whole blink a steered real clip makes, a = 0
    is the clip as generated, and a < 0 moves the same distance the other way, away from shut.

    Returns {"checkpoint", "step", "clips", "seed", "rows"}; one row per amplitude (0 first):
    the mean change of the 3D D's score and of the image D's (scored at the pair with the eyes
    most shut) against a = 0, with standard errors, the share of clips whose 3D D score rose,
    and the mean |pixel change|. A score that rises from a = 0 on is a slope the generator
    could climb towards blinking; one that falls at small a is a dip it would cross first."""
    from mocohd.lab.steered import blink_path, check_steerable, shut_latents
    from mocohd.train.video_gan import pool_to_size

    run = _load_run(checkpoint)
    check_steerable(run["domain"])
    video_generator, size, frames = run["video_generator"], run["size"], run["config"].frames
    gi = video_generator.image_generator
    # the real blinks to add: clips of the blink-alone world whose eyes do move (only their
    # eye openness is used, so they are drawn small)
    toy = make_clips(run["domain"], 4 * n, frames=frames, size=32, seed=seed)
    eye_open = toy.motion[moving(toy, "eye_open")][:n, :, toy.motion_names.index("eye_open")]  # (n, T)
    if len(eye_open) < n:
        raise ValueError(f"only {len(eye_open)} of {4 * n} toy clips blink; ask for at most {len(eye_open)} clips")
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        w0 = gi.get_latent(torch.randn(n, gi.style_dim, generator=generator)).float()
        w, _, _ = video_generator.motion(w0, frames, generator=generator)  # (n, T, D)
    noise = video_generator.video_noise(n, generator)
    w_shut = shut_latents(video_generator, w0, noise, iterations=iterations)
    blink = blink_path(w0, w_shut, eye_open) - w0[:, None]  # (n, T, D), zero at frame 0
    deepest = (eye_open[:, :1] - eye_open[:, 1:]).argmax(1, keepdim=True)  # pair (0, k) with the eyes most shut
    clips, scores = {}, {}
    for a in sorted({0.0, *amplitudes}):
        with torch.no_grad():
            clips[a] = pool_to_size(video_generator.render(w + a * blink, noise=noise).float().clamp(-1, 1), size)
        scores[a] = {"video": video_scores(run["d_3d"], clips[a]),
                     "image": pair_scores(run["d_img"], clips[a]).gather(1, deepest)[:, 0]}
    rows = []
    for a in clips:
        row = {"amplitude": a, "pixels": (clips[a] - clips[0.0]).abs().mean().item(),
               "rose": (scores[a]["video"] > scores[0.0]["video"]).float().mean().item()}
        for d in ("video", "image"):
            row[d] = _mean_and_error(scores[a][d] - scores[0.0][d])
        rows.append(row)
    return {"checkpoint": str(checkpoint), "step": run["step"], "clips": n, "seed": seed, "rows": rows}


def format_blink_reward(result: dict) -> str:
    lines = [f"{result['checkpoint']} (step {result['step']}): a real blink added to {result['clips']} generated "
             f"clips (seed {result['seed']}), score change against the clips as generated",
             "  amplitude   3D D               clips rising   image D            mean |pixel change|"]
    for row in result["rows"]:
        (v, ve), (i, ie) = row["video"], row["image"]
        lines.append(f"  {row['amplitude']:9.2f}   {v:+.4f} ± {ve:.4f}   {row['rose']:12.2f}   "
                     f"{i:+.4f} ± {ie:.4f}   {row['pixels']:.4f}")
    return "\n".join(lines)


def fresh_discriminator_check(factor: str, domain: str = "faces", preset: str = "full", steps: int = 1500,
                              batch: int = 4, every: int = 250, n_train: int = 256, n_test: int = 96,
                              lr: float = 1e-4, seed: int = 0, size: int | None = None,
                              against: str = "rest", steered_run=None, loss: str = "ls") -> list[dict]:
    """Can a 3D D of this preset see a motion at all, when it is the only difference?

    A fresh in-domain 3D D learns, by least squares, to score real clips as drawn 1 and the same
    clips with ``factor`` held at rest 0 (``batch`` of each per step, Adam as in training).
    With ``against="no-return"`` the other side is instead the same clips without the way back
    (:func:`without_return`), and only clips with a round trip (:func:`returning`) are used:
    can the D tell a blink from eyes that shut and stay shut?
    Every ``every`` steps: the mean training loss since the last row (0.25 = chance), and on
    ``n_test`` held-out clips the effect (as in :func:`factor_effects`) and the share of clips
    whose version as drawn scores higher. Only clips in which the factor moves are used.
    ``size`` draws the clips (and sizes the D) at another resolution than the preset's.

    ``loss`` (:func:`fresh_loss`): least squares on the mean logit ("ls", chance 0.25), or the
    training loop's own 3D D loss ("ralsgan", chance 1.0 for the two scales of a full 3D D),
    with its gradient penalty and temporal flips.

    ``steered_run`` (a ``--steered-real`` run's checkpoint, with ``against="no-return"``): the
    clips are that run's own real clips, G_I's blinks (:func:`steered_training_clips`), the
    first four fifths of its round trips to train on and the rest held out; the D is sized as
    the run's (``preset``, ``size``, ``n_train`` and ``n_test`` are then the run's own)."""
    from mocohd.discriminators import DiscriminatorConfig, build_video_discriminator

    if against not in ("rest", "no-return"):
        raise ValueError(f"against={against!r}: use 'rest' (the factor held at rest) or 'no-return' "
                         "(the clip without the factor's way back)")
    if steered_run is not None:
        if against != "no-return" or factor != "eye_open":
            raise ValueError("steered_run checks G_I's blinks against their own clips without the way back: "
                             "use factor 'eye_open' with against='no-return'")
        run = _load_run(steered_run)
        d_cfg, pairs = run["d_cfg"], steered_round_trips(run)
    else:
        d_cfg = DiscriminatorConfig.preset(preset)
        d_cfg = d_cfg.with_(size=size) if size else d_cfg
        pairs = [toy_pairs(domain, factor, n, d_cfg, pair_seed, against)
                 for n, pair_seed in ((n_train, seed), (n_test, 12345))]
    torch.manual_seed(seed)
    d = build_video_discriminator(d_cfg)
    return train_fresh_video_d(d, *pairs, steps, batch, every, lr, loss)


def toy_pairs(domain: str, factor: str, n: int, d_cfg, seed: int, against: str) -> tuple:
    """Toy clips as drawn and their other side (``factor`` at rest, or without its way back),
    only those in which the factor moves (makes a round trip for "no-return")."""
    if against == "no-return":
        drawn = make_clips(domain, n, frames=d_cfg.frames, size=d_cfg.size, seed=seed)
        keep = returning(drawn, factor)
        return drawn.video[keep], without_return(drawn, factor)[keep]
    drawn, held = held_clips(domain, factor, n, d_cfg.frames, d_cfg.size, seed)
    moves = moving(drawn, factor)
    return drawn.video[moves], held.video[moves]


def steered_training_clips(run: dict):
    """A ``--steered-real`` run's own real clips (``run`` as :func:`_load_run` reads it), as its
    trainer drew them (read from the cache in data/cache, drawn there first if missing), with
    the eye openness each follows: an object with ``video`` (n, T, 3, S, S) at the run's
    discriminator size S, ``motion`` (n, T, 1) and ``motion_names`` ["eye_open"]."""
    from mocohd.lab.steered import SteeredVideoDataset
    from mocohd.checkpoint import sha256

    cfg = run["config"]
    if not cfg.steered_real:
        raise ValueError(f"{run['checkpoint']} did not train on steered clips (--steered-real); give a run that did")
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if cfg.bf16 else None
    sha = run["image_generator_sha256"] or sha256(cfg.image_generator)  # older runs did not record it
    real = SteeredVideoDataset(run["video_generator"], sha, cfg.n_clips, cfg.frames, run["size"],
                               cfg.seed + 777, cfg.bf16, autocast, cfg.chunk,
                               within_reach=cfg.steered_within_reach)  # the trainer's own call
    return real.as_clips()


def steered_round_trips(run: dict) -> list[tuple]:
    """A ``--steered-real`` run's (:func:`_load_run`) steered blinks that make a round trip and
    their versions without the way back, split four fifths to train and one fifth held out:
    [(train, train_cut), (test, test_cut)]."""
    clips = steered_training_clips(run)
    index = returning(clips, "eye_open").nonzero().squeeze(1)
    if len(index) < 5:
        raise ValueError(f"{run['checkpoint']}'s real clips hold {len(index)} whole blinks; the check needs at least 5 "
                         "(a run with more --n-clips or longer clips)")
    cut = without_return(clips, "eye_open")
    split = len(index) * 4 // 5
    return [(clips.video[part], cut[part]) for part in (index[:split], index[split:])]


def round_trip_scores(checkpoint) -> dict:
    """How a ``--steered-real`` run's own 3D D scores its held-out round trips (the fifth that
    :func:`steered_round_trips` holds out): real minus cut (the way back cut out) and real minus
    frozen (frame 0 held), each as {"effect", "error", "ranked_right"}. A D that pays for the
    way back scores real above cut; one that pays for any motion, real above frozen."""
    run = _load_run(checkpoint)
    _, (real, cut) = steered_round_trips(run)
    frozen_clips = frozen(real)
    with torch.no_grad():
        scores = {name: video_scores(run["d_3d"], v) for name, v in
                  (("real", real), ("cut", cut), ("frozen", frozen_clips))}
    result = {"checkpoint": str(checkpoint), "step": run["step"], "clips": len(real)}
    for other in ("cut", "frozen"):
        diff = scores["real"] - scores[other]
        effect, error = _mean_and_error(diff)
        result[f"real_minus_{other}"] = {"effect": effect, "error": error,
                                         "ranked_right": (diff > 0).float().mean().item()}
    return result


def format_round_trip_scores(result: dict) -> str:
    lines = [f"{result['checkpoint']} (step {result['step']}): its 3D D on {result['clips']} held-out round trips"]
    for other in ("cut", "frozen"):
        row = result[f"real_minus_{other}"]
        lines.append(f"  real - {other:6s} {row['effect']:+.4f} ± {row['error']:.4f}  ranked right {row['ranked_right']:.2f}")
    return "\n".join(lines)


FRESH_LOSSES = ("ls", "ralsgan", "ralsgan+gp", "ralsgan+flip", "ralsgan+gp+flip")


def fresh_loss(d, drawn: torch.Tensor, other: torch.Tensor, loss: str, generator: torch.Generator) -> torch.Tensor:
    """The fresh D's loss on a batch of clips as drawn (real) and their other side (fake).

    "ls": least squares on each clip's mean logit, targets 1 and 0. "ralsgan": the training
    loop's 3D D loss (relativistic-average LSGAN on every patch, summed over scales); "+gp" adds
    its gradient penalty (weight 10, between the two sides), "+flip" its temporal flips, drawn
    for each side apart as the trainer's held game draws them."""
    from mocohd.losses import gradient_penalty, ralsgan_d_loss

    real, fake = video_input_in_domain(drawn), video_input_in_domain(other)
    if loss == "ls":
        target = torch.cat([torch.ones(len(drawn)), torch.zeros(len(other))])
        return ((mean_logit(d(torch.cat([real, fake]))) - target) ** 2).mean()

    def flip(x):  # (B, C, T, H, W): reversed in time with p = 0.5
        return x.flip(2) if "flip" in loss and torch.rand((), generator=generator) < 0.5 else x

    value = ralsgan_d_loss(d(flip(real)), d(flip(fake)))
    if "gp" in loss:
        value = value + gradient_penalty(d, real, fake, weight=10.0, alpha=torch.rand(len(real), generator=generator))
    return value


def train_fresh_video_d(d, train: tuple, test: tuple, steps: int, batch: int, every: int, lr: float,
                        loss: str = "ls") -> list[dict]:
    """Train ``d`` to score ``train[0]`` as real and ``train[1]`` as fake (:func:`fresh_loss`);
    every ``every`` steps, a row with the mean loss and the held-out effect and share ranked
    right on ``test``."""
    if loss not in FRESH_LOSSES:
        raise ValueError(f"loss={loss!r}: choose one of {', '.join(FRESH_LOSSES)}")
    (train_drawn, train_other), (test_drawn, test_other) = train, test
    opt = torch.optim.Adam(d.parameters(), lr=lr, betas=(0.5, 0.999))
    generator = torch.Generator().manual_seed(1)
    rows, losses = [], []
    for step in range(1, steps + 1):
        pick = torch.randint(len(train_drawn), (batch,))
        value = fresh_loss(d, train_drawn[pick], train_other[pick], loss, generator)
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()
        losses.append(value.item())
        if step % every == 0 or step == steps:
            diff = video_scores(d, test_drawn) - video_scores(d, test_other)  # train mode, as in training
            effect, error = _mean_and_error(diff)
            rows.append({"step": step, "loss": sum(losses) / len(losses), "effect": effect, "error": error,
                         "ranked_right": (diff > 0).float().mean().item()})
            losses = []
    return rows


def format_probe(result: dict) -> str:
    lines = [f"{result['checkpoint']} (step {result['step']}, {result['clips']} real clips, seed {result['seed']})"]
    for d, name in (("video", "3D D"), ("image", "image D")):
        lines.append(f"  {name}: real - fake {result['real_minus_fake'][d]:+.4f}")
        if "gap_parts" in result:
            part = result["gap_parts"][d]
            lines.append(f"    = real motion {part['real_motion']:+.4f} + pictures (all frozen) "
                         f"{part['pictures']:+.4f} + generated motion {part['fake_motion']:+.4f}")
        lines.append("    clip as drawn - clip with the factor at rest:")
        for factor, row in result["factors"].items():
            effect, error = row[d]
            lines.append(f"      {factor:<11} {effect:+.4f} ± {error:.4f}  ({row['clips']} clips where it moves; "
                         f"mean pixel change {row['pixels']:.4f})")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m mocohd.lab.discriminator_probe", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoints", nargs="*", help="in-domain video-GAN run checkpoints (RUN/checkpoint.pt)")
    p.add_argument("--fresh", nargs="+", metavar="FACTOR", default=[],
                   help="instead: train a fresh 3D D to tell clips with FACTOR from clips with it held at rest")
    p.add_argument("--domain", default="faces", help="--fresh: toy-world domain")
    p.add_argument("--preset", default="full", help="--fresh: discriminator preset")
    p.add_argument("--steps", type=int, default=1500, help="--fresh: training steps")
    p.add_argument("--size", type=int, default=None, help="--fresh: clip size (default: the preset's)")
    p.add_argument("--lr", type=float, default=1e-4, help="--fresh: Adam learning rate (training's 1e-4)")
    p.add_argument("--against", choices=("rest", "no-return"), default="rest",
                   help="--fresh: the other side, the clips with FACTOR held at rest, or the same clips without "
                        "FACTOR's way back (eyes that shut and stay shut: does the D see a round trip?)")
    p.add_argument("--blink-reward", action="store_true",
                   help="instead of the probe: add real blinks to a blink-alone run's generated clips and "
                        "report how the discriminators' scores change (blink_reward)")
    p.add_argument("--round-trips", action="store_true",
                   help="instead of the probe: a --steered-real run's 3D D on its held-out round trips against "
                        "the same clips cut (no way back) and frozen (round_trip_scores)")
    p.add_argument("--amplitudes", type=float, nargs="+", default=[0.1, 0.25, 0.5, 1.0],
                   help="--blink-reward: amplitudes a of the added blink; a negative one moves the eyes the other "
                        "way, away from shut (the sign tells a blink detector from a detector of any eye change)")
    p.add_argument("--clips", type=int, default=96)
    p.add_argument("--loss", choices=FRESH_LOSSES, default="ls",
                   help="--fresh: least squares on the mean logit, or the training loop's 3D D loss (RaLSGAN), "
                        "with its gradient penalty (+gp) and temporal flips (+flip)")
    p.add_argument("--steered-run", default=None, metavar="RUN/checkpoint.pt",
                   help="--fresh eye_open --against no-return: use that --steered-real run's own real clips "
                        "(G_I's blinks) and its discriminator size")
    p.add_argument("--train-clips", type=int, default=256,
                   help="--fresh: clips drawn for training (only those in which FACTOR moves are used)")
    p.add_argument("--seed", type=int, default=12345, help="real clips drawn apart from the training set's")
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    check_counts(p, args, also=("clips",))
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.checkpoints and not args.fresh:
        p.error("give run checkpoints to probe, or --fresh FACTOR")
    for path in args.checkpoints:
        if args.round_trips:
            print(format_round_trip_scores(round_trip_scores(path)), flush=True)
        elif args.blink_reward:
            print(format_blink_reward(blink_reward(path, args.amplitudes, n=args.clips, seed=args.seed)), flush=True)
        else:
            print(format_probe(probe(path, args.clips, args.seed)), flush=True)
    for factor in args.fresh:
        for row in fresh_discriminator_check(factor, args.domain, args.preset, args.steps, lr=args.lr,
                                             size=args.size, n_train=args.train_clips, against=args.against,
                                             steered_run=args.steered_run, loss=args.loss):
            chance = "chance 0.25" if args.loss == "ls" else "RaLSGAN"
            print(f"{factor}: step {row['step']:5d}  loss {row['loss']:.4f} ({chance})  held-out effect "
                  f"{row['effect']:+.4f} ± {row['error']:.4f}  clips ranked right {row['ranked_right']:.2f}", flush=True)


if __name__ == "__main__":
    main()
