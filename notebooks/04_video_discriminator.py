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
# # 04 · The video discriminator
#
# The motion generator is trained against two critics. The image discriminators (notebook 03:
# the in-domain pair PatchGAN and the contrastive one) judge frames; the **video discriminator** judges
# *motion*: it is a PatchGAN with 3D convolutions, so every cell of its output map scores a
# small block of space *and time*. Here we build it, look at its output maps, and train it
# briefly to tell real toy clips from two kinds of fakes that have perfect frames but wrong
# motion: clips with **shuffled frames** and **frozen** clips.
#
# **What you will learn**
# - how the official 3D discriminator is put together (two scales, five stages each, strides in
#   time too) and the shapes of its output maps, at the paper's size and ours;
# - its input: frame 0 stacked onto every later frame (in-domain), or the plain clip (cross-domain);
# - its loss: relativistic-average LSGAN plus a gradient penalty whose norm is taken per voxel
#   over the channels, and how that differs from the textbook penalty;
# - why the official code plays clips backwards half of the time.
#
# **What it costs** (2-core laptop CPU): `mode="smoke"` under a minute (40 steps on 8-frame
# clips: every cell runs, the accuracy stays near chance); `mode="full"` about 4 minutes
# (400 steps on 16-frame clips), where frozen and shuffled clips are told apart clearly.

# %% tags=["parameters"]
mode = "smoke"  # "smoke": quick check of every cell; "full": the real run
seed = 0
size = 32  # frame size: 32 or 64 (CPU presets), 128 (paper)
domain = "sky"  # toy-world domain; sky: drifting clouds and changing light, clear motion
frames = None  # frames per clip; None: 8 (smoke) or 16 (full, as the paper)
ndf = 8  # width of the first 3D conv (paper 64); every later stage doubles it
steps = None  # training steps; None: 40 (smoke) or 400 (full)
batch = None  # clips per step; None: 8 (smoke) or 16 (full)
lr = 1e-3  # Adam learning rate (paper 1e-4: too slow to see anything in a short CPU run)
out_dir = "runs/04_video_discriminator"

# %%
import math
from dataclasses import asdict

import matplotlib.pyplot as plt
import torch
from tqdm.auto import tqdm

from mocohd.augment import random_temporal_flip
from mocohd.data.toyworld import DOMAINS, make_clips
from mocohd.discriminators import (
    DiscriminatorConfig,
    build_video_discriminator,
    video_input_cross_domain,
    video_input_in_domain,
)
from mocohd.losses import final_maps, gradient_penalty, gradient_penalty_textbook, ralsgan_d_loss
from mocohd.params import by_mode, validate
from mocohd.checkpoint import rng_state, save_checkpoint
from mocohd.viz import plot_losses, show_images, show_videos

p = validate(mode, seed, out_dir, size=size)
if domain not in DOMAINS:
    raise ValueError(f"domain={domain!r} is not a toy-world domain; use one of {DOMAINS}")
frames = frames or by_mode(mode, 8, 16)
steps = steps or by_mode(mode, 40, 400)
batch = batch or by_mode(mode, 8, 16)
if frames < 4 or not isinstance(ndf, int) or ndf < 1:
    raise ValueError(f"need frames >= 4 and a positive int ndf, got frames={frames!r}, ndf={ndf!r}")
cfg = DiscriminatorConfig.for_size(size).with_(frames=frames, ndf=ndf)
g = torch.Generator().manual_seed(seed)  # batches, shuffles, time flips, penalty mixing
print(f"mode={mode}: {steps} steps of {batch} clips, {frames} frames at {size}x{size}, ndf={ndf}")

# %% [markdown]
# ## The clips
#
# Toy clips are drawn with twice the frames and every other frame is kept, as the official
# data loader does (`time_step 2`): more motion per frame.

# %%
def toy_clips(n, clip_seed):
    return make_clips(domain, n, frames=2 * frames, size=size, seed=clip_seed).video[:, ::2]  # (N, T, 3, H, W)


train_clips = toy_clips(by_mode(mode, 256, 1024), seed)
test_clips = toy_clips(by_mode(mode, 32, 128), seed + 1000)
print("train", tuple(train_clips.shape), "test", tuple(test_clips.shape))

# %% [markdown]
# ## What the discriminator sees
#
# In the **in-domain** setting (real and generated videos of the same dataset) the official
# code stacks frame 0 onto each later frame along the channels: the input has 6 channels and
# $T-1$ time steps, `(B, 6, T-1, H, W)`. Every patch the discriminator scores can thus compare
# "now" with "the start", so drifting content is as visible as unnatural motion. In the
# **cross-domain** setting it sees the plain clip `(B, 3, T, H, W)`.

# %%
clip = test_clips[:1]  # (1, T, 3, H, W)
x_in = video_input_in_domain(clip)  # (1, 6, T-1, H, W)
x_cross = video_input_cross_domain(clip)  # (1, 3, T, H, W)
print("clip", tuple(clip.shape), "-> in-domain input", tuple(x_in.shape), "| cross-domain input", tuple(x_cross.shape))
pairs = torch.cat([x_in[0, :3].transpose(0, 1), x_in[0, 3:].transpose(0, 1)])  # (2(T-1), 3, H, W)
show_images(pairs, columns=frames - 1, size=1.1,
            suptitle="in-domain input: channels 0-2 (top) = frame 0 at every step, channels 3-5 (bottom) = frames 1..T-1")
plt.show()

# %% [markdown]
# ## The discriminator, built up
#
# Each scale is pix2pixHD's `NLayerDiscriminator` with `Conv3d`: five stages with kernel 4 and
# padding 2, strides 2, 2, 2, 1, 1 (**in time as well as in space**), widths 64, 128, 256, 512, 1,
# instance norm (no affine, running statistics) after stages 2-4, LeakyReLU 0.2. A stack of
# k4 convolutions with these strides sees a 70x70 pixel patch per output cell (1 + 3·(1+2+4+8+8) = 70).
# The second scale sees the clip average-pooled 2x **in space only** (clips of at most 16 frames
# keep their time resolution), so its cells cover 140x140 pixels of the original. Its first
# stage is $\min(64, 2\,\mathrm{ndf})$ wide (the official width rule, notebook 03): the same as
# the first scale's at the paper's ndf 64, twice as wide at ours.
# Each stage's output is returned (the official `getIntermFeat`); the losses use the last.
#
# The shapes at the paper's size (128x128, 16 frames; built on PyTorch's `meta` device: shapes
# without memory or compute) and at ours:

# %%
# NBVAL_CHECK_OUTPUT
def shape_table(d, x):
    for s, feats in enumerate(d(x)):
        print(f"  scale {s + 1}: " + " -> ".join(str(tuple(f.shape[1:])) for f in feats))
    print(f"  {sum(p.numel() for p in d.parameters()):,} parameters")


paper = DiscriminatorConfig.preset("paper")
with torch.device("meta"):
    print("paper, in-domain, input (B, 6, 15, 128, 128):")
    shape_table(build_video_discriminator(paper), torch.empty(1, 6, 15, 128, 128))
    print("paper, cross-domain, input (B, 3, 16, 128, 128):")
    shape_table(build_video_discriminator(paper, cross_domain=True), torch.empty(1, 3, 16, 128, 128))
torch.manual_seed(seed)
D = build_video_discriminator(cfg)
print(f"ours, in-domain, input (B, 6, {frames - 1}, {size}, {size}):")
shape_table(D, x_in)

# %% [markdown]
# The paper's final maps are 1x5x19x19 (scale 1) and 1x5x11x11 (scale 2): 1,805 + 605 space-time
# patches, each judged real or fake.
#
# ## The fakes
#
# Two kinds of fakes with perfectly real frames: **shuffled** (the frames of a real clip in random
# order) and **frozen** (frame 0 repeated). An image discriminator cannot catch either; a video
# discriminator must.

# %%
def shuffled(clips):
    return torch.stack([c[torch.randperm(c.shape[0], generator=g)] for c in clips])


def frozen(clips):
    return clips[:, :1].expand_as(clips)


demo = test_clips[:3]
show_videos(torch.cat([demo, shuffled(demo), frozen(demo)]), columns=3, fps=6,
            titles=["real"] * 3 + ["shuffled"] * 3 + ["frozen"] * 3)

# %% [markdown]
# ## The loss
#
# **Relativistic-average LSGAN** (summed over the two scales, on the last map of each): the
# discriminator is asked that real clips score one unit above the *average* fake, and fake clips
# score the same as the average real:
#
# $$\mathcal L_D = \tfrac12\Big[\big(D(r) - \overline{D(f)} - 1\big)^2 + \big(D(f) - \overline{D(r)}\big)^2\Big].$$
#
# **Gradient penalty** (official `compute_gradient_penalty_T`): on $\hat x = \alpha r + (1-\alpha) f$
# ($\alpha\sim U(0,1)$ per clip),
#
# $$\mathcal L_{GP} = \frac{10}{n_\text{scales}}\sum_\text{scales}\operatorname{mean}_{b,t,h,w}\Big(\big\|\nabla_{\hat x} \textstyle\sum D(\hat x)\big\|_{2,\ \text{channels}} - 1\Big)^2 .$$
#
# Note the norm: the official code takes it over the **channel dimension only**, so every voxel's
# 6-channel gradient is pushed towards norm 1. The textbook WGAN-GP (Gulrajani et al.) takes one norm
# over the whole clip. We compare the two after training.
#
# **Time reversal**: before each discriminator call the whole real batch is reversed in time with
# probability 1/2, and so, with its own coin, is the fake batch (`random_temporal_flip`).
#
# ## A brief training
#
# The fake batch is half shuffled, half frozen clips. Adam with $\beta = (0.5, 0.999)$ as in the paper.
# For accuracy we use what a relativistic discriminator is trained for, the *ranking*: the fraction of
# (real, fake) pairs of held-out clips where the real clip gets the higher score (mean over both
# output maps). 0.5 is chance, 1 is perfect.
#
# (The discriminator stays in training mode throughout: its instance norms carry running statistics,
# as the official `track_running_stats=True`, and in eval mode they would use those instead of each
# clip's own statistics.)

# %%
opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))


@torch.no_grad()
def scores(clips):  # (N, T, 3, H, W) -> (N,)
    return sum(m.mean(dim=(1, 2, 3, 4)) for m in final_maps(D(video_input_in_domain(clips))))


def ranking_accuracy(real, fake):
    return (scores(real)[:, None] > scores(fake)[None, :]).float().mean().item()


log = {"step": [], "D loss (RaLSGAN)": [], "gradient penalty": []}
accuracy = {"step": [], "real vs shuffled": [], "real vs frozen": []}
eval_every = max(1, steps // 10)
for step in tqdm(range(steps + 1)):
    if step % eval_every == 0 or step == steps:
        accuracy["step"].append(step)
        accuracy["real vs shuffled"].append(ranking_accuracy(test_clips, shuffled(test_clips)))
        accuracy["real vs frozen"].append(ranking_accuracy(test_clips, frozen(test_clips)))
    if step == steps:
        break
    real = train_clips[torch.randint(len(train_clips), (batch,), generator=g)]
    fake = torch.cat([shuffled(real[: batch // 2]), frozen(real[batch // 2:])])
    r, f = video_input_in_domain(real), video_input_in_domain(fake)  # (B, 6, T-1, H, W)
    d_loss = ralsgan_d_loss(D(random_temporal_flip(r, generator=g)), D(random_temporal_flip(f, generator=g)))
    gp = gradient_penalty(D, r, f, generator=g)  # on the un-flipped inputs, as official
    opt.zero_grad()
    (d_loss + gp).backward()
    opt.step()
    for key, value in zip(log, (step, d_loss.item(), gp.item())):
        log[key].append(value)

fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
plot_losses(log, smooth=max(1, steps // 20), ax=axes[0], title="discriminator losses")
plot_losses(accuracy, ax=axes[1], title="ranking accuracy on held-out clips")
axes[1].axhline(0.5, color="grey", ls=":")
axes[1].set_ylim(0, 1.02)
plt.show()

print({k: round(v[-1], 3) for k, v in accuracy.items() if k != "step"})
assert all(math.isfinite(v) for v in log["D loss (RaLSGAN)"] + log["gradient penalty"]), "a loss became NaN or infinite"
if mode == "full":  # the claim of this notebook, checked where the run is long enough to make it
    assert accuracy["real vs frozen"][-1] > 0.8 and accuracy["real vs shuffled"][-1] > 0.7, accuracy
else:  # smoke: 40 steps are too few to learn the fakes (measured 0.49 to 0.61 over seeds 0-2 and 1 or 2 threads)
    assert all(abs(v[-1] - 0.5) < 0.2 for k, v in accuracy.items() if k != "step"), accuracy

# %% [markdown]
# After 40 steps the exact numbers depend on the CPU: Adam turns rounding differences into
# different steps (2 threads instead of 1 gave 0.49 and 0.58 above). Before the first step
# they do not, so the smoke run checks those against the values measured when this notebook
# was written (smoke mode, seed 0), to 1 %:

# %%
# NBVAL_CHECK_OUTPUT
measured = {"D loss (RaLSGAN)": (log["D loss (RaLSGAN)"][0], 1.7734), "gradient penalty": (log["gradient penalty"][0], 8.062),
            "real vs shuffled": (accuracy["real vs shuffled"][0], 0.4668), "real vs frozen": (accuracy["real vs frozen"][0], 0.5205)}
for name, (value, expected) in measured.items():
    print(f"step 0, {name:18s}", "as measured" if math.isclose(value, expected, rel_tol=0.01) else f"{value:.4f}")

# %% [markdown]
# Frozen clips are the easier fake: the stacked input makes "nothing changed since frame 0" visible
# in every patch. Shuffled clips need the discriminator to notice that motion jumps back and forth
# (in our full run: 0.99 against frozen, 0.93 against shuffled clips). The RaLSGAN loss would sit at
# 1 (1/2 per scale) if the discriminator could not tell the sets apart; its floor is 0.5, reached when
# every real clip scores exactly half a unit above every fake.
#
# ## The two gradient penalties
#
# On the trained discriminator, for the same real/fake batch:

# %%
real = test_clips[:batch]
fake = torch.cat([shuffled(real[: batch // 2]), frozen(real[batch // 2:])])
r, f = video_input_in_domain(real), video_input_in_domain(fake)
official = gradient_penalty(D, r, f, generator=torch.Generator().manual_seed(seed)).item()
textbook = gradient_penalty_textbook(D, r, f, generator=torch.Generator().manual_seed(seed)).item()
voxels = r[0, 0].numel()
print(f"official (norm per voxel over {r.shape[1]} channels): {official:.3f}")
print(f"textbook (one norm over all {r[0].numel():,} numbers of a clip): {textbook:.3f}")
print(f"unit norm per voxel means a whole-clip norm of about sqrt((T-1)HW) = sqrt({voxels:,}) = {voxels ** 0.5:.0f}")

# %% [markdown]
# The two ask for very different things. The textbook penalty wants the gradient of the *whole*
# output with respect to the whole clip to have norm 1: the discriminator is 1-Lipschitz as a function
# of the clip. The official one wants norm 1 *at every voxel*, summed over all output cells; with
# $(T-1)HW$ voxels that makes the whole-clip gradient norm about $\sqrt{(T-1)HW}$ (printed above),
# a much looser and more local constraint: each pixel's colour change must move the
# summed score by about one unit. Exercise 2 trains with the textbook form.
#
# ## Why reverse clips in time?
#
# The code does not say. Two readings: (1) it is data augmentation for the discriminator, twice the
# motions from the same few videos (FaceForensics has 704); (2) it makes the discriminator indifferent
# to the direction of time, so it judges *whether* the motion looks natural, not *which way* it runs,
# and the generator is not pushed towards one direction. Toy sky clouds drift with the wind and the
# light changes slowly; played backwards these are just as plausible. A discriminator trained with
# flips scores reversed real clips like real ones, well above both fakes (in our full run: +0.17
# forwards, +0.26 reversed, -0.45 shuffled, -0.91 frozen):
#
# (A detail: the flip is applied to the stacked input, so frame 0 stays the reference and only the
# order of the (frame 0, frame t) pairs is reversed.)

# %%
@torch.no_grad()
def mean_score(x):
    return sum(m.mean().item() for m in final_maps(D(x)))


stacked = video_input_in_domain(test_clips)
mean_scores = {name: mean_score(x) for name, x in (
    ("real, forwards", stacked), ("real, reversed", stacked.flip(2)),
    ("shuffled", video_input_in_domain(shuffled(test_clips))), ("frozen", video_input_in_domain(frozen(test_clips))))}
for name, value in mean_scores.items():
    print(f"{name:>15}: mean score {value:+.3f}")
if mode == "full":
    real_like = min(mean_scores["real, forwards"], mean_scores["real, reversed"])
    assert real_like > max(mean_scores["shuffled"], mean_scores["frozen"]), mean_scores
else:  # smoke: after 40 steps the order varies with the seed (seed 1: shuffled above real); the scores stay finite
    assert all(math.isfinite(v) for v in mean_scores.values()), mean_scores

# %%
path = save_checkpoint(p["out_dir"] / "video_d.pt", {
    "format": "mocohd.video_discriminator", "version": 1,
    "config": {**asdict(cfg), "domain": domain, "cross_domain": False},
    "state_dicts": {"d_3d": D.state_dict()}, "step": steps, "rng": rng_state()})
print("saved", path)

# %% [markdown]
# ## Recap
#
# - The video discriminator is the pix2pixHD two-scale PatchGAN with `Conv3d`: strides in time too,
#   spatial-only pooling between scales for clips up to 16 frames; at 128x128 its maps are
#   1x5x19x19 and 1x5x11x11.
# - In-domain it sees frame 0 stacked onto every later frame (6 channels, T-1 steps); cross-domain the plain clip.
# - Its loss is relativistic-average LSGAN plus a gradient penalty with the norm per voxel over channels
#   (x10, averaged over scales), a different constraint from textbook WGAN-GP.
# - Each batch is reversed in time with probability 1/2: augmentation, and indifference to time's direction.
# - Even briefly trained, it catches clips whose frames are all real but whose motion is not.
#
# ## Exercises
#
# 1. Train without `random_temporal_flip` and compare the scores of forward and reversed real clips.
#    Does the discriminator learn the arrow of time of the toy sky?
# 2. Replace `gradient_penalty` by `gradient_penalty_textbook` in the training loop. How do the two
#    losses and the ranking accuracy change?
# 3. Feed the plain clip instead (`build_video_discriminator(cfg, cross_domain=True)` with
#    `video_input_cross_domain`). Which fake becomes harder, and why?
# 4. Try the `actions` or `faces` domain: their motions are smaller. How many more steps does the
#    discriminator need?
# 5. Make clips of 32 frames (`frames=32`): the second scale now pools time as well. Print the shape table.
