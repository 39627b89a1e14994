"""What this CPU offers, as far as it decides mocohd's speed options.

bf16 autocast pays only on a CPU with bf16 instructions (x86: ``avx512_bf16`` or AMX's
``amx_bf16``; Arm: ``bf16``). Elsewhere PyTorch emulates bf16 with fp32 arithmetic plus
conversions, and `make bench` has measured it slower than plain fp32 on such a machine. The
trainers warn when a run asks for bf16 on a CPU that lacks it.
"""

from __future__ import annotations

from pathlib import Path

BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")  # x86 AVX-512, x86 AMX, Arm (the "Features" line)


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
            "notebook's parameters) for speed. Keep --bf16 true only to continue or reproduce a bf16 run "
            "bit for bit (the shipped runs say which they used)")
