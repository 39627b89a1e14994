"""Bad input stops with a message that names the problem and the fix, and harms nothing on disk.

Every case below builds one kind of bad input in a fresh folder (a broken checkpoint, a video
that is not one, a frame folder with a hole, a NaN in a metric's input, a command line with a
bad option), runs the code that reads it, and checks

* the error: its type and a piece of its message that says what is wrong *and* what to do;
* the folder: every file in it, hashed before and after, is still there and unchanged, and no
  file was added (a failed command must not half-write an output or clobber a checkpoint).

A command line's usage errors stop with exit code 2 (argparse's), naming the option.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import numbered_frames, write_frames_folder

from mocohd.checkpoint import load_checkpoint, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_MOTION = ROOT / "data" / "checkpoints" / "faces_motion.pt"
REREAD = "re-download or retrain it"


class Exit(Exception):
    """A command line's SystemExit, as an exception whose text is 'exit CODE: what it printed'."""


def command(main, argv):
    def call():
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                code = main(argv)
            except SystemExit as stop:
                code = stop.code
            else:
                if not code:
                    raise AssertionError(f"{argv} ran to the end:\n{out.getvalue()}")
        raise Exit(f"exit {code}: {err.getvalue()}")

    return call


def usage_error(*pieces):
    """The match of an argparse error (exit code 2) whose message holds ``pieces`` in order."""
    return r"exit 2: (?s:.*)" + r"(?s:.*)".join(pieces)


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def a_checkpoint(path: Path, fmt: str = "mocohd.image_gan", **extra) -> Path:
    return save_checkpoint(path, {"format": fmt, "version": 1, "config": {}, "step": 3,
                                  "state_dicts": {"w": torch.randn(2000)}, **extra})


def a_run_folder(folder: Path) -> Path:
    """A run folder with a checkpoint and a log, which a bad command must leave as they are."""
    a_checkpoint(folder / "checkpoint.pt")
    (folder / "log.csv").write_text("step,d_loss\n1,0.5\n")
    return folder


def tiny_generator_sd(size=64):
    from mocohd.image_generator import Generator

    return Generator(size=size, style_dim=16, n_mlp=2, channel_multiplier=1, channel_scale=0.0625).state_dict()


def without(sd, *prefixes):
    return {k: v for k, v in sd.items() if not k.startswith(prefixes)}


CASES: dict[str, callable] = {}


def case(name):
    def register(build):
        CASES[name] = build
        return build

    return register


# --------------------------------------------------------------------------------------
# Checkpoints: broken, empty, foreign, of another kind


@case("checkpoint: random bytes")
def _(tmp):
    (tmp / "c.pt").write_bytes(bytes(range(256)) * 8)
    return lambda: load_checkpoint(tmp / "c.pt"), ValueError, "not a readable mocohd checkpoint.*" + REREAD


@case("checkpoint: truncated")
def _(tmp):
    whole = a_checkpoint(tmp / "whole.pt").read_bytes()
    (tmp / "c.pt").write_bytes(whole[: len(whole) // 2])
    return lambda: load_checkpoint(tmp / "c.pt"), ValueError, "not a readable mocohd checkpoint.*truncated.*" + REREAD


@case("checkpoint: empty file")
def _(tmp):
    (tmp / "c.pt").touch()
    return lambda: load_checkpoint(tmp / "c.pt"), ValueError, r"is empty \(0 bytes\).*" + REREAD


@case("checkpoint: a text file")
def _(tmp):
    (tmp / "c.pt").write_text("step,d_loss\n1,0.5\n")
    return lambda: load_checkpoint(tmp / "c.pt"), ValueError, "not a readable mocohd checkpoint.*" + REREAD


@case("checkpoint: a zip that is not torch")
def _(tmp):
    with zipfile.ZipFile(tmp / "c.pt", "w") as archive:
        archive.writestr("notes.txt", "hello")
    return lambda: load_checkpoint(tmp / "c.pt"), ValueError, "not a readable mocohd checkpoint.*" + REREAD


@case("checkpoint: a torch file of a plain tensor")
def _(tmp):
    torch.save(torch.zeros(3), tmp / "c.pt")
    return lambda: load_checkpoint(tmp / "c.pt"), ValueError, "no 'format' key.*load_rosinality_generator"


@case("checkpoint: missing")
def _(tmp):
    return lambda: load_checkpoint(tmp / "nowhere.pt"), FileNotFoundError, "no checkpoint at.*make checkpoints"


@case("checkpoint: an image generator given as a motion generator")
def _(tmp):
    from mocohd.train.video_gan import load_video_generator

    a_checkpoint(tmp / "faces_64.pt")
    return (lambda: load_video_generator(tmp / "faces_64.pt"), ValueError,
            "holds a 'mocohd.image_gan' checkpoint, expected 'mocohd.video_gan': give a file of that kind")


@case("checkpoint: written by a newer mocohd")
def _(tmp):
    a_checkpoint(tmp / "c.pt", version=99)
    return lambda: load_checkpoint(tmp / "c.pt"), ValueError, r"newer mocohd \(version 99 > 1\); update mocohd"


@case("checkpoint: --init-generator of another size")
def _(tmp):
    from mocohd.config import image_preset, to_dict
    from mocohd.train.image_gan import ImageGANTrainer

    other = image_preset("smoke", size=64)
    save_checkpoint(tmp / "g64.pt", {"format": "mocohd.image_gan", "version": 1, "config": to_dict(other),
                                     "state_dicts": {"g_ema": {}}})
    cfg = image_preset("smoke", size=32, n_images=8, batch=2, bf16=False, channels_last=False,
                       init_generator=str(tmp / "g64.pt"))
    a_run_folder(tmp / "run")
    return (lambda: ImageGANTrainer(cfg, tmp / "run"), ValueError,
            r"--init-generator .*differs .* in size \(file 64, run 32\); pass the same --preset and size flags")


@case("checkpoint: toy feature network of another format")
def _(tmp):
    from mocohd.metrics.toy_features import load_toy_feature_net

    a_checkpoint(tmp / "toy_features.pt")
    return lambda: load_toy_feature_net(tmp / "toy_features.pt"), ValueError, "not a toy feature network.*make checkpoints"


@case("checkpoint: toy video network, a truncated file")
def _(tmp):
    from mocohd.metrics.toy_video_net import load_toy_video_net

    whole = a_checkpoint(tmp / "whole.pt", "mocohd.toy_video_net").read_bytes()
    (tmp / "toy_video_net.pt").write_bytes(whole[:100])
    return lambda: load_toy_video_net(tmp / "toy_video_net.pt"), ValueError, "not a readable mocohd checkpoint.*" + REREAD


# --------------------------------------------------------------------------------------
# Released files from other code: rosinality StyleGAN2, official MoCoGAN-HD, I3D, C3D


@case("rosinality: convs.6 missing")
def _(tmp):
    from mocohd.convert import load_rosinality_generator

    sd = without(tiny_generator_sd(), "convs.6")
    return lambda: load_rosinality_generator({"g_ema": sd}), ValueError, "no 'convs.6.conv.weight'.*get the whole checkpoint"


@case("rosinality: to_rgbs missing")
def _(tmp):
    from mocohd.convert import load_rosinality_generator

    sd = without(tiny_generator_sd(), "to_rgbs")
    return lambda: load_rosinality_generator({"g_ema": sd}), ValueError, "no 'to_rgbs.N.bias'.*get the whole checkpoint"


@case("rosinality: noise buffers missing")
def _(tmp):
    from mocohd.convert import load_rosinality_generator

    sd = without(tiny_generator_sd(), "noises")
    return (lambda: load_rosinality_generator({"g_ema": sd}), ValueError,
            r"does not match Generator:\s+missing \(\d+\): noises.noise_0(?s:.*)check the architecture arguments")


@case("rosinality: not a g_ema at all")
def _(tmp):
    from mocohd.convert import load_rosinality_generator

    sd = without(tiny_generator_sd(), "style.")
    return lambda: load_rosinality_generator({"g_ema": sd}), ValueError, r"no 'style.1.weight' key.*reads ckpt\['g_ema'\]"


@case("rosinality: args disagree with the weights")
def _(tmp):
    from mocohd.convert import load_rosinality_generator

    source = {"g_ema": tiny_generator_sd(), "args": {"size": 256}}
    return (lambda: load_rosinality_generator(source), ValueError,
            "args say 256, the tensors' shapes say 64.*pass the architecture explicitly")


@case("rosinality: a generator of another size forced onto it")
def _(tmp):
    from mocohd.convert import load_rosinality_generator

    sd = tiny_generator_sd(64)
    return (lambda: load_rosinality_generator({"g_ema": sd}, size=32, style_dim=16, n_mlp=2, channel_multiplier=1),
            ValueError, r"does not match Generator(?s:.*)unexpected(?s:.*)check the architecture arguments")


@case("rosinality: an empty file")
def _(tmp):
    from mocohd.convert import load_rosinality_generator

    (tmp / "550000.pt").touch()
    return (lambda: load_rosinality_generator(tmp / "550000.pt"), ValueError,
            r"is empty \(0 bytes\), not a readable rosinality StyleGAN2 checkpoint.*re-download")


@case("rosinality: a torch file of a plain tensor")
def _(tmp):
    from mocohd.convert import load_rosinality_generator

    torch.save(torch.zeros(3), tmp / "550000.pt")
    return (lambda: load_rosinality_generator(tmp / "550000.pt"), ValueError,
            "expected a rosinality checkpoint dict with a 'g_ema' state dict of tensors")


@case("official motion: keys missing")
def _(tmp):
    from mocohd.motion import load_official_motion

    torch.save({"w": torch.zeros(16, 8)}, tmp / "modelR_epoch_1.pth")
    pca = {"comp": torch.eye(8), "stdev": torch.ones(8)}
    return (lambda: load_official_motion(tmp / "modelR_epoch_1.pth", pca), ValueError,
            r"not an official MoCoGAN-HD motion state dict(?s:.*)missing(?s:.*)pass the modelR_epoch_\*.pth file")


@case("official motion: a discriminator file given instead")
def _(tmp):
    from mocohd.motion import load_official_motion

    torch.save({"module.model.0.weight": torch.zeros(4, 3, 4, 4)}, tmp / "modelD_epoch_1.pth")
    pca = {"comp": torch.eye(8), "stdev": torch.ones(8)}
    return (lambda: load_official_motion(tmp / "modelD_epoch_1.pth", pca), ValueError,
            r"unexpected \(1\): model.0.weight(?s:.*)not modelD_\*")


@case("official PCA: a folder without pca_stdev.npy")
def _(tmp):
    from mocohd.pca import load_w_pca

    (tmp / "pca").mkdir()
    np.save(tmp / "pca" / "pca_comp.npy", np.eye(4, dtype=np.float32))
    return lambda: load_w_pca(tmp / "pca"), FileNotFoundError, "lacks pca_stdev.npy.*or compute one with mocohd.pca.fit_w_pca"


@case("I3D: a state dict of another network")
def _(tmp):
    from mocohd.metrics.i3d import load_i3d

    torch.save({"conv1a.weight": torch.zeros(64, 3, 3, 3, 3)}, tmp / "i3d.pt")
    return (lambda: load_i3d(tmp / "i3d.pt"), ValueError,
            r"not an InceptionI3d in the pytorch-i3d layout \(give the path of StyleGAN-V's i3d_torchscript.pt")


@case("I3D: a TorchScript file with a part missing")
def _(tmp):
    from mocohd.metrics.i3d import load_i3d

    torch.jit.script(torch.nn.Linear(2, 2)).save(str(tmp / "whole.pt"))
    with zipfile.ZipFile(tmp / "whole.pt") as source, zipfile.ZipFile(tmp / "i3d_torchscript.pt", "w") as target:
        for name in source.namelist():  # a TorchScript archive that lost its module's pickle
            if not name.endswith("/data.pkl"):
                target.writestr(name, source.read(name))
    return (lambda: load_i3d(tmp / "i3d_torchscript.pt"), ValueError,
            "TorchScript archive but torch.jit.load cannot read it.*give the path of StyleGAN-V's")


@case("C3D: a state dict of another network")
def _(tmp):
    from mocohd.metrics.c3d import load_c3d

    torch.save({"fc.weight": torch.zeros(2, 2)}, tmp / "c3d.pt")
    return lambda: load_c3d(tmp / "c3d.pt"), ValueError, "not the UCF-101 C3D of the TGAN protocol.*conv3d_deepnetA_ucf.npz"


@case("C3D mean: an .npz without 'mean'")
def _(tmp):
    from mocohd.metrics.c3d import load_tgan_mean

    np.savez(tmp / "mean2.npz", average=np.zeros(3))
    return lambda: load_tgan_mean(tmp / "mean2.npz"), ValueError, r"has no 'mean' array.*expected TGAN's mean2.npz"


# --------------------------------------------------------------------------------------
# Videos and frame folders


def a_video(path: Path) -> Path:
    from mocohd.data.video_io import write_video

    return write_video(path, numbered_frames(8, 32, 32), fps=8)


@case("video: an empty file")
def _(tmp):
    from mocohd.data.video_io import read_video

    (tmp / "v.mp4").touch()
    return lambda: read_video(tmp / "v.mp4"), ValueError, "cannot decode video.*re-encode it"


@case("video: truncated")
def _(tmp):
    from mocohd.data.video_io import read_video

    whole = a_video(tmp / "whole.mp4").read_bytes()
    (tmp / "v.mp4").write_bytes(whole[: len(whole) // 3])
    return lambda: read_video(tmp / "v.mp4"), ValueError, "cannot decode video.*truncated or corrupt.*re-encode it"


@case("video: a text file named .mp4")
def _(tmp):
    from mocohd.data.video_io import read_video

    (tmp / "v.mp4").write_text("not a video\n" * 50)
    return lambda: read_video(tmp / "v.mp4"), ValueError, "cannot decode video.*or remove it"


@case("video dataset: one file is not a video")
def _(tmp):
    from mocohd.data.folders import VideoFilesDataset

    a_video(tmp / "data" / "a.mp4")
    (tmp / "data" / "b.mp4").write_bytes(b"\x00" * 1000)
    ds = VideoFilesDataset(tmp / "data", frames=2, time_step=1, size=32, seed=0)
    return lambda: ds[1], ValueError, r"cannot decode video .*b\.mp4.*re-encode it"


@case("video dataset: a video too short for a clip")
def _(tmp):
    from mocohd.data.folders import VideoFilesDataset

    a_video(tmp / "data" / "a.mp4")
    ds = VideoFilesDataset(tmp / "data", frames=8, time_step=2, size=32, seed=0)
    return lambda: ds[0], ValueError, r"has 8 frames, but a clip .* needs at least 17.*lower frames or time_step"


@case("video dataset: UCF-101 videos outside a class folder")
def _(tmp):
    from mocohd.data.folders import UCF101Dataset

    (tmp / "ucf" / "Archery").mkdir(parents=True)
    (tmp / "ucf" / "Archery" / "v_Archery_g01_c01.avi").write_bytes(b"x")
    (tmp / "ucf" / "v_loose.avi").write_bytes(b"x")
    return (lambda: UCF101Dataset(tmp / "ucf", frames=2, size=32), ValueError,
            r"one folder deep, in their class folder.*v_loose.avi does not; move it")


@case("dataset: the folder does not exist")
def _(tmp):
    from mocohd.data.folders import FrameFoldersDataset

    return (lambda: FrameFoldersDataset(tmp / "nowhere", frames=2, size=32), FileNotFoundError,
            "does not exist; download the dataset there or fix the path")


@case("frame folder: a hole in the numbering")
def _(tmp):
    from mocohd.data.video_io import read_frames_folder

    write_frames_folder(tmp / "clip", numbered_frames(6), pattern="{:04d}.png")
    (tmp / "clip" / "0003.png").unlink()
    return (lambda: read_frames_folder(tmp / "clip"), ValueError,
            r"skips frames: 0002.png is followed by 0004.png.*Extract the frames again")


@case("frame folders dataset: a hole in one video's numbering")
def _(tmp):
    from mocohd.data.folders import FrameFoldersDataset

    write_frames_folder(tmp / "data" / "a", numbered_frames(8), pattern="img_{}.jpg")
    write_frames_folder(tmp / "data" / "b", numbered_frames(8), pattern="img_{}.jpg")
    (tmp / "data" / "b" / "img_5.jpg").unlink()
    ds = FrameFoldersDataset(tmp / "data", frames=2, time_step=1, size=16, seed=0)
    return lambda: ds[1], ValueError, r"skips frames: img_4.jpg is followed by img_6.jpg.*a folder of their own"


@case("frame folder: frames of mixed sizes")
def _(tmp):
    from mocohd.data.video_io import read_frames_folder

    write_frames_folder(tmp / "clip", numbered_frames(3), pattern="{}.png")
    write_frames_folder(tmp / "odd", numbered_frames(1, 16, 16), pattern="3.png")
    (tmp / "odd" / "3.png").rename(tmp / "clip" / "3.png")
    return (lambda: read_frames_folder(tmp / "clip"), ValueError,
            r"differ in size: 0.png is 32x24 but 3.png is 16x16.*resize them all to one size")


@case("frame folder: a frame that is not an image")
def _(tmp):
    from mocohd.data.video_io import read_frames_folder

    write_frames_folder(tmp / "clip", numbered_frames(3), pattern="{}.png")
    (tmp / "clip" / "3.png").write_text("not a png")
    return lambda: read_frames_folder(tmp / "clip"), ValueError, r"cannot read image .*3.png.*re-save it or remove it"


@case("frame folder: no images")
def _(tmp):
    from mocohd.data.video_io import read_frames_folder

    (tmp / "clip").mkdir()
    (tmp / "clip" / "notes.txt").write_text("frames to come")
    return lambda: read_frames_folder(tmp / "clip"), FileNotFoundError, "has no images.*put one image per frame in it"


# --------------------------------------------------------------------------------------
# NaN and inf in what the metrics and the generators read


def nan_video(shape=(2, 16, 3, 32, 32), value=float("nan")):
    video = torch.zeros(shape)
    video[1, 3, 0, 5, 5] = value
    return video


FIX_NAN = r"NaN or inf \(1 of \d+ values\).*drop or fix those samples"


@case("metric: NaN in Frechet features")
def _(tmp):
    from mocohd.metrics.frechet import feature_statistics

    features = np.random.default_rng(0).normal(size=(8, 3))
    features[2, 1] = np.nan
    return lambda: feature_statistics(features), ValueError, "features contain NaN or inf; check the images or the network"


@case("metric: NaN in PSNR/SSIM videos")
def _(tmp):
    from mocohd.metrics.psnr_ssim import psnr_ssim

    return lambda: psnr_ssim(torch.zeros(2, 16, 3, 32, 32), nan_video()), ValueError, "videos contain " + FIX_NAN


@case("metric: inf in ACD content vectors")
def _(tmp):
    from mocohd.metrics.acd import content_distances

    vectors = torch.zeros(2, 4, 3)
    vectors[0, 1, 2] = float("inf")
    return lambda: content_distances(vectors), ValueError, "content vectors contain " + FIX_NAN


@case("metric: NaN in Inception Score probabilities")
def _(tmp):
    from mocohd.metrics.inception_score import inception_score

    p = np.full((4, 2), 0.5)
    p[0, 0] = np.nan
    return lambda: inception_score(p, splits=1), ValueError, "must be finite and non-negative; pass softmax outputs"


@case("metric: inf in FD_toy images")
def _(tmp):
    from mocohd.metrics.toy_features import check_images

    images = torch.zeros(2, 3, 32, 32)
    images[0, 0, 0, 0] = float("inf")
    return lambda: check_images(images), ValueError, "images contain " + FIX_NAN


@case("metric: NaN in FVD_toy clips")
def _(tmp):
    from mocohd.metrics.toy_video_net import check_videos

    return lambda: check_videos(nan_video()), ValueError, "videos contain " + FIX_NAN


@case("metric: NaN in FVD (I3D) clips")
def _(tmp):
    from mocohd.metrics.i3d import fvd_preprocess

    return lambda: fvd_preprocess(nan_video()), ValueError, "videos contain " + FIX_NAN


@case("metric: inf in IS (C3D) clips")
def _(tmp):
    from mocohd.metrics.c3d import tgan_preprocess

    return lambda: tgan_preprocess(nan_video(value=float("-inf"))), ValueError, "videos contain " + FIX_NAN


def tiny_video_generator():
    from mocohd.image_generator import Generator
    from mocohd.motion import MotionGenerator
    from mocohd.video_generator import VideoGenerator

    g = Generator(size=8, style_dim=8, n_mlp=1, channel_multiplier=1, channel_scale=0.0625)
    return VideoGenerator(g, MotionGenerator(8, 8, 4, 0.2))


@case("generator: NaN in z")
def _(tmp):
    vg, z = tiny_video_generator(), torch.zeros(2, 8)
    z[1, 0] = float("nan")
    return lambda: vg(z, 2), ValueError, r"z contains NaN or inf.*draw it again \(torch.randn\)"


@case("metric: inf in a Gaussian given to the Frechet distance")
def _(tmp):
    from mocohd.metrics.frechet import frechet_distance

    sigma = np.eye(3)
    sigma[0, 0] = np.inf
    return (lambda: frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), sigma), ValueError,
            "mu2 or sigma2 contains NaN or inf; compute them with feature_statistics from finite features")


# --------------------------------------------------------------------------------------
# Command lines: python -m mocohd.* with bad arguments


def train(*argv):
    from mocohd.train.__main__ import main

    return command(main, list(argv))


@case("cli train: no command")
def _(tmp):
    return train(), Exit, r"usage: python -m mocohd.train \{image\|video\}.*try `... image --help`"


@case("cli train image: --steps -1 (trained nothing, said nothing)")
def _(tmp):
    a_run_folder(tmp / "run")
    return train("image", "--out", str(tmp / "run"), "--steps", "-1"), Exit, usage_error("--steps must be at least 1, got -1")


@case("cli train image: --bf16 maybe")
def _(tmp):
    return train("image", "--out", str(tmp / "run"), "--bf16", "maybe"), Exit, usage_error("argument --bf16", "on, off or auto")


@case("cli train image: --threads 0")
def _(tmp):
    return train("image", "--out", str(tmp / "run"), "--threads", "0"), Exit, usage_error("--threads must be at least 1")


@case("cli train image: --size 48")
def _(tmp):
    a_run_folder(tmp / "run")  # the error comes from building G, before the run folder is touched
    return (train("image", "--preset", "smoke", "--out", str(tmp / "run"), "--size", "48", "--bf16", "off"), ValueError,
            "power of two from 8 to 1024, got 48; use 64")


@case("cli train video: --batch 0")
def _(tmp):
    a_run_folder(tmp / "run")
    return train("video", "--out", str(tmp / "run"), "--batch", "0"), Exit, usage_error("--batch must be at least 1, got 0")


@case("cli train video: --g-steps -1")
def _(tmp):
    return train("video", "--out", str(tmp / "run"), "--g-steps", "-1"), Exit, usage_error("--g-steps must be at least 0")


@case("cli train video: --data a folder that does not exist")
def _(tmp):
    return (train("video", "--out", str(tmp / "run"), "--data", str(tmp / "nowhere")), Exit,
            usage_error("--data .*nowhere: no such folder; use toy:<domain>, carphone"))


def ship(*argv):
    from mocohd.ship import main

    return command(main, list(argv))


@case("cli ship: image without --run")
def _(tmp):
    return ship("image", "--domain", "faces"), Exit, usage_error("image needs --run: the training run folder")


@case("cli ship: an unknown domain")
def _(tmp):
    return ship("image", "--domain", "cats", "--run", str(tmp)), Exit, usage_error("argument --domain: invalid choice: 'cats'")


@case("cli ship: carphone as an image run")
def _(tmp):
    a_run_folder(tmp / "run")
    return (ship("image", "--domain", "carphone", "--run", str(tmp / "run")), Exit,
            usage_error("--domain carphone names a video run on the real clip: use it with `video`"))


def generate(*argv):
    from mocohd.generate import main

    return command(main, [str(SHIPPED_MOTION), *argv])


@case("cli generate: --out of an unknown kind")
def _(tmp):
    return generate("--out", str(tmp / "v.avi")), Exit, usage_error(r"--out .*v.avi: give a file name ending in .mp4 or .gif")


@case("cli generate: --frames 1")
def _(tmp):
    return generate("--out", str(tmp / "v.mp4"), "--frames", "1"), Exit, usage_error("frames must be an int >= 2", "frames=256")


@case("cli generate: --method teleport")
def _(tmp):
    return (generate("--out", str(tmp / "v.mp4"), "--method", "teleport"), Exit,
            usage_error("unknown method 'teleport'; choose one of unroll, interpolate"))


@case("cli generate: a checkpoint that does not exist")
def _(tmp):
    from mocohd.generate import main

    return (command(main, [str(tmp / "nowhere.pt"), "--out", str(tmp / "v.mp4")]), Exit,
            usage_error("no checkpoint at .*nowhere.pt: give a motion checkpoint"))


def evaluate(*argv):
    from mocohd.evaluate import main

    return command(main, [str(SHIPPED_MOTION), *argv])


@case("cli evaluate: --n-videos 1")
def _(tmp):
    return evaluate("--n-videos", "1"), Exit, usage_error("--n-videos must be at least 2")


@case("cli evaluate: an unknown metric")
def _(tmp):
    return evaluate("--metrics", "fid", "--json", str(tmp / "out.json")), Exit, r"exit error: unknown metrics \['fid'\]; choose from"


@case("cli motion_stats: --repeats 0 (was an IndexError)")
def _(tmp):
    from mocohd.metrics.motion_stats import main

    return (command(main, [str(SHIPPED_MOTION), "--domain", "faces", "--repeats", "0"]), Exit,
            usage_error("--repeats must be at least 1, got 0"))


@case("cli motion_stats: no --domain")
def _(tmp):
    from mocohd.metrics.motion_stats import main

    return command(main, [str(SHIPPED_MOTION)]), Exit, usage_error("the following arguments are required: --domain")


@case("cli toy_features_train: --out not a .pt")
def _(tmp):
    from mocohd.metrics.toy_features_train import main

    return (command(main, ["train", "--out", str(tmp / "net.txt")]), Exit,
            usage_error(r"--out .*net.txt: give a weights file name ending in .pt"))


@case("cli toy_video_net_train: --seed -1")
def _(tmp):
    from mocohd.metrics.toy_video_net_train import main

    return command(main, ["train", "--out", str(tmp / "net.pt"), "--seed", "-1"]), Exit, usage_error("--seed must be at least 0")


@case("cli tour: --mode fast")
def _(tmp):
    from mocohd.tour import main

    return command(main, ["--mode", "fast"]), Exit, usage_error("argument --mode: invalid choice: 'fast'")


@case("cli tour: --only a notebook that does not exist")
def _(tmp):
    from mocohd.tour import main

    return command(main, ["--only", "99", "--out", str(tmp / "tour")]), Exit, "exit 2: no notebooks match"


# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_bad_input_names_the_problem_and_the_fix_and_changes_nothing_on_disk(name, tmp_path):
    call, error, match = CASES[name](tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(error, match=match):
        call()
    assert snapshot(tmp_path) == before, "a file was changed, lost or added"


def test_there_are_at_least_forty_cases():
    assert len(CASES) >= 40


def test_resume_without_a_checkpoint_says_it_starts_afresh(tmp_path, capsys):
    """--resume on a folder without a checkpoint starts the run (scripts rerun with --resume),
    but says so, naming the fix for a mistyped --out."""
    from mocohd.config import image_preset
    from mocohd.train.image_gan import train_image_gan

    cfg = image_preset("smoke", size=32, n_images=8, style_dim=16, n_mlp=1, channel_scale=0.0625, batch=2, steps=1,
                       bf16=False, channels_last=False, log_every=1, sample_every=1, ckpt_every=1)
    train_image_gan(cfg, tmp_path / "typo", resume=True, progress=False)
    said = capsys.readouterr().out
    assert "--resume: no checkpoint at" in said and "starts from step 0" in said and "give its folder as --out" in said
    train_image_gan(cfg, tmp_path / "typo", resume=True, progress=False)  # now there is one: nothing said
    assert "--resume" not in capsys.readouterr().out
