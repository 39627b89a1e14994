import random

import numpy as np
import pytest
import torch

from mocohd import params


def test_validate_returns_checked_values_and_creates_out_dir(tmp_path):
    ckpt = tmp_path / "g.pt"
    ckpt.write_bytes(b"x")
    out = tmp_path / "run" / "nb"
    p = params.validate("smoke", 3, str(out), size=64, checkpoint=str(ckpt), data_root=None)
    assert p == {"mode": "smoke", "seed": 3, "size": 64, "checkpoint": ckpt, "data_root": None, "out_dir": out}
    assert out.is_dir()


def test_validate_seeds_all_generators(tmp_path):
    params.validate("full", 7, tmp_path)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    params.validate("full", 7, tmp_path)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "quick"}, "mode must be 'smoke'.*'quick'"),
    ({"seed": -1}, "seed must be a non-negative int, got -1"),
    ({"seed": 1.5}, "seed must be a non-negative int, got 1.5"),
    ({"seed": True}, "seed must be"),
    ({"size": 48}, "size must be a positive power of two.*48"),
    ({"size": -64}, "power of two.*-64"),
    ({"size": 0}, "power of two"),
    ({"checkpoint": "no/such/file.pt"}, "checkpoint = 'no/such/file.pt'.*does not exist.*repository root"),
])
def test_validate_rejects_bad_values(tmp_path, kwargs, message):
    args = {"mode": "smoke", "seed": 0, "out_dir": tmp_path / "out", **kwargs}
    with pytest.raises(ValueError, match=message):
        params.validate(**args)
    assert not (tmp_path / "out").exists()  # nothing created for a bad call


def test_out_dir_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(ValueError, match="is a file"):
        params.validate("smoke", 0, tmp_path / "f")


def test_relative_paths_are_taken_from_the_repo_root():
    root = params.repo_root()
    assert (root / "pyproject.toml").is_file() and (root / "mocohd").is_dir()
    p = params.validate("smoke", 0, "build/test-params-out", data=".")
    assert p["data"] == root and p["out_dir"] == root / "build" / "test-params-out"
    assert params.shipped_checkpoint("g.pt") == root / "data" / "checkpoints" / "g.pt"


def test_by_mode():
    assert params.by_mode("smoke", 1, 2) == 1 and params.by_mode("full", 1, 2) == 2
    with pytest.raises(ValueError):
        params.by_mode("fast", 1, 2)


def test_thread_setting_from_environment(tmp_path, monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("MOCOHD_THREADS", "1")
        params.validate("smoke", 0, tmp_path)
        assert torch.get_num_threads() == 1
        monkeypatch.setenv("MOCOHD_THREADS", "lots")
        with pytest.raises(ValueError, match="MOCOHD_THREADS"):
            params.validate("smoke", 0, tmp_path)
    finally:
        torch.set_num_threads(before)
