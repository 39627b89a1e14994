import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mocohd.checkpoint import sha256
from mocohd.discriminators import StateDictMismatch
from mocohd.metrics.c3d import (C3D, CHANNEL_MEAN_BGR, C3DClassifier, c3d_key_shapes, load_c3d, load_c3d_state_dict,
                                load_tgan_mean, tgan_preprocess)
from mocohd.metrics.inception_score import inception_score_of
from mocohd.state_dicts import shapes_of


def chainer_names(table: dict) -> dict:
    """conv1a.weight -> conv1a/W, conv1a.bias -> conv1a/b: the names inside conv3d_deepnetA_ucf.npz."""
    return {k.replace(".weight", "/W").replace(".bias", "/b"): v for k, v in table.items()}


def released_layout_arrays(seed: int = 0) -> dict:
    """float32 arrays under chainer's names, written from the documented table alone (He-scaled)."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for key, shape in chainer_names(c3d_key_shapes()).items():
        scale = math.sqrt(2 / math.prod(shape[1:])) if key.endswith("/W") else 0.01
        arrays[key] = (rng.standard_normal(shape, dtype=np.float32) * scale).astype(np.float32)
    return arrays


@pytest.fixture(scope="module")
def arrays():
    return released_layout_arrays()


@pytest.fixture(scope="module")
def npz_file(tmp_path_factory, arrays):
    path = tmp_path_factory.mktemp("c3d") / "conv3d_deepnetA_ucf.npz"
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="module")
def c3d(npz_file):
    return load_c3d(npz_file)


def test_the_documented_table_matches_the_module():
    table = c3d_key_shapes()
    assert shapes_of(C3D()) == table
    assert table["conv1a.weight"] == (64, 3, 3, 3, 3) and table["conv3b.weight"] == (256, 256, 3, 3, 3)
    assert table["fc6.weight"] == (4096, 8192) and table["fc8.weight"] == (101, 4096) and table["fc8.bias"] == (101,)
    assert len(table) == 22


def test_the_chainer_npz_loads_with_its_values(npz_file, c3d, arrays):
    state = c3d.net.state_dict()
    for chainer_key, torch_key in (("conv1a/W", "conv1a.weight"), ("conv5b/b", "conv5b.bias"), ("fc8/W", "fc8.weight")):
        np.testing.assert_array_equal(state[torch_key].numpy(), arrays[chainer_key])
    assert c3d.weights_sha256 == sha256(npz_file)


def test_a_pytorch_state_dict_with_the_same_names_loads(tmp_path, c3d):
    path = tmp_path / "c3d.pt"
    torch.save({f"module.{k}": v for k, v in c3d.net.state_dict().items()}, path)
    again = load_c3d(path)
    torch.testing.assert_close(again.net.fc7.weight, c3d.net.fc7.weight, rtol=0, atol=0)


def test_a_wrong_file_is_refused_listing_the_keys(tmp_path, arrays):
    wrong = dict(arrays)  # the big arrays are shared, not copied
    del wrong["fc8/b"]
    wrong["conv6a/W"] = np.zeros((1,), np.float32)
    wrong["fc8/W"] = np.zeros((487, 4096), np.float32)  # the Sports-1M head, not UCF-101's
    net = C3D()
    before = net.conv1a.weight.detach().clone()
    with pytest.raises(StateDictMismatch) as error:
        load_c3d_state_dict(net, wrong)
    message = str(error.value)
    for part in ("missing (1): fc8.bias", "unexpected (1): conv6a.weight",
                 "mis-shaped (1): fc8.weight: file (487, 4096) vs model (101, 4096)", "conv3d_deepnetA_ucf.npz",
                 "conv1a/W"):
        assert part in message, message
    assert torch.equal(net.conv1a.weight, before)  # nothing loaded
    np.savez(tmp_path / "small.npz", **{"conv1a/W": np.zeros((64, 3, 3, 3, 3), np.float32)})
    with pytest.raises(StateDictMismatch, match=r"missing \(21\)"):  # through the file reader
        load_c3d(tmp_path / "small.npz")
    with pytest.raises(FileNotFoundError, match="conv3d_deepnetA_ucf.npz"):
        load_c3d(tmp_path / "missing.npz")


def c3d_by_hand(state: dict, x: torch.Tensor) -> torch.Tensor:
    """C3D written out again, with chainer's cover_all pooling spelled as explicit -inf padding
    up to a multiple of the window (instead of PyTorch's ceil_mode)."""

    def pool(h, kernel):
        pad = []
        for size, k in zip(reversed(h.shape[2:]), reversed(kernel)):
            pad += [0, (-size) % k]
        return F.max_pool3d(F.pad(h, pad, value=-math.inf), kernel)

    h = x
    for names, kernel in ((["conv1a"], (1, 2, 2)), (["conv2a"], (2, 2, 2)), (["conv3a", "conv3b"], (2, 2, 2)),
                          (["conv4a", "conv4b"], (2, 2, 2)), (["conv5a", "conv5b"], (2, 2, 2))):
        for name in names:
            h = F.relu(F.conv3d(h, state[f"{name}.weight"], state[f"{name}.bias"], padding=1))
        h = pool(h, kernel)
    h = F.relu(F.linear(h.reshape(h.shape[0], -1), state["fc6.weight"], state["fc6.bias"]))
    h = F.relu(F.linear(h, state["fc7.weight"], state["fc7.bias"]))
    return F.linear(h, state["fc8.weight"], state["fc8.bias"])


def test_forward_gives_101_logits_and_matches_the_network_by_hand(c3d):
    x = torch.randn(1, 3, 16, 112, 112, generator=torch.Generator().manual_seed(2)) * 50
    with torch.no_grad():
        logits, features = c3d.net(x), c3d.net.fc7_features(x)
        expected = c3d_by_hand(c3d.net.state_dict(), x)
    assert logits.shape == (1, 101) and features.shape == (1, 4096)
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4)
    assert logits.std() > 0


def test_preprocessing_swaps_to_bgr_scales_and_subtracts_the_mean():
    rgb = torch.tensor([0.5, -0.25, 1.0])  # a flat colour clip: stays flat through the bicubic resize
    videos = rgb.view(1, 1, 3, 1, 1).expand(1, 16, 3, 40, 60).clone()
    x = tgan_preprocess(videos)
    assert x.shape == (1, 3, 16, 112, 112)
    expected_bgr = (rgb.flip(0) * 128 + 128) - torch.tensor(CHANNEL_MEAN_BGR)
    torch.testing.assert_close(x[0, :, 5, 50, 70], expected_bgr, rtol=0, atol=1e-3)
    torch.testing.assert_close(x.amax(dim=(2, 3, 4)) - x.amin(dim=(2, 3, 4)), torch.zeros(1, 3), rtol=0, atol=1e-3)


def test_the_mean_clip_is_cropped_as_tgan_crops_it(tmp_path):
    # mean[c, t, y, x] = 1000 c + 10 t + x / 1000 on 171 columns: the crop shows in the numbers
    c, t, y, x = np.meshgrid(np.arange(3), np.arange(16), np.arange(128), np.arange(171), indexing="ij")
    np.savez(tmp_path / "mean2.npz", mean=(1000.0 * c + 10.0 * t + x / 1000.0).astype(np.float32)[None])
    mean = load_tgan_mean(tmp_path / "mean2.npz")
    assert mean.shape == (3, 16, 128, 128)
    assert mean[2, 3, 0, 0].item() == pytest.approx(2030.021) and mean[0, 0, 0, -1].item() == pytest.approx(0.148)
    grey = torch.zeros(1, 16, 3, 128, 128)  # 0 -> 128 in every channel
    x = tgan_preprocess(grey, mean)  # (1, 3, 16, 112, 112): rows and columns 8:120 of the 128x128 crop
    assert x[0, 1, 4, 0, 0].item() == pytest.approx(128 - (1000 + 40 + (21 + 8) / 1000), abs=1e-3)
    assert x[0, 0, 15, 111, 111].item() == pytest.approx(128 - (150 + (21 + 8 + 111) / 1000), abs=1e-3)
    np.savez(tmp_path / "bad.npz", mean=np.zeros((3, 16, 112, 112), np.float32))
    with pytest.raises(ValueError, match="3, 16, 128, 171"):
        load_tgan_mean(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="16-frame clips"):
        tgan_preprocess(torch.zeros(1, 8, 3, 128, 128), mean)


def test_inception_score_on_c3d_prints_its_protocol(npz_file, tmp_path):
    np.savez(tmp_path / "mean2.npz", mean=np.full((3, 16, 128, 171), 100.0, np.float32))
    classifier = load_c3d(npz_file, mean_path=tmp_path / "mean2.npz")
    assert isinstance(classifier, C3DClassifier)
    videos = torch.rand(2, 16, 3, 64, 64, generator=torch.Generator().manual_seed(3)) * 2 - 1
    score = inception_score_of(classifier, videos, splits=1, stride=1)
    assert 1.0 <= score.value <= 2.0  # two videos can score at most 2
    line = str(score)
    for part in ("IS = ", "n_videos=2", "frames=16", "stride=1", "resize=128x128 bicubic, centre crop 112x112",
                 "network=C3D (UCF-101", f"weights=sha256:{sha256(npz_file)}",
                 f"mean2.npz sha256:{sha256(tmp_path / 'mean2.npz')}", "1 splits"):
        assert part in line, line
    fallback = C3DClassifier(classifier.net)
    assert "per-channel" in fallback.notes and fallback.weights_sha256 == "random init"
