"""The game played on latent paths (mocohd.lab.path_game)."""

import pytest
import torch

from mocohd.motion import MotionGenerator
from mocohd.lab.path_game import PathDiscriminator, graft, nearest_path_loss, path_features, train_path_game
from mocohd.lab.trainer import LabVideoGANTrainer

from test_steered import steered, tiny_generator  # noqa: F401  (a module fixture)


def test_path_features_count_moves_in_whole_residual_steps_beside_the_face():
    comp = torch.linalg.qr(torch.randn(6, 6))[0][:4]  # 4 orthonormal directions of a 6-d W
    stdev = torch.tensor([2.0, 1.0, 0.5, 0.25])
    motion = MotionGenerator(w_dim=6, h_dim=5, n_pca=4, w_residual=0.2, pca_comp=comp, pca_stdev=stdev)
    w0 = torch.randn(2, 6)
    path = w0[:, None].repeat(1, 3, 1)
    path[0, 1:] += 0.2 * stdev[1] * comp[1]  # clip 0: one full residual step along PC 1 into frame 1, kept
    features = path_features(motion, path)
    assert features.shape == (2, 3, 8)
    moves, face = features[..., :4], features[..., 4:]
    expected = torch.zeros(2, 3, 4)
    expected[0, 1:, 1] = 1.0
    torch.testing.assert_close(moves, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(face, ((w0 @ comp.T) / stdev)[:, None].expand(2, 3, 4))  # the same face every frame
    d = PathDiscriminator(n_pca=4, frames=3)
    assert d(features).shape == (2,)


def test_the_path_game_trains_the_lstm_and_grafts_it_into_a_pixel_run(tiny_generator, tmp_path, monkeypatch):  # noqa: F811
    import mocohd.data.toyworld as toyworld

    monkeypatch.setattr(toyworld, "DEFAULT_CACHE", tmp_path / "cache")
    run = LabVideoGANTrainer(steered(tiny_generator), tmp_path / "run")
    run.fit(progress=False)
    before = {k: v.clone() for k, v in run.motion.state_dict().items()}
    rows = train_path_game(tmp_path / "run" / "checkpoint.pt", tmp_path / "game", steps=4, batch=4, every=2, n_real=4,
                           n_eval=4, progress=False)
    assert [r["iteration"] for r in rows] == [0, 2, 4, "real"]
    assert all(0 <= r["eye_round_trips"] <= 1 and r["pixel_motion"] >= 0 for r in rows)
    assert rows[-1]["pixel_motion"] > 0  # the real paths, rendered: the steered blinks move
    assert torch.isfinite(torch.tensor([rows[-2]["d_loss"], rows[-2]["g_loss"]])).all()
    assert list((tmp_path / "cache").glob("paths-steered-*.pt"))  # the real paths, cached
    game = torch.load(tmp_path / "game" / "motion.pt", weights_only=False)
    assert game["iteration"] == 4 and (tmp_path / "game" / "log.csv").exists()
    moved = game["motion"]
    assert not torch.equal(moved["w"], before["w"])  # fresh start, then trained
    torch.testing.assert_close(moved["pca_comp"], before["pca_comp"])  # the run's own PCA
    train_path_game(tmp_path / "run" / "checkpoint.pt", tmp_path / "on", steps=1, batch=4, every=1, n_real=4,
                    n_eval=2, start="trained", progress=False)
    on = torch.load(tmp_path / "on" / "motion.pt", weights_only=False)["motion"]
    for name in ("w", "cell.weight_ih", "enc_cell.weight_ih"):  # the game's gradient reaches the LSTM
        assert not torch.equal(on[name], before[name]), name
    # grafted, the pixel run resumes with the path game's LSTM and a fresh motion optimizer
    graft(tmp_path / "run" / "checkpoint.pt", tmp_path / "game" / "motion.pt", tmp_path / "grafted")
    resumed = LabVideoGANTrainer(steered(tiny_generator, steps=3), tmp_path / "grafted")
    resumed.load(tmp_path / "grafted" / "checkpoint.pt")
    assert resumed.step == 2 and not resumed.opt_motion.state
    assert all(torch.equal(v, moved[k]) for k, v in resumed.motion.state_dict().items())
    resumed.fit(progress=False)
    assert resumed.step == 3


def test_the_path_game_needs_a_steered_run(tiny_generator, tmp_path):  # noqa: F811
    LabVideoGANTrainer(steered(tiny_generator, steered_real=False), tmp_path / "run").fit(progress=False)
    with pytest.raises(ValueError, match="--steered-real true"):
        train_path_game(tmp_path / "run" / "checkpoint.pt", tmp_path / "game", steps=1)
    with pytest.raises(ValueError, match="start must be"):
        train_path_game(tmp_path / "run" / "checkpoint.pt", tmp_path / "game", start="random")


def test_a_stopped_path_game_resumes_to_the_same_weights(tiny_generator, tmp_path, monkeypatch):  # noqa: F811
    import mocohd.data.toyworld as toyworld

    monkeypatch.setattr(toyworld, "DEFAULT_CACHE", tmp_path / "cache")
    LabVideoGANTrainer(steered(tiny_generator), tmp_path / "run").fit(progress=False)
    ckpt = tmp_path / "run" / "checkpoint.pt"
    kw = dict(batch=4, every=2, n_real=4, n_eval=2, progress=False)
    whole = train_path_game(ckpt, tmp_path / "whole", steps=4, **kw)
    train_path_game(ckpt, tmp_path / "parts", steps=2, **kw)
    parts = train_path_game(ckpt, tmp_path / "parts", steps=4, resume=True, **kw)
    assert [r["iteration"] for r in parts] == [0, 2, 4, "real"]
    a, b = (torch.load(tmp_path / name / "motion.pt", weights_only=False) for name in ("whole", "parts"))
    for part in ("motion", "path_d"):
        assert all(torch.equal(v, b[part][k]) for k, v in a[part].items()), part
    assert whole[-2]["d_loss"] == parts[-2]["d_loss"]
    with pytest.raises(ValueError, match="resume with the same settings"):
        train_path_game(ckpt, tmp_path / "parts", steps=6, resume=True, **{**kw, "batch": 2})


def test_real_path_speeds_are_within_one_step_once_followed_within_reach(tiny_generator, tmp_path, monkeypatch):  # noqa: F811
    import mocohd.data.toyworld as toyworld
    from mocohd.lab.path_game import real_path_speeds

    monkeypatch.setattr(toyworld, "DEFAULT_CACHE", tmp_path / "cache")
    LabVideoGANTrainer(steered(tiny_generator), tmp_path / "run").fit(progress=False)
    speeds = real_path_speeds(tmp_path / "run" / "checkpoint.pt", n_real=4)
    assert speeds["within reach"]["largest"] <= 1 + 1e-4 and speeds["within reach"]["clips needing > 1 step"] == 0
    assert speeds["as drawn"]["largest"] >= speeds["within reach"]["largest"]


def test_the_nearest_path_loss_pulls_only_the_nearest_draw_and_is_zero_on_a_path_it_draws():
    torch.manual_seed(0)
    comp = torch.linalg.qr(torch.randn(6, 6))[0][:4]
    motion = MotionGenerator(w_dim=6, h_dim=5, n_pca=4, w_residual=0.2, pca_comp=comp, pca_stdev=torch.ones(4))
    w0 = torch.randn(3, 6)
    with torch.no_grad():
        motion.w.mul_(50)  # paths that move, so draws differ
    torch.manual_seed(1)
    drawn, _, _ = motion(w0.repeat_interleave(2, 0), 5)  # 2 draws per face
    torch.manual_seed(1)
    loss, e, e_rec = nearest_path_loss(motion, drawn[::2].detach(), k=2)  # the first draw of each face, redrawn
    assert e.shape == e_rec.shape == (6, 4, 6)
    assert loss.item() < 1e-8  # every real path is one of its own face's draws: nearest distance 0
    torch.manual_seed(1)
    moved = drawn[::2].detach().clone()
    moved[:, 1:] += 0.2 * comp[0]  # one residual step along PC 0 from frame 1 on: 4 frames x 1 step^2 further
    loss, _, _ = nearest_path_loss(motion, moved, k=2)
    assert loss.item() <= 4 + 1e-4  # the first draw is still at most that far
    loss.backward()
    assert motion.w.grad is not None and motion.w.grad.abs().sum() > 0


def test_the_nearest_objective_trains_the_lstm_without_a_discriminator(tiny_generator, tmp_path, monkeypatch):  # noqa: F811
    import mocohd.data.toyworld as toyworld

    monkeypatch.setattr(toyworld, "DEFAULT_CACHE", tmp_path / "cache")
    LabVideoGANTrainer(steered(tiny_generator), tmp_path / "run").fit(progress=False)
    kw = dict(batch=4, every=2, n_real=4, n_eval=2, objective="nearest", k=3, within_reach=True, progress=False)
    rows = train_path_game(tmp_path / "run" / "checkpoint.pt", tmp_path / "near", steps=4, **kw)
    assert [r["iteration"] for r in rows] == [0, 2, 4, "real"]
    assert rows[-2]["d_loss"] != rows[-2]["d_loss"] and rows[-2]["g_loss"] >= 0  # no D; a distance
    saved = torch.load(tmp_path / "near" / "motion.pt", weights_only=False)
    assert saved["settings"]["objective"] == "nearest" and saved["settings"]["k"] == 3
    with pytest.raises(ValueError, match="objective must be"):
        train_path_game(tmp_path / "run" / "checkpoint.pt", tmp_path / "x", objective="mmd")
    with pytest.raises(ValueError, match="must be a positive int"):
        train_path_game(tmp_path / "run" / "checkpoint.pt", tmp_path / "x", objective="nearest", k=0)


def test_the_pixel_loop_with_the_nearest_term_is_pulled_to_the_steered_paths(tiny_generator, tmp_path, monkeypatch):  # noqa: F811
    import csv

    import mocohd.data.toyworld as toyworld
    from mocohd.lab.steered import follow_within_reach
    from mocohd.lab.path_game import real_paths

    monkeypatch.setattr(toyworld, "DEFAULT_CACHE", tmp_path / "cache")
    with pytest.raises(ValueError, match="--w-nearest 1.0 pulls.*give --steered-real true"):
        LabVideoGANTrainer(steered(tiny_generator, steered_real=False, w_nearest=1.0), tmp_path / "x")
    with pytest.raises(ValueError, match="must be >= 0"):
        LabVideoGANTrainer(steered(tiny_generator, w_nearest=-1.0), tmp_path / "x")
    kw = dict(w_nearest=1.0, nearest_k=3, nearest_batch=4, steered_within_reach=True)
    t = LabVideoGANTrainer(steered(tiny_generator, **kw), tmp_path / "near")
    # the paths G_I renders into this run's real clips, slowed as the clips are
    paths = real_paths(t.video_g, t.image_generator_sha256, 4, t.cfg.frames, t.cfg.seed + 777)
    torch.testing.assert_close(t.nearest_paths, follow_within_reach(paths, t.motion))
    t.fit(progress=False)
    rows = list(csv.DictReader(open(tmp_path / "near" / "log.csv")))
    assert len(rows) == 2 and all(float(r["nearest"]) >= 0 for r in rows)
    plain = LabVideoGANTrainer(steered(tiny_generator, steered_within_reach=True), tmp_path / "plain")
    plain.fit(progress=False)
    assert "nearest" not in open(tmp_path / "plain" / "log.csv").readline()
    assert not torch.equal(plain.motion.w, t.motion.w)  # the term reaches the LSTM's weights

    # the term alone (a large weight, no game left to speak of) brings the drawn paths nearer the real ones
    def distance(trainer):
        torch.manual_seed(5)
        with torch.no_grad():
            return trainer.nearest_term().item()

    # (measured: 2.90 -> 2.65 in 6 iterations; lr 1e-2 overshoots on this tiny LSTM)
    strong = LabVideoGANTrainer(steered(tiny_generator, steps=6, lr=3e-3, **{**kw, "w_nearest": 1e4}), tmp_path / "strong")
    before = distance(strong)
    strong.fit(progress=False)
    assert distance(strong) < 0.95 * before, (before, distance(strong))

    # a run stopped and resumed ends with the same weights (the term draws from the saved RNG stream)
    whole = LabVideoGANTrainer(steered(tiny_generator, steps=2, **kw), tmp_path / "whole")
    whole.fit(progress=False)
    first = LabVideoGANTrainer(steered(tiny_generator, steps=1, **kw), tmp_path / "parts")
    first.fit(progress=False)
    second = LabVideoGANTrainer(steered(tiny_generator, steps=2, **kw), tmp_path / "parts")
    second.load(tmp_path / "parts" / "checkpoint.pt")
    second.fit(progress=False)
    for name, value in whole.motion.state_dict().items():
        assert torch.equal(value, second.motion.state_dict()[name]), name
