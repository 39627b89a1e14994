"""One checkpoint format for everything mocohd writes.

A checkpoint is a dict with ``format`` (what it holds), ``version``, ``config``,
``state_dicts``, ``step`` and ``rng`` (the RNG states needed to resume exactly). It is
written to a temporary file in the same folder and renamed, so a crash mid-write never
leaves a broken checkpoint behind, and it loads with ``weights_only=True``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
from pathlib import Path

import torch

VERSION = 1

# Classes that ``weights_only`` loading may build besides tensors and containers. rosinality's
# StyleGAN2 training script pickles its command line, an ``argparse.Namespace``, into every
# checkpoint as ``args``; a Namespace only holds attributes, and runs no code when unpickled.
SAFE_GLOBALS = (argparse.Namespace,)


def torch_load(path: str | Path):
    """``torch.load(path, weights_only=True)`` that also reads the :data:`SAFE_GLOBALS`."""
    with torch.serialization.safe_globals(list(SAFE_GLOBALS)):
        return torch.load(path, map_location="cpu", weights_only=True)


def save_checkpoint(path: str | Path, payload: dict) -> Path:
    """Write ``payload`` atomically: temp file in the same folder, fsync, rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path, expected_format: str | None = None) -> dict:
    """Load a mocohd checkpoint, with errors that say what is wrong and how to fix it."""
    return check_checkpoint(read_torch_file(path), path, expected_format)


def read_torch_file(path: str | Path):
    """``torch.load(path, weights_only=True)`` with errors that name the file and the fix."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; check the path, or run `make checkpoints` "
                                "to rebuild the shipped ones")
    try:
        return torch_load(path)
    except Exception as exc:  # truncated file, not a torch file, pickled objects...
        raise ValueError(f"{path} is not a readable mocohd checkpoint ({type(exc).__name__}: {exc}); "
                         "it may be truncated or from another program: re-download or retrain it") from exc


def check_checkpoint(ckpt, path: str | Path, expected_format: str | None = None) -> dict:
    """Raise unless ``ckpt`` (read from ``path``) is a mocohd checkpoint of ``expected_format``."""
    if not isinstance(ckpt, dict) or "format" not in ckpt:
        raise ValueError(f"{path} has no 'format' key: it is not a mocohd checkpoint. For a rosinality "
                         "StyleGAN2 file use mocohd.convert.load_rosinality_generator")
    if expected_format and ckpt["format"] != expected_format:
        raise ValueError(f"{path} holds a {ckpt['format']!r} checkpoint, expected {expected_format!r}")
    if ckpt.get("version", 0) > VERSION:
        raise ValueError(f"{path} was written by a newer mocohd (version {ckpt['version']} > {VERSION}); update mocohd")
    return ckpt


def rng_state() -> dict:
    """The CPU's random stream (every draw the trainers make themselves) and, once a run has
    used a GPU, each GPU's (layers that draw their own noise do so there: StyleGAN's noise
    inputs, DiffAugment, the path-length penalty)."""
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        # a run moved to a machine with fewer GPUs restores those it has
        for i, s in enumerate(state["cuda"][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(s, i)


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def remove_partial_writes(path: str | Path) -> list[Path]:
    """Delete the temporary files that :func:`save_checkpoint` left beside ``path`` when its
    process was killed mid-write (the checkpoint itself is then the previous, complete one).
    Call it only where no other process may be writing that checkpoint (a resuming run)."""
    path = Path(path)
    stale = sorted(path.parent.glob(f".{path.name}.*.tmp"))
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return stale
