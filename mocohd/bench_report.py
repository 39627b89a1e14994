"""The Markdown report of ``make bench`` (``mocohd.bench``): tables, speed-up lines, files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path


def markdown_table(rows: list[dict], columns: dict) -> str:
    """``columns``: {header: (key, format)}."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(fmt.format(row[key]) for key, fmt in columns.values()) + " |")
    return "\n".join(lines)


PEAK_COLUMNS = {"of fp32 peak": ("of_fp32_peak", "{:.0%}"), "of bf16 peak": ("of_bf16_peak", "{:.0%}")}


def report(results: dict) -> str:
    m = results["machine"]
    load = lambda v: " / ".join(f"{x:.2f}" for x in v)  # noqa: E731
    out = [f"# mocohd bench, {results['started']}{' (--quick)' if results['quick'] else ''}", "",
           f"- CPU: {m['cpu']} ({m['cpu_flags']}; {m.get('bf16', 'bf16 support unknown')}); "
           f"torch {m['torch']}, {m['threads']} threads",
           f"- load average (1/5/15 min) before: {load(m['load_before'])}, after: {load(m['load_after'])}"
           " (a load above the thread count means other work shared the cores: all times are inflated)",
           f"- peak resident memory: {results['peak_rss_mib']:.0f} MiB"]
    if "toy_world" in results:  # not with --only paper
        out.append("- toy world, seconds for 1,000 clips of 16 frames at 64x64: "
                   + ", ".join(f"{d} {v:.1f}" for d, v in results["toy_world"].items()))
    out += ["", "## Peaks (GFLOP/s)", ""]
    peaks = results["peaks"]
    out += [markdown_table([{"what": k, "gflops": v} for k, v in peaks.items()],
                           {"kernel": ("what", "{}"), "GFLOP/s": ("gflops", "{:.0f}")}), "",
            f"The best of each (fp32 {results['peak']['fp32']:.0f}, bf16 {results['peak']['bf16']:.0f} GFLOP/s) is the "
            "'peak' below. Modes compared in one table are timed in turn (a, b, a, b, ...), so a change in load "
            "hits them alike.", "", "Weight gradient of a 3x3 conv (a discriminator step computes one per conv):", "",
            markdown_table(results["weight_grad"], {
                "conv": ("what", "{}"), "fp32 (ms)": ("fp32_ms", "{:.1f}"), "bf16 (ms)": ("bf16_ms", "{:.1f}"),
                "bf16 / fp32 time": ("bf16_over_fp32", "{:.2f}"), "fp32 GFLOP/s": ("fp32_gflop_per_s", "{:.0f}"),
                "bf16 GFLOP/s": ("bf16_gflop_per_s", "{:.0f}")})]
    if "generator" in results:
        out += image_report(results)
    if "video_step" in results:
        out += ["", "## Video training iteration (g_steps motion-G updates + 1 D update)", "",
                f"Image generator: {results['video_generator_source']}.", "",
                markdown_table(results["video_step"], {
                    "preset": ("preset", "{}"), "mode": ("mode", "{}"), "g_steps": ("g_steps", "{}"),
                    "clips x frames": ("clips", "{}"), "iteration (s)": ("iteration_s", "{:.2f}"),
                    "GFLOP": ("gflop", "{:.0f}"), "GFLOP/s": ("gflop_per_s", "{:.0f}"), **PEAK_COLUMNS})]
        out += speedup_lines(results["video_step"], "iteration_s", group=lambda r: f"video iteration, {r['preset']} preset")
    if "paper_rows" in results:
        out += paper_report(results)
    return "\n".join(out) + "\n"


def paper_report(results: dict) -> list[str]:
    setup, auto = results["paper_setup"], results["paper_bf16_auto"]
    cfg = setup["image_config"]
    rows = [{**row, "picked": "picked" if row["auto"] else ""} for row in results["paper_rows"]]
    return ["", f"## Paper widths at {cfg['size']} px (G_I forward, motion-G update, D update)", "",
            f"Image generator: {'tiny sizes (--quick), in' if results['quick'] else 'the official widths,'} "
            f"the paper preset's layout (style_dim {cfg['style_dim']}, {cfg['n_mlp']} mapping layers, "
            f"channel multiplier {cfg['channel_multiplier']}, channel scale {cfg['channel_scale']:g}: "
            f"{setup['channels_at_4px']} channels at 4 px, {setup['channels_at_size']} at {cfg['size']} px; "
            f"{setup['generator_params']:,} parameters, untrained). In-domain video GAN around it: the paper preset's "
            f"discriminators at ndf {setup['ndf']} on {setup['d_size']} px frames ({setup['num_D']} scales), motion "
            f"LSTM h_dim {setup['lstm_h_dim']} over {setup['n_pca']} PCs. Each update is the trainer's own "
            f"(`g_update`, `d_update`); channels_last {'on' if setup['channels_last'] else 'off'}; medians of "
            f"{setup['repeats']}, the six calls timed in turn.", "",
            f"`--bf16 auto` on this machine: {auto['reason']}", "",
            markdown_table(rows, {
                "work": ("what", "{}"), "batch": ("work", "{}"), "precision": ("mode", "{}"),
                "--bf16 auto": ("picked", "{}"), "seconds": ("seconds", "{:.3f}"), "GFLOP": ("gflop", "{:.1f}"),
                "GFLOP/s": ("gflop_per_s", "{:.0f}"), **PEAK_COLUMNS}),
            *speedup_lines(rows, "seconds", group=lambda r: f"paper width, {r['what']}"),
            f"- the paper-width section took {results['paper_section_s']:.0f} s (untrained generator and its PCA, "
            "--bf16 auto's own timing unless cached, one FLOP-counting warm-up of each call, the timed calls, "
            "the profiles and the modulated convs below)",
            *profile_report(results.get("paper_profiles", {})), *modconv_report(results.get("paper_modconv", []))]


def profile_report(profiles: dict) -> list[str]:
    """Where one call's time goes (G_I forward, motion-generator update), per precision."""
    out = []
    for name, prof in profiles.items():
        out += ["", f"### Where the time goes: {name}, torch.profiler", "",
                f"One call: {prof['wall_s']:.2f} s of wall time, {prof['profiled_s']:.2f} s in the operators' "
                "own time (on a CPU each operator is timed on the calling thread, its intra-op threads included).", "",
                markdown_table(prof["kinds"], {"kind": ("kind", "{}"), "seconds": ("seconds", "{:.2f}"),
                                                "share": ("share", "{:.0%}")}), "",
                markdown_table(prof["top"], {"operator": ("op", "{}"), "kind": ("kind", "{}"), "calls": ("calls", "{}"),
                                              "seconds": ("seconds", "{:.2f}"), "share": ("share", "{:.0%}")})]
    return out


def modconv_report(rows: list[dict]) -> list[str]:
    """Grouped against scaled modulated conv at each resolution of the paper-width generator."""
    if not rows:
        return []
    for row in rows:
        row["layer"] = f"{row['resolution']} px{' (upsampling)' if row['upsample'] else ''}, {row['in']}->{row['out']} ch"
        row["scaled_ms"], row["grouped_ms"] = 1e3 * row["scaled_s"], 1e3 * row["grouped_s"]
    grouped_wins = [f"{r['layer']} in {r['mode']}" for r in rows if r["faster"] == "grouped"]
    return ["", f"### Modulated conv at each resolution: grouped (official) against scaled (mocohd), batch "
            f"{rows[0]['batch']}, forward + backward to input and styles", "",
            markdown_table(rows, {"layer": ("layer", "{}"), "precision": ("mode", "{}"),
                                  "scaled (ms)": ("scaled_ms", "{:.1f}"), "grouped (ms)": ("grouped_ms", "{:.1f}"),
                                  "grouped / scaled": ("grouped_over_scaled", "{:.2f}"), "faster": ("faster", "{}"),
                                  "max |difference|": ("max_abs_diff", "{:.1e}")}), "",
            "- the grouped form wins at: " + (", ".join(grouped_wins) if grouped_wins else
                                              "no resolution, in either precision: mocohd keeps the scaled form throughout")]


def image_report(results: dict) -> list[str]:
    cfg = results["image_config"]
    base = results["generator"][0]["images_per_s"]
    for row in results["generator"]:
        row["speedup"] = row["images_per_s"] / base
    shape = ", ".join(f"{k} {v}" for k, v in cfg.items())
    return ["", f"## Image generator ({shape}; {results['generator_params']:,} parameters)", "",
            f"Sampling, batch {results['generator_batch']}, no grad:", "",
            markdown_table(results["generator"], {
                "mode": ("mode", "{}"), "images/s": ("images_per_s", "{:.0f}"), "vs fp32": ("speedup", "{:.2f}x"),
                "max abs diff vs fp32": ("max_abs_diff", "{:.3f}")}),
            "", "Modulated conv 3x3, forward + backward: grouped conv (official `fused`) vs scale-in/scale-out "
            "(mocohd's default):", "",
            markdown_table(results["modconv"], {
                "layer": ("layer", "{}"), "scaled (s)": ("scaled_s", "{:.4f}"), "grouped (s)": ("grouped_s", "{:.4f}"),
                "grouped / scaled": ("grouped_over_scaled", "{:.2f}"), "max abs diff": ("max_abs_diff", "{:.1e}")}),
            "", "Image-GAN training step (D step + G step; R1 every 16 steps):", "",
            markdown_table(results["image_step"], {
                "mode": ("mode", "{}"), "step (s)": ("step_s", "{:.3f}"), "step + R1 (s)": ("step_r1_s", "{:.3f}"),
                "amortised (s)": ("amortised_s", "{:.3f}"), "GFLOP": ("gflop", "{:.1f}"),
                "GFLOP/s": ("gflop_per_s", "{:.0f}"), **PEAK_COLUMNS}),
            *speedup_lines(results["image_step"], "amortised_s", group=lambda r: "image-GAN step (amortised)"),
            *weight_grad_note(results.get("weight_grad", []))]


def weight_grad_note(rows: list[dict]) -> list[str]:
    slow = [r for r in rows if r["bf16_over_fp32"] > 2]
    if not slow:
        return []
    return [f"- note: on this CPU a bf16 conv weight gradient takes {slow[0]['bf16_over_fp32']:.0f}x the fp32 time "
            f"at {slow[0]['what']} (table above); the discriminator step pays it at every low resolution"]


def speedup_lines(rows: list[dict], time_key: str, group) -> list[str]:
    """'bf16 + channels_last is 1.7x faster than fp32', per group of rows."""
    lines = [""]
    for name in dict.fromkeys(map(group, rows)):
        times = {r["mode"]: r[time_key] for r in rows if group(r) == name}
        for mode, seconds in times.items():
            if mode != "fp32" and "fp32" in times:
                ratio = times["fp32"] / seconds
                word = f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"
                lines.append(f"- {name}: {mode} is {word} than fp32")
    return lines


def write_report(results: dict, folder: Path, text: str | None = None, name: str = "") -> Path:
    """``folder/<name->timestamp.md`` (``text``, default :func:`report`) and the raw numbers
    beside it as ``.json``; returns the Markdown file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    md = folder / f"{name + '-' if name else ''}{stamp}.md"
    md.write_text(report(results) if text is None else text)
    md.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
    return md
