"""Can the LSTM learn a blink at all? The game played on the latent paths themselves.

Every blink-alone run in notebook 05 ends without a blink, and the free paths of
:mod:`mocohd.lab.path_ascent` showed that the pixel discriminators' slope from still eyes
leads to other change (colour drift, a slow fade). That leaves one question about the
*learner* open: given a game that does point at blinks, can the motion generator (the LSTM,
its bounded residual steps, its noise) learn to make them?

In the steered control (:mod:`mocohd.lab.steered`) the real clips are G_I's own renderings of
known latent paths, so the game can be played on the paths instead of the pixels. A small
discriminator reads a path where the motion generator writes it: each frame's move from
w_0 in the motion generator's PCA coordinates (``pca_coordinates``: a residual step changes
each by at most lambda), beside the face's own coordinates (which way shuts *this* face's
eyes depends on the face). Real paths are the steered blinks; fakes are the LSTM's. Nothing
else changes: the official schedule (5 motion-generator updates with fresh z, then one D
update), RaLSGAN, Adam (lr 1e-4, betas 0.5, 0.999), the mutual-information loss, and a
gradient penalty on the path D. No frame is rendered in training, so an iteration costs
milliseconds; every ``--every`` iterations the feature network reads the eyes of rendered
clips for fixed z. If they blink, the LSTM can learn blinks and the pixel game is what fails
to ask for them; if not, the learner is at fault too.

``--objective nearest`` asks the learner's question without any game: implicit maximum
likelihood (:func:`nearest_path_loss`) pulls, for each real path, the nearest of ``k`` paths
the LSTM draws from the same face towards it. If the LSTM blinks after that, it can learn
blinks, and the game (pixel or path) is what does not teach them.

It is a diagnostic, not the paper. ``--graft RUN/checkpoint.pt`` writes the trained motion
generator into a copy of a pixel run's checkpoint (fresh motion optimizer), so that
``python -m mocohd.train video ... --resume`` asks the second question: does the paper's
pixel game keep a blink that it did not have to find?

Command line: ``python -m mocohd.lab.path_game RUN/checkpoint.pt --out OUT --steps 3000``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from mocohd.lab.steered import follow_within_reach
from mocohd.losses import gradient_penalty_textbook, ralsgan_d_loss, ralsgan_g_loss
from mocohd.motion import mutual_information_loss, pca_coordinates
from mocohd.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state, torch_load
from mocohd.train.cli import check_counts

FORMAT = "mocohd-path-game"


class PathDiscriminator(nn.Module):
    """Scores latent paths (B, T, 2K): per frame, the move from w_0 and the face, both in PCA
    coordinates. Two temporal convolutions (the 3D D's job, on paths), then one linear score."""

    def __init__(self, n_pca: int, frames: int, width: int = 128):
        super().__init__()
        self.conv1 = nn.Conv1d(2 * n_pca, width, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(width, width, kernel_size=3, padding=1, stride=2)
        self.out = nn.Linear(width * ((frames + 1) // 2), 1)

    def forward(self, paths: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.conv1(paths.transpose(1, 2)), 0.2)  # (B, width, T)
        x = F.leaky_relu(self.conv2(x), 0.2)  # (B, width, ceil(T / 2))
        return self.out(x.flatten(1)).squeeze(1)


def path_features(motion, w: torch.Tensor) -> torch.Tensor:
    """Latent paths (B, T, D) -> what the path D reads (B, T, 2K): each frame's move from w_0 in
    units of one full residual step (coordinate / lambda), and w_0's own coordinates."""
    moves = pca_coordinates(motion, w) / motion.w_residual
    face = (w[:, :1] @ motion.pca_comp.T) / motion.pca_stdev
    return torch.cat([moves, face.expand_as(moves)], dim=2)


def nearest_path_loss(motion, real: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Implicit maximum likelihood on paths (Li and Malik, 2018): for each real path (B, T, D),
    the motion generator draws ``k`` paths from the same face w_0 with fresh noise, and only the
    nearest one (squared distance between the moves, in residual steps, summed over frames and
    principal directions) is pulled towards it. Every real path is then covered by some noise,
    so a generator trained this way cannot drop the blinks; no discriminator takes part.
    Returns (the mean nearest distance, the e and e_rec of every drawn path for the MI loss)."""
    b, frames, _ = real.shape
    w, e, e_rec = motion(real[:, 0].repeat_interleave(k, 0), frames)
    moves = pca_coordinates(motion, w) / motion.w_residual  # (B k, T, K)
    target = (pca_coordinates(motion, real) / motion.w_residual).repeat_interleave(k, 0)
    distance = (moves - target).pow(2).sum((1, 2)).view(b, k)
    return distance.min(1).values.mean(), e, e_rec


def real_paths(video_generator, image_generator_sha256: str, n: int, frames: int, seed: int,
               cache_dir: str | Path | None = None) -> torch.Tensor:
    """The steered clips' latent paths (n, frames, D) (:func:`mocohd.lab.steered.steered_path_batches`,
    the same faces and blinks as a run's ``--steered-real`` clips drawn with ``seed``), cached
    under the steered clips' key with "paths" in front."""
    from tqdm.auto import tqdm

    from mocohd.data import toyworld
    from mocohd.lab.steered import cache_key, steered_path_batches

    key = cache_key(image_generator_sha256, n, frames, seed, steps=3, bf16=False)
    path = Path(cache_dir or toyworld.DEFAULT_CACHE) / f"paths-{key}.pt"
    if path.exists():
        return torch_load(path)  # refuses a cache file that holds pickled objects
    batches = steered_path_batches(video_generator, n, frames, seed)
    w = torch.cat([w for w, _ in tqdm(batches, total=-(-n // 32), desc="steering real paths")])
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(path, w)
    return w


def real_path_speeds(checkpoint, n_real: int | None = None) -> dict:
    """How fast a steered run's real blinks move, in the motion generator's residual steps per
    frame (:func:`mocohd.lab.steered.frame_steps`), as drawn and as followed within reach:
    {"as drawn" | "within reach": {"clips needing > 1 step", "median clip's largest", "largest"}}."""
    from mocohd.lab.steered import frame_steps
    from mocohd.lab.discriminator_probe import _load_run

    run = _load_run(checkpoint)
    cfg, vg = run["config"], run["video_generator"]
    real = real_paths(vg, run["image_generator_sha256"], n_real or cfg.n_clips, cfg.frames, cfg.seed + 777)
    rows = {}
    for name, paths in (("as drawn", real), ("within reach", follow_within_reach(real, vg.motion))):
        largest = frame_steps(paths, vg.motion).amax(1)  # each clip's fastest frame
        rows[name] = {"clips needing > 1 step": (largest > 1 + 1e-4).float().mean().item(),
                      "median clip's largest": largest.median().item(), "largest": largest.max().item()}
    return rows


@torch.no_grad()
def eye_numbers(video_generator, domain: str, n: int = 32, frames: int = 16, seed: int = 0,
                paths: torch.Tensor | None = None) -> dict:
    """The feature network's reading of ``n`` rendered clips for fixed z and motion noise, or of
    the given latent ``paths`` (B, T, D) rendered with noise maps drawn from ``seed``."""
    from mocohd.metrics.motion_stats import clip_numbers

    generator = torch.Generator().manual_seed(seed)
    if paths is not None:
        video = video_generator.render(paths, generator=generator)
    else:
        video_generator.eval()
        z = torch.randn(n, video_generator.image_generator.style_dim, generator=generator)
        video = video_generator(z, n_frames=frames, generator=generator)["video"]
        video_generator.train()
    numbers = clip_numbers(video.float().clamp(-1, 1), domain)
    eye = {key: numbers[key]["motion:eye_open"] for key in ("per_factor", "events", "largest_step", "round_trips")}
    return {"pixel_motion": numbers["pixel_motion"], "identity_drift": numbers["identity_drift"],
            "eye_spread": eye["per_factor"], **{f"eye_{k}": v for k, v in eye.items() if k != "per_factor"}}


def train_path_game(checkpoint, out, steps: int = 3000, batch: int = 16, every: int = 500, lr: float = 1e-4,
                    g_steps: int = 5, w_gp: float = 10.0, mi: bool = True, start: str = "fresh", seed: int = 0,
                    n_real: int | None = None, n_eval: int = 128, within_reach: bool = False, resume: bool = False,
                    objective: str = "game", k: int = 16, progress: bool = True) -> list[dict]:
    """Train the run's motion generator (``start``: "fresh", the official initialisation, or
    "trained", the run's own weights) against a path D on the steered paths (``objective``
    "game"), or pulled to them by :func:`nearest_path_loss` with ``k`` draws per real path
    ("nearest"); see the module's note. Writes OUT/log.csv (a row every ``every`` iterations, ``n_eval`` clips read for fixed
    z, then a row of the first ``n_eval`` real paths rendered) and OUT/motion.pt (written
    atomically at every row, with optimizers and random state: ``resume`` goes on from it to the
    same weights as a run never stopped); returns the rows."""
    from tqdm.auto import tqdm

    from mocohd.lab.discriminator_probe import _load_run

    if objective not in ("game", "nearest"):
        raise ValueError(f"objective must be 'game' (a path D, the paper's losses) or 'nearest' (implicit maximum "
                         f"likelihood, no D), got {objective!r}")
    if objective == "nearest" and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ValueError(f"k (paths drawn per real path) must be a positive int, got {k!r}; 16 is the default")
    if start not in ("fresh", "trained"):
        raise ValueError(f"start must be 'fresh' (the official initialisation) or 'trained', got {start!r}")
    run = _load_run(checkpoint)
    cfg, vg = run["config"], run["video_generator"]
    if not cfg.steered_real:
        raise ValueError(f"{checkpoint} did not train on steered clips; the path game needs their latent paths: "
                         "give a run trained with --steered-real true")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    real = real_paths(vg, run["image_generator_sha256"], n_real or cfg.n_clips, cfg.frames, cfg.seed + 777)
    motion = vg.motion.train().requires_grad_(True)  # loaded for sampling, with its gradients off
    if within_reach:  # the real blinks as fast as a motion generator could follow them
        real = follow_within_reach(real, motion)
    torch.manual_seed(seed)
    if start == "fresh":
        motion.reset_parameters()
    d = PathDiscriminator(motion.n_pca, cfg.frames)
    opt_g = torch.optim.Adam(motion.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=lr, betas=(0.5, 0.999))
    gi = vg.image_generator

    def fake_paths():
        z = torch.randn(batch, gi.style_dim)
        with torch.no_grad():
            w0 = gi.get_latent(z).float()
        w, e, e_rec = motion(w0, cfg.frames)
        return w, e, e_rec

    real_row = {"iteration": "real", "d_loss": float("nan"), "g_loss": float("nan"), "mi": float("nan"),
                **eye_numbers(vg, run["domain"], paths=real[:n_eval])}
    row = lambda i, logs: {"iteration": i, **logs, **eye_numbers(vg, run["domain"], n_eval, cfg.frames)}  # noqa: E731
    settings = {"checkpoint": str(Path(checkpoint).resolve()), "start": start, "lr": lr, "batch": batch, "g_steps": g_steps,
                "w_gp": w_gp, "mi": mi, "seed": seed, "n_real": len(real), "within_reach": within_reach,
                "objective": objective, **({"k": k} if objective == "nearest" else {})}
    saved = out / "motion.pt"
    if resume and saved.exists():
        state = load_checkpoint(saved, FORMAT)
        if state["settings"] != settings:
            raise ValueError(f"{saved} was trained with {state['settings']}, not {settings}; resume with the same "
                             "settings, or give a new --out")
        motion.load_state_dict(state["motion"]), d.load_state_dict(state["path_d"])
        opt_g.load_state_dict(state["opt_g"]), opt_d.load_state_dict(state["opt_d"])
        set_rng_state(state["rng"])
        first, rows = state["iteration"] + 1, state["rows"]
    else:
        first, rows = 1, [row(0, {"d_loss": float("nan"), "g_loss": float("nan"), "mi": float("nan")})]

    def update_motion(g_loss, mi_loss):
        opt_g.zero_grad(set_to_none=True)
        (g_loss + mi_loss if mi else g_loss).backward()
        opt_g.step()

    def save_row(i, d_loss, g_loss, mi_loss):
        rows.append(row(i, {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "mi": mi_loss.item()}))
        _write_rows(out / "log.csv", [*rows, real_row])
        save_checkpoint(saved, {"format": FORMAT, "settings": settings, "iteration": i, "start": start,
                                "motion": motion.state_dict(), "path_d": d.state_dict(), "opt_g": opt_g.state_dict(),
                                "opt_d": opt_d.state_dict(), "rng": rng_state(), "rows": rows})
    for i in tqdm(range(first, steps + 1), desc=f"path {objective}", disable=not progress, initial=first - 1,
                  total=steps):
        drawn = real[torch.randint(len(real), (batch,))]
        if objective == "nearest":  # no game: pull the nearest of k drawn paths towards each real one
            g_loss, e, e_rec = nearest_path_loss(motion, drawn, k)
            mi_loss = mutual_information_loss(e_rec, e)
            update_motion(g_loss, mi_loss)
            d_loss = torch.tensor(float("nan"))
            if i % every == 0 or i == steps:
                save_row(i, d_loss, g_loss, mi_loss)
            continue
        real_batch = path_features(motion, drawn)
        for _ in range(g_steps):
            w, e, e_rec = fake_paths()
            g_loss = ralsgan_g_loss(d(real_batch), d(path_features(motion, w)))
            mi_loss = mutual_information_loss(e_rec, e)
            update_motion(g_loss, mi_loss)
        with torch.no_grad():
            fake = path_features(motion, fake_paths()[0])
        d_loss = ralsgan_d_loss(d(real_batch), d(fake)) + gradient_penalty_textbook(d, real_batch, fake, weight=w_gp)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        if i % every == 0 or i == steps:
            save_row(i, d_loss, g_loss, mi_loss)
    return [*rows, real_row]


def _write_rows(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def graft(run_checkpoint, motion_file, out) -> Path:
    """A copy of a pixel run's checkpoint with the path game's motion generator in place of its
    own and a fresh motion optimizer: OUT/checkpoint.pt, to go on with ``--resume``."""
    from mocohd.train.video_gan import FORMAT as RUN_FORMAT

    ckpt = load_checkpoint(run_checkpoint, RUN_FORMAT)
    trained = load_checkpoint(motion_file, FORMAT)
    sd = ckpt["state_dicts"]
    sd["motion"] = trained["motion"]
    fresh = torch.optim.Adam([nn.Parameter(torch.zeros(1))], lr=ckpt["config"]["lr"], betas=(0.5, 0.999))
    state = fresh.state_dict()
    state["param_groups"][0]["params"] = sd["opt_motion"]["param_groups"][0]["params"]
    sd["opt_motion"] = state
    ckpt["grafted_motion"] = {"from": str(motion_file), "path_game_iteration": trained["iteration"],
                              "settings": trained["settings"]}
    return save_checkpoint(Path(out) / "checkpoint.pt", ckpt)


def format_rows(rows: list[dict]) -> str:
    lines = ["  iteration   D loss   G loss   MI     pixel motion   identity drift   eyes: spread / events / largest "
             "step / there and back"]
    number = lambda x, spec: f"{'-':>5}" if x != x else format(x, spec)  # noqa: E731  (nan: no such loss)
    losses = lambda r: f"{number(r['d_loss'], '.3f')}    {number(r['g_loss'], '.3f')}   {number(r['mi'], '+.2f')}"  # noqa: E731
    for r in rows:
        lines.append(f"  {r['iteration']!s:>9}   {losses(r)}   "
                     f"{r['pixel_motion']:.4f}         {r['identity_drift']:.4f}           {r['eye_spread']:.3f} / "
                     f"{r['eye_events']:.2f} / {r['eye_largest_step']:.3f} / {r['eye_round_trips']:.2f}")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m mocohd.lab.path_game", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", help="a --steered-real run's checkpoint.pt (its G_I, PCA and steered clips)")
    p.add_argument("--out", required=True, help="folder for log.csv and motion.pt")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--every", type=int, default=500)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--start", choices=["fresh", "trained"], default="fresh")
    p.add_argument("--no-mi", action="store_true", help="leave the mutual-information loss out")
    p.add_argument("--n-real", type=int, default=None, help="steered paths to draw (default: the run's n_clips)")
    p.add_argument("--within-reach", action="store_true",
                   help="real paths followed at most one residual step per frame (steered.follow_within_reach)")
    p.add_argument("--objective", choices=["game", "nearest"], default="game",
                   help="game: a path D and the paper's losses; nearest: implicit maximum likelihood, the nearest "
                        "of --k paths drawn from each real face pulled towards it (no D; a test of the LSTM alone)")
    p.add_argument("--k", type=int, default=16, help="paths drawn per real path with --objective nearest")
    p.add_argument("--n-eval", type=int, default=128,
                   help="clips rendered and read at each measurement (32 faces are too few: one seed's 32 read "
                        "less than half the eye movement of another's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="go on from OUT/motion.pt if it exists")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--graft", default=None, metavar="RUN/checkpoint.pt",
                   help="after training, write OUT/checkpoint.pt: this pixel run with the trained motion generator")
    args = p.parse_args(argv)
    check_counts(p, args, also=("every", "k", "n_eval", "n_real"))
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = train_path_game(args.checkpoint, args.out, args.steps, args.batch, args.every, args.lr, mi=not args.no_mi,
                           start=args.start, seed=args.seed, n_real=args.n_real, n_eval=args.n_eval,
                           within_reach=args.within_reach, resume=args.resume,
                           objective=args.objective, k=args.k)
    print(format_rows(rows))
    if args.graft:
        print(f"grafted: {graft(args.graft, Path(args.out) / 'motion.pt', args.out)}")


if __name__ == "__main__":
    main()
