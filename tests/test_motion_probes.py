"""The lab's motion probes (mocohd.lab.motion_probes): where a blink changes the picture, and how
far bounded residual steps can move each factor."""

import pytest
import torch

from mocohd.data.toyworld import make_clips
from mocohd.metrics.toy_features import load_toy_feature_net
from mocohd.motion import one_thread

from test_video_generator import tiny_video_generator


@pytest.fixture(scope="module")
def net():
    return load_toy_feature_net()


def test_step_reach_is_bounded_by_the_residual_step(net):
    from mocohd.lab.motion_probes import step_reach

    vg = tiny_video_generator()
    with one_thread():
        reach = step_reach(vg, "faces", steps=(1, 2), n_images=2, iterations=5, net=net)
        vg.motion.w_residual = 0.0  # no step may move w: nothing can change
        frozen = step_reach(vg, "faces", steps=(1, 2), n_images=2, iterations=5, net=net)
    assert set(reach) == {"motion:eye_open", "motion:mouth_open", "motion:yaw", "motion:pitch"}
    assert all(reach[n][k] > 1e-3 for n in reach for k in (1, 2))  # the search found a way to move each
    assert all(abs(frozen[n][k]) < 1e-5 for n in frozen for k in (1, 2))
    assert all(p.grad is None for p in net.parameters())  # the feature network is left as it was


def test_real_step_change_sees_that_toy_blinks_are_fast(net):
    from mocohd.lab.motion_probes import format_step_reach, real_step_change

    real = real_step_change("faces", steps=(1, 4), n_clips=8, seed=1, net=net)
    # a toy blink closes the eyes within about two frames; a head turn is a slow sine
    assert real["motion:eye_open"][1] > 0.3
    assert real["motion:yaw"][1] < real["motion:yaw"][4]
    reach = {n: {1: 0.1, 4: 0.4} for n in real}
    lines = format_step_reach(real, reach).splitlines()
    assert "eye_open" in lines[0] and len(lines) == 1 + 2 * 2
    assert lines[2].startswith("reach of 1 residual step") and lines[2].split()[-1] == "0.100"


def test_push_factor_returns_the_frames_it_moved_and_how_far(net):
    from mocohd.lab.motion_probes import push_factor, step_reach

    vg = tiny_video_generator()
    with one_thread():
        down = push_factor(vg, "faces", "motion:eye_open", k=2, n_images=3, iterations=5, net=net)
        up = push_factor(vg, "faces", "motion:eye_open", k=2, lowest=False, n_images=3, iterations=5, net=net)
        reach = step_reach(vg, "faces", steps=(2,), n_images=3, iterations=5, net=net)
    size = vg.image_generator.size
    assert down["start"].shape == down["pushed"].shape == (3, 3, size, size)
    assert torch.equal(down["start"], up["start"])  # the same sampled faces both ways
    assert (down["pushed_value"] < down["start_value"]).all() and (up["pushed_value"] > up["start_value"]).all()
    assert not torch.equal(down["pushed"], down["start"])
    # step_reach's number is the better of the two directions, face by face, from the same search
    best = torch.maximum(up["pushed_value"] - up["start_value"], down["start_value"] - down["pushed_value"])
    assert abs(best.mean().item() - reach["motion:eye_open"][2]) < 1e-4
    vg.motion.w_residual = 0.0  # no step may move w: the frames stay as they were
    with one_thread():
        frozen = push_factor(vg, "faces", "motion:yaw", k=1, n_images=2, iterations=3, net=net)
    assert torch.equal(frozen["pushed"], frozen["start"])
    assert all(p.grad is None for p in net.parameters())


def test_push_factor_names_a_wrong_factor_or_step_count(net):
    from mocohd.lab.motion_probes import push_factor

    vg = tiny_video_generator()
    with pytest.raises(ValueError, match="no factor 'motion:blink'.*motion:eye_open"):
        push_factor(vg, "faces", "motion:blink", net=net)
    with pytest.raises(ValueError, match="at least 1, got 0"):
        push_factor(vg, "faces", "motion:eye_open", k=0, net=net)


def test_change_by_region_finds_real_blinks_inside_and_drift_outside():
    from mocohd.lab.motion_probes import blink_region, change_by_region

    region = blink_region(n_clips=16, size=32)
    assert 0 < region.float().mean() < 0.3  # a band around the eyes, not the frame
    real = make_clips("faces_big_eyes_blinks", 16, frames=16, size=32, seed=9).video
    change = change_by_region(real, region)
    assert change["inside"] > 0.002 and change["outside"] < 1e-4  # only the eyes move
    drift = real + torch.linspace(0, 0.3, 16).view(1, 16, 1, 1, 1)  # the whole picture brightens
    drifting = change_by_region(drift, region)
    assert drifting["outside"] == pytest.approx(0.02, rel=1e-3) and drifting["inside"] > change["inside"]
    with pytest.raises(ValueError, match="bool \\(H, W\\) mask of the frames' size \\(32, 32\\).*blink_region"):
        change_by_region(real, blink_region(n_clips=2, size=64))


def test_push_factor_can_be_asked_to_keep_the_rest_of_the_picture_still(net):
    from mocohd.lab.motion_probes import change_by_region, push_factor

    vg = tiny_video_generator()
    size = vg.image_generator.size
    region = torch.zeros(size, size, dtype=torch.bool)
    region[size // 4: size // 2] = True  # a band, as blink_region's
    kw = dict(k=2, n_images=3, iterations=8, net=net, region=region)
    with one_thread():
        free = push_factor(vg, "faces", "motion:eye_open", outside_weight=0.0, **kw)
        still = push_factor(vg, "faces", "motion:eye_open", outside_weight=1000.0, **kw)

    def outside(pushed):
        return change_by_region(torch.stack([pushed["start"], pushed["pushed"]], 1), region)["outside"]

    assert torch.equal(free["start"], still["start"])
    assert outside(still) < 0.5 * outside(free)  # paying for change outside the band buys stillness there
    with pytest.raises(ValueError, match="region must be an \\(H, W\\) mask of G_I's frame size"):
        push_factor(vg, "faces", "motion:eye_open", region=torch.zeros(4, 4, dtype=torch.bool), net=net)


class _TwoKnobGenerator(torch.nn.Module):
    """An 8x8 'image generator' with a 2-d W: the top half (the region) shows w_0; outside it,
    the left half shows w_0 and the right half w_1."""
    size, style_dim = 8, 2

    def get_latent(self, z):
        return z

    def make_noise(self, batch, generator=None):
        return [torch.zeros(batch, 1, 8, 8)]

    def synthesize(self, w, noise=None):
        img = torch.empty(len(w), 3, 8, 8)
        img[:, :, :, :4] = w[:, 0, None, None, None]
        img[:, :, 4:, 4:] = w[:, 1, None, None, None]
        img[:, :, :4, 4:] = w[:, 0, None, None, None]
        return img


def test_region_locality_finds_the_most_local_direction():
    from types import SimpleNamespace

    from mocohd.lab.motion_probes import region_locality
    from mocohd.motion import MotionGenerator

    region = torch.zeros(8, 8, dtype=torch.bool)
    region[:4] = True
    vg = SimpleNamespace(image_generator=_TwoKnobGenerator(), motion=MotionGenerator(w_dim=2, h_dim=2, n_pca=2))
    out = region_locality(vg, region, n_images=3, n_random=2000)
    # along w_0: rms 1 inside, sqrt(1/2) outside; no direction does better
    assert torch.allclose(out["best"], torch.full((3,), 2 ** 0.5), atol=1e-4)
    # a random direction at angle t: sqrt(2)|cos t|, whose median over t is 1
    assert torch.allclose(out["random"], torch.ones(3), atol=0.05)
    with pytest.raises(ValueError, match="blink_region"):
        region_locality(vg, torch.zeros(4, 4, dtype=torch.bool))
