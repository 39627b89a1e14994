"""What the motion generator's LSTM remembers from one frame to the next, and what its steps look like.

A blink is a round trip: the eyes shut, and a few frames later they open again. MoCoGAN-HD's
LSTM reads nothing but fresh noise e_t at every frame (w_t itself is never fed back to it), so
the only way it can "know", four frames on, that it shut the eyes is its cell state: c_t keeps
the share f_t (the forget gate) of c_{t-1}. Two readings of a trained motion generator:

* **gate means**: the decoder LSTM's input, forget and output gates, averaged over clips and
  frames. A forget gate near 0 means c_t is almost only this frame's noise: a memory of one
  frame. The mutual-information loss, which asks [h_t; c_t] to give e_t back, pulls that way.
* **step structure** of any series of steps (B, T-1, D), generated ones in W or a real clip's
  toy factor: the **drift share** (the part of the step energy that is each clip's constant mean
  step: 1 for a straight line at constant speed, near 0 for a blink, which comes back), the
  **drift agreement** (the mean cosine between different clips' mean steps: 1 when every
  video drifts the same way; only for D > 1) and the **lag correlations** of the steps about
  that mean (a toy blink: positive at lag 1, as the eyes shut over two frames, negative four and
  five frames on, where they open again). Steps that are white noise about their mean read
  about -1/(T-1) at every lag, not 0: taking out each clip's own mean leaves that bias.

Command line: ``python -m mocohd.lab.lstm_memory RUN_OR_EXPORT.pt ... --domain faces_big_eyes_blinks``
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from mocohd.data.toyworld import make_clips
from mocohd.motion import MotionGenerator, draw_noise
from mocohd.train.cli import check_counts

GATES = ("input", "forget", "cell", "output")  # the order of nn.LSTMCell's four weight blocks


def lstm_gates(cell: torch.nn.LSTMCell, x: torch.Tensor, h: torch.Tensor) -> dict:
    """The gate activations of one LSTMCell step from input x and state h: name -> (B, h_dim)."""
    pre = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    blocks = dict(zip(GATES, pre.chunk(4, dim=1)))
    return {name: torch.tanh(b) if name == "cell" else torch.sigmoid(b) for name, b in blocks.items()}


@torch.no_grad()
def gate_means(motion: MotionGenerator, w0: torch.Tensor, n_frames: int = 16,
               generator: torch.Generator | None = None) -> dict:
    """Mean input, forget and output gate of the decoder over clips and frames, replaying
    :meth:`MotionGenerator.forward` step for step (the same noise for the same ``generator``)."""
    h, c = motion.enc_cell(w0)
    sums = {name: 0.0 for name in ("input", "forget", "output")}
    for _ in range(n_frames - 1):
        e = draw_noise(w0, generator)
        gates = lstm_gates(motion.cell, e, h)
        for name in sums:
            sums[name] += gates[name].mean().item()
        h, c = motion.cell(e, (h, c))
    return {name: total / (n_frames - 1) for name, total in sums.items()}


def step_structure(steps: torch.Tensor, lags: int = 5) -> dict:
    """Drift share, drift agreement (None for one-dimensional steps) and the pooled correlation
    of the steps about each clip's mean step at lags 1..``lags``, of steps (B, T-1, D)."""
    if steps.dim() != 3 or steps.shape[1] <= lags:
        raise ValueError(f"steps must be (clips, T-1 > lags={lags}, D), got {tuple(steps.shape)}; "
                         "take w[:, 1:] - w[:, :-1] of clips longer than the largest lag")
    steps = steps.double()
    mean = steps.mean(1, keepdim=True)  # each clip's drift
    drift_share = (steps.shape[1] * mean.pow(2).sum() / steps.pow(2).sum().clamp(min=1e-30)).item()
    agreement = None
    if steps.shape[2] > 1 and len(steps) > 1:
        cos = F.cosine_similarity(mean[:, None, 0], mean[None, :, 0], dim=-1)
        agreement = ((cos.sum() - cos.diagonal().sum()) / (len(steps) * (len(steps) - 1))).item()
    about = steps - mean
    correlations = []
    for lag in range(1, lags + 1):
        a, b = about[:, :-lag], about[:, lag:]
        correlations.append(((a * b).sum() / (a.pow(2).sum() * b.pow(2).sum()).sqrt().clamp(min=1e-30)).item())
    return {"drift_share": drift_share, "drift_agreement": agreement, "lag_correlation": correlations}


@torch.no_grad()
def generated_steps(motion: MotionGenerator, w0: torch.Tensor, n_frames: int = 16,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """The motion generator's steps in W for faces w0: (B, T-1, w_dim)."""
    w, _, _ = motion(w0, n_frames, generator=generator)
    return w[:, 1:] - w[:, :-1]


def real_factor_steps(domain: str, factor: str, n_clips: int = 256, n_frames: int = 16, seed: int = 0) -> torch.Tensor:
    """Real toy clips' steps in one true motion factor (e.g. ``eye_open``): (B, T-1, 1)."""
    clips = make_clips(domain, n_clips, frames=n_frames, size=32, seed=seed)  # only the factors are read
    if factor not in clips.motion_names:
        raise ValueError(f"toy:{domain} has no motion factor {factor!r}; it has {clips.motion_names}")
    series = clips.motion[:, :, clips.motion_names.index(factor)]
    return (series[:, 1:] - series[:, :-1])[..., None]


def memory_report(video_generator, n_clips: int = 64, n_frames: int = 16, seed: int = 0) -> dict:
    """Gate means and the structure of the steps in W of ``n_clips`` generated clips."""
    torch_gen = torch.Generator().manual_seed(seed)
    gi = video_generator.image_generator
    w0 = gi.get_latent(torch.randn(n_clips, gi.style_dim, generator=torch_gen))
    # the gates and the steps see the same noise: two generators from one seed
    gates = gate_means(video_generator.motion, w0, n_frames, torch.Generator().manual_seed(seed + 1))
    steps = generated_steps(video_generator.motion, w0, n_frames, torch.Generator().manual_seed(seed + 1))
    return {"gates": gates, "steps": step_structure(steps)}


def format_structure(rows: dict) -> str:
    """Rows name -> :func:`step_structure` (and optionally gates) as a text table."""
    lags = len(next(iter(rows.values()))["steps"]["lag_correlation"])
    head = f"{'':<52} {'forget':>6} {'drift share':>11} {'agreement':>9} " + " ".join(
        f"{'lag ' + str(k):>6}" for k in range(1, lags + 1))
    lines = [head]
    for name, row in rows.items():
        forget = f"{row['gates']['forget']:6.3f}" if "gates" in row else f"{'-':>6}"
        s = row["steps"]
        agree = f"{s['drift_agreement']:9.3f}" if s["drift_agreement"] is not None else f"{'-':>9}"
        lags_text = " ".join(f"{c:+6.3f}" for c in s["lag_correlation"])
        lines.append(f"{name[-52:]:<52} {forget} {s['drift_share']:11.3f} {agree} {lags_text}")
    return "\n".join(lines)


def main(argv=None) -> None:
    from mocohd.train.video_gan import load_video_generator

    p = argparse.ArgumentParser(prog="python -m mocohd.lab.lstm_memory", description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="+", help="motion-generator files (shipped exports or run checkpoints)")
    p.add_argument("--domain", default="faces_big_eyes_blinks", help="toy world of the real reference clips")
    p.add_argument("--factor", default="eye_open", help="the real clips' motion factor to compare with")
    p.add_argument("--clips", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    check_counts(p, args, also=("clips",))
    rows = {f"real toy clips: {args.factor} steps": {"steps": step_structure(
        real_factor_steps(args.domain, args.factor, n_clips=4 * args.clips, seed=args.seed))}}
    for path in args.checkpoints:
        rows[path] = memory_report(load_video_generator(path), args.clips, seed=args.seed)
    print(format_structure(rows))


if __name__ == "__main__":
    main()
