"""Free latent paths climbed against a run's discriminators (mocohd.lab.path_ascent)."""

import pytest
import torch

from mocohd.lab.path_ascent import ascend_paths, cumulative_path, format_ascent
from mocohd.train.video_gan import VideoGANTrainer

from test_video_gan import small, tiny_generator  # noqa: F401  (a module fixture)


def test_cumulative_path_adds_each_residual_step_to_every_later_frame():
    base = torch.arange(2 * 4 * 3, dtype=torch.float).view(2, 4, 3)
    basis = torch.eye(2, 3)  # two directions: the first two axes of W
    u = torch.zeros(2, 3, 2)
    assert torch.equal(cumulative_path(base, u, basis, 0.2), base)  # u = 0: the path as given
    u[0, 1, 0] = 100.0  # clip 0, step into frame 2: tanh saturates at 1, so + lambda along axis 0
    w = cumulative_path(base, u, basis, 0.2)
    moved = torch.zeros_like(base)
    moved[0, 2:, 0] = 0.2  # frames 2 and 3 keep the step: a residual, not a jump back
    torch.testing.assert_close(w, base + moved)


def test_a_still_start_climbs_away_from_stillness(tiny_generator, tmp_path):  # noqa: F811
    cfg = small(tiny_generator, data="toy:faces_big_eyes_blinks", steps=1)
    VideoGANTrainer(cfg, tmp_path).fit(progress=False)
    result = ascend_paths(tmp_path / "checkpoint.pt", n=2, steps=2, lr=0.1, every=1)
    rows = result["rows"]
    assert [r["ascent_step"] for r in rows] == [0, 1, 2]
    assert rows[0]["pixel_motion"] == 0 and rows[0]["events"] == rows[0]["round_trips"] == 0  # still: every frame w0
    assert rows[-1]["pixel_motion"] > 0  # the discriminators' gradient moved the frames
    assert all(torch.isfinite(torch.tensor(r["g_loss"])) for r in rows)
    assert result["video"].shape == (2, cfg.frames, 3, 32, 32)
    assert "free paths from still, climbing video + image D" in format_ascent(result)
    real = result["real"]
    assert set(real) >= {"video_score", "image_score", "identity_drift", "round_trips"}
    alone = ascend_paths(tmp_path / "checkpoint.pt", n=2, steps=1, lr=0.1, judges=["video"])
    assert alone["judges"] == ("video",) and alone["rows"][-1]["pixel_motion"] > 0
    generated = ascend_paths(tmp_path / "checkpoint.pt", n=2, steps=0, start="generated")
    assert generated["rows"][0]["pixel_motion"] > 0  # the run's own paths, which move a little
    with pytest.raises(ValueError, match="start must be one of"):
        ascend_paths(tmp_path / "checkpoint.pt", start="random")
    with pytest.raises(ValueError, match="judges must name one or both"):
        ascend_paths(tmp_path / "checkpoint.pt", judges=["audio"])
