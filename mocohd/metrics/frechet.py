"""The Fréchet distance between two Gaussians fitted to feature vectors.

Given features of two image sets, fit a Gaussian to each (mean ``mu``, covariance
``sigma``) and measure

.. math::

    d^2 = \\lVert \\mu_1 - \\mu_2 \\rVert^2
          + \\operatorname{tr}\\bigl(\\Sigma_1 + \\Sigma_2 - 2 (\\Sigma_1 \\Sigma_2)^{1/2}\\bigr)

This is the formula behind FID (on Inception features) and FVD (on I3D features); which
network gives the features is what names the metric. ``mocohd.metrics.toy_features``
supplies features for the toy world (FD_toy), ``mocohd.metrics.i3d`` the I3D features of FVD;
``mocohd.metrics.protocol`` runs any of them through the same code.

Everything is float64. Statistics come either at once from a feature matrix
(:func:`feature_statistics`) or batch by batch (:class:`StreamingStats`), so thousands of
videos never have to sit in memory together. With fewer samples than feature dimensions the
covariance is singular and the distance biased upwards: both warn (:class:`FewSamplesWarning`).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy import linalg

DEFAULT_EPS = 1e-6  # added to both covariances' diagonals when their product is singular
IMAGINARY_TOLERANCE = 1e-3  # relative size of imaginary parts that round-off may leave


class FewSamplesWarning(UserWarning):
    """Fewer samples than feature dimensions: a singular covariance, a distance biased upwards."""


def warn_if_few_samples(n: int, dim: int, stacklevel: int = 3) -> None:
    """Warn when ``n`` samples cannot span ``dim`` feature dimensions (N < D)."""
    if n < dim:
        warnings.warn(f"only {n} samples for {dim}-dimensional features: the covariance has rank at most "
                      f"{n - 1} < {dim}, so the Fréchet distance is biased upwards and only comparable with "
                      f"values at the same N; use more than {dim} samples", FewSamplesWarning, stacklevel=stacklevel)


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and covariance ``(D, D)`` (float64) of features ``(N, D)``, N >= 2."""
    x = _as_float64(features, "features")
    if x.ndim != 2:
        raise ValueError(f"features must be 2-D (N samples, D dims), got shape {x.shape}; "
                         "flatten each sample into one row first")
    if x.shape[0] < 2:
        raise ValueError(f"need at least 2 samples to estimate a covariance, got {x.shape[0]}; "
                         "pass more images (a few hundred at least, thousands for a stable value)")
    if not np.isfinite(x).all():
        raise ValueError("features contain NaN or inf; check the images or the network that made them")
    warn_if_few_samples(*x.shape)
    mu = x.mean(axis=0)
    sigma = np.atleast_2d(np.cov(x, rowvar=False))
    return mu, sigma


class StreamingStats:
    """Mean and covariance of features that arrive batch by batch, in float64.

    ``update(batch)`` with ``(B, D)`` features any number of times, then ``statistics()``
    gives ``(mu (D,), sigma (D, D))``, equal to :func:`feature_statistics` of all rows at
    once (unbiased covariance, divided by N - 1). Memory is O(D^2), whatever N is.

    It keeps the count, the sum and the sum of outer products of ``x - shift``, where
    ``shift`` is the first batch's mean: the covariance is then
    ``(S2 - n m m^T) / (n - 1)`` with ``m = S1 / n``, and the shift keeps that subtraction
    from cancelling away the digits when the features' mean is large next to their spread.
    """

    def __init__(self):
        self.n = 0
        self.shift: np.ndarray | None = None  # (D,)
        self.sum: np.ndarray | None = None  # (D,): sum of (x - shift)
        self.outer: np.ndarray | None = None  # (D, D): sum of (x - shift)(x - shift)^T

    @property
    def dim(self) -> int | None:
        return None if self.shift is None else self.shift.shape[0]

    def update(self, features) -> "StreamingStats":
        """Add a batch of features ``(B, D)`` (array or tensor). Returns self."""
        x = _as_float64(features, "features")
        if x.ndim != 2 or x.shape[0] == 0:
            raise ValueError(f"each batch must be 2-D (B samples, D dims) with B >= 1, got shape {x.shape}")
        if self.dim is not None and x.shape[1] != self.dim:
            raise ValueError(f"this batch has {x.shape[1]} feature dimensions, earlier batches had {self.dim}; "
                             "feed one feature network's output only")
        if not np.isfinite(x).all():
            raise ValueError("features contain NaN or inf; check the images or the network that made them")
        if self.shift is None:
            self.shift = x.mean(axis=0)
            self.sum = np.zeros_like(self.shift)
            self.outer = np.zeros((self.dim, self.dim))
        centred = x - self.shift
        self.n += x.shape[0]
        self.sum += centred.sum(axis=0)
        self.outer += centred.T @ centred
        return self

    def statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """``(mu, sigma)`` of everything seen so far; warns when N < D."""
        if self.n < 2:
            raise ValueError(f"need at least 2 samples to estimate a covariance, got {self.n}; "
                             "call update() with more features first")
        warn_if_few_samples(self.n, self.dim)
        mean_shifted = self.sum / self.n
        sigma = (self.outer - self.n * np.outer(mean_shifted, mean_shifted)) / (self.n - 1)
        sigma = (sigma + sigma.T) / 2  # exactly symmetric, as np.cov's is
        return self.shift + mean_shifted, sigma


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = DEFAULT_EPS) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    The matrix square root comes from ``scipy.linalg.sqrtm``. When the covariance product
    is singular (fewer samples than dimensions, dead features) or its square root comes
    out non-finite or complex, ``eps`` is added to the diagonal of both covariances and
    the whole distance is computed again, so the result is still the distance between
    two (slightly widened) Gaussians. Round-off may leave a value a hair below zero; it
    is returned as 0.
    """
    mu1, sigma1 = _check_gaussian(mu1, sigma1, "1")
    mu2, sigma2 = _check_gaussian(mu2, sigma2, "2")
    if mu1.shape != mu2.shape:
        raise ValueError(f"the two Gaussians have different dimensions: mu1 {mu1.shape} vs mu2 {mu2.shape}; "
                         "compute both statistics with the same feature network")
    trace_sqrt = _trace_sqrt_product(sigma1, sigma2)
    if trace_sqrt is None:
        offset = eps * np.eye(sigma1.shape[0])
        sigma1, sigma2 = sigma1 + offset, sigma2 + offset
        trace_sqrt = _trace_sqrt_product(sigma1, sigma2)
    if trace_sqrt is None:
        raise ValueError(f"the covariance product has no usable square root even with eps={eps}; "
                         "use more samples than feature dimensions, or a larger eps")
    diff = mu1 - mu2
    distance = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt
    return float(max(distance, 0.0))


def _trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float | None:
    """tr((sigma1 sigma2)^(1/2)), or None when the product is singular or the root unusable."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", linalg.LinAlgWarning)  # "matrix is singular"
        try:
            root = linalg.sqrtm(sigma1 @ sigma2)
        except (linalg.LinAlgWarning, linalg.LinAlgError):
            return None
    if not np.isfinite(root).all():
        return None
    trace = np.trace(root)
    if np.iscomplexobj(root):
        scale = max(1.0, abs(trace.real))
        if np.abs(np.diagonal(root).imag).max() > IMAGINARY_TOLERANCE * scale:
            return None
        trace = trace.real
    return float(trace)


def _check_gaussian(mu, sigma, which: str) -> tuple[np.ndarray, np.ndarray]:
    mu = np.atleast_1d(_as_float64(mu, f"mu{which}"))
    sigma = np.atleast_2d(_as_float64(sigma, f"sigma{which}"))
    if mu.ndim != 1:
        raise ValueError(f"mu{which} must be a vector (D,), got shape {mu.shape}")
    if sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(f"sigma{which} must be ({mu.shape[0]}, {mu.shape[0]}) to match mu{which}, "
                         f"got shape {sigma.shape}; pass the pair that feature_statistics returned")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ValueError(f"mu{which} or sigma{which} contains NaN or inf; compute them with feature_statistics "
                         "from finite features (it names a NaN in the features themselves)")
    return mu, sigma


def _as_float64(value, name: str) -> np.ndarray:
    if torch.is_tensor(value):
        value = value.detach().cpu().double().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a numeric array or tensor, got {type(value).__name__}") from error
