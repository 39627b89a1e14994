"""Evaluate a video checkpoint with the paper's metrics, each printed with its protocol.

    python -m mocohd.evaluate data/checkpoints/faces_motion.pt --data toy:faces --metrics fvd_toy acd --json out.json
    python -m mocohd.evaluate CKPT --data /path/to/UCF-101 --metrics fvd is --i3d i3d.pt --c3d c3d.npz

The paper reports FVD and IS (UCF-101), FVD and ACD (FaceForensics), FVD, PSNR and SSIM
(Sky time-lapse). On the toy world the same code runs with the project's own networks, named
for what they are: ``fvd_toy`` and ``is_toy`` (``ToyVideoNet``), ``acd`` on the toy identity
encoder. With a real dataset and weights from local paths it computes the real ones:
``fvd`` (I3D, ``--i3d``) and ``is`` (C3D, ``--c3d``). Every number prints with its protocol
line (how many videos, clip length, stride, resize, network and weights' sha256).

Which rows a table holds (:func:`evaluate_rows`): the checkpoint, and baselines that show
what each metric sees (``real`` clips of a second sample, ``static``, ``shuffled``,
``independent`` frames, ``noise``, and a ``random walk in W`` of the checkpoint's image
generator).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .config import VideoGANConfig, legacy_video_config
from .data.toyworld import make_clips
from .generate import continue_from, load_model
from .metrics.acd import acd_embedding, acd_mean_colour
from .metrics.baselines import BASELINES, baseline_videos, random_walk_in_w
from .metrics.protocol import Score, mean_and_sd
from .metrics.psnr_ssim import psnr_ssim
from .metrics.toy_video_net import CLASSES, fvd_toy, is_toy, load_toy_video_net
from .train.video_gan import open_video_dataset

METRICS = {
    "fvd_toy": "Fréchet distance on ToyVideoNet features (toy world; not FVD)",
    "is_toy": "Inception Score on ToyVideoNet's classes of the data's domain (toy world; not IS)",
    "acd": "ACD on identity embeddings (toy world: the toy identity encoder)",
    "acd_colour": "ACD in MoCoGAN's mean-colour form",
    "psnr_ssim": "PSNR and SSIM of continuations of real first frames against the real frames",
    "fvd": "FVD on I3D (Kinetics-400) features; needs --i3d",
    "is": "Inception Score on the UCF-101 C3D (TGAN protocol); needs --c3d",
}
DEFAULT_METRICS = {"faces": ("fvd_toy", "acd", "acd_colour"), "animals": ("fvd_toy", "acd", "acd_colour"),
                   "sky": ("fvd_toy", "psnr_ssim"), "actions": ("is_toy", "fvd_toy")}
ROWS = ("model", "real", *BASELINES, "random walk in W")


@dataclass
class Settings:
    """How many videos, and from which seeds. The defaults are the full tables' settings."""

    n_videos: int = 256  # per side of every Fréchet distance, and for IS and ACD
    seed: int = 0  # the generated videos
    real_seed: int = 20_001  # the reference real clips
    other_seed: int = 20_002  # the second real sample (the "real" row) and the baselines made from it
    splits: int = 10  # IS
    continuations: int = 32  # PSNR/SSIM: real clips whose first frame is inverted and continued
    inversion_steps: int = 100
    walk_step: float = 0.1  # random walk in W: per-frame step in units of W's per-dimension spread
    batch_size: int = 32


# ----------------------------------------------------------------------------------------
# Clips


def data_domain(data: str) -> str | None:
    """``toy:faces`` -> "faces"; a folder path -> None."""
    return data[4:] if data.startswith("toy:") else None


def real_clips(data: str, config: VideoGANConfig, n: int, size: int, seed: int) -> torch.Tensor:
    """n real clips (n, T, 3, size, size) in [-1, 1] of ``data`` (a toy domain or a folder),
    cut as the checkpoint's training clips were (its frames and time step)."""
    domain = data_domain(data)
    if domain is not None:
        return make_clips(domain, n, frames=config.frames, size=size, seed=seed).video
    dataset = open_video_dataset(dataclasses.replace(config, data=data, seed=seed), size)
    if len(dataset) == 0:
        raise ValueError(f"no clips found in {data}")
    return torch.stack([dataset[i % len(dataset)]["video"] for i in range(n)])


@torch.no_grad()
def model_clips(video_generator, n: int, frames: int, seed: int, batch_size: int = 32) -> torch.Tensor:
    """n generated clips, ``batch_size`` at a time, from random z's and motion noise of ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    parts = []
    for start in range(0, n, batch_size):
        z = torch.randn(min(batch_size, n - start), video_generator.image_generator.style_dim, generator=gen)
        parts.append(video_generator.eval()(z, n_frames=frames, generator=gen)["video"].float().clamp(-1, 1))
    return torch.cat(parts)


# ----------------------------------------------------------------------------------------
# Networks, loaded once and only when a metric needs them


class Networks:
    def __init__(self, toy_video_net=None, identity_encoder=None, i3d=None, c3d=None, c3d_mean=None):
        self._paths = {"i3d": i3d, "c3d": c3d, "c3d_mean": c3d_mean}
        self._toy_video_net, self._identity = toy_video_net, identity_encoder
        self._i3d = self._c3d = None

    def toy_video_net(self):
        self._toy_video_net = self._toy_video_net or load_toy_video_net()
        return self._toy_video_net

    def identity_encoder(self, domain: str):
        if self._identity is None or self._identity.domain != domain:
            from .metrics.identity import ToyIdentityEncoder

            self._identity = ToyIdentityEncoder(domain)
        return self._identity

    def i3d(self):
        if self._paths["i3d"] is None:
            raise ValueError("FVD needs I3D weights: pass --i3d PATH (a TorchScript file or a pytorch-i3d state dict)")
        if self._i3d is None:
            from .metrics.i3d import load_i3d

            self._i3d = load_i3d(self._paths["i3d"])
        return self._i3d

    def c3d(self):
        if self._paths["c3d"] is None:
            raise ValueError("IS needs the UCF-101 C3D weights: pass --c3d PATH (conv3d_deepnetA_ucf.npz or a "
                             "state dict), and --c3d-mean mean2.npz for the exact TGAN protocol")
        if self._c3d is None:
            from .metrics.c3d import load_c3d

            self._c3d = load_c3d(self._paths["c3d"], self._paths["c3d_mean"])
        return self._c3d


# ----------------------------------------------------------------------------------------
# Scores


def check_metrics(metrics, domain: str | None) -> tuple[str, ...]:
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; choose from {sorted(METRICS)}")
    toy_only = [m for m in metrics if m in ("fvd_toy", "is_toy", "acd") and domain is None]
    if toy_only:
        raise ValueError(f"{toy_only} use networks trained on the toy world; for a folder of real videos use "
                         "fvd (--i3d), is (--c3d), acd_colour or psnr_ssim")
    if "is_toy" in metrics and domain not in CLASSES:
        raise ValueError(f"is_toy reads ToyVideoNet's classes, which exist for {tuple(CLASSES)}, not {domain!r}")
    return tuple(metrics)


def score_videos(videos: torch.Tensor, real: torch.Tensor, domain: str | None, metrics, networks: Networks,
                 settings: Settings, stride: int = 1) -> dict[str, Score]:
    """Every metric of ``metrics`` except psnr_ssim for one set of videos (real: the reference)."""
    scores = {}
    for metric in metrics:
        if metric == "fvd_toy":
            scores[metric] = fvd_toy(real, videos, networks.toy_video_net(), stride=stride,
                                     batch_size=settings.batch_size)
        elif metric == "is_toy":
            scores[metric] = is_toy(videos, domain, networks.toy_video_net(), splits=settings.splits, stride=stride,
                                    batch_size=settings.batch_size)
        elif metric == "acd":
            scores[metric] = acd_embedding(videos, networks.identity_encoder(domain), stride=stride)
        elif metric == "acd_colour":
            scores[metric] = acd_mean_colour(videos, stride=stride)
        elif metric == "fvd":
            from .metrics.i3d import fvd

            scores[metric] = fvd(networks.i3d(), real, videos, stride=stride)
        elif metric == "is":
            from .metrics.inception_score import inception_score_of

            scores[metric] = inception_score_of(networks.c3d(), videos, splits=settings.splits, stride=stride)
    return scores


def continuation_scores(video_generator, real: torch.Tensor, settings: Settings, stride: int = 1) -> dict[str, Score]:
    """PSNR/SSIM of frames 1..T-1 of the model's continuation of each real first frame, and
    of the static prediction (frame 0 held), against the real frames 1..T-1."""
    real = real[:settings.continuations]
    out = continue_from(video_generator, real[:, 0], real.shape[1], settings.seed, settings.inversion_steps)
    model = psnr_ssim(real[:, 1:], out["video"][:, 1:], stride=stride)
    held = psnr_ssim(real[:, 1:], real[:, :1].expand_as(real[:, 1:]).contiguous(), stride=stride)
    return {"psnr": model.psnr, "ssim": model.ssim, "psnr_static": held.psnr, "ssim_static": held.ssim,
            "inversion_mse": float(out["inversion_mse"].mean())}


def evaluate_rows(checkpoint, data: str | None = None, metrics=None, settings: Settings | None = None,
                  rows=ROWS, networks: Networks | None = None, progress: bool = True) -> dict:
    """The table for one checkpoint: ``{row: {metric: Score}}`` plus ``"continuation"`` (PSNR/SSIM,
    when asked) and ``"setup"``. ``data`` defaults to the checkpoint's own training data."""
    settings, networks = settings or Settings(), networks or Networks()
    video_generator, raw_config = load_model(checkpoint)
    config = VideoGANConfig(**legacy_video_config(raw_config))
    data = data or config.data
    domain = data_domain(data)
    metrics = check_metrics(metrics or DEFAULT_METRICS.get(domain, ("fvd_toy",)), domain)
    unknown_rows = [r for r in rows if r not in ROWS]
    if unknown_rows:
        raise ValueError(f"unknown rows {unknown_rows}; choose from {ROWS}")
    size, frames = video_generator.image_generator.size, config.frames
    stride = 1 if domain is not None else config.time_step
    real = real_clips(data, config, settings.n_videos, size, settings.real_seed)
    frame_metrics = [m for m in metrics if m != "psnr_ssim"]
    table, other = {}, None  # other: the second real sample, drawn once for the real and baseline rows
    for row in tqdm(rows, desc=f"evaluating {Path(checkpoint).name}", disable=not progress):
        if row == "model":
            videos = model_clips(video_generator, settings.n_videos, frames, settings.seed, settings.batch_size)
        elif row == "random walk in W":
            videos = random_walk_in_w(video_generator.image_generator, settings.n_videos, frames, settings.walk_step,
                                      settings.seed, settings.batch_size)
        else:
            if other is None:
                other = real_clips(data, config, settings.n_videos, size, settings.other_seed)
            videos = other if row == "real" else baseline_videos(row, other, settings.other_seed)
        table[row] = score_videos(videos, real, domain, frame_metrics, networks, settings, stride)
    result = {"rows": table, "setup": {"checkpoint": str(checkpoint), "data": data, "metrics": list(metrics),
                                       "settings": dataclasses.asdict(settings), "frames": frames, "size": size}}
    if "psnr_ssim" in metrics:
        result["continuation"] = continuation_scores(video_generator, real, settings, stride)
    return result


def ablation(arms: dict[str, list], data: str | None = None, metrics=None, settings: Settings | None = None,
             networks: Networks | None = None, progress: bool = True) -> dict:
    """Each arm's checkpoints (one per seed) scored on the same real clips; per metric the
    per-seed values and their mean ± sd: ``{arm: {metric: {"values", "mean", "sd"}}}``."""
    networks = networks or Networks()
    result = {}
    for arm, checkpoints in arms.items():
        per_metric: dict[str, list[float]] = {}
        for checkpoint in checkpoints:
            scores = evaluate_rows(checkpoint, data, metrics, settings, rows=("model",), networks=networks,
                                   progress=progress)["rows"]["model"]
            for metric, score in scores.items():
                per_metric.setdefault(metric, []).append(float(score))
        result[arm] = {m: {"values": v, "mean": mean_and_sd(v)[0], "sd": mean_and_sd(v)[1]}
                       for m, v in per_metric.items()}
    return result


# ----------------------------------------------------------------------------------------
# Printing and JSON


def format_table(result: dict) -> str:
    """The rows as a text table (value ± sd), then every score's protocol line once per metric."""
    rows = result["rows"]
    metrics = list(next(iter(rows.values())))
    lines = ["row".ljust(18) + "".join(m.rjust(22) for m in metrics)]
    for row, scores in rows.items():
        cells = [_cell(scores[m]) for m in metrics]
        lines.append(row.ljust(18) + "".join(c.rjust(22) for c in cells))
    if "continuation" in result:
        c = result["continuation"]
        lines.append(f"continuation of real first frames: PSNR {_cell(c['psnr'])} dB, SSIM {_cell(c['ssim'])}; "
                     f"first frame held: PSNR {_cell(c['psnr_static'])} dB, SSIM {_cell(c['ssim_static'])}")
    lines.append("protocols (the model row's):")
    model = rows.get("model") or next(iter(rows.values()))
    lines += [f"  {score}" for score in model.values()]
    if "continuation" in result:
        lines += [f"  {result['continuation']['psnr']}", f"  {result['continuation']['ssim']}"]
    return "\n".join(lines)


def _cell(score: Score) -> str:
    return f"{score.value:.4g}" + (f" ± {score.sd:.2g}" if score.sd is not None and np.isfinite(score.sd) else "")


def to_json(value):
    """Scores (and everything around them) as plain JSON data."""
    if isinstance(value, Score):
        return {"metric": value.metric, "value": value.value, "sd": value.sd, "protocol": value.protocol.as_dict()}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mocohd.evaluate", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="metrics:\n" + "\n".join(f"  {k:11} {v}" for k, v in METRICS.items()))
    p.add_argument("checkpoint", help="a video checkpoint (shipped, e.g. data/checkpoints/faces_motion.pt, or a "
                                      "run's checkpoint.pt)")
    p.add_argument("--data", help="toy:DOMAIN or a folder of real videos (default: the checkpoint's training data)")
    p.add_argument("--metrics", nargs="+", help="default per toy domain: " +
                   "; ".join(f"{d}: {' '.join(m)}" for d, m in DEFAULT_METRICS.items()))
    p.add_argument("--rows", nargs="+", default=list(ROWS), help=f"which rows (default all: {', '.join(ROWS)})")
    p.add_argument("--i3d", help="I3D weights (TorchScript or pytorch-i3d state dict), for fvd")
    p.add_argument("--c3d", help="UCF-101 C3D weights, for is")
    p.add_argument("--c3d-mean", help="TGAN's mean2.npz, for the exact IS protocol")
    for field in dataclasses.fields(Settings):
        p.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default,
                       help=f"(default {field.default})")
    p.add_argument("--json", type=Path, help="also write the table, with every protocol, to this JSON file")
    return p


def main(argv=None) -> dict:
    p = parser()
    args = p.parse_args(argv)
    settings = Settings(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Settings)})
    if settings.n_videos < 2 or settings.batch_size < 1 or settings.continuations < 1:
        p.error(f"--n-videos must be at least 2, --batch-size and --continuations at least 1 (got {settings.n_videos}, "
                f"{settings.batch_size}, {settings.continuations})")
    networks = Networks(i3d=args.i3d, c3d=args.c3d, c3d_mean=args.c3d_mean)
    try:
        result = evaluate_rows(args.checkpoint, args.data, args.metrics, settings, args.rows, networks)
    except (ValueError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}") from None
    print(format_table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_name(args.json.name + ".tmp")
        tmp.write_text(json.dumps(to_json(result), indent=1) + "\n")
        tmp.replace(args.json)
        print(f"wrote {args.json}", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
