"""The motion generator: official structure and init, residual steps bounded along PCA axes,
the MI loss, long sequences, interpolation, and loading the official checkpoint layout."""

import numpy as np
import pytest
import torch

from mocohd.motion import (MOTION_PRESETS, MotionGenerator, build_motion, fit_motion, interpolate_midpoints,
                           load_official_motion, motion_preset, mutual_information_loss, noise_spread, one_thread,
                           pca_coordinates, smooth_motion_objective, walk_along_pc)



@pytest.fixture(autouse=True)
def single_thread():
    """Tiny matrices: one thread is faster than two fighting over a busy machine."""
    with one_thread():
        yield


def random_pca(w_dim: int, k: int, seed: int = 0) -> dict:
    """Orthonormal rows (as a PCA gives) with decreasing standard deviations."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(w_dim, w_dim, generator=g))
    return {"comp": q.T[:k].contiguous(), "stdev": torch.linspace(2.0, 0.1, k)}


def small_motion(w_dim=16, h_dim=12, n_pca=8, seed=0, **kw) -> MotionGenerator:
    torch.manual_seed(seed)
    pca = random_pca(w_dim, w_dim, seed)
    return MotionGenerator(w_dim, h_dim, n_pca, pca_comp=pca["comp"], pca_stdev=pca["stdev"], **kw)


# --- presets and shapes ---------------------------------------------------------------


@pytest.mark.parametrize("name", list(MOTION_PRESETS))
def test_shapes_for_every_preset(name):
    cfg = motion_preset(name)
    model = build_motion(cfg, random_pca(cfg.w_dim, cfg.n_pca))
    w0 = torch.randn(1, cfg.w_dim)
    with torch.no_grad():
        w, e, e_rec = model(w0, cfg.n_frames)
    assert w.shape == (1, cfg.n_frames, cfg.w_dim)
    assert e.shape == e_rec.shape == (1, cfg.n_frames - 1, cfg.w_dim)
    assert torch.equal(w[:, 0], w0)


def test_paper_preset_and_parameter_shapes_match_official():
    cfg = motion_preset("paper")
    assert (cfg.w_dim, cfg.h_dim, cfg.n_pca, cfg.w_residual, cfg.n_frames) == (512, 384, 384, 0.2, 16)
    shapes = {k: tuple(v.shape) for k, v in MotionGenerator(**cfg.motion_kwargs()).state_dict().items()}
    assert shapes == {
        "enc_cell.weight_ih": (1536, 512), "enc_cell.weight_hh": (1536, 384), "enc_cell.bias_ih": (1536,),
        "enc_cell.bias_hh": (1536,), "cell.weight_ih": (1536, 512), "cell.weight_hh": (1536, 384),
        "cell.bias_ih": (1536,), "cell.bias_hh": (1536,), "w": (384, 384), "b": (384,),
        "fc1.weight": (512, 768), "fc1.bias": (512,), "fc2.weight": (512, 512), "fc2.bias": (512,),
        "pca_comp": (384, 512), "pca_stdev": (384,)}


def test_preset_overrides_and_unknown_preset():
    assert motion_preset("full", n_frames=32).n_frames == 32
    assert motion_preset("full").w_dim == 128
    with pytest.raises(ValueError, match="unknown preset"):
        motion_preset("huge")


def test_official_initialisation():
    model = small_motion(w_dim=16, h_dim=12)
    for lstm in (model.enc_cell, model.cell):
        for weight in (lstm.weight_ih, lstm.weight_hh):
            for block in weight.detach().chunk(4):  # (h_dim, in): orthogonal columns (in <= h) or rows
                gram = block.T @ block if block.shape[1] <= block.shape[0] else block @ block.T
                torch.testing.assert_close(gram, torch.eye(len(gram)), atol=1e-5, rtol=0)
        assert not lstm.bias_ih.any() and not lstm.bias_hh.any()
    assert not model.b.any()
    assert 0.01 < model.w.std().item() < 0.03


# --- the trajectory ---------------------------------------------------------------------


def test_each_residual_step_is_bounded_along_each_pca_axis():
    model = small_motion(w_dim=16, h_dim=12, n_pca=8, w_residual=0.3)
    with torch.no_grad():
        model.w.mul_(500)  # saturate tanh, so the bound is reached, not just respected
        w, _, _ = model(torch.randn(4, 16), 12)
    steps = w[:, 1:] - w[:, :-1]  # (B, T-1, D)
    along = steps @ model.pca_comp.T  # (B, T-1, n_pca): projection on each unit direction
    bound = 0.3 * model.pca_stdev
    assert (along.abs() <= bound * (1 + 1e-4)).all()
    assert (along.abs() > 0.9 * bound).float().mean() > 0.5  # mostly saturated
    # nothing moves outside the span of the first n_pca directions
    outside = steps - (along @ model.pca_comp)
    assert outside.abs().max() < 1e-4


def test_residuals_are_cumulative_and_first_frame_is_w0():
    model = small_motion()
    w0 = torch.randn(3, 16)
    w, _, _ = model(w0, 6, generator=torch.Generator().manual_seed(0))
    assert torch.equal(w[:, 0], w0)
    # w_t - w_0 is the sum of the steps: it grows, it does not reset each frame
    dist = (w - w0[:, None]).norm(dim=-1)  # (B, T)
    assert (dist[:, -1] > dist[:, 1]).all()


def test_same_seed_same_trajectory_and_long_unrolls():
    model = small_motion()
    w0 = torch.randn(2, 16)
    a = model(w0, 40, generator=torch.Generator().manual_seed(7))
    b = model(w0, 40, generator=torch.Generator().manual_seed(7))
    c = model(w0, 40, generator=torch.Generator().manual_seed(8))
    for x, y in zip(a, b):
        assert torch.equal(x, y)
    assert not torch.equal(a[0], c[0])
    assert a[0].shape == (2, 40, 16)
    # the first 16 frames of a 40-frame unroll are the 16-frame video (same noise stream)
    short = model(w0, 16, generator=torch.Generator().manual_seed(7))
    assert torch.equal(short[0], a[0][:, :16])


def test_single_frame():
    model = small_motion()
    w, e, e_rec = model(torch.randn(2, 16), 1)
    assert w.shape == (2, 1, 16) and e.shape == e_rec.shape == (2, 0, 16)


def test_bad_inputs_say_what_to_do():
    model = small_motion()
    with pytest.raises(ValueError, match="get_latent"):
        model(torch.randn(2, 8), 4)
    with pytest.raises(ValueError, match="n_frames"):
        model(torch.randn(2, 16), 0)
    with pytest.raises(ValueError, match="n_pca"):
        MotionGenerator(16, 12, 8, pca_comp=torch.randn(4, 16), pca_stdev=torch.ones(4))
    with pytest.raises(ValueError, match="w_dim"):
        MotionGenerator(16, 12, 32)


def test_works_under_bf16_autocast():
    model = small_motion()
    w0 = torch.randn(2, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        w, e, e_rec = model(w0, 5)
        loss = mutual_information_loss(e_rec, e)
    assert w.dtype == torch.float32 and torch.equal(w[:, 0], w0)
    loss.backward()
    assert model.cell.weight_hh.grad is not None and torch.isfinite(loss)


# --- MI loss --------------------------------------------------------------------------------


def test_mutual_information_loss_values():
    e = torch.randn(3, 5, 16)
    assert mutual_information_loss(e, e).item() == pytest.approx(-1.0, abs=1e-6)
    assert mutual_information_loss(2.5 * e, e).item() == pytest.approx(-1.0, abs=1e-6)  # a cosine: scale-free
    assert mutual_information_loss(-e, e).item() == pytest.approx(1.0, abs=1e-6)
    orth = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 3.0]])
    assert mutual_information_loss(*orth).item() == pytest.approx(0.0, abs=1e-7)


def test_mutual_information_loss_never_moves_the_noise():
    e = torch.randn(2, 3, 8, requires_grad=True)
    e_rec = torch.randn(2, 3, 8, requires_grad=True)
    mutual_information_loss(e_rec, e).backward()
    assert e.grad is None and e_rec.grad is not None


def test_mi_gradient_reaches_the_lstm():
    model = small_motion()
    _, e, e_rec = model(torch.randn(2, 16), 4)
    mutual_information_loss(e_rec, e).backward()
    for p in (model.cell.weight_ih, model.fc1.weight, model.fc2.weight, model.enc_cell.weight_ih):
        assert p.grad is not None and p.grad.abs().sum() > 0


# --- interpolation ------------------------------------------------------------------------


def test_interpolation_inserts_midpoints():
    w = torch.randn(2, 5, 3)
    out = interpolate_midpoints(w)
    assert out.shape == (2, 9, 3)
    assert torch.equal(out[:, ::2], w)
    torch.testing.assert_close(out[:, 1::2], (w[:, :-1] + w[:, 1:]) / 2)
    assert interpolate_midpoints(w[:, :1]).shape == (2, 1, 3)


# --- official checkpoints -------------------------------------------------------------------


def official_state_dict(model: MotionGenerator, prefix: str = "") -> dict:
    """What the official modelR_epoch_*.pth holds: the parameters, no PCA."""
    return {prefix + k: v.clone() for k, v in model.state_dict().items() if not k.startswith("pca_")}


def write_pca_stats(folder, pca: dict):
    folder.mkdir(parents=True)
    np.save(folder / "pca_comp.npy", pca["comp"].numpy())
    np.save(folder / "pca_stdev.npy", pca["stdev"].numpy())
    return folder


@pytest.mark.parametrize("prefix", ["", "module."])
def test_loads_official_layout_files(tmp_path, prefix):
    source = small_motion(w_dim=16, h_dim=12, n_pca=8, seed=3)
    torch.save(official_state_dict(source, prefix), tmp_path / "modelR_epoch_7.pth")
    pca = random_pca(16, 16, seed=3)
    stats = write_pca_stats(tmp_path / "pca_stats" / "toy", pca)
    loaded = load_official_motion(tmp_path / "modelR_epoch_7.pth", stats)
    assert (loaded.w_dim, loaded.h_dim, loaded.n_pca, loaded.w_residual) == (16, 12, 8, 0.2)
    for k, v in source.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    w0 = torch.randn(2, 16)
    a = source(w0, 6, generator=torch.Generator().manual_seed(1))
    b = loaded(w0, 6, generator=torch.Generator().manual_seed(1))
    for x, y in zip(a, b):
        assert torch.equal(x, y)


def test_official_loading_lists_every_problem():
    source = small_motion(w_dim=16, h_dim=12, n_pca=8)
    state = official_state_dict(source)
    del state["fc2.bias"], state["b"]
    state["fc1.weight"] = torch.zeros(16, 99)
    state["extra.thing"] = torch.zeros(1)
    with pytest.raises(ValueError) as err:
        load_official_motion(state, random_pca(16, 16))
    message = str(err.value)
    for expected in ("missing (2): b, fc2.bias", "unexpected (1): extra.thing",
                     "mis-shaped (1): fc1.weight: file (16, 99) vs model (16, 24)"):
        assert expected in message


def test_official_loading_checks_the_pca():
    state = official_state_dict(small_motion(w_dim=16, h_dim=12, n_pca=8))
    with pytest.raises(ValueError, match=r"mis-shaped \(\d+\): .*enc_cell.weight_ih"):
        load_official_motion(state, random_pca(32, 32))  # PCA of another generator
    with pytest.raises(ValueError, match="pca_comp must be"):
        load_official_motion(state, random_pca(16, 4))  # fewer components than n_pca
    with pytest.raises(ValueError, match="'comp' and 'stdev'"):
        load_official_motion(state, {"comp": torch.zeros(3)})


def test_mocohd_state_dict_round_trip_carries_the_pca():
    source = small_motion(seed=5)
    copy = MotionGenerator(16, 12, 8)  # placeholder PCA
    copy.load_state_dict(source.state_dict())
    assert torch.equal(copy.pca_comp, source.pca_comp) and torch.equal(copy.pca_stdev, source.pca_stdev)


# --- looking at trajectories, the toy MI experiment ------------------------------------------


def test_pca_coordinates_and_walks():
    model = small_motion(w_dim=16, n_pca=8)
    w0 = torch.randn(2, 16)
    path = walk_along_pc(w0, model.pca_comp, model.pca_stdev, k=2, n_frames=8, amplitude=1.5)
    assert path.shape == (2, 8, 16) and torch.equal(path[:, 0], w0)
    coords = pca_coordinates(model, path)  # (B, T, n_pca)
    expected = 1.5 * torch.sin(2 * torch.pi * torch.arange(8) / 8)
    torch.testing.assert_close(coords[0, :, 2], expected, atol=1e-5, rtol=0)
    assert coords[..., [0, 1, 3]].abs().max() < 1e-5  # only PC 2 moves


def test_noise_spread_is_zero_without_noise_dependence():
    model = small_motion()
    w0 = torch.randn(2, 16)
    assert noise_spread(model, w0, n_noise=8, n_frames=5) > 0
    with torch.no_grad():
        model.cell.weight_ih.zero_()  # the decoder no longer reads its noise
    assert noise_spread(model, w0, n_noise=8, n_frames=5) < 1e-6


def test_fit_motion_lowers_its_losses():
    model = small_motion()
    before = torch.get_num_threads()
    logs = fit_motion(model, 40, smooth_motion_objective, mi_weight=1.0, batch=8, n_frames=6, lr=3e-3)
    assert torch.get_num_threads() == before  # one_thread restores the setting
    assert logs[-1]["objective"] < logs[0]["objective"] and logs[-1]["mi"] < logs[0]["mi"]
    with pytest.raises(ValueError, match="nothing to train"):
        fit_motion(model, 1, None, mi_weight=0.0)
