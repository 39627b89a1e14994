"""Is there a slope from stillness to a blink? Free latent paths against a run's discriminators.

The blink-alone runs end with motion generators that hardly move, although their
discriminators reward a whole real blink added to the generated clips
(:func:`mocohd.lab.discriminator_probe.blink_reward`). Two things could be at fault, and
this check tells them apart:

* the **game**: the discriminators' score has no slope that leads from a still clip to a
  blink (a tenth of a blink earns nothing; only the whole one does), so no generator trained
  by their gradient could find it;
* the **learner**: the slope is there, but the LSTM and its training do not follow it.

So drop the LSTM. Give every clip its own free path in the very set the motion generator
moves in (each frame a residual step ``lambda * tanh(u_t) @ (PC * sigma)`` from the last),
start it still (u = 0, every frame w_0) or on the run's own generated path, and climb the
generator's own loss (RaLSGAN against a real batch, 3D D over the clip both ways in time, as
the temporal flip plays it, plus the image D over every pair (frame 0, frame k)) with Adam
on ``u`` alone. G_I and the discriminators stay fixed. Along the way the toy feature network
reads the eyes of the climbed clips: if they blink (``round trips``), the slope exists and
the learner is at fault; if they stay still or only drift shut, the game has no such slope.

Command line: ``python -m mocohd.lab.path_ascent RUN/checkpoint.pt --clips 8 --steps 150``
(``--start generated`` to start on the run's own paths; ``--video FILE.mp4`` writes the
climbed clips).
"""

from __future__ import annotations

import argparse

import torch

from mocohd.discriminators import image_pair_input, video_input_in_domain
from mocohd.losses import ralsgan_g_loss
from mocohd.lab.discriminator_probe import _load_run, pair_scores, video_scores
from mocohd.lab.motion_probes import draw_faces
from mocohd.metrics.motion_stats import clip_numbers
from mocohd.train.cli import check_counts

STARTS = ("still", "generated")
JUDGES = ("video", "image")  # the 3D D and the image D


def cumulative_path(base: torch.Tensor, u: torch.Tensor, basis: torch.Tensor, w_residual: float) -> torch.Tensor:
    """base (B, T, D) plus residual steps: frame t adds lambda * sum_{s <= t} tanh(u_s) @ basis,
    u (B, T-1, K), basis (K, D); frame 0 stays base's."""
    steps = w_residual * (torch.tanh(u) @ basis)  # (B, T-1, D)
    return base + torch.cat([torch.zeros_like(base[:, :1]), steps.cumsum(dim=1)], dim=1)


def generator_loss(run: dict, real: torch.Tensor, fake: torch.Tensor, judges=JUDGES) -> torch.Tensor:
    """The in-domain generator loss against a fixed real batch (B, T, 3, S, S): the 3D D's
    RaLSGAN loss averaged over both directions of time ("video"), plus the image D's averaged
    over every pair (frame 0, frame k) ("image"); ``judges`` picks either or both."""
    loss = 0.0
    if "video" in judges:
        real_in, fake_in = video_input_in_domain(real), video_input_in_domain(fake)
        loss = loss + sum(ralsgan_g_loss(run["d_3d"](torch.flip(real_in, [2]) if back else real_in),
                                         run["d_3d"](torch.flip(fake_in, [2]) if back else fake_in))
                          for back in (False, True)) / 2
    if "image" in judges:
        frames = real.shape[1]
        pair = lambda clips, k: run["d_img"](image_pair_input(clips, k))  # noqa: E731
        loss = loss + sum(ralsgan_g_loss(pair(real, k), pair(fake, k)) for k in range(1, frames)) / (frames - 1)
    return loss


def real_clips(run: dict, n: int, seed: int) -> torch.Tensor:
    """``n`` real clips as the run saw them, at G_I's size (pool them to the discriminators'):
    steered blinks drawn by G_I for a ``--steered-real`` run, toy clips otherwise."""
    from mocohd.data.toyworld import make_clips

    cfg, gi = run["config"], run["video_generator"].image_generator
    if cfg.steered_real:
        from mocohd.lab.steered import steered_clips

        return steered_clips(run["video_generator"], n, cfg.frames, seed=seed,  # unclamped, as in training
                             within_reach=cfg.steered_within_reach).float()
    return make_clips(run["domain"], n, frames=cfg.frames, size=gi.size, seed=seed).video


def ascend_paths(checkpoint, n: int = 8, steps: int = 150, lr: float = 0.05, start: str = "still",
                 every: int = 25, seed: int = 4321, judges=JUDGES, progress: bool = False) -> dict:
    """Climb ``n`` free paths (see the module's note) for ``steps`` Adam steps of rate ``lr``.
    ``judges``: the discriminators whose loss is climbed (both, as in training, or one).
    Returns {"checkpoint", "step", "start", "clips", "lr", "judges", "real", "rows", "video"}: a
    row every ``every`` steps (and at 0) with the generator loss, the mean 3D D and image D
    scores of the clips, and the toy feature network's numbers of the clips (pixel motion,
    identity drift, eye spread, events, largest step, round trips); ``real`` the same numbers of
    the real batch; ``video`` the climbed clips (n, T, 3, H, W) at G_I's size."""
    from tqdm.auto import tqdm

    from mocohd.train.video_gan import pool_to_size

    if start not in STARTS:
        raise ValueError(f"start must be one of {STARTS}, got {start!r}")
    judges = tuple(judges)
    if not judges or not set(judges) <= set(JUDGES):
        raise ValueError(f"judges must name one or both of {JUDGES}, got {judges!r}")
    run = _load_run(checkpoint)
    vg, cfg, size = run["video_generator"], run["config"], run["size"]
    gi, motion = vg.image_generator, vg.motion
    real_full = real_clips(run, n, seed)
    real = pool_to_size(real_full, size)
    generator = torch.Generator().manual_seed(seed + 1)
    w0, noise = draw_faces(gi, n, generator)
    with torch.no_grad():
        base = motion(w0, cfg.frames, generator=generator)[0] if start == "generated" else \
            w0[:, None].expand(n, cfg.frames, -1).contiguous()
        basis = motion.pca_basis().float()
    u = torch.zeros(n, cfg.frames - 1, motion.n_pca, requires_grad=True)
    opt = torch.optim.Adam([u], lr=lr)
    rows, video = [], None

    def render():
        return vg.render(cumulative_path(base, u, basis, motion.w_residual), noise=noise).float()

    for i in tqdm(range(steps + 1), desc="climbing paths", disable=not progress):
        video = render()
        fake = pool_to_size(video, size)
        loss = generator_loss(run, real, fake, judges)
        if i % every == 0 or i == steps:
            rows.append({"ascent_step": i, "g_loss": loss.item(), **_numbers(run, fake, video.detach().clamp(-1, 1))})
        if i == steps:
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return {"checkpoint": str(checkpoint), "step": run["step"], "start": start, "clips": n, "lr": lr,
            "judges": judges, "real": _numbers(run, real, real_full.clamp(-1, 1)), "rows": rows,
            "video": video.detach().clamp(-1, 1)}


def _scores(run: dict, clips: torch.Tensor) -> dict:
    """The mean 3D D score of clips (B, T, 3, S, S), and the image D's over every pair (0, k)."""
    return {"video_score": video_scores(run["d_3d"], clips).mean().item(),
            "image_score": pair_scores(run["d_img"], clips).mean().item()}


@torch.no_grad()
def _numbers(run: dict, clips: torch.Tensor, full: torch.Tensor) -> dict:
    """The scores of clips (B, T, 3, S, S) and the toy feature network's numbers of the same
    clips at G_I's size ``full``."""
    numbers = clip_numbers(full, run["domain"])
    return {**_scores(run, clips), "pixel_motion": numbers["pixel_motion"], "identity_drift": numbers["identity_drift"],
            **{key: numbers[key]["motion:eye_open"] for key in ("events", "largest_step", "round_trips")}}


def format_ascent(result: dict) -> str:
    lines = [f"{result['checkpoint']} (run step {result['step']}): {result['clips']} free paths from "
             f"{result['start']}, climbing {' + '.join(result['judges'])} D, Adam lr {result['lr']}",
             "  ascent   G loss   3D D     image D   pixel motion   identity drift   eye events   largest step"
             "   round trips"]
    for r in [*result["rows"], {**result["real"], "ascent_step": "real", "g_loss": float("nan")}]:
        lines.append(f"  {r['ascent_step']:>6}   {r['g_loss']:.4f}   {r['video_score']:+.3f}   {r['image_score']:+.3f}"
                     f"    {r['pixel_motion']:.4f}         {r['identity_drift']:.4f}           {r['events']:.2f}"
                     f"         {r['largest_step']:.3f}          {r['round_trips']:.2f}")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m mocohd.lab.path_ascent", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", help="an in-domain toy-world run's checkpoint.pt (it keeps its discriminators)")
    p.add_argument("--clips", type=int, default=8)
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--start", choices=STARTS, default="still")
    p.add_argument("--every", type=int, default=25)
    p.add_argument("--judges", nargs="+", choices=JUDGES, default=list(JUDGES),
                   help="climb the loss of these discriminators (default both, as the training loop does)")
    p.add_argument("--seed", type=int, default=4321)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--video", default=None, help="write the climbed clips here (mp4, through mediapy)")
    args = p.parse_args(argv)
    check_counts(p, args, also=("clips", "every"))
    if args.threads:
        torch.set_num_threads(args.threads)
    result = ascend_paths(args.checkpoint, args.clips, args.steps, args.lr, args.start, args.every, args.seed,
                          args.judges, progress=True)
    print(format_ascent(result))
    if args.video:
        import mediapy

        from mocohd.viz import as_uint8_videos, video_grid  # also wires mediapy to the shipped ffmpeg

        mediapy.write_video(args.video, video_grid(as_uint8_videos(result["video"]), scale=2), fps=8)
        print(f"climbed clips: {args.video}")


if __name__ == "__main__":
    main()
