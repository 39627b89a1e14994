import math

import pytest
import torch

from mocohd.config import image_preset
from mocohd.losses import nonsaturating_d_loss, nonsaturating_g_loss, r1_penalty
from mocohd.checkpoint import load_checkpoint, save_checkpoint
from mocohd.train.image_gan import ImageGANTrainer, export_generator, load_generator


def cfg(**kw):
    base = dict(size=32, n_images=64, style_dim=16, n_mlp=1, channel_scale=0.0625, batch=4, steps=6,
                d_reg_every=2, log_every=2, sample_every=3, ckpt_every=3, bf16=False, channels_last=False)
    return image_preset("smoke", **{**base, **kw})


def test_logistic_losses_by_hand():
    real, fake = torch.tensor([0.0, 2.0]), torch.tensor([0.0, -1.0])
    sp = lambda x: math.log1p(math.exp(x))
    assert nonsaturating_d_loss(real, fake).item() == pytest.approx((sp(0) + sp(-2)) / 2 + (sp(0) + sp(-1)) / 2)
    assert nonsaturating_g_loss(fake).item() == pytest.approx((sp(0) + sp(1)) / 2)


def test_r1_of_a_linear_discriminator_is_its_squared_weight_norm():
    w = torch.tensor([1.0, -2.0, 3.0])
    x = torch.randn(5, 3, requires_grad=True)
    assert r1_penalty(x @ w, x).item() == pytest.approx(14.0)


def test_training_runs_logs_and_writes_files(tmp_path):
    t = ImageGANTrainer(cfg(), tmp_path)
    history = t.fit(progress=False)
    assert [r["step"] for r in history] == [2, 4, 6]
    assert all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in history)
    assert (tmp_path / "log.csv").read_text().startswith("step,seconds,d_loss,g_loss")
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["000003.png", "000006.png"]
    g = load_generator(tmp_path / "checkpoint.pt")
    assert not any(p.requires_grad for p in g.parameters()) and not g.training


def test_ema_lags_behind_the_generator(tmp_path):
    t = ImageGANTrainer(cfg(steps=2), tmp_path)
    t.fit(progress=False)
    diffs = [(a - b).abs().max().item() for a, b in zip(t.g.parameters(), t.g_ema.parameters())]
    assert max(diffs) > 0


def test_resume_is_exact(tmp_path):
    exact = cfg(device="cpu")  # bit for bit is a CPU claim: cuDNN's backward kernels add in any order
    straight = ImageGANTrainer(exact, tmp_path / "a")
    straight.fit(progress=False)
    first = ImageGANTrainer(exact, tmp_path / "b")
    first.fit(steps=3, progress=False)  # saves at step 3
    del first
    resumed = ImageGANTrainer(exact, tmp_path / "b")
    resumed.load(tmp_path / "b" / "checkpoint.pt")
    assert resumed.step == 3
    resumed.fit(progress=False)
    for name in ("g", "d", "g_ema"):
        a, b = getattr(straight, name).state_dict(), getattr(resumed, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name


def test_export_keeps_only_what_users_need(tmp_path):
    t = ImageGANTrainer(cfg(steps=3), tmp_path)
    t.fit(progress=False)
    small = export_generator(tmp_path / "checkpoint.pt", tmp_path / "small.pt")
    ckpt = load_checkpoint(small, "mocohd.image_gan")
    assert list(ckpt["state_dicts"]) == ["g_ema"]
    assert small.stat().st_size < (tmp_path / "checkpoint.pt").stat().st_size


def test_checkpoint_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="make checkpoints"):
        load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable mocohd checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    save_checkpoint(tmp_path / "other.pt", {"format": "mocohd.something", "version": 1})
    with pytest.raises(ValueError, match="expected 'mocohd.image_gan'"):
        load_checkpoint(tmp_path / "other.pt", "mocohd.image_gan")
    torch.save({"g_ema": {}}, tmp_path / "ros.pt")
    with pytest.raises(ValueError, match="load_rosinality_generator"):
        load_checkpoint(tmp_path / "ros.pt")


def test_atomic_save_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "ck.pt"
    save_checkpoint(target, {"format": "x", "version": 1, "v": 1})

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(RuntimeError):
        save_checkpoint(target, {"format": "x", "version": 1, "v": 2})
    assert load_checkpoint(target)["v"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]


def test_unknown_preset_is_named():
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        image_preset("huge")


def test_balance_flattens_the_toy_training_frames_and_refuses_folders(tmp_path):
    from mocohd.train.image_gan import load_images

    natural, flat = load_images(cfg()), load_images(cfg(balance="eye_open", balance_pool=4))
    assert natural.shape == flat.shape == (64, 3, 32, 32) and flat.dtype == torch.uint8
    assert not torch.equal(natural, flat)
    with pytest.raises(ValueError, match="needs toy data.*drop --balance"):
        load_images(cfg(data=str(tmp_path), balance="eye_open"))


def test_init_generator_starts_g_and_its_ema_from_a_trained_file_and_names_a_mismatch(tmp_path):
    t = ImageGANTrainer(cfg(steps=3), tmp_path / "source")
    t.fit(progress=False)
    small = export_generator(tmp_path / "source" / "checkpoint.pt", tmp_path / "small.pt")
    trained = t.g_ema.state_dict()
    tuned = ImageGANTrainer(cfg(init_generator=str(small), seed=1), tmp_path / "tuned")
    for name in ("g", "g_ema"):
        sd = getattr(tuned, name).state_dict()
        assert all(torch.equal(sd[k], trained[k]) for k in trained), name
    fresh = ImageGANTrainer(cfg(seed=1), tmp_path / "fresh")  # the discriminator still starts fresh
    assert all(torch.equal(a, b) for a, b in zip(tuned.d.state_dict().values(), fresh.d.state_dict().values()))
    with pytest.raises(ValueError, match=r"style_dim \(file 16, run 32\).*same --preset"):
        ImageGANTrainer(cfg(init_generator=str(small), style_dim=32), tmp_path / "wrong")
