import warnings

import numpy as np
import pytest
import torch

from mocohd.metrics.frechet import FewSamplesWarning, StreamingStats, feature_statistics, frechet_distance
from mocohd.metrics.protocol import RANDOM_INIT, FeatureNetwork, Protocol, frechet_score


def diagonal_gaussians(rng, dim=6):
    mu1, mu2 = rng.normal(size=dim), rng.normal(size=dim)
    var1, var2 = rng.uniform(0.1, 3.0, dim), rng.uniform(0.1, 3.0, dim)
    return mu1, var1, mu2, var2


def test_diagonal_covariances_match_closed_form():
    mu1, var1, mu2, var2 = diagonal_gaussians(np.random.default_rng(0))
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(var1 + var2 - 2 * np.sqrt(var1 * var2))
    got = frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2))
    assert got == pytest.approx(expected, rel=1e-9)


def test_commuting_full_covariances_match_closed_form():
    rng = np.random.default_rng(1)
    rotation, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    a, b = rng.uniform(0.2, 2.0, 5), rng.uniform(0.2, 2.0, 5)
    sigma1, sigma2 = rotation @ np.diag(a) @ rotation.T, rotation @ np.diag(b) @ rotation.T
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-8)


def test_one_dimensional_gaussians():
    # d = (m1 - m2)^2 + (s1 - s2)^2 for standard deviations s
    got = frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([-2.0]), np.array([[9.0]]))
    assert got == pytest.approx(9.0 + 1.0)


def test_identical_statistics_give_zero():
    rng = np.random.default_rng(2)
    mu, sigma = feature_statistics(rng.normal(size=(500, 8)) @ rng.normal(size=(8, 8)))
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)


def test_symmetric():
    rng = np.random.default_rng(3)
    stats_a = feature_statistics(rng.normal(size=(300, 10)))
    stats_b = feature_statistics(rng.normal(1.0, 2.0, size=(300, 10)))
    assert frechet_distance(*stats_a, *stats_b) == pytest.approx(frechet_distance(*stats_b, *stats_a), rel=1e-8)


def test_singular_covariances_fall_back_to_eps_offset():
    mu1, mu2 = np.zeros(4), np.array([3.0, 0.0, 0.0, 4.0])
    zero = np.zeros((4, 4))
    assert frechet_distance(mu1, zero, mu2, zero) == pytest.approx(25.0, abs=1e-6)
    # fewer samples than dimensions: rank-deficient covariances, still a finite, sane value
    rng = np.random.default_rng(4)
    with pytest.warns(FewSamplesWarning):
        stats_a, stats_b = feature_statistics(rng.normal(size=(10, 32))), feature_statistics(rng.normal(size=(10, 32)))
    assert 0.0 <= frechet_distance(*stats_a, *stats_b) < 100.0


def test_samples_of_one_gaussian_are_near_zero():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(20000, 4)), rng.normal(size=(20000, 4))
    assert frechet_distance(*feature_statistics(a), *feature_statistics(b)) < 0.01


def test_feature_statistics_match_numpy_and_accept_tensors():
    x = np.random.default_rng(6).normal(size=(50, 3))
    mu, sigma = feature_statistics(torch.from_numpy(x).float())
    np.testing.assert_allclose(mu, x.mean(0), atol=1e-6)
    np.testing.assert_allclose(sigma, np.cov(x, rowvar=False), atol=1e-6)
    assert mu.dtype == sigma.dtype == np.float64


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="at least 2 samples"):
        feature_statistics(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="must be 2-D"):
        feature_statistics(np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        feature_statistics(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="different dimensions"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match=r"sigma2 must be \(3, 3\)"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(4))


def test_two_samples_of_one_gaussian_in_many_dimensions_are_near_zero():
    # full covariance, 16 dims: the estimate's bias shrinks like D^2 / N
    rng = np.random.default_rng(7)
    mix = rng.normal(size=(16, 16)) / 4
    a, b = rng.normal(size=(40000, 16)) @ mix + 3.0, rng.normal(size=(40000, 16)) @ mix + 3.0
    spread = np.trace(mix.T @ mix)  # the scale of the covariances: the distance must be tiny next to it
    assert frechet_distance(*feature_statistics(a), *feature_statistics(b)) < 0.005 * spread


def test_samples_of_two_known_gaussians_match_the_closed_form():
    # N(m1, diag(v1)) vs N(m2, diag(v2)): d = |m1 - m2|^2 + sum (sqrt(v1) - sqrt(v2))^2, estimated from samples
    rng = np.random.default_rng(8)
    m1, m2 = np.array([0.0, 1.0, -1.0, 2.0]), np.array([1.0, 1.0, 0.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 0.25, 1.0]), np.array([4.0, 1.0, 1.0, 1.0])
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)  # 6 + 2.25 = 8.25
    a = m1 + rng.normal(size=(200000, 4)) * np.sqrt(v1)
    b = m2 + rng.normal(size=(200000, 4)) * np.sqrt(v2)
    assert expected == pytest.approx(8.25)
    assert frechet_distance(*feature_statistics(a), *feature_statistics(b)) == pytest.approx(expected, abs=0.05)


def test_streaming_statistics_equal_the_one_shot_ones():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(1000, 12)) @ rng.normal(size=(12, 12)) + 1e6  # a mean far above the spread: tests the shift
    stats = StreamingStats()
    for start in range(0, 1000, 137):  # uneven batches, a short last one
        stats.update(x[start:start + 137])
    mu, sigma = stats.statistics()
    mu_ref, sigma_ref = feature_statistics(x)
    assert stats.n == 1000 and mu.dtype == sigma.dtype == np.float64
    np.testing.assert_allclose(mu, mu_ref, rtol=1e-12)
    np.testing.assert_allclose(sigma, sigma_ref, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(sigma, np.cov(x, rowvar=False), rtol=1e-9, atol=1e-9)
    assert frechet_distance(mu, sigma, mu_ref, sigma_ref) == pytest.approx(0.0, abs=1e-8)


def test_streaming_accepts_tensors_and_refuses_bad_batches():
    stats = StreamingStats().update(torch.ones(3, 4)).update(torch.zeros(2, 4))
    mu, _ = stats.statistics()
    np.testing.assert_allclose(mu, [0.6] * 4)
    with pytest.raises(ValueError, match="earlier batches had 4"):
        stats.update(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="NaN"):
        stats.update(np.full((2, 4), np.inf))
    with pytest.raises(ValueError, match="at least 2 samples"):
        StreamingStats().update(np.zeros((1, 4))).statistics()


def test_fewer_samples_than_dimensions_warn_and_enough_do_not():
    rng = np.random.default_rng(10)
    with pytest.warns(FewSamplesWarning, match="only 5 samples for 8-dimensional"):
        feature_statistics(rng.normal(size=(5, 8)))
    with pytest.warns(FewSamplesWarning, match="only 5 samples"):
        StreamingStats().update(rng.normal(size=(5, 8))).statistics()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        feature_statistics(rng.normal(size=(8, 8)))
        StreamingStats().update(rng.normal(size=(9, 8))).statistics()


class IdentityNetwork:
    """A stand-in feature network: the features are the inputs themselves."""

    name = "identity"
    weights_sha256 = RANDOM_INIT
    input_size = (1,)

    def features(self, x):
        return x


def test_frechet_score_streams_batches_and_prints_its_protocol():
    rng = np.random.default_rng(11)
    a, b = torch.from_numpy(rng.normal(size=(300, 5))), torch.from_numpy(rng.normal(0.5, 1.5, size=(200, 5)))
    assert isinstance(IdentityNetwork(), FeatureNetwork)
    score = frechet_score(IdentityNetwork(), a, b.split(64), metric="FD", frames=16, stride=2, resize="none",
                          batch_size=7)  # a tensor cut into batches of 7, and an iterable of batches
    expected = frechet_distance(*feature_statistics(a), *feature_statistics(b))
    assert score.value == pytest.approx(expected, rel=1e-9) and float(score) == score.value
    assert str(score).startswith("FD = ")
    assert "n_videos=300 vs 200 frames=16 stride=2 resize=none network=identity weights=random init" in str(score)


def test_a_protocol_prints_one_line_and_refuses_a_bad_hash():
    digest = "ab" * 32
    line = str(Protocol(n_videos=2048, frames=16, stride=1, resize="128x128", network="I3D", weights_sha256=digest))
    assert line == f"n_videos=2048 frames=16 stride=1 resize=128x128 network=I3D weights=sha256:{digest}"
    assert "\n" not in line
    with pytest.raises(ValueError, match="64-digit"):
        Protocol(n_videos=1, frames=None, stride=None, resize=None, network="x", weights_sha256="abc")
