"""Not in the paper: the video trainer with the lab's extra games and terms.

:class:`LabVideoGANTrainer` is :class:`mocohd.train.video_gan.VideoGANTrainer` (the paper's
loop) with its extension hooks filled in. Every option below is off by default, and with
all of them off the lab trainer trains exactly as the paper's loop does. Notebook A1 (why
toy faces do not blink) uses them:

* ``--held-fakes eye_open`` (toy data): the 3D D also plays the real batch against the same
  clips with that motion held at rest, weighted by ``--w-held``; ``--held-image true``: the
  in-domain image D plays it too, on the same (frame 0, frame k) pairs;
* ``--frozen-fakes true``: the 3D D also plays the real batch against itself frozen at frame 0;
* ``--steered-real true`` (toy:faces_big_eyes_blinks): real clips are blinks drawn by G_I
  itself (:mod:`mocohd.lab.steered`), ``--steered-within-reach`` slows them to one residual
  step per frame, ``--cut-fakes`` plays them against the same clips without the way back;
* ``--w-nearest W``: every motion-generator update also pulls the LSTM towards the steered
  blinks' latent paths (:func:`mocohd.lab.path_game.nearest_path_loss`).

Command line: ``python -m mocohd.lab.trainer`` takes every flag of ``python -m mocohd.train
video`` and these.
"""

from __future__ import annotations

import sys
import warnings

import torch

from mocohd.discriminators import image_pair_input
from mocohd.lab.config import LabVideoGANConfig
from mocohd.losses import ralsgan_d_loss
from mocohd.train.video_gan import SHAPE_SETTINGS, VideoGANTrainer, toy_video_dataset, video_main

PROG = "python -m mocohd.lab.trainer"


def held_factors(cfg: LabVideoGANConfig) -> dict[str, float]:
    """``--held-fakes`` as {factor: resting value}, {} when it is off; refuses settings it cannot serve."""
    from mocohd.data.toyworld import HOLDABLE, RESTING

    names = [n.strip() for n in cfg.held_fakes.split(",") if n.strip()]
    if cfg.held_image and not names and not cfg.cut_fakes:
        raise ValueError("--held-image true lets the image D play the held-fakes game: give --held-fakes "
                         "(or, with --steered-real, --cut-fakes true) too")
    if cfg.held_image and cfg.cross_domain:
        raise ValueError("--held-image needs the in-domain image D: the cross-domain one never sees real "
                         "clips, so it has nothing to hold a motion in; leave --held-image out")
    if not names:
        return {}
    domain = cfg.data[4:] if cfg.data.startswith("toy:") else None
    if domain not in HOLDABLE:
        raise ValueError(f"--held-fakes {cfg.held_fakes} holds toy-world motion factors at rest, so it needs "
                         f"--data toy:<domain> with one of {', '.join(HOLDABLE)} (not {cfg.data}); "
                         "leave --held-fakes out for other data")
    unknown = [n for n in names if n not in HOLDABLE[domain]]
    if unknown:
        raise ValueError(f"--held-fakes names {', '.join(unknown)}, not a motion factor of {domain}; "
                         f"choose from {', '.join(HOLDABLE[domain])}")
    return {n: RESTING[n] for n in names}


# --------------------------------------------------------------------------------------
# Which construction of the steered clips a run trained on


def steered_version(cfg) -> int | None:
    """The construction version of the steered real clips a ``--steered-real`` run trains on
    (``mocohd.lab.steered.VERSION``); None for other runs."""
    if not getattr(cfg, "steered_real", False):
        return None
    from mocohd.lab.steered import VERSION as STEERED_VERSION

    return STEERED_VERSION


def recorded_steered_versions(ckpt: dict) -> list[int | None]:
    """The steered construction versions a checkpoint records, oldest first; a checkpoint saved
    before the list existed records its one version (None if saved before even that)."""
    return list(ckpt.get("steered_versions") or [ckpt.get("steered_version")])


def steered_version_change(ckpt: dict, cfg, path) -> str | None:
    """A warning when a ``--steered-real`` run resumes on steered clips of another construction
    than it last trained on, or than it cannot say (checkpoints saved before the version was
    recorded, on 2026-12-04, may hold either version)."""
    now = steered_version(cfg)
    reach_then, reach_now = ckpt.get("config", {}).get("steered_within_reach", False), cfg.steered_within_reach
    if now is not None and reach_then != reach_now:
        return (f"{path} trained on steered real clips with --steered-within-reach {str(reach_then).lower()}; it now "
                f"trains with {str(reach_now).lower()}, other real clips: the run is no longer one experiment. "
                "Start a new run (a new --out), or resume with the setting it trained with")
    if now is None or ckpt.get("steered_version") == now:
        return None
    saved = ckpt.get("steered_version")
    then = (f"version {saved}" if saved is not None else
            "a version it does not record (it was saved before checkpoints recorded one)")
    return (f"{path} trained on steered real clips of {then}; it now trains on version {now} "
            f"(mocohd.lab.steered.VERSION), which may be other real clips: the run may no longer be one "
            f"experiment, and its checkpoints will list both versions. "
            f"Start a new run (a new --out) to train on version {now} alone")


def steered_history(ckpt: dict, cfg) -> list[int | None]:
    """The steered construction versions a resumed run has trained on, oldest first (None: not
    recorded), with this config's appended when it differs from the last; [] for other runs."""
    now = steered_version(cfg)
    if now is None:
        return []
    history = recorded_steered_versions(ckpt)
    return history if history[-1] == now else history + [now]


# --------------------------------------------------------------------------------------
# The trainer


class LabVideoGANTrainer(VideoGANTrainer):
    """The paper's loop with the lab's games and terms, through the base class's hooks."""

    shape_settings = SHAPE_SETTINGS + ("steered_real",)  # other real clips: a resume must keep it
    name = "mocohd.lab.trainer"
    resumes = (VideoGANTrainer.name, name)  # a paper run may go on with the lab's extras

    def __init__(self, cfg: LabVideoGANConfig, out_dir):
        if not isinstance(cfg, LabVideoGANConfig):
            raise TypeError(f"the lab trainer takes a LabVideoGANConfig (mocohd.lab.trainer.lab_preset), not "
                            f"{type(cfg).__name__}; for the paper's loop alone use mocohd.train.video_gan.VideoGANTrainer")
        # the steered clips' construction versions this run trained on; a resume onto another appends it
        self.steered_versions = [] if steered_version(cfg) is None else [steered_version(cfg)]
        super().__init__(cfg, out_dir)

    # --- data ----------------------------------------------------------------------------
    def real_dataset(self):
        """The real clips, and beside them the clips of the extra games (all on the CPU)."""
        cfg = self.cfg
        hold = held_factors(cfg)
        if cfg.steered_within_reach and not cfg.steered_real:
            raise ValueError("--steered-within-reach slows the steered blinks to a motion generator's reach: give "
                             "--steered-real true (and --data toy:faces_big_eyes_blinks), or leave it out")
        if cfg.w_nearest and not cfg.steered_real:
            raise ValueError(f"--w-nearest {cfg.w_nearest} pulls the motion generator towards the steered blinks' "
                             "latent paths: give --steered-real true (and --data toy:faces_big_eyes_blinks), or "
                             "leave --w-nearest at 0 (the paper)")
        if cfg.w_nearest < 0 or cfg.nearest_k < 1 or cfg.nearest_batch < 1:
            raise ValueError(f"--w-nearest {cfg.w_nearest}, --nearest-k {cfg.nearest_k}, --nearest-batch "
                             f"{cfg.nearest_batch}: the weight must be >= 0 (0 is the paper), k and the batch >= 1")
        dataset = self._steered_dataset() if cfg.steered_real else super().real_dataset()
        self.held_dataset = toy_video_dataset(cfg, self.d_cfg.size, self.pool_factor, hold) if hold else None
        if cfg.cut_fakes:
            if not cfg.steered_real:
                raise ValueError("--cut-fakes cuts the way back out of the steered blinks, whose eye paths are "
                                 "known: give --steered-real true (and --data toy:faces_big_eyes_blinks), or leave "
                                 "it out")
            self.held_dataset = dataset.without_return()
        # made on the CPU (beside the steered clips), moved once to where the updates run
        self.nearest_paths = self._nearest_paths().to(self.device) if cfg.w_nearest else None
        return dataset

    def _steered_dataset(self):
        """``--steered-real``: the toy world's blinks drawn by this run's own G_I and rendered as its
        fakes are (same autocast, chunks and pooling), cached in data/cache. They are drawn on the
        CPU, so that one cache serves every machine; on a GPU run their bf16 rounding is the CPU's."""
        from mocohd.lab.steered import SteeredVideoDataset, check_steerable

        cfg = self.cfg
        if not cfg.data.startswith("toy:"):
            raise ValueError(f"--steered-real draws the toy world's blinks through G_I, so it needs --data "
                             f"toy:faces_big_eyes_blinks (not {cfg.data}); leave --steered-real out for other data")
        check_steerable(cfg.data[4:])
        if cfg.held_fakes:
            raise ValueError("--steered-real and --held-fakes each replace what the 3D D sees as real; use one")
        return SteeredVideoDataset(self.video_g, self.image_generator_sha256, cfg.n_clips, cfg.frames,
                                   self.d_cfg.size, cfg.seed + 777, cfg.bf16, self.autocast("cpu"), cfg.chunk,
                                   within_reach=cfg.steered_within_reach)

    def _nearest_paths(self) -> torch.Tensor:
        """``--w-nearest``: the latent paths (n_clips, T, D) that G_I renders into the steered real
        clips (the same faces and blinks, slowed as they are with ``--steered-within-reach``)."""
        from mocohd.lab.path_game import real_paths
        from mocohd.lab.steered import follow_within_reach

        cfg = self.cfg
        paths = real_paths(self.video_g, self.image_generator_sha256, cfg.n_clips, cfg.frames, cfg.seed + 777)
        return follow_within_reach(paths, self.motion) if cfg.steered_within_reach else paths

    def held_batch(self) -> torch.Tensor:
        """The last real batch's clips with the ``--held-fakes`` factors at rest, or (``--cut-fakes``)
        without their way back."""
        return torch.stack([self.held_dataset[i]["video"] for i in self.last_indices]).to(self.device)

    # --- the hooks --------------------------------------------------------------------------
    def extra_log_fields(self) -> list[str]:
        cfg = self.cfg
        return ((["nearest"] if cfg.w_nearest else []) + (["d_held"] if self.held_dataset is not None else [])
                + (["d_2d_held"] if cfg.held_image else []) + (["d_frozen"] if cfg.frozen_fakes else []))

    def nearest_term(self) -> torch.Tensor:
        """The nearest-path distance for ``nearest_batch`` real paths drawn at random (every rank
        draws the same ones and computes the same term, so the averaged gradient is it)."""
        from mocohd.lab.path_game import nearest_path_loss

        cfg = self.cfg
        drawn = self.nearest_paths[torch.randint(len(self.nearest_paths), (cfg.nearest_batch,))]
        return nearest_path_loss(self.motion, drawn, cfg.nearest_k)[0]

    def extra_motion_loss(self, fake: dict, logs: dict):
        if not self.cfg.w_nearest:
            return None
        nearest = self.nearest_term()
        logs["nearest"] = nearest.item()
        return self.cfg.w_nearest * nearest

    def extra_video_d_loss(self, real: torch.Tensor, d_real, logs: dict):
        """A second game for the 3D D: real clips against the same clips with one motion held at
        rest (or, --cut-fakes, a blink without its way back), and/or frozen at frame 0. Nothing in
        the paper's losses rewards a clip for containing a motion the generator has not found yet;
        these teach the D that a clip without it is fake (notebook A1)."""
        from mocohd.lab.round_trips import frozen

        cfg = self.cfg
        self.held_video = None
        if self.held_dataset is None and not cfg.frozen_fakes:
            return None
        held = 0.0
        if self.held_dataset is not None:
            self.held_video = self.held_batch()
            held = ralsgan_d_loss(d_real, self.d3(self.flip(self.video_input(self.held_video))))
            logs["d_held"] = held.item()
        still = 0.0
        if cfg.frozen_fakes:
            # (the flip changes no picture of a frozen clip, but it draws its coin: the runs in
            # notebook A1 trained with that draw, and keep their exact resume through it)
            still = ralsgan_d_loss(d_real, self.d3(self.flip(self.video_input(frozen(real)))))
            logs["d_frozen"] = still.item()
        return cfg.w_held * (held + still)

    def extra_image_d_loss(self, d2_real, k: int, logs: dict):
        """--held-image: the same game for the image D, real (frame 0, frame k) against held."""
        if not self.cfg.held_image:
            return None
        d2_held = ralsgan_d_loss(d2_real, self.d2(image_pair_input(self.held_video, k)))
        logs["d_2d_held"] = d2_held.item()
        return self.cfg.w_held * d2_held

    # --- checkpoints ------------------------------------------------------------------------
    def state(self) -> dict:
        return {**super().state(), "steered_version": steered_version(self.cfg),
                "steered_versions": self.steered_versions}

    def load(self, path) -> dict:
        ckpt = super().load(path)
        change = steered_version_change(ckpt, self.cfg, path)
        if change and self.rank == 0:
            warnings.warn(change, stacklevel=2)
        self.steered_versions = steered_history(ckpt, self.cfg)
        return ckpt


def main(argv=None) -> None:
    video_main(sys.argv[1:] if argv is None else argv, LabVideoGANTrainer, LabVideoGANConfig, PROG)


if __name__ == "__main__":
    main()
