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


def config_overrides(args, cls) -> dict:
    return {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name) is not None}
