"""C3D, the UCF-101 classifier behind the video Inception Score (TGAN / MoCoGAN / MoCoGAN-HD).

Tran et al., "Learning Spatiotemporal Features with 3D Convolutional Networks" (ICCV 2015):
eight 3x3x3 convolutions, five max pools, three fully connected layers. The IS protocol of
TGAN (Saito et al. 2017, pfnet-research/tgan ``evaluation/``), reused by MoCoGAN and, per
MoCoGAN-HD's issue #11, by MoCoGAN-HD with TGANv2's copy of the same weights, uses the C3D
fine-tuned on UCF-101 (caffe ``c3d_ucf101_finetune_whole_iter_20000``, converted to chainer
as ``conv3d_deepnetA_ucf.npz``) and its 101 class probabilities.

**Layout** (:func:`c3d_key_shapes`): chainer names ``conv1a/W`` ... ``fc8/b`` in the npz,
here ``conv1a.weight`` ... ``fc8.bias``; the shapes are the same in both (conv
``(out, in, 3, 3, 3)``, linear ``(out, in)``). :func:`load_c3d` reads either file kind.

**Preprocessing** (:func:`tgan_preprocess`, as TGAN's ``evaluation/calc_inception.py``):
16 frames in [-1, 1] are mapped to [0, 256] by ``128 x + 128``, each frame resized to 128x128
with bicubic interpolation (``cv2.INTER_CUBIC`` there, PyTorch's bicubic here: the same
a = -0.75 kernel, neither antialiased), RGB turned to BGR (caffe's order), the C3D mean clip
subtracted, and the centre 112x112 cropped. The mean is TGAN's released ``mean2.npz``
(3 x 16 x 128 x 171, BGR, per frame and pixel); TGAN crops its columns 21:149 to 128x128.
Without the file, the per-channel means written in TGANv2's C3D code are subtracted
instead, and the protocol line says so: that IS is close to, but not, the published one.
(TGANv2's own pipeline differs again: it resizes straight to 112x112 without a crop.)

Pooling follows chainer's ``max_pooling_nd``, whose ``cover_all`` rounds output sizes up:
the last pool turns 7x7 into 4x4, hence fc6's 512 * 4 * 4 = 8192 inputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mocohd.checkpoint import numpy_load, read_torch_file
from mocohd.discriminators import StateDictMismatch
from mocohd.metrics.protocol import RANDOM_INIT, check_finite, weights_id
from mocohd.state_dicts import mismatch_lines, strip_prefix

NUM_CLASSES = 101  # UCF-101
FRAMES = 16
CROP = 112
RESIZE = 128  # frames are resized to 128x128, then the centre 112x112 is cropped
MEAN_SHAPE = (3, 16, 128, 171)  # mean2.npz: BGR, frames, rows, columns
MEAN_COLUMNS = slice(21, 21 + 128)  # TGAN's crop of the mean's 171 columns
# Per-channel means (B, G, R) of the C3D mean clip, as written (commented out) in TGANv2's
# tgan2/models/c3d/c3d_ucf101.py; used only when mean2.npz is not given.
CHANNEL_MEAN_BGR = (90.25164795, 97.65701294, 101.4083252)
CONVS = (("conv1a", 3, 64), ("conv2a", 64, 128), ("conv3a", 128, 256), ("conv3b", 256, 256),
         ("conv4a", 256, 512), ("conv4b", 512, 512), ("conv5a", 512, 512), ("conv5b", 512, 512))
NAME = "C3D (UCF-101, TGAN IS protocol)"
RESIZE_NOTE = "128x128 bicubic, centre crop 112x112"
WEIGHTS_HINT = ("give the path of conv3d_deepnetA_ucf.npz (the UCF-101 C3D converted to chainer by TGAN's "
                "evaluation/c3d_ft.py) or of a PyTorch state dict with the same names (conv1a.weight, ...)")
MEAN_HINT = "TGAN's mean2.npz (github.com/pfnet-research/tgan, release v1.0.0)"


class C3D(nn.Module):
    """C3D for 16 x 112 x 112 clips: (N, 3, 16, 112, 112), BGR, mean subtracted -> 101 logits."""

    def __init__(self, num_classes: int = NUM_CLASSES):
        super().__init__()
        for name, c_in, c_out in CONVS:
            setattr(self, name, nn.Conv3d(c_in, c_out, 3, 1, 1))
        self.fc6 = nn.Linear(512 * 4 * 4, 4096)
        self.fc7 = nn.Linear(4096, 4096)
        self.fc8 = nn.Linear(4096, num_classes)

    def fc7_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, T <= 16, 112, 112) -> (N, 4096): fc7 after its ReLU (dropout off: eval only)."""
        x = _pool(F.relu(self.conv1a(x)), (1, 2, 2))  # (N, 64, 16, 56, 56)
        x = _pool(F.relu(self.conv2a(x)), (2, 2, 2))  # (N, 128, 8, 28, 28)
        x = _pool(F.relu(self.conv3b(F.relu(self.conv3a(x)))), (2, 2, 2))  # (N, 256, 4, 14, 14)
        x = _pool(F.relu(self.conv4b(F.relu(self.conv4a(x)))), (2, 2, 2))  # (N, 512, 2, 7, 7)
        x = _pool(F.relu(self.conv5b(F.relu(self.conv5a(x)))), (2, 2, 2))  # (N, 512, 1, 4, 4): 7 -> 4, rounded up
        x = F.relu(self.fc6(x.flatten(1)))  # (N, 4096)
        return F.relu(self.fc7(x))  # (N, 4096)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc8(self.fc7_features(x))  # (N, 101) logits


def _pool(x: torch.Tensor, kernel) -> torch.Tensor:
    # chainer's max_pooling_nd(ksize=k) has stride k and cover_all=True: sizes round up
    return F.max_pool3d(x, kernel, kernel, ceil_mode=True)


def c3d_key_shapes(num_classes: int = NUM_CLASSES) -> dict[str, tuple[int, ...]]:
    """Keys and shapes of the UCF-101 C3D in PyTorch names, written from TGAN's ``c3d_ft.py`` layer list."""
    shapes = {}
    for name, c_in, c_out in [("conv1a", 3, 64), ("conv2a", 64, 128), ("conv3a", 128, 256), ("conv3b", 256, 256),
                              ("conv4a", 256, 512), ("conv4b", 512, 512), ("conv5a", 512, 512), ("conv5b", 512, 512)]:
        shapes[f"{name}.weight"], shapes[f"{name}.bias"] = (c_out, c_in, 3, 3, 3), (c_out,)
    for name, c_in, c_out in [("fc6", 8192, 4096), ("fc7", 4096, 4096), ("fc8", 4096, num_classes)]:
        shapes[f"{name}.weight"], shapes[f"{name}.bias"] = (c_out, c_in), (c_out,)
    return shapes


def chainer_to_torch_names(state: dict) -> dict:
    """``conv1a/W`` -> ``conv1a.weight``, ``conv1a/b`` -> ``conv1a.bias``; other keys unchanged."""
    renamed = {}
    for key, value in state.items():
        if key.endswith("/W"):
            key = key[:-2] + ".weight"
        elif key.endswith("/b"):
            key = key[:-2] + ".bias"
        renamed[key] = torch.as_tensor(np.asarray(value)) if not torch.is_tensor(value) else value
    return renamed


def load_c3d_state_dict(net: C3D, state_dict: dict) -> C3D:
    """Load C3D weights strictly: raises :class:`StateDictMismatch` listing every missing,
    unexpected and mis-shaped key, and loads nothing in that case."""
    sd = chainer_to_torch_names(strip_prefix(state_dict, "module."))
    problems = mismatch_lines(c3d_key_shapes(net.fc8.out_features), sd)
    if problems:
        raise StateDictMismatch("\n".join([f"the weights are not the UCF-101 C3D of the TGAN protocol "
                                           f"({WEIGHTS_HINT}; chainer's conv1a/W, conv1a/b are listed as "
                                           f"conv1a.weight, conv1a.bias):", *problems]))
    net.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
    return net.eval()


def read_weights(path: Path) -> dict:
    if path.suffix == ".npz":
        return numpy_load(path)
    state = read_torch_file(path, "C3D weights file")
    if not isinstance(state, dict):
        raise TypeError(f"{path} holds a {type(state).__name__}, not a state dict; {WEIGHTS_HINT}")
    return state


# ----------------------------------------------------------------------------------------
# Preprocessing


def load_tgan_mean(path: str | Path) -> torch.Tensor:
    """TGAN's ``mean2.npz`` (key ``mean``, 3*16*128*171 values, BGR) cropped as TGAN does: (3, 16, 128, 128)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no C3D mean file at {path}; download {MEAN_HINT}")
    archive = numpy_load(path)
    if not isinstance(archive, dict) or "mean" not in archive:
        found = list(archive) if isinstance(archive, dict) else "one array, not an .npz archive"
        raise ValueError(f"{path} has no 'mean' array (it has {found}); expected {MEAN_HINT}")
    mean = archive["mean"].astype(np.float32)
    if mean.size != np.prod(MEAN_SHAPE):
        raise ValueError(f"the mean in {path} has shape {mean.shape}, expected {int(np.prod(MEAN_SHAPE))} values "
                         f"{MEAN_SHAPE} (BGR, frames, rows, columns); expected {MEAN_HINT}")
    return torch.from_numpy(mean.reshape(MEAN_SHAPE)[..., MEAN_COLUMNS].copy())  # (3, 16, 128, 128)


def tgan_preprocess(videos: torch.Tensor, mean: torch.Tensor | None = None) -> torch.Tensor:
    """(N, T, 3, H, W) in [-1, 1], RGB -> (N, 3, T, 112, 112), BGR in pixel units, mean subtracted.

    ``mean``: (3, 16, 128, 128) from :func:`load_tgan_mean` (needs T = 16), or None for the
    per-channel means (any T <= 16)."""
    if not torch.is_tensor(videos) or videos.dim() != 5 or videos.shape[2] != 3 or not videos.is_floating_point():
        shape = tuple(videos.shape) if torch.is_tensor(videos) else type(videos).__name__
        raise ValueError(f"videos must be a float tensor (N, T, 3, H, W) in [-1, 1], got {shape}")
    check_finite(videos, "videos")
    n, t = videos.shape[:2]
    if (mean is not None and t != FRAMES) or not 1 <= t <= FRAMES:
        raise ValueError(f"the TGAN protocol takes {FRAMES}-frame clips (the mean clip has {FRAMES} frames, fc6 "
                         f"expects at most {FRAMES}), got {t} frames")
    frames = videos.float().flatten(0, 1) * 128 + 128  # (N*T, 3, H, W) in [0, 256], as TGAN's x * 128 + 128
    frames = F.interpolate(frames, size=(RESIZE, RESIZE), mode="bicubic", align_corners=False)
    x = frames.unflatten(0, (n, t)).flip(2)  # (N, T, 3, 128, 128), RGB -> BGR
    if mean is None:
        x = x - torch.tensor(CHANNEL_MEAN_BGR).view(1, 1, 3, 1, 1)
    else:
        x = x - mean.transpose(0, 1)[None]  # mean (3, T, 128, 128) -> (1, T, 3, 128, 128)
    start = (RESIZE - CROP) // 2  # 8
    x = x[..., start:start + CROP, start:start + CROP]  # (N, T, 3, 112, 112)
    return x.transpose(1, 2).contiguous()  # (N, 3, T, 112, 112)


# ----------------------------------------------------------------------------------------
# The feature network


class C3DClassifier:
    """The UCF-101 C3D as a :class:`~mocohd.metrics.protocol.Classifier`: videos
    (N, 16, 3, H, W) in [-1, 1] in; ``logits`` (N, 101), ``features`` fc7 (N, 4096) out."""

    name = NAME
    input_size = (CROP, CROP)
    resize = RESIZE_NOTE

    def __init__(self, net: C3D, mean: torch.Tensor | None = None, weights_sha256: str = RANDOM_INIT,
                 mean_sha256: str | None = None):
        self.net = net.eval()
        self.mean = mean
        self.weights_sha256 = weights_sha256
        self.mean_sha256 = mean_sha256

    @property
    def notes(self) -> str:
        """What a protocol line should add about the mean clip."""
        if self.mean is None:
            return "mean: TGANv2's per-channel constants, not mean2.npz: close to, not equal to, the TGAN protocol"
        return f"mean: mean2.npz sha256:{self.mean_sha256}" if self.mean_sha256 else "mean: per-frame mean clip"

    @torch.no_grad()
    def logits(self, videos: torch.Tensor, batch_size: int = 8) -> torch.Tensor:
        return torch.cat([self.net(tgan_preprocess(chunk, self.mean)) for chunk in videos.split(batch_size)])

    def probabilities(self, videos: torch.Tensor, batch_size: int = 8) -> torch.Tensor:
        return self.logits(videos, batch_size).softmax(dim=1)  # (N, 101): TGAN's 'prob' layer

    @torch.no_grad()
    def features(self, videos: torch.Tensor, batch_size: int = 8) -> torch.Tensor:
        return torch.cat([self.net.fc7_features(tgan_preprocess(chunk, self.mean))
                          for chunk in videos.split(batch_size)])


def load_c3d(path: str | Path, mean_path: str | Path | None = None) -> C3DClassifier:
    """The UCF-101 C3D from local files: weights (``conv3d_deepnetA_ucf.npz`` or a PyTorch state
    dict with the same names) and, for the exact TGAN protocol, its ``mean2.npz``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no C3D weights at {path}; {WEIGHTS_HINT}")
    net = load_c3d_state_dict(C3D(), read_weights(path))
    mean = load_tgan_mean(mean_path) if mean_path is not None else None
    return C3DClassifier(net, mean, weights_id(path), weights_id(mean_path) if mean_path is not None else None)
