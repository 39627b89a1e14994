"""Notebook parameters: the one validation call at the top of every notebook.

Every notebook starts with a cell tagged ``parameters`` (papermill replaces its values) and,
right after it, one call::

    p = params.validate(mode, seed, out_dir, size=size, data_root=data_root, checkpoint=checkpoint)

``validate`` stops the notebook at once with a ``ValueError`` that names the bad value and
the fix, and otherwise

- creates ``out_dir``;
- seeds Python's ``random``, NumPy's global generator and PyTorch (``torch.manual_seed``), so a
  notebook run is repeatable from its ``seed`` parameter;
- leaves PyTorch's thread count alone (PyTorch already uses every physical core), unless the
  environment variable ``MOCOHD_THREADS`` asks for a number, e.g. to share a machine.

Paths: a relative path is taken relative to the repository root (not the current folder), so
``data_root="data/ucf101"`` means the same thing in JupyterLab, under papermill and in the
tests. ``~`` is expanded. A path parameter set to ``None`` means "not given" and is not checked.
"""

from __future__ import annotations

import numbers
import os
import random
from pathlib import Path

MODES = ("smoke", "full")


def repo_root() -> Path:
    """The checkout this package was installed from (``pip install -e .``).

    ``MOCOHD_ROOT`` overrides it, for a non-editable install next to a checkout.
    """
    if os.environ.get("MOCOHD_ROOT"):
        return Path(os.environ["MOCOHD_ROOT"]).expanduser().resolve()
    return Path(__file__).resolve().parents[1]


def shipped_checkpoint(name: str) -> Path:
    """Where a checkpoint shipped with the repository lives: ``data/checkpoints/<name>``.

    The path is returned whether or not the file exists; pass it to :func:`validate` (or load
    it) to have a missing file reported.
    """
    return repo_root() / "data" / "checkpoints" / name


def resolve_path(value: str | os.PathLike) -> Path:
    """``~`` expanded; relative paths taken from the repository root."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else repo_root() / path


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"mode must be 'smoke' (fast check, CI) or 'full' (the real run), got {mode!r}; "
                         f"set the parameter, e.g. papermill -p mode smoke")
    return mode


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}; e.g. seed = 0")
    return int(seed)


def check_power_of_two(size, name: str = "size") -> int:
    """A positive power of two (the generators double the resolution block by block)."""
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1 or size & (size - 1):
        raise ValueError(f"{name} must be a positive power of two (e.g. 32, 64, 128), got {size!r}")
    return int(size)


def check_path(name: str, value) -> Path:
    """An existing file or folder, as a resolved Path."""
    if not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"{name} must be a path (str), got {value!r}")
    path = resolve_path(value)
    if not path.exists():
        hint = " (relative paths are taken from the repository root)" if not Path(value).expanduser().is_absolute() else ""
        raise ValueError(f"{name} = {str(value)!r}: {path} does not exist{hint}; "
                         f"point {name} at an existing file or folder, or set it to None")
    return path


def by_mode(mode: str, smoke, full):
    """``smoke`` in smoke mode, ``full`` in full mode: ``steps = by_mode(mode, 50, 3000)``."""
    return smoke if check_mode(mode) == "smoke" else full


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and, where present, CUDA) global generators."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _apply_thread_setting() -> None:
    threads = os.environ.get("MOCOHD_THREADS")
    if threads:
        import torch

        if not threads.isdigit() or int(threads) < 1:
            raise ValueError(f"MOCOHD_THREADS must be a positive int, got {threads!r}; unset it to use all cores")
        torch.set_num_threads(int(threads))


def validate(mode, seed, out_dir, size=None, **paths) -> dict:
    """Check the notebook parameters, create ``out_dir``, seed the generators.

    Returns ``{"mode", "seed", "out_dir", "size", **paths}`` with paths as ``pathlib.Path``
    (``None`` stays ``None``).
    """
    checked = {
        "mode": check_mode(mode),
        "seed": check_seed(seed),
        "size": None if size is None else check_power_of_two(size),
    }
    if not isinstance(out_dir, (str, os.PathLike)):
        raise ValueError(f"out_dir must be a folder path (str), got {out_dir!r}")
    for name, value in paths.items():
        checked[name] = None if value is None else check_path(name, value)
    out = resolve_path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out_dir = {str(out_dir)!r} is a file, not a folder; choose another out_dir")
    out.mkdir(parents=True, exist_ok=True)
    checked["out_dir"] = out
    seed_everything(checked["seed"])
    _apply_thread_setting()
    return checked
