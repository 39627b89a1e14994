"""Where a call's time goes, and which modulated convolution to use at each resolution: two
measurements of ``make bench``'s paper-width section (``python -m mocohd.bench --only paper``).

- :func:`profile_call` runs one call under ``torch.profiler`` and sums each operator's own
  time into a few kinds (convolution forward, convolution backward, matmul, elementwise and
  copies, the rest), with the operators that took the most time. At the paper's widths a
  motion-generator update is mostly convolutions; what is left over is what can still be won.
- :func:`modconv_by_resolution` times, at every resolution of the official 64 px generator,
  its two modulated convolutions (the plain 3x3 and the upsampling one) in their two forms:
  the official grouped convolution (one weight per sample) and mocohd's scaled form (scale the
  input, one shared convolution, scale the output). The work is that of a motion update: a
  forward and the backward to the input and the styles (G_I's weights are frozen).
"""

from __future__ import annotations

import time
from collections import defaultdict

import torch

from .bench_timing import autocast, interleaved_seconds
from .layers import ModulatedConv2d

KINDS = ("convolution forward", "convolution backward", "matmul", "elementwise and copies", "other")
CONV_FORWARD = ("aten::mkldnn_convolution", "aten::_convolution", "aten::convolution", "aten::conv2d",
                "aten::conv3d", "aten::conv_transpose2d", "aten::slow_conv_transpose2d", "aten::_slow_conv2d_forward",
                "aten::slow_conv3d_forward", "aten::mkldnn_convolution_transpose")
MATMUL = ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul", "aten::linear", "aten::baddbmm")
ELEMENTWISE = ("aten::mul", "aten::mul_", "aten::add", "aten::add_", "aten::sub", "aten::div", "aten::copy_",
               "aten::leaky_relu", "aten::leaky_relu_", "aten::leaky_relu_backward", "aten::where", "aten::pow",
               "aten::rsqrt", "aten::sqrt", "aten::fill_", "aten::zero_", "aten::clone", "aten::sum",
               "aten::constant_pad_nd", "aten::to", "aten::_to_copy", "aten::neg", "aten::exp", "aten::sigmoid",
               "aten::tanh", "aten::abs", "aten::mean", "aten::cat", "aten::masked_fill", "aten::threshold_backward")


def kind_of(name: str) -> str:
    if "convolution_backward" in name:
        return "convolution backward"
    if name in CONV_FORWARD:
        return "convolution forward"
    if name in MATMUL:
        return "matmul"
    if name in ELEMENTWISE:
        return "elementwise and copies"
    return "other"


def profile_call(fn, top: int = 8) -> dict:
    """One call of ``fn()`` under the profiler (run it once before, to warm up): wall seconds,
    the operators' own time summed per kind (seconds and share of their total), and the
    ``top`` operators by own time. On a CPU the profiler times each operator on the calling
    thread, its intra-op threads included, so the kinds add up to about the wall time."""
    from torch.profiler import ProfilerActivity, profile

    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    wall = time.perf_counter() - start
    own = defaultdict(float)
    calls = defaultdict(int)
    for event in prof.key_averages():
        if event.key.startswith("aten::") or event.key.startswith("autograd::") or "Backward" in event.key:
            own[event.key] += event.self_cpu_time_total / 1e6
            calls[event.key] += event.count
    total = sum(own.values())
    by_kind = {kind: 0.0 for kind in KINDS}
    for name, seconds in own.items():
        by_kind[kind_of(name)] += seconds
    ranked = sorted(own.items(), key=lambda item: -item[1])[:top]
    return {"wall_s": wall, "profiled_s": total,
            "kinds": [{"kind": kind, "seconds": s, "share": s / total if total else 0.0} for kind, s in by_kind.items()],
            "top": [{"op": name, "kind": kind_of(name), "calls": calls[name], "seconds": s,
                     "share": s / total if total else 0.0} for name, s in ranked]}


def modconv_cases(channels: dict, style_dim: int) -> list[tuple[int, bool, int, int]]:
    """(resolution, upsample, in, out) of each 3x3 modulated conv of a generator whose
    ``channels`` maps resolution -> width: one plain conv at 4 px, then per resolution the
    upsampling conv from the previous resolution and a plain one."""
    sizes = sorted(channels)
    cases = [(sizes[0], False, channels[sizes[0]], channels[sizes[0]])]
    for previous, size in zip(sizes, sizes[1:]):
        cases += [(size, True, channels[previous], channels[size]), (size, False, channels[size], channels[size])]
    return cases


def modconv_by_resolution(channels: dict, style_dim: int, batch: int, bf16: bool, repeats: int = 1,
                          seed: int = 0) -> list[dict]:
    """Forward + backward (to the input and the styles) seconds of each modulated conv of the
    generator, grouped against scaled, timed in turn after one warm-up each; and the largest
    difference between the two forms' outputs."""
    rows = []
    for size, upsample, c_in, c_out in modconv_cases(channels, style_dim):
        torch.manual_seed(seed)
        forms = {fused: ModulatedConv2d(c_in, c_out, 3, style_dim, upsample=upsample, fused=fused).requires_grad_(False)
                 for fused in (False, True)}
        forms[True].load_state_dict(forms[False].state_dict())
        source = size // 2 if upsample else size
        x = torch.randn(batch, c_in, source, source).contiguous(memory_format=torch.channels_last).requires_grad_()
        style = torch.randn(batch, style_dim, requires_grad=True)

        def step(layer):
            with autocast(bf16):
                out = layer(x, style)
            out.float().square().mean().backward()

        with torch.no_grad(), autocast(bf16):
            difference = (forms[False](x, style).float() - forms[True](x, style).float()).abs().max().item()
        seconds = interleaved_seconds({fused: (lambda layer=layer: step(layer)) for fused, layer in forms.items()},
                                      repeats)
        rows.append({"resolution": size, "upsample": upsample, "in": c_in, "out": c_out, "batch": batch,
                     "mode": "bf16" if bf16 else "fp32", "scaled_s": seconds[False], "grouped_s": seconds[True],
                     "grouped_over_scaled": seconds[True] / seconds[False],
                     "faster": "scaled" if seconds[False] <= seconds[True] else "grouped",
                     "max_abs_diff": difference})
    return rows
