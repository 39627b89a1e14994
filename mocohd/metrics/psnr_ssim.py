"""PSNR and SSIM between paired videos, frame by frame, through scikit-image.

For a generated video that should equal a known one (a reconstruction, a prediction, a
compressed copy), compare each frame with its partner and average over frames and videos:

* PSNR (dB) = ``10 log10(R^2 / MSE)``, R the data range (255 for uint8, 1 for float videos,
  which are mapped from [-1, 1] to [0, 1]); identical frames give +inf, and so does the
  average that contains one.
* SSIM (Wang et al. 2004) with the paper's settings, as scikit-image's docs give them:
  an 11x11 Gaussian window of sigma 1.5, population (not sample) covariances, K1 = 0.01,
  K2 = 0.03; computed per colour channel and averaged over channels; 1 = identical. SSIM
  is not shift invariant (its luminance term compares means), so intensities must start at
  0 as in the paper: that is why float videos are moved to [0, 1] first; uint8 and float
  copies of one video then give the same SSIM and PSNR.

The arithmetic is scikit-image's (``skimage.metrics``); this file only arranges the frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from mocohd.metrics.protocol import NO_NETWORK, Protocol, Score, check_finite, mean_and_sd

SSIM_SETTINGS = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}  # Wang et al. 2004


@dataclass(frozen=True)
class PsnrSsim:
    """Averages (with their protocol) and the per-frame values ``(N, T)`` they average."""

    psnr: Score
    ssim: Score
    psnr_per_frame: np.ndarray
    ssim_per_frame: np.ndarray

    def __str__(self) -> str:
        return f"{self.psnr}\n{self.ssim}"


def as_frames(videos) -> tuple[np.ndarray, float]:
    """Videos as float64 ``(N, T, H, W, 3)`` and their data range.

    Accepts float ``(N, T, 3, H, W)`` in [-1, 1] (clamped, then mapped to [0, 1]: range 1) or
    uint8 ``(N, T, H, W, 3)`` (range 255); one video may drop the N axis."""
    x = videos.detach().cpu().numpy() if torch.is_tensor(videos) else np.asarray(videos)
    if x.ndim == 4:
        x = x[None]
    if x.ndim != 5:
        raise ValueError(f"videos must be (N, T, 3, H, W) floats in [-1, 1] or (N, T, H, W, 3) uint8, "
                         f"got shape {x.shape}")
    if x.dtype == np.uint8:
        if x.shape[-1] != 3:
            raise ValueError(f"uint8 videos must be channels-last (N, T, H, W, 3), got shape {x.shape}")
        return x.astype(np.float64), 255.0
    if not np.issubdtype(x.dtype, np.floating) or x.shape[2] != 3:
        raise ValueError(f"float videos must be (N, T, 3, H, W) in [-1, 1], got {x.dtype} shape {x.shape}")
    check_finite(torch.from_numpy(np.ascontiguousarray(x)), "videos")  # clip would keep a NaN as it is
    x = (np.clip(x.astype(np.float64), -1, 1) + 1) / 2  # [0, 1]: SSIM's luminance term needs intensities >= 0
    return x.transpose(0, 1, 3, 4, 2), 1.0


def psnr_ssim(reference, distorted, *, resize: str | None = None, stride: int | None = None) -> PsnrSsim:
    """Per-frame PSNR and SSIM of ``distorted`` against ``reference`` (same shape and kind),
    averaged over all frames of all videos; ``sd`` is the spread over frames."""
    ref, data_range = as_frames(reference)
    test, test_range = as_frames(distorted)
    if ref.shape != test.shape or data_range != test_range:
        raise ValueError(f"reference {ref.shape} and distorted {test.shape} videos must have the same shape and "
                         "kind (both float in [-1, 1] or both uint8)")
    n, t = ref.shape[:2]
    psnr, ssim = np.empty((n, t)), np.empty((n, t))
    for i in range(n):
        for j in range(t):
            with np.errstate(divide="ignore"):  # identical frames: MSE 0, PSNR +inf, on purpose
                psnr[i, j] = peak_signal_noise_ratio(ref[i, j], test[i, j], data_range=data_range)
            ssim[i, j] = structural_similarity(ref[i, j], test[i, j], data_range=data_range, channel_axis=-1,
                                               **SSIM_SETTINGS)
    protocol = Protocol(n_videos=n, frames=t, stride=stride, resize=resize, network="none (pixels)",
                        weights_sha256=NO_NETWORK, notes=f"scikit-image, data range {data_range:g}, per frame")
    return PsnrSsim(_score("PSNR (dB)", psnr, protocol), _score("SSIM", ssim, protocol), psnr, ssim)


def _score(name: str, values: np.ndarray, protocol: Protocol) -> Score:
    mean, sd = mean_and_sd(values)
    return Score(name, mean, protocol, sd)
