"""Command-line helpers shared by the trainers: every config field becomes a ``--flag``."""

from __future__ import annotations

import argparse
from dataclasses import fields


def add_config_args(parser: argparse.ArgumentParser, cls, skip=()) -> None:
    """Every config field becomes an optional --flag (booleans take true/false; a field marked
    ``metadata={"cli": "bf16"}`` takes on, off, auto, true or false)."""
    for f in fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        if f.metadata.get("cli") == "bf16":
            parser.add_argument(flag, type=_bf16, default=None, metavar="{on,off,auto}",
                                help=f"on, off or auto (true/false: on/off) (default: preset's {f.name})")
            continue
        kind = {"bool": _bool, "int": int, "float": float}.get(str(f.type), str)
        parser.add_argument(flag, type=kind, default=None, help=f"(default: preset's {f.name})")


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _bf16(text: str) -> bool | str:
    """--bf16: on/true -> True, off/false -> False (the booleans configs held before "auto", so a
    recorded command reads back to the config it came from), auto -> "auto"."""
    from ..hardware import bf16_setting

    try:
        setting = bf16_setting(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected on, off or auto (or true/false, the same as on/off), "
                                         f"got {text!r}") from None
    return {"on": True, "off": False}.get(setting, setting)


# integer settings that count something, so must be at least 1 (or 0 where listed apart): a
# negative --steps would otherwise train nothing and say nothing, a --batch 0 fail deep in torch
AT_LEAST_ONE = ("steps", "batch", "n_images", "n_clips", "frames", "time_step", "chunk", "log_every", "sample_every",
                "ckpt_every", "d_reg_every", "g_reg_every", "path_batch_shrink", "balance_pool", "threads")
AT_LEAST_ZERO = ("seed", "g_steps", "ndf", "video_frame_size")


def check_counts(parser: argparse.ArgumentParser, args, also: tuple[str, ...] = ()) -> None:
    """``parser.error`` (exit code 2, naming the flag) for a count given below its least value;
    ``also`` names a command's own counts that must be at least 1 (``clips``, ``videos``)."""
    for name in AT_LEAST_ONE + also + AT_LEAST_ZERO:
        value = getattr(args, name, None)
        least = 0 if name in AT_LEAST_ZERO else 1
        if value is not None and not isinstance(value, bool) and value < least:
            parser.error(f"--{name.replace('_', '-')} must be at least {least}, got {value}")


def config_overrides(args, cls) -> dict:
    return {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name) is not None}
