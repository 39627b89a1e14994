"""Two guards for a training run: one run per output folder, and a stop at the first NaN.

**The folder lock.** Two runs started on one ``--out`` folder would interleave their
checkpoints, samples and log rows, and the survivor's checkpoint would hold a mix of both.
A run holds ``OUT/run.lock`` (its process id, host and start time) while it trains; a second
run on the folder refuses to start and says which process holds it. A lock left behind by a
process that has died (killed, out of memory, a power cut) is noticed and taken over, with a
warning; one held by a process on another machine (a shared disk) cannot be checked from
here, so the message says how to remove it by hand.

**The NaN stop.** A loss that turns NaN or infinite poisons every weight at the next
optimizer step, and a run that goes on would spend hours writing checkpoints of NaNs over
its last good one. The trainers check each step's logged losses; at the first non-finite
one they save the state of that step beside (not over) ``checkpoint.pt`` for inspection and
stop with a message that names the loss, the step and what to try.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
import warnings
from pathlib import Path

LOCK_NAME = "run.lock"


class RunFolderBusyError(RuntimeError):
    """Another live run trains into this folder."""


class RunFolderUnwritableError(RuntimeError):
    """The output folder cannot be created or written (no permission, read-only, full, or a file
    in its path): found before the first training step, by writing the lock."""


class NonFiniteLossError(FloatingPointError):
    """A training loss became NaN or infinite."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def resume_notice(checkpoint: Path) -> str:
    """What --resume says when there is nothing to resume (scripts rerun with --resume, so this
    starts the run rather than stopping; a mistyped --out shows here)."""
    return (f"--resume: no checkpoint at {checkpoint} yet, so this run starts from step 0; if you meant to "
            "continue a run, stop now (Ctrl-C) and give its folder as --out")


class RunFolderLock:
    """``with RunFolderLock(out): train...`` holds ``out/run.lock`` for the ``with`` block."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.held = False

    def _mine(self) -> dict:
        return {"pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}  # half-written by a process killed while writing it, or removed meanwhile

    def acquire(self) -> "RunFolderLock":
        """Take the lock; writing it is also the check that the folder can be written at all,
        made before any training step rather than at the first checkpoint."""
        for _ in range(2):  # a second try after removing a stale lock
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._take_over_or_refuse(self._read())
                continue
            except OSError as error:
                raise self._unwritable(error) from None
            try:
                with os.fdopen(fd, "w") as f:
                    json.dump(self._mine(), f)
            except OSError as error:  # a full disk lets the file be created, not written
                self.path.unlink(missing_ok=True)
                raise self._unwritable(error) from None
            self.held = True
            return self
        raise RunFolderBusyError(f"could not lock {self.folder}: another run took {self.path} at the same moment; "
                                 "give this run another --out")

    def _unwritable(self, error: OSError) -> RunFolderUnwritableError:
        return RunFolderUnwritableError(
            f"cannot write into the run folder {self.folder} ({error.strerror or error}): no step was trained. "
            "Give --out a folder you can write to, on a disk with free space "
            "(see docs/troubleshooting.md#run-folder-not-writable)")

    def _take_over_or_refuse(self, holder: dict) -> None:
        pid, host = holder.get("pid"), holder.get("host")
        here = host == socket.gethostname()
        if holder and here and pid == os.getpid():
            raise RunFolderBusyError(f"{self.folder} is already locked by this process: a run inside a run; "
                                     "train into another --out")
        if holder and not (here and isinstance(pid, int) and not _alive(pid)):
            since = holder.get("started", "an unknown time")
            raise RunFolderBusyError(
                f"{self.folder} is in use by another run (process {pid} on {host}, since {since}): two runs in one "
                f"folder would interleave their checkpoints and logs. Wait for it to finish or stop it, or give this "
                f"run another --out. If no run is going on there (it ran on another machine that has gone), delete "
                f"{self.path} (see docs/troubleshooting.md#locked-run-folder)")
        # the holder died without removing its lock (or the lock is unreadable): take the folder over
        warnings.warn(f"{self.path} was left by process {pid} on {host}, which is no longer running; taking the "
                      "folder over", stacklevel=3)
        self.path.unlink(missing_ok=True)

    def release(self) -> None:
        if self.held and self._read().get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)
        self.held = False

    def __enter__(self) -> "RunFolderLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def check_finite_losses(trainer, logs: dict) -> None:
    """Stop ``trainer`` (an image- or video-GAN trainer, whose step just logged ``logs``) at the
    first NaN or infinite loss: save its state to ``OUT/nonfinite_stepNNNNNN.pt`` for inspection
    (the last good ``checkpoint.pt`` is left as it is) and raise :class:`NonFiniteLossError`."""
    bad = {k: v for k, v in logs.items() if isinstance(v, float) and not math.isfinite(v)}
    if not bad:
        return
    saved = trainer.save(trainer.out / f"nonfinite_step{trainer.step:06d}.pt")
    last = trainer.out / "checkpoint.pt"
    named = ", ".join(f"{k} = {v}" for k, v in bad.items())
    where = f"its state is saved in {saved} to inspect" if saved else "rank 0 saved its state to inspect"
    resume = (f"the last good checkpoint, {last}, is untouched: resume from it (--resume) with a lower --lr"
              if last.exists() else "no checkpoint was written before it: start again with a lower --lr")
    raise NonFiniteLossError(f"training stopped at step {trainer.step}: {named}; {where}. The weights are NaN from "
                             f"here on, so going on would only overwrite good checkpoints with broken ones. {resume}, "
                             "--bf16 off if it ran in bf16, or another --seed "
                             "(see docs/troubleshooting.md#training-stopped-at-a-nan)")
