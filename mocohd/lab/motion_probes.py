"""Not in the paper: probes of where a blink can come from, in pixels and in W.

Beside ``mocohd.metrics.motion_stats`` (which measures how much motion a generator makes),
these ask the questions of notebook A1 (why toy faces do not blink):

* where a real blink changes the picture (:func:`blink_region`), and how much a generated clip
  changes inside that band and outside it (:func:`change_by_region`);
* how local a small move of the motion generator can be (:func:`region_locality`);
* how far k bounded residual steps can move each motion factor (:func:`step_reach`,
  :func:`push_factor`), next to how fast real clips move (:func:`real_step_change`).

Command line: ``python -m mocohd.lab.motion_probes --domain faces data/checkpoints/faces_motion.pt``
prints the step reach next to real clips.
"""

from __future__ import annotations

import argparse
import json

import torch

from mocohd.data.toyworld import make_clips
from mocohd.metrics.motion_stats import is_motion_factor, largest_change
from mocohd.metrics.toy_features import ToyFeatureNet, feature_domain, load_toy_feature_net, video_factors
from mocohd.train.cli import check_counts


def blink_region(domain: str = "faces_big_eyes", n_clips: int = 64, size: int = 64, seed: int = 1) -> torch.Tensor:
    """(H, W) bool: every pixel that a real blink changes in ``n_clips`` clips of ``domain``
    (the clips as drawn against the same clips with the eyes held open). Faces differ in size
    and place, so this is the band around where toy eyes sit, not one face's eyes."""
    from mocohd.lab.round_trips import held_clips

    drawn, held = held_clips(domain, "eye_open", n_clips, 16, size, seed)
    return (drawn.video - held.video).abs().amax(dim=(0, 1, 2)) > 0.05


def change_by_region(video: torch.Tensor, region: torch.Tensor) -> dict:
    """Mean absolute change between consecutive frames inside ``region`` (H, W) bool and
    outside it, video (B, T, C, H, W) in [-1, 1]. In ``faces_big_eyes_blinks`` a real clip
    changes only inside :func:`blink_region`: whatever a generator changes outside it is
    change that no real clip makes."""
    if region.shape != video.shape[-2:] or region.dtype != torch.bool:
        raise ValueError(f"region must be a bool (H, W) mask of the frames' size {tuple(video.shape[-2:])}, "
                         f"got {region.dtype} {tuple(region.shape)}; make it with blink_region(size=...)")
    step = (video[:, 1:] - video[:, :-1]).abs()
    return {"inside": step[..., region].mean().item(), "outside": step[..., ~region].mean().item()}


def check_frame_region(region: torch.Tensor, size: int) -> None:
    """A region for G_I's frames must be a (size, size) bool mask."""
    if region.shape != (size, size) or region.dtype != torch.bool:
        raise ValueError(f"region must be an (H, W) mask of G_I's frame size ({size}, {size}) holding bools, got "
                         f"{region.dtype} {tuple(region.shape)}; make it with blink_region(size={size})")


@torch.no_grad()
def region_locality(video_generator, region: torch.Tensor, n_images: int = 8, seed: int = 0,
                    eps: float = 0.02, n_random: int = 200) -> dict:
    """How local can a small move of the motion generator be? At each of ``n_images`` sampled
    faces, the frame's Jacobian J along the motion generator's PCA directions (central
    differences, ``eps`` stdevs) gives, for every direction v, the rms change per pixel inside
    ``region`` and outside it. Returns, one value per face (n,):

    - ``"best"``: the largest inside / outside ratio any direction reaches (a generalised
      eigenproblem of J_in'J_in against J_out'J_out);
    - ``"random"``: the median ratio over ``n_random`` random directions.

    A real blink changes nothing outside its band (an unbounded ratio). An image generator
    whose every direction changes the whole picture has a best ratio near the random one,
    and no motion generator over it can blink without the rest of the face changing too."""
    from scipy.linalg import eigh

    gi, basis = video_generator.image_generator, video_generator.motion.pca_basis().float()
    check_frame_region(region, gi.size)
    n_dirs = basis.shape[0]
    w0, noise = _sampled_faces(gi, n_images, seed)
    directions = torch.randn(n_random, n_dirs, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    quad = lambda g: torch.einsum("ki,ij,kj->k", directions, g, directions)  # noqa: E731  (v'Gv per direction)
    best, random = [], []
    for i in range(n_images):
        maps = [m[i:i + 1].expand(n_dirs, -1, -1, -1) for m in noise]
        up, down = (gi.synthesize(w0[i:i + 1] + s * eps * basis, noise=maps) for s in (1, -1))
        jac = ((up - down) / (2 * eps)).double().permute(1, 2, 3, 0)  # (C, H, W, n_dirs)
        j_in, j_out = jac[:, region].reshape(-1, n_dirs), jac[:, ~region].reshape(-1, n_dirs)
        gram_in, gram_out = j_in.T @ j_in / len(j_in), j_out.T @ j_out / len(j_out)  # mean square per pixel
        ridge = 1e-9 * gram_out.trace() / n_dirs * torch.eye(n_dirs, dtype=torch.float64)  # keeps gram_out invertible
        best.append(eigh(gram_in.numpy(), (gram_out + ridge).numpy(), eigvals_only=True)[-1] ** 0.5)
        random.append((quad(gram_in) / quad(gram_out)).sqrt().median().item())
    return {"best": torch.tensor(best, dtype=torch.float32), "random": torch.tensor(random)}


def residual_search(video_generator, domain: str, net: ToyFeatureNet, w0: torch.Tensor, noise: list,
                    factor: torch.Tensor, sign: torch.Tensor, k: int, iterations: int,
                    region: torch.Tensor | None = None, outside_weight: float = 0.0) -> tuple:
    """Search ``w0 + k * lambda * tanh(u) @ basis`` (the k-step residual set) for the point that
    moves each row's factor furthest the asked way (``sign`` +1 up, -1 down): Adam on ``u``
    through G_I and the feature network. With a ``region`` (H, W bool), every row also pays
    ``outside_weight`` x its mean |change| outside the region. Returns (start frames, end
    frames, start reading, end reading, end latents), one row each."""
    gi, motion = video_generator.image_generator, video_generator.motion
    rows = torch.arange(len(w0))
    with torch.no_grad():
        basis = motion.pca_basis().float()  # (n_pca, w_dim)
        start_frames = gi.synthesize(w0, noise=noise).clamp(-1, 1)
    read = ToyFeatureNet.predict.__wrapped__  # predict without its no_grad: we climb its gradient
    head = f"{feature_domain(domain)}_factors"

    def reading(frames):
        return read(net, frames)[head][rows, factor]

    def moved_to(u):
        return w0 + k * motion.w_residual * (torch.tanh(u) @ basis)

    def cost(u):
        frames = gi.synthesize(moved_to(u), noise=noise).clamp(-1, 1)
        loss = -(sign * reading(frames)).sum()
        if region is not None and outside_weight:
            loss = loss + outside_weight * (frames - start_frames).abs()[..., ~region].mean(dim=(1, 2)).sum()
        return loss

    with torch.no_grad():
        start = reading(start_frames)
    u = torch.zeros(len(w0), motion.n_pca, requires_grad=True)
    opt = torch.optim.Adam([u], lr=0.1)
    for _ in range(iterations):
        (u.grad,) = torch.autograd.grad(cost(u), [u])  # G_I and the net keep no grads
        opt.step()
    with torch.no_grad():
        w_end = moved_to(u)
        end_frames = gi.synthesize(w_end, noise=noise).clamp(-1, 1)
        return start_frames, end_frames, start, reading(end_frames), w_end


def _sampled_faces(image_generator, n_images: int, seed: int) -> tuple:
    return draw_faces(image_generator, n_images, torch.Generator().manual_seed(seed))


@torch.no_grad()
def draw_faces(image_generator, n: int, generator: torch.Generator) -> tuple[torch.Tensor, list]:
    """n first frames as the video generator draws them: latents w0 (n, D) from the mapping
    network and one noise map per face, from ``generator``'s stream."""
    w0 = image_generator.get_latent(torch.randn(n, image_generator.style_dim, generator=generator)).float()
    return w0, image_generator.make_noise(n, generator)


def step_reach(video_generator, domain: str, steps=(1, 2, 4), n_images: int = 8, iterations: int = 40,
               seed: int = 0, net: ToyFeatureNet | None = None) -> dict:
    """{motion factor: {k: how far k residual steps can move it}}, mean over ``n_images`` faces.

    The residual is cumulative and each step is bounded (``w_t = w_{t-1} + lambda * a_t @ basis``
    with every coefficient of ``a_t`` in [-1, 1]), so after k steps the path can be anywhere in
    ``w_0 + k * lambda * a @ basis``, and nowhere else, whatever the LSTM learned. The search
    looks in that set for the largest change of each factor, up or down (``a = tanh(u)``, Adam
    on ``u`` through G_I and the feature network), from the same sampled w_0 and noise maps.
    It may stop short of the best point, so read the result as a lower bound on the reach *as
    the feature network reads it*: the search may also find frames that fool the network (see
    :func:`push_factor`, which returns the frames, and look at them)."""
    net = net or load_toy_feature_net()
    names = list(net.config["factors"][feature_domain(domain)])
    moving = [i for i, m in enumerate(is_motion_factor(names).tolist()) if m]
    if not moving:
        return {}
    w0, noise = _sampled_faces(video_generator.image_generator, n_images, seed)
    # one row per (factor, direction, face), all searched at once: rows do not interact
    factor = torch.tensor(moving).repeat_interleave(2 * n_images)
    sign = torch.tensor([1.0, -1.0]).repeat_interleave(n_images).repeat(len(moving))
    face = torch.arange(n_images).repeat(2 * len(moving))
    reach = {names[i]: {} for i in moving}
    for k in steps:
        _, _, start, end, _ = residual_search(video_generator, domain, net, w0[face], [m[face] for m in noise],
                                              factor, sign, k, iterations)
        best = (sign * (end - start)).reshape(len(moving), 2, n_images).amax(dim=1)  # the better direction per face
        for j, i in enumerate(moving):
            reach[names[i]][k] = best[j].mean().item()
    return reach


def push_factor(video_generator, domain: str, factor: str, k: int = 2, lowest: bool = True, n_images: int = 8,
                iterations: int = 40, seed: int = 0, net: ToyFeatureNet | None = None,
                region: torch.Tensor | None = None, outside_weight: float = 0.0) -> dict:
    """The frames behind :func:`step_reach`'s number for one factor and one direction: from
    ``n_images`` sampled faces, the point of the k-step residual set that moves ``factor``
    furthest down (``lowest``) or up. Returns {"start", "pushed"}: images (n, 3, H, W), and
    {"start_value", "pushed_value"}: the factor as the feature network reads it (n,).
    The reading can move without the thing itself moving (a paler face can read as half-shut
    eyes), so look at "pushed" before believing "pushed_value".

    ``region`` (H, W bool, e.g. :func:`blink_region`) with ``outside_weight`` > 0 asks for the
    move that also keeps the rest of the picture still: the search pays ``outside_weight`` x
    the mean |change| outside the region. A real blink changes nothing outside its region, so
    this asks whether G_I can blink without changing the rest of the face.
    :func:`change_by_region` of ``start`` and ``pushed`` (as a two-frame video) reads the result."""
    net = net or load_toy_feature_net()
    names = list(net.config["factors"][feature_domain(domain)])
    if factor not in names:
        raise ValueError(f"no factor {factor!r} in domain {domain!r}; the factors are {', '.join(names)}")
    if k < 1:
        raise ValueError(f"k is a number of residual steps and must be at least 1, got {k}")
    gi = video_generator.image_generator
    if region is not None:
        check_frame_region(region, gi.size)
    w0, noise = _sampled_faces(gi, n_images, seed)
    start_frames, pushed, start, end, _ = residual_search(video_generator, domain, net, w0, noise,
                                                          torch.full((n_images,), names.index(factor)),
                                                          torch.full((n_images,), -1.0 if lowest else 1.0), k,
                                                          iterations, region, outside_weight)
    return {"start": start_frames, "pushed": pushed, "start_value": start, "pushed_value": end}


@torch.no_grad()
def real_step_change(domain: str, steps=(1, 2, 4), n_clips: int = 32, seed: int = 0,
                     net: ToyFeatureNet | None = None) -> dict:
    """{motion factor: {k: the largest change within k frames of a real clip}}, mean over clips:
    how fast the toy world's motions are, to hold against :func:`step_reach`."""
    clips = make_clips(domain, n_clips, frames=16, size=64, seed=seed)
    factors, names = video_factors(clips.video, domain, net)
    moving = is_motion_factor(names).tolist()
    largest = {k: largest_change(factors, k).mean(0) for k in steps}  # {k: (F,)}
    return {n: {k: largest[k][i].item() for k in steps} for i, n in enumerate(names) if moving[i]}


def format_step_reach(real: dict, reach: dict) -> str:
    """Real clips' fastest change in k frames next to the reach of k residual steps."""
    factors = list(real)
    steps = list(next(iter(real.values())))
    lines = [f"{'largest change':36s}" + "".join(f"{n.split(':', 1)[1]:>12s}" for n in factors)]
    for k in steps:
        lines.append(f"{f'real clips, within {k} frame(s)':36s}" + "".join(f"{real[n][k]:12.3f}" for n in factors))
        lines.append(f"{f'reach of {k} residual step(s)':36s}" + "".join(f"{reach[n][k]:12.3f}" for n in factors))
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m mocohd.lab.motion_probes",
                                description="How far 1, 2 and 4 residual steps can move each motion factor, "
                                            "next to real clips")
    p.add_argument("checkpoints", nargs="+", help="motion-generator files (shipped exports or run checkpoints)")
    p.add_argument("--domain", required=True)
    p.add_argument("--videos", type=int, default=32, help="real clips to measure")
    p.add_argument("--images", type=int, default=8, help="generated faces whose reach is searched")
    p.add_argument("--iterations", type=int, default=40, help="Adam steps of each reach search")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="also write the numbers here")
    args = p.parse_args(argv)
    check_counts(p, args, also=("videos", "images", "iterations"))
    from mocohd.train.video_gan import load_video_generator

    net = load_toy_feature_net()
    real = real_step_change(args.domain, n_clips=args.videos, seed=args.seed, net=net)
    results = {}
    for path in args.checkpoints:
        results[path] = step_reach(load_video_generator(path), args.domain, n_images=args.images,
                                   iterations=args.iterations, seed=args.seed, net=net)
        print(path)
        print(format_step_reach(real, results[path]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"real clips": real, **results}, f, indent=2)


if __name__ == "__main__":
    main()
