import numpy as np
import pytest
import torch

from mocohd.metrics.frechet import feature_statistics, frechet_distance


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
