"""PCA of the image generator's W space, as the official ``get_stats_pca.py`` computes it.

The motion generator moves a video's latent along these directions: each residual step is
a combination of the top principal directions of W, each scaled by its standard deviation,
so a step of size one along axis k is "one typical spread of W" along it. Only the
directions and standard deviations are used; the mean is stored but never subtracted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import IncrementalPCA

from .checkpoint import load_checkpoint, numpy_load, save_checkpoint

FORMAT = "mocohd.w_pca"


@torch.no_grad()
def fit_w_pca(generator, n_samples: int = 100_000, batch: int = 4000, n_components: int | None = None,
              seed: int = 0) -> dict:
    """Map ``n_samples`` z ~ N(0, I) through the mapping network and fit IncrementalPCA.

    The official script uses 250 batches of 4,000 (1M samples) and 512 components; the
    CPU default here is 100k samples, which already pins the top directions of a small W.
    Returns torch tensors: ``comp`` (K, D) rows = unit directions sorted by variance,
    ``stdev`` (K,), ``var_ratio`` (K,), ``mean`` (D,), ``var`` (D,).
    """
    dim = generator.style_dim
    k = n_components or dim
    if n_samples < k or batch < k:
        raise ValueError(f"IncrementalPCA needs n_samples and batch >= n_components ({k}); "
                         f"got n_samples={n_samples}, batch={batch}")
    pca = IncrementalPCA(n_components=k, whiten=False, batch_size=batch)
    g = torch.Generator().manual_seed(seed)
    device = next(generator.parameters()).device  # z from the CPU's seeded stream, mapped where G is
    ws = []
    for start in range(0, n_samples, batch):
        z = torch.randn(min(batch, n_samples - start), dim, generator=g)
        with torch.no_grad():
            w = generator.get_latent(z.to(device)).double().cpu().numpy()
        if len(w) >= k:  # IncrementalPCA refuses a batch smaller than n_components
            pca.partial_fit(w)
        ws.append(w)
    all_w = np.concatenate(ws)
    return {
        "comp": torch.from_numpy(pca.components_).float(),
        "stdev": torch.from_numpy(np.sqrt(pca.explained_variance_)).float(),
        "var_ratio": torch.from_numpy(pca.explained_variance_ratio_).float(),
        "mean": torch.from_numpy(all_w.mean(0)).float(),
        "var": torch.from_numpy(all_w.var(0)).float(),
    }


def pca_path_for(generator_path: str | Path) -> Path:
    """Where the PCA of a generator file lives: ``faces_64.pt`` -> ``faces_64.pca.pt`` beside it."""
    p = Path(generator_path)
    return p.with_name(p.name.removesuffix(".pt") + ".pca.pt")


def save_w_pca(stats: dict, path: str | Path, provenance: dict | None = None) -> Path:
    return save_checkpoint(path, {"format": FORMAT, "version": 1, "stats": stats, "provenance": provenance or {}})


def load_w_pca(path: str | Path) -> dict:
    """A mocohd PCA file (``*.pca.pt``) or an official ``pca_stats/`` folder of .npy files."""
    path = Path(path)
    if path.is_dir():
        return load_official_pca(path)
    return load_checkpoint(path, FORMAT)["stats"]


def load_official_pca(folder: str | Path) -> dict:
    """The official ``pca_stats/<name>/`` layout: pca_comp.npy, pca_stdev.npy (required),
    pca_var_ratio.npy, style_mean.npy, style_var.npy (optional)."""
    folder = Path(folder)
    names = {"comp": "pca_comp.npy", "stdev": "pca_stdev.npy", "var_ratio": "pca_var_ratio.npy",
             "mean": "style_mean.npy", "var": "style_var.npy"}
    missing = [f for key, f in names.items() if key in ("comp", "stdev") and not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}: an official PCA folder holds pca_comp.npy "
                                "and pca_stdev.npy (made by get_stats_pca.py); or compute one with mocohd.pca.fit_w_pca")
    stats = {}
    for key, f in names.items():
        if (folder / f).is_file():
            arr = np.asarray(numpy_load(folder / f)).astype(np.float32)  # refuses object arrays
            stats[key] = torch.from_numpy(arr if key == "comp" else arr.reshape(-1))
    return stats
