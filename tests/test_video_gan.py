"""The video trainer on a tiny image generator: freezing, losses, ablations, exact resume
after a killed run, and data parallelism over two processes."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from mocohd.config import image_preset, to_dict, video_preset
from mocohd.hardware import machine_signature, training_device
from mocohd.pca import fit_w_pca, save_w_pca
from mocohd.train.image_gan import ImageGANTrainer, export_generator
from mocohd.train.video_gan import VideoGANTrainer, discriminators_from, load_video_generator

ROOT = Path(__file__).resolve().parents[1]


def _tiny_image_generator(folder: Path, size: int) -> Path:
    """A ``size`` px image generator (briefly trained) with its W PCA, as the shipped files are laid out."""
    cfg = image_preset("smoke", size=size, n_images=64, style_dim=32, n_mlp=1, channel_scale=0.0625, batch=4, steps=2,
                       bf16=False, channels_last=False)
    t = ImageGANTrainer(cfg, folder / "run")
    t.fit(progress=False)
    path = export_generator(folder / "run" / "checkpoint.pt", folder / f"tiny_{size}.pt")
    save_w_pca(fit_w_pca(t.g_ema, 2000, 1000), folder / f"tiny_{size}.pca.pt")
    return path


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory):
    return _tiny_image_generator(tmp_path_factory.mktemp("gen"), 32)


def small(tiny_generator, **kw):
    base = dict(image_generator=str(tiny_generator), n_clips=16, steps=2, g_steps=2, bf16=False)
    return video_preset("smoke", **{**base, **kw})


def optimized_ids(t: VideoGANTrainer) -> set[int]:
    """The ids of every parameter that one of the trainer's optimisers updates."""
    return {id(p) for o in (t.opt_motion, t.opt_d3d, t.opt_dimg) for grp in o.param_groups for p in grp["params"]}


def test_image_generator_is_frozen_and_not_optimized(tiny_generator, tmp_path):
    t = VideoGANTrainer(small(tiny_generator), tmp_path)
    g_i = t.video_g.image_generator
    before = {k: v.clone() for k, v in g_i.state_dict().items()}
    optimized = optimized_ids(t)
    assert not any(id(p) in optimized for p in g_i.parameters())
    assert {id(p) for p in t.motion.parameters()} <= optimized
    t.fit(progress=False)
    assert not g_i.training and not any(p.requires_grad or p.grad is not None for p in g_i.parameters())
    assert all(torch.equal(before[k], v) for k, v in g_i.state_dict().items())


def test_a_users_rosinality_generator_is_frozen_under_the_loop(tmp_path):
    """``--image-generator`` also takes a released StyleGAN2 file in rosinality's format (``g_ema``), with
    its W PCA beside it: the loop trains over it and leaves it untouched."""
    from mocohd.convert import load_rosinality_generator, rosinality_key_shapes

    g = torch.Generator().manual_seed(0)
    sd = {k: 0.5 * torch.randn(s, generator=g) for k, s in rosinality_key_shapes(32, 32, 1, 1).items()}
    path = tmp_path / "user-stylegan2-32.pt"
    torch.save({"g_ema": sd, "latent_avg": torch.zeros(32)}, path)
    save_w_pca(fit_w_pca(load_rosinality_generator(path), 2000, 1000), tmp_path / "user-stylegan2-32.pca.pt")
    t = VideoGANTrainer(small(path, frames=4, g_steps=1, steps=1), tmp_path / "run")
    t.fit(progress=False)
    assert t.video_g.image_generator.size == 32 and not t.video_g.image_generator.training
    assert all(torch.equal(t.video_g.image_generator.state_dict()[k], v) for k, v in sd.items())
    optimized = optimized_ids(t)
    assert not any(id(p) in optimized for p in t.video_g.image_generator.parameters())


@pytest.mark.parametrize("cross_domain", [False, True])
def test_losses_are_finite_and_logged(tiny_generator, tmp_path, cross_domain):
    t = VideoGANTrainer(small(tiny_generator, cross_domain=cross_domain), tmp_path)
    history = t.fit(progress=False)
    keys = {"g_total", "g_3d", "g_2d", "mi", "d_3d", "gp", "d_2d"} | ({"match", "contrastive"} if cross_domain else set())
    assert keys <= set(history[-1])
    assert all(torch.isfinite(torch.tensor(v)) for row in history for k, v in row.items())
    assert (tmp_path / "samples" / "000002.gif").stat().st_size > 0
    vg = load_video_generator(tmp_path / "checkpoint.pt")
    out = vg(torch.randn(2, 32), n_frames=5)
    assert out["video"].shape == (2, 5, 3, 32, 32)


def test_no_mi_ablation_drops_the_term(tiny_generator, tmp_path):
    t = VideoGANTrainer(small(tiny_generator, mi=False), tmp_path)
    logs = t.g_update(t.next_real())
    assert logs["g_total"] == pytest.approx(logs["g_3d"] + logs["g_2d"], rel=1e-5)
    t2 = VideoGANTrainer(small(tiny_generator), tmp_path / "b")
    logs2 = t2.g_update(t2.next_real())
    assert logs2["g_total"] == pytest.approx(logs2["g_3d"] + logs2["g_2d"] + logs2["mi"], rel=1e-5)


@pytest.mark.parametrize("cross_domain", [False, True])
def test_one_iteration_follows_the_official_schedule(tiny_generator, tmp_path, cross_domain):
    """G_step motion updates, each on a fresh z; then the 3D D, then the image D, then (cross-domain)
    the momentum copy; the queues are filled during the motion updates, as in the official code."""
    t = VideoGANTrainer(small(tiny_generator, g_steps=3, cross_domain=cross_domain), tmp_path)
    events, latents = [], []

    def record(name, fn):
        def wrapped(*a, **kw):
            events.append(name)
            return fn(*a, **kw)
        return wrapped

    for name, opt in (("motion", t.opt_motion), ("d_3d", t.opt_d3d), ("d_img", t.opt_dimg)):
        opt.step = record(name, opt.step)
    if cross_domain:
        t.d_img.momentum_update = record("momentum", t.d_img.momentum_update)
        t.d_img.enqueue = record("enqueue", t.d_img.enqueue)
    g_i = t.video_g.image_generator
    get_latent = g_i.get_latent
    g_i.get_latent = lambda z: (latents.append(z.clone()), get_latent(z))[1]
    t.train_step()

    g_part = ["enqueue", "motion"] if cross_domain else ["motion"]
    assert events == g_part * 3 + ["d_3d", "d_img"] + (["momentum"] if cross_domain else [])
    assert len(latents) == 4  # three motion updates and the discriminators' own fakes
    assert all(not torch.equal(a, b) for i, a in enumerate(latents) for b in latents[i + 1:])


@pytest.mark.parametrize("cross_domain", [False, True])
def test_adam_settings_per_network_are_the_official_ones(tiny_generator, tmp_path, cross_domain):
    t = VideoGANTrainer(small(tiny_generator, cross_domain=cross_domain), tmp_path)
    assert video_preset("full").lr == video_preset("paper").lr == 1e-4
    settings = {name: {k: opt.defaults[k] for k in ("lr", "betas", "eps", "weight_decay")}
                for name, opt in (("motion", t.opt_motion), ("d_3d", t.opt_d3d), ("d_img", t.opt_dimg))}
    patchgan = {"lr": t.cfg.lr, "betas": (0.5, 0.999), "eps": 1e-8, "weight_decay": 0}
    assert settings["motion"] == settings["d_3d"] == patchgan
    # the cross-domain image D is BigGAN's, with BigGAN's optimiser settings
    assert settings["d_img"] == ({"lr": t.cfg.lr, "betas": (0.0, 0.999), "eps": 1e-6, "weight_decay": 0}
                                 if cross_domain else patchgan)


def test_a_folder_of_real_videos_trains_as_the_toy_world_does(tiny_generator, tmp_path, numbered, numbers_of,
                                                              frames_folder):
    """``--data PATH``: a FaceForensics / Sky time-lapse layout (a folder of frames per video) feeds the
    same loop, its clips sampled as the official loader does (``time_step`` frames apart)."""
    from mocohd.train.video_gan import video_config, video_parser

    for name in ("clip_a", "clip_b", "clip_c"):
        frames_folder(tmp_path / "sky" / name, numbered(30))  # 30 frames of 24 x 32: cropped and resized
    args = video_parser().parse_args(["--preset", "smoke", "--data", str(tmp_path / "sky"),
                                      "--out", str(tmp_path / "run"), "--image-generator", str(tiny_generator),
                                      "--g-steps", "1", "--bf16", "false"])
    cfg = video_config(args)
    t = VideoGANTrainer(cfg, args.out)
    real = t.next_real()
    assert real.shape == (cfg.batch, cfg.frames, 3, 32, 32)
    for clip in real:
        numbers = numbers_of(clip)
        assert all(b - a == cfg.time_step for a, b in zip(numbers, numbers[1:]))
    history = t.fit(steps=1, progress=False)
    assert all(torch.isfinite(torch.tensor(v)) for v in history[-1].values())
    assert (tmp_path / "run" / "checkpoint.pt").exists()


def recorded_config(command: str) -> dict:
    """The config that a provenance's training command would build, read by that trainer's own
    parser (``python -m mocohd.train image ...`` or ``... video ...``)."""
    import shlex

    from mocohd.train.__main__ import image_config, image_parser
    from mocohd.train.video_gan import video_config, video_parser

    words = shlex.split(command.split(" (then:")[0])
    if words[:3] == ["python", "-m", "mocohd.lab.trainer"]:  # the lab's trainer: the video flags and its own
        from mocohd.lab.config import LabVideoGANConfig
        from mocohd.lab.trainer import PROG

        return to_dict(video_config(video_parser(LabVideoGANConfig, PROG).parse_args(words[3:]), LabVideoGANConfig))
    assert words[:3] == ["python", "-m", "mocohd.train"] and words[3] in ("image", "video")
    parser, build = (image_parser, image_config) if words[3] == "image" else (video_parser, video_config)
    return to_dict(build(parser().parse_args(words[4:])))


def test_ship_an_ablation_under_its_own_name(tiny_generator, tmp_path):
    import json

    from mocohd.ship import ship_video

    run = tmp_path / "run"
    cfg = small(tiny_generator, mi=False)
    VideoGANTrainer(cfg, run).fit(progress=False)
    (run / "config.json").write_text(json.dumps({"mi": False}))
    prov = ship_video("faces", run, tmp_path / "out", note="ablation", name="faces_motion_nomi")
    assert set(prov["files"]) == {"faces_motion_nomi.pt"} and prov["steps"] == 2
    assert " --no-mi " in prov["command"] and "--name faces_motion_nomi --out-dir " in prov["command"]
    assert "--no-contrastive" not in prov["command"]
    assert recorded_config(prov["command"]) == to_dict(cfg)  # the command trains this very run again
    assert json.loads((tmp_path / "out" / "faces_motion_nomi.json").read_text())["note"] == "ablation"
    # the machine that trained it (the CPU, and the GPU where one ran it), in the provenance and the file
    here = [{"from_step": 0, **machine_signature(training_device(cfg.device))}]
    assert prov["machines"] == here
    assert torch.load(tmp_path / "out" / "faces_motion_nomi.pt", weights_only=True)["machines"] == here
    assert load_video_generator(tmp_path / "out" / "faces_motion_nomi.pt")(torch.randn(1, 32), n_frames=3)[
        "video"].shape == (1, 3, 3, 32, 32)


def test_ship_a_cross_domain_run_on_the_carphone_clip(tiny_generator, tmp_path):
    import json

    from mocohd.ship import ship_video

    run = tmp_path / "run"
    cfg = small(tiny_generator, data="carphone", cross_domain=True, steps=1)
    trainer = VideoGANTrainer(cfg, run)
    assert len(trainer.dataset) == 2 * (120 - 15 + 1)  # every 8-frame window at stride 2, and its mirror
    trainer.fit(progress=False)
    (run / "config.json").write_text(json.dumps(to_dict(cfg)))
    prov = ship_video("carphone", run, tmp_path / "out", name="faces_from_carphone_motion")
    assert " --data carphone " in prov["command"] and " --cross-domain true" in prov["command"]
    assert recorded_config(prov["command"]) == to_dict(cfg)  # the command trains this very run again
    assert "cross-domain" in prov["what"] and "carphone" in prov["what"] and "CarphoneClips" in prov["data"]["source"]
    # a run from before the width rule records the widths it was trained with
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    del ckpt["config"]["d_widths"]
    torch.save(ckpt, run / "checkpoint.pt")
    assert " --d-widths flat" in ship_video("carphone", run, tmp_path / "out", name="old")["command"]


def test_a_run_stopped_early_records_the_iterations_it_reached(tiny_generator, tmp_path):
    """A run shipped on a time budget (config steps 2, stopped at 1): the recorded command must
    train to the shipped iteration, not to the config's goal."""
    import json

    from mocohd.ship import ship_video

    run = tmp_path / "run"
    cfg = small(tiny_generator)
    VideoGANTrainer(cfg, run).fit(steps=1, progress=False)
    (run / "config.json").write_text(json.dumps(to_dict(cfg)))
    prov = ship_video("faces", run, tmp_path / "out", name="faces_motion_early")
    assert cfg.steps == 2 and prov["steps"] == 1
    assert recorded_config(prov["command"]) == {**to_dict(cfg), "steps": 1}


def test_a_motion_generator_refuses_another_image_generator(tiny_generator, tmp_path):
    """Replacing the G_I file under a trained motion generator must fail loudly, on load and on
    resume; the moved original is accepted through the override."""
    import shutil

    from mocohd.train.image_gan import load_generator

    folder = tmp_path / "gen"
    folder.mkdir()
    g_path = Path(shutil.copy(tiny_generator, folder / "tiny_32.pt"))
    shutil.copy(tiny_generator.with_suffix(".pca.pt"), folder / "tiny_32.pca.pt")
    VideoGANTrainer(small(tiny_generator, image_generator=str(g_path)), tmp_path / "run").fit(progress=False)
    ckpt = tmp_path / "run" / "checkpoint.pt"
    moved = Path(shutil.copy(g_path, tmp_path / "original.pt"))
    shutil.copy(folder / "tiny_32.pca.pt", tmp_path / "original.pca.pt")

    other = torch.load(g_path, weights_only=False)  # "retrain" the G_I in place: same shapes, new weights
    other["state_dicts"]["g_ema"] = {k: v + 0.01 for k, v in other["state_dicts"]["g_ema"].items()}
    torch.save(other, g_path)
    assert load_generator(g_path) is not None  # the file itself is a valid generator
    with pytest.raises(ValueError, match="trained over an image generator with sha256"):
        load_video_generator(ckpt)
    with pytest.raises(ValueError, match="image_generator=PATH"):
        VideoGANTrainer(small(tiny_generator, image_generator=str(g_path), steps=3), tmp_path / "run").load(ckpt)
    vg = load_video_generator(ckpt, image_generator=moved)
    assert vg(torch.randn(1, 32), n_frames=2)["video"].shape == (1, 2, 3, 32, 32)


def test_ndf_sets_the_patchgan_width_and_a_resume_must_keep_it(tiny_generator, tmp_path):
    preset = VideoGANTrainer(small(tiny_generator), tmp_path / "preset")
    wide = VideoGANTrainer(small(tiny_generator, ndf=24), tmp_path / "wide")
    assert preset.d_cfg.ndf == 16 and wide.d_cfg.ndf == 24  # the smoke preset's 16, then the flag's
    # the finest scale's first conv is ndf wide, the coarse one min(64, 2 ndf) (the official rule)
    assert wide.d_3d.scale1_layer0[0].out_channels == 24 and wide.d_3d.scale0_layer0[0].out_channels == 48
    assert wide.d_img.scale1_layer0[0].out_channels == 24 and wide.d_img.scale0_layer0[0].out_channels == 48
    wide.save()
    with pytest.raises(ValueError, match=r"--ndf 24 \(now 0\).*new --out folder"):
        VideoGANTrainer(small(tiny_generator), tmp_path / "preset").load(tmp_path / "wide" / "checkpoint.pt")
    with pytest.raises(ValueError, match="positive width"):
        VideoGANTrainer(small(tiny_generator, ndf=-1), tmp_path / "bad")


def test_a_run_from_before_the_width_rule_resumes_with_flat_widths(tiny_generator, tmp_path):
    old = VideoGANTrainer(small(tiny_generator, d_widths="flat"), tmp_path / "old")
    assert old.d_3d.scale0_layer0[0].out_channels == old.d_3d.scale1_layer0[0].out_channels == 16
    old.fit(progress=False)
    ckpt = torch.load(tmp_path / "old" / "checkpoint.pt", weights_only=True)
    del ckpt["config"]["d_widths"]  # as every checkpoint written before the setting existed
    torch.save(ckpt, tmp_path / "old" / "checkpoint.pt")
    nets = discriminators_from(ckpt, tmp_path / "old" / "checkpoint.pt")  # built flat, as trained
    assert nets["d_3d"].scale0_layer0[0].out_channels == 16
    VideoGANTrainer(small(tiny_generator, d_widths="flat"), tmp_path / "old").load(tmp_path / "old" / "checkpoint.pt")
    with pytest.raises(ValueError, match=r"--d-widths flat \(now official\)"):
        VideoGANTrainer(small(tiny_generator), tmp_path / "old").load(tmp_path / "old" / "checkpoint.pt")


def test_video_frame_size_shows_the_discriminators_real_and_generated_frames_pooled_alike(tiny_generator, tmp_path):
    from mocohd.data.toyworld import make_clips
    from mocohd.lab.discriminator_probe import probe

    g_64 = _tiny_image_generator(tmp_path / "gen", 64)
    as_preset = VideoGANTrainer(small(g_64, discriminators="full"), tmp_path / "d64")
    assert (as_preset.d_cfg.size, as_preset.pool_factor) == (64, 1)
    t = VideoGANTrainer(small(g_64, discriminators="full", video_frame_size=32), tmp_path / "d32")
    assert (t.d_cfg.size, t.pool_factor) == (32, 2)
    # real clips drawn at G_I's 64 px and pooled as the fakes are (seed: the trainer's seed + 777)
    expected = make_clips("faces", 16, frames=8, size=32, seed=777, supersample=2).video
    assert (t.dataset[3]["video"] - expected[3]).abs().max() <= 1 / 127.5
    assert t.generate()["video"].shape[-3:] == (3, 32, 32)
    history = t.fit(progress=False)
    assert all(torch.isfinite(torch.tensor(v)) for row in history for v in row.values())
    result = probe(tmp_path / "d32" / "checkpoint.pt", n=4, seed=1)  # the probe pools its real clips alike
    assert all(torch.isfinite(torch.tensor(v)) for v in result["real_minus_fake"].values())
    with pytest.raises(ValueError, match=r"--video-frame-size 32 \(now 0\).*new --out folder"):
        VideoGANTrainer(small(g_64, discriminators="full"), tmp_path / "d64").load(tmp_path / "d32" / "checkpoint.pt")
    with pytest.raises(ValueError, match="makes 64px frames but the discriminators expect 48px.*divides 64"):
        VideoGANTrainer(small(g_64, discriminators="full", video_frame_size=48), tmp_path / "bad")
    with pytest.raises(ValueError, match="makes 32px frames but the discriminators expect 64px"):
        VideoGANTrainer(small(tiny_generator, video_frame_size=64), tmp_path / "bad")
    with pytest.raises(ValueError, match="video_frame_size=-1"):
        VideoGANTrainer(small(tiny_generator, video_frame_size=-1), tmp_path / "bad")


def test_temporal_flip_switch(tiny_generator, tmp_path):
    x = torch.arange(4.0).view(1, 1, 4, 1, 1)
    on = VideoGANTrainer(small(tiny_generator), tmp_path / "on")
    flips = [not torch.equal(on.flip(x), x) for _ in range(200)]
    assert 0.35 < sum(flips) / 200 < 0.65
    off = VideoGANTrainer(small(tiny_generator, temporal_flip=False), tmp_path / "off")
    assert all(torch.equal(off.flip(x), x) for _ in range(50))


def test_no_contrastive_ablation(tiny_generator, tmp_path):
    t = VideoGANTrainer(small(tiny_generator, cross_domain=True, contrastive=False), tmp_path)
    logs = t.d_update(t.next_real())
    assert "contrastive" in logs  # still measured, but not trained on
    grads_without = [p.grad.clone() for p in t.d_img_online.parameters() if p.grad is not None]
    assert grads_without


def _train_cmd(gen, out, steps, extra=()):
    return [sys.executable, "-m", "mocohd.train", "video", "--preset", "smoke", "--image-generator", str(gen),
            "--n-clips", "16", "--steps", str(steps), "--g-steps", "2", "--ckpt-every", "1", "--bf16", "false",
            "--threads", "1", "--device", "cpu", "--out", str(out), *extra]  # bit for bit: a CPU claim


def _env():
    path = os.pathsep.join([str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}


def test_killed_run_resumes_bit_identical(tiny_generator, tmp_path):
    steps = 5
    subprocess.run(_train_cmd(tiny_generator, tmp_path / "straight", steps), check=True, env=_env(), capture_output=True)
    proc = subprocess.Popen(_train_cmd(tiny_generator, tmp_path / "killed", steps), env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = tmp_path / "killed" / "log.csv"
    deadline = time.time() + 300
    while time.time() < deadline:  # kill it once it has saved step 2 or later
        if log.exists() and len(log.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(log.read_text().splitlines()) - 1
    assert 2 <= done < steps, f"the run should be killed mid-way, it logged {done} steps"
    subprocess.run(_train_cmd(tiny_generator, tmp_path / "killed", steps, ["--resume"]), check=True, env=_env(),
                   capture_output=True)
    a = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=True)["state_dicts"]
    b = torch.load(tmp_path / "killed" / "checkpoint.pt", weights_only=True)["state_dicts"]
    for name in ("motion", "d_3d", "d_img"):
        assert all(torch.equal(a[name][k], b[name][k]) for k in a[name]), name


def test_a_shipped_state_trains_on_as_its_run_folder_would(tiny_generator, tmp_path):
    """``ship state`` keeps all that --resume reads: a copy of it, trained on, ends bit-identical
    to the run folder trained on."""
    import json
    import shutil

    from mocohd.ship import ship_state

    subprocess.run(_train_cmd(tiny_generator, tmp_path / "run", 2), check=True, env=_env(), capture_output=True)
    prov = ship_state("faces", tmp_path / "run", tmp_path / "states", name="kept")
    kept = tmp_path / "states" / "kept"
    assert prov["steps"] == 2 and json.loads((kept / "state.json").read_text())["files"].keys() == {
        "checkpoint.pt", "config.json", "log.csv"}
    assert "--resume" in prov["continue"] and "--g-steps 2" in prov["continue"]
    assert [m["from_step"] for m in prov["machines"]] == [0]  # resumed on the same CPU: still one entry
    shutil.copytree(kept, tmp_path / "copy")
    for run in ("run", "copy"):
        subprocess.run(_train_cmd(tiny_generator, tmp_path / run, 3, ["--resume"]), check=True, env=_env(),
                       capture_output=True)
    a = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "copy" / "checkpoint.pt", weights_only=True)
    assert a["step"] == b["step"] == 3
    for name in ("motion", "d_3d", "d_img"):
        assert all(torch.equal(a["state_dicts"][name][k], b["state_dicts"][name][k]) for k in a["state_dicts"][name])
    with pytest.raises(FileNotFoundError, match="lacks log.csv"):
        (tmp_path / "run" / "log.csv").unlink()
        ship_state("faces", tmp_path / "run", tmp_path / "states")


def _losses(path):
    with open(path) as f:
        return [{k: float(v) for k, v in row.items() if v} for row in csv.DictReader(f)]


def test_two_processes_match_one_process_on_the_same_global_batch(tiny_generator, tmp_path):
    """torchrun with 2 gloo ranks, global batch 4 (2 per rank), against 1 process with batch 4.

    Every random draw is made for the global batch and sliced, gradients are averaged, so the
    runs differ only where a loss averages over the batch *inside* a rank: RaLSGAN compares
    each sample with the mean of the other set on its own rank (as the official per-GPU code
    does), and the gradient penalty's per-rank averaging. Measured: within 0.1% for the
    adversarial losses and 1% for the penalty. Tolerance: 3% relative on each logged loss of
    the first step, and the MI loss (a plain batch mean) within 1e-4."""
    extra = ["--batch", "4", "--no-temporal-flip"]
    subprocess.run(_train_cmd(tiny_generator, tmp_path / "one", 1, extra), check=True, env=_env(), capture_output=True)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    res = subprocess.run(torchrun + _train_cmd(tiny_generator, tmp_path / "two", 1, extra)[1:], env=_env(),
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    one, two = _losses(tmp_path / "one" / "log.csv")[0], _losses(tmp_path / "two" / "log.csv")[0]
    assert two["mi"] == pytest.approx(one["mi"], abs=1e-4)
    for key in ("g_3d", "g_2d", "d_3d", "gp", "d_2d"):
        assert two[key] == pytest.approx(one[key], rel=0.03), key


def test_compare_runs_reports_switches_time_losses_and_motion(tiny_generator, tmp_path):
    import json

    from mocohd.ship import main as ship_main

    for name, mi in (("a", True), ("b", False)):
        VideoGANTrainer(small(tiny_generator, mi=mi, log_every=1), tmp_path / name).fit(progress=False)
        (tmp_path / name / "config.json").write_text(json.dumps({"mi": mi, "seed": 0}))
    out = tmp_path / "cmp.json"
    ship_main(["compare", "--domain", "faces", "--runs", f"with={tmp_path / 'a'}", f"without={tmp_path / 'b'}",
               "--json", str(out), "--repeats", "2"])
    result = json.loads(out.read_text())
    assert result["runs"]["with"]["switches"]["mi"] is True and result["runs"]["without"]["switches"]["mi"] is False
    for row in result["runs"].values():
        assert row["steps"] == 2 and row["seconds_per_iteration"] > 0
        assert "d_3d" in row["last_losses"] and row["motion"]["noise_diversity"] >= 0
        assert row["motion"]["noise_diversity_sd"] >= 0 and row["motion"]["motion_spread_sd"] > 0
    assert result["real toy clips"]["motion_spread"] > 0 and "--runs 'with=" in result["command"]


def test_discriminator_probe_on_a_run_checkpoint(tiny_generator, tmp_path, capsys):
    from mocohd.lab.discriminator_probe import main as probe_main
    from mocohd.lab.discriminator_probe import probe
    from mocohd.train.video_gan import export_motion

    VideoGANTrainer(small(tiny_generator), tmp_path / "run").fit(progress=False)
    result = probe(tmp_path / "run" / "checkpoint.pt", n=6, seed=1)
    assert result["step"] == 2 and set(result["factors"]) == {"eye_open", "mouth_open", "yaw", "pitch"}
    numbers = [*result["real_minus_fake"].values()] + [v for row in result["factors"].values()
                                                       for k in ("video", "image") for v in row[k][:1]]
    assert all(torch.isfinite(torch.tensor(numbers)))
    probe_main([str(tmp_path / "run" / "checkpoint.pt"), "--clips", "4"])
    assert "3D D: real - fake" in capsys.readouterr().out
    # scored as in training: InstanceNorm on each clip's own statistics (train mode), so a
    # clip's score does not depend on its batch, and differs from the running-average one
    from mocohd.data.toyworld import make_clips
    from mocohd.lab.discriminator_probe import video_scores
    from mocohd.train.video_gan import load_discriminators

    nets = load_discriminators(tmp_path / "run" / "checkpoint.pt")
    d_3d, d_cfg = nets["d_3d"], nets["d_cfg"]
    clips = make_clips("faces", 3, frames=d_cfg.frames, size=d_cfg.size, seed=4).video
    assert d_3d.training
    together, alone = video_scores(d_3d, clips), torch.cat([video_scores(d_3d, c[None]) for c in clips])
    assert torch.allclose(together, alone, atol=1e-5)
    assert not torch.allclose(together, video_scores(d_3d.eval(), clips), atol=1e-3)
    shipped = export_motion(tmp_path / "run" / "checkpoint.pt", tmp_path / "small.pt")
    with pytest.raises(ValueError, match="holds no discriminators.*RUN_FOLDER/checkpoint.pt"):
        probe(shipped, n=2)
    VideoGANTrainer(small(tiny_generator, cross_domain=True, steps=1), tmp_path / "cross").fit(progress=False)
    with pytest.raises(ValueError, match="cross-domain run.*in-domain"):
        probe(tmp_path / "cross" / "checkpoint.pt", n=2)


def test_g_steps_zero_trains_the_discriminators_alone(tiny_generator, tmp_path):
    """The diagnostic continuation: from a run's checkpoint, only the discriminators learn."""
    VideoGANTrainer(small(tiny_generator), tmp_path).fit(progress=False)
    t = VideoGANTrainer(small(tiny_generator, g_steps=0, steps=4), tmp_path)
    t.load(tmp_path / "checkpoint.pt")
    motion = {k: v.clone() for k, v in t.motion.state_dict().items()}
    d_3d = {k: v.clone() for k, v in t.d_3d.state_dict().items()}
    history = t.fit(progress=False)
    assert [row["step"] for row in history] == [3, 4] and "g_total" not in history[-1] and "d_3d" in history[-1]
    assert all(torch.equal(motion[k], v) for k, v in t.motion.state_dict().items())
    assert not all(torch.equal(d_3d[k], v) for k, v in t.d_3d.state_dict().items())
    with pytest.raises(ValueError, match="g_steps=-1.*0 to train only the discriminators"):
        VideoGANTrainer(small(tiny_generator, g_steps=-1), tmp_path / "bad")
