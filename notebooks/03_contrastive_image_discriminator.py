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
# # 03 · The contrastive image discriminator
#
# In the **cross-domain** setting of MoCoGAN-HD (e.g. FFHQ faces animated with VoxCeleb
# motion) no real video shows the content the image generator makes, so an image
# discriminator cannot compare generated frames with real ones. The paper's answer is an
# image discriminator that never sees a dataset image: it compares **generated frame k**
# with **generated frame 0** (a plain image-generator sample), and it is trained with an
# extra **contrastive** task, telling two randomly augmented views of the same image apart from
# every other image. Its projection head then encodes *what* is in an image, and the motion
# generator is asked to keep frame k's projection close to frame 0's (feature matching).
#
# **What you will learn**
# - the `warp` augmentations that make the two views (border cutout, then flip, colour shift or affine);
# - the contrastive (InfoNCE) loss as the official code computes it, with a queue of negatives
#   from a momentum copy of the discriminator (MoCo);
# - the BigGAN-style residual discriminator with spectral norm and its two heads;
# - how to check that the projections really match two views of the same image: top-1
#   retrieval against chance, and a 2-D map of the embeddings.
#
# **What it costs** (2-core laptop CPU): `mode="smoke"` under a minute (30 training steps:
# every picture, not yet the result); `mode="full"` about 10 to 15 minutes (1000 steps at 32x32),
# where retrieval accuracy clearly beats the untrained network.

# %% tags=["parameters"]
mode = "smoke"  # "smoke": quick check of every cell; "full": the real run
seed = 0
size = 32  # frames the discriminator sees: 32 or 64 (CPU presets), 128 (paper)
domain = "faces"  # toy-world domain: faces, animals, sky, actions
steps = None  # training steps; None: 30 (smoke) or 1000 (full)
batch = None  # images per step; None: 16 (smoke) or 32 (full)
out_dir = "runs/03_contrastive_image_discriminator"

# %%
import math
from dataclasses import asdict

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import ListedColormap
from tqdm.auto import tqdm

from mocohd.augment import colour_shift, cutout_border, hflip_maybe, random_affine, warp
from mocohd.data.toyworld import DOMAINS, make_clips
from mocohd.contrastive_discriminator import build_contrastive_discriminator
from mocohd.discriminators import DiscriminatorConfig
from mocohd.losses import feature_matching_loss, hinge_d_loss, pairwise_cosine
from mocohd.params import by_mode, validate
from mocohd.train.checkpoint import rng_state, save_checkpoint
from mocohd.viz import plot_losses, show_images

p = validate(mode, seed, out_dir, size=size)
if domain not in DOMAINS:
    raise ValueError(f"domain={domain!r} is not a toy-world domain; use one of {DOMAINS}")
cfg = DiscriminatorConfig.for_size(size)  # 32 -> smoke preset, 64 -> full, 128 -> paper
steps = steps or by_mode(mode, 30, 1000)
batch = batch or by_mode(mode, 16, 32)
n_train, n_test = by_mode(mode, (256, 64), (2048, 256))
g = torch.Generator().manual_seed(seed)  # drives every augmentation and batch choice below
print(f"mode={mode}: {steps} steps of {batch} images at {size}x{size}; discriminator {cfg}")

# %% [markdown]
# ## The data: toy clips stand in for generated ones
#
# In the paper both frames come from the generator: frame 0 from the frozen image
# generator, frame k after the motion generator has moved its latent code. We have not
# trained a motion generator yet (that is notebook 05), so toy-world clips play the role of
# generated clips: frame 0 is the "real" set, a random frame k the "fake" set. Held-out clips
# (another seed) are used to test the embedding.

# %%
train_clips = make_clips(domain, n_train, frames=8, size=size, seed=seed).video  # (N, T, 3, H, W)
test_images = make_clips(domain, n_test, frames=8, size=size, seed=seed + 1000).video[:, 0]  # (N, 3, H, W)
show_images(train_clips[:2].flatten(0, 1), columns=8, suptitle="two toy clips: frame 0 ... frame 7")
plt.show()

# %% [markdown]
# ## The two views: `warp`
#
# Each view of an image is made by `warp` (per image, independently):
# 1. always a **cutout**: a square of side $r\cdot H$, $r\sim U(0.125, 0.25)$, zeroed within the outer
#    quarter of one of the four borders (the centre, where the object is, mostly survives);
# 2. then, with probability 1/3 each: a **horizontal flip** (itself with p = 1/2); a **colour
#    shift** $c\sim U(-0.5, 0.5)$ added to all channels or to one of R, G, B; or an **affine warp**
#    (rotation $U(-180°, 180°)$, shift $U(-0.1, 0.1)$, scale $U(0.95, 1.05)$, reflection padding).
#
# Below, each row applies one ingredient to the same four images; the last two rows are
# two full `warp` views: the pair the discriminator must recognise as the same image.

# %%
originals = test_images[:4]
rows = {
    "original": originals,
    "cutout": torch.stack([cutout_border(x, generator=g) for x in originals]),
    "flip (p=1/2)": torch.stack([hflip_maybe(x, generator=g) for x in originals]),
    "colour shift": torch.stack([colour_shift(x, generator=g) for x in originals]).clamp(-1, 1),
    "affine": torch.stack([random_affine(x, generator=g) for x in originals]),
    "warp: view 1": warp(originals, g).clamp(-1, 1),
    "warp: view 2": warp(originals, g).clamp(-1, 1),
}
show_images(torch.cat(list(rows.values())), columns=4,
            titles=[name if i % 4 == 0 else "" for name in rows for i in range(4)])
plt.show()

# %% [markdown]
# ## The contrastive loss, in pictures
#
# For a batch of $B$ images the discriminator projects two views to $L_1, L_2$ ($B\times d$).
# The official loss (`get_cntr_loss_cross_domain`) builds a matrix of cosine similarities with
# **queries** $[L_1; L_2]$ ($2B$ rows) and **keys** $[L_1; L_2; Q]$, where $Q$ is a queue of
# projections from earlier steps. Each similarity is divided by the temperature $\tau=0.07$,
# except a query's similarity with itself, which is *multiplied by 0*: it stays in the softmax
# as a constant logit 0 (it is not removed). The positive of row $i$ is the other view of the
# same image:
#
# $$\ell_i = -\log\frac{e^{s_{i,\,i\pm B}/\tau}}{e^{0} + \sum_{j\ne i} e^{s_{ij}/\tau}},\qquad
#   \mathcal L_\text{cntr} = \tfrac{1}{2B}\textstyle\sum_i \ell_i .$$
#
# It is computed once for the "real" set (frame 0, with its own queue) and once for the
# "fake" set (frame k, with the other queue), and the discriminator minimises
# hinge + 2 x (real + fake contrastive loss). Here is the layout of the logits for $B=4$
# and a queue of 6:

# %%
B_demo, Q_demo = 4, 6
kind = torch.full((2 * B_demo, 2 * B_demo + Q_demo), 2)  # 2: negative
kind[:, 2 * B_demo:] = 3  # 3: negative from the queue
rows_demo = torch.arange(2 * B_demo)
kind[rows_demo, rows_demo] = 0  # 0: self, logit fixed at 0
kind[rows_demo, (rows_demo + B_demo) % (2 * B_demo)] = 1  # 1: positive, the other view
colours = ListedColormap(["lightgrey", "tab:green", "tab:red", "tab:orange"])
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.imshow(kind, cmap=colours, vmin=0, vmax=3)
ax.set_xticks(range(2 * B_demo + Q_demo), [f"L1[{i}]" for i in range(B_demo)] + [f"L2[{i}]" for i in range(B_demo)]
              + [f"q{i}" for i in range(Q_demo)], rotation=90, fontsize=7)
ax.set_yticks(range(2 * B_demo), [f"L1[{i}]" for i in range(B_demo)] + [f"L2[{i}]" for i in range(B_demo)], fontsize=7)
ax.set_title("grey: self (logit 0)   green: positive   red: negatives   orange: queue", fontsize=8)
plt.show()

# %% [markdown]
# ## The discriminator
#
# A BigGAN residual discriminator: blocks of two 3x3 convolutions with a 2x average-pool and a
# 1x1 shortcut, ReLU, then a **sum** over the spatial positions, a shared linear layer `proj0`,
# and two heads: the GAN score `linear` (1 number) and the projection head
# `proj2(ReLU(proj1(h)))` (256 numbers in the paper). Every convolution and linear layer is
# wrapped in **spectral norm**, which bounds how fast the score can change with its input.
# At 128x128 (the paper) the blocks widen 3 -> 96 -> ... -> 1536; our CPU presets keep the design
# with a smaller base width. (The paper-size network is built on PyTorch's `meta` device: shapes only, no memory.)

# %%
# NBVAL_CHECK_OUTPUT
def describe(d):
    blocks = [(b.conv1.in_channels, b.conv2.out_channels, b.downsample) for (b,) in d.modelD.blocks]
    n_params = sum(p.numel() for p in d.modelD.parameters())
    return f"{len(blocks)} blocks (in, out, pool): {blocks}\n  projection {d.modelD.proj1.in_features}-d, {n_params:,} parameters"


with torch.device("meta"):
    paper_d = build_contrastive_discriminator(DiscriminatorConfig.preset("paper"), batch_size=16)
print("paper, 128x128:", describe(paper_d))
torch.manual_seed(seed)
D = build_contrastive_discriminator(cfg, batch_size=batch)
print(f"ours, {size}x{size}:", describe(D))
out, proj = D(torch.zeros(2, 3, size, size))
print("output", tuple(out.shape), "projection", tuple(proj.shape))

# %% [markdown]
# ## The momentum copy and the queues
#
# A contrastive loss works better with many negatives than a batch holds. MoCo's trick, used
# here: keep a **queue** of projections from past steps, computed by a slowly moving
# **momentum copy** of the discriminator (`modelD_ema`), updated after each step as
# $\theta_k \leftarrow m\,\theta_k + (1-m)\,\theta_q$ with $m = 0.999$. Its projections change
# slowly, so old queue entries stay comparable with new ones, and they need no gradient.
# The queues (one for frame-0 "real", one for frame-k "fake") hold `q_len` rows and share one
# pointer that wraps around:

# %%
print(f"queue length {D.q_len} (q_len {cfg.q_len} rounded down to a multiple of the batch {batch}); pointer {int(D.q_ptr)}")

# %% [markdown]
# ## A brief training
#
# One step, as the official `D_step`/`G_step` do it: the momentum copy projects a warped view of
# frame 0 and of frame k into the queues (in the paper this happens in the generator steps);
# then the online discriminator scores two fresh views of each set; the loss is
# $\text{hinge} + 2\,\mathcal L_\text{cntr}$; Adam with $\beta=(0, 0.999)$, $\epsilon=10^{-6}$;
# finally the momentum update. We use lr $2\cdot10^{-4}$ (paper $10^{-4}$) to see more in a short run.
#
# The toy frame k is as realistic as frame 0, so the hinge terms have nothing to find and stay
# near 2; in the real method frame k comes from the motion generator and can drift away from
# the image generator's images. Watch the contrastive term.

# %%
untrained = D.modelD.clone()
opt = torch.optim.Adam(D.modelD.parameters(), lr=2e-4, betas=(0.0, 0.999), eps=1e-6)
log = {"step": [], "hinge": [], "contrastive": []}
for step in tqdm(range(steps)):
    clips = train_clips[torch.randint(len(train_clips), (batch,), generator=g)]
    k = int(torch.randint(1, clips.shape[1], (), generator=g))
    real, fake = clips[:, 0], clips[:, k]  # (B, 3, H, W) each
    with torch.no_grad():
        D.enqueue(D(warp(real, g), ema=True, proj_only=True), D(warp(fake, g), ema=True, proj_only=True))
    score_r, real1 = D(warp(real, g))
    _, real2 = D(warp(real, g))
    score_f, fake1 = D(warp(fake, g))
    _, fake2 = D(warp(fake, g))
    hinge = hinge_d_loss(score_r, score_f)
    cntr = D.contrastive_loss(real1, real2, fake1, fake2)
    opt.zero_grad()
    (hinge + 2.0 * cntr).backward()
    opt.step()
    D.momentum_update()
    for key, value in (("step", step), ("hinge", hinge.item()), ("contrastive", cntr.item())):
        log[key].append(value)
plot_losses(log, smooth=max(1, steps // 20), title="discriminator losses")
plt.show()
assert all(math.isfinite(v) for v in log["hinge"] + log["contrastive"]), "a loss became NaN or infinite"

# %% [markdown]
# The contrastive loss starts near $2\log(2B + \text{queue})$ (two sets, no idea which key is
# the positive) and falls as the projections learn to recognise an image through its augmentations.
#
# ## Do two views of one image land together?
#
# On held-out images we make two views each and, for every view 1, look for the most similar
# view 2 among all of them (cosine similarity of projections). **Top-1 retrieval accuracy** is
# how often that is the other view of the same image; chance is $1/N$. An untrained network
# already does better than chance (the views share colours and layout), so it is the baseline to beat.

# %%
views1, views2 = warp(test_images, g), warp(test_images, g)


@torch.no_grad()
def retrieval(net):
    net.eval()
    sims = pairwise_cosine(net(views1, proj_only=True), net(views2, proj_only=True))  # (N, N)
    net.train()
    return (sims.argmax(1) == torch.arange(len(sims))).float().mean().item(), sims


results = {name: retrieval(net) for name, net in
           (("untrained", untrained), ("trained (online)", D.modelD), ("momentum copy", D.modelD_ema))}
chance = 1 / len(test_images)
print(f"chance: {chance:.3f}")
for name, (acc, _) in results.items():
    print(f"{name:>18}: top-1 retrieval {acc:.3f}")

assert results["trained (online)"][0] > chance, "retrieval should beat chance"
if mode == "full":  # the claim of this notebook, checked where the run is long enough to make it
    assert results["trained (online)"][0] > results["untrained"][0] + 0.2, "training should clearly improve retrieval"

fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
for ax, name in zip(axes, ("untrained", "trained (online)")):
    im = ax.imshow(results[name][1][:32, :32], vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set(title=name, xlabel="view 2 of image j", ylabel="view 1 of image i")
fig.colorbar(im, ax=axes, shrink=0.8)
fig.suptitle("cosine similarity of the projections of view 1 and view 2 (32 held-out images)")
plt.show()

# %% [markdown]
# A bright diagonal means each view is most similar to the other view of the same image
# (in our full run: top-1 retrieval 0.94 for the trained network, 0.63 for its momentum copy,
# 0.47 untrained, chance 0.004).
# The untrained network maps every image to nearly the same direction (its features are sums of
# ReLUs, all positive): cosines near 1 everywhere, and its retrieval rests on tiny differences.
# The momentum copy trails the online network: with $m = 0.999$ it has moved only
# $1 - 0.999^{\text{steps}}$ of the way (about 26% after 300 steps, 63% after 1000), which is the point:
# it is a slow, stable encoder for the queue.
#
# ## The embedding, in 2-D
#
# Twelve views each of eight held-out images, projected and reduced to two dimensions with
# PCA (on unit-normalised projections, since the loss only sees directions). Each colour is
# one image: after training, the views of one image form a cluster.

# %%
@torch.no_grad()
def embed_views(net, images, n_views=12):
    net.eval()
    views = torch.cat([warp(images, g) for _ in range(n_views)])  # (n_views * n, 3, H, W)
    z = torch.nn.functional.normalize(net(views, proj_only=True), dim=1)
    net.train()
    z = z - z.mean(0)
    _, _, v = torch.linalg.svd(z, full_matrices=False)
    return (z @ v[:2].T).view(n_views, len(images), 2)


fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, (name, net) in zip(axes, (("untrained", untrained), ("trained", D.modelD))):
    xy = embed_views(net, test_images[:8])
    for i in range(8):
        ax.scatter(xy[:, i, 0], xy[:, i, 1], color=f"C{i}", s=14)
    ax.set_title(name)
fig.suptitle("PCA of the projections of 12 views per image (colour = image)")
plt.show()

# %% [markdown]
# ## What the generator does with it: feature matching
#
# In the cross-domain generator step the motion generator adds
# $\mathcal L_\text{match} = -\overline{\cos}(\text{proj}(\text{warp}(x_k)), \text{proj}(\text{warp}(x_0)))$
# (weight 1, or 5 for FFHQ): frame k should keep frame 0's content. Here it is on held-out clips,
# for the true pairs (frame k and frame 0 of the same clip) and for mismatched pairs: the
# trained projection separates them far more clearly.

# %%
test_clips = make_clips(domain, 64, frames=8, size=size, seed=seed + 2000).video
first, later = warp(test_clips[:, 0], g), warp(test_clips[:, 5], g)
with torch.no_grad():
    for name, net in (("untrained", untrained), ("trained", D.modelD)):
        net.eval()
        p0, pk = net(first, proj_only=True), net(later, proj_only=True)
        net.train()
        same = feature_matching_loss(pk, p0).item()
        other = feature_matching_loss(pk.roll(1, 0), p0).item()
        print(f"{name:>10}: L_match same clip {same:+.3f}   other clip {other:+.3f}")
if mode == "full":
    assert other > same + 0.3, "the trained projection should tell same-clip pairs from other-clip pairs"

# %%
path = save_checkpoint(p["out_dir"] / "contrastive_d.pt", {
    "format": "mocohd.contrastive_image_discriminator", "version": 1,
    "config": {**asdict(cfg), "batch_size": batch, "domain": domain},
    "state_dicts": {"d_img": D.state_dict()}, "step": steps, "rng": rng_state()})
print("saved", path)

# %% [markdown]
# ## Recap
#
# - The cross-domain image discriminator compares generated frame k with generated frame 0;
#   dataset images never reach it.
# - Its extra task is contrastive: two `warp` views of an image should project close together,
#   away from other images and from a queue of projections by a momentum copy ($m=0.999$).
# - The official loss keeps each query's self-similarity in the softmax as a constant logit 0 and
#   uses temperature 0.07; the real and fake sets each have their own queue.
# - The trained projection recognises an image through strong augmentations (retrieval far above
#   chance and above an untrained network), which the generator's feature-matching loss then uses
#   to keep content fixed over time.
#
# ## Exercises
#
# 1. Set the self-similarity logit to $-\infty$ (mask it out) instead of 0 in
#    `mocohd.losses.contrastive_loss`. Does retrieval change? Why might the official choice matter little?
# 2. Train with an empty queue (`cfg.with_(q_len=batch)`) and compare retrieval: how much do the extra negatives help?
# 3. Remove the affine branch from `warp` (only cutout, flip, colour). Which pairs become too easy, and what happens to the PCA plot?
# 4. Try `temperature` 0.5 and 0.02 (`D.temperature`). What does a high temperature do to the gradient of easy negatives?
# 5. Run at `size=64` (the `full` preset): is the retrieval accuracy better for the same number of steps?
