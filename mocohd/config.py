"""Dataclass configs with named presets.

``smoke``: seconds on a laptop CPU, for CI and for reading the code run;
``full``: the settings of the checkpoints this project ships (CPU, minutes);
``paper``: the published setting (GPU scale), kept for reference and for users with a GPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace


@dataclass
class ImageGANConfig:
    # data
    data: str = "toy:faces"  # "toy:<domain>" or a path to an image folder
    size: int = 64
    n_images: int = 20000  # toy images drawn for training (ignored for folders)
    # a toy motion factor (e.g. "eye_open") whose values the training frames spread evenly
    # over, chosen from balance_pool * n_images drawn frames; "" keeps the natural frames
    balance: str = ""
    balance_pool: int = 5
    # start G (and its EMA copy) from a trained image generator instead of from scratch;
    # D still starts fresh. "" trains from scratch
    init_generator: str = ""
    # generator (rosinality's names); channel_scale multiplies every width
    style_dim: int = 128
    n_mlp: int = 4
    channel_multiplier: int = 1
    channel_scale: float = 0.25
    lr_mlp: float = 0.01
    # training (rosinality's defaults unless noted)
    batch: int = 16
    steps: int = 2000
    lr: float = 0.002
    r1: float = 0.5  # R1 weight gamma; rosinality's default is 10, small nets at 64 px need less
    d_reg_every: int = 16
    path_regularize: float = 0.0  # 2.0 in rosinality; off by default on CPU (costs a second backward)
    path_batch_shrink: int = 2
    g_reg_every: int = 4
    mixing: float = 0.9
    ema_kimg: float = 10.0  # half-life of the EMA generator, in thousands of images
    augment: bool = False  # DiffAugment (translation, cutout, colour) on real and fake
    # speed options (measured in `make bench`). bf16 autocast halves sampling time here, but
    # made the training step slower in most bench runs on this CPU (AVX512-BF16 without AMX:
    # oneDNN's bf16 weight-gradient convs are slow at small resolutions), while with AMX it
    # wins. So "auto" (the default) times one G + D forward and backward in both precisions on
    # the machine at hand and keeps the faster (mocohd.hardware.choose_bf16); "on" / "off"
    # force it. True / False, as older configs and checkpoints hold, mean "on" / "off"; a
    # checkpoint records the bool that ran. The shipped checkpoints say which they used.
    bf16: bool | str = field(default="auto", metadata={"cli": "bf16"})
    channels_last: bool = True
    device: str = "auto"  # auto (a GPU when PyTorch sees one, else the CPU), cpu, cuda or cuda:N
    # bookkeeping
    seed: int = 0
    log_every: int = 25
    sample_every: int = 250
    ckpt_every: int = 250

    def ema_beta(self) -> float:
        return 0.5 ** (self.batch / (self.ema_kimg * 1000))

    def generator_kwargs(self) -> dict:
        return dict(size=self.size, style_dim=self.style_dim, n_mlp=self.n_mlp,
                    channel_multiplier=self.channel_multiplier, lr_mlp=self.lr_mlp, channel_scale=self.channel_scale)

    def discriminator_kwargs(self) -> dict:
        return dict(size=self.size, channel_multiplier=self.channel_multiplier, channel_scale=self.channel_scale)


IMAGE_PRESETS = {
    # enough to exercise every line; samples are blobs
    "smoke": dict(size=32, n_images=512, style_dim=64, n_mlp=2, channel_scale=0.125, batch=8, steps=30,
                  log_every=5, sample_every=15, ckpt_every=15),
    # the shipped checkpoints
    "full": dict(),
    # StyleGAN2 config-f as MoCoGAN-HD's UCF-101/FaceForensics generators: 256 px, 512-d, 8 layers
    "paper": dict(size=256, style_dim=512, n_mlp=8, channel_multiplier=2, channel_scale=1.0, batch=16,
                  steps=800_000 // 16, r1=10.0, path_regularize=2.0, augment=True, bf16=False, channels_last=False),
}


def preset(name: str, table: dict, cls, **overrides):
    if name not in table:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(table)}")
    cfg = cls(**table[name])
    return replace(cfg, **overrides)


def image_preset(name: str, **overrides) -> ImageGANConfig:
    return preset(name, IMAGE_PRESETS, ImageGANConfig, **overrides)


def to_dict(cfg) -> dict:
    return asdict(cfg)


def from_dict(cls, d: dict):
    """Build a config from a (possibly older) dict, ignoring unknown keys."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class VideoGANConfig:
    """MoCoGAN-HD's video training (official names in comments)."""

    data: str = "toy:faces"  # "toy:<domain>", "carphone" (the real clip) or a dataset folder (UCF-101, frame folders, mp4s)
    n_clips: int = 1000  # toy clips drawn for training
    image_generator: str = "data/checkpoints/faces_64.pt"  # --img_g_weights: mocohd or rosinality file
    pca: str = ""  # --save_pca_path; default: <image_generator without .pt>.pca.pt
    motion: str = "full"  # motion preset: sizes of the LSTM (mocohd.motion.MOTION_PRESETS)
    discriminators: str = "full"  # discriminator preset (mocohd.discriminators.DiscriminatorConfig)
    ndf: int = 0  # width of the PatchGANs' first conv; 0: the preset's (official 64, full preset 32)
    # the PatchGANs' coarser scales: "official" (vid2vid's rule, min(64, ndf * 2**(num_D-1-i)))
    # or "flat" (ndf at every scale, as runs trained before 2026-12-07: see legacy_video_config)
    d_widths: str = "official"
    # --video_frame_size: the frame size both discriminators see; 0: the preset's (official 128
    # beside a 256 px generator, full preset 64 beside a 64 px one)
    video_frame_size: int = 0
    frames: int = 16  # --n_frames_G
    time_step: int = 2  # --time_step: stride between sampled real frames (folder data)
    batch: int = 4  # --batchSize: the global batch, split over DDP ranks
    steps: int = 200  # iterations, each G_step motion updates + one D update
    g_steps: int = 5  # --G_step; 0 trains only the discriminators, against a frozen motion generator (a diagnostic)
    lr: float = 1e-4  # --lr for every network
    cross_domain: bool = False  # --cross_domain
    w_match: float = 1.0  # --w_match: feature matching weight (cross-domain)
    w_contrastive: float = 2.0  # weight of the contrastive term in the BigGAN D loss
    w_gp: float = 10.0  # gradient penalty of the 3D D
    mi: bool = True  # ablation --no-mi: drop the mutual-information loss
    contrastive: bool = True  # ablation --no-contrastive: cross-domain D without the contrastive term
    temporal_flip: bool = True  # ablation --no-temporal-flip: never reverse the 3D D's inputs
    # bf16 autocast for rendering frames through G_I (the discriminators stay fp32): "auto" (the
    # default) times the rendering in both precisions on the machine at hand and keeps the
    # faster, fp32 without timing on a CPU without bf16 instructions (mocohd.hardware.choose_bf16);
    # "on" / "off" force it. True / False, as older configs and checkpoints hold (runs before
    # "auto" defaulted to True), mean "on" / "off"; a checkpoint records the bool that ran.
    bf16: bool | str = field(default="auto", metadata={"cli": "bf16"})
    channels_last: bool = True
    chunk: int = 32  # frames per image-generator call
    device: str = "auto"  # auto (a GPU when PyTorch sees one, else the CPU), cpu, cuda or cuda:N
    seed: int = 0
    log_every: int = 5
    sample_every: int = 50
    ckpt_every: int = 25


VIDEO_PRESETS = {
    "smoke": dict(n_clips=64, motion="full", discriminators="smoke", frames=8, batch=2, steps=4, g_steps=2,
                  log_every=1, sample_every=2, ckpt_every=2),
    "full": dict(),
    # the official FaceForensics/UCF-101 run: 256 px generator, Ds at 128, batch 16, 16 frames
    "paper": dict(motion="paper", discriminators="paper", batch=16, steps=100_000, bf16=False, channels_last=False,
                  image_generator="pretrained_models/faceforensics-fid10.9920-snapshot-008765.pt"),
}


# Settings added after runs were shipped, with the value those older runs were trained with
# (a checkpoint's config without the key was written before the setting existed).
VIDEO_LEGACY = {"d_widths": "flat"}


def legacy_video_config(saved: dict) -> dict:
    """A checkpoint's video config with settings it predates filled in as they were then."""
    return {**VIDEO_LEGACY, **saved} if saved else saved


def video_preset(name: str, **overrides) -> VideoGANConfig:
    return preset(name, VIDEO_PRESETS, VideoGANConfig, **overrides)
