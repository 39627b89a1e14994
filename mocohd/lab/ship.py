"""Ship a lab run (``python -m mocohd.lab.trainer``) as the paper's runs are shipped.

``python -m mocohd.lab.ship video|state --domain D --run RUN [--name N] [--out-dir DIR] [--note T]``
does what ``python -m mocohd.ship video|state`` does, but records the lab trainer's command
with the lab's flags, and for a ``--steered-real`` run which construction of the steered
clips it trained on.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mocohd.checkpoint import load_checkpoint
from mocohd.config import to_dict
from mocohd.data.toyworld import DRAWABLE
from mocohd.lab.config import lab_preset
from mocohd.lab.trainer import PROG, recorded_steered_versions
from mocohd.ship import SHIPPED, ship_state, ship_video
from mocohd.train.video_gan import FORMAT


def steered_data_source(cfg: dict, domain: str, steered_versions: list[int | None]) -> str:
    """The call that drew a ``--steered-real`` run's real clips, with the construction versions its
    checkpoint records, oldest first (more than one if a resume changed them)."""
    names = [str(v) if v is not None else "not recorded (saved before checkpoints recorded it)"
             for v in steered_versions]
    return (f"mocohd.lab.steered.SteeredVideoDataset(<the run's video generator>, n={cfg['n_clips']}, "
            f"frames={cfg['frames']}, seed={cfg['seed'] + 777}, bf16={cfg['bf16']}), construction version "
            f"{' then '.join(names)}: the toy world's '{domain}' blinks drawn by {Path(cfg['image_generator']).name}")


def ship_lab_video(domain: str, run: Path, out_dir: Path = SHIPPED, note: str = "", name: str = "") -> dict:
    ckpt = load_checkpoint(Path(run) / "checkpoint.pt", FORMAT)
    cfg = ckpt["config"]
    source = steered_data_source(cfg, domain, recorded_steered_versions(ckpt)) if cfg.get("steered_real") else None
    return ship_video(domain, run, out_dir, note, name, trainer=PROG, full=to_dict(lab_preset("full")),
                      data_source=source, shipper="python -m mocohd.lab.ship")


def ship_lab_state(domain: str, run: Path, out_dir: Path = SHIPPED / "states", note: str = "", name: str = "") -> dict:
    return ship_state(domain, run, out_dir, note, name, trainer=PROG, full=to_dict(lab_preset("full")))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m mocohd.lab.ship", description=__doc__.splitlines()[0])
    p.add_argument("kind", choices=["video", "state"])
    p.add_argument("--domain", required=True, choices=DRAWABLE)
    p.add_argument("--run", type=Path, required=True, help="the lab training run folder (holds checkpoint.pt)")
    p.add_argument("--out-dir", type=Path, default=None, help="default: data/checkpoints (video), .../states (state)")
    p.add_argument("--note", default="", help="free text stored in the provenance")
    p.add_argument("--name", default="", help="file stem instead of DOMAIN_motion (video) or DOMAIN_state (state)")
    args = p.parse_args(argv)
    if args.kind == "video":
        result = ship_lab_video(args.domain, args.run, args.out_dir or SHIPPED, args.note, args.name)
    else:
        result = ship_lab_state(args.domain, args.run, args.out_dir or SHIPPED / "states", args.note, args.name)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
