"""The motion explorers of notebooks 05 and 06 (mocohd.viz), without a widget frontend.

``motion_state`` renders one setting of the sliders; what it promises (the content seed fixes
frame 0, lambda scales the path exactly, lambda = 0 stands still) is checked on a tiny untrained
video generator. The explorers' static snapshot, which the book shows in place of the sliders,
is checked by building one inside an IPython shell, as a notebook kernel would."""

import matplotlib
import numpy as np
import pytest
import torch

from mocohd import viz
from mocohd.image_generator import Generator
from mocohd.motion import MotionGenerator
from mocohd.video_generator import VideoGenerator

matplotlib.use("Agg")
W_DIM = 32


def tiny_video_generator(seed: int = 0, scale: float = 30.0) -> VideoGenerator:
    torch.manual_seed(seed)
    g = Generator(16, W_DIM, 2, 1, channel_scale=0.0625)
    q, _ = torch.linalg.qr(torch.randn(W_DIM, W_DIM, generator=torch.Generator().manual_seed(seed)))
    motion = MotionGenerator(W_DIM, 16, 8, pca_comp=q.T, pca_stdev=torch.linspace(1.0, 0.2, W_DIM))
    with torch.no_grad():
        motion.w.mul_(scale)  # the official init barely moves; a visible path is easier to test
    return VideoGenerator(g, motion.eval())


@pytest.fixture(scope="module")
def vg():
    return tiny_video_generator()


def test_a_state_is_a_video_and_its_path_in_sigma_units(vg):
    state = viz.motion_state(vg, content_seed=3, noise_seed=5, n_frames=6)
    assert state["video"].shape == (6, 3, 16, 16) and state["coords"].shape == (6, 8)
    assert state["w_residual"] == 0.2  # None: lambda as trained
    assert torch.equal(state["coords"][0], torch.zeros(8))  # the path starts at w_0
    steps = (state["coords"][1:] - state["coords"][:-1]).abs()
    assert 0.05 < steps.max() <= 0.2 + 1e-5  # moving, and each step within lambda sigma_k
    assert state["video"].min() >= -1 and state["video"].max() <= 1


def test_the_content_seed_fixes_frame_0_and_the_noise_seed_only_the_motion(vg):
    a = viz.motion_state(vg, 3, 5, n_frames=6)
    b = viz.motion_state(vg, 3, 6, n_frames=6)
    c = viz.motion_state(vg, 4, 5, n_frames=6)
    again = viz.motion_state(vg, 3, 5, n_frames=6)
    assert torch.equal(a["video"], again["video"])  # a setting draws the same video every time
    assert not torch.allclose(a["coords"], b["coords"])  # another noise: another path ...
    assert (a["video"][0] - c["video"][0]).abs().mean() > 10 * (a["video"][0] - b["video"][0]).abs().mean()


def test_lambda_scales_the_path_exactly_and_zero_stands_still(vg):
    base = viz.motion_state(vg, 1, 2, n_frames=8)
    double = viz.motion_state(vg, 1, 2, w_residual=0.4, n_frames=8)
    still = viz.motion_state(vg, 1, 2, w_residual=0.0, n_frames=8)
    torch.testing.assert_close(double["coords"], 2 * base["coords"], atol=1e-5, rtol=1e-4)
    assert torch.equal(still["coords"], torch.zeros_like(still["coords"]))
    assert torch.equal(still["video"][-1], still["video"][0])
    assert torch.equal(double["video"][0], base["video"][0])  # lambda never touches the content
    assert vg.motion.w_residual == 0.2  # the model is left as it was trained
    with pytest.raises(ValueError, match="w_residual"):
        viz.motion_state(vg, 1, 2, w_residual=-0.1)


def test_the_figure_draws_each_path_on_one_shared_scale(vg):
    states = {"faces": viz.motion_state(vg, 1, 2, n_frames=9),
              "animals": viz.motion_state(tiny_video_generator(1), 1, 2, n_frames=9)}
    fig = viz.plot_motion_states(states, every=4)
    paths = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in paths] == ["faces, λ = 0.2", "animals, λ = 0.2"]
    assert [len(ax.artists) for ax in paths] == [3, 3]  # frames 0, 4 and 8 along each path
    assert paths[0].get_xlim() == paths[1].get_xlim()
    np.testing.assert_allclose(paths[0].collections[0].get_offsets(), states["faces"]["coords"][:, :2].numpy(),
                               atol=1e-6)


def test_outputs_become_html_in_order_of_preference():
    html = viz.outputs_html([{"text/html": "<b>v</b>", "image/png": "iVBOR", "text/plain": "x"},
                             {"image/png": b"\x89PNG", "text/plain": "y"}, {"text/plain": "a < b"}])
    assert html == '<b>v</b>\n<img src="data:image/png;base64,iVBORw==" alt="explorer snapshot"/>\n<pre>a &lt; b</pre>'


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()


def test_an_explorer_carries_its_widget_and_a_snapshot_of_the_starting_state(vg, shell):
    explorer = viz.cross_domain_explorer({"faces": vg, "animals": tiny_video_generator(1)}, content_seed=2,
                                         noise_seed=7, n_frames=5)
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live sliders, for Jupyter
    snapshot = bundle["text/html"]  # the picture, for the book and the tour's HTML
    assert snapshot.count("data:image/gif;base64,") == 2  # the two videos, looping
    assert snapshot.count("data:image/png;base64,") == 1  # their paths
    assert "content_seed = 2, noise_seed = 7, λ = 0.2" in snapshot and "Run this notebook in Jupyter" in snapshot
    sliders = explorer.children[:3]  # the widget's own attributes pass through
    assert [(s.description, s.value) for s in sliders] == [("content_seed", 2), ("noise_seed", 7), ("λ", 0.2)]


def test_the_motion_explorer_is_the_one_generator_case(vg, shell):
    explorer = viz.motion_explorer(vg, content_seed=1, w_residual=0.1, n_frames=4, max_residual=0.4)
    assert explorer.children[2].max == 0.4 and explorer.children[2].value == 0.1
    assert explorer.snapshot_html.count("data:image/gif;base64,") == 1
    with pytest.raises(ValueError, match="at least one"):
        viz.cross_domain_explorer({})
