"""The discriminator probe on hand-made scores whose answer is known."""

import pytest
import torch

from mocohd.lab.discriminator_probe import factor_effects, held_clips, mean_logit, pair_scores, video_scores

SIZE, FRAMES, N, SEED = 64, 16, 24, 7


def test_mean_logit_averages_patches_then_scales():
    fine = torch.tensor([[1.0, 3.0], [0.0, 0.0]]).view(2, 1, 2)  # (B, 1, 2)
    coarse = torch.tensor([5.0, -2.0]).view(2, 1, 1)
    nested = [[torch.zeros(2, 7), fine], [coarse]]  # scales of [features..., logits]
    assert torch.allclose(mean_logit(nested), torch.tensor([(2.0 + 5.0) / 2, (0.0 - 2.0) / 2]))
    assert torch.allclose(mean_logit(fine), torch.tensor([2.0, 0.0]))  # a bare map is one scale


def test_pair_scores_pair_frame_zero_with_every_later_frame():
    video = torch.randn(3, 5, 3, 8, 8)
    frame_k_mean = lambda pairs: pairs[:, 3:].mean(dim=(1, 2, 3)).view(-1, 1, 1)  # noqa: E731
    frame_0_mean = lambda pairs: pairs[:, :3].mean(dim=(1, 2, 3)).view(-1, 1, 1)  # noqa: E731
    assert torch.allclose(pair_scores(frame_k_mean, video), video[:, 1:].mean(dim=(2, 3, 4)), atol=1e-6)
    assert torch.allclose(pair_scores(frame_0_mean, video), video[:, :1].mean(dim=(2, 3, 4)).expand(3, 4), atol=1e-6)


def test_video_scores_see_frame_zero_beside_each_later_frame():
    video = torch.randn(2, 4, 3, 8, 8)
    shapes = []
    mean_of_input = lambda x: shapes.append(x.shape) or x  # noqa: E731  the "D" returns its input
    seen = video_scores(mean_of_input, video)
    assert shapes == [(2, 6, 3, 8, 8)]  # (B, 2C, T-1, H, W)
    expected = (video[:, :1].mean((1, 2, 3, 4)) + video[:, 1:].mean((1, 2, 3, 4))) / 2
    assert torch.allclose(seen, expected, atol=1e-6)


def corner(video):  # the background's top-left corner, where no face motion reaches
    return video[..., :2, :2].mean(dim=(-3, -2, -1))


@pytest.fixture(scope="module")
def eye_pair():
    """The probe's real clips as drawn, and with the eyes held open."""
    return held_clips("faces", "eye_open", N, FRAMES, SIZE, SEED)


@pytest.fixture(scope="module")
def open_eyes(eye_pair):
    """What a D that "knows" open eyes compares to."""
    return eye_pair[1].video


def test_a_score_that_sees_the_eyes_feels_blinks_and_one_that_does_not_feels_nothing(eye_pair, open_eyes):
    unlike_open_eyes = lambda v: -(v - open_eyes).abs().mean(dim=(1, 2, 3, 4))  # noqa: E731
    seeing = factor_effects(unlike_open_eyes, None, "faces", n=N, frames=FRAMES, size=SIZE, seed=SEED)
    effect, error = seeing["eye_open"]["video"]
    assert seeing["eye_open"]["clips"] > 0 and effect < -3 * error < 0
    blind = factor_effects(corner, lambda v: corner(v[:, 1:]), "faces", n=N, frames=FRAMES, size=SIZE, seed=SEED)
    for factor in ("eye_open", "mouth_open"):
        assert blind[factor]["video"] == (0.0, 0.0) and blind[factor]["image"] == (0.0, 0.0)
        assert blind[factor]["pixels"] > 0  # the motion is there; the score does not look at it
    drawn = eye_pair[0]
    eye = drawn.motion[..., 0]  # (B, T)
    moving = eye.amax(1) - eye.amin(1) > 0.3
    assert blind["eye_open"]["pixels"] == pytest.approx((open_eyes - drawn.video)[moving].abs().mean().item())


def test_the_image_score_is_read_at_the_frame_farthest_from_rest(eye_pair, open_eyes):
    frame_k_unlike_open = lambda v: -(v[:, 1:] - open_eyes[:, 1:]).abs().mean(dim=(2, 3, 4))  # noqa: E731
    effects = factor_effects(None, frame_k_unlike_open, "faces", n=N, frames=FRAMES, size=SIZE, seed=SEED)
    drawn = eye_pair[0]
    eye = drawn.motion[..., 0]  # (B, T)
    moving = eye.amax(1) - eye.amin(1) > 0.3
    most_shut = eye[:, 1:].argmin(1)
    expected = frame_k_unlike_open(drawn.video)[torch.arange(N), most_shut][moving].mean()
    assert effects["eye_open"]["image"][0] == pytest.approx(expected.item(), rel=1e-5)
    assert expected < 0 and "video" not in effects["eye_open"]


def test_factors_the_clips_never_move_are_left_out():
    """In faces_big_eyes_blinks only the eyes move: the probe reports the blink alone rather
    than a mean over no clips."""
    effects = factor_effects(corner, None, "faces_big_eyes_blinks", n=N, frames=FRAMES, size=SIZE, seed=SEED)
    assert list(effects) == ["eye_open"] and effects["eye_open"]["clips"] > 0


def test_domains_without_factors_to_hold_are_refused():
    with pytest.raises(ValueError, match="'sky' has no such factors"):
        factor_effects(corner, None, "sky", n=2, frames=2, size=32)


def test_fresh_discriminator_check_reports_rows_and_is_seeded():
    from mocohd.lab.discriminator_probe import fresh_discriminator_check

    kw = dict(preset="smoke", steps=3, every=2, batch=2, n_train=16, n_test=16)
    rows = fresh_discriminator_check("yaw", **kw)
    assert [r["step"] for r in rows] == [2, 3]  # every 2 steps, and the last
    assert all(0 <= r["ranked_right"] <= 1 and r["loss"] > 0 and r["error"] >= 0 for r in rows)
    assert rows == fresh_discriminator_check("yaw", **kw)
    assert rows != fresh_discriminator_check("yaw", **kw, seed=1)
    larger = fresh_discriminator_check("yaw", **{**kw, "steps": 1}, size=64)  # clips and D at 64 px
    assert [r["step"] for r in larger] == [1]


def test_without_return_cuts_the_way_back_from_round_trips_only():
    from types import SimpleNamespace

    from mocohd.lab.round_trips import cut_or_frozen, farthest_frame, returning, without_return

    eyes = torch.tensor([[1.0, 1.0, 0.5, 0.0, 0.5, 1.0],  # a whole blink, shut at frame 3
                         [0.0, 0.5, 1.0, 1.0, 1.0, 1.0],  # starts shut and only opens
                         [1.0, 0.8, 0.4, 0.0, 0.0, 0.0],  # shuts and stays shut
                         [1.0, 1.0, 0.9, 0.8, 0.9, 1.0]])  # too small to count
    video = torch.arange(6.0).view(1, 6, 1, 1, 1).expand(4, 6, 3, 2, 2)  # frame t reads t
    clips = SimpleNamespace(motion=eyes[:, :, None], motion_names=["eye_open"], video=video)
    assert farthest_frame(clips, "eye_open").tolist() == [3, 0, 3, 3]
    assert returning(clips, "eye_open").tolist() == [True, False, False, False]
    cut = without_return(clips, "eye_open")
    assert cut[0, :, 0, 0, 0].tolist() == [0, 1, 2, 3, 3, 3]  # every frame after the shut one repeats it
    assert cut[1, :, 0, 0, 0].tolist() == [0] * 6
    assert torch.equal(cut[2, :4], video[2, :4])
    # the trainer's --cut-fakes: round trips lose the way back, every other clip is frozen
    failed = cut_or_frozen(clips, "eye_open")
    assert torch.equal(failed[0], cut[0])
    assert all(failed[k, :, 0, 0, 0].tolist() == [0] * 6 for k in (1, 2, 3))


def test_fresh_check_against_no_return_uses_round_trips_and_refuses_other_sides():
    from mocohd.lab.discriminator_probe import fresh_discriminator_check

    kw = dict(domain="faces_big_eyes_blinks", preset="smoke", steps=2, every=1, batch=2, n_train=32, n_test=32)
    rows = fresh_discriminator_check("eye_open", against="no-return", **kw)
    assert [r["step"] for r in rows] == [1, 2] and all(0 <= r["ranked_right"] <= 1 for r in rows)
    assert rows != fresh_discriminator_check("eye_open", **kw)  # the other side differs
    with pytest.raises(ValueError, match="'rest'.*'no-return'"):
        fresh_discriminator_check("eye_open", against="reversed", **kw)


def test_fresh_check_can_train_with_the_loops_own_3d_d_loss():
    from mocohd.lab.discriminator_probe import FRESH_LOSSES, fresh_discriminator_check

    kw = dict(domain="faces_big_eyes_blinks", preset="smoke", steps=2, every=2, batch=2, n_train=32, n_test=32,
              against="no-return")
    losses = {loss: fresh_discriminator_check("eye_open", loss=loss, **kw)[0]["loss"] for loss in FRESH_LOSSES}
    assert losses["ls"] < losses["ralsgan"]  # squared errors of one mean logit, against RaLSGAN summed over scales
    assert losses["ralsgan+gp"] > losses["ralsgan"]  # the penalty adds to the same first steps
    assert all(v > 0 for v in losses.values())
    with pytest.raises(ValueError, match="loss='hinge'.*ralsgan\\+gp"):
        fresh_discriminator_check("eye_open", loss="hinge", **kw)


def test_gap_parts_split_the_gap_into_motion_and_pictures():
    from mocohd.lab.discriminator_probe import frozen, gap_parts

    def clips(brightness, step):  # (4, 6, 3, 8, 8): frame t is brightness + t * step
        t = torch.arange(6.0)[None, :, None, None, None]
        return (brightness + step * t).expand(4, 6, 3, 8, 8)

    def score(v):  # likes bright first frames, dislikes change between frames
        return v[:, 0].mean(dim=(1, 2, 3)) - 10 * (v[:, 1:] - v[:, :-1]).abs().mean(dim=(1, 2, 3, 4))

    real, fake = clips(0.5, 0.01), clips(0.2, 0.03)
    parts = gap_parts(score, real, fake)
    assert parts["real_motion"] == pytest.approx(-0.1, abs=1e-5)
    assert parts["pictures"] == pytest.approx(0.3, abs=1e-5)
    assert parts["fake_motion"] == pytest.approx(0.3, abs=1e-5)
    assert sum(parts.values()) == pytest.approx(score(real).mean().item() - score(fake).mean().item(), abs=1e-5)
    assert torch.equal(frozen(fake)[:, 3], fake[:, 0])
