"""The training guards: one run per output folder (a live holder refuses a second run, a dead
one's lock is taken over), and a NaN or infinite loss stops training with its state saved."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from test_video_gan import small, tiny_generator  # noqa: F401  (a module fixture)

from mocohd.checkpoint import load_checkpoint
from mocohd.config import image_preset
from mocohd.train.guards import (LOCK_NAME, NonFiniteLossError, RunFolderBusyError, RunFolderLock,
                                  RunFolderUnwritableError)
from mocohd.train.image_gan import ImageGANTrainer, train_image_gan

ROOT = Path(__file__).resolve().parents[1]


def tiny_image_cfg(**kw):
    base = dict(size=32, n_images=8, style_dim=16, n_mlp=1, channel_scale=0.0625, batch=2, steps=2, bf16=False,
                channels_last=False, log_every=1, sample_every=100, ckpt_every=1)
    return image_preset("smoke", **{**base, **kw})


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def lock_held_by(folder: Path, pid: int, host: str | None = None) -> Path:
    import json
    import socket

    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK_NAME).write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(),
                                                "started": "2026-12-07T18:00:00+0000"}))
    return folder


def a_dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


# --------------------------------------------------------------------------------------
# The folder lock


def test_a_second_run_on_a_folder_in_use_refuses_and_changes_nothing(tmp_path):
    run = tmp_path / "run"
    train_image_gan(tiny_image_cfg(), run, progress=False)  # a finished run: checkpoint, log, config
    assert not (run / LOCK_NAME).exists()  # released at the end
    lock_held_by(run, os.getppid())  # a live process that is not this one
    before = snapshot(run)
    with pytest.raises(RunFolderBusyError, match=rf"in use by another run \(process {os.getppid()} on .*give this "
                                                 r"run another --out.*delete .*run.lock"):
        train_image_gan(tiny_image_cfg(steps=4), run, resume=True, progress=False)
    assert snapshot(run) == before


def test_the_video_command_refuses_a_folder_in_use_before_building_anything(tmp_path):
    from mocohd.train.video_gan import video_main

    run = lock_held_by(tmp_path / "run", os.getppid())
    with pytest.raises(RunFolderBusyError, match="in use by another run"):
        video_main(["--preset", "smoke", "--out", str(run), "--image-generator", str(tmp_path / "nowhere.pt")])
    assert sorted(p.name for p in run.iterdir()) == [LOCK_NAME]


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    dead = a_dead_pid()
    run = lock_held_by(tmp_path / "run", dead)
    with pytest.warns(UserWarning, match=rf"left by process {dead} .* no longer running; taking the folder over"):
        lock = RunFolderLock(run).acquire()
    assert f'"pid": {os.getpid()}' in (run / LOCK_NAME).read_text()
    lock.release()
    assert not (run / LOCK_NAME).exists()


def test_an_unreadable_lock_is_taken_over(tmp_path):
    (tmp_path / LOCK_NAME).write_text("{half a json")  # a holder killed while writing it
    with pytest.warns(UserWarning, match="taking the folder over"):
        with RunFolderLock(tmp_path):
            pass


def test_a_lock_held_on_another_machine_is_left_to_the_user(tmp_path):
    run = lock_held_by(tmp_path / "run", a_dead_pid(), host="another-machine")
    with pytest.raises(RunFolderBusyError, match="on another-machine.*delete .*run.lock"):
        RunFolderLock(run).acquire()


def test_a_run_inside_a_run_on_the_same_folder_refuses(tmp_path):
    with RunFolderLock(tmp_path):
        with pytest.raises(RunFolderBusyError, match="already locked by this process"):
            RunFolderLock(tmp_path).acquire()
    assert not (tmp_path / LOCK_NAME).exists()


def test_two_processes_one_folder_then_the_holder_is_killed(tmp_path):
    """A real second process holds the folder; killed (no clean-up), its lock is taken over."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from mocohd.train.guards import RunFolderLock; "
                               "RunFolderLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)",
         str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunFolderBusyError, match=f"process {holder.pid}"):
            RunFolderLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
    with pytest.warns(UserWarning, match=f"process {holder.pid}.*no longer running"):
        with RunFolderLock(tmp_path):
            assert f'"pid": {os.getpid()}' in (tmp_path / LOCK_NAME).read_text()


def test_the_lock_is_released_when_training_fails(tmp_path):
    with pytest.raises(ValueError, match="power of two"):
        train_image_gan(tiny_image_cfg(size=48), tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / LOCK_NAME).exists()


# --------------------------------------------------------------------------------------
# The NaN stop


def test_a_nan_loss_stops_image_training_and_keeps_the_last_good_checkpoint(tmp_path):
    trainer = ImageGANTrainer(tiny_image_cfg(steps=4), tmp_path)
    trainer.fit(steps=2, progress=False)
    good = (tmp_path / "checkpoint.pt").read_bytes()
    with torch.no_grad():
        next(trainer.d.parameters()).fill_(float("nan"))  # a diverged discriminator
    with pytest.raises(NonFiniteLossError, match=r"stopped at step 3: d_loss = nan.*saved in .*nonfinite_step000003.pt "
                                                 r"to inspect.*checkpoint.pt, is untouched: resume from it"):
        trainer.fit(steps=4, progress=False)
    assert (tmp_path / "checkpoint.pt").read_bytes() == good
    saved = load_checkpoint(tmp_path / "nonfinite_step000003.pt", "mocohd.image_gan")
    assert saved["step"] == 3 and saved["state_dicts"]["d"]  # the state of the step that went wrong


def test_an_infinite_loss_stops_video_training(tiny_generator, tmp_path):  # noqa: F811
    from mocohd.train.video_gan import VideoGANTrainer

    trainer = VideoGANTrainer(small(tiny_generator, steps=2), tmp_path)
    with torch.no_grad():
        for p in trainer.motion.parameters():
            p.fill_(float("inf"))
    with pytest.raises(NonFiniteLossError, match=r"stopped at step 1: .*(nan|inf).*nonfinite_step000001.pt.*"
                                                 r"no checkpoint was written before it"):
        trainer.fit(progress=False)
    assert (tmp_path / "nonfinite_step000001.pt").is_file() and not (tmp_path / "checkpoint.pt").exists()


def test_an_unwritable_run_folder_fails_before_any_step(tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    cfg = image_preset("smoke", size=32, n_images=8, style_dim=16, n_mlp=1, channel_scale=0.0625, batch=2, steps=1)
    with pytest.raises(RunFolderUnwritableError, match=r"cannot write into the run folder .*Not a directory.*no step "
                                                       r"was trained.*troubleshooting.md#run-folder-not-writable"):
        train_image_gan(cfg, tmp_path / "a_file" / "run", progress=False)
    assert (tmp_path / "a_file").read_text() == "not a folder"


def test_a_full_disk_at_the_lock_leaves_no_lock_behind(tmp_path, monkeypatch):
    import json

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(json, "dump", full)  # the lock file is created, then cannot be written
    with pytest.raises(RunFolderUnwritableError, match="No space left on device"):
        RunFolderLock(tmp_path / "run").acquire()
    assert not (tmp_path / "run" / LOCK_NAME).exists()


def test_a_full_disk_mid_checkpoint_keeps_the_previous_one_whole(tmp_path, monkeypatch):
    import mocohd.checkpoint as checkpoint

    path = checkpoint.save_checkpoint(tmp_path / "checkpoint.pt", {"format": "x", "step": 1, "w": torch.ones(3)})
    before = path.read_bytes()
    real_save = torch.save

    def save_until_full(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint.torch, "save", save_until_full)
    with pytest.raises(OSError, match="No space left"):
        checkpoint.save_checkpoint(path, {"format": "x", "step": 2, "w": torch.zeros(3)})
    monkeypatch.setattr(checkpoint.torch, "save", real_save)
    assert path.read_bytes() == before and load_checkpoint(path)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]  # the temporary file is gone too
