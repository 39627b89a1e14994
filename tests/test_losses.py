import math

import pytest
import torch
from torch import nn

from mocohd.losses import (
    contrastive_loss,
    feature_matching_loss,
    final_maps,
    gradient_penalty,
    gradient_penalty_textbook,
    hinge_d_loss,
    hinge_g_loss,
    nonsaturating_d_loss,
    nonsaturating_g_loss,
    pairwise_cosine,
    path_length_penalty,
    r1_penalty,
    ralsgan_d_loss,
    ralsgan_g_loss,
)

# ---------------------------------------------------------------- relativistic LSGAN


def two_scales(a, b):
    """Multiscale-D style outputs: per scale a list of maps, the logits last."""
    return [[torch.zeros(1), torch.tensor(a)], [torch.zeros(1), torch.tensor(b)]]


def test_final_maps_takes_the_last_map_of_every_scale():
    out = two_scales([1.0], [2.0])
    assert [m.item() for m in final_maps(out)] == [1.0, 2.0]
    t = torch.ones(3)
    assert final_maps(t)[0] is t


def test_ralsgan_by_hand():
    # real scores [1, 2] (mean 1.5), fake scores [0, 1] (mean 0.5), on each of two scales.
    real, fake = two_scales([1.0, 2.0], [1.0, 2.0]), two_scales([0.0, 1.0], [0.0, 1.0])
    # D: MSE(r - 0.5, 1) = (0.25 + 0.25)/2 = 0.25; MSE(f - 1.5, 0) = (2.25 + 0.25)/2 = 1.25
    #    per scale 0.5 * 1.5 = 0.75; two scales -> 1.5
    assert ralsgan_d_loss(real, fake).item() == pytest.approx(1.5)
    # G: MSE(f - 1.5, 1) = (6.25 + 2.25)/2 = 4.25; MSE(r - 0.5, 0) = (0.25 + 2.25)/2 = 1.25
    #    per scale 0.5 * 5.5 = 2.75; two scales -> 5.5
    assert ralsgan_g_loss(real, fake).item() == pytest.approx(5.5)


def test_ralsgan_indistinguishable_scores_cost_half_and_grad_reaches_both_sides():
    # D(r) = D(f) everywhere: each loss is 1/2 [(0 - 1)^2 + (0 - 0)^2] = 1/2 per scale.
    real = torch.tensor([0.3, 0.3], requires_grad=True)
    fake = torch.tensor([0.3, 0.3], requires_grad=True)
    assert ralsgan_d_loss([[real]], [[fake]]).item() == pytest.approx(0.5)
    assert ralsgan_g_loss([[real]], [[fake]]).item() == pytest.approx(0.5)
    ralsgan_g_loss([[real]], [[fake + torch.tensor([0.0, 1.0])]]).backward()
    assert real.grad.abs().sum() > 0 and fake.grad.abs().sum() > 0


def test_ralsgan_rejects_mismatched_scales():
    with pytest.raises(ValueError):
        ralsgan_d_loss(two_scales([1.0], [1.0]), [[torch.ones(1)]])


# ---------------------------------------------------------------- hinge


def test_hinge_by_hand():
    d_real = torch.tensor([2.0, 0.5, -1.0])  # relu(1 - r) = [0, 0.5, 2] -> mean 5/6
    d_fake = torch.tensor([-2.0, 0.0, 1.0])  # relu(1 + f) = [0, 1, 2] -> mean 1
    assert hinge_d_loss(d_real, d_fake).item() == pytest.approx(5 / 6 + 1)
    assert hinge_g_loss(d_fake).item() == pytest.approx(1 / 3)


# ---------------------------------------------------------------- gradient penalty


class PerVoxelLinearD(nn.Module):
    """D(x) = sum_c w_c x_c at every voxel, on two 'scales'; |w| sets the per-voxel grad norm."""

    def __init__(self, channels: int, norm: float):
        super().__init__()
        self.conv = nn.Conv3d(channels, 1, kernel_size=1, bias=False)
        with torch.no_grad():
            w = torch.randn(channels)
            self.conv.weight.copy_((norm * w / w.norm()).view(1, channels, 1, 1, 1))

    def forward(self, x):
        out = self.conv(x)  # (B, 1, T, H, W)
        return [[out], [out * 1.0]]


def clips(seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 3, 2, 3, 3, generator=g), torch.randn(2, 3, 2, 3, 3, generator=g)


def test_official_penalty_is_zero_for_unit_gradient_per_voxel():
    real, fake = clips(0)
    gp = gradient_penalty(PerVoxelLinearD(3, 1.0), real, fake)
    assert gp.item() == pytest.approx(0.0, abs=1e-10)


def test_official_penalty_by_hand_for_norm_two():
    real, fake = clips(1)
    # every voxel's channel-gradient has norm 2: (2 - 1)^2 = 1 per voxel and scale,
    # summed over 2 scales, / 2 scales, x 10 = 10
    assert gradient_penalty(PerVoxelLinearD(3, 2.0), real, fake).item() == pytest.approx(10.0)


def test_textbook_penalty_takes_one_norm_per_sample():
    real, fake = clips(2)
    # the whole-sample gradient norm is sqrt(T H W) = sqrt(18) for a unit per-voxel norm
    expected = 10 * (math.sqrt(18) - 1) ** 2
    gp = gradient_penalty_textbook(PerVoxelLinearD(3, 1.0), real, fake)
    assert gp.item() == pytest.approx(expected, rel=1e-5)


def test_penalty_is_differentiable_in_the_discriminator_and_seedable():
    real, fake = clips(3)
    d = nn.Conv3d(3, 1, 3, padding=1)

    def net(x):
        return [[torch.tanh(d(x)) ** 2]]

    a = gradient_penalty(net, real, fake, generator=torch.Generator().manual_seed(5))
    b = gradient_penalty(net, real, fake, generator=torch.Generator().manual_seed(5))
    assert a.item() == pytest.approx(b.item())
    a.backward()
    assert d.weight.grad is not None and d.weight.grad.abs().sum() > 0


# ---------------------------------------------------------------- contrastive


def test_contrastive_by_hand():
    v1, v2, queue = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]), torch.tensor([[3.0, 0.0]])
    # T = 0.5 -> scale 2. Row 0 (v1): cos to [v1, v2, q] = [1, 0, 1] -> logits [0 (self), 0, 2];
    # its positive is v2 (logit 0): p = 1 / (1 + 1 + e^2).
    # Row 1 (v2): cos [0, 1, 0] -> logits [0, 0 (self), 0]; positive v1: p = 1/3.
    expected = (math.log(2 + math.e**2) + math.log(3)) / 2
    assert contrastive_loss(v1, v2, queue, temperature=0.5).item() == pytest.approx(expected)


def reference_contrastive(v1, v2, queue, t):
    """The official computation, spelled out with loops."""
    b = v1.shape[0]
    q = torch.cat([v1, v2])
    k = torch.cat([v1, v2, queue])
    sims = [[float(torch.dot(qi, kj) / (qi.norm() * kj.norm())) for kj in k] for qi in q]
    total = 0.0
    for i in range(2 * b):
        logits = [0.0 if i == j else s / t for j, s in enumerate(sims[i])]
        pos = i + b if i < b else i - b
        total += -(logits[pos] - math.log(sum(math.exp(x) for x in logits)))
    return total / (2 * b)


def test_contrastive_matches_a_loop_reference():
    g = torch.Generator().manual_seed(0)
    v1, v2, queue = (torch.randn(n, 5, generator=g) for n in (3, 3, 7))
    got = contrastive_loss(v1, v2, queue, temperature=0.07).item()
    assert got == pytest.approx(reference_contrastive(v1, v2, queue, 0.07), rel=1e-5)


def test_contrastive_does_not_backprop_into_the_queue():
    v1, v2 = torch.randn(2, 4, requires_grad=True), torch.randn(2, 4)
    queue = torch.randn(5, 4, requires_grad=True)
    contrastive_loss(v1, v2, queue).backward()
    assert v1.grad is not None and queue.grad is None


def test_pairwise_cosine_and_feature_matching_by_hand():
    a = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    b = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert torch.allclose(pairwise_cosine(a, b), torch.tensor([[1.0, 0.0], [2**-0.5, 2**-0.5]]))
    assert feature_matching_loss(a, b).item() == pytest.approx(-(1 + 2**-0.5) / 2)


# --------------------------------------------------------------------------------------
# The image GAN's losses and regularisers (StyleGAN2), by value


def test_nonsaturating_losses_are_softplus_means():
    real, fake = torch.tensor([0.0, 2.0]), torch.tensor([-1.0, 3.0])  # not symmetric: a flipped sign shows

    def softplus(v):
        return math.log(1 + math.exp(v))

    d = (softplus(-0.0) + softplus(-2.0)) / 2 + (softplus(-1.0) + softplus(3.0)) / 2
    assert nonsaturating_d_loss(real, fake).item() == pytest.approx(d, rel=1e-6)
    assert nonsaturating_g_loss(fake).item() == pytest.approx((softplus(1.0) + softplus(-3.0)) / 2, rel=1e-6)


def test_r1_is_the_mean_squared_gradient_norm_on_real_images():
    torch.manual_seed(0)
    real = torch.randn(3, 2, 4, 4, requires_grad=True)
    # D(x) = sum of x^2 over each image: its gradient is 2x, so R1 = mean over images of 4 ||x||^2
    pred = real.pow(2).flatten(1).sum(1)
    expected = sum(4 * real[i].detach().pow(2).sum().item() for i in range(3)) / 3
    assert r1_penalty(pred, real).item() == pytest.approx(expected, rel=1e-5)
    # it stays differentiable: R1's own gradient reaches the inputs (and so D's weights)
    (grad,) = torch.autograd.grad(r1_penalty(real.pow(2).flatten(1).sum(1), real), real)
    torch.testing.assert_close(grad, 8 * real.detach() / 3)


def test_path_length_penalty_written_out():
    torch.manual_seed(1)
    batch, n_latent, dim, c, h, w = 2, 3, 4, 2, 4, 4
    mixing = torch.randn(n_latent, dim, c, h, w)
    latents = torch.randn(batch, n_latent, dim, requires_grad=True)
    fake = torch.einsum("bld,ldchw->bchw", latents, mixing)  # linear in w: the Jacobian is `mixing`
    mean_before, decay = torch.tensor(0.5), 0.1
    torch.manual_seed(7)
    penalty, new_mean, mean_length = path_length_penalty(fake, latents, mean_before, decay)
    torch.manual_seed(7)
    noise = torch.randn(batch, c, h, w) / math.sqrt(h * w)  # the same draw: image-sized noise, unit total scale
    lengths = []
    for b in range(batch):
        # J^T y for each layer's w, squared over D, averaged over layers, square root
        jty = torch.einsum("ldchw,chw->ld", mixing, noise[b])
        lengths.append(jty.pow(2).sum(1).mean().sqrt())
    lengths = torch.stack(lengths)
    expected_mean = mean_before + decay * (lengths.mean() - mean_before)
    torch.testing.assert_close(mean_length.detach(), lengths.mean())
    torch.testing.assert_close(new_mean, expected_mean)
    torch.testing.assert_close(penalty.detach(), (lengths - expected_mean).pow(2).mean())


# --------------------------------------------------------------------------------------
# Defaults, devices and the remaining arguments, by value


def test_final_maps_of_a_list_of_tensors_is_one_map_per_scale():
    a, b = torch.ones(2, 1, 3, 3), torch.zeros(2, 1, 2, 2)
    assert [m is t for m, t in zip(final_maps([a, b]), (a, b))] == [True, True]


def test_ralsgan_g_loss_rejects_mismatched_scales():
    with pytest.raises(ValueError):
        ralsgan_g_loss(two_scales([1.0], [1.0]), [[torch.ones(1)]])


class SquareD(nn.Module):
    """D(x) = sum_c x_c^2 at every voxel, one scale: its channel-gradient is 2 x."""

    def forward(self, x):
        return [[x.pow(2).sum(1, keepdim=True)]]


def test_official_penalty_by_hand_at_a_given_alpha():
    real, fake = clips(4)
    alpha = torch.tensor([0.25, 0.75], dtype=torch.float64)  # cast to the inputs' dtype
    x_hat = torch.tensor([0.25, 0.75]).view(2, 1, 1, 1, 1) * real + torch.tensor([0.75, 0.25]).view(2, 1, 1, 1, 1) * fake
    expected = 10 * ((2 * x_hat.norm(dim=1) - 1) ** 2).mean()
    got = gradient_penalty(SquareD(), real, fake, alpha=alpha)
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)


def test_textbook_penalty_is_seedable():
    real, fake = clips(5)
    a = gradient_penalty_textbook(SquareD(), real, fake, generator=torch.Generator().manual_seed(5))
    b = gradient_penalty_textbook(SquareD(), real, fake, generator=torch.Generator().manual_seed(5))
    assert a.item() == b.item()


def test_contrastive_default_temperature_is_mocos_0_07():
    g = torch.Generator().manual_seed(1)
    v1, v2, queue = (torch.randn(n, 4, generator=g) for n in (2, 2, 3))
    assert contrastive_loss(v1, v2, queue).item() == pytest.approx(reference_contrastive(v1, v2, queue, 0.07), rel=1e-5)


def test_contrastive_rejects_views_of_different_shapes():
    with pytest.raises(ValueError, match="same shape"):
        contrastive_loss(torch.zeros(2, 4), torch.zeros(3, 4), torch.zeros(1, 4))


def test_contrastive_loss_runs_on_the_inputs_device():
    # meta stands in for a GPU: every tensor the loss makes must follow its inputs
    v1, v2, queue = (torch.empty(n, 4, device="meta") for n in (2, 2, 3))
    assert contrastive_loss(v1, v2, queue).device.type == "meta"


def test_pairwise_cosine_ignores_the_scale_of_small_vectors():
    a = torch.tensor([[0.01, 0.0], [0.03, 0.04]])
    torch.testing.assert_close(pairwise_cosine(a, a), torch.tensor([[1.0, 0.6], [0.6, 1.0]]))


def test_path_length_penalty_default_decay_and_non_square_images():
    torch.manual_seed(2)
    batch, n_latent, dim, c, h, w = 2, 2, 3, 2, 2, 8
    mixing = torch.randn(n_latent, dim, c, h, w, requires_grad=True)
    latents = torch.randn(batch, n_latent, dim, requires_grad=True)
    fake = torch.einsum("bld,ldchw->bchw", latents, mixing)
    mean_before = torch.tensor(0.5)
    torch.manual_seed(8)
    penalty, new_mean, _ = path_length_penalty(fake, latents, mean_before)  # StyleGAN2's decay 0.01
    torch.manual_seed(8)
    noise = torch.randn(batch, c, h, w) / math.sqrt(h * w)
    lengths = torch.einsum("ldchw,bchw->bld", mixing.detach(), noise).pow(2).sum(2).mean(1).sqrt()
    expected_mean = mean_before + 0.01 * (lengths.mean() - mean_before)
    torch.testing.assert_close(new_mean, expected_mean)
    torch.testing.assert_close(penalty.detach(), (lengths - expected_mean).pow(2).mean())
    penalty.backward()  # the regulariser trains the generator: its weights get a gradient
    assert mixing.grad is not None and mixing.grad.abs().sum() > 0


def test_contrastive_loss_uses_no_deprecated_implicit_softmax_dim():
    import warnings

    v1, v2, queue = torch.randn(2, 4), torch.randn(2, 4), torch.randn(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyTorch warns on an implicit softmax dim at every step
        contrastive_loss(v1, v2, queue)
