"""The motion generator G_M: an LSTM that walks a path through the image generator's W space.

MoCoGAN-HD never touches the image generator. A video is a sequence of latents
w_0, w_1, ..., w_{T-1} in W (after the mapping network), each rendered by the frozen G_I.
w_0 = mapping(z) is left exactly as it is, so frame 0 is an ordinary StyleGAN2 image (the
content); the motion generator only proposes the steps:

    (h_0, c_0) = LSTM_enc(w_0, (0, 0))                 one encoder step from a zero state
    (h_t, c_t) = LSTM_dec(e_t, (h_{t-1}, c_{t-1}))     e_t ~ N(0, I) fresh at every frame
    w_t        = w_{t-1} + lambda * tanh(h_t A + b) @ (PC[:K] * sigma[:K, None])   (A: the official parameter `w`)

The step is a residual (cumulative, so the video drifts smoothly away from w_0 and never
jumps back to a new image) along the K principal directions PC_k of W, each scaled by its
standard deviation sigma_k and by tanh in [-1, 1]: at most lambda * sigma_k per frame along
axis k. A mutual-information head predicts e_t back from [h_t; c_t]; the loss (minus their
cosine) is meant to stop the LSTM from ignoring its noise, which would make every video of
one z move the same way.

Faithful to the official ``models/rnn.py`` (``RNNModule``): same layers, initialisation,
parameter names (``enc_cell``, ``cell``, ``w``, ``b``, ``fc1``, ``fc2``) and shapes, so its
``modelR_epoch_*.pth`` files load with :func:`load_official_motion`. Two differences: the
PCA tensors are registered buffers here (``pca_comp``, ``pca_stdev``), so a mocohd state dict
carries them (the official files don't: give the ``pca_stats/`` folder separately); and the
outputs are (B, T, D) tensors instead of batch-major (B*T, D) rows (``w.reshape(-1, D)``
gives the official layout).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .checkpoint import read_torch_file
from .config import preset
from .state_dicts import mismatch_lines, shapes_of, strip_prefix


# --------------------------------------------------------------------------------------
# Config


@dataclass
class MotionConfig:
    w_dim: int = 512  # the image generator's style_dim (the LSTM input is e_t, also w_dim wide)
    h_dim: int = 384  # LSTM hidden size
    n_pca: int = 384  # principal directions of W the residual may use
    w_residual: float = 0.2  # lambda: the step along PC k is at most lambda * sigma_k per frame
    n_frames: int = 16  # frames per training clip

    def motion_kwargs(self) -> dict:
        return dict(w_dim=self.w_dim, h_dim=self.h_dim, n_pca=self.n_pca, w_residual=self.w_residual)


MOTION_PRESETS = {
    # the official defaults (--latent_dimension 512 --h_dim 384 --n_pca 384 --w_residual 0.2, 16 frames)
    "paper": dict(),
    # the shipped 64 px generators have style_dim 128; h_dim and n_pca keep the paper's ratio
    # of 3/4 of w_dim (384/512), so the LSTM is as wide relative to W as the original one
    "full": dict(w_dim=128, h_dim=96, n_pca=96),
    # the smoke image preset (style_dim 64), short clips: seconds on a CPU
    "smoke": dict(w_dim=64, h_dim=48, n_pca=48, n_frames=8),
}


def motion_preset(name: str, **overrides) -> MotionConfig:
    """``"paper"``, ``"full"`` (the shipped generators) or ``"smoke"``, with field overrides."""
    return preset(name, MOTION_PRESETS, MotionConfig, **overrides)


# --------------------------------------------------------------------------------------
# The module


def orthogonal_per_gate_(weight: torch.Tensor) -> None:
    """An LSTM weight stacks 4 gate blocks (input, forget, cell, output) of h_dim rows each;
    the official code makes each block orthogonal on its own."""
    for block in weight.data.chunk(4, dim=0):
        nn.init.orthogonal_(block)


def check_pca(pca_comp: torch.Tensor, pca_stdev: torch.Tensor, w_dim: int, n_pca: int) -> None:
    if pca_comp.dim() != 2 or pca_comp.shape[1] != w_dim or pca_comp.shape[0] < n_pca:
        raise ValueError(f"pca_comp must be (K >= n_pca={n_pca}, w_dim={w_dim}) with unit directions as rows, "
                         f"got shape {tuple(pca_comp.shape)}; fit it on this image generator with "
                         "mocohd.pca.fit_w_pca(g, n_components=...) or lower n_pca")
    if pca_stdev.dim() != 1 or pca_stdev.shape[0] < n_pca:
        raise ValueError(f"pca_stdev must be (K >= n_pca={n_pca},), got shape {tuple(pca_stdev.shape)}; "
                         "it is the square root of the explained variance (pca_stdev.npy)")


class MotionGenerator(nn.Module):
    def __init__(self, w_dim: int = 512, h_dim: int = 384, n_pca: int = 384, w_residual: float = 0.2,
                 pca_comp: torch.Tensor | None = None, pca_stdev: torch.Tensor | None = None):
        """``pca_comp`` (K, w_dim) and ``pca_stdev`` (K,) with K >= n_pca (the first n_pca are
        kept). Left out, they are placeholders (the first n_pca axes of W, unit spread) to be
        replaced by ``load_state_dict`` or :meth:`set_pca`."""
        super().__init__()
        for name, value in dict(w_dim=w_dim, h_dim=h_dim, n_pca=n_pca).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if n_pca > w_dim:
            raise ValueError(f"n_pca={n_pca} > w_dim={w_dim}: W has only {w_dim} principal directions; "
                             f"use n_pca <= {w_dim}")
        self.w_dim, self.h_dim, self.n_pca, self.w_residual = w_dim, h_dim, n_pca, float(w_residual)
        self.enc_cell = nn.LSTMCell(w_dim, h_dim)  # reads w_0 once
        self.cell = nn.LSTMCell(w_dim, h_dim)  # reads the noise e_t at every frame
        self.w = nn.Parameter(torch.empty(h_dim, n_pca))  # h_t -> PCA coefficients
        self.b = nn.Parameter(torch.empty(n_pca))
        self.fc1 = nn.Linear(2 * h_dim, w_dim)  # MI head: [h_t; c_t] -> e_t
        self.fc2 = nn.Linear(w_dim, w_dim)
        self.register_buffer("pca_comp", torch.eye(n_pca, w_dim))  # (n_pca, w_dim)
        self.register_buffer("pca_stdev", torch.ones(n_pca))  # (n_pca,)
        if (pca_comp is None) != (pca_stdev is None):
            raise ValueError("give both pca_comp and pca_stdev, or neither")
        if pca_comp is not None:
            self.set_pca(pca_comp, pca_stdev)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The official initialisation."""
        for lstm in (self.enc_cell, self.cell):
            orthogonal_per_gate_(lstm.weight_ih)
            orthogonal_per_gate_(lstm.weight_hh)
            nn.init.zeros_(lstm.bias_ih)
            nn.init.zeros_(lstm.bias_hh)
        for linear in (self.fc1, self.fc2):
            nn.init.orthogonal_(linear.weight)  # biases keep PyTorch's default, as officially
        nn.init.normal_(self.w, std=0.02)  # small: the untrained generator barely moves
        nn.init.zeros_(self.b)

    @torch.no_grad()
    def set_pca(self, pca_comp: torch.Tensor, pca_stdev: torch.Tensor) -> None:
        pca_comp, pca_stdev = torch.as_tensor(pca_comp).float(), torch.as_tensor(pca_stdev).float().reshape(-1)
        check_pca(pca_comp, pca_stdev, self.w_dim, self.n_pca)
        self.pca_comp.copy_(pca_comp[: self.n_pca])
        self.pca_stdev.copy_(pca_stdev[: self.n_pca])

    def pca_basis(self) -> torch.Tensor:
        """PC_k * sigma_k as rows: (n_pca, w_dim). A coefficient of 1 moves one stdev along PC_k."""
        return self.pca_comp * self.pca_stdev[:, None]

    def coefficients(self, h: torch.Tensor) -> torch.Tensor:
        """h_t (B, h_dim) -> tanh(h_t A + b) (B, n_pca), each in [-1, 1] (A is the weight ``w``)."""
        return torch.tanh(h @ self.w + self.b)

    def predict_noise(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """The MI head: [h_t; c_t] (..., 2 h_dim) -> e_rec (..., w_dim)."""
        return self.fc2(F.relu(self.fc1(torch.cat([h, c], dim=-1))))

    def forward(self, w0: torch.Tensor, n_frames: int, generator: torch.Generator | None = None):
        """w0 (B, w_dim) -> w (B, T, w_dim) with w[:, 0] == w0, e (B, T-1, w_dim) the noise fed
        to the decoder, e_rec (B, T-1, w_dim) the MI head's prediction of e.

        ``generator`` draws the noise e_t (the global RNG when None); ``n_frames`` may exceed
        the training length, the LSTM simply keeps unrolling."""
        if w0.dim() != 2 or w0.shape[1] != self.w_dim:
            raise ValueError(f"w0 must be (B, w_dim={self.w_dim}), got {tuple(w0.shape)}; "
                             "map z first: w0 = image_generator.get_latent(z)")
        if isinstance(n_frames, bool) or not isinstance(n_frames, int) or n_frames < 1:
            raise ValueError(f"n_frames must be a positive int, got {n_frames!r}")
        basis = self.pca_basis()  # (n_pca, w_dim)
        h, c = self.enc_cell(w0)  # zero initial state
        ws, es, hs, cs = [w0], [], [], []
        for _ in range(n_frames - 1):
            e = draw_noise(w0, generator)  # (B, w_dim)
            h, c = self.cell(e, (h, c))  # (B, h_dim) each
            step = self.w_residual * (self.coefficients(h) @ basis)  # (B, w_dim)
            ws.append(ws[-1] + step.to(w0.dtype))  # accumulate in w0's precision, also under autocast
            es.append(e)
            hs.append(h)
            cs.append(c)
        w = torch.stack(ws, dim=1)  # (B, T, w_dim)
        if n_frames == 1:
            empty = w0.new_zeros(w0.shape[0], 0, self.w_dim)
            return w, empty, empty
        e = torch.stack(es, dim=1)  # (B, T-1, w_dim)
        e_rec = self.predict_noise(torch.stack(hs, dim=1), torch.stack(cs, dim=1))  # (B, T-1, w_dim)
        return w, e, e_rec


def draw_noise(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """e ~ N(0, I) shaped like ``like``, drawn on the generator's device, or without one from the
    CPU's stream (then moved), so that a seed gives the same noise to a model on a GPU as on the
    CPU, and a trainer's checkpointed CPU stream holds every draw it made."""
    device = generator.device if generator is not None else "cpu"
    return torch.randn(like.shape, generator=generator, device=device).to(like)


def build_motion(cfg: MotionConfig, pca: dict | None = None) -> MotionGenerator:
    """A MotionGenerator from a config and a PCA dict (``comp``, ``stdev``) as
    :func:`mocohd.pca.load_w_pca` returns it."""
    if pca is None:
        return MotionGenerator(**cfg.motion_kwargs())
    return MotionGenerator(**cfg.motion_kwargs(), pca_comp=pca["comp"], pca_stdev=pca["stdev"])


def mutual_information_loss(e_rec: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """-mean_t cos(e_rec_t, e_t): -1 when the head recovers the noise's direction exactly.

    Predicting e_t from (h_t, c_t) is possible only if the LSTM state carries e_t, so
    minimising this keeps the noise in the state: the paper's guard against an LSTM that
    ignores its noise (whether that makes paths more diverse is tested in notebook 02).
    The noise is a target, never something to move (detached)."""
    if e_rec.shape != e.shape:
        raise ValueError(f"e_rec {tuple(e_rec.shape)} and e {tuple(e.shape)} must have the same shape")
    return -F.cosine_similarity(e_rec.float(), e.detach().float(), dim=-1).mean()


def interpolate_midpoints(w: torch.Tensor) -> torch.Tensor:
    """(B, T, D) -> (B, 2T-1, D): (w_i + w_{i+1}) / 2 inserted between consecutive latents,
    the official ``--interpolation`` (a smoother, twice as long video from the same path)."""
    b, t, d = w.shape
    if t < 2:
        return w
    mid = (w[:, :-1] + w[:, 1:]) / 2  # (B, T-1, D)
    pairs = torch.stack([w[:, :-1], mid], dim=2).reshape(b, 2 * (t - 1), d)  # w_0, m_0, w_1, m_1, ...
    return torch.cat([pairs, w[:, -1:]], dim=1)


# --------------------------------------------------------------------------------------
# Looking at trajectories


@contextmanager
def one_thread():
    """Run a block on one thread, then restore the setting. The motion generator's matrices
    are tiny (a batch of 32 by a few hundred): extra threads only add synchronisation, which
    on a busy 2-core machine made a training step 20 times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def pca_coordinates(motion: MotionGenerator, w: torch.Tensor) -> torch.Tensor:
    """Where a path has moved, in the motion generator's own units: (w_t - w_0) projected on
    each principal direction and divided by its stdev. (B, T, D) -> (B, T, n_pca); one
    frame's step changes each coordinate by at most w_residual."""
    return ((w - w[:, :1]) @ motion.pca_comp.T) / motion.pca_stdev


def walk_along_pc(w0: torch.Tensor, pca_comp: torch.Tensor, pca_stdev: torch.Tensor, k: int, n_frames: int,
                  amplitude: float = 2.0) -> torch.Tensor:
    """A hand-made path: w_t = w_0 + amplitude * sin(2 pi t / T) * sigma_k * PC_k, out and back
    along one principal direction. (B, D) -> (B, T, D)."""
    t = torch.arange(n_frames, dtype=w0.dtype, device=w0.device)
    a = amplitude * torch.sin(2 * torch.pi * t / n_frames)  # (T,)
    return w0[:, None] + a[None, :, None] * (pca_stdev[k] * pca_comp[k])  # (B, T, D)


@torch.no_grad()
def noise_spread(motion: MotionGenerator, w0: torch.Tensor, n_noise: int = 64, n_frames: int = 16,
                 top: int = 4, generator: torch.Generator | None = None) -> float:
    """How much the motion of one video depends on its noise: for each w0 (one content),
    ``n_noise`` draws of e_1..e_{T-1}; the standard deviation over the draws of the PCA
    coordinates (in sigma units) of frames 1..T-1 along the ``top`` first directions,
    averaged over frames, directions and the w0's. 0 = every noise gives the same motion."""
    spreads = []
    with one_thread():
        for row in w0:
            w, _, _ = motion(row[None].expand(n_noise, -1), n_frames, generator=generator)  # (n_noise, T, D)
            coords = pca_coordinates(motion, w)[:, 1:, :top]  # (n_noise, T-1, top)
            spreads.append(coords.std(0).mean())
    return torch.stack(spreads).mean().item()


def smooth_motion_objective(coords: torch.Tensor, distance: float = 1.0, top: int = 4,
                            smooth_weight: float = 10.0) -> torch.Tensor:
    """A stand-in for what a video discriminator asks of motion, for experiments without one:
    travel ``distance`` sigmas (RMS over the ``top`` first PCA axes) by the last frame, and
    move smoothly (small second differences). ``coords`` (B, T, n_pca) from pca_coordinates."""
    c = coords[..., :top]  # (B, T, top)
    travelled = c[:, -1].norm(dim=-1) / top**0.5  # (B,)
    jerk = c[:, 2:] - 2 * c[:, 1:-1] + c[:, :-2]  # (B, T-2, top)
    return (travelled - distance).square().mean() + smooth_weight * jerk.square().mean()


def fit_motion(motion: MotionGenerator, steps: int, objective=None, mi_weight: float = 1.0, batch: int = 32,
               n_frames: int = 16, lr: float = 1e-3, seed: int = 0) -> list[dict]:
    """Train the motion generator alone, in W, without rendering a frame: on ``objective``
    (a function of pca_coordinates, or None) plus ``mi_weight`` times the MI loss, with w0 =
    random Gaussian latents. Adam with the official betas (0.5, 0.999); the official lr is
    1e-4, 1e-3 gets there in fewer steps. Returns one log dict per step."""
    if objective is None and mi_weight == 0:
        raise ValueError("nothing to train: give an objective, a mi_weight > 0, or both")
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(motion.parameters(), lr=lr, betas=(0.5, 0.999))
    logs = []
    with one_thread():
        for _ in range(steps):
            w0 = torch.randn(batch, motion.w_dim, generator=g)
            w, e, e_rec = motion(w0, n_frames, generator=g)
            mi = mutual_information_loss(e_rec, e)
            task = objective(pca_coordinates(motion, w)) if objective is not None else torch.zeros(())
            loss = task + mi_weight * mi
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            logs.append({"objective": task.item(), "mi": mi.item()})
    return logs


# --------------------------------------------------------------------------------------
# Official checkpoints

OFFICIAL_PREFIX = "module."  # a DataParallel / DDP wrapper's prefix


def _read_state_dict(state_dict_or_path) -> dict:
    if isinstance(state_dict_or_path, (str, Path)):
        path = Path(state_dict_or_path)
        if not path.is_file():
            raise FileNotFoundError(f"no official motion checkpoint at {path}; expected a modelR_epoch_*.pth file")
        state = read_torch_file(path, "official MoCoGAN-HD motion checkpoint")
    else:
        state = state_dict_or_path
    if not isinstance(state, dict):
        raise ValueError(f"expected a state dict (name -> tensor), got {type(state).__name__}")
    return strip_prefix(state, OFFICIAL_PREFIX)


def _infer_sizes(state: dict, w_dim: int) -> tuple[int, int]:
    """(h_dim, n_pca) from whichever official tensors are there; the paper's where none is."""
    h_dim, n_pca = 384, 384
    for key in ("enc_cell.weight_hh", "cell.weight_hh"):
        if key in state and state[key].dim() == 2:
            h_dim = state[key].shape[1]
            break
    else:
        if "w" in state and state["w"].dim() == 2:
            h_dim = state["w"].shape[0]
    if "w" in state and state["w"].dim() == 2:
        n_pca = state["w"].shape[1]
    elif "b" in state and state["b"].dim() == 1:
        n_pca = state["b"].shape[0]
    return h_dim, min(n_pca, w_dim)


def _pca_tensors(pca) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(pca, (str, Path)):
        from .pca import load_w_pca

        pca = load_w_pca(pca)
    if not isinstance(pca, dict) or "comp" not in pca or "stdev" not in pca:
        raise ValueError("pca must be a dict with 'comp' and 'stdev' (mocohd.pca.load_w_pca), or the path of an "
                         "official pca_stats/ folder (pca_comp.npy, pca_stdev.npy) or of a mocohd .pca.pt file")
    return torch.as_tensor(pca["comp"]).float(), torch.as_tensor(pca["stdev"]).float().reshape(-1)


def load_official_motion(state_dict_or_path, pca, w_residual: float = 0.2) -> MotionGenerator:
    """The official ``modelR_epoch_*.pth`` (a state dict of ``RNNModule``; a ``module.``
    prefix is dropped) with its PCA, which those files do not contain: pass the
    ``pca_stats/<name>/`` folder (or a dict / mocohd PCA file). Sizes are read from the
    tensors; w_residual is not stored officially (0.2 in every released script).

    Raises one ValueError listing every missing, unexpected and mis-shaped key."""
    state = _read_state_dict(state_dict_or_path)
    comp, stdev = _pca_tensors(pca)
    w_dim = comp.shape[1] if comp.dim() == 2 else 512
    h_dim, n_pca = _infer_sizes(state, w_dim)
    model = MotionGenerator(w_dim, h_dim, n_pca, w_residual)
    expected = {k: v for k, v in shapes_of(model).items() if k not in ("pca_comp", "pca_stdev")}
    problems = mismatch_lines(expected, {k: v for k, v in state.items() if k not in ("pca_comp", "pca_stdev")})
    if problems:
        lines = [f"not an official MoCoGAN-HD motion state dict for w_dim={w_dim} (from the PCA), "
                 f"h_dim={h_dim}, n_pca={n_pca}:", *problems]
        lines.append("expected keys enc_cell.*, cell.* (LSTMCell weight_ih/weight_hh/bias_ih/bias_hh), w, b, "
                     "fc1.*, fc2.*; pass the modelR_epoch_*.pth file (not modelD_*) with the PCA of the same "
                     "image generator")
        raise ValueError("\n".join(lines))
    model.load_state_dict({k: state[k] for k in expected}, strict=False)
    model.set_pca(comp, stdev)
    return model
