"""`make bench` runs and reports sane numbers. Not a timing test: no speed is asserted."""

import json
import math

import pytest
import torch

from mocohd import bench, bench_report
from mocohd.image_generator import Generator


def test_median_seconds_needs_a_repeat():
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        bench.median_seconds(lambda: None, 0)


def test_interleaved_seconds_calls_in_turn():
    calls = []
    seconds = bench.interleaved_seconds({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 2, warmup=1)
    assert calls == ["a", "b"] * 3
    assert set(seconds) == {"a", "b"} and all(s >= 0 for s in seconds.values())


def test_count_flops_of_a_matmul_is_2n3():
    a, b = torch.randn(16, 16), torch.randn(16, 16)
    assert bench.count_flops(lambda: a @ b) == 2 * 16**3


def test_count_flops_survives_autograd_grad():
    """R1 and the gradient penalty call torch.autograd.grad inside the counted step."""
    layer = torch.nn.Linear(8, 1)
    x = torch.randn(4, 8, requires_grad=True)

    def penalty():
        (grad,) = torch.autograd.grad(layer(x).sum(), x, create_graph=True)
        grad.square().sum().backward()

    assert bench.count_flops(penalty) > 0


def test_peaks_are_positive():
    cases = {"mm fp32": bench.matmul_case(64), "mm bf16": bench.matmul_case(64, bf16=True),
             "conv fp32": bench.conv_case(1, 8, 8), "conv bf16": bench.conv_case(1, 8, 8, bf16=True, channels_last=False)}
    assert cases["mm fp32"][1] == 2 * 64**3 and cases["conv fp32"][1] == 2 * 9 * 8**2 * 8**2
    assert bench.weight_grad_case(1, 8, 8)[1] == 2 * 9 * 8**2 * 8**2
    peaks = bench.measure_peaks(cases, repeats=1)
    assert set(peaks) == set(cases) and all(v > 0 for v in peaks.values())


def test_modconv_forms_agree_and_are_timed():
    row = bench.modconv_compare(8, 8, 8, batch=2, style_dim=16, repeats=1)
    assert row["max_abs_diff"] < 1e-4
    assert row["scaled_s"] > 0 and row["grouped_s"] > 0 and row["grouped_over_scaled"] > 0


def test_generator_throughput_restores_memory_format():
    g = Generator(8, style_dim=16, n_mlp=1, channel_multiplier=1, channel_scale=1 / 64).eval()
    fp32, both = bench.generator_throughput(g, batch=2, modes=((False, False), (True, True)), repeats=1)
    assert fp32["mode"] == "fp32" and fp32["images_per_s"] > 0 and fp32["max_abs_diff"] == 0
    assert both["mode"] == "bf16 + channels_last" and 0 <= both["max_abs_diff"] < 0.5
    assert g.memory_format == torch.contiguous_format


def test_quick_run_writes_markdown_and_json(tmp_path, monkeypatch):
    monkeypatch.setenv("MOCOHD_CACHE", str(tmp_path / "cache"))  # the paper rows' --bf16 auto keeps its answer here
    results = bench.run(quick=True, log=lambda text: None)
    path = bench_report.write_report(results, tmp_path)
    assert path.suffix == ".md" and "| matmul fp32" in path.read_text() and "Weight gradient" in path.read_text()
    assert "## Paper widths" in path.read_text() and len(results["paper_rows"]) == 6
    saved = json.loads(path.with_suffix(".json").read_text())
    numbers = list(saved["peaks"].values())
    keys = ("gflop", "gflop_per_s", "of_fp32_peak", "of_bf16_peak")
    numbers += [r[k] for r in saved["image_step"] for k in ("step_s", "step_r1_s", "amortised_s", *keys)]
    numbers += [r[k] for r in saved["video_step"] for k in ("iteration_s", *keys)]
    numbers += [r["images_per_s"] for r in saved["generator"]] + [saved["peak_rss_mib"]]
    numbers += [r[k] for r in saved["weight_grad"] for k in ("fp32_ms", "bf16_ms", "bf16_over_fp32")]
    assert all(math.isfinite(v) and v > 0 for v in numbers), numbers
    assert "UNTRAINED" in saved["video_generator_source"]
    assert {r["mode"] for r in saved["video_step"]} == {"fp32", "bf16 + channels_last"}
    assert {r["mode"] for r in saved["generator"]} == {"fp32", "bf16", "channels_last", "bf16 + channels_last"}


def test_only_paper_measures_paper_width_rows_in_both_precisions(tmp_path, monkeypatch, capsys):
    """`--only paper` at tiny sizes: the peaks, then G_I forward, one motion-generator update and
    one D update, each in fp32 and bf16, marked with the precision --bf16 auto picks."""
    monkeypatch.setenv("MOCOHD_CACHE", str(tmp_path / "cache"))  # --bf16 auto measures here, not in ~/.cache
    assert bench.main(["--quick", "--only", "paper", "--out", str(tmp_path)]) == 0
    (md,) = tmp_path.glob("*.md")
    results = json.loads(md.with_suffix(".json").read_text())
    assert not {"generator", "image_step", "video_step", "toy_world"} & set(results)  # the other parts did not run
    rows, peak = results["paper_rows"], results["peak"]
    works = ["G_I forward (no grad)", "motion-generator update", "discriminator update"]
    assert [(r["what"], r["mode"]) for r in rows] == [(w, p) for w in works for p in ("fp32", "bf16")]
    assert [r["work"] for r in rows] == ["4 images"] * 2 + ["2 clips x 4 frames"] * 4
    auto = results["paper_bf16_auto"]
    assert isinstance(auto["bf16"], bool) and auto["setting"] == "auto" and "(--bf16 auto)" in auto["reason"]
    for what in works:
        fp32, bf16 = (r for r in rows if r["what"] == what)
        assert fp32["gflop"] > 0 and fp32["gflop"] == bf16["gflop"]  # the same work, counted the same in both
        assert (fp32["auto"], bf16["auto"]) == (not auto["bf16"], auto["bf16"])
    for r in rows:
        assert r["seconds"] > 0 and r["gflop_per_s"] == pytest.approx(r["gflop"] / r["seconds"])
        for dtype in ("fp32", "bf16"):
            assert peak[dtype] == max(v for k, v in results["peaks"].items() if dtype in k)
            assert r[f"of_{dtype}_peak"] == pytest.approx(r["gflop"] / r["seconds"] / peak[dtype])
    text = md.read_text()
    assert text in capsys.readouterr().out  # printed as written
    assert "## Paper widths at 32 px" in text and "tiny sizes (--quick)" in text and auto["reason"] in text
    assert text.count("| picked |") == 3 and text.count("| 2 clips x 4 frames | bf16 |") == 2
    d = rows[5]
    numbers = (f"{d['seconds']:.3f} | {d['gflop']:.1f} | {d['gflop_per_s']:.0f} | {d['of_fp32_peak']:.0%} | "
               f"{d['of_bf16_peak']:.0%} |")
    assert f"| discriminator update | 2 clips x 4 frames | bf16 | {'picked' if d['auto'] else ''} | {numbers}" in text


def test_paper_image_config_is_the_official_generator_at_64_px():
    cfg = bench.paper_image_config()
    assert (cfg.size, cfg.style_dim, cfg.n_mlp, cfg.channel_multiplier, cfg.channel_scale) == (64, 512, 8, 2, 1.0)
    tiny = bench.paper_image_config(quick=True)
    assert tiny.channel_multiplier == 2 and tiny.size < 64 and tiny.style_dim < 512


def test_paper_video_config_is_the_in_domain_gan_at_batch_2_and_ndf_64():
    from mocohd.train.video_gan import check_frame_sizes, discriminator_config

    cfg = bench.paper_video_config("g.pt", "g.pca.pt")
    d = discriminator_config(cfg)
    assert (cfg.batch, cfg.frames, cfg.cross_domain, cfg.motion) == (2, 16, False, "paper")
    assert (cfg.bf16, cfg.device) == ("auto", "cpu")
    assert (d.ndf, d.size, d.frames) == (64, 64, 16) and check_frame_sizes(64, d.size) == 1


def test_the_gpu_bench_script_runs_its_quick_check_on_the_cpu(tmp_path):
    from mocohd import bench_gpu

    assert bench_gpu.main(["--quick", "--out", str(tmp_path)]) == 0
    (md,) = tmp_path.glob("gpu-*.md")
    text = md.read_text()
    assert "video smoke" in text and "image smoke" in text and "D + G + R1 + path length" in text
    results = json.loads(md.with_suffix(".json").read_text())
    assert [r["mode"] for r in results["rows"]][:2] == ["fp32", "bf16 + channels_last"]
    assert all(r["seconds"] > 0 and r["tflop"] > 0 for r in results["rows"])
