"""Timing and FLOP counting for ``make bench``: medians of calls made in turn, FLOPs from
``torch.utils.flop_counter``, the process's peak memory, bf16 autocast on the CPU."""

from __future__ import annotations

import platform
import resource
import statistics
import time
from contextlib import nullcontext

import torch
from torch.utils.flop_counter import FlopCounterMode


def median_seconds(fn, repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls, after ``warmup`` untimed calls."""
    return interleaved_seconds({"fn": fn}, repeats, warmup)["fn"]


def interleaved_seconds(fns: dict, repeats: int, warmup: int = 1) -> dict:
    """Median wall time of each function, calling them in turn (a, b, a, b, ...) so that a
    change in the machine's load slows all of them alike and their ratios stay fair."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats!r}")
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


class _TotalOnly:
    """Stands in for FlopCounterMode's per-module tracker: its backward hooks break
    ``torch.autograd.grad`` (R1 and the gradient penalty use it), and only the total is needed."""

    parents = ("Global",)

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return None


def count_flops(fn) -> int:
    """FLOPs of one call of ``fn()`` (matmuls and convolutions, forward and backward)."""
    counter = FlopCounterMode(display=False)
    counter.mod_tracker = _TotalOnly()
    with counter:
        fn()
    return counter.get_total_flops()


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if platform.system() == "Darwin" else peak / 2**10


def autocast(bf16: bool):
    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else nullcontext()
