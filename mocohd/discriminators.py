"""The discriminators of MoCoGAN-HD.

Three critics judge the generated videos:

* the **in-domain image discriminator**: a two-scale PatchGAN (pix2pixHD style) that sees
  a pair of frames, frame 0 and a random frame k, stacked into 6 channels. Because it is
  conditioned on frame 0 it can tell whether frame k still shows the *same* content;
* the **video discriminator**: the same PatchGAN design with 3D convolutions, so each
  output cell judges a small space-time patch. In-domain it sees frame 0 stacked onto
  every later frame; cross-domain it sees the plain clip;
* the **cross-domain contrastive image discriminator**: a BigGAN-style residual network
  with spectral norm, a GAN head and a projection head, plus a momentum copy and two
  queues of projections (MoCo). It never sees dataset images: "real" is generated frame 0,
  "fake" is generated frame k (see notebook 03).

The PatchGANs are built by one code path for 2D and 3D (``dims=2|3``). Module names follow
the official code so that its checkpoints (``modelD_img_*.pth``, ``modelD_3d_*.pth``) load
with :func:`load_official_state_dict`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from mocohd.losses import contrastive_loss
from mocohd.state_dicts import mismatch_lines, shapes_of, strip_prefix

# --------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscriminatorConfig:
    """Sizes of all three discriminators. ``preset("paper")`` is the official setting."""

    size: int = 128  # the discriminators see size x size frames
    frames: int = 16  # frames per clip (n_frames_G)
    channels: int = 3  # colour channels of one frame
    num_D: int = 2  # scales of the PatchGANs
    n_layers: int = 3  # strided convs per PatchGAN scale
    ndf: int = 64  # first PatchGAN width (doubles per layer up to 512)
    d_ch: int = 96  # BigGAN D base width
    proj_dim: int = 256  # projection head size (l_len)
    q_len: int = 4096  # queue length per set (real, fake)
    moco_m: float = 0.999  # momentum of the key discriminator
    moco_t: float = 0.07  # temperature of the contrastive loss

    @classmethod
    def preset(cls, name: str) -> "DiscriminatorConfig":
        """``paper`` (128x128, official widths), ``full`` (64x64) or ``smoke`` (32x32)."""
        presets = {
            "paper": cls(),
            # CPU presets: same design, narrower, on smaller frames and shorter queues.
            "full": cls(size=64, frames=16, ndf=32, d_ch=32, proj_dim=128, q_len=1024),
            "smoke": cls(size=32, frames=8, ndf=16, d_ch=16, proj_dim=64, q_len=256),
        }
        if name not in presets:
            raise ValueError(f"unknown discriminator preset {name!r}; choose one of {sorted(presets)}")
        return presets[name]

    @classmethod
    def for_size(cls, size: int) -> "DiscriminatorConfig":
        """The preset for frames of ``size`` pixels: 32 -> smoke, 64 -> full, 128 -> paper."""
        names = {32: "smoke", 64: "full", 128: "paper"}
        if size not in names:
            raise ValueError(f"no discriminator preset for size={size!r}; use 32, 64 or 128")
        return cls.preset(names[size])

    def with_(self, **changes) -> "DiscriminatorConfig":
        """A copy with some fields changed, e.g. ``cfg.with_(q_len=512)``."""
        return replace(self, **changes)


# --------------------------------------------------------------------------------------
# PatchGAN discriminators (2D and 3D from one code path)
# --------------------------------------------------------------------------------------


def _layers_by_dims(dims: int):
    if dims == 2:
        return nn.Conv2d, nn.InstanceNorm2d, nn.AvgPool2d
    if dims == 3:
        return nn.Conv3d, nn.InstanceNorm3d, nn.AvgPool3d
    raise ValueError(f"dims={dims!r} is not supported; use dims=2 (images) or dims=3 (videos)")


def patch_layers(in_channels: int, ndf: int = 64, n_layers: int = 3, dims: int = 2) -> list[nn.Sequential]:
    """The ``n_layers + 2`` stages of one PatchGAN scale, each an ``nn.Sequential``.

    kernel 4, padding 2; strides 2 (n_layers times), then 1, 1; widths ndf, 2ndf, ...
    capped at 512, then 1. No norm after the first conv; InstanceNorm (no affine, with
    running statistics, as the official ``--norm_D_3d instance``) after the others.
    In 3D the strides apply to time as well.
    """
    conv, norm, _ = _layers_by_dims(dims)

    def stage(c_in: int, c_out: int, stride: int, use_norm: bool) -> nn.Sequential:
        parts: list[nn.Module] = [conv(c_in, c_out, kernel_size=4, stride=stride, padding=2)]
        if use_norm:
            parts.append(norm(c_out, affine=False, track_running_stats=True))
        parts.append(nn.LeakyReLU(0.2))
        return nn.Sequential(*parts)

    stages = [stage(in_channels, ndf, 2, use_norm=False)]
    width = ndf
    for _ in range(1, n_layers):
        stages.append(stage(width, min(width * 2, 512), 2, use_norm=True))
        width = min(width * 2, 512)
    stages.append(stage(width, min(width * 2, 512), 1, use_norm=True))
    width = min(width * 2, 512)
    stages.append(nn.Sequential(conv(width, 1, kernel_size=4, stride=1, padding=2)))  # logits
    return stages


def init_patch_weights(module: nn.Module) -> None:
    """Conv weights ~ N(0, 0.02), as pix2pixHD's ``weights_init`` (biases keep PyTorch's init)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d)):
            nn.init.normal_(m.weight, 0.0, 0.02)


def _run_stages(stages: list[nn.Module], x: torch.Tensor) -> list[torch.Tensor]:
    feats = []
    for stage in stages:
        x = stage(x)
        feats.append(x)
    return feats  # every intermediate output; the logits map is last


class PatchDiscriminator(nn.Module):
    """One PatchGAN scale (pix2pixHD ``NLayerDiscriminator`` with ``getIntermFeat``).

    ``forward(x)`` returns the list of ``n_layers + 2`` intermediate maps, logits last.
    x is (B, C, H, W) for ``dims=2`` or (B, C, T, H, W) for ``dims=3``.
    """

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, dims: int = 2):
        super().__init__()
        self.n_stages = n_layers + 2
        for j, stage in enumerate(patch_layers(in_channels, ndf, n_layers, dims)):
            setattr(self, f"model{j}", stage)  # pix2pixHD's names
        init_patch_weights(self)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return _run_stages([getattr(self, f"model{j}") for j in range(self.n_stages)], x)


class MultiscalePatchDiscriminator(nn.Module):
    """``num_D`` PatchGANs, each on a 2x coarser copy of the input (pix2pixHD ``MultiscaleDiscriminator``).

    Args:
        in_channels: 6 for frame pairs / in-domain videos, 3 for plain clips.
        ndf: width of the first conv of every scale.
        n_layers: strided convs per scale.
        num_D: number of scales.
        dims: 2 for images (B, C, H, W), 3 for videos (B, C, T, H, W).
        frames: clip length T (3D only): for T <= 16 the coarser scales are pooled in
            space only, so short clips keep their time resolution; longer clips are
            pooled in time too.

    ``forward(x)`` returns a list over scales (finest first) of lists of intermediate
    maps; the last map of each scale holds the patch logits.
    """

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, num_D: int = 2,
                 dims: int = 2, frames: int = 16):
        super().__init__()
        _, _, pool = _layers_by_dims(dims)
        self.num_D, self.n_stages, self.dims = num_D, n_layers + 2, dims
        for i in range(num_D):
            for j, stage in enumerate(patch_layers(in_channels, ndf, n_layers, dims)):
                setattr(self, f"scale{i}_layer{j}", stage)  # official checkpoint names
        stride = 2 if dims == 2 or frames > 16 else (1, 2, 2)
        self.downsample = pool(3, stride=stride, padding=1, count_include_pad=False)
        init_patch_weights(self)

    def scale_stages(self, i: int) -> list[nn.Module]:
        return [getattr(self, f"scale{i}_layer{j}") for j in range(self.n_stages)]

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        expected = self.dims + 2
        if x.dim() != expected:
            raise ValueError(f"expected a {expected}-D input for dims={self.dims}, got shape {tuple(x.shape)}"
                             + ("; videos are (B, C, T, H, W), see video_input_*" if self.dims == 3 else ""))
        outputs = []
        for i in range(self.num_D):
            # As in pix2pixHD, the finest input goes through the modules named
            # scale{num_D-1}, the coarsest through scale0 (this matters only for loading).
            outputs.append(_run_stages(self.scale_stages(self.num_D - 1 - i), x))
            if i != self.num_D - 1:
                x = self.downsample(x)
        return outputs


def build_image_discriminator(cfg: DiscriminatorConfig) -> MultiscalePatchDiscriminator:
    """In-domain image D: sees (frame 0, frame k) pairs, 2 x channels."""
    return MultiscalePatchDiscriminator(2 * cfg.channels, cfg.ndf, cfg.n_layers, cfg.num_D, dims=2)


def build_video_discriminator(cfg: DiscriminatorConfig, cross_domain: bool = False) -> MultiscalePatchDiscriminator:
    """Video D: in-domain sees 2 x channels over T-1 frames; cross-domain the plain clip."""
    in_channels = cfg.channels if cross_domain else 2 * cfg.channels
    frames = cfg.frames if cross_domain else cfg.frames - 1
    return MultiscalePatchDiscriminator(in_channels, cfg.ndf, cfg.n_layers, cfg.num_D, dims=3, frames=frames)


# --------------------------------------------------------------------------------------
# Inputs of the PatchGANs
# --------------------------------------------------------------------------------------


def _check_video(video: torch.Tensor) -> None:
    if video.dim() != 5:
        raise ValueError(f"expected a video batch (B, T, C, H, W), got shape {tuple(video.shape)}")


def image_pair_input(video: torch.Tensor, k: int) -> torch.Tensor:
    """(B, T, C, H, W) -> (B, 2C, H, W): frame 0 and frame k stacked on channels."""
    _check_video(video)
    if not 1 <= k < video.shape[1]:
        raise ValueError(f"frame index k={k} must be in 1..{video.shape[1] - 1} (T={video.shape[1]})")
    return torch.cat([video[:, 0], video[:, k]], dim=1)


def video_input_in_domain(video: torch.Tensor) -> torch.Tensor:
    """(B, T, C, H, W) -> (B, 2C, T-1, H, W): frame 0 stacked onto each of frames 1..T-1."""
    _check_video(video)
    rest = video[:, 1:]  # (B, T-1, C, H, W)
    first = video[:, :1].expand_as(rest)  # (B, T-1, C, H, W)
    return torch.cat([first, rest], dim=2).transpose(1, 2)  # (B, 2C, T-1, H, W)


def video_input_cross_domain(video: torch.Tensor) -> torch.Tensor:
    """(B, T, C, H, W) -> (B, C, T, H, W): the plain clip, channels first."""
    _check_video(video)
    return video.transpose(1, 2)


# --------------------------------------------------------------------------------------
# BigGAN-style contrastive image discriminator (cross-domain)
# --------------------------------------------------------------------------------------


def biggan_arch(resolution: int, ch: int) -> list[tuple[int, int, bool]]:
    """(in_channels, out_channels, downsample) per residual block, as BigGAN's ``D_arch``."""
    widths = {  # multiples of ch: in of block 0 is RGB
        128: ([1, 2, 4, 8, 16, 16], [True] * 5 + [False]),
        64: ([1, 2, 4, 8, 16], [True] * 4 + [False]),
        32: ([4, 4, 4, 4], [True, True, False, False]),
    }
    if resolution not in widths:
        raise ValueError(f"BigGAN discriminator resolution {resolution} not supported; use one of {sorted(widths)}")
    mults, downs = widths[resolution]
    outs = [m * ch for m in mults]
    ins = [3] + outs[:-1]
    return list(zip(ins, outs, downs))


def _sn_conv(c_in: int, c_out: int, kernel: int) -> nn.Module:
    return spectral_norm(nn.Conv2d(c_in, c_out, kernel_size=kernel, padding=kernel // 2))


class DBlock(nn.Module):
    """Residual block: [ReLU] conv3 ReLU conv3 [avgpool2] + shortcut (1x1 SN conv if needed)."""

    def __init__(self, c_in: int, c_out: int, downsample: bool, preactivation: bool):
        super().__init__()
        self.preactivation, self.downsample = preactivation, downsample
        self.conv1 = _sn_conv(c_in, c_out, 3)  # "wide": hidden width = c_out
        self.conv2 = _sn_conv(c_out, c_out, 3)
        self.learnable_sc = c_in != c_out or downsample
        if self.learnable_sc:
            self.conv_sc = _sn_conv(c_in, c_out, 1)

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 2) if self.downsample else x

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if not self.learnable_sc:
            return self._pool(x)
        # Pre-activated blocks project then pool; the first block pools then projects.
        return self._pool(self.conv_sc(x)) if self.preactivation else self.conv_sc(self._pool(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        return self._pool(h) + self.shortcut(x)


class BigGANDiscriminator(nn.Module):
    """BigGAN ResNet discriminator with a projection head; spectral norm on every conv/linear.

    ``forward(x, proj_only=False)``: x (B, 3, R, R) -> ``(out (B, 1), proj (B, proj_dim))``,
    or just ``proj`` when ``proj_only``. Shared trunk h = ReLU(proj0(sum-pooled features));
    GAN head ``linear(h)``; projection head ``proj2(ReLU(proj1(h)))``.
    """

    def __init__(self, resolution: int = 128, d_ch: int = 96, proj_dim: int = 256, init: bool = True):
        super().__init__()
        self.resolution, self.d_ch, self.proj_dim = resolution, d_ch, proj_dim
        arch = biggan_arch(resolution, d_ch)
        # Each block sits in its own one-element ModuleList, so the parameter names match
        # the official checkpoints ("blocks.3.0.conv1.weight_orig").
        self.blocks = nn.ModuleList(
            nn.ModuleList([DBlock(c_in, c_out, down, preactivation=i > 0)])
            for i, (c_in, c_out, down) in enumerate(arch)
        )
        last = arch[-1][1]
        self.proj0 = spectral_norm(nn.Linear(last, proj_dim))
        self.proj1 = spectral_norm(nn.Linear(proj_dim, proj_dim))
        self.proj2 = spectral_norm(nn.Linear(proj_dim, proj_dim))
        self.linear = spectral_norm(nn.Linear(proj_dim, 1))
        if init:
            self.init_weights()

    def init_weights(self) -> None:
        """BigGAN's 'ortho' init, on the weights before spectral normalisation."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.orthogonal_(m.weight_orig)

    def clone(self) -> "BigGANDiscriminator":
        """An independent copy with the same weights (``copy.deepcopy`` fails on spectral-normed
        modules once they have run a forward pass with gradients)."""
        twin = BigGANDiscriminator(self.resolution, self.d_ch, self.proj_dim, init=False)
        twin.load_state_dict(self.state_dict())
        return twin.to(next(self.parameters()).device)

    def forward(self, x: torch.Tensor, proj_only: bool = False):
        if x.dim() != 4 or x.shape[-1] != self.resolution or x.shape[-2] != self.resolution:
            raise ValueError(f"expected images (B, 3, {self.resolution}, {self.resolution}), got {tuple(x.shape)}")
        h = x
        for (block,) in self.blocks:
            h = block(h)
        h = F.relu(h).sum(dim=(2, 3))  # (B, C): sum-pool, as BigGAN
        h = F.relu(self.proj0(h))  # (B, proj_dim)
        proj = self.proj2(F.relu(self.proj1(h)))  # (B, proj_dim)
        if proj_only:
            return proj
        return self.linear(h), proj  # (B, 1), (B, proj_dim)


class ContrastiveImageDiscriminator(nn.Module):
    """The cross-domain image D: online BigGAN D, its momentum copy, and two projection queues.

    * ``modelD`` is trained; ``modelD_ema`` (the MoCo "key encoder") follows it by
      ``momentum_update()``: theta_k <- m theta_k + (1 - m) theta_q, with m = 0.999;
    * ``q_real`` / ``q_fake`` (q_len x proj_dim) hold key projections of augmented frame 0
      ("real") and frame k ("fake") from past steps: negatives for the contrastive loss
      that are cheap (no gradient) and many (far more than a CPU batch).

    The queues' effective length is ``q_len // batch_size * batch_size`` (as official, so
    that whole batches fit); they share one pointer that wraps around.
    """

    def __init__(self, cfg: DiscriminatorConfig, batch_size: int):
        super().__init__()
        if not 1 <= batch_size <= cfg.q_len:
            raise ValueError(f"batch_size={batch_size} must be in 1..q_len={cfg.q_len}")
        self.m, self.temperature = cfg.moco_m, cfg.moco_t
        self.modelD = BigGANDiscriminator(cfg.size, cfg.d_ch, cfg.proj_dim)
        self.modelD_ema = self.modelD.clone()
        for p in self.modelD_ema.parameters():
            p.requires_grad_(False)
        # Random unit *columns* (normalised over dim 0), as the official initial queues.
        self.register_buffer("q_real", F.normalize(torch.randn(cfg.q_len, cfg.proj_dim), dim=0))
        self.register_buffer("q_fake", F.normalize(torch.randn(cfg.q_len, cfg.proj_dim), dim=0))
        self.register_buffer("q_ptr", torch.zeros(1, dtype=torch.long))
        self.q_len = cfg.q_len // batch_size * batch_size

    def forward(self, x: torch.Tensor, ema: bool = False, proj_only: bool = False):
        return (self.modelD_ema if ema else self.modelD)(x, proj_only=proj_only)

    @torch.no_grad()
    def momentum_update(self) -> None:
        for p, p_ema in zip(self.modelD.parameters(), self.modelD_ema.parameters()):
            p_ema.mul_(self.m).add_(p.detach(), alpha=1.0 - self.m)

    @torch.no_grad()
    def enqueue(self, real_proj: torch.Tensor, fake_proj: torch.Tensor) -> None:
        """Write a batch of key projections (B, proj_dim) into both queues and move the pointer."""
        n = real_proj.shape[0]
        if fake_proj.shape != real_proj.shape or n > self.q_len:
            raise ValueError(f"enqueue needs two (B, proj_dim) batches with B <= {self.q_len}; got "
                             f"{tuple(real_proj.shape)} and {tuple(fake_proj.shape)}")
        ptr = int(self.q_ptr)
        rows = (ptr + torch.arange(n)) % self.q_len
        self.q_real[rows] = real_proj.to(self.q_real)
        self.q_fake[rows] = fake_proj.to(self.q_fake)
        self.q_ptr[0] = (ptr + n) % self.q_len

    def contrastive_loss(self, real1: torch.Tensor, real2: torch.Tensor,
                         fake1: torch.Tensor, fake2: torch.Tensor) -> torch.Tensor:
        """Queue-based InfoNCE on two views of the real set plus two views of the fake set."""
        real = contrastive_loss(real1, real2, self.q_real[: self.q_len], self.temperature)
        fake = contrastive_loss(fake1, fake2, self.q_fake[: self.q_len], self.temperature)
        return real + fake


def build_contrastive_discriminator(cfg: DiscriminatorConfig, batch_size: int) -> ContrastiveImageDiscriminator:
    return ContrastiveImageDiscriminator(cfg, batch_size)


# --------------------------------------------------------------------------------------
# Official checkpoints
# --------------------------------------------------------------------------------------


class StateDictMismatch(ValueError):
    """A state dict does not fit a module; the message lists every problem at once."""


def load_official_state_dict(module: nn.Module, state_dict: dict) -> nn.Module:
    """Load an official MoCoGAN-HD discriminator state dict into ``module``.

    Accepts ``modelD_img_*.pth`` / ``modelD_3d_*.pth`` as saved by the official code (DDP
    ``module.`` prefix) or without the prefix. The official PatchGANs sit under a ``netD.``
    attribute of their wrapper; that prefix is dropped too when ``module`` is the bare
    :class:`MultiscalePatchDiscriminator`. Raises :class:`StateDictMismatch` listing all
    missing, unexpected and mis-shaped keys, and loads nothing in that case.
    """
    sd = strip_prefix(state_dict, "module.")
    own = shapes_of(module)
    if not any(k.startswith("netD.") for k in own):
        sd = strip_prefix(sd, "netD.")
    problems = mismatch_lines(own, sd)
    if problems:
        raise StateDictMismatch("\n".join([f"the state dict does not fit {type(module).__name__} (check the "
                                           "preset/config it was trained with: size, ndf, d_ch, proj_dim, q_len, "
                                           "cross_domain):", *problems]))
    module.load_state_dict(sd, strict=True)
    return module
