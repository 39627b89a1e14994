"""``python -m mocohd.bench_against REV``: this checkout's speed against an earlier commit's,
measured in one run.

A speed-up claimed from two benchmark runs made on different days, or while something else
shared the CPU, says little. Here both versions are timed by the same program, one after the
other, in alternating order (old, new, new, old, ...), so that a change in the machine's load
hits both alike:

1. ``git worktree add`` checks REV out into a temporary folder;
2. each round starts one child process per version, the child importing ``mocohd`` from
   that version's folder (``PYTHONPATH``); the child builds the same networks from the same
   seed and times, in fp32 and in bf16 autocast:

   - at the paper's widths (the official 64 px image generator, untrained; the ``paper``
     video preset at 2 clips x 16 frames, discriminators at ndf 64): one G_I forward of 16
     images, one motion-generator update (``g_update``), one discriminator update;
   - at the full preset over the shipped faces generator: one training iteration
     (``train_step``: 5 motion updates and one discriminator update);

3. the report gives the median over rounds of each, the old / new time ratio, and writes
   Markdown + JSON to ``runs/bench/against-<REV>-<timestamp>.*``.

The child calls only what both versions have (the presets, the trainer's ``g_update``,
``d_update``, ``train_step``, ``bench.untrained_generator_files``), so REV must be a commit
from after those existed (December 2026). This is a script, never a test.
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

WORKS = {
    "g_i": "paper widths: G_I forward (no grad), 16 images",
    "motion": "paper widths: motion-generator update, 2 clips x 16 frames",
    "d": "paper widths: discriminator update, 2 clips x 16 frames",
    "full_iteration": "full preset: one iteration (5 motion updates + 1 D update)",
}
PRECISIONS = ("fp32", "bf16")


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------
# The child: runs inside one version's package


def child(shipped_generator: str, repeats: int, works: list[str], precisions: list[str], quick: bool = False) -> dict:
    """Seconds of each work in each precision, for the ``mocohd`` on ``sys.path`` (``quick``: the
    smoke presets' sizes, which check that the program runs and time nothing worth reading)."""
    import warnings
    from dataclasses import replace

    import torch

    import mocohd
    from mocohd import bench
    from mocohd.config import image_preset, video_preset
    from mocohd.pca import pca_path_for
    from mocohd.train.video_gan import VideoGANTrainer

    warnings.simplefilter("ignore")  # the bf16 advice: both precisions are timed on purpose
    threads = os.environ.get("MOCOHD_BENCH_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    calls = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        preset = "smoke" if quick else "paper"
        generator, pca = bench.untrained_generator_files(tmp, image_preset(preset, size=32 if quick else 64))
        sizes = dict(frames=4) if quick else dict(frames=16, ndf=64, video_frame_size=64)
        images = 4 if quick else 16
        for precision in precisions:
            bf16 = precision == "bf16"
            if {"g_i", "motion", "d"} & set(works):
                cfg = video_preset(preset, image_generator=str(generator), pca=str(pca), bf16=bf16,
                                   channels_last=True, device="cpu", batch=2, n_clips=4, g_steps=1, **sizes)
                t = VideoGANTrainer(cfg, tmp / f"{preset}-{precision}")
                real = t.next_real()
                g_i = t.video_g.image_generator
                z = torch.randn(images, g_i.style_dim, generator=torch.Generator().manual_seed(0))
                noise = g_i.make_noise(images, generator=torch.Generator().manual_seed(1))

                @torch.no_grad()
                def forward(g_i=g_i, z=z, noise=noise, bf16=bf16):
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                        g_i([z], noise=noise)

                calls[("g_i", precision)] = forward
                calls[("motion", precision)] = lambda t=t, real=real: t.g_update(real)
                calls[("d", precision)] = lambda t=t, real=real: t.d_update(real)
            if "full_iteration" in works:
                cfg = video_preset("full", image_generator=shipped_generator,
                                   pca=str(pca_path_for(Path(shipped_generator))), bf16=bf16, channels_last=True,
                                   device="cpu", n_clips=16)
                t = VideoGANTrainer(replace(cfg), tmp / f"full-{precision}")
                calls[("full_iteration", precision)] = t.train_step
        calls = {key: fn for key, fn in calls.items() if key[0] in works}
        for fn in calls.values():  # warm-up: allocator, oneDNN's kernel choice
            fn()
        seconds = {key: [] for key in calls}
        for _ in range(repeats):
            for key, fn in calls.items():
                start = time.perf_counter()
                fn()
                seconds[key].append(time.perf_counter() - start)
    return {"package": str(Path(mocohd.__file__).parent), "threads": torch.get_num_threads(),
            "seconds": {f"{work}/{precision}": statistics.median(s) for (work, precision), s in seconds.items()}}


# --------------------------------------------------------------------------------------
# The parent: worktree, alternating children, report


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(repo_root()), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def run_child(tree: Path, args) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--repeats", str(args.repeats),
               "--works", *args.works, "--precisions", *args.precisions, "--shipped-generator",
               str(args.shipped_generator), *(["--quick"] if args.quick else [])]
    done = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the timing child for {tree} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(result["package"]).resolve() != (tree / "mocohd").resolve():
        raise RuntimeError(f"the child imported mocohd from {result['package']}, not from {tree}: "
                           "is another mocohd earlier on sys.path?")
    return result


def order(rounds: int) -> list[str]:
    """old, new, new, old, old, new, ...: each version goes first as often as second."""
    pairs = [("old", "new") if r % 2 == 0 else ("new", "old") for r in range(rounds)]
    return [side for pair in pairs for side in pair]


def summarize(runs: dict[str, list[dict]]) -> list[dict]:
    rows = []
    for key in runs["new"][0]["seconds"]:
        work, precision = key.split("/")
        old = statistics.median(r["seconds"][key] for r in runs["old"])
        new = statistics.median(r["seconds"][key] for r in runs["new"])
        rows.append({"work": WORKS[work], "precision": precision, "old_s": old, "new_s": new,
                     "speedup": old / new,
                     "old_all_s": [r["seconds"][key] for r in runs["old"]],
                     "new_all_s": [r["seconds"][key] for r in runs["new"]]})
    return rows


def report(result: dict) -> str:
    lines = [f"# This checkout against {result['rev']} ({result['rev_sha'][:10]})", "",
             f"New: {result['head_sha'][:10]}{' + uncommitted changes' if result['dirty'] else ''}. "
             f"{result['rounds']} rounds in the order {', '.join(result['order'])}; each child times every "
             f"call {result['repeats']} time(s) after one warm-up. Medians over rounds; load average "
             f"{result['load_before']} before, {result['load_after']} after; {result['threads']} torch threads."
             + (" --quick: the smoke presets' sizes, a check that both versions run, not a timing."
                if result.get("quick") else ""), "",
             "| work | precision | old (s) | new (s) | old / new |", "|---|---|---|---|---|"]
    for row in result["rows"]:
        lines.append(f"| {row['work']} | {row['precision']} | {row['old_s']:.3f} | {row['new_s']:.3f} "
                     f"| {row['speedup']:.2f}x |")
    lines += ["", f"{result['wall_s']:.0f} s in all."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mocohd.bench_against", description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", nargs="?", help="the earlier commit (any name git knows)")
    parser.add_argument("--rounds", type=int, default=3, help="children per version (default 3)")
    parser.add_argument("--repeats", type=int, default=1, help="timed calls per child after the warm-up")
    parser.add_argument("--works", nargs="+", choices=list(WORKS), default=list(WORKS))
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=list(PRECISIONS))
    parser.add_argument("--out", type=Path, default=repo_root() / "runs" / "bench", help="report folder")
    parser.add_argument("--shipped-generator", type=Path,
                        default=repo_root() / "data" / "checkpoints" / "faces_64.pt",
                        help="the generator of the full-preset row (both versions read this file)")
    parser.add_argument("--quick", action="store_true",
                        help="the smoke presets' sizes: checks that both versions run, times nothing worth reading")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(str(args.shipped_generator), args.repeats, args.works, args.precisions, args.quick)))
        return 0
    if args.rev is None:
        parser.error("name the earlier commit: python -m mocohd.bench_against 9f18db6")
    if args.rounds < 1 or args.repeats < 1:
        parser.error(f"--rounds and --repeats must be >= 1, got {args.rounds} and {args.repeats}")
    if args.quick and "full_iteration" in args.works:
        parser.error("--quick shrinks g_i, motion and d to the smoke presets; name them with --works "
                     "(full_iteration reads the shipped generator at its own size)")
    if "full_iteration" in args.works and not args.shipped_generator.is_file():
        parser.error(f"--shipped-generator {args.shipped_generator} not found: pass a generator checkpoint "
                     "(with its .pca.pt beside it) or leave full_iteration out of --works")
    try:
        rev_sha = git("rev-parse", "--verify", f"{args.rev}^{{commit}}")
    except subprocess.CalledProcessError:
        parser.error(f"git does not know the commit {args.rev!r}: name one from `git log --oneline`")
    start, load_before = time.perf_counter(), os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = Path(tmp) / "old"
        git("worktree", "add", "--detach", str(old_tree), rev_sha)
        try:
            trees = {"old": old_tree, "new": repo_root()}
            runs = {"old": [], "new": []}
            for side in order(args.rounds):
                print(f"{side} ({trees[side]}) ...", flush=True)
                runs[side].append(run_child(trees[side], args))
                print("  " + ", ".join(f"{k} {v:.2f} s" for k, v in runs[side][-1]["seconds"].items()), flush=True)
        finally:
            git("worktree", "remove", "--force", str(old_tree))
    result = {"rev": args.rev, "rev_sha": rev_sha, "head_sha": git("rev-parse", "HEAD"),
              "dirty": bool(git("status", "--porcelain", "--untracked-files=no")), "rounds": args.rounds,
              "repeats": args.repeats, "order": order(args.rounds), "threads": runs["new"][0]["threads"],
              "load_before": [round(x, 2) for x in load_before],
              "load_after": [round(x, 2) for x in os.getloadavg()], "runs": runs, "rows": summarize(runs),
              "quick": args.quick, "wall_s": time.perf_counter() - start}
    from mocohd.bench_report import write_report  # here, not at the top: the child runs as a script

    text = report(result)
    path = write_report(result, args.out, text + "\n", f"against-{args.rev}")
    print(text)
    print(f"written to {path} (+ .json)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
