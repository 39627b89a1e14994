import hashlib
import json

import pytest
import torch

from mocohd.data.toyworld import DOMAINS, make_clips, make_images
from mocohd.metrics.toy_features import (DEFAULT_PATH, ToyFeatureNet, factor_targets, feature_domain,
                                         image_frechet_distance, load_toy_feature_net, make_config, prepare_images,
                                         save_toy_feature_net, video_factors)
from mocohd.metrics.toy_features_train import r2_scores

N_REAL = 300  # images per sample in the shipped-net checks: enough for a stable ordering, fast


def small_config():
    names = {d: factor_targets(make_clips(d, 2, frames=2, size=32))[1] for d in DOMAINS}
    return make_config(names, widths=(8, 8, 16, 16), feature_dim=32)


@pytest.fixture(scope="module")
def shipped_net():
    if not DEFAULT_PATH.is_file():
        pytest.fail(f"the shipped toy feature network {DEFAULT_PATH} is missing; run `make checkpoints`")
    return load_toy_feature_net()


def test_factor_targets_drop_labels_and_unseen_factors():
    clips = make_clips("actions", 3, frames=4, size=32)
    targets, names = factor_targets(clips)
    assert targets.shape == (12, len(names))
    assert "identity:action" not in names and "motion:cos(turn)" in names
    sky_names = factor_targets(make_clips("sky", 2, frames=2, size=32))[1]
    assert "motion:cloud_drift" not in sky_names and "identity:dusk" in sky_names


def test_forward_shapes_and_heads():
    net = ToyFeatureNet(small_config())
    features = net(prepare_images(torch.rand(5, 3, 64, 64) * 2 - 1))
    assert features.shape == (5, 32)
    outputs = net.head_outputs(features)
    assert outputs["domain"].shape == (5, 4)
    assert outputs["animals_label"].shape == (5, 5) and outputs["actions_label"].shape == (5, 7)
    assert outputs["faces_factors"].shape == (5, len(net.config["factors"]["faces"]))


def test_features_resize_any_size_and_batch_consistently():
    net = ToyFeatureNet(small_config())
    for size in (32, 64, 128):
        assert net.features(torch.rand(3, 3, size, size) * 2 - 1).shape == (3, 32)
    images = torch.rand(10, 3, 64, 64) * 2 - 1
    torch.testing.assert_close(net.features(images, batch_size=3), net.features(images, batch_size=10),
                               rtol=1e-4, atol=1e-5)
    assert net.training  # the mode is restored


def test_bad_images_name_the_problem():
    net = ToyFeatureNet(small_config())
    with pytest.raises(ValueError, match=r"flatten\(0, 1\)"):
        net.features(torch.zeros(2, 4, 3, 64, 64))
    with pytest.raises(ValueError, match="uint8"):
        net.features(torch.zeros(2, 3, 64, 64, dtype=torch.uint8))
    with pytest.raises(TypeError, match="torch tensor"):
        net.features([[0.0]])


def test_save_load_round_trip(tmp_path):
    net = ToyFeatureNet(small_config()).eval()
    path = save_toy_feature_net(net, tmp_path / "net.pt")
    loaded = load_toy_feature_net(path)
    images = torch.rand(4, 3, 64, 64) * 2 - 1
    torch.testing.assert_close(loaded.features(images), net.features(images))
    assert not list(tmp_path.glob("*.tmp"))


def test_bad_paths_name_the_file_and_the_fix(tmp_path):
    missing = tmp_path / "nowhere.pt"
    with pytest.raises(FileNotFoundError, match="make checkpoints") as error:
        load_toy_feature_net(missing)
    assert str(missing) in str(error.value)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="corrupt.*make checkpoints"):
        load_toy_feature_net(corrupt)
    other = tmp_path / "other.pt"
    torch.save({"format": "something else"}, other)
    with pytest.raises(ValueError, match="not a toy feature network"):
        load_toy_feature_net(other)


def test_r2_scores():
    true = torch.tensor([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    torch.testing.assert_close(r2_scores(true, true), torch.ones(2))
    torch.testing.assert_close(r2_scores(true.mean(0).expand(3, 2), true), torch.zeros(2))


@pytest.fixture(scope="module")
def real_images():
    """Two disjoint samples of faces and one of animals, N_REAL each: (N, 3, 64, 64)."""
    return {name: make_images(domain, N_REAL, seed=seed).video[:, 0]
            for name, domain, seed in (("faces_a", "faces", 101), ("faces_b", "faces", 102), ("animals", "animals", 103))}


def test_shipped_net_separates_domains_and_floors_real_vs_real(shipped_net, real_images):
    floor = image_frechet_distance(real_images["faces_a"], real_images["faces_b"], net=shipped_net)
    between = image_frechet_distance(real_images["faces_a"], real_images["animals"], net=shipped_net)
    assert floor < 0.05 * between, (floor, between)  # measured at N=300: about 1.8 vs 120


def test_shipped_net_reads_the_domain(shipped_net):
    images = torch.cat([make_images(domain, 32, seed=104).video[:, 0] for domain in DOMAINS])
    predicted = shipped_net.predict(images)["domain"].argmax(1)
    expected = torch.arange(len(DOMAINS)).repeat_interleave(32)
    assert (predicted == expected).float().mean() > 0.95


def test_shipped_net_reads_the_big_eyes_variant_with_the_faces_head(shipped_net):
    """faces_big_eyes is read with the faces head (it never saw the variant): the readings must
    still follow the drawn motion, so that motion_stats means something on it."""
    assert feature_domain("faces_big_eyes") == "faces" and feature_domain("sky") == "sky"
    with pytest.raises(ValueError, match="unknown toy-world domain 'dogs'"):
        feature_domain("dogs")
    clips = make_clips("faces_big_eyes", 48, frames=16, size=64, seed=777)
    read, names = video_factors(clips.video, "faces_big_eyes", shipped_net)
    for i, name in enumerate(clips.motion_names):  # measured: eyes 0.91, mouth 0.90, yaw 0.95, pitch 0.79
        pair = torch.stack([read[..., names.index(f"motion:{name}")].flatten(), clips.motion[..., i].flatten()])
        assert torch.corrcoef(pair)[0, 1] > 0.7, name


def test_shipped_provenance_matches_weights():
    record = json.loads(DEFAULT_PATH.with_suffix(".json").read_text())
    assert record["weights"]["sha256"] == hashlib.sha256(DEFAULT_PATH.read_bytes()).hexdigest()
    assert DEFAULT_PATH.stat().st_size < 5_000_000
    for domain in DOMAINS:
        assert record["fd_toy"]["real_vs_real"][domain] < min(
            v for k, v in record["fd_toy"]["between_domains"].items() if domain in k)
