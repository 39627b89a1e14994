"""Command line: ``python -m mocohd.train image ...`` and ``python -m mocohd.train video ...``."""

from __future__ import annotations

import argparse
import sys

import torch

from .cli import add_config_args, check_counts, config_overrides


def image_parser() -> argparse.ArgumentParser:
    from ..config import ImageGANConfig

    p = argparse.ArgumentParser(prog="python -m mocohd.train image", description="Train the StyleGAN2 image generator.")
    p.add_argument("--preset", default="full", choices=["smoke", "full", "paper"])
    p.add_argument("--out", required=True, help="run folder: checkpoint.pt, log.csv, samples/")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt if it exists")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    add_config_args(p, ImageGANConfig)
    return p


def image_config(args):
    """The ImageGANConfig that parsed command-line arguments ask for: the preset, then the flags."""
    from ..config import ImageGANConfig, image_preset

    return image_preset(args.preset, **config_overrides(args, ImageGANConfig))


def image_main(argv) -> None:
    from .image_gan import train_image_gan

    parser = image_parser()
    args = parser.parse_args(argv)
    check_counts(parser, args)
    if args.threads:
        torch.set_num_threads(args.threads)
    train_image_gan(image_config(args), args.out, resume=args.resume)


def video_main(argv) -> None:
    from .video_gan import video_main as train_video

    train_video(argv)


COMMANDS = {"image": image_main, "video": video_main}


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        sys.exit(f"usage: python -m mocohd.train {{{'|'.join(COMMANDS)}}} [options]; try `... image --help`")
    COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    main()
