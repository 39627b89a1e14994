import json

import torch

from mocohd.config import image_preset, to_dict
from mocohd.pca import load_w_pca
from mocohd.train.image_gan import ImageGANTrainer, load_generator
from mocohd.ship import _run_summary, ship_image

from test_video_gan import recorded_config


def _tiny_image_run(run):
    cfg = image_preset("smoke", size=32, n_images=64, style_dim=16, n_mlp=1, channel_scale=0.0625, batch=4, steps=4,
                       log_every=2, bf16=False, channels_last=False)
    ImageGANTrainer(cfg, run).fit(progress=False)
    (run / "config.json").write_text(json.dumps({"steps": 4}))
    return run


def test_ship_image_writes_generator_pca_and_honest_provenance(tmp_path):
    run = _tiny_image_run(tmp_path / "run")
    prov = ship_image("faces", run, tmp_path / "out", pca_samples=400, fd_images=64, note="test")
    assert prov["steps"] == 4 and prov["note"] == "test"
    files = prov["files"]
    assert set(files) == {"faces_32.pt", "faces_32.pca.pt"} and all(len(f["sha256"]) == 64 for f in files.values())
    fd = prov["fd_toy"]
    assert fd["real_vs_real_floor"] < fd["untrained_vs_real_ceiling"]
    assert "not FID" in fd["metric"]
    assert load_generator(tmp_path / "out" / "faces_32.pt").size == 32
    assert load_w_pca(tmp_path / "out" / "faces_32.pca.pt")["comp"].shape == (16, 16)
    assert json.loads((tmp_path / "out" / "faces_32.json").read_text())["steps"] == 4
    assert "--steps 4 " in prov["command"] and "--bf16 false" in prov["command"] and "--name" not in prov["command"]
    assert recorded_config(prov["command"]) == torch.load(
        run / "checkpoint.pt", map_location="cpu", weights_only=False)["config"]  # the command trains this run again


def test_a_weaker_r1_is_in_the_recorded_command(tmp_path):
    """The faces runs changed R1 from the preset's 0.5: a command without --r1 would train another run."""
    cfg = image_preset("full", size=32, n_images=64, style_dim=16, n_mlp=1, channel_scale=0.0625, batch=4, steps=2,
                       r1=0.05, bf16=False, channels_last=False)
    ImageGANTrainer(cfg, tmp_path / "run").fit(progress=False)
    (tmp_path / "run" / "config.json").write_text(json.dumps(to_dict(cfg)))
    prov = ship_image("faces", tmp_path / "run", tmp_path / "out", pca_samples=400, fd_images=64)
    assert " --r1 0.05 " in prov["command"] and " --lr " not in prov["command"]  # only what differs from full
    assert recorded_config(prov["command"]) == to_dict(cfg)


def test_a_balanced_run_records_its_flag_and_the_frames_it_drew(tmp_path):
    """A --balance eye_open run trained on other frames than the natural ones: both the command
    and the data source must say so."""
    cfg = image_preset("full", size=32, n_images=64, style_dim=16, n_mlp=1, channel_scale=0.0625, batch=4, steps=2,
                       balance="eye_open", balance_pool=4, bf16=False, channels_last=False)
    ImageGANTrainer(cfg, tmp_path / "run").fit(progress=False)
    (tmp_path / "run" / "config.json").write_text(json.dumps(to_dict(cfg)))
    prov = ship_image("faces", tmp_path / "run", tmp_path / "out", pca_samples=400, fd_images=64)
    assert " --balance eye_open --balance-pool 4 " in prov["command"]
    assert recorded_config(prov["command"]) == to_dict(cfg)
    assert prov["data"]["source"].startswith("mocohd.data.toyworld.balanced_images('faces', 64, 'eye_open'")


def test_ship_image_under_its_own_name_keeps_the_pca_beside_it(tmp_path):
    """An earlier stage of a run kept next to the files trained over it (faces_64_1200)."""
    run = _tiny_image_run(tmp_path / "run")
    prov = ship_image("faces", run, tmp_path / "kept", pca_samples=400, fd_images=64, name="faces_32_early")
    assert set(prov["files"]) == {"faces_32_early.pt", "faces_32_early.pca.pt"}
    assert (tmp_path / "kept" / "faces_32_early.json").exists()
    assert "--name faces_32_early --out-dir " in prov["command"]


def test_wall_time_adds_up_resumed_sessions(tmp_path):
    (tmp_path / "log.csv").write_text("step,seconds\n10,5.0\n20,11.0\n30,2.0\n40,4.5\n")
    (tmp_path / "config.json").write_text("{}")
    s = _run_summary(tmp_path)
    assert s["sessions"] == 2 and s["wall_seconds"] == 15.5 and s["steps"] == 40


def test_bf16_quality_compares_both_renderings(tmp_path):
    from mocohd.ship import bf16_quality

    cfg = image_preset("smoke", size=64, n_images=16, style_dim=16, n_mlp=1, channel_scale=0.0625, batch=4, steps=1,
                       bf16=False, channels_last=False)
    trainer = ImageGANTrainer(cfg, tmp_path / "run")
    trainer.fit(progress=False)
    from mocohd.train.image_gan import export_generator

    export_generator(tmp_path / "run" / "checkpoint.pt", tmp_path / "faces_64.pt")
    out = bf16_quality("faces", n=64, out_dir=tmp_path)
    assert out["fd_toy_fp32"] > 0 and out["fd_toy_bf16+channels_last"] > 0
    assert 0 < out["mean_abs_diff"] < 0.1
