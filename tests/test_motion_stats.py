"""Motion statistics read through the toy-factor network: spread, identity drift, and the
noise diversity that the MI ablation compares."""

import pytest
import torch

from mocohd.data.toyworld import make_clips
from mocohd.metrics.motion_stats import factor_spread, noise_diversity, real_reference
from mocohd.metrics.toy_features import load_toy_feature_net, video_factors
from mocohd.motion import one_thread

from test_video_generator import tiny_video_generator


@pytest.fixture(scope="module")
def net():
    return load_toy_feature_net()


def test_factor_spread_separates_motion_from_identity():
    names = ["identity:a", "identity:b", "motion:x", "motion:y"]
    t = torch.arange(8.0)
    factors = torch.zeros(3, 8, 4)
    factors[:, :, 0] = 5.0  # identity held
    factors[:, :, 1] = 1.0
    factors[:, :, 2] = t  # motion moves
    factors[:, :, 3] = 2 * t
    s = factor_spread(factors, names)
    assert s["identity"] == 0.0
    assert s["motion"] == pytest.approx(1.5 * t.std().item(), rel=1e-6)
    assert s["per_factor"]["motion:y"] == pytest.approx(2 * t.std().item(), abs=1e-4)
    with pytest.raises(ValueError, match="must be"):
        factor_spread(factors, names[:3])


def test_frozen_real_clips_have_no_motion_and_moving_ones_do(net):
    clips = make_clips("faces", 4, frames=8, size=64, seed=3)
    frozen = clips.video[:, :1].expand(-1, 8, -1, -1, -1)
    moving = factor_spread(*video_factors(clips.video, "faces", net))
    still = factor_spread(*video_factors(frozen, "faces", net))
    assert still["motion"] < 1e-5 and still["identity"] < 1e-5
    assert moving["motion"] > 5 * moving["identity"]  # real toy faces move, their identity stays
    ref = real_reference("faces", n_clips=4, n_frames=8, seed=3, net=net)
    assert ref["motion_spread"] == pytest.approx(moving["motion"], rel=1e-5)


def test_noise_diversity_is_zero_when_the_lstm_ignores_its_noise(net):
    vg = tiny_video_generator()
    with one_thread():
        alive = noise_diversity(vg, "faces", n_content=2, n_noise=4, n_frames=4, net=net)
        with torch.no_grad():
            vg.motion.cell.weight_ih.zero_()  # the decoder LSTM no longer reads e_t
        dead = noise_diversity(vg, "faces", n_content=2, n_noise=4, n_frames=4, net=net)
    assert alive > 1e-3
    assert dead < 1e-6


def test_table_shows_missing_values_and_spread_of_repeats():
    from mocohd.metrics.motion_stats import format_table

    rows = {"real toy clips": {"motion_spread": 0.2, "identity_drift": 0.01},
            "a model": {"motion_spread": 0.05, "motion_spread_sd": 0.002, "identity_drift": 0.02,
                        "identity_drift_sd": 0.001, "noise_diversity": 0.01, "noise_diversity_sd": 0.003,
                        "noise_spread_w": 0.04, "noise_spread_w_sd": 0.0}}
    lines = format_table(rows).splitlines()
    assert len(lines) == 3 and "noise_diversity" in lines[0]
    assert lines[1].count("-") >= 2 and "0.2000" in lines[1]
    assert "0.0500 ± 0.0020" in lines[2] and "0.0100 ± 0.0030" in lines[2]


def test_domains_without_motion_factors_and_pixel_motion(net):
    from mocohd.metrics.motion_stats import pixel_motion

    s = factor_spread(torch.zeros(2, 4, 2), ["identity:a", "identity:b"])
    assert s["motion"] is None and s["identity"] == 0.0
    video = torch.zeros(1, 3, 3, 4, 4)
    video[:, 1] = 0.5  # frame 0 -> 1 changes by 0.5 everywhere, frame 1 -> 2 by 0.5 back
    assert pixel_motion(video) == pytest.approx(0.5)
    assert pixel_motion(video[:, :1].expand(-1, 3, -1, -1, -1)) == 0.0
    with one_thread():
        assert noise_diversity(tiny_video_generator(), "sky", n_content=1, n_noise=2, n_frames=2, net=net) is None
    ref = real_reference("sky", n_clips=2, n_frames=4, seed=1, net=net)
    assert ref["motion_spread"] is None and ref["pixel_motion"] > 0


def test_late_sharpness_sees_a_blurred_last_frame():
    from mocohd.metrics.motion_stats import late_sharpness

    clips = make_clips("faces", 3, frames=4, size=64, seed=2)
    video = clips.video
    assert late_sharpness(video[:, :1].expand(-1, 4, -1, -1, -1)) == pytest.approx(1.0)
    blurred = video.clone()
    blurred[:, -1] = torch.nn.functional.avg_pool2d(video[:, -1], 3, stride=1, padding=1)
    assert late_sharpness(blurred) < 0.8 * late_sharpness(video)
    with pytest.raises(ValueError, match="flat"):
        late_sharpness(torch.zeros(1, 2, 3, 8, 8))


def test_events_count_the_clips_in_which_a_factor_really_changes():
    from mocohd.metrics.motion_stats import EVENT_RANGE

    names = ["identity:a", "motion:eye_open", "motion:yaw"]
    factors = torch.zeros(4, 6, 3)
    factors[0, 3, 1] = 1.0  # clip 0 blinks fully once
    factors[1, :, 1] = torch.linspace(0, EVENT_RANGE / 2, 6)  # clip 1 half-closes its eyes: too little
    factors[:, :, 2] = torch.linspace(-0.5, 0.5, 6)  # every clip turns its head
    factors[2, :, 0] = torch.linspace(0, 1, 6)  # identity moving is not an event
    s = factor_spread(factors, names)
    assert s["events"] == {"motion:eye_open": 0.25, "motion:yaw": 1.0}
    # the blink jumps by 1 in one frame; every turn covers its range in steps of 0.2
    assert s["largest_step"]["motion:eye_open"] == pytest.approx((1.0 + EVENT_RANGE / 10) / 4)  # clip 1 steps 0.03
    assert s["largest_step"]["motion:yaw"] == pytest.approx(0.2)


def test_largest_step_tells_a_blink_from_a_drift_over_the_same_range():
    names = ["motion:eye_open"]
    blink = torch.tensor([1.0, 1.0, 0.0, 1.0, 1.0, 1.0]).view(1, 6, 1)
    drift = torch.linspace(1.0, 0.0, 6).view(1, 6, 1)
    fast, slow = factor_spread(blink, names), factor_spread(drift, names)
    assert fast["events"] == slow["events"] == {"motion:eye_open": 1.0}
    assert fast["largest_step"]["motion:eye_open"] == pytest.approx(1.0)
    assert slow["largest_step"]["motion:eye_open"] == pytest.approx(0.2)
    assert fast["round_trips"] == {"motion:eye_open": 1.0}  # shut, then open again
    assert slow["round_trips"] == {"motion:eye_open": 0.0}  # shut and stayed shut


def test_round_trip_measures_how_far_a_factor_goes_and_comes_back():
    from mocohd.metrics.motion_stats import round_trip

    clips = torch.tensor([
        [1.0, 1.0, 0.2, 0.6, 0.6, 0.6],  # a blink that reopens only to 0.6: back by 0.4 of 0.8
        [0.0, 0.0, 0.9, 0.0, 0.0, 0.0],  # a mouth that opens and closes: a peak of 0.9
        [1.0, 0.8, 0.6, 0.4, 0.2, 0.0],  # a one-way fade: no round trip
        [0.5, 0.0, 0.5, 1.0, 0.0, 0.5],  # dips of 0.5, and a peak of 1.0 above the lows on either side
    ]).unsqueeze(-1)
    assert round_trip(clips).squeeze(-1).tolist() == pytest.approx([0.4, 0.9, 0.0, 1.0])
    assert round_trip(clips[:, :1]).abs().sum() == 0  # one frame cannot go anywhere


def test_strongest_clips_pick_the_clip_that_moves_each_factor_most():
    from mocohd.metrics.motion_stats import strongest_clips

    names = ["identity:a", "motion:eye_open", "motion:yaw"]
    factors = torch.zeros(3, 5, 3)
    factors[0, :, 0] = torch.linspace(0, 5, 5)  # identity changes are never picked
    factors[1, 2, 1] = 0.8  # clip 1 blinks
    factors[2, :, 2] = torch.linspace(0, 0.4, 5)  # clip 2 turns
    factors[1, :, 2] = torch.linspace(0, 0.2, 5)  # clip 1 turns less
    picked = strongest_clips(factors, names)
    assert set(picked) == {"motion:eye_open", "motion:yaw"}
    assert picked["motion:eye_open"][0] == 1 and picked["motion:eye_open"][1:] == pytest.approx((0.8, 0.8))
    assert picked["motion:yaw"][0] == 2 and picked["motion:yaw"][1:] == pytest.approx((0.4, 0.1))


def test_table_lists_each_motion_factor():
    from mocohd.metrics.motion_stats import format_table

    rows = {"real toy clips": {"motion_spread": 0.2, "per_factor": {"motion:yaw": 0.26, "motion:eye_open": 0.15}},
            "a model": {"motion_spread": 0.1, "per_factor": {"motion:yaw": 0.07, "motion:eye_open": 0.36}}}
    lines = format_table(rows).splitlines()
    header = lines.index("") + 1
    assert "yaw" in lines[header] and "eye_open" in lines[header]
    assert "0.2600" in lines[header + 1] and "0.3600" in lines[header + 2]
    assert len(lines) == header + 3  # no events block without events

    rows["real toy clips"]["events"] = {"motion:yaw": 0.8, "motion:eye_open": 0.72}
    rows["a model"]["events"] = {"motion:yaw": 0.55, "motion:eye_open": 0.25}
    lines = format_table(rows).splitlines()
    events = len(lines) - 1 - lines[::-1].index("") + 1
    assert "clips changing > 0.3" in lines[events] and "yaw" in lines[events]
    assert lines[events + 1].split()[-2:] == ["0.80", "0.72"] and lines[events + 2].split()[-2:] == ["0.55", "0.25"]


def test_frame_detail_falls_frame_by_frame_as_frames_blur():
    from mocohd.metrics.motion_stats import frame_detail

    frame = make_clips("faces", 2, frames=1, size=64, seed=4).video[:, 0]
    frames = [frame]
    for _ in range(3):
        frames.append(torch.nn.functional.avg_pool2d(frames[-1], 3, stride=1, padding=1))
    detail = frame_detail(torch.stack(frames, dim=1))
    assert detail.shape == (4,)
    assert (detail[1:] < detail[:-1]).all()


def test_image_factor_range_is_narrow_for_a_generator_that_draws_one_pose(net):
    from mocohd.metrics.motion_stats import image_factor_range
    from test_video_generator import tiny_video_generator

    g = tiny_video_generator().image_generator
    with one_thread():
        ranges = image_factor_range(g, "faces", n_images=16, net=net)
        g.synthesize = lambda w, noise=None: torch.zeros(len(w), 3, g.size, g.size)  # one flat image for every w
        flat = image_factor_range(g, "faces", n_images=16, net=net)
    assert set(ranges) == {"motion:eye_open", "motion:mouth_open", "motion:yaw", "motion:pitch"}
    assert all(real > 0.05 for real, _ in ranges.values())  # real toy faces come in many poses
    assert all(drawn < 1e-5 for _, drawn in flat.values()) and flat.keys() == ranges.keys()


def test_image_range_table_puts_real_images_first():
    from mocohd.metrics.motion_stats import format_image_ranges

    ranges = {"a.pt": {"motion:yaw": (0.35, 0.12), "motion:pitch": (0.25, 0.16)},
              "runs/b/checkpoint.pt": {"motion:yaw": (0.35, 0.33), "motion:pitch": (0.25, 0.22)}}
    lines = format_image_ranges(ranges).splitlines()
    assert lines[0].split()[-2:] == ["yaw", "pitch"]
    assert lines[1].split()[-2:] == ["0.350", "0.250"] and lines[1].startswith("real toy images")
    assert lines[2].split() == ["a.pt", "0.120", "0.160"]
    assert lines[3].split() == ["runs/b/checkpoint.pt", "0.330", "0.220"]


def test_tail_shares_read_a_dropped_end_as_zero():
    from mocohd.metrics.motion_stats import tail_shares

    real = torch.linspace(0, 1, 1001)  # eye openness from shut to open, evenly
    low, high = tail_shares(real, real.flip(0))
    assert low == pytest.approx(0.05, abs=0.002) and high == pytest.approx(0.05, abs=0.002)
    never_shut = torch.linspace(0.3, 1, 1001)  # the same generator with the shut end dropped
    low, high = tail_shares(real, never_shut)
    assert low == 0.0 and high == pytest.approx(0.05 / 0.7, abs=0.002)
    with pytest.raises(ValueError, match="tail must lie in"):
        tail_shares(real, real, tail=0.5)


def test_image_tails_table_lists_low_and_high_share_per_factor():
    from mocohd.metrics.motion_stats import factor_tails, format_image_tails

    names = ["identity:skin", "motion:eye_open"]
    real = torch.stack([torch.zeros(101), torch.linspace(0, 1, 101)], 1)
    drawn = torch.stack([torch.zeros(101), torch.linspace(0.5, 1, 101)], 1)
    tails = {"g.pt": factor_tails(real, drawn, names)}
    assert list(tails["g.pt"]) == ["motion:eye_open"]  # identity factors are not motion
    lines = format_image_tails(tails).splitlines()
    assert lines[0].split()[-1] == "eye_open"
    assert lines[1].split()[-3:] == ["0.050", "/", "0.050"] and lines[1].startswith("as real images")
    assert lines[2].split()[0] == "g.pt" and lines[2].split()[1] == "0.000"


def test_extreme_indices_pick_the_images_whose_eyes_are_truly_most_shut(net):
    from mocohd.data.toyworld import make_images
    from mocohd.metrics.motion_stats import extreme_indices, image_factors, real_images

    images = real_images("faces", 64, seed=0)
    truth = make_images("faces", 64, size=64, seed=1)  # what real_images draws, with its true factors
    assert torch.equal(images, truth.video[:, 0])
    with one_thread():
        factors, names = image_factors(images, "faces", net)
    shut = extreme_indices(factors, names, "motion:eye_open", k=8)
    wide = extreme_indices(factors, names, "motion:eye_open", k=8, lowest=False)
    read = factors[:, names.index("motion:eye_open")]
    assert (read[shut].diff() >= 0).all() and (read[wide].diff() <= 0).all()  # most extreme first
    assert set(shut.tolist()).isdisjoint(wide.tolist())
    true_eye = truth.motion[:, 0, truth.motion_names.index("eye_open")]
    # the read factor follows the true one: the one truly half-shut face (0.16) comes first,
    # and the widest read are truly wide open
    assert shut[0] == true_eye.argmin() and true_eye.min() < 0.2 and (true_eye[wide] > 0.95).all()
    with pytest.raises(ValueError, match="no factor 'motion:blink'"):
        extreme_indices(factors, names, "motion:blink")
    with pytest.raises(ValueError, match="k must lie in 1..64"):
        extreme_indices(factors, names, "motion:eye_open", k=65)
