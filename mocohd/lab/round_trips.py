"""Round trips: a motion that goes away from rest and comes back, such as a whole blink, and
the same clip with its way back cut out.

A discriminator that pays for a blink must see more than the eyes changing: a generator whose
eyes shut slowly and stay shut changes them too. What only a blink has is the way back. Cutting
it out of a real clip (every frame after the shut one repeats it) makes a clip whose every
frame is real and whose only fault is the order in time: the contrast the fresh 3D D check
(``mocohd.lab.discriminator_probe``) trains on, and the extra fakes of ``--cut-fakes``.

``clips`` is anything with ``motion`` (B, T, F), ``motion_names`` and ``video`` (B, T, C, H, W),
such as the toy world's ``ToyClips``.
"""

from __future__ import annotations

import torch

from mocohd.metrics.motion_stats import EVENT_RANGE
from mocohd.data.toyworld import RESTING, make_clips


def farthest_frame(clips, factor: str) -> torch.Tensor:
    """(B,) long: the frame of each clip where ``factor`` is farthest from rest (a blink's shut eyes)."""
    away = (clips.motion[:, :, clips.motion_names.index(factor)] - RESTING[factor]).abs()
    return away.argmax(dim=1)


def returning(clips, factor: str) -> torch.Tensor:
    """(B,) bool: the clips in which ``factor`` moves away from where it starts by more than
    ``EVENT_RANGE`` and then comes back by more than ``EVENT_RANGE``: a round trip, such as a
    whole blink (not one that starts mid-blink and only opens)."""
    away = (clips.motion[:, :, clips.motion_names.index(factor)] - RESTING[factor]).abs()
    peak = away.max(dim=1).values
    after = torch.arange(away.shape[1])[None] >= away.argmax(dim=1)[:, None]
    back = peak - away.masked_fill(~after, float("inf")).min(dim=1).values
    return (peak - away[:, 0] > EVENT_RANGE) & (back > EVENT_RANGE)


def without_return(clips, factor: str) -> torch.Tensor:
    """(B, T, C, H, W): the clips with ``factor``'s way back cut out: every frame after the one
    where it is farthest from rest repeats that frame (eyes that shut and stay shut). Every
    frame is one of the clip's own, so only the order in time tells the two apart: what a
    discriminator must see to pay for a round trip rather than for a drift."""
    peak = farthest_frame(clips, factor)
    frames = torch.minimum(torch.arange(clips.video.shape[1])[None], peak[:, None])  # (B, T)
    return torch.stack([clip[index] for clip, index in zip(clips.video, frames)])


def frozen(video: torch.Tensor) -> torch.Tensor:
    """(B, T, C, H, W) -> the same clips with every frame equal to the first: all motion gone."""
    return video[:, :1].expand_as(video).clone()


def cut_or_frozen(clips, factor: str) -> torch.Tensor:
    """(B, T, C, H, W): every clip made to fail by its motion alone: a round trip loses its way
    back (:func:`without_return`), any other clip is frozen at its first frame."""
    trip = returning(clips, factor).view(-1, *[1] * (clips.video.dim() - 1))
    return torch.where(trip, without_return(clips, factor), frozen(clips.video))


def held_clips(domain: str, factor: str, n: int, frames: int, size: int, seed: int) -> tuple:
    """The same ``n`` real clips twice: as drawn, and with ``factor`` held at rest."""
    drawn = make_clips(domain, n, frames=frames, size=size, seed=seed)
    held = make_clips(domain, n, frames=frames, size=size, seed=seed, hold={factor: RESTING[factor]})
    return drawn, held
