import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from mocohd import viz


def test_video_grid_from_float_tensor_and_uint8():
    videos = torch.full((5, 4, 3, 8, 10), 1.0)  # white
    grid = viz.video_grid(videos, columns=3, pad=2)
    assert grid.shape == (4, 2 * 8 + 2, 3 * 10 + 2 * 2, 3) and grid.dtype == np.uint8
    assert (grid[:, :8, :10] == 255).all()
    uint8 = np.zeros((2, 4, 8, 10, 3), np.uint8)
    grid = viz.video_grid(uint8, scale=2, pad=0)
    assert grid.shape == (4, 16, 40, 3) and (grid == 0).all()
    assert viz.video_grid(torch.from_numpy(uint8), pad=0).shape == (4, 8, 20, 3)  # e.g. ToyClips.to_uint8()


def test_video_grid_pads_shorter_videos_with_their_last_frame():
    a = np.zeros((3, 4, 4, 3), np.uint8)
    b = np.stack([np.full((4, 4, 3), v, np.uint8) for v in (10, 20, 30, 40, 50)])
    grid = viz.video_grid([a, b], pad=0)
    assert grid.shape == (5, 4, 8, 3)
    assert grid[4, 0, 4, 0] == 50 and grid[4, 0, 0, 0] == 0


def test_image_grid_and_bad_shapes():
    images = torch.zeros(6, 3, 5, 5)
    assert viz.image_grid(images, columns=2, pad=1).shape == (3 * 5 + 2, 2 * 5 + 1, 3)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        viz.image_grid(np.zeros((6, 5, 5), np.uint8))


def test_show_videos_emits_html(monkeypatch):
    shown = []
    monkeypatch.setattr(viz.mediapy, "show_videos", lambda videos, **kw: shown.append((videos, kw)))
    viz.show_videos(torch.zeros(3, 4, 3, 16, 16), titles=["a", "b", "c"], fps=5)
    videos, kw = shown[0]
    assert len(videos) == 3 and videos[0].shape == (4, 128, 128, 3)  # enlarged 8x for display
    assert kw["titles"] == ["a", "b", "c"] and kw["fps"] == 5
    with pytest.raises(ValueError, match="2 titles for 3 videos"):
        viz.show_videos(torch.zeros(3, 4, 3, 16, 16), titles=["a", "b"])


def test_real_mediapy_html_for_a_gif():
    html = viz.mediapy.show_videos([np.zeros((3, 8, 8, 3), np.uint8)], codec="gif", return_html=True)
    assert "data:image/gif;base64" in html


def test_plots(tmp_path):
    ax = viz.plot_series(np.random.rand(2, 10, 3), ["a", "b", "c"], title="factors")
    assert len(ax.lines) == 6
    path = tmp_path / "losses.csv"
    path.write_text("step,loss_d,loss_g\n0,1.0,2.0\n10,0.5,1.5\n20,0.25,1.0\n")
    ax = viz.plot_losses(path, smooth=2)
    assert ax.get_xlabel() == "step" and [t.get_text() for t in ax.get_legend().get_texts()] == ["loss_d", "loss_g"]
    assert len(viz.plot_losses({"loss": [3, 2, 1]}).lines) == 1
    ax = viz.plot_trajectory(np.random.rand(9, 2), torch.zeros(9, 3, 8, 8), every=4)
    assert len(ax.artists) == 3  # frames 0, 4 and 8
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        viz.plot_trajectory(np.zeros((9, 3)))
    fig = viz.show_images(torch.zeros(3, 3, 8, 8), titles=["x", "y", "z"])
    assert len(fig.axes) == 3
    probe = {"step": 5, "real_minus_fake": {"video": 0.1, "image": 0.2},
             "factors": {f: {"video": (0.01 * k, 0.002), "image": (-0.01 * k, 0.003)} for k, f in enumerate("abc")}}
    axes = viz.plot_probe(probe)
    assert [[p.get_height() for p in ax.patches] for ax in axes] == [[0.0, 0.01, 0.02], [0.0, -0.01, -0.02]]
    gaps = [line.get_ydata()[0] for ax in axes for line in ax.lines if line.get_label() == "real - fake"]
    assert gaps == [0.1, 0.2]


def test_widgets():
    seen = []
    explorer = viz.slider_explorer(lambda yaw, n: seen.append((yaw, n)), yaw=(-1.0, 1.0, 0.1, 0.0), n=(0, 4, 1, 2))
    assert [type(w).__name__ for w in explorer.children[:2]] == ["FloatSlider", "IntSlider"]
    scrubber = viz.frame_scrubber(np.zeros((5, 8, 8, 3), np.uint8))
    slider, image = scrubber.children
    slider.value = 3
    assert slider.max == 4 and image.value[:4] == b"\x89PNG"


def test_train_with_live_plot_runs_to_the_step_and_keeps_every_row():
    import matplotlib

    matplotlib.use("Agg")
    from mocohd.viz import train_with_live_plot

    class Counting:  # a trainer whose losses say which iteration made them
        step = 3  # resumed: three iterations already done

        def train_step(self):
            self.step += 1
            return {"g": float(self.step), "d": -float(self.step)}

    history = train_with_live_plot(Counting(), 7, ("g", "d"), redraws=2)
    assert [h["step"] for h in history] == [4, 5, 6, 7]
    assert [h["g"] for h in history] == [4.0, 5.0, 6.0, 7.0] and history[-1]["d"] == -7.0
