"""``python -m mocohd.bench_gpu``: what the paper's settings cost on a GPU, when there is one.

`make bench` measures the CPU presets on this project's 2-core machine; the ``paper`` presets
(a 256 px StyleGAN2, discriminators at 128 px, 16 clips of 16 frames) are for a GPU. This
script times them there, in one run:

1. peaks: an 8192^3 matrix product in bf16 and in fp32 (TF32 off), in TFLOP/s;
2. one video training iteration (5 motion-generator updates + 1 discriminator update) for the
   ``full`` preset (the shipped 64 px faces generator) and the ``paper`` preset (an untrained
   generator of the paper's size: no 256 px checkpoint ships, and the cost does not depend
   on the weights), each in fp32 and in bf16 autocast + channels_last;
3. one image-GAN step (D + G) of the ``paper`` image preset, without and with the lazy
   regularisers (R1 and the path-length penalty);

with the TFLOP/s each reaches against the peaks and the GPU memory each needs (the peak
allocated during one step, after a reset). Matrix products and convolutions run with
PyTorch's defaults (cuDNN may use TF32 for convolutions). Timings are medians of wall time,
each call followed by a wait for the GPU; the image modes are timed in turn (a, b, a, b, ...),
the video modes one after the other, as the paper's sizes fill the GPU with one trainer.
The report goes to ``runs/bench/gpu-<timestamp>.md`` (and ``.json``).

A script, never a test: its numbers depend on the GPU. ``--quick`` runs the smoke presets on
the CPU, one repeat, only to check that the script works (the tests do).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import torch

from .bench import (count_flops, find_generator, interleaved_seconds, median_seconds, mode_name,
                    untrained_generator_files)
from .bench_report import markdown_table
from .config import image_preset, video_preset
from .params import repo_root

MODES = ((False, False), (True, True))  # fp32; bf16 autocast + channels_last


def synced(fn, device: str):
    """``fn`` followed by a wait for the GPU's queued work, so that a wall-clock time of one call
    covers all it launched (``fn`` itself on a CPU)."""
    if device != "cuda":
        return fn

    def call():
        fn()
        torch.cuda.synchronize()

    return call


def matmul_peaks(device: str, n: int = 8192, repeats: int = 10) -> dict:
    """TFLOP/s of an n^3 matrix product in bf16 and in fp32 with TF32 off."""
    tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        peaks = {}
        for name, dtype in (("bf16", torch.bfloat16), ("fp32", torch.float32)):
            a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
            peaks[name] = 2 * n**3 / median_seconds(synced(lambda: a @ b, device), repeats) / 1e12
        return peaks
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32


def step_memory_gib(step, device: str) -> float:
    """Peak GPU memory allocated while ``step()`` runs, in GiB (weights and optimiser state
    included); NaN on a CPU."""
    if device != "cuda":
        step()
        return float("nan")
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    step()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() / 2**30


def timed_steps(steps: dict, device: str, repeats: int) -> dict:
    """{mode: (median seconds, TFLOP per step, peak GiB)} for steps timed in turn."""
    flops = {m: count_flops(fn) for m, fn in steps.items()}  # also the warm-up
    memory = {m: step_memory_gib(fn, device) for m, fn in steps.items()}  # each ends waiting for the GPU
    times = interleaved_seconds({m: synced(fn, device) for m, fn in steps.items()}, repeats, warmup=0)
    return {m: (times[m], flops[m] / 1e12, memory[m]) for m in steps}


def video_rows(preset: str, generator: Path, pca: Path, device: str, repeats: int, batches=(None,),
               **overrides) -> list[dict]:
    """One trainer at a time (the paper's sizes fill a GPU), each mode at the first of ``batches``
    (None: the preset's) whose step fits in the GPU's memory; the ones that did not are listed."""
    from .train.video_gan import VideoGANTrainer

    rows = []
    for m in MODES:
        for batch in batches:
            size = {} if batch is None else {"batch": batch}
            cfg = video_preset(preset, image_generator=str(generator), pca=str(pca), bf16=m[0], channels_last=m[1],
                               device=device, **{"n_clips": 32, **overrides, **size})
            what = f"video {preset}: {cfg.batch} x {cfg.frames} frames"
            try:
                with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t = VideoGANTrainer(cfg, Path(tmp))
                    what += f", G_I {t.video_g.image_generator.size} px, Ds {t.d_cfg.size} px"
                    secs, tflop, gib = timed_steps({m: t.train_step}, device, repeats)[m]
            except torch.OutOfMemoryError:
                rows.append({"what": what, "mode": mode_name(*m), "seconds": float("nan"), "tflop": float("nan"),
                             "tflop_per_s": float("nan"), "gib": float("nan"), "note": "out of GPU memory"})
                continue
            finally:
                t = None
                if device == "cuda":
                    torch.cuda.empty_cache()
            rows.append({"what": what, "mode": mode_name(*m), "seconds": secs, "tflop": tflop,
                         "tflop_per_s": tflop / secs, "gib": gib, "note": ""})
            break
    return rows


def image_rows(preset: str, device: str, repeats: int, **overrides) -> list[dict]:
    from .train.image_gan import ImageGANTrainer

    cfg = image_preset(preset, device=device, **{"n_images": 64, **overrides})
    rows = []
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainers = {m: ImageGANTrainer(replace(cfg, bf16=m[0], channels_last=m[1]), Path(tmp) / str(i))
                    for i, m in enumerate(MODES)}

        def plain(t):  # a step without the lazy regularisers
            if t.step % cfg.d_reg_every == 0 or t.step % cfg.g_reg_every == 0:
                t.step = cfg.d_reg_every * cfg.g_reg_every + 1
            t.train_step()

        def regularised(t):  # a step with R1 and the path-length penalty
            t.step = cfg.d_reg_every * cfg.g_reg_every
            t.train_step()

        timed = {"D + G": timed_steps({m: (lambda t=t: plain(t)) for m, t in trainers.items()}, device, repeats),
                 f"D + G + R1 + path length (every {cfg.d_reg_every} and {cfg.g_reg_every} steps)":
                     timed_steps({m: (lambda t=t: regularised(t)) for m, t in trainers.items()}, device, repeats)}
    for what, results in timed.items():
        for m, (secs, tflop, gib) in results.items():
            rows.append({"what": f"image {preset}: {cfg.size} px, batch {cfg.batch}, {what}", "mode": mode_name(*m),
                         "seconds": secs, "tflop": tflop, "tflop_per_s": tflop / secs, "gib": gib, "note": ""})
    return rows


def run(repeats: int = 5, quick: bool = False, log=print) -> dict:
    """All measurements on the GPU; ``quick``: the smoke presets on the CPU, one repeat."""
    device = "cpu" if quick else "cuda"
    small, big = ("smoke", "smoke") if quick else ("full", "paper")
    repeats = 1 if quick else repeats
    if quick:
        name, memory, cuda = "CPU (--quick: a check of the script, not a measurement)", float("nan"), None
    else:
        props = torch.cuda.get_device_properties(0)
        name, memory, cuda = props.name, props.total_memory / 2**30, torch.version.cuda
    results = {"started": datetime.now().isoformat(timespec="seconds"), "gpu": name, "gpu_memory_gib": memory,
               "torch": torch.__version__, "cuda": cuda, "quick": quick}
    log("peaks ...")
    results["peak_n"] = 256 if quick else 8192
    results["peaks"] = matmul_peaks(device, n=results["peak_n"], repeats=repeats)
    video = dict(n_clips=4, frames=4, batch=2, g_steps=1) if quick else {}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        generator, pca, source = find_generator(Path(tmp), quick=quick)
        log(f"video {small} preset ({source}) ...")
        rows += video_rows(small, generator, pca, device, repeats, **video)
        if not quick:
            log("video paper preset (untrained 256 px generator) ...")
            paper_g, paper_pca = untrained_generator_files(Path(tmp), image_preset("paper"))
            # the paper's global batch of 16 was split over several GPUs; one GPU takes what fits
            rows += video_rows("paper", paper_g, paper_pca, device, repeats, batches=(16, 8, 4))
    log(f"image {big} preset ...")
    rows += image_rows(big, device, repeats, **(dict(n_images=8, batch=2) if quick else {}))
    for row in rows:
        row["of_bf16_peak"] = row["tflop_per_s"] / results["peaks"]["bf16"]
    results["rows"] = rows
    return results


def report(results: dict) -> str:
    p = results["peaks"]
    return "\n".join([
        f"# mocohd GPU bench, {results['started']}", "",
        f"- device: {results['gpu']} ({results['gpu_memory_gib']:.0f} GiB); torch {results['torch']}, "
        f"CUDA {results['cuda']}",
        f"- peaks, {results['peak_n']}^3 matrix product: bf16 {p['bf16']:.1f} TFLOP/s, fp32 (TF32 off) "
        f"{p['fp32']:.1f} TFLOP/s", "",
        markdown_table(results["rows"], {
            "step": ("what", "{}"), "mode": ("mode", "{}"), "seconds": ("seconds", "{:.3f}"),
            "TFLOP": ("tflop", "{:.2f}"), "TFLOP/s": ("tflop_per_s", "{:.1f}"),
            "of bf16 peak": ("of_bf16_peak", "{:.1%}"), "GPU memory (GiB)": ("gib", "{:.1f}"),
            "": ("note", "{}")}), "",
        "A video step is the preset's motion-generator updates (5; 1 with --quick) and one discriminator "
        "update; an image step is one D and one G update, without and with the lazy regularisers. TFLOP "
        "counts matrix products and convolutions, forward and backward (torch.utils.flop_counter); the "
        "memory is the peak allocated during one step, weights and optimiser states included.", ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mocohd.bench_gpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smoke presets on the CPU: checks that it runs")
    parser.add_argument("--out", type=Path, default=repo_root() / "runs" / "bench", help="report folder")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available() and not args.quick:
        parser.error("PyTorch sees no GPU here; `make bench` measures the CPU presets instead "
                     "(--quick checks this script on the CPU)")
    results = run(args.repeats, args.quick)
    text = report(results)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"gpu-{datetime.now().strftime('%Y%m%d-%H%M%S')}.md"
    path.write_text(text)
    path.with_suffix(".json").write_text(json.dumps(results, indent=2, default=str))
    print(text)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
