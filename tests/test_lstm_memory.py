import pytest
import torch

from mocohd.lab.lstm_memory import gate_means, memory_report, real_factor_steps, step_structure
from mocohd.motion import MotionGenerator


def test_a_straight_line_is_all_drift_and_agreement_reads_the_direction():
    direction = torch.randn(8)
    same = direction.expand(6, 15, 8).clone()
    s = step_structure(same)
    assert s["drift_share"] == pytest.approx(1.0)
    assert s["drift_agreement"] == pytest.approx(1.0)
    half = torch.cat([same[:3], -same[3:]])  # three clips go one way, three the other
    assert step_structure(half)["drift_agreement"] == pytest.approx((2 * 3 * 2 - 2 * 3 * 3) / 30)


def test_a_round_trip_correlates_negatively_where_it_comes_back():
    steps = torch.zeros(64, 15, 1)
    for clip in range(64):
        t = clip % 8
        steps[clip, t], steps[clip, t + 4] = -1.0, 1.0  # shut at t, open four frames later
    s = step_structure(steps)
    assert s["drift_share"] == pytest.approx(0.0, abs=1e-9)
    assert s["drift_agreement"] is None  # one-dimensional steps have no direction to agree on
    assert s["lag_correlation"][3] < -0.4
    assert abs(s["lag_correlation"][0]) < 0.1


def test_white_noise_reads_the_bias_of_taking_out_each_clips_mean():
    steps = torch.randn(4000, 15, 3, generator=torch.Generator().manual_seed(0))
    s = step_structure(steps)
    assert s["drift_share"] == pytest.approx(1 / 15, abs=0.01)
    for c in s["lag_correlation"]:
        assert c == pytest.approx(-1 / 15, abs=0.02)


def test_step_structure_names_the_shape_it_needs():
    with pytest.raises(ValueError, match="longer than the largest lag"):
        step_structure(torch.zeros(4, 3, 2), lags=5)


def motion_with_forget_bias(bias: float) -> MotionGenerator:
    torch.manual_seed(0)
    m = MotionGenerator(w_dim=16, h_dim=12, n_pca=8)
    with torch.no_grad():
        m.cell.bias_ih[12:24] = bias  # the second of four gate blocks is the forget gate
    return m


def test_gate_means_read_the_forget_gate():
    w0 = torch.randn(5, 16)
    assert gate_means(motion_with_forget_bias(8.0), w0)["forget"] > 0.99
    assert gate_means(motion_with_forget_bias(-8.0), w0)["forget"] < 0.01
    fresh = gate_means(MotionGenerator(w_dim=16, h_dim=12, n_pca=8), w0)
    assert 0.3 < fresh["forget"] < 0.7  # zero biases: about one half


def test_without_memory_the_generated_steps_carry_no_pattern_in_time():
    class Wrapped:  # memory_report only needs these two attributes
        def __init__(self, motion):
            self.motion = motion
            self.image_generator = Mapping()

    class Mapping:
        style_dim = 16

        def get_latent(self, z):
            return z

    forgetful = motion_with_forget_bias(-8.0)
    with torch.no_grad():
        forgetful.w.mul_(50.0)  # large steps, so the noise, not the bias, makes them
    report = memory_report(Wrapped(forgetful), n_clips=256, n_frames=16)
    assert report["gates"]["forget"] < 0.01
    assert max(abs(c + 1 / 15) for c in report["steps"]["lag_correlation"]) < 0.1


def test_real_toy_blinks_come_back_four_to_five_frames_later():
    s = step_structure(real_factor_steps("faces_big_eyes_blinks", "eye_open", n_clips=128))
    assert s["drift_share"] < 0.1
    assert s["lag_correlation"][0] > 0.3  # the eyes shut over two frames
    assert min(s["lag_correlation"][3:5]) < -0.3  # and open again four or five frames on
    with pytest.raises(ValueError, match="no motion factor 'sky'"):
        real_factor_steps("faces_big_eyes_blinks", "sky", n_clips=2)
