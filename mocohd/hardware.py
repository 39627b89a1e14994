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

The trainers also run on a GPU (``--device``, :func:`training_device`); the GPU's name and
CUDA version join the record then, since its kernels decide the bits in the same way.
"""

from __future__ import annotations

import os
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


def gpu_signature(device: torch.device) -> dict:
    """What decides the bits of a run on ``device`` besides the CPU: the GPU and CUDA ({} on a CPU)."""
    if device.type != "cuda":
        return {}
    return {"gpu": torch.cuda.get_device_name(device), "cuda": str(torch.version.cuda)}


def machine_signature(device: torch.device | str = "cpu") -> dict:
    """The CPU's signature, with the GPU's when the run computes on one."""
    return {**cpu_signature(), **gpu_signature(torch.device(device))}


def training_device(name: str = "auto") -> torch.device:
    """The device a trainer computes on: ``auto`` (a GPU when PyTorch sees one, else the CPU),
    ``cpu``, ``cuda`` or ``cuda:N``. Under torchrun, ``auto`` and ``cuda`` take the process's own
    GPU (LOCAL_RANK), as one process per GPU is torchrun's custom."""
    name = (name or "auto").strip().lower()
    if name == "cpu":
        return torch.device("cpu")
    if name != "auto" and not name.startswith("cuda"):
        raise ValueError(f"--device {name}: use auto, cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        if name == "auto":
            return torch.device("cpu")
        raise ValueError(f"--device {name}, but PyTorch sees no GPU (torch {torch.__version__} is "
                         f"{'a CPU build' if torch.version.cuda is None else 'built for CUDA ' + torch.version.cuda}); "
                         "pass --device cpu, or install PyTorch's CUDA build on a machine with an NVIDIA GPU")
    if name in ("auto", "cuda"):
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    else:
        device = torch.device(name)
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"--device {device}: this machine has {torch.cuda.device_count()} GPU(s), "
                         f"numbered from 0; pick one of them")
    return device


def _kernels(sig: dict) -> tuple:
    return tuple(sig.get("kernel_flags", ())), sig.get("aten"), sig.get("torch"), sig.get("gpu"), sig.get("cuda")


def _describe(sig: dict) -> str:
    flags = ", ".join(sig.get("kernel_flags", ())) or "no kernel flags"
    gpu = f", on {sig['gpu']} (CUDA {sig.get('cuda')})" if sig.get("gpu") else ""
    return f"{sig.get('cpu')}: {flags}, ATen {sig.get('aten')}, torch {sig.get('torch')}{gpu}"


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
    kind = "CPU" if last.get("gpu") == here.get("gpu") else "device"
    warning = (f"this run's checkpoint was written at step {step} on another kind of {kind} ({_describe(last)}) "
               f"than this one ({_describe(here)}). Training on is valid, but PyTorch picks other kernels "
               f"here, so the run will not be bit-identical to one continued on the first {kind}; the checkpoint "
               "records both (its 'machines' list)")
    return log + [here], warning


def has_native_bf16(flags: set[str] | None = None) -> bool | None:
    """True if the CPU computes in bf16 itself, False if PyTorch must emulate it, None if unknown."""
    flags = cpu_flags() if flags is None else flags
    if not flags:
        return None
    return any(f in flags for f in BF16_FLAGS)


def bf16_warning(bf16: bool, flags: set[str] | None = None, device: torch.device | str = "cpu") -> str | None:
    """The warning a run with ``bf16`` should print on this CPU, or None when there is nothing to say
    (a GPU run computes bf16 on the GPU, which has it)."""
    if not bf16 or torch.device(device).type != "cpu" or has_native_bf16(flags) is not False:
        return None
    return ("bf16 autocast is on (--bf16 true), but this CPU has no bf16 instructions (none of "
            f"{', '.join(BF16_FLAGS)} among its flags), so PyTorch emulates bf16 and it usually runs slower "
            "than fp32: `make bench` compares the two here. Pass --bf16 false (bf16=False in a config or a "
            "notebook's parameters) for speed. Keep --bf16 true only to continue a bf16 run in its own "
            "precision (the shipped runs say which they used); bit for bit it repeats only on a CPU with the "
            "same instructions as the one it was trained on")
