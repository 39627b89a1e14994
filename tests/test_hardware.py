import warnings

import pytest

from mocohd import hardware
from mocohd.config import image_preset
from mocohd.train.image_gan import ImageGANTrainer

X86_NO_BF16 = "processor\t: 0\nmodel name\t: Some Xeon\nflags\t\t: fpu sse2 avx2 avx512f avx512bw\n"
X86_AMX = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_tile amx_bf16\n"
ARM_BF16 = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"


@pytest.mark.parametrize("text, native", [(X86_NO_BF16, False), (X86_AMX, True), (ARM_BF16, True), ("", None)])
def test_bf16_support_is_read_off_cpuinfo(tmp_path, text, native):
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    assert hardware.has_native_bf16(hardware.cpu_flags(path)) is native


def test_a_missing_cpuinfo_means_unknown_not_absent(tmp_path):
    assert hardware.cpu_flags(tmp_path / "nowhere") == set()
    assert hardware.bf16_warning(True, set()) is None  # macOS, Windows: nothing known, nothing said


def test_the_warning_names_the_fix_and_only_speaks_when_bf16_is_emulated():
    emulated = {"avx2", "avx512f"}
    message = hardware.bf16_warning(True, emulated)
    assert "--bf16 false" in message and "make bench" in message
    assert hardware.bf16_warning(False, emulated) is None
    assert hardware.bf16_warning(True, {"avx512f", "avx512_bf16"}) is None


def test_a_trainer_warns_when_asked_for_bf16_on_a_cpu_without_it(tmp_path, monkeypatch):
    cfg = dict(size=32, n_images=8, style_dim=16, n_mlp=1, channel_scale=0.0625, batch=4, steps=1,
               device="cpu")  # on a GPU the bf16 is the GPU's, and nothing is said
    monkeypatch.setattr(hardware, "cpu_flags", lambda *_: {"avx2", "avx512f"})
    with pytest.warns(UserWarning, match="no bf16 instructions"):
        ImageGANTrainer(image_preset("smoke", bf16=True, **cfg), tmp_path / "a")
    monkeypatch.setattr(hardware, "cpu_flags", lambda *_: {"avx2", "avx512f", "amx_bf16"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ImageGANTrainer(image_preset("smoke", bf16=True, **cfg), tmp_path / "b")


def test_the_signature_keeps_the_flags_that_choose_kernels(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(X86_NO_BF16)
    sig = hardware.cpu_signature(path)
    assert sig["cpu"] == "Some Xeon"
    assert sig["kernel_flags"] == ["avx2", "avx512f"]  # fpu, sse2, avx512bw choose no kernel of their own
    assert sig["aten"] and sig["torch"]


WITH_BF16 = {"cpu": "A", "kernel_flags": ["avx2", "avx512_bf16", "avx512f"], "aten": "AVX512", "torch": "2.13.0"}
WITHOUT = {"cpu": "B", "kernel_flags": ["avx2", "avx512f"], "aten": "AVX512", "torch": "2.13.0"}


def test_the_machine_log_grows_only_when_the_kernels_change():
    log, warning = hardware.machine_log(None, 0, WITH_BF16)
    assert log == [{"from_step": 0, **WITH_BF16}] and warning is None
    same_kind = {**WITH_BF16, "cpu": "A, another box"}  # another machine of the same kind: nothing to say
    assert hardware.machine_log(log, 500, same_kind) == (log, None)
    log, warning = hardware.machine_log(log, 2650, WITHOUT)
    assert [m["from_step"] for m in log] == [0, 2650]
    assert "step 2650" in warning and "avx512_bf16" in warning and "not be bit-identical" in warning
    # a checkpoint from before mocohd recorded machines: the list starts here, with nothing to compare
    assert hardware.machine_log([], 1300, WITHOUT) == ([{"from_step": 1300, **WITHOUT}], None)


def test_a_checkpoint_records_its_cpus_and_a_resume_on_another_kind_warns(tmp_path, monkeypatch):
    cfg = image_preset("smoke", size=32, n_images=8, style_dim=16, n_mlp=1, channel_scale=0.0625, batch=4,
                       steps=1, bf16=False)
    monkeypatch.setattr(hardware, "cpu_signature", lambda *_: dict(WITH_BF16))
    first = ImageGANTrainer(cfg, tmp_path / "run")
    first.step = 7
    path = first.save()
    monkeypatch.setattr(hardware, "cpu_signature", lambda *_: dict(WITHOUT))
    second = ImageGANTrainer(cfg, tmp_path / "run")
    with pytest.warns(UserWarning, match="another kind of CPU"):
        second.load(path)
    assert [(m["cpu"], m["from_step"]) for m in second.machines] == [("A", 0), ("B", 7)]
    assert second.state()["machines"] == second.machines
