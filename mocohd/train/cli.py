"""Command-line helpers shared by the trainers: every config field becomes a ``--flag``."""

from __future__ import annotations

import argparse
from dataclasses import fields


def add_config_args(parser: argparse.ArgumentParser, cls, skip=()) -> None:
    """Every config field becomes an optional --flag (booleans take true/false)."""
    for f in fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        kind = {"bool": _bool, "int": int, "float": float}.get(str(f.type), str)
        parser.add_argument(flag, type=kind, default=None, help=f"(default: preset's {f.name})")


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def config_overrides(args, cls) -> dict:
    return {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name) is not None}
