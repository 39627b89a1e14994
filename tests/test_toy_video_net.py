"""ToyVideoNet (FVD_toy, IS_toy) and the baselines that show what a video metric sees."""

import json

import pytest
import torch

from mocohd.data.toyworld import ACTIONS, ToyClips, make_clips
from mocohd.metrics.frechet import FewSamplesWarning
from mocohd.metrics.baselines import BASELINES, baseline_videos, random_walk_in_w
from mocohd.metrics.protocol import RANDOM_INIT
from mocohd.metrics.toy_video_net import (CLASSES, DEFAULT_PATH, ToyVideoNet, class_offset, fvd_toy, is_toy,
                                          load_toy_video_net, make_config, motion_classes, save_toy_video_net)
from test_image_generator import tiny


def clips_with(domain, motion_names, motion, label=None):
    n, t = motion.shape[:2]
    return ToyClips(domain=domain, video=torch.zeros(n, t, 3, 8, 8), identity=torch.zeros(n, 1), motion=motion,
                    label=label if label is not None else torch.zeros(n, dtype=torch.long),
                    identity_names=["x"], motion_names=motion_names)


def test_face_classes_are_read_off_mouth_and_head_motion():
    t = torch.linspace(0, 1, 16)
    zero = torch.zeros(16)
    rows = [  # eye_open, mouth_open, yaw, pitch
        (zero + 1, zero, 0.5 * t, 0.1 * t),  # silent, turns
        (zero + 1, zero, 0.1 * t, 0.5 * t),  # silent, nods
        (zero + 1, 0.3 * t, 0.5 * t, zero),  # talks, turns
        (zero + 1, 0.3 * t, zero, 0.2 * t),  # talks, nods
    ]
    motion = torch.stack([torch.stack(r, -1) for r in rows])
    classes = motion_classes(clips_with("faces", ["eye_open", "mouth_open", "yaw", "pitch"], motion))
    assert [CLASSES["faces"][i] for i in classes] == ["silent_turn", "silent_nod", "talk_turn", "talk_nod"]


def test_sky_classes_are_read_off_wind_and_light():
    t = torch.linspace(0, 1, 16)
    rows = [(1 - 0.1 * t, -0.02), (1 + 0.1 * t, -0.02), (1 - 0.1 * t, 0.03), (1 + 0.1 * t, 0.03)]
    motion = torch.stack([torch.stack([light, torch.full((16,), wind), wind * t], -1) for light, wind in rows])
    classes = motion_classes(clips_with("sky", ["light", "wind", "cloud_drift"], motion))
    assert [CLASSES["sky"][i] for i in classes] == ["left_darken", "left_brighten", "right_darken", "right_brighten"]


def test_actions_keep_their_labels_and_classes_are_laid_out_domain_by_domain():
    label = torch.tensor([3, 0, 6])
    assert torch.equal(motion_classes(clips_with("actions", ["a"], torch.zeros(3, 16, 1), label)), label)
    assert CLASSES["actions"] == ACTIONS
    assert [class_offset(d) for d in ("actions", "faces", "sky")] == [0, 7, 11]
    with pytest.raises(ValueError, match="not 'animals'"):
        class_offset("animals")


def test_the_toy_worlds_classes_are_all_drawn():
    for domain in CLASSES:
        counts = torch.bincount(motion_classes(make_clips(domain, 128, 16, 32, seed=4)), minlength=len(CLASSES[domain]))
        assert (counts > 0).all(), (domain, counts)


def test_save_and_load_round_trip_and_bad_files_are_refused(tmp_path):
    torch.manual_seed(0)
    net = ToyVideoNet(make_config(widths=(4, 4, 4, 4), feature_dim=8)).eval()
    assert net.weights_sha256 == RANDOM_INIT
    path = save_toy_video_net(net, tmp_path / "net.pt")
    loaded = load_toy_video_net(path)
    clips = torch.rand(3, 16, 3, 32, 32) * 2 - 1
    assert torch.equal(loaded.features(clips), net.features(clips)) and loaded.features(clips).shape == (3, 8)
    assert len(loaded.weights_sha256) == 64
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="expected 'mocohd.toy_video_net'"):
        load_toy_video_net(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError, match="make checkpoints"):
        load_toy_video_net(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="16 frames"):
        net.features(clips[:, :8])


# ----------------------------------------------------------------------------------------
# Baselines


def test_baselines_are_what_they_say():
    real = make_clips("faces", 6, 8, 32, seed=2).video
    shuffled = baseline_videos("shuffled", real, seed=1)
    for clip, mixed in zip(real, shuffled):  # the same frames, another order
        matches = [[torch.equal(f, g) for g in clip] for f in mixed]
        assert all(sum(row) == 1 for row in matches)
    assert not torch.equal(shuffled, real)
    static = baseline_videos("static", real)
    assert torch.equal(static, real[:, :1].expand_as(real))
    independent = baseline_videos("independent", real, seed=1)
    for t in range(real.shape[1]):  # frame t comes from frame t of some real clip
        assert all(any(torch.equal(independent[i, t], real[j, t]) for j in range(6)) for i in range(6))
    noise = baseline_videos("noise", real)
    assert noise.shape == real.shape and noise.min() >= -1 and noise.max() <= 1 and noise.std() > 0.5
    with pytest.raises(ValueError, match="unknown baseline"):
        baseline_videos("blurry", real)


def test_a_random_walk_in_w_starts_at_a_rendered_w_and_stands_still_with_no_step():
    g_i = tiny().eval()
    walk = random_walk_in_w(g_i, 2, 5, step=0.2, seed=3)
    still = random_walk_in_w(g_i, 2, 5, step=0.0, seed=3)
    assert walk.shape == (2, 5, 3, 16, 16)
    assert torch.allclose(walk[:, 0], still[:, 0], atol=1e-5)  # same start
    assert torch.allclose(still, still[:, :1].expand_as(still), atol=1e-5)  # no step: one frame held
    assert (walk[:, -1] - walk[:, 0]).abs().mean() > 1e-3


# ----------------------------------------------------------------------------------------
# The shipped network


@pytest.fixture(scope="module")
def shipped():
    return load_toy_video_net()


def test_the_shipped_network_classifies_fresh_clips(shipped):
    record = json.loads(DEFAULT_PATH.with_suffix(".json").read_text())
    assert record["weights"]["sha256"] == shipped.weights_sha256
    for domain in CLASSES:
        clips = make_clips(domain, 48, 16, 64, seed=31)
        predicted = shipped.probabilities(clips.video, domain).argmax(1)
        chance = torch.bincount(motion_classes(clips)).max().item() / 48
        accuracy = (predicted == motion_classes(clips)).float().mean().item()
        assert accuracy > max(0.7, chance + 0.2), (domain, accuracy, chance)


@pytest.mark.parametrize("domain", list(CLASSES))
def test_fvd_toy_puts_real_first_and_noise_after_shuffled_and_static(shipped, domain):
    """Real < shuffled < static < noise holds on actions, whose motions are large. On faces and
    sky, whose motions are small and slow, a held frame is nearer real clips than a shuffled
    one (shuffling a slow drift makes jumps no real clip has): the shipped JSON's 256-clip
    table says the same (faces 116 against 294, sky 370 against 1,529)."""
    real = make_clips(domain, 96, 16, 64, seed=41).video
    other = make_clips(domain, 96, 16, 64, seed=42).video
    with pytest.warns(FewSamplesWarning):  # 96 clips for 128-d features: biased, but the ranking holds
        scores = {name: fvd_toy(real, baseline_videos(name, other, seed=1) if name != "real" else other, shipped)
                  for name in ("real", "shuffled", "static", "noise")}
    value = {name: score.value for name, score in scores.items()}
    assert 10 * value["real"] < min(value["shuffled"], value["static"]), value  # far beyond the sampling floor
    assert max(value["shuffled"], value["static"]) < value["noise"], value
    if domain == "actions":
        assert value["shuffled"] < value["static"], value
    else:
        assert value["static"] < value["shuffled"], value
    assert "FVD_toy" in str(scores["real"]) and f"sha256:{shipped.weights_sha256}" in str(scores["real"])


def test_is_toy_of_real_actions_nears_the_number_of_actions_and_a_held_frame_scores_lower(shipped):
    real = make_clips("actions", 140, 16, 64, seed=43).video
    score, static = is_toy(real, net=shipped, splits=2), is_toy(baseline_videos("static", real), net=shipped, splits=2)
    assert score.value > 5.5 and score.value <= len(ACTIONS) + 1e-6
    assert static.value < score.value - 1
    assert "IS_toy" in str(score) and "7 actions classes" in str(score)


def test_the_training_command_line_records_what_was_asked_and_refuses_bad_values(capsys):
    from mocohd.metrics import toy_video_net_train as train
    from mocohd.metrics.train_cli import command_line, config_from_args, train_parser

    defaults = train.TrainConfig()
    parser = train_parser("prog", "test", DEFAULT_PATH, defaults, train.CLI_OPTIONS)
    args = parser.parse_args(["train", "--steps", "7", "--seed", "0"])
    assert config_from_args(parser, args, train.TrainConfig, train.CLI_OPTIONS).steps == 7
    assert command_line(train.PROG, args, defaults, train.CLI_OPTIONS, DEFAULT_PATH.parents[2]) == \
        "python -m mocohd.metrics.toy_video_net_train train --out data/checkpoints/toy_video_net.pt --steps 7"
    with pytest.raises(SystemExit):
        train.main(["train", "--clips-per-domain", "0"])
    assert "--clips-per-domain must be at least 1, got 0" in capsys.readouterr().err
