"""How much generated motion moves, how diverse it is, and whether content holds still.

The toy world knows, for every real frame, which factors are identity (skin, hair, face
shape, sky colour) and which are motion (eyes, mouth, head turn, cloud drift). The FD_toy
feature network (``toy_features.py``) reads those factors off any frame, real or generated.
That gives three honest numbers for a video generator, each next to the same number on real
toy clips:

* **motion spread**: the standard deviation over time, within a clip, of the motion factors
  (averaged over factors and clips). 0 = frozen videos.
  Beside it, **events**: per motion factor, the share of clips in which it changes by more
  than ``EVENT_RANGE`` (a blink, a word, a turn), which tells many small moves from few clips
  moving at all; the **largest step**: the largest change from one frame to the next,
  which tells a fast blink from a slow drift over the same range; and **round trips**: the
  share of clips in which a factor goes away and comes back by more than ``EVENT_RANGE``,
  which tells a blink (the eyes shut and open again) from a fade (they shut and stay shut).
* **identity drift**: the same for the identity factors. Should stay near the real clips'
  (small, nonzero) value: content must not change while things move.
* **noise diversity**: for one z (one content), several draws of the motion noise e_t; the
  standard deviation *across draws* of the motion factors, frame by frame (frames 1..T-1,
  rendered without StyleGAN noise maps so that only e_t differs). 0 = the LSTM ignores its
  noise and every video of a face does the same thing: the collapse the paper's
  mutual-information loss is meant to prevent.

``noise_spread`` (``mocohd.motion``) is the last one measured in W instead of in frames. The
sky domain has no motion factor (its clouds drift, but "where the clouds are" is not one
number), so its motion numbers are ``None``; **pixel motion**, the mean absolute change
between consecutive frames, is measured for every domain, and so is **late sharpness**: the
high-frequency energy (mean absolute Laplacian) of the last frame over that of the first, 1 on
real clips; below 1 when a generated path drifts into a region of W that G_I renders blurred.
It is a ratio within each generator, so read it beside :func:`frame_detail`'s absolute curve:
the small toy generators' first frames carry more speckle than real frames do.

Command line (the MI ablation, issue 4):
``python -m mocohd.metrics.motion_stats --domain faces data/checkpoints/faces_motion.pt OTHER.pt``;
the poses image generators draw at all, and whether they draw both ends of each (shipped
files or image-GAN run checkpoints):
``python -m mocohd.metrics.motion_stats --domain faces --image-range data/checkpoints/faces_64.pt OTHER.pt``.
(How fast the residual's bound lets each factor change is a lab question: ``mocohd.lab.motion_probes``.)
"""

from __future__ import annotations

import argparse
import json

import torch
import torch.nn.functional as F

from ..data.toyworld import DRAWABLE, make_clips, make_images
from ..motion import noise_spread
from .toy_features import ToyFeatureNet, feature_domain, load_toy_feature_net, video_factors


def is_motion_factor(names: list[str]) -> torch.Tensor:
    """(F,) bool: which factor names are motion factors (``motion:...``)."""
    return torch.tensor([n.startswith("motion:") for n in names])


# A blink, a word, a turn: a motion factor that changes by this much within one clip. Eye
# openness and mouth opening run from 0 to 1 and yaw and pitch from -0.9 to 0.9 in the toy
# world, so 0.3 is a third of a full blink or of a wide-open mouth.
EVENT_RANGE = 0.3
# what factor_spread reports per motion factor, carried through every report and table
PER_FACTOR_KEYS = ("per_factor", "events", "largest_step", "round_trips")


def check_factors(factors: torch.Tensor, names: list[str]) -> None:
    if factors.dim() != 3 or factors.shape[2] != len(names):
        raise ValueError(f"factors must be (B, T, F={len(names)}), got {tuple(factors.shape)}")


def factor_range(factors: torch.Tensor) -> torch.Tensor:
    """(B, T, F) -> (B, F): how far each factor moves within each clip (max - min over time)."""
    return factors.amax(dim=1) - factors.amin(dim=1)


def largest_change(factors: torch.Tensor, k: int = 1) -> torch.Tensor:
    """(B, T, F) -> (B, F): each clip's largest change of each factor between frames k apart
    (k = 1: from one frame to the next); 0 for clips of k frames or fewer."""
    if factors.shape[1] <= k:
        return factors.new_zeros(factors.shape[0], factors.shape[2])
    return (factors[:, k:] - factors[:, :-k]).abs().amax(dim=1)


def round_trip(factors: torch.Tensor) -> torch.Tensor:
    """(B, T, F) -> (B, F): how far each factor goes away and comes back within each clip: at
    frame t, the dip below the lower of the highest values before and after t (eyes that shut
    and open again), or the peak above the higher of the lowest values before and after t (a
    mouth that opens and closes); the largest over t, dips and peaks alike. A factor that only
    drifts one way makes no round trip, however far it goes."""
    def dip(x):  # (B, T, F) -> (B, F): how far below the levels it left and returns to
        highest_before = x.cummax(dim=1).values
        highest_after = x.flip(1).cummax(dim=1).values.flip(1)
        return (torch.minimum(highest_before, highest_after) - x).amax(dim=1)

    return torch.maximum(dip(factors), dip(-factors))


def factor_spread(factors: torch.Tensor, names: list[str]) -> dict:
    """factors (B, T, F) -> {"motion": float, "identity": float, "per_factor": {name: float},
    "events", "largest_step", "round_trips": {motion factor: float}}: the std over
    time within a clip, averaged over clips (and over factors of each kind); ``events``, the
    share of clips in which a motion factor changes by more than ``EVENT_RANGE`` (max - min
    over time). A spread can be small because every clip moves a little or because few clips
    move at all; ``events`` tells which. ``largest_step``: the largest change between two
    consecutive frames, averaged over clips. A blink or a word is fast (the eyes close within
    a frame or two), a slow drift is not, even when both cover the same range. ``round_trips``:
    the share of clips in which it goes away and back by more than ``EVENT_RANGE``
    (:func:`round_trip`): a blink, where a fade that stays is a single ``event``."""
    check_factors(factors, names)
    per = factors.std(dim=1).mean(0)  # (F,)
    moved = (factor_range(factors) > EVENT_RANGE).float().mean(0)  # (F,)
    fastest = largest_change(factors).mean(0)  # (F,)
    returned = (round_trip(factors) > EVENT_RANGE).float().mean(0)  # (F,)
    motion = is_motion_factor(names)
    return {"motion": per[motion].mean().item() if motion.any() else None, "identity": per[~motion].mean().item(),
            "per_factor": {n: round(v, 4) for n, v in zip(names, per.tolist())},
            "events": {n: v for n, v, m in zip(names, moved.tolist(), motion.tolist()) if m},
            "largest_step": {n: v for n, v, m in zip(names, fastest.tolist(), motion.tolist()) if m},
            "round_trips": {n: v for n, v, m in zip(names, returned.tolist(), motion.tolist()) if m}}


def strongest_clips(factors: torch.Tensor, names: list[str]) -> dict:
    """factors (B, T, F) -> {motion factor: (clip index, range, largest step)}: for each motion
    factor, the clip in which it changes most (max - min over time), to look at by eye."""
    check_factors(factors, names)
    ranges, steps = factor_range(factors), largest_change(factors)  # (B, F) each
    out = {}
    for f, (name, moves) in enumerate(zip(names, is_motion_factor(names).tolist())):
        if moves:
            clip = int(ranges[:, f].argmax())
            out[name] = (clip, ranges[clip, f].item(), steps[clip, f].item())
    return out


@torch.no_grad()
def noise_diversity(video_generator, domain: str, n_content: int = 8, n_noise: int = 8, n_frames: int = 16,
                    seed: int = 0, net: ToyFeatureNet | None = None) -> float:
    """Std across motion-noise draws of the motion factors, for a fixed z; averaged over
    frames 1..T-1, motion factors and ``n_content`` z's. Rendered without noise maps.
    None for a domain without motion factors (sky)."""
    net = net or load_toy_feature_net()
    if not is_motion_factor(net.config["factors"][feature_domain(domain)]).any():
        return None
    gen = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(n_content):
        z = torch.randn(1, video_generator.image_generator.style_dim, generator=gen).expand(n_noise, -1)
        video = video_generator(z, n_frames=n_frames, noise="none", generator=gen)["video"].clamp(-1, 1)
        factors, names = video_factors(video, domain, net)  # (n_noise, T, F)
        across = factors[:, 1:].std(dim=0)  # (T-1, F): spread over the noise draws
        values.append(across[:, is_motion_factor(names)].mean())
    return torch.stack(values).mean().item()


def pixel_motion(video: torch.Tensor) -> float:
    """Mean absolute change between consecutive frames, video (B, T, C, H, W) in [-1, 1]."""
    return (video[:, 1:] - video[:, :-1]).abs().mean().item()


def frame_detail(video: torch.Tensor) -> torch.Tensor:
    """(T,) high-frequency energy of each frame: the mean absolute Laplacian over clips,
    channels and pixels, video (B, T, C, H, W). Falls when frames blur."""
    laplacian = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)
    b, t = video.shape[:2]
    edges = F.conv2d(video.flatten(0, 2).unsqueeze(1).float(), laplacian)  # (B*T*C, 1, H-2, W-2)
    return edges.abs().view(b, t, -1).mean(dim=(0, 2))


def late_sharpness(video: torch.Tensor) -> float:
    """The last frame's detail over the first's (:func:`frame_detail`). 1 when detail holds
    over time; < 1 when late frames blur."""
    detail = frame_detail(video[:, [0, -1]])
    if detail[0] == 0:
        raise ValueError("late_sharpness: the first frames are flat (no detail to compare against)")
    return (detail[1] / detail[0]).item()


def real_images(domain: str, n_images: int = 256, seed: int = 0) -> torch.Tensor:
    """``n_images`` real toy images, (n, 3, 64, 64) in [-1, 1] (``make_images`` at seed + 1)."""
    return make_images(domain, n_images, size=64, seed=seed + 1).video[:, 0]


@torch.no_grad()
def drawn_images(image_generator, n_images: int = 256, seed: int = 0) -> torch.Tensor:
    """``n_images`` samples of the image generator (z ~ N(0, I), no truncation), (n, 3, H, W)."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n_images, image_generator.style_dim, generator=gen)
    fake = image_generator.synthesize(image_generator.get_latent(z), noise=image_generator.make_noise(n_images, gen))
    return fake.clamp(-1, 1)


@torch.no_grad()
def image_factors(images: torch.Tensor, domain: str, net: ToyFeatureNet | None = None) -> tuple[torch.Tensor, list[str]]:
    """(factors, names): every factor read off images (n, 3, H, W), (n, F)."""
    factors, names = video_factors(images.unsqueeze(1), domain, net)
    return factors[:, 0], names


def real_image_factors(domain: str, n_images: int = 256, seed: int = 0,
                       net: ToyFeatureNet | None = None) -> tuple[torch.Tensor, list[str]]:
    """(real, names): every factor read off ``n_images`` real toy images, (n_images, F). The
    same for every generator compared at one seed, so read it once."""
    return image_factors(real_images(domain, n_images, seed), domain, net)


def drawn_image_factors(image_generator, domain: str, n_images: int = 256, seed: int = 0,
                        net: ToyFeatureNet | None = None) -> torch.Tensor:
    """Every factor read off ``n_images`` samples of the image generator, (n_images, F)."""
    return image_factors(drawn_images(image_generator, n_images, seed), domain, net)[0]


def extreme_indices(factors: torch.Tensor, names: list[str], factor: str, k: int = 8,
                    lowest: bool = True) -> torch.Tensor:
    """The indices of the k images (rows of factors (n, F)) with the lowest (or highest) value
    of one factor, most extreme first. Look at them before trusting a tail count: the feature
    network reads a blurred or broken face as "eyes half-shut" as readily as a real blink."""
    if factor not in names:
        raise ValueError(f"no factor {factor!r}; the factors are {', '.join(names)}")
    if not 0 < k <= len(factors):
        raise ValueError(f"k must lie in 1..{len(factors)} (the number of images), got {k}")
    return factors[:, names.index(factor)].argsort(descending=not lowest)[:k]


def image_factor_range(image_generator, domain: str, n_images: int = 256, seed: int = 0,
                       net: ToyFeatureNet | None = None) -> dict:
    """{motion factor: (std over real toy images, std over G_I's samples)}: how far apart the
    poses are that the image generator draws at all. A motion generator only walks W, so it
    cannot turn a head further than G_I can draw one turned."""
    real, names = real_image_factors(domain, n_images, seed, net)
    return factor_stds(real, drawn_image_factors(image_generator, domain, n_images, seed, net), names)


def factor_stds(real: torch.Tensor, drawn: torch.Tensor, names: list[str]) -> dict:
    """{motion factor: (std over real, std over drawn)} for factors (n, F) of two image sets."""
    motion = is_motion_factor(names)
    return {n: (real[:, i].std().item(), drawn[:, i].std().item()) for i, n in enumerate(names) if motion[i]}


def tail_shares(real: torch.Tensor, drawn: torch.Tensor, tail: float = 0.05) -> tuple[float, float]:
    """(low, high): the share of ``drawn`` below the ``tail`` quantile of ``real`` and above its
    ``1 - tail`` quantile. A generator that draws the real distribution gives about ``tail``
    at each end; 0 at one end means it never draws that end (a dropped mode: closed eyes)."""
    if not 0 < tail < 0.5:
        raise ValueError(f"tail must lie in (0, 0.5), got {tail!r}; 0.05 compares the 5% ends")
    lo, hi = torch.quantile(real.float(), torch.tensor([tail, 1 - tail]))
    return (drawn < lo).float().mean().item(), (drawn > hi).float().mean().item()


def factor_tails(real: torch.Tensor, drawn: torch.Tensor, names: list[str], tail: float = 0.05) -> dict:
    """{motion factor: (low, high)}: :func:`tail_shares` for factors (n, F) of two image sets,
    e.g. :func:`real_image_factors` and :func:`drawn_image_factors`. A std (:func:`factor_stds`) can
    look fine while one end is missing: a G_I whose samples never shut their eyes offers a
    motion generator no ordinary w to blink through."""
    motion = is_motion_factor(names)
    return {n: tail_shares(real[:, i], drawn[:, i], tail) for i, n in enumerate(names) if motion[i]}


@torch.no_grad()
def real_reference(domain: str, n_clips: int = 32, n_frames: int = 16, seed: int = 0,
                   net: ToyFeatureNet | None = None) -> dict:
    """Motion spread and identity drift of real toy clips, read by the same network."""
    return clip_numbers(make_clips(domain, n_clips, frames=n_frames, size=64, seed=seed).video, domain, net)


def clip_numbers(video: torch.Tensor, domain: str, net: ToyFeatureNet | None = None) -> dict:
    """The numbers of :func:`real_reference` for any clips (B, T, 3, H, W) in [-1, 1], e.g.
    ``--steered-real`` clips (``mocohd.lab.steered``), the real side of that control."""
    factors, names = video_factors(video, domain, net)
    spread = factor_spread(factors, names)
    return {"motion_spread": spread["motion"], "identity_drift": spread["identity"],
            "pixel_motion": pixel_motion(video), "late_sharpness": late_sharpness(video),
            **{key: spread[key] for key in PER_FACTOR_KEYS}}


@torch.no_grad()
def motion_report(video_generator, domain: str, n_videos: int = 32, n_frames: int = 16, seed: int = 0,
                  net: ToyFeatureNet | None = None, n_content: int = 8) -> dict:
    """All the numbers above for one video generator (random z, one noise map per video);
    ``n_content``: the z's (each with as many motion noises) behind the noise diversity."""
    net = net or load_toy_feature_net()
    video_generator.eval()
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n_videos, video_generator.image_generator.style_dim, generator=gen)
    out = video_generator(z, n_frames=n_frames, generator=gen)
    video = out["video"].clamp(-1, 1)
    factors, names = video_factors(video, domain, net)
    spread = factor_spread(factors, names)
    w0 = out["w"][:8, 0]
    return {"motion_spread": spread["motion"], "identity_drift": spread["identity"], "pixel_motion": pixel_motion(video),
            "late_sharpness": late_sharpness(video),
            "noise_diversity": noise_diversity(video_generator, domain, n_content, n_content, n_frames=n_frames,
                                               seed=seed + 1, net=net),
            "noise_spread_w": noise_spread(video_generator.motion, w0, n_frames=n_frames,
                                           generator=torch.Generator().manual_seed(seed + 2)),
            **{key: spread[key] for key in PER_FACTOR_KEYS}}


KEYS = ("motion_spread", "identity_drift", "pixel_motion", "late_sharpness", "noise_diversity", "noise_spread_w")


def compare(checkpoints: dict, domain: str, n_videos: int = 32, seed: int = 0, repeats: int = 1,
            n_content: int = 8) -> dict:
    """{label: motion-generator file} -> {label: numbers}, with the real toy clips first.

    With ``repeats`` > 1 every number is measured on ``repeats`` independent draws of z and
    noise (seeds ``seed``, ``seed + 10``, ...) and reported as their mean, with the standard
    deviation in ``<key>_sd``: the measurement's own sampling error, to hold differences
    between two generators against. ``per_factor`` holds each motion factor's spread and
    ``events`` the share of clips in which it changes by more than ``EVENT_RANGE`` (means
    over the repeats)."""
    from ..train.video_gan import load_video_generator

    net = load_toy_feature_net()
    seeds = [seed + 10 * r for r in range(repeats)]
    measured = {"real toy clips": [real_reference(domain, n_videos, seed=s + 5, net=net) for s in seeds]}
    for label, path in checkpoints.items():
        vg = load_video_generator(path)
        measured[label] = [motion_report(vg, domain, n_videos, seed=s, net=net, n_content=n_content) for s in seeds]
    rows = {}
    for label, reports in measured.items():
        values = {k: torch.tensor([r[k] for r in reports]) for k in KEYS if reports[0].get(k) is not None}
        rows[label] = {k: v.mean().item() for k, v in values.items()}
        if repeats > 1:
            rows[label].update({f"{k}_sd": v.std().item() for k, v in values.items()})
        names = list(reports[0]["per_factor"])
        motion = [n for n, moves in zip(names, is_motion_factor(names).tolist()) if moves]
        if motion:
            for key in PER_FACTOR_KEYS:
                rows[label][key] = {n: sum(r[key][n] for r in reports) / len(reports) for n in motion}
    return rows


def format_table(rows: dict) -> str:
    """The rows of :func:`compare` as a text table (mean +- sd when there were repeats); rows of
    :func:`motion_report` or :func:`clip_numbers` work too."""
    def cell(row, k):
        if row.get(k) is None:
            return f"{'-':>19s}"
        return f"{row[k]:.4f} ± {row[k + '_sd']:.4f}".rjust(19) if k + "_sd" in row else f"{row[k]:19.4f}"

    lines = [f"{'':30s}" + "".join(f"{k:>19s}" for k in KEYS)]
    lines += [f"{name[-30:]:30s}" + "".join(cell(row, k) for k in KEYS) for name, row in rows.items()]
    with_factors = {name: row for name, row in rows.items() if row.get("per_factor")}
    names = list(next(iter(with_factors.values()), {}).get("per_factor", ()))
    factors = [n for n, moves in zip(names, is_motion_factor(names).tolist()) if moves] if names else None

    def factor_block(title, key, fmt):  # one column per motion factor, one row per generator
        return (["", f"{title:30s}" + "".join(f"{n.split(':', 1)[1]:>19s}" for n in factors)]
                + [f"{name[-30:]:30s}" + "".join(f"{row[key][n]:{fmt}}" for n in factors)
                   for name, row in with_factors.items()])

    if factors:  # each motion factor's spread over time, the toy world's blinks, talking, head turns
        lines += factor_block("per motion factor", "per_factor", "19.4f")
        if all("events" in row for row in with_factors.values()):  # rows saved before events existed lack them
            lines += factor_block(f"clips changing > {EVENT_RANGE}", "events", "19.2f")
        if all("largest_step" in row for row in with_factors.values()):
            lines += factor_block("largest frame-to-frame step", "largest_step", "19.3f")
        if all("round_trips" in row for row in with_factors.values()):
            lines += factor_block(f"clips going > {EVENT_RANGE} and back", "round_trips", "19.2f")
    return "\n".join(lines)


def format_image_ranges(ranges: dict) -> str:
    """{label: image_factor_range(...)} as a table: real images first, then each generator."""
    first = next(iter(ranges.values()))  # every generator is compared with the same real images
    factors = list(first)
    lines = [f"{'std across images':40s}" + "".join(f"{n.split(':', 1)[1]:>13s}" for n in factors)]
    lines.append(f"{'real toy images':40s}" + "".join(f"{first[n][0]:13.3f}" for n in factors))
    lines += [f"{label[-40:]:40s}" + "".join(f"{r[n][1]:13.3f}" for n in factors) for label, r in ranges.items()]
    return "\n".join(lines)


def format_image_tails(tails: dict, tail: float = 0.05) -> str:
    """{label: factor_tails(...)} as a table of "low / high" shares, one row per generator,
    under the row a generator that draws real images' distribution would give."""
    factors = list(next(iter(tails.values())))

    def row(label, pairs):
        return f"{label[-40:]:40s}" + "".join(f"{f'{lo:.3f} / {hi:.3f}':>15s}" for lo, hi in pairs)

    lines = [f"{f'share beyond the real {tail:.0%} ends':40s}" + "".join(f"{n.split(':', 1)[1]:>15s}" for n in factors)]
    lines.append(row("as real images (expected)", [(tail, tail)] * len(factors)))
    lines += [row(label, [t[n] for n in factors]) for label, t in tails.items()]
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m mocohd.metrics.motion_stats", description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="+", help="motion-generator files (shipped exports or run checkpoints); "
                                                  "with --image-range, image-generator files")
    p.add_argument("--image-range", action="store_true",
                   help="the files are image generators: the spread of each motion factor over their samples, "
                        "and the share of them beyond the real images' 5%% ends (a dropped mode reads 0)")
    p.add_argument("--images", type=int, default=256, help="--image-range: samples per generator and real images")
    p.add_argument("--domain", required=True, choices=DRAWABLE)
    p.add_argument("--videos", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=1, help="independent draws per number (reports mean ± sd)")
    p.add_argument("--json", help="also write the numbers here")
    args = p.parse_args(argv)
    for name in ("images", "videos", "repeats"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    if args.image_range:
        from ..train.video_gan import load_image_generator

        net = load_toy_feature_net()
        real, names = real_image_factors(args.domain, args.images, args.seed, net)
        drawn = {path: drawn_image_factors(load_image_generator(path), args.domain, args.images, args.seed, net)
                 for path in args.checkpoints}
        ranges = {path: factor_stds(real, f, names) for path, f in drawn.items()}
        tails = {path: factor_tails(real, f, names) for path, f in drawn.items()}
        print(format_image_ranges(ranges))
        print()
        print(format_image_tails(tails))
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"std": ranges, "tails_5pct": tails}, f, indent=2)
        return
    rows = compare({path: path for path in args.checkpoints}, args.domain, args.videos, args.seed, args.repeats)
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
