"""Measuring cross-domain synthesis on the toy world (notebook 06).

In cross-domain training the content comes from an image generator trained on images only
(toy animals) and the motion from videos of another domain (toy faces), which only the 3D
discriminator sees. Two questions, each answered with numbers the toy world can check:

* **Does each animal stay itself?** Identity drift: the toy feature network reads the
  identity factors (fur colours, eye colour, head size, background) off every frame, and
  the drift is their standard deviation over time, averaged over factors and clips
  (``mocohd.metrics.motion_stats.factor_spread``). Real clips set the floor: their identity
  factors never move, so what remains is the network's reading noise.
* **Does the 3D discriminator judge motion, or content?** The toy world draws faces and
  animals from one seed with the *same* motion (and the same backgrounds): the same blink,
  word, turn and nod under two different heads. A 3D D that judged motion alone would score
  a real face clip and the animal clip with its motion alike; a gap between the two is the
  content it learned to tell apart (the official repository's first issue).
"""

from __future__ import annotations

import statistics
from pathlib import Path

import torch

from mocohd.checkpoint import load_checkpoint
from mocohd.config import VideoGANConfig, from_dict, legacy_video_config
from mocohd.data.toyworld import make_clips
from mocohd.discriminators import build_video_discriminator, video_input_cross_domain
from mocohd.metrics.motion_stats import clip_numbers
from mocohd.metrics.toy_features import ToyFeatureNet, load_toy_feature_net
from mocohd.train.video_gan import (FORMAT, discriminator_config, load_video_generator, pool_to_size,
                                    video_generator_from)


@torch.no_grad()
def generated_clips(video_generator, n_videos: int = 32, n_frames: int = 16, seed: int = 0) -> torch.Tensor:
    """(n, T, 3, H, W) in [-1, 1]: random z's and motion noise from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n_videos, video_generator.image_generator.style_dim, generator=gen)
    return video_generator.eval()(z, n_frames=n_frames, generator=gen)["video"].float().clamp(-1, 1)


def consistency(video: torch.Tensor, domain: str, net: ToyFeatureNet | None = None) -> dict:
    """Identity drift, motion spread and their ratio for clips, read as ``domain``'s factors."""
    numbers = clip_numbers(video, domain, net)
    drift, motion = numbers["identity_drift"], numbers["motion_spread"]
    # a still video drifts not at all: per unit of motion is the fair comparison
    return {"identity_drift": drift, "motion_spread": motion, "drift_per_motion": drift / max(motion, 1e-8)}


def mean_sd(values: list[float]) -> dict:
    return {"values": [round(v, 5) for v in values], "mean": statistics.fmean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else 0.0}


KEYS = ("identity_drift", "motion_spread", "drift_per_motion")


def consistency_table(arms: dict[str, tuple[str, list]], real_domains=("animals", "faces"), n_videos: int = 32,
                      n_frames: int = 16, seed: int = 0, n_real_seeds: int = 3,
                      net: ToyFeatureNet | None = None) -> dict:
    """{label: (domain, [checkpoint, ...] one per training seed)} -> {label: {"identity_drift":
    mean_sd, "motion_spread": mean_sd}}, each generator read as its content's domain with the
    same z's; then a row of real clips per ``real_domains`` (``n_real_seeds`` draws) for the
    floor: real identity factors never move, so their drift is the reading noise."""
    net = net or load_toy_feature_net()
    table = {}
    for label, (domain, checkpoints) in arms.items():
        rows = [consistency(generated_clips(load_video_generator(c), n_videos, n_frames, seed), domain, net)
                for c in checkpoints]
        table[label] = {k: mean_sd([r[k] for r in rows]) for k in KEYS}
    for real in real_domains:
        rows = [consistency(make_clips(real, n_videos, n_frames, 64, seed=1000 + s).video, real, net)
                for s in range(n_real_seeds)]
        table[f"real toy {real} clips"] = {k: mean_sd([r[k] for r in rows]) for k in KEYS}
    return table


def format_consistency(table: dict) -> str:
    lines = [f"{'':34s} {'identity drift':>18s} {'motion spread':>18s} {'drift per motion':>18s}   n"]
    for label, row in table.items():
        cells = [f"{row[k]['mean']:.4f} ± {row[k]['sd']:.4f}" for k in KEYS]
        lines.append(f"{label:34s} {cells[0]:>18s} {cells[1]:>18s} {cells[2]:>18s}   "
                     f"{len(row['identity_drift']['values'])}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# What the 3D discriminator judges


def load_cross_domain_video_d(run_checkpoint: str | Path) -> dict:
    """A cross-domain run's trained 3D D (frozen, left in train mode as it trained) with its
    config, the discriminators' sizes and the checkpoint it was read from."""
    ckpt = load_checkpoint(run_checkpoint, FORMAT)
    cfg = from_dict(VideoGANConfig, legacy_video_config(ckpt["config"]))
    if not cfg.cross_domain:
        raise ValueError(f"{run_checkpoint} is an in-domain run: its 3D D sees frame 0 stacked onto every "
                         "frame; give a --cross-domain true run's checkpoint")
    if "d_3d" not in ckpt["state_dicts"]:
        raise ValueError(f"{run_checkpoint} holds no discriminators (a shipped motion file keeps only the LSTM); "
                         "give the run folder's checkpoint.pt")
    d_cfg = discriminator_config(cfg)
    d_3d = build_video_discriminator(d_cfg, cross_domain=True)
    d_3d.load_state_dict(ckpt["state_dicts"]["d_3d"])
    return {"config": cfg, "d_cfg": d_cfg, "d_3d": d_3d.train().requires_grad_(False), "step": ckpt["step"],
            "checkpoint": ckpt}  # read once: a run checkpoint with its discriminators is large


@torch.no_grad()
def video_d_score(d_3d, video: torch.Tensor, size: int, batch: int = 8) -> torch.Tensor:
    """(B,) the 3D D's mean patch logit per clip (averaged over its scales), frames pooled to ``size``."""
    scores = []
    for part in video.split(batch):
        outputs = d_3d(video_input_cross_domain(pool_to_size(part, size)))
        scores.append(torch.stack([o[-1].flatten(1).mean(1) for o in outputs]).mean(0))
    return torch.cat(scores)


def content_gap(run_checkpoint: str | Path, n_clips: int = 32, seed: int = 5, n_videos: int | None = None) -> dict:
    """The trained 3D D's score on real face clips, on real animal clips with the *same*
    motion (and background), and on the run's generated clips: mean ± sd over clips, and the
    gap faces - animals in units of the real faces' sd (0: the D sees only the motion)."""
    d = load_cross_domain_video_d(run_checkpoint)
    cfg, size = d["config"], d["d_cfg"].size
    video_domain = cfg.data[4:] if cfg.data.startswith("toy:") else None
    if video_domain not in ("faces", "animals"):
        raise ValueError(f"{run_checkpoint} learned motion from {cfg.data}; the probe pairs toy faces with toy "
                         "animals of the same motion, so it needs a run on toy:faces or toy:animals")
    other = "animals" if video_domain == "faces" else "faces"
    clips = {f"real {video_domain}": make_clips(video_domain, n_clips, cfg.frames, 64, seed=seed).video,
             f"real {other}, same motion": make_clips(other, n_clips, cfg.frames, 64, seed=seed).video}
    g = video_generator_from(d["checkpoint"], run_checkpoint)
    clips["generated"] = generated_clips(g, n_videos or n_clips, cfg.frames, seed)
    scores = {k: video_d_score(d["d_3d"], v, size) for k, v in clips.items()}
    real, same_motion = scores[f"real {video_domain}"], scores[f"real {other}, same motion"]
    return {"step": d["step"], "scores": {k: {"mean": v.mean().item(), "sd": v.std().item()} for k, v in scores.items()},
            "gap": (real.mean() - same_motion.mean()).item(),
            "gap_in_sd": ((real.mean() - same_motion.mean()) / real.std().clamp_min(1e-8)).item(),
            # how often the D ranks a real clip above the same motion on the other domain's head
            "pairs_ranked": (real > same_motion).float().mean().item()}


# --------------------------------------------------------------------------------------
# Command line: python -m mocohd.metrics.cross_domain ...


def _labelled(pairs: list[str], what: str) -> dict[str, list[str]]:
    """["LABEL=PATH", ...] -> {label: [paths]} (a label given twice collects its seeds)."""
    out: dict[str, list[str]] = {}
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"{what} {pair!r}: write LABEL=PATH (e.g. 'with contrastive=runs/xd/checkpoint.pt')")
        label, path = pair.split("=", 1)
        if not Path(path).is_file():
            raise SystemExit(f"{what} {pair!r}: no file at {path}")
        out.setdefault(label, []).append(path)
    return out


def main(argv=None) -> None:
    import argparse
    import json

    p = argparse.ArgumentParser(prog="python -m mocohd.metrics.cross_domain", description=__doc__.splitlines()[0])
    p.add_argument("--arm", nargs="+", default=[], metavar="LABEL=DOMAIN:CHECKPOINT",
                   help="a generator and the domain its content is read as; repeat a label once per seed")
    p.add_argument("--gap", nargs="+", default=[], metavar="LABEL=RUN_CHECKPOINT",
                   help="cross-domain run checkpoints (with their discriminators) for the content probe")
    p.add_argument("--n-videos", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", type=Path, help="write the result here")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    arms: dict[str, tuple[str, list]] = {}
    for pair in args.arm:
        label, _, rest = pair.partition("=")
        domain, _, path = rest.partition(":")
        if not (label and domain and path):
            p.error(f"--arm {pair!r}: write LABEL=DOMAIN:CHECKPOINT, e.g. 'shipped=animals:data/checkpoints/x.pt'")
        if not Path(path).is_file():
            p.error(f"--arm {pair!r}: no file at {path}")
        arms.setdefault(label, (domain, []))[1].append(path)
    result: dict = {"n_videos": args.n_videos, "seed": args.seed, "torch": torch.__version__}
    if arms:
        table = consistency_table(arms, n_videos=args.n_videos, seed=args.seed)
        print(format_consistency(table))
        result["consistency"] = table
        result["arms"] = {label: {"domain": d, "checkpoints": c} for label, (d, c) in arms.items()}
    if args.gap:
        gaps = {label: [content_gap(c, n_clips=args.n_videos) for c in paths]
                for label, paths in _labelled(args.gap, "--gap").items()}
        for label, rows in gaps.items():
            print(f"{label}: gap {[round(r['gap_in_sd'], 2) for r in rows]} real sd; ranked "
                  f"{[round(r['pairs_ranked'], 2) for r in rows]}")
        result["content_gap"] = {label: {"runs": _labelled(args.gap, "--gap")[label], "rows": rows,
                                         "gap_in_sd": mean_sd([r["gap_in_sd"] for r in rows]),
                                         "pairs_ranked": mean_sd([r["pairs_ranked"] for r in rows])}
                                 for label, rows in gaps.items()}
    if not arms and not args.gap:
        p.error("give --arm and/or --gap")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
