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
#   generated frame.
#
# **What it costs** (2-core laptop CPU): `mode="smoke"` about 1–2 minutes (a few iterations of
# the loop at reduced size: every line runs, nothing is learned yet); `mode="full"` trains the
# full preset for `steps` iterations, about 10–15 s each on a quiet machine (200 iterations
# ≈ 40 min) — the shipped models were made this way (`make checkpoints`).

# %% tags=["parameters"]
mode = "smoke"  # "smoke": every cell runs quickly; "full": a real training run
seed = 0
domain = "faces"  # toy-world domain of the real clips: faces or sky have shipped models
image_checkpoint = "data/checkpoints/faces_64.pt"  # the frozen image generator G_I (+ its .pca.pt)
motion_checkpoint = "data/checkpoints/faces_motion.pt"  # a shipped, trained motion generator
sky_motion_checkpoint = "data/checkpoints/sky_motion.pt"
steps = None  # training iterations; None: 3 (smoke) or 200 (full)
bf16 = True  # bf16 autocast for rendering frames through G_I
channels_last = True
out_dir = "runs/05_training"

# %%
import inspect

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
             sky_motion_checkpoint=sky_motion_checkpoint)
if domain not in DOMAINS:
    raise ValueError(f"domain={domain!r} is not a toy-world domain; use one of {', '.join(DOMAINS)}")
steps = steps or by_mode(mode, 3, 200)
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
# eight random videos from each, 16 frames, with one noise map per video.

# %%
shipped = {"faces": load_video_generator(p["motion_checkpoint"]),
           "sky": load_video_generator(p["sky_motion_checkpoint"])}
gen = torch.Generator().manual_seed(seed)
videos = {}
with torch.no_grad():
    for name, vg in shipped.items():
        z = torch.randn(8, vg.image_generator.style_dim, generator=gen)
        videos[name] = vg(z, n_frames=16, generator=gen)["video"].clamp(-1, 1)
        show_videos(videos[name], columns=8, fps=6)

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

real = make_clips("faces", 8, frames=16, size=64, seed=seed + 5)
fake_f, names = video_factors(videos["faces"], "faces")
real_f, _ = video_factors(real.video, "faces")
spread = lambda f: f.std(dim=1).mean(0)  # (F,): spread over time, averaged over clips
show = ["motion:eye_open", "motion:mouth_open", "motion:yaw", "motion:pitch",
        "identity:face_rx", "identity:skin_r", "identity:hair_r"]
idx = [names.index(n) for n in show]
print(f"{'factor':18s} {'real clips':>11s} {'generated':>11s}   (std over time within a clip)")
for i in idx:
    print(f"{names[i]:18s} {spread(real_f)[i].item():11.3f} {spread(fake_f)[i].item():11.3f}")
# One number per kind: how much motion factors move, relative to how much identity factors drift.
kind = torch.tensor([n.startswith("motion:") for n in names])
for label, f in (("real", real_f), ("generated", fake_f)):
    s = spread(f)
    print(f"{label:10s} motion spread {s[kind].mean():.3f}   identity drift {s[~kind].mean():.3f}")
fig, axes = plt.subplots(1, 2, figsize=(10, 3), sharey=True)
plot_series(real_f[0][:, idx], [names[i] for i in idx], ax=axes[0], title="a real toy clip")
plot_series(fake_f[0][:, idx], [names[i] for i in idx], ax=axes[1], title="a generated clip")
plt.show()

# %% [markdown]
# ## 9. Speed: bf16 and channels_last
#
# The CPU here has AMX-BF16 units. Rendering in bf16 with channels-last tensors made a prototype's
# step about 2× faster (`../shared/reference/cpu-cost.md`); `make bench` measures this trainer's
# iteration time with each option, in one run, next to the machine's matmul peak. The options
# change rendering only: losses, the gradient penalty and the discriminators stay in float32
# (the 3D discriminator's instance norms produced NaNs in bf16).
#
# ## Recap
# - A MoCoGAN-HD iteration is 5 updates of the motion generator (each with fresh $z$ and
#   $\epsilon$) and one of the discriminators, against one real batch.
# - $G_I$ is frozen: no optimizer holds its weights, yet every loss reaches $G_M$ through it.
# - Trained motion keeps content (identity factors flat) while moving the motion factors.
#
# ## Exercises
# 1. Train with `--no-mi` (`python -m mocohd.train video --preset full --no-mi ...`) and compare
#    the spread of motion factors over time with section 8's numbers.
# 2. Set `cfg.g_steps = 1` and train for the same wall time: is the motion better or worse?
# 3. Run section 7 with the sky model: does the sky keep its colours while the clouds drift?
# 4. Time one iteration with `bf16=False, channels_last=False` and compare with the default.
