"""``make bench`` (``python -m mocohd.bench``): what mocohd's pieces cost on this machine.

One run measures, back to back so that the ratios are fair even on a noisy machine:

1. peaks: a large matmul (fp32 and bf16) and a large 3x3 convolution, in GFLOP/s, and the
   weight gradient of a 3x3 convolution at a small and a larger resolution (fp32 vs bf16);
2. the image generator at the shipped configuration: images per second in fp32, bf16
   autocast, channels_last and both; the modulated convolution as a grouped conv (official,
   ``fused``) against scale-input / shared conv / scale-output (mocohd's default);
3. one image-GAN training step (D step + G step, lazy R1 amortised) with the FLOP/s it reaches;
4. one video training iteration (5 motion-generator steps + 1 discriminator step) for the
   smoke and full video presets, with bf16 + channels_last on and off;
5. paper widths at 64 px: the official image generator's widths (style_dim 512, 8 mapping
   layers, channel multiplier 2; untrained, as the cost does not depend on the weights) and
   the in-domain video GAN around it (2 clips x 16 frames, discriminators at ndf 64 on 64 px
   frames): one G_I forward of 16 images, one motion-generator update and one discriminator
   update, each in fp32 and in bf16 autocast, marked with the one ``--bf16 auto`` picks here,
   with the GFLOP/s each reaches against the peaks of item 1; a profile of the G_I forward
   and of the motion update in each precision (where the time goes, by kind of operator);
   and the modulated conv, grouped against scaled, at each of the generator's resolutions
   (``--only paper`` runs just these and the peaks);
6. the peak resident memory of the process.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` (2 per multiply-add,
matmuls and convolutions only, forward and backward), in a separate untimed warm-up pass.
Timings are medians. The report is printed as Markdown and written to
``runs/bench/<timestamp>.md`` with the raw numbers in ``<timestamp>.json``.

This is a script, never a test: timings depend on the machine and on what else runs on it
(the report states the load average before and after). Two companions: ``python -m
mocohd.bench_against REV`` times this checkout against an earlier commit in one run, and
``python -m mocohd.bench_ddp`` the trainer on 2 gloo processes and its gradient all-reduce.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import torch
import torch.nn.functional as F

from .bench_report import report, write_report
from .bench_profile import modconv_by_resolution, profile_call
from .bench_timing import autocast, count_flops, interleaved_seconds, median_seconds, peak_rss_mib  # noqa: F401 (median_seconds: bench's API)
from .config import ImageGANConfig, image_preset, to_dict, video_preset
from .hardware import BF16_FLAGS, cpu_flags, cpu_model, has_native_bf16
from .image_generator import Generator
from .layers import ModulatedConv2d
from .params import repo_root, shipped_checkpoint
from .pca import pca_path_for

SHIPPED_GENERATOR = "faces_64.pt"


# --------------------------------------------------------------------------------------
# Measuring


def mode_name(bf16: bool, channels_last: bool) -> str:
    parts = (["bf16"] if bf16 else []) + (["channels_last"] if channels_last else [])
    return " + ".join(parts) or "fp32"


# --------------------------------------------------------------------------------------
# 1. Peaks


def matmul_case(n: int = 2048, bf16: bool = False):
    """An (n x n) @ (n x n) matmul and its FLOPs (2 n^3)."""
    dtype = torch.bfloat16 if bf16 else torch.float32
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    return (lambda: a @ b), 2 * n**3


def conv_case(batch: int = 16, channels: int = 128, size: int = 32, bf16: bool = False, channels_last: bool = True):
    """A 3x3 convolution (padding 1) and its FLOPs (2 * 9 * C^2 * H * W * B)."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(batch, channels, size, size).contiguous(memory_format=fmt)
    w = torch.randn(channels, channels, 3, 3).contiguous(memory_format=fmt)
    if bf16:
        x, w = x.bfloat16(), w.bfloat16()
    return (lambda: F.conv2d(x, w, padding=1)), 2 * 9 * channels**2 * size**2 * batch


def weight_grad_case(batch: int = 16, channels: int = 128, size: int = 8, bf16: bool = False):
    """The weight gradient of a 3x3 convolution (what a discriminator step computes for each
    conv) and its FLOPs. Some CPU bf16 kernels are far slower here than in the forward pass."""
    dtype = torch.bfloat16 if bf16 else torch.float32
    x = torch.randn(batch, channels, size, size, dtype=dtype)
    w = torch.randn(channels, channels, 3, 3, dtype=dtype, requires_grad=True)
    return (lambda: F.conv2d(x, w, padding=1).sum().backward()), 2 * 9 * channels**2 * size**2 * batch


def measure_peaks(cases: dict, repeats: int = 5) -> dict:
    """GFLOP/s of each ``name: (fn, flops)`` case, timed in turn."""
    seconds = interleaved_seconds({name: fn for name, (fn, _) in cases.items()}, repeats)
    return {name: flops / seconds[name] / 1e9 for name, (_, flops) in cases.items()}


# --------------------------------------------------------------------------------------
# 2. The image generator


ALL_MODES = ((False, False), (False, True), (True, False), (True, True))  # (bf16, channels_last)
TRAIN_MODES = ((True, True), (False, False))  # the shipped setting, and plain fp32


def generator_throughput(generator: Generator, batch: int = 16, modes=ALL_MODES, repeats: int = 5) -> list[dict]:
    """Images per second of ``generator`` (no grad) in each (bf16, channels_last) mode, and
    the largest pixel difference from the fp32 contiguous images of the same z and noise."""
    z = torch.randn(batch, generator.style_dim, generator=torch.Generator().manual_seed(0))
    noise = generator.make_noise(batch, generator=torch.Generator().manual_seed(1))
    saved = generator.memory_format

    @torch.no_grad()
    def render(bf16, channels_last):
        generator.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        with autocast(bf16):
            return generator([z], noise=noise)[0].float()

    try:
        reference = render(False, False)
        seconds = interleaved_seconds({mode: (lambda m=mode: render(*m)) for mode in modes}, repeats)
        rows = [{"mode": mode_name(*mode), "seconds": seconds[mode], "images_per_s": batch / seconds[mode],
                 "max_abs_diff": (render(*mode) - reference).abs().max().item()} for mode in modes]
    finally:
        generator.memory_format = saved
    return rows


def modconv_compare(in_channel: int, out_channel: int, size: int, batch: int = 16, style_dim: int = 128,
                    repeats: int = 3) -> dict:
    """Forward + backward time of the same 3x3 modulated conv in its two forms."""
    torch.manual_seed(0)
    scaled = ModulatedConv2d(in_channel, out_channel, 3, style_dim, fused=False)
    grouped = ModulatedConv2d(in_channel, out_channel, 3, style_dim, fused=True)
    grouped.load_state_dict(scaled.state_dict())
    x = torch.randn(batch, in_channel, size, size, requires_grad=True)
    style = torch.randn(batch, style_dim)

    def step(layer):
        layer(x, style).square().mean().backward()

    difference = (scaled(x, style) - grouped(x, style)).abs().max().item()
    t = interleaved_seconds({"scaled": lambda: step(scaled), "grouped": lambda: step(grouped)}, repeats)
    return {"layer": f"{in_channel}->{out_channel} ch, {size}x{size}, batch {batch}",
            "scaled_s": t["scaled"], "grouped_s": t["grouped"], "grouped_over_scaled": t["grouped"] / t["scaled"],
            "max_abs_diff": difference}


# --------------------------------------------------------------------------------------
# 3. One image-GAN training step


def image_steps(cfg: ImageGANConfig, modes=TRAIN_MODES, repeats: int = 3) -> list[dict]:
    """Per (bf16, channels_last) mode: seconds of one D + G step without R1, of one with R1,
    and amortised over ``d_reg_every``; FLOPs counted on an untimed warm-up step."""
    from .train.image_gan import ImageGANTrainer

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the bf16 advice: here bf16 is timed against fp32 on purpose
        # on the CPU even where a GPU is (`python -m mocohd.bench_gpu` times that)
        trainers = {m: ImageGANTrainer(replace(cfg, bf16=m[0], channels_last=m[1], device="cpu"), Path(tmp) / str(i))
                    for i, m in enumerate(modes)}

        def step(trainer, r1: bool):
            if r1:
                trainer.step = cfg.d_reg_every
            elif trainer.step % cfg.d_reg_every == 0:
                trainer.step += 1
            trainer.train_step()

        flops = {m: count_flops(lambda t=t: step(t, False)) for m, t in trainers.items()}  # also the warm-up
        plain = interleaved_seconds({m: (lambda t=t: step(t, False)) for m, t in trainers.items()}, repeats, 0)
        with_r1 = interleaved_seconds({m: (lambda t=t: step(t, True)) for m, t in trainers.items()}, 1, 0)
    return [{"mode": mode_name(*m), "step_s": plain[m], "step_r1_s": with_r1[m],
             "amortised_s": plain[m] + (with_r1[m] - plain[m]) / cfg.d_reg_every,
             "gflop": flops[m] / 1e9, "gflop_per_s": flops[m] / plain[m] / 1e9} for m in modes]


# --------------------------------------------------------------------------------------
# 4. One video training iteration


def untrained_generator_files(folder: Path, cfg: ImageGANConfig) -> tuple[Path, Path]:
    """An untrained image generator of ``cfg`` and its W PCA, written into ``folder``."""
    from .pca import fit_w_pca, save_w_pca
    from .checkpoint import VERSION, rng_state, save_checkpoint
    from .train.image_gan import FORMAT

    torch.manual_seed(cfg.seed)
    g = Generator(**cfg.generator_kwargs())
    path = save_checkpoint(folder / "untrained.pt", {
        "format": FORMAT, "version": VERSION, "config": to_dict(cfg), "step": 0,
        "state_dicts": {"g_ema": g.state_dict()}, "rng": rng_state()})
    n = max(1000, 2 * cfg.style_dim)
    pca = save_w_pca(fit_w_pca(g, n_samples=n, batch=n), folder / "untrained.pca.pt")
    return path, pca


def video_iterations(preset: str, generator: Path, pca: Path, modes=TRAIN_MODES, repeats: int = 2,
                     **overrides) -> list[dict]:
    """Per (bf16, channels_last) mode: seconds and FLOPs of one iteration, g_steps
    motion-generator updates + one discriminator update."""
    from .train.video_gan import VideoGANTrainer

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the bf16 advice: here bf16 is timed against fp32 on purpose
        trainers = {}
        for i, (bf16, channels_last) in enumerate(modes):
            cfg = video_preset(preset, image_generator=str(generator), pca=str(pca), bf16=bf16,
                               channels_last=channels_last, **{"device": "cpu", **overrides})
            trainers[(bf16, channels_last)] = VideoGANTrainer(cfg, Path(tmp) / str(i))
        flops = {m: count_flops(t.train_step) for m, t in trainers.items()}  # also the warm-up
        seconds = interleaved_seconds({m: t.train_step for m, t in trainers.items()}, repeats, 0)
    return [{"preset": preset, "mode": mode_name(*m), "g_steps": cfg.g_steps, "clips": f"{cfg.batch} x {cfg.frames}",
             "iteration_s": seconds[m], "gflop": flops[m] / 1e9, "gflop_per_s": flops[m] / seconds[m] / 1e9}
            for m in modes]


# --------------------------------------------------------------------------------------
# 5. Paper widths at 64 px


def paper_image_config(quick: bool = False) -> ImageGANConfig:
    """The official image generator's widths at 64 px: the ``paper`` image preset (style_dim
    512, 8 mapping layers, channel multiplier 2, full widths) at size 64. ``quick``: the same
    layout at 32 px, style_dim 64, 2 mapping layers and 8 channels everywhere (for the tests)."""
    if quick:
        return image_preset("paper", size=32, style_dim=64, n_mlp=2, channel_scale=1 / 64)
    return image_preset("paper", size=64)


def paper_video_config(generator: Path | str, pca: Path | str, frame_size: int = 64, clips: int = 2, frames: int = 16,
                       ndf: int = 64, bf16="auto"):
    """The in-domain video GAN of the ``paper`` preset (its motion LSTM and discriminators) over
    ``generator``, at ``clips`` x ``frames``, its discriminators at ``ndf`` on ``frame_size`` px
    frames (G_I's size: no pooling), on the CPU with channels_last (mocohd's CPU default)."""
    return video_preset("paper", image_generator=str(generator), pca=str(pca), bf16=bf16, channels_last=True,
                        device="cpu", batch=clips, frames=frames, ndf=ndf, video_frame_size=frame_size,
                        n_clips=2 * clips, g_steps=1)


def paper_rows(generator: Path, pca: Path, frame_size: int, images: int = 16, clips: int = 2, frames: int = 16,
               ndf: int = 64, repeats: int = 3, log=print) -> dict:
    """One G_I forward of ``images`` images (no grad), one motion-generator update and one
    discriminator update of the in-domain video GAN over ``generator`` (``clips`` x ``frames``;
    the ``paper`` video preset's networks, its discriminators at ``ndf`` on ``frame_size`` px
    frames, G_I's own size), each in fp32 and in bf16 autocast, all six timed in turn.

    The updates are the trainer's own (``g_update``, ``d_update``), on one real batch drawn
    once; FLOPs are counted on an untimed warm-up call of each. The first trainer is built with
    ``--bf16 auto``, which times its rendering in both precisions here (or reads the answer its
    cache kept, :func:`mocohd.hardware.choose_bf16`) and keeps the faster; the second is forced
    to the other precision. Each row says whether it is the one ``auto`` picked."""
    from .train.video_gan import VideoGANTrainer

    clip_work = f"{clips} clips x {frames} frames"
    works = {"g_i": ("G_I forward (no grad)", f"{images} images"),
             "motion": ("motion-generator update", clip_work), "d": ("discriminator update", clip_work)}
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the bf16 advice: here bf16 is timed against fp32 on purpose
        cfg = paper_video_config(generator, pca, frame_size, clips, frames, ndf, bf16="auto")
        log("  video GAN trainer with --bf16 auto (it times its rendering in both precisions, "
            "unless its cache holds the answer) ...")
        auto = VideoGANTrainer(cfg, Path(tmp) / "auto")
        other = VideoGANTrainer(replace(cfg, bf16=not auto.bf16), Path(tmp) / "other")
        trainers = {t.bf16: t for t in (auto, other)}
        calls = {}
        for bf16, t in sorted(trainers.items()):
            g_i = t.video_g.image_generator
            z = torch.randn(images, g_i.style_dim, generator=torch.Generator().manual_seed(0))
            noise = g_i.make_noise(images, generator=torch.Generator().manual_seed(1))
            real = t.next_real()

            @torch.no_grad()
            def forward(g_i=g_i, z=z, noise=noise, bf16=bf16):
                with autocast(bf16):
                    g_i([z], noise=noise)

            calls[("g_i", bf16)] = forward
            calls[("motion", bf16)] = lambda t=t, real=real: t.g_update(real)
            calls[("d", bf16)] = lambda t=t, real=real: t.d_update(real)
        log("  counting FLOPs (also the warm-up) ...")
        flops = {key: count_flops(fn) for key, fn in calls.items()}
        log(f"  timing the six calls in turn, {repeats} time(s) ...")
        seconds = interleaved_seconds(calls, repeats, 0)
        log("  profiling one G_I forward and one motion-generator update in each precision ...")
        profiles = {f"{works[key][0]} ({'bf16' if bf16 else 'fp32'})": profile_call(calls[(key, bf16)])
                    for key in ("g_i", "motion") for bf16 in sorted(trainers)}
        g_i, d_cfg, m_cfg = auto.video_g.image_generator, auto.d_cfg, auto.motion_cfg
        setup = {"generator_params": sum(p.numel() for p in g_i.parameters()), "channels_at_4px": g_i.channels[4],
                 "channels_at_size": g_i.channels[g_i.size], "d_size": d_cfg.size, "ndf": d_cfg.ndf,
                 "num_D": d_cfg.num_D, "n_layers": d_cfg.n_layers, "lstm_h_dim": m_cfg.h_dim, "n_pca": m_cfg.n_pca,
                 "channels_last": cfg.channels_last, "repeats": repeats,
                 "channels": {size: width for size, width in g_i.channels.items() if size <= g_i.size}}
    rows = [{"what": what, "work": work, "mode": "bf16" if bf16 else "fp32", "auto": bf16 == auto.bf16,
             "seconds": seconds[(key, bf16)], "gflop": flops[(key, bf16)] / 1e9,
             "gflop_per_s": flops[(key, bf16)] / seconds[(key, bf16)] / 1e9}
            for key, (what, work) in works.items() for bf16 in (False, True)]
    return {"rows": rows, "setup": setup, "bf16_auto": auto.bf16_choice, "profiles": profiles}


def paper_section(quick: bool, peak: dict, log) -> dict:
    """The paper-width rows (tiny sizes and one repeat with ``quick``) and their share of ``peak``."""
    start = time.perf_counter()
    cfg = paper_image_config(quick)
    with tempfile.TemporaryDirectory() as tmp:
        log(f"paper widths: untrained generator ({cfg.size} px, style_dim {cfg.style_dim}, {cfg.n_mlp} mapping "
            f"layers, channel multiplier {cfg.channel_multiplier}) ...")
        generator, pca = untrained_generator_files(Path(tmp), cfg)
        size = dict(images=4, clips=2, frames=4, ndf=8, repeats=1) if quick else dict(repeats=3)
        paper = paper_rows(generator, pca, cfg.size, log=log, **size)
    setup = paper["setup"]
    batch = 2 * 4 if quick else 2 * 16  # a motion update renders clips x frames images
    log(f"  modulated conv, grouped against scaled, at each resolution (batch {batch}, forward + backward) ...")
    modconv = [row for bf16 in (False, True)
               for row in modconv_by_resolution(setup["channels"], cfg.style_dim, batch, bf16)]
    paper["setup"]["image_config"] = {k: getattr(cfg, k) for k in ("size", "style_dim", "n_mlp", "channel_multiplier",
                                                                   "channel_scale")}
    return {"paper_rows": add_peak_fractions(paper["rows"], peak), "paper_setup": paper["setup"],
            "paper_bf16_auto": paper["bf16_auto"], "paper_profiles": paper["profiles"], "paper_modconv": modconv,
            "paper_section_s": time.perf_counter() - start}


# --------------------------------------------------------------------------------------
# The whole run


def machine_info() -> dict:
    model = cpu_model()
    flags = cpu_flags()
    wanted = [f for f in ("avx2", "avx512f", *BF16_FLAGS) if f in flags]
    native = {True: "has bf16 instructions", False: "no bf16 instructions: bf16 is emulated",
              None: "bf16 support unknown"}
    return {"cpu": model, "cpu_flags": " ".join(wanted) or "unknown", "bf16": native[has_native_bf16(flags)],
            "torch": torch.__version__, "threads": torch.get_num_threads(), "load_before": os.getloadavg()}


def find_generator(folder: Path, quick: bool) -> tuple[Path, Path, str]:
    """The shipped faces generator and PCA, else an untrained one of the shipped config."""
    shipped = shipped_checkpoint(SHIPPED_GENERATOR)
    pca = pca_path_for(shipped)
    if not quick and shipped.is_file() and pca.is_file():
        return shipped, pca, f"shipped {shipped.relative_to(repo_root())}"
    cfg = image_preset("smoke") if quick else image_preset("full")
    path, pca = untrained_generator_files(folder, cfg)
    why = "--quick" if quick else f"{shipped} not found"
    return path, pca, f"UNTRAINED generator of the {'smoke' if quick else 'shipped'} config ({why})"


def toy_world_rate(n: int) -> dict:
    """Seconds to draw 1,000 clips of 16 frames at 64x64, per domain (from ``n`` clips)."""
    from .data.toyworld import DOMAINS, make_clips

    make_clips("faces", 4, frames=16, size=64)  # warm-up
    rate = {}
    for domain in DOMAINS:
        start = time.perf_counter()
        make_clips(domain, n, frames=16, size=64)
        rate[domain] = (time.perf_counter() - start) * 1000 / n
    return rate


def run(quick: bool = False, only: str | None = None, log=print) -> dict:
    """All measurements; ``quick`` uses tiny sizes and one repeat (for the tests)."""
    reps = 1 if quick else 5
    results = {"machine": machine_info(), "quick": quick, "started": datetime.now().isoformat(timespec="seconds")}
    n = 256 if quick else 2048
    conv = dict(batch=2, channels=16, size=8) if quick else dict(batch=16, channels=128, size=32)
    log("peaks ...")
    cases = {}
    for bf16, dtype in ((False, "fp32"), (True, "bf16")):
        cases[f"matmul {dtype} n={n}"] = matmul_case(n, bf16)
        cases["conv3x3 {} {channels} ch {size}x{size} batch {batch}".format(dtype, **conv)] = conv_case(**conv, bf16=bf16)
    if not quick:  # at the paper's widths a 3x3 conv runs nearer the machine's peak than at 128 channels
        wide = dict(batch=16, channels=512, size=32)
        for bf16, dtype in ((False, "fp32"), (True, "bf16")):
            cases["conv3x3 {} {channels} ch {size}x{size} batch {batch}".format(dtype, **wide)] = conv_case(**wide, bf16=bf16)
    results["peaks"] = measure_peaks(cases, reps)
    peak = {dtype: max(v for k, v in results["peaks"].items() if dtype in k) for dtype in ("fp32", "bf16")}
    results["peak"] = peak
    log("conv weight gradients ...")
    sizes = (4, 8) if quick else (8, 32)
    grads = {(size, bf16): weight_grad_case(conv["batch"], conv["channels"], size, bf16)
             for size in sizes for bf16 in (False, True)}
    seconds = interleaved_seconds({k: fn for k, (fn, _) in grads.items()}, reps)
    results["weight_grad"] = [
        {"what": f"{conv['channels']} ch {size}x{size} batch {conv['batch']}", "fp32_ms": 1e3 * seconds[(size, False)],
         "bf16_ms": 1e3 * seconds[(size, True)], "bf16_over_fp32": seconds[(size, True)] / seconds[(size, False)],
         "fp32_gflop_per_s": grads[(size, False)][1] / seconds[(size, False)] / 1e9,
         "bf16_gflop_per_s": grads[(size, True)][1] / seconds[(size, True)] / 1e9} for size in sizes]
    if only != "paper":  # --only paper: the paper-width rows and the peaks they are measured against
        log("toy world ...")
        results["toy_world"] = toy_world_rate(16 if quick else 256)
    if only in (None, "image"):
        results.update(image_section(quick, reps, peak, log))
        results["rss_after_image_mib"] = peak_rss_mib()
    if only in (None, "video"):
        results.update(video_section(quick, peak, log))
        results["rss_after_video_mib"] = peak_rss_mib()
    if only in (None, "paper"):
        results.update(paper_section(quick, peak, log))
        results["rss_after_paper_mib"] = peak_rss_mib()
    results["machine"]["load_after"] = os.getloadavg()
    results["peak_rss_mib"] = peak_rss_mib()
    return results


def add_peak_fractions(rows: list[dict], peak: dict) -> list[dict]:
    for row in rows:
        for dtype in ("fp32", "bf16"):
            row[f"of_{dtype}_peak"] = row["gflop_per_s"] / peak[dtype]
    return rows


def image_section(quick: bool, reps: int, peak: dict, log) -> dict:
    cfg = image_preset("smoke", n_images=32) if quick else image_preset("full", n_images=64)
    torch.manual_seed(0)
    g = Generator(**cfg.generator_kwargs()).eval()
    batch = 4 if quick else 16
    log("image generator throughput ...")
    throughput = generator_throughput(g, batch, repeats=reps)
    log("modulated conv: grouped vs scaled ...")
    if quick:
        layers = [(16, 16, 8, 2)]
    else:
        ch = g.channels
        layers = [(ch[32], ch[32], 32, 16), (ch[64], ch[64], 64, 16), (512, 512, 16, 8)]
    modconv = [modconv_compare(i, o, s, b, cfg.style_dim, 1 if quick else 3) for i, o, s, b in layers]
    if not quick:
        modconv[-1]["layer"] += " (paper width)"
    log("image-GAN training step ...")
    steps = add_peak_fractions(image_steps(cfg, repeats=1 if quick else 4), peak)
    return {"image_config": {k: getattr(cfg, k) for k in ("size", "style_dim", "n_mlp", "channel_multiplier",
                                                          "channel_scale", "batch")},
            "generator_params": sum(p.numel() for p in g.parameters()), "generator_batch": batch,
            "generator": throughput, "modconv": modconv, "image_step": steps}


def video_section(quick: bool, peak: dict, log) -> dict:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        generator, pca, source = find_generator(Path(tmp), quick)
        log(f"video iterations with {source} ...")
        presets = ["smoke"] if quick else ["smoke", "full"]
        extra = dict(frames=4, batch=2, g_steps=1, n_clips=4) if quick else dict(g_steps=5, n_clips=16)
        for preset in presets:
            log(f"  {preset} preset ...")
            rows += video_iterations(preset, generator, pca, repeats=1 if quick else 2, **extra)
    return {"video_generator_source": source, "video_step": add_peak_fractions(rows, peak)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mocohd.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat: checks that it runs")
    parser.add_argument("--only", choices=["image", "video", "paper"],
                        help="only the image, the video or the paper-width part (the peaks always run)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice, all cores)")
    parser.add_argument("--out", type=Path, default=repo_root() / "runs" / "bench", help="report folder")
    args = parser.parse_args(argv)
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    results = run(args.quick, args.only, log=lambda text: print(text, flush=True))
    results["wall_s"] = time.perf_counter() - start
    path = write_report(results, args.out)
    print(report(results))
    print(f"written to {path} (+ .json), {results['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
