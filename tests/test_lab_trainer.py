"""The lab's trainer (mocohd.lab.trainer): the paper's loop through its extension hooks, with
the extra games that notebook A1 uses. With every option off it must train as the paper's
loop does, bit for bit; each extra game must reach only the network it is meant for."""

import inspect

import pytest
import torch

from mocohd.config import VideoGANConfig
from mocohd.lab.config import LabVideoGANConfig, lab_preset
from mocohd.lab.trainer import LabVideoGANTrainer
from mocohd.train.video_gan import VideoGANTrainer

from test_video_gan import small, tiny_generator  # noqa: F401  (a module fixture)


def lab_small(tiny_generator, **kw):  # noqa: F811
    base = dict(image_generator=str(tiny_generator), n_clips=16, steps=2, g_steps=2, bf16=False)
    return lab_preset("smoke", **{**base, **kw})


@pytest.mark.parametrize("cross_domain", [False, True], ids=["in-domain", "cross-domain"])
def test_the_lab_trainer_with_nothing_on_is_the_papers_loop(tiny_generator, tmp_path, cross_domain):  # noqa: F811
    """Every hook returns nothing when its option is off: the same seed trains the same weights."""
    paper = VideoGANTrainer(small(tiny_generator, cross_domain=cross_domain, device="cpu"), tmp_path / "paper")
    paper.fit(progress=False)  # (each trainer seeds the global stream when it is built: build, then train)
    lab = LabVideoGANTrainer(lab_small(tiny_generator, cross_domain=cross_domain, device="cpu"), tmp_path / "lab")
    lab.fit(progress=False)
    for name, module in paper.trainable_modules().items():
        for key, value in module.state_dict().items():
            assert torch.equal(value, lab.trainable_modules()[name].state_dict()[key]), (name, key)
    assert (tmp_path / "paper" / "log.csv").read_text().splitlines()[0] == \
        (tmp_path / "lab" / "log.csv").read_text().splitlines()[0]


def test_the_papers_updates_hold_no_lab_option():
    """Notebook 05 prints g_update and d_update as the paper's loop: no lab option may appear there."""
    lab_options = set(LabVideoGANConfig.__dataclass_fields__) - set(VideoGANConfig.__dataclass_fields__)
    assert {"held_fakes", "steered_real", "w_nearest", "frozen_fakes", "cut_fakes"} <= lab_options
    for method in (VideoGANTrainer.g_update, VideoGANTrainer.d_update, VideoGANTrainer.train_step):
        source = inspect.getsource(method)
        assert not [o for o in lab_options if o in source], method.__name__


def test_the_lab_trainer_takes_only_a_lab_config(tiny_generator, tmp_path):  # noqa: F811
    with pytest.raises(TypeError, match="LabVideoGANConfig.*for the paper's loop alone use"):
        LabVideoGANTrainer(small(tiny_generator), tmp_path)


def test_held_fakes_pair_each_real_clip_with_its_motion_held(tiny_generator, tmp_path):
    """--held-fakes (not in the paper): the 3D D also learns real clips against the same clips
    with a motion held at rest; the pairs differ only by that motion."""
    t = LabVideoGANTrainer(lab_small(tiny_generator, held_fakes="eye_open", n_clips=32), tmp_path)
    real = t.next_real()
    held = t.held_batch()
    drawn, still = t.dataset.clips, t.held_dataset.clips
    idx = torch.tensor(t.last_indices)
    assert torch.equal(drawn.identity[idx], still.identity[idx])
    eye = still.motion_names.index("eye_open")
    assert (still.motion[:, :, eye] == 1.0).all()
    others = [i for i in range(len(still.motion_names)) if i != eye]
    assert torch.equal(drawn.motion[:, :, others], still.motion[:, :, others])
    shut = drawn.motion[:, :, eye].amin(1)  # each clip's most-shut eyes
    open_all_along, blinks = (shut == 1.0).nonzero().flatten(), (shut < 0.5).nonzero().flatten()
    assert len(open_all_along) and len(blinks)
    assert all(torch.equal(drawn.video[i], still.video[i]) for i in open_all_along.tolist())
    assert all(not torch.equal(drawn.video[i], still.video[i]) for i in blinks.tolist())
    assert torch.equal(real.cpu(), drawn.video[idx]) and torch.equal(held.cpu(), still.video[idx])


def test_held_fakes_train_only_the_3d_discriminator(tiny_generator, tmp_path):
    """The same draws with the held game weighted 0 and 1: only the 3D D's update differs."""
    runs = {}
    for w in (0.0, 1.0):
        # on the CPU: a GPU's backward kernels add in any order, so equal inputs need not give equal bits
        t = LabVideoGANTrainer(lab_small(tiny_generator, held_fakes="eye_open", w_held=w, device="cpu"), tmp_path / str(w))
        logs = t.d_update(t.next_real())
        assert logs["d_held"] > 0 and torch.isfinite(torch.tensor(logs["d_held"]))
        runs[w] = t
    off, on = runs[0.0], runs[1.0]
    assert not all(torch.equal(a, b) for a, b in zip(off.d_3d.parameters(), on.d_3d.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(off.d_img.parameters(), on.d_img.parameters()))
    on.fit(progress=False)
    header = (tmp_path / "1.0" / "log.csv").read_text().splitlines()[0]
    assert header.endswith(",d_held")
    plain = VideoGANTrainer(small(tiny_generator), tmp_path / "plain")
    plain.fit(progress=False)
    assert "d_held" not in (tmp_path / "plain" / "log.csv").read_text().splitlines()[0]


def test_frozen_fakes_play_real_clips_against_themselves_frozen(tiny_generator, tmp_path, monkeypatch):
    """--frozen-fakes true: the 3D D also scores the real batch frozen at frame 0 as fake; the
    same draws with the game weighted 0 and 1 change the 3D D only, and the game's clips are
    the real batch's own, every frame its first."""
    import mocohd.lab.round_trips as round_trips

    seen, original = [], round_trips.frozen
    monkeypatch.setattr(round_trips, "frozen", lambda v: seen.append(v) or original(v))
    runs = {}
    for w in (0.0, 1.0):
        t = LabVideoGANTrainer(lab_small(tiny_generator, frozen_fakes=True, w_held=w, device="cpu"), tmp_path / str(w))
        real = t.next_real()
        logs = t.d_update(real)
        assert logs["d_frozen"] > 0 and torch.isfinite(torch.tensor(logs["d_frozen"]))
        assert torch.equal(seen[-1], real)
        runs[w] = t
    off, on = runs[0.0], runs[1.0]
    assert not all(torch.equal(a, b) for a, b in zip(off.d_3d.parameters(), on.d_3d.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(off.d_img.parameters(), on.d_img.parameters()))
    on.fit(progress=False)
    assert (tmp_path / "1.0" / "log.csv").read_text().splitlines()[0].endswith(",d_frozen")


def test_held_fakes_refuse_data_without_that_factor(tiny_generator, tmp_path):
    with pytest.raises(ValueError, match="needs --data toy:<domain> with one of faces"):
        LabVideoGANTrainer(lab_small(tiny_generator, data="toy:sky", held_fakes="eye_open"), tmp_path / "sky")
    with pytest.raises(ValueError, match="blink, not a motion factor of faces; choose from eye_open"):
        LabVideoGANTrainer(lab_small(tiny_generator, held_fakes="blink"), tmp_path / "typo")


def test_held_image_lets_the_image_discriminator_play_the_held_game(tiny_generator, tmp_path):
    """--held-image true: the same draws with the game weighted 0 and 1 now change both Ds."""
    runs = {}
    for w in (0.0, 1.0):
        t = LabVideoGANTrainer(lab_small(tiny_generator, held_fakes="eye_open", held_image=True, w_held=w), tmp_path / str(w))
        logs = t.d_update(t.next_real())
        assert logs["d_2d_held"] > 0 and torch.isfinite(torch.tensor(logs["d_2d_held"]))
        runs[w] = t
    off, on = runs[0.0], runs[1.0]
    assert not all(torch.equal(a, b) for a, b in zip(off.d_img.parameters(), on.d_img.parameters()))
    with pytest.raises(ValueError, match=r"give --held-fakes \(or, with --steered-real, --cut-fakes true\) too"):
        LabVideoGANTrainer(lab_small(tiny_generator, held_image=True), tmp_path / "alone")
    with pytest.raises(ValueError, match="cross-domain one never sees real clips"):
        LabVideoGANTrainer(lab_small(tiny_generator, held_fakes="eye_open", held_image=True, cross_domain=True),
                        tmp_path / "cross")


def test_a_lab_run_resumes_only_under_the_lab_trainer(tiny_generator, tmp_path):  # noqa: F811
    """The paper's trainer would continue a lab run without its extra games, silently: it refuses;
    the lab trainer continues a paper run (its options then add to the paper's loop)."""
    LabVideoGANTrainer(lab_small(tiny_generator, frozen_fakes=True, steps=1), tmp_path / "lab").fit(progress=False)
    with pytest.raises(ValueError, match="trained by mocohd.lab.trainer.*resume it with that trainer"):
        VideoGANTrainer(small(tiny_generator), tmp_path / "lab").load(tmp_path / "lab" / "checkpoint.pt")
    VideoGANTrainer(small(tiny_generator, steps=1), tmp_path / "paper").fit(progress=False)
    resumed = LabVideoGANTrainer(lab_small(tiny_generator), tmp_path / "paper")
    resumed.load(tmp_path / "paper" / "checkpoint.pt")
    assert resumed.step == 1 and resumed.state()["trainer"] == "mocohd.lab.trainer"
