"""Pictures for the notebooks: video grids (mediapy), image grids and curves (matplotlib),
and small ipywidgets explorers.

Everything accepts both layouts used in the series:

- float tensors in [-1, 1], channels first: videos (B, T, 3, H, W), images (B, 3, H, W);
- uint8 arrays, channels last: videos (B, T, H, W, 3), images (B, H, W, 3).

A list of single videos/images works too. Small frames are enlarged with nearest-neighbour
upsampling (``scale``) so that 32x32 pixels stay crisp on screen.
"""

from __future__ import annotations

import csv
from pathlib import Path

import mediapy
import numpy as np
import torch

from mocohd.data import video_io  # noqa: F401  (wires mediapy to the shipped ffmpeg)
from mocohd.data.video_io import to_uint8

DISPLAY_HEIGHT = 128  # small videos are enlarged to at least this many pixels


# ----------------------------------------------------------------------------------------
# Layout helpers


def as_uint8_videos(videos) -> np.ndarray:
    """Any batch of videos as uint8 (B, T, H, W, 3); shorter videos hold their last frame."""
    if isinstance(videos, (list, tuple)):
        items = [as_uint8_videos(v[None] if _ndim(v) == 4 else v) for v in videos]
        length = max(v.shape[1] for v in items)
        items = [np.concatenate([v, np.repeat(v[:, -1:], length - v.shape[1], 1)], 1) for v in items]
        return np.concatenate(items)
    videos = _uint8_array(videos)
    if videos.ndim != 5 or videos.shape[-1] != 3:
        raise ValueError(f"expected videos (B, T, 3, H, W) in [-1, 1] or uint8 (B, T, H, W, 3), got {videos.shape}")
    return videos


def as_uint8_images(images) -> np.ndarray:
    """Any batch of images as uint8 (B, H, W, 3)."""
    if isinstance(images, (list, tuple)):
        return np.concatenate([as_uint8_images(i[None] if _ndim(i) == 3 else i) for i in images])
    images = _uint8_array(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected images (B, 3, H, W) in [-1, 1] or uint8 (B, H, W, 3), got {images.shape}")
    return images


def _uint8_array(x) -> np.ndarray:
    """uint8 input (tensor or array) as it is; float input, channels first in [-1, 1], converted."""
    if torch.is_tensor(x):
        return x.cpu().numpy() if x.dtype == torch.uint8 else to_uint8(x)
    x = np.asarray(x)
    return x if x.dtype == np.uint8 else to_uint8(x)


def _ndim(x) -> int:
    return x.dim() if torch.is_tensor(x) else np.ndim(x)


def upscale(frames: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement of (..., H, W, 3) by an integer factor."""
    if scale <= 1:
        return frames
    return frames.repeat(scale, axis=-3).repeat(scale, axis=-2)


def auto_scale(height: int) -> int:
    return max(1, DISPLAY_HEIGHT // height)


def tile(batch: np.ndarray, columns: int | None = None, pad: int = 2, pad_value: int = 255) -> np.ndarray:
    """Tile (B, ..., H, W, 3) into (..., rows*(H+pad)-pad, columns*(W+pad)-pad, 3)."""
    count = batch.shape[0]
    columns = min(count, columns or int(np.ceil(np.sqrt(count))))
    rows = int(np.ceil(count / columns))
    height, width = batch.shape[-3], batch.shape[-2]
    lead = batch.shape[1:-3]
    out = np.full((*lead, rows * (height + pad) - pad, columns * (width + pad) - pad, 3), pad_value, np.uint8)
    for k in range(count):
        r, c = divmod(k, columns)
        out[..., r * (height + pad):r * (height + pad) + height, c * (width + pad):c * (width + pad) + width, :] = batch[k]
    return out


# ----------------------------------------------------------------------------------------
# Videos


def video_grid(videos, columns: int | None = None, pad: int = 2, scale: int = 1) -> np.ndarray:
    """A batch of videos tiled into one video: uint8 (T, H', W', 3), ready to write or show."""
    return tile(upscale(as_uint8_videos(videos), scale), columns, pad)


def show_videos(videos, titles=None, fps: float = 8, columns: int | None = None, scale: int | None = None,
                codec: str = "gif") -> None:
    """Show a batch of videos inline as a grid (a table of looping videos), with optional titles.

    ``codec="gif"`` loops in every viewer and in the exported HTML; ``"h264"`` gives an mp4
    player with controls.
    """
    batch = as_uint8_videos(videos)
    scale = auto_scale(batch.shape[2]) if scale is None else scale
    batch = upscale(batch, scale)
    titles = list(titles) if titles is not None else None
    if titles is not None and len(titles) != len(batch):
        raise ValueError(f"got {len(titles)} titles for {len(batch)} videos; give one title per video")
    columns = columns or min(len(batch), 8)
    mediapy.show_videos(list(batch), titles=titles, fps=fps, columns=columns, codec=codec)


def show_video(video, title: str | None = None, fps: float = 8, scale: int | None = None, codec: str = "gif") -> None:
    """One video (T, 3, H, W) in [-1, 1] or uint8 (T, H, W, 3)."""
    show_videos([video], titles=None if title is None else [title], fps=fps, scale=scale, codec=codec)


# ----------------------------------------------------------------------------------------
# Images and curves (matplotlib)


def image_grid(images, columns: int | None = None, pad: int = 2, scale: int = 1) -> np.ndarray:
    """A batch of images tiled into one uint8 (H', W', 3) image."""
    return tile(upscale(as_uint8_images(images), scale), columns, pad)


def show_images(images, titles=None, columns: int | None = None, size: float = 1.6, suptitle: str | None = None):
    """A batch of images in a matplotlib grid with optional titles; returns the figure."""
    import matplotlib.pyplot as plt

    batch = as_uint8_images(images)
    columns = min(len(batch), columns or 8)
    rows = int(np.ceil(len(batch) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows + (0.4 if suptitle else 0)),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(batch):
            ax.imshow(batch[k], interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[k]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_series(values, names, ax=None, title: str | None = None, xlabel: str = "frame"):
    """Curves over time: ``values`` (T, D) with one name per column (e.g. a clip's motion
    factors), or (N, T, D) for several clips (solid, dashed, dotted, ... per clip)."""
    import matplotlib.pyplot as plt

    values = np.asarray(torch.as_tensor(values).detach().cpu())
    values = values[None] if values.ndim == 2 else values
    if values.shape[-1] != len(names):
        raise ValueError(f"got {len(names)} names for {values.shape[-1]} series; give one name per column")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 2.6))
    styles = ["-", "--", ":", "-."]
    for n, clip in enumerate(values):
        for d, name in enumerate(names):
            ax.plot(clip[:, d], styles[n % len(styles)], color=f"C{d}", label=name if n == 0 else None)
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if title:
        ax.set_title(title)
    return ax


def plot_trajectory(points, frames=None, every: int = 4, labels=("x", "y"), ax=None, title: str | None = None,
                    zoom: float = 0.5):
    """A path through a 2D space (``points`` (T, 2)), coloured by time, with the video's frames
    (T, 3, H, W) in [-1, 1] or uint8 (T, H, W, 3) drawn at every ``every``-th point."""
    import matplotlib.pyplot as plt
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    points = np.asarray(torch.as_tensor(points).detach().cpu(), dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"expected points (T, 2), got {points.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot(points[:, 0], points[:, 1], color="0.7", zorder=1)
    dots = ax.scatter(points[:, 0], points[:, 1], c=np.arange(len(points)), cmap="viridis", s=18, zorder=2)
    plt.colorbar(dots, ax=ax, label="frame")
    if frames is not None:
        images = as_uint8_videos([frames])[0]
        for t in range(0, len(points), every):
            box = AnnotationBbox(OffsetImage(images[t], zoom=zoom), points[t], frameon=True, pad=0.1)
            ax.add_artist(box)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.margins(0.25)
    if title:
        ax.set_title(title)
    return ax


def read_loss_csv(path) -> dict[str, list[float]]:
    """A CSV with a header row (e.g. ``step,loss_d,loss_g``) as {column: values}."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"loss file {path} has no rows; was training run?")
    return {key: [float(r[key]) if r[key] not in ("", None) else np.nan for r in rows] for key in rows[0]}


def plot_losses(losses, x: str = "step", smooth: int = 1, ax=None, title: str = "training losses"):
    """Loss curves from a dict {name: values} or a CSV path; column ``x`` (if present) is the
    x-axis. ``smooth`` > 1 adds a running mean over that many points."""
    import matplotlib.pyplot as plt

    data = read_loss_csv(losses) if isinstance(losses, (str, Path)) else {k: list(v) for k, v in losses.items()}
    steps = np.asarray(data.pop(x)) if x in data else None
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    for k, (name, values) in enumerate(data.items()):
        values = np.asarray(values, dtype=float)
        xs = steps if steps is not None else np.arange(len(values))
        if smooth > 1 and len(values) >= smooth:
            ax.plot(xs, values, color=f"C{k}", alpha=0.25)
            kernel = np.ones(smooth) / smooth
            ax.plot(xs[smooth - 1:], np.convolve(values, kernel, mode="valid"), color=f"C{k}", label=name)
        else:
            ax.plot(xs, values, color=f"C{k}", label=name)
    ax.set_xlabel(x if steps is not None else "record")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def train_with_live_plot(trainer, steps: int, columns, redraws: int = 20) -> list[dict]:
    """Run ``trainer.train_step()`` until ``trainer.step == steps``, redrawing the loss curves
    of ``columns`` (keys of the step's logs) about ``redraws`` times in the notebook's output.
    Returns one row per iteration: {"step", **logs}."""
    import matplotlib.pyplot as plt
    from IPython.display import clear_output, display

    history = []
    fig, ax = plt.subplots(figsize=(7, 3))
    while trainer.step < steps:
        history.append({"step": trainer.step + 1, **trainer.train_step()})
        if trainer.step % max(1, steps // redraws) == 0 or trainer.step == steps:
            ax.clear()
            plot_losses({k: [h[k] for h in history] for k in ("step", *columns)}, ax=ax,
                        smooth=5 if len(history) > 10 else 1)
            clear_output(wait=True)
            display(fig)
    plt.close(fig)
    return history


def plot_probe(result: dict, axes=None):
    """A discriminator probe (``mocohd.lab.discriminator_probe.probe``) as bars: for the
    3D D and the image D, each motion factor's effect (score of the clip as drawn minus the
    same clip with the factor held at rest, ±2 standard errors) beside the real - fake gap."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8, 2.8), sharey=True)
    factors = list(result["factors"])
    for ax, (key, name) in zip(axes, (("video", "3D D"), ("image", "image D"))):
        effects = [result["factors"][f][key] for f in factors]
        ax.bar(range(len(factors)), [e for e, _ in effects], yerr=[2 * s for _, s in effects], color="C0",
               capsize=3, label="as drawn - held at rest")
        ax.axhline(result["real_minus_fake"][key], color="C3", ls="--", label="real - fake")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xticks(range(len(factors)), factors, fontsize=8)
        ax.set_title(f"{name} (step {result['step']})")
    axes[0].set_ylabel("mean score difference")
    axes[0].legend(fontsize=7)
    return axes


# ----------------------------------------------------------------------------------------
# Widgets (interactive in JupyterLab; a static snapshot in exported HTML)


class Explorer:
    """Sliders that leave a picture behind: in Jupyter the live widget; wherever no kernel is
    running (the tour's HTML, the book) a static snapshot of its starting state, with a note.

    Both travel in one output: the widget's mime type, which a widget-aware frontend shows, and
    ``text/html``, the snapshot, which static renderers show instead. Attributes not defined
    here (``children``, ``kwargs``, ...) are the widget's."""

    def __init__(self, widget, snapshot_html: str):
        self.widget, self.snapshot_html = widget, snapshot_html

    def __getattr__(self, name):
        return getattr(self.__dict__["widget"], name)

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = dict(self.widget._repr_mimebundle_())
        bundle["text/html"] = self.snapshot_html
        bundle["text/plain"] = "an explorer with sliders: run this notebook in Jupyter to use it"
        return bundle


def outputs_html(outputs: list[dict]) -> str:
    """Rich outputs (mime type -> data, as IPython captures them) as one HTML fragment:
    each output's HTML if it has one, else its PNG as an image, else its text."""
    import base64
    import html

    parts = []
    for data in outputs:
        if "text/html" in data:
            parts.append(data["text/html"])
        elif "image/png" in data:
            png = data["image/png"]
            png = png if isinstance(png, str) else base64.b64encode(png).decode()
            parts.append(f'<img src="data:image/png;base64,{png}" alt="explorer snapshot"/>')
        elif "text/plain" in data:
            parts.append(f"<pre>{html.escape(data['text/plain'])}</pre>")
    return "\n".join(parts)


def snapshot_note(values: dict) -> str:
    """The note under a static snapshot: what the sliders were set to, and where they move."""
    setting = ", ".join(f"{name} = {value:g}" if isinstance(value, (int, float)) else f"{name} = {value}"
                        for name, value in values.items())
    return (f'<p class="explorer-note"><em>A static snapshot of the explorer at its starting values ({setting}). '
            "Run this notebook in Jupyter to drag the sliders.</em></p>")


def snapshot(render, values: dict) -> str:
    """``render(**values)``, its displayed outputs captured (in IPython) and turned into HTML,
    followed by :func:`snapshot_note`."""
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        render(**values)
    parts = [outputs_html([output.data for output in captured.outputs])]
    if captured.stdout:
        import html

        parts.append(f"<pre>{html.escape(captured.stdout)}</pre>")
    return "\n".join(parts + [snapshot_note(values)])


def slider_explorer(render, **sliders) -> Explorer:
    """An interactive explorer: ``render(**values)`` is called whenever a slider moves.

    Each slider is given as ``name=(low, high, step, value)`` (floats or ints)::

        slider_explorer(lambda yaw, mouth: show_images(draw(yaw, mouth)), yaw=(-1, 1, 0.1, 0), mouth=(0, 1, 0.1, 0))

    Returns an :class:`Explorer`: the live sliders in Jupyter, and in exported HTML a snapshot
    of ``render`` at the starting values (so ``render`` runs once more, to draw it).
    """
    import ipywidgets as widgets

    controls = {}
    for name, (low, high, step, value) in sliders.items():
        kind = widgets.IntSlider if all(isinstance(v, int) for v in (low, high, step, value)) else widgets.FloatSlider
        controls[name] = kind(min=low, max=high, step=step, value=value, description=name, continuous_update=False,
                              style={"description_width": "initial"})
    values = {name: spec[3] for name, spec in sliders.items()}
    return Explorer(widgets.interactive(render, **controls), snapshot(render, values))


# ----------------------------------------------------------------------------------------
# Motion explorers: one content z, one motion noise, one residual scale


def motion_state(video_generator, content_seed: int = 0, noise_seed: int = 0, w_residual: float | None = None,
                 n_frames: int = 16) -> dict:
    """One setting of the motion explorers, rendered.

    The content z is drawn from ``content_seed`` (``torch.randn(1, D)``, as notebook 05 draws
    one); the LSTM's noise e_1..e_{T-1}, then StyleGAN's noise maps, from ``noise_seed``; every
    step w_t - w_{t-1} is scaled by ``w_residual`` (lambda; None: the value it was trained with).
    The LSTM's coefficients do not depend on lambda, so the path in sigma units scales with it
    exactly. Returns {"video": (T, 3, H, W) in [-1, 1], "coords": (T, n_pca) = (w_t - w_0) on
    each principal direction / sigma, "w_residual": lambda}."""
    from mocohd.motion import pca_coordinates

    motion = video_generator.motion
    trained = motion.w_residual
    lam = trained if w_residual is None else float(w_residual)
    if not lam >= 0:
        raise ValueError(f"w_residual (lambda) must be >= 0, got {w_residual!r}; the trained value is {trained}")
    z = torch.randn(1, video_generator.image_generator.style_dim,
                    generator=torch.Generator().manual_seed(int(content_seed)))  # (1, D)
    motion.w_residual = lam
    try:
        with torch.no_grad():
            out = video_generator(z, n_frames, generator=torch.Generator().manual_seed(int(noise_seed)))
    finally:
        motion.w_residual = trained
    coords = pca_coordinates(motion, out["w"].float())[0]  # (T, n_pca)
    return {"video": out["video"][0].float().clamp(-1, 1), "coords": coords, "w_residual": lam}


def plot_motion_states(states: dict[str, dict], pcs: tuple[int, int] = (0, 1), every: int = 5):
    """One explorer setting as a figure: each state's path on two principal directions of its
    W (in sigma units from w_0), coloured by frame, with its frames drawn along it."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(states), figsize=(4.6 * len(states), 3.6), squeeze=False)
    limit = max(float(s["coords"][:, list(pcs)].abs().max()) for s in states.values())
    for ax, (name, state) in zip(axes[0], states.items()):
        plot_trajectory(state["coords"][:, list(pcs)], state["video"], every=every, ax=ax, zoom=0.4,
                        labels=(f"PC{pcs[0] + 1} / σ", f"PC{pcs[1] + 1} / σ"),
                        title=f"{name}, λ = {state['w_residual']:g}")
        ax.set_xlim(-1.3 * limit - 1e-3, 1.3 * limit + 1e-3)  # the same scale for every state
        ax.set_ylim(-1.3 * limit - 1e-3, 1.3 * limit + 1e-3)
    fig.tight_layout()
    return fig


def show_motion_states(states: dict[str, dict], fps: float = 8) -> None:
    """What the motion explorers draw for one setting: the videos side by side, then their paths."""
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    show_videos([s["video"] for s in states.values()], titles=list(states), fps=fps)
    fig = plot_motion_states(states)
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=80)  # a PNG whatever matplotlib backend is active
    plt.close(fig)
    display(Image(data=png.getvalue(), format="png"))


def cross_domain_explorer(video_generators: dict, content_seed: int = 0, noise_seed: int = 0,
                          w_residual: float | None = None, n_frames: int = 16, max_seed: int = 31,
                          max_residual: float = 0.6) -> Explorer:
    """Sliders for the content seed, the motion-noise seed and lambda over one or more video
    generators at once (``{"faces": vg_faces, "animals": vg_animals}``): each is given the same
    seeds, so the same motion noise drives each of them. Shows the videos and their paths in W."""
    if not video_generators:
        raise ValueError("give at least one video generator: {name: VideoGenerator}")
    first = next(iter(video_generators.values()))
    lam = first.motion.w_residual if w_residual is None else float(w_residual)
    step = max(round(max_residual / 24, 3), 0.005)

    def render(content_seed, noise_seed, **lam):  # the slider is named λ
        show_motion_states({name: motion_state(vg, content_seed, noise_seed, lam["λ"], n_frames)
                            for name, vg in video_generators.items()})

    return slider_explorer(render, content_seed=(0, max_seed, 1, int(content_seed)),
                           noise_seed=(0, max_seed, 1, int(noise_seed)),
                           **{"λ": (0.0, float(max_residual), step, lam)})


def motion_explorer(video_generator, content_seed: int = 0, noise_seed: int = 0, w_residual: float | None = None,
                    n_frames: int = 16, **kwargs) -> Explorer:
    """Pick a content z, drag the motion-noise seed and lambda, see the video and its path in W."""
    return cross_domain_explorer({"video": video_generator}, content_seed, noise_seed, w_residual, n_frames, **kwargs)


def frame_scrubber(video, scale: int | None = None):
    """A slider over the frames of one video, showing the chosen frame (for looking closely)."""
    import ipywidgets as widgets

    frames = as_uint8_videos([video])[0]
    frames = upscale(frames, auto_scale(frames.shape[1]) if scale is None else scale)
    image = widgets.Image(format="png")
    slider = widgets.IntSlider(min=0, max=len(frames) - 1, value=0, description="frame")

    def update(change=None):
        image.value = mediapy.compress_image(frames[slider.value], fmt="png")

    slider.observe(update, names="value")
    update()
    return widgets.VBox([slider, image])
