"""FVD_toy and IS_toy: a small 3D CNN that classifies toy-world clips by their motion.

FVD compares videos on the features of I3D, a video classifier trained on Kinetics-400
actions; the UCF-101 Inception Score reads the class probabilities of C3D trained on
UCF-101. Neither network has seen the toy world, and their weights are not something this
project can ship. ``ToyVideoNet`` plays their part offline: a 3D CNN trained on toy clips
to tell apart

* the seven ``actions`` (walk left, walk right, jump, ...): the UCF-101 analogue;
* four motion classes of ``faces`` clips: talking or silent, and whether the head mostly
  turns (yaw) or nods (pitch);
* four motion classes of ``sky`` clips: the wind blows left or right, and the light
  brightens or darkens over the clip.

Several classes differ only in the direction of time (walk left and walk right, light
that brightens or darkens), so its features must read the order of frames, not just what
one frame shows. That is what makes a Fréchet distance on them a *video* distance.

Its penultimate layer (``feature_dim`` numbers after a ReLU) gives **FVD_toy**; its
action probabilities give **IS_toy**. They are named for what they are: not FVD, not IS,
and not comparable with published numbers; compare them only with each other, measured
with the same shipped weights (``data/checkpoints/toy_video_net.json`` holds the
real-vs-real floor and the baselines that set the scale).

Train (about 20 minutes on one CPU core): ``python -m mocohd.metrics.toy_video_net_train train``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from mocohd.checkpoint import load_checkpoint, save_checkpoint, sha256
from mocohd.data.toyworld import ACTIONS, ToyClips
from mocohd.data.toyworld import VERSION as TOY_WORLD_VERSION
from mocohd.metrics.inception_score import inception_score
from mocohd.metrics.protocol import RANDOM_INIT, Protocol, Score, batches, check_finite, frechet_score

FORMAT = "mocohd.toy_video_net"
VERSION = 1
FRAMES = 16
INPUT_SIZE = 64
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "data" / "checkpoints" / "toy_video_net.pt"
TRAIN_COMMAND = "python -m mocohd.metrics.toy_video_net_train train --out data/checkpoints/toy_video_net.pt"
FIX = f"run `make checkpoints` (or `{TRAIN_COMMAND}`)"

# The classes, per domain, in the order of the logits (domain by domain).
CLASSES = {
    "actions": tuple(ACTIONS),
    "faces": ("silent_turn", "silent_nod", "talk_turn", "talk_nod"),
    "sky": ("left_darken", "left_brighten", "right_darken", "right_brighten"),
}
TALKING = 0.05  # a clip talks when its mouth opens wider than this at some frame


# ----------------------------------------------------------------------------------------
# Labels: read off the toy world's true factors


def motion_classes(clips: ToyClips) -> torch.Tensor:
    """The class index (within ``CLASSES[clips.domain]``) of each clip, from its true factors."""
    motion = dict(zip(clips.motion_names, clips.motion.unbind(-1)))  # name -> (N, T)
    if clips.domain == "actions":
        return clips.label.clone()
    if clips.domain == "faces":
        talking = motion["mouth_open"].amax(1) > TALKING
        nods = _range(motion["pitch"]) > _range(motion["yaw"])  # the head moves more up-down than sideways
        return talking.long() * 2 + nods.long()
    if clips.domain == "sky":
        right = motion["wind"][:, 0] > 0
        brightens = motion["light"][:, -1] > motion["light"][:, 0]
        return right.long() * 2 + brightens.long()
    raise ValueError(f"ToyVideoNet has classes for {tuple(CLASSES)}, not {clips.domain!r}")


def class_offset(domain: str) -> int:
    """Where ``domain``'s classes start among the logits."""
    if domain not in CLASSES:
        raise ValueError(f"ToyVideoNet has classes for {tuple(CLASSES)}, not {domain!r}")
    names = list(CLASSES)
    return sum(len(CLASSES[d]) for d in names[:names.index(domain)])


def _range(x: torch.Tensor) -> torch.Tensor:
    return x.amax(1) - x.amin(1)


# ----------------------------------------------------------------------------------------
# The network


def make_config(widths=(24, 48, 96, 128), feature_dim: int = 128, difference_scale: float = 4.0) -> dict:
    """A plain-data config (stored in the checkpoint)."""
    return {"frames": FRAMES, "input_size": INPUT_SIZE, "widths": list(widths), "feature_dim": feature_dim,
            "difference_scale": difference_scale,
            "classes": {d: list(names) for d, names in CLASSES.items()}, "toy_world_version": TOY_WORLD_VERSION}


def _conv3d_bn_relu(c_in: int, c_out: int, stride: tuple[int, int, int]) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm3d(c_out), nn.ReLU(inplace=True))


class ToyVideoNet(nn.Module):
    """A 3D CNN from a 16-frame 64x64 clip to motion features and class logits.

    Its input is each frame *and* its difference from the previous frame (6 channels): I3D
    reads optical flow in a second stream for the same reason. A talking toy mouth changes a
    few dozen pixels while the faces around it differ everywhere; with frames alone the
    network never learnt the face classes (held-out accuracy at the majority class after
    1,500 steps), with differences it did. The first 3x3x3 conv halves space only (so the first layer sees three whole frames at
    full temporal resolution); each later one halves time and space. Global average pooling
    and a linear layer with ReLU give the ``feature_dim`` features; a linear head gives one
    logit per class of every domain (``CLASSES``).

    It is a :class:`~mocohd.metrics.protocol.Classifier` (``name``, ``weights_sha256``,
    ``input_size``, ``features``, ``logits``), so FVD_toy is computed by the same code as FVD.
    """

    name = "ToyVideoNet (toy world: actions, face and sky motion classes)"

    def __init__(self, config: dict):
        super().__init__()
        self.config = config
        self.weights_sha256 = RANDOM_INIT  # load_toy_video_net sets the file's sha256
        layers, channels = [], 6  # RGB and its temporal difference
        for i, width in enumerate(config["widths"]):
            layers.append(_conv3d_bn_relu(channels, width, (1, 2, 2) if i == 0 else (2, 2, 2)))
            channels = width
        self.trunk = nn.Sequential(*layers)
        self.embed = nn.Sequential(nn.Linear(channels, config["feature_dim"]), nn.ReLU())
        self.head = nn.Linear(config["feature_dim"], sum(len(c) for c in config["classes"].values()))

    @property
    def input_size(self) -> tuple[int, int, int]:
        return (self.config["frames"], self.config["input_size"], self.config["input_size"])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Features ``(B, feature_dim)`` and logits ``(B, classes)`` of prepared clips
        ``(B, 3, T, H, W)`` (see :func:`prepare_videos`)."""
        x = with_differences(x, self.config["difference_scale"])  # (B, 6, T, H, W)
        features = self.embed(self.trunk(x).mean(dim=(2, 3, 4)))
        return features, self.head(features)

    @torch.no_grad()
    def features(self, videos: torch.Tensor) -> torch.Tensor:
        """Motion features ``(N, feature_dim)`` (float32, CPU) of clips ``(N, 16, 3, H, W)`` in [-1, 1]."""
        return self._run(videos)[0]

    @torch.no_grad()
    def logits(self, videos: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, classes)`` over every domain's classes (``CLASSES`` order)."""
        return self._run(videos)[1]

    @torch.no_grad()
    def probabilities(self, videos: torch.Tensor, domain: str) -> torch.Tensor:
        """Class probabilities ``(N, len(CLASSES[domain]))`` among ``domain``'s classes only."""
        start = class_offset(domain)
        return self.logits(videos)[:, start:start + len(CLASSES[domain])].softmax(dim=1)

    def _run(self, videos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_videos(videos, self.config["frames"])
        was_training = self.training
        self.eval()
        try:
            device = next(self.parameters()).device
            features, logits = self(prepare_videos(videos.to(device), self.config["input_size"]))
        finally:
            self.train(was_training)
        return features.float().cpu(), logits.float().cpu()


def check_videos(videos, frames: int = FRAMES) -> None:
    """Raise an error naming the problem unless ``videos`` is a finite float (N, frames, 3, H, W) tensor."""
    if not torch.is_tensor(videos) or not videos.is_floating_point():
        found = videos.dtype if torch.is_tensor(videos) else type(videos).__name__
        raise TypeError(f"videos must be a float tensor (N, T, 3, H, W) in [-1, 1], got {found}; "
                        "convert uint8 with videos.float() / 127.5 - 1")
    if videos.dim() != 5 or videos.shape[2] != 3:
        raise ValueError(f"videos must have shape (N, T, 3, H, W), got {tuple(videos.shape)}")
    if videos.shape[1] != frames:
        raise ValueError(f"ToyVideoNet reads clips of {frames} frames, got {videos.shape[1]}; "
                         f"cut longer videos into {frames}-frame clips (e.g. videos[:, :{frames}])")
    if videos.shape[0] == 0 or min(videos.shape[3:]) < 16:
        raise ValueError(f"videos must be a non-empty batch of frames at least 16x16, got {tuple(videos.shape)}")
    check_finite(videos, "videos")


def prepare_videos(videos: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """(N, T, 3, H, W) in [-1, 1] -> (N, 3, T, size, size) float32, clamped and resized per
    frame (area when shrinking, bilinear when enlarging)."""
    x = videos.float().clamp(-1, 1)
    n, t = x.shape[:2]
    if tuple(x.shape[3:]) != (size, size):
        frames = x.flatten(0, 1)
        shrinking = frames.shape[2] >= size and frames.shape[3] >= size
        frames = F.interpolate(frames, size=(size, size), mode="area" if shrinking else "bilinear",
                               **({} if shrinking else {"align_corners": False}))
        x = frames.unflatten(0, (n, t))
    return x.permute(0, 2, 1, 3, 4).contiguous()


def with_differences(x: torch.Tensor, scale: float) -> torch.Tensor:
    """(B, 3, T, H, W) -> (B, 6, T, H, W): each frame, then ``scale`` x (frame t - frame t-1)
    (zero for the first frame)."""
    difference = torch.cat([torch.zeros_like(x[:, :, :1]), x[:, :, 1:] - x[:, :, :-1]], dim=2)
    return torch.cat([x, scale * difference], dim=1)


# ----------------------------------------------------------------------------------------
# Saving and loading


def save_toy_video_net(net: ToyVideoNet, path: str | Path) -> Path:
    """Write ``{format, version, config, state_dict}`` atomically (``mocohd.checkpoint``)."""
    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    return save_checkpoint(path, {"format": FORMAT, "version": VERSION, "config": net.config, "state_dict": state})


def load_toy_video_net(path: str | Path | None = None) -> ToyVideoNet:
    """Load a trained ``ToyVideoNet`` (default: the shipped ``data/checkpoints/toy_video_net.pt``)."""
    path = Path(path) if path is not None else DEFAULT_PATH
    if not path.is_file():
        raise FileNotFoundError(f"no toy video network at {path}; {FIX}")
    checkpoint = load_checkpoint(path, FORMAT)
    config = checkpoint["config"]
    if config.get("toy_world_version") != TOY_WORLD_VERSION:
        warnings.warn(f"{path} was trained on toy world version {config.get('toy_world_version')}, "
                      f"the toy world is now version {TOY_WORLD_VERSION}; {FIX} to retrain it", stacklevel=2)
    net = ToyVideoNet(config)
    net.load_state_dict(checkpoint["state_dict"])
    net.weights_sha256 = sha256(path)
    return net.eval()


# ----------------------------------------------------------------------------------------
# The metrics


def _resize(net: ToyVideoNet) -> str:
    return f"{net.config['input_size']}x{net.config['input_size']} area/bilinear"


def fvd_toy(real, generated, net: ToyVideoNet | None = None, *, stride: int | None = 1, batch_size: int = 32,
            notes: str = "") -> Score:
    """FVD_toy: the Fréchet distance between two sets of 16-frame clips on ``ToyVideoNet``
    features, with its protocol. ``real``/``generated``: tensors ``(N, 16, 3, H, W)`` in
    [-1, 1] or iterables of such batches (made on the fly). Not FVD (see the module docs)."""
    net = net if net is not None else load_toy_video_net()
    return frechet_score(net, real, generated, metric="FVD_toy", frames=net.config["frames"], stride=stride,
                         resize=_resize(net), batch_size=batch_size, notes=notes)


@torch.no_grad()
def is_toy(videos, domain: str = "actions", net: ToyVideoNet | None = None, *, splits: int = 10,
           stride: int | None = 1, batch_size: int = 32) -> Score:
    """IS_toy: the Inception Score of clips on ``ToyVideoNet``'s probabilities among
    ``domain``'s classes (the seven actions by default), mean ± sd over ``splits``."""
    net = net if net is not None else load_toy_video_net()
    probabilities = torch.cat([net.probabilities(batch, domain) for batch in batches(videos, batch_size)])
    mean, sd = inception_score(probabilities.double().numpy(), splits=splits)
    protocol = Protocol(n_videos=probabilities.shape[0], frames=net.config["frames"], stride=stride,
                        resize=_resize(net), network=net.name, weights_sha256=net.weights_sha256,
                        notes=f"{splits} splits; {len(CLASSES[domain])} {domain} classes")
    return Score("IS_toy", mean, protocol, sd)
