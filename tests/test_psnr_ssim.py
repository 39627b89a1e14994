import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mocohd.data.real_clip import carphone_clip
from mocohd.metrics.psnr_ssim import psnr_ssim

FRAMES = 6


@pytest.fixture(scope="module")
def carphone():
    """The real clip's face crop (112x112), pristine and hard-compressed: uint8 (T, H, W, 3)."""
    pristine = carphone_clip("pristine", size=None, frames=FRAMES, time_step=10, uint8=True)
    distorted = carphone_clip("distorted", size=None, frames=FRAMES, time_step=10, uint8=True)
    return np.asarray(pristine), np.asarray(distorted)


def psnr_by_hand(a: np.ndarray, b: np.ndarray, data_range: float) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(data_range ** 2 / mse)


def ssim_by_hand(a: np.ndarray, b: np.ndarray, data_range: float) -> float:
    """Wang et al.'s SSIM written out: 11x11 Gaussian window (sigma 1.5), valid positions only,
    population statistics, K1 = 0.01, K2 = 0.03, averaged over positions and channels."""
    x = torch.from_numpy(a.astype(np.float64)).permute(2, 0, 1)[:, None]  # (3, 1, H, W): channels apart
    y = torch.from_numpy(b.astype(np.float64)).permute(2, 0, 1)[:, None]
    taps = torch.exp(-torch.arange(-5, 6, dtype=torch.float64) ** 2 / (2 * 1.5 ** 2))
    window = (taps[:, None] * taps[None, :] / taps.sum() ** 2)[None, None]  # (1, 1, 11, 11), sums to 1

    def blur(z):
        return F.conv2d(z, window)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx ** 2, blur(y * y) - my ** 2, blur(x * y) - mx * my
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    ssim_map = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    return float(ssim_map.mean())


def test_psnr_matches_numpy_by_hand_on_the_real_clip(carphone):
    pristine, distorted = carphone
    result = psnr_ssim(pristine, distorted)
    expected = [psnr_by_hand(p, d, 255.0) for p, d in zip(pristine, distorted)]
    np.testing.assert_allclose(result.psnr_per_frame[0], expected, rtol=1e-12)
    assert result.psnr.value == pytest.approx(np.mean(expected), rel=1e-12)
    assert 20 < result.psnr.value < 40  # a hard-compressed copy: visibly worse, still the same picture


def test_ssim_matches_an_independent_computation_on_the_real_clip(carphone):
    pristine, distorted = carphone
    result = psnr_ssim(pristine, distorted)
    expected = [ssim_by_hand(p, d, 255.0) for p, d in zip(pristine, distorted)]
    np.testing.assert_allclose(result.ssim_per_frame[0], expected, rtol=1e-6)
    assert 0.5 < result.ssim.value < 0.99


def test_identical_frames_give_ssim_one_and_infinite_psnr(carphone):
    pristine, _ = carphone
    result = psnr_ssim(pristine, pristine.copy())
    np.testing.assert_allclose(result.ssim_per_frame, 1.0, rtol=1e-12)
    assert np.isinf(result.psnr_per_frame).all() and result.psnr.value == math.inf


def test_float_videos_in_minus_one_one_give_the_same_numbers(carphone):
    pristine, distorted = carphone
    as_float = [torch.from_numpy(v).permute(0, 3, 1, 2).double() / 127.5 - 1 for v in (pristine, distorted)]
    from_float = psnr_ssim(as_float[0][None], as_float[1][None])  # (1, T, 3, H, W), moved to [0, 1]
    from_uint8 = psnr_ssim(pristine, distorted)
    np.testing.assert_allclose(from_float.psnr_per_frame, from_uint8.psnr_per_frame, rtol=1e-9)
    np.testing.assert_allclose(from_float.ssim_per_frame, from_uint8.ssim_per_frame, rtol=1e-9)


def test_worse_copies_score_lower_and_the_protocol_is_printed(carphone):
    pristine, distorted = carphone
    noisy = np.clip(pristine + np.random.default_rng(0).normal(0, 40, pristine.shape), 0, 255).astype(np.uint8)
    compressed, very_noisy = psnr_ssim(pristine, distorted), psnr_ssim(pristine, noisy)
    assert very_noisy.psnr.value < compressed.psnr.value and very_noisy.ssim.value < compressed.ssim.value
    line = str(compressed.ssim)
    for part in ("SSIM = 0.", "n_videos=1", f"frames={FRAMES}", "network=none (pixels)", "weights=none"):
        assert part in line, line


def test_mismatched_videos_are_refused(carphone):
    pristine, _ = carphone
    with pytest.raises(ValueError, match="same shape and kind"):
        psnr_ssim(pristine, pristine[:-1])
    with pytest.raises(ValueError, match="same shape and kind"):
        psnr_ssim(pristine, torch.zeros(FRAMES, 3, 112, 112))
    with pytest.raises(ValueError, match=r"channels-last"):
        psnr_ssim(pristine.transpose(0, 3, 1, 2), pristine.transpose(0, 3, 1, 2))
