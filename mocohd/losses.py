"""The losses of MoCoGAN-HD, as the official code computes them.

Sections (one owner each, to keep parallel work apart):

1. relativistic-average LSGAN, the adversarial loss of both PatchGAN discriminators;
2. the gradient penalty of the video discriminator (official and textbook forms);
3. hinge losses of the cross-domain contrastive image discriminator;
4. the queue-based contrastive loss and the feature-matching loss;
5. StyleGAN2 image-GAN losses (non-saturating logistic, R1) -- added with the image generator.

The mutual-information loss of the motion generator lives with the motion generator.

Multiscale discriminator outputs are lists over scales of lists of intermediate maps
(see :class:`mocohd.discriminators.MultiscalePatchDiscriminator`); the adversarial losses
read only the last map (the patch logits) of every scale and sum over scales.
"""

from __future__ import annotations

from typing import Callable, Sequence, Union

import torch
import torch.nn.functional as F

Outputs = Union[torch.Tensor, Sequence[torch.Tensor], Sequence[Sequence[torch.Tensor]]]


def final_maps(outputs: Outputs) -> list[torch.Tensor]:
    """The logits map of every scale: ``[[f0, ..., logits0], [..., logits1]] -> [logits0, logits1]``.

    A bare tensor counts as one scale; a list of tensors as one map per scale.
    """
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    return [scale[-1] if isinstance(scale, (list, tuple)) else scale for scale in outputs]


# --------------------------------------------------------------------------------------
# 1. Relativistic-average LSGAN
# --------------------------------------------------------------------------------------


def _ralsgan_term(pred: torch.Tensor, other: torch.Tensor, target: float) -> torch.Tensor:
    # MSE( D(a) - mean D(b), target ): how much more (target 1) or less (target 0)
    # realistic a looks than the *average* b. The mean is over b's whole map and batch.
    return F.mse_loss(pred - other.mean(), torch.full_like(pred, target))


def ralsgan_d_loss(d_real: Outputs, d_fake: Outputs) -> torch.Tensor:
    """D loss, summed over scales: 1/2 [MSE(D(r) - mean D(f), 1) + MSE(D(f) - mean D(r), 0)]."""
    loss = 0.0
    for r, f in zip(final_maps(d_real), final_maps(d_fake), strict=True):
        loss = loss + 0.5 * (_ralsgan_term(r, f, 1.0) + _ralsgan_term(f, r, 0.0))
    return loss


def ralsgan_g_loss(d_real: Outputs, d_fake: Outputs) -> torch.Tensor:
    """G loss, the D loss with roles swapped: 1/2 [MSE(D(f) - mean D(r), 1) + MSE(D(r) - mean D(f), 0)].

    Unlike the standard GAN loss, the real scores carry gradient to G too (through the mean
    of the fake scores).
    """
    loss = 0.0
    for r, f in zip(final_maps(d_real), final_maps(d_fake), strict=True):
        loss = loss + 0.5 * (_ralsgan_term(f, r, 1.0) + _ralsgan_term(r, f, 0.0))
    return loss


# --------------------------------------------------------------------------------------
# 2. Gradient penalty of the video discriminator
# --------------------------------------------------------------------------------------


def _interpolate(real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None,
                 alpha: torch.Tensor | None = None) -> torch.Tensor:
    # One alpha ~ U(0, 1) per sample, broadcast over (C, T, H, W).
    if alpha is None:
        alpha = torch.rand(real.shape[0], generator=generator, device=real.device)
    alpha = alpha.reshape((real.shape[0],) + (1,) * (real.dim() - 1)).to(real)
    mixed = alpha * real.detach() + (1 - alpha) * fake.detach()
    return mixed.requires_grad_(True)


def _penalty(discriminator: Callable, real, fake, generator, weight, norm_fn, alpha=None) -> torch.Tensor:
    mixed = _interpolate(real, fake, generator, alpha)
    maps = final_maps(discriminator(mixed))
    total = 0.0
    for logits in maps:
        (grad,) = torch.autograd.grad(logits, mixed, grad_outputs=torch.ones_like(logits), create_graph=True)
        total = total + ((norm_fn(grad) - 1) ** 2).mean()
    return total / len(maps) * weight


def gradient_penalty(discriminator: Callable, real: torch.Tensor, fake: torch.Tensor,
                     weight: float = 10.0, generator: torch.Generator | None = None,
                     alpha: torch.Tensor | None = None) -> torch.Tensor:
    """The official WGAN-GP-style penalty of the video D (``compute_gradient_penalty_T``).

    x_hat = alpha real + (1 - alpha) fake (alpha per sample); for every scale s, the gradient
    of sum(D_s(x_hat)) w.r.t. x_hat, (B, C, T, H, W), has its 2-norm taken **over the channel
    dimension only**, giving one norm per voxel; the penalty is mean((norm - 1)^2), summed over
    scales, divided by the number of scales, times ``weight`` (10).

    This differs from the textbook penalty (:func:`gradient_penalty_textbook`), which takes one
    norm over the whole sample: here every pixel of every frame is asked to have a unit-norm
    colour gradient.
    """
    return _penalty(discriminator, real, fake, generator, weight, lambda g: g.norm(2, dim=1), alpha)


def gradient_penalty_textbook(discriminator: Callable, real: torch.Tensor, fake: torch.Tensor,
                              weight: float = 10.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP as in Gulrajani et al. 2017: one gradient norm per sample (over C, T, H, W);
    averaged over scales and times ``weight``, like :func:`gradient_penalty`, for comparison."""
    return _penalty(discriminator, real, fake, generator, weight, lambda g: g.flatten(1).norm(2, dim=1))


# --------------------------------------------------------------------------------------
# 3. Hinge losses
# --------------------------------------------------------------------------------------


def hinge_d_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """mean ReLU(1 - D(real)) + mean ReLU(1 + D(fake))."""
    return F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()


def hinge_g_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """-mean D(fake)."""
    return -d_fake.mean()


# --------------------------------------------------------------------------------------
# 4. Contrastive and feature-matching losses
# --------------------------------------------------------------------------------------


def pairwise_cosine(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """(N, D), (M, D) -> (N, M) cosine similarities; norms clamped at ``eps``."""
    a = a / a.norm(dim=1, keepdim=True).clamp_min(eps)
    b = b / b.norm(dim=1, keepdim=True).clamp_min(eps)
    return a @ b.T


def contrastive_loss(view1: torch.Tensor, view2: torch.Tensor, queue: torch.Tensor,
                     temperature: float = 0.07) -> torch.Tensor:
    """InfoNCE over two augmented views of a batch plus a queue of negatives (official form).

    Queries are [v1; v2] (2B rows), keys are [v1; v2; queue] (2B + Q rows). Logits are the
    cosine similarities divided by the temperature, except each query's similarity with
    itself, which is multiplied by 0: it stays in the softmax as a constant logit 0 (it is
    not masked out). The positive of row i is the other view of the same image (i + B or
    i - B); the loss is the mean of -log softmax at the positive over all 2B rows.
    The queue is detached (it holds momentum-encoder keys).
    """
    if view1.shape != view2.shape:
        raise ValueError(f"the two views must have the same shape, got {tuple(view1.shape)} and {tuple(view2.shape)}")
    b = view1.shape[0]
    queries = torch.cat([view1, view2])  # (2B, D)
    keys = torch.cat([view1, view2, queue.detach()])  # (2B + Q, D)
    scale = torch.full((2 * b, keys.shape[0]), 1.0 / temperature, device=queries.device)
    scale.fill_diagonal_(0.0)  # self-similarity -> logit 0
    log_p = F.log_softmax(pairwise_cosine(queries, keys) * scale, dim=1)  # (2B, 2B + Q)
    rows = torch.arange(2 * b, device=queries.device)
    positives = (rows + b) % (2 * b)  # the other view
    return -log_p[rows, positives].mean()


def queued_contrastive_loss(discriminator, real1: torch.Tensor, real2: torch.Tensor,
                            fake1: torch.Tensor, fake2: torch.Tensor) -> torch.Tensor:
    """The cross-domain image D's contrastive term: two views of the "real" set (generated frame 0)
    against the real queue, plus two views of the "fake" set (frame k) against the fake queue,
    each with :func:`contrastive_loss`. ``discriminator``: the ContrastiveImageDiscriminator that
    holds the queues (``q_real``, ``q_fake``, their effective length ``q_len``) and the temperature."""
    d = discriminator
    real = contrastive_loss(real1, real2, d.q_real[: d.q_len], d.temperature)
    fake = contrastive_loss(fake1, fake2, d.q_fake[: d.q_len], d.temperature)
    return real + fake


def feature_matching_loss(proj_k: torch.Tensor, proj_0: torch.Tensor) -> torch.Tensor:
    """-mean cos(proj(frame k), proj(frame 0)): keeps later frames' content close to frame 0."""
    return -F.cosine_similarity(proj_k, proj_0, dim=1).mean()


# --------------------------------------------------------------------------------------
# 5. StyleGAN2 image-GAN losses (non-saturating logistic, R1): owned by the image generator
# --------------------------------------------------------------------------------------


def nonsaturating_d_loss(real_pred: torch.Tensor, fake_pred: torch.Tensor) -> torch.Tensor:
    """softplus(-D(x)) + softplus(D(G(z))): the logistic loss, -log sigmoid on each side."""
    return F.softplus(-real_pred).mean() + F.softplus(fake_pred).mean()


def nonsaturating_g_loss(fake_pred: torch.Tensor) -> torch.Tensor:
    """softplus(-D(G(z))): G maximises log D(G(z)) rather than minimising log(1 - D), whose
    gradient vanishes exactly when D wins (early training)."""
    return F.softplus(-fake_pred).mean()


def r1_penalty(real_pred: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al., 2018): E ||grad_x D(x)||^2 on real images only. It keeps D flat
    around the data, which is what makes StyleGAN2 converge; the weight is gamma / 2."""
    (grad,) = torch.autograd.grad(real_pred.sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


def path_length_penalty(fake: torch.Tensor, latents: torch.Tensor, mean_path_length: torch.Tensor,
                        decay: float = 0.01):
    """StyleGAN2's path-length regulariser: a fixed-size step in W should change the image by
    a fixed amount, whatever the direction. Returns (penalty, new running mean, mean length)."""
    noise = torch.randn_like(fake) / (fake.shape[2] * fake.shape[3]) ** 0.5
    (grad,) = torch.autograd.grad((fake * noise).sum(), latents, create_graph=True)
    lengths = grad.pow(2).sum(2).mean(1).sqrt()
    new_mean = mean_path_length + decay * (lengths.mean().detach() - mean_path_length)
    return (lengths - new_mean).pow(2).mean(), new_mean, lengths.mean()
