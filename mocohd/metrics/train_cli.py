"""The command line and provenance file shared by the metric networks' training scripts.

``toy_features_train`` and ``toy_video_net_train`` each train a network, save it, score it
and write a provenance JSON beside the weights; both take the same kind of options (integer
fields of their ``TrainConfig``). This module holds what they share.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mocohd.params import repo_root


def flag(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def train_parser(prog: str, description: str, default_out: Path, defaults, options: dict[str, str]):
    """A parser with one ``train`` subcommand: ``--out`` and one int option per ``options`` field."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train, score and save the network with its provenance JSON")
    train.add_argument("--out", type=Path, default=default_out, help="weights file (.pt); the JSON goes beside it")
    for name, text in options.items():
        train.add_argument(flag(name), type=int, default=getattr(defaults, name),
                           help=f"{text} (default {getattr(defaults, name)})")
    return parser


def config_from_args(parser, args, config_class, options: dict[str, str]):
    """The ``TrainConfig`` the options ask for; ``--seed`` may be 0, every other option at least 1."""
    if args.out.suffix != ".pt":
        parser.error(f"--out {args.out}: give a weights file name ending in .pt (its provenance JSON goes beside it)")
    for name in options:
        lowest = 0 if name == "seed" else 1
        if getattr(args, name) < lowest:
            parser.error(f"{flag(name)} must be at least {lowest}, got {getattr(args, name)}")
    return config_class(**{name: getattr(args, name) for name in options})


def command_line(prog: str, args, defaults, options: dict[str, str], root: Path) -> str:
    """The command as one would retype it from the repository root: output and non-default options."""
    out = args.out.resolve()
    parts = [f"python -m {prog} train", f"--out {out.relative_to(root) if out.is_relative_to(root) else out}"]
    parts += [f"{flag(name)} {getattr(args, name)}" for name in options
              if getattr(args, name) != getattr(defaults, name)]
    return " ".join(parts)


def write_provenance(record: dict, weights: Path) -> Path:
    """Write ``record`` as ``<weights>.json`` (a temporary file, then a rename)."""
    json_path = weights.with_suffix(".json")
    tmp = json_path.with_name(json_path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(json_path)
    return json_path


def run(prog: str, description: str, config_class, options: dict[str, str], default_out: Path, train_and_ship,
        summary: tuple[str, ...], argv: list[str] | None = None) -> dict:
    """``python -m PROG train [--out F] [--OPTION N ...]``: parse, check, train and ship, print
    the ``summary`` fields of the provenance record, and return the record."""
    defaults = config_class()
    parser = train_parser(f"python -m {prog}", description, default_out, defaults, options)
    args = parser.parse_args(argv)
    cfg = config_from_args(parser, args, config_class, options)
    record = train_and_ship(cfg, args.out, command_line(prog, args, defaults, options, repo_root()))
    print(json.dumps({k: record[k] for k in summary}, indent=1))
    return record
