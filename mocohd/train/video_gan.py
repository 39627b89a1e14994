"""MoCoGAN-HD's video training loop: only the motion generator and the discriminators learn.

One iteration, as the official ``GD_step``:

1. take one real batch of clips;
2. ``g_steps`` (5) motion-generator updates, each with a fresh z and fresh motion noise:
   render the clip through the frozen image generator (gradients reach the latents only),
   average-pool it to the discriminators' size, then
   in-domain:    L_G = RaLSGAN_3D + RaLSGAN_2D(frame 0, frame k) + L_MI
   cross-domain: L_G = RaLSGAN_3D + hinge_2D(warp(frame k)) + w_match * L_match + L_MI
   (cross-domain also pushes momentum-D projections of frame 0 / frame k into the queues);
3. one discriminator update, fresh z again: the 3D D (RaLSGAN + gradient penalty), then the
   image D (RaLSGAN in-domain; hinge + 2 x contrastive cross-domain, then the momentum copy).

This module holds the paper's loop and nothing else. Work beyond the paper (extra games for
the discriminators, extra terms for the motion generator) plugs in from ``mocohd.lab``
through one extension point: a subclass that overrides the three ``extra_*`` hooks (each
returns ``None`` here, so the paper's losses are used as they are) and, where it needs other
real clips, :meth:`VideoGANTrainer.real_dataset`. ``mocohd.lab.trainer`` is that subclass.

Devices: ``--device auto`` (the default) computes on a GPU when PyTorch sees one, else on the
CPU. Every random number the loop draws itself comes from the CPU's stream and is moved to the
device, so a seed means the same z, motion noise and flips on either.

Data parallelism: under ``torchrun`` the global batch is split over ranks (gloo on CPU,
nccl on GPU, one GPU per process). Gradients are averaged with an all-reduce after every backward, as
DistributedDataParallel does; the DDP wrapper itself cannot be used here because the 3D D's
gradient penalty differentiates with ``torch.autograd.grad``, which DDP does not support.
Random draws (z, motion noise, noise maps, k, flips, GP mixing weights) are made for the
global batch on every rank from the same RNG stream and sliced, so a run on N ranks sees the
same numbers as one process on the whole batch.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors
from tqdm.auto import tqdm

from ..augment import warp
from ..checkpoint import (VERSION, check_checkpoint, load_checkpoint, read_torch_file, remove_partial_writes, rng_state,
                          save_checkpoint, set_rng_state, sha256)
from ..config import VIDEO_PRESETS, VideoGANConfig, from_dict, legacy_video_config, preset, to_dict
from ..contrastive_discriminator import build_contrastive_discriminator
from ..discriminators import (DiscriminatorConfig, build_image_discriminator, build_video_discriminator,
                              image_pair_input, video_input_cross_domain, video_input_in_domain)
from ..hardware import (bf16_setting, bf16_warning, choose_bf16, machine_log, machine_signature, precision_log,
                        recorded_precision, time_bf16, training_device)
from ..losses import (feature_matching_loss, gradient_penalty, hinge_d_loss, hinge_g_loss, queued_contrastive_loss,
                      ralsgan_d_loss, ralsgan_g_loss)
from ..motion import build_motion, motion_preset, mutual_information_loss
from ..params import resolve_path
from ..pca import load_w_pca, pca_path_for
from ..video_generator import VideoGenerator
from .cli import add_config_args, check_counts, config_overrides
from .guards import RunFolderLock, check_finite_losses, resume_notice
from .log import append_csv, trim_csv

FORMAT = "mocohd.video_gan"


# --------------------------------------------------------------------------------------
# Inputs: the frozen image generator, its PCA, the real clips


def load_image_generator(path: str | Path):
    """A frozen G_I from a mocohd image-GAN checkpoint or a rosinality ``.pt`` (``g_ema``)."""
    from ..convert import load_rosinality_generator
    from .image_gan import FORMAT as IMAGE_FORMAT
    from .image_gan import generator_from_checkpoint

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no image generator at {path}; use a shipped one (data/checkpoints/*_64.pt, "
                                "made by `make checkpoints`) or a rosinality StyleGAN2 file")
    ckpt = read_torch_file(path)  # read once, whichever format it holds
    if isinstance(ckpt, dict) and "format" in ckpt:
        return generator_from_checkpoint(check_checkpoint(ckpt, path, IMAGE_FORMAT))
    return load_rosinality_generator(ckpt)


def check_image_generator(ckpt: dict, path: str | Path, source: str | Path = "the checkpoint") -> None:
    """A motion generator is a path through one image generator's W: over any other G_I
    (a retrained or replaced file at the same path) its steps mean something else. Checkpoints
    record the sha256 of the G_I file they were trained over; refuse to pair them with another."""
    trained_over = ckpt.get("image_generator_sha256")
    if not trained_over:  # checkpoints written before the fingerprint existed
        return
    found = sha256(path)
    if found != trained_over:
        raise ValueError(f"{source} was trained over an image generator with sha256 {trained_over[:12]}..., but "
                         f"{path} now holds another (sha256 {found[:12]}...): the motion generator would "
                         "walk a W it never saw. Point to the file it was trained over (load_video_generator("
                         "..., image_generator=PATH), or the config's image_generator), or train a new one over this G_I")


# settings that change the networks' shapes or what they see: a resumed run must keep them
SHAPE_SETTINGS = ("motion", "discriminators", "ndf", "d_widths", "video_frame_size", "frames", "cross_domain")


def check_same_networks(saved: dict, now: dict, path, settings=SHAPE_SETTINGS, defaults: dict | None = None) -> None:
    """Refuse to resume a run whose networks were built with other sizes than this config's.
    ``defaults``: the config class's defaults, which checkpoints written before a setting existed used."""
    default = defaults if defaults is not None else to_dict(VideoGANConfig())
    changed = [f"--{k.replace('_', '-')} {saved.get(k, default[k])} (now {now[k]})" for k in settings
               if saved and saved.get(k, default[k]) != now[k]]
    if changed:
        raise ValueError(f"{path} was trained with {', '.join(changed)}: its networks have other shapes "
                         "(or learned from other real clips). "
                         "Resume with the run's own settings (its config.json), or train into a new --out folder "
                         "(see docs/troubleshooting.md#checkpoint-does-not-fit)")


def toy_video_dataset(cfg: VideoGANConfig, size: int, supersample: int = 1, hold: dict[str, float] | None = None):
    """The run's toy clips (``--data toy:<domain>``); ``hold`` (mocohd.lab): the same clips, index
    for index, with those motion factors at rest."""
    from ..data.toyworld import ToyVideoDataset

    return ToyVideoDataset(cfg.data[4:], n=cfg.n_clips, frames=cfg.frames, size=size, seed=cfg.seed + 777,
                           hold=hold, supersample=supersample)


def open_video_dataset(cfg: VideoGANConfig, size: int, supersample: int = 1):
    """Real clips (T, 3, size, size) in [-1, 1]: toy world, the carphone clip, or a folder in an
    official layout.

    ``supersample`` (toy world only): draw the clips at the image generator's size and
    average-pool them to ``size`` as the fakes are, so that a discriminator smaller than G_I
    cannot tell real frames by how they were shrunk. Folder frames are resized when loaded,
    as the official loader does."""
    if cfg.data.startswith("toy:"):
        return toy_video_dataset(cfg, size, supersample)
    if cfg.data == "carphone":  # the one real talking-head clip mocohd ships with
        from ..data.real_clip import CarphoneClips

        return CarphoneClips(cfg.frames, cfg.time_step, size, supersample)
    from ..data import folders
    from ..data.folders import check_root

    root = check_root(cfg.data)
    kw = dict(frames=cfg.frames, time_step=cfg.time_step, size=size, seed=cfg.seed)
    if any(root.glob("*/*.avi")):
        return folders.UCF101Dataset(root, **kw)
    if any(root.rglob("*.mp4")) or any(root.rglob("*.avi")):
        return folders.VideoFilesDataset(root, **kw)
    return folders.FrameFoldersDataset(root, **kw)


# --------------------------------------------------------------------------------------
# Distributed helpers


def world() -> tuple[int, int]:
    """(rank, world size); (0, 1) outside torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def average_gradients(*modules) -> None:
    """All-reduce and average the gradients of every trainable parameter (no-op on one process).

    One all-reduce per module (per dtype and device, should a module mix them), over a flat
    buffer of all its gradients, rather than one per parameter: the summed values are the same,
    in far fewer collectives. A trainable parameter without a gradient gets zeros, averaged
    with the other ranks' gradients, so every rank steps every parameter alike."""
    _, n = world()
    if n == 1:
        return
    for m in modules:
        groups: dict[tuple, list[torch.Tensor]] = {}
        for p in m.parameters():
            if p.requires_grad:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
                groups.setdefault((p.grad.device, p.grad.dtype), []).append(p.grad)
        for grads in groups.values():
            flat = _flatten_dense_tensors(grads)  # a new contiguous buffer, in parameter order
            dist.all_reduce(flat)
            flat.div_(n)
            for grad, mean in zip(grads, _unflatten_dense_tensors(flat, grads)):
                grad.copy_(mean)


def broadcast_parameters(*modules) -> None:
    if world()[1] > 1:
        for m in modules:
            for t in list(m.parameters()) + list(m.buffers()):
                dist.broadcast(t.data, src=0)


def mean_over_ranks(value: float, device: torch.device | str = "cpu") -> float:
    if world()[1] == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)  # nccl reduces GPU tensors only
    dist.all_reduce(t)
    return (t / world()[1]).item()


# --------------------------------------------------------------------------------------
# The trainer


def pool_to_size(video: torch.Tensor, size: int) -> torch.Tensor:
    """Average-pool generated frames (B, T, C, H, W) to the discriminators' size (official avg_pool3d)."""
    k = video.shape[-1] // size
    if k == 1:
        return video
    b, t = video.shape[:2]
    return F.avg_pool2d(video.flatten(0, 1), k).unflatten(0, (b, t))


def discriminator_config(cfg: VideoGANConfig) -> DiscriminatorConfig:
    """The discriminators' sizes for a run: the preset's, at the run's clip length and --ndf."""
    if cfg.ndf < 0:
        raise ValueError(f"ndf={cfg.ndf}: give a positive width, or 0 for the discriminator preset's")
    if cfg.video_frame_size < 0:
        raise ValueError(f"video_frame_size={cfg.video_frame_size}: give the discriminators' frame size in pixels, "
                         "or 0 for the discriminator preset's")
    d_cfg = DiscriminatorConfig.preset(cfg.discriminators).with_(frames=cfg.frames, widths=cfg.d_widths)
    d_cfg = d_cfg.with_(size=cfg.video_frame_size) if cfg.video_frame_size else d_cfg
    return d_cfg.with_(ndf=cfg.ndf) if cfg.ndf else d_cfg


def check_frame_sizes(generator_size: int, d_size: int) -> int:
    """How many times the discriminators' frames fit across G_I's (the pooling factor);
    refuses sizes the average pool cannot bridge."""
    if d_size > generator_size or generator_size % d_size:
        raise ValueError(f"the image generator makes {generator_size}px frames but the discriminators expect "
                         f"{d_size}px; give --video-frame-size (or a discriminator preset) that divides "
                         f"{generator_size}, e.g. {generator_size} or {generator_size // 2}")
    return generator_size // d_size


class VideoGANTrainer:
    """The paper's loop. Subclasses (``mocohd.lab``) extend it only through :meth:`real_dataset`
    and the ``extra_*`` hooks, so what a subclass adds is visible in one place."""

    shape_settings = SHAPE_SETTINGS  # what a resumed run must keep (a subclass may add its own)
    name = "mocohd.train.video_gan"  # recorded in checkpoints, so another trainer's runs are not resumed here
    resumes = ("mocohd.train.video_gan",)  # the trainers whose checkpoints this one continues

    def __init__(self, cfg: VideoGANConfig, out_dir: str | Path):
        self.cfg, self.out = cfg, Path(out_dir)
        self.rank, self.world_size = world()
        if cfg.g_steps < 0:
            raise ValueError(f"g_steps={cfg.g_steps}: give the motion-generator updates per iteration, 5 as the "
                             "official code, or 0 to train only the discriminators")
        if cfg.batch % self.world_size:
            raise ValueError(f"the global batch ({cfg.batch}) must divide evenly over {self.world_size} ranks")
        self.local_batch = cfg.batch // self.world_size
        self.lo = self.rank * self.local_batch  # this rank's slice of every global draw
        self.bf16_setting = bf16_setting(cfg.bf16)  # on, off or auto; refuses anything else before any work
        self.device = training_device(cfg.device)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)  # nccl's collectives run on the current GPU
        if self.rank == 0:
            self.out.mkdir(parents=True, exist_ok=True)
            if advice := bf16_warning(self.bf16_setting == "on", device=self.device):
                warnings.warn(advice, stacklevel=2)
        # the machines (CPU, and GPU when there is one) that trained this run (hardware.py)
        self.machines, _ = machine_log(None, 0, machine_signature(self.device))
        torch.manual_seed(cfg.seed)
        self._build_models()
        # --bf16 auto decided here, once, timing G_I on this machine; from now on the config
        # holds the bool that runs, so checkpoints and config.json record what really ran
        self.bf16, reason = self._choose_bf16()
        self.cfg = cfg = replace(cfg, bf16=self.bf16)
        self.bf16_choice = {"setting": self.bf16_setting, "bf16": self.bf16, "reason": reason}
        self.precision, _ = precision_log(None, 0, self.bf16_choice)  # per session, as self.machines
        if self.rank == 0:
            print(f"precision: {reason}", flush=True)
        self.dataset = self.real_dataset()
        for m in (self.video_g, self.d_3d, self.d_img):  # built (and any data drawn through G_I) on the CPU
            m.to(self.device)
        self._build_optimizers()
        self.last_indices = []
        self.log_fields = LOG_FIELDS + self.extra_log_fields()
        self.sampler = torch.utils.data.DistributedSampler(self.dataset, self.world_size, self.rank, shuffle=True,
                                                           seed=cfg.seed, drop_last=True)
        self.step, self.epoch, self.position, self.order = 0, 0, 0, None
        self.fixed_z = torch.randn(4, self.g_size_dim, generator=torch.Generator().manual_seed(cfg.seed + 1))
        broadcast_parameters(self.motion, self.d_3d, self.d_img)
        torch.manual_seed(cfg.seed + 2)  # the training stream, identical on every rank

    # --- construction -------------------------------------------------------------------
    def _build_models(self):
        cfg = self.cfg
        g_i = load_image_generator(cfg.image_generator)
        self.image_generator_sha256 = sha256(cfg.image_generator)  # what the motion generator is tied to
        pca = load_w_pca(cfg.pca or pca_path_for(cfg.image_generator))
        n_pca = min(motion_preset(cfg.motion).n_pca, pca["comp"].shape[0])  # a small W has fewer PCs
        self.motion_cfg = motion_preset(cfg.motion, w_dim=g_i.style_dim, n_pca=n_pca, n_frames=cfg.frames)
        self.motion = build_motion(self.motion_cfg, pca)
        self.video_g = VideoGenerator(g_i, self.motion)
        self.g_size_dim = g_i.style_dim
        self.d_cfg = discriminator_config(cfg)
        self.pool_factor = check_frame_sizes(g_i.size, self.d_cfg.size)
        self.d_3d = build_video_discriminator(self.d_cfg, cross_domain=cfg.cross_domain)
        if cfg.cross_domain:
            self.d_img = build_contrastive_discriminator(self.d_cfg, self.local_batch)
        else:
            self.d_img = build_image_discriminator(self.d_cfg)
        # the trained part of the image D (the momentum copy only follows it)
        self.d_img_online = self.d_img.modelD if cfg.cross_domain else self.d_img
        if cfg.channels_last:
            g_i.memory_format = torch.channels_last

    def _choose_bf16(self) -> tuple[bool, str]:
        """Rank 0 resolves --bf16 (:func:`mocohd.hardware.choose_bf16`), the others follow it, so
        every rank renders in the same precision."""
        bf16, reason = False, ""
        if self.rank == 0:
            bf16, reason = choose_bf16(self.bf16_setting, self.device, measure=self._render_seconds,
                                       shape=self._render_shape())
        if self.world_size > 1:
            flag = torch.tensor([int(bf16)], device=self.device)  # nccl broadcasts GPU tensors only
            dist.broadcast(flag, src=0)
            bf16 = bool(flag.item())
            reason = reason or f"{'bf16 autocast' if bf16 else 'fp32'}, as rank 0 chose"
        return bf16, reason

    def _render_shape(self) -> dict:
        """What :meth:`_render_seconds` times, as the bf16 cache's key: G_I's sizes and the work."""
        g_i, cfg = self.video_g.image_generator, self.cfg
        return {"work": "video_gan: render a rank's clips through G_I and back-propagate to w",
                "generator": {"size": g_i.size, "style_dim": g_i.style_dim,
                              "channels": sorted(g_i.channels.items())},
                "clips": self.local_batch, "frames": cfg.frames, "chunk": cfg.chunk,
                "channels_last": g_i.memory_format == torch.channels_last, "threads": torch.get_num_threads()}

    def _render_seconds(self, repeats: int = 3) -> tuple[float, float]:
        """Seconds of what most of an iteration is, in fp32 and in bf16: this rank's batch of
        clips rendered through G_I (as :meth:`generate`, in chunks, with noise maps) and
        back-propagated to the latents (as a motion-generator update). Its own random numbers,
        so the training stream is untouched."""
        cfg, vg = self.cfg, self.video_g
        device = next(vg.image_generator.parameters()).device
        gen = torch.Generator().manual_seed(cfg.seed)
        with torch.no_grad():
            w0 = vg.image_generator.get_latent(torch.randn(self.local_batch, self.g_size_dim, generator=gen).to(device))
        steps = 0.1 * torch.randn(self.local_batch, cfg.frames, self.g_size_dim, generator=gen).to(device)
        w = (w0[:, None] + steps.cumsum(1)).float()
        maps = [m.to(device) for m in vg.video_noise(self.local_batch, gen)]

        def work(autocast):
            latents = w.clone().requires_grad_(True)
            with autocast:
                video = vg.render(latents, noise=maps, chunk=cfg.chunk)
            video.float().square().mean().backward()

        with torch.random.fork_rng(devices=[]):
            return time_bf16(work, device, repeats)

    def _build_optimizers(self):
        cfg = self.cfg
        self.opt_motion = torch.optim.Adam(self.motion.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
        self.opt_d3d = torch.optim.Adam(self.d_3d.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
        if cfg.cross_domain:  # the BigGAN D's settings
            self.opt_dimg = torch.optim.Adam(self.d_img_online.parameters(), lr=cfg.lr, betas=(0.0, 0.999), eps=1e-6)
        else:
            self.opt_dimg = torch.optim.Adam(self.d_img_online.parameters(), lr=cfg.lr, betas=(0.5, 0.999))

    def trainable_modules(self):
        return {"motion": self.motion, "d_3d": self.d_3d, "d_img": self.d_img}

    # --- data -----------------------------------------------------------------------------
    def real_dataset(self):
        """The real clips the discriminators learn from (a subclass may draw others)."""
        return open_video_dataset(self.cfg, self.d_cfg.size, supersample=self.pool_factor)

    def next_real(self) -> torch.Tensor:
        """This rank's share of the next global batch: (b, T, 3, S, S)."""
        if self.order is None or self.position + self.local_batch > len(self.order):
            if self.order is not None:
                self.epoch, self.position = self.epoch + 1, 0
            self.sampler.set_epoch(self.epoch)
            self.order = list(self.sampler)
            if len(self.order) < self.local_batch:
                raise ValueError(f"the dataset has {len(self.dataset)} clips, fewer than the batch ({self.cfg.batch})")
        idx = self.order[self.position: self.position + self.local_batch]
        self.position += self.local_batch
        self.last_indices = idx
        return torch.stack([self.dataset[i]["video"] for i in idx]).to(self.device)

    # --- generation -----------------------------------------------------------------------
    def autocast(self, device_type: str | None = None):
        device_type = device_type or self.device.type
        return torch.autocast(device_type, dtype=torch.bfloat16) if self.bf16 else nullcontext()

    def generate(self) -> dict:
        """A fake batch for this rank, drawn from global-batch random numbers: (b, T, 3, S, S)."""
        cfg, vg = self.cfg, self.video_g
        z = torch.randn(cfg.batch, self.g_size_dim).to(self.device)  # drawn on the CPU: see the module's note
        maps = vg.video_noise(cfg.batch)  # one noise map per video, constant over its frames
        w0 = vg.image_generator.get_latent(z)
        w, e, e_rec = self.motion(w0, cfg.frames)  # the LSTM is cheap: run it on the global batch
        part = slice(self.lo, self.lo + self.local_batch)
        with self.autocast():
            video = vg.render(w[part], noise=[m[part] for m in maps], chunk=cfg.chunk)
        return {"video": self.to_d_size(video.float()), "e": e[part], "e_rec": e_rec[part]}

    def to_d_size(self, video: torch.Tensor) -> torch.Tensor:
        return pool_to_size(video, self.d_cfg.size)

    # --- discriminator inputs -------------------------------------------------------------
    def flip(self, x: torch.Tensor) -> torch.Tensor:
        """Reverse the whole batch in time with p = 0.5: motion must look right both ways,
        so the 3D D judges how frames move, not which way time runs (an ablation switch)."""
        reverse = torch.rand(()).item() < 0.5  # drawn on every rank alike
        return torch.flip(x, [2]) if (self.cfg.temporal_flip and reverse) else x

    def video_input(self, video: torch.Tensor) -> torch.Tensor:
        return (video_input_cross_domain if self.cfg.cross_domain else video_input_in_domain)(video)

    # The discriminators run in fp32: they cost little next to the rendering (see
    # `make bench`), and the 3D D's instance norms produced NaNs under bf16 autocast.
    def d3(self, x: torch.Tensor):
        return self.d_3d(x)

    def d2(self, x: torch.Tensor, **kw):
        return self.d_img(x, **kw)

    # --- the two updates ------------------------------------------------------------------
    def g_update(self, real: torch.Tensor) -> dict:
        cfg = self.cfg
        self.d_3d.requires_grad_(False), self.d_img_online.requires_grad_(False)
        fake = self.generate()
        video = fake["video"]
        g3 = ralsgan_g_loss(self.d3(self.flip(self.video_input(real))), self.d3(self.flip(self.video_input(video))))
        k = int(torch.randint(1, cfg.frames, ()))
        logs = {"g_3d": g3.item()}
        if cfg.cross_domain:
            frame0, frame_k = video[:, 0], video[:, k]
            out_k, proj_k = self.d2(warp(frame_k))
            _, proj_0 = self.d2(warp(frame0))
            g2 = hinge_g_loss(out_k)
            match = feature_matching_loss(proj_k, proj_0)
            loss = g3 + g2 + cfg.w_match * match
            logs["match"] = match.item()
            with torch.no_grad():  # the queues hold momentum-D keys of generated frames
                keys_0 = self.d2(warp(frame0.detach()), ema=True, proj_only=True)
                keys_k = self.d2(warp(frame_k.detach()), ema=True, proj_only=True)
                self.d_img.enqueue(F.normalize(keys_0, dim=1), F.normalize(keys_k, dim=1))
        else:
            g2 = ralsgan_g_loss(self.d2(image_pair_input(real, k)), self.d2(image_pair_input(video, k)))
            loss = g3 + g2
        mi = mutual_information_loss(fake["e_rec"], fake["e"])
        if cfg.mi:
            loss = loss + mi
        if (extra := self.extra_motion_loss(fake, logs)) is not None:  # not in the paper: mocohd.lab's terms
            loss = loss + extra
        self.opt_motion.zero_grad(set_to_none=True)
        loss.backward()
        average_gradients(self.motion)
        self.opt_motion.step()
        return {**logs, "g_2d": g2.item(), "mi": mi.item(), "g_total": loss.item()}

    def d_update(self, real: torch.Tensor) -> dict:
        cfg = self.cfg
        self.d_3d.requires_grad_(True), self.d_img_online.requires_grad_(True)
        with torch.no_grad():  # the official code detaches the fakes; no_grad saves the graph
            video = self.generate()["video"]
        real_in, fake_in = self.video_input(real), self.video_input(video)
        d_real = self.d3(self.flip(real_in))
        d3 = ralsgan_d_loss(d_real, self.d3(self.flip(fake_in)))
        alpha = torch.rand(cfg.batch)[self.lo: self.lo + self.local_batch].to(self.device)
        gp = gradient_penalty(self.d_3d, real_in, fake_in, weight=cfg.w_gp, alpha=alpha)
        logs = {"d_3d": d3.item(), "gp": gp.item()}
        loss_3d = d3 + gp
        if (extra := self.extra_video_d_loss(real, d_real, logs)) is not None:  # not in the paper: mocohd.lab
            loss_3d = loss_3d + extra
        self.opt_d3d.zero_grad(set_to_none=True)
        loss_3d.backward()
        average_gradients(self.d_3d)
        self.opt_d3d.step()
        k = int(torch.randint(1, cfg.frames, ()))
        if cfg.cross_domain:
            d2, cntr = self._contrastive_d_loss(video[:, 0], video[:, k])
            loss = d2 + (cfg.w_contrastive * cntr if cfg.contrastive else 0.0)
            logs["contrastive"] = cntr.item()
        else:
            d2_real = self.d2(image_pair_input(real, k))
            d2 = ralsgan_d_loss(d2_real, self.d2(image_pair_input(video, k)))
            loss = d2
            if (extra := self.extra_image_d_loss(d2_real, k, logs)) is not None:  # not in the paper: mocohd.lab
                loss = loss + extra
        self.opt_dimg.zero_grad(set_to_none=True)
        loss.backward()
        average_gradients(self.d_img_online)
        self.opt_dimg.step()
        if cfg.cross_domain:
            self.d_img.momentum_update()
        return {**logs, "d_2d": d2.item()}

    def _contrastive_d_loss(self, frame0: torch.Tensor, frame_k: torch.Tensor):
        """Cross-domain D: generated frame 0 plays "real", frame k "fake" (hinge); two more
        augmented views of each set feed the queue-based contrastive loss."""
        out_r, _ = self.d2(warp(frame0))
        out_f, _ = self.d2(warp(frame_k))
        hinge = hinge_d_loss(out_r, out_f)
        views = [self.d2(warp(f), proj_only=True) for f in (frame0, frame0, frame_k, frame_k)]
        return hinge, queued_contrastive_loss(self.d_img, *views)

    # --- the extension point (mocohd.lab): nothing here, so the loop above is the paper's ----
    def extra_log_fields(self) -> list[str]:
        """Columns of log.csv that the extra terms fill, after the paper's."""
        return []

    def extra_motion_loss(self, fake: dict, logs: dict) -> torch.Tensor | None:
        """A term added to the motion generator's loss (``fake``: this update's generate())."""
        return None

    def extra_video_d_loss(self, real: torch.Tensor, d_real, logs: dict) -> torch.Tensor | None:
        """A term added to the 3D D's loss (``d_real``: its outputs on this update's real batch)."""
        return None

    def extra_image_d_loss(self, d2_real, k: int, logs: dict) -> torch.Tensor | None:
        """A term added to the in-domain image D's loss (``d2_real``: its outputs on the real
        (frame 0, frame k) pairs)."""
        return None

    def train_step(self) -> dict:
        real = self.next_real()
        logs = {}
        for _ in range(self.cfg.g_steps):  # none with g_steps 0: the discriminators train alone
            logs = self.g_update(real)  # the last of the G updates is logged
        logs.update(self.d_update(real))
        self.step += 1
        return logs

    # --- checkpoints ------------------------------------------------------------------------
    def state(self) -> dict:
        sd = {name: m.state_dict() for name, m in self.trainable_modules().items()}
        sd.update(opt_motion=self.opt_motion.state_dict(), opt_d3d=self.opt_d3d.state_dict(),
                  opt_dimg=self.opt_dimg.state_dict())
        return {"format": FORMAT, "version": VERSION, "config": to_dict(self.cfg), "step": self.step,
                "motion_config": to_dict(self.motion_cfg), "epoch": self.epoch, "position": self.position,
                "state_dicts": sd, "rng": rng_state(), "image_generator_sha256": self.image_generator_sha256,
                "machines": self.machines, "precision": self.precision, "trainer": self.name}

    def save(self, path: str | Path | None = None) -> Path | None:
        if self.rank != 0:
            return None
        return save_checkpoint(path or self.out / "checkpoint.pt", self.state())

    def load(self, path: str | Path) -> dict:
        """Resume from a run checkpoint (returns it, for a subclass to read its own keys)."""
        ckpt = load_checkpoint(path, FORMAT)
        if ckpt.get("trainer", self.name) not in self.resumes:  # checkpoints before 2026-12-07 do not say
            raise ValueError(f"{path} was trained by {ckpt['trainer']}, whose losses and real clips this trainer "
                             f"({self.name}) does not have: resume it with that trainer (python -m "
                             f"{ckpt['trainer']}), or train into a new --out folder")
        check_image_generator(ckpt, self.cfg.image_generator, path)
        check_same_networks(legacy_video_config(ckpt.get("config", {})), to_dict(self.cfg), path, self.shape_settings,
                            to_dict(type(self.cfg)()))
        sd = ckpt["state_dicts"]
        for name, m in self.trainable_modules().items():
            m.load_state_dict(sd[name])
        self.opt_motion.load_state_dict(sd["opt_motion"])
        self.opt_d3d.load_state_dict(sd["opt_d3d"])
        self.opt_dimg.load_state_dict(sd["opt_dimg"])
        self.step, self.epoch, self.position = ckpt["step"], ckpt["epoch"], ckpt["position"]
        if self.rank == 0:  # a run killed after logging a step but before its checkpoint, or mid-write
            trim_csv(self.out / "log.csv", self.step)
            remove_partial_writes(path)
        self.machines, change = machine_log(ckpt.get("machines"), self.step, machine_signature(self.device))
        if change and self.rank == 0:
            warnings.warn(change, stacklevel=2)
        self.precision, switched = precision_log(recorded_precision(ckpt), self.step, self.bf16_choice)
        if switched and self.rank == 0:
            before = "bf16 autocast" if self.precision[-2]["bf16"] else "fp32"
            print(f"precision: this run rendered in {before} until step {self.step} and goes on in "
                  f"{'bf16 autocast' if self.bf16 else 'fp32'} (its checkpoint's 'precision' list records both); "
                  f"pass --bf16 {'true' if self.precision[-2]['bf16'] else 'false'} to keep its precision", flush=True)
        self.sampler.set_epoch(self.epoch)
        self.order = list(self.sampler)
        set_rng_state(ckpt["rng"])
        return ckpt

    # --- logging --------------------------------------------------------------------------
    @torch.no_grad()
    def sample_videos(self, n_frames: int | None = None) -> torch.Tensor:
        """Videos for the fixed z's, without noise maps: (4, T, 3, H, W) in [-1, 1]."""
        g = torch.Generator().manual_seed(self.cfg.seed + 3)  # fixed motion noise too
        out = self.video_g(self.fixed_z.to(self.device), n_frames or self.cfg.frames, noise="none", generator=g)
        return out["video"].float().clamp(-1, 1).cpu()

    def save_samples(self) -> Path:
        from ..data.video_io import write_video
        from ..viz import video_grid

        path = self.out / "samples" / f"{self.step:06d}.gif"
        path.parent.mkdir(exist_ok=True)
        return write_video(path, video_grid(self.sample_videos(), columns=4), fps=8)

    def fit(self, steps: int | None = None, progress: bool = True) -> list[dict]:
        cfg, total = self.cfg, steps or self.cfg.steps
        history, t0 = [], time.time()
        writer = _tensorboard(self.out) if self.rank == 0 else None
        bar = tqdm(total=total, initial=self.step, disable=not progress or self.rank != 0, desc="video GAN")
        while self.step < total:
            logs = {k: mean_over_ranks(v, self.device) for k, v in self.train_step().items()}
            check_finite_losses(self, logs)  # every rank sees the same means, so every rank stops
            bar.update(1)
            if self.step % cfg.log_every == 0 or self.step == total:
                row = {"step": self.step, "seconds": round(time.time() - t0, 2), **{k: round(v, 5) for k, v in logs.items()}}
                history.append(row)
                if self.rank == 0:
                    append_csv(self.out / "log.csv", row, self.log_fields)
                    if writer:
                        for k, v in logs.items():
                            writer.add_scalar(k, v, self.step)
                bar.set_postfix({k: f"{logs[k]:.3f}" for k in ("g_total", "d_3d", "mi") if k in logs})
            if self.rank == 0 and (self.step % cfg.sample_every == 0 or self.step == total):
                self.save_samples()
            if self.step % cfg.ckpt_every == 0 or self.step == total:
                self.save()
        bar.close()
        return history


LOG_FIELDS = ["step", "seconds", "g_total", "g_3d", "g_2d", "mi", "match", "d_3d", "gp", "d_2d", "contrastive"]



def _tensorboard(out: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional
        return None
    return SummaryWriter(str(out / "tensorboard"))


def load_video_generator(path: str | Path, image_generator: str | Path | None = None) -> VideoGenerator:
    """The trained video generator (frozen G_I + motion generator) from a video-GAN checkpoint.

    ``image_generator`` overrides the G_I path stored in the checkpoint (a file that has moved);
    either way it must be the very file the motion generator was trained over (its PCA is read
    from beside it unless the config names one)."""
    return video_generator_from(load_checkpoint(path, FORMAT), path, image_generator)


def video_generator_from(ckpt: dict, path: str | Path, image_generator: str | Path | None = None) -> VideoGenerator:
    """:func:`load_video_generator` on a checkpoint already read from ``path``."""
    cfg = from_dict(VideoGANConfig, ckpt["config"])
    g_i_path = Path(image_generator) if image_generator is not None else _resolve(cfg.image_generator)
    check_image_generator(ckpt, g_i_path, path)
    g_i = load_image_generator(g_i_path)
    pca = load_w_pca(_resolve(cfg.pca) if cfg.pca else pca_path_for(g_i_path))
    from ..motion import MotionConfig

    motion = build_motion(from_dict(MotionConfig, ckpt["motion_config"]), pca)
    motion.load_state_dict(ckpt["state_dicts"]["motion"])
    return VideoGenerator(g_i, motion.eval().requires_grad_(False))


def load_discriminators(path: str | Path) -> dict:
    """The trained 3D and image discriminators of an in-domain run checkpoint, frozen:
    {"config", "d_cfg", "d_3d", "d_img", "step"}."""
    return discriminators_from(load_checkpoint(path, FORMAT), path)


def discriminators_from(ckpt: dict, path: str | Path) -> dict:
    """:func:`load_discriminators` on a checkpoint already read from ``path``."""
    cfg = from_dict(VideoGANConfig, legacy_video_config(ckpt["config"]))
    if "d_3d" not in ckpt["state_dicts"]:
        raise ValueError(f"{path} holds no discriminators (a shipped motion file keeps only the motion "
                         "generator); give the run's own checkpoint, RUN_FOLDER/checkpoint.pt")
    if cfg.cross_domain:
        raise ValueError(f"{path} is a cross-domain run: its image D judges generated frame k against generated "
                         "frame 0 and never sees real clips; give an in-domain run's checkpoint")
    d_cfg = discriminator_config(cfg)
    nets = {"d_3d": build_video_discriminator(d_cfg), "d_img": build_image_discriminator(d_cfg)}
    for name, net in nets.items():
        net.load_state_dict(ckpt["state_dicts"][name])
        # Left in train mode: that is the function the motion generator was trained against.
        # Its InstanceNorm layers (track_running_stats=True, as the official code) normalise
        # each clip by its own statistics in train mode; eval mode would switch to running
        # averages that training never used. (Forward passes update those unused averages only.)
        net.train().requires_grad_(False)
    return {"config": cfg, "d_cfg": d_cfg, "step": ckpt["step"], **nets}


def _resolve(p: str) -> Path:
    """A config path as given when it exists from here, else from the repository root."""
    return Path(p) if Path(p).exists() else resolve_path(p)


def export_motion(checkpoint: str | Path, out: str | Path, extra: dict | None = None) -> Path:
    """Keep config + motion generator only, for the small shipped files."""
    ckpt = load_checkpoint(checkpoint, FORMAT)
    keep = ("format", "version", "config", "motion_config", "step", "epoch", "position", "rng", "image_generator_sha256",
            "machines", "precision")
    small = {k: ckpt[k] for k in keep if k in ckpt}
    small["state_dicts"] = {"motion": ckpt["state_dicts"]["motion"]}
    return save_checkpoint(out, {**small, **(extra or {})})


# --------------------------------------------------------------------------------------
# Command line: python -m mocohd.train video ...


ABLATION_FLAGS = ("mi", "contrastive", "temporal_flip")  # on in every preset; --no-<flag> turns one off


def video_parser(config_cls=VideoGANConfig, prog: str = "python -m mocohd.train video") -> argparse.ArgumentParser:
    """The command line of ``python -m mocohd.train video`` (also reads back shipped commands);
    ``config_cls``: a config with more fields (mocohd.lab's) gives each its flag too."""
    p = argparse.ArgumentParser(prog=prog, description="Train the MoCoGAN-HD motion generator.")
    p.add_argument("--preset", default="full", choices=["smoke", "full", "paper"])
    p.add_argument("--out", required=True, help="run folder: checkpoint.pt, log.csv, samples/")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt if it exists")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-mi", dest="mi", action="store_false", default=None, help="ablation: no MI loss")
    p.add_argument("--no-contrastive", dest="contrastive", action="store_false", default=None,
                   help="ablation: cross-domain image D without the contrastive term")
    p.add_argument("--no-temporal-flip", dest="temporal_flip", action="store_false", default=None,
                   help="ablation: never reverse the 3D D's inputs in time")
    add_config_args(p, config_cls, skip=set(ABLATION_FLAGS))
    return p


def video_config(args, config_cls=VideoGANConfig) -> VideoGANConfig:
    """The run's config from parsed :func:`video_parser` arguments: the preset, then the flags."""
    return preset(args.preset, VIDEO_PRESETS, config_cls, **config_overrides(args, config_cls))


def video_main(argv, trainer_cls=None, config_cls=VideoGANConfig, prog: str = "python -m mocohd.train video") -> None:
    """Parse, build the trainer (``trainer_cls``, default :class:`VideoGANTrainer`), resume, train."""
    trainer_cls = trainer_cls or VideoGANTrainer
    p = video_parser(config_cls, prog)
    args = p.parse_args(argv)
    check_counts(p, args)
    if args.threads:
        torch.set_num_threads(args.threads)
    if data := args.data:
        if not data.startswith("toy:") and data != "carphone" and not Path(data).exists():
            p.error(f"--data {data}: no such folder; use toy:<domain>, carphone (the real clip) or a dataset folder")
    cfg = video_config(args, config_cls)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    # rank 0 (the one that writes the folder) holds the lock; a second run on the folder refuses to start
    lock = RunFolderLock(args.out).acquire() if int(os.environ.get("RANK", "0")) == 0 else None
    try:
        if distributed:  # launched by torchrun
            dist.init_process_group("nccl" if training_device(cfg.device).type == "cuda" else "gloo")
        trainer = trainer_cls(cfg, args.out)
        ckpt = Path(args.out) / "checkpoint.pt"
        if args.resume and ckpt.exists():
            trainer.load(ckpt)
        elif args.resume and trainer.rank == 0:
            print(resume_notice(ckpt), flush=True)
        if trainer.rank == 0:  # the trainer's config: --bf16 auto resolved to the bool that runs
            (Path(args.out) / "config.json").write_text(json.dumps(to_dict(trainer.cfg), indent=2))
        trainer.fit()
        if distributed:
            # rank 0 still writes the last samples and checkpoint; a rank that tore gloo down
            # meanwhile was now and then aborted ("terminate called without an active exception")
            dist.barrier()
    finally:
        if distributed and dist.is_initialized():
            dist.destroy_process_group()
        if lock is not None:
            lock.release()
