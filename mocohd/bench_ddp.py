"""``python -m mocohd.bench_ddp``: the video trainer on 2 gloo processes against 1 process, and
what averaging the gradients costs, one all-reduce per module against one per parameter.

With torchrun each rank renders and scores its share of the batch, then the ranks average
their gradients before every optimizer step. mocohd flattens each module's gradients into
one buffer and all-reduces that (:func:`mocohd.train.video_gan.average_gradients`, as
StyleGAN3's training loop does); the straightforward way is one all-reduce per parameter
tensor. Both are timed here on the gradients of real training steps, in the same processes:

1. ``torch.distributed.run --standalone --nproc-per-node 2`` starts two ranks of 1 thread
   each; each builds the video trainer (``--preset``, default ``full``, over the shipped faces
   generator), runs one warm-up iteration, then ``--iterations`` timed ones;
2. with the last iteration's gradients in place, each rank times, in turn, the flat
   all-reduce and the per-parameter one of the motion generator and both discriminators;
3. the same trainer then runs in 1 process of 2 threads, for the iteration time.

The report gives seconds per iteration (1 and 2 processes), the all-reduce time per
iteration both ways (an iteration averages the motion generator ``g_steps`` times and each
discriminator once) and the number of collectives. Written to ``runs/bench/ddp-<time>.*``.
This is a script, never a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .bench_report import write_report
from .params import repo_root


def per_parameter_average(module) -> None:
    """The straightforward averaging, for comparison: one all-reduce per gradient tensor."""
    import torch
    import torch.distributed as dist

    n = dist.get_world_size()
    for p in module.parameters():
        if p.requires_grad:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            dist.all_reduce(p.grad)
            p.grad.div_(n)


def rank_main(args) -> dict:
    """One process: the trainer's iterations, then (with 2 ranks) both all-reduces timed."""
    import torch
    import torch.distributed as dist

    from .config import video_preset
    from .pca import pca_path_for
    from .train.video_gan import VideoGANTrainer, average_gradients

    distributed = "RANK" in os.environ
    if distributed:
        dist.init_process_group("gloo")
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = video_preset(args.preset, image_generator=str(args.generator), pca=str(pca_path_for(args.generator)),
                           bf16=args.bf16, channels_last=True, device="cpu", n_clips=args.n_clips)
        trainer = VideoGANTrainer(cfg, Path(tmp) / "run")
        trainer.train_step()  # warm-up
        iterations = []
        for _ in range(args.iterations):
            if distributed:
                dist.barrier()
            start = time.perf_counter()
            trainer.train_step()
            iterations.append(time.perf_counter() - start)
        result = {"world": dist.get_world_size() if distributed else 1, "threads": torch.get_num_threads(),
                  "batch": cfg.batch, "local_batch": trainer.local_batch, "g_steps": cfg.g_steps,
                  "iteration_s": statistics.median(iterations), "iterations_s": iterations}
        if distributed:
            modules = {"motion": trainer.motion, "d_3d": trainer.d_3d, "d_img": trainer.d_img_online}
            ways = {"flat": lambda m: average_gradients(m), "per_parameter": per_parameter_average}
            seconds = {(name, way): [] for name in modules for way in ways}
            for _ in range(args.allreduce_repeats):
                for (name, way) in seconds:
                    dist.barrier()
                    start = time.perf_counter()
                    ways[way](modules[name])
                    seconds[(name, way)].append(time.perf_counter() - start)
            result["allreduce_ms"] = {f"{name}/{way}": 1e3 * statistics.median(s) for (name, way), s in seconds.items()}
            result["tensors"] = {name: sum(p.requires_grad for p in m.parameters()) for name, m in modules.items()}
            result["parameters"] = {name: sum(p.numel() for p in m.parameters() if p.requires_grad)
                                    for name, m in modules.items()}
            dist.destroy_process_group()
    return result


def launch(args, processes: int, threads: int, out: Path) -> dict:
    command = [sys.executable, "-m", "mocohd.bench_ddp", "--rank", "--json", str(out), "--threads", str(threads),
               "--preset", args.preset, "--generator", str(args.generator), "--bf16", str(args.bf16),
               "--iterations", str(args.iterations), "--n-clips", str(args.n_clips),
               "--allreduce-repeats", str(args.allreduce_repeats)]
    if processes > 1:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                   str(processes), "-m", *command[2:]]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MOCOHD_THREADS": str(threads)}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(out.read_text())


def report(result: dict) -> str:
    one, two = result["one"], result["two"]
    g = two["g_steps"]
    per_iteration = {way: g * two["allreduce_ms"][f"motion/{way}"] + two["allreduce_ms"][f"d_3d/{way}"]
                     + two["allreduce_ms"][f"d_img/{way}"] for way in ("flat", "per_parameter")}
    tensors = two["tensors"]
    collectives = {"flat": g + 2, "per_parameter": g * tensors["motion"] + tensors["d_3d"] + tensors["d_img"]}
    lines = [f"# Video trainer on 2 gloo processes ({result['preset']} preset, {result['precision']})", "",
             f"Global batch {two['batch']} ({two['local_batch']} per rank), {g} motion updates + 1 D update per "
             f"iteration; median of {len(two['iterations_s'])} iterations after a warm-up.", "",
             "| run | seconds per iteration |", "|---|---|",
             f"| 1 process, {one['threads']} threads | {one['iteration_s']:.2f} |",
             f"| 2 processes, {two['threads']} thread each | {two['iteration_s']:.2f} |", "",
             "Averaging the gradients, per iteration (rank 0's medians of "
             f"{result['allreduce_repeats']}, both ways timed in turn on the same gradients):", "",
             "| way | collectives per iteration | ms per iteration | share of the 2-process iteration |",
             "|---|---|---|---|"]
    for way in ("flat", "per_parameter"):
        lines.append(f"| {way.replace('_', ' ')} | {collectives[way]} | {per_iteration[way]:.1f} | "
                     f"{per_iteration[way] / 1e3 / two['iteration_s']:.2%} |")
    lines += ["", f"Trainable tensors (parameters): motion {tensors['motion']} ({two['parameters']['motion']:,}), "
              f"3D D {tensors['d_3d']} ({two['parameters']['d_3d']:,}), image D {tensors['d_img']} "
              f"({two['parameters']['d_img']:,}). Per-parameter / flat: "
              f"{per_iteration['per_parameter'] / per_iteration['flat']:.2f}x.",
              "", f"{result['wall_s']:.0f} s in all."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mocohd.bench_ddp", description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="full", help="video preset (default full)")
    parser.add_argument("--generator", type=Path, default=repo_root() / "data" / "checkpoints" / "faces_64.pt",
                        help="image generator checkpoint, its .pca.pt beside it")
    parser.add_argument("--bf16", choices=["on", "off"], default="off",
                        help="precision of both runs (default off: the all-reduce is the same either way)")
    parser.add_argument("--iterations", type=int, default=3, help="timed iterations per run")
    parser.add_argument("--allreduce-repeats", type=int, default=20, help="timings of each all-reduce")
    parser.add_argument("--n-clips", type=int, default=16, help="toy clips drawn for the run")
    parser.add_argument("--out", type=Path, default=repo_root() / "runs" / "bench", help="report folder")
    parser.add_argument("--rank", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.allreduce_repeats < 1:
        parser.error("--iterations and --allreduce-repeats must be >= 1")
    if args.rank:
        result = rank_main(args)
        if int(os.environ.get("RANK", "0")) == 0:
            args.json.write_text(json.dumps(result))
        return 0
    if not args.generator.is_file():
        parser.error(f"--generator {args.generator} not found: pass an image generator checkpoint")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        print("2 processes, 1 thread each ...", flush=True)
        two = launch(args, 2, 1, Path(tmp) / "two.json")
        print("1 process, 2 threads ...", flush=True)
        one = launch(args, 1, 2, Path(tmp) / "one.json")
    result = {"preset": args.preset, "precision": "bf16" if args.bf16 == "on" else "fp32", "one": one, "two": two,
              "allreduce_repeats": args.allreduce_repeats, "wall_s": time.perf_counter() - start}
    text = report(result)
    path = write_report(result, args.out, text + "\n", "ddp")
    print(text)
    print(f"written to {path} (+ .json)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
