# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Training MoCoGAN-HD
#
# Notebooks 01–04 built the pieces: a frozen image generator $G_I$, a motion generator $G_M$
# (an LSTM that walks through $G_I$'s latent space W), an image discriminator $D_I$ and a
# video discriminator $D_V$. Here they meet in the training loop of the paper, as the official
# `train.py` runs it, and we watch a motion generator learn.
#
# **What you will learn**
# - one training iteration line by line: five motion-generator updates, then one
#   discriminator update, and which loss each network sees;
# - why only $G_M$ and the discriminators have optimizers, and how gradients still pass
#   *through* the frozen $G_I$;
# - what the losses look like while training, and what a trained $G_M$ does: the same face,
#   moving (one $z$, several motion noises side by side);
# - how to measure motion without a human: read the toy world's true factors off every
#   generated frame;
# - what the mutual-information loss does in the real loop: the same run with and without it.
#
# **What it costs** (2-core laptop CPU): `mode="smoke"` about 1–2 minutes (a few iterations of
# the loop at reduced size: every line runs, nothing is learned yet); `mode="full"` trains the
# full preset for `steps` iterations, about 10–15 s each on a quiet machine (200 iterations
# ≈ 40 min) — the shipped models were made this way (`make checkpoints`). Section 9 measures the
# shipped ablation files: about 1 minute in smoke mode, 5 in full mode.

# %% tags=["parameters"]
mode = "smoke"  # "smoke": every cell runs quickly; "full": a real training run
seed = 0
domain = "faces"  # toy-world domain of the real clips: faces or sky have shipped models
image_checkpoint = "data/checkpoints/faces_64.pt"  # the frozen image generator G_I (+ its .pca.pt)
motion_checkpoint = "data/checkpoints/faces_motion.pt"  # a shipped, trained motion generator
sky_motion_checkpoint = "data/checkpoints/sky_motion.pt"
big_eyes_motion_checkpoint = "data/checkpoints/faces_big_eyes_motion.pt"  # over toy:faces_big_eyes (section 8)
# faces that blink: the paper's loop plus a nearest-path term, not the paper alone (sections 6 and 8)
blink_motion_checkpoint = "data/checkpoints/faces_blinks_motion.pt"
# the steered blink run's whole training state at 2,650 iterations (section 8, "Where the discriminators lead")
steered_state = "data/checkpoints/states/faces_big_eyes_blinks_steered_d32/checkpoint.pt"
ablation_dir = "data/checkpoints/ablation"  # faces motion generators trained with and without the MI loss
n_videos = None  # videos per motion measurement; None: 8 (smoke) or 32 (full)
steps = None  # training iterations; None: 3 (smoke) or 200 (full)
bf16 = True  # bf16 autocast for rendering frames through G_I (slower than fp32 on a CPU without bf16 instructions: the trainer warns)
channels_last = True
out_dir = "runs/05_training"

# %%
import inspect
import json

import matplotlib.pyplot as plt
import torch
from IPython.display import clear_output, display

from mocohd.config import video_preset
from mocohd.data.toyworld import DOMAINS
from mocohd.metrics.toy_features import video_factors
from mocohd.params import by_mode, validate
from mocohd.train.video_gan import VideoGANTrainer, load_video_generator
from mocohd.viz import plot_losses, plot_series, show_videos

p = validate(mode, seed, out_dir, image_checkpoint=image_checkpoint, motion_checkpoint=motion_checkpoint,
             sky_motion_checkpoint=sky_motion_checkpoint, ablation_dir=ablation_dir,
             big_eyes_motion_checkpoint=big_eyes_motion_checkpoint, steered_state=steered_state,
             blink_motion_checkpoint=blink_motion_checkpoint)
if domain not in DOMAINS:
    raise ValueError(f"domain={domain!r} is not a toy-world domain; use one of {', '.join(DOMAINS)}")
steps = steps or by_mode(mode, 3, 200)
n_videos = n_videos or by_mode(mode, 8, 32)
torch.set_num_threads(min(2, torch.get_num_threads()))

# %% [markdown]
# ## 1. The configuration
#
# `video_preset` holds the official defaults by their official names: `G_step = 5` generator
# updates per discriminator update, Adam with learning rate $10^{-4}$ and betas $(0.5, 0.999)$
# for $G_M$ and the PatchGAN discriminators, 16 frames per clip. The `full` preset keeps all of
# this and scales sizes to a CPU: 64×64 frames (the paper's discriminators see 128×128),
# batch 4 (paper: 16), an LSTM of 96 units over the 96 top principal directions of a 128-d W
# (paper: 384 over 384 of a 512-d W). `smoke` shrinks further so the loop runs in seconds.

# %%
cfg = video_preset(mode, image_generator=str(p["image_checkpoint"]), data=f"toy:{domain}", steps=steps,
                   bf16=bf16, channels_last=channels_last, seed=seed)
paper = video_preset("paper")
rows = [(f, getattr(cfg, f), getattr(paper, f)) for f in ("frames", "batch", "g_steps", "lr", "motion", "discriminators", "w_gp")]
print(f"{'setting':16s} {'this run':>14s} {'paper':>14s}")
for name, ours, theirs in rows:
    print(f"{name:16s} {str(ours):>14s} {str(theirs):>14s}")

# %% [markdown]
# **What the paper's sizes cost.** The trainer computes where `device` says: `auto`, the
# default, takes a GPU when PyTorch sees one (this notebook's sizes are meant for the CPU). On one
# NVIDIA H200, `python -m mocohd.bench_gpu` timed an iteration of the `paper` preset (a 256 px
# $G_I$ of the paper's width, discriminators at 128 px): the paper's 16 clips of 16 frames ran out
# of the GPU's 140 GiB in fp32, since all 256 frames are rendered with gradients to their
# latents; 8 clips took 2.5 s and 84 GiB, and 16 clips in bf16 5.3 s and 95 GiB. That is why the
# official batch is a *global* batch, split over GPUs (README, "Several processes or machines").
# The same run put the `full` preset's iteration at 0.3 s there.

# %% [markdown]
# ## 2. One iteration, line by line
#
# `VideoGANTrainer.train_step` takes **one real batch** and makes `g_steps` updates of the motion
# generator, then one discriminator update — the official `GD_step`:

# %%
print(inspect.getsource(VideoGANTrainer.train_step))

# %% [markdown]
# **The generator update.** A fresh $z$ is mapped to $w_0$; the LSTM produces the path
# $w_1, \dots, w_{T-1}$; every $w_t$ is rendered by the frozen $G_I$ with one noise map per video;
# frames are average-pooled to the discriminators' size. The motion generator then minimises
#
# $$\mathcal{L}_{G} = \underbrace{\mathcal{L}^{\text{RaLS}}_{G}(D_V)}_{\text{motion}}
#   + \underbrace{\mathcal{L}^{\text{RaLS}}_{G}(D_I(x_0, x_k))}_{\text{content of frame } k}
#   + \underbrace{\mathcal{L}_{\text{MI}}}_{\text{diversity}},$$
#
# with the relativistic-average LSGAN loss
# $\mathcal{L}^{\text{RaLS}}_{G} = \tfrac12\,\mathbb{E}[(D(f) - \bar D(r) - 1)^2] + \tfrac12\,\mathbb{E}[(D(r) - \bar D(f))^2]$
# summed over the two scales, and the mutual-information loss
# $\mathcal{L}_{\text{MI}} = -\cos(\hat\epsilon_t, \epsilon_t)$ (notebook 02). Only `opt_motion`
# steps: the discriminators' gradients are switched off, and $G_I$ has none at all.

# %%
print(inspect.getsource(VideoGANTrainer.g_update))

# %% [markdown]
# **The discriminator update** scores real clips against fresh fakes (no gradient to $G_M$):
# the video discriminator adds the official gradient penalty (notebook 04), then the image
# discriminator sees (frame 0, frame $k$) pairs with the same $k$ for real and fake. Each video
# batch is played backwards with probability ½ — independently for the real and the fake call.

# %%
print(inspect.getsource(VideoGANTrainer.d_update))

# %% [markdown]
# ## 3. Build the trainer and check what is frozen
#
# The optimizers are built from the motion generator's and the discriminators' parameters only.
# We check it rather than trust it: no parameter of $G_I$ is in any optimizer, and none requires
# a gradient.

# %%
trainer = VideoGANTrainer(cfg, p["out_dir"])
g_i = trainer.video_g.image_generator
in_optimizers = {id(q) for o in (trainer.opt_motion, trainer.opt_d3d, trainer.opt_dimg)
                 for group in o.param_groups for q in group["params"]}
frozen_ok = not any(id(q) in in_optimizers or q.requires_grad for q in g_i.parameters())
count = lambda m: sum(q.numel() for q in m.parameters())
print(f"G_I: {count(g_i):,} parameters, frozen: {frozen_ok}")
print(f"G_M: {count(trainer.motion):,}   D_V: {count(trainer.d_3d):,}   D_I: {count(trainer.d_img):,} (trained)")
assert frozen_ok
g_i_before = {k: v.clone() for k, v in g_i.state_dict().items()}

# %% [markdown]
# ## 4. Before training
#
# The untrained motion generator already moves: its LSTM starts with random weights, so each
# step is a random mix of principal directions, bounded by $\lambda\sigma_k$ per axis. These
# are the fixed samples the trainer writes every `sample_every` iterations (no noise maps).

# %%
before = trainer.sample_videos()
show_videos(before, titles=[f"z{i}" for i in range(len(before))], fps=6)

# %% [markdown]
# ## 5. Train, with a live loss plot
#
# Each iteration is 5 generator updates and 1 discriminator update. Rendering frames through
# $G_I$ with gradients to the latents is most of the cost (`make bench` splits it up).

# %%
history = []
fig, ax = plt.subplots(figsize=(7, 3))
while trainer.step < steps:
    logs = trainer.train_step()
    history.append({"step": trainer.step, **logs})
    if trainer.step % max(1, steps // 20) == 0 or trainer.step == steps:
        ax.clear()
        plot_losses({k: [h[k] for h in history] for k in ("step", "g_3d", "g_2d", "mi", "d_3d", "d_2d")}, ax=ax,
                    smooth=5 if len(history) > 10 else 1)
        clear_output(wait=True)
        display(fig)
plt.close(fig)
trainer.save()
print(f"trained {trainer.step} iterations; checkpoint in {p['out_dir'] / 'checkpoint.pt'}")
assert all(torch.isfinite(torch.tensor(list(h.values()))).all() for h in history)
assert all(torch.equal(g_i_before[k], v) for k, v in g_i.state_dict().items()), "G_I must not change"

# %% [markdown]
# After training, the same fixed $z$ and motion noise as in section 4. In smoke mode a handful
# of iterations changes little; in full mode the clips should start to show the domain's
# motions.

# %%
after = trainer.sample_videos()
show_videos(torch.cat([before, after]), titles=[f"before z{i}" for i in range(4)] + [f"after z{i}" for i in range(4)],
            columns=4, fps=6)

# %% [markdown]
# ## 6. The shipped motion generators
#
# `make checkpoints` trained a motion generator on toy **faces** and one on toy **sky**, each over
# its frozen shipped image generator (their JSON files give the command, steps and time). Below:
# eight random videos from each, 16 frames, with one noise map per video. Look for what moves
# and what stays: the sky's clouds drift and change shape over still hills; the faces turn and
# nod, and their eyes and mouths change. What $G_M$ can do is bounded by what $G_I$ can draw,
# and the faces models show it twice over. The first was trained over the faces image
# generator at 1,200 steps, which drew no eyes or mouths (notebook 01, section 9), so it could
# only turn heads. The second, over the generator at 4,500 steps, moved eyes and mouths but
# hardly turned a head: that generator drew nearly every head looking straight ahead. The one
# shipped now ran 800 iterations with the same settings over the generator at 8,000 steps,
# which draws heads turned as far as real toy faces. Its clips keep their identity and their
# detail to the last frame, but every motion is still smaller and slower than in real clips:
# where real faces blink and talk, its faces drift (and that $G_I$ draws no shut eyes at all,
# section 8). Training it on to 2,000 iterations made
# heads turn less, not more, and so did the official batch of 8 instead of 4 and the official
# discriminator width; but two more seeds of the same run also moved less, one as little as
# the batch of 8, so none of these changes stands out from a change of seed (section 8
# measures all of them against real clips).

# %%
shipped = {"faces": load_video_generator(p["motion_checkpoint"]),
           "sky": load_video_generator(p["sky_motion_checkpoint"])}
for name, path in (("faces", p["motion_checkpoint"]), ("sky", p["sky_motion_checkpoint"])):
    provenance = path.with_suffix(".json")
    if provenance.exists():  # a user's own checkpoint may come without one
        info = json.loads(provenance.read_text())
        print(f"{name}: {info['steps']} iterations, {info['wall_seconds'] / 60:.0f} min on a 2-core CPU")
gen = torch.Generator().manual_seed(seed)
videos = {}
with torch.no_grad():
    for name, vg in shipped.items():
        z = torch.randn(8, vg.image_generator.style_dim, generator=gen)
        videos[name] = vg(z, n_frames=16, generator=gen)["video"].clamp(-1, 1)
        show_videos(videos[name], columns=8, fps=6)

# %% [markdown]
# ### A faces model that blinks (not the paper's loop alone)
#
# Neither model above blinks, and section 8 follows that failure to its cause: on the
# blink-alone world (`toy:faces_big_eyes_blinks`, the blink its only motion), the paper's loop
# neither finds a blink from still eyes nor keeps one it is given. `faces_blinks_motion.pt`
# blinks. It was trained by the paper's loop with one term added to every motion-generator
# update (`--w-nearest 0.03`): for each of 16 real clips, the nearest of 16 paths the LSTM
# draws from the same face is pulled towards the real clip's latent path (section 8, "Keeping
# the pull on"). That needs what only this toy control has, real clips whose latent paths are
# known (blinks drawn by $G_I$ itself), and it is not the paper's result. Below, the same 8
# faces and motion noises under the paper's loop on the same kind of clips
# (`ablation/faces_big_eyes_blinks_steered_d32_motion_3000.pt`, 3,000 iterations) and under
# this model, then the eye openness the feature network reads in each frame (one line per clip;
# it reads $G_I$'s open eyes lower than a real toy face's, which read about 1.3 to 1.5).

# %%
blinker = load_video_generator(p["blink_motion_checkpoint"])
paper_loop = load_video_generator(p["ablation_dir"] / "faces_big_eyes_blinks_steered_d32_motion_3000.pt")
info = json.loads(p["blink_motion_checkpoint"].with_suffix(".json").read_text())
print(f"faces_blinks_motion: {info['steps']} iterations; {info['note'][:120]}...")
z = torch.randn(8, blinker.image_generator.style_dim, generator=torch.Generator().manual_seed(seed))
blink_videos = {}
with torch.no_grad():
    for name, vg_ in (("the paper's loop", paper_loop), ("with the nearest-path term", blinker)):
        blink_videos[name] = vg_(z, n_frames=16, generator=torch.Generator().manual_seed(seed + 1))["video"].clamp(-1, 1)
        show_videos(blink_videos[name], columns=8, fps=6)
fig, axes = plt.subplots(1, 2, figsize=(10, 2.8), sharey=True)
for ax, (name, clips) in zip(axes, blink_videos.items()):
    factors, names = video_factors(clips, "faces_big_eyes_blinks")
    ax.plot(factors[:, :, names.index("motion:eye_open")].T)
    ax.set(title=name, xlabel="frame")
axes[0].set_ylabel("eye openness read")
plt.show()

# %% [markdown]
# ## 7. One content, several motions
#
# Content lives in $z$ (through $w_0$), motion in the LSTM's noise $\epsilon_t$. Fixing $z$ and
# changing only the motion noise should give the *same* face doing *different* things: this is
# the content/motion split that the residual design (each $w_t = w_{t-1} + \Delta_t$) builds in.

# %%
vg = shipped["faces"]
z = torch.randn(1, vg.image_generator.style_dim, generator=torch.Generator().manual_seed(seed + 1))
with torch.no_grad():
    same_z = torch.cat([vg(z, n_frames=16, generator=torch.Generator().manual_seed(s))["video"] for s in range(4)])
show_videos(same_z.clamp(-1, 1), titles=[f"motion noise {s}" for s in range(4)], fps=6)

# %% [markdown]
# ## 8. Measuring motion with the toy world's factors
#
# Real toy clips come with their true factors; generated ones do not, but the feature network
# of the FD_toy metric (notebook 01) was trained to *read* those factors off a frame. Reading
# them off every frame of the generated faces gives curves we can check: identity factors (skin,
# hair, face shape) should stay flat within a clip, motion factors (eyes, mouth, head turn) move.
# We summarise each factor by its spread over time within a clip, averaged over clips, and
# compare with the same number on real toy clips.

# %%
from mocohd.data.toyworld import make_clips
from mocohd.metrics.motion_stats import factor_spread

real = make_clips("faces", n_videos, frames=16, size=64, seed=seed + 5)
with torch.no_grad():
    z = torch.randn(n_videos, vg.image_generator.style_dim, generator=torch.Generator().manual_seed(seed + 2))
    fake = vg(z, n_frames=16, generator=torch.Generator().manual_seed(seed + 3))["video"].clamp(-1, 1)
fake_f, names = video_factors(fake, "faces")
real_f, _ = video_factors(real.video, "faces")
real_s, fake_s = factor_spread(real_f, names), factor_spread(fake_f, names)  # std over time within a clip
show = ["motion:eye_open", "motion:mouth_open", "motion:yaw", "motion:pitch",
        "identity:face_rx", "identity:skin_r", "identity:hair_r"]
idx = [names.index(n) for n in show]
print(f"{'factor':18s} {'real clips':>11s} {'generated':>11s}   (std over time within a clip, {n_videos} clips)")
for n in show:
    print(f"{n:18s} {real_s['per_factor'][n]:11.3f} {fake_s['per_factor'][n]:11.3f}")
# One number per kind: how much motion factors move, relative to how much identity factors drift.
for label, sp in (("real", real_s), ("generated", fake_s)):
    print(f"{label:10s} motion spread {sp['motion']:.3f}   identity drift {sp['identity']:.3f}")
fig, axes = plt.subplots(1, 2, figsize=(10, 3), sharey=True)
plot_series(real_f[0][:, idx], [names[i] for i in idx], ax=axes[0], title="a real toy clip")
plot_series(fake_f[0][:, idx], [names[i] for i in idx], ax=axes[1], title="a generated clip")
plt.show()

# %% [markdown]
# ### What longer training buys, and what a better image generator buys
#
# The motion generator shipped before this one, trained over the 4,500-step faces generator,
# is kept at 800 and at 2,000 iterations (`ablation/faces_motion_gi4500_{800,2000}.pt`). The
# shipped one ran 800 iterations with the same settings and seed over the 8,000-step
# generator, and then trained on to 2,000 (`ablation/faces_motion_2000.pt`); it was also run
# again at the official batch of 8 (`ablation/faces_motion_b8_800.pt`). So the table below
# holds three experiments: 800 → 2,000 iterations over each $G_I$ (a longer $G_M$ run), 800
# iterations over the 4,500-step → the 8,000-step $G_I$ (a better image generator, the same
# motion training), and batch 4 → 8 (the official batch). Next to real clips: each motion
# factor's spread, and the **late sharpness**: the detail (mean absolute Laplacian) of frame 16
# over that of frame 1, which is 1 on real clips and drops when late frames blur.
#
# **A longer $G_M$ run** (800 → 2,000 iterations over the 4,500-step $G_I$, 73 more minutes):
# the generator moved more (motion spread 0.12 → 0.14; real clips 0.17) and leaned twice as
# much on its noise (noise diversity 0.013 → 0.027: more different motions per face), but
# heads still turned at a quarter of the real amount (yaw 0.05 → 0.06, real 0.23), mouths
# moved at 70 % of real, identity drifted twice as much as in real clips (0.022 → 0.026,
# real 0.013), and detail fell over the clip: generated first frames carry about 30 % *more*
# high-frequency detail than real ones (the small generator's speckle) and lose a fifth to a
# third of it by frame 16 (late sharpness 0.70 → 0.67). Its eyes "open and close" twice as
# much as real ones (0.28 → 0.33, real 0.15), largely because eyes fade as the frames soften.
# Over the 8,000-step $G_I$ the same 1,200 more iterations (80 minutes) did the opposite:
# heads turned and nodded *less* (yaw 0.082 → 0.057, pitch 0.077 → 0.060; over 6 draws
# 0.086 → 0.058 and 0.082 → 0.062, well beyond one draw's wobble), the paths through $W$
# spread less across noises (0.030 → 0.023), mouths moved about as much, and identity and
# detail stayed at the real level. Longer adversarial training is not a steady climb
# towards the real amount of motion: nothing in the losses pays $G_M$ for moving more, only
# for fooling a discriminator, and a run can drift either way. This is one run; the
# 800-iteration stage, which moves more, stays shipped.
#
# **A better image generator, the same motion training** (800 iterations over the 4,500-step
# → the 8,000-step $G_I$): heads turn and nod more (yaw 0.053 → 0.082, pitch 0.056 → 0.077:
# as much nodding as 2,000 iterations gave before, half again as much turning), identity now
# holds as in real clips (drift 0.022 → 0.014, real 0.013), the frames keep their detail to
# the end (late sharpness 0.70 → 1.02), and one face gets more different motions (noise
# diversity 0.013 → 0.024). But eyes and mouths move less (eyes 0.28 → 0.07, mouth 0.09 →
# 0.05), so the overall motion spread is lower (0.12 → 0.07): the old model's large eye
# numbers were mostly the fading, and the new $G_I$ draws eyes with less variety than real
# faces (below). Every motion of the shipped model is a third to a half of the real amount
# (yaw 35 %, pitch 49 %, mouth 40 %, eyes 44 %).
#
# A small spread can mean that every clip moves a little or that few clips move at all. The
# table's last block tells which: the share of clips in which a factor changes by more than
# 0.3 (a third of a full blink or of a wide-open mouth). About three quarters of real clips
# blink, over half talk and four in five turn their heads. Of the shipped model's clips about a
# fifth blink, one in eight talks and a third turn; trained on to 2,000 iterations, one in ten
# turns. The models over the 4,500-step $G_I$ "blink" in nearly every clip: the fading eyes again.
#
# **The official batch of 8** (the shipped run's settings and seed, batch 4 → 8, 800
# iterations; 111 minutes against 56, since each iteration renders twice the clips): it moved
# *less* in every respect. Motion spread fell from 0.069 to 0.036, every factor's spread
# roughly halved (yaw 0.082 → 0.045, pitch 0.077 → 0.031), and at most 3 % of its clips change
# any factor by more than 0.3 (blinks 0.22 → 0.01, turns 0.33 → 0.03). Its frames also lose a
# little detail by frame 16 (late sharpness 0.94). A larger batch gives each discriminator step
# a steadier gradient; here it did not push $G_M$ towards more motion within 800 iterations.
# One run, one seed: it rules out "the batch is too small" as the whole story, no more, and
# the next paragraph finds a batch-4 seed that moves as little.
#
# **How far apart do seeds land?** Every arm above is one run. So the shipped run was
# trained twice more with all its settings but the seed (`--seed 1` and `--seed 2`: other
# initial weights, other clips, other noise; 55 and 91 minutes). Both moved less than seed 0.
# Seed 1: motion spread 0.054 against 0.069, yaw 0.057 against 0.082, and its clips change a
# factor by more than 0.3 less often (eyes 0.04 against 0.22, pitch 0.18 against 0.25).
# Seed 2 moved least of all: spread 0.035, at most 4 % of its clips change any factor by more
# than 0.3, and its frames lose some detail by frame 16 (late sharpness 0.95). So three runs
# of *one* setting span 0.035 to 0.069, and every arm above lands inside that span: 2,000
# iterations (0.059), batch 8 (0.036, as low as seed 2), and the official discriminator width
# below (0.045). With one run per arm, none of these comparisons can be told from a change
# of seed; all they show is that no arm moved clearly *more*. Seed 0's run moves most of all
# and stays shipped; picked among runs by these numbers, it is the lucky draw, not the
# typical one.
#
# **The official discriminator width.** The full preset halves the PatchGANs' width (`ndf`
# 32 against the official 64) to save time. A narrow $D_V$ might simply fail to see that eyes
# close too slowly, so the shipped run was trained once more with `--ndf 64` for both
# discriminators (seed 0, batch 4; 92 minutes at 6.6 s/iteration against 4.2). It moved less,
# not more: motion spread 0.045 (seeds 0, 1 and 2: 0.069, 0.054, 0.035), heads turned least
# of all but seed 2 (yaw 0.037), its steps are no faster (largest eye change between two
# frames 0.031, real 0.42), and its frames lose some detail by frame 16 (late sharpness
# 0.90). A wider discriminator, one run: it does not ask for faster motion either.
#
# These figures come from 32 videos and 3 draws (`python -m mocohd.metrics.motion_stats
# --domain faces data/checkpoints/ablation/faces_motion_gi4500_800.pt
# data/checkpoints/ablation/faces_motion_gi4500_2000.pt data/checkpoints/faces_motion.pt
# data/checkpoints/ablation/faces_motion_2000.pt data/checkpoints/ablation/faces_motion_b8_800.pt
# data/checkpoints/ablation/faces_motion_seed1_800.pt
# data/checkpoints/ablation/faces_motion_seed2_800.pt
# data/checkpoints/ablation/faces_motion_ndf64_800.pt --repeats 3`); the cell draws `n_videos`
# clips, three times in full mode, once in smoke mode.

# %%
from mocohd.metrics.motion_stats import compare, format_image_ranges, format_table, frame_detail, image_factor_range

stages = {"800 it, G_I 4,500": p["ablation_dir"] / f"{domain}_motion_gi4500_800.pt",
          "2,000 it, G_I 4,500": p["ablation_dir"] / f"{domain}_motion_gi4500_2000.pt"}
stages = {label: path for label, path in stages.items() if path.exists()}  # a user's own folder may lack them
if stages:
    info = p["motion_checkpoint"].with_suffix(".json")
    shipped_label = f"{json.loads(info.read_text())['steps']} it, shipped" if info.exists() else "motion_checkpoint"
    stages[shipped_label] = p["motion_checkpoint"]
    # the shipped run with one thing changed: trained on, the official batch, two other seeds,
    # the official discriminator width
    variants = {"2,000 it, G_I 8,000": "2000", "800 it, batch 8": "b8_800", "800 it, seed 1": "seed1_800",
                "800 it, seed 2": "seed2_800", "800 it, D ndf 64": "ndf64_800"}
    for label, suffix in variants.items():
        path = p["ablation_dir"] / f"{domain}_motion_{suffix}.pt"
        if path.exists():
            stages[label] = path
    # full mode: mean ± sd of 3 draws; one draw of 32 clips can land far from the mean (the
    # shipped model's yaw read 0.052 in one draw and 0.081-0.097 in five others)
    print(format_table(compare(stages, domain, n_videos=n_videos, seed=seed, repeats=by_mode(mode, 1, 3))))
    videos = {shipped_label: fake}  # section 8's clips of the shipped model
    with torch.no_grad():  # the same z and motion noise for the others
        for label, path in stages.items():
            if label != shipped_label:
                noise = torch.Generator().manual_seed(seed + 3)
                videos[label] = load_video_generator(path)(z, n_frames=16, generator=noise)["video"].clamp(-1, 1)
    videos = {label: videos[label] for label in stages}  # in the table's order
    fig, ax = plt.subplots(figsize=(6, 3))
    for label, video in {"real clips": real.video, **videos}.items():
        ax.plot(range(1, 17), frame_detail(video), marker="o", label=label)
    ax.set(xlabel="frame", ylabel="mean |Laplacian|", title="detail per frame")
    ax.legend(fontsize=8)
    plt.show()
    k = min(4, len(fake))
    show_videos(torch.cat([v[:k] for v in videos.values()]), titles=[label for label in videos for _ in range(k)],
                columns=k, fps=6)

# %% [markdown]
# **Why did heads hardly turn over the 4,500-step generator?** A motion generator only walks
# through $W$: it cannot turn a head further than $G_I$ can draw one turned. So ask each $G_I$
# first: how far apart are the poses it draws at all? Below, each motion factor's spread over
# random samples of the two image generators, next to the same number over real toy images.
# In full mode (256 of each; smoke mode's 64 wobble around these):
#
# | std across images | eyes | mouth | yaw (turn) | pitch (nod) |
# |---|---|---|---|---|
# | real toy images | 0.20 | 0.24 | 0.35 | 0.25 |
# | $G_I$, 4,500 steps | 0.17 | 0.18 | 0.12 | 0.16 |
# | $G_I$, 8,000 steps (shipped) | 0.13 | 0.24 | 0.34 | 0.25 |
#
# The 4,500-step generator drew heads looking nearly straight ahead: a third of the real
# spread of yaw, two thirds of the pitch. No motion generator trained over it could produce
# the turns it never learned to draw; no longer $G_M$ run could fix that. What fixed it was in
# the image generator's training: a ten times weaker R1 penalty from step 6,000 (notebook 01,
# section 9) let its discriminator notice a turned head, and the generator learned to draw the
# real range of turns and nods. Its eyes vary less than real ones (0.13 against 0.20), so
# blinks are the one motion the new $G_I$ covers less well than the old.

# %%
if stages:
    older = load_video_generator(next(iter(stages.values()))).image_generator  # the 4,500-step G_I
    n_images = by_mode(mode, 64, 256)
    print(format_image_ranges({"G_I, 4,500 steps": image_factor_range(older, domain, n_images, seed),
                               "G_I, shipped": image_factor_range(vg.image_generator, domain, n_images, seed)}))

# %% [markdown]
# **Is the residual's step bound what keeps blinks rare?** Each LSTM step moves $w$ by at most
# $\lambda \sigma_k$ along principal direction $k$ ($\lambda$ = 0.2, `w_residual`), and the steps
# add up, so after $k$ frames a path can only be inside $w_0 + k \lambda \sum_j a_j \sigma_j
# \mathrm{PC}_j$ with every $a_j \in [-1, 1]$, whatever the LSTM learned. Toy blinks are fast:
# the eyes close within about two frames. If one step could not move eye openness that far, no
# amount of training would give real blinks. `step_reach` searches that set for the largest
# change of each factor, up or down (gradient ascent on $a = \tanh(u)$ through $G_I$ and the
# feature network; it may stop short, so its figures are lower bounds), and `real_step_change`
# gives the largest change within $k$ frames of a real clip. For the shipped model (8 faces,
# `python -m mocohd.metrics.motion_stats --domain faces --step-reach
# data/checkpoints/faces_motion.pt`, 32 real clips):
#
# | largest change | eyes | mouth | yaw | pitch |
# |---|---|---|---|---|
# | real clips, within 1 frame | 0.38 | 0.25 | 0.16 | 0.15 |
# | reach of 1 residual step | 0.30 | 0.31 | 0.28 | 0.27 |
# | real clips, within 2 frames | 0.48 | 0.38 | 0.26 | 0.22 |
# | reach of 2 residual steps | 0.46 | 0.51 | 0.40 | 0.47 |
#
# One step moves the *readings* of mouth, yaw and pitch further than real clips move in one
# frame, and the eye reading nearly as far (0.30 against 0.38); two steps cover what real clips
# do in two frames. Smoke mode searches 2 faces for a few iterations, so its reaches are lower.
# But a reading is not a frame: the search climbs the feature network's gradient and takes
# whatever moves the number, so the cell after this one looks at the frames it found.

# %%
if stages:
    from mocohd.metrics.motion_stats import format_step_reach, real_step_change, step_reach

    k_steps = by_mode(mode, (1, 2), (1, 2, 4))
    print(format_step_reach(real_step_change(domain, k_steps, n_clips=n_videos, seed=seed),
                            step_reach(vg, domain, k_steps, n_images=by_mode(mode, 2, 8),
                                       iterations=by_mode(mode, 8, 40), seed=seed)))

# %% [markdown]
# `push_factor` runs the same search for one factor and one direction and returns the frames:
# below, for the shipped model, faces as sampled (first row of each pair) and the point two
# residual steps away that reads as most-shut eyes, then the same for the widest-open mouth,
# with the reading under each frame. In full mode (8 faces, 40 iterations):
#
# - **Mouths open**: the mouth reading rises from 0.38 to 0.83 on average, and the frames
#   agree: a dark open mouth where there was a closed one, in two steps. On some faces the
#   hair colour drifts too; nothing in the search holds identity, while the trained motion
#   generator is pushed by its discriminators to keep it.
# - **Eyes do not shut.** The eye reading falls from 0.99 to 0.55 on average (to 0.24 at the
#   lowest), but the frames show how: the face turns paler and softer and the hair comes down
#   over the brows, while the eyes stay round dots. The network is fooled; no eye closed.
#   Pushed ten steps (`k=10`), the reading goes below zero only because the face dissolves.
#
# So the reach table's eye figure is not a reach at all. For the mouth (and, by their
# readings, the head) the bound leaves room for real speed; for blinks, the shipped $G_I$ has
# no shut eye within two steps of its samples to walk to, which the tails table at the end of
# this section confirms from the other side.

# %%
if stages:
    from mocohd.metrics.motion_stats import push_factor
    from mocohd.viz import show_images

    pushes = {"eye_open": True, "mouth_open": False}  # factor: push it down (True) or up
    pushes = {f"motion:{f}": lowest for f, lowest in pushes.items() if f"motion:{f}" in names}
    frames, titles = [], []
    for factor, lowest in pushes.items():
        pushed = push_factor(vg, domain, factor, k=2, lowest=lowest, n_images=by_mode(mode, 4, 8),
                             iterations=by_mode(mode, 8, 40), seed=seed)
        short = factor.split(":")[1]
        print(f"{short:10s} read {pushed['start_value'].mean():.2f} as sampled, "
              f"{pushed['pushed_value'].mean():.2f} two steps {'down' if lowest else 'up'} (mean)")
        for row in ("start", "pushed"):
            frames.append(pushed[row])
            first = short.split("_")[0] if row == "start" else "→"  # "eye: 1.11", then "→ 0.90"
            titles += [f"{first} {v:.2f}" if j == 0 else f"{v:.2f}"
                       for j, v in enumerate(pushed[f"{row}_value"].tolist())]
    if frames:
        show_images(torch.cat(frames), titles=titles, columns=len(frames[0]), size=1.0,
                    suptitle="sampled, then 2 residual steps:\neyes pushed shut, mouth pushed open")
        plt.show()

# %% [markdown]
# **Blinks, or slow drifts?** The events block counts clips whose eyes change by more than 0.3
# *somewhere* in 16 frames; a blink does it in a frame or two and opens again, a drift takes
# the whole clip. So look at the clips themselves: below, for real clips and for the shipped
# model, the clip in which each motion factor changes most (out of `n_videos`), every frame,
# with the factor's value over each frame.
#
# In real clips the strongest eye change is a blink: closed to open within two frames. The
# mouth opens and shuts more than once in 16 frames (talking), and the head swings from one
# side to the other. The shipped model's strongest clips *drift*: the eyes close halfway over
# many frames, the mouth opens or shuts over the whole clip, the head turns or nods a little,
# one way. The last block of the table above says it for all clips: the largest change between
# two consecutive frames is a sixth of the real one for eyes (0.070 against 0.42, 3 draws of
# 32 clips), a fifth for the mouth (0.040 against 0.19) and under half for yaw and pitch
# (0.064 against 0.16, 0.056 against 0.13). The other runs over the same $G_I$ are slower
# still; the two over the 4,500-step $G_I$ change eyes twice as fast (0.14), but those eyes
# fade as the frames soften rather than blink. So the motion generator has learnt *what* moves (turns, nods,
# eyes and mouth, with identity held) but not *how fast*: it walks slowly where real faces
# blink and talk. For mouth and head the residual's bound allows real speed (the cells before),
# and the adversarial game has not asked for it within these runs; for eyes there is more to it
# (the end of this section).

# %%
from mocohd.metrics.motion_stats import strongest_clips
from mocohd.viz import show_images

for label, video, factors in (("real toy clips", real.video, real_f), ("the shipped model", fake, fake_f)):
    picked = strongest_clips(factors, names)
    frames, titles = [], []
    for name, (clip, change, step) in picked.items():
        i = names.index(name)
        frames.append(video[clip])
        titles += [f"{factors[clip, t, i]:.2f}" for t in range(video.shape[1])]
        print(f"{label:18s} {name.split(':')[1]:10s} clip {clip:2d}: changes by {change:.2f}, "
              f"largest step between two frames {step:.2f}")
    show_images(torch.cat(frames), titles=titles, columns=video.shape[1], size=0.9,
                suptitle=f"{label}: the clip that moves each factor most (rows: "
                         f"{', '.join(n.split(':')[1] for n in picked)})")
    plt.show()

# %% [markdown]
# **Can $G_I$ shut an eye at all?** A blink passes through shut eyes, so $G_I$ must draw them
# somewhere near the $w$ a clip starts from. The spread table above says the shipped $G_I$'s
# eyes vary less than real ones (0.12–0.13 against 0.20); a spread does not say *which* end is
# missing. So count ends instead: `tail_shares` takes the real images' 5 % and 95 % quantiles
# of each factor and asks what share of $G_I$'s samples falls beyond each. A generator that
# draws the real distribution puts about 0.05 beyond each end; 0 means it never draws that
# end. Below, the histograms and that table for the three faces generators of notebook 01.
# In full mode (512 samples each; `python -m mocohd.metrics.motion_stats --domain faces
# --image-range data/checkpoints/ablation/faces_64_1200.pt
# data/checkpoints/ablation/faces_64_4500.pt data/checkpoints/faces_64.pt --images 512`
# prints the same; smoke mode's 128 samples wobble around these):
#
# | share beyond the real 5 % ends (low / high) | eyes | mouth | yaw | pitch |
# |---|---|---|---|---|
# | $G_I$, 1,200 steps | 0.072 / 0.180 | 0.129 / 0.020 | 0.002 / 0.006 | 0.053 / 0.111 |
# | $G_I$, 4,500 steps | 0.004 / 0.273 | 0.049 / 0.006 | 0.000 / 0.000 | 0.002 / 0.018 |
# | $G_I$, 8,000 steps (shipped) | **0.000** / 0.172 | 0.025 / 0.059 | 0.053 / 0.023 | 0.039 / 0.021 |
# | $G_I$, 8,000 steps, R1 0.05 from step 0 | 0.008 / 0.195 | 0.061 / 0.012 | 0.041 / 0.018 | 0.006 / 0.016 |
# | $G_I$, eye-balanced frames, 4,000 steps | 0.379 / 0.004 | 0.070 / 0.027 | 0.002 / 0.000 | 0.020 / 0.027 |
# | $G_I$, eye-balanced frames, 6,000 steps (R1 0.05 from 4,000) | 0.025 / 0.039 | 0.119 / 0.012 | 0.000 / 0.000 | 0.023 / 0.051 |
# | $G_I$, eye-balanced frames, 6,000 steps (R1 0.5 kept) | 0.029 / 0.047 | 0.143 / 0.023 | 0.000 / 0.000 | 0.041 / 0.041 |
#
# The shipped $G_I$ never draws eyes as shut as the real images' most-shut 5 % (below 0.40),
# and a sixth of its faces have eyes opened wider than all but 5 % of real ones. Over image
# training the shut end faded: 7 % of samples at 1,200 steps (blurred faces the network reads
# as half-shut), 0.4 % at 4,500, none at 8,000, while the turned heads arrived. The mouth's
# ends are both there, and so are the head's. So the two slow motions have different causes:
#
# - **Eyes**: the shipped $G_I$ has dropped a small mode, the shut eyes of blinks (about 7 %
#   of real frames). None of its samples has shut eyes, and two residual steps from them find
#   none either (the pushed frames above: the eye reading falls, the eyes stay round). No
#   motion generator over this $G_I$ can blink. The fix belongs to the image generator's
#   training (notebook 01), not the motion generator's.
# - **Mouth, yaw, pitch**: $G_I$ draws both ends, and one step reaches as far as a real frame
#   moves; here the slowness is the motion training's own.
#
# The last row is the same image run with the weak R1 from the first step instead of from step
# 6,000 (`ablation/faces_64_r1all.pt`, notebook 01, section 9): would the shut eyes have
# survived without the strong R1? Its shut end is nearly empty too (0.008), and the figure
# after the histograms shows what that 0.8 % is.
#
# The last two rows are one run trained on frames whose eye openness is spread evenly
# (`--balance eye_open`, notebook 01, section 9: 30 % of its training frames have eyes below
# 0.3, against 6 % of natural frames). Trained on those, the shut end is over-full at 4,000
# steps (0.379: it draws its own training distribution, not the natural one), but its heads
# barely turn (yaw 0.002 / 0.000); trained on with the weak R1 to 6,000 steps the shut end
# shrinks to 0.025, and the figure shows those are no longer slits. The last row is the
# control: the same 4,000-step run trained on to 6,000 with R1 0.5 kept. It loses the shut eyes
# just the same (0.029), so the weak R1 did not do it: the run gives the shut eyes up as it
# sharpens.

# %%
from mocohd.metrics.motion_stats import (drawn_images, extreme_indices, factor_tails, format_image_tails,
                                         image_factors, is_motion_factor, real_images)
from mocohd.train.video_gan import load_image_generator

image_generators = {f"G_I, {n} steps": p["ablation_dir"] / f"{domain}_64_{n.replace(',', '')}.pt"
                    for n in ("1,200", "4,500")}
image_generators["G_I, R1 0.05 from step 0"] = p["ablation_dir"] / f"{domain}_64_r1all.pt"
for n in ("4,000", "6,000"):
    image_generators[f"G_I, eye-balanced, {n} steps"] = p["ablation_dir"] / f"{domain}_64_balanced_{n.replace(',', '')}.pt"
image_generators["G_I, eye-balanced, 6,000 steps, R1 0.5 kept"] = p["ablation_dir"] / f"{domain}_64_balanced_r05_6000.pt"
image_generators = {label: load_image_generator(path) for label, path in image_generators.items() if path.exists()}
image_generators["G_I, shipped"] = vg.image_generator
n_images = by_mode(mode, 128, 512)
pictures = {"real images": real_images(domain, n_images, seed)}  # every generator meets these
pictures.update({label: drawn_images(g, n_images, seed) for label, g in image_generators.items()})
read = {label: image_factors(images, domain) for label, images in pictures.items()}
image_names = read["real images"][1]
factors_of = {label: factors for label, (factors, _) in read.items()}
real_factors = factors_of["real images"]
drawn = {label: f for label, f in factors_of.items() if label != "real images"}
moving = is_motion_factor(image_names).nonzero().flatten().tolist()
if moving:
    print(format_image_tails({label: factor_tails(real_factors, f, image_names) for label, f in drawn.items()}))
    fig, axes = plt.subplots(1, len(moving), figsize=(3 * len(moving), 2.6))
    for ax, i in zip(axes, moving):
        values = torch.cat([real_factors[:, i]] + [f[:, i] for f in drawn.values()])
        bins = torch.linspace(values.min(), values.max(), 31).tolist()  # the same bins for every histogram
        ax.hist(real_factors[:, i], bins=bins, histtype="stepfilled", alpha=0.3, color="k", label="real images")
        for label, f in drawn.items():
            ax.hist(f[:, i], bins=bins, histtype="step", label=label)
        ax.set_title(image_names[i].split(":")[1])
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{domain}: each motion factor over {n_images} real images and {n_images} samples of each G_I")
    plt.tight_layout()
    plt.show()

# %% [markdown]
# A count is only as good as the network that reads the factor. So look at what the low tail
# holds: for the real images and for each $G_I$, the 8 images (of the same samples) whose eyes
# read as most shut, with the value under each. Real blinks are a thin line where the eye was.
# The shipped $G_I$'s most-shut faces still have round, open eyes (0.57 and up in full mode,
# where 9 % of real images lie lower). And the 1,200-step $G_I$'s "shut" eyes are blurred
# faces with no eyes to read: its 7 % in the table is the feature network misled, not a blink.
# The run with R1 0.05 from step 0 is no better: its most-shut faces (0.14 and up in full
# mode) are pale and blurred, with small round eyes. None of the four draws a real shut eye.
# The eye-balanced run's extremes mislead the same way (readings below 0 at 4,000 steps are
# blurred faces), but it is the one $G_I$ here with real shut eyes a little further in: notebook
# 01, section 9, picks its samples read closest to each real shut eye, and at 4,000 steps they
# are slits; at 6,000, soft round eyes again.

# %%
eye = next((n for n in image_names if n.endswith("eye_open")), None)
if eye is not None:
    rows, titles = [], []
    for label, images in pictures.items():
        pick = extreme_indices(factors_of[label], image_names, eye, k=8, lowest=True)
        rows.append(images[pick])
        titles += [f"{label.removeprefix('G_I, ')}: {v:.2f}" if j == 0 else f"{v:.2f}"
                   for j, v in enumerate(factors_of[label][pick, image_names.index(eye)].tolist())]
    show_images(torch.cat(rows), titles=titles, columns=8, size=1.0,
                suptitle=f"{domain}: the 8 images with the most-shut eyes (rows: {', '.join(pictures)})")
    plt.show()

# %% [markdown]
# **A motion generator over the eye-balanced $G_I$.** That $G_I$ draws shut eyes, so does a
# motion generator over it blink? The shipped run's settings and seed, over
# `ablation/faces_64_balanced_4000.pt`, stopped on a time budget after 500 iterations
# (`ablation/faces_motion_balanced4000_500.pt`), and over its 6,000-step stage for the shipped
# run's full 800 iterations (`ablation/faces_motion_balanced6000_800.pt`, 52 min). The cell
# compares them with the shipped model on the same measurements as the table above and shows,
# for each, the three clips whose eyes change most, frame by frame, with the eye reading over
# each frame.
#
# In full mode (32 clips, 3 draws; `python -m mocohd.metrics.motion_stats --domain faces
# data/checkpoints/faces_motion.pt data/checkpoints/ablation/faces_motion_balanced4000_500.pt
# data/checkpoints/ablation/faces_motion_balanced6000_800.pt --repeats 3`):
#
# | | eyes: spread / clips > 0.3 / largest step / there and back | mouth: spread / clips > 0.3 | yaw: spread / clips > 0.3 | late sharpness |
# |---|---|---|---|---|
# | real clips | 0.151 / 0.74 / 0.416 / 0.53 | 0.132 / 0.57 | 0.234 / 0.80 | 1.00 |
# | shipped | 0.066 / 0.22 / 0.070 / 0.02 | 0.053 / 0.12 | 0.082 / 0.33 | 1.02 |
# | over the eye-balanced $G_I$, 4,000 steps (500 it.) | 0.131 / 0.55 / 0.054 / 0.00 | 0.116 / 0.52 | 0.058 / 0.06 | 0.82 |
# | over the eye-balanced $G_I$, 6,000 steps (800 it.) | 0.155 / 0.81 / 0.078 / 0.02 | 0.081 / 0.32 | 0.059 / 0.09 | 0.81 |
#
# ("there and back": the share of clips whose eyes go more than 0.3 away and come back, as a
# blink does.) The eye readings now move as much as real ones, in as many clips, but the
# largest change between two frames is a fifth of a real blink's, the eyes almost never come
# back, and the last frames are softer than the first (late sharpness 0.81). The frames say
# what that means: in the clips whose eyes change most, the eyes do not shut and reopen; the
# whole face slowly loses its detail and the network reads the fading eyes as closing. Heads
# hardly turn, as these $G_I$s draw few turned heads. So a $G_I$ with shut eyes is needed but
# not enough here: the motion generator found the cheaper path to "eyes that change", a slow
# drift into blur, and no blink. The probe after the figures asks why.

# %%
balanced_motions = {f"eye-balanced G_I, {n}": p["ablation_dir"] / f"{domain}_motion_balanced{n}_{it}.pt"
                    for n, it in (("4000", 500), ("6000", 800))}
balanced_motions = {label: path for label, path in balanced_motions.items() if path.exists()}
if balanced_motions:
    runs = {"shipped": p["motion_checkpoint"], **balanced_motions}
    print(format_table(compare(runs, domain, n_videos=n_videos, seed=seed, repeats=by_mode(mode, 1, 3))))


def draw_clips(video_generator):
    """n_videos clips of 16 frames, z from seed and motion noise from seed + 3, in [-1, 1]."""
    z = torch.randn(n_videos, video_generator.image_generator.style_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return video_generator(z, n_frames=16, generator=torch.Generator().manual_seed(seed + 3))["video"].clamp(-1, 1)


def show_most_changing_eyes(video_generator, read_domain: str, title: str, crop=(12, 44, 12, 52)):
    """Draw n_videos clips (draw_clips), show the three whose eye reading changes most with the
    reading over each frame, and return the clips."""
    clips = draw_clips(video_generator)
    clip_factors, clip_names = video_factors(clips, read_domain)
    eye_readings = clip_factors[:, :, clip_names.index("motion:eye_open")]  # (clips, frames)
    most = (eye_readings.amax(1) - eye_readings.amin(1)).argsort(descending=True)[:3]
    top, bottom, left, right = crop
    show_images(clips[most, :, :, top:bottom, left:right].flatten(0, 1), columns=16, size=0.9,
                titles=[f"{v:.2f}" for v in eye_readings[most].flatten().tolist()],
                suptitle=f"{title}: the three clips whose eyes change most (face enlarged)")
    plt.show()
    return clips


for label, path in balanced_motions.items():
    show_most_changing_eyes(load_video_generator(path), domain, f"over the {label} steps")

# %% [markdown]
# **What do the discriminators look at?** A motion generator learns only what its
# discriminators reward. The toy world can draw every real clip twice: as drawn, and with one
# motion factor held at rest (`make_clips(..., hold={"eye_open": 1.0})`: the same clip with no
# blink, every other pixel the same). Below, one clip both ways and where they differ.

# %%
from mocohd.data.toyworld import HOLDABLE
from mocohd.viz import show_images

if domain in HOLDABLE:
    as_drawn = make_clips(domain, 8, frames=16, size=64, seed=seed + 5)
    eye_path = as_drawn.motion[:, :, as_drawn.motion_names.index("eye_open")]  # (clips, frames)
    blink = int(eye_path.amin(1).argmin())  # the clip whose eyes shut most
    held = make_clips(domain, 8, frames=16, size=64, seed=seed + 5, hold={"eye_open": 1.0})
    difference = (as_drawn.video[blink] - held.video[blink]).abs() * 2 - 1  # white where they differ
    face = torch.cat([as_drawn.video[blink], held.video[blink], difference])[:, :, 12:44, 12:52]
    show_images(face, columns=16, size=0.9,
                suptitle="one real clip: as drawn (top), eyes held open (middle), the difference (bottom; face enlarged)")
    plt.show()
    changed = ((as_drawn.video[blink] - held.video[blink]).abs() > 0.1).float().mean().item()
    print(f"a blink changes {100 * changed:.2f} % of this clip's pixel values by more than 0.1")

# %% [markdown]
# If a trained discriminator scores the two versions alike, no gradient asks the motion
# generator to blink, however long it trains. `mocohd.metrics.discriminator_probe` measures,
# for each factor, the mean score of the clips as drawn minus that of the same clips held at
# rest (over the clips in which the factor moves by more than 0.3), beside the gap between
# real and generated clips, which the discriminator does act on. The cell probes this
# notebook's own run (section 5); in smoke mode its 3 iterations have taught the
# discriminators nothing, so read the full-mode figures below.
#
# The shipped motion files keep only the motion generator, so the probe reads a run's own
# checkpoint: `python -m mocohd.metrics.discriminator_probe RUN/checkpoint.pt` (96 held-out
# real clips, seed 12345). It scores with the discriminators in train mode, because that is
# the function the motion generator was trained against: their InstanceNorm layers keep
# running averages of the statistics (as the official code's do), and only eval mode would
# use those averages instead of each clip's own. (An earlier version of the probe scored in
# eval mode and reported a real - fake gap of 0.11 for the run below; in train mode it is
# 0.40. Mind which mode you score a discriminator in.) For the motion run over the
# eye-balanced 4,000-step $G_I$ of notebook 01 (the shipped settings and seed, 530 iterations):
#
# | run | 3D D: real - fake | eyes | mouth | yaw | pitch | image D: real - fake | eyes | mouth | yaw | pitch |
# |---|---|---|---|---|---|---|---|---|---|---|
# | over `faces_64_balanced_4000`, 530 it. | 0.396 | +0.0002 ± 0.0015 | -0.009 | +0.015 | +0.018 | 0.423 | -0.003 | -0.026 | +0.042 | +0.006 |
# | over `faces_64_balanced_6000`, 800 it. | 0.406 | -0.0025 ± 0.0013 | +0.005 | +0.048 | +0.006 | 0.440 | -0.003 | +0.007 | +0.061 | -0.003 |
# | the same + 600 discriminator updates alone | 0.481 | -0.0018 ± 0.0011 | -0.002 | +0.015 | -0.017 | 0.486 | -0.003 | +0.006 | +0.043 | -0.009 |
#
# The 3D D gives a clip with a blink about the same score as the clip without it (between
# -0.003 and +0.000, within two standard errors of 0), while it scores real clips 0.40 above
# generated ones. A head turn moves its score by up to an eighth of that gap. The image D,
# shown frame 0 beside the most-shut frame, scores shut eyes slightly *lower* than open ones.
# 600 more discriminator updates alone (`--g-steps 0`, 9 minutes: `cp -r RUN RUN_donly;
# python -m mocohd.train video ... --g-steps 0 --steps 1400 --out RUN_donly --resume`) widen
# the gap to 0.48 and leave the blink where it was: the 3D D is not merely short of updates. So the discriminators tell real from generated clips by something else (most
# likely the generated frames' texture and their slow loss of detail, section 8's late
# sharpness; "What gives a fake away" below measures it), and a blink, which changes a
# fraction of a percent of the pixels, is not worth their attention: the motion generator is
# not asked to blink.
#
# The probe also prints how much each motion changes the picture (mean |pixel change| over the
# clips in which it moves, pixel values from -1 to 1): a blink 0.0005, a word 0.0025, a nod
# 0.015, a head turn 0.018. A blink is 35 times smaller than a turn, and the discriminators'
# attention roughly follows that order.

# %%
from mocohd.metrics.discriminator_probe import format_probe, probe
from mocohd.viz import plot_probe

run_checkpoint = p["out_dir"] / "checkpoint.pt"
if domain in HOLDABLE and run_checkpoint.exists():
    probed = probe(run_checkpoint, n=by_mode(mode, 16, 96), seed=12345)
    print(format_probe(probed))
    plot_probe(probed)
    plt.suptitle("this notebook's run: does a motion change the discriminators' score?", fontsize=9)
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ### A blink the discriminator can see
#
# Could this 3D D see a toy blink at all? Make the blink the *only* difference: a fresh 3D D
# of the full preset learns, by least squares, to score real clips as drawn 1 and the same
# clips held at rest 0, using only those of 256 training clips in which the factor moves
# (`python -m mocohd.metrics.discriminator_probe --fresh yaw eye_open --steps 1000`, about
# 3 min per factor; held-out: 96 other clips, scored in train mode as in training; the
# effect is the mean score difference, as in the probe, on a target difference of 1):
#
# | steps | head turn (faces): loss / effect / ranked right | blink (faces) | blink (`faces_big_eyes`) |
# |---|---|---|---|
# | 250 | 0.225 / +0.35 / 0.91 | 0.260 / +0.001 / 0.80 | 0.254 / +0.08 / 1.00 |
# | 500 | 0.099 / +0.67 / 1.00 | 0.256 / +0.001 / 0.80 | 0.213 / +0.20 / 0.98 |
# | 1,000 | 0.012 / +0.77 / 1.00 | 0.251 / +0.008 / 0.72 | 0.148 / +0.33 / 0.95 |
#
# (0.25 is chance.) The head turn is learned within 250 steps and holds on clips the D never
# saw: from 500 steps every held-out clip is ranked right, by a score difference of 0.67.
# The toy blink is seen only faintly: the loss stays at chance, and held-out clips are ranked
# mostly right by a difference of 0.001 to 0.008, a hundred times smaller. A blink changes a
# few pixels for three frames, and the patch scores it changes are averaged with all the
# patches it does not touch. So in `faces`, the first limit is how faintly a discriminator
# of this size sees a blink, before the motion generator or the length of training. (The last
# column is the variant below, `--domain faces_big_eyes --fresh eye_open`: a blink with five to six
# times the pixel change, which the same D learns.)
#
# The toy world is ours to change, so the variant `toy:faces_big_eyes` draws the same people
# making the same moves (identity, mouth, head: every draw the same) with eyes 1.6 times larger
# that stay shut 3 frames longer per blink. The cell shows one clip both ways and what a blink
# changes in each.

# %%
from mocohd.metrics.discriminator_probe import held_clips, moving

if domain == "faces":
    variants = ("faces", "faces_big_eyes")
    pairs = {d: held_clips(d, "eye_open", 32, 16, 64, seed + 5) for d in variants}
    big_path = pairs["faces_big_eyes"][0].motion[:, :, 0]  # eye_open of every clip, every frame
    clip = int(big_path.amin(1).argmin())
    rows = []
    for d in variants:
        drawn, held = pairs[d]
        rows += [drawn.video[clip], (drawn.video[clip] - held.video[clip]).abs() * 2 - 1]
        blinks = moving(drawn, "eye_open")
        change = (drawn.video[blinks] - held.video[blinks]).abs().mean().item()
        print(f"{d:15s} a blink's mean pixel change {change:.4f} over the {int(blinks.sum())} clips that blink")
    show_images(torch.cat(rows)[:, :, 8:48, 8:56], columns=16, size=0.9,
                suptitle="one clip in faces (rows 1-2) and faces_big_eyes (rows 3-4): as drawn, and what its blink changes")
    plt.show()

# %% [markdown]
# **An image generator that draws shut eyes, and a motion generator over it.** Fine-tuning
# the eye-balanced faces generators of notebook 01 on the variant (the discriminator starting
# fresh) lost the shut eyes at once: from the 6,000-step one, 2,000 steps left 0.4 % of
# samples reading below 0.3; from the 4,000-step one, 500 steps left 0.6 % (real images:
# 8.6 %). Trained from scratch as the eye-balanced faces run (`--balance eye_open`, bf16,
# R1 0.5), the share rose and fell: 2.5 % at 2,000 steps, 11.9 % at 2,500, 2.5 % at 3,000.
# `faces_big_eyes_64.pt` is the 2,500-step stage (24 min; FD_toy 14.2, floor 0.45). `python -m
# mocohd.metrics.motion_stats --domain faces_big_eyes --image-range data/checkpoints/faces_big_eyes_64.pt`
# puts 13.3 % of its samples beyond the real images' most-shut 5 %, but none beyond the
# most-open 5 %, and none beyond either end of the head turns: soft faces, looking ahead.
#
# Over it, `faces_big_eyes_motion.pt` ran the shipped faces run's settings and seed for 500
# iterations (33 min). In full mode (32 clips, 3 draws; `python -m mocohd.metrics.motion_stats
# --domain faces_big_eyes data/checkpoints/faces_big_eyes_motion.pt --repeats 3`; the feature
# network reads the variant with its faces head, which reads these eyes from 0 to about 1.5,
# so compare with the real row above it, not with the faces tables):
#
# | | eyes: spread / clips > 0.3 / largest step / there and back | mouth: spread / clips > 0.3 | yaw: spread / clips > 0.3 | late sharpness |
# |---|---|---|---|---|
# | real `faces_big_eyes` clips | 0.308 / 0.81 / 0.626 / 0.50 | 0.117 / 0.54 | 0.240 / 0.79 | 1.01 |
# | `faces_big_eyes_motion.pt` | 0.294 / 0.81 / 0.108 / 0.00 | 0.083 / 0.32 | 0.071 / 0.23 | 0.74 |
#
# and the probe of its run (`python -m mocohd.metrics.discriminator_probe
# runs/ckpt/video_faces_big_eyes_at500/checkpoint.pt`, 96 held-out clips):
#
# | run | 3D D: real - fake | eyes | mouth | yaw | pitch | image D: real - fake | eyes | mouth | yaw | pitch |
# |---|---|---|---|---|---|---|---|---|---|---|
# | over `faces_big_eyes_64`, 500 it. | 0.412 | **-0.016 ± 0.003** | -0.003 | +0.026 | -0.003 | 0.499 | **-0.018 ± 0.003** | +0.000 | +0.053 | -0.004 |
#
# The cell measures the shipped model and the same run trained on to 1,600 iterations (below;
# smoke mode: one draw of 8 clips), and shows the shipped model's clips whose eyes change most.

# %%
big_motion = p["big_eyes_motion_checkpoint"]
if domain == "faces" and big_motion is not None:
    big_runs = {"over faces_big_eyes_64": big_motion}
    big_long = p["ablation_dir"] / "faces_big_eyes_motion_1600.pt"  # the same run trained on
    if big_long.exists():
        big_runs["same, 1,600 it."] = big_long
    print(format_table(compare(big_runs, "faces_big_eyes", n_videos=n_videos, seed=seed, repeats=by_mode(mode, 1, 3))))
    clips = show_most_changing_eyes(load_video_generator(big_motion), "faces_big_eyes", "faces_big_eyes_motion.pt",
                                    crop=(8, 48, 8, 56))
    show_videos(clips[:8], columns=8, fps=6)

# %% [markdown]
# The eyes now move as often and as far as real ones, but they do not blink: in each clip
# they close slowly over the 16 frames (or the face blurs) and never reopen. The largest change
# between two frames is a sixth of a real blink's, no clip goes there and back, and the last
# frames are softer than the first (late sharpness 0.74). And the discriminators *do* see this
# blink, the wrong way round: both score a real clip with its blink *lower* than the same
# clip with the eyes held open (-0.016 and -0.018, five standard errors from 0, where the small
# toy blink scored 0). The generator's clips end with shut or faded eyes, so shut eyes became a
# sign of a fake; what makes a real blink real, eyes that open again a few frames later, is not
# what the 3D D has learned to look for after 500 iterations (nor after 660: the same run
# trained on gives -0.018 ± 0.003 and -0.022 ± 0.003). So the three things this section
# found missing (a blink large enough to see, an image generator that draws shut eyes, a
# discriminator that reacts to a blink) are now all present, and still no blink: the motion
# generator takes the cheap path, a slow drift, and the discriminators answer by penalising
# its end state rather than by asking for the reopening.
#
# **Does longer training turn the eye effect round?** The same run trained on to 1,600
# iterations (about 80 more minutes; `ablation/faces_big_eyes_motion_1600.pt`), each stage measured
# as above (`python -m mocohd.metrics.motion_stats --domain faces_big_eyes RUN_at$N/checkpoint.pt
# --repeats 3` and `python -m mocohd.metrics.discriminator_probe RUN_at$N/checkpoint.pt`):
#
# | iterations | eyes: spread / clips > 0.3 / largest step / there and back | mouth spread | yaw spread | late sharpness | 3D D: real - fake | 3D D: eyes | image D: eyes |
# |---|---|---|---|---|---|---|---|
# | 500 (shipped) | 0.294 / 0.81 / 0.108 / 0.00 | 0.083 | 0.071 | 0.74 | 0.412 | -0.016 ± 0.003 | -0.018 ± 0.003 |
# | 800 | 0.151 / 0.67 / 0.079 / 0.00 | 0.085 | 0.062 | 0.82 | 0.424 | -0.016 ± 0.003 | -0.028 ± 0.004 |
# | 1,000 | 0.153 / 0.60 / 0.084 / 0.00 | 0.092 | 0.057 | 0.78 | 0.450 | -0.017 ± 0.003 | -0.025 ± 0.004 |
# | 1,200 | 0.180 / 0.71 / 0.081 / 0.00 | 0.090 | 0.086 | 0.80 | 0.460 | -0.018 ± 0.003 | -0.029 ± 0.004 |
# | 1,400 | 0.154 / 0.69 / 0.082 / 0.00 | 0.063 | 0.079 | 0.85 | 0.461 | -0.018 ± 0.003 | -0.028 ± 0.004 |
# | 1,600 | 0.090 / 0.38 / 0.067 / 0.01 | 0.063 | 0.063 | 1.06 | 0.459 | -0.019 ± 0.003 | -0.026 ± 0.004 |
#
# No. Both discriminators go on scoring a real blink lower than the same clip with the eyes
# held open, by the same margin at every stage. The generator answers the way they ask: its
# eyes move less and less (spread 0.29 to 0.09, clips changing by more than 0.3 from 81 % to
# 38 %), never faster (the largest step stays at a sixth of a real blink's), and almost never
# come back (at most 1 % of clips). With less fading, by 1,600 iterations the last frames are as
# sharp as the first. The early clips taught both discriminators that shut eyes mark a fake,
# and nothing later unteaches it: once the generator keeps its eyes open, penalising shut eyes
# costs a discriminator only the few real frames that show them. 600 discriminator updates
# alone over the 1,600-iteration generator (`--g-steps 0`, 8 minutes, as above) shrink the
# penalty only to -0.015 ± 0.003 (image D -0.021 ± 0.003). Nothing in this loop rewards a
# clip *for* blinking, so longer training converges on open eyes, not on blinks.

# %% [markdown]
# **A discriminator taught what a blink is (not in the paper).** So the faithful loop lacks a
# reward for blinking. The toy world can supply one, because it can draw every training clip
# twice: as drawn, and with the eyes held open (the probe's pairs). `--held-fakes eye_open`
# gives the 3D D a second game on every D step, the same RaLSGAN loss with the real batch
# against those same clips, eyes held open, weighted by `--w-held`. To win it the 3D D must
# learn that a clip without its blink is fake, which is the one thing the faithful D never
# learned. This is *not* MoCoGAN-HD: it uses factors that only a toy world knows, and real
# data has no held-open copy of a clip. It is a diagnostic, named for what it is, that asks:
# if the discriminator asks for blinks, does the motion generator find them?
# `--held-image true` lets the image D play the same game on its (frame 0, frame k) pairs.
#
# Three runs over `faces_big_eyes_64`, each with the shipped big-eyes run's settings and
# seed for 500 iterations (about 30 min each; `python -m mocohd.train video --preset full
# --data toy:faces_big_eyes --image-generator data/checkpoints/faces_big_eyes_64.pt --steps
# 500 --held-fakes eye_open [--w-held 5 | --held-image true] --out RUN`), measured as the
# tables above (32 clips, 3 draws; 96 held-out clips for the probe):
#
# | | eyes: spread / clips > 0.3 / largest step / there and back | mouth spread | yaw spread | late sharpness | 3D D: real - fake | 3D D: eyes | image D: eyes |
# |---|---|---|---|---|---|---|---|
# | real `faces_big_eyes` clips | 0.308 / 0.81 / 0.626 / 0.50 | 0.117 | 0.240 | 1.01 | | | |
# | faithful (`faces_big_eyes_motion.pt`) | 0.294 / 0.81 / 0.108 / 0.00 | 0.083 | 0.071 | 0.74 | 0.412 | -0.016 ± 0.003 | -0.018 ± 0.003 |
# | held-open eyes for the 3D D, weight 1 | 0.270 / 0.81 / 0.102 / 0.00 | 0.066 | 0.060 | 0.78 | 0.397 | **+0.018 ± 0.004** | -0.015 ± 0.003 |
# | the same, weight 5 | 0.228 / 0.77 / 0.096 / 0.01 | 0.061 | 0.054 | 0.80 | 0.262 | **+0.025 ± 0.005** | -0.017 ± 0.003 |
# | the same for both Ds (`--held-image true`), weight 1 | 0.272 / 0.81 / 0.098 / 0.00 | 0.074 | 0.056 | 0.74 | 0.378 | **+0.019 ± 0.005** | **+0.021 ± 0.005** |
#
# The game does what it was built for: the discriminators that play it now score a real
# blink *above* the same clip with the eyes held open, and with `--held-image true` both do.
# The generator does not follow. Its eyes move as before, slowly and one way: the largest step
# between two frames stays at a sixth of a real blink's, and almost no clip (at most 1 %)
# goes there and back; the cell's figure shows the run with both Ds taught, its eye reading
# falling steadily over the 16 frames as the eyes fade. The reward is small next to
# everything else the discriminators score: a blink is worth about 0.02, a twentieth of the
# real - fake gap (0.26 to 0.41). Weighting the game 5
# times doubles that share but takes the 3D D's attention from the rest (its gap falls to
# 0.26) and buys no blink. Nor is the bound on a residual step the obstacle: for this model,
# `step_reach` (`python -m mocohd.metrics.motion_stats --domain faces_big_eyes --step-reach
# data/checkpoints/faces_big_eyes_motion.pt`) reads an eye change of 0.44 within one step and
# 0.75 within two, where real clips change by 0.60 and 0.78 (and `push_factor`'s frames show
# the eyes of some faces vanishing into skin within two steps, while others pale as a whole).
# So after 500 iterations the motion generator has not found the fast there-and-back path
# that both discriminators now ask for; whether it would with much longer training, or a
# reward that is not a twentieth of the signal, is left open (exercise 7).

# %%
held_runs = {label: p["ablation_dir"] / f"faces_big_eyes_motion_{name}_500.pt"
             for label, name in (("held eyes, 3D D", "held"), ("held eyes, 3D D x5", "held5"),
                                 ("held eyes, both Ds", "heldboth"))}
held_runs = {label: path for label, path in held_runs.items() if path.exists()}
if domain == "faces" and big_motion is not None and held_runs:
    print(format_table(compare({"faithful": big_motion, **held_runs}, "faces_big_eyes", n_videos=n_videos,
                               seed=seed, repeats=by_mode(mode, 1, 3))))
    last = list(held_runs)[-1]
    show_most_changing_eyes(load_video_generator(held_runs[last]), "faces_big_eyes", last, crop=(8, 48, 8, 56))

# %% [markdown]
# ### The blink alone
#
# The toy world can also take every other motion away. `toy:faces_big_eyes_blinks` draws the
# clips of `faces_big_eyes`, index for index, with the mouth shut and the head still: the
# blink is the only thing in them that moves. Here the paper's loop runs unchanged (no held
# clips), over the same `faces_big_eyes_64` with the big-eyes run's settings and seed
# (`python -m mocohd.train video --preset full --data toy:faces_big_eyes_blinks
# --image-generator data/checkpoints/faces_big_eyes_64.pt --steps 1500 --out RUN`, about 3.5 s
# an iteration here). The motion generator has nothing to learn but the blink, and the
# discriminators, one would think, nothing else to tell real clips from fakes by. Measured as
# above (`motion_stats --domain faces_big_eyes_blinks RUN/checkpoint.pt --repeats 3`; the
# probe on 96 held-out clips):
#
# | | eyes: spread / clips > 0.3 / largest step / there and back | pixel motion | late sharpness | 3D D: real - fake | 3D D: eyes | image D: eyes |
# |---|---|---|---|---|---|---|
# | real `faces_big_eyes_blinks` clips | 0.324 / 0.81 / 0.647 / 0.49 | 0.0011 | 1.02 | | | |
# | blink alone, 500 iterations | 0.056 / 0.14 / 0.035 / 0.00 | 0.0069 | 0.91 | 0.437 | -0.021 ± 0.004 | -0.028 ± 0.004 |
# | blink alone, 1,000 iterations | 0.069 / 0.29 / 0.040 / 0.00 | 0.0076 | 0.93 | 0.458 | -0.022 ± 0.004 | -0.040 ± 0.004 |
# | blink alone, 1,500 iterations | 0.055 / 0.15 / 0.054 / 0.01 | 0.0080 | 0.92 | 0.459 | -0.027 ± 0.003 | -0.041 ± 0.004 |
#
# With nothing else to learn, the generator learns the blink *less* than over the full
# `faces_big_eyes` clips (eyes spread 0.29 there): its faces hold still, its eyes barely move,
# and at most 1 % of clips go there and back. Both discriminators again score a real blink below the same
# clip with the eyes held open, and more so as training goes on. The reason shows in one
# number: the generated clips change 6 to 7 times more per frame than the real ones (pixel
# motion 0.0069 to 0.0080 against 0.0011), although their faces look still. So where do they change?
#
# `blink_region()` marks every pixel that a real blink changes (over 64 clips: a band around
# where toy eyes sit, 14 % of the frame), and `change_by_region` splits the frame-to-frame
# change into inside and outside that band:
#
# | clips (32, seeds as the cell's) | change inside the eye band | outside it |
# |---|---|---|
# | real, blink alone | 0.0073 | 0.00001 |
# | real `faces_big_eyes` (heads turn, mouths talk) | 0.0337 | 0.0022 |
# | `faces_big_eyes_motion.pt` (section 8's faithful run) | 0.0100 | 0.0080 |
# | blink alone, 500 iterations | 0.0071 | 0.0064 |
# | blink alone, 1,000 iterations | 0.0075 | 0.0069 |
# | blink alone, 1,500 iterations | 0.0080 | 0.0075 |
# | held eyes, both Ds (above), 500 iterations | 0.0069 | 0.0065 |
#
# A real blink changes nothing but the eyes. Every trained motion generator changes the rest
# of the picture almost as much as the eyes: the face keeps its pose, but its texture and
# colours shimmer a little from frame to frame as $w$ moves (the noise maps are fixed per
# video, so this is $w$'s doing, not StyleGAN's noise). A discriminator needs no blink to tell
# such clips from real ones: change outside the eyes gives them away. Having learned that
# change means fake, it marks a real blink down too, which is what the probe reads. Before a
# blink can pay, the generator must learn to move $w$ without the rest of the face moving,
# and in 1,500 iterations it has not.
#
# Can $G_I$ do that at all? `push_factor(..., region=blink_region(), outside_weight=W)` searches
# the two-step residual set for the move that shuts the eyes while paying W times the mean
# change outside the band. Over 8 of `faces_big_eyes_64`'s faces (40 Adam steps): free to
# change anything (W = 0), the eye reading falls from 0.53 to -0.11 and the picture changes
# nearly as much outside the band as inside it (0.089 against 0.106); paying for it (W = 10),
# the reading still falls to 0.05 with a change of 0.047 inside and 0.017 outside. So $G_I$
# has a direction that shuts the eyes (on the frames below, mostly by paling them) with a
# third of the change elsewhere: entangled, but less than the trained generators' paths,
# whose every frame changes the rest as much as the eyes. The cell measures the shipped
# runs, draws the bands' numbers as bars and shows the W = 10 frames under the faces they
# started from.

# %%
from mocohd.metrics.motion_stats import blink_region, change_by_region, push_factor

blink_runs = {f"blink alone, {s} it.": p["ablation_dir"] / f"faces_big_eyes_blinks_motion_{s}.pt" for s in (500, 1500)}
blink_runs = {label: path for label, path in blink_runs.items() if path.exists()}
if domain == "faces" and big_motion is not None and blink_runs:
    print(format_table(compare(blink_runs, "faces_big_eyes_blinks", n_videos=n_videos, seed=seed,
                               repeats=by_mode(mode, 1, 3))))
    region = blink_region()

    def generated_change(path):
        return change_by_region(draw_clips(load_video_generator(path)).float(), region)

    changes = {"real, blink alone": change_by_region(make_clips("faces_big_eyes_blinks", n_videos, seed=seed + 1).video, region),
               "real faces_big_eyes": change_by_region(make_clips("faces_big_eyes", n_videos, seed=seed + 1).video, region),
               "faces_big_eyes_motion.pt": generated_change(big_motion),
               **{label: generated_change(path) for label, path in blink_runs.items()}}
    fig, ax = plt.subplots(figsize=(8, 2.8))
    for j, (where, color) in enumerate((("inside", "C0"), ("outside", "C3"))):
        ax.bar([i + 0.4 * j for i in range(len(changes))], [c[where] for c in changes.values()], width=0.4,
               color=color, label=f"{where} the eye band")
    ax.set_xticks([i + 0.2 for i in range(len(changes))], list(changes), fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("mean |frame-to-frame change|")
    ax.legend(fontsize=8)
    ax.set_title("where the frames change: real blinks change only the eyes")
    plt.show()

    vg = load_video_generator(big_motion)
    for weight in (0.0, 10.0):
        pushed = push_factor(vg, "faces_big_eyes", "motion:eye_open", k=2, n_images=by_mode(mode, 4, 8),
                             iterations=by_mode(mode, 10, 40), seed=seed, region=region, outside_weight=weight)
        moved = change_by_region(torch.stack([pushed["start"], pushed["pushed"]], 1), region)
        print(f"outside_weight {weight:4.0f}: eye reading {pushed['start_value'].mean():.2f} -> "
              f"{pushed['pushed_value'].mean():.2f}; change inside the band {moved['inside']:.4f}, "
              f"outside {moved['outside']:.4f}")
    show_images(torch.cat([pushed["start"], pushed["pushed"]]), columns=len(pushed["start"]), size=1.2,
                titles=[f"{v:.2f}" for v in torch.cat([pushed["start_value"], pushed["pushed_value"]]).tolist()],
                suptitle="two steps to shut eyes, still outside the band")

# %% [markdown]
# ### What gives a fake away: its pictures or its motion?
#
# A discriminator's real - fake gap can come from two places: how the frames look, which only
# $G_I$ decides, and how they move, which is the motion generator's work. The probe splits it
# (`gap_parts`): freeze every clip at its first frame, and
#
# $$\underbrace{D(\text{real}) - D(\text{fake})}_{\text{gap}} = \underbrace{D(\text{real}) - D(\text{real frozen})}_{\text{real motion}} + \underbrace{D(\text{real frozen}) - D(\text{fake frozen})}_{\text{pictures}} + \underbrace{D(\text{fake frozen}) - D(\text{fake})}_{\text{generated motion}}.$$
#
# The three parts add up to the gap exactly. `python -m mocohd.metrics.discriminator_probe
# RUN/checkpoint.pt` prints them under each gap (96 held-out clips; the shipped motion files
# keep no discriminators, so these come from the run folders):
#
# | run (its own real clips) | 3D D: gap = real motion + pictures + generated motion | image D: gap = real motion + pictures + generated motion |
# |---|---|---|
# | faces over `faces_64_balanced_6000`, 800 it. (`toy:faces`) | 0.406 = 0.011 + 0.384 + 0.011 | 0.440 = 0.001 + 0.443 - 0.004 |
# | `faces_big_eyes_motion` trained on to 1,600 it. | 0.459 = 0.030 + 0.442 - 0.013 | 0.517 = 0.011 + 0.517 - 0.011 |
# | blink alone, 500 it. | 0.437 = 0.004 + 0.456 - 0.022 | 0.481 = 0.003 + 0.502 - 0.024 |
# | blink alone, 1,500 it. | 0.459 = 0.006 + 0.484 - 0.031 | 0.489 = 0.007 + 0.486 - 0.004 |
#
# In every run the pictures are the whole gap: with all motion frozen out, real clips still
# score 0.38 to 0.52 above generated ones, and motion, real or generated, moves the score by
# 0.03 at most. The discriminators tell fakes by how $G_I$'s frames look, which no motion
# generator can change; what they feel of motion is a few percent of their signal, too little
# to teach a blink. (The "generated motion" part is mostly slightly negative: frozen, the
# fakes would look faker.) Our reading of these numbers is the paper's title seen from the
# other side: the motion generator learns motion only once the image generator is good enough
# that its pictures stop giving the fakes away.
#
# The probe earlier in this section printed the same three parts for the run trained in
# section 5; the cell draws them (in smoke mode its discriminators have had 3 updates, so the
# bars mean nothing yet; in full mode they have had 200).

# %%
if domain in HOLDABLE and run_checkpoint.exists():
    fig, ax = plt.subplots(figsize=(6, 2.6))
    names = {"real_motion": "real motion", "pictures": "pictures (all frozen)", "fake_motion": "generated motion"}
    for j, (key, name) in enumerate((("video", "3D D"), ("image", "image D"))):
        parts = probed["gap_parts"][key]
        ax.bar([i + 0.4 * j for i in range(3)], [parts[k] for k in names], width=0.4, label=name)
    ax.set_xticks([i + 0.2 for i in range(3)], list(names.values()), fontsize=8)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylabel("part of real - fake")
    ax.legend(fontsize=8)
    ax.set_title(f"this notebook's run (step {probed['step']}): where the real - fake gap comes from", fontsize=9)
    plt.show()

# %% [markdown]
# ### A smoother image generator?
#
# One thing the shipped image generators leave out is StyleGAN2's path-length regulariser
# (`path_regularize`, weight 2 in the official code; off here because it costs a second
# backward pass every 4 steps, notebook 01). It asks a fixed-size step in $W$ to change the
# image by a fixed amount, whatever the direction, which StyleGAN2's authors found to make
# $W$ smoother and images better. Would a motion generator over such a $G_I$ find steps that
# change only the eyes? `ablation/faces_big_eyes_64_pl2.pt` is `faces_big_eyes_64`'s run with
# the regulariser on (`--path-regularize 2`; 2,114 s against 1,423 s), and
# `ablation/faces_big_eyes_blinks_pl2_motion_500.pt` the blink-alone run over it.
#
# First $G_I$ alone. `region_locality` takes the frame's Jacobian along the motion generator's
# 96 PCA directions at 8 sampled faces, and asks how much more change per pixel a small step
# can make inside the eye band than outside it: the best direction (a generalised
# eigenproblem) and a random one. A real blink's ratio is unbounded (it changes nothing else).
#
# | image generator | FD_toy | best direction: rms inside / outside | random direction | two steps to shut eyes: eye reading, W = 0 / W = 10 |
# |---|---|---|---|---|
# | `faces_big_eyes_64` | 14.2 | 8.1 ± 1.2 | 0.91 | 0.53 → -0.11 / 0.53 → 0.05 |
# | `faces_big_eyes_64_pl2` (path-length regularised) | 9.9 | 8.6 ± 1.7 | 1.07 | 1.12 → 0.55 / 1.12 → 0.74 |
#
# The regularised $G_I$ draws images closer to real ones (FD_toy 9.9 against 14.2), but its
# $W$ is no more local: its best direction is as good as the old one's, and two residual
# steps shut its eyes less far (an even path length spreads a step's change over the whole
# picture). And the blink-alone run over it, 500 iterations, measured as above:
#
# | | eyes: spread / clips > 0.3 / largest step / there and back | pixel motion | change inside / outside the eye band | 3D D: gap = real motion + pictures + generated motion |
# |---|---|---|---|---|
# | blink alone, 500 it. | 0.056 / 0.14 / 0.035 / 0.00 | 0.0069 | 0.0071 / 0.0064 | 0.437 = 0.004 + 0.456 - 0.022 |
# | the same over `faces_big_eyes_64_pl2` | 0.033 / 0.02 / 0.016 / 0.00 | 0.0054 | 0.0061 / 0.0050 | 0.432 = -0.002 + 0.422 + 0.012 |
#
# Its frames change a little less, but still as much outside the eyes as inside, its eyes
# move less, and its discriminators still tell fakes by their pictures (0.42 of a 0.43 gap).
# A better FD_toy is not yet good enough: the discriminators, trained on the video frames from
# scratch, find whatever is left between $G_I$'s pictures and real ones, and that remains
# the whole of their signal. The cell measures both image generators; the best direction sits
# far above a random one, and the trained motion generators' paths (change inside / outside
# near 1) sit at the random one.

# %%
from mocohd.metrics.motion_stats import region_locality

pl_image = p["ablation_dir"] / "faces_big_eyes_64_pl2.pt"
pl_motion = p["ablation_dir"] / "faces_big_eyes_blinks_pl2_motion_500.pt"
if domain == "faces" and big_motion is not None and pl_image.exists() and pl_motion.exists():
    region = blink_region()
    for label, path in (("faces_big_eyes_64", big_motion), ("faces_big_eyes_64_pl2", pl_motion)):
        local = region_locality(load_video_generator(path), region, n_images=by_mode(mode, 2, 8), seed=seed)
        print(f"{label:<22} best direction {local['best'].mean():.2f} ± {local['best'].std():.2f}, "
              f"random direction {local['random'].mean():.2f}  (rms change inside / outside the eye band)")
    pl_runs = {"blink alone, 500 it.": p["ablation_dir"] / "faces_big_eyes_blinks_motion_500.pt",
               "over faces_big_eyes_64_pl2, 500 it.": pl_motion}
    print(format_table(compare({k: v for k, v in pl_runs.items() if v.exists()}, "faces_big_eyes_blinks",
                               n_videos=n_videos, seed=seed, repeats=by_mode(mode, 1, 3))))

# %% [markdown]
# ### The discriminators at half the size, as in the paper
#
# One setting here differs from the official code in a way that bears on pictures. The paper's
# image generators draw 256 px frames, and both discriminators see them average-pooled to
# 128 px (`--video_frame_size 128`): fine texture, where a generator's flaws sit, is halved
# away before a discriminator looks, while a blink or a head turn survives it. The full preset
# shows the discriminators $G_I$'s 64 px frames as they are. `--video-frame-size 32` restores
# the paper's ratio; the toy world then draws real clips at 64 px and pools them the same way
# (`make_clips(..., supersample=2)`), because drawn straight at 32 px their edges differ from
# pooled ones by up to 0.49, a cue a discriminator could read. The blink-alone run, otherwise
# unchanged (`ablation/faces_big_eyes_blinks_d32_motion_500.pt`; 1,480 s, the 64 px run
# 1,820 s), measured as above:
#
# | | eyes: spread / clips > 0.3 / largest step / there and back | identity drift | pixel motion | change inside / outside the eye band | 3D D: gap = real motion + pictures + generated motion | image D: gap |
# |---|---|---|---|---|---|---|
# | real `faces_big_eyes_blinks` clips | 0.324 / 0.81 / 0.647 / 0.49 | 0.020 | 0.0011 | 0.0073 / 0.00001 | | |
# | blink alone, Ds at 64 px, 500 it. | 0.056 / 0.14 / 0.035 / 0.00 | 0.012 | 0.0069 | 0.0071 / 0.0064 | 0.437 = 0.004 + 0.456 - 0.022 | 0.481 = 0.003 + 0.502 - 0.024 |
# | blink alone, Ds at 32 px, 500 it. | 0.137 / 0.59 / 0.064 / 0.00 | 0.022 | 0.0097 | 0.0110 / 0.0082 | 0.419 = -0.001 + 0.448 - 0.029 | 0.484 = 0.006 + 0.484 - 0.006 |
#
# (`motion_stats --domain faces_big_eyes_blinks RUN/checkpoint.pt --repeats 3`, 32 clips; the
# probe on 96 held-out clips, its real clips pooled as in training.) With the smaller
# discriminators the eyes move more than twice as far: in 59 % of the clips they change by
# more than 0.3, against 14 %. (Averages over three draws of 32 clips, and the draws differ
# a lot: in the first draw 13 % of the clips, in four more draws 69 to 91 %, where the 64 px
# run's read 9 to 19 %. The smoke-mode cell's single draw of 8 clips can read anywhere in
# that range.) They still close slowly over the clip and never reopen, and
# the rest of the face moves with them (identity drift doubles, to the real clips' level;
# outside the eye band the frames change about 700 times as much as a real clip's). Halving the resolution did not take the
# pictures away: frozen, real clips still score 0.45 above generated ones. The cell after the next
# part measures this run beside the others.
#
# ### An image generator of the blink-alone world
#
# One more mismatch sits in the pictures of every blink-alone run so far: their $G_I$ was
# trained on `faces_big_eyes` frames, so it draws open mouths and turned heads that the real
# blink-alone clips never show, and a discriminator can tell a fake by its first frame alone.
# `ablation/faces_big_eyes_blinks_64.pt` is an image generator trained on the blink-alone
# world's own frames (mouth shut, head straight, eye openness spread evenly; `faces_big_eyes_64`'s
# settings, 2,500 steps, 1,460 s; FD_toy 17.3 against its own frames), and
# `ablation/faces_big_eyes_blinks_gib_d32_motion_500.pt` the 32 px run over it (1,443 s):
#
# | | eyes: spread / clips > 0.3 / largest step / there and back | identity drift | pixel motion | change inside / outside the eye band | 3D D: gap = real motion + pictures + generated motion | image D: gap |
# |---|---|---|---|---|---|---|
# | Ds at 32 px, over `faces_big_eyes_64` | 0.137 / 0.59 / 0.064 / 0.00 | 0.022 | 0.0097 | 0.0110 / 0.0082 | 0.419 = -0.001 + 0.448 - 0.029 | 0.484 = 0.006 + 0.484 - 0.006 |
# | Ds at 32 px, over `faces_big_eyes_blinks_64` | 0.188 / 0.75 / 0.079 / 0.00 | 0.020 | 0.0089 | 0.0087 / 0.0083 | 0.460 = 0.002 + 0.466 - 0.007 | 0.477 = 0.005 + 0.488 - 0.017 |
# | Ds at 64 px, over `faces_big_eyes_blinks_64` | 0.063 / 0.17 / 0.035 / 0.00 | 0.010 | 0.0059 | 0.0067 / 0.0054 | 0.454 = 0.000 + 0.462 - 0.008 | 0.484 = 0.006 + 0.493 - 0.015 |
#
# (The last row, `ablation/faces_big_eyes_blinks_gib_motion_500.pt`, 1,741 s, completes the
# comparison: over the new $G_I$ with the discriminators at 64 px, the eyes move as little as
# over the old one. The smaller discriminators are what moved them; the new $G_I$ adds a
# little and keeps the mouth still.)
#
# The eyes now move in three clips of four (real clips: four of five), identity drifts no
# more than in real clips, and the mouth, which this $G_I$ never opens, stays shut. But the
# eyes still close slowly over the whole clip and never reopen (largest step 0.08 against a
# real blink's 0.65), the face changes as much outside the eyes as at them, and the pictures
# are still the whole gap: 0.47 of 0.46. Neither of the two differences from the paper that
# we could remove here, the discriminators' resolution and the world $G_I$ was trained on,
# was what hid the blink. What remains is $G_I$'s pictures themselves: a discriminator
# trained from scratch on the video frames finds what separates them from real ones, and the
# motion generator cannot change that. The cell measures the three runs and shows the clips
# whose eyes change most in the last.

# %%
d64_motion = p["ablation_dir"] / "faces_big_eyes_blinks_motion_500.pt"
d32_motion = p["ablation_dir"] / "faces_big_eyes_blinks_d32_motion_500.pt"
gib_motion = p["ablation_dir"] / "faces_big_eyes_blinks_gib_d32_motion_500.pt"
small_d_runs = {"Ds at 64 px": d64_motion, "Ds at 32 px": d32_motion, "32 px, blink-world G_I": gib_motion}
if domain == "faces" and all(path.exists() for path in small_d_runs.values()):
    print(format_table(compare(small_d_runs, "faces_big_eyes_blinks", n_videos=n_videos, seed=seed,
                               repeats=by_mode(mode, 1, 3))))
    show_most_changing_eyes(load_video_generator(gib_motion), "faces_big_eyes_blinks", "32 px, blink-world G_I")

# %% [markdown]
# ### If the pictures were perfect: real blinks drawn by $G_I$
#
# Every part so far ends at the same wall: the discriminators tell fakes by their pictures.
# The paper's answer is a better image generator, which costs hours of CPU per attempt here
# and never reaches perfect. But in the blink-alone world we can build the limit directly:
# real clips whose every frame $G_I$ itself drew, carrying the real clips' blinks.
# `mocohd.data.steered` does it in three steps, for each real toy clip that starts with its
# eyes open (why only those, the subsection "Which way the discriminators pay" below tells):
#
# 1. draw a face $w_0$ exactly as the video generator draws its first frame (mapping network,
#    one noise map per video);
# 2. search the set that three of the LSTM's bounded residual steps can reach from $w_0$ for
#    the point $w_{\text{shut}}$ whose eyes read shut, paying 10 × the change outside the eye
#    band (`shut_latents`, the search of `push_factor` above);
# 3. move along the line from $w_0$ to $w_{\text{shut}}$ by the share the real clip's eyes
#    shut, frame by frame (`blink_path`): the real blink's timing, speed and there-and-back;
#    frame 0 is $w_0$ itself.
#
# Rendered as the trainer renders its fakes (same bf16 autocast, chunks and average pooling),
# real and generated clips now share their pictures frame for frame in distribution. Only
# their motion can tell them apart: the game the paper means the loop to play. It is a control,
# not the paper (real videos do not come from $G_I$), and it tells us whether the loop can learn
# a blink once pictures no longer give the fakes away. `--steered-real true` trains on such
# clips (1,000 of them, drawn once and cached in `data/cache`, about 16 minutes here); the run
# below is the best setting of the last part with only the real clips changed:
# `python -m mocohd.train video --preset full --data toy:faces_big_eyes_blinks --image-generator
# data/checkpoints/ablation/faces_big_eyes_blinks_64.pt --video-frame-size 32 --steered-real true
# --steps 500 --out RUN`. First, what the steered clips look like beside the clips whose blinks
# they carry, and how the feature network reads their eyes:

# %%
from mocohd.data.steered import open_eyed_toy_clips, steered_clips
from mocohd.metrics.motion_stats import clip_numbers, motion_report

steered_motion = p["ablation_dir"] / "faces_big_eyes_blinks_steered_d32_motion_500.pt"
if domain == "faces" and steered_motion.exists():
    steered_vg = load_video_generator(steered_motion)
    # the toy clips of seed `seed` that start with open eyes, their blinks drawn by G_I
    # (fewer search steps in smoke mode)
    steered = steered_clips(steered_vg, n_videos, 16, seed=seed, iterations=by_mode(mode, 10, 20)).clamp(-1, 1)
    toy = open_eyed_toy_clips(n_videos, 16, seed=seed, size=64)
    shown = min(4, n_videos)
    show_videos(torch.cat([toy.video[:shown], steered[:shown]]), columns=shown, fps=6,
                titles=[f"toy clip {i}" for i in range(shown)] + [f"drawn by G_I {i}" for i in range(shown)])
    toy_eyes = toy.motion[:, :, toy.motion_names.index("eye_open")]
    steered_factors, steered_names = video_factors(steered, "faces_big_eyes_blinks")
    steered_eyes = steered_factors[:, :, steered_names.index("motion:eye_open")]
    fig, axes = plt.subplots(1, shown, figsize=(2.6 * shown, 2.2), sharey=True)
    for i, ax in enumerate(axes):
        ax.plot(toy_eyes[i], "k--", label="toy clip: eye_open")
        ax.plot(steered_eyes[i], "C0", label="drawn by G_I: eye reading")
        ax.set_xlabel("frame")
    axes[0].legend(fontsize=7)
    fig.suptitle("the real blinks, drawn by G_I", fontsize=9)
    plt.show()

# %% [markdown]
# The feature network reads the toy clip's blink off the steered clip, frame for frame, in the
# clips where the search found shut eyes within three steps (on some faces it finds only half-shut
# ones). Then the run, measured against its own real side (`motion_stats.clip_numbers` gives
# the real rows, `motion_report` the generated ones, 3 × 32 clips; the probe on 96 held-out
# steered clips, which it draws itself for a `--steered-real` run):
#
# | | eyes: spread / clips > 0.3 / largest step / there and back | identity drift | pixel motion | change inside / outside the eye band | 3D D: gap = real motion + pictures + generated motion | image D: gap |
# |---|---|---|---|---|---|---|
# | real `faces_big_eyes_blinks` toy clips | 0.324 / 0.81 / 0.647 / 0.49 | 0.020 | 0.0011 | 0.0073 / 0.00001 | | |
# | the same blinks drawn by $G_I$ (the steered run's real side) | 0.223 / 0.64 / 0.410 / 0.41 | 0.015 | 0.0037 | 0.0082 / 0.0029 | | |
# | 32 px over the blink-world $G_I$, toy clips as real (above) | 0.188 / 0.75 / 0.079 / 0.00 | 0.020 | 0.0089 | 0.0087 / 0.0083 | 0.460 = 0.002 + 0.466 - 0.007 | 0.477 = 0.005 + 0.488 - 0.017 |
# | the same, steered clips as real, 500 it. | 0.027 / 0.01 / 0.015 / 0.00 | 0.009 | 0.0051 | 0.0054 / 0.0050 | -0.020 = 0.017 + 0.005 - 0.042 | 0.012 = 0.002 + 0.005 + 0.005 |
# | the same, trained on to 1,500 it. | 0.021 / 0.00 / 0.011 / 0.00 | 0.005 | 0.0029 | 0.0031 / 0.0028 | 0.029 = 0.038 - 0.009 - 0.001 | 0.010 = 0.012 - 0.002 - 0.001 |
# | the same, trained on to 3,000 it. | 0.016 / 0.00 / 0.012 / 0.00 | 0.004 | 0.0026 | 0.0033 / 0.0025 | 0.084 = 0.063 + 0.023 - 0.002 | 0.141 = 0.141 + 0.003 - 0.004 |
#
# (`ablation/faces_big_eyes_blinks_steered_d32_motion_{500,1500,3000}.pt`: one run, kept at 500,
# 1,500 and 3,000 iterations; 1,661 s, 3,289 s and 8,540 s of training, after 679 s drawing the
# 1,000 steered clips.) All three were trained on version 1 of the steered clips, which
# followed every toy clip, including those that start mid-blink; the cell below draws version
# 2, which follows only clips that start with open eyes (see "Which way the discriminators
# pay" below), so its first two rows differ from the table's. Four things to read:
#
# - **The control does what it was built for.** The steered clips blink: they go there and
#   back in 41 % of clips (toy clips 49 %), and their largest step is 0.41, most of a real
#   blink's 0.65. Outside the eye band they change a third as much as inside: $G_I$ cannot
#   shut eyes without touching the rest, but this is its least entangled way.
# - **The pictures were the whole signal, and now they are gone.** Frozen at their first frames,
#   real and generated clips score alike (pictures +0.005, against +0.466 with toy clips as
#   real), and the gap itself is gone: the 3D discriminator scores the fakes slightly *above*
#   the real clips. What the last parts read off the probe is now shown by changing only it.
# - **At 500 iterations the discriminators had not turned to the motion.** A real blink earned
#   +0.017 over its own frozen clip, the generated drift +0.042 over its own: the 3D
#   discriminator rewarded any motion, and had not learned that real faces blink while
#   generated ones shimmer all over. The generator's eyes moved in 1 % of clips.
# - **By 1,500 they have, and the generator answers the wrong way.** Now the real blink earns
#   +0.038 and the generated drift nothing (-0.001): for the first time in this notebook, the
#   whole real - fake gap (+0.029) is motion. But the generator does not blink to earn it; it
#   moves less: pixel motion falls from 0.0051 to 0.0029 and its eyes change by more than 0.3
#   in no clip. Its shimmer no longer earns anything (a generated clip scores as its own
#   frozen first frame does), and in 1,500 iterations nothing led it to the blink that would.
#   Trained on to 3,000, both discriminators reward the real blink more (3D +0.063, image D
#   +0.141, nearly its whole gap), and the generator moves less still (pixel motion 0.0026).
#
# Is the reward there *for the generator*? The probe's "real motion" is what a blink earns
# on a real clip; the generator only ever feels the scores of its own. So
# `discriminator_probe.blink_reward` adds a real toy blink to the run's own generated clips:
# frame $t$ moves $a$ × the real clip's shut share towards that face's $w_{\text{shut}}$ (the
# same search as the steered clips), and the discriminators score the clips at each amplitude
# $a$ against $a = 0$. It needs the run's own checkpoint (the shipped files keep no
# discriminators), so here are its readings, 32 clips each
# (`python -m mocohd.metrics.discriminator_probe --blink-reward --clips 32 RUN/checkpoint.pt`;
# ± one standard error):
#
# | iterations | 3D D, a = 0.1 | 3D D, a = 1 | image D, a = 0.1 | image D, a = 0.5 | image D, a = 1 |
# |---|---|---|---|---|---|
# | 500 | +0.0007 ± 0.0006 | +0.0178 ± 0.0130 | -0.0000 ± 0.0000 | +0.0003 ± 0.0002 | +0.0010 ± 0.0004 |
# | 1,500 | +0.0022 ± 0.0015 | +0.0512 ± 0.0280 | -0.0007 ± 0.0004 | -0.0012 ± 0.0013 | +0.0002 ± 0.0020 |
# | 2,000 | +0.0008 ± 0.0007 | +0.0490 ± 0.0283 | -0.0013 ± 0.0005 | -0.0019 ± 0.0018 | +0.0014 ± 0.0028 |
# | 2,500 | +0.0022 ± 0.0014 | +0.0420 ± 0.0241 | +0.0021 ± 0.0010 | +0.0273 ± 0.0059 | +0.0612 ± 0.0110 |
# | 3,000 | +0.0017 ± 0.0009 | +0.0692 ± 0.0370 | -0.0040 ± 0.0031 | +0.0727 ± 0.0167 | +0.1707 ± 0.0247 |
#
# By 3,000 iterations a whole blink would raise the image discriminator's score of the
# generator's own clips by 0.17 (seven standard errors), more than that discriminator's whole
# real - fake gap (0.14). The reward is there, and the generator does not take it. The small
# amplitudes say why. A tenth of a blink earns the 3D discriminator about +0.002 and the
# image discriminator nothing or less (-0.001 at 1,500 and 2,000 iterations, -0.004 ± 0.003
# at 3,000). The score rises only once the eyes are well on their way to shut, so a generator
# that follows its gradient from still eyes finds almost no slope to climb.
#
# So there were two obstacles, not one. Bad pictures hid the motion from the discriminators.
# With the pictures matched, a 3D discriminator of this size needs about a thousand updates
# to learn that real faces blink, and then the cheapest answer open to the generator is to
# stop shimmering, not to start blinking: the blink pays only when it is large, a fast move
# along one direction of $W$ that the LSTM must find from nothing. The paper's
# discriminators are wider and train for 100,000 iterations and more.
#
# The run is reproducible bit for bit: trained again from nothing with the same command, on
# another day, its LSTM at 500 iterations equals the shipped file's tensor for tensor; stopped
# at 1,350 and resumed in a later session, its LSTM at 1,500 equals the shipped 1,500 file's,
# and stopped again at 2,650 and resumed in the next, its LSTM at 3,000 equals the 3,000 file's.
# All of those sessions ran on CPUs with AVX512-BF16. Continued from 2,650 on one without it,
# the run reached 3,000 with LSTM weights up to 0.028 away from that file's: PyTorch chooses
# its kernels by the CPU's instructions, other kernels round the last bit otherwise (in fp32
# too), and a GAN magnifies the difference. So "bit for bit" holds on one kind of CPU; each
# checkpoint lists the CPUs that trained it, and a resume on another kind warns.
# Its whole training state at 2,650 iterations (LSTM, both discriminators, their optimisers
# and random states, config and loss log: 86 MB) ships in
# `data/checkpoints/states/faces_big_eyes_blinks_steered_d32/`, so training it on does not
# start from nothing (exercise 10; `state.json` holds the command). The cell measures the
# toy clips, their steered versions and the three stages of the run as in the table (one
# draw of `n_videos` clips), and shows the clips whose eyes change most.

# %%
if domain == "faces" and steered_motion.exists():
    blinks = "faces_big_eyes_blinks"
    rows = {"toy clips": clip_numbers(toy.video, blinks), "the same drawn by G_I": clip_numbers(steered, blinks),
            "steered run, 500 it.": motion_report(steered_vg, blinks, n_videos, seed=seed)}
    last = ("steered run, 500 it.", steered_vg)
    for steps_done in (1500, 3000):
        path = p["ablation_dir"] / f"faces_big_eyes_blinks_steered_d32_motion_{steps_done}.pt"
        if path.exists():
            last = (f"steered run, {steps_done:,} it.", load_video_generator(path))
            rows[last[0]] = motion_report(last[1], blinks, n_videos, seed=seed)
    print(format_table(rows))
    show_most_changing_eyes(last[1], blinks, last[0])

# %% [markdown]
# ### What the LSTM remembers
#
# A blink is a round trip: the eyes shut, and four or five frames later they open again. The
# LSTM that proposes the steps reads nothing but fresh noise $\epsilon_t$ at every frame; $w_t$
# is never fed back to it. So the only way it can "know" to open the eyes it shut is its
# cell state, and $c_t$ keeps of $c_{t-1}$ only the share $f_t$, the forget gate. The
# mutual-information loss asks $[h_t; c_t]$ to give $\epsilon_t$ back, and the state serves
# that best when it holds this frame's noise and little else: it pulls $f_t$ down.
#
# `mocohd.metrics.lstm_memory` reads two things off a trained motion generator. The **gate
# means** replay the LSTM on 64 faces and average its gates. The **step structure** looks at
# the steps $w_t - w_{t-1}$ in $W$, and at the real clips' steps of `eye_open` beside them:
#
# - the **drift share**: the part of the step energy that is each clip's own constant mean
#   step (1 for a straight line at constant speed, near 0 for a blink, which comes back);
# - the **agreement**: the mean cosine between different clips' mean steps (1 when every
#   video drifts the same way);
# - the **lag correlations** of the steps about that mean. A toy blink reads +0.49 at lag 1
#   (the eyes shut over two frames) and -0.37 and -0.50 at lags 4 and 5 (they open again).
#   Steps that are white noise read about $-1/15$ at every lag, the bias of taking out each
#   clip's mean.
#
# Command line: `python -m mocohd.metrics.lstm_memory RUN/checkpoint.pt ... --domain
# faces_big_eyes_blinks` (about 5 s per model).

# %%
from pathlib import Path

from mocohd.metrics.lstm_memory import format_structure, memory_report, real_factor_steps, step_structure

memory_runs = {
    "faces_motion.pt (shipped)": p["motion_checkpoint"],
    "sky_motion.pt (shipped)": p["sky_motion_checkpoint"],
    "faces, with MI, 800 it.": p["ablation_dir"] / "faces_motion_mi_800.pt",
    "faces, without MI, 800 it.": p["ablation_dir"] / "faces_motion_nomi_800.pt",
    **{f"steered run, {n:,} it.": p["ablation_dir"] / f"faces_big_eyes_blinks_steered_d32_motion_{n}.pt"
       for n in (500, 1500, 3000)},
}
real_eye_steps = real_factor_steps("faces_big_eyes_blinks", "eye_open", n_clips=256, seed=seed)
memory = {"real toy blinks: eye_open steps": {"steps": step_structure(real_eye_steps)}}
for label, path in memory_runs.items():
    if Path(path).exists():
        memory[label] = memory_report(load_video_generator(path), n_clips=64, seed=seed)
print(format_structure(memory))

fig, (ax_lag, ax_forget) = plt.subplots(1, 2, figsize=(10, 3), gridspec_kw={"width_ratios": [3, 2]})
for label, row in memory.items():
    real_row = "gates" not in row
    ax_lag.plot(range(1, 6), row["steps"]["lag_correlation"], "k-o" if real_row else ".--", label=label,
                linewidth=2.5 if real_row else 1)
ax_lag.axhline(-1 / 15, color="grey", linewidth=0.5)
ax_lag.set_xticks(range(1, 6))
ax_lag.set(xlabel="lag (frames)", ylabel="correlation of steps", title="do the steps come back?")
ax_lag.legend(fontsize=6)
gated = {label: row["gates"]["forget"] for label, row in memory.items() if "gates" in row}
ax_forget.barh(list(gated), list(gated.values()))
ax_forget.set(xlabel="mean forget gate", xlim=(0, 1), title="how much of c_(t-1) is kept")
ax_forget.tick_params(axis="y", labelsize=6)
plt.tight_layout()
plt.show()

# %% [markdown]
# What it printed (seed 0, 64 faces per model; the same command gives the other shipped and
# ablation files):
#
# | | forget gate | drift share | agreement | lag 1 | lag 2 | lag 4 | lag 5 |
# |---|---|---|---|---|---|---|---|
# | real toy blinks (`eye_open` steps) | | 0.032 | | +0.494 | +0.010 | -0.369 | -0.495 |
# | `faces_motion.pt` | 0.233 | 0.948 | 0.996 | +0.243 | +0.081 | -0.056 | -0.104 |
# | `sky_motion.pt` | 0.497 | 0.961 | 0.996 | +0.463 | +0.239 | -0.007 | -0.088 |
# | faces, with MI, 800 it. | 0.287 | 0.592 | 0.986 | +0.926 | +0.820 | +0.375 | +0.045 |
# | faces, without MI, 800 it. | 0.722 | 0.396 | 0.984 | +0.956 | +0.829 | +0.317 | -0.043 |
# | steered run, 500 it. | 0.254 | 0.859 | 0.986 | +0.173 | +0.007 | -0.085 | -0.119 |
# | steered run, 1,500 it. | 0.090 | 0.882 | 0.991 | -0.036 | -0.067 | -0.073 | -0.083 |
# | steered run, 3,000 it. | 0.053 | 0.857 | 0.990 | +0.053 | -0.034 | -0.062 | -0.080 |
#
# Three things to read:
#
# - **Every generator learned one drift.** Most of each clip's step energy (0.86 to 0.96 in
#   the shipped and steered runs) is a constant step, and the constant step points the same
#   way in every video (agreement 0.98 to 1.00): whatever the face and the noise, the path is
#   nearly the same straight line through $W$. A real blink's eyes have almost no drift
#   (0.03): they come back.
# - **No generator comes back.** Where a real blink's steps turn negative four and five frames
#   on (-0.37, -0.50), every generator's read near the white-noise bias ($-1/15$) or
#   positive: smooth drift, or jitter, never a round trip.
# - **The MI loss erodes the memory a round trip needs.** With the MI loss the faces run
#   keeps 0.29 of its cell state per frame, without it 0.72 (same seed, data and
#   iterations). The steered run, the one whose discriminators reward a blink, lost its memory
#   as it trained: 0.25 at 500 iterations, 0.09 at 1,500, 0.05 at 3,000. By then the state is
#   this frame's noise (the MI loss logs -0.98, a near-perfect recovery of $\epsilon_t$), the
#   steps about the drift are white noise, and an LSTM that forgets 95 % of its state every
#   frame cannot time eyes that open four frames after they shut.
#
# Does the memory come back once the MI loss is gone? We forked the steered run at 3,500
# iterations (trained on from the shipped 2,650 state in a later session; not shipped) and
# trained on with `--no-mi` to 3,780: 280 iterations, 6,002 s on a 2-core CPU without bf16
# instructions, part of that time shared with the test suite. Measured as above
# (`motion_stats --videos 32 --repeats 3`, `lstm_memory`, `discriminator_probe --blink-reward
# --clips 32`):
#
# | | forget gate | eyes: spread / clips > 0.3 / largest step / there and back | lag 1 / lag 5 | blink reward, a = 0.1: 3D D / image D | a = 1: 3D D / image D |
# |---|---|---|---|---|---|
# | with MI, 3,500 it. | 0.051 | 0.033 / 0.04 / 0.016 / 0.00 | +0.029 / -0.091 | +0.0017 / -0.0008 | +0.070 / +0.118 |
# | without MI from 3,500, at 3,700 it. | 0.053 | | +0.170 / -0.091 | | |
# | without MI from 3,500, at 3,780 it. | 0.065 | 0.053 / 0.18 / 0.021 / 0.00 | +0.045 / -0.090 | -0.0004 / -0.0131 | +0.062 / +0.059 |
#
# The forget gate hardly moved (0.051 to 0.065). The eyes moved somewhat more, as drift: a
# largest step a thirtieth of a real blink's, and no clip there and back. And a small blink
# still earns nothing (the image discriminator marks a tenth of one down). Nothing in the
# GAN losses asks for memory until the generator already moves in round trips, so the memory
# the MI loss took does not come back in a few hundred iterations. The test that could tell
# whether a generator which keeps its memory learns to blink is the steered run trained from
# nothing with `--no-mi` (exercise 10): about 3 hours to 500 iterations on this CPU, about 30
# minutes on one with AVX512-BF16.
#
# %% [markdown]
# ### Which way the discriminators pay
#
# `blink_reward` can also add the blink backwards: at a negative amplitude, frame $t$ moves
# the same distance *away* from $w_{\text{shut}}$. A detector of blinks pays for $a > 0$
# only; a detector of any change around the eyes pays for both. Measured on the steered run
# at 3,500 iterations and on its fork without MI at 3,780 (both not shipped;
# `python -m mocohd.metrics.discriminator_probe RUN/checkpoint.pt --blink-reward --clips 32
# --amplitudes -1 -0.5 -0.25 -0.1 0.1 0.25 0.5 1`, score change against $a = 0$, ± one
# standard error):
#
# | | a = -1 | -0.5 | -0.25 | -0.1 | +0.1 | +0.25 | +0.5 | +1 |
# |---|---|---|---|---|---|---|---|---|
# | image D, with MI, 3,500 it. | +0.282 ± 0.047 | +0.158 ± 0.034 | +0.068 ± 0.017 | +0.017 ± 0.006 | -0.001 ± 0.004 | +0.016 ± 0.010 | +0.061 ± 0.015 | +0.118 ± 0.019 |
# | image D, no MI, 3,780 it. | +0.272 ± 0.048 | +0.158 ± 0.033 | +0.072 ± 0.017 | +0.023 ± 0.007 | -0.013 ± 0.006 | -0.011 ± 0.011 | +0.017 ± 0.017 | +0.059 ± 0.022 |
# | 3D D, with MI, 3,500 it. | +0.009 ± 0.023 | -0.002 ± 0.009 | -0.001 ± 0.002 | -0.001 ± 0.001 | +0.002 ± 0.001 | +0.011 ± 0.007 | +0.034 ± 0.022 | +0.070 ± 0.038 |
# | 3D D, no MI, 3,780 it. | +0.028 ± 0.022 | +0.010 ± 0.010 | +0.004 ± 0.005 | +0.001 ± 0.002 | -0.000 ± 0.002 | +0.009 ± 0.006 | +0.028 ± 0.017 | +0.062 ± 0.030 |
#
# The image discriminator pays more than twice as much for moving the eyes the whole way
# *away* from shut as for shutting them (+0.28 against +0.12), and near $a = 0$ its slope
# points away from the blink. The 3D discriminator is nearly flat on both sides. The cause
# was in the real side. $w_0$ is a face $G_I$ drew, and a steered clip follows the toy clip's
# eyes *relative to its first frame*. A toy clip that starts mid-blink opens its eyes from
# there, so its steered version moves $w_0$ past where $G_I$ put it, away from shut, and
# stays there to the end of the clip. The cell counts it for the 1,000 clips the steered run
# trained on (seed 777: `SteeredVideoDataset` draws with the run's seed + 777), once as
# version 1 drew them (every toy clip) and once as version 2 does (`open_eyed_toy_clips`:
# only clips whose first frame has eye openness at least 0.95):

# %%
from mocohd.data.steered import open_eyed_blinks, share_summary

n_share = by_mode(mode, 200, 1000)
every_toy = make_clips("faces_big_eyes_blinks", n_share, frames=16, size=32, seed=777)
shares = {"version 1: every toy clip": share_summary(every_toy.motion[:, :, every_toy.motion_names.index("eye_open")]),
          "version 2: open-eyed starts": share_summary(open_eyed_blinks(n_share, 16, seed=777))}
print(f"{'':30s}" + "".join(f"{k:>28s}" for k in shares["version 1: every toy clip"]))
for label, row in shares.items():
    print(f"{label:30s}" + "".join(f"{v:28.3f}" for v in row.values()))

# %% [markdown]
# Version 1: 36 % of the clips start mid-blink, 27 % of all frames sit more than 0.3 of the
# way *past open* against 18 % more than 0.3 of the way to shut, and on average the eyes move
# further away from shut (0.26) than towards it (0.15). So a third of the "real" clips showed
# a one-way change that then held still: a drift, the motion every generator of this section
# learned, and the image discriminator, which compares frame 0 with one later frame, paid for
# it most. Version 2 never opens past $w_0$ and shuts by more than 0.3 in 23 % of frames, like
# the generator, whose frame 0 is always $G_I$'s face and whose motion starts from there. The
# construction version is part of the cache key and of a
# shipped file's provenance, so version 1's clips are never reused for version 2.
#
# Does the same run learn to blink on version 2? We started it again from nothing with the
# same command (`--steered-real true`, with the MI loss, drawing version 2's 1,000 clips in
# about 17 minutes) and trained it to 500 iterations, 15.7 s per iteration on a 2-core CPU
# without bf16 instructions (not shipped; measured with `lstm_memory`, `motion_stats --videos
# 32 --repeats 3`, the eye reading of 64 generated clips, and the blink reward as above):
#
# | | forget gate | drift share | lag 5 | eyes: spread / clips > 0.3 / largest step / there and back | eye reading, frame 15 - frame 0 |
# |---|---|---|---|---|---|
# | version 1, 500 it. (shipped) | 0.254 | 0.859 | -0.119 | 0.027 / 0.01 / 0.015 / 0.00 | +0.026 (64 % of clips open) |
# | version 2, 100 it. | 0.490 | 0.331 | -0.177 | | |
# | version 2, 150 it. | 0.480 | 0.428 | -0.171 | | |
# | version 2, 200 it. | 0.463 | 0.637 | -0.147 | 0.052 / 0.12 / 0.021 / 0.00 | -0.144 (97 % of clips shut) |
# | version 2, 250 it. | 0.420 | 0.834 | -0.103 | | -0.275 (97 % shut) |
# | version 2, 300 it. | 0.370 | 0.857 | -0.112 | 0.126 / 0.67 / 0.042 / 0.00 | -0.313 (98 % shut) |
# | version 2, 350 it. | 0.325 | 0.839 | -0.117 | | -0.158 (97 % shut) |
# | version 2, 400 it. | 0.293 | 0.806 | -0.113 | | -0.124 (95 % shut) |
# | version 2, 450 it. | 0.250 | 0.837 | -0.107 | | -0.134 (92 % shut) |
# | version 2, 500 it. | 0.211 | 0.881 | -0.107 | 0.069 / 0.24 / 0.027 / 0.00 | -0.151 (91 % shut) |
#
# | blink reward | a = -1 | -0.1 | +0.1 | +1 |
# |---|---|---|---|---|
# | image D, 200 it. | +0.0029 ± 0.0039 | -0.0002 ± 0.0002 | +0.0003 ± 0.0001 | +0.0031 ± 0.0009 |
# | image D, 500 it. | -0.0053 ± 0.0015 | -0.0004 ± 0.0001 | +0.0004 ± 0.0001 | +0.0039 ± 0.0009 |
# | image D, 500 it. + 600 D updates alone | +0.1078 ± 0.0293 | +0.0057 ± 0.0021 | -0.0043 ± 0.0017 | -0.0106 ± 0.0091 |
# | 3D D, 200 it. | +0.0149 ± 0.0099 | +0.0012 ± 0.0010 | -0.0012 ± 0.0010 | -0.0022 ± 0.0105 |
# | 3D D, 500 it. | +0.0128 ± 0.0105 | +0.0007 ± 0.0008 | -0.0011 ± 0.0009 | -0.0118 ± 0.0090 |
# | 3D D, 500 it. + 600 D updates alone | +0.0179 ± 0.0098 | -0.0005 ± 0.0012 | +0.0018 ± 0.0018 | +0.0214 ± 0.0155 |
#
# The fixed control turned the drift around (towards shut, in the blink's direction) but not
# into a blink. The eyes moved most at 300 iterations (in 67 % of clips by more than 0.3, all
# of them one way), then less: at 500 the largest step is 0.027, a twenty-fourth of a real
# blink's 0.647, and no clip goes there and back. The LSTM ended where version 1's did (forget
# gate 0.21, drift share 0.88). The image discriminator's slope points towards shut (+0.004
# for a whole blink, -0.005 for opening the eyes as far), a small blink detector's shape; the
# 3D discriminator, the only one that sees a whole clip and so the only one that could pay for
# a *round trip*, pays nothing either way within its error.
#
# Is the discriminators' training too short to see the blink? We gave them 600 more updates
# alone against the 500-iteration generator (`cp -r RUN RUN_donly; python -m mocohd.train video
# ... --g-steps 0 --steps 1100 --out RUN_donly --resume`, 17 minutes; mean losses over the last
# 50 GAN iterations against the last 100 updates: 3D D 1.01 to 0.55, image D 0.98 to 0.56).
# They learned the generator's drift, not the blink. The image discriminator now marks any
# shutting down (-0.004 at a = 0.1) and pays +0.11 for opening the eyes the whole way, because
# the fakes it saw shut slowly in 91 % of clips. The 3D discriminator pays about the same for a
# blink as for its reverse (+0.021 ± 0.016 against +0.018 ± 0.010). So the slope a better
# trained pair hands the generator points back towards open eyes: another drift, the other
# way. What tells a blink from a drift is the way back, and no discriminator here has learned
# to pay for it. Training the run on past 500 iterations is exercise 10: `python -m
# mocohd.train video --preset full --data toy:faces_big_eyes_blinks --image-generator
# data/checkpoints/ablation/faces_big_eyes_blinks_64.pt --video-frame-size 32 --steered-real
# true --steps 1000 --out RUN --resume`, about 2 hours per 500 iterations on this CPU, about
# 30 minutes on one with AVX512-BF16.
#
# %% [markdown]
# ### Can a 3D discriminator see the way back?
#
# A blink differs from a drift only by its way back. Is that beyond this 3D D, at 32 px? The
# fresh check above answers it when we make the way back the *only* difference:
# `mocohd.data.round_trips.without_return` cuts it out of a real clip, so that every frame after
# the one where the eyes are most shut repeats that frame. Every frame is then one of the clip's
# own; only their order in time is wrong. The check keeps the clips that make a whole round trip
# (`returning`: the eyes move away from where they start by more than 0.3 and back by more than
# 0.3; about half of the toy clips do). The cell shows one toy clip both ways, then trains a
# fresh 3D D of the full preset at 32 px on blink against cut blink, and for comparison on
# blink against the eyes held open (`python -m mocohd.metrics.discriminator_probe --fresh
# eye_open --domain faces_big_eyes_blinks --size 32 --steps 1000 --train-clips 512 --against
# no-return`, and `--against rest`; about 4 minutes each in full mode, a few seconds in smoke
# mode).

# %%
from mocohd.data.round_trips import returning, without_return
from mocohd.metrics.discriminator_probe import fresh_discriminator_check

trips = make_clips("faces_big_eyes_blinks", 32, frames=16, size=32, seed=seed + 5)
first_trip = int(returning(trips, "eye_open").nonzero()[0])
show_images(torch.cat([trips.video[first_trip], without_return(trips, "eye_open")[first_trip]]), columns=16,
            size=0.9, suptitle="a whole toy blink (top) and the same clip without its way back (bottom)")
plt.show()
check = dict(domain="faces_big_eyes_blinks", size=32, steps=by_mode(mode, 10, 1000), every=by_mode(mode, 5, 250),
             n_train=by_mode(mode, 64, 512), n_test=by_mode(mode, 32, 96), seed=seed)
for against in ("no-return", "rest"):
    for row in fresh_discriminator_check("eye_open", against=against, **check):
        print(f"blink against {against:9s} step {row['step']:5d}  loss {row['loss']:.4f} (chance 0.25)  "
              f"held-out effect {row['effect']:+.4f} ± {row['error']:.4f}  ranked right {row['ranked_right']:.2f}")

# %% [markdown]
# Measured in full mode, and on G_I's own blinks: the version 2 steered run's 1,000 training
# clips, of which 535 make a whole round trip (428 to train on, 107 held out;
# `--fresh eye_open --against no-return --steered-run RUN/checkpoint.pt --steps 1000`, 5
# minutes):
#
# | steps | toy blink vs cut blink: loss / effect / ranked right | toy blink vs eyes held open | G_I's blink vs cut blink |
# |---|---|---|---|
# | 250 | 0.130 / +0.91 / 1.00 | 0.240 / +0.25 / 1.00 | 0.204 / +0.56 / 1.00 |
# | 500 | 0.020 / +0.92 / 1.00 | 0.176 / +0.46 / 0.99 | 0.093 / +0.72 / 1.00 |
# | 1,000 | 0.002 / +0.95 / 1.00 | 0.064 / +0.86 / 1.00 | 0.033 / +0.87 / 1.00 |
#
# The way back is the *easiest* of these contrasts: within 250 steps every held-out clip is
# ranked right, toy or drawn by G_I, by a score difference near 0.6 to 0.9 on a target of 1.
# (A cut clip ends with its eyes shut, which a whole blink does not.) So neither the 3D D's size nor G_I's pictures stop a discriminator from paying for a
# round trip. What the GAN's 3D D lacks is a reason: it learns whatever tells the real clips
# from the generator's current ones, and while those barely move, any change around the eyes
# will do, in either direction (the table above: +0.021 for a blink, +0.018 for its reverse).
#
# Is it the loss? The training loop's 3D D does not learn by least squares on one mean score:
# it plays relativistic-average LSGAN on every patch, with a gradient penalty and random
# temporal flips. The same fresh check on G_I's blinks with that loss (`--loss ralsgan`,
# `ralsgan+gp`, `ralsgan+flip`, `--steps 500`, about 3 minutes each):
#
# | G_I's blink vs cut blink, 500 steps | effect at 250 / ranked right | effect at 500 / ranked right |
# |---|---|---|
# | least squares (`ls`, above) | +0.56 / 1.00 | +0.72 / 1.00 |
# | RaLSGAN, the loop's loss | +0.019 / 0.99 | +0.335 / 1.00 |
# | RaLSGAN + gradient penalty | +0.191 / 1.00 | +0.243 / 1.00 |
# | RaLSGAN + temporal flips | +0.007 / 0.99 | +0.069 / 1.00 |
#
# Every variant ranks the held-out clips right, but the loop's loss learns the way back later
# and, with the flips, ten times more weakly by 500 steps. A flip turns a cut blink (eyes that
# shut and stay shut) into eyes that start shut and open, so the D must learn two faulty
# orders instead of one; a real blink flipped is still a blink. The penalty, for all it
# constrains, speeds the start.
#
# **Teaching the 3D D the way back (not in the paper).** So a discriminator can learn the
# way back; the GAN's has no reason to. `--cut-fakes true` gives it one: the held game of
# `--held-fakes`, with the steered clips' own cut versions as extra fakes
# (`SteeredVideoDataset.without_return`: a whole blink loses its way back, any other clip is
# frozen at frame 0), the real batch against the same clips cut, weighted by `--w-held`. It
# is a diagnostic: real data come with no cut copy. We started from the state above (version
# 2, 500 iterations, then 600 discriminator updates alone). With the generator on from the
# start, the game's loss did not leave chance (1.0, two scales) in 25 iterations, so the
# discriminators first trained 300 updates alone with it (`cp -r RUN_donly RUN_cut; python -m
# mocohd.train video ... --g-steps 0 --cut-fakes true --steps 1400 --out RUN_cut --resume`,
# 8.5 minutes; the game's loss 1.25 over the first 50 updates, 0.96 over the last 50); then
# the generator trained against them (`--cut-fakes true --steps 1500`, without `--g-steps`).
# Beside it, the faithful loop from the same state, without the game (`--steps 1180`). The
# 3D D's scores are on the 107 held-out round trips of the fresh check (real minus cut, real
# minus frozen at frame 0; share ranked right; `python -m mocohd.metrics.discriminator_probe
# --round-trips RUN/checkpoint.pt`), the rest as before:
#
# | from 500 it. + 600 D updates alone | eye reading, frame 15 - frame 0 | eyes: clips > 0.3 / largest step / there and back | 3D D: real - cut | 3D D: real - frozen | blink reward, 3D D: a = +1 / -1 | image D: a = +1 / -1 |
# |---|---|---|---|---|---|---|
# | faithful loop, + 80 it. (1,180) | -0.099 (95 % shut) | 0.01 / 0.015 / 0.00 | +0.006 (0.66) | +0.031 (0.86) | -0.014 / +0.005 | +0.010 / -0.032 |
# | + 300 D updates alone with the game (1,400) | (the 500-it. generator) | | +0.053 (0.94) | -0.029 (0.23) | | |
# | then the loop with the game, + 50 it. (1,450) | +0.004 (48 % open) | 0.00 / 0.009 / 0.00 | +0.039 (0.93) | +0.003 (0.61) | -0.011 / -0.010 | +0.017 / -0.022 |
# | then the loop with the game, + 100 it. (1,500) | -0.020 (69 % shut) | 0.00 / 0.010 / 0.00 | +0.024 (0.84) | +0.014 (0.78) | -0.015 / -0.004 | +0.017 / -0.018 |
#
# The game did what it was built for, and the generator answered as before, by the cheapest
# way out. Alone with the game, the 3D D learned to score a real blink above its cut version
# (+0.053, 94 % of held-out clips), and the generator stopped its drift: within 50 iterations
# its eyes no longer close (eye reading +0.004, against -0.099 without the game; by 1,500
# they close a little again, -0.020), and they move less than in the faithful loop from the
# same state (mean |frame 15 - frame 0| 0.040 against 0.100). They do not blink: the largest
# step is 0.010, no clip goes there and back. The 3D D then moved its
# attention to what the generator now shows: by 1,500 real clips beat frozen ones by +0.014
# (from +0.003) and their cut versions by only +0.024. And it still charges for a whole blink
# added to the generator's own clips (-0.015 ± 0.007), as the version 2 run's did at 500:
# it has learned what real clips do *not* do, shut and stay shut, and not that a blink on a
# generated clip is what real clips do. A reward for the way back on real clips is not a
# slope the generator can climb from still eyes. 100 iterations are not the end of this
# run; exercise 11 takes it on. (Not shipped: runs are about 86 MB each, and none blinks.)

# %% [markdown]
# ### Where do the discriminators lead? Free paths
#
# Every blink run above ends the same way: discriminators that reward a whole blink, and a
# generator that does not blink. Two suspects remain. The **game**: the discriminators' score
# may have no slope that leads from still eyes to a blink, so no generator trained on their
# gradient could find one. Or the **learner**: the slope is there, and the LSTM, one network
# for every clip and every noise, does not follow it.
#
# `mocohd.metrics.path_ascent` takes the learner out. Each clip gets its own free path in the
# very set the motion generator moves in, frame $t$ one residual step from frame $t-1$:
#
# $$w_t = w_{t-1} + \lambda \tanh(u_t)\,(\mathrm{PC}\cdot\sigma), \qquad u_t \text{ free, one per clip and frame,}$$
#
# (`cumulative_path`), every path starts still ($u = 0$: each frame is $w_0$), and Adam climbs
# the generator's own loss on $u$ alone: RaLSGAN against a batch of real clips, the 3D D
# over the clip forwards and backwards in time (as the temporal flip plays it), the image D
# over every pair (frame 0, frame $k$). $G_I$ and both discriminators stay fixed. Then the toy
# feature network reads what the climbed clips do. If they blink, the discriminators' slope
# leads there and the LSTM is what fails; if not, the game itself has no such slope.
#
# Against the steered run's discriminators at 2,650 iterations (the shipped state), 8 clips,
# 120 Adam steps of rate 0.05 (`python -m mocohd.metrics.path_ascent
# data/checkpoints/states/faces_big_eyes_blinks_steered_d32/checkpoint.pt --clips 8 --steps 120
# --every 20`, about 8 minutes, 3 more to draw 8 real steered clips; `--judges video` climbs
# the 3D D's loss alone). "3D D" and "image D" are the mean scores of the clips; the real
# row is the 8 real (steered) clips of the batch:
#
# | climbing | step | 3D D | image D | pixel motion | identity drift | eye events | largest step | there and back |
# |---|---|---|---|---|---|---|---|---|
# | both Ds | 0 (still) | -0.217 | -0.129 | 0.0000 | 0.0000 | 0.00 | 0.000 | 0.00 |
# | both Ds | 20 | +0.262 | +0.190 | 0.0304 | 0.0429 | 0.25 | 0.098 | 0.00 |
# | both Ds | 120 | +0.263 | +0.248 | 0.0312 | 0.0436 | 0.38 | 0.121 | 0.00 |
# | 3D D alone | 20 | +0.279 | -0.014 | 0.0309 | 0.0466 | 0.50 | 0.098 | 0.00 |
# | 3D D alone | 120 | +0.247 | +0.010 | 0.0282 | 0.0372 | 0.62 | 0.116 | 0.00 |
# | real clips | | -0.243 | -0.147 | 0.0031 | 0.0125 | 0.75 | 0.372 | 0.62 |
#
# (Run twice, the climb gave the same numbers to the last digit.) The slope is steep and it
# is there from the first step: within 20 steps the free clips score far *above* the real
# ones (+0.26 against -0.24), and they get there by moving ten times as much as real clips
# do (pixel motion 0.03 against 0.003): the background and the skin change colour, the
# identity drifts (3 to 3.5 times the real clips' drift), the eyes move in a quarter to over
# half of the clips. Not one clip blinks, and the eyes' largest step stays a third of a real
# blink's. What the discriminators pay for, seen from a still clip, is change of any kind,
# and most cheaply change of the whole picture. The shut eyes of a blink are a small patch
# of pixels that pays only once it is large.
#
# Would discriminators that *know* what a blink is lead elsewhere? From the same state the 3D D
# trained 1,000 updates alone (`--g-steps 0`, the generator fixed) with two extra games, not
# in the paper: every real clip against itself with its way back cut (`--cut-fakes true`)
# and against itself frozen at frame 0 (`--frozen-fakes true`, new here; on 320 steered
# clips, `--n-clips 320`, to draw them in 4 minutes; about 20 minutes in all). On its 38 held-out
# round trips (`discriminator_probe --round-trips`) it learned both: a real blink scores
# above its cut version by +0.102 ± 0.022 (79 % ranked right; +0.012, 63 %, after 300
# updates) and above the clip frozen by +0.206 ± 0.019 (100 %). Climbing against it:
#
# | climbing both Ds of the D trained with both games | step | 3D D | image D | pixel motion | identity drift | eye events | largest step | there and back |
# |---|---|---|---|---|---|---|---|---|
# | still | 0 | -0.165 | +0.244 | 0.0000 | 0.0000 | 0.00 | 0.000 | 0.00 |
# | | 20 | +0.325 | +0.507 | 0.0169 | 0.0250 | 0.25 | 0.047 | 0.00 |
# | | 120 | +0.414 | +0.563 | 0.0185 | 0.0222 | 0.12 | 0.038 | 0.00 |
# | real clips | | -0.053 | +0.244 | 0.0031 | 0.0125 | 0.75 | 0.372 | 0.62 |
#
# This 3D D now tells a still clip from a real one (-0.165 against -0.053), and its slope
# from stillness still leads to a drifting picture, with *less* eye motion than before
# (largest step 0.04). A discriminator that ranks a real blink above its cut and frozen
# versions has learned where real clips lie; it has not learned a path to them. One reading,
# not tested here: between a still clip and a blink lie clips with half-shut eyes, which no
# game here teaches the 3D D to score, while a little colour drift climbs at once.
#
# And the loop itself? From that 3D D, the loop with both games trained on (`--cut-fakes true
# --frozen-fakes true --n-clips 320`, 500 iterations, 3,650 to 4,150; about 5.5 s an
# iteration on this 2-core machine, 46 minutes). `motion_stats` on 32 clips, the eye reading
# of frame 15 minus frame 0, the 3D D on the 38 held-out round trips, and the blink reward
# (32 clips) as before:
#
# | iterations | eyes: spread / clips > 0.3 / largest step / there and back | eye reading, frame 15 - frame 0 | 3D D: real - cut / real - frozen | blink reward, 3D D: a = +0.1 / +1 | image D: a = -1 / +0.1 / +1 |
# |---|---|---|---|---|---|
# | 2,650 (the state's generator) | 0.020 / 0.00 / 0.011 / 0.00 | -0.032 (66 % shut) | +0.012 / +0.084 (after 300 D updates) | | |
# | 3,850 | 0.042 / 0.03 / 0.015 / 0.00 | -0.126 (97 % shut) | +0.114 (0.87) / +0.212 (1.00) | -0.001 / +0.024 ± 0.033 | +0.148 / -0.016 / +0.087 |
# | 4,150 | 0.097 / 0.47 / 0.027 / 0.00 | -0.292 (97 % shut) | +0.160 (0.95) / +0.231 (1.00) | -0.009 / -0.065 ± 0.027 | +0.145 / -0.013 / +0.077 |
#
# The LSTM did not go where the free paths went (its identity drift stayed low, 0.008): it
# found the other cheap answer, the one the cut game was built to forbid. Its eyes close
# slowly over the clip and stay shut, in 97 % of clips, by 0.29 on average by frame 15,
# while the 3D D ranks a real blink above its abrupt cut version in 95 % of held-out clips.
# A slow fade is neither a cut nor a freeze, so neither game names it; and the image D pays
# more for eyes opened past the face than for a blink, and charges for its first tenth. No
# clip goes there and back. (Not shipped: 86 MB of state, and no blinks.)
#
# So the game is at fault at least as much as the learner. Seen from still eyes, both
# variants of it point to change that is not a blink: free paths take colour drift, the LSTM
# a slow fade. Why the LSTM moves a tenth as much as free paths against the same
# discriminators is its own question (exercise 12); a learner that followed the slope
# better would, by these tables, have drifted, not blinked.
# The cell climbs a few clips against the shipped state (smoke mode: 2 clips, 2 steps).

# %%
from mocohd.metrics.path_ascent import ascend_paths, format_ascent

climbed = ascend_paths(p["steered_state"], n=by_mode(mode, 2, 4), steps=by_mode(mode, 2, 40),
                       every=by_mode(mode, 1, 10), seed=seed + 4321)
print(format_ascent(climbed))
show_videos(climbed["video"], titles=[f"climbed clip {i}" for i in range(len(climbed["video"]))], fps=6)

# %% [markdown]
# ### Can the LSTM learn a blink at all? The game on the paths
#
# The free paths took the learner out and kept the game. This part does the opposite: it
# keeps the learner (the LSTM, its bounded residual steps, its noise, the MI loss, the
# official schedule of 5 motion-generator updates per discriminator update, Adam at 1e-4)
# and gives it a game that looks at nothing but the motion. In the steered control the real
# clips are $G_I$'s renderings of *known* latent paths, so the game can be played on the
# paths themselves. `mocohd.train.path_game` scores a path where the motion generator writes
# it: each frame's move from $w_0$ in the generator's own PCA coordinates, in units of one
# full residual step (`pca_coordinates / λ`), beside the face's coordinates (which way shuts
# *this* face's eyes depends on the face). The discriminator is two temporal convolutions
# and a linear score (`PathDiscriminator`), trained with RaLSGAN and a gradient penalty.
# No frame is rendered in training, so an iteration takes a tenth of a second instead of
# five; every few thousand iterations the feature network reads the eyes of 32 rendered
# clips for fixed $z$. If the LSTM blinks under this game, the pixel game is what fails to
# ask for blinks; if it does not, the learner fails too.
#
# From the official initialisation, on the shipped state's 320 steered paths
# (`python -m mocohd.train.path_game
# data/checkpoints/states/faces_big_eyes_blinks_steered_d32/checkpoint.pt --out RUN --steps 4000
# --n-real 320`, 4,000 iterations in about 10 minutes after 4 minutes drawing the paths):
#
# | real paths | Adam lr | iterations | path D loss | pixel motion | identity drift | eyes: spread / events / largest step / there and back |
# |---|---|---|---|---|---|---|
# | as drawn | 1e-4 | 0 (the initialisation) | | 0.0015 | 0.0021 | 0.007 / 0.00 / 0.006 / 0.00 |
# | as drawn | 1e-4 | 2,000 | 0.337 | 0.0111 | 0.0103 | 0.044 / 0.06 / 0.044 / 0.00 |
# | as drawn | 1e-4 | 3,500 | 0.278 | 0.0130 | 0.0164 | 0.071 / 0.19 / 0.068 / 0.06 |
# | as drawn | 1e-4 | 4,000 | 0.292 | 0.0100 | 0.0104 | 0.046 / 0.06 / 0.058 / 0.00 |
# | as drawn | 1e-3 | 2,000 | 0.270 | 0.0181 | 0.0153 | 0.075 / 0.28 / 0.104 / 0.00 |
# | within reach (below) | 1e-4 | 4,000 | 0.276 | 0.0113 | 0.0106 | 0.061 / 0.12 / 0.059 / 0.00 |
# | within reach | 1e-4 | 6,000 | 0.261 | 0.0101 | 0.0121 | 0.047 / 0.06 / 0.053 / 0.00 |
# | within reach, no MI loss (`--no-mi`) | 1e-4 | 2,000 | 0.406 | 0.0117 | 0.0125 | 0.072 / 0.28 / 0.059 / 0.06 |
# | within reach, no MI loss | 1e-4 | 6,000 | 0.260 | 0.0117 | 0.0123 | 0.061 / 0.16 / 0.071 / 0.03 |
# | the real paths as drawn, rendered (32) | | | | 0.0033 | 0.0153 | 0.249 / 0.69 / 0.371 / 0.47 |
# | the real paths within reach, rendered (32) | | | | 0.0033 | 0.0144 | 0.233 / 0.69 / 0.265 / 0.47 |
#
# (32 clips for fixed $z$ per row, the same 32 every row; `--lr 1e-3` is not the official rate;
# `--within-reach` is explained below. The 1e-3 run was stopped at 2,000 iterations and the
# within-reach run at 6,000 to give the machine to the pixel run at the end of this part.)
#
# The LSTM learns to move (pixel motion from 0.0015 to 0.010, three times the real paths'),
# but not to blink: the eyes' largest step stays a fifth to a quarter of a real blink's, and
# at most 2 clips of 32 go there and back at any row (real paths: 15). The path discriminator
# wins from the start and keeps winning (its RaLSGAN loss falls to 0.26 - 0.3, where a draw is
# 0.5): a real path stands perfectly still except during its blink, which runs along one line,
# while the LSTM's paths move a little in many directions at every frame. A tenfold learning
# rate moves the eyes twice as far and still makes no round trip. So with the game pointing
# straight at blinks, and no pictures to hide them, the LSTM trained as the paper trains it
# does not find them in 20,000 to 30,000 updates. Is the learner unable to blink, or does the
# game not teach it? (The next part answers: the game. It also reads these runs again on more
# faces.) The MI loss is one suspect ("What the LSTM remembers"): it asks $[h_t; c_t]$ to give
# the frame's noise back, and the path game's LSTM keeps only 0.19 of its cell state per frame
# (the decoder's mean forget gate, `lstm_memory.memory_report`), a memory shorter than the
# blink it has to come back from. Without the MI loss it keeps 0.52, its eyes move a little
# further (largest step 0.071) and one to three clips of 32 come back, never more: not a blink
# either. (One seed each; the rows between, in `log.csv`, move the same way.)
#
# **The steered blinks were out of reach.** A measurement on the way explains part of it.
# The steered clips put each face's shut point up to three residual steps from $w_0$ and
# follow the toy clip's timing, whose eyes close within one or two frames. So a real blink
# moves some PCA coordinate further in one frame than the motion generator ever can (at most
# one step, λσ_k, per frame; `steered.frame_steps` counts the steps each frame takes,
# `path_game.real_path_speeds` sums them up):
#
# | steered real paths (320) | clips with a frame beyond one step | the median clip's fastest frame | the fastest frame |
# |---|---|---|---|
# | as drawn (every steered run above) | 78 % | 1.56 steps | 2.06 steps |
# | followed within reach | 0 % | 1.00 step | 1.00 step |
#
# Every steered run in this notebook trained against blinks that no motion generator could
# draw at their speed, so its discriminators could always tell a generated blink from a real
# one by speed alone. `steered.follow_within_reach` follows each real path with a walker that
# moves at most one step per frame (straight towards the path's frame, direction kept), and
# `--steered-within-reach true` trains on such clips; `--within-reach` plays the path game on
# them. Followed within reach, the real blinks keep their round trips (0.47 of clips, as
# before) and lose a little depth per frame (largest eye step 0.27 instead of 0.37).
#
# **The pixel loop within reach.** Does the paper's game do better once the real blinks are
# ones the generator could draw? From the shipped state (2,650 iterations), the loop trained on
# 320 steered clips followed within reach (`--steered-real true --steered-within-reach true
# --n-clips 320`, 600 iterations to 3,250: 57 minutes at about 5.3 s an iteration, after 7
# minutes drawing the clips). `motion_stats` on 32 clips and the eye reading of frame 15 minus
# frame 0 (the same 32 clips):
#
# | iterations | motion spread | identity drift | pixel motion | late sharpness | eyes: clips > 0.3 / largest step / there and back | eye reading, frame 15 - frame 0 |
# |---|---|---|---|---|---|---|
# | 2,800 | 0.0112 | 0.0038 | 0.0023 | 1.001 | 0.00 / 0.009 / 0.00 | +0.017 (44 % shut) |
# | 2,950 | 0.0359 | 0.0088 | 0.0033 | 0.904 | 0.38 / 0.025 / 0.00 | -0.255 (97 % shut) |
# | 3,100 | 0.0121 | 0.0032 | 0.0020 | 0.986 | 0.00 / 0.009 / 0.00 | -0.044 (81 % shut) |
# | 3,250 | 0.0307 | 0.0078 | 0.0026 | 0.910 | 0.19 / 0.021 / 0.00 | -0.220 (97 % shut) |
#
# Within 300 iterations the generator finds the slow fade of the cut-and-frozen run above (the
# eyes close over the clip and stay shut, the frames soften: late sharpness 0.90), loses it, and
# finds it again; no clip goes there and back. At 3,250 the run's 3D D, on 38 held-out
# round trips within reach (`discriminator_probe --round-trips`), ranks a real blink above
# the clip frozen at frame 0 (+0.056 ± 0.009, 87 %) but not above the same blink with its way
# back cut (-0.001 ± 0.005, 58 %): for the paper's 3D D, eyes that shut and stay shut are as
# real as a blink, so the fade costs nothing. (The probe cuts each blink at its toy clip's
# deepest frame, which the slowed blink reaches a frame or two later, so these cut clips stay
# part-shut. Not shipped: 86 MB of state, no blinks.)
#
# So speed was not what kept the blinks out. Within reach, the pixel loop fades instead of
# blinking, and the path game, which sees nothing but the motion and points straight at
# blinks, does not teach this LSTM to blink either. What is missing is a discriminator that
# tells a blink from a fade (the cut game teaches the abrupt version of that, above, and the
# loop answered with the slow one), or a way to a blink that does not start from a slope at
# still eyes (next part).
#
# The cell plays the path game for a few iterations on a few paths in smoke mode (in full
# mode, 2,000 iterations on 320 paths, about 10 minutes) and prints the speeds.

# %%
from mocohd.train.path_game import format_rows, real_path_speeds, train_path_game

n_paths = by_mode(mode, 8, 320)
for name, row in real_path_speeds(p["steered_state"], n_real=n_paths).items():
    print(f"{name:>13}: " + ", ".join(f"{key} {value:.2f}" for key, value in row.items()))
game_rows = train_path_game(p["steered_state"], p["out_dir"] / "path_game", steps=by_mode(mode, 4, 2000),
                            batch=by_mode(mode, 4, 16), every=by_mode(mode, 2, 500), n_real=n_paths,
                            n_eval=by_mode(mode, 4, 128), within_reach=True, seed=seed, progress=False)
print(format_rows(game_rows))

# %% [markdown]
# ### The LSTM can learn a blink: pulled to the paths, without a game
#
# The path game leaves two suspects: the game (a discriminator that wins and whose slope the
# LSTM follows) and the learner (an LSTM that cannot draw a blink). To tell them apart, take
# the game away and keep the learner. **Implicit maximum likelihood** (Li and Malik, 2018)
# needs no discriminator: for each real path, the LSTM draws $k = 16$ paths from the same
# face $w_0$ with fresh noise, and only the nearest one (squared distance between their moves,
# in residual steps, summed over frames and principal directions:
# `path_game.nearest_path_loss`) is pulled towards it. Every real path must be near *some*
# draw, so a generator that drops the blinks keeps paying for them, and there is no opponent
# to win. `python -m mocohd.train.path_game STATE --out RUN --objective nearest --within-reach
# --lr 1e-3 --steps 6000` trains the LSTM this way, the MI loss still on (6,000 iterations of
# 16 real paths in about 10 minutes on one core).
#
# **First, a correction to how the rows above were read.** Each row of the path-game table
# read the same 32 faces (seed 0). Those faces happen to be hard to shut: under the same
# trained LSTM, their largest eye step is 0.077, where 32 faces from seeds 1, 2 and 3 read
# 0.164, 0.165 and 0.176. So every row below reads 128 faces (seeds 1 to 4, none of them a
# face the LSTM trained on), and `path_game` now reads 128 faces per row by default.
#
# | motion generator | trained | pixel motion | identity drift | eyes: spread / events / largest step / there and back |
# |---|---|---|---|---|
# | path game, as drawn, lr 1e-4 | 4,000 iterations | 0.0129 | 0.0133 | 0.066 / 0.30 / 0.072 / 0.00 |
# | path game, as drawn, lr 1e-3 | 2,000 | 0.0243 | 0.0221 | 0.116 / 0.69 / 0.165 / 0.18 |
# | path game, within reach, lr 1e-4 | 6,000 | 0.0130 | 0.0175 | 0.071 / 0.23 / 0.082 / 0.02 |
# | path game, within reach, no MI loss | 6,000 | 0.0165 | 0.0175 | 0.088 / 0.34 / 0.113 / 0.17 |
# | **nearest paths, within reach, lr 1e-3** | 6,000 | 0.0053 | 0.0136 | **0.164 / 0.73 / 0.164 / 0.48** |
# | nearest paths, within reach, lr 1e-3, batch 32 | 17,500 | 0.0067 | 0.0173 | 0.192 / 0.80 / 0.220 / 0.54 |
# | the pixel loop: the shipped state | 2,650 | 0.0043 | 0.0096 | 0.026 / 0.00 / 0.016 / 0.00 |
# | the pixel loop within reach | 3,250 | 0.0032 | 0.0095 | 0.106 / 0.56 / 0.033 / 0.00 |
# | the real paths within reach, rendered (128) | | 0.0034 | 0.0140 | 0.229 / 0.65 / 0.271 / 0.46 |
#
# Pulled to the paths, the LSTM blinks: half of its clips go there and back, as many as the
# real ones, and its pixel motion is near theirs instead of three to seven times it. Its
# largest eye step is three fifths of a real blink's within reach (0.164 against 0.271), and
# four fifths after 17,500 iterations of 32 paths (0.220; its pixel motion then twice the
# real paths', about 35 minutes on one core). It learned a map
# from faces to blinks, not the 320 faces it saw: on 32 of its training faces it reads
# 0.204 / 0.31 (largest step / there and back), on 32 fresh faces 0.202 / 0.50. And it
# remembers (`lstm_memory`, 64 clips): the decoder's forget gate is 0.65 *with* the MI loss
# (path game: 0.19 with it, 0.52 without), and its steps correlate +0.74 with the next frame's
# and -0.49 and -0.53 with those 4 and 5 frames later, one way and then back, and each video
# moves its own way (agreement of the steps' drift across videos 0.07; the path game's LSTM:
# +0.26 with the next frame, agreement 0.65, one drift shared by all). So the LSTM, its bounded steps, its noise and the MI
# loss can all carry a blink. The path game is what did not teach one: its discriminator wins
# on what separates the LSTM's paths from still-then-blink paths most easily (the small moves
# everywhere), and the LSTM's answer to that is to move less, not to blink.
#
# **Why a blink is hard to find by following a slope.** In this image generator, "shut the
# eyes" is not one direction of $W$. `steered.shut_move_transfer` takes 32 steered blinks (seed 7),
# and adds to each face its own shut move (from $w_0$ to its path's farthest frame), another
# face's, or the mean move, and reads the eyes (1 open, 0 shut):
#
# | added to each face | eye reading, mean of 32 faces |
# |---|---|
# | nothing (the face) | 0.943 |
# | its own shut move | 0.366 |
# | another face's shut move (3 pairings: the moves rolled by 1, 5, 11) | 0.657, 0.703, 0.708 |
# | the mean of the 32 moves | 0.745 |
#
# A face's own move shuts its eyes; another face's, of about the same size, at most half as far;
# the mean of all moves less still. So a motion generator that blinks must compute, from
# $w_0$, which way shuts *this* face's eyes (the encoder's one step does that here), and a
# small step along any one direction shuts nobody's eyes: seen from still eyes, a blink gives
# a discriminator almost nothing to push towards.
#
# **Does the paper's game keep a blink it did not have to find?** The nearest-path LSTM was
# grafted into the pixel run within reach at 3,250 iterations (`path_game --graft`: the same
# discriminators, a fresh Adam for the LSTM) and the paper's loop went on from there on the
# 320 steered clips within reach (`python -m mocohd.train video ... --steered-real true
# --steered-within-reach true --n-clips 320 --resume`, about 5 s an iteration), read every
# 50 iterations on the same 128 faces:
#
# | iterations (pixel loop) | pixel motion | identity drift | eyes: spread / events / largest step / there and back |
# |---|---|---|---|
# | 3,250 (grafted) | 0.0053 | 0.0136 | 0.164 / 0.73 / 0.164 / 0.48 |
# | 3,300 | 0.0060 | 0.0139 | 0.151 / 0.65 / 0.162 / 0.54 |
# | 3,350 | 0.0052 | 0.0116 | 0.130 / 0.51 / 0.135 / 0.42 |
# | 3,400 | 0.0044 | 0.0094 | 0.105 / 0.42 / 0.108 / 0.30 |
# | 3,450 | 0.0050 | 0.0109 | 0.132 / 0.55 / 0.135 / 0.39 |
# | 3,500 | 0.0030 | 0.0066 | 0.079 / 0.31 / 0.076 / 0.20 |
# | 3,550 | 0.0032 | 0.0068 | 0.069 / 0.26 / 0.066 / 0.10 |
# | 3,650 | 0.0025 | 0.0060 | 0.062 / 0.17 / 0.052 / 0.02 |
#
# No: within 400 iterations the game takes the blinks out, back to nearly still eyes. The
# probe (`discriminator_probe --blink-reward --clips 32`) shows the two discriminators'
# view. At the graft, a whole real blink added to the generated clips raised the 3D D's score
# by +0.036 ± 0.025 and the image D's by +0.138 ± 0.023, but a tenth of one moved the 3D D's
# by -0.0016 ± 0.0015: the full blink is worth something, the small step towards it is not,
# and a generator only ever takes small steps. At 3,650 the whole blink is worth +0.005 ±
# 0.011 (3D) and +0.030 ± 0.013 (image). One run, one seed; not shipped (86 MB of state, and
# its blinks gone).
#
# So on this image generator the LSTM can draw a blink, and the paper's game neither finds one
# from still eyes nor keeps one it is given. That is why no faces model trained by the paper's
# loop alone blinks.
#
# **Keeping the pull on (not in the paper).** If the game takes the blinks out, keep the term
# that put them in. `--w-nearest W` adds W times the nearest-path distance (16 real paths,
# 16 draws each) to every motion-generator update of the paper's loop, beside the 3D and image
# discriminators' losses and the MI loss, which are unchanged. At the graft its gradient is
# about 170 times the game's (`|grad|` 330 against 2 on the LSTM's weights), so W = 0.01 makes
# it about twice the game's, and W = 0.03 about five times. Both runs went on from the same
# graft at 3,250 iterations, side by side on one core each (about 8 s an iteration), read on
# the same 128 faces as above (eyes: spread / events / largest step / there and back):
#
# | iterations | the paper's loop (from above) | W = 0.01 | W = 0.03 |
# |---|---|---|---|
# | 3,300 | 0.151 / 0.65 / 0.162 / 0.54 | 0.156 / 0.68 / 0.162 / 0.51 | 0.162 / 0.70 / 0.165 / 0.52 |
# | 3,400 | 0.105 / 0.42 / 0.108 / 0.30 | 0.142 / 0.62 / 0.152 / 0.45 | 0.156 / 0.70 / 0.163 / 0.51 |
# | 3,500 | 0.079 / 0.31 / 0.076 / 0.20 | 0.141 / 0.62 / 0.151 / 0.43 | 0.157 / 0.70 / 0.165 / 0.48 |
# | 3,650 | 0.062 / 0.17 / 0.052 / 0.02 | 0.138 / 0.60 / 0.144 / 0.39 | 0.144 / 0.64 / 0.153 / 0.42 |
# | 3,900 | | 0.127 / 0.55 / 0.134 / 0.37 | 0.150 / 0.68 / 0.160 / 0.46 |
#
# With the term on, the blinks stay: at W = 0.03 nearly as many clips go there and back after
# 650 iterations as at the graft (0.46 against 0.48; real clips within reach 0.46), at three
# fifths of a real blink's depth (largest step 0.160 against 0.271), with pixel motion 0.0049
# and identity drift 0.0123 (real: 0.0034 and 0.0140). At W = 0.01 they fade slowly (0.37
# by 3,900). The 3,900-iteration state of the W = 0.03 run is shipped as
# `faces_blinks_motion.pt` (section 6; `make checkpoints`, step 12, repeats its three stages).
# It is a departure from the paper and is named as one: the term needs the real clips' latent
# paths, which real videos do not come with (they would have to be found by inverting $G_I$
# frame by frame), and it does not show that the paper's game learns blinks here. It shows
# that the loop's machinery (the LSTM, its residual steps, the MI loss, the frozen $G_I$) can
# carry a blink through the discriminators' training. One run per weight, one seed.
#
# The cell measures the shut moves of a few faces and trains the LSTM by nearest paths for a
# few iterations (smoke mode). In full mode it measures the 32 faces of the table and trains
# the table's nearest-path LSTM (6,000 iterations, about 15 minutes with the readings); its
# rows read 128 faces drawn from seed 0, so they differ a little from the table's.

# %%
from mocohd.data.steered import shut_move_transfer

steered_vg = load_video_generator(p["steered_state"])
for name, reading in shut_move_transfer(steered_vg, n=by_mode(mode, 4, 32), seed=seed + 7).items():
    print(f"{name:>30}: eyes read {reading:.3f}")
nearest_rows = train_path_game(p["steered_state"], p["out_dir"] / "nearest_paths", steps=by_mode(mode, 4, 6000),
                               batch=by_mode(mode, 4, 16), every=by_mode(mode, 2, 2000), lr=1e-3,
                               n_real=n_paths, n_eval=by_mode(mode, 4, 128), within_reach=True, seed=seed,
                               objective="nearest", k=by_mode(mode, 4, 16), progress=False)
print(format_rows(nearest_rows))

# %% [markdown]
# ## 9. Does the mutual-information loss matter? The ablation
#
# The paper adds $\mathcal{L}_{\text{MI}}$ so that the LSTM cannot ignore its noise: without it,
# nothing stops $G_M$ from giving every video of a face the same motion (notebook 02 showed
# that, in a stand-in without discriminators, the loss did *not* buy diversity). Here is the
# real test. `make checkpoints` trains the faces motion generator twice, from the same seed on
# the same clips, once as above and once with `--no-mi`, and keeps both at the same
# iterations: the files `faces_motion_mi_<steps>.pt` and `faces_motion_nomi_<steps>.pt` in
# `data/checkpoints/ablation/`. Both arms were trained over the faces image generator as it
# was after 1,200 steps (kept beside them as `faces_64_1200.pt`, no eyes or mouths yet;
# notebook 01, section 9), so they are compared with each other, not with section 6's model.
# For each we measure, next to real toy clips:
#
# - **motion spread** and **identity drift**, as in section 8;
# - **noise diversity**: one $z$, 8 motion noises, rendered without noise maps; the standard
#   deviation *across the noises* of the motion factors, frame by frame. This is the number the
#   MI loss is about: 0 would mean one motion per face;
# - **noise spread in W**: the same across-noise spread, measured on the path $w_t$ itself
#   along the top 4 principal directions (in $\sigma$), as in notebook 02.

# %%
ablation = {}
for path in sorted(p["ablation_dir"].glob(f"{domain}_motion_*mi_*.pt")):
    kind, steps_done = path.stem.split("_")[-2:]  # "mi" or "nomi", iterations
    ablation[f"{'with' if kind == 'mi' else 'without'} MI, {int(steps_done)} it"] = path
ablation = dict(sorted(ablation.items(), key=lambda kv: (int(kv[0].split(", ")[1][:-3]), kv[0])))
if not ablation:
    raise FileNotFoundError(f"no {domain}_motion_(no)mi_<steps>.pt files in {p['ablation_dir']}: run make checkpoints")
table = compare(ablation, domain, n_videos=n_videos, seed=seed, repeats=by_mode(mode, 1, 3))  # full: mean ± sd of 3 draws
print(format_table(table))
_ = (p["out_dir"] / "mi_ablation.json").write_text(json.dumps(table, indent=2))

# %%
trained = [k for k in table if k != "real toy clips"]
fig, axes = plt.subplots(1, 3, figsize=(12, 3))
for ax, key in zip(axes, ("noise_diversity", "noise_spread_w", "motion_spread")):
    ax.barh(trained, [table[k][key] for k in trained], xerr=[table[k].get(f"{key}_sd", 0) for k in trained],
            color=["C0" if "with MI" in k else "C1" for k in trained])
    if key in table["real toy clips"]:
        ax.axvline(table["real toy clips"][key], color="k", ls="--", label="real clips")
        ax.legend(fontsize=8)
    ax.set_title(key.replace("_", " "))
for ax in axes[1:]:
    ax.set_yticklabels([])
plt.tight_layout()
plt.show()
for label in trained:
    twin = label.replace("with MI", "without MI")
    if label.startswith("with MI") and twin in table:
        frames, paths = (table[label][k] / table[twin][k] for k in ("noise_diversity", "noise_spread_w"))
        print(f"after {label.split(', ')[1]}: with MI / without MI = {frames:.2f} on the frames, {paths:.2f} in W")

# %% [markdown]
# What the difference looks like: one face, four motion noises, for the last pair of
# files above (top row with the MI loss, bottom row without).

# %%
from mocohd.train.video_gan import load_video_generator as load_vg

last = [k for k in trained if k.endswith(trained[-1].split(", ")[1])]
z = torch.randn(1, shipped["faces"].image_generator.style_dim, generator=torch.Generator().manual_seed(seed + 7))
pair = []
with torch.no_grad():
    for label in last:
        model = load_vg(ablation[label])
        pair += [model(z, n_frames=16, noise="none", generator=torch.Generator().manual_seed(s))["video"] for s in range(4)]
show_videos(torch.cat(pair).clamp(-1, 1), titles=[f"{label.split(',')[0]}, noise {s}" for label in last for s in range(4)],
            columns=4, fps=6)

# %% [markdown]
# **What the numbers say.** Measured when this notebook was written (full mode, seed 0, each
# number the mean of 3 draws; `python -m mocohd.train.ship compare` wrote the 800-iteration
# ones to `data/checkpoints/ablation/mi_ablation.json`):
#
# - After **230** iterations the two runs cannot be told apart on diversity: the paths from
#   one $z$ spread 0.041 σ with the MI loss and 0.040 σ without; on the frames, 0.015 and 0.015.
# - After **800** iterations the paths spread about 10 % more with the MI loss: 0.0458 σ
#   against 0.0417 σ, each ± 0.0004 over the 3 draws. That is the direction the paper claims.
#   On the rendered frames the difference (0.0155 against 0.0145) stays inside the
#   measurement's own scatter (± 0.001 to 0.003): the frames' toy factors are a coarser probe
#   than $W$, and the 1,200-step $G_I$ under both arms draws no eyes or mouth to move.
# - Without the loss the videos move *more* overall (motion spread 0.073 against 0.053,
#   pixel motion 0.0145 against 0.0109) and their identity drifts more (0.023 against 0.017;
#   real clips 0.013): the noise pushes the path further, but less of it is noise-driven.
#
# Two cautions. Each arm is **one** training run. After 60 iterations, two seeds differed by
# 5 % in the $W$ spread (`bf16_training.json`, section 10), half the effect seen here; after
# 800 iterations over the 8,000-step $G_I$, three seeds of the shipped setting spread 0.027
# to 0.031 (section 8's `noise_spread_w`), up to 16 % apart, more than the 10 % here. That
# was another $G_I$, so it is a guide for this pair, not a measure. And the paper trains
# for hundreds of epochs, far beyond what a 2-core CPU allows. So: a small effect in the
# paper's direction, growing with training, suggestive rather than established. Exercise 6 of
# notebook 02 asks you to push it further.

# %%
if mode == "full" and {"with MI, 800 it", "without MI, 800 it"} <= set(table):
    with_mi, without_mi = table["with MI, 800 it"], table["without MI, 800 it"]
    margin = 3 * max(with_mi["noise_spread_w_sd"], without_mi["noise_spread_w_sd"])
    assert with_mi["noise_spread_w"] > without_mi["noise_spread_w"] + margin, "the W spread claim above no longer holds"

# %% [markdown]
# ## 10. Speed: bf16 and channels_last
#
# Rendering in bf16 with channels-last tensors made a prototype's step about 2× faster
# (`../shared/reference/cpu-cost.md`). `make bench` measures this trainer's iteration time with
# each option, in one run, next to the machine's matmul peak: on this 2-core CPU (AVX512-BF16,
# no AMX) the full-preset iteration ran 2.2× faster with both. The options change rendering
# only: losses, the gradient penalty and the discriminators stay in float32 (the 3D
# discriminator's instance norms produced NaNs in bf16, and oneDNN's bf16 weight gradients
# are slow without AMX).
#
# The gain needs the CPU's own bf16 instructions. On another 2-core machine with AVX-512 but
# no AVX512-BF16 (bench of 2026-12-03), PyTorch emulated bf16: its matmul peak was 61 GFLOP/s
# against 284 in fp32, and bf16 + channels_last made the full iteration 1.06× and the smoke
# one 1.69× *slower* than fp32. So the trainers read the CPU's flags (`mocohd/hardware.py`)
# and warn when a run asks for bf16 on a CPU without them; `--bf16 false` is then the faster
# choice, except to continue a bf16 run in its own precision (bit for bit it repeats only on
# the kind of CPU it was trained on: section 8).
#
# Faster, but does it train to the same place? `make checkpoints` trains the faces motion
# generator for 60 iterations three times (over the 1,200-step faces generator, like the MI
# ablation): in fp32, in bf16 with the same seed, and in bf16 with another seed (`python -m mocohd.train.ship compare ...` wrote the result below). If the
# fp32 and bf16 runs of one seed are much closer than the two seeds, bf16's rounding is not
# what decides the result.

# %%
bf16_runs = json.loads((p["ablation_dir"] / "bf16_training.json").read_text())["runs"]
print(f"{'run':14s} {'s/iteration':>12s} {'g_total':>8s} {'d_3d':>7s} {'motion spread':>14s} {'W spread':>9s}")
for label, r in bf16_runs.items():
    print(f"{label:14s} {r['seconds_per_iteration']:12.2f} {r['last_losses']['g_total']:8.3f} {r['last_losses']['d_3d']:7.3f} "
          f"{r['motion']['motion_spread']:14.4f} {r['motion']['noise_spread_w']:9.4f}")
w_spread = {label: r["motion"]["noise_spread_w"] for label, r in bf16_runs.items()}
print(f"W spread: |fp32 - bf16| (same seed) {abs(w_spread['fp32, seed 0'] - w_spread['bf16, seed 0']):.4f}, "
      f"|seed 0 - seed 1| (bf16) {abs(w_spread['bf16, seed 0'] - w_spread['bf16, seed 1']):.4f}")

# %% [markdown]
# ## Recap
# - A MoCoGAN-HD iteration is 5 updates of the motion generator (each with fresh $z$ and
#   $\epsilon$) and one of the discriminators, against one real batch.
# - $G_I$ is frozen: no optimizer holds its weights, yet every loss reaches $G_M$ through it.
# - Trained motion keeps content (identity factors flat) while moving the motion factors.
# - $G_M$ moves only what $G_I$ draws: over an image generator that drew heads looking straight
#   ahead, 1,200 more motion iterations hardly made heads turn; over one that draws turned
#   heads, the same 800 iterations turned them half again as much, kept identity and detail
#   as in real clips, and moved eyes and mouths less; 1,200 more iterations over it turned
#   heads less, not more, and so did the official batch of 8 and the official discriminator
#   width (section 8); but three seeds of the shipped run span all of these (motion spread
#   0.035 to 0.069), so one run per setting says little.
# - Generated faces drift where real ones blink and talk: their largest frame-to-frame change
#   is a sixth of the real one for eyes, under half for head turns.
# - The residual's step bound is not what keeps mouths and heads slow: one or two bounded
#   steps move them as far as real clips move in as many frames. For eyes the same search only
#   fools the feature network (paler faces, round eyes): it finds no shut eye to step to.
# - The eyes have a cause of their own: the shipped $G_I$ never draws shut eyes (none of its
#   samples beyond the real images' most-shut 5 %), a mode it dropped during image training.
#   The mouth and the head keep both ends in $G_I$; their slowness is the motion training's.
# - The deeper reason no faces model of the paper's loop blinks: the trained 3D discriminator scores a real clip
#   with a blink and the same clip with the eyes held open alike (within 0.003, against a real
#   - fake gap of 0.40; scored in train mode, as in training), and 600 more discriminator
#   updates alone do not change that: the toy blink is too small a change for it to weigh.
# - In `toy:faces_big_eyes`, whose blink a fresh 3D D does learn, over an image generator that
#   draws shut eyes, the discriminators react to a blink, but the wrong way round: the motion
#   generator's eyes close slowly and stay shut, and both discriminators learned to score shut
#   eyes as fake (-0.016 and -0.018), not to ask for eyes that reopen. Trained on to 1,600
#   iterations they still do (-0.019 and -0.026), and the generator's eyes simply move less
#   (spread 0.29 to 0.09): longer training converges on open eyes, not on blinks.
# - Not in the paper: teaching the discriminators what a blink is (`--held-fakes eye_open`,
#   real clips against the same clips with the eyes held open) turns their answer round (a
#   blink now scores +0.02 in both), but after 500 iterations the generator still closes its
#   eyes slowly and never reopens them: the reward is a twentieth of the real - fake gap.
# - With the blink the only motion (`toy:faces_big_eyes_blinks`) the loop learns it no better.
#   Every trained generator's frames change outside the eyes almost as much as at them, where
#   a real blink changes nothing else; so change itself reads as fake, and a real blink is
#   marked down. $G_I$ can shut the eyes with a third of the change elsewhere; the generators'
#   paths have not learned to.
# - Why: the discriminators tell fakes by their pictures. Freeze every clip at its first frame
#   and real still beats fake by the whole gap (0.38 to 0.52); motion, real or generated,
#   moves a score by 0.03 at most. A path-length regularised $G_I$ with images closer to real
#   (FD_toy 9.9 against 14.2) changes neither that nor the blink. Our reading: the motion
#   generator learns motion once $G_I$'s pictures stop giving the fakes away, the paper's title.
# - Two differences from the paper removed, the same answer: with the discriminators at half
#   $G_I$'s size (`--video-frame-size 32`, the official 256 to 128 pooling) and over a $G_I$
#   of the blink-alone world itself, the eyes move in three clips of four (the half-size
#   discriminators did that; the new $G_I$ alone did not) and identity holds
#   as in real clips, but they close slowly and never reopen, and the pictures stay the gap.
# - A control that takes the pictures away (`--steered-real true`: real clips whose blinks
#   $G_I$ itself drew) removes the pictures' part of the gap (+0.005, against +0.466), which
#   shows they were the discriminators' signal. After 1,500 iterations the 3D discriminator
#   rewards the real blink (+0.038) and not the generated drift, the first time motion is its
#   whole signal; but the generator answers by moving less, not by blinking. By 3,000
#   iterations both discriminators would pay for a blink added to the generator's own clips
#   (`--blink-reward`: image D +0.17 for a whole one), but not for a small one, and the
#   generator, starting from still eyes, still does not blink. Matching pictures is needed,
#   not enough. And the control's real side had a flaw: a third of its clips started
#   mid-blink, so they opened the eyes past $G_I$'s face and held them there, a drift, and
#   the image discriminator paid more for that than for a blink. Version 2 (open-eyed starts
#   only) turned the generator's eye drift towards shut within 200 iterations, but not into a
#   blink: by 500 the eyes close slowly in 91 % of clips and none reopens. 600 more
#   discriminator updates alone taught them that drift (shutting reads as fake), not the way
#   back: the 3D discriminator pays the same for a blink as for its reverse.
# - A fresh 3D D learns a blink's way back (a blink against the same clip with eyes that shut
#   and stay shut) within 250 steps, on toy pictures or $G_I$'s; the loop's own loss learns it
#   later, and with its temporal flips ten times more weakly. Taught it by a game with cut
#   blinks as fakes (`--cut-fakes`, not in the paper), the generator stopped its drift and held
#   the eyes nearly still, and the 3D D still charged for a blink added to its clips.
# - What the LSTM learned: in every trained generator the steps are mostly one drift, shared
#   by all videos (agreement 0.98 to 1.00), and none comes back as a blink's do. The MI loss
#   lowers the forget gate (faces 0.29 with it, 0.72 without); the steered run's fell from
#   0.25 to 0.05 as it trained, a memory of about one frame, and 280 iterations without the MI
#   loss did not bring it back (0.065).
# - Game or learner? Free paths climbed on the discriminators' loss from still eyes drift in
#   colour and identity, not into blinks (the game's slope leads elsewhere). A game on the
#   latent paths themselves, which points straight at blinks (`path_game`), moves the LSTM's
#   eyes a third as far as a real blink's and brings few back, with or without the MI loss.
#   Without any game, pulled to the nearest of its paths (`--objective nearest`), the same
#   LSTM blinks: half its clips come back, as in the real ones, at three fifths of their
#   depth, with a forget gate of 0.65 under the MI loss. So the learner can blink; the games
#   do not lead it there, and "shut the eyes" is a different direction of $W$ for each face.
#   Grafted into the pixel loop, that LSTM loses its blinks within 400 iterations of the
#   paper's game (there and back 0.48 to 0.02).
#   Kept on beside the paper's losses (`--w-nearest 0.03`, not in the paper), the same term
#   keeps the blinks through 650 iterations of the loop (there and back 0.46, real 0.46): the
#   shipped `faces_blinks_motion.pt`.
#   And every steered blink was too fast to
#   follow: 78 % of them move a PCA coordinate 1.5 to 2 residual steps in one frame, where a
#   motion generator moves at most one. Slowed within reach (`--steered-within-reach`), the
#   pixel loop fades the eyes shut instead (97 % of clips), as its 3D D scores a blink and its
#   cut version alike.
# - The MI loss: no difference after 230 iterations, paths about 10 % more diverse in $W$
#   after 800 (one run per arm). bf16 rendering trains about 2× faster to the same place.
#
# ## Exercises
# 1. Train with `--no-temporal-flip` for as many iterations as a shipped model and compare
#    section 9's numbers (`python -m mocohd.metrics.motion_stats --domain faces RUN/checkpoint.pt
#    data/checkpoints/faces_motion.pt`). What does the reversal protect against?
# 2. Set `cfg.g_steps = 1` and train for the same wall time: is the motion better or worse?
# 3. Run section 7 with the sky model: does the sky keep its colours while the clouds drift?
# 4. Time one iteration with `bf16=False, channels_last=False` and compare with the default.
# 5. Train an image generator on toy faces with `--r1 0.5` and with `--r1 0.05` from the same
#    checkpoint, and follow the poses each draws with `python -m mocohd.metrics.motion_stats
#    --domain faces --image-range RUN/checkpoint.pt`. How many steps until they differ?
# 6. The shipped $G_I$ draws no shut eyes. Train image generators that might keep them (wider:
#    `--channel-scale 0.5`; or `--r1 0.05` from the first step instead of from step 6,000) and
#    follow the eyes' low end in `--image-range`'s second table. Then train a motion generator
#    over the one that keeps it: does it blink?
# 7. Probe your own run with `python -m mocohd.metrics.discriminator_probe RUN/checkpoint.pt`
#    every 100 iterations (copy the checkpoint as it trains). Does any motion's effect on the
#    3D D grow as the real - fake gap shrinks? In the `faces_big_eyes` run the blink's effect
#    stayed negative to 1,600 iterations. Change one thing the loop rewards and train it again
#    (`--data toy:faces_big_eyes --image-generator data/checkpoints/faces_big_eyes_64.pt`):
#    the official batch of 8, or `--no-temporal-flip`. Does the effect turn positive, and do
#    the eyes start to reopen? `--held-fakes eye_open` turns it positive by construction
#    (section 8), yet no blink came within 500 iterations: train one of those runs yourself
#    (the command in section 8) to 1,500 iterations and follow "there and back" every 250.
# 8. Train on `toy:faces_big_eyes_blinks` (section 8's command) and follow `change_by_region`
#    every 250 iterations: does the change outside the eye band ever fall towards the real
#    clips' 0.00001? Then add `--held-fakes eye_open --held-image true` to the same run. Does
#    a discriminator that must reward the blink make the generator hold the rest still?
# 9. Follow the "pictures" part of the gap (`discriminator_probe`) while you train a better
#    image generator: `faces_big_eyes_64_pl2`'s run (section 8's command) on to 5,000 or
#    10,000 steps, or wider (`--channel-scale 0.5`). How low must FD_toy go before the
#    pictures part falls below the motion parts, and does a blink-alone run over that $G_I$
#    then blink? Train it over the blink world's own frames (`--data toy:faces_big_eyes_blinks
#    --balance eye_open`) and keep `--video-frame-size 32`: section 8's best setting so far.
# 10. In section 8's steered run the discriminators learned to reward a whole blink, and the
#    generator held still, since a small blink earns nothing. Train it on past 3,000
#    iterations (from its state in `data/checkpoints/states/`: `state.json`'s `continue`
#    command, with `STEPS` past 3,000), or with the official discriminator width
#    (`--ndf 64`), and follow
#    `--blink-reward` at a = 0.1 and "there and back": does a slope appear from still eyes,
#    and does the generator then climb it?
#    Or train it from nothing with `--no-mi` and follow `lstm_memory`'s forget gate beside
#    "there and back": does a generator that keeps its memory learn to come back?
#    The shipped state trained on version 1 of the steered clips; the trainer now draws
#    version 2 and warns when it resumes that state, so training it on mixes the two. For a
#    clean experiment, train version 2 from nothing (the command in "Which way the
#    discriminators pay") past the 500 iterations measured there. Follow the 3D
#    discriminator's blink reward at a = +1 against a = -1: it pays for a round trip only
#    when the first clearly beats the second.
# 11. Train the `--cut-fakes` run of "Can a 3D discriminator see the way back?" on past 1,500
#    iterations, and follow the 3D D's real - cut and real - frozen scores (`python -m
#    mocohd.metrics.discriminator_probe --round-trips RUN/checkpoint.pt`) beside the blink reward:
#    does the D keep switching between the two as the generator moves between drift and
#    stillness? Then add `--frozen-fakes true`, so that every clip is played both cut *and*
#    frozen (two held games), leaving the generator no still refuge; climb free paths against
#    its discriminators (`python -m mocohd.metrics.path_ascent RUN/checkpoint.pt`) to see
#    where their slope now leads before you spend hours on the loop.
# 12. The free paths of "Where do the discriminators lead?" move ten times as much as the
#    LSTM's clips against the same discriminators. Start them on the run's own paths
#    (`--start generated`) and follow how fast they leave them; then train the loop from the
#    same state with a larger motion learning rate (`--lr`, which every network shares here:
#    change `_build_optimizers` to give the motion generator its own) and see whether the LSTM
#    follows the slope any better.
# 13. The path game of "Can the LSTM learn a blink at all?" gives the LSTM a game that points
#    straight at blinks, and it still does not blink, while `--objective nearest` teaches the
#    same LSTM to blink. Find what the game lacks, one change at a time, following "there and
#    back" (`python -m mocohd.train.path_game ... --within-reach`): start from the nearest-path
#    LSTM (`--start trained` on a run grafted with it), a larger batch (`--batch 64`), a wider
#    or a recurrent path discriminator. Does the game keep a blink it did not have to find?
#    Then try the nearest paths with fewer draws per path (`--k 4`, `--k 1`: with one draw it
#    is plain regression to a random real path): how many does the LSTM need to blink?
