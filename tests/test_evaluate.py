"""python -m mocohd.evaluate, the toy identity encoder, and inverting a first frame into W."""

import json

import pytest
import torch

from mocohd import evaluate
from mocohd.data.toyworld import make_clips
from mocohd.generate import invert
from mocohd.metrics.acd import acd_embedding
from mocohd.metrics.baselines import baseline_videos
from mocohd.metrics.identity import ToyIdentityEncoder
from test_image_generator import tiny

FACES_MODEL = "data/checkpoints/faces_motion.pt"
SMALL = evaluate.Settings(n_videos=6, splits=2, continuations=2, inversion_steps=3, batch_size=6)


def test_the_identity_encoder_reads_standardized_identity_factors_only():
    encoder = ToyIdentityEncoder("faces")
    clips = make_clips("faces", 24, 2, 64, seed=8)
    embedding = encoder.features(clips.video[:, 0])
    assert embedding.shape == (24, len(encoder.factor_names))
    assert all(not name.startswith(("eye_open", "mouth_open", "yaw", "pitch")) for name in encoder.factor_names)
    # standardized: across fresh faces each factor spreads about one unit
    assert 0.5 < embedding.std(0).median() < 1.5
    assert encoder.weights_sha256 == encoder.net.weights_sha256
    assert ToyIdentityEncoder("faces_big_eyes").domain == "faces"


def test_identity_acd_is_higher_when_the_identity_changes():
    real = make_clips("faces", 16, 8, 64, seed=9).video
    swapped = torch.cat([real[:, :4], real.roll(1, dims=0)[:, 4:]], dim=1)  # another face from frame 4
    encoder = ToyIdentityEncoder("faces")
    low, high = acd_embedding(real, encoder), acd_embedding(swapped, encoder)
    assert high.value > 2 * low.value
    assert "identity factors (faces" in str(high) and f"sha256:{encoder.weights_sha256}" in str(high)


def test_inverting_a_rendered_image_finds_a_w_that_renders_it():
    g_i = tiny().eval()
    with torch.no_grad():  # targets rendered from w's half a spread away from W's centre
        ws = g_i.get_latent(torch.randn(4096, 32, generator=torch.Generator().manual_seed(0)))
        centre, spread = ws.mean(0), ws.std(0)
        w_true = centre + 0.5 * spread * torch.randn(3, 32, generator=torch.Generator().manual_seed(1))
        target = g_i.synthesize(w_true, use_noise=False).clamp(-1, 1)
        start = g_i.synthesize(centre.expand(3, -1), use_noise=False).clamp(-1, 1)
    first_error = (start - target).pow(2).mean(dim=(1, 2, 3))
    out = invert(g_i, target, steps=150, lr=0.05)
    assert (out["mse"] < 0.25 * first_error).all(), (out["mse"], first_error)
    assert torch.allclose(out["image"], g_i.synthesize(out["w"], use_noise=False).clamp(-1, 1), atol=1e-5)
    with pytest.raises(ValueError, match="16x16"):
        invert(g_i, torch.zeros(1, 3, 32, 32), steps=1)


@pytest.fixture(scope="module")
def faces_table():
    return evaluate.evaluate_rows(FACES_MODEL, "toy:faces", ["fvd_toy", "acd", "acd_colour"], SMALL,
                                  rows=("model", "real", "static", "noise"), progress=False)


def test_a_table_scores_every_row_with_its_protocol(faces_table):
    rows = faces_table["rows"]
    assert set(rows) == {"model", "real", "static", "noise"}
    assert rows["static"]["acd"].value == 0 and rows["static"]["acd_colour"].value == 0  # nothing changes
    assert rows["real"]["fvd_toy"].value < rows["noise"]["fvd_toy"].value
    assert rows["model"]["fvd_toy"].protocol.n_videos == (6, 6)
    text = evaluate.format_table(faces_table)
    assert "FVD_toy" in text and "ToyVideoNet" in text and "static" in text


def test_the_json_holds_values_and_protocols(faces_table):
    data = evaluate.to_json(faces_table)
    json.dumps(data)  # plain data
    cell = data["rows"]["model"]["fvd_toy"]
    assert cell["value"] == faces_table["rows"]["model"]["fvd_toy"].value
    assert len(cell["protocol"]["weights_sha256"]) == 64 and cell["protocol"]["frames"] == 16


def test_the_command_line_writes_json_and_continues_real_sky(tmp_path, capsys):
    out = tmp_path / "sky.json"
    evaluate.main(["data/checkpoints/sky_motion.pt", "--rows", "model", "--n-videos", "4", "--continuations", "2",
                   "--inversion-steps", "2", "--batch-size", "4", "--json", str(out)])
    printed = capsys.readouterr().out
    assert "continuation of real first frames" in printed and "PSNR (dB)" in printed
    data = json.loads(out.read_text())
    assert data["setup"]["data"] == "toy:sky" and set(data["continuation"]) >= {"psnr", "ssim", "psnr_static"}
    # the held first frame is scored against the same real frames the continuation is
    assert data["continuation"]["psnr_static"]["protocol"]["n_videos"] == 2


def test_an_ablation_averages_seeds():
    result = evaluate.ablation({"twice": [FACES_MODEL, FACES_MODEL]}, "toy:faces", ["acd_colour"], SMALL,
                               progress=False)
    cell = result["twice"]["acd_colour"]
    assert cell["values"][0] == pytest.approx(cell["values"][1]) and cell["sd"] == pytest.approx(0, abs=1e-9)


def test_bad_requests_name_the_fix(tmp_path):
    with pytest.raises(ValueError, match="unknown metrics"):
        evaluate.check_metrics(["fid"], "faces")
    with pytest.raises(ValueError, match="fvd .--i3d."):
        evaluate.check_metrics(["fvd_toy"], None)
    with pytest.raises(ValueError, match="not 'animals'"):
        evaluate.check_metrics(["is_toy"], "animals")
    with pytest.raises(ValueError, match="--i3d PATH"):
        evaluate.Networks().i3d()
    with pytest.raises(SystemExit, match="no checkpoint"):
        evaluate.main([str(tmp_path / "missing.pt")])


def test_is_toy_needs_a_classified_domain_and_baselines_use_the_second_sample():
    real = make_clips("faces", 4, 16, 32, seed=1).video
    assert torch.equal(baseline_videos("static", real)[:, 5], real[:, 0])
