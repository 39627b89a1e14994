"""Where the trainers compute: ``--device auto|cpu|cuda|cuda:N``.

The CPU tests run everywhere. The GPU tests run only where PyTorch sees a GPU (CI has none;
they were run on a lent GPU machine, see the README's GPU section): a GPU run starts from the
same weights and draws the same z, motion noise and noise maps as a CPU run, so its first
losses agree with the CPU's to rounding, and its checkpoints train on on either device.
"""

import math
import warnings

import pytest
import torch

from mocohd import hardware
from mocohd.hardware import machine_log, training_device
from mocohd.train.image_gan import ImageGANTrainer, load_generator
from mocohd.train.video_gan import VideoGANTrainer

from test_image_gan import cfg as small_image
from test_video_gan import _tiny_image_generator
from test_video_gan import small as small_video

gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU that PyTorch sees")


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory):
    return _tiny_image_generator(tmp_path_factory.mktemp("gen"), 32)


# --------------------------------------------------------------------------------------
# Everywhere


def test_device_names_resolve_and_a_missing_gpu_is_named(monkeypatch):
    assert training_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert training_device("auto") == torch.device("cpu")  # no GPU: auto falls back to the CPU
    with pytest.raises(ValueError, match="sees no GPU.*--device cpu"):
        training_device("cuda")
    with pytest.raises(ValueError, match="use auto, cpu, cuda or cuda:N"):
        training_device("tpu")


def test_auto_takes_the_gpu_of_its_torchrun_process(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert training_device("auto") == torch.device("cuda", 1)
    assert training_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(ValueError, match="has 2 GPU"):
        training_device("cuda:5")


def test_a_resume_onto_a_gpu_is_logged_and_warned():
    cpu = {"cpu": "X", "kernel_flags": ["avx2"], "aten": "AVX2", "torch": "2.13.0"}
    log, _ = machine_log(None, 0, cpu)
    log, warning = machine_log(log, 40, {**cpu, "gpu": "NVIDIA H200", "cuda": "13.0"})
    assert [m.get("gpu") for m in log] == [None, "NVIDIA H200"] and log[1]["from_step"] == 40
    assert "another kind of device" in warning and "NVIDIA H200" in warning


def test_bf16_on_a_gpu_gives_no_cpu_advice():
    assert hardware.bf16_warning(True, flags={"avx2"}) is not None  # a CPU without bf16 instructions
    assert hardware.bf16_warning(True, flags={"avx2"}, device="cuda") is None


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_a_trainer_asked_for_a_gpu_on_a_cpu_machine_says_so(tiny_generator, tmp_path):
    with pytest.raises(ValueError, match="sees no GPU"):
        VideoGANTrainer(small_video(tiny_generator, device="cuda"), tmp_path)


# --------------------------------------------------------------------------------------
# On a GPU


@pytest.fixture
def exact_gpu_arithmetic():
    """TF32 would round convolutions to 10 bits on the GPU; the comparisons below want fp32."""
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


@gpu
@pytest.mark.parametrize("cross_domain", [False, True])
def test_a_gpu_iteration_gives_the_cpu_losses(tiny_generator, tmp_path, exact_gpu_arithmetic,
                                             cross_domain):
    logs = {}
    for device in ("cpu", "cuda"):
        t = VideoGANTrainer(small_video(tiny_generator, device=device, cross_domain=cross_domain), tmp_path / device)
        assert {p.device.type for p in t.motion.parameters()} == {device}
        logs[device] = t.train_step()
    assert logs["cpu"].keys() == logs["cuda"].keys()
    for k, v in logs["cpu"].items():
        assert logs["cuda"][k] == pytest.approx(v, rel=1e-3, abs=1e-4), k


@gpu
def test_a_gpu_run_with_bf16_trains_and_samples_to_the_cpu(tiny_generator, tmp_path):
    t = VideoGANTrainer(small_video(tiny_generator, device="cuda", bf16=True), tmp_path)
    history = t.fit(progress=False)
    assert all(math.isfinite(v) for row in history for k, v in row.items() if k != "step")
    videos = t.sample_videos()
    assert videos.device.type == "cpu" and videos.shape[0] == 4
    assert t.machines[0]["gpu"] == torch.cuda.get_device_name(t.device)


@gpu
def test_a_gpu_checkpoint_trains_on_on_the_cpu(tiny_generator, tmp_path):
    VideoGANTrainer(small_video(tiny_generator, device="cuda"), tmp_path).fit(progress=False)
    t = VideoGANTrainer(small_video(tiny_generator, device="cpu", steps=3), tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t.load(tmp_path / "checkpoint.pt")
    assert t.step == 2 and any("another kind of device" in str(w.message) for w in caught)
    history = t.fit(progress=False)
    assert history[-1]["step"] == 3 and math.isfinite(history[-1]["g_total"])
    assert [m.get("gpu") is not None for m in t.machines] == [True, False]


@gpu
def test_the_image_trainer_runs_on_a_gpu_and_its_generator_loads_on_the_cpu(tmp_path):
    t = ImageGANTrainer(small_image(device="cuda", steps=2), tmp_path)
    assert {p.device.type for p in t.g.parameters()} == {"cuda"}
    history = t.fit(progress=False)
    assert all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in history)
    g = load_generator(tmp_path / "checkpoint.pt")
    assert {p.device.type for p in g.parameters()} == {"cpu"}
    resumed = ImageGANTrainer(small_image(device="cuda", steps=3), tmp_path)
    resumed.load(tmp_path / "checkpoint.pt")
    assert resumed.fit(progress=False)[-1]["step"] == 3
