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
import pickle
import re
import tempfile
from pathlib import Path

import numpy as np
import torch

VERSION = 1

# Classes that ``weights_only`` loading may build besides tensors and containers. rosinality's
# StyleGAN2 training script pickles its command line, an ``argparse.Namespace``, into every
# checkpoint as ``args``; a Namespace only holds attributes, and runs no code when unpickled.
SAFE_GLOBALS = (argparse.Namespace,)


class UnsafeFileError(ValueError):
    """A file that holds pickled Python objects beyond tensors and plain containers: loading
    it would run whatever code the objects name, so mocohd refuses (nothing is unpickled)."""


RESAVE_FIX = ("If you trust where the file came from, load it once yourself with "
              "torch.load(path, weights_only=False) and save only its tensors and plain values: "
              "torch.save(model.state_dict(), path) for a network (or, for a mocohd checkpoint, its dict "
              "with configs as dicts of numbers and strings); otherwise get the file again from its source")


def unsafe_file_message(path: str | Path, reason: str = "") -> str:
    """What :class:`UnsafeFileError` says: the file, what torch refused, the fix."""
    why = f" ({reason})" if reason else ""
    return (f"{path} holds Python objects beyond tensors and plain containers{why}; mocohd refuses to "
            f"unpickle them, since unpickling can run any code (see docs/troubleshooting.md#unsafe-file-refused). "
            f"{RESAVE_FIX}")


# what torch's weights-only unpickler says when a file names a Python object it will not build
OBJECT_SIGNS = ("GLOBAL", "Can only create new object", "Can only build")


def _refusal_reason(error: Exception) -> str:
    """What torch's weights-only unpickler refused (the object a file names, or the pickle
    instruction), without torch's advice to load it with weights_only=False."""
    text = " ".join(str(error).split())
    if found := re.search(r"GLOBAL ([\w.]+)", text):
        return f"it names {found.group(1)}"
    if found := re.search(r"WeightsUnpickler error: (.*?)(?: Check the documentation|$)", text):
        return found.group(1).strip()
    return ""


def torch_load(path: str | Path):
    """``torch.load(path, weights_only=True)`` that also reads the :data:`SAFE_GLOBALS`.

    Raises :class:`UnsafeFileError` for a file whose unpickling would build other Python
    objects (and so could run code): nothing in it is built. Other errors (a truncated,
    empty or foreign file) are torch's own; :func:`read_torch_file` words them."""
    try:
        with torch.serialization.safe_globals(list(SAFE_GLOBALS)):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "Weights only load failed" not in str(error):
            raise
        if any(sign in str(error) for sign in OBJECT_SIGNS):
            raise UnsafeFileError(unsafe_file_message(path, _refusal_reason(error))) from None
        # an instruction the safe unpickler does not read: garbage, or a plain (not torch) pickle
        raise pickle.UnpicklingError(f"not a PyTorch file of tensors ({_refusal_reason(error)}): truncated, "
                                     "corrupt, or a plain pickle; nothing in it was unpickled") from None


def numpy_load(path: str | Path) -> dict | np.ndarray:
    """``np.load(path, allow_pickle=False)``, read whole: an array (``.npy``) or {name: array}
    (``.npz``). Raises :class:`UnsafeFileError` for object arrays (pickled Python objects)."""
    try:
        with open(path, "rb") as f:
            loaded = np.load(f, allow_pickle=False)
            if isinstance(loaded, np.lib.npyio.NpzFile):
                with loaded:
                    return {name: loaded[name] for name in loaded.files}
            return loaded
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise UnsafeFileError(unsafe_file_message(path, "a NumPy object array") + "; for NumPy files, "
                                  "np.save or np.savez with numeric arrays") from None
        raise


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


def read_torch_file(path: str | Path, what: str = "mocohd checkpoint"):
    """``torch.load(path, weights_only=True)`` with errors that name the file and the fix
    (``what``: the kind of file the caller expects, for the messages)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; check the path, or run `make checkpoints` "
                                "to rebuild the shipped ones")
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is empty (0 bytes), not a readable {what}: a copy or download that "
                         "stopped before it began; re-download or retrain it")
    try:
        return torch_load(path)
    except UnsafeFileError:
        raise
    except Exception as exc:  # truncated file, not a torch file...
        raise ValueError(f"{path} is not a readable {what} ({type(exc).__name__}: {exc}); "
                         "it may be truncated or from another program: re-download or retrain it") from exc


def check_checkpoint(ckpt, path: str | Path, expected_format: str | None = None) -> dict:
    """Raise unless ``ckpt`` (read from ``path``) is a mocohd checkpoint of ``expected_format``."""
    if not isinstance(ckpt, dict) or "format" not in ckpt:
        raise ValueError(f"{path} has no 'format' key: it is not a mocohd checkpoint. For a rosinality "
                         "StyleGAN2 file use mocohd.convert.load_rosinality_generator")
    if expected_format and ckpt["format"] != expected_format:
        raise ValueError(f"{path} holds a {ckpt['format']!r} checkpoint, expected {expected_format!r}: give a file "
                         f"of that kind (the shipped ones are in data/checkpoints/; a training run writes its own "
                         "RUN_FOLDER/checkpoint.pt)")
    if ckpt.get("version", 0) > VERSION:
        raise ValueError(f"{path} was written by a newer mocohd (version {ckpt['version']} > {VERSION}); update mocohd "
                         "(see docs/troubleshooting.md#checkpoint-does-not-fit)")
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
