"""What this CPU offers, as far as it decides mocohd's speed options.

bf16 autocast pays only on a CPU with bf16 instructions (x86: ``avx512_bf16`` or AMX's
``amx_bf16``; Arm: ``bf16``). Elsewhere PyTorch emulates bf16 with fp32 arithmetic plus
conversions, and runs up to 50x slower than plain fp32 on such a machine (`make bench`
compares the two). Even with the instructions it does not always win: on AVX512-BF16 without AMX,
oneDNN's bf16 weight-gradient convolutions ran slower than fp32. So ``--bf16 auto`` (the
trainers' default) decides per machine (:func:`choose_bf16`): on a GPU by whether it computes
bf16, on a CPU without the instructions fp32, and on a CPU with them by timing the run's own
work in both precisions once, the answer kept in a small cache file (:func:`bf16_cache_path`).
``--bf16 on`` / ``off`` are obeyed, and the trainers warn when ``on`` meets a CPU that lacks
the instructions.

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

import hashlib
import json
import math
import os
import platform
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

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
    return ("bf16 autocast is on (--bf16 on or true), but this CPU has no bf16 instructions (none of "
            f"{', '.join(BF16_FLAGS)} among its flags), so PyTorch emulates bf16 and it usually runs slower "
            "than fp32: `make bench` compares the two here. Pass --bf16 auto (the default, which picks fp32 "
            "on such a CPU) or --bf16 false (bf16='auto' or False in a config or a notebook's parameters) for "
            "speed. Keep --bf16 true only to continue a bf16 run in its own precision (the shipped runs say "
            "which they used); bit for bit it repeats only on a CPU with the same instructions as the one it "
            "was trained on (see docs/troubleshooting.md#slow-machine)")


# --------------------------------------------------------------------------------------
# --bf16 on|off|auto: the choice, made once per run


BF16_SETTINGS = ("on", "off", "auto")


def bf16_setting(value) -> str:
    """A bf16 setting as "on", "off" or "auto". Accepts those words in any case, and the
    booleans (True, False, "true", "false") that configs, checkpoints and commands held before
    "auto" existed, meaning on and off; anything else is refused."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        word = value.strip().lower()
        if word in BF16_SETTINGS:
            return word
        if word in ("true", "false"):
            return "on" if word == "true" else "off"
    raise ValueError(f"bf16={value!r} is not a bf16 setting: use 'on', 'off' or 'auto' (True and False, as older "
                     "configs and checkpoints hold, mean on and off); on the command line --bf16 on|off|auto, "
                     "or true|false")


def bf16_cache_path() -> Path:
    """The file that keeps :func:`choose_bf16`'s measurements: ``bf16_choice.json`` in
    ``$MOCOHD_CACHE`` if set, else in ``~/.cache/mocohd``."""
    root = os.environ.get("MOCOHD_CACHE")
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "mocohd") / "bf16_choice.json"


def _cache_key(machine: dict, shape: dict) -> str:
    text = json.dumps({"machine": machine, "shape": shape}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _read_cache(path: Path) -> dict:
    """The cache's entries; {} when the file is missing or unreadable (it is rewritten whole)."""
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def _write_cache(path: Path, key: str, entry: dict) -> str | None:
    """Add ``entry`` under ``key``, atomically (a temporary file renamed over the old one);
    returns why it could not be written, or None."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        entries = {**_read_cache(path), key: entry}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entries, indent=1, sort_keys=True, default=str))
        os.replace(tmp, path)
    except OSError as e:
        return f"{type(e).__name__}: {e}"
    return None


def time_bf16(work: Callable, device: torch.device | str = "cpu", repeats: int = 3,
              clear: float = 1.5) -> tuple[float, float]:
    """Seconds of one ``work(autocast)`` call in fp32 and in bf16: ``work`` runs its forward pass
    under the context manager it is given (a no-op or bf16 autocast) and anything after it (a
    backward pass) outside, as a training step does. One untimed call of each precision first
    (kernel choice, caches), then up to ``repeats`` of each in turn, so that both meet the same
    load, stopping early once one is ``clear`` times faster than the other; the fastest of each
    is returned, the least disturbed by other processes."""
    device = torch.device(device)

    def once(bf16: bool) -> float:
        ctx = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        work(ctx)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - start

    once(False)
    once(True)
    seconds = {False: [], True: []}
    for _ in range(max(1, repeats)):
        for bf16 in (False, True):
            seconds[bf16].append(once(bf16))
        fp32_s, bf16_s = min(seconds[False]), min(seconds[True])
        if max(fp32_s, bf16_s) >= clear * min(fp32_s, bf16_s):
            break
    return fp32_s, bf16_s


def choose_bf16(setting, device: torch.device | str = "cpu", flags: set[str] | None = None,
                measure: Callable[[], tuple[float, float]] | None = None, shape: dict | None = None,
                cache: str | Path | None = None, machine: dict | None = None) -> tuple[bool, str]:
    """Whether a run computes in bf16 autocast, and why (one line, for the run's log).

    ``setting``: "on", "off" or "auto" (or the booleans older configs hold, see
    :func:`bf16_setting`). "on" and "off" are obeyed. "auto": on a GPU, bf16 where the GPU
    computes it (compute capability 8, Ampere, or later); on a CPU without bf16 instructions
    (``flags``, default this CPU's), fp32 without measuring; otherwise ``measure()`` decides:
    it returns the seconds of the run's own work in fp32 and in bf16 (e.g. :func:`time_bf16`),
    and bf16 is chosen only if it is faster. Its answer is kept in ``cache`` (default
    :func:`bf16_cache_path`), keyed by ``machine`` (default :func:`machine_signature`) and
    ``shape`` (what was measured: the generator's sizes, the batch), so a machine measures each
    kind of run once; delete the file to measure again."""
    setting = bf16_setting(setting)
    device = torch.device(device)
    if setting == "on":
        return True, "bf16 autocast, as asked (--bf16 on)"
    if setting == "off":
        return False, "fp32, as asked (--bf16 off)"
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        major, minor = torch.cuda.get_device_capability(device)
        if major >= 8:
            return True, f"bf16 autocast (--bf16 auto): {name} (compute capability {major}.{minor}) computes bf16"
        return False, (f"fp32 (--bf16 auto): {name} (compute capability {major}.{minor}) has no bf16 arithmetic "
                       "(it needs 8.0, Ampere, or later)")
    if device.type != "cpu":
        return False, f"fp32 (--bf16 auto): no rule for bf16 on a {device.type} device; --bf16 on tries it"
    native = has_native_bf16(flags)
    if native is False:
        return False, (f"fp32 (--bf16 auto): this CPU has no bf16 instructions (none of {', '.join(BF16_FLAGS)}), "
                       "so PyTorch would emulate bf16, many times slower")
    if measure is None:
        if native:
            return True, "bf16 autocast (--bf16 auto): this CPU has bf16 instructions (not measured)"
        return False, "fp32 (--bf16 auto): this CPU's instructions are unknown (not measured)"
    machine = machine_signature(device) if machine is None else machine
    path = bf16_cache_path() if cache is None else Path(cache)
    key = _cache_key(machine, shape or {})
    entry = _read_cache(path).get(key)
    if _valid_entry(entry):
        return entry["bf16"], _measured_reason(entry, f"measured on {entry.get('when', '?')}, read from {path}; "
                                                      "delete it to measure again")
    fp32_s, bf16_s = measure()
    if not all(isinstance(s, (int, float)) and math.isfinite(s) and s > 0 for s in (fp32_s, bf16_s)):
        raise ValueError(f"the bf16 measurement returned {fp32_s!r}, {bf16_s!r}: it must return the seconds of the "
                         "same work in fp32 and in bf16, two positive numbers")
    entry = {"bf16": bf16_s < fp32_s, "fp32_s": round(fp32_s, 6), "bf16_s": round(bf16_s, 6),
             "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine, "shape": shape}
    failed = _write_cache(path, key, entry)
    kept = f"not kept: {path} could not be written ({failed})" if failed else f"kept in {path}"
    return entry["bf16"], _measured_reason(entry, f"measured now, {kept}")


def _valid_entry(entry) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("bf16"), bool)
            and all(isinstance(entry.get(k), (int, float)) for k in ("fp32_s", "bf16_s")))


def _measured_reason(entry: dict, source: str) -> str:
    fp32_ms, bf16_ms = 1e3 * entry["fp32_s"], 1e3 * entry["bf16_s"]
    chosen = "bf16 autocast" if entry["bf16"] else "fp32"
    return (f"{chosen} (--bf16 auto): this CPU has bf16 instructions, and the run's work took {bf16_ms:.0f} ms in "
            f"bf16 against {fp32_ms:.0f} ms in fp32 ({source})")


def precision_log(previous: list[dict] | None, step: int, entry: dict) -> tuple[list[dict], bool]:
    """A run's precision per session, as :func:`machine_log` keeps its machines: the list a
    checkpoint holds with ``entry`` (setting, bf16, reason) added from ``step`` when its bf16
    differs from the last one's; and whether it did (None or [] starts a new list)."""
    log = list(previous or [])
    if log and log[-1].get("bf16") == entry.get("bf16"):
        return log, False
    return log + [{"from_step": step, **entry}], bool(log)


def recorded_precision(ckpt: dict) -> list[dict]:
    """A checkpoint's precision list (:func:`precision_log`); for one written before the list
    existed, one entry read off its config's bf16, which the last session ran with (since
    when is unknown: ``from_step`` None)."""
    if ckpt.get("precision"):
        return list(ckpt["precision"])
    saved = ckpt.get("config", {}).get("bf16")
    if isinstance(saved, bool):
        return [{"from_step": None, "setting": "on" if saved else "off", "bf16": saved,
                 "reason": "the checkpoint's config (written before checkpoints kept a precision list)"}]
    return []
