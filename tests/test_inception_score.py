import math

import numpy as np
import pytest
import torch

from mocohd.metrics.inception_score import inception_score, inception_score_of, split_scores
from mocohd.metrics.protocol import RANDOM_INIT


def one_hot(labels, classes):
    return np.eye(classes)[labels]


def test_a_perfect_balanced_classifier_scores_the_number_of_classes():
    # every prediction certain, every class used equally in every split: IS = K exactly
    labels = np.arange(70) % 7  # 10 splits of 7 samples, one of each class
    mean, sd = inception_score(one_hot(labels, 7), splits=10)
    assert mean == pytest.approx(7.0, rel=1e-12) and sd == pytest.approx(0.0, abs=1e-12)


def test_a_constant_classifier_scores_one():
    certain = one_hot(np.zeros(50, dtype=int), 5)  # always class 0
    assert inception_score(certain, splits=5) == pytest.approx((1.0, 0.0))
    unsure = np.full((50, 5), 0.2)  # always uniform: p(y|x) = p(y)
    assert inception_score(unsure, splits=5) == pytest.approx((1.0, 0.0))


def test_a_known_mixture_matches_the_formula_by_hand():
    # two samples, two classes: p1 = (0.9, 0.1), p2 = (0.2, 0.8); p(y) = (0.55, 0.45)
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    marginal = p.mean(axis=0)
    kl = [sum(pi * math.log(pi / mi) for pi, mi in zip(row, marginal)) for row in p]
    assert inception_score(p, splits=1)[0] == pytest.approx(math.exp(sum(kl) / 2), rel=1e-12)


def test_splits_are_scored_apart_and_summarised_by_mean_and_sd():
    # first half: 4 classes used equally (IS 4); second half: one class only (IS 1)
    p = np.concatenate([one_hot(np.arange(40) % 4, 4), one_hot(np.zeros(40, dtype=int), 4)])
    np.testing.assert_allclose(split_scores(p, splits=2), [4.0, 1.0])
    assert inception_score(p, splits=2) == pytest.approx((2.5, 1.5))  # population sd, as the reference code
    # one split over everything: p(y) = (5/8, 1/8, 1/8, 1/8)
    marginal = np.array([5, 1, 1, 1]) / 8
    expected = math.exp(np.mean([-math.log(marginal[row.argmax()]) for row in p]))
    assert inception_score(p, splits=1)[0] == pytest.approx(expected)


def test_bad_probabilities_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="sum to 1"):
        inception_score(np.random.default_rng(0).normal(size=(10, 3)) ** 2, splits=1)
    with pytest.raises(ValueError, match="non-negative"):
        inception_score(np.array([[1.5, -0.5], [0.5, 0.5]]), splits=1)
    with pytest.raises(ValueError, match="splits must be"):
        inception_score(one_hot(np.arange(4) % 2, 2), splits=5)
    with pytest.raises(ValueError, match=r"\(N samples, K >= 2 classes\)"):
        inception_score(np.ones(4), splits=1)


class PerfectClassifier:
    """Reads the class off the clip's first pixel: a classifier with certain, balanced predictions."""

    name = "test classifier"
    weights_sha256 = RANDOM_INIT
    input_size = (4, 4)
    classes = 3

    def logits(self, videos):
        label = videos[:, 0, 0, 0, 0].round().long()
        return torch.nn.functional.one_hot(label, self.classes).float() * 100.0

    def features(self, videos):
        return self.logits(videos)


def test_inception_score_of_a_classifier_prints_its_protocol():
    videos = torch.zeros(30, 4, 3, 4, 4)
    videos[:, :, :, 0, 0] = (torch.arange(30) % 3).float()[:, None, None]
    score = inception_score_of(PerfectClassifier(), videos, splits=10, stride=2, batch_size=7)
    assert score.value == pytest.approx(3.0, rel=1e-9) and score.sd == pytest.approx(0.0, abs=1e-9)
    line = str(score)
    for part in ("IS = 3", "n_videos=30", "frames=4", "stride=2", "network=test classifier", "random init",
                 "10 splits"):
        assert part in line, line
