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
    cfg = dict(size=32, n_images=8, style_dim=16, n_mlp=1, channel_scale=0.0625, batch=4, steps=1)
    monkeypatch.setattr(hardware, "cpu_flags", lambda: {"avx2", "avx512f"})
    with pytest.warns(UserWarning, match="no bf16 instructions"):
        ImageGANTrainer(image_preset("smoke", bf16=True, **cfg), tmp_path / "a")
    monkeypatch.setattr(hardware, "cpu_flags", lambda: {"avx2", "avx512f", "amx_bf16"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ImageGANTrainer(image_preset("smoke", bf16=True, **cfg), tmp_path / "b")
