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
# # 01 · The image generator: StyleGAN2 in plain PyTorch
#
# MoCoGAN-HD makes a video by walking through the latent space of a **pre-trained, frozen
# image generator** $G_I$. The paper uses StyleGAN2 (rosinality's PyTorch port); so does this
# series, rebuilt in plain PyTorch so that it runs on a CPU. Everything later in the series
# (motion, discriminators, training) stands on the generator of this notebook, so we open it
# up piece by piece.
#
# **In this notebook you will**
#
# 1. build the generator from its parts, checking each part's shapes: equalized learning rate,
#    pixel norm and the mapping network, the modulated convolution with demodulation, noise
#    injection, styled convolutions, to-RGB skips, the constant input; the blur kernel
#    (upfirdn2d); then the whole synthesis network and its parameter count;
# 2. meet the residual discriminator with its minibatch standard deviation;
# 3. train a generator for a short while on toy faces, with loss curves and samples;
# 4. load the shipped generators of the four toy domains and play with them: truncation,
#    style mixing, interpolation in $W$, and an explorer of the principal directions of $W$
#    (which is exactly what the motion generator will move along);
# 5. compare the paper's configuration with the CPU one.
#
# **What it costs** (2-core laptop CPU): `mode = "smoke"` trains a tiny 32x32 generator for
# 30 steps (30-80 s, depending on what else the machine runs), and the whole notebook takes
# 2-3 minutes (139 s measured while other work shared the 2 cores). `mode = "full"` trains
# the shipped 64x64 configuration for 1,200 steps on toy faces (the recipe of the shipped
# checkpoints), which is almost all of its time: on the development machine (busy, no AMX)
# `make bench` timed a step at 2.0 s in fp32 and 4.3 s with bf16 (appendix A2 says why), so
# about 40 minutes in fp32 and 85 in bf16 there (the preset's `"auto"` times both at the start
# and keeps the faster); on an Intel CPU with AMX, bf16 steps took 0.7 s (15 minutes). Both modes use the shipped checkpoints in
# `data/checkpoints/` for sections 9 to 14.

# %% tags=["parameters"]
mode = "smoke"  # "smoke": quick check of every cell (what the tests run); "full": a real training run
seed = 0  # the same seed gives the same samples and numbers
domain = "faces"  # toy-world domain trained in section 8: faces, animals, sky, actions
steps = None  # image-GAN training steps; None: 30 (smoke) or 1200 (full)
bf16 = None  # bf16 autocast for the training run; None: the preset's ("auto": the faster of the two, timed here); True / False
checkpoint = "data/checkpoints/faces_64.pt"  # the generator explored in sections 10-14 (mocohd image-GAN checkpoint)
pca_path = None  # its PCA of W (*.pca.pt); None: the file beside the checkpoint, else fitted here
gallery = {  # one generator per toy domain, shown side by side in section 9
    "faces": "data/checkpoints/faces_64.pt",
    "animals": "data/checkpoints/animals_64.pt",
    "sky": "data/checkpoints/sky_64.pt",
    "actions": "data/checkpoints/actions_64.pt",
}
out_dir = "runs/notebooks/01_image_generator"  # relative paths are taken from the repository root

# %%
from mocohd import params
from mocohd.data.toyworld import DOMAINS

if domain not in DOMAINS:
    raise ValueError(f"domain={domain!r} is not a toy-world domain; use one of {DOMAINS}")
if not isinstance(gallery, dict) or not gallery:
    raise ValueError(f"gallery must be a dict {{name: checkpoint path}}, got {gallery!r}")
p = params.validate(mode, seed, out_dir, checkpoint=checkpoint, pca_path=pca_path,
                    **{f"gallery[{name!r}]": path for name, path in gallery.items()})
gallery = {name: p[f"gallery[{name!r}]"] for name in gallery}
if bf16 not in (None, True, False):
    raise ValueError(f"bf16 must be None (the preset's setting), True or False, got {bf16!r}")
steps = steps or params.by_mode(mode, 30, 1200)
preset = params.by_mode(mode, "smoke", "full")
print(f"mode={mode}: training {steps} steps of the {preset!r} image preset on toy {domain}"
      + ("" if bf16 is None else f", bf16={bf16}"))

# %%
import math
import shutil
import time

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

from mocohd.config import image_preset
from mocohd.data.toyworld import make_clips
from mocohd.image_generator import Discriminator, Generator, MappingNetwork
from mocohd.kernels import fused_leaky_relu, make_blur_kernel, upfirdn2d
from mocohd.layers import (ConstantInput, EqualLinear, ModulatedConv2d, NoiseInjection, PixelNorm, StyledConv,
                           ToRGB, Upsample)
from mocohd.pca import fit_w_pca, load_w_pca, pca_path_for
from mocohd.train.image_gan import ImageGANTrainer, load_generator
from mocohd.viz import image_grid, plot_losses, read_loss_csv, show_images, show_videos, slider_explorer


def n_params(module):
    return sum(t.numel() for t in module.parameters())


cfg = image_preset("full")  # the configuration of the shipped generators
print(f"shipped configuration: {cfg.size}px, style_dim {cfg.style_dim}, n_mlp {cfg.n_mlp}, "
      f"channel_multiplier {cfg.channel_multiplier}, channel_scale {cfg.channel_scale}")

# %% [markdown]
# ## 1. Equalized learning rate
#
# Adam divides each gradient by its own running RMS, so every parameter moves by about the
# learning rate per step, **whatever the size of its gradient**. With the usual He
# initialisation a layer with a large fan-in has small weights ($\sim 1/\sqrt{\text{fan\_in}}$),
# so the same absolute step is a much larger *relative* change for it than for a layer with a
# small fan-in: some layers learn much faster than others.
#
# StyleGAN's fix (from Progressive GAN): store the weights as $w \sim \mathcal N(0, 1)$ and
# multiply by the He constant **at every call**:
#
# $$\hat w = c\,w, \qquad c = \frac{1}{\sqrt{\text{fan\_in}}}$$
#
# (`EqualLinear.forward`: `F.linear(x, self.weight * self.scale)`). Every stored parameter now
# has scale 1, so one Adam step is the same relative change in every layer. Below: one Adam
# step (lr 0.01) on layers of growing fan-in, the mean relative change of the effective weight.

# %%
# NBVAL_CHECK_OUTPUT
def relative_change(layer, effective_weight, lr=0.01):
    """Mean |change| / mean |value| of the effective weight after one Adam step."""
    before = effective_weight(layer).detach().clone()
    x = torch.randn(256, layer.weight.shape[1])
    layer(x).square().mean().backward()
    torch.optim.Adam([layer.weight], lr=lr).step()
    return ((effective_weight(layer) - before).abs().mean() / before.abs().mean()).item()


torch.manual_seed(seed)
print("fan_in   equalized-lr   plain nn.Linear")
changes = []
for fan_in in (16, 128, 1024):
    eq = relative_change(EqualLinear(fan_in, 64), lambda m: m.weight * m.scale)
    plain = relative_change(torch.nn.Linear(fan_in, 64), lambda m: m.weight)
    changes.append((eq, plain))
    print(f"{fan_in:6d}   {eq:12.4f}   {plain:15.4f}")
assert max(c[0] for c in changes) < 1.2 * min(c[0] for c in changes), "equalized lr: the same relative step"
assert changes[-1][1] > 4 * changes[0][1], "plain layers: larger fan-in, larger relative step"

# %% [markdown]
# The equalized layers all change by about 1.25 % (= lr / E|w| with $w\sim\mathcal N(0,1)$);
# the plain ones by more the wider they are (8 times more for 64 times the fan-in:
# $\sqrt{64}$). mocohd uses equalized layers in the generator **and** the discriminator
# (`EqualLinear`, `EqualConv2d`); a prototype with a plain discriminator diverged at once.
#
# ## 2. Pixel norm and the mapping network
#
# The generator does not paint from the Gaussian $z$ directly. A **mapping network** $f$ first
# turns $z$ into a style code $w = f(z)$ in a space $W$ that is free to be shaped by the data
# (it need not be Gaussian), which makes $W$ better "disentangled" than $Z$. Its input is
# normalised to unit root-mean-square per sample (**pixel norm**):
#
# $$\mathrm{PixelNorm}(z) = z \Big/ \sqrt{\tfrac{1}{D}\textstyle\sum_i z_i^2 + \epsilon}$$
#
# followed by `n_mlp` equalized linear layers with leaky ReLU. They use a **learning-rate
# multiplier** $\lambda = 0.01$: the weight is stored as $w/\lambda$ and multiplied by
# $\lambda c$ at each call (`EqualLinear(..., lr_mul=0.01)`), so an Adam step moves the effective
# weight 100 times less: $W$ changes slowly while the synthesis network learns to use it. The
# paper's generators have $D=512$ and 8 layers; the shipped CPU ones $D=128$ and 4.

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(seed)
mapping = MappingNetwork(cfg.style_dim, cfg.n_mlp, cfg.lr_mlp)
z = 3 * torch.randn(8, cfg.style_dim)  # (B, D), deliberately too large
normed = PixelNorm()(z)
print("z", tuple(z.shape), "-> pixel norm, rms per sample:", [round(v, 3) for v in normed.pow(2).mean(1).sqrt()[:4].tolist()])
print("mapping network:", [type(m).__name__ for m in mapping])
print("w = f(z):", tuple(mapping(z).shape), f"| {n_params(mapping):,} parameters, lr_mul {mapping[1].lr_mul}")

# %% [markdown]
# ## 3. The modulated convolution, with demodulation
#
# Each convolution of the synthesis network is *styled* by $w$. An affine layer (`modulation`,
# an `EqualLinear` with bias initialised to 1) turns $w$ into one scale $s_i$ per input channel.
# StyleGAN2 folds the style into the weights of a 3x3 convolution $w_{oik}$ (output $o$, input
# $i$, tap $k$):
#
# $$\text{modulate:}\quad w'_{oik} = s_i \, w_{oik} \qquad\qquad
#   \text{demodulate:}\quad w''_{oik} = \frac{w'_{oik}}{\sqrt{\sum_{i,k} {w'_{oik}}^2 + \epsilon}}$$
#
# Demodulation rescales each output filter to unit norm, so for unit-variance inputs the output
# has unit variance again: it does the job of StyleGAN1's AdaIN instance normalisation without
# normalising the *activations* (the cause of StyleGAN1's "droplet" artefacts).
#
# Since every sample has its own weights, the official code runs a **grouped convolution** with
# one group per sample (`fused=True`). Because convolution is linear in its input, the same result
# comes from **scaling the input, one shared convolution, and scaling the output**
# (`fused=False`, mocohd's default, `ModulatedConv2d._scaled`):
#
# $$y_o = \frac{1}{\sigma_o}\Big(w * (s \odot x)\Big)_o, \qquad
#   \sigma_o = \sqrt{\textstyle\sum_{i,k} (s_i\, w_{oik})^2 + \epsilon}$$
#
# The two agree to float precision:

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(seed)
scaled = ModulatedConv2d(64, 32, 3, style_dim=128)  # fused=False: scale, shared conv, scale
grouped = ModulatedConv2d(64, 32, 3, style_dim=128, fused=True)  # the official grouped conv
grouped.load_state_dict(scaled.state_dict())
x, w = torch.randn(4, 64, 16, 16), torch.randn(4, 128)  # (B, C_in, H, W), (B, D)
y_scaled, y_grouped = scaled(x, w), grouped(x, w)
print("x", tuple(x.shape), "w", tuple(w.shape), "-> y", tuple(y_scaled.shape))
print("the two forms agree (max |diff| < 1e-5):", (y_scaled - y_grouped).abs().max().item() < 1e-5)
up = ModulatedConv2d(64, 32, 3, style_dim=128, upsample=True)  # transposed conv + blur
print("with upsample=True:", tuple(up(x, w).shape))

# %% [markdown]
# What demodulation buys: scale the style by a factor and look at the output's standard
# deviation. Without demodulation the output grows with the style; with it, it does not
# move (and it stays near the input's 1.0): the style decides *which* features, not how loud.

# %%
# NBVAL_CHECK_OUTPUT
undemodulated = ModulatedConv2d(64, 32, 3, style_dim=128, demodulate=False)
undemodulated.load_state_dict(scaled.state_dict())
print("style x   std with demod   std without")
for factor in (0.5, 1.0, 4.0):
    with torch.no_grad():  # scale s = A(w) itself: patch the modulation's output
        s = scaled.modulation(w) * factor
        demod, raw = scaled._scaled(x, s), undemodulated._scaled(x, s)
    print(f"{factor:7.1f}   {demod.std().item():14.3f}   {raw.std().item():11.3f}")
    assert abs(demod.std().item() - 1) < 0.15

# %% [markdown]
# Which form is faster depends on the machine. `make bench` times both (forward + backward):
# on the 2-core development machine the two were within 20 % of each other at the shipped
# widths (64 and 128 channels), and the grouped form took 1.6 times as long at the paper's 512
# channels. So mocohd defaults to the scaled form; `Generator(..., fused_modconv=True)` switches.
#
# ## 4. Noise, styled convolutions, to-RGB and the constant input
#
# - **Noise injection** adds a per-pixel Gaussian map times a learned per-layer strength (zero
#   at the start): $y = x + \beta\,n,\ n\sim\mathcal N(0, 1)$. It gives the generator a source
#   of stochastic detail (hair, texture) that does not need to come from $w$. MoCoGAN-HD draws
#   one noise map per video and keeps it for every frame, so textures do not flicker.
# - A **styled convolution** is modulated conv, noise, then bias + leaky ReLU times $\sqrt 2$.
# - **to-RGB** is a 1x1 modulated conv to 3 channels *without* demodulation, added to the
#   upsampled RGB image so far: each resolution refines the picture ("skip" generator).
# - The synthesis starts from a **learned constant** 4x4 tensor; all variation enters through
#   the styles and the noise.

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(seed)
const, noise = ConstantInput(128), NoiseInjection()
conv4 = StyledConv(128, 128, 3, style_dim=128)
conv8 = StyledConv(128, 64, 3, style_dim=128, upsample=True)
rgb4, rgb8 = ToRGB(128, 128, upsample=False), ToRGB(64, 128)
w = torch.randn(2, 128)
h = const(2)  # (B, 128, 4, 4), the same for every sample
print("constant input      ", tuple(h.shape), f"{n_params(const):,} parameters")
print("noise strength at init:", noise.weight.item())
h = conv4(h, w)
image = rgb4(h, w)
print("styled conv 4x4     ", tuple(h.shape), "-> to-RGB", tuple(image.shape))
h = conv8(h, w)
image = rgb8(h, w, skip=image)  # upsampled 4x4 RGB + this layer's RGB
print("styled conv up 8x8  ", tuple(h.shape), "-> to-RGB + skip", tuple(image.shape))

# %% [markdown]
# ## 5. The kernels: upfirdn2d and the scaled leaky ReLU
#
# StyleGAN2 up- and downsamples with a low-pass filter, to avoid aliasing: **upfirdn2d** =
# *up*sample by inserting zeros, *FIR* filter, *down*sample by striding. The filter is the
# separable blur $k = \frac{1}{64}[1,3,3,1]^\top[1,3,3,1]$, times $\text{factor}^2$ when
# upsampling (the zeros dilute the image by that much). The official code compiles it as a CUDA
# kernel; `mocohd.kernels.upfirdn2d` is four tensor calls (zero insertion, pad, depthwise conv,
# stride), tested against a slow loop version.

# %%
face = make_clips("faces", 1, frames=1, size=32, seed=seed).video[:, 0]  # (1, 3, 32, 32)
blur = make_blur_kernel((1, 3, 3, 1))  # (4, 4), sums to 1
zeros_inserted = upfirdn2d(face, torch.tensor([[1.0]]), up=2, pad=(0, 1))  # zero insertion only
upsampled = Upsample()(face)  # upfirdn2d(face, 4 * blur, up=2, pad=(2, 1))
nearest = torch.nn.functional.interpolate(face, scale_factor=2, mode="nearest")
fig, axes = plt.subplots(1, 5, figsize=(12, 2.6))
axes[0].imshow(blur, cmap="viridis")
axes[0].set_title("blur kernel (x64)")
for (j, i), v in zip(torch.cartesian_prod(torch.arange(4), torch.arange(4)).tolist(), (blur * 64).flatten().tolist()):
    axes[0].text(i, j, f"{v:.0f}", ha="center", va="center", color="w", fontsize=8)
for ax, (title, img) in zip(axes[1:], [("input 32x32", face), ("zeros inserted 64x64", zeros_inserted),
                                       ("upfirdn2d: + blur", upsampled), ("nearest (for comparison)", nearest)]):
    ax.imshow(((img[0].permute(1, 2, 0).clamp(-1, 1) + 1) / 2).numpy(), interpolation="nearest")
    ax.set_title(title)
for ax in axes:
    ax.axis("off")
plt.show()
print("upsampled", tuple(upsampled.shape), "| mean kept:", f"{face.mean():.3f} -> {upsampled.mean():.3f}")

# %% [markdown]
# The activation is **bias + leaky ReLU (slope 0.2), times $\sqrt 2$**. Equalized lr assumes the
# activations keep a second moment near one from layer to layer; for $x\sim\mathcal N(0, 1)$,
#
# $$\mathbb E\big[(\sqrt 2\,\mathrm{lrelu}(x))^2\big] = 2\left(\tfrac12 + \tfrac12\, 0.2^2\right) = 1.04 .$$

# %%
# NBVAL_CHECK_OUTPUT
closed_form = 2 * (0.5 + 0.5 * 0.2**2)
sample = fused_leaky_relu(torch.randn(1_000_000, generator=torch.Generator().manual_seed(seed))[:, None], None)
print(f"closed form: {closed_form:.2f}")
print("Monte Carlo agrees to 0.01:", abs(sample.pow(2).mean().item() - closed_form) < 0.01)

# %% [markdown]
# ## 6. The whole synthesis network
#
# Putting it together: const 4x4 → styled conv → to-RGB; then per resolution 8, 16, ..., 64:
# styled conv with 2x upsampling, styled conv, to-RGB added to the upsampled RGB. Every styled
# conv and every to-RGB takes its own copy of $w$: `n_latent` $= 2\log_2(\text{size}) - 2$
# codes (10 at 64 px), which is what makes style mixing possible (section 12). Widths follow
# rosinality's table (512 channels up to 32 px, then $256\cdot$`channel_multiplier` at 64 ...),
# times `channel_scale` = 0.25 for the CPU.

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(seed)
G = Generator(**cfg.generator_kwargs())
print(f"{'res':>4} {'ch':>4} {'styled convs':>13} {'to-RGB':>8}")
print(f"{4:4d} {G.channels[4]:4d} {n_params(G.conv1):13,} {n_params(G.to_rgb1):8,}")
for k, rgb in enumerate(G.to_rgbs):
    res = 2 ** (k + 3)
    convs = n_params(G.convs[2 * k]) + n_params(G.convs[2 * k + 1])
    print(f"{res:4d} {G.channels[res]:4d} {convs:13,} {n_params(rgb):8,}")
print(f"mapping {n_params(G.style):,} + constant {n_params(G.input):,}; total {n_params(G):,} parameters")
print(f"n_latent = {G.n_latent} style inputs, {G.num_layers} noise inputs")
images, latents = G([torch.randn(4, cfg.style_dim)], return_latents=True)
print("z (4, 128) -> per-layer w", tuple(latents.shape), "-> images", tuple(images.shape))
with torch.device("meta"):  # shapes only, no memory: the paper's 256 px config-f
    paper = image_preset("paper")
    G_paper = Generator(**paper.generator_kwargs())
print(f"paper (256px, 512-d, 8 mapping layers, channel_multiplier 2): {n_params(G_paper):,} parameters")

# %% [markdown]
# ## 7. The discriminator: residual blocks and minibatch standard deviation
#
# StyleGAN2's discriminator mirrors the generator: a 1x1 "from-RGB" conv, then residual blocks
# that halve the resolution (two 3x3 convs, the second one blurred and strided, plus a blurred,
# strided 1x1 skip; the sum divided by $\sqrt 2$ to keep its variance), down to 4x4. There it
# appends one extra channel, the **minibatch standard deviation**: the standard deviation of
# each feature across a group of 4 samples, averaged to one number. A generator that makes the
# same image again and again (mode collapse) gives a telltale zero there, which the
# discriminator can use. Then a 3x3 conv and two linear layers give one score.

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(seed)
D = Discriminator(**cfg.discriminator_kwargs())
h = torch.randn(8, 3, cfg.size, cfg.size)
for layer in D.convs:
    h = layer(h)
    print(f"{type(layer).__name__:>9} -> {tuple(h.shape)}")
h = D.minibatch_stddev(h)
print(f"minibatch std -> {tuple(h.shape)} (one channel more)")
print("score", tuple(D(torch.randn(8, 3, cfg.size, cfg.size)).shape), f"| {n_params(D):,} parameters")

# %%
# NBVAL_CHECK_OUTPUT
feats = torch.randn(8, 128, 4, 4)
collapsed = feats[:1].expand(8, -1, -1, -1)  # eight copies of one sample
for name, f in (("diverse batch", feats), ("collapsed batch", collapsed)):
    print(f"{name:>15}: minibatch-std channel = {D.minibatch_stddev(f)[0, -1, 0, 0].item():.4f}")

# %% [markdown]
# ## 8. A short training run
#
# `mocohd.train.image_gan` trains as rosinality's `train.py` does: the non-saturating logistic
# loss, lazy R1 on the discriminator every 16 steps (a penalty on the gradient norm at real
# images), style-mixing regularisation (90 % of batches use two $z$'s), an EMA copy of the
# generator (the one we sample from and ship), Adam with $\beta = (0, 0.99)$. The CPU presets add
# channels_last (section 15). The same is available from the shell:
# `python -m mocohd.train image --preset full --data toy:faces --out runs/my_faces`.
#
# In smoke mode this is a tiny 32x32 generator for 30 steps: coloured blobs, but every line of
# the loop runs. In full mode, 1,200 steps of the shipped configuration on toy faces: round
# heads with hair and skin colours on varied backgrounds and shirts; eyes and mouths need
# longer training (appendix A2 shows the faces generator after 1,200, 4,500 and 8,000 steps).

# %%
# ema_kimg=1 as for the shipped checkpoints: the default 10k-image EMA half-life (625 steps)
# lags too far behind a run of 1,200 steps
train_cfg = image_preset(preset, data=f"toy:{domain}", seed=seed, steps=steps, ema_kimg=1.0,
                         **({} if bf16 is None else {"bf16": bf16}))
run_dir = p["out_dir"] / "image_gan"
shutil.rmtree(run_dir, ignore_errors=True)  # a fresh run every time the notebook runs
trainer = ImageGANTrainer(train_cfg, run_dir)
real = trainer.images[:16].float() / 127.5 - 1  # uint8 (N, 3, H, W) -> [-1, 1]
show_images(real, columns=8, size=1.0, suptitle=f"real toy {domain} ({train_cfg.size}x{train_cfg.size})")
plt.show()

# %%
start = time.perf_counter()
history = trainer.fit(steps)
train_seconds = time.perf_counter() - start
print(f"{steps} steps in {train_seconds:.0f} s ({train_seconds / steps:.2f} s/step); saved {run_dir / 'checkpoint.pt'}")

# %%
log = read_loss_csv(run_dir / "log.csv")
assert all(math.isfinite(v) for v in log["d_loss"] + log["g_loss"]), "a loss became NaN or infinite"
fig, axes = plt.subplots(1, 2, figsize=(11, 3), gridspec_kw={"width_ratios": [1.4, 1]})
plot_losses({"step": log["step"], "D loss": log["d_loss"], "G loss": log["g_loss"]},
            smooth=max(1, len(log["step"]) // 10), ax=axes[0])
axes[1].imshow(image_grid(trainer.samples()[:8], columns=4), interpolation="nearest")
axes[1].set_title(f"EMA generator after {trainer.step} steps")
axes[1].axis("off")
plt.show()

# %% [markdown]
# The D loss starts at $2\log 2 \approx 1.39$ (it cannot tell yet) and the two losses then
# balance each other; a GAN's losses do not go to zero, and they say little about sample
# quality on their own; the pictures do. The run folder holds `log.csv`, sample grids under
# `samples/` and a resumable `checkpoint.pt` (`--resume` continues it exactly).
#
# ## 9. The shipped generators: four toy domains
#
# `make checkpoints` trains one generator per toy domain at 64x64 with the `full` preset
# (`data/checkpoints/*_64.pt`, each with a provenance JSON beside it: the command, the training
# time, a Fréchet distance to real toy images). Eight samples from each, the same $z$'s for all
# four:

# %%
generators = {name: load_generator(path) for name, path in gallery.items()}
z = torch.randn(8, cfg.style_dim, generator=torch.Generator().manual_seed(seed))
with torch.no_grad():
    rows = [g([z], randomize_noise=False)[0] for g in generators.values()]  # each (8, 3, 64, 64)
show_images(torch.cat(rows), columns=8, size=1.2,
            titles=[name if j == 0 else "" for name in generators for j in range(8)])
plt.show()

# %% [markdown]
# Faces are round heads with hair on coloured backgrounds and shirts; animals are furry heads
# with eyes and a dark nose; skies are clouds over a dark horizon; actions are a standing
# figure on grass. Each is far from perfect after a few CPU-hours (noisy textures, blurred
# small parts), but the domains cannot be confused. The animals, sky and actions generators
# ran 1,200 steps, the faces one 8,000, with a ten times weaker R1 penalty for its last 2,000.
# Why, and what this small faces generator still cannot draw (shut eyes, which notebook 05's
# blinks need), is research beyond the paper: the appendix notebook
# `notebooks/appendix/A2_image_generator_experiments` follows its training run by run.
#
# From here on we explore one generator (the `checkpoint` parameter, toy faces by default).
#
# ## 10. What the noise does
#
# The same $w$ rendered with six different noise draws, and the per-pixel standard deviation
# over 32 draws: noise moves only small details (edges, texture), never the identity. That
# is why MoCoGAN-HD can fix one noise map per video.

# %%
G = load_generator(p["checkpoint"])
w = G.get_latent(torch.randn(1, G.style_dim, generator=torch.Generator().manual_seed(seed + 1)))
with torch.no_grad():
    draws = torch.cat([G.synthesize(w) for _ in range(32)])  # fresh noise each time: (32, 3, 64, 64)
spread = draws.std(0).mean(0)  # (64, 64)
fig, axes = plt.subplots(1, 2, figsize=(11, 2.2), gridspec_kw={"width_ratios": [6, 1]})
axes[0].imshow(image_grid(draws[:6], columns=6), interpolation="nearest")
axes[0].set_title("one w, six noise draws")
axes[1].imshow(spread, cmap="magma")
axes[1].set_title("std over 32 draws")
for ax in axes:
    ax.axis("off")
plt.show()
print(f"mean per-pixel std from noise: {spread.mean():.3f} (image values in [-1, 1])")

# %% [markdown]
# ## 11. Truncation
#
# The **truncation trick** pulls $w$ towards the centre of $W$ (the mean of many mapped $z$):
#
# $$w' = \bar w + \psi\,(w - \bar w)$$
#
# $\psi = 1$ leaves the samples as they are; smaller $\psi$ trades diversity for typical,
# cleaner images; $\psi = 0$ gives the "average" image. MoCoGAN-HD does not truncate: motion
# starts from the mapping network's $w$ as it is.

# %%
w_avg = G.mean_latent(4096, generator=torch.Generator().manual_seed(seed))
z = torch.randn(8, G.style_dim, generator=torch.Generator().manual_seed(seed + 2))
psis = (1.0, 0.7, 0.4, 0.0)
with torch.no_grad():
    rows = [G([z], truncation=psi, truncation_latent=w_avg, randomize_noise=False)[0] for psi in psis]
show_images(torch.cat(rows), columns=8, size=1.2, titles=[f"psi={psi}" if j == 0 else "" for psi in psis for j in range(8)])
plt.show()

# %% [markdown]
# ## 12. Style mixing
#
# Each styled conv and to-RGB takes its own copy of $w$ (section 6: 10 codes at 64 px; the
# upsampling conv of a block shares its code with the previous to-RGB).
# `G([z_a, z_b], inject_index=k)` gives the first $k$ codes the $w$ of image A and the rest
# that of image B. Training used exactly this mixing on 90 % of its batches, so that layers do
# not rely on their neighbours sharing one code. In the large StyleGAN2s, the coarse codes
# (4-8 px) set pose and face shape, the middle ones features, the fine ones colours and
# micro-texture. Our small generator decides earlier: below, with $k = 2$ (A gives the 4 px
# layers) the colours of background, hair and shirt mostly come from B; with $k = 4$ (A also
# gives the 8 px layers) A decides nearly everything and B adds texture only.

# %%
def mixing_grid(generator, z_a, z_b, inject_index):
    """Row i, column j: coarse layers from z_a[i], fine layers from z_b[j]; with the pure
    images along the top row and the left column. Returns (len(z_a)+1) * (len(z_b)+1) images."""
    with torch.no_grad():
        a, _ = generator([z_a], randomize_noise=False)
        b, _ = generator([z_b], randomize_noise=False)
        cells = [torch.full_like(a[:1], 1.0)]  # blank corner
        cells += list(b.split(1))
        for i in range(len(z_a)):
            mixed, _ = generator([z_a[i:i + 1].expand(len(z_b), -1), z_b], inject_index=inject_index,
                                 randomize_noise=False)
            cells += [a[i:i + 1]] + list(mixed.split(1))
    return torch.cat(cells)


z_a = torch.randn(4, G.style_dim, generator=torch.Generator().manual_seed(seed + 3))
z_b = torch.randn(5, G.style_dim, generator=torch.Generator().manual_seed(seed + 4))
show_images(mixing_grid(G, z_a, z_b, inject_index=2), columns=6, size=1.2,
            suptitle="k = 2: left column A gives codes 0-1 (4 px); top row B gives codes 2-9")
plt.show()
show_images(mixing_grid(G, z_a, z_b, inject_index=4), columns=6, size=1.2,
            suptitle="k = 4: A gives codes 0-3 (4 and 8 px); B gives codes 4-9 (16 to 64 px)")
plt.show()

# %% [markdown]
# ## 13. Interpolation in W: a first "video"
#
# A straight line between two codes, rendered with fixed noise: this is the simplest path
# through $W$, and already a video. MoCoGAN-HD's motion generator learns paths that look like
# real motion instead (notebook 02). A line in $Z$, mapped frame by frame, is shown for
# comparison; StyleGAN's authors found paths in $W$ to change more evenly (their "perceptual
# path length"), which is one reason MoCoGAN-HD moves in $W$.

# %%
n_frames = params.by_mode(mode, 12, 32)
t = torch.linspace(0, 1, n_frames)[:, None]  # (T, 1)
z_ends = torch.randn(4, 2, G.style_dim, generator=torch.Generator().manual_seed(seed + 5))
noise = G.make_noise(1, generator=torch.Generator().manual_seed(seed))
videos = []
with torch.no_grad():
    for z0, z1 in z_ends:
        w0, w1 = G.get_latent(torch.stack([z0, z1]))
        for w_path in ((1 - t) * w0 + t * w1, G.get_latent((1 - t) * z0 + t * z1)):  # in W, then in Z
            videos.append(G.synthesize(w_path, noise=[n.expand(n_frames, -1, -1, -1) for n in noise]))
show_videos(torch.stack(videos), titles=[f"pair {i // 2}: {'W' if i % 2 == 0 else 'Z'}" for i in range(8)],
            columns=8, fps=8)

# %% [markdown]
# ## 14. The principal directions of W
#
# MoCoGAN-HD moves $w$ along the **principal directions** of $W$: the official
# `get_stats_pca.py` maps many random $z$, fits a PCA, and stores the directions $u_k$ and
# standard deviations $\sigma_k$. A motion step is a combination
# $w_t = w_{t-1} + \sum_k a_k\,\sigma_k\,u_k$. The shipped generators come with their PCA
# (`*_64.pca.pt`, 100,000 samples); without one we fit a smaller one here.

# %%
default_pca = pca_path_for(p["checkpoint"])
if p["pca_path"] is not None:
    pca = load_w_pca(p["pca_path"])
elif default_pca.exists():
    pca = load_w_pca(default_pca)
else:
    print(f"no PCA at {default_pca}: fitting one on 20,000 samples")
    pca = fit_w_pca(G, n_samples=20_000, batch=4000, seed=seed)
comp, stdev = pca["comp"], pca["stdev"]  # (K, D) unit rows, (K,)
fig, ax = plt.subplots(figsize=(6, 2.4))
ax.bar(range(1, 21), pca["var_ratio"][:20])
ax.set(xlabel="principal component", ylabel="share of variance", title="PCA of W: the top 20 directions")
plt.show()

# %%
n_pcs = params.by_mode(mode, 4, 8)
steps_sigma = torch.linspace(-3, 3, 7)  # in units of sigma_k
w0 = G.get_latent(torch.randn(1, G.style_dim, generator=torch.Generator().manual_seed(seed + 6)))
walks = torch.cat([w0 + steps_sigma[:, None] * stdev[k] * comp[k] for k in range(n_pcs)])  # (n_pcs * 7, D)
with torch.no_grad():
    frames = G.synthesize(walks, use_noise=False)
show_images(frames, columns=7, size=1.1,
            titles=[f"PC{k + 1}: {a:+.0f}σ" if j == 0 else f"{a:+.0f}σ" for k in range(n_pcs)
                    for j, a in enumerate(steps_sigma.tolist())])
plt.show()

# %% [markdown]
# Each row moves one principal direction from $-3\sigma$ to $+3\sigma$ (centre: the sample
# itself). In the shipped faces generator the top directions change large areas at once:
# skin and hair colour together, the background's and the shirt's hue, the hair alone; later
# ones are subtler (small changes of the eyes, the mouth, the pose). These are identity more
# than motion: the motion generator must learn which mixtures of directions move a face
# without changing who it is. Moving along such directions over time is what notebook 02 turns into motion. The explorer below moves the first few at once:
# in JupyterLab, drag the sliders (a static snapshot in exported HTML).

# %%
n_sliders = 5


def render_pcs(**amounts):
    a = torch.tensor([amounts[f"pc{k + 1}"] for k in range(n_sliders)])  # (k,) in units of sigma
    w = w0 + (a * stdev[:n_sliders]) @ comp[:n_sliders]
    with torch.no_grad():
        image = G.synthesize(w, use_noise=False)
    show_images(image, size=3.0, titles=[", ".join(f"{v:+.1f}" for v in a.tolist())])
    plt.show()


slider_explorer(render_pcs, **{f"pc{k + 1}": (-3.0, 3.0, 0.25, 0.0) for k in range(n_sliders)})

# %% [markdown]
# ## 15. The paper's configuration and the CPU's
#
# MoCoGAN-HD's generators are StyleGAN2 config-f at 256 (UCF-101, FaceForensics, Sky) to 1024
# pixels (FFHQ), trained for days on GPUs. The CPU preset keeps the architecture and shrinks
# the numbers. `mocohd.convert.load_rosinality_generator` loads the released rosinality
# checkpoints of the paper's generators into the same `Generator` class.

# %%
def preset_row(name, c):
    with torch.device("meta"):
        g, d = Generator(**c.generator_kwargs()), Discriminator(**c.discriminator_kwargs())
    widths = "-".join(str(g.channels[2**i]) for i in range(2, int(math.log2(c.size)) + 1))
    return [name, f"{c.size}", widths, f"{c.style_dim}", f"{c.n_mlp}", f"{n_params(g) / 1e6:.2f} M",
            f"{n_params(d) / 1e6:.2f} M", f"{c.batch}", f"{c.r1}", f"{c.path_regularize}",
            "yes" if c.augment else "no", {True: "yes", False: "no"}.get(c.bf16, c.bf16), "yes" if c.channels_last else "no"]


header = ["preset", "size", "widths 4 px → size", "style_dim", "n_mlp", "G params", "D params", "batch",
          "R1 γ", "path-length reg", "DiffAugment", "bf16", "channels_last"]
table = [preset_row(n, image_preset(n)) for n in ("paper", "full", "smoke")]
display(Markdown("\n".join(["| " + " | ".join(r) + " |" for r in [header, ["---"] * len(header), *table]])))

# %% [markdown]
# Why these differences: 64x64 toy images need far fewer channels and a smaller $W$; R1
# γ = 10 is tuned for 256-1024 px images (the penalty scales with the image area) and slows a
# small model down; path-length regularisation costs a second backward pass per 4 steps; the
# toy data are plentiful (20,000 drawn images), so DiffAugment, which the authors used for the
# small real datasets, is an option (`augment=True`) rather than the default.
#
# **Speed options.** channels_last is on in the CPU presets. bf16 autocast is on for sampling.
# For training, the CPU presets say `"auto"`: bf16's speed depends on the CPU (on the
# development machine, without AMX, `make bench` once timed an image-GAN step twice as slow in
# bf16 as in fp32, while a later bf16 training run went three times faster), so the trainer
# times one G + D step in both precisions on the machine at hand, keeps the faster, and prints
# which and why (fp32 at once on a CPU without bf16 instructions). Appendix A2 holds those
# measurements and the convolution kernel behind them.
#
# ## Recap
#
# - StyleGAN2 = a mapping network $z \to w$ (pixel norm, 4 to 8 equalized layers, lr × 0.01)
#   and a synthesis network that starts from a learned 4x4 constant and, resolution by
#   resolution, applies styled convolutions (modulate, demodulate, add noise, activate) and
#   adds to-RGB outputs to an upsampled image.
# - Equalized learning rate makes one Adam step the same relative change in every layer;
#   demodulation makes a layer's output scale independent of its style's scale.
# - The grouped and the scaled forms of the modulated conv are the same function; mocohd uses
#   the one that is faster on a CPU.
# - $W$ is where the action is: truncation, style mixing, interpolation and the principal
#   directions all act on $w$, and MoCoGAN-HD's motion generator will move along those
#   principal directions with a frozen generator.
# - The CPU presets keep config-f's architecture and shrink its widths, $W$ and R1; the four
#   shipped generators draw four toy domains (appendix A2: how the faces one was trained).
#
# ## Exercises
#
# 1. Stack eight `StyledConv(64, 64, 3, style_dim=128)` layers, feed a unit-variance input and
#    random styles through them, and print each layer's output std; then again with
#    `demodulate=False`. How fast does the scale drift without demodulation?
# 2. Train with `lr_mlp=1.0` instead of 0.01 (`image_preset("smoke", lr_mlp=1.0)`). Do the
#    losses stay stable? Look at how far $W$'s mean moves during training.
# 3. Use `inject_index` 1, 3 and 6 in the style-mixing grid: which codes hold the colours,
#    which the texture? Does it differ between the faces and the sky generators?
# 4. Interpolate between two $w$'s along a great circle instead of a line (slerp): does
#    the middle frame look different?
# 5. Fit the PCA with 2,000 instead of 100,000 samples (`fit_w_pca`): which directions stay
#    the same (compare `comp` rows by their cosine)?
# 6. Run `make bench` and compare the grouped with the scaled modulated conv: at which width
#    does the grouped form win on your machine, if it ever does?
