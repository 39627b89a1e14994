"""Every ``python -m mocohd.*`` command run once on tiny settings, as a user types it, and once
with a bad argument.

The commands are called through their ``main(argv)`` (what ``python -m`` runs) in a chain that
a user would follow: train an image GAN, ship it, train a motion generator over it, ship that,
then measure it. Each smoke run checks values: the command line trains the same weights as the
configuration it spells, a shipped file holds the run's weights, a metric command gives the same
numbers for the same seed and other numbers for another.

The commands with a smoke run elsewhere: ``train video`` (test_video_gan, test_faults),
``generate`` (test_generate), ``evaluate`` (test_evaluate), ``tour`` (test_tour, test_book),
``book check`` (test_book), ``bench`` and ``bench_gpu --quick`` (test_bench),
``metrics.cross_domain`` (test_cross_domain), ``ship compare`` and ``lab.discriminator_probe``
(test_video_gan). Their bad arguments are in test_bad_input, beside these.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import mocohd.data.toyworld as toyworld
from mocohd.config import image_preset
from mocohd.pca import load_w_pca
from mocohd.train.image_gan import ImageGANTrainer, load_generator

ROOT = Path(__file__).resolve().parents[1]

# the smoke runs measure on a handful of samples on purpose: the metrics' warning says so, and
# these tests check that the commands run and wire their flags, not what the numbers are worth
pytestmark = pytest.mark.filterwarnings("ignore::mocohd.metrics.frechet.FewSamplesWarning")

TINY_IMAGE = ["--preset", "smoke", "--lr", "0.01", "--size", "32", "--n-images", "64", "--style-dim", "32", "--n-mlp", "1",
              "--channel-scale", "0.0625", "--batch", "4", "--steps", "2", "--bf16", "off", "--channels-last",
              "false", "--log-every", "1", "--threads", "1"]


def tiny_video(generator, out, *extra, n_clips=16):
    return ["--preset", "smoke", "--image-generator", str(generator), "--n-clips", str(n_clips), "--steps", "2",
            "--g-steps", "1", "--bf16", "off", "--log-every", "1", "--threads", "1", "--out", str(out), *extra]


def log_rows(run: Path) -> list[dict]:
    with open(run / "log.csv") as f:
        return list(csv.DictReader(f))


def usage_error(main, argv, capsys) -> str:
    """Run a command that must stop at its arguments: exit code 2 and argparse's message."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    return capsys.readouterr().err


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """The commands a user runs in order; each later test reads what they wrote."""
    from mocohd.ship import main as ship
    from mocohd.train.__main__ import main as train

    tmp = tmp_path_factory.mktemp("chain")
    cache = pytest.MonkeyPatch()
    cache.setattr(toyworld, "DEFAULT_CACHE", tmp / "cache")  # drawn clips stay in the test's folder
    shipped = tmp / "shipped"
    train(["image", *TINY_IMAGE, "--out", str(tmp / "image_run")])
    ship(["image", "--domain", "faces", "--run", str(tmp / "image_run"), "--out-dir", str(shipped),
          "--name", "tiny_32", "--pca-samples", "4000", "--fd-images", "200"])
    train(["video", *tiny_video(shipped / "tiny_32.pt", tmp / "video_run")])
    ship(["video", "--domain", "faces", "--run", str(tmp / "video_run"), "--out-dir", str(shipped),
          "--name", "tiny_motion"])
    yield {"tmp": tmp, "shipped": shipped, "image_run": tmp / "image_run", "video_run": tmp / "video_run"}
    cache.undo()


# ----------------------------------------------------------------------------------------
# The paper's commands


def test_train_image_trains_what_its_flags_spell(chain):
    """``python -m mocohd.train image``: the command line's run is the configuration's run, weight
    for weight (a flag that failed to reach the config would train other weights)."""
    ckpt = torch.load(chain["image_run"] / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == 2
    rows = log_rows(chain["image_run"])
    assert [int(r["step"]) for r in rows] == [1, 2]
    assert all(math.isfinite(float(r["d_loss"])) and math.isfinite(float(r["g_loss"])) for r in rows)
    cfg = image_preset("smoke", lr=0.01, size=32, n_images=64, style_dim=32, n_mlp=1, channel_scale=0.0625, batch=4, steps=2,
                       bf16=False, channels_last=False, log_every=1)
    same = ImageGANTrainer(cfg, chain["tmp"] / "same_in_python")
    same.fit(progress=False)
    for k, v in same.g_ema.state_dict().items():
        torch.testing.assert_close(ckpt["state_dicts"]["g_ema"][k], v, rtol=0, atol=0, msg=k)


def test_train_image_resumes_to_more_steps(chain, tmp_path):
    import shutil

    from mocohd.train.__main__ import main as train

    run = tmp_path / "run"
    shutil.copytree(chain["image_run"], run)
    train(["image", *TINY_IMAGE[:-8], "--steps", "3", "--bf16", "off", "--channels-last", "false", "--log-every",
           "1", "--threads", "1", "--out", str(run), "--resume"])
    assert torch.load(run / "checkpoint.pt", weights_only=True)["step"] == 3
    assert [int(r["step"]) for r in log_rows(run)] == [1, 2, 3]


def test_ship_image_exports_the_runs_ema_weights_and_its_pca(chain):
    """``python -m mocohd.ship image``: the shipped generator is the run's EMA generator, its PCA
    sits beside it, and the provenance names the files by their hashes."""
    from mocohd.ship import sha256

    shipped = chain["shipped"]
    g = load_generator(shipped / "tiny_32.pt")
    ema = torch.load(chain["image_run"] / "checkpoint.pt", weights_only=True)["state_dicts"]["g_ema"]
    assert all(torch.equal(v, ema[k]) for k, v in g.state_dict().items())
    pca = load_w_pca(shipped / "tiny_32.pca.pt")
    assert pca["comp"].shape[1] == 32 and 0 < float(pca["var_ratio"].sum()) <= 1.0 + 1e-5
    prov = json.loads((shipped / "tiny_32.json").read_text())
    assert prov["pca"]["samples"] == 4000 and prov["fd_toy"]["n_images"] == 200
    assert prov["command"].endswith("--pca-samples 4000 --fd-images 200)")  # the ship command, retyped
    assert prov["steps"] == 2 and prov["files"]["tiny_32.pt"]["sha256"] == sha256(shipped / "tiny_32.pt")
    fd = prov["fd_toy"]  # two steps of training leave the generator far from the real images
    assert fd["untrained_vs_real_ceiling"] > fd["trained_vs_real"] > fd["real_vs_real_floor"] >= 0


def test_ship_video_and_state_export_the_motion_generator(chain):
    """``python -m mocohd.ship video`` and ``state``: the motion file holds the run's LSTM, the
    state file the whole run (discriminators too), each with a provenance beside it."""
    from mocohd.ship import main as ship
    from mocohd.train.video_gan import load_video_generator

    run_motion = torch.load(chain["video_run"] / "checkpoint.pt", weights_only=True)["state_dicts"]["motion"]
    g = load_video_generator(chain["shipped"] / "tiny_motion.pt")
    assert all(torch.equal(v, run_motion[k]) for k, v in g.motion.state_dict().items())
    prov = json.loads((chain["shipped"] / "tiny_motion.json").read_text())
    assert prov["steps"] == 2 and prov["command"].startswith("python -m mocohd.train video")
    ship(["state", "--domain", "faces", "--run", str(chain["video_run"]), "--out-dir", str(chain["tmp"] / "states"),
          "--name", "tiny_state"])
    kept = chain["tmp"] / "states" / "tiny_state"
    state = torch.load(kept / "checkpoint.pt", weights_only=True)
    run = torch.load(chain["video_run"] / "checkpoint.pt", weights_only=True)
    for part in ("motion", "d_3d", "d_img", "opt_d3d"):  # what --resume reads, the discriminators too
        assert part in state["state_dicts"], part
    assert all(torch.equal(v, run["state_dicts"]["d_3d"][k]) for k, v in state["state_dicts"]["d_3d"].items())
    assert json.loads((kept / "state.json").read_text())["steps"] == 2


def test_motion_stats_is_a_function_of_its_seed(chain, tmp_path, capsys):
    """``python -m mocohd.metrics.motion_stats``: the same seed gives the same numbers, another seed
    others, and the JSON holds what the table printed."""
    from mocohd.metrics.motion_stats import main

    motion = str(chain["shipped"] / "tiny_motion.pt")
    runs = {}
    for label, seed in (("a", 0), ("again", 0), ("other", 1)):
        main([motion, "--domain", "faces", "--videos", "4", "--repeats", "1", "--seed", str(seed), "--json",
              str(tmp_path / f"{label}.json")])
        runs[label] = json.loads((tmp_path / f"{label}.json").read_text())
    printed = capsys.readouterr().out
    assert runs["a"] == runs["again"]
    assert runs["a"] != runs["other"]
    numbers = [v for v in json.dumps(runs["a"]).replace(",", " ").replace(":", " ").split()
               if v.replace(".", "", 1).replace("-", "", 1).isdigit()]
    assert len(numbers) >= 4 and "tiny_motion.pt" in printed


@pytest.mark.parametrize("module,steps", [("toy_features_train", 2), ("toy_video_net_train", 2)])
def test_metric_networks_train_save_and_load(module, steps, tmp_path, capsys):
    """``python -m mocohd.metrics.toy_features_train train`` and ``toy_video_net_train train`` on a
    few clips: the saved weights load through the metric's own loader and equal what was trained;
    the provenance beside them records the steps."""
    import importlib

    main = importlib.import_module(f"mocohd.metrics.{module}").main
    out = tmp_path / "net.pt"
    batch = "8" if module == "toy_features_train" else "6"
    scoring = ["--heldout-images", "4", "--fd-images", "8"] if module == "toy_features_train" else \
        ["--heldout-clips", "2", "--fvd-clips", "4"]
    main(["train", "--out", str(out), "--steps", str(steps), "--batch-size", batch, "--clips-per-domain", batch,
          "--threads", "1", *scoring])
    if module == "toy_features_train":
        from mocohd.metrics.toy_features import load_toy_feature_net as load
    else:
        from mocohd.metrics.toy_video_net import load_toy_video_net as load
    net = load(out)
    weights = torch.load(out, weights_only=True)["state_dict"]
    assert weights.keys() == net.state_dict().keys()
    assert all(torch.equal(v, weights[k]) for k, v in net.state_dict().items())
    prov = json.loads(out.with_suffix(".json").read_text())
    assert f"--steps {steps}" in prov["command"] and f"python -m mocohd.metrics.{module} train" in prov["command"]


# ----------------------------------------------------------------------------------------
# The lab's commands


def test_lab_measures_run_on_a_shipped_motion_generator(chain, tmp_path, capsys):
    """``python -m mocohd.lab.lstm_memory`` and ``lab.motion_probes`` read a shipped motion file."""
    from mocohd.lab.lstm_memory import main as memory
    from mocohd.lab.motion_probes import main as probes

    motion = str(chain["shipped"] / "tiny_motion.pt")
    memory([motion, "--domain", "faces", "--factor", "eye_open", "--clips", "4"])
    printed = capsys.readouterr().out
    assert "real toy clips: eye_open steps" in printed and motion[-52:] in printed
    probes([motion, "--domain", "faces", "--videos", "4", "--images", "2", "--iterations", "2", "--json",
            str(tmp_path / "reach.json")])
    reach = json.loads((tmp_path / "reach.json").read_text())
    assert set(reach) == {"real clips", motion}


def test_lab_path_ascent_climbs_a_runs_discriminators(chain, capsys):
    """``python -m mocohd.lab.path_ascent`` on a video run's checkpoint (it keeps its discriminators)."""
    from mocohd.lab.path_ascent import main

    main([str(chain["video_run"] / "checkpoint.pt"), "--clips", "2", "--steps", "2", "--every", "1", "--threads", "1"])
    printed = capsys.readouterr().out.splitlines()
    real = [line for line in printed if line.split()[:1] == ["real"]]
    climbed = [line for line in printed if line.split()[:1] in (["0"], ["1"], ["2"])]
    assert len(real) == 1 and len(climbed) == 3  # a row per ascent step, then the real clips (no G loss: nan)
    assert not any("nan" in line for line in climbed), climbed


def test_lab_trainer_ship_and_path_game(chain, tmp_path, capsys):
    """``python -m mocohd.lab.trainer`` on steered clips, ``lab.ship video`` of that run, then
    ``lab.path_game`` on it: the game's LSTM is saved and grafted into the pixel run."""
    from mocohd.lab.path_game import main as path_game
    from mocohd.lab.ship import main as lab_ship
    from mocohd.lab.trainer import main as lab_train
    from mocohd.train.video_gan import load_video_generator

    run = tmp_path / "lab_run"
    lab_train(tiny_video(chain["shipped"] / "tiny_32.pt", run, "--data", "toy:faces_big_eyes_blinks",
                         "--steered-real", "true", n_clips=4))
    assert torch.load(run / "checkpoint.pt", weights_only=True)["step"] == 2
    lab_ship(["video", "--domain", "faces_big_eyes_blinks", "--run", str(run), "--out-dir", str(tmp_path / "ship")])
    prov = json.loads((tmp_path / "ship" / "faces_big_eyes_blinks_motion.json").read_text())
    assert prov["command"].startswith("python -m mocohd.lab.trainer ")
    shipped = load_video_generator(tmp_path / "ship" / "faces_big_eyes_blinks_motion.pt")
    run_motion = torch.load(run / "checkpoint.pt", weights_only=True)["state_dicts"]["motion"]
    assert all(torch.equal(v, run_motion[k]) for k, v in shipped.motion.state_dict().items())
    path_game([str(run / "checkpoint.pt"), "--out", str(tmp_path / "game"), "--steps", "2", "--batch", "4",
               "--every", "1", "--n-real", "4", "--n-eval", "2", "--threads", "1",
               "--graft", str(run / "checkpoint.pt")])
    game = torch.load(tmp_path / "game" / "motion.pt", weights_only=False)
    assert game["iteration"] == 2
    grafted = torch.load(tmp_path / "game" / "checkpoint.pt", weights_only=True)
    assert all(torch.equal(v, game["motion"][k]) for k, v in grafted["state_dicts"]["motion"].items())


# ----------------------------------------------------------------------------------------
# Benchmarks


def test_bench_ddp_times_two_ranks_against_one(chain, tmp_path, capsys):
    """``python -m mocohd.bench_ddp`` on the smoke preset: two gloo ranks and one process each run,
    and the report holds a time for each and for both all-reduce forms."""
    from mocohd.bench_ddp import main

    assert main(["--preset", "smoke", "--generator", str(chain["shipped"] / "tiny_32.pt"), "--iterations", "1",
                 "--allreduce-repeats", "1", "--n-clips", "8", "--out", str(tmp_path)]) == 0
    result = json.loads(next(tmp_path.glob("ddp-*.json")).read_text())
    assert result["preset"] == "smoke"
    for side in ("one", "two"):
        seconds = [v for k, v in result[side].items() if "s" in k and isinstance(v, (int, float))]
        assert seconds and all(v > 0 for v in seconds), result[side]


def test_bench_against_times_two_checkouts(tmp_path):
    """``python -m mocohd.bench_against HEAD --quick``: the child program runs in a worktree of the
    commit and in this checkout, at the smoke presets' sizes, and the report holds a time for each
    work and version."""
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    from mocohd.bench_against import main

    assert main(["HEAD", "--quick", "--works", "g_i", "motion", "d", "--precisions", "fp32", "--rounds", "1",
                 "--out", str(tmp_path)]) == 0
    result = json.loads(next(tmp_path.glob("against-*.json")).read_text())
    assert result["quick"] and "not a timing" in next(tmp_path.glob("against-*.md")).read_text()
    assert {len(result["runs"]["old"]), len(result["runs"]["new"])} == {1}
    for side in ("old", "new"):
        assert set(result["runs"][side][0]["seconds"]) == {"g_i/fp32", "motion/fp32", "d/fp32"}
        assert all(v > 0 for v in result["runs"][side][0]["seconds"].values())


# ----------------------------------------------------------------------------------------
# Bad arguments of the commands that test_bad_input does not reach


def main_of(module: str):
    """``mocohd.<module>.main``, imported when the case runs (not at collection)."""
    import importlib

    return lambda: importlib.import_module(f"mocohd.{module}").main


BAD = {
    "lab.lstm_memory --clips 0": (main_of("lab.lstm_memory"), ["m.pt", "--clips", "0"], "--clips must be at least 1"),
    "lab.motion_probes without --domain": (main_of("lab.motion_probes"), ["m.pt"], "--domain"),
    "lab.motion_probes --videos 0": (main_of("lab.motion_probes"), ["m.pt", "--domain", "faces", "--videos", "0"],
                                     "--videos must be at least 1"),
    "lab.path_ascent --steps 0": (main_of("lab.path_ascent"), ["c.pt", "--steps", "0"], "--steps must be at least 1"),
    "lab.path_ascent --judges text": (main_of("lab.path_ascent"), ["c.pt", "--judges", "text"], "invalid choice"),
    "lab.path_game without --out": (main_of("lab.path_game"), ["c.pt"], "--out"),
    "lab.path_game --batch 0": (main_of("lab.path_game"), ["c.pt", "--out", "o", "--batch", "0"],
                                "--batch must be at least 1"),
    "ship image --pca-samples 1": (main_of("ship"), ["image", "--domain", "faces", "--run", "r", "--pca-samples", "1"],
                                   "--pca-samples must be at least 2"),
    "lab.ship an unknown kind": (main_of("lab.ship"), ["image", "--domain", "faces", "--run", "r"], "invalid choice"),
    "lab.trainer --steps -1": (main_of("lab.trainer"), ["--out", "o", "--steps", "-1"], "--steps must be at least 1"),
    "lab.discriminator_probe --clips 0": (main_of("lab.discriminator_probe"), ["c.pt", "--clips", "0"],
                                         "--clips must be at least 1"),
    "bench --threads 0": (main_of("bench"), ["--threads", "0"], "--threads must be >= 1"),
    "bench --only motion": (main_of("bench"), ["--only", "motion"], "invalid choice"),
    "bench_gpu without a GPU": (main_of("bench_gpu"), [], "sees no GPU"),
    "bench_against without a commit": (main_of("bench_against"), [], "name the earlier commit"),
    "bench_against a commit git does not know": (main_of("bench_against"),
                                                 ["no-such-commit-anywhere"], "git does not know the commit"),
    "bench_against --quick with full_iteration": (main_of("bench_against"), ["HEAD", "--quick"], "--quick shrinks"),
    "bench_against --rounds 0": (main_of("bench_against"),
                                 ["HEAD", "--rounds", "0"], "--rounds and --repeats must be >= 1"),
    "bench_ddp --iterations 0": (main_of("bench_ddp"), ["--iterations", "0"], "must be >= 1"),
    "bench_ddp a generator that does not exist": (main_of("bench_ddp"), ["--generator", "nowhere.pt"], "not found"),
    "book without a command": (main_of("book"), [], "required"),
    "book build --mode fast": (main_of("book"), ["build", "--mode", "fast"], "invalid choice"),
    "cross_domain an arm without a domain": (main_of("metrics.cross_domain"), ["--arm", "nodomain"], "arm"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_argument_is_named_before_anything_runs(name, tmp_path, monkeypatch, capsys):
    if name == "bench_gpu without a GPU" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.chdir(tmp_path)  # a command that went ahead would write here
    main, argv, expected = BAD[name]
    message = usage_error(main(), argv, capsys)
    assert expected in message, message
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_every_command_has_its_main_guard():
    """Each module with a command line runs its ``main`` under ``python -m`` (a module without the
    guard would import and exit 0, doing nothing)."""
    modules = sorted(p for p in (ROOT / "mocohd").rglob("*.py") if "def main(" in p.read_text())
    assert len(modules) >= 20
    for path in modules:
        text = path.read_text()
        assert 'if __name__ == "__main__":' in text or path.name == "__main__.py", path
    run = subprocess.run([sys.executable, "-m", "mocohd.lab.lstm_memory", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0 and "usage: python -m mocohd.lab.lstm_memory" in run.stdout
