"""--bf16 on|off|auto: the choice (mocohd.hardware.choose_bf16) and what the trainers make of it.

The choice is tested with injected flags and timings, so no test here depends on how fast
bf16 is on the machine that runs it; the trainers' own measurements are run once each, only
to see that they time real work and leave the training stream alone."""

import json

import pytest
import torch

from mocohd import hardware
from mocohd.config import image_preset, to_dict, video_preset
from mocohd.hardware import bf16_setting, choose_bf16, precision_log, recorded_precision
from mocohd.train.image_gan import ImageGANTrainer
from mocohd.train.video_gan import VideoGANTrainer, video_config, video_parser

from test_video_gan import _tiny_image_generator

NO_BF16 = {"avx2", "avx512f"}  # AVX2 / AVX-512 without bf16: PyTorch would emulate it
WITH_BF16 = {"avx2", "avx512f", "avx512_bf16"}
MACHINE_A = {"cpu": "A", "kernel_flags": ["avx2", "avx512_bf16"], "aten": "AVX512", "torch": "2.13.0"}
MACHINE_B = {"cpu": "B", "kernel_flags": ["amx_bf16", "avx2", "avx512_bf16"], "aten": "AVX512", "torch": "2.13.0"}
SHAPE_64 = {"generator": {"size": 64, "style_dim": 128}, "clips": 4, "frames": 16}
SHAPE_256 = {"generator": {"size": 256, "style_dim": 512}, "clips": 4, "frames": 16}


class Timings:
    """A fake measurement: returns the given (fp32 s, bf16 s) and counts its calls."""

    def __init__(self, fp32: float, bf16: float):
        self.result, self.calls = (fp32, bf16), 0

    def __call__(self):
        self.calls += 1
        return self.result


def never():
    raise AssertionError("the measurement ran where the choice needs none")


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """Every test gets its own cache folder, so none reads another's (or the user's) measurements."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MOCOHD_CACHE", str(folder))
    return folder


# --------------------------------------------------------------------------------------
# The setting


@pytest.mark.parametrize("value, setting", [(True, "on"), (False, "off"), ("on", "on"), ("off", "off"),
                                            ("auto", "auto"), ("AUTO", "auto"), (" On ", "on"),
                                            ("true", "on"), ("False", "off")])
def test_settings_and_the_booleans_of_older_configs(value, setting):
    assert bf16_setting(value) == setting


@pytest.mark.parametrize("bad", ["yes", "no", "1", "", 3, 1, 0, None, 1.0])
def test_a_bad_setting_names_the_accepted_values(bad):
    with pytest.raises(ValueError, match=r"is not a bf16 setting: use 'on', 'off' or 'auto' \(True and False"):
        bf16_setting(bad)
    with pytest.raises(ValueError, match="'on', 'off' or 'auto'"):
        choose_bf16(bad, "cpu", flags=WITH_BF16, measure=never)


def test_the_defaults_are_auto_and_the_paper_presets_fp32():
    assert video_preset("full").bf16 == video_preset("smoke").bf16 == "auto"
    assert image_preset("full").bf16 == image_preset("smoke").bf16 == "auto"
    assert video_preset("paper").bf16 is False and image_preset("paper").bf16 is False


@pytest.mark.parametrize("word, value", [("auto", "auto"), ("on", True), ("true", True), ("off", False),
                                         ("false", False), ("TRUE", True)])
def test_the_command_line_takes_on_off_auto_true_false(word, value, tmp_path):
    args = video_parser().parse_args(["--preset", "smoke", "--out", str(tmp_path), "--bf16", word])
    cfg = video_config(args)
    assert cfg.bf16 == value and type(cfg.bf16) is type(value)  # true/false stay booleans, as recorded commands say


def test_the_command_line_refuses_other_words(tmp_path, capsys):
    with pytest.raises(SystemExit):
        video_parser().parse_args(["--out", str(tmp_path), "--bf16", "yes"])
    assert "expected on, off or auto (or true/false, the same as on/off), got 'yes'" in capsys.readouterr().err


def test_a_shipped_provenance_config_still_builds_a_config():
    """Shipped provenance JSONs record bf16 as true/false: their configs load, and mean on/off."""
    from mocohd.config import VideoGANConfig, from_dict, legacy_video_config
    from mocohd.params import repo_root

    motion = json.loads((repo_root() / "data" / "checkpoints" / "faces_motion.json").read_text())
    cfg = from_dict(VideoGANConfig, legacy_video_config(motion["config"]))
    assert isinstance(cfg.bf16, bool) and bf16_setting(cfg.bf16) == ("on" if cfg.bf16 else "off")


# --------------------------------------------------------------------------------------
# The choice


def test_on_and_off_are_obeyed_without_measuring():
    for flags in (NO_BF16, WITH_BF16, set()):
        assert choose_bf16("on", "cpu", flags=flags, measure=never)[0] is True
        assert choose_bf16(True, "cpu", flags=flags, measure=never)[0] is True
        assert choose_bf16("off", "cpu", flags=flags, measure=never)[0] is False
        assert choose_bf16(False, "cpu", flags=flags, measure=never)[0] is False
    assert "as asked (--bf16 on)" in choose_bf16("on", "cpu", flags=NO_BF16)[1]


def test_auto_without_bf16_instructions_is_fp32_without_measuring(cache_dir):
    bf16, reason = choose_bf16("auto", "cpu", flags=NO_BF16, measure=never)
    assert bf16 is False and "no bf16 instructions" in reason and "emulate" in reason
    assert not cache_dir.exists()  # nothing measured, nothing kept


@pytest.mark.parametrize("fp32, bf16, chosen", [(1.0, 0.4, True), (0.4, 1.0, False), (0.5, 0.5, False)])
def test_auto_with_bf16_instructions_follows_the_measurement(fp32, bf16, chosen):
    timings = Timings(fp32, bf16)
    use, reason = choose_bf16("auto", "cpu", flags=WITH_BF16, measure=timings, shape=SHAPE_64, machine=MACHINE_A)
    assert timings.calls == 1 and use is chosen  # a tie keeps fp32: bf16 must be faster to be picked
    assert reason.startswith("bf16 autocast" if chosen else "fp32")
    assert f"{bf16 * 1e3:.0f} ms in bf16 against {fp32 * 1e3:.0f} ms in fp32" in reason and "measured now" in reason


def test_the_measurement_is_kept_per_machine_and_shape(cache_dir):
    path = cache_dir / "bf16_choice.json"
    assert hardware.bf16_cache_path() == path  # MOCOHD_CACHE names the folder
    first = Timings(1.0, 0.5)
    assert choose_bf16("auto", "cpu", flags=WITH_BF16, measure=first, shape=SHAPE_64, machine=MACHINE_A)[0] is True
    # the same machine and shape again: read back, not measured
    use, reason = choose_bf16("auto", "cpu", flags=WITH_BF16, measure=never, shape=SHAPE_64, machine=MACHINE_A)
    assert use is True and first.calls == 1 and f"read from {path}" in reason and "delete it" in reason
    # another generator shape, another machine: each measured once, each with its own answer
    other_shape = Timings(0.5, 1.0)
    assert choose_bf16("auto", "cpu", flags=WITH_BF16, measure=other_shape, shape=SHAPE_256, machine=MACHINE_A)[0] is False
    other_machine = Timings(0.5, 2.0)
    assert choose_bf16("auto", "cpu", flags=WITH_BF16, measure=other_machine, shape=SHAPE_64, machine=MACHINE_B)[0] is False
    assert other_shape.calls == other_machine.calls == 1
    for machine, shape, answer in ((MACHINE_A, SHAPE_64, True), (MACHINE_A, SHAPE_256, False), (MACHINE_B, SHAPE_64, False)):
        assert choose_bf16("auto", "cpu", flags=WITH_BF16, measure=never, shape=shape, machine=machine)[0] is answer
    entries = json.loads(path.read_text())
    assert len(entries) == 3
    kept = {(e["machine"]["cpu"], e["shape"]["generator"]["size"]): (e["bf16"], e["fp32_s"], e["bf16_s"])
            for e in entries.values()}
    assert kept == {("A", 64): (True, 1.0, 0.5), ("A", 256): (False, 0.5, 1.0), ("B", 64): (False, 0.5, 2.0)}
    assert [p.name for p in cache_dir.iterdir()] == ["bf16_choice.json"]  # written by rename: no leftovers


def test_the_default_key_is_this_machine(cache_dir):
    timings = Timings(1.0, 0.5)
    choose_bf16("auto", "cpu", flags=WITH_BF16, measure=timings, shape=SHAPE_64)
    (entry,) = json.loads((cache_dir / "bf16_choice.json").read_text()).values()
    assert entry["machine"] == hardware.machine_signature("cpu")


def test_a_broken_cache_file_is_measured_over(cache_dir):
    cache_dir.mkdir()
    (cache_dir / "bf16_choice.json").write_text("{not json")
    timings = Timings(1.0, 0.5)
    assert choose_bf16("auto", "cpu", flags=WITH_BF16, measure=timings, shape=SHAPE_64, machine=MACHINE_A)[0] is True
    assert timings.calls == 1 and len(json.loads((cache_dir / "bf16_choice.json").read_text())) == 1


def test_an_unwritable_cache_still_decides(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    use, reason = choose_bf16("auto", "cpu", flags=WITH_BF16, measure=Timings(1.0, 0.5), shape=SHAPE_64,
                              machine=MACHINE_A, cache=blocker / "bf16_choice.json")
    assert use is True and "not kept" in reason


def test_a_measurement_must_return_two_durations():
    with pytest.raises(ValueError, match="two positive numbers"):
        choose_bf16("auto", "cpu", flags=WITH_BF16, measure=lambda: (0.0, 1.0), shape=SHAPE_64, machine=MACHINE_A)


def test_time_bf16_times_the_work_in_each_precision_and_stops_when_clear():
    import time

    seen = []

    def work(autocast):
        with autocast:
            bf16 = torch.is_autocast_enabled("cpu")
            seen.append(bf16)
        time.sleep(0.001 if bf16 else 0.02)  # after the forward: outside autocast, as a backward pass

    fp32_s, bf16_s = hardware.time_bf16(work, "cpu", repeats=3)
    assert seen == [False, True, False, True]  # one untimed call each, then one round: 20x is clear
    assert fp32_s >= 0.02 and bf16_s < fp32_s
    seen.clear()
    hardware.time_bf16(work, "cpu", repeats=3, clear=1e9)  # never clear: every round
    assert seen == [False, True] * 4


def test_the_precision_log_grows_only_when_the_precision_changes():
    fp32 = {"setting": "auto", "bf16": False, "reason": "r"}
    log, changed = precision_log(None, 0, fp32)
    assert log == [{"from_step": 0, **fp32}] and not changed
    assert precision_log(log, 40, {**fp32, "reason": "again"}) == (log, False)
    log, changed = precision_log(log, 40, {**fp32, "bf16": True})
    assert changed and [(e["from_step"], e["bf16"]) for e in log] == [(0, False), (40, True)]
    # a checkpoint from before the list: its config's bool, since an unknown step
    assert recorded_precision({"config": {"bf16": True}})[0] | {"reason": ""} == {
        "from_step": None, "setting": "on", "bf16": True, "reason": ""}
    assert recorded_precision({"config": {}}) == [] and recorded_precision({"precision": log}) == log


# --------------------------------------------------------------------------------------
# The trainers


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory):
    return _tiny_image_generator(tmp_path_factory.mktemp("gen"), 32)


def small_video(tiny_generator, **kw):
    base = dict(image_generator=str(tiny_generator), n_clips=16, steps=1, g_steps=1, device="cpu")
    return video_preset("smoke", **{**base, **kw})


def small_image(**kw):
    base = dict(size=32, n_images=16, style_dim=16, n_mlp=1, channel_scale=0.0625, batch=4, steps=1,
                channels_last=False, device="cpu")
    return image_preset("smoke", **{**base, **kw})


def test_the_video_trainer_resolves_auto_once_and_records_it(tiny_generator, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(hardware, "cpu_flags", lambda *_: NO_BF16)
    monkeypatch.setattr(VideoGANTrainer, "_render_seconds", lambda self: never())
    t = VideoGANTrainer(small_video(tiny_generator), tmp_path / "emulated")
    assert t.bf16 is False and t.cfg.bf16 is False and t.bf16_setting == "auto"
    assert "precision: fp32 (--bf16 auto): this CPU has no bf16 instructions" in capsys.readouterr().out
    monkeypatch.setattr(hardware, "cpu_flags", lambda *_: WITH_BF16)
    monkeypatch.setattr(VideoGANTrainer, "_render_seconds", lambda self: (0.2, 0.1))
    t = VideoGANTrainer(small_video(tiny_generator), tmp_path / "native")
    assert t.bf16 is True and t.cfg.bf16 is True
    assert "precision: bf16 autocast (--bf16 auto)" in capsys.readouterr().out
    t.fit(progress=False)
    ckpt = torch.load(tmp_path / "native" / "checkpoint.pt", weights_only=True)
    assert ckpt["config"]["bf16"] is True  # the bool that ran, as older code reads it
    assert [(e["from_step"], e["setting"], e["bf16"]) for e in ckpt["precision"]] == [(0, "auto", True)]
    # resumed in fp32: the switch is said and logged
    resumed = VideoGANTrainer(small_video(tiny_generator, bf16="off", steps=2), tmp_path / "native")
    resumed.load(tmp_path / "native" / "checkpoint.pt")
    assert "goes on in fp32" in capsys.readouterr().out
    assert [(e["from_step"], e["bf16"]) for e in resumed.precision] == [(0, True), (1, False)]


def test_the_video_trainer_refuses_a_bad_setting_before_any_work(tiny_generator, tmp_path):
    with pytest.raises(ValueError, match="bf16='yes' is not a bf16 setting"):
        VideoGANTrainer(small_video(tiny_generator, bf16="yes"), tmp_path)
    assert not (tmp_path / "checkpoint.pt").exists()


def test_the_trainers_measure_real_work_and_leave_the_random_stream_alone(tiny_generator, tmp_path):
    video = VideoGANTrainer(small_video(tiny_generator, bf16=False), tmp_path / "video")
    image = ImageGANTrainer(small_image(bf16=False), tmp_path / "image")
    for measure in (video._render_seconds, image._step_seconds):
        state = torch.get_rng_state()
        fp32, bf16 = measure(repeats=1)
        assert fp32 > 0 and bf16 > 0
        assert torch.equal(torch.get_rng_state(), state)
    assert all(p.grad is None for p in [*image.g.parameters(), *image.d.parameters()])  # on copies
    assert all(p.grad is None for p in video.video_g.image_generator.parameters())
    assert video._render_shape()["clips"] == 2 and image._step_shape()["batch"] == 4


def test_the_image_trainer_resolves_auto_and_records_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(hardware, "cpu_flags", lambda *_: WITH_BF16)
    monkeypatch.setattr(ImageGANTrainer, "_step_seconds", lambda self: (0.1, 0.3))
    t = ImageGANTrainer(small_image(), tmp_path)
    assert t.bf16 is False and t.cfg.bf16 is False
    assert "precision: fp32 (--bf16 auto)" in capsys.readouterr().out
    t.fit(progress=False)
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ckpt["config"]["bf16"] is False and ckpt["precision"][0]["setting"] == "auto"


def test_config_json_records_the_resolved_bool(tmp_path, monkeypatch):
    from mocohd.train.image_gan import train_image_gan

    monkeypatch.setattr(hardware, "cpu_flags", lambda *_: NO_BF16)
    trainer = train_image_gan(small_image(), tmp_path, progress=False)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["bf16"] is False and saved == to_dict(trainer.cfg)
