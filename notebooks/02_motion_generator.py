# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · The motion generator: a video is a path through W
#
# MoCoGAN-HD keeps a pre-trained image generator $G_I$ frozen and learns only *how to move*
# through its latent space. This notebook builds that mover, the **motion generator**
# $G_M$ of the paper (the official `RNNModule`), and looks at what it does before any
# training.
#
# **In this notebook you will**
#
# 1. see why the path lives in StyleGAN2's $W$ space and why it is built from *residual* steps
#    (the content of frame 0 stays, only motion is added);
# 2. play the principal directions of $W$ as videos: the raw material of motion;
# 3. build the LSTM motion generator, check its promises (frame 0 unchanged, each step
#    bounded along each principal direction), plot its trajectories and watch its videos;
# 4. make long videos: unrolling further, and inserting midpoints;
# 5. meet the mutual-information loss, what it measures, and test in a small experiment
#    whether it makes motion more diverse;
# 6. load the official motion checkpoints.
#
# **What it costs** (2-core laptop CPU): `mode = "smoke"` renders a few hundred 64×64 frames and
# trains the motion generator for 150 steps in $W$ (no frames), under a minute;
# `mode = "full"` shows more directions and videos and trains for 1,500 steps, about 2 minutes
# (4 with the untrained fallback, which first fits a PCA of its $W$).
# It uses the shipped toy-faces generator `data/checkpoints/faces_64.pt` and its PCA; if
# they are missing it falls back to an untrained generator (and says so).

# %% tags=["parameters"]
mode = "smoke"  # "smoke": a quick look (what the tests run); "full": more directions, videos, training steps
seed = 0  # the same seed gives the same videos and numbers
checkpoint = "data/checkpoints/faces_64.pt"  # the frozen image generator (a mocohd image-GAN checkpoint), or None for an untrained one
pca_path = "data/checkpoints/faces_64.pca.pt"  # its PCA of W (a .pca.pt file or an official pca_stats/ folder), or None to fit one here
n_frames = 16  # frames per video (the paper trains on 16)
out_dir = "runs/notebooks/02_motion_generator"  # relative paths are taken from the repository root

# %%
from mocohd import params


def missing_default(value, name):
    """The shipped files are made by `make checkpoints`; without them we fall back, with a note."""
    return value is not None and params.resolve_path(value) == params.shipped_checkpoint(name) \
        and not params.resolve_path(value).exists()


if missing_default(checkpoint, "faces_64.pt"):
    print(f"note: {checkpoint} is not there (run `make checkpoints`); using an UNTRAINED image generator")
    checkpoint = None
if missing_default(pca_path, "faces_64.pca.pt") or checkpoint is None:
    pca_path = None  # fitted below, on the generator actually used
p = params.validate(mode, seed, out_dir, checkpoint=checkpoint, pca_path=pca_path)
n_pcs_shown = params.by_mode(mode, smoke=4, full=8)
n_videos = params.by_mode(mode, smoke=4, full=8)
mi_steps = params.by_mode(mode, smoke=150, full=1500)

# %% [markdown]
# ## 1. The frozen image generator and its W space
#
# StyleGAN2 makes an image in two stages: a **mapping network** turns a Gaussian $z$ into a
# style code $w = f(z)$, and the **synthesis network** paints the image from $w$ (plus
# per-pixel noise). MoCoGAN-HD loads a trained generator, switches it to eval mode and turns
# its gradients off for good: it is never trained again.

# %%
import torch

from mocohd.image_generator import Generator
from mocohd.pca import fit_w_pca, load_w_pca
from mocohd.train.image_gan import load_generator

if p["checkpoint"] is not None:
    G = load_generator(p["checkpoint"])  # eval mode, requires_grad False
else:
    G = Generator(64, 128, 4, 1, channel_scale=0.25).eval().requires_grad_(False)  # the shipped architecture, untrained
G.memory_format = torch.channels_last  # faster convolutions on CPUs
if p["pca_path"] is not None:
    pca = load_w_pca(p["pca_path"])
else:  # the official script uses 1M samples; the top directions of a 128-d W settle far sooner
    pca = fit_w_pca(G, n_samples=params.by_mode(mode, 20_000, 100_000), batch=2_000, n_components=G.style_dim, seed=seed)
trained = p["checkpoint"] is not None

# %%
# NBVAL_CHECK_OUTPUT
print(f"image generator: {G.size}x{G.size} px, w dimension {G.style_dim}, "
      f"{G.n_latent} style inputs, {G.num_layers} noise inputs")

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'trained' if trained else 'UNTRAINED'} generator, {sum(t.numel() for t in G.parameters()):,d} frozen parameters; "
      f"PCA of W: {len(pca['comp'])} directions of {pca['comp'].shape[1]} dimensions")

# %% [markdown]
# A few of its images, $G_I(f(z))$ for random $z$. Every frame of every video in this notebook
# is one of these, or a neighbour of one.

# %%
from mocohd import viz

z = torch.randn(8, G.style_dim)
with torch.no_grad():
    samples = G.synthesize(G.get_latent(z), use_noise=False)  # (8, 3, 64, 64)
viz.show_images(samples, suptitle="G_I samples" + ("" if trained else " (UNTRAINED generator: blobs)"));

# %% [markdown]
# ### Why W?
#
# $z$ is an isotropic Gaussian: every direction of $Z$ looks the same, so a step "along a
# direction of $Z$" has no preferred meaning. The mapping network bends that ball into $W$,
# where the data's factors are laid out far more linearly (the reason StyleGAN feeds $w$,
# not $z$, to the synthesis network), and where the spread is very uneven: a few directions
# carry much of the variance. The principal directions $PC_k$ of $W$, with their standard
# deviations $\sigma_k$, give a natural coordinate system, and steps measured in $\sigma_k$
# are steps of "typical size" along each axis. MoCoGAN-HD's motion generator walks in
# exactly these units. The PCA is the official recipe (`get_stats_pca.py`): map many $z$,
# fit incremental PCA, keep the directions and standard deviations (the mean is never used).

# %%
import matplotlib.pyplot as plt
import numpy as np

ratio = pca["var_ratio"].numpy()
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(np.arange(1, len(ratio) + 1), np.cumsum(ratio), label="W (after the mapping network)")
ax.plot(np.arange(1, len(ratio) + 1), np.arange(1, len(ratio) + 1) / len(ratio), "--", label="Z (isotropic)")
ax.set_xlabel("number of principal directions")
ax.set_ylabel("variance explained")
ax.legend()
ax.set_title("W is anisotropic; Z is not");
print(f"the top 8 of {len(ratio)} directions of W explain {ratio[:8].sum():.0%} of its variance "
      f"(in Z they would explain {8 / len(ratio):.0%})")

# %% [markdown]
# ### Why residuals? Content stays, motion moves
#
# A video has to keep *who* is in it while *what they do* changes. MoCoGAN-HD gets this by
# construction: frame 0 is $w_0 = f(z)$ itself, untouched, and every later frame is the
# previous one plus a small step,
#
# $$w_t = w_{t-1} + \lambda\, \Delta_t, \qquad \text{each component of } \Delta_t
#   \text{ along } PC_k \text{ at most } \sigma_k,\ \lambda = 0.2 .$$
#
# Compare two "videos" of 16 frames: a fresh $z$ for every frame (every frame a new image: no
# content is kept), and a random residual walk from one $w_0$ with steps of that size. We
# measure how far each frame is from frame 0 (mean absolute pixel difference, images in
# $[-1, 1]$).

# %%
from mocohd.motion import MotionGenerator, interpolate_midpoints, pca_coordinates, walk_along_pc
from mocohd.video_generator import VideoGenerator

g = torch.Generator().manual_seed(seed)
w0 = G.get_latent(torch.randn(1, G.style_dim, generator=g))  # (1, D)
fresh_w = G.get_latent(torch.randn(n_frames, G.style_dim, generator=g))[None]  # (1, T, D): a new image each frame
basis = pca["comp"] * pca["stdev"][:, None]  # (K, D): PC_k scaled by sigma_k
steps = 0.2 * (2 * torch.rand(n_frames - 1, len(basis), generator=g) - 1) @ basis  # (T-1, D), each |coeff| <= 0.2
walk_w = torch.cat([w0, w0 + steps.cumsum(0)])[None]  # (1, T, D): w_t = w_{t-1} + step

# VideoGenerator.render draws latents (B, T, D) as frames; its motion part is not used yet
renderer = VideoGenerator(G, MotionGenerator(G.style_dim, 8, 8))
with torch.no_grad():
    fresh, walk = renderer.render(torch.cat([fresh_w, walk_w]), noise="video", generator=g)  # (T, 3, H, W) each
distance = {name: (v - v[:1]).abs().mean(dim=(1, 2, 3)) for name, v in [("fresh z", fresh), ("residual walk", walk)]}
viz.show_videos([fresh, walk], titles=list(distance), fps=8)
for name, d in distance.items():
    print(f"{name:14s} mean |frame t - frame 0|: {d[1:].mean():.3f} (frame 1: {d[1]:.3f}, last: {d[-1]:.3f})")
if trained:
    assert distance["residual walk"][1:].mean() < distance["fresh z"][1:].mean()

# %% [markdown]
# The residual walk drifts slowly away from frame 0, the fresh-$z$ sequence jumps at once.
# (With the untrained fallback generator both are blobs and the comparison says little.)
# Note also the **noise**: StyleGAN2 adds per-pixel noise in every layer. MoCoGAN-HD draws one
# noise map per video and keeps it for all frames (`noise="video"`), so textures do not
# flicker; `noise="none"` renders without noise.

# %% [markdown]
# ## 2. The principal directions, played as videos
#
# What does moving along one principal direction look like? Here $w_t = w_0 + 2 \sin(2\pi
# t / T)\, \sigma_k\, PC_k$: out to $+2\sigma_k$, back through $w_0$ to $-2\sigma_k$, and
# home. These are the motions the motion generator can mix: each of its steps is a
# combination of such directions. In a trained face generator some directions turn the head
# or open the mouth, while others change identity or lighting, which a good motion generator
# learns to avoid.

# %%
pc_paths = torch.cat([walk_along_pc(w0, pca["comp"], pca["stdev"], k, n_frames, amplitude=2.0)
                      for k in range(n_pcs_shown)])  # (n_pcs_shown, T, D)
with torch.no_grad():
    noise = renderer.video_noise(1, torch.Generator().manual_seed(seed))
    pc_videos = renderer.render(pc_paths, noise=[n.expand(n_pcs_shown, -1, -1, -1) for n in noise])  # same noise for all
viz.show_videos(pc_videos, titles=[f"PC{k + 1} ({ratio[k]:.1%} of var)" for k in range(n_pcs_shown)], fps=8)

# %% [markdown]
# ## 3. The motion generator
#
# The official `RNNModule`, layer for layer:
#
# | step | equation | code (`mocohd/motion.py`) |
# |---|---|---|
# | encoder: one LSTM step on $w_0$ from a zero state | $(h_0, c_0) = \mathrm{LSTM}_{enc}(w_0)$ | `h, c = self.enc_cell(w0)` |
# | decoder: fresh noise at every frame | $\varepsilon_t \sim \mathcal N(0, I)$, $(h_t, c_t) = \mathrm{LSTM}_{dec}(\varepsilon_t, (h_{t-1}, c_{t-1}))$ | `h, c = self.cell(e, (h, c))` |
# | coefficients in $[-1, 1]$ | $a_t = \tanh(h_t A + b)$ | `self.coefficients(h)`: `torch.tanh(h @ self.w + self.b)` |
# | residual step along the PCs | $w_t = w_{t-1} + \lambda\, a_t\, (PC \odot \sigma)$ | `ws[-1] + self.w_residual * (self.coefficients(h) @ basis)` |
# | MI head | $\hat\varepsilon_t = \mathrm{fc}_2(\mathrm{ReLU}(\mathrm{fc}_1([h_t; c_t])))$ | `self.predict_noise(h, c)` |
#
# The paper's sizes are $w$: 512, $h$: 384, 384 principal directions, $\lambda = 0.2$. Our
# generator's $W$ has 128 dimensions, so the `full` preset keeps the paper's ratios: $h$ 96 and
# 96 directions (3/4 of $W$, as 384/512). The output matrix $A$ ($h \times$ `n_pca`; the
# official code names it `w`, and so does ours, but in this notebook $W$ is the latent space
# only) turns the LSTM state into one coefficient per principal direction. Initialisation is
# the official one: each LSTM gate block orthogonal, LSTM biases 0, linear weights orthogonal,
# $A \sim \mathcal N(0, 0.02^2)$, $b = 0$. A small $A$ means small steps: how small, we
# measure below.

# %%
from mocohd.motion import motion_preset

n_pca = min(3 * G.style_dim // 4, len(pca["comp"]))  # the paper's 3/4 of W, if the PCA has that many
cfg = motion_preset("full", w_dim=G.style_dim, h_dim=3 * G.style_dim // 4, n_pca=n_pca, n_frames=n_frames)
torch.manual_seed(seed)
motion = MotionGenerator(**cfg.motion_kwargs(), pca_comp=pca["comp"], pca_stdev=pca["stdev"])
video_generator = VideoGenerator(G, motion)

# %%
# NBVAL_CHECK_OUTPUT
print(cfg)
for name, module in motion.named_children():
    print(f"  {name:9s} {sum(t.numel() for t in module.parameters()):>7,d} parameters  {module}")
print(f"  w, b      {motion.w.numel() + motion.b.numel():>7,d} parameters  (A: h_dim x n_pca, b: n_pca)")
print(f"trainable in the video generator: {sum(t.numel() for t in video_generator.parameters() if t.requires_grad):,d}")

# %% [markdown]
# Its videos: `video_generator(z)` maps $z$ to $w_0$, unrolls the LSTM, and renders every
# $w_t$ through the frozen $G_I$, in chunks of frames. Two promises to check: frame 0 is
# exactly $G_I$'s image of $w_0$, and no step moves more than $\lambda \sigma_k$ along any
# principal direction.

# %%
z = torch.randn(n_videos, G.style_dim, generator=torch.Generator().manual_seed(seed))
noise = video_generator.video_noise(n_videos, torch.Generator().manual_seed(seed))  # one map per video and layer
with torch.no_grad():
    out = video_generator(z, n_frames, noise=noise, generator=torch.Generator().manual_seed(seed + 1))
    image0 = G.synthesize(G.get_latent(z), noise=noise)  # (B, 3, H, W): G_I's own image of w0

coords = pca_coordinates(motion, out["w"])  # (B, T, n_pca), in sigma units
step = coords[:, 1:] - coords[:, :-1]  # (B, T-1, n_pca)
assert torch.equal(out["w"][:, 0], G.get_latent(z))  # the latent: exactly
assert (out["video"][:, 0] - image0).abs().max() < 1e-4  # the image: up to batch-size rounding in the convs
assert step.abs().max() <= cfg.w_residual + 1e-4
print(f"video {tuple(out['video'].shape)}; max |frame 0 - G_I(w0)| = {(out['video'][:, 0] - image0).abs().max():.1e}")
print(f"mean step per frame and direction: {step.abs().mean():.4f} sigma = {step.abs().mean() / cfg.w_residual:.1%} "
      f"of the bound {cfg.w_residual} sigma (largest {step.abs().max():.4f} sigma)")
moved = (out["video"][:, -1] - out["video"][:, 0]).abs().mean()  # per pixel, images in [-1, 1]
print(f"frame {n_frames - 1}: {coords[:, -1].abs().mean():.4f} sigma from w0 per direction; |frame {n_frames - 1} - frame 0| = "
      f"{moved:.4f} per pixel (the random residual walk of section 1: {distance['residual walk'][-1]:.3f})")

# %% [markdown]
# The trajectories, as coordinates along the top four principal directions (in $\sigma$
# units, relative to $w_0$), for three videos (solid, dashed, dotted):

# %%
names = [f"PC{k + 1}" for k in range(4)]
viz.plot_series(coords[:3, :, :4], names, title="untrained motion generator: (w_t - w_0) on the PCs / sigma");
viz.show_videos(out["video"], titles=[f"video {i}" for i in range(n_videos)], fps=8)

# %% [markdown]
# The untrained generator does move, but little. With $A \sim \mathcal N(0, 0.02^2)$ each
# coefficient $a_t$ is a sum over the LSTM state with standard deviation $0.02\,\lVert h_t\rVert$,
# and $\lVert h_t\rVert$ is about 2 here, so $|a_t|$ averages about 0.03: a few percent of the
# bound. Measured above (smoke mode, 4 videos): the mean step per frame and direction is
# 0.0062$\sigma$, 3.1% of the bound $\lambda\sigma = 0.2\sigma$ (largest 0.036$\sigma$); by frame
# 15 a coordinate is on average 0.041$\sigma$ from $w_0$, and the frame differs from frame 0 by
# 0.0096 per pixel, against 0.153 for the random residual walk of section 1 (whose steps average
# half the bound). 0.0096 in $[-1, 1]$ is about one grey level of 255: visible in the plot,
# hardly in the videos.
#
# To see the *range* the formula allows, scale $A$ up so that $\tanh$ saturates: every
# coefficient is then $\pm 1$ and every frame moves the full $\lambda \sigma_k$ along every
# direction. That is the speed limit the architecture sets; training decides where, within
# it, to go.

# %%
import copy

fast = copy.deepcopy(motion)
with torch.no_grad():
    fast.w.mul_(100)  # A x 100
fast_generator = VideoGenerator(G, fast)
with torch.no_grad():
    fast_out = fast_generator(z, n_frames, generator=torch.Generator().manual_seed(seed + 1))
fast_coords = pca_coordinates(fast, fast_out["w"])
fast_step = (fast_coords[:, 1:] - fast_coords[:, :-1]).abs()
assert fast_step.max() <= cfg.w_residual + 1e-4
print(f"saturated: {(fast_step > 0.9 * cfg.w_residual).float().mean():.0%} of steps within 10% of the bound")
viz.plot_series(fast_coords[:3, :, :4], names, title="saturated tanh: every step at the bound");
viz.show_videos(fast_out["video"], titles=[f"fast {i}" for i in range(n_videos)], fps=8)

# %% [markdown]
# ## 4. Long videos
#
# Nothing in the LSTM fixes the length: ask for more frames and it keeps drawing noise and
# adding steps (the paper trains on 16 and shows longer unrolls). The official code also has
# an `--interpolation` switch that inserts the midpoint $(w_t + w_{t+1})/2$ between
# consecutive latents: 16 frames become 31, smoother and twice as long, at no cost to the
# LSTM. Notebook 07 looks at what long unrolls do to quality.

# %%
with torch.no_grad():
    long_out = video_generator(z[:1], 3 * n_frames, generator=torch.Generator().manual_seed(seed))
    smooth_out = fast_generator(z[:1], n_frames, interpolation=True, generator=torch.Generator().manual_seed(seed))
assert torch.allclose(smooth_out["w"][:, 1::2], (smooth_out["w"][:, :-1:2] + smooth_out["w"][:, 2::2]) / 2)
viz.show_videos([long_out["video"][0], smooth_out["video"][0]],
                titles=[f"{3 * n_frames} frames", f"{n_frames} frames + midpoints"], fps=8)

# %%
# NBVAL_CHECK_OUTPUT
print("unrolled:", tuple(long_out["video"].shape), " w:", tuple(long_out["w"].shape))
print("interpolated:", tuple(smooth_out["video"].shape), " w:", tuple(smooth_out["w"].shape),
      " e:", tuple(smooth_out["e"].shape))

# %% [markdown]
# ## 5. The mutual-information loss
#
# The decoder is fed fresh noise $\varepsilon_t$ at every frame: that noise is the *only*
# source of different motions for the same content. Nothing forces the LSTM to listen to
# it, though. Under adversarial training it may find that one safe motion per $w_0$ fools the
# discriminator, close its input gates and ignore the noise: every video of a face would then
# move the same way. MoCoGAN-HD adds a small head that tries to **read the noise back** from
# the state, $\hat\varepsilon_t = \mathrm{MLP}([h_t; c_t])$, and a loss
#
# $$\mathcal L_m = -\frac{1}{T-1}\sum_{t=1}^{T-1} \cos(\hat\varepsilon_t, \varepsilon_t)$$
#
# (`mutual_information_loss(e_rec, e)`, weight 1 in the official code). It stands in for the
# mutual information $I(\varepsilon_t; h_t, c_t)$, InfoGAN's argument: if the noise can be
# recovered from the state, the state carries it (a cosine replaces InfoGAN's
# log-likelihood, so only the noise's *direction* counts). It is $-1$ when the prediction
# points exactly along $\varepsilon_t$, about $0$ when the state says nothing about it.

# %%
# NBVAL_CHECK_OUTPUT
from mocohd.motion import mutual_information_loss

e = torch.randn(4, 15, G.style_dim)
print(f"L_m(e, e) = {mutual_information_loss(e, e):.3f}; L_m(random, e) = "
      f"{mutual_information_loss(torch.randn_like(e), e):+.3f}; untrained head: "
      f"{mutual_information_loss(out['e_rec'], out['e']):+.3f}")

# %% [markdown]
# ### Does it make motion more diverse? A small experiment
#
# The claim to test: *with* the MI loss, the paths from one $z$ under different noise are more
# spread out than *without* it. A real test needs the discriminators (notebook 05); here we
# train the motion generator alone, in $W$, without rendering a frame (so it takes seconds),
# on a stand-in for what a video discriminator asks: "travel about $1\sigma$ along the top
# directions by the last frame, smoothly" (`smooth_motion_objective`). Such an objective can
# be met by one motion for everybody, the collapse the MI loss is meant to prevent. Three runs
# from the same initialisation:
#
# - **objective only**, **objective + MI** (weight 1, as officially), and **MI only**;
#
# and, for each, the **spread**: for 8 contents $w_0$, 64 noise draws each, the standard
# deviation over the draws of the path's coordinates on the top 4 PCs (in $\sigma$), averaged
# over frames (`noise_spread`). 0 means every noise gives the same motion.

# %%
import json

from mocohd.motion import fit_motion, noise_spread, smooth_motion_objective


def spread_of(model):
    probe = torch.randn(8, model.w_dim, generator=torch.Generator().manual_seed(seed + 100))
    return noise_spread(model, probe, n_noise=64, n_frames=n_frames, generator=torch.Generator().manual_seed(seed + 101))


runs = {"untrained": dict(steps=0), "objective only": dict(objective=smooth_motion_objective, mi_weight=0.0),
        "objective + MI": dict(objective=smooth_motion_objective, mi_weight=1.0), "MI only": dict(mi_weight=1.0)}
results, histories = {}, {}
for name, kw in runs.items():
    torch.manual_seed(seed)  # the same initial weights for every run
    model = MotionGenerator(**cfg.motion_kwargs(), pca_comp=pca["comp"], pca_stdev=pca["stdev"])
    steps = kw.pop("steps", mi_steps)
    histories[name] = fit_motion(model, steps, n_frames=n_frames, seed=seed, **kw) if steps else []
    with torch.no_grad():
        probe_w, probe_e, probe_rec = model(torch.randn(64, model.w_dim), n_frames)
    results[name] = {"spread": spread_of(model), "mi_loss": mutual_information_loss(probe_rec, probe_e).item(),
                     "objective": smooth_motion_objective(pca_coordinates(model, probe_w)).item()}
    print(f"{name:15s} spread {results[name]['spread']:.4f} sigma   L_m {results[name]['mi_loss']:+.3f}   "
          f"objective {results[name]['objective']:.4f}")
_ = (p["out_dir"] / "mi_experiment.json").write_text(json.dumps({"steps": mi_steps, "results": results}, indent=2))

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
for name, history in histories.items():
    if history:
        axes[0].plot([h["objective"] for h in history], label=name)
        axes[1].plot([h["mi"] for h in history], label=name)
axes[0].set_title("stand-in objective")
axes[1].set_title("MI loss L_m")
for ax in axes:
    ax.set_xlabel("step")
    ax.legend(fontsize=8)
# the MI loss does what it measures: the state now carries the noise
assert results["objective + MI"]["mi_loss"] < results["objective only"]["mi_loss"] - 0.3

# %% [markdown]
# The smoke run checks these numbers against the ones measured when this notebook was written
# (smoke mode, seed 0: 150 steps), to 1 % (or 0.001 near 0); a number that moved is printed.

# %%
# NBVAL_CHECK_OUTPUT
import math

measured = {"untrained": (0.0313, -0.0039), "objective only": (0.0425, 0.0021), "objective + MI": (0.0296, -0.7586),
            "MI only": (0.0231, -0.8022)}  # (spread, L_m), smoke, seed 0
for name, expected in measured.items():
    got = (results[name]["spread"], results[name]["mi_loss"])
    close = math.isclose(got[0], expected[0], rel_tol=0.01) and math.isclose(got[1], expected[1], rel_tol=0.01, abs_tol=1e-3)
    print(f"{name:15s}", "as measured" if close else f"spread {got[0]:.4f}, L_m {got[1]:+.4f}")

# %% [markdown]
# **What the numbers say.** The MI loss does what it measures: with it, the noise can be read
# back from the LSTM state (cosine about 0.8 after the 150 smoke steps, 0.98 after 1,500),
# without it not at all (about 0). But in this experiment that does **not** turn into more
# diverse paths: the spread from one $w_0$ is not larger with the MI loss, it is smaller.
# Measured with the shipped generator (full mode, seed 0, 72 s): untrained 0.031 σ, objective
# only 0.0093 σ, objective + MI 0.0036 σ, MI only 0.0094 σ; smoke mode: 0.031, 0.043, 0.030
# and 0.023 σ. (These numbers do not depend on the image generator: in σ units along
# orthonormal directions, the path is $\lambda \sum_t a_t$, the LSTM's alone.) We found the
# same direction, less clearly, with two other stand-ins that we tried while writing this
# notebook (a small adversarial discriminator on the paths, with and without the content as
# its input, 400 to 800 steps): with the MI loss the spread was smaller for 3 of 5 seeds and
# slightly larger for 2.
#
# Why? Two reasons you can check in the code. First, $\mathcal L_m$ only reaches the LSTM and
# the MI head; $A$ and $b$, which turn $h_t$ into a step, never see it, so whatever the
# objective wants, $A$ can simply project the noise away. Second, to make $\varepsilon_t$
# readable from $(h_t, c_t)$ the LSTM learns to keep the *current* noise and forget the old
# ones, so successive steps are less correlated and their sum, the path, spreads less. The MI
# loss is a guard against the LSTM *ignoring* its input, a failure that shows up under the
# real adversarial game; whether it buys diversity there is a question for notebook 05. Its
# section 9 answers it with two real training runs, with and without the MI loss, measured
# the same way (`noise_spread`) and on the rendered frames.

# %% [markdown]
# ## 6. Official checkpoints
#
# The official motion checkpoints, `modelR_epoch_*.pth`, are plain state dicts of `RNNModule`
# with keys `enc_cell.*`, `cell.*`, `w`, `b`, `fc1.*`, `fc2.*` (sometimes with a `module.`
# prefix), and no PCA: that is shipped separately as a `pca_stats/<name>/` folder of `.npy`
# files. Our module uses the same names and shapes, and adds the PCA as buffers
# (`pca_comp`, `pca_stdev`) so our own state dicts are self-contained.
# `load_official_motion(path, pca_folder)` reads them and lists every key that does not fit.
# Here we write our module in the official layout and read it back; the paper-sized files
# (for 256-pixel StyleGAN2s) load the same way, with the matching image generator.

# %%
import numpy as np

from mocohd.motion import load_official_motion

official_dir = p["out_dir"] / "official_layout"
(official_dir / "pca_stats").mkdir(parents=True, exist_ok=True)
torch.save({k: v for k, v in motion.state_dict().items() if not k.startswith("pca_")}, official_dir / "modelR_epoch_0.pth")
np.save(official_dir / "pca_stats" / "pca_comp.npy", pca["comp"].numpy())
np.save(official_dir / "pca_stats" / "pca_stdev.npy", pca["stdev"].numpy())
reloaded = load_official_motion(official_dir / "modelR_epoch_0.pth", official_dir / "pca_stats")
assert all(torch.equal(a, b) for a, b in zip(reloaded.state_dict().values(), motion.state_dict().values()))
try:
    load_official_motion({"w": torch.zeros(3, 3)}, official_dir / "pca_stats")
except ValueError as error:
    print("ValueError:", str(error)[:400], "...")

# %% [markdown]
# Finally, the videos of this notebook as one GIF in the output folder:

# %%
from mocohd.data import video_io

grid = viz.video_grid(list(out["video"][:4]) + list(fast_out["video"][:4]), columns=4, scale=2)
gif = video_io.write_video(p["out_dir"] / "motion_generator.gif", grid, fps=8)
assert gif.stat().st_size > 0
print("wrote", gif.name, "and mi_experiment.json")

# %% [markdown]
# ## Recap
#
# - A MoCoGAN-HD video is a path $w_0, w_1, \dots$ in the $W$ space of a frozen StyleGAN2.
#   $w_0 = f(z)$ is kept exactly (frame 0 is an ordinary image: the content), and every later
#   frame adds a residual step (the motion).
# - Steps are combinations of the principal directions of $W$, each scaled by its standard
#   deviation and by $\lambda \tanh(\cdot)$: at most $0.2\,\sigma_k$ per frame along
#   direction $k$.
# - The motion generator is an LSTM: one encoder step on $w_0$, then a decoder fed fresh
#   noise each frame. Untrained, with the official small init, it moves about 3% of its
#   bound per frame.
# - The same module unrolls to any length; midpoints in $W$ double the frame rate.
# - The MI loss makes the noise readable from the LSTM state. In our small experiment that
#   did not make paths more diverse; its role is to stop the LSTM ignoring its noise.
#
# ## Exercises
#
# 1. Play PC 10, 20 and 50 as videos (section 2). Do the later directions change the
#    content or the pose? What does that suggest about `n_pca`?
# 2. Change `w_residual` to 0.05 and 1.0 in the saturated generator. At which value does the
#    face stop being the same face by frame 15?
# 3. In the experiment, measure the spread of the *steps* instead of the positions
#    (`coords[:, 1:] - coords[:, :-1]`). Does the MI loss change the picture?
# 4. Train with the MI loss and freeze $A$ and $b$ (`model.w.requires_grad_(False)`, and
#    `model.b`): does the spread now grow? Explain with the first reason above.
# 5. Compute the correlation between successive LSTM states $h_t$, $h_{t+1}$ with and without
#    the MI loss. Does the second reason hold?
# 6. How long is the paper's training? The official scripts train for 20 epochs on UCF-101
#    (its README says 100), 100 on FaceForensics and 200 on Sky time-lapse, an epoch being one
#    clip from each video. At a batch of 16, UCF-101's 13,320 videos give 832 iterations per
#    epoch (about 17,000 in 20 epochs) and FaceForensics' 704 training videos (official issue
#    #10) give 44 (about 4,400 in 100 epochs; the released FaceForensics checkpoint is from
#    epoch 799, about 35,000). These are our estimates from the video counts, not logged
#    figures. Notebook 05's MI ablation stops at 230 and 800 iterations, and its 800-iteration
#    run recorded 6,481 s of wall time (`data/checkpoints/ablation/faces_motion_mi_800.json`).
#    At that rate, how long would 4,400 iterations take here, and which setting of notebook 05
#    would you shrink first?
