"""Files from elsewhere cannot run code: every loader in mocohd refuses pickled Python objects.

A ``.pt`` file is a pickle, and unpickling an object can call any function the file names.
Each test below writes a file whose unpickling would create a marker file (through
``builtins.open``: harmless, and visible), hands it to one of mocohd's loaders, and checks
that the loader refuses it with a message that says why and how to fix it, and that the
marker was never created: nothing in the file ran.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from mocohd.checkpoint import UnsafeFileError, load_checkpoint, numpy_load, read_torch_file, torch_load

REFUSAL = r"Python objects beyond tensors and plain containers.*refuses to unpickle.*state_dict\(\)"


class Payload:
    """Unpickled, it opens (creates) ``marker``: the stand-in for any code a file could run."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def evil_torch_file(path: Path, marker: Path, **entries) -> Path:
    """A torch.save file: a dict with ``entries`` (a mocohd checkpoint's keys, say) and the payload."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({**entries, "extra": Payload(marker)}, path)
    return path


def evil_npy_array(marker: Path) -> np.ndarray:
    arr = np.empty(2, dtype=object)
    arr[0], arr[1] = Payload(marker), 1.0
    return arr


@pytest.fixture
def marker(tmp_path):
    m = tmp_path / "marker_code_ran"
    yield m
    assert not m.exists(), "unpickling the file ran its code"


def test_the_payload_does_run_code_when_loaded_unsafely(tmp_path):
    """Without this the other tests would prove nothing: a plain, unsafe load creates the marker."""
    marker = tmp_path / "m"
    path = evil_torch_file(tmp_path / "evil.pt", marker)
    torch.load(path, weights_only=False)
    assert marker.exists()
    marker.unlink()
    np.save(tmp_path / "evil.npy", evil_npy_array(marker), allow_pickle=True)
    np.load(tmp_path / "evil.npy", allow_pickle=True)
    assert marker.exists()


# --------------------------------------------------------------------------------------
# The shared readers


def test_torch_load_refuses_and_says_which_object(tmp_path, marker):
    path = evil_torch_file(tmp_path / "evil.pt", marker)
    with pytest.raises(UnsafeFileError, match=REFUSAL) as error:
        torch_load(path)
    message = str(error.value)
    assert str(path) in message and "(it names io.open)" in message  # names the file and the object refused
    assert "weights_only` set to `False` will likely succeed" not in message  # torch's advice is left out


@pytest.mark.parametrize("reader", [read_torch_file, load_checkpoint])
def test_checkpoint_readers_refuse(tmp_path, marker, reader):
    path = evil_torch_file(tmp_path / "evil.pt", marker, format="mocohd.image_gan", version=1)
    with pytest.raises(UnsafeFileError, match=REFUSAL):
        reader(path)


def test_a_raw_pickle_is_refused(tmp_path, marker):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"state_dict": Payload(marker)}, protocol=2))
    with pytest.raises(UnsafeFileError, match=REFUSAL):
        torch_load(path)
    # pickle's newer protocols use instructions the safe unpickler does not read at all: refused sooner
    path.write_bytes(pickle.dumps({"state_dict": Payload(marker)}, protocol=pickle.HIGHEST_PROTOCOL))
    with pytest.raises(ValueError, match="not a readable mocohd checkpoint.*plain pickle; nothing in it was unpickled"):
        read_torch_file(path)


def test_numpy_object_arrays_are_refused(tmp_path, marker):
    np.save(tmp_path / "evil.npy", evil_npy_array(marker), allow_pickle=True)
    np.savez(tmp_path / "evil.npz", mean=evil_npy_array(marker))
    for path in (tmp_path / "evil.npy", tmp_path / "evil.npz"):
        with pytest.raises(UnsafeFileError, match=REFUSAL + ".*np.savez"):
            numpy_load(path)


# --------------------------------------------------------------------------------------
# Every loader


def image_gan_file(path, marker):
    return evil_torch_file(path, marker, format="mocohd.image_gan", version=1, config={}, state_dicts={})


def video_gan_file(path, marker):
    return evil_torch_file(path, marker, format="mocohd.video_gan", version=1, config={}, state_dicts={})


def _image_generator(tmp_path, marker):
    from mocohd.train.image_gan import load_generator

    load_generator(image_gan_file(tmp_path / "g.pt", marker))


def _image_generator_for_video(tmp_path, marker):
    from mocohd.train.video_gan import load_image_generator

    load_image_generator(image_gan_file(tmp_path / "g.pt", marker))


def _image_generator_export(tmp_path, marker):
    from mocohd.train.image_gan import export_generator

    try:
        export_generator(image_gan_file(tmp_path / "g.pt", marker), tmp_path / "small.pt")
    finally:
        assert not (tmp_path / "small.pt").exists()


def _image_gan_resume(tmp_path, marker):
    from mocohd.config import image_preset
    from mocohd.train.image_gan import train_image_gan

    cfg = image_preset("smoke", size=32, n_images=8, style_dim=16, n_mlp=1, channel_scale=0.0625, batch=2, steps=1,
                       bf16=False, channels_last=False)
    image_gan_file(tmp_path / "run" / "checkpoint.pt", marker)
    train_image_gan(cfg, tmp_path / "run", resume=True, progress=False)


def _video_generator(tmp_path, marker):
    from mocohd.train.video_gan import load_video_generator

    load_video_generator(video_gan_file(tmp_path / "motion.pt", marker))


def _video_discriminators(tmp_path, marker):
    from mocohd.train.video_gan import load_discriminators

    load_discriminators(video_gan_file(tmp_path / "run.pt", marker))


def _motion_export(tmp_path, marker):
    from mocohd.train.video_gan import export_motion

    try:
        export_motion(video_gan_file(tmp_path / "run.pt", marker), tmp_path / "small.pt")
    finally:
        assert not (tmp_path / "small.pt").exists()


def _generate_model(tmp_path, marker):
    from mocohd.generate import load_model

    load_model(video_gan_file(tmp_path / "motion.pt", marker))


def _video_gan_resume(tmp_path, marker):
    """The refusal comes before any network is built: no image generator is needed."""
    from mocohd.train.video_gan import VideoGANTrainer

    trainer = VideoGANTrainer.__new__(VideoGANTrainer)  # load() reads the file first of all
    trainer.name = VideoGANTrainer.name
    trainer.load(video_gan_file(tmp_path / "run" / "checkpoint.pt", marker))


def _ship(kind):
    def ship(tmp_path, marker):
        from mocohd import ship as ship_module

        run = tmp_path / "run"
        (image_gan_file if kind == "image" else video_gan_file)(run / "checkpoint.pt", marker)
        for name in ship_module.STATE_FILES if kind == "state" else ():  # the rest of a run folder
            if not (run / name).exists():
                (run / name).write_text("{}")
        out = tmp_path / "shipped"
        try:
            getattr(ship_module, f"ship_{kind}")("faces", run, out)
        finally:
            assert not out.exists() or not any(out.iterdir())

    return ship


def _cross_domain_d(tmp_path, marker):
    from mocohd.metrics.cross_domain import load_cross_domain_video_d

    load_cross_domain_video_d(video_gan_file(tmp_path / "run.pt", marker))


def _discriminator_probe(tmp_path, marker):
    from mocohd.lab.discriminator_probe import _load_run

    _load_run(video_gan_file(tmp_path / "run.pt", marker))


def _path_game_graft(tmp_path, marker):
    from mocohd.lab.path_game import graft

    graft(video_gan_file(tmp_path / "run.pt", marker), tmp_path / "motion.pt", tmp_path / "out")


def _rosinality_generator(tmp_path, marker):
    from mocohd.convert import load_rosinality_generator

    load_rosinality_generator(evil_torch_file(tmp_path / "550000.pt", marker, g_ema={"style.1.weight": torch.ones(2)}))


def _official_motion(tmp_path, marker):
    from mocohd.motion import load_official_motion

    path = evil_torch_file(tmp_path / "modelR_epoch_1.pth", marker, **{"w": torch.zeros(4, 4)})
    load_official_motion(path, {"comp": torch.eye(8), "stdev": torch.ones(8)})


def _w_pca(tmp_path, marker):
    from mocohd.pca import load_w_pca

    load_w_pca(evil_torch_file(tmp_path / "g.pca.pt", marker, format="mocohd.w_pca", version=1))


def _official_pca(tmp_path, marker):
    from mocohd.pca import load_w_pca

    folder = tmp_path / "pca_stats" / "faces"
    folder.mkdir(parents=True)
    np.save(folder / "pca_comp.npy", evil_npy_array(marker), allow_pickle=True)
    np.save(folder / "pca_stdev.npy", np.ones(2, np.float32))
    load_w_pca(folder)


def _toy_feature_net(tmp_path, marker):
    from mocohd.metrics.toy_features import FORMAT, load_toy_feature_net

    load_toy_feature_net(evil_torch_file(tmp_path / "toy_features.pt", marker, format=FORMAT, version=1))


def _toy_video_net(tmp_path, marker):
    from mocohd.metrics.toy_video_net import FORMAT, load_toy_video_net

    load_toy_video_net(evil_torch_file(tmp_path / "toy_video_net.pt", marker, format=FORMAT, version=1))


def _i3d_state_dict(tmp_path, marker):
    from mocohd.metrics.i3d import load_i3d

    load_i3d(evil_torch_file(tmp_path / "rgb_imagenet.pt", marker, **{"logits.conv3d.weight": torch.zeros(1)}))


def _i3d_torchscript(tmp_path, marker):
    """A TorchScript archive whose data.pkl names the payload: TorchScript's unpickler refuses it."""
    from mocohd.metrics.i3d import load_i3d

    scripted = tmp_path / "scripted.pt"
    torch.jit.script(torch.nn.Linear(2, 2)).save(str(scripted))
    path = tmp_path / "i3d_torchscript.pt"
    with zipfile.ZipFile(scripted) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, pickle.dumps(Payload(marker), protocol=2) if name.endswith("/data.pkl") else data)
    load_i3d(path)


def _c3d_state_dict(tmp_path, marker):
    from mocohd.metrics.c3d import load_c3d

    load_c3d(evil_torch_file(tmp_path / "c3d.pt", marker, **{"conv1a.weight": torch.zeros(1)}))


def _c3d_npz(tmp_path, marker):
    from mocohd.metrics.c3d import load_c3d

    np.savez(tmp_path / "conv3d_deepnetA_ucf.npz", **{"conv1a/W": evil_npy_array(marker)})
    load_c3d(tmp_path / "conv3d_deepnetA_ucf.npz")


def _c3d_mean(tmp_path, marker):
    from mocohd.metrics.c3d import load_tgan_mean

    np.savez(tmp_path / "mean2.npz", mean=evil_npy_array(marker))
    load_tgan_mean(tmp_path / "mean2.npz")


def _toy_clip_cache(tmp_path, marker):
    from mocohd.data import toyworld

    key = f"faces-n2-t2-s32-seed0-v{toyworld.VERSION}"
    evil_torch_file(toyworld._cache_path(tmp_path / "cache", key), marker, domain="faces")
    with pytest.raises(UnsafeFileError, match="It is a cache file: delete it") as refused:
        toyworld.cached_clips("faces", 2, frames=2, size=32, seed=0, cache_dir=tmp_path / "cache")
    raise refused.value


LOADERS = {
    "image generator (image_gan.load_generator)": _image_generator,
    "image generator of a video run (video_gan.load_image_generator)": _image_generator_for_video,
    "image-GAN export (image_gan.export_generator)": _image_generator_export,
    "image-GAN training state (--resume)": _image_gan_resume,
    "motion / video generator (video_gan.load_video_generator)": _video_generator,
    "video-GAN discriminators (video_gan.load_discriminators)": _video_discriminators,
    "motion export (video_gan.export_motion)": _motion_export,
    "generate's checkpoint (generate.load_model)": _generate_model,
    "video-GAN training state (VideoGANTrainer.load)": _video_gan_resume,
    "ship image (ship.ship_image)": _ship("image"),
    "ship video (ship.ship_video)": _ship("video"),
    "ship state (ship.ship_state)": _ship("state"),
    "cross-domain 3D D (metrics.cross_domain)": _cross_domain_d,
    "discriminator probe run (lab)": _discriminator_probe,
    "path game graft (lab)": _path_game_graft,
    "rosinality StyleGAN2 (convert.load_rosinality_generator)": _rosinality_generator,
    "official MoCoGAN-HD motion (motion.load_official_motion)": _official_motion,
    "W PCA, mocohd file (pca.load_w_pca)": _w_pca,
    "W PCA, official .npy folder (pca.load_w_pca)": _official_pca,
    "toy feature network (metrics.toy_features)": _toy_feature_net,
    "toy video network (metrics.toy_video_net)": _toy_video_net,
    "I3D state dict (metrics.i3d.load_i3d)": _i3d_state_dict,
    "I3D TorchScript (metrics.i3d.load_i3d)": _i3d_torchscript,
    "C3D state dict (metrics.c3d.load_c3d)": _c3d_state_dict,
    "C3D chainer .npz (metrics.c3d.load_c3d)": _c3d_npz,
    "C3D mean (metrics.c3d.load_tgan_mean)": _c3d_mean,
    "toy clip cache (data.toyworld.cached_clips)": _toy_clip_cache,
}


@pytest.mark.parametrize("load", LOADERS.values(), ids=LOADERS.keys())
def test_every_loader_refuses_a_file_that_would_run_code(tmp_path, marker, load):
    with pytest.raises(UnsafeFileError, match=REFUSAL):
        load(tmp_path, marker)
    assert not marker.exists()


def test_the_refusal_is_a_value_error():
    """Callers that catch ValueError for a bad file (the command lines) catch this one too."""
    assert issubclass(UnsafeFileError, ValueError)


def test_the_generate_command_refuses_with_exit_code_2(tmp_path, marker, capsys):
    from mocohd.generate import main

    path = video_gan_file(tmp_path / "motion.pt", marker)
    with pytest.raises(SystemExit) as stop:
        main([str(path), "--out", str(tmp_path / "video.mp4"), "--frames", "4"])
    assert stop.value.code == 2
    assert "refuses to unpickle" in capsys.readouterr().err
    assert not (tmp_path / "video.mp4").exists()


def test_no_loader_in_mocohd_calls_torch_load_or_np_load_itself():
    """Every read goes through mocohd.checkpoint (torch_load, read_torch_file, load_checkpoint,
    numpy_load), so the refusal above covers loaders added later too."""
    package = Path(__file__).resolve().parents[1] / "mocohd"
    offenders = []
    for source in package.rglob("*.py"):
        if source.name == "checkpoint.py":
            continue
        text = source.read_text()
        for call in ("torch.load(", "np.load(", "numpy.load(", "pickle.load", "torch.jit.load("):
            if call in text and not (call == "torch.jit.load(" and source.name == "i3d.py"):
                offenders.append(f"{source.relative_to(package)}: {call}")
    assert not offenders, offenders
