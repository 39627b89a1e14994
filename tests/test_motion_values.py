"""Value tests for the motion generator that the structural tests in test_motion.py leave open
(found by mutation testing): the official defaults, hand-computed losses, the sign of the
residual step, argument checks, seeded reproducibility, and what a damaged official file says."""

import pytest
import torch

from mocohd.motion import (MotionConfig, MotionGenerator, _infer_sizes, build_motion, draw_noise, fit_motion,
                           interpolate_midpoints, load_official_motion, motion_preset, mutual_information_loss,
                           pca_coordinates, smooth_motion_objective, walk_along_pc)
from test_motion import random_pca, single_thread, small_motion  # noqa: F401 (single_thread: autouse)

PAPER_SHAPES = {  # RNNModule with --latent_dimension 512 --h_dim 384 --n_pca 384
    "enc_cell.weight_ih": (1536, 512), "enc_cell.weight_hh": (1536, 384), "enc_cell.bias_ih": (1536,),
    "enc_cell.bias_hh": (1536,), "cell.weight_ih": (1536, 512), "cell.weight_hh": (1536, 384),
    "cell.bias_ih": (1536,), "cell.bias_hh": (1536,), "w": (384, 384), "b": (384,),
    "fc1.weight": (512, 768), "fc1.bias": (512,), "fc2.weight": (512, 512), "fc2.bias": (512,)}



def official_state_dict(model: MotionGenerator) -> dict:
    return {k: v.clone() for k, v in model.state_dict().items() if not k.startswith("pca_")}


# --- defaults and arguments ---------------------------------------------------------------


def test_constructor_defaults_are_the_official_ones():
    model = MotionGenerator()
    assert (model.w_dim, model.h_dim, model.n_pca, model.w_residual) == (512, 384, 384, 0.2)
    assert {k: tuple(v.shape) for k, v in official_state_dict(model).items()} == PAPER_SHAPES


@pytest.mark.parametrize("name", ["w_dim", "h_dim", "n_pca"])
@pytest.mark.parametrize("bad", [0, -3, 4.0, True])
def test_sizes_must_be_positive_ints(name, bad):
    sizes = dict(w_dim=8, h_dim=6, n_pca=4)
    sizes[name] = bad
    with pytest.raises(ValueError, match=rf"\b{name}\b must be a positive int"):
        MotionGenerator(**sizes)


def test_size_one_is_allowed():
    model = MotionGenerator(1, 1, 1)
    w, _, _ = model(torch.randn(2, 1), 3)
    assert w.shape == (2, 3, 1)


def test_pca_comp_and_stdev_come_together():
    pca = random_pca(16, 8)
    with pytest.raises(ValueError, match="both pca_comp and pca_stdev"):
        MotionGenerator(16, 12, 8, pca_comp=pca["comp"])
    with pytest.raises(ValueError, match="both pca_comp and pca_stdev"):
        MotionGenerator(16, 12, 8, pca_stdev=pca["stdev"])


def test_pca_of_the_wrong_shape_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="pca_comp must be .*fit_w_pca"):
        MotionGenerator(16, 12, 8, pca_comp=torch.randn(8, 32), pca_stdev=torch.ones(8))  # another generator's W
    with pytest.raises(ValueError, match=r"pca_stdev must be .*got shape \(5,\).*\(pca_stdev\.npy\)"):
        MotionGenerator(16, 12, 8, pca_comp=random_pca(16, 8)["comp"], pca_stdev=torch.ones(5))  # too few


def test_n_frames_must_be_a_positive_int():
    model = small_motion()
    for bad in (True, 3.0, 0):
        with pytest.raises(ValueError, match="n_frames"):
            model(torch.randn(2, 16), bad)


def test_config_and_build_pass_every_size_and_the_pca():
    cfg = MotionConfig(w_dim=16, h_dim=12, n_pca=8, w_residual=0.5)
    assert cfg.motion_kwargs() == dict(w_dim=16, h_dim=12, n_pca=8, w_residual=0.5)
    pca = random_pca(16, 8)
    model = build_motion(cfg, pca)
    assert (model.w_dim, model.h_dim, model.n_pca, model.w_residual) == (16, 12, 8, 0.5)
    assert torch.equal(model.pca_comp, pca["comp"]) and torch.equal(model.pca_stdev, pca["stdev"])
    placeholder = build_motion(motion_preset("smoke"))  # no PCA yet: the first axes of W, unit spread
    assert placeholder.h_dim == 48
    assert torch.equal(placeholder.pca_comp, torch.eye(48, 64)) and torch.equal(placeholder.pca_stdev, torch.ones(48))


# --- the step -------------------------------------------------------------------------------


def test_saturated_step_moves_plus_lambda_sigma_along_every_pc():
    # w = 0, b = +large: tanh(h A + b) = +1, so each frame adds lambda * sum_k sigma_k PC_k (the sign matters)
    model = small_motion(w_residual=0.3)
    with torch.no_grad():
        model.w.zero_()
        model.b.fill_(50.0)
    w0 = torch.randn(2, 16)
    w, _, _ = model(w0, 4)
    step = 0.3 * (model.pca_stdev[:, None] * model.pca_comp).sum(0)
    for t in range(4):
        torch.testing.assert_close(w[:, t], w0 + t * step, atol=1e-5, rtol=0)


def test_draw_noise_follows_like_dtype_and_the_generator():
    like = torch.zeros(3, 5, dtype=torch.float64)
    a = draw_noise(like, torch.Generator().manual_seed(4))
    assert a.dtype == torch.float64 and a.shape == (3, 5)
    assert torch.equal(a, torch.randn(3, 5, generator=torch.Generator().manual_seed(4)).double())


# --- losses on hand-computed inputs ------------------------------------------------------------


def test_mutual_information_loss_takes_the_cosine_over_the_feature_axis():
    e = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])  # (B=1, T=2, D=2)
    e_rec = torch.tensor([[[3.0, 0.0], [1.0, 0.0]]])  # frame 0 same direction (cos 1), frame 1 orthogonal (cos 0)
    assert mutual_information_loss(e_rec, e).item() == pytest.approx(-0.5, abs=1e-6)


def test_mutual_information_loss_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3, 8\).*\(2, 4, 8\).*same shape"):
        mutual_information_loss(torch.zeros(2, 3, 8), torch.zeros(2, 4, 8))


def test_smooth_motion_objective_by_hand():
    coords = torch.zeros(2, 4, 5)  # (B, T, n_pca); the defaults look at the first top=4 axes
    # clip 0: a jerky path ending at (2, 2, 2, 2); axis 4 (outside top) sits at 5 throughout
    coords[0, :, :4] = torch.tensor([[0.0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0], [2, 2, 2, 2]])
    coords[0, :, 4] = 5.0
    # clip 1: constant speed along axis 0, ending at 3: no second difference
    coords[1, :, 0] = torch.tensor([0.0, 1, 2, 3])
    # travelled (RMS over 4 axes): clip 0 |(2,2,2,2)|/2 = 2, clip 1 3/2 = 1.5 -> ((2-1)^2 + (1.5-1)^2)/2 = 0.625
    # second differences of clip 0: (-1, 1, 0, 0) and (1, 0, 2, 2): squares 2 + 9 = 11 over 2*2*4 = 16 entries
    expected = 0.625 + 10.0 * 11 / 16
    assert smooth_motion_objective(coords).item() == pytest.approx(expected, abs=1e-6)
    assert smooth_motion_objective(coords[1:]).item() == pytest.approx(0.25, abs=1e-6)  # smooth: only the distance


# --- helpers ----------------------------------------------------------------------------------


def test_interpolating_two_frames_inserts_their_midpoint():
    w = torch.tensor([[[0.0, 2.0], [4.0, 6.0]]])
    assert torch.equal(interpolate_midpoints(w), torch.tensor([[[0.0, 2.0], [2.0, 4.0], [4.0, 6.0]]]))


def test_walk_along_pc_default_amplitude_and_dtype():
    model = small_motion()
    w0 = torch.randn(1, 16)
    path = walk_along_pc(w0, model.pca_comp, model.pca_stdev, k=1, n_frames=8)
    torch.testing.assert_close(pca_coordinates(model, path)[0, 2, 1], torch.tensor(2.0), atol=1e-5, rtol=0)  # sin(pi/2) * 2
    half = walk_along_pc(w0.half(), model.pca_comp.half(), model.pca_stdev.half(), k=1, n_frames=8)
    assert half.dtype == torch.float16  # the path keeps the latents' precision


# --- fit_motion ---------------------------------------------------------------------------------


def test_fit_motion_defaults_and_seed_make_it_reproducible():
    # the defaults: mi_weight 1, batch 32, 16 frames, lr 1e-3, seed 0; the seed alone fixes w0 and the noise
    objective = smooth_motion_objective
    a, b = small_motion(seed=1), small_motion(seed=1)
    torch.manual_seed(123)
    logs_a = fit_motion(a, 2, objective)
    torch.manual_seed(456)  # the global stream must not matter
    logs_b = fit_motion(b, 2, objective, mi_weight=1.0, batch=32, n_frames=16, lr=1e-3, seed=0)
    assert logs_a == logs_b
    for (k, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p, q), k


def test_fit_motion_uses_adam_with_the_official_betas_and_the_given_lr(monkeypatch):
    made = []
    real_adam = torch.optim.Adam

    def spy(params, **kw):
        opt = real_adam(params, **kw)
        made.append(opt)
        return opt

    monkeypatch.setattr(torch.optim, "Adam", spy)
    model = small_motion()
    before = {k: p.detach().clone() for k, p in model.named_parameters()}
    fit_motion(model, 1, None, batch=4, n_frames=3, lr=0.05)
    assert made[0].defaults["betas"] == (0.5, 0.999) and made[0].defaults["lr"] == 0.05
    # Adam's first step moves every parameter with a gradient by about lr
    moved = max((p.detach() - before[k]).abs().max().item() for k, p in model.named_parameters())
    assert moved == pytest.approx(0.05, rel=1e-3)


def test_fit_motion_on_the_mi_loss_alone_or_the_objective_alone():
    logs = fit_motion(small_motion(), 2, None, mi_weight=1.0, batch=4, n_frames=3)
    assert [log["objective"] for log in logs] == [0.0, 0.0]
    model = small_motion()
    fc2 = model.fc2.weight.detach().clone()
    logs = fit_motion(model, 2, smooth_motion_objective, mi_weight=0.0, batch=4, n_frames=3)
    assert len(logs) == 2 and logs[0]["objective"] > 0
    assert torch.equal(model.fc2.weight, fc2)  # the MI head is not trained without the MI loss


# --- official checkpoints ------------------------------------------------------------------------


def test_infer_sizes_from_whatever_tensors_a_damaged_file_still_has():
    # the sizes a damaged file is checked (and reported) against
    z = torch.zeros
    assert _infer_sizes({}, 512) == (384, 384)  # nothing left: the paper's sizes
    assert _infer_sizes({}, 256) == (384, 256)  # n_pca never above w_dim
    assert _infer_sizes({"enc_cell.weight_hh": z(48, 12)}, 16) == (12, 16)
    assert _infer_sizes({"cell.weight_hh": z(48, 12), "b": z(8)}, 16) == (12, 8)
    assert _infer_sizes({"enc_cell.weight_hh": z(48, 12), "cell.weight_hh": z(40, 10)}, 16) == (12, 16)
    assert _infer_sizes({"w": z(12, 8)}, 16) == (12, 8)  # h_dim from w's rows, n_pca from its columns
    assert _infer_sizes({"b": z(8)}, 16) == (384, 8)
    # tensors of the wrong rank are not read
    assert _infer_sizes({"enc_cell.weight_hh": z(12), "w": z(12, 8, 1), "b": z(8, 1)}, 512) == (384, 384)


def test_load_official_motion_keeps_w_residual_and_accepts_a_mocohd_state_dict():
    source = small_motion(seed=2)
    loaded = load_official_motion(source.state_dict(), random_pca(16, 16, seed=2), w_residual=0.5)
    assert loaded.w_residual == 0.5
    for k, v in official_state_dict(source).items():
        assert torch.equal(loaded.state_dict()[k], v), k


def test_official_loading_errors_name_the_problem(tmp_path):
    pca = random_pca(16, 16)
    state = official_state_dict(small_motion())
    del state["b"], state["fc2.bias"]
    with pytest.raises(ValueError) as err:
        load_official_motion(state, pca)
    lines = [line.strip() for line in str(err.value).splitlines()]
    assert "missing (2): b, fc2.bias" in lines  # one problem per line
    assert "enc_cell.*" in lines[-1] and "modelR_epoch_*.pth" in lines[-1]
    with pytest.raises(FileNotFoundError, match="nowhere.pth"):
        load_official_motion(tmp_path / "nowhere.pth", pca)
    (tmp_path / "empty.pth").write_bytes(b"")
    with pytest.raises(ValueError, match="official MoCoGAN-HD motion checkpoint"):
        load_official_motion(tmp_path / "empty.pth", pca)
    with pytest.raises(ValueError, match="expected a state dict .*got list"):
        load_official_motion([1, 2], pca)
    for bad_pca in (None, {"stdev": torch.ones(16)}):
        with pytest.raises(ValueError, match="'comp' and 'stdev'.*pca_stats/"):
            load_official_motion(state, bad_pca)


def test_a_flat_pca_is_blamed_not_the_paper_sized_checkpoint():
    state = {k: torch.zeros(shape) for k, shape in PAPER_SHAPES.items()}
    with pytest.raises(ValueError, match="pca_comp must be"):
        load_official_motion(state, {"comp": torch.zeros(512), "stdev": torch.ones(384)})
