"""A training run killed at five points, one after another, resumes each time from its last
complete checkpoint and ends with the weights, optimiser states and loss log of a run that was
never interrupted.

Each kill is a SIGKILL sent by the process to itself (tests/fault_runner.py): no ``finally``
runs, as when the machine loses power or the out-of-memory killer strikes. The points: halfway
through writing a checkpoint, just after one was renamed into place, just after a loss row was
logged (before that step's checkpoint), and inside a motion-generator and a discriminator update.
"""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mocohd.config import image_preset

ROOT = Path(__file__).resolve().parent.parent
STEPS = 7
# (point, n-th time reached in that process): each resumed process is killed at its own point
FAULTS = [("checkpoint_write", 3), ("log_row", 2), ("motion_update", 3), ("after_rename", 1), ("d_update", 2),
          ("checkpoint_write", 1)]


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    from mocohd.bench import untrained_generator_files

    cfg = image_preset("smoke", size=32, style_dim=32, n_mlp=1, channel_scale=0.0625)
    return untrained_generator_files(tmp_path_factory.mktemp("gen"), cfg)[0]


def train_args(generator, out, extra=()):
    return ["video", "--preset", "smoke", "--image-generator", str(generator), "--n-clips", "8", "--steps", str(STEPS),
            "--g-steps", "2", "--ckpt-every", "1", "--sample-every", "1000", "--bf16", "false", "--threads", "1",
            "--device", "cpu", "--out", str(out), *extra]


def env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def logged_steps(out: Path) -> list[int]:
    with open(out / "log.csv") as f:
        return [int(row["step"]) for row in csv.DictReader(f)]


def test_killed_five_times_then_resumed_equals_the_uninterrupted_run(generator, tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    subprocess.run([sys.executable, "-m", "mocohd.train", *train_args(generator, straight)], check=True, env=env(),
                   capture_output=True)
    outcomes = []
    for i, (point, n) in enumerate(FAULTS):
        resume = ["--resume"] if i else []
        done = subprocess.run([sys.executable, str(ROOT / "tests" / "fault_runner.py"), f"{point}:{n}",
                               *train_args(generator, killed, resume)], env=env(), capture_output=True, text=True)
        assert done.returncode == -9, f"{point}:{n} should have been killed: {done.stderr[-2000:]}"
        ckpt = torch.load(killed / "checkpoint.pt", weights_only=True)  # always a complete checkpoint
        outcomes.append((point, ckpt["step"]))
    assert [step for _, step in outcomes] == sorted(step for _, step in outcomes)  # never back in time
    assert outcomes[-1][1] < STEPS, f"every fault should strike before the end: {outcomes}"
    subprocess.run([sys.executable, "-m", "mocohd.train", *train_args(generator, killed, ["--resume"])], check=True,
                   env=env(), capture_output=True)
    a = torch.load(straight / "checkpoint.pt", weights_only=True)
    b = torch.load(killed / "checkpoint.pt", weights_only=True)
    assert a["step"] == b["step"] == STEPS
    for name in ("motion", "d_3d", "d_img", "opt_motion", "opt_d3d", "opt_dimg"):
        flat_a, flat_b = _tensors(a["state_dicts"][name]), _tensors(b["state_dicts"][name])
        assert len(flat_a) == len(flat_b) and all(torch.equal(x, y) for x, y in zip(flat_a, flat_b)), name
    assert logged_steps(killed) == logged_steps(straight) == list(range(1, STEPS + 1))  # each step logged once
    assert not list(killed.glob(".checkpoint.pt.*")), "a killed write left its temporary file behind"


def _tensors(tree) -> list[torch.Tensor]:
    if isinstance(tree, torch.Tensor):
        return [tree]
    if isinstance(tree, dict):
        return [t for key in sorted(tree, key=str) for t in _tensors(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [t for item in tree for t in _tensors(item)]
    return [torch.tensor(float(tree))] if isinstance(tree, (int, float)) else []
