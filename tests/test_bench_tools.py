"""The bench's companions: the profile's bookkeeping, the per-resolution modulated convs, the
before/after order and summary, and the all-reduce report. No speed is asserted."""

import torch
import torch.nn.functional as F

from mocohd import bench_against, bench_ddp, bench_profile, bench_report


def test_operators_are_sorted_into_kinds():
    assert bench_profile.kind_of("aten::convolution_backward") == "convolution backward"
    assert bench_profile.kind_of("aten::mkldnn_convolution") == "convolution forward"
    assert bench_profile.kind_of("aten::addmm") == "matmul"
    assert bench_profile.kind_of("aten::leaky_relu_backward") == "elementwise and copies"
    assert bench_profile.kind_of("aten::native_batch_norm") == "other"


def test_a_convolution_profile_is_mostly_convolution():
    x, w = torch.randn(8, 32, 32, 32), torch.randn(32, 32, 3, 3)
    F.conv2d(x, w, padding=1)
    prof = bench_profile.profile_call(lambda: F.conv2d(x, w, padding=1), top=3)
    kinds = {row["kind"]: row for row in prof["kinds"]}
    assert set(kinds) == set(bench_profile.KINDS)
    assert abs(sum(row["share"] for row in prof["kinds"]) - 1) < 1e-6
    assert kinds["convolution forward"]["share"] > 0.5 and kinds["convolution backward"]["seconds"] == 0
    assert prof["top"][0]["kind"] == "convolution forward" and prof["wall_s"] > 0


def test_modconv_cases_follow_the_generator_layout():
    # the official 64 px generator: a plain conv at 4 px, then an upsampling and a plain conv per resolution
    channels = {4: 512, 8: 512, 16: 256, 32: 128}
    assert bench_profile.modconv_cases(channels, 512) == [
        (4, False, 512, 512), (8, True, 512, 512), (8, False, 512, 512), (16, True, 512, 256),
        (16, False, 256, 256), (32, True, 256, 128), (32, False, 128, 128)]


def test_modconv_by_resolution_times_both_forms_that_agree():
    rows = bench_profile.modconv_by_resolution({4: 8, 8: 4}, style_dim=16, batch=2, bf16=False)
    assert [(r["resolution"], r["upsample"], r["in"], r["out"]) for r in rows] == [
        (4, False, 8, 8), (8, True, 8, 4), (8, False, 4, 4)]
    for row in rows:
        assert row["max_abs_diff"] < 1e-5 and row["scaled_s"] > 0 and row["grouped_s"] > 0
        assert row["faster"] == ("scaled" if row["scaled_s"] <= row["grouped_s"] else "grouped")
    text = "\n".join(bench_report.modconv_report(rows))
    assert "8 px (upsampling), 8->4 ch" in text


def test_against_alternates_which_version_goes_first():
    assert bench_against.order(1) == ["old", "new"]
    assert bench_against.order(3) == ["old", "new", "new", "old", "old", "new"]


def test_against_summary_is_the_median_over_rounds():
    runs = {"old": [{"seconds": {"motion/fp32": s}} for s in (9.0, 30.0, 10.0)],
            "new": [{"seconds": {"motion/fp32": s}} for s in (5.0, 4.0, 6.0)]}
    (row,) = bench_against.summarize(runs)
    assert (row["old_s"], row["new_s"], row["speedup"]) == (10.0, 5.0, 2.0)
    assert row["precision"] == "fp32" and row["work"] == bench_against.WORKS["motion"]


def test_ddp_report_counts_collectives_per_iteration():
    two = {"g_steps": 5, "batch": 4, "local_batch": 2, "threads": 1, "iteration_s": 2.0, "iterations_s": [2.0],
           "tensors": {"motion": 14, "d_3d": 20, "d_img": 30},
           "parameters": {"motion": 1, "d_3d": 2, "d_img": 3},
           "allreduce_ms": {"motion/flat": 1.0, "d_3d/flat": 2.0, "d_img/flat": 3.0,
                            "motion/per_parameter": 10.0, "d_3d/per_parameter": 20.0, "d_img/per_parameter": 30.0}}
    result = {"preset": "full", "precision": "fp32", "one": {"threads": 2, "iteration_s": 3.0}, "two": two,
              "allreduce_repeats": 20, "wall_s": 1.0}
    text = bench_ddp.report(result)
    # flat: 5 motion + 2 discriminators = 7 collectives, 5*1 + 2 + 3 = 10 ms; per parameter: 5*14 + 20 + 30 = 120, 100 ms
    assert "| flat | 7 | 10.0 | 0.50% |" in text
    assert "| per parameter | 120 | 100.0 | 5.00% |" in text
    assert "Per-parameter / flat: 10.00x" in text
