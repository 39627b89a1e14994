"""Property-based tests (hypothesis): what must hold for every input, not just the ones picked by hand.

* the clip samplers: a clip's frames are in the video, in order, ``time_step`` apart, and a
  video too short for a clip is refused rather than read past its end;
* the toy world: frames in [-1, 1] and every factor within its documented range, for any seed
  and clip length; a held factor stays where it is put;
* the kernels: ``upfirdn2d`` returns the shape its docstring promises, and equals its slow
  reference, for any up / down / pad / kernel size.

Each test draws few examples (``max_examples``) so that the file runs in seconds; the draws are
derandomized, so a failure reproduces.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocohd.data.folders import VideoTooShortError, clip_indices
from mocohd.data.toyworld import DOMAINS, FACE_MOTION, flatten_indices, make_clips
from mocohd.kernels import upfirdn2d, upfirdn2d_reference

FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=8, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------------
# Clip samplers


@FAST
@given(frames=st.integers(1, 32), time_step=st.integers(1, 6), extra=st.integers(-4, 6), seed=st.integers(0, 2**31))
def test_a_clip_lies_inside_its_video_in_order_and_evenly_spaced(frames, time_step, extra, seed):
    """Lengths near the shortest a clip needs, so 32 draws reach the last start a clip may take."""
    length = max(1, frames * time_step + 1 + extra)
    generator = torch.Generator().manual_seed(seed)
    if length < frames * time_step + 1:
        with pytest.raises(VideoTooShortError, match="lower frames or time_step, or remove the video"):
            clip_indices(length, frames, time_step, generator, "v.mp4")
        return
    for _ in range(32):
        indices = clip_indices(length, frames, time_step, generator, "v.mp4")
        assert len(indices) == frames
        assert 0 <= indices[0] and indices[-1] <= length - 1
        assert all(b - a == time_step for a, b in zip(indices[:-1], indices[1:]))


@FAST
@given(frames=st.integers(2, 8), time_step=st.integers(1, 3), seed=st.integers(0, 1000))
def test_the_same_seed_draws_the_same_clips(frames, time_step, seed):
    a = [clip_indices(60, frames, time_step, g, "v").tolist() for g in [torch.Generator().manual_seed(seed)] * 3]
    b = [clip_indices(60, frames, time_step, g, "v").tolist() for g in [torch.Generator().manual_seed(seed)] * 3]
    assert a == b


@FAST
@given(values=st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=60), data=st.data())
def test_flatten_indices_picks_distinct_rows_that_exist(values, data):
    n = data.draw(st.integers(1, len(values)))
    picked = flatten_indices(torch.tensor(values), n, bins=data.draw(st.integers(1, 10)), seed=0)
    assert len(picked) == n and len(set(picked.tolist())) == n
    assert picked.min() >= 0 and picked.max() < len(values)
    assert picked.tolist() == sorted(picked.tolist())


# --------------------------------------------------------------------------------------
# The toy world's factor ranges


def face_ranges_hold(motion: torch.Tensor) -> None:
    eye, mouth, yaw, pitch = (motion[..., FACE_MOTION.index(k)] for k in FACE_MOTION)
    assert 0 <= eye.min() and eye.max() <= 1
    assert 0 <= mouth.min() and mouth.max() <= 1
    assert yaw.abs().max() <= 0.9 + 1e-6 and pitch.abs().max() <= 0.7 + 1e-6


@SLOW
@given(domain=st.sampled_from(DOMAINS), seed=st.integers(0, 10_000), frames=st.integers(1, 12), n=st.integers(1, 3))
def test_toy_clips_stay_in_range_for_any_seed(domain, seed, frames, n):
    clips = make_clips(domain, n, frames=frames, size=32, seed=seed)
    assert clips.video.shape == (n, frames, 3, 32, 32)
    assert clips.video.min() >= -1 and clips.video.max() <= 1
    assert torch.isfinite(clips.identity).all() and torch.isfinite(clips.motion).all()
    assert clips.motion.shape == (n, frames, len(clips.motion_names))
    if clips.label_names:
        assert 0 <= clips.label.min() and clips.label.max() < len(clips.label_names)
    else:
        assert (clips.label == 0).all()
    m = {name: clips.motion[..., i] for i, name in enumerate(clips.motion_names)}
    if clips.motion_names == list(FACE_MOTION):  # faces, animals and the faces variants
        face_ranges_hold(clips.motion)
    elif domain == "sky":
        assert 0.5 <= m["light"].min() and m["light"].max() <= 1.3
        assert (m["light"] - 1).abs().max() <= 0.012 * frames / 2 + 1e-5  # a slow drift over the clip
        assert ((0.01 - 1e-6 <= m["wind"].abs()) & (m["wind"].abs() <= 0.05 + 1e-6)).all()
    elif domain == "actions":  # only a spin turns the figure (its angle grows over the clip)
        spinning = clips.label == clips.label_names.index("spin")
        assert (m["turn"][~spinning] == 0).all()


@SLOW
@given(domain=st.sampled_from(["faces", "animals"]), factor=st.sampled_from(FACE_MOTION),
       value=st.floats(-0.5, 1.0, allow_nan=False), seed=st.integers(0, 1000))
def test_a_held_factor_stays_where_it_is_put(domain, factor, value, seed):
    clips = make_clips(domain, 2, frames=5, size=32, seed=seed, hold={factor: value})
    held = clips.motion[..., FACE_MOTION.index(factor)]
    assert torch.allclose(held, torch.full_like(held, value))


# --------------------------------------------------------------------------------------
# Kernels: upfirdn2d


def out_side(side, up, pad0, pad1, k, down):
    return (side * up + pad0 + pad1 - k) // down + 1


@st.composite
def upfirdn_args(draw):
    up = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    down = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    # pads that keep at least one output pixel: a negative pad crops, never past the image
    py0, py1 = draw(st.integers(-1, 3)), draw(st.integers(-1, 3))
    px0, px1 = draw(st.integers(-1, 3)), draw(st.integers(-1, 3))
    if h * up[0] + py0 + py1 < kh or w * up[1] + px0 + px1 < kw:
        py0, py1, px0, px1 = kh, kh, kw, kw
    return dict(h=h, w=w, up=up, down=down, kernel=(kh, kw), pad=(px0, px1, py0, py1), channels=draw(st.integers(1, 3)))


@FAST
@given(args=upfirdn_args(), seed=st.integers(0, 1000))
def test_upfirdn2d_has_the_promised_shape_and_equals_its_reference(args, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, args["channels"], args["h"], args["w"], generator=g, dtype=torch.float64)
    kernel = torch.randn(*args["kernel"], generator=g, dtype=torch.float64)
    (up_y, up_x), (down_y, down_x), (px0, px1, py0, py1) = args["up"], args["down"], args["pad"]
    out = upfirdn2d(x, kernel, up=(up_y, up_x), down=(down_y, down_x), pad=args["pad"])
    assert out.shape == (2, args["channels"], out_side(args["h"], up_y, py0, py1, args["kernel"][0], down_y),
                         out_side(args["w"], up_x, px0, px1, args["kernel"][1], down_x))
    reference = upfirdn2d_reference(x, kernel, up=(up_y, up_x), down=(down_y, down_x), pad=args["pad"])
    torch.testing.assert_close(out, reference)


@FAST
@given(side=st.sampled_from([4, 8, 16]), factor=st.sampled_from([1, 2, 4]), taps=st.sampled_from([2, 4]))
def test_the_generators_up_and_down_sampling_scale_the_side_exactly(side, factor, taps):
    """StyleGAN2's resamplers pad so that up by f gives f x the side and down by f gives side / f."""
    x = torch.randn(1, 1, side, side)
    kernel = torch.ones(taps, taps) / taps**2
    p = taps - factor
    up = upfirdn2d(x, kernel * factor**2, up=factor, pad=((p + 1) // 2 + factor - 1, p // 2))
    assert up.shape[-2:] == (side * factor, side * factor)
    if side % factor == 0:
        down = upfirdn2d(x, kernel, down=factor, pad=((p + 1) // 2, p // 2))
        assert down.shape[-2:] == (side // factor, side // factor)
    assert math.isfinite(up.sum().item())
