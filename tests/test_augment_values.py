"""The exact result of each augmentation for a fixed seed (found open by mutation testing): the
structural tests in test_augment.py accept any square in a band or any shift; these check the
geometry each seed gives, written from the documented draws in their order, and that a seeded
generator alone decides (the global stream does not)."""

import math

import pytest
import torch

from mocohd.augment import colour_shift, cutout_border, hflip_maybe, random_affine, random_temporal_flip, warp_one


def gen(seed):
    return torch.Generator().manual_seed(seed)


class Draws:
    """The generator's stream as the augmentations read it: uniform floats and integers."""

    def __init__(self, seed):
        self.g = gen(seed)

    def uniform(self, low, high):
        return low + (high - low) * float(torch.rand((), generator=self.g))

    def randint(self, n):
        return int(torch.randint(n, (), generator=self.g))


def expected_cutout_box(seed, h, w, max_ratio=0.25):
    """(top, left, side): ratio ~ U(max_ratio/2, max_ratio), a position along the border, the border
    (0 top, 1 bottom, 2 left, 3 right), then the offset inside that border's band; the square's side is
    ratio*H rounded down and its corner the fractions (y0, x0) of H-1 and W-1, rounded down."""
    d = Draws(seed)
    ratio = d.uniform(max_ratio / 2, max_ratio)
    along = d.uniform(0, 1 - max_ratio)
    border = d.randint(4)
    if border == 0:
        y0, x0 = d.uniform(0, max_ratio - ratio), along
    elif border == 1:
        y0, x0 = d.uniform(1 - max_ratio, 1 - ratio), along
    elif border == 2:
        y0, x0 = along, d.uniform(0, max_ratio - ratio)
    else:
        y0, x0 = along, d.uniform(1 - max_ratio, 1 - ratio)
    return math.floor(y0 * (h - 1)), math.floor(x0 * (w - 1)), math.floor(h * ratio), border


@pytest.mark.parametrize("h, w", [(32, 32), (16, 24)])
def test_cutout_geometry_for_each_seed(h, w):
    img = torch.rand(3, h, w) + 0.5  # no zero of its own
    borders = set()
    for seed in range(24):
        top, left, side, border = expected_cutout_box(seed, h, w)
        borders.add(border)
        expected = img.clone()
        expected[:, top : top + side, left : left + side] = 0.0
        assert torch.equal(cutout_border(img, generator=gen(seed)), expected), (seed, top, left, side, border)
    assert borders == {0, 1, 2, 3}


def test_cutout_touching_the_top_left_corner():
    # a border-0 draw whose offset is under one pixel starts at row 0 (not clamped to 1)
    img = torch.ones(3, 16, 16)
    hits = 0
    for seed in range(60):
        top, left, side, _ = expected_cutout_box(seed, 16, 16)
        if top == 0 or left == 0:
            hits += 1
            out = cutout_border(img, generator=gen(seed))
            assert (out[:, top, left] == 0).all() and (out[:, top : top + side, left : left + side] == 0).all()
    assert hits > 0


def test_colour_shift_for_each_seed():
    img = torch.rand(3, 4, 4)
    for seed in range(16):
        d = Draws(seed)
        c, which = d.uniform(-0.5, 0.5), d.randint(4)  # which 0: all channels, 1..3: R, G, B
        expected = img.clone()
        if which == 0:
            expected += c
        else:
            expected[which - 1] += c
        assert torch.equal(colour_shift(img, generator=gen(seed)), expected), seed


def test_hflip_for_each_seed_and_about_half_the_time():
    img = torch.rand(3, 4, 5)
    flips = 0
    for seed in range(200):
        flip = Draws(seed).randint(2) == 1
        flips += flip
        assert torch.equal(hflip_maybe(img, gen(seed)), img.flip(-1) if flip else img), seed
    assert 80 < flips < 120


def coordinate_image(h, w):
    """Channel 0 holds each pixel's x, channel 1 its y, in affine_grid's [-1, 1] units (pixel centres):
    bilinear sampling of a linear ramp returns the sampling point itself."""
    ys = (2 * torch.arange(h, dtype=torch.float64) + 1) / h - 1
    xs = (2 * torch.arange(w, dtype=torch.float64) + 1) / w - 1
    return torch.stack([xs[None].expand(h, w), ys[:, None].expand(h, w)])


@pytest.mark.parametrize("seed", range(6))
def test_affine_samples_at_scaled_rotated_shifted_points(seed):
    h, w = 16, 20
    d = Draws(seed)
    angle = math.radians(d.uniform(-180, 180))  # the defaults: +-180 degrees, +-0.1 shift, scale 1 +- 0.05
    tx, ty = d.uniform(-0.1, 0.1), d.uniform(-0.1, 0.1)
    s = d.uniform(0.95, 1.05)
    img = coordinate_image(h, w)
    out = random_affine(img, generator=gen(seed))
    assert out.dtype == torch.float64
    x, y = img[0], img[1]
    src_x = s * math.cos(angle) * x - s * math.sin(angle) * y + tx
    src_y = s * math.sin(angle) * x + s * math.cos(angle) * y + ty
    inside = (src_x.abs() < 1 - 1 / w) & (src_y.abs() < 1 - 1 / h)  # away from the reflected border
    assert inside.sum() > 50
    torch.testing.assert_close(out[0][inside], src_x[inside], atol=1e-6, rtol=0)
    torch.testing.assert_close(out[1][inside], src_y[inside], atol=1e-6, rtol=0)


def test_warp_one_is_cutout_then_flip_colour_or_affine_by_the_next_draw():
    img = torch.rand(3, 16, 16)
    chosen = set()
    for seed in range(30):
        g = gen(seed)
        out = cutout_border(img, generator=g)
        choice = int(torch.randint(3, (), generator=g))
        chosen.add(choice)
        expected = (hflip_maybe, colour_shift, lambda x, g: random_affine(x, generator=g))[choice](out, g)
        assert torch.equal(warp_one(img, gen(seed)), expected), (seed, choice)
    assert chosen == {0, 1, 2}


def test_the_seeded_generator_alone_decides():
    img = torch.rand(3, 16, 16)
    clip = torch.arange(4.0).view(1, 1, 4, 1, 1)
    for fn in (cutout_border, hflip_maybe, colour_shift, lambda x, generator: random_temporal_flip(clip, generator=generator)):
        torch.manual_seed(1)
        a = [fn(img, generator=gen(s)) for s in range(12)]
        torch.manual_seed(2)
        b = [fn(img, generator=gen(s)) for s in range(12)]
        assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_temporal_flip_for_each_seed():
    clip = torch.arange(4.0).view(1, 1, 4, 1, 1)
    for seed in range(20):
        flip = float(torch.rand((), generator=gen(seed))) < 0.3
        assert torch.equal(random_temporal_flip(clip, p=0.3, generator=gen(seed)), clip.flip(2) if flip else clip)


def test_affine_states_align_corners_so_no_warning_per_call():
    # left unset, affine_grid and grid_sample warn about their changed default at every training step
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        random_affine(torch.rand(3, 8, 8), generator=gen(0))
