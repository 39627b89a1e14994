"""Training logs: one CSV row per logged step, readable by ``mocohd.viz.plot_losses``."""

from __future__ import annotations

import csv
import os
from pathlib import Path


def append_csv(path: Path, row: dict, fields: list[str]) -> None:
    """Append ``row`` (keys outside ``fields`` are dropped), writing the header to a new file.

    A resumed run may log more fields than the file's header names (a switch such as
    ``--cut-fakes`` turned on at the resume): the file is then rewritten, atomically, with the
    new columns added at the end and left empty in the earlier rows, so every row still lines
    up with the header."""
    path = Path(path)
    header = _header(path)
    if header is not None and [f for f in fields if f not in header]:
        header = _widen(path, header + [f for f in fields if f not in header])
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header or fields, extrasaction="ignore")
        if header is None:
            writer.writeheader()
        writer.writerow(row)


def trim_csv(path: Path, last_step: int) -> int:
    """Drop the rows logged after ``last_step`` (atomically); returns how many were dropped.

    A run logs a step's row before it writes that step's checkpoint, so a run killed between
    the two has logged a step that its resume will train again. Trimming the log back to the
    checkpoint's step on resume keeps every step in the log once."""
    path = Path(path)
    header = _header(path)
    if header is None or "step" not in header:
        return 0
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    kept = [row for row in rows if row["step"] and int(float(row["step"])) <= last_step]
    if len(kept) == len(rows):
        return 0
    _rewrite(path, header, kept)
    return len(rows) - len(kept)


def _header(path: Path) -> list[str] | None:
    if not path.exists() or path.stat().st_size == 0:
        return None
    with open(path, newline="") as f:
        return next(csv.reader(f))


def _widen(path: Path, header: list[str]) -> list[str]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    _rewrite(path, header, rows)
    return header


def _rewrite(path: Path, header: list[str], rows: list[dict]) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
