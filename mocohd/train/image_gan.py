"""Train the StyleGAN2 image generator G_I that MoCoGAN-HD later freezes.

As rosinality's train.py: non-saturating logistic loss, lazy R1 on D every
``d_reg_every`` steps, optional lazy path-length regularisation on G, style mixing, an
EMA copy of G (the one that is shipped and used), Adam with betas (0, 0.99) corrected for
the lazy regularisation. Checkpoints are atomic and a resumed run continues exactly.
"""

from __future__ import annotations

import copy
import json
import math
import time
import warnings
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..checkpoint import VERSION, load_checkpoint, remove_partial_writes, rng_state, save_checkpoint, set_rng_state
from ..config import ImageGANConfig, from_dict, to_dict
from ..hardware import (bf16_setting, bf16_warning, choose_bf16, machine_log, machine_signature, precision_log,
                        recorded_precision, time_bf16, training_device)
from ..image_generator import Discriminator, Generator
from ..losses import nonsaturating_d_loss, nonsaturating_g_loss, path_length_penalty, r1_penalty
from .guards import RunFolderLock, check_finite_losses, resume_notice
from .log import append_csv, trim_csv
from .diffaugment import diff_augment

FORMAT = "mocohd.image_gan"


# --------------------------------------------------------------------------------------
# Data


def load_images(cfg: ImageGANConfig) -> torch.Tensor:
    """All training images as uint8 (N, 3, H, W): toy images drawn on the fly, or a folder."""
    if cfg.data.startswith("toy:"):
        from ..data.toyworld import balanced_images, cached_clips

        domain, seed = cfg.data[4:], cfg.seed + 12345
        if cfg.balance:
            clips = balanced_images(domain, cfg.n_images, cfg.balance, size=cfg.size, seed=seed, pool=cfg.balance_pool)
        else:
            clips = cached_clips(domain, cfg.n_images, frames=1, size=cfg.size, seed=seed)
        return ((clips.video[:, 0] + 1) * 127.5).round().to(torch.uint8)
    if cfg.balance:
        raise ValueError(f"--balance {cfg.balance} needs toy data, whose motion factors are known; "
                         f"{cfg.data!r} is a folder: drop --balance")
    from ..data.folders import ImageFolderDataset

    ds = ImageFolderDataset(cfg.data, size=cfg.size)
    return torch.stack([((ds[i] + 1) * 127.5).round().to(torch.uint8) for i in range(len(ds))])


def sample_batch(images: torch.Tensor, batch: int) -> torch.Tensor:
    idx = torch.randint(len(images), (batch,))
    return images[idx].float().div_(127.5).sub_(1)


# --------------------------------------------------------------------------------------
# Models and optimizers


def build_models(cfg: ImageGANConfig, device: torch.device | str = "cpu"):
    torch.manual_seed(cfg.seed)
    g = Generator(**cfg.generator_kwargs()).to(device)  # initialised on the CPU's stream, then moved
    d = Discriminator(**cfg.discriminator_kwargs()).to(device)
    g_ema = copy.deepcopy(g).eval().requires_grad_(False)
    # lazy regularisation runs every k steps with a k-times larger weight, so the Adam
    # hyper-parameters are rescaled to keep the same effective dynamics
    g_ratio = cfg.g_reg_every / (cfg.g_reg_every + 1) if cfg.path_regularize > 0 else 1.0
    d_ratio = cfg.d_reg_every / (cfg.d_reg_every + 1)
    g_opt = torch.optim.Adam(g.parameters(), lr=cfg.lr * g_ratio, betas=(0.0, 0.99**g_ratio))
    d_opt = torch.optim.Adam(d.parameters(), lr=cfg.lr * d_ratio, betas=(0.0, 0.99**d_ratio))
    if cfg.channels_last:
        for m in (g, g_ema):
            m.memory_format = torch.channels_last
        d.to(memory_format=torch.channels_last)
    return g, d, g_ema, g_opt, d_opt


def init_from_generator(g: Generator, g_ema: Generator, cfg: ImageGANConfig) -> None:
    """Copy a trained generator's EMA weights into both ``g`` and ``g_ema`` (fine-tuning).

    The source must have the architecture ``cfg`` asks for; the file may be a full
    training checkpoint or a shipped one (which keeps only ``g_ema``)."""
    ckpt = load_checkpoint(cfg.init_generator, FORMAT)
    source = from_dict(ImageGANConfig, ckpt["config"]).generator_kwargs()
    wanted = cfg.generator_kwargs()
    differ = {k: (source[k], wanted[k]) for k in wanted if source[k] != wanted[k]}
    if differ:
        raise ValueError(f"--init-generator {cfg.init_generator}: its generator differs from this run's in "
                         + ", ".join(f"{k} (file {a}, run {b})" for k, (a, b) in differ.items())
                         + "; pass the same --preset and size flags the file was trained with "
                         "(see docs/troubleshooting.md#checkpoint-does-not-fit)")
    weights = ckpt["state_dicts"]["g_ema"]
    g.load_state_dict(weights)
    g_ema.load_state_dict(weights)


@torch.no_grad()
def accumulate(ema: torch.nn.Module, model: torch.nn.Module, beta: float) -> None:
    """ema <- beta * ema + (1 - beta) * model, parameter by parameter."""
    for pe, p in zip(ema.parameters(), model.parameters()):
        pe.lerp_(p, 1 - beta)


def mixing_noise(batch: int, dim: int, prob: float, device: torch.device | str = "cpu") -> list[torch.Tensor]:
    """Two z's with probability ``prob`` (style mixing regularisation), else one; drawn from the
    CPU's stream and moved to ``device``, so a seed means the same z's on a GPU."""
    if prob > 0 and torch.rand(()).item() < prob:
        return list(torch.randn(2, batch, dim).to(device).unbind(0))
    return [torch.randn(batch, dim).to(device)]


# --------------------------------------------------------------------------------------
# One training step


class ImageGANTrainer:
    def __init__(self, cfg: ImageGANConfig, out_dir: str | Path):
        self.cfg, self.out = cfg, Path(out_dir)
        self.bf16_setting = bf16_setting(cfg.bf16)  # on, off or auto; refuses anything else before any work
        self.out.mkdir(parents=True, exist_ok=True)
        self.device = training_device(cfg.device)
        if advice := bf16_warning(self.bf16_setting == "on", device=self.device):
            warnings.warn(advice, stacklevel=2)
        self.g, self.d, self.g_ema, self.g_opt, self.d_opt = build_models(cfg, self.device)
        if cfg.init_generator:
            init_from_generator(self.g, self.g_ema, cfg)
        # --bf16 auto decided here, once, timing a G + D pass on this machine; from now on the
        # config holds the bool that runs, so checkpoints and config.json record what really ran
        self.bf16, reason = choose_bf16(self.bf16_setting, self.device, measure=self._step_seconds,
                                        shape=self._step_shape())
        self.cfg = cfg = replace(cfg, bf16=self.bf16)
        self.bf16_choice = {"setting": self.bf16_setting, "bf16": self.bf16, "reason": reason}
        self.precision, _ = precision_log(None, 0, self.bf16_choice)  # per session, as self.machines
        print(f"precision: {reason}", flush=True)
        self.step = 0
        # the machines (CPU, and GPU when there is one) that trained this run (hardware.py)
        self.machines, _ = machine_log(None, 0, machine_signature(self.device))
        self.mean_path_length = torch.zeros((), device=self.device)
        self.images = load_images(cfg)
        self.fixed_z = torch.randn(16, cfg.style_dim, generator=torch.Generator().manual_seed(cfg.seed + 1))
        torch.manual_seed(cfg.seed + 2)  # the stream of the training loop itself

    def autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16) if self.bf16 else nullcontext()

    def _step_shape(self) -> dict:
        """What :meth:`_step_seconds` times, as the bf16 cache's key: the networks' sizes and the batch."""
        cfg = self.cfg
        return {"work": "image_gan: G and D forward, backward to both networks' weights",
                "generator": cfg.generator_kwargs(), "discriminator": cfg.discriminator_kwargs(), "batch": cfg.batch,
                "augment": cfg.augment, "channels_last": cfg.channels_last, "threads": torch.get_num_threads()}

    def _step_seconds(self, repeats: int = 3) -> tuple[float, float]:
        """Seconds of the bulk of a training step, in fp32 and in bf16: G renders a batch, D
        judges it, and the backward pass reaches both networks' weights (the weight-gradient
        convolutions are where bf16 lost on CPUs without AMX). On copies of G and D, with the
        global random stream restored after, so the run itself is untouched."""
        cfg = self.cfg
        g, d = copy.deepcopy(self.g).requires_grad_(True), copy.deepcopy(self.d).requires_grad_(True)
        z = torch.randn(cfg.batch, cfg.style_dim, generator=torch.Generator().manual_seed(cfg.seed)).to(self.device)

        def work(autocast):
            with autocast:
                fake, _ = g([z])
                score = d(self._prep(fake)).float()
            nonsaturating_g_loss(score).backward()

        with torch.random.fork_rng(devices=[]):
            return time_bf16(work, self.device, repeats)

    def _prep(self, x):
        if self.cfg.augment:
            x = diff_augment(x)
        return x.contiguous(memory_format=torch.channels_last) if self.cfg.channels_last else x

    def d_step(self, real: torch.Tensor) -> dict:
        cfg = self.cfg
        self.g.requires_grad_(False), self.d.requires_grad_(True)
        with self.autocast():
            fake, _ = self.g(mixing_noise(cfg.batch, cfg.style_dim, cfg.mixing, self.device))
            loss = nonsaturating_d_loss(self.d(self._prep(real)).float(), self.d(self._prep(fake)).float())
        self.d_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.d_opt.step()
        logs = {"d_loss": loss.item()}
        if self.step % cfg.d_reg_every == 0:
            # R1 in fp32: a gradient penalty is too sensitive for bf16
            real = real.detach().requires_grad_(True)
            pred = self.d(self._prep(real))
            r1 = r1_penalty(pred, real)
            self.d_opt.zero_grad(set_to_none=True)
            (cfg.r1 / 2 * r1 * cfg.d_reg_every + 0 * pred[0]).sum().backward()
            self.d_opt.step()
            logs["r1"] = r1.item()
        return logs

    def g_step(self) -> dict:
        cfg = self.cfg
        self.g.requires_grad_(True), self.d.requires_grad_(False)
        with self.autocast():
            fake, _ = self.g(mixing_noise(cfg.batch, cfg.style_dim, cfg.mixing, self.device))
            loss = nonsaturating_g_loss(self.d(self._prep(fake)).float())
        self.g_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.g_opt.step()
        logs = {"g_loss": loss.item()}
        if cfg.path_regularize > 0 and self.step % cfg.g_reg_every == 0:
            b = max(1, cfg.batch // cfg.path_batch_shrink)
            fake, latents = self.g([torch.randn(b, cfg.style_dim).to(self.device)], return_latents=True)
            penalty, self.mean_path_length, path_len = path_length_penalty(fake, latents, self.mean_path_length)
            self.g_opt.zero_grad(set_to_none=True)
            (cfg.path_regularize * cfg.g_reg_every * penalty + 0 * fake[0, 0, 0, 0]).backward()
            self.g_opt.step()
            logs["path_length"] = path_len.item()
        accumulate(self.g_ema, self.g, cfg.ema_beta())
        return logs

    def train_step(self) -> dict:
        real = sample_batch(self.images, self.cfg.batch).to(self.device)
        logs = self.d_step(real)
        logs.update(self.g_step())
        self.step += 1
        return logs

    # ----------------------------------------------------------------------------------
    def state(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "config": to_dict(self.cfg), "step": self.step,
                "state_dicts": {"g": self.g.state_dict(), "d": self.d.state_dict(), "g_ema": self.g_ema.state_dict(),
                                "g_opt": self.g_opt.state_dict(), "d_opt": self.d_opt.state_dict()},
                "mean_path_length": self.mean_path_length, "rng": rng_state(), "machines": self.machines,
                "precision": self.precision}

    def save(self, path: str | Path | None = None) -> Path:
        return save_checkpoint(path or self.out / "checkpoint.pt", self.state())

    def load(self, path: str | Path) -> None:
        ckpt = load_checkpoint(path, FORMAT)
        sd = ckpt["state_dicts"]
        for name in ("g", "d", "g_ema", "g_opt", "d_opt"):
            getattr(self, name).load_state_dict(sd[name])
        self.step, self.mean_path_length = ckpt["step"], ckpt["mean_path_length"].to(self.device)
        trim_csv(self.out / "log.csv", self.step)  # a run killed after logging a step but before its checkpoint
        remove_partial_writes(path)
        self.machines, change = machine_log(ckpt.get("machines"), self.step, machine_signature(self.device))
        if change:
            warnings.warn(change, stacklevel=2)
        self.precision, switched = precision_log(recorded_precision(ckpt), self.step, self.bf16_choice)
        if switched:
            before = self.precision[-2]["bf16"]
            print(f"precision: this run trained in {'bf16 autocast' if before else 'fp32'} until step {self.step} and "
                  f"goes on in {'bf16 autocast' if self.bf16 else 'fp32'} (its checkpoint's 'precision' list records "
                  f"both); pass --bf16 {str(before).lower()} to keep its precision", flush=True)
        set_rng_state(ckpt["rng"])

    @torch.no_grad()
    def samples(self) -> torch.Tensor:
        img, _ = self.g_ema([self.fixed_z.to(self.device)], randomize_noise=False)
        return img.float().clamp(-1, 1).cpu()

    def save_samples(self) -> Path:
        from PIL import Image

        img = ((self.samples() + 1) * 127.5).round().to(torch.uint8)  # (16, 3, H, W)
        grid = img.view(4, 4, 3, self.cfg.size, self.cfg.size).permute(0, 3, 1, 4, 2).reshape(4 * self.cfg.size, 4 * self.cfg.size, 3)
        path = self.out / "samples" / f"{self.step:06d}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(grid.numpy()).save(path)
        return path

    def fit(self, steps: int | None = None, progress: bool = True) -> list[dict]:
        """Train until ``steps`` (default: the config's), logging to ``log.csv``."""
        cfg, total = self.cfg, steps or self.cfg.steps
        log_path, history = self.out / "log.csv", []
        bar = tqdm(total=total, initial=self.step, disable=not progress, desc="image GAN")
        t0 = time.time()
        while self.step < total:
            logs = self.train_step()
            check_finite_losses(self, logs)  # a NaN stops here, its state saved apart from checkpoint.pt
            bar.update(1)
            if self.step % cfg.log_every == 0 or self.step == total:
                row = {"step": self.step, "seconds": round(time.time() - t0, 2), **{k: round(v, 5) for k, v in logs.items()}}
                history.append(row)
                append_csv(log_path, row, LOG_FIELDS)
                bar.set_postfix(d=f"{logs['d_loss']:.3f}", g=f"{logs['g_loss']:.3f}")
            if self.step % cfg.sample_every == 0 or self.step == total:
                self.save_samples()
            if self.step % cfg.ckpt_every == 0 or self.step == total:
                self.save()
        bar.close()
        return history


LOG_FIELDS = ["step", "seconds", "d_loss", "g_loss", "r1", "path_length"]



def load_generator(path: str | Path, ema: bool = True) -> Generator:
    """A trained generator (the EMA copy by default) from a mocohd image-GAN checkpoint,
    in eval mode with gradients off, as MoCoGAN-HD uses it."""
    return generator_from_checkpoint(load_checkpoint(path, FORMAT), ema)


def generator_from_checkpoint(ckpt: dict, ema: bool = True) -> Generator:
    """The frozen generator held by an already loaded image-GAN checkpoint dict."""
    cfg = from_dict(ImageGANConfig, ckpt["config"])
    g = Generator(**cfg.generator_kwargs())
    g.load_state_dict(ckpt["state_dicts"]["g_ema" if ema else "g"])
    return g.eval().requires_grad_(False)


def export_generator(checkpoint: str | Path, out: str | Path, extra: dict | None = None) -> Path:
    """Keep only what users need (config + g_ema), for the small shipped files."""
    ckpt = load_checkpoint(checkpoint, FORMAT)
    small = {"format": FORMAT, "version": VERSION, "config": ckpt["config"], "step": ckpt["step"],
             "state_dicts": {"g_ema": ckpt["state_dicts"]["g_ema"]}, "rng": ckpt["rng"], **(extra or {})}
    return save_checkpoint(out, small)


def train_image_gan(cfg: ImageGANConfig, out_dir: str | Path, resume: bool = False, progress: bool = True) -> ImageGANTrainer:
    with RunFolderLock(out_dir):  # a second run on this folder refuses to start
        trainer = ImageGANTrainer(cfg, out_dir)
        ckpt = Path(out_dir) / "checkpoint.pt"
        if resume and ckpt.exists():
            trainer.load(ckpt)
        elif resume:
            print(resume_notice(ckpt), flush=True)
        # the trainer's config: --bf16 auto resolved to the bool that runs
        (Path(out_dir) / "config.json").write_text(json.dumps(to_dict(trainer.cfg), indent=2))
        trainer.fit(progress=progress)
    return trainer
