"""Training logs: one CSV row per logged step, readable by ``mocohd.viz.plot_losses``."""

from __future__ import annotations

import csv
from pathlib import Path


def append_csv(path: Path, row: dict, fields: list[str]) -> None:
    """Append ``row`` (keys outside ``fields`` are dropped), writing the header to a new file."""
    new = not path.exists()
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)
