"""Drift over long videos, frame by frame, for generated and real clips alike.

A motion generator trained on 16 frames may be asked for 256 (``mocohd.generate``). Past its
training length, nothing held its path in check: these curves show where it goes, each a
``(B, T)`` tensor (one value per clip and frame, 0 at frame 0 where it is a change from there):

* ``w_sigma``: |w_t - w_0| in sigma along the motion generator's PCA directions (the norm of
  :func:`mocohd.motion.pca_coordinates`); generated clips only. Two random faces' w_0 lie
  about 14 sigma apart in the shipped faces model's 96 directions.
* ``identity``: the mean over identity factors (skin, hair, face shape, sky colours) of
  |f_t - f_0|, as the toy feature network reads them off the frames, each factor in units of
  its spread over real clips' identities (1 = another clip's identity, typically).
* ``motion_step``: the mean over motion factors (eyes, mouth, yaw, pitch) of |f_t - f_{t-1}|,
  how much the motion moves per frame (faces and animals; the sky's motion is not readable
  from one frame, so its clips have ``pixel_step`` only);
* ``pixel_step``: the mean absolute pixel change from frame t-1 to t (every domain);
* ``colour``: the mean over R, G, B of |mean colour_t - mean colour_0| (frames in [-1, 1]).

Real toy clips of the same length (the toy world draws any length up to 256) give each
curve's real range; :func:`leaves_range` says at which frame a method's median clip leaves it.
"""

from __future__ import annotations

import torch

from ..motion import MotionGenerator, pca_coordinates
from .motion_stats import check_factors, is_motion_factor
from .toy_features import ToyFeatureNet, video_factors

MEASURES = ("w_sigma", "identity", "motion_step", "pixel_step", "colour")


def _check_video(video: torch.Tensor) -> None:
    if video.dim() != 5 or video.shape[2] != 3:
        raise ValueError(f"expected clips (B, T, 3, H, W) in [-1, 1], got shape {tuple(video.shape)}")


def w_distance(motion: MotionGenerator, w: torch.Tensor) -> torch.Tensor:
    """W path (B, T, D) -> (B, T): the distance of w_t from w_0 in sigma along the PCA directions."""
    return pca_coordinates(motion, w).norm(dim=-1)


def identity_scale(factors: torch.Tensor, names: list[str]) -> torch.Tensor:
    """Real clips' factors (N, T, F) -> (F_id,): each identity factor's spread over clips at frame 0."""
    check_factors(factors, names)
    identity = ~is_motion_factor(names)
    return factors[:, 0, identity].std(dim=0).clamp_min(1e-6)


def identity_drift(factors: torch.Tensor, names: list[str], scale: torch.Tensor | None = None) -> torch.Tensor:
    """(B, T, F) -> (B, T): the mean over identity factors of |f_t - f_0|, each divided by its
    ``scale`` (:func:`identity_scale` of real clips; None: the toy world's own units)."""
    check_factors(factors, names)
    identity = factors[..., ~is_motion_factor(names)]  # (B, T, F_id)
    change = (identity - identity[:, :1]).abs()
    return (change / scale if scale is not None else change).mean(dim=-1)


def motion_step(factors: torch.Tensor, names: list[str]) -> torch.Tensor:
    """(B, T, F) -> (B, T): the mean over motion factors of |f_t - f_{t-1}|, 0 at frame 0."""
    check_factors(factors, names)
    motion = is_motion_factor(names)
    if not motion.any():
        raise ValueError("these factors have no motion factor (the sky's are not readable from a frame); "
                         "measure pixel_step(video) instead")
    steps = (factors[:, 1:, motion] - factors[:, :-1, motion]).abs().mean(dim=-1)  # (B, T-1)
    return torch.cat([steps.new_zeros(steps.shape[0], 1), steps], dim=1)


def pixel_step(video: torch.Tensor) -> torch.Tensor:
    """(B, T, 3, H, W) -> (B, T): the mean |x_t - x_{t-1}| over pixels and channels, 0 at frame 0."""
    _check_video(video)
    steps = (video[:, 1:] - video[:, :-1]).abs().mean(dim=(2, 3, 4))  # (B, T-1)
    return torch.cat([steps.new_zeros(steps.shape[0], 1), steps], dim=1)


def colour_drift(video: torch.Tensor) -> torch.Tensor:
    """(B, T, 3, H, W) -> (B, T): the mean over R, G, B of |mean colour_t - mean colour_0|."""
    _check_video(video)
    colour = video.mean(dim=(3, 4))  # (B, T, 3)
    return (colour - colour[:, :1]).abs().mean(dim=-1)


@torch.no_grad()
def drift_curves(video: torch.Tensor, domain: str, net: ToyFeatureNet | None = None,
                 scale: torch.Tensor | None = None, w: torch.Tensor | None = None,
                 motion: MotionGenerator | None = None) -> dict[str, torch.Tensor]:
    """Every curve of the module for clips (B, T, 3, H, W) of a toy ``domain``: {measure: (B, T)}.
    ``w_sigma`` only with the path ``w`` and its ``motion`` generator; ``motion_step`` only where
    the domain's motion factors are readable; ``scale``: :func:`identity_scale` of real clips."""
    factors, names = video_factors(video, domain, net)
    curves = {"identity": identity_drift(factors, names, scale), "pixel_step": pixel_step(video),
              "colour": colour_drift(video)}
    if is_motion_factor(names).any():
        curves["motion_step"] = motion_step(factors, names)
    if w is not None and motion is not None:
        curves["w_sigma"] = w_distance(motion, w)
    return {k: curves[k] for k in MEASURES if k in curves}


# --------------------------------------------------------------------------------------
# The real clips' range, and where a method leaves it


def real_band(reference: torch.Tensor, q: float = 0.95, pooled: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Real clips' curves (N, T) -> per-frame (lower, upper): the 1-q and q quantiles of the
    values. ``pooled``: at frame t, over every clip and every frame 1..t (what real clips have
    shown by then; steadier than one frame's N values, and never narrower later); else over
    the clips at frame t alone. Frame 0 takes frame 1's band."""
    if reference.dim() != 2 or reference.shape[1] < 2:
        raise ValueError(f"expected curves (N clips, T >= 2 frames), got shape {tuple(reference.shape)}")
    if not 0.5 <= q <= 1:
        raise ValueError(f"q must be a quantile from 0.5 to 1 (1: the real clips' max), got {q!r}")
    if not pooled:
        return torch.quantile(reference, 1 - q, dim=0), torch.quantile(reference, q, dim=0)
    sets = [reference[:, 1:max(t, 1) + 1].flatten() for t in range(reference.shape[1])]
    return (torch.stack([torch.quantile(v, 1 - q) for v in sets]), torch.stack([torch.quantile(v, q) for v in sets]))


def median_clip(curve: torch.Tensor) -> torch.Tensor:
    """(B, T) or (T,) -> (T,): the median over clips, frame by frame. (Made contiguous first:
    torch 2.13's median over an expanded, stride-0 tensor returns wrong values.)"""
    curve = curve[None] if curve.dim() == 1 else curve
    return curve.contiguous().median(dim=0).values


def _per_frame(bound, frames: int) -> torch.Tensor | None:
    if bound is None:
        return None
    bound = torch.as_tensor(bound, dtype=torch.float32)
    if bound.dim() == 0:
        return bound.expand(frames)
    if bound.shape != (frames,):
        raise ValueError(f"a bound must be one number or one per frame ({frames}), got shape {tuple(bound.shape)}")
    return bound


def leaves_range(curve: torch.Tensor, upper=None, lower=None, hold: int = 3, start: int = 1) -> int | None:
    """The first frame from ``start`` on at which the median clip of ``curve`` ((B, T), or one
    clip (T,)) is above ``upper`` or below ``lower`` (each one number, or one per frame, or
    None) and stays out for ``hold`` frames in a row; None when it never leaves (a curve that
    leaves in its last ``hold - 1`` frames is not counted)."""
    median = median_clip(curve)  # (T,)
    frames = median.shape[0]
    out = torch.zeros(frames, dtype=torch.bool)
    if (hi := _per_frame(upper, frames)) is not None:
        out |= median > hi
    if (lo := _per_frame(lower, frames)) is not None:
        out |= median < lo
    for t in range(start, frames - hold + 1):
        if out[t:t + hold].all():
            return t
    return None


def share_out(curve: torch.Tensor, upper=None, lower=None, start: int = 1) -> float:
    """The share of frames from ``start`` on at which the median clip of ``curve`` is out of
    the range: 0 for a method that never leaves it, near 1 for one that leaves for good."""
    frames = curve.shape[-1]
    median = median_clip(curve)[start:]
    out = torch.zeros_like(median, dtype=torch.bool)
    if upper is not None:
        out |= median > _per_frame(upper, frames)[start:]
    if lower is not None:
        out |= median < _per_frame(lower, frames)[start:]
    return out.float().mean().item()


def breakdown_frames(curves: dict[str, torch.Tensor], bands: dict[str, tuple], hold: int = 3) -> dict:
    """{measure: frame or None} for one method's curves against {measure: (lower, upper)}
    bands (from :func:`real_band`, or a bound of the model's own, e.g. the W distance its
    paths reach within the training length); measures without a band are left out."""
    return {name: leaves_range(curve, upper=bands[name][1], lower=bands[name][0], hold=hold)
            for name, curve in curves.items() if name in bands}
