import math

import pytest
import torch
import torch.nn.functional as F

from mocohd.checkpoint import sha256
from mocohd.discriminators import StateDictMismatch
from mocohd.metrics.frechet import FewSamplesWarning
from mocohd.metrics.i3d import (I3DDetector, InceptionI3d, Unit3D, export_torchscript, fvd, fvd_preprocess,
                                i3d_key_shapes, is_torchscript, load_i3d, load_i3d_state_dict, same_padding)
from mocohd.state_dicts import shapes_of

FRAMES = 9  # the fewest I3D takes: ceil(9 / 8) = 2 time steps reach the final 2x7x7 pool


def released_layout_state_dict(seed: int = 0) -> dict:
    """A state dict written from the documented key/shape table alone, with random values of a
    sane scale (He-scaled convs, so that the signal survives 20 ReLU layers; BN variances
    positive), as a stand-in for rgb_imagenet.pt."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in i3d_key_shapes().items():
        if key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=g) + 0.5
        elif key.endswith("bn.weight"):  # near 1: a BN scale of ~0.1 per layer would silence the input
            state[key] = 1 + torch.randn(shape, generator=g) * 0.1
        elif key.endswith("conv3d.weight"):
            state[key] = torch.randn(shape, generator=g) * math.sqrt(2 / math.prod(shape[1:]))
        else:
            state[key] = torch.randn(shape, generator=g) * 0.1
    return state


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("i3d") / "rgb_imagenet.pt"
    torch.save(released_layout_state_dict(), path)
    return path


@pytest.fixture(scope="module")
def i3d(weights_file):
    return load_i3d(weights_file)


@pytest.fixture(scope="module")
def clips():
    g = torch.Generator().manual_seed(1)
    videos = torch.rand(2, FRAMES, 3, 32, 40, generator=g) * 2 - 1  # (N, T, 3, H, W) in [-1, 1]
    videos[1] = videos[1] * 0.4 + 0.5  # a brighter, flatter second clip
    return videos


def test_the_documented_table_matches_the_module():
    table = i3d_key_shapes()
    own = {k: v for k, v in shapes_of(InceptionI3d()).items() if not k.endswith("num_batches_tracked")}
    assert own == table
    # a few entries read off the published architecture
    assert table["Conv3d_1a_7x7.conv3d.weight"] == (64, 3, 7, 7, 7)
    assert table["Conv3d_2c_3x3.bn.running_var"] == (192,)
    assert table["Mixed_3b.b2b.conv3d.weight"] == (32, 16, 3, 3, 3)
    assert table["Mixed_4f.b3b.conv3d.weight"] == (128, 528, 1, 1, 1)
    assert table["Mixed_5c.b1b.conv3d.weight"] == (384, 192, 3, 3, 3)
    assert table["logits.conv3d.weight"] == (400, 1024, 1, 1, 1) and table["logits.conv3d.bias"] == (400,)
    assert "logits.bn.weight" not in table and "Mixed_3b.b0.conv3d.bias" not in table


def test_same_padding_gives_tensorflows_output_sizes():
    for size in range(1, 30):
        for kernel in (1, 2, 3, 7):
            for stride in (1, 2):
                before, after = same_padding(size, kernel, stride)
                out = math.ceil(size / stride)  # TF "SAME"
                assert before + after == max((out - 1) * stride + kernel - size, 0)
                assert after - before in (0, 1)  # the odd pixel goes after, as in TF
                assert (size + before + after - kernel) // stride + 1 == out
    unit = Unit3D(3, 4, (7, 7, 7), (2, 2, 2))
    assert unit(torch.zeros(1, 3, 5, 9, 10)).shape == (1, 4, 3, 5, 5)


def test_a_state_dict_in_the_released_layout_loads_with_its_values(weights_file, i3d):
    state = released_layout_state_dict()
    loaded = i3d.net.state_dict()
    for key in ("Conv3d_1a_7x7.conv3d.weight", "Mixed_4d.b2b.bn.running_var", "logits.conv3d.bias"):
        torch.testing.assert_close(loaded[key], state[key], rtol=0, atol=0)
    assert i3d.weights_sha256 == sha256(weights_file)
    assert not is_torchscript(weights_file)
    # saved from DataParallel, and with BatchNorm counters: loads too
    net = InceptionI3d()
    counted = {f"module.{k}": v for k, v in {**state, **{k: torch.tensor(7) for k in net.state_dict()
                                                          if k.endswith("num_batches_tracked")}}.items()}
    load_i3d_state_dict(net, counted)
    assert int(net.state_dict()["Mixed_5b.b0.bn.num_batches_tracked"]) == 7


def test_a_wrong_state_dict_is_refused_listing_the_keys(tmp_path):
    state = released_layout_state_dict()
    del state["Mixed_4c.b1b.conv3d.weight"]
    state["Mixed_6a.b0.conv3d.weight"] = torch.zeros(1)
    state["logits.conv3d.weight"] = torch.zeros(600, 1024, 1, 1, 1)  # a Kinetics-600 head
    path = tmp_path / "wrong.pt"
    torch.save(state, path)
    with pytest.raises(StateDictMismatch) as error:
        load_i3d(path)
    message = str(error.value)
    for part in ("missing (1): Mixed_4c.b1b.conv3d.weight", "unexpected (1): Mixed_6a.b0.conv3d.weight",
                 "mis-shaped (1): logits.conv3d.weight: file (600, 1024, 1, 1, 1) vs model (400, 1024, 1, 1, 1)",
                 "rgb_imagenet.pt"):
        assert part in message, message
    with pytest.raises(TypeError, match="state dict"):
        torch.save([1, 2], tmp_path / "list.pt")
        load_i3d(tmp_path / "list.pt")
    with pytest.raises(FileNotFoundError, match="i3d_torchscript.pt"):
        load_i3d(tmp_path / "missing.pt")


def test_forward_gives_the_documented_shapes_and_the_detector_flags_agree(i3d, clips):
    x = fvd_preprocess(clips)
    assert x.shape == (2, 3, FRAMES, 224, 224) and x.abs().max() <= 1
    with torch.no_grad():
        pooled = i3d.net.pooled(x)
        logits = i3d.net(x)
    assert pooled.shape == (2, 1024, 1, 1, 1)  # T' = ceil(9 / 8) - 1
    torch.testing.assert_close(logits, F.conv3d(pooled, i3d.net.logits.conv3d.weight,
                                                 i3d.net.logits.conv3d.bias).flatten(1))
    features = i3d.features(clips, batch_size=1)
    assert features.shape == (2, 400)
    torch.testing.assert_close(features, logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(i3d.pooled_features(clips[:1]), pooled[:1].flatten(1), rtol=1e-5, atol=1e-5)
    assert (features[0] - features[1]).abs().max() > 0.05 * features.abs().max()  # the clips are told apart
    # StyleGAN-V's call: uint8-range input, the detector rescales and resizes, and returns probabilities
    raw = ((clips[:1] + 1) * 127.5).transpose(1, 2)  # (1, 3, T, H, W) in [0, 255]
    with torch.no_grad():
        probabilities = I3DDetector(i3d.net)(raw, rescale=True, resize=True)
    torch.testing.assert_close(probabilities, logits[:1].softmax(dim=1), rtol=1e-4, atol=1e-6)
    assert probabilities.sum().item() == pytest.approx(1.0, abs=1e-5)


def test_logits_are_averaged_over_time(i3d):
    # 17 frames leave two time steps after the final pool (ceil(17 / 8) - 1 = 2); FVD averages them
    x = torch.rand(1, 3, 17, 193, 193, generator=torch.Generator().manual_seed(4)) * 2 - 1
    with torch.no_grad():
        pooled = i3d.net.pooled(x)
        per_step = F.conv3d(pooled, i3d.net.logits.conv3d.weight, i3d.net.logits.conv3d.bias)  # (1, 400, 2, 1, 1)
        logits = i3d.net(x)
    assert pooled.shape == (1, 1024, 2, 1, 1)
    torch.testing.assert_close(logits, per_step.mean(dim=2).flatten(1), rtol=1e-5, atol=1e-5)
    assert not torch.allclose(per_step[:, :, 0], per_step[:, :, 1])


def test_torchscript_round_trip(i3d, clips, tmp_path):
    path = export_torchscript(i3d.net, tmp_path / "i3d_torchscript.pt")
    assert is_torchscript(path)
    scripted = load_i3d(path)
    assert scripted.net is None and scripted.weights_sha256 == sha256(path)
    torch.testing.assert_close(scripted.features(clips[:1]), i3d.features(clips[:1]), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="logits only"):
        scripted.pooled_features(clips[:1])


def test_fvd_of_a_set_with_itself_is_zero_and_prints_its_protocol(i3d, clips):
    with pytest.warns(FewSamplesWarning):
        score = fvd(i3d, clips, clips.clone(), stride=2)
    assert score.value == pytest.approx(0.0, abs=1e-3)
    line = str(score)
    for part in ("FVD = ", "n_videos=2 vs 2", f"frames={FRAMES}", "stride=2", "resize=224x224 bilinear",
                 "network=I3D (Kinetics-400)", f"weights=sha256:{i3d.weights_sha256}", "400-d"):
        assert part in line, line


def test_bad_clips_are_refused(i3d):
    with pytest.raises(ValueError, match="at least 9 frames"):
        i3d.features(torch.zeros(1, 8, 3, 32, 32))
    with pytest.raises(ValueError, match=r"\(N, T, 3, H, W\)"):
        i3d.features(torch.zeros(1, 3, 16, 32, 32))
    with pytest.raises(ValueError, match="floats"):
        fvd_preprocess(torch.zeros(1, 16, 3, 32, 32, dtype=torch.uint8))
