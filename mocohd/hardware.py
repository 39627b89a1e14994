"""What this CPU offers, as far as it decides mocohd's speed options.

bf16 autocast pays only on a CPU with bf16 instructions (x86: ``avx512_bf16`` or AMX's
``amx_bf16``; Arm: ``bf16``). Elsewhere PyTorch emulates bf16 with fp32 arithmetic plus
conversions, and `make bench` has measured it slower than plain fp32 on such a machine. The
trainers warn when a run asks for bf16 on a CPU that lacks it.

The instructions also decide the bits. PyTorch's CPU kernels (oneDNN's above all) pick their
code by what the CPU offers, and different code rounds differently in the last bit, in fp32 as
in bf16. A GAN run magnifies such bits: notebook 05's steered run, continued from its 2,650
checkpoint on a CPU without AVX512-BF16, reached 3,000 iterations with LSTM weights up to 0.028
away from its continuation on a CPU with it. So a run repeats bit for bit only on CPUs with
the same kernel flags; the trainers record the CPU in every checkpoint (``machine_log``) and
warn when a resume crosses to another kind.
"""

from __future__ import annotations

import platform
from pathlib import Path

import torch

BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")  # x86 AVX-512, x86 AMX, Arm (the "Features" line)
# The flags by which oneDNN and ATen choose a kernel: two CPUs that agree on these run the same code.
KERNEL_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile",
                "asimd", "sve", "bf16")


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    """The instruction-set flags of the first CPU listed in ``cpuinfo``; empty where there is
    none to read (macOS, Windows)."""
    try:
        lines = Path(cpuinfo).read_text().splitlines()
    except OSError:
        return set()
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def cpu_model(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """The CPU's model name, or ``platform.processor()`` where ``cpuinfo`` has none."""
    try:
        for line in Path(cpuinfo).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_signature(cpuinfo: str | Path = "/proc/cpuinfo") -> dict:
    """What decides the bits of a CPU run: the kernel flags present and ATen's dispatch level."""
    flags = cpu_flags(cpuinfo)
    return {"cpu": cpu_model(cpuinfo), "kernel_flags": sorted(f for f in KERNEL_FLAGS if f in flags),
            "aten": str(torch.backends.cpu.get_cpu_capability()), "torch": str(torch.__version__)}


def _kernels(sig: dict) -> tuple:
    return tuple(sig.get("kernel_flags", ())), sig.get("aten"), sig.get("torch")


def _describe(sig: dict) -> str:
    flags = ", ".join(sig.get("kernel_flags", ())) or "no kernel flags"
    return f"{sig.get('cpu')}: {flags}, ATen {sig.get('aten')}, torch {sig.get('torch')}"


def machine_log(previous: list[dict] | None, step: int, here: dict | None = None) -> tuple[list[dict], str | None]:
    """The run's list of machines with this one added from ``step``, and a warning if it differs.

    ``previous`` is the list a checkpoint holds (None or empty for a new run, or for a
    checkpoint written before mocohd recorded machines). A new entry is added only when the
    kernels change, so a run that stays on one kind of CPU keeps a list of one."""
    here = {"from_step": step, **(cpu_signature() if here is None else here)}
    log = list(previous or [])
    if not log:
        return [here], None
    last = log[-1]
    if _kernels(last) == _kernels(here):
        return log, None
    warning = (f"this run's checkpoint was written at step {step} on another kind of CPU ({_describe(last)}) "
               f"than this one ({_describe(here)}). Training on is valid, but PyTorch picks other kernels "
               "here, so the run will not be bit-identical to one continued on the first CPU; the checkpoint "
               "records both (its 'machines' list)")
    return log + [here], warning


def has_native_bf16(flags: set[str] | None = None) -> bool | None:
    """True if the CPU computes in bf16 itself, False if PyTorch must emulate it, None if unknown."""
    flags = cpu_flags() if flags is None else flags
    if not flags:
        return None
    return any(f in flags for f in BF16_FLAGS)


def bf16_warning(bf16: bool, flags: set[str] | None = None) -> str | None:
    """The warning a run with ``bf16`` should print on this CPU, or None when there is nothing to say."""
    if not bf16 or has_native_bf16(flags) is not False:
        return None
    return ("bf16 autocast is on (--bf16 true), but this CPU has no bf16 instructions (none of "
            f"{', '.join(BF16_FLAGS)} among its flags), so PyTorch emulates bf16 and it usually runs slower "
            "than fp32: `make bench` compares the two here. Pass --bf16 false (bf16=False in a config or a "
            "notebook's parameters) for speed. Keep --bf16 true only to continue a bf16 run in its own "
            "precision (the shipped runs say which they used); bit for bit it repeats only on a CPU with the "
            "same instructions as the one it was trained on")
