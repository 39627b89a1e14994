"""Fréchet distance on toy-factor features (FD_toy): a small CNN that knows the toy world.

FID measures images with features of an Inception network trained on ImageNet. The toy
world has no ImageNet, but it has something better: every frame comes with the true
factors that drew it. ``ToyFeatureNet`` is a small CNN trained, on single frames of all
four toy domains at once, to predict

* the domain (faces, animals, sky, actions): 4-way classification;
* the class label where there is one: species (animals), action (actions);
* every continuous identity and motion factor of the frame's domain (regression on
  standardized values; the loss only counts the frame's own domain).

Its penultimate layer (``feature_dim`` numbers after a ReLU, like Inception's pool
features) is an embedding that moves when any of those factors moves. The Fréchet distance
between the embeddings of two image sets is FD_toy. It is *not* FID or FVD and its values
are not comparable with published ones; compare FD_toy only with FD_toy from the same
shipped network (``data/checkpoints/toy_features.json`` lists the real-vs-real floor and
the between-domain distances that set its scale).

Train (a few minutes on 2 CPU cores): ``python -m mocohd.metrics.toy_features_train train``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from mocohd.data.toyworld import DOMAINS, LABELS, VARIANTS, ToyClips, check_domain
from mocohd.data.toyworld import VERSION as TOY_WORLD_VERSION
from mocohd.checkpoint import UnsafeFileError, read_torch_file, sha256
from mocohd.metrics.protocol import RANDOM_INIT, Score, check_finite, frechet_score

FORMAT = "mocohd.toy_features"
VERSION = 1
INPUT_SIZE = 64
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "data" / "checkpoints" / "toy_features.pt"
TRAIN_COMMAND = "python -m mocohd.metrics.toy_features_train train --out data/checkpoints/toy_features.pt"
FIX = f"run `make checkpoints` (or `{TRAIN_COMMAND}`)"

# Which factors the heads regress, and how. Names are "identity:NAME" or "motion:NAME".
LABEL_FACTORS = {"animals": "identity:species", "actions": "identity:action"}  # classified, not regressed
UNSEEN_FACTORS = {  # not visible in one frame: a single frame has no clock
    "sky": ("identity:wind", "motion:wind",  # a speed: clouds drift over time
            "motion:cloud_drift",  # wind x time
            "motion:light"),  # drifts over a clip; within one frame it is confounded with the sky colours
}
ANGLE_FACTORS = {"actions": ("motion:turn",)}  # a spinning figure shows cos(turn), so regress that


# ----------------------------------------------------------------------------------------
# Targets


def factor_targets(clips: ToyClips) -> tuple[torch.Tensor, list[str]]:
    """Per-frame regression targets ``(N * T, K)`` of one domain's clips, and their names."""
    n, t = clips.motion.shape[:2]
    skipped = {LABEL_FACTORS.get(clips.domain), *UNSEEN_FACTORS.get(clips.domain, ())}
    columns, names = [], []
    for i, name in enumerate(clips.identity_names):
        if f"identity:{name}" not in skipped:
            columns.append(clips.identity[:, None, i].expand(n, t))
            names.append(f"identity:{name}")
    for i, name in enumerate(clips.motion_names):
        key = f"motion:{name}"
        if key in skipped:
            continue
        value = clips.motion[:, :, i]
        if key in ANGLE_FACTORS.get(clips.domain, ()):
            value, key = torch.cos(value), f"motion:cos({name})"
        columns.append(value)
        names.append(key)
    return torch.stack(columns, -1).reshape(n * t, len(names)), names


def frames_of(clips: ToyClips) -> torch.Tensor:
    """All frames of the clips as one image batch: (N, T, 3, H, W) -> (N * T, 3, H, W)."""
    return clips.video.flatten(0, 1)


# ----------------------------------------------------------------------------------------
# The network


def make_config(factor_names: dict[str, list[str]], widths=(32, 64, 128, 192), feature_dim: int = 256) -> dict:
    """A plain-data config (it is stored in the checkpoint). ``factor_names``: per domain."""
    missing = [d for d in DOMAINS if d not in factor_names]
    if missing:
        raise ValueError(f"factor_names lacks domains {missing}; give the names factor_targets returns for each")
    return {
        "input_size": INPUT_SIZE,
        "widths": list(widths),
        "feature_dim": feature_dim,
        "domains": list(DOMAINS),
        "labels": {d: list(LABELS[d]) for d in DOMAINS if LABELS[d]},
        "factors": {d: list(factor_names[d]) for d in DOMAINS},
        "factor_mean": {d: [0.0] * len(factor_names[d]) for d in DOMAINS},  # set from training data
        "factor_std": {d: [1.0] * len(factor_names[d]) for d in DOMAINS},
        "toy_world_version": TOY_WORLD_VERSION,
    }


def _conv_bn_relu(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class ToyFeatureNet(nn.Module):
    """A CNN from a 64x64 frame to toy-factor features, with the heads that trained them.

    Per width: a 3x3 conv with stride 2, then a 3x3 conv; four widths take 64x64 to 4x4.
    Global average pooling and a linear layer with ReLU give the ``feature_dim`` features.

    It is a :class:`~mocohd.metrics.protocol.FeatureNetwork` (``name``, ``weights_sha256``,
    ``input_size``, ``features``), so FD_toy is computed by the same code as FVD.
    """

    name = "ToyFeatureNet (toy world)"

    def __init__(self, config: dict):
        super().__init__()
        self.config = config
        self.weights_sha256 = RANDOM_INIT  # load_toy_feature_net sets the file's sha256
        layers, channels = [], 3
        for width in config["widths"]:
            layers += [_conv_bn_relu(channels, width, 2), _conv_bn_relu(width, width, 1)]
            channels = width
        self.trunk = nn.Sequential(*layers)
        self.embed = nn.Sequential(nn.Linear(channels, config["feature_dim"]), nn.ReLU())
        dim = config["feature_dim"]
        heads = {"domain": nn.Linear(dim, len(config["domains"]))}
        heads |= {f"{d}_label": nn.Linear(dim, len(names)) for d, names in config["labels"].items()}
        heads |= {f"{d}_factors": nn.Linear(dim, len(names)) for d, names in config["factors"].items()}
        self.heads = nn.ModuleDict(heads)

    @property
    def input_size(self) -> tuple[int, int]:
        return (self.config["input_size"], self.config["input_size"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features ``(B, feature_dim)`` of prepared images ``(B, 3, 64, 64)`` (see ``prepare_images``)."""
        h = self.trunk(x)  # (B, C, 4, 4)
        return self.embed(h.mean(dim=(2, 3)))  # (B, feature_dim)

    def head_outputs(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits (``domain``, ``<domain>_label``) and standardized factors (``<domain>_factors``)."""
        return {name: head(features) for name, head in self.heads.items()}

    @torch.no_grad()
    def features(self, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """Toy-factor features ``(N, feature_dim)`` (float32, CPU) of images ``(N, 3, H, W)`` in [-1, 1]."""
        return torch.cat([f for f, _ in self._batches(images, batch_size, heads=False)])

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 256) -> dict[str, torch.Tensor]:
        """What the net reads off each image: ``domain`` and ``<domain>_label`` probabilities,
        and ``<domain>_factors`` in the toy world's own units (names in ``config["factors"]``)."""
        parts = [outputs for _, outputs in self._batches(images, batch_size, heads=True)]
        result = {name: torch.cat([p[name] for p in parts]) for name in parts[0]}
        for name in result:
            if name.endswith("_factors"):
                domain = name.removesuffix("_factors")
                mean = torch.tensor(self.config["factor_mean"][domain])
                std = torch.tensor(self.config["factor_std"][domain])
                result[name] = result[name] * std + mean
            else:
                result[name] = result[name].softmax(dim=1)
        return result

    def _batches(self, images: torch.Tensor, batch_size: int, heads: bool):
        check_images(images)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        try:
            for chunk in images.split(batch_size):
                x = prepare_images(chunk.to(device), self.config["input_size"])
                features = self(x)
                outputs = {k: v.float().cpu() for k, v in self.head_outputs(features).items()} if heads else None
                yield features.float().cpu(), outputs
        finally:
            self.train(was_training)


def check_images(images) -> None:
    """Raise an error naming the problem unless ``images`` is a finite float (N, 3, H, W) tensor."""
    if not torch.is_tensor(images):
        raise TypeError(f"images must be a torch tensor (N, 3, H, W) in [-1, 1], got {type(images).__name__}")
    if images.dim() != 4 or images.shape[1] != 3:
        hint = "; for videos (N, T, 3, H, W) pass video.flatten(0, 1)" if images.dim() == 5 else ""
        raise ValueError(f"images must have shape (N, 3, H, W), got {tuple(images.shape)}{hint}")
    if not images.is_floating_point():
        raise ValueError(f"images must be floats in [-1, 1], got dtype {images.dtype}; "
                         "convert uint8 with images.float() / 127.5 - 1")
    if images.shape[0] == 0 or min(images.shape[2:]) < 8:
        raise ValueError(f"images must be a non-empty batch at least 8x8 pixels, got {tuple(images.shape)}")
    check_finite(images, "images")


def prepare_images(images: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """Clamp to [-1, 1] (as saving an image would) and resize to ``size`` x ``size``:
    area averaging when shrinking, bilinear when enlarging. Returns float32, channels_last."""
    x = images.float().clamp(-1, 1)
    if tuple(x.shape[2:]) != (size, size):
        shrinking = x.shape[2] >= size and x.shape[3] >= size
        mode = "area" if shrinking else "bilinear"
        x = F.interpolate(x, size=(size, size), mode=mode, **({} if shrinking else {"align_corners": False}))
    return x.contiguous(memory_format=torch.channels_last)


# ----------------------------------------------------------------------------------------
# Saving and loading


def save_toy_feature_net(net: ToyFeatureNet, path: str | Path) -> Path:
    """Write ``{format, version, config, state_dict}`` to a temporary file, then rename it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    torch.save({"format": FORMAT, "version": VERSION, "config": net.config, "state_dict": state}, tmp)
    os.replace(tmp, path)
    return path


def load_toy_feature_net(path: str | Path | None = None) -> ToyFeatureNet:
    """Load a trained ``ToyFeatureNet`` (default: the shipped ``data/checkpoints/toy_features.pt``)."""
    path = Path(path) if path is not None else DEFAULT_PATH
    if not path.is_file():
        raise FileNotFoundError(f"no toy feature network at {path}; {FIX}")
    try:
        checkpoint = read_torch_file(path, "toy feature network")  # refuses pickled Python objects
    except UnsafeFileError:
        raise
    except ValueError as error:
        raise RuntimeError(f"could not read the toy feature network {path} ({error.__cause__ or error}); "
                           f"the file is corrupt or not a checkpoint: delete it and {FIX}") from error
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        found = checkpoint.get("format") if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise ValueError(f"{path} is not a toy feature network (format {found!r}, expected {FORMAT!r}); {FIX}")
    if checkpoint.get("version") != VERSION:
        raise ValueError(f"{path} has toy-feature format version {checkpoint.get('version')!r}, "
                         f"this code reads version {VERSION}; {FIX}")
    config = checkpoint["config"]
    if config.get("toy_world_version") != TOY_WORLD_VERSION:
        warnings.warn(f"{path} was trained on toy world version {config.get('toy_world_version')}, "
                      f"the toy world is now version {TOY_WORLD_VERSION}; {FIX} to retrain it", stacklevel=2)
    net = ToyFeatureNet(config)
    net.load_state_dict(checkpoint["state_dict"])
    net.weights_sha256 = sha256(path)
    return net.to(memory_format=torch.channels_last).eval()  # channels_last: faster convs on CPU


# ----------------------------------------------------------------------------------------
# The metric


def image_frechet_distance(images_a: torch.Tensor, images_b: torch.Tensor, net: ToyFeatureNet | None = None,
                           batch_size: int = 256) -> float:
    """Fréchet distance on toy-factor features (FD_toy) between two image sets.

    ``images_*``: ``(N, 3, H, W)`` in [-1, 1], any size (resized to 64x64). ``net``: a
    ``ToyFeatureNet`` (default: the shipped one). Use thousands of images per set for a
    stable number; with fewer the value is biased upwards (compare the floor at the
    same N). Not FID: its scale is set by the toy-feature network, see the module docs.
    :func:`image_frechet_score` gives the same number with its protocol.
    """
    return image_frechet_score(images_a, images_b, net, batch_size).value


def image_frechet_score(images_a: torch.Tensor, images_b: torch.Tensor, net: ToyFeatureNet | None = None,
                        batch_size: int = 256) -> Score:
    """FD_toy with its protocol line (number of images, network, the weights' sha256)."""
    net = net if net is not None else load_toy_feature_net()
    size = net.config["input_size"]
    return frechet_score(net, images_a, images_b, metric="FD_toy", frames=None, stride=None,
                         resize=f"{size}x{size} area/bilinear", batch_size=batch_size, unit="images")


@torch.no_grad()
def video_factors(video: torch.Tensor, domain: str, net: ToyFeatureNet | None = None) -> tuple[torch.Tensor, list[str]]:
    """Read the toy world's factors off every frame of generated (or real) clips.

    video (B, T, 3, H, W) in [-1, 1] -> (B, T, F) factors in the toy world's units, and their
    names. For a good video generator the identity factors stay flat over time while the
    motion factors (eye_open, mouth_open, yaw, ...) move."""
    head = feature_domain(domain)
    if video.dim() != 5:
        raise ValueError(f"expected clips (B, T, 3, H, W), got shape {tuple(video.shape)}")
    net = net or load_toy_feature_net()
    b, t = video.shape[:2]
    factors = net.predict(video.flatten(0, 1))[f"{head}_factors"]  # (B*T, F)
    return factors.reshape(b, t, -1), list(net.config["factors"][head])


def feature_domain(domain: str) -> str:
    """The domain whose heads read ``domain``'s factors: itself, or a variant's base domain
    (``faces_big_eyes`` is read as ``faces``; tests/test_toy_features.py checks it reads well)."""
    check_domain(domain)
    return VARIANTS.get(domain, domain)
