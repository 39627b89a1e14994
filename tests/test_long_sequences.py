"""Drift curves of long videos (mocohd.metrics.long_sequences), checked on values."""

import pytest
import torch

from mocohd.metrics.long_sequences import (breakdown_frames, colour_drift, identity_drift, identity_scale,
                                           leaves_range, motion_step, pixel_step, real_band, share_out,
                                           w_distance)
from mocohd.motion import MotionGenerator

NAMES = ["identity:skin", "identity:hair", "motion:eye_open", "motion:yaw"]


def test_a_still_video_does_not_drift():
    frame = torch.rand(2, 1, 3, 8, 8) * 2 - 1
    still = frame.expand(2, 12, 3, 8, 8)
    assert torch.equal(colour_drift(still), torch.zeros(2, 12))
    assert torch.equal(pixel_step(still), torch.zeros(2, 12))
    factors = torch.rand(2, 1, 4).expand(2, 12, 4)
    assert torch.equal(identity_drift(factors, NAMES), torch.zeros(2, 12))
    assert torch.equal(motion_step(factors, NAMES), torch.zeros(2, 12))


def test_a_linear_colour_shift_drifts_linearly():
    t = torch.arange(10.0)
    video = torch.zeros(1, 10, 3, 4, 4) + (0.05 * t)[None, :, None, None, None] * torch.tensor([1.0, 0, -1])[
        None, None, :, None, None]  # R up, G still, B down, 0.05 per frame each
    assert torch.allclose(colour_drift(video)[0], 0.05 * t * 2 / 3, atol=1e-6)
    assert torch.allclose(pixel_step(video)[0, 1:], torch.full((9,), 0.05 * 2 / 3), atol=1e-6)


def test_factor_curves_on_values():
    t = torch.arange(5.0)
    factors = torch.stack([0.1 * t, -0.3 * t, (t % 2), 0.2 * t], dim=-1)[None]  # (1, 5, 4)
    assert torch.allclose(identity_drift(factors, NAMES)[0], 0.2 * t)  # mean of 0.1 t and 0.3 t
    assert torch.allclose(identity_drift(factors, NAMES, scale=torch.tensor([0.1, 0.3]))[0], t)
    assert torch.allclose(motion_step(factors, NAMES)[0], torch.tensor([0, 0.6, 0.6, 0.6, 0.6]))
    real = torch.tensor([[0.0, 1.0], [0.0, 3.0], [0.0, 5.0]])[:, None, :].expand(3, 4, 2)  # (N, T, F)
    assert torch.allclose(identity_scale(torch.cat([real, real], -1), NAMES), torch.tensor([0.0, 2.0]).clamp_min(1e-6))
    with pytest.raises(ValueError, match="pixel_step"):
        motion_step(factors[..., :2], NAMES[:2])


def test_w_distance_counts_sigmas_along_the_pca_directions():
    motion = MotionGenerator(w_dim=4, h_dim=3, n_pca=2, pca_comp=torch.eye(4)[:2], pca_stdev=torch.tensor([2.0, 0.5]))
    w = torch.zeros(1, 3, 4)
    w[0, 1] = torch.tensor([6.0, 0, 0, 0])  # 3 sigma along PC 0
    w[0, 2] = torch.tensor([6.0, 2.0, 9.0, 9.0])  # + 4 sigma along PC 1; axes 2, 3 are not PCA directions
    assert torch.allclose(w_distance(motion, w)[0], torch.tensor([0.0, 3.0, 5.0]))


def test_leaves_range_finds_the_frame():
    curve = torch.cat([torch.full((10,), 0.5), torch.linspace(0.6, 3, 10)])  # leaves 1.0 at frame 12
    above = int(torch.nonzero(curve > 1.0)[0])
    assert leaves_range(curve, upper=1.0) == above
    assert leaves_range(curve.expand(3, 20), upper=torch.full((20,), 1.0)) == above
    assert leaves_range(curve, upper=5.0) is None
    assert leaves_range(curve, lower=0.55) == 1  # below from the first frame counted (start=1)
    blip = torch.zeros(20)
    blip[5] = 9.0  # one frame out is noise, not a breakdown
    assert leaves_range(blip, upper=1.0, hold=3) is None
    assert leaves_range(blip, upper=1.0, hold=1) == 5
    late = torch.zeros(20)
    late[-2:] = 9.0  # out for the last 2 frames only: not 3 in a row
    assert leaves_range(late, upper=1.0) is None and leaves_range(late, upper=1.0, hold=2) == 18
    # the median clip decides: one wild clip of three does not
    clips = torch.stack([torch.zeros(20), torch.zeros(20), torch.full((20,), 9.0)])
    assert leaves_range(clips, upper=1.0) is None


def test_real_band_and_breakdown_frames():
    reference = torch.arange(101.0)[:, None].expand(101, 6)  # 101 real clips, values 0..100 at each frame
    lower, upper = real_band(reference, q=0.95)
    assert torch.allclose(upper, torch.full((6,), 95.0)) and torch.allclose(lower, torch.full((6,), 5.0))
    assert torch.equal(real_band(reference, q=1.0)[1], torch.full((6,), 100.0))
    rising = torch.arange(5.0).expand(3, 5)  # every real clip drifts one unit per frame
    assert torch.equal(real_band(rising, q=1.0)[1], torch.tensor([1.0, 1, 2, 3, 4]))  # pooled over frames 1..t
    assert torch.equal(real_band(rising, q=1.0, pooled=False)[1], torch.arange(5.0))
    curves = {"colour": torch.tensor([0.0, 50, 50, 96, 97, 98]), "identity": torch.zeros(6),
              "w_sigma": torch.tensor([0.0, 1, 2, 3, 4, 5])}
    frames = breakdown_frames(curves, {"colour": (lower, upper), "identity": (None, upper), "w_sigma": (None, 2.5)})
    assert frames == {"colour": 3, "identity": None, "w_sigma": 3}
    assert share_out(curves["colour"], upper=upper) == pytest.approx(3 / 5)
    assert share_out(curves["identity"], upper=upper) == 0
    with pytest.raises(ValueError, match="quantile"):
        real_band(reference, q=0.2)
