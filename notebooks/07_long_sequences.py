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
# # 07 · Long sequences: unrolling the LSTM, interpolating in W
#
# The motion generator was trained on 16-frame clips, yet nothing in it fixes the length: the
# LSTM keeps drawing noise and adding steps for as long as we ask. The paper makes long videos
# in two ways, by **unrolling** the LSTM (FaceForensics) and by **interpolating** in W between
# the frames it drew (AFHQ, VoxCeleb). Here we ask both for 256 frames and watch, with numbers,
# what happens past frame 16, next to real toy clips of the same length.
#
# **What you will learn**
# - how unrolling and midpoint interpolation make a long path in W, and that every
#   2^levels-th frame of an interpolated video is a frame the LSTM drew;
# - four drift curves, frame by frame, for generated and real clips: the distance of $w_t$
#   from $w_0$, identity drift, motion per frame and mean colour;
# - at which frame each method leaves the real clips' range, on which measure, and what a
#   face looks like by then;
# - two fixes the paper does not have, measured: clamping $w_t$ to the distance its path
#   reached in 16 frames, and walking out and back along 16-frame paths;
# - `python -m mocohd.generate`, which writes a long video to mp4 or GIF.
#
# **What it costs** (2-core CPU; `python -m mocohd.tour --only 07` prints the time):
# - `mode="smoke"`: about a minute (62 s measured on one thread while two training runs shared
#   the machine): 2 videos of 64 frames per method and model, 4 real clips.
# - `mode="full"`: about 15 minutes (14 measured, on one thread beside the same two runs): 8
#   videos of 256 frames per method and model, 16 real clips of 256 frames, for the faces and the
#   sky model; with the cross-domain model, now shipped, 20.5 minutes measured (one thread,
#   beside the test suite).
#   256 frames of one video take about 6 s to generate on one thread (section 6).

# %% tags=["parameters"]
mode = "smoke"  # "smoke": short videos, few clips; "full": 256 frames, the numbers quoted in the prose
seed = 0
faces_checkpoint = "data/checkpoints/faces_motion.pt"  # the shipped faces motion generator (16-frame clips)
sky_checkpoint = "data/checkpoints/sky_motion.pt"
cross_checkpoint = "data/checkpoints/animals_from_faces_motion.pt"  # cross-domain, read as animals; skipped if missing
frames = None  # the longest video; None: 64 (smoke) or 256 (full)
n_videos = None  # generated videos per method; None: 2 (smoke) or 8 (full)
n_real = None  # real toy clips of the same length; None: 4 (smoke) or 16 (full)
quantile = 0.95  # the real range runs from the real clips' 1 - q to their q quantile (1.0: min to max)
out_dir = "runs/07_long_sequences"

# %%
import time

import matplotlib.pyplot as plt
import torch

from mocohd.data.toyworld import make_clips
from mocohd.generate import keyframes_needed, load_model, long_video, write_long_video
from mocohd.metrics.long_sequences import (breakdown_frames, drift_curves, identity_scale, median_clip,
                                           real_band, share_out)
from mocohd.metrics.toy_features import video_factors
from mocohd.params import by_mode, resolve_path, validate
from mocohd.viz import show_images, show_videos

p = validate(mode, seed, out_dir, faces_checkpoint=faces_checkpoint, sky_checkpoint=sky_checkpoint)
frames = frames or by_mode(mode, 64, 256)
n_videos = n_videos or by_mode(mode, 2, 8)
n_real = n_real or by_mode(mode, 4, 16)
if not isinstance(frames, int) or not 17 <= frames <= 256:
    raise ValueError(f"frames={frames!r}: give an int from 17 (past the 16 training frames) to 256 (the toy "
                     "world's longest clip)")
if not 0.5 <= quantile <= 1:
    raise ValueError(f"quantile={quantile!r}: give a number from 0.5 to 1 (1.0: the real clips' min to max)")
cross = resolve_path(cross_checkpoint) if cross_checkpoint else None
if cross is not None and not cross.is_file():
    print(f"no cross-domain model at {cross} yet (make checkpoints ships it): its section is skipped")
    cross = None
marks = [f - 1 for f in (16, 32, 64, 128, 256) if f <= frames]  # frames count from 0: frame 15 is the 16th
print(f"{frames} frames, {n_videos} videos per method, {n_real} real clips; strips at frames {marks}")

# %% [markdown]
# ## 1. Two ways past 16 frames
#
# **Unrolling.** The LSTM's recurrence (notebook 02) has no end: each frame adds a residual step
# along the principal directions $\mathrm{PC}_k$ of W, at most $\lambda\sigma_k$ along each,
#
# $$w_t = w_{t-1} + \lambda \tanh(h_t A + b)\,(\mathrm{PC} \odot \sigma), \qquad t = 1, 2, \dots$$
#
# so 256 frames are 255 steps, 17 times the 15 that training ever judged.
#
# **Interpolating.** The official `--interpolation` switch inserts the midpoint
# $\tfrac12(w_i + w_{i+1})$ between consecutive latents: $K$ keyframes become $2K - 1$ frames,
# and a second level $4K - 3$: the paper's 16 → 31 → 61. For a given length, `long_video`
# unrolls the fewest keyframes that `levels` levels of midpoints stretch to it:
# $K = \lceil (T-1)/2^{\text{levels}} \rceil + 1$.

# %%
# NBVAL_CHECK_OUTPUT
for length in (31, 61, 64, 128, 256):
    print(f"{length:3d} frames: {keyframes_needed(length, 1):3d} keyframes with one level of midpoints, "
          f"{keyframes_needed(length, 2):3d} with two")

# %% [markdown]
# One face of the shipped faces model: 16 frames as trained, the same 16 keyframes interpolated
# to 31 and 61 frames (the paper's way), and the LSTM unrolled to 61 frames. Content ($z$ and the
# StyleGAN noise maps) comes from `seed`, the LSTM's noise from a second stream, so all four
# start from the same face; the interpolated videos move at a half and a quarter of the speed.

# %%
faces, faces_config = load_model(p["faces_checkpoint"])
train_frames = faces_config["frames"]
paper = {"16 frames": long_video(faces, 16, "unroll", seed=seed, progress=False),
         "x1: 31 frames": long_video(faces, 31, "interpolate", seed=seed, levels=1, progress=False),
         "x2: 61 frames": long_video(faces, 61, "interpolate", seed=seed, levels=2, progress=False),
         "unrolled: 61 frames": long_video(faces, 61, "unroll", seed=seed, progress=False)}
assert torch.equal(paper["x2: 61 frames"]["w"][:, ::4], paper["16 frames"]["w"])  # the keyframes are the 16 frames
show_videos([o["video"][0] for o in paper.values()], titles=list(paper), fps=8)

# %% [markdown]
# ## 2. Four methods, one long video each
#
# The four methods of `mocohd.generate.long_video`, all from the same seeds:
#
# | method | what each frame is |
# |---|---|
# | `unroll` | the LSTM's step $t$ |
# | `interpolate` ×1, ×2 | every 2nd (4th) frame a step of the unrolled LSTM, midpoints between |
# | `clamp` (not in the paper) | as `unroll`, but from frame 16 on $w_t$ is pulled back to the farthest distance from $w_0$ (in σ along the PCA directions) that its own first 16 frames reached |
# | `return` (not in the paper) | out along a 16-frame path, back along it to $w_0$, out along a fresh one (new LSTM noise), ... |
#
# `return` never leaves what training judged: every frame lies on a path of at most 16 steps
# from $w_0$, and a path played backwards is what the 3D discriminator was taught to accept
# (each training batch is reversed with probability ½, notebook 05). Each method draws its
# frames in order, so the first 64 frames of a 256-frame video *are* the 64-frame video (checked
# below on the paths), and one video of the longest length gives every shorter one.

# %%
METHODS = {"unroll": ("unroll", 1), "interpolate x1": ("interpolate", 1), "interpolate x2": ("interpolate", 2),
           "clamp": ("clamp", 1), "return": ("return", 1)}
for method, levels in METHODS.values():
    short = long_video(faces, 32, method, seed=seed, levels=levels, render=False)["w"]
    long = long_video(faces, frames, method, seed=seed, levels=levels, render=False)["w"]
    assert torch.equal(long[:, :32], short), method


def generate_all(video_generator, domain):
    """Every method's videos (n_videos x frames) and real toy clips of the same length, with their
    drift curves (identity in units of the real identities' spread)."""
    real = make_clips(domain, n_real, frames=frames, size=64, seed=seed + 100)
    real_factors, names = video_factors(real.video, domain)
    scale = identity_scale(real_factors, names)
    videos, curves, seconds = {"real": real.video[:4]}, {"real": drift_curves(real.video, domain, scale=scale)}, {}
    for label, (method, levels) in METHODS.items():
        out = long_video(video_generator, frames, method, seed=seed, videos=n_videos, levels=levels)
        curves[label] = drift_curves(out["video"], domain, scale=scale, w=out["w"], motion=video_generator.motion)
        videos[label], seconds[label] = out["video"][:4], sum(out["seconds"].values())  # keep 4 to show
    return videos, curves, seconds


faces_videos, faces_curves, faces_seconds = generate_all(faces, "faces")
show_videos([v[0] for v in faces_videos.values()], titles=list(faces_videos), fps=16)

# %% [markdown]
# Frames 15 (the last one trained), 31, 63, 127 and 255 (as far as this run goes; frames count
# from 0) of the first video of each method, and of a real toy clip of the same length:

# %%
def strips(videos, title):
    rows = list(videos)
    images = torch.stack([videos[r][0, f] for r in rows for f in marks])
    fig = show_images(images, titles=[f"{r}, frame {f}" for r in rows for f in marks], columns=len(marks),
                      size=1.5, suptitle=title)
    plt.show()
    return fig


strips(faces_videos, "faces: the first video of each method");

# %% [markdown]
# ## 3. Drift, frame by frame
#
# Four measures (`mocohd.metrics.long_sequences`), each a curve per clip, 0 at frame 0:
#
# - **W distance**: $\lVert (w_t - w_0)\,\mathrm{PC}^\top / \sigma \rVert$, how far the path is
#   from its start in σ along the motion generator's PCA directions. Two random faces lie about
#   14 σ apart in the faces model's 96 directions. Real clips have no path in W; the reference is
#   the farthest any `unroll` path got within its 16 training frames.
# - **identity drift**: $\frac{1}{|I|}\sum_{i \in I} |f_{i,t} - f_{i,0}| / s_i$ over the identity
#   factors $I$ (skin, hair, face shape; sky colours) that the toy feature network reads off each
#   frame, $s_i$ the spread of factor $i$ over real clips (1: another clip's identity). Real
#   clips' identities never change, yet their curve is not 0: the network reads a turned head's
#   skin a little differently.
# - **motion per frame**: $\frac{1}{|M|}\sum_{m \in M} |f_{m,t} - f_{m,t-1}|$ over the motion
#   factors (eyes, mouth, yaw, pitch); the sky's motion is not readable from one frame, so for the
#   sky it is the **pixel step** $\overline{|x_t - x_{t-1}|}$ (measured for every domain).
# - **colour drift**: $\frac13\sum_c |\bar x_{c,t} - \bar x_{c,0}|$, the mean colour's change.
#
# The real range at frame $t$ (`real_band`): the $1-q$ to $q$ quantiles of the real clips' values
# over frames $1..t$ (pooled over frames, steadier than 16 values at one frame). A method
# **leaves** it at the first frame where its median clip is out for 3 frames in a row
# (`leaves_range`). Drift measures leave upwards; motion can also leave downwards (a stall).

# %%
MEASURES = {"w_sigma": "W distance from w_0 (σ)", "identity": "identity drift (real spread)",
            "motion_step": "motion factors per frame", "pixel_step": "pixel change per frame",
            "colour": "mean-colour drift"}
DRIFTS = ("w_sigma", "identity", "colour")  # leave upwards only


def bands_of(curves):
    bands = {m: real_band(curves["real"][m], quantile) for m in curves["real"]}
    bands = {m: (None if m in DRIFTS else lo, hi) for m, (lo, hi) in bands.items()}
    bands["w_sigma"] = (None, curves["unroll"]["w_sigma"][:, :train_frames].max())  # the trained reach
    return bands


def plot_drift(curves, title):
    bands, shown = bands_of(curves), [m for m in MEASURES if m in curves["unroll"]]
    fig, axes = plt.subplots(1, len(shown), figsize=(3.6 * len(shown), 3))
    for ax, m in zip(axes, shown):
        lo, hi = bands[m]
        hi = hi.expand(frames) if hi.dim() == 0 else hi
        ax.fill_between(range(frames), 0 if lo is None else lo, hi, color="0.85", label="real range")
        if m in curves["real"]:
            ax.plot(median_clip(curves["real"][m]), "k--", lw=1, label="real (median)")
        for i, label in enumerate(METHODS):
            ax.plot(median_clip(curves[label][m]), color=f"C{i}", lw=1.2, label=label)
        ax.axvline(train_frames - 1, color="0.5", lw=0.8, ls=":")
        ax.set_title(MEASURES[m], fontsize=9), ax.set_xlabel("frame")
    axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    fig.suptitle(title)
    fig.tight_layout()
    plt.show()


plot_drift(faces_curves, f"faces: median of {n_videos} videos; dotted: the 16 training frames")

# %% [markdown]
# ## 4. Where each method breaks down
#
# The frame (counted from 0) at which each method's median video leaves the real range (— : never,
# within these frames), and in brackets the share of frames from 1 on that it spends outside it:

# %%
# NBVAL_CHECK_OUTPUT
def breakdown_table(curves, name):
    bands, rows = bands_of(curves), {}
    shown = [m for m in MEASURES if m in curves["unroll"]]
    print(f"{name}: {'':14s}" + "".join(f"{m:>17s}" for m in shown))
    for label in METHODS:
        first = breakdown_frames(curves[label], bands)
        share = {m: share_out(curves[label][m], upper=bands[m][1], lower=bands[m][0]) for m in shown}
        rows[label] = {"first": first, "share": share}
        cells = [f"{'—' if first[m] is None else first[m]:>8} ({share[m]:4.0%})" for m in shown]
        print(f"{'':{len(name) + 2}s}{label:14s}" + "".join(f"{c:>17s}" for c in cells))
    return rows


faces_rows = breakdown_table(faces_curves, "faces")


def kept_motion(curves, measure):
    """Motion per frame in the last quarter of the video over that in frames 1-15 (median clip)."""
    ratio = {}
    for label, c in curves.items():
        median = median_clip(c[measure])
        ratio[label] = (median[-frames // 4:].mean() / median[1:train_frames].mean()).item()
    return ratio


faces_kept = kept_motion(faces_curves, "motion_step")
print("motion per frame in the last quarter / in frames 1-15:",
      ", ".join(f"{k} {v:.2f}" for k, v in faces_kept.items()))

# %% [markdown]
# **What the numbers say** (full mode, seed 0: 8 videos of 256 frames per method, 16 real clips;
# one thread). **Unrolled**, the faces model's path leaves the distance its 16 training frames
# reached (9.4 σ) at frame 17 and keeps going at about 0.55 σ per frame, to 142 σ by frame 255,
# ten times the distance between two random faces. Identity drift leaves the real clips' range
# at **frame 64**: in the strips the face at frame 63 is already a different, smeared face, by
# frame 127 it is dissolving into blobs of colour, and at frame 255 nothing of a face is left. Mean colour goes first, at frame 6, inside the training
# length: real toy faces keep their mean colour within 0.015 to 0.018 (95 % of values), the model's
# drifts 0.024 by frame 15. **Interpolation** stretches the same drift: one level of midpoints
# leaves the reach at frame 33, the identity range at 126 and the colour range at 26; two levels
# at 65, 251 and 44. Each level about doubles the breakdown frame because each frame moves half as
# far: it buys length by slowing the motion, and does not stop the drift.
#
# The model's motion is below the real range from the first frames for every method: notebook 05
# measured it at a third to a half of real clips' within 16 frames. That is not a long-sequence
# breakdown, so the motion column says more through its decline (last line above): unrolled, the
# motion per frame falls to 0.23 of its training-length size in the last 64 frames, as the faces
# dissolve into shapes the feature network no longer reads as eyes and mouths.

# %%
if mode == "full":
    assert faces_rows["unroll"]["first"]["identity"] is not None, "unroll's identity drift claim no longer holds"
    assert faces_rows["return"]["first"]["w_sigma"] is None, "return's W claim no longer holds"
    assert faces_rows["clamp"]["first"]["identity"] is None, "clamp's identity claim no longer holds"
    assert faces_kept["clamp"] < 0.5 < faces_kept["return"], "the motion claims no longer hold"

# %% [markdown]
# ## 5. The sky, and the cross-domain model
#
# The same measures for the shipped sky model (its motion is the pixel step), and, when its file
# exists, for the cross-domain model of notebook 06 (faces' motion over the animals generator,
# read as animals, next to real toy animals).

# %%
others = {"sky": (load_model(p["sky_checkpoint"])[0], "sky")}
if cross is not None:
    others["animals from faces"] = (load_model(cross)[0], "animals")
other_rows = {}
for name, (video_generator, domain) in others.items():
    videos, curves, _ = generate_all(video_generator, domain)
    plot_drift(curves, f"{name}: median of {n_videos} videos")
    strips(videos, f"{name}: the first video of each method")
    other_rows[name] = breakdown_table(curves, name)
    print("pixel change per frame in the last quarter / in frames 1-15:",
          ", ".join(f"{k} {v:.2f}" for k, v in kept_motion(curves, "pixel_step").items()))

# %% [markdown]
# **The sky** (full mode, the same settings). Its unrolled path drifts as fast as the faces'
# (140 σ by frame 255), but real skies drift too: the toy world's light follows a time-lapse, so
# over 256 frames a real sky changes its colours about as much as one sky differs from another
# (median identity drift 1.2 at frame 255, in units of the real skies' spread). Against that
# widening range the sky model leaves *early*, inside its training length: its colours change
# faster than a real sky's first frames (identity at frame 8, colour at 11, for `unroll`, `clamp`
# and `return` alike, which share their first 16 frames); unrolled, it stays out for 97 % of the
# frames, and in the strips it is a tangle of saturated colours by frame 127. Its motion does not
# last either: the pixel change per frame falls to 0.26 of its first frames' in the last quarter
# and leaves the real range downwards at frame 213. With one level of midpoints the sky leaves
# the identity range at frame 46 (out for 13 % of the frames) and never the colour range; with
# two it leaves neither, at the price of a motion per frame below real from frame 33.
#
# **The cross-domain model** (full mode, the same settings, read as toy animals beside real
# ones). It breaks down inside its training length already: its identity leaves the real range
# at frame 13 and its colour at frame 1 (its animals' colours drift from the first frames on,
# notebook 06), for every method that shares the first frames. Unrolled, W leaves the 16-frame
# reach at frame 21 and the identity stays out for 95 % of the frames; one and two levels of
# midpoints move the identity breakdown to frames 26 and 53. `return` keeps W in reach and its
# identity out for only 20 % of the frames, and is the only method whose motion lasts (pixel
# change in the last quarter 1.12 of its first frames', against 0.31 unrolled).

# %% [markdown]
# ## 6. The fixes, and writing long videos
#
# **Which fix holds** (full mode, faces and sky, 256 frames):
#
# | left the real range at frame | W (σ) | identity | colour | motion per frame, last quarter / frames 1-15 |
# |---|---|---|---|---|
# | faces `unroll` | 17 | 64 | 6 | 0.23 |
# | faces `interpolate` ×1 / ×2 | 33 / 65 | 126 / 251 | 26 / 44 | 0.39 / 0.51 |
# | faces `clamp` | — | — | 6 (96 % of frames out) | 0.19 |
# | faces `return` | — | — | 6 (28 % of frames out) | 1.04 |
# | sky `unroll` | 17 | 8 (97 %) | 11 (46 %) | 0.26 |
# | sky `clamp` / `return` | — / — | 8 (11 %) / 8 (4 %) | 11 (4 %) / 11 (3 %) | 0.24 / 0.98 |
#
# `clamp` stops the drift where its path stood at frame 15: identity stays in range and W within
# reach, but the motion per frame falls to a fifth of its 16-frame size. The path presses
# against the edge of its ball and the video freezes: it **fails** on motion. `return` **holds**
# on every measure the model held within 16 frames: over 256 frames its identity never leaves the
# real faces' range, W stays within the reach, the motion keeps its training-length size, and
# the colour drift, out of the real faces' narrow range from frame 6 as in every method, comes back
# every 30 frames (out 28 % of the frames against 98 % unrolled). Its price is visible: every 30
# frames the face comes back to its first frame, and it repeats the model's 16-frame motions.
#
# `mocohd.generate` writes any of the methods to a file, with a progress bar while it renders;
# the notebook and the command call the same `long_video` and `write_long_video`:
#
# ```bash
# python -m mocohd.generate data/checkpoints/faces_motion.pt --frames 256 --method unroll --out video.mp4 --seed 0
# python -m mocohd.generate data/checkpoints/faces_motion.pt --frames 256 --method return --out video.mp4 --gif --scale 2
# ```
#
# **Cost.** Generating 256 frames of one faces video took 5.7 to 6.2 s on one thread of this
# 2-core CPU (four runs: `unroll` twice, `interpolate`, `return`; 0.03 s of it the LSTM's path,
# the rest rendering 64 px frames through $G_I$) while two training runs shared the machine; the
# whole command, with loading the model and writing the mp4, 9.3 to 11 s.

# %%
start = time.perf_counter()
one = long_video(faces, frames, "unroll", seed=seed)
print(f"{frames} frames of one faces video: {time.perf_counter() - start:.1f} s "
      f"(path {one['seconds']['path']:.2f} s), PyTorch threads: {torch.get_num_threads()}")
written = write_long_video(p["out_dir"] / "faces_unroll.mp4", one["video"][0], fps=16, gif=True)
written += write_long_video(p["out_dir"] / "faces_return.mp4", faces_videos["return"][:4], fps=16)
print("wrote", ", ".join(str(w.name) for w in written))
assert all(w.stat().st_size > 0 for w in written)

# %% [markdown]
# ## Recap
# - Nothing in the LSTM fixes the length: unrolling adds one residual step per frame for as
#   long as asked; interpolation unrolls fewer keyframes and puts W midpoints between them.
# - Every 2^levels-th interpolated frame is a frame the LSTM drew; midpoints halve the motion
#   per frame, and the path drifts just as far per keyframe.
# - Unrolled, the faces model leaves its 16-frame reach in W at frame 17 and the real identity
#   range at frame 64; by frame 127 its faces are blobs. Its colours drift past real faces' by frame 6.
# - Each level of midpoints about doubles the breakdown frame (identity 64 → 126 → 251) by halving
#   the motion per frame: it slows the drift and does not stop it.
# - `clamp` (not in the paper) stops the drift by holding $w_t$ within its 16-frame reach, and with
#   it the motion: the video freezes at the edge of that ball.
# - `return` (not in the paper) keeps every frame on a 16-frame path from $w_0$: identity and W
#   stay in range over 256 frames and the motion keeps its training-length size; the video comes
#   back to its first frame every 30 frames.
# - `python -m mocohd.generate CHECKPOINT --frames 256 --method unroll|interpolate|clamp|return`
#   writes the video (mp4 or GIF); 256 frames take seconds on a CPU.
#
# ## Exercises
# 1. `return` comes back to exactly $w_0$ every 30 frames. Change `out_and_back` in
#    `mocohd/generate.py` so each spoke turns back at a random frame between 8 and 15: does the
#    period become less visible, and do the drift curves stay in range?
# 2. Train a motion generator on 32-frame clips (`python -m mocohd.train video --preset full
#    --frames 32 --steps 200 --out runs/long32`) and run section 4 on it: does the breakdown frame
#    move as far as the training length?
# 3. Try `clamp` with the reach of the *real* clips instead: a ball of the radius at which
#    `unroll` leaves the identity range (section 4). Does it keep more motion?
# 4. Set `quantile = 1.0` (the real clips' min to max): which breakdown frames move, and by how much?
# 5. The LSTM state after 200 steps: record $|h_t|$ and $|c_t|$ in a copy of `unroll` and plot
#    them; does the state saturate where the motion per frame falls?
# 6. Run section 5 on `data/checkpoints/faces_blinks_motion.pt` (domain `faces_big_eyes_blinks`):
#    does a model that blinks keep blinking past frame 16 under `unroll` and under `return`?
