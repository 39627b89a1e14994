"""Real blinks drawn by G_I (mocohd.lab.steered): the path, the clips, the trainer's switch."""

import json
import warnings
from pathlib import Path

import pytest
import torch

from mocohd.lab.steered import (OPEN_AT, SteeredVideoDataset, blink_path, check_steerable, open_eyed_blinks,
                                 share_summary, shut_shares, steered_clips)
from mocohd.data.toyworld import make_clips
from mocohd.metrics.toy_features import load_toy_feature_net, video_factors
from mocohd.lab.config import lab_preset
from mocohd.lab.trainer import LabVideoGANTrainer
from mocohd.train.video_gan import load_video_generator

from test_video_gan import _tiny_image_generator

ABLATION = Path(__file__).resolve().parents[1] / "data/checkpoints/ablation"
BLINK_GI = ABLATION / "faces_big_eyes_blinks_64.pt"
BLINK_MOTION = ABLATION / "faces_big_eyes_blinks_gib_d32_motion_500.pt"


def test_blink_path_starts_at_w0_and_shuts_as_far_as_the_real_eyes():
    w0, w_shut = torch.zeros(4, 4), torch.ones(4, 4)
    eye_open = torch.tensor([[1.0, 0.5, 0.0, 1.0],  # a full blink, there and back
                             [1.0, 1.0, 1.0, 1.0],  # no blink
                             [0.5, 0.0, 1.0, 1.0],  # starts half shut, then opens past frame 0
                             [0.0, 0.1, 0.5, 1.0]])  # starts shut: opens past w0, at most by w_shut - w0
    w = blink_path(w0, w_shut, eye_open)
    assert w.shape == (4, 4, 4)
    assert torch.equal(w[:, 0], w0)  # frame 0 is the face G_I drew, whatever its eyes do
    assert w[0, :, 0].tolist() == [0.0, 0.5, 1.0, 0.0]
    assert w[1].abs().max() == 0
    assert w[2, :, 0].tolist() == [0.0, 1.0, -1.0, -1.0]  # past w0 by the share it opens past frame 0
    torch.testing.assert_close(w[3, :, 0], torch.tensor([0.0, -0.5, -1.0, -1.0]))


def test_only_the_blink_alone_world_can_be_steered():
    check_steerable("faces_big_eyes_blinks")
    with pytest.raises(ValueError, match="toy:faces_big_eyes_blinks"):
        check_steerable("faces")


def test_steered_clips_follow_only_toy_clips_that_start_with_open_eyes():
    n, frames = 48, 16
    eye_open = open_eyed_blinks(n, frames, seed=5)
    assert eye_open.shape == (n, frames) and torch.equal(eye_open, open_eyed_blinks(n, frames, seed=5))
    assert (eye_open[:, 0] >= OPEN_AT).all()
    # they are the toy world's own clips, in its order, less those that start mid-blink
    toy = make_clips("faces_big_eyes_blinks", 2 * n, frames=frames, size=32, seed=5)
    every = toy.motion[:, :, toy.motion_names.index("eye_open")]
    kept = every[every[:, 0] >= OPEN_AT]
    assert len(kept) < len(every)  # some toy clips do start mid-blink
    torch.testing.assert_close(eye_open[:len(kept)], kept[:n])
    # so the path never opens the eyes past the face G_I drew by more than the 5% margin,
    # and most clips blink: shut at least halfway and open again
    share = shut_shares(eye_open)
    torch.testing.assert_close(share, blink_path(torch.zeros(n, 1), torch.ones(n, 1), eye_open)[..., 0])
    assert share.min() >= -(1 - OPEN_AT) / OPEN_AT - 1e-6
    shut_then_open = [(row.max() > 0.5) and (row[row.argmax():].min() < 0.2) for row in share]
    assert sum(shut_then_open) >= n // 3
    # all toy clips, as version 1 followed them, open the eyes past w0 in many frames; these never do
    summary, all_clips = share_summary(eye_open), share_summary(every)
    assert summary["start mid-blink"] == 0 < all_clips["start mid-blink"]
    assert summary["frames > 0.3 away from shut"] == 0 < all_clips["frames > 0.3 away from shut"]
    assert summary["mean towards shut"] > 0
    with pytest.raises(ValueError, match="lower open_at"):
        open_eyed_blinks(4, frames, open_at=1.5)


@pytest.mark.skipif(not BLINK_MOTION.exists(), reason="needs the shipped blink-world files")
def test_steered_clips_blink_as_the_real_clips_do_with_g_is_first_frame():
    vg = load_video_generator(BLINK_MOTION, BLINK_GI)
    n, frames, seed = 8, 16, 3
    video = steered_clips(vg, n, frames, seed=seed, iterations=20)
    assert video.shape == (n, frames, 3, 64, 64)
    # frame 0 is exactly the face the video generator would draw from that latent and noise
    gi = vg.image_generator
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        w0 = gi.get_latent(torch.randn(n, gi.style_dim, generator=g))
        first = gi.synthesize(w0, noise=gi.make_noise(n, g))
    torch.testing.assert_close(video[:, 0], first, atol=1e-4, rtol=0)
    # the feature network reads the real clips' blinks off the steered ones: each clip's change
    # from its first frame (faces start with their own eyes, so levels differ; measured 0.78)
    target = open_eyed_blinks(n, frames, seed)
    factors, names = video_factors(video.clamp(-1, 1), "faces_big_eyes_blinks", load_toy_feature_net())
    reading = factors[..., names.index("motion:eye_open")]
    assert (target.std(1) > 0.1).sum() >= 3  # clips with a blink in them
    change, real_change = reading - reading[:, :1], target - target[:, :1]
    assert torch.corrcoef(torch.stack([change.flatten(), real_change.flatten()]))[0, 1] > 0.6


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory):
    return _tiny_image_generator(tmp_path_factory.mktemp("gen"), 32)


def steered(tiny_generator, **kw):
    base = dict(image_generator=str(tiny_generator), data="toy:faces_big_eyes_blinks", n_clips=4, steps=2,
                g_steps=1, bf16=False, steered_real=True)
    return lab_preset("smoke", **{**base, **kw})


def test_trainer_trains_on_steered_clips_and_caches_them(tiny_generator, tmp_path, monkeypatch):
    import mocohd.data.toyworld as toyworld

    monkeypatch.setattr(toyworld, "DEFAULT_CACHE", tmp_path / "cache")
    t = LabVideoGANTrainer(steered(tiny_generator), tmp_path / "run")
    assert isinstance(t.dataset, SteeredVideoDataset)
    assert t.dataset[0]["video"].shape == (8, 3, t.d_cfg.size, t.d_cfg.size)
    t.fit(progress=False)
    assert t.step == 2
    cached = list((tmp_path / "cache").glob("steered-*.pt"))
    assert len(cached) == 1
    again = LabVideoGANTrainer(steered(tiny_generator), tmp_path / "run2")  # reads the cache
    assert torch.equal(again.dataset.video, t.dataset.video)
    monkeypatch.setattr(toyworld, "DEFAULT_CACHE", tmp_path / "other_cache")
    redrawn = LabVideoGANTrainer(steered(tiny_generator), tmp_path / "run3")  # draws them anew, alike
    assert torch.equal(redrawn.dataset.video, t.dataset.video)
    t.save()
    # the checkpoint names the steered clips' construction, and a resume on another one warns
    import mocohd.lab.steered as steered_module

    ckpt = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert ckpt["steered_version"] == steered_module.VERSION
    assert ckpt["steered_versions"] == [steered_module.VERSION]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LabVideoGANTrainer(steered(tiny_generator), tmp_path / "run").load(tmp_path / "run" / "checkpoint.pt")
    del ckpt["steered_version"], ckpt["steered_versions"]  # as saved before the version was recorded
    torch.save(ckpt, tmp_path / "old.pt")
    with pytest.warns(UserWarning, match=r"a version it does not record.*will list both.*Start a new run"):
        resumed = LabVideoGANTrainer(steered(tiny_generator), tmp_path / "run4")
        resumed.load(tmp_path / "old.pt")
    # it cannot tell which version the old part trained on, and its next checkpoint says so
    assert resumed.state()["steered_versions"] == [None, steered_module.VERSION]
    # the probe holds out fresh steered clips as the run's real side, and its parts add up
    from mocohd.lab.discriminator_probe import probe

    drawn, original = [], steered_module.steered_clips
    monkeypatch.setattr(steered_module, "steered_clips", lambda *a, **kw: drawn.append(kw) or original(*a, **kw))
    result = probe(tmp_path / "run" / "checkpoint.pt", n=4)
    assert drawn and drawn[0]["seed"] == 12345
    for d in ("video", "image"):
        assert sum(result["gap_parts"][d].values()) == pytest.approx(result["real_minus_fake"][d])
    # a real blink added to the run's own clips: amplitude 0 is the clip as generated, and the
    # larger the blink, the more the frames change
    from mocohd.lab.discriminator_probe import blink_reward, format_blink_reward

    reward = blink_reward(tmp_path / "run" / "checkpoint.pt", amplitudes=(1.0, 0.5, -1.0), n=4, iterations=2)
    away, *rows = reward["rows"]  # a = -1 first: the same distance away from shut
    assert away["amplitude"] == -1.0 and away["pixels"] > 0
    assert [r["amplitude"] for r in rows] == [0.0, 0.5, 1.0]
    assert rows[0]["video"][0] == rows[0]["image"][0] == rows[0]["pixels"] == rows[0]["rose"] == 0
    assert 0 < rows[1]["pixels"] < rows[2]["pixels"]
    assert all(abs(r[d][0]) < float("inf") for r in rows for d in ("video", "image"))
    assert "amplitude" in format_blink_reward(reward)
    # shipped, its provenance names the steered clips and the command that trains it again
    from mocohd.config import to_dict
    from mocohd.lab.ship import ship_lab_video as ship_video

    (tmp_path / "run" / "config.json").write_text(json.dumps(to_dict(steered(tiny_generator))))
    prov = ship_video("faces_big_eyes_blinks", tmp_path / "run", tmp_path / "out", name="steered")
    assert "--steered-real true" in prov["command"] and "SteeredVideoDataset" in prov["data"]["source"]
    assert prov["command"].startswith("python -m mocohd.lab.trainer ") and "then: python -m mocohd.lab.ship video" \
        in prov["command"]
    from test_video_gan import recorded_config

    assert recorded_config(prov["command"]) == {**to_dict(steered(tiny_generator)), "steps": prov["steps"]}  # this run
    assert f"construction version {steered_module.VERSION}" in prov["data"]["source"]
    # the version is the one the run recorded, not the code's: an older run's says it is not recorded
    import shutil

    (tmp_path / "oldrun").mkdir()
    shutil.copy(tmp_path / "old.pt", tmp_path / "oldrun" / "checkpoint.pt")
    for name in ("config.json", "log.csv"):
        shutil.copy(tmp_path / "run" / name, tmp_path / "oldrun" / name)
    old_prov = ship_video("faces_big_eyes_blinks", tmp_path / "oldrun", tmp_path / "out", name="old")
    assert "construction version not recorded (saved before" in old_prov["data"]["source"]
    # a run resumed across a change names both versions, oldest first
    ckpt["steered_versions"] = [None, steered_module.VERSION]
    torch.save(ckpt, tmp_path / "oldrun" / "checkpoint.pt")
    both = ship_video("faces_big_eyes_blinks", tmp_path / "oldrun", tmp_path / "out", name="both")
    assert f"not recorded (saved before checkpoints recorded it) then {steered_module.VERSION}" \
        in both["data"]["source"]
    # a resume must keep its real clips
    plain = steered(tiny_generator, steered_real=False)
    with pytest.raises(ValueError, match=r"--steered-real True \(now False\).*other real clips"):
        LabVideoGANTrainer(plain, tmp_path / "run4").load(tmp_path / "run" / "checkpoint.pt")


def test_steered_real_refuses_other_data_and_held_fakes(tiny_generator, tmp_path):
    with pytest.raises(ValueError, match="toy:faces_big_eyes_blinks"):
        LabVideoGANTrainer(steered(tiny_generator, data="toy:faces"), tmp_path / "a")
    with pytest.raises(ValueError, match="toy:faces_big_eyes_blinks"):
        LabVideoGANTrainer(steered(tiny_generator, data=str(tmp_path)), tmp_path / "b")
    with pytest.raises(ValueError, match="use one"):
        LabVideoGANTrainer(steered(tiny_generator, held_fakes="eye_open"), tmp_path / "c")


def test_fresh_check_trains_on_the_runs_own_blinks_against_their_way_back_cut(tiny_generator, tmp_path,
                                                                               monkeypatch):
    import mocohd.data.toyworld as toyworld
    from mocohd.lab.discriminator_probe import (_load_run, fresh_discriminator_check, returning,
                                                    steered_round_trips, steered_training_clips)

    monkeypatch.setattr(toyworld, "DEFAULT_CACHE", tmp_path / "cache")
    run = LabVideoGANTrainer(steered(tiny_generator, n_clips=40, frames=16), tmp_path / "run")
    run.save()
    ckpt = tmp_path / "run" / "checkpoint.pt"
    loaded = _load_run(ckpt)
    clips = steered_training_clips(loaded)
    assert torch.equal(clips.video, run.dataset.video)  # the trainer's own real clips, from its cache
    assert loaded["d_cfg"] == run.d_cfg and clips.motion.shape == (40, 16, 1)
    train, test = steered_round_trips(loaded)
    trips = int(returning(clips, "eye_open").sum())
    assert len(train[0]) == trips * 4 // 5 and len(test[0]) == trips - trips * 4 // 5
    assert torch.equal(train[0][:, 0], train[1][:, 0]) and not torch.equal(train[0], train[1])
    rows = fresh_discriminator_check("eye_open", against="no-return", steered_run=ckpt, steps=2, every=1, batch=2)
    assert [r["step"] for r in rows] == [1, 2] and all(0 <= r["ranked_right"] <= 1 for r in rows)
    with pytest.raises(ValueError, match="'eye_open' with against='no-return'"):
        fresh_discriminator_check("eye_open", steered_run=ckpt, steps=1)
    # the run's own 3D D on the same held-out round trips
    from mocohd.lab.discriminator_probe import format_round_trip_scores, round_trip_scores

    scores = round_trip_scores(ckpt)
    assert scores["clips"] == len(test[0]) and scores["step"] == 0
    assert all(0 <= scores[f"real_minus_{k}"]["ranked_right"] <= 1 for k in ("cut", "frozen"))
    assert "real - cut" in format_round_trip_scores(scores)
    few = LabVideoGANTrainer(steered(tiny_generator, n_clips=2, frames=16), tmp_path / "few")
    few.save()
    with pytest.raises(ValueError, match="needs at least 5.*--n-clips"):
        steered_round_trips(_load_run(tmp_path / "few" / "checkpoint.pt"))


def test_cut_fakes_play_the_real_batch_against_its_blinks_without_the_way_back(tiny_generator, tmp_path,
                                                                                monkeypatch):
    import mocohd.data.toyworld as toyworld
    from mocohd.lab.round_trips import cut_or_frozen

    monkeypatch.setattr(toyworld, "DEFAULT_CACHE", tmp_path / "cache")
    t = LabVideoGANTrainer(steered(tiny_generator, n_clips=8, frames=16, cut_fakes=True), tmp_path / "run")
    assert torch.equal(t.held_dataset.video, cut_or_frozen(t.dataset.as_clips(), "eye_open"))
    real = t.next_real()
    assert torch.equal(t.held_batch(), t.held_dataset.video[t.last_indices])
    assert real.shape == t.held_batch().shape and not torch.equal(real, t.held_batch())
    t.fit(progress=False)
    header = (tmp_path / "run" / "log.csv").read_text().splitlines()[0]
    assert "d_held" in header.split(",")
    with pytest.raises(ValueError, match="--cut-fakes.*--steered-real true"):
        LabVideoGANTrainer(steered(tiny_generator, steered_real=False, data="toy:faces", cut_fakes=True), tmp_path / "x")


def test_a_blink_followed_within_reach_moves_one_residual_step_per_frame_at_most():
    from mocohd.lab.steered import follow_within_reach, frame_steps
    from mocohd.motion import MotionGenerator, pca_coordinates

    comp = torch.linalg.qr(torch.randn(5, 5))[0][:3]
    motion = MotionGenerator(w_dim=5, h_dim=4, n_pca=3, w_residual=0.2, pca_comp=comp, pca_stdev=torch.tensor([2.0, 1.0, 0.5]))
    w0 = torch.randn(2, 5)
    shut = 3 * 0.2 * 1.0 * comp[1]  # three full steps along PC 1
    shares = torch.tensor([[0, 1, 1, 1, 1, 0, 0, 0, 0], [0, 0.2, 0.4, 0.2, 0, 0, 0, 0, 0]])  # a fast blink, a slow one
    w = w0[:, None] + shares[..., None] * shut
    followed = follow_within_reach(w, motion)
    along = pca_coordinates(motion, followed)[..., 1] / 0.2  # in steps along PC 1
    torch.testing.assert_close(along[0], torch.tensor([0.0, 1, 2, 3, 3, 2, 1, 0, 0]), atol=1e-4, rtol=0)
    torch.testing.assert_close(followed[1], w[1])  # within reach already: unchanged
    torch.testing.assert_close(followed[:, 0], w0)
    assert frame_steps(w, motion)[0].max().item() == pytest.approx(3.0)  # the fast blink: 3 steps in a frame
    assert frame_steps(followed, motion).max().item() == pytest.approx(1.0, abs=1e-5)


def test_steered_within_reach_trains_on_slowed_blinks_of_their_own_cache(tiny_generator, tmp_path, monkeypatch):
    import mocohd.data.toyworld as toyworld
    from mocohd.lab.steered import follow_within_reach, steered_path_batches

    monkeypatch.setattr(toyworld, "DEFAULT_CACHE", tmp_path / "cache")
    slowed = LabVideoGANTrainer(steered(tiny_generator, steered_within_reach=True), tmp_path / "slow")
    plain = LabVideoGANTrainer(steered(tiny_generator), tmp_path / "plain")
    assert len(list((tmp_path / "cache").glob("steered-*.pt"))) == 2  # one cache each
    # the slowed clips are the plain clips' paths as the one-step walker follows them
    vg = plain.video_g
    (w, noise), = steered_path_batches(vg, 4, 8, seed=777)
    (w_slow, _), = steered_path_batches(vg, 4, 8, seed=777, within_reach=True)
    torch.testing.assert_close(w_slow, follow_within_reach(w, vg.motion))
    assert slowed.dataset.video.shape == plain.dataset.video.shape
    slowed.fit(progress=False)
    with pytest.warns(UserWarning, match="--steered-within-reach true; it now trains with false"):
        plain.load(tmp_path / "slow" / "checkpoint.pt")
    with pytest.raises(ValueError, match="give --steered-real true"):
        LabVideoGANTrainer(steered(tiny_generator, steered_real=False, steered_within_reach=True), tmp_path / "x")


@pytest.mark.skipif(not BLINK_MOTION.exists(), reason="needs the shipped blink-world files")
def test_a_faces_own_shut_move_shuts_its_eyes_further_than_another_faces():
    from mocohd.lab.steered import shut_move_transfer

    vg = load_video_generator(BLINK_MOTION, BLINK_GI)
    readings = shut_move_transfer(vg, n=8, seed=7, shifts=(1, 3, 9, 8))  # 9 pairs as 1 does, 8 a face with itself
    assert list(readings) == ["face", "own move", "another face's move (roll 1)", "another face's move (roll 3)",
                              "mean move"]
    assert readings["own move"] < readings["face"] - 0.2  # the searched move shuts the eyes (measured 0.89 -> 0.50)
    others = [v for k, v in readings.items() if k.startswith("another")]
    assert max(others) > readings["own move"]  # another face's move shuts them less far (measured 0.69, 0.78)
