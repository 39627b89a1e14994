"""Training the toy video classifier behind FVD_toy and IS_toy, scoring it, writing its provenance.

``python -m mocohd.metrics.toy_video_net_train train --out data/checkpoints/toy_video_net.pt``
draws 16-frame clips of the three domains with motion classes (actions, faces, sky), trains
``ToyVideoNet`` on balanced batches, scores it on held-out clips, measures FVD_toy between
two real samples (the floor) and against the baselines every video metric must rank
(frame-shuffled, static, noise), and writes the weights plus a provenance JSON beside them.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from mocohd.checkpoint import sha256
from mocohd.data.toyworld import make_clips
from mocohd.metrics.baselines import BASELINES, baseline_videos
from mocohd.metrics.toy_video_net import (CLASSES, DEFAULT_PATH, ToyVideoNet, class_offset, fvd_toy,
                                          load_toy_video_net, make_config, motion_classes, prepare_videos,
                                          save_toy_video_net)
from mocohd.metrics import train_cli
from mocohd.metrics.train_cli import write_provenance

DOMAINS = tuple(CLASSES)


@dataclass
class TrainConfig:
    seed: int = 0  # initialisation, batch order, and the training clips' toy-world seed
    steps: int = 2500
    batch_size: int = 24  # a third from each domain
    lr: float = 2e-3  # peak of a one-cycle schedule
    weight_decay: float = 1e-4
    clips_per_domain: int = 2000
    threads: int = 1
    bf16: bool = True  # bf16 autocast for training (3D convs ran 2.3x faster); scores are computed in float32
    heldout_clips: int = 300  # per domain, make_clips(..., seed=heldout_seed)
    heldout_seed: int = 10_001
    fvd_clips: int = 256  # per sample
    fvd_seeds: tuple[int, int] = field(default=(20_001, 20_002))


def build_training_data(cfg: TrainConfig) -> dict:
    """Per domain: clips as uint8 (a 2,000-clip domain is 400 MB so) and their global class index."""
    data = {}
    for domain in tqdm(DOMAINS, desc="drawing training clips"):
        clips = make_clips(domain, cfg.clips_per_domain, frames=16, size=64, seed=cfg.seed)
        data[domain] = {"video": ((clips.video + 1) * 127.5).round().to(torch.uint8),
                        "label": motion_classes(clips) + class_offset(domain)}
    return data


def sample_batch(data: dict, per_domain: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    picks = {d: torch.randint(len(data[d]["label"]), (per_domain,), generator=generator) for d in DOMAINS}
    video = torch.cat([data[d]["video"][picks[d]] for d in DOMAINS]).float().div_(127.5).sub_(1)
    return prepare_videos(video), torch.cat([data[d]["label"][picks[d]] for d in DOMAINS])


def train_net(cfg: TrainConfig, data: dict) -> tuple[ToyVideoNet, list[float]]:
    if cfg.batch_size % len(DOMAINS):
        raise ValueError(f"batch_size must be a multiple of {len(DOMAINS)} (balanced domains), got {cfg.batch_size}")
    torch.manual_seed(cfg.seed)
    net = ToyVideoNet(make_config()).train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.15)
    generator = torch.Generator().manual_seed(cfg.seed)
    per_domain, losses = cfg.batch_size // len(DOMAINS), []
    for step in (bar := tqdm(range(cfg.steps), desc="training toy video net")):
        x, label = sample_batch(data, per_domain, generator)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            logits = net(x)[1]
        loss = F.cross_entropy(logits.float(), label)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if step % 25 == 0:
            bar.set_postfix(loss=f"{sum(losses[-25:]) / len(losses[-25:]):.3f}")
    return net.eval(), losses


def heldout_accuracy(net: ToyVideoNet, cfg: TrainConfig) -> dict:
    """Accuracy among each domain's own classes, on fresh clips, and the confusion counts."""
    scores = {}
    for domain in DOMAINS:
        clips = make_clips(domain, cfg.heldout_clips, frames=16, size=64, seed=cfg.heldout_seed)
        predicted = torch.cat([net.probabilities(b, domain) for b in clips.video.split(32)]).argmax(1)
        true = motion_classes(clips)
        k = len(CLASSES[domain])
        confusion = torch.bincount(true * k + predicted, minlength=k * k).reshape(k, k)
        scores[domain] = {"accuracy": round((predicted == true).float().mean().item(), 4),
                          "chance": round(torch.bincount(true, minlength=k).max().item() / len(true), 4),
                          "classes": list(CLASSES[domain]), "confusion_true_by_predicted": confusion.tolist()}
    return scores


def fvd_table(net: ToyVideoNet, cfg: TrainConfig) -> dict:
    """FVD_toy of a real sample against a second real sample and against each baseline."""
    first, second = cfg.fvd_seeds
    table = {}
    for domain in tqdm(DOMAINS, desc="FVD_toy baselines"):
        real = make_clips(domain, cfg.fvd_clips, frames=16, size=64, seed=first).video
        other = make_clips(domain, cfg.fvd_clips, frames=16, size=64, seed=second).video
        row = {"real": fvd_toy(real, other, net).value}
        for name in BASELINES:
            row[name] = fvd_toy(real, baseline_videos(name, other, seed=second), net).value
        table[domain] = {k: round(v, 3) for k, v in row.items()}
    return {"clips_per_sample": cfg.fvd_clips, "seeds": list(cfg.fvd_seeds), "against_real": table}


def provenance(cfg: TrainConfig, net: ToyVideoNet, out: Path, command: str, times: dict, losses: list,
               heldout: dict, fvd: dict) -> dict:
    return {
        "what": "ToyVideoNet: a 3D CNN classifying toy-world clips by motion; its features give FVD_toy and "
                "its action probabilities IS_toy (not FVD, not IS)",
        "command": command,
        "seed": cfg.seed,
        "steps": cfg.steps,
        "train_config": asdict(cfg),
        "classes": {d: list(c) for d, c in CLASSES.items()},
        "data": {"train": {"function": "make_clips", "domains": list(DOMAINS), "clips_per_domain": cfg.clips_per_domain,
                           "frames": 16, "size": 64, "seed": cfg.seed},
                 "heldout": {"function": "make_clips", "clips_per_domain": cfg.heldout_clips,
                             "seed": cfg.heldout_seed},
                 "labels": "mocohd.metrics.toy_video_net.motion_classes (from the clips' true factors)",
                 "toy_world_version": net.config["toy_world_version"]},
        "wall_time_s": times,
        "final_loss_mean_last_50": round(sum(losses[-50:]) / len(losses[-50:]), 4),
        "heldout": heldout,
        "fvd_toy": fvd,
        "model": {"widths": net.config["widths"], "feature_dim": net.config["feature_dim"],
                  "parameters": sum(p.numel() for p in net.parameters())},
        "weights": {"file": out.name, "bytes": out.stat().st_size, "sha256": sha256(out)},
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads",
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def train_and_ship(cfg: TrainConfig, out: Path, command: str) -> dict:
    """Train, save the weights atomically, score, and write ``<out>.json``; returns the provenance."""
    torch.set_num_threads(cfg.threads)
    times, start = {}, time.perf_counter()
    data = build_training_data(cfg)
    times["data"] = round(time.perf_counter() - start, 1)
    net, losses = train_net(cfg, data)
    del data
    times["train"] = round(time.perf_counter() - start - times["data"], 1)
    save_toy_video_net(net, out)
    net = load_toy_video_net(out)  # scored as users load it, with its sha256
    heldout, fvd = heldout_accuracy(net, cfg), fvd_table(net, cfg)
    times["evaluate"] = round(time.perf_counter() - start - times["data"] - times["train"], 1)
    times["total"] = round(time.perf_counter() - start, 1)
    record = provenance(cfg, net, out, command, times, losses, heldout, fvd)
    write_provenance(record, out)
    return record


CLI_OPTIONS = {
    "seed": "initialisation, batch order and training data",
    "steps": "optimizer steps",
    "batch_size": "clips per step, a third per domain",
    "clips_per_domain": "training clips per domain",
    "threads": "torch threads",
    "heldout_clips": "held-out clips per domain for the accuracy",
    "fvd_clips": "clips per sample in the FVD_toy table",
}


PROG = "mocohd.metrics.toy_video_net_train"


def main(argv: list[str] | None = None) -> dict:
    return train_cli.run(PROG, "Train the toy video classifier behind FVD_toy and IS_toy.", TrainConfig, CLI_OPTIONS,
                         DEFAULT_PATH, train_and_ship, ("wall_time_s", "heldout", "fvd_toy", "weights"), argv)


if __name__ == "__main__":
    main()
