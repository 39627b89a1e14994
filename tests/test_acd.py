import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mocohd.data.toyworld import make_clips
from mocohd.metrics.acd import acd_embedding, acd_mean_colour, content_distances, embed_frames, mean_colours
from mocohd.metrics.protocol import NO_NETWORK
from mocohd.metrics.toy_features import DEFAULT_PATH, load_toy_feature_net

HALF = 4  # spliced clips change identity after this many frames


@pytest.fixture(scope="module")
def faces():
    """Toy faces that keep their identity, and the same clips with the second half taken from
    another face (the previous clip's): the identity changes mid-clip, the motion goes on."""
    steady = make_clips("faces", 12, frames=2 * HALF, size=32, seed=3).video  # (12, 8, 3, 32, 32)
    other = steady.roll(1, dims=0)
    spliced = torch.cat([steady[:, :HALF], other[:, HALF:]], dim=1)
    return steady, spliced


def flat_video(colours):
    """One video whose frame t is flat colour colours[t]: (1, T, 3, 8, 8)."""
    return torch.tensor(colours, dtype=torch.float64)[None, :, :, None, None].expand(1, -1, 3, 8, 8).clone()


def test_flat_colour_clips_match_the_distance_by_hand():
    a, b = [0.5, -0.5, 0.0], [-0.1, 0.3, 0.6]
    gap = math.dist(a, b)
    video = flat_video([a, b, a, b])
    # all pairs (6): 4 of them join an a-frame to a b-frame; consecutive pairs (3): all do
    assert content_distances(mean_colours(video))[0] == pytest.approx(4 / 6 * gap, rel=1e-12)
    assert content_distances(mean_colours(video), pairs="consecutive")[0] == pytest.approx(gap, rel=1e-12)
    assert acd_mean_colour(flat_video([a] * 5)).value == pytest.approx(0.0, abs=1e-12)


def test_a_mask_averages_only_the_object():
    video = torch.zeros(1, 2, 3, 8, 8)
    video[:, 0, :, :4] = 1.0  # frame 0: the top half is white, frame 1: all black
    mask = torch.zeros(1, 2, 8, 8)
    mask[:, :, :4] = 1  # the object: the top half
    np.testing.assert_allclose(mean_colours(video, mask)[0].numpy(), [[1, 1, 1], [0, 0, 0]])
    np.testing.assert_allclose(mean_colours(video)[0].numpy(), [[0.5] * 3, [0, 0, 0]])
    with pytest.raises(ValueError, match="mask is empty"):
        mean_colours(video, torch.zeros(1, 2, 8, 8))


def test_mean_colour_acd_is_higher_when_the_identity_changes(faces):
    steady, spliced = faces
    per_steady = content_distances(mean_colours(steady))
    per_spliced = content_distances(mean_colours(spliced))
    assert per_spliced.mean() > 5 * per_steady.mean()
    assert (per_spliced > per_steady).all()  # every clip, not only on average
    score = acd_mean_colour(spliced, stride=1)
    assert score.value == pytest.approx(per_spliced.mean())
    assert "network=mean colour" in str(score) and score.protocol.weights_sha256 == NO_NETWORK


def thumbnail(frames):
    """A crude embedder: the frame shrunk to 4x4 colours, (M, 48)."""
    return F.adaptive_avg_pool2d(frames, 4).flatten(1)


def test_embedding_acd_takes_any_embedder_and_is_higher_when_the_identity_changes(faces):
    steady, spliced = faces
    assert embed_frames(steady, thumbnail, batch_size=5).shape == (12, 2 * HALF, 48)
    low = acd_embedding(steady, thumbnail, name="4x4 thumbnail", stride=1)
    high = acd_embedding(spliced, thumbnail, name="4x4 thumbnail", stride=1)
    assert high.value > 5 * low.value
    assert "network=4x4 thumbnail" in str(high) and "random init" in str(high)


@pytest.mark.skipif(not DEFAULT_PATH.is_file(), reason="the shipped toy feature network is missing")
def test_the_toy_feature_network_works_as_an_identity_embedder(faces):
    steady, spliced = faces
    net = load_toy_feature_net()
    low, high = acd_embedding(steady, net.features), acd_embedding(spliced, net)  # a bound method or the net
    assert high.value > 2.5 * low.value
    assert acd_embedding(spliced, net.features).value == pytest.approx(high.value, rel=1e-6)  # the net's features
    assert f"sha256:{net.weights_sha256}" in str(high) and "network=ToyFeatureNet" in str(high)


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="T >= 2"):
        acd_mean_colour(torch.zeros(2, 1, 3, 8, 8))
    with pytest.raises(ValueError, match="pairs must be"):
        content_distances(torch.zeros(1, 3, 2), pairs="neighbours")
    with pytest.raises(ValueError, match=r"\(M, D\) vectors"):
        embed_frames(torch.zeros(1, 2, 3, 8, 8), lambda frames: frames)
