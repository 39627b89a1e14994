"""``python tests/fault_runner.py POINT:N video ...``: ``python -m mocohd.train video ...`` that
kills itself (SIGKILL: no cleanup, no ``finally``) at the N-th time it reaches POINT.

Points (each counted from this process's start):
- ``checkpoint_write``: halfway through writing a checkpoint's bytes (the temporary file);
- ``after_rename``: just after a checkpoint has been renamed into place;
- ``log_row``: just after a row was appended to log.csv (before that step's checkpoint);
- ``motion_update`` / ``d_update``: at the start of a motion-generator / discriminator update.
"""

import io
import os
import signal
import sys

import torch

import mocohd.checkpoint as checkpoint
import mocohd.train.video_gan as video_gan
from mocohd.train.__main__ import main

POINTS = ("checkpoint_write", "after_rename", "log_row", "motion_update", "d_update")


def die() -> None:
    sys.stdout.flush(), sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install(point: str, n: int) -> None:
    seen = {"count": 0}

    def reached() -> bool:
        seen["count"] += 1
        return seen["count"] == n

    if point == "checkpoint_write":
        real_save = torch.save

        def save(obj, f, *args, **kwargs):
            if isinstance(f, (str, os.PathLike)) or not reached():
                return real_save(obj, f, *args, **kwargs)
            data = io.BytesIO()
            real_save(obj, data, *args, **kwargs)
            f.write(data.getvalue()[: len(data.getvalue()) // 2])
            f.flush()
            die()

        checkpoint.torch.save = save  # the module's torch is the torch module: patch its attribute
    elif point == "after_rename":
        real_replace = os.replace

        def replace(src, dst):
            real_replace(src, dst)
            if reached():
                die()

        checkpoint.os.replace = replace
    elif point == "log_row":
        real_append = video_gan.append_csv

        def append_csv(*args, **kwargs):
            real_append(*args, **kwargs)
            if reached():
                die()

        video_gan.append_csv = append_csv
    elif point in ("motion_update", "d_update"):
        name = {"motion_update": "g_update", "d_update": "d_update"}[point]
        real = getattr(video_gan.VideoGANTrainer, name)

        def update(self, *args, **kwargs):
            if reached():
                die()
            return real(self, *args, **kwargs)

        setattr(video_gan.VideoGANTrainer, name, update)
    else:
        raise SystemExit(f"unknown fault point {point!r}; choose one of {POINTS}")


if __name__ == "__main__":
    point, n = sys.argv[1].split(":")
    install(point, int(n))
    main(sys.argv[2:])
