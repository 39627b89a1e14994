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
# # 06 · Cross-domain synthesis: content from images, motion from other videos
#
# The paper's headline trick: an image generator trained on **images only** (dogs, in the paper's
# AFHQ + VoxCeleb run) can be set in motion by a motion generator that learned *how things move*
# from videos of **another domain** (talking people). Nobody ever filmed these dogs; the videos
# show them turning their heads and opening their mouths all the same. Here the toy world plays
# both parts: the content is the toy-animals generator (trained on single frames), the motion
# comes from toy-faces clips, seen only by the video discriminator.
#
# **What you will learn**
# - why cross-domain works: motion is a path in W, the 3D discriminator judges the path, and
#   the image discriminator keeps each generated animal itself;
# - the cross-domain image discriminator's game: generated frame 0 against generated frame $k$,
#   with a contrastive loss over queues of earlier frames;
# - how to *measure* whether content stays put (identity drift, read by the toy feature network),
#   and the paper's ablation "w/o contrastive discriminator", three seeds per arm;
# - whether the 3D discriminator judges motion or content (a difficulty the authors' users met);
# - a real person's motion on toy heads: the bundled carphone clip as the only video domain.
#
# **What it costs** (2-core CPU; `python -m mocohd.tour --only 06` prints the time):
# - `mode="smoke"`: about a minute and a half: a few iterations at reduced size, every line runs,
#   every number is computed on a handful of videos and is not meaningful.
# - `mode="full"`: about 15 minutes (estimated from its parts, not timed as a whole): 40
#   full-preset training iterations (7–13 s each on this machine), 10 on the carphone clip, and the
#   measurements on 32 videos per generator (2 min 20 s for all of `ablation/cross_domain.json`).

# %% tags=["parameters"]
mode = "smoke"  # "smoke": every cell runs quickly; "full": real numbers
seed = 0
content_checkpoint = "data/checkpoints/animals_64.pt"  # G_I of the content domain, trained on images only
faces_image_checkpoint = "data/checkpoints/faces_64.pt"  # the in-domain faces G_I
cross_motion_checkpoint = "data/checkpoints/animals_from_faces_motion.pt"  # shipped cross-domain model
faces_motion_checkpoint = "data/checkpoints/faces_motion.pt"  # shipped in-domain faces model (notebook 05)
carphone_motion_checkpoint = "data/checkpoints/faces_from_carphone_motion.pt"  # toy faces moved by a real clip
ablation_dir = "data/checkpoints/ablation"  # the consistency ablation's seeds and the probe's numbers
n_videos = None  # videos per measurement; None: 4 (smoke) or 32 (full)
steps = None  # training iterations of section 3; None: 2 (smoke) or 40 (full)
out_dir = "runs/06_cross_domain"

# %%
import inspect
import json
import math

import matplotlib.pyplot as plt
import torch

from mocohd.augment import warp
from mocohd.config import video_preset
from mocohd.data.real_clip import carphone_clip
from mocohd.data.toyworld import make_clips
from mocohd.hardware import has_native_bf16
from mocohd.metrics import cross_domain
from mocohd.metrics.toy_features import video_factors
from mocohd.params import by_mode, validate
from mocohd.train.video_gan import VideoGANTrainer, load_video_generator
from mocohd.viz import plot_series, show_images, show_videos, train_with_live_plot

p = validate(mode, seed, out_dir, content_checkpoint=content_checkpoint,
             faces_image_checkpoint=faces_image_checkpoint, cross_motion_checkpoint=cross_motion_checkpoint,
             faces_motion_checkpoint=faces_motion_checkpoint, carphone_motion_checkpoint=carphone_motion_checkpoint,
             ablation_dir=ablation_dir)
n_videos = n_videos or by_mode(mode, 4, 32)
steps = steps or by_mode(mode, 2, 40)
use_bf16 = bool(has_native_bf16())  # bf16 only where the CPU computes it itself (notebook 05)

# %% [markdown]
# ## 1. Why cross-domain works
#
# Three facts from the earlier notebooks make it possible.
#
# 1. **Motion is a path in W.** The motion generator never draws a pixel: it moves a latent
#    $w_0$ by small residual steps along W's principal directions (notebook 02). A path
#    that turns a face's head in the faces generator's W means nothing in the animals
#    generator's W, so the LSTM has to be *trained* over the animals' W, but what it learns is
#    a kind of path: "turn along this direction and back, open along that one".
# 2. **The 3D discriminator judges the path's rendering.** It sees real face clips and
#    generated animal clips. If it judges how things move (a turn takes a second and comes back;
#    a mouth opens and closes), the motion generator learns face-like motion in the animals' W.
# 3. **The image discriminator keeps the content.** There are no real animal *videos* to
#    compare with, so it compares the generated clip with itself: frame $k$ against frame 0.
#
# The toy world lets us see what the 3D D is asked to do. It draws faces and animals from one
# seed with the **same motion** (and the same backgrounds): the same blink, word, turn and nod
# under two different heads.

# %%
faces = make_clips("faces", 4, frames=16, size=64, seed=seed + 5)
animals = make_clips("animals", 4, frames=16, size=64, seed=seed + 5)
assert torch.equal(faces.motion, animals.motion)  # the same motion factors, frame for frame
show_videos(torch.cat([faces.video, animals.video]), titles=[f"face {i}" for i in range(4)] +
            [f"animal {i}, same motion" for i in range(4)], columns=4, fps=6)

# %% [markdown]
# ## 2. The cross-domain image discriminator's game
#
# In-domain (notebook 03), the image discriminator sees *pairs* (frame 0, frame $k$) of real
# clips against generated ones. Cross-domain there are no real clips of the content domain, so
# the official code plays another game with a BigGAN-style discriminator $D_I$:
#
# - **"real" is generated frame 0, "fake" is generated frame $k$**, each through a random
#   augmentation (`warp`: a border cutout, then a flip, colour shift or affine warp). $D_I$ learns
#   to tell a later frame from a first frame; the hinge loss
#   $\mathcal{L}_{D} = \mathbb{E}[\max(0, 1 - D(x_0))] + \mathbb{E}[\max(0, 1 + D(x_k))]$;
# - **a contrastive term** ($\times 2$): two augmented views of each frame 0 must project
#   close to each other and far from the frames 0 of earlier batches held in a queue (InfoNCE,
#   temperature 0.07, keys from a momentum copy of $D_I$); the same for the frames $k$. It makes
#   $D_I$'s features describe *which* animal a frame shows;
# - **the motion generator** plays hinge against $D_I$ on frame $k$ and adds
#   **feature matching**, $\mathcal{L}_{\text{match}} = -\cos(h(x_k), h(x_0))$ on the projections:
#   frame $k$ must look like the same animal as frame 0 to a network trained to tell animals apart.

# %%
print(inspect.getsource(VideoGANTrainer._contrastive_d_loss))

# %% [markdown]
# What $D_I$ sees in one update: frame 0 and frame $k$ of two generated clips, and two random
# views of each (the views the contrastive term pairs).

# %%
cfg = video_preset(mode, image_generator=str(p["content_checkpoint"]), data="toy:faces", steps=steps,
                   cross_domain=True, bf16=use_bf16, seed=seed)
trainer = VideoGANTrainer(cfg, p["out_dir"] / "cross_domain")
with torch.no_grad():
    clip = trainer.generate()["video"][:2]  # (2, T, 3, S, S) at the discriminators' size
k = cfg.frames - 1
view_gen = torch.Generator().manual_seed(seed)
views = [clip[:, 0], clip[:, k], warp(clip[:, 0], view_gen), warp(clip[:, 0], view_gen), warp(clip[:, k], view_gen)]
show_images(torch.stack(views, 1).flatten(0, 1), columns=5,
            titles=["frame 0 ('real')", f"frame {k} ('fake')", "view 1 of frame 0", "view 2 of frame 0",
                    f"a view of frame {k}"] * 2)

# %% [markdown]
# ## 3. Training, with a live loss plot
#
# The same `VideoGANTrainer` as notebook 05, with `cross_domain=True`: the real clips are toy
# faces, the frozen $G_I$ draws toy animals. New columns appear: `match` (feature matching,
# $-1$ at best) and `contrastive` (the InfoNCE term, whose chance level is $\log$ of the queue
# length plus one).

# %%
history = train_with_live_plot(trainer, steps, ("g_3d", "g_2d", "match", "d_3d", "d_2d", "contrastive"))
trainer.save()
assert all(torch.isfinite(torch.tensor(list(h.values()))).all() for h in history)
print(f"{trainer.step} iterations; checkpoint (with its discriminators) in {trainer.out / 'checkpoint.pt'}")

# %% [markdown]
# The smoke run checks these losses against the ones measured when this notebook was written
# (smoke mode, seed 0), to 1 % as in notebook 05 (bf16 and fp32 differ by 0.3 % here); a loss that
# moved is printed.

# %%
# NBVAL_CHECK_OUTPUT
measured = {"g_3d": 2.069, "g_2d": 1.669, "match": -0.984, "d_3d": 2.120, "d_2d": 2.829, "contrastive": 4.115}  # smoke, seed 0
print("last iteration:", {k: "as measured" if math.isclose(history[-1][k], v, rel_tol=0.01, abs_tol=1e-3)
                          else round(history[-1][k], 4) for k, v in measured.items()})

# %% [markdown]
# ## 4. The shipped model: toy animals that move like toy faces
#
# `make checkpoints` (step 13) trained the cross-domain model with the full preset, the paper's
# loop and its defaults, over the frozen animals generator (`animals_64.pt`, trained on single
# frames only), on toy-faces clips: 200 iterations, 67 minutes on this 2-core CPU. Below, eight of
# its videos, then eight of the in-domain faces model of notebook 05 with the same motion noises,
# then what the toy feature network reads in the animals' frames, frame by frame.
#
# What to look for: the animals open and close their mouths about as much as real toy clips do
# (the mouth factor's spread over time is 0.147 against real animals' 0.132, full mode, 32 clips),
# turn and nod about half as much (yaw 38 %, pitch 64 %) and barely blink (38 %). But they do
# not stay themselves: fur and background colours drift 3–5× as much as the network's reading
# noise on real clips (section 5). The animals generator is also a weak one (1,200 steps), so
# the animals are blurry to begin with.

# %%
shipped = load_video_generator(p["cross_motion_checkpoint"])
in_domain = load_video_generator(p["faces_motion_checkpoint"])
info = json.loads(p["cross_motion_checkpoint"].with_suffix(".json").read_text())
print(f"{p['cross_motion_checkpoint'].name}: {info['steps']} iterations, {info['wall_seconds'] / 60:.0f} min of "
      f"training on a 2-core CPU")
videos = {name: cross_domain.generated_clips(vg, 8, 16, seed) for name, vg in
          (("animals from faces' motion", shipped), ("faces (in-domain)", in_domain))}
for name, video in videos.items():
    print(name)
    show_videos(video, columns=8, fps=6)
factors, names = video_factors(videos["animals from faces' motion"], "animals")
picked = [names.index(n) for n in ("motion:yaw", "motion:pitch", "motion:mouth_open", "motion:eye_open")]
fig, axes = plt.subplots(1, 3, figsize=(12, 2.6), sharey=True)
for i, ax in enumerate(axes):
    plot_series(factors[i][:, picked], [names[j] for j in picked], ax=ax, title=f"generated animal {i}")
plt.show()

# %% [markdown]
# ### Explore it: one motion noise, two domains
#
# Both models read the same three knobs: `content_seed` draws one $z$ (a face in the faces
# generator's W, an animal in the animals'), `noise_seed` one sequence of LSTM noise $\epsilon_t$
# fed to both LSTMs, and $\lambda$ scales both paths (each trained at 0.2, each on toy-faces
# clips, each over its own W). Under each video, its path on the first two principal directions
# of its own W, in $\sigma$ from $w_0$, on one scale for both. Over eight settings (content and
# noise seeds 0 to 7, $\lambda = 0.2$) the animals' paths end 2.1$\sigma$ from $w_0$ on these
# two directions against the faces' 0.73$\sigma$, and their last frames differ from frame 0 by
# 0.21 per pixel against 0.10: the cross-domain LSTM walks farther, and much of that walk is the
# identity drift measured in section 5. In Jupyter, drag the sliders; the book shows the start.

# %%
from mocohd.viz import cross_domain_explorer

cross_domain_explorer({"faces (in-domain)": in_domain, "animals from faces' motion": shipped}, content_seed=seed,
                      noise_seed=seed)

# %% [markdown]
# ## 5. Does each animal stay itself? The paper's ablation
#
# **Identity drift**: the toy feature network reads every identity factor of an animal (fur
# colours, eye colour, head size, background) off every frame; the drift is their standard
# deviation over time, averaged over factors and clips. Real clips' identity never changes,
# so their drift is the network's reading noise as the head moves: the floor. A generator that
# stood still would score 0, so the **motion spread** (the same for the motion factors) sits
# beside it: little drift *and* real motion is the goal.
#
# The seed's ablation compares the cross-domain model "w/o contrastive discriminator" with
# "w/". `make checkpoints` trained both arms from three seeds each (`--no-contrastive` keeps
# the hinge game and feature matching and drops the contrastive term from $D_I$'s loss), at
# the full preset for 60 iterations each (the budget allowed no more, see the table's note);
# the seed-0 "with" run is the shipped model's first 60 iterations.

# %%
ablation = {"with contrastive, 60 it": ("animals", [p["ablation_dir"] / f"animals_from_faces_motion_seed{s}_60.pt"
                                                    for s in range(3)]),
            "w/o contrastive, 60 it": ("animals", [p["ablation_dir"] / f"animals_from_faces_motion_nocontrastive_seed{s}_60.pt"
                                                   for s in range(3)]),
            f"shipped, {info['steps']} it": ("animals", [p["cross_motion_checkpoint"]]),
            "in-domain faces model": ("faces", [p["faces_motion_checkpoint"]])}
missing = [str(c) for _, cs in ablation.values() for c in cs if not c.exists()]
if missing:
    raise FileNotFoundError(f"missing shipped files: {missing}; run `make checkpoints` (step 13)")
table = cross_domain.consistency_table(ablation, n_videos=n_videos, seed=seed, n_real_seeds=by_mode(mode, 1, 3))
print(cross_domain.format_consistency(table))
_ = (p["out_dir"] / "consistency.json").write_text(json.dumps(table, indent=2))
labels = list(table)
fig, axes = plt.subplots(1, 3, figsize=(14, 2.8), sharey=True)
for ax, key in zip(axes, cross_domain.KEYS):
    ax.barh(labels, [table[k][key]["mean"] for k in labels], xerr=[table[k][key]["sd"] for k in labels],
            color=["C0", "C1", "C2", "C3", "0.6", "0.8"][:len(labels)])
    ax.set_title(key.replace("_", " ") + " (mean ± sd over seeds)")
plt.tight_layout()
plt.show()

# %% [markdown]
# **What the numbers say** (full mode, 32 videos per generator, seed 0; `ablation/cross_domain.json`):
#
# | | identity drift | motion spread | drift per motion |
# |---|---|---|---|
# | with contrastive, 60 it (3 seeds) | 0.0041 ± 0.0017 | 0.0087 ± 0.0024 | 0.46 ± 0.09 |
# | w/o contrastive, 60 it (3 seeds) | 0.0038 ± 0.0011 | 0.0079 ± 0.0009 | 0.48 ± 0.09 |
# | shipped, 200 it | 0.0283 | 0.0915 | 0.31 |
# | in-domain faces model | 0.0114 | 0.0522 | 0.22 |
# | real toy animals clips (3 draws) | 0.0125 ± 0.0010 | 0.1658 ± 0.0077 | 0.075 ± 0.006 |
# | real toy faces clips (3 draws) | 0.0144 ± 0.0009 | 0.1707 ± 0.0043 | 0.084 ± 0.006 |
#
# - **The paper's claim does not reproduce here.** With and without the contrastive term the
#   arms cannot be told apart: their means differ by less than one seed's spread, on every
#   column. At 60 iterations neither arm has learned to move yet (motion spread 5 % of real
#   clips'), so there is little content for the term to keep: the test is weak, and it is
#   what the 6 CPU-hour budget allowed (six runs of 60 iterations beside the 200 of the
#   shipped model).
# - **Where motion comes, identity goes with it.** By 200 iterations the shipped model moves
#   (55 % of real motion) but its identity drifts 2.3× as much as real clips' reading noise;
#   per unit of motion, 4× as much as real clips and 1.4× the in-domain faces model. The
#   contrastive image D did not keep each animal itself at this length and size.

# %%
# NBVAL_CHECK_OUTPUT
measured = {"with contrastive, 60 it": 0.0041, "w/o contrastive, 60 it": 0.0035, "shipped, 200 it": 0.0281,
            "in-domain faces model": 0.0096, "real toy animals clips": 0.0147, "real toy faces clips": 0.0166}
print("identity drift:", {k: "as measured" if math.isclose(table[k]["identity_drift"]["mean"], measured.get(k, -1),
                                                           rel_tol=0.02, abs_tol=5e-5)  # smoke, seed 0
                          else round(table[k]["identity_drift"]["mean"], 4) for k in table})
arms = [table["with contrastive, 60 it"]["identity_drift"], table["w/o contrastive, 60 it"]["identity_drift"]]
drift = table[f"shipped, {info['steps']} it"]["identity_drift"]["mean"]
real_drift = table["real toy animals clips"]["identity_drift"]["mean"]
if mode == "full":  # the claims above, checked on the numbers this run computed
    assert abs(arms[0]["mean"] - arms[1]["mean"]) < max(arms[0]["sd"], arms[1]["sd"]), "the arms now differ"
    assert drift > 2 * real_drift, "the shipped model's drift claim"
else:  # smoke, 4 videos (seeds 0-2 measured): the arms agree; the drift exceeds real clips', "2x" needs 32 (seed 0: 1.9x)
    assert abs(arms[0]["mean"] - arms[1]["mean"]) < max(arms[0]["sd"], arms[1]["sd"]), "the arms now differ"
    assert drift > real_drift, "the shipped model's drift claim"

# %% [markdown]
# ## 6. Does the 3D discriminator judge motion, or content?
#
# The authors' users asked it first (the official repository's first issue): when the 3D D sees
# real *faces* and generated *animals*, it can win by telling faces from animals, whatever they
# do, and then its gradient teaches the motion generator nothing about motion. The toy world can
# test it directly: score real face clips and real animal clips **with the same motion** with
# the trained 3D D. A D that judged only motion would score them alike; the gap (in units of the
# real faces' spread) is the content it learned to see.
#
# A run's checkpoint with its discriminators is about 250 MB, too big to ship, so full mode reads
# the numbers `make checkpoints` measured on each ablation run (`ablation/cross_domain.json`,
# made by `python -m mocohd.metrics.cross_domain`); both modes also probe the run of section 3.

# %%
gap_here = cross_domain.content_gap(trainer.out / "checkpoint.pt", n_clips=n_videos, seed=seed + 5)
print(f"section 3's run ({gap_here['step']} it): " + ", ".join(f"{k} {v['mean']:+.3f}" for k, v in gap_here["scores"].items())
      + f"; gap {gap_here['gap_in_sd']:+.2f} sd; real face above its animal in {gap_here['pairs_ranked']:.0%} of pairs")
measured = json.loads((p["ablation_dir"] / "cross_domain.json").read_text())
for label, row in measured["content_gap"].items():
    print(f"{label:28s} gap {row['gap_in_sd']['mean']:+.2f} ± {row['gap_in_sd']['sd']:.2f} sd, "
          f"real face ranked above its animal in {row['pairs_ranked']['mean']:.0%} of pairs")

# %% [markdown]
# **What the numbers say** (full mode; `ablation/cross_domain.json`): it happens, fully. Every
# trained 3D D scores a real face clip above the real animal clip with the same motion: in
# 97–100 % of the 32 pairs, by 2.4–3.5 standard deviations of the real faces' scores after 60
# iterations, with the contrastive term and without it alike (3.54, 2.37, 2.51 against 3.51,
# 2.46, 2.59), and still by 2.1 after 200. The contrastive term cannot help: it trains the
# *image* D, and the 3D D never sees it. This is why the shipped model's animals drift towards
# other colours: the 3D D's gradient says "look like a face", which no path in the animals' W
# can satisfy. A 3D D that could not see content (frames reduced to their motion, or real clips
# of the content domain) is a fix the paper does not have; the exercises start on it.

# %% [markdown]
# ## 7. A real person's motion on toy heads
#
# A second, clearly different demo: the only video domain is **real footage**, the carphone clip
# (a man talking in a car, 120 frames; notebook 00), cut into every 16-frame window at stride 2
# and its mirror image (180 clips, `--data carphone`). The content is the toy-faces generator.
# Can a real person's head motion and speech move a toy head? One clip is a tiny dataset, and
# real footage looks nothing like the toy world, so the 3D D's content problem of section 6 is
# at its worst here.

# %%
real_clip = carphone_clip("pristine", size=64, frames=16, time_step=2)
carphone_cfg = video_preset(mode, image_generator=str(p["faces_image_checkpoint"]), data="carphone",
                            steps=by_mode(mode, 1, 10), cross_domain=True, bf16=use_bf16, seed=seed)
carphone_trainer = VideoGANTrainer(carphone_cfg, p["out_dir"] / "carphone")
carphone_logs = [carphone_trainer.train_step() for _ in range(carphone_cfg.steps)]
print(f"{len(carphone_logs)} iterations on the carphone windows ({len(carphone_trainer.dataset)} clips); last losses "
      + ", ".join(f"{k} {v:.3f}" for k, v in carphone_logs[-1].items()))
carphone_model = load_video_generator(p["carphone_motion_checkpoint"])
carphone_info = json.loads(p["carphone_motion_checkpoint"].with_suffix(".json").read_text())
print(f"shipped: {carphone_info['steps']} iterations, {carphone_info['wall_seconds'] / 60:.0f} min")
show_videos(torch.cat([real_clip[None], cross_domain.generated_clips(carphone_model, 5, 16, seed)]),
            titles=["real (carphone)"] + [f"toy face {i}" for i in range(5)], fps=8)

# %% [markdown]
# **How it looks**: toy faces that stay themselves (identity drift 0.006, below real clips'
# reading noise) and hardly move: motion spread 0.020, 12 % of real toy clips' and 38 % of the
# in-domain faces model's, mostly the mouth (0.029) (full mode, 32 clips). 100 iterations (20 min)
# on one clip of a real face did not teach a toy head a real person's motion; the 3D D has an
# easier way to win here than in section 6, since no toy frame looks like a photograph.

# %% [markdown]
# ## Recap
# - Cross-domain synthesis trains only the motion generator, over an image generator that never
#   saw a video: motion is a path in W, judged by a 3D D that sees another domain's videos.
# - The cross-domain image D plays generated frame 0 ("real") against frame $k$ ("fake"), with
#   a contrastive term over queues; the motion generator adds feature matching to frame 0.
# - The same toy seed draws faces and animals with identical motion, which makes "what does the
#   3D D judge" a question with a measurable answer.
# - Identity drift must be read next to motion spread: a still video drifts not at all.
# - Here the contrastive ablation shows no difference (3 seeds, 60 iterations): the claim does
#   not reproduce at this length and size.
# - The 3D D judges content: it ranks real faces above real animals with the same motion in
#   97–100 % of pairs, so the motion it teaches comes with identity drift.
# - A real clip (carphone) as the only video domain moved toy heads very little in 100 iterations.
#
# ## Exercises
# 1. Train section 3 with `cfg.w_match = 0` (no feature matching) for the same iterations and
#    compare the identity drift of its clips with `cross_domain.consistency`.
# 2. Swap the domains: `data="toy:animals"` with `image_generator="data/checkpoints/faces_64.pt"`.
#    Which motions does a face learn from animals (they share the toy world's motion)?
# 3. Probe section 3's run with `cross_domain.content_gap` after 2, 10 and 40 iterations: how
#    fast does the 3D D learn to tell faces from animals?
# 4. Give the 3D D real animal clips with the motion of real faces (`data="toy:animals"`, the
#    animals G_I): that is the in-domain setting. How much smaller is the content gap?
# 5. Section 7 with the animals generator as content: does a real person's motion move a toy cat?
# 6. Read `mocohd/contrastive_discriminator.py` and change `q_len` to 64: does the contrastive
#    loss in section 3's plot start nearer its chance level $\log(q_{len} + 1)$?
