"""The toy world: procedural video datasets whose true factors are known.

Four domains stand in for the paper's datasets, and one variant helps a lesson:

=========  =================================  ==========================================
domain     stands in for                      identity (fixed per clip) / motion (per frame)
=========  =================================  ==========================================
faces      FaceForensics, VoxCeleb            face shape, skin, hair, eyes, background /
                                              eye openness (blinks), mouth opening (talking),
                                              head turn (yaw) and nod (pitch)
(variant)  faces_big_eyes: faces with         the same factors; eyes 1.6x larger that stay shut
           a blink visible at 64 px           3 frames longer per blink (``VARIANTS``)
(variant)  faces_big_eyes_blinks: the         the same faces; the blink is the only motion
           blink alone                        (mouth shut, head still)
animals    AFHQ                               species, fur, eyes, background / the same
                                              four motions as ``faces``
sky        Sky time-lapse                     sky colours, sun, clouds, hills / light level,
                                              cloud drift (wind) and cloud shape
actions    UCF-101                            clothes, skin, background / one of K labelled
                                              actions (walk left, jump, wave, ...)
=========  =================================  ==========================================

Everything is drawn with soft (anti-aliased) shapes in vectorised PyTorch, so 1,000 clips
of 16 frames at 64x64 take seconds. Every clip comes with its factors, which later
notebooks use to measure content/motion disentanglement exactly.

Conventions: videos are float tensors ``(N, T, 3, H, W)`` in [-1, 1]; the canvas uses
coordinates x (right) and y (down) in [-1, 1]; time ``t`` counts frames.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

DOMAINS = ("faces", "animals", "sky", "actions")
# Variants: drawn like a base domain with one thing changed; the feature network reads them
# with their base domain's head (checked on real clips in tests/test_toy_features.py).
VARIANTS = {"faces_big_eyes": "faces", "faces_big_eyes_blinks": "faces"}
DRAWABLE = (*DOMAINS, *VARIANTS)  # every name make_clips takes
ACTIONS = ("walk_left", "walk_right", "jump", "wave", "squat", "clap", "spin")
SPECIES = ("cat", "dog", "fox", "bear", "rabbit")
VERSION = 1  # bump when drawing changes, so stale caches are not reused
CHUNK = 64  # clips drawn at once; bounds memory at 256x256

DEFAULT_CACHE = Path(__file__).resolve().parents[2] / "data" / "cache"


@dataclass
class ToyClips:
    """A batch of toy-world clips and the factors that made them."""

    domain: str
    video: torch.Tensor  # (N, T, 3, H, W) in [-1, 1]
    identity: torch.Tensor  # (N, D_id): fixed per clip
    motion: torch.Tensor  # (N, T, D_mot): changes per frame
    label: torch.Tensor  # (N,) long: species (animals), action (actions), else 0
    identity_names: list[str] = field(default_factory=list)
    motion_names: list[str] = field(default_factory=list)
    label_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return self.video.shape[0]

    def to_uint8(self) -> torch.Tensor:
        """(N, T, H, W, 3) uint8, the layout video writers and mediapy expect."""
        return ((self.video.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 1, 3, 4, 2)


# ----------------------------------------------------------------------------------------
# Validation


def check_domain(domain: str) -> None:
    if domain not in DRAWABLE:
        raise ValueError(f"unknown toy-world domain {domain!r}; choose one of {', '.join(DRAWABLE)}")


def check_toy_args(domain: str, size: int, frames: int, n: int = 1) -> None:
    """Raise a ValueError that names the bad argument and the fix."""
    check_domain(domain)
    if not isinstance(size, int) or not 32 <= size <= 256:
        raise ValueError(f"toy-world size must be an int from 32 to 256 pixels, got {size!r}")
    if size & (size - 1):
        raise ValueError(f"toy-world size must be a power of two (32, 64, 128 or 256), got {size}")
    if not isinstance(frames, int) or not 1 <= frames <= 256:
        raise ValueError(f"frames must be an int from 1 to 256, got {frames!r}")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of clips must be a positive int, got {n!r}")


# ----------------------------------------------------------------------------------------
# Drawing primitives. Parameters have shape (N, T) (or (N, 1) when fixed in time);
# masks come back as (N, T, H, W) with soft, one-pixel-wide edges.


class Canvas:
    def __init__(self, n: int, frames: int, size: int):
        axis = torch.linspace(-1 + 1 / size, 1 - 1 / size, size)
        self.y = axis.view(1, 1, size, 1)
        self.x = axis.view(1, 1, 1, size)
        self.px = 2.0 / size  # one pixel in canvas units
        self.image = torch.zeros(n, frames, 3, size, size)

    def soft(self, signed_distance: torch.Tensor) -> torch.Tensor:
        """Coverage from a signed distance (negative inside), anti-aliased over one pixel."""
        return torch.sigmoid(-signed_distance / (0.5 * self.px))

    def ellipse(self, cx, cy, rx, ry, angle=None) -> torch.Tensor:
        dx, dy = self.x - _e(cx), self.y - _e(cy)
        if angle is not None:
            cos, sin = torch.cos(_e(angle)), torch.sin(_e(angle))
            dx, dy = dx * cos + dy * sin, -dx * sin + dy * cos
        rx, ry = _e(rx).clamp_min(1e-3), _e(ry).clamp_min(1e-3)
        radius = torch.sqrt((dx / rx) ** 2 + (dy / ry) ** 2 + 1e-12)
        # first-order signed distance: (radius - 1) / |grad radius|, good near the edge
        slope = torch.sqrt((dx / rx**2) ** 2 + (dy / ry**2) ** 2 + 1e-12) / radius
        return self.soft((radius - 1) / slope)

    def capsule(self, x0, y0, x1, y1, radius) -> torch.Tensor:
        """A thick line segment with round ends (limbs of the stick figures)."""
        x0, y0, x1, y1, radius = map(_e, (x0, y0, x1, y1, radius))
        vx, vy = x1 - x0, y1 - y0
        along = ((self.x - x0) * vx + (self.y - y0) * vy) / (vx**2 + vy**2 + 1e-9)
        along = along.clamp(0, 1)
        dist = torch.sqrt((self.x - x0 - along * vx) ** 2 + (self.y - y0 - along * vy) ** 2 + 1e-12)
        return self.soft(dist - radius)

    def below(self, edge) -> torch.Tensor:
        """Everything below a horizontal edge (edge may vary with x: shape (N, T, 1, W))."""
        return self.soft(_e(edge) - self.y if edge.dim() == 2 else edge - self.y)

    def paint(self, mask: torch.Tensor, color: torch.Tensor) -> None:
        """Composite ``color`` (N, 3) or (N, T, 3) over the canvas where ``mask`` covers it."""
        if color.dim() == 2:
            color = color[:, None]
        self.image.mul_(1 - mask[:, :, None]).add_(mask[:, :, None] * color[..., None, None])


def _e(p):
    """Lift an (N, T) parameter to broadcast over (N, T, H, W)."""
    if not torch.is_tensor(p):
        return torch.tensor(float(p))
    return p[..., None, None] if p.dim() == 2 else p


def _u(g, n, lo, hi, cols=None):
    shape = (n, 1) if cols is None else (n, cols)
    return lo + (hi - lo) * torch.rand(shape, generator=g)


def _hsv(h, s, v):
    """HSV (each (N, 1), in [0, 1]) to RGB (N, 3)."""
    k = torch.tensor([5.0, 3.0, 1.0])
    kk = (k + h * 6) % 6
    return v - v * s * torch.clamp(torch.minimum(kk, 4 - kk), 0, 1)


def _mix(a, b, w):
    return a * (1 - w) + b * w


def _gradient(canvas: Canvas, top, bottom) -> None:
    w = ((canvas.y + 1) / 2)[None]  # (1, 1, 1, H, 1)
    canvas.image[:] = top[:, None, :, None, None] * (1 - w) + bottom[:, None, :, None, None] * w


def _time(frames: int) -> torch.Tensor:
    return torch.arange(frames, dtype=torch.float32)[None]  # (1, T)


# ----------------------------------------------------------------------------------------
# Motion shared by faces and animals: blinks, talking, head turns and nods.
FACE_MOTION = ("eye_open", "mouth_open", "yaw", "pitch")


def _face_motion(g, n, frames, hold=None, blink_shut=0.0):
    t = _time(frames)
    # Blinks: events every 14-34 frames, each closing the eyes for about 3 frames, then
    # (when blink_shut > 0) keeping them shut for blink_shut more frames.
    period, phase = _u(g, n, 14, 34), _u(g, n, 0, 34)
    since = torch.remainder(t + phase, period)
    middle = 1.5 + blink_shut / 2
    closed = torch.clamp(1 - (torch.abs(since - middle) - blink_shut / 2).clamp_min(0) / 1.8, 0, 1)
    eye_open = 1 - closed
    # Talking: 70% of clips talk; syllables as a product of two rectified sines.
    talking = (torch.rand(n, 1, generator=g) < 0.7).float()
    f1, f2 = _u(g, n, 0.25, 0.45), _u(g, n, 0.05, 0.12)
    p1, p2 = _u(g, n, 0, 2 * math.pi), _u(g, n, 0, 2 * math.pi)
    mouth = talking * torch.abs(torch.sin(f1 * t + p1)) * (0.55 + 0.45 * torch.sin(f2 * t + p2))
    mouth = mouth.clamp(0, 1)
    # Head turn (yaw) and nod (pitch): slow sines with random amplitude, period and phase.
    yaw = _u(g, n, 0, 0.9) * torch.sin(2 * math.pi * t / _u(g, n, 18, 48) + _u(g, n, 0, 2 * math.pi))
    pitch = _u(g, n, 0, 0.7) * torch.sin(2 * math.pi * t / _u(g, n, 14, 40) + _u(g, n, 0, 2 * math.pi))
    motion = torch.stack([eye_open, mouth, yaw, pitch], -1)
    for name, value in (hold or {}).items():  # after every draw, so nothing else changes
        motion[..., FACE_MOTION.index(name)] = value
    return motion, list(FACE_MOTION)


def _features(canvas, cx, cy, rx, ry, motion, eye_color, mouth_color, sclera=None, brow=None, eye_scale=1.0):
    """Eyes, brows and mouth on a head at (cx, cy) with radii (rx, ry), turned by the motion."""
    eye_open, mouth, yaw, pitch = motion.unbind(-1)
    fx = cx + 0.28 * rx * yaw  # features slide sideways with the turn...
    fy = cy + 0.12 * ry * pitch  # ...and up/down with the nod
    for side in (-1, 1):
        squeeze = 1 - 0.35 * torch.clamp(side * -yaw, 0, 1)  # the far eye looks narrower
        ex, ey = fx + side * 0.38 * rx * squeeze, fy - 0.08 * ry
        erx, ery = 0.17 * eye_scale * rx * squeeze, 0.14 * eye_scale * ry * (0.08 + 0.92 * eye_open)
        if sclera is not None:
            white = canvas.ellipse(ex, ey, erx, ery)
            canvas.paint(white, sclera)
            iris = canvas.ellipse(ex + 0.05 * rx * yaw, ey, 0.6 * erx, 0.6 * erx / squeeze) * white
            canvas.paint(iris, eye_color)
            canvas.paint(canvas.ellipse(ex + 0.05 * rx * yaw, ey, 0.3 * erx, 0.3 * erx) * white,
                         torch.full_like(eye_color, 0.05))
        else:  # animals: dark round eyes with a highlight
            canvas.paint(canvas.ellipse(ex, ey, erx, ery), eye_color)
            canvas.paint(canvas.ellipse(ex - 0.3 * erx, ey - 0.3 * ery, 0.28 * erx, 0.28 * ery * eye_open),
                         torch.full_like(eye_color, 0.95))
        if brow is not None:
            brow_y = ey - (0.1 + 0.14 * eye_scale) * ry - 0.04 * ry * (1 - eye_open)
            canvas.paint(canvas.ellipse(ex, brow_y, 1.15 * erx, 0.035 * ry), brow)
    my = fy + 0.48 * ry
    canvas.paint(canvas.ellipse(fx, my, 0.26 * rx * (1 - 0.2 * mouth), 0.035 * ry + 0.16 * ry * mouth), mouth_color)
    inner = canvas.ellipse(fx, my + 0.02 * ry * mouth, 0.18 * rx, 0.11 * ry * mouth + 1e-3)
    canvas.paint(inner * (mouth[..., None, None] > 0.15).float(), mouth_color * 0.35)
    return fx, fy


def _background(g, n, canvas):
    top = _hsv(_u(g, n, 0, 1), _u(g, n, 0.15, 0.6), _u(g, n, 0.55, 0.95))
    bottom = _hsv(_u(g, n, 0, 1), _u(g, n, 0.15, 0.6), _u(g, n, 0.35, 0.8))
    _gradient(canvas, top, bottom)
    return top, bottom


SKIN_TONES = torch.tensor([[0.98, 0.84, 0.72], [0.90, 0.70, 0.55], [0.72, 0.52, 0.38], [0.45, 0.31, 0.22]])
HAIR_COLORS = torch.tensor([[0.08, 0.06, 0.05], [0.35, 0.2, 0.1], [0.85, 0.68, 0.35], [0.6, 0.25, 0.1], [0.75, 0.75, 0.75]])


def _draw_faces(g, n, frames, size, hold=None, eye_scale=1.0, blink_shut=0.0):
    canvas = Canvas(n, frames, size)
    bg_top, bg_bottom = _background(g, n, canvas)
    motion, motion_names = _face_motion(g, n, frames, hold, blink_shut)
    skin = SKIN_TONES[torch.randint(4, (n,), generator=g)] + _u(g, n, -0.05, 0.05, 3)
    hair = HAIR_COLORS[torch.randint(5, (n,), generator=g)] + _u(g, n, -0.06, 0.06, 3)
    eye = _hsv(_u(g, n, 0.05, 0.7), _u(g, n, 0.4, 0.9), _u(g, n, 0.25, 0.7))
    shirt = _hsv(_u(g, n, 0, 1), _u(g, n, 0.3, 0.8), _u(g, n, 0.3, 0.9))
    lips = torch.tensor([[0.7, 0.2, 0.25]]) + _u(g, n, -0.1, 0.1, 3)
    rx, ry = _u(g, n, 0.36, 0.46), _u(g, n, 0.46, 0.56)
    hair_long = _u(g, n, 0.0, 1.0)
    yaw, pitch = motion[..., 2], motion[..., 3]
    cx = _u(g, n, -0.08, 0.08) + 0.05 * yaw
    cy = _u(g, n, -0.12, 0.0) + 0.04 * pitch
    # shoulders, long hair behind the head, ears, face, hair cap, then the features
    canvas.paint(canvas.ellipse(cx * 0.5, cy + ry + 0.55, 0.85, 0.5), shirt)
    behind = canvas.ellipse(cx, cy + 0.25 * hair_long * ry, 1.12 * rx, ry * (1.0 + 0.35 * hair_long))
    canvas.paint(behind * canvas.soft(canvas.y - _e(cy + 0.55 * ry)), hair)  # no beard below the chin
    for side in (-1, 1):
        canvas.paint(canvas.ellipse(cx + side * rx * (1 - 0.15 * side * yaw), cy, 0.16 * rx, 0.22 * ry), skin * 0.93)
    canvas.paint(canvas.ellipse(cx, cy, rx * (1 - 0.06 * yaw.abs()), ry), skin)
    cap = canvas.ellipse(cx + 0.05 * yaw, cy - 0.42 * ry, 1.04 * rx, 0.62 * ry) * canvas.soft(canvas.y - _e(cy - 0.45 * ry + 0.1 * pitch))
    canvas.paint(cap, hair)
    fx, fy = _features(canvas, cx, cy, rx, ry, motion, eye, lips, sclera=torch.full_like(eye, 0.96), brow=hair * 0.8,
                        eye_scale=eye_scale)
    canvas.paint(canvas.ellipse(fx, fy + 0.2 * ry, 0.07 * rx, 0.1 * ry), skin * 0.82)  # nose
    identity = torch.cat([rx, ry, skin, hair, eye, bg_top, bg_bottom, hair_long], 1)
    names = ["face_rx", "face_ry", *_rgb("skin"), *_rgb("hair"), *_rgb("eye"), *_rgb("bg_top"), *_rgb("bg_bottom"), "hair_long"]
    return canvas.image, identity, names, motion, motion_names, torch.zeros(n, dtype=torch.long)


def _draw_faces_big_eyes(g, n, frames, size, hold=None):
    """Faces whose blink a 64 px discriminator can see. In ``faces`` a blink changes a few
    pixels for about 3 frames (mean pixel change 0.0005 over the clips that blink, 35x less
    than a head turn), and neither the trained nor a fresh 3D discriminator learns it
    (notebook 05). Here the eyes are 1.6x larger and stay shut 3 frames longer: about 6x the
    pixel change (0.0029), which a fresh 3D discriminator does learn."""
    return _draw_faces(g, n, frames, size, hold, eye_scale=1.6, blink_shut=3.0)


def _draw_faces_big_eyes_blinks(g, n, frames, size, hold=None):
    """The clips of ``faces_big_eyes`` with the blink as their only motion: mouth shut, head
    still. A motion generator trained on them has one motion to find, so they ask whether the
    video GAN can learn a blink at all when nothing else competes for the discriminators'
    attention (notebook 05). Same faces and blinks as ``faces_big_eyes``, index for index."""
    still = {name: RESTING[name] for name in ("mouth_open", "yaw", "pitch")}
    return _draw_faces(g, n, frames, size, {**still, **(hold or {})}, eye_scale=1.6, blink_shut=3.0)


def _rgb(name):
    return [f"{name}_r", f"{name}_g", f"{name}_b"]


# Fur palettes per species: (main, light patch) base colours.
FUR = {
    "cat": ([0.55, 0.55, 0.58], [0.92, 0.9, 0.88]),
    "dog": ([0.62, 0.42, 0.24], [0.93, 0.86, 0.72]),
    "fox": ([0.9, 0.45, 0.12], [0.97, 0.95, 0.92]),
    "bear": ([0.36, 0.24, 0.16], [0.62, 0.48, 0.36]),
    "rabbit": ([0.85, 0.82, 0.8], [0.98, 0.96, 0.96]),
}


def _draw_animals(g, n, frames, size, hold=None):
    canvas = Canvas(n, frames, size)
    bg_top, bg_bottom = _background(g, n, canvas)
    motion, motion_names = _face_motion(g, n, frames, hold)
    species = torch.randint(len(SPECIES), (n,), generator=g)
    main = torch.tensor([FUR[s][0] for s in SPECIES])[species] + _u(g, n, -0.12, 0.12, 3)
    light = torch.tensor([FUR[s][1] for s in SPECIES])[species] + _u(g, n, -0.05, 0.05, 3)
    eye = _hsv(_u(g, n, 0.08, 0.35), _u(g, n, 0.5, 1.0), _u(g, n, 0.15, 0.6))
    rx, ry = _u(g, n, 0.5, 0.58), _u(g, n, 0.46, 0.54)
    yaw, pitch = motion[..., 2], motion[..., 3]
    cx = _u(g, n, -0.06, 0.06) + 0.05 * yaw
    cy = _u(g, n, 0.12, 0.22) + 0.04 * pitch
    is_ = {s: (species == i).float()[:, None, None, None] for i, s in enumerate(SPECIES)}
    # Ears differ by species; everything is drawn for all and masked by species.
    for side in (-1, 1):
        ex = cx + side * 0.62 * rx + 0.08 * rx * yaw
        pointy = canvas.ellipse(ex, cy - 0.95 * ry, 0.2 * rx, 0.42 * ry, angle=torch.full_like(cx, side * 0.35))
        big_pointy = canvas.ellipse(ex, cy - 1.05 * ry, 0.27 * rx, 0.55 * ry, angle=torch.full_like(cx, side * 0.3))
        floppy = canvas.ellipse(cx + side * 0.98 * rx, cy - 0.05 * ry + 0.05 * pitch, 0.2 * rx, 0.55 * ry,
                                angle=torch.full_like(cx, -side * 0.25))
        round_ = canvas.ellipse(ex, cy - 0.85 * ry, 0.24 * rx, 0.24 * rx)
        long_ = canvas.ellipse(cx + side * 0.32 * rx + 0.08 * rx * yaw, cy - 1.45 * ry, 0.14 * rx, 0.8 * ry,
                               angle=torch.full_like(cx, side * 0.12))
        ear = is_["cat"] * pointy + is_["fox"] * big_pointy + is_["bear"] * round_ + is_["rabbit"] * long_
        canvas.paint(ear, main)
        inner = is_["cat"] * canvas.ellipse(ex, cy - 0.92 * ry, 0.1 * rx, 0.26 * ry, angle=torch.full_like(cx, side * 0.35))
        inner = inner + is_["rabbit"] * canvas.ellipse(cx + side * 0.32 * rx + 0.08 * rx * yaw, cy - 1.45 * ry, 0.07 * rx, 0.6 * ry, angle=torch.full_like(cx, side * 0.12))
        canvas.paint(inner, torch.tensor([[0.95, 0.65, 0.7]]).expand(n, 3))
        canvas.paint(is_["dog"] * floppy, main * 0.7)
    canvas.paint(canvas.ellipse(cx, cy, rx * (1 - 0.05 * yaw.abs()), ry), main)
    fx = cx + 0.28 * rx * yaw
    fy = cy + 0.12 * ry * pitch
    snout_r = 0.32 + 0.1 * (is_["dog"] + is_["bear"]).squeeze(-1).squeeze(-1)
    canvas.paint(canvas.ellipse(fx, fy + 0.42 * ry, snout_r * rx * 1.1, snout_r * ry), light)
    fox_cheeks = is_["fox"] * canvas.ellipse(fx, fy + 0.25 * ry, 0.75 * rx, 0.35 * ry)
    canvas.paint(fox_cheeks, light)
    motion_eyes = motion.clone()
    _features(canvas, cx, cy, rx, ry * 0.9, motion_eyes, eye * 0.4, torch.tensor([[0.45, 0.12, 0.15]]).expand(n, 3))
    canvas.paint(canvas.ellipse(fx, fy + 0.28 * ry, 0.1 * rx * (1 + 0.5 * is_["dog"].squeeze(-1).squeeze(-1)), 0.07 * ry),
                 torch.tensor([[0.1, 0.07, 0.07]]).expand(n, 3))  # nose
    identity = torch.cat([species[:, None].float(), main, light, eye, bg_top, bg_bottom, rx, ry], 1)
    names = ["species", *_rgb("fur"), *_rgb("fur_light"), *_rgb("eye"), *_rgb("bg_top"), *_rgb("bg_bottom"), "head_rx", "head_ry"]
    return canvas.image, identity, names, motion, motion_names, species


def _draw_sky(g, n, frames, size):
    canvas = Canvas(n, frames, size)
    t = _time(frames)
    hue = _u(g, n, 0.52, 0.66)
    dusk = _u(g, n, 0, 1)  # 0: clear day, 1: sunset colours
    top = _mix(_hsv(hue, _u(g, n, 0.5, 0.9), _u(g, n, 0.55, 0.9)), _hsv(_u(g, n, 0.7, 0.8), torch.full_like(hue, 0.6), torch.full_like(hue, 0.4)), dusk * 0.6)
    horizon = _mix(_hsv(hue, _u(g, n, 0.1, 0.35), torch.full_like(hue, 0.97)), _hsv(_u(g, n, 0.02, 0.1), torch.full_like(hue, 0.7), torch.full_like(hue, 0.98)), dusk)
    _gradient(canvas, top, horizon)
    # Light drifts slowly over the clip (a time-lapse of the day).
    light_rate = _u(g, n, -0.012, 0.012)
    light = (1 + light_rate * (t - frames / 2)).clamp(0.5, 1.3)
    sun_x, sun_y = _u(g, n, -0.8, 0.8), _u(g, n, -0.6, 0.3) + 0.005 * t
    glow = canvas.ellipse(sun_x, sun_y, torch.full_like(sun_x, 0.35), torch.full_like(sun_x, 0.35))
    canvas.paint(glow * 0.35, torch.tensor([[1.0, 0.95, 0.8]]).expand(n, 3))
    canvas.paint(canvas.ellipse(sun_x, sun_y, torch.full_like(sun_x, 0.09), torch.full_like(sun_x, 0.09)), torch.tensor([[1.0, 0.98, 0.9]]).expand(n, 3))
    # Clouds: clusters of soft blobs that drift with the wind and slowly change shape.
    wind = _u(g, n, 0.01, 0.05) * torch.where(torch.rand(n, 1, generator=g) < 0.5, -1.0, 1.0)
    cloud_tint = _u(g, n, 0.85, 1.0) * _mix(torch.ones(n, 3), torch.tensor([[1.0, 0.8, 0.75]]), dusk)
    n_clouds = torch.randint(3, 7, (n,), generator=g)
    for c in range(6):
        present = (c < n_clouds).float()[:, None]
        cx0, cy0 = _u(g, n, -1.6, 1.6), _u(g, n, -0.85, 0.25)
        scale = _u(g, n, 0.1, 0.22)
        speed = wind * _u(g, n, 0.7, 1.3) * (1.2 - 0.5 * (cy0 + 0.85))  # higher clouds move faster
        for b in range(5):
            ox, oy = _u(g, n, -2.2, 2.2) * scale, _u(g, n, -0.7, 0.3) * scale
            grow = 1 + 0.25 * torch.sin(_u(g, n, 0.05, 0.2) * t + _u(g, n, 0, 6.28))
            x = torch.remainder(cx0 + ox + speed * t + 2, 4) - 2
            r = scale * _u(g, n, 0.6, 1.1) * grow
            blob = canvas.ellipse(x, cy0 + oy, r * 1.3, r) * present[..., None, None]
            shade = _mix(cloud_tint, cloud_tint * 0.75, torch.clamp(oy / scale + 0.3, 0, 1))
            canvas.paint(blob * 0.9, shade)
    # Hills on the horizon give the drift something to move against.
    hill_h, hill_a, hill_k, hill_p = _u(g, n, 0.45, 0.75), _u(g, n, 0.03, 0.12), _u(g, n, 1.5, 5), _u(g, n, 0, 6.28)
    edge = (hill_h + hill_a * torch.sin(hill_k * canvas.x[0, 0, 0] + hill_p))[:, None, None, :]  # (N, 1, 1, W)
    hill_color = _hsv(_u(g, n, 0.22, 0.4), _u(g, n, 0.3, 0.7), _u(g, n, 0.1, 0.3))
    canvas.paint(canvas.below(edge).expand(n, frames, size, size), hill_color)
    canvas.image.mul_(light[:, :, None, None, None]).clamp_(0, 1)
    cloud_phase = wind * t
    motion = torch.stack([light, wind.expand(n, frames), cloud_phase], -1)
    identity = torch.cat([top, horizon, dusk, sun_x, n_clouds[:, None].float(), wind, hill_h, hill_color], 1)
    names = [*_rgb("sky_top"), *_rgb("horizon"), "dusk", "sun_x", "n_clouds", "wind", "hill_height", *_rgb("hill")]
    return canvas.image, identity, names, motion, ["light", "wind", "cloud_drift"], torch.zeros(n, dtype=torch.long)


def _pose(action, t, phase, speed):
    """Joint angles and offsets of the stick figure for each action (radians; 0 = limb down)."""
    n = action.shape[0]
    w = 2 * math.pi * speed * t + phase  # (N, T)
    z = torch.zeros_like(w)
    pose = {k: z.clone() for k in ("dx", "dy", "l_arm", "r_arm", "l_fore", "r_fore", "l_leg", "r_leg", "l_knee", "r_knee", "squash", "turn")}
    a = {name: (action == i)[:, None].float() for i, name in enumerate(ACTIONS)}
    walk = a["walk_left"] + a["walk_right"]
    direction = a["walk_right"] - a["walk_left"]
    pose["dx"] = direction * 0.045 * (t - t.shape[1] / 2)
    pose["l_leg"] += walk * 0.5 * torch.sin(w)
    pose["r_leg"] -= walk * 0.5 * torch.sin(w)
    pose["l_knee"] += walk * 0.4 * torch.clamp(torch.sin(w + 1.2), 0, 1)
    pose["r_knee"] += walk * 0.4 * torch.clamp(-torch.sin(w + 1.2), 0, 1)
    pose["l_arm"] -= walk * 0.45 * torch.sin(w)
    pose["r_arm"] += walk * 0.45 * torch.sin(w)
    hop = torch.abs(torch.sin(w / 2))
    pose["dy"] -= a["jump"] * 0.35 * hop
    pose["l_arm"] += a["jump"] * (0.3 + 2.2 * hop)
    pose["r_arm"] -= a["jump"] * (0.3 + 2.2 * hop)
    pose["l_knee"] += a["jump"] * 0.9 * (1 - hop)
    pose["r_knee"] += a["jump"] * 0.9 * (1 - hop)
    pose["r_arm"] -= a["wave"] * 2.6
    pose["r_fore"] -= a["wave"] * (0.2 + 0.6 * torch.sin(2 * w))
    pose["l_arm"] += a["wave"] * 0.1
    bend = 0.5 * (1 - torch.cos(w))
    pose["dy"] += a["squat"] * 0.22 * bend
    pose["l_leg"] -= a["squat"] * 0.9 * bend
    pose["r_leg"] += a["squat"] * 0.9 * bend
    pose["l_knee"] += a["squat"] * 1.8 * bend
    pose["r_knee"] -= a["squat"] * 1.8 * bend
    pose["l_arm"] += a["squat"] * 1.4 * bend
    pose["r_arm"] -= a["squat"] * 1.4 * bend
    clap = 0.5 * (1 + torch.sin(2 * w))
    pose["l_arm"] += a["clap"] * 1.5
    pose["r_arm"] -= a["clap"] * 1.5
    pose["l_fore"] += a["clap"] * (0.3 + 0.9 * clap)
    pose["r_fore"] -= a["clap"] * (0.3 + 0.9 * clap)
    pose["l_arm"] += a["spin"] * 1.57
    pose["r_arm"] -= a["spin"] * 1.57
    pose["turn"] += a["spin"] * w * 0.7
    return pose


def _draw_actions(g, n, frames, size):
    canvas = Canvas(n, frames, size)
    t = _time(frames)
    top = _hsv(_u(g, n, 0.5, 0.65), _u(g, n, 0.2, 0.6), _u(g, n, 0.6, 0.95))
    ground = _hsv(_u(g, n, 0.05, 0.4), _u(g, n, 0.2, 0.6), _u(g, n, 0.25, 0.6))
    _gradient(canvas, top, top * 0.85)
    horizon = _u(g, n, 0.15, 0.4)
    for b in range(4):  # a few muted buildings or trees behind
        bx, bw, bh = _u(g, n, -1, 1), _u(g, n, 0.1, 0.3), _u(g, n, 0.2, 0.7)
        block = canvas.soft(torch.abs(canvas.x - _e(bx)) - _e(bw)) * canvas.soft(_e(horizon - bh) - canvas.y)
        canvas.paint(block.expand(n, frames, size, size), _hsv(_u(g, n, 0, 1), _u(g, n, 0.1, 0.3), _u(g, n, 0.35, 0.75)))
    canvas.paint(canvas.soft(_e(horizon) - canvas.y).expand(n, frames, size, size), ground)
    action = torch.randint(len(ACTIONS), (n,), generator=g)
    pose = _pose(action, t, _u(g, n, 0, 2 * math.pi), _u(g, n, 0.08, 0.14))
    skin = SKIN_TONES[torch.randint(4, (n,), generator=g)]
    shirt = _hsv(_u(g, n, 0, 1), _u(g, n, 0.5, 0.9), _u(g, n, 0.5, 0.95))
    pants = _hsv(_u(g, n, 0, 1), _u(g, n, 0.3, 0.8), _u(g, n, 0.2, 0.6))
    s = _u(g, n, 0.85, 1.1)  # figure scale
    x0 = _u(g, n, -0.25, 0.25) + pose["dx"]
    foot_y = horizon + _u(g, n, 0.35, 0.5)
    hip_y = foot_y - 0.5 * s + pose["dy"]
    neck_y = hip_y - 0.42 * s
    turn = torch.cos(pose["turn"])  # spinning squeezes the figure sideways
    limb = 0.055 * s
    def chain(x, y, a1, a2, l1, l2, widen=1.0):
        kx, ky = x + turn * widen * l1 * torch.sin(a1), y + l1 * torch.cos(a1)
        ex, ey = kx + turn * widen * l2 * torch.sin(a1 + a2), ky + l2 * torch.cos(a1 + a2)
        return kx, ky, ex, ey
    for side, leg, knee in ((-1, "l_leg", "l_knee"), (1, "r_leg", "r_knee")):
        hx = x0 + side * 0.06 * s * turn
        kx, ky, fx, fy = chain(hx, hip_y, pose[leg] + side * 0.08, -side * pose[knee] * 0 + pose[knee] * side, 0.25 * s, 0.25 * s)
        canvas.paint(canvas.capsule(hx, hip_y, kx, ky, limb), pants)
        canvas.paint(canvas.capsule(kx, ky, fx, fy, limb * 0.9), pants * 0.85)
    canvas.paint(canvas.capsule(x0, hip_y, x0, neck_y, 0.11 * s * (0.6 + 0.4 * turn.abs())), shirt)
    for side, arm, fore in ((-1, "l_arm", "l_fore"), (1, "r_arm", "r_fore")):
        sx = x0 + side * 0.1 * s * turn
        ex, ey, hx, hy = chain(sx, neck_y + 0.03 * s, pose[arm] - side * 0.15, pose[fore], 0.2 * s, 0.19 * s)
        canvas.paint(canvas.capsule(sx, neck_y + 0.03 * s, ex, ey, limb * 0.85), shirt * 0.9)
        canvas.paint(canvas.capsule(ex, ey, hx, hy, limb * 0.75), skin)
    canvas.paint(canvas.ellipse(x0, neck_y - 0.13 * s, 0.1 * s, 0.12 * s), skin)
    motion = torch.stack([x0.expand(n, frames), hip_y.expand(n, frames), pose["turn"]], -1)
    identity = torch.cat([action[:, None].float(), skin, shirt, pants, top, ground, horizon, s], 1)
    names = ["action", *_rgb("skin"), *_rgb("shirt"), *_rgb("pants"), *_rgb("sky"), *_rgb("ground"), "horizon", "scale"]
    return canvas.image, identity, names, motion, ["x", "hip_y", "turn"], action


_DRAW = {"faces": _draw_faces, "animals": _draw_animals, "sky": _draw_sky, "actions": _draw_actions,
         "faces_big_eyes": _draw_faces_big_eyes, "faces_big_eyes_blinks": _draw_faces_big_eyes_blinks}
# domains whose motion is a few drawn factors
HOLDABLE = {"faces": FACE_MOTION, "animals": FACE_MOTION, "faces_big_eyes": FACE_MOTION,
            "faces_big_eyes_blinks": FACE_MOTION}
# each factor's resting value, for ``hold``: eyes open, mouth shut, head straight
RESTING = {"eye_open": 1.0, "mouth_open": 0.0, "yaw": 0.0, "pitch": 0.0}
LABELS = {"faces": (), "animals": SPECIES, "sky": (), "actions": ACTIONS, "faces_big_eyes": (),
          "faces_big_eyes_blinks": ()}


def make_clips(domain: str, n: int, frames: int = 16, size: int = 64, seed: int = 0,
               hold: dict[str, float] | None = None, supersample: int = 1) -> ToyClips:
    """Draw ``n`` clips of ``frames`` frames at ``size`` x ``size`` from a toy-world domain.

    The same (domain, n, frames, size, seed) always gives the same clips. Clips are drawn
    in chunks of 64, each chunk with its own generator seeded from ``seed`` and its start
    index, so whole chunks are shared between calls: the first 64 clips of n=128 are the
    clips of n=64. Inside a chunk the draws depend on the chunk's length.

    ``hold`` (faces and animals) pins motion factors to a value for the whole clip, e.g.
    ``{"eye_open": 1.0}``: the same clips with no blink, every other draw unchanged. It asks
    what a network makes of one motion alone (``mocohd.lab.discriminator_probe``).

    ``supersample`` k draws at ``k * size`` and average-pools k x k blocks down to ``size``:
    the clips a video discriminator smaller than the image generator should see, pooled
    exactly as the generator's frames are (``mocohd.train.video_gan.pool_to_size``).
    """
    check_toy_args(domain, size, frames, n)
    check_supersample(size, supersample)
    check_hold(domain, hold)
    extra = {"hold": hold} if hold else {}
    parts = []
    for start in range(0, n, CHUNK):
        g = torch.Generator().manual_seed(seed * 1_000_003 + start)
        parts.append(_DRAW[domain](g, min(CHUNK, n - start), frames, size * supersample, **extra))
    video = torch.cat([p[0] for p in parts]).clamp_(0, 1).mul_(2).sub_(1)
    if supersample > 1:
        video = F.avg_pool2d(video.flatten(0, 1), supersample).unflatten(0, (n, frames))
    return ToyClips(
        domain=domain,
        video=video,
        identity=torch.cat([p[1] for p in parts]),
        motion=torch.cat([p[3] for p in parts]),
        label=torch.cat([p[5] for p in parts]),
        identity_names=parts[0][2],
        motion_names=parts[0][4],
        label_names=LABELS[domain],
    )


def check_supersample(size: int, supersample: int) -> None:
    if not isinstance(supersample, int) or supersample < 1 or supersample & (supersample - 1):
        raise ValueError(f"supersample must be a power of two (1, 2, 4, ...), got {supersample!r}")
    if size * supersample > 256:
        raise ValueError(f"supersample={supersample} would draw {size}px clips at {size * supersample}px; "
                         "the toy world draws at most 256px: lower supersample or size")


def check_hold(domain: str, hold: dict | None) -> None:
    if not hold:
        return
    if domain not in HOLDABLE:
        raise ValueError(f"hold= works for the domains whose motion is a few drawn factors "
                         f"({', '.join(HOLDABLE)}), not {domain!r}; leave hold out for {domain}")
    unknown = [name for name in hold if name not in HOLDABLE[domain]]
    if unknown:
        raise ValueError(f"hold names unknown motion factors {unknown} for {domain}; "
                         f"choose from {', '.join(HOLDABLE[domain])}")


def make_images(domain: str, n: int, size: int = 64, seed: int = 0) -> ToyClips:
    """Single frames (T = 1): motion phases are random, so poses vary from image to image."""
    return make_clips(domain, n, frames=1, size=size, seed=seed)


def flatten_indices(values: torch.Tensor, n: int, bins: int = 10, seed: int = 0) -> torch.Tensor:
    """Pick ``n`` of ``values``'s indices so that the picked values spread evenly over
    ``bins`` equal-width bins of their range.

    Each bin gives up to ``n // bins`` indices, at random; what thin bins cannot give is
    taken at random from the rest, so the result leans to the common values only as far as
    the pool forces it. Returned sorted, so the picked frames keep the pool's order."""
    if values.dim() != 1 or n > len(values):
        raise ValueError(f"need a 1-D tensor of at least n={n} values, got shape {tuple(values.shape)}; "
                         "draw a larger pool")
    g = torch.Generator().manual_seed(seed)
    lo, hi = values.min(), values.max()
    which = ((values - lo) / (hi - lo).clamp_min(1e-12) * bins).long().clamp_(0, bins - 1)
    order = torch.randperm(len(values), generator=g)
    picked = torch.cat([order[which[order] == b][: n // bins] for b in range(bins)])
    left = torch.ones(len(values), dtype=torch.bool)
    left[picked] = False
    rest = order[left[order]]
    return torch.cat([picked, rest[: n - len(picked)]]).sort().values


def _cache_path(cache_dir, key: str) -> Path | None:
    return None if cache_dir is None else Path(cache_dir) / f"toy-{key}-{hashlib.sha1(key.encode()).hexdigest()[:8]}.pt"


def _load_cached(path: Path, domain: str) -> ToyClips:
    from ..checkpoint import UnsafeFileError, torch_load

    try:
        cached = torch_load(path)  # refuses a cache file that holds pickled objects
    except UnsafeFileError as error:
        raise UnsafeFileError(f"{error} It is a cache file: delete it, and the clips are drawn again") from None
    return _clips_from_cached(cached, domain)


def _clips_from_cached(d: dict, domain: str) -> ToyClips:
    """The clips as the cache holds them (uint8 frames back to [-1, 1]). The process that fills
    the cache returns these too, not its float frames, so every process and every later run
    sees the same numbers whether it drew the clips or loaded them."""
    d = dict(d)
    d["video"] = d.pop("video_uint8").float().div_(127.5).sub_(1)
    return ToyClips(**d, label_names=LABELS[domain])


def _save_cached(d: dict, path: Path) -> None:
    """Atomic, and safe when several processes (torchrun ranks) fill the same cache at once:
    each writes its own temporary file and the last rename wins with identical content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(d, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def balanced_images(domain: str, n: int, factor: str, size: int = 64, seed: int = 0, pool: int = 5,
                    cache_dir: str | Path | None = DEFAULT_CACHE) -> ToyClips:
    """``n`` single frames whose motion ``factor`` (e.g. ``eye_open``) spreads evenly over its
    range, chosen from ``pool * n`` frames drawn as ``make_images`` draws them.

    Why: a blink shuts the eyes for about 3 frames in 24, so only 2% of natural frames show
    shut eyes. An image GAN drops a mode that rare, and MoCoGAN-HD's motion generator can
    only walk to what the frozen image generator draws. Flattening the factor in the image
    generator's training set (the videos the motion discriminators see stay natural) is a
    way to put shut eyes inside its reach. Saved under ``data/cache/`` as ``cached_clips``."""
    check_toy_args(domain, size, 1, n)
    names = make_clips(domain, 1, frames=1, size=32).motion_names
    if factor not in names:
        raise ValueError(f"unknown motion factor {factor!r} for {domain}; choose one of {', '.join(names)}")
    if pool < 1:
        raise ValueError(f"pool must be an int >= 1 (frames drawn per frame kept), got {pool}")
    path = _cache_path(cache_dir, f"{domain}-n{n}-s{size}-seed{seed}-flat-{factor}-pool{pool}-v{VERSION}")
    if path is not None and path.exists():
        return _load_cached(path, domain)
    frames, identity, motion, label = [], [], [], []
    for start in range(0, pool * n, CHUNK):  # drawn in chunks, kept as uint8: the pool is large
        g = torch.Generator().manual_seed(seed * 1_000_003 + start)
        video, ident, id_names, mot, _, lab = _DRAW[domain](g, min(CHUNK, pool * n - start), 1, size)
        frames.append(((video.clamp(0, 1) * 255).round()).to(torch.uint8))
        identity.append(ident), motion.append(mot), label.append(lab)
    motion = torch.cat(motion)
    keep = flatten_indices(motion[:, 0, names.index(factor)], n, seed=seed)
    d = {"domain": domain, "video_uint8": torch.cat(frames)[keep], "identity": torch.cat(identity)[keep],
         "motion": motion[keep], "label": torch.cat(label)[keep], "identity_names": id_names, "motion_names": names}
    if path is not None:
        _save_cached(d, path)
    return _clips_from_cached(d, domain)


def cached_clips(domain: str, n: int, frames: int = 16, size: int = 64, seed: int = 0,
                 cache_dir: str | Path | None = DEFAULT_CACHE, hold: dict[str, float] | None = None,
                 supersample: int = 1) -> ToyClips:
    """``make_clips``, saved under ``data/cache/`` the first time (git-ignored) and loaded after."""
    check_toy_args(domain, size, frames, n)
    check_supersample(size, supersample)
    check_hold(domain, hold)
    if cache_dir is None:
        return make_clips(domain, n, frames, size, seed, hold=hold, supersample=supersample)
    held = "".join(f"-hold-{name}{value:g}" for name, value in sorted((hold or {}).items()))
    pooled = f"-x{supersample}" if supersample > 1 else ""
    path = _cache_path(cache_dir, f"{domain}-n{n}-t{frames}-s{size}{pooled}-seed{seed}{held}-v{VERSION}")
    if path.exists():
        return _load_cached(path, domain)
    clips = make_clips(domain, n, frames, size, seed, hold=hold, supersample=supersample)
    d = {"domain": domain, "video_uint8": ((clips.video + 1) * 127.5).round().to(torch.uint8),
         "identity": clips.identity, "motion": clips.motion, "label": clips.label,
         "identity_names": clips.identity_names, "motion_names": clips.motion_names}
    _save_cached(d, path)
    return _clips_from_cached(d, domain)


class ToyVideoDataset(torch.utils.data.Dataset):
    """A map-style dataset of toy clips: items are dicts with ``video`` (T, 3, H, W) in
    [-1, 1], ``identity``, ``motion`` and ``label``. The same interface as the folder
    datasets for real data."""

    def __init__(self, domain: str, n: int = 1000, frames: int = 16, size: int = 64, seed: int = 0,
                 cache_dir: str | Path | None = DEFAULT_CACHE, hold: dict[str, float] | None = None,
                 supersample: int = 1):
        self.clips = cached_clips(domain, n, frames, size, seed, cache_dir, hold=hold, supersample=supersample)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> dict:
        c = self.clips
        return {"video": c.video[i], "identity": c.identity[i], "motion": c.motion[i], "label": c.label[i]}


class ToyImageDataset(torch.utils.data.Dataset):
    """Single toy frames (3, H, W) in [-1, 1], for training the image generator."""

    def __init__(self, domain: str, n: int = 20000, size: int = 64, seed: int = 0,
                 cache_dir: str | Path | None = DEFAULT_CACHE):
        self.clips = cached_clips(domain, n, 1, size, seed, cache_dir)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.clips.video[i, 0]
