"""The discriminators of MoCoGAN-HD.

Three critics judge the generated videos:

* the **in-domain image discriminator**: a two-scale PatchGAN (pix2pixHD style) that sees
  a pair of frames, frame 0 and a random frame k, stacked into 6 channels. Because it is
  conditioned on frame 0 it can tell whether frame k still shows the *same* content;
* the **video discriminator**: the same PatchGAN design with 3D convolutions, so each
  output cell judges a small space-time patch. In-domain it sees frame 0 stacked onto
  every later frame; cross-domain it sees the plain clip;
* the **cross-domain contrastive image discriminator**: a BigGAN-style residual network
  with spectral norm, a projection head and MoCo queues; it has its own file,
  ``contrastive_discriminator.py`` (see notebook 03).

The PatchGANs are built by one code path for 2D and 3D (``dims=2|3``). Module names follow
the official code so that its checkpoints (``modelD_img_*.pth``, ``modelD_3d_*.pth``) load
with :func:`load_official_state_dict`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

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
    ndf: int = 64  # first PatchGAN width of the finest scale (doubles per layer up to 512)
    # "official": scale i's first conv is min(64, ndf * 2**(num_D - 1 - i)) wide (vid2vid's rule:
    # the coarser scales are wider, up to 64); "flat": ndf at every scale (mocohd before
    # 2026-12-07; the runs trained then keep it). The two agree at ndf 64.
    widths: str = "official"
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


WIDTH_RULES = ("official", "flat")
NDF_MAX = 64  # vid2vid's cap on a coarser scale's first width


def scale_width(ndf: int, i: int, num_D: int, rule: str = "official") -> int:
    """First-conv width of PatchGAN scale ``i`` of ``num_D`` (scale 0 sees the coarsest input).

    The official code (vid2vid's ``MultiscaleDiscriminator``) gives the coarser scales more
    channels, ``min(64, ndf * 2**(num_D - 1 - i))``: a coarse scale sees fewer pixels, so it
    can afford them. With the default ndf 64 every scale is 64 wide; at ndf 32 the coarse
    scale of two is 64 wide."""
    if rule not in WIDTH_RULES:
        raise ValueError(f"widths={rule!r}: use 'official' (vid2vid's rule) or 'flat' (ndf at every scale)")
    if rule == "flat":
        return ndf
    return min(NDF_MAX, ndf * 2 ** (num_D - 1 - i))


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
        ndf: width of the first conv of the finest scale.
        n_layers: strided convs per scale.
        num_D: number of scales.
        dims: 2 for images (B, C, H, W), 3 for videos (B, C, T, H, W).
        frames: clip length T (3D only): for T <= 16 the coarser scales are pooled in
            space only, so short clips keep their time resolution; longer clips are
            pooled in time too.
        widths: "official" (the coarser scales wider, see :func:`scale_width`) or "flat".

    ``forward(x)`` returns a list over scales (finest first) of lists of intermediate
    maps; the last map of each scale holds the patch logits.
    """

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, num_D: int = 2,
                 dims: int = 2, frames: int = 16, widths: str = "official"):
        super().__init__()
        _, _, pool = _layers_by_dims(dims)
        self.num_D, self.n_stages, self.dims = num_D, n_layers + 2, dims
        for i in range(num_D):
            width = scale_width(ndf, i, num_D, widths)
            for j, stage in enumerate(patch_layers(in_channels, width, n_layers, dims)):
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
    return MultiscalePatchDiscriminator(2 * cfg.channels, cfg.ndf, cfg.n_layers, cfg.num_D, dims=2, widths=cfg.widths)


def build_video_discriminator(cfg: DiscriminatorConfig, cross_domain: bool = False) -> MultiscalePatchDiscriminator:
    """Video D: in-domain sees 2 x channels over T-1 frames; cross-domain the plain clip."""
    in_channels = cfg.channels if cross_domain else 2 * cfg.channels
    frames = cfg.frames if cross_domain else cfg.frames - 1
    return MultiscalePatchDiscriminator(in_channels, cfg.ndf, cfg.n_layers, cfg.num_D, dims=3, frames=frames,
                                        widths=cfg.widths)


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
