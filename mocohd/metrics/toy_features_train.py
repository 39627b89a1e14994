"""Training the toy-factor feature network, scoring it, and writing its provenance.

``python -m mocohd.metrics.toy_features_train train --out data/checkpoints/toy_features.pt``
draws frames of all four toy domains, trains ``ToyFeatureNet`` on them (balanced batches:
a quarter from each domain), scores every head on held-out frames, measures FD_toy
real-vs-real and between domains, and writes the weights plus a provenance JSON beside them.
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
from mocohd.data.toyworld import DOMAINS, make_clips, make_images
from mocohd.metrics.frechet import feature_statistics, frechet_distance
from mocohd.metrics.toy_features import (DEFAULT_PATH, ToyFeatureNet, factor_targets, frames_of,
                                         make_config, prepare_images, save_toy_feature_net)
from mocohd.metrics import train_cli
from mocohd.metrics.train_cli import write_provenance


@dataclass
class TrainConfig:
    seed: int = 0  # initialisation, batch order, and the training clips' toy-world seed
    steps: int = 1000
    batch_size: int = 128  # a quarter from each domain
    lr: float = 2e-3  # peak of a one-cycle schedule
    weight_decay: float = 1e-4
    clips_per_domain: int = 6000  # one frame each: the distribution of make_images
    frames_per_clip: int = 1
    size: int = 64
    threads: int = 2
    bf16: bool = True  # bf16 autocast and channels_last for training (features are computed in float32)
    heldout_images: int = 500  # per domain, make_images(..., seed=heldout_seed)
    heldout_seed: int = 10_001
    fd_images: int = 2000  # per sample; two disjoint samples per domain
    fd_seeds: tuple[int, int] = field(default=(20_001, 20_002))


# ----------------------------------------------------------------------------------------
# Data


def build_training_data(cfg: TrainConfig) -> tuple[dict, dict[str, list[str]]]:
    """Per domain: frames as uint8 (to save memory), labels, standardized targets and their stats."""
    data, names = {}, {}
    for domain in tqdm(DOMAINS, desc="drawing training frames"):
        clips = make_clips(domain, cfg.clips_per_domain, frames=cfg.frames_per_clip, size=cfg.size, seed=cfg.seed)
        targets, names[domain] = factor_targets(clips)
        mean, std = targets.mean(0), targets.std(0).clamp_min(1e-6)
        data[domain] = {
            "frames": ((frames_of(clips) + 1) * 127.5).round().to(torch.uint8),  # (N*T, 3, H, W)
            "label": clips.label.repeat_interleave(cfg.frames_per_clip),
            "targets": (targets - mean) / std,
            "mean": mean.tolist(),
            "std": std.tolist(),
        }
    return data, names


def sample_batch(data: dict, per_domain: int, generator: torch.Generator) -> dict:
    """A balanced batch: ``per_domain`` random frames from each domain, in DOMAINS order."""
    picks = {d: torch.randint(len(data[d]["label"]), (per_domain,), generator=generator) for d in DOMAINS}
    frames = torch.cat([data[d]["frames"][picks[d]] for d in DOMAINS]).float().div_(127.5).sub_(1)
    return {
        "images": prepare_images(frames),
        "domain": torch.arange(len(DOMAINS)).repeat_interleave(per_domain),
        "label": {d: data[d]["label"][picks[d]] for d in DOMAINS},
        "targets": {d: data[d]["targets"][picks[d]] for d in DOMAINS},
    }


# ----------------------------------------------------------------------------------------
# Training


def batch_loss(net: ToyFeatureNet, batch: dict, per_domain: int) -> torch.Tensor:
    """Domain cross-entropy + per-domain label cross-entropy + per-domain factor MSE."""
    outputs = net.head_outputs(net(batch["images"]))
    loss = F.cross_entropy(outputs["domain"].float(), batch["domain"])
    for i, domain in enumerate(DOMAINS):
        rows = slice(i * per_domain, (i + 1) * per_domain)  # this domain's quarter of the batch
        loss = loss + F.mse_loss(outputs[f"{domain}_factors"][rows].float(), batch["targets"][domain])
        if f"{domain}_label" in outputs:
            loss = loss + F.cross_entropy(outputs[f"{domain}_label"][rows].float(), batch["label"][domain])
    return loss


def train_net(cfg: TrainConfig, data: dict, names: dict) -> tuple[ToyFeatureNet, list[float]]:
    if cfg.batch_size % len(DOMAINS):
        raise ValueError(f"batch_size must be a multiple of {len(DOMAINS)} (balanced domains), got {cfg.batch_size}")
    torch.manual_seed(cfg.seed)
    config = make_config(names)
    config["factor_mean"] = {d: data[d]["mean"] for d in DOMAINS}
    config["factor_std"] = {d: data[d]["std"] for d in DOMAINS}
    net = ToyFeatureNet(config).to(memory_format=torch.channels_last).train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.15)
    generator = torch.Generator().manual_seed(cfg.seed)
    per_domain, losses = cfg.batch_size // len(DOMAINS), []
    for step in (bar := tqdm(range(cfg.steps), desc="training toy feature net")):
        batch = sample_batch(data, per_domain, generator)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            loss = batch_loss(net, batch, per_domain)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if step % 50 == 0:
            bar.set_postfix(loss=f"{sum(losses[-50:]) / len(losses[-50:]):.3f}")
    return net.eval(), losses


# ----------------------------------------------------------------------------------------
# Scores


def r2_scores(predicted: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """Coefficient of determination per column: 1 - SS_res / SS_tot."""
    residual = (predicted - true).pow(2).sum(0)
    total = (true - true.mean(0)).pow(2).sum(0).clamp_min(1e-12)
    return 1 - residual / total


def evaluate_heads(net: ToyFeatureNet, cfg: TrainConfig) -> dict:
    """Held-out accuracy (domain, labels) and R^2 (each factor) on fresh single frames."""
    scores, domain_hits = {}, []
    for index, domain in enumerate(DOMAINS):
        clips = make_images(domain, cfg.heldout_images, size=cfg.size, seed=cfg.heldout_seed)
        predicted = net.predict(frames_of(clips))
        targets, names = factor_targets(clips)
        domain_hits.append(predicted["domain"].argmax(1) == index)
        r2 = r2_scores(predicted[f"{domain}_factors"], targets)
        entry = {"domain_accuracy": _mean(domain_hits[-1])}
        for kind in ("identity", "motion"):
            chosen = [n.startswith(f"{kind}:") for n in names]
            if any(chosen):  # sky keeps no motion factor: none shows in a single frame
                entry[f"r2_{kind}_mean"] = _mean(r2[chosen])
        entry["r2_per_factor"] = {n: round(v, 4) for n, v in zip(names, r2.tolist())}
        if f"{domain}_label" in predicted:
            entry["label_accuracy"] = _mean(predicted[f"{domain}_label"].argmax(1) == clips.label)
        scores[domain] = entry
    scores["domain_accuracy_all"] = _mean(torch.cat(domain_hits))
    return scores


def fd_table(net: ToyFeatureNet, cfg: TrainConfig) -> dict:
    """FD_toy between two disjoint real samples of each domain (the floor) and across domains."""
    stats = {}
    for domain in tqdm(DOMAINS, desc="FD_toy statistics"):
        for seed in cfg.fd_seeds:
            images = frames_of(make_images(domain, cfg.fd_images, size=cfg.size, seed=seed))
            stats[domain, seed] = feature_statistics(net.features(images))
    first, second = cfg.fd_seeds
    floor = {d: round(frechet_distance(*stats[d, first], *stats[d, second]), 4) for d in DOMAINS}
    between = {f"{a}_vs_{b}": round(frechet_distance(*stats[a, first], *stats[b, second]), 4)
               for i, a in enumerate(DOMAINS) for b in DOMAINS[i + 1:]}
    return {"images_per_sample": cfg.fd_images, "seeds": list(cfg.fd_seeds),
            "real_vs_real": floor, "between_domains": between}


def _mean(x: torch.Tensor) -> float:
    return round(x.float().mean().item(), 4)


# ----------------------------------------------------------------------------------------
# Provenance and the command line


def provenance(cfg: TrainConfig, net: ToyFeatureNet, out: Path, command: str, times: dict, losses: list,
               heldout: dict, fd: dict) -> dict:
    return {
        "what": "ToyFeatureNet: features for the Fréchet distance on toy-factor features (FD_toy); not FID/FVD",
        "command": command,
        "seed": cfg.seed,
        "steps": cfg.steps,
        "train_config": asdict(cfg),
        "data": {
            "train": {"domains": list(DOMAINS), "function": "make_clips", "clips_per_domain": cfg.clips_per_domain,
                      "frames_per_clip": cfg.frames_per_clip, "size": cfg.size, "seed": cfg.seed},
            "heldout": {"function": "make_images", "images_per_domain": cfg.heldout_images,
                        "size": cfg.size, "seed": cfg.heldout_seed},
            "toy_world_version": net.config["toy_world_version"],
        },
        "wall_time_s": times,
        "final_loss_mean_last_100": round(sum(losses[-100:]) / len(losses[-100:]), 4),
        "heldout": heldout,
        "fd_toy": fd,
        "model": {"widths": net.config["widths"], "feature_dim": net.config["feature_dim"],
                  "parameters": sum(p.numel() for p in net.parameters())},
        "weights": {"file": out.name, "bytes": out.stat().st_size, "sha256": sha256(out)},
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads",
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),  # other work on the machine slows wall times
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def train_and_ship(cfg: TrainConfig, out: Path, command: str) -> dict:
    """Train, save the weights atomically, score, and write ``<out>.json``; returns the provenance."""
    torch.set_num_threads(cfg.threads)
    times, start = {}, time.perf_counter()
    data, names = build_training_data(cfg)
    times["data"] = round(time.perf_counter() - start, 1)
    net, losses = train_net(cfg, data, names)
    del data
    times["train"] = round(time.perf_counter() - start - times["data"], 1)
    save_toy_feature_net(net, out)
    heldout, fd = evaluate_heads(net, cfg), fd_table(net, cfg)
    times["evaluate"] = round(time.perf_counter() - start - times["data"] - times["train"], 1)
    times["total"] = round(time.perf_counter() - start, 1)
    record = provenance(cfg, net, out, command, times, losses, heldout, fd)
    write_provenance(record, out)
    return record


CLI_OPTIONS = {  # TrainConfig fields the command line sets, with their help
    "seed": "initialisation, batch order and training data",
    "steps": "optimizer steps",
    "batch_size": "frames per step, a quarter per domain",
    "clips_per_domain": "training frames per domain",
    "threads": "torch threads; when another job shares a 2-core machine, 1 thread ran ~5x faster than 2",
    "heldout_images": "held-out images per domain for the accuracy",
    "fd_images": "images per sample in the FD_toy table",
}


PROG = "mocohd.metrics.toy_features_train"


def main(argv: list[str] | None = None) -> dict:
    return train_cli.run(PROG, "Train the toy-factor feature network behind FD_toy.", TrainConfig, CLI_OPTIONS,
                         DEFAULT_PATH, train_and_ship, ("wall_time_s", "fd_toy", "weights"), argv)


if __name__ == "__main__":
    main()
