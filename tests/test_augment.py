import pytest
import torch

from mocohd.augment import (
    colour_shift,
    cutout_border,
    hflip_maybe,
    random_affine,
    random_temporal_flip,
    warp,
)


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("seed", range(12))
def test_cutout_is_one_square_in_a_border_band(seed):
    h = 64
    out = cutout_border(torch.ones(3, h, h), generator=gen(seed))
    zero = out[0] == 0
    assert torch.equal(zero, out[1] == 0) and torch.equal(zero, out[2] == 0)
    rows, cols = zero.any(1).nonzero().flatten(), zero.any(0).nonzero().flatten()
    side = len(rows)
    assert side == len(cols) and zero.sum() == side * side  # one square
    assert round(0.125 * h - 0.5) <= side <= round(0.25 * h - 0.5)
    band = round(0.25 * h)
    in_band = (rows.max() < band, rows.min() >= h - band - 1, cols.max() < band, cols.min() >= h - band - 1)
    assert any(in_band), (rows.tolist(), cols.tolist())


def test_colour_shift_moves_all_or_one_channel_by_at_most_half():
    img = torch.rand(3, 8, 8)
    seen = set()
    for seed in range(40):
        diff = colour_shift(img, generator=gen(seed)) - img
        per_channel = diff.flatten(1)
        assert torch.allclose(per_channel, per_channel[:, :1].expand_as(per_channel), atol=1e-6)
        c = per_channel[:, 0]
        assert c.abs().max() <= 0.5
        moved = tuple((c.abs() > 0).tolist())
        assert moved in {(True, True, True), (True, False, False), (False, True, False), (False, False, True)}
        seen.add(moved)
    assert len(seen) == 4


def test_flip_is_identity_or_mirror():
    img = torch.rand(3, 5, 5)
    outs = [hflip_maybe(img, gen(s)) for s in range(20)]
    assert all(torch.equal(o, img) or torch.equal(o, img.flip(-1)) for o in outs)
    assert any(torch.equal(o, img) for o in outs) and any(torch.equal(o, img.flip(-1)) for o in outs)


def test_affine_with_zero_ranges_is_the_identity_and_otherwise_moves_pixels():
    img = torch.rand(3, 16, 16)
    same = random_affine(img, max_degrees=0, max_shift=0, max_scale=0, generator=gen(0))
    assert torch.allclose(same, img, atol=1e-5)
    moved = random_affine(img, generator=gen(0))
    assert moved.shape == img.shape and not torch.allclose(moved, img, atol=1e-2)
    # reflection padding: no zero borders appear when rotating an all-ones image
    assert torch.allclose(random_affine(torch.ones(3, 16, 16), generator=gen(1)), torch.ones(3, 16, 16), atol=1e-5)


def test_warp_is_seedable_shape_preserving_and_per_image():
    x = torch.rand(6, 3, 32, 32) * 2 - 1
    a, b = warp(x, gen(3)), warp(x, gen(3))
    assert a.shape == x.shape and torch.equal(a, b)
    assert not torch.equal(a, warp(x, gen(4)))
    # two views of one image differ, and images in a batch get different warps
    twice = warp(x[:1].expand(4, -1, -1, -1), gen(5))
    assert not torch.equal(twice[0], twice[1])
    with pytest.raises(ValueError, match="B, C, H, W"):
        warp(x[0])


def test_temporal_flip_reverses_the_whole_batch_in_time():
    x = torch.arange(2 * 4).float().view(2, 1, 4, 1, 1).expand(2, 3, 4, 2, 2)  # (B, C, T, H, W)
    assert torch.equal(random_temporal_flip(x, p=1.0), x.flip(2))
    assert torch.equal(random_temporal_flip(x, p=0.0), x)
    g = gen(0)
    flips = sum(torch.equal(random_temporal_flip(x, generator=g), x.flip(2)) for _ in range(400))
    assert 160 < flips < 240
    with pytest.raises(ValueError, match="B, C, T, H, W"):
        random_temporal_flip(x[0])
    with pytest.raises(ValueError, match="p=2"):
        random_temporal_flip(x, p=2)
