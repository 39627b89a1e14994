"""The lab trainer's settings: the paper's (:class:`mocohd.config.VideoGANConfig`) and, beside
them, every option of ``mocohd.lab.trainer``, each off by default."""

from __future__ import annotations

from dataclasses import dataclass

from mocohd.config import VIDEO_PRESETS, VideoGANConfig, preset


@dataclass
class LabVideoGANConfig(VideoGANConfig):
    """The paper's settings, and the lab's (each off by default)."""

    # toy motion factors (comma-separated, e.g. "eye_open") held at rest in extra "fake" clips
    # for the 3D D: the real batch's own clips minus that motion
    held_fakes: str = ""
    w_held: float = 1.0  # weight of the real-versus-held game (and of the frozen and cut games)
    held_image: bool = False  # with held_fakes: the in-domain image D plays the game too, on frame pairs
    # a control: real clips are the blink-alone world's blinks drawn by G_I itself
    # (mocohd.lab.steered), so real and fake frames share their pictures
    steered_real: bool = False
    # with steered_real: the 3D D's held game plays the real batch against the same clips with
    # each blink's way back cut out (eyes that shut and stay shut), weighted by w_held
    cut_fakes: bool = False
    # the 3D D also plays the real batch against the same clips frozen at their first frame
    # (all motion gone), weighted by w_held, so that stillness always reads as fake
    frozen_fakes: bool = False
    # with steered_real: the steered blinks as fast as a motion generator can follow them, at
    # most one residual step per frame (mocohd.lab.steered.follow_within_reach); with cut_fakes,
    # each blink is cut at its toy clip's deepest frame, where the slowed one is still closing
    steered_within_reach: bool = False
    # with steered_real: every motion-generator update also pulls the LSTM towards the steered
    # blinks' latent paths, w_nearest times the implicit-maximum-likelihood distance of
    # mocohd.lab.path_game.nearest_path_loss: for each of nearest_batch real paths, the nearest of
    # nearest_k paths the LSTM draws from the same face (notebook A1: the game alone drops blinks)
    w_nearest: float = 0.0
    nearest_k: int = 16
    nearest_batch: int = 16


def lab_preset(name: str, **overrides) -> LabVideoGANConfig:
    """A video preset (smoke, full, paper) with the lab's options, all off unless overridden."""
    return preset(name, VIDEO_PRESETS, LabVideoGANConfig, **overrides)
