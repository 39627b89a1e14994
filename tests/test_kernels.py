import pytest
import torch

from mocohd.kernels import (fused_leaky_relu, fused_leaky_relu_reference, make_blur_kernel, upfirdn2d,
                            upfirdn2d_reference)

CASES = [  # (up, down, pad): the combinations StyleGAN2 uses, plus cropping and anisotropy
    (1, 1, (1, 2)), (2, 1, (2, 1)), (1, 2, (1, 1)), (2, 2, (-1, 2)), (1, 1, (0, 0)), ((2, 1), (1, 2), (1, 2, 0, 1)),
    (1, 1, (-1, 0)), (1, 1, (0, -1, 1, 0)),
    # up along x only; each pad the only positive one (x0, x1, y0, y1); a crop at the bottom alone
    ((1, 2), 1, (1, 0, 0, 0)), (1, 1, (0, 1, 0, 0)), (1, 1, (0, 0, 0, 1)), (1, 1, (0, 0, 0, -1)),
]


@pytest.mark.parametrize("up,down,pad", CASES)
def test_upfirdn2d_matches_loops(up, down, pad):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 5, 6, generator=g, dtype=torch.float64)
    k = torch.rand(4, 3, generator=g, dtype=torch.float64)  # asymmetric: catches a missing flip
    fast, slow = upfirdn2d(x, k, up, down, pad), upfirdn2d_reference(x, k, up, down, pad)
    assert fast.shape == slow.shape
    torch.testing.assert_close(fast, slow, rtol=0, atol=1e-12)


def test_upfirdn2d_defaults_are_a_plain_fir_filter():
    x, k = torch.randn(1, 2, 5, 6, dtype=torch.float64), torch.rand(2, 3, dtype=torch.float64)
    torch.testing.assert_close(upfirdn2d_reference(x, k), upfirdn2d(x, k))
    assert upfirdn2d(x, k).shape == (1, 2, 4, 4)


def test_upfirdn2d_casts_the_kernel_to_the_input_dtype():
    # a float32 blur kernel (make_blur_kernel) on float64 (or bf16) activations
    x, k = torch.randn(1, 2, 5, 6, dtype=torch.float64), make_blur_kernel([1, 3, 3, 1])
    out = upfirdn2d(x, k, pad=(2, 1))
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, upfirdn2d_reference(x, k.double(), pad=(2, 1)))


def test_blur_kernel_is_the_outer_product_of_the_taps():
    k = make_blur_kernel([1, 3, 3, 1])
    assert k.dtype == torch.float32
    want = torch.tensor([[1, 3, 3, 1], [3, 9, 9, 3], [3, 9, 9, 3], [1, 3, 3, 1]], dtype=torch.float32) / 64
    torch.testing.assert_close(k, want)


def test_upfirdn2d_output_size_formula():
    x, k = torch.randn(1, 1, 8, 8), make_blur_kernel([1, 3, 3, 1]) * 4
    out = upfirdn2d(x, k, up=2, pad=(2, 1))  # the Upsample layer's padding
    assert out.shape[-1] == (8 * 2 + 2 + 1 - 4) // 1 + 1 == 16


def test_blur_kernel_preserves_constant_image():
    k = make_blur_kernel([1, 3, 3, 1])
    assert k.sum().item() == pytest.approx(1.0)
    out = upfirdn2d(torch.ones(1, 1, 8, 8), k, pad=(2, 1))
    torch.testing.assert_close(out[..., 2:-2, 2:-2], torch.ones_like(out[..., 2:-2, 2:-2]))


@pytest.mark.parametrize("up,down,pad", CASES[:4])
def test_upfirdn2d_gradcheck(up, down, pad):
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    k = torch.rand(3, 3, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: upfirdn2d(t, k, up, down, pad), (x,))


def test_fused_leaky_relu_matches_reference_and_gradcheck():
    x = torch.randn(3, 4, 5, 5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(fused_leaky_relu(x, b), fused_leaky_relu_reference(x, b))
    assert torch.autograd.gradcheck(fused_leaky_relu, (x, b))
    # the sqrt(2) gain keeps the second moment of a unit Gaussian near one
    y = fused_leaky_relu(torch.randn(200_000), None)
    assert y.pow(2).mean().item() == pytest.approx((1 + 0.2**2) / 2 * 2, rel=0.02)


def test_fused_leaky_relu_second_order_gradients():
    # R1 and the gradient penalty differentiate a gradient that passes through this op
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(fused_leaky_relu, (x, b))
    assert torch.autograd.gradgradcheck(lambda t: fused_leaky_relu(t, None, 0.1, 3.0), (x,))


def test_fused_leaky_relu_gradients_equal_the_reference_ones():
    torch.manual_seed(0)
    x = torch.randn(4, 6, 3, 3, requires_grad=True)
    b = torch.randn(6, requires_grad=True)
    weights = torch.randn(4, 6, 3, 3)
    grads = [torch.autograd.grad((f(x, b, 0.3, 1.7) * weights).sum(), (x, b))
             for f in (fused_leaky_relu, fused_leaky_relu_reference)]
    for ours, reference in zip(*grads):
        torch.testing.assert_close(ours, reference)
    # a (B, C) input (EqualLinear with an activation) and a bf16 input keep shape and dtype
    y = fused_leaky_relu(torch.randn(5, 6, dtype=torch.bfloat16, requires_grad=True), b)
    assert y.dtype == torch.bfloat16 and y.shape == (5, 6)
    y.float().sum().backward()
    assert b.grad.dtype == torch.float32 and b.grad.shape == (6,)


def test_fused_leaky_relu_leaves_its_input_alone():
    x = torch.randn(2, 3, 4, 4)
    before = x.clone()
    fused_leaky_relu(x, torch.ones(3))
    fused_leaky_relu(x, None)
    assert torch.equal(x, before)


def test_fused_leaky_relu_negative_slope_never_gives_a_wrong_gradient():
    # the backward reads the output's sign, which is x + bias's sign only for a slope >= 0: with a negative
    # slope it must refuse (torch's leaky_relu_backward with self_is_result=True raises) rather than be wrong
    x = torch.tensor([[-1.0, 2.0]], requires_grad=True)
    try:
        (grad,) = torch.autograd.grad(fused_leaky_relu(x, None, -0.5, 1.0).sum(), x)
    except RuntimeError:
        return
    torch.testing.assert_close(grad, torch.tensor([[-0.5, 1.0]]))


def test_fused_leaky_relu_bf16_bias_gradient_is_summed_in_fp32():
    # 1000 gradients of bf16(sqrt(2)) = 1.4140625: summed in bf16 they would round to 1416
    x = torch.ones(1000, 3, dtype=torch.bfloat16, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    fused_leaky_relu(x, b).float().sum().backward()
    torch.testing.assert_close(b.grad, torch.full((3,), 1414.0625), rtol=1e-6, atol=0)
