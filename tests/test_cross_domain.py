"""The cross-domain measurements (mocohd.metrics.cross_domain): values, not only shapes."""

import pytest
import torch

from mocohd.config import video_preset
from mocohd.data.toyworld import make_clips
from mocohd.discriminators import DiscriminatorConfig, build_video_discriminator
from mocohd.metrics import cross_domain
from mocohd.train.video_gan import VideoGANTrainer
from test_video_gan import _tiny_image_generator


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A two-iteration cross-domain smoke run (its checkpoint keeps the discriminators)."""
    folder = tmp_path_factory.mktemp("xd")
    g_i = _tiny_image_generator(folder, 32)
    cfg = video_preset("smoke", image_generator=str(g_i), n_clips=16, steps=2, g_steps=1, bf16=False,
                       cross_domain=True)
    t = VideoGANTrainer(cfg, folder / "run")
    t.fit(progress=False)
    in_domain = VideoGANTrainer(video_preset("smoke", image_generator=str(g_i), n_clips=16, steps=1, g_steps=1,
                                             bf16=False), folder / "in_domain")
    in_domain.save()
    return {"run": folder / "run" / "checkpoint.pt", "in_domain": folder / "in_domain" / "checkpoint.pt"}


def test_faces_and_animals_of_one_seed_share_their_motion():
    faces, animals = make_clips("faces", 8, 8, 32, seed=5), make_clips("animals", 8, 8, 32, seed=5)
    assert torch.equal(faces.motion, animals.motion) and not torch.equal(faces.video, animals.video)


def test_video_d_score_averages_the_mean_patch_logit_over_scales():
    d = build_video_discriminator(DiscriminatorConfig.preset("smoke"), cross_domain=True)
    for stage in (d.scale0_layer4, d.scale1_layer4):  # the logits convs: weight 0, so logit = bias
        stage[0].weight.data.zero_()
    d.scale0_layer4[0].bias.data.fill_(1.0)
    d.scale1_layer4[0].bias.data.fill_(0.0)
    scores = cross_domain.video_d_score(d, torch.rand(3, 8, 3, 64, 64) * 2 - 1, size=32)
    assert torch.allclose(scores, torch.full((3,), 0.5))


def test_identity_drift_sees_a_head_swapped_mid_clip_and_not_a_still_one():
    real = make_clips("animals", 16, 8, 64, seed=3).video
    swapped = torch.cat([real[:, :4], real.roll(1, dims=0)[:, 4:]], dim=1)  # another animal from frame 4
    still = real[:, :1].expand_as(real)
    c_real, c_swapped = cross_domain.consistency(real, "animals"), cross_domain.consistency(swapped, "animals")
    c_still = cross_domain.consistency(still, "animals")
    assert c_swapped["identity_drift"] > 3 * c_real["identity_drift"]
    assert c_still["identity_drift"] < 1e-5 and c_still["motion_spread"] < 1e-5


def test_content_gap_and_consistency_on_a_run(tiny_run):
    gap = cross_domain.content_gap(tiny_run["run"], n_clips=4)
    scores = gap["scores"]
    assert set(scores) == {"real faces", "real animals, same motion", "generated"}
    assert gap["gap"] == pytest.approx(scores["real faces"]["mean"] - scores["real animals, same motion"]["mean"])
    assert 0 <= gap["pairs_ranked"] <= 1 and gap["step"] == 2
    table = cross_domain.consistency_table({"tiny": ("animals", [tiny_run["run"]] * 2)}, real_domains=("animals",),
                                           n_videos=4, n_frames=4, n_real_seeds=2)
    row = table["tiny"]["identity_drift"]
    assert row["values"][0] == row["values"][1] and row["sd"] == 0  # same generator, same z's: same number
    assert "real toy animals clips" in table
    text = cross_domain.format_consistency(table)
    assert "tiny" in text and "±" in text


def test_the_probe_refuses_an_in_domain_run(tiny_run):
    with pytest.raises(ValueError, match="in-domain run.*--cross-domain true"):
        cross_domain.content_gap(tiny_run["in_domain"])


def test_command_line_writes_json(tiny_run, tmp_path):
    import json

    out = tmp_path / "xd.json"
    cross_domain.main(["--arm", f"tiny=animals:{tiny_run['run']}", "--gap", f"tiny={tiny_run['run']}",
                       "--n-videos", "4", "--json", str(out)])
    result = json.loads(out.read_text())
    assert result["consistency"]["tiny"]["identity_drift"]["values"] and result["content_gap"]["tiny"]["rows"]
    with pytest.raises(SystemExit):
        cross_domain.main(["--arm", "nodomain"])
