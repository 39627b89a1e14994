"""The video generator: z -> w_0 -> a path w_0..w_{T-1} in W -> frames, through a frozen G_I.

    z (B, D) --mapping--> w_0 (B, D) --motion G_M--> w (B, T, D) --synthesis, frame by frame--> (B, T, 3, H, W)

Only the motion generator learns. The image generator is put in eval mode with its
gradients off, once and for good: gradients flow *through* its synthesis network into the
latents (and so into G_M), never into its weights. No truncation: w_0 is the mapping
network's output as it is.

StyleGAN2 also adds per-pixel noise at every layer. MoCoGAN-HD draws one noise map per video
and keeps it for all of its frames (fresh noise per frame would make hair and skin texture
boil); ``noise="none"`` renders without noise, as the official evaluate.py also does.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .motion import MotionGenerator, interpolate_midpoints

NOISE_MODES = ("video", "none")


def _check_finite(x: torch.Tensor, name: str) -> None:
    """A NaN or inf in z would render as a silently NaN video. (Not checked on the paths w that
    ``render`` takes: in training a NaN there comes from a diverged motion generator, and the
    trainers' NaN stop catches it in the losses, with the state saved.)"""
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf: every frame rendered from it would be NaN; draw it again "
                         "(torch.randn) or find where it went non-finite (torch.isfinite)")


class VideoGenerator(nn.Module):
    def __init__(self, image_generator: nn.Module, motion: MotionGenerator):
        super().__init__()
        if motion.w_dim != image_generator.style_dim:
            raise ValueError(f"the motion generator's w_dim ({motion.w_dim}) must equal the image generator's "
                             f"style_dim ({image_generator.style_dim}); build it with "
                             f"motion_preset(..., w_dim={image_generator.style_dim})")
        self.image_generator = image_generator.eval().requires_grad_(False)
        self.motion = motion

    def train(self, mode: bool = True):
        """Only the motion generator switches; G_I stays in eval mode."""
        super().train(mode)
        self.image_generator.eval()
        return self

    # --- noise maps ----------------------------------------------------------------------
    def video_noise(self, batch: int, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """One StyleGAN noise map per video and layer: a list of (B, 1, res, res)."""
        return self.image_generator.make_noise(batch, generator)

    def _noise_per_video(self, noise, batch: int, generator) -> list[torch.Tensor] | None:
        """``noise`` as given to forward/render -> per-video maps (None = no noise)."""
        if isinstance(noise, str):
            if noise not in NOISE_MODES:
                raise ValueError(f"noise must be 'video', 'none' or a list of noise maps, got {noise!r}")
            return self.video_noise(batch, generator) if noise == "video" else None
        n_layers = self.image_generator.num_layers
        if len(noise) != n_layers:
            raise ValueError(f"an explicit noise list needs one map per noise layer ({n_layers}), got {len(noise)}; "
                             "make it with video_generator.video_noise(batch)")
        for i, n in enumerate(noise):
            if n.dim() != 4 or n.shape[0] != batch or n.shape[1] != 1:
                raise ValueError(f"noise[{i}] must be (B={batch}, 1, res, res), got {tuple(n.shape)}")
        return list(noise)

    # --- rendering -------------------------------------------------------------------------
    def render(self, w: torch.Tensor, noise="video", chunk: int = 32,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Latents (B, T, D) -> video (B, T, 3, H, W), ``chunk`` frames per G_I call.

        Frames are rendered batch-major (video 0's frames, then video 1's, ...) in chunks to
        bound memory; each frame gets the noise map of its own video."""
        if w.dim() != 3 or w.shape[2] != self.image_generator.style_dim:
            raise ValueError(f"w must be (B, T, D={self.image_generator.style_dim}), got {tuple(w.shape)}")
        if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
            raise ValueError(f"chunk must be a positive int (frames per image-generator call), got {chunk!r}")
        b, t, d = w.shape
        maps = self._noise_per_video(noise, b, generator)
        flat = w.reshape(b * t, d)  # (B*T, D), row = video * T + frame
        frames = []
        for start in range(0, b * t, chunk):
            rows = torch.arange(start, min(start + chunk, b * t), device=w.device)
            if maps is None:
                frames.append(self.image_generator.synthesize(flat[rows], use_noise=False))
            else:
                noise_rows = [m[rows // t] for m in maps]  # each frame: its video's map
                frames.append(self.image_generator.synthesize(flat[rows], noise=noise_rows))
        video = torch.cat(frames)  # (B*T, 3, H, W)
        return video.reshape(b, t, *video.shape[1:])  # (B, T, 3, H, W)

    def forward(self, z: torch.Tensor, n_frames: int = 16, noise="video", interpolation: bool = False,
                chunk: int = 32, generator: torch.Generator | None = None) -> dict:
        """z (B, D) -> {"video": (B, T', 3, H, W), "w": (B, T', D), "e": (B, T-1, D), "e_rec": (B, T-1, D)}.

        T' = n_frames, or 2 n_frames - 1 with ``interpolation`` (W midpoints between frames;
        e and e_rec stay per LSTM step). ``generator`` draws e_t and then the noise maps, so a
        seeded generator gives the same video twice."""
        _check_finite(z, "z")
        # (B, D), no truncation; fp32 even under bf16 autocast, since the path accumulates
        # small steps that bf16's 8-bit mantissa would round away
        w0 = self.image_generator.get_latent(z).float()
        w, e, e_rec = self.motion(w0, n_frames, generator=generator)  # (B, T, D)
        if interpolation:
            w = interpolate_midpoints(w)  # (B, 2T-1, D)
        video = self.render(w, noise=noise, chunk=chunk, generator=generator)
        return {"video": video, "w": w, "e": e, "e_rec": e_rec}
