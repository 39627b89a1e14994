"""Load released StyleGAN2 generators (rosinality's ``.pt`` format) into mocohd.

MoCoGAN-HD reads only the ``g_ema`` entry of such a file: the FFHQ, AFHQ-dog, UCF-101,
FaceForensics and Sky time-lapse generators its authors released are all in this format
(NVIDIA's ``.pkl`` files must first go through rosinality's ``convert_weight.py``). Since
mocohd's modules use rosinality's attribute names, the state dict maps key for key. The
architecture (size, style_dim, n_mlp, channel_multiplier) is read from the file's own ``args``
(the training script's command line, which rosinality's checkpoints carry) where it has them,
and checked against the tensors' shapes; a bare state dict is sized from its shapes alone.
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import torch

from .checkpoint import read_torch_file
from .image_generator import Generator
from .state_dicts import mismatch_lines, shapes_of, strip_prefix


def infer_generator_kwargs(sd: dict) -> dict:
    """size, style_dim, n_mlp and channel_multiplier of a rosinality ``g_ema`` state dict."""
    try:
        style_dim = sd["style.1.weight"].shape[1]
    except KeyError:
        raise ValueError("no 'style.1.weight' key: this is not a rosinality StyleGAN2 generator state dict "
                         "(MoCoGAN-HD reads ckpt['g_ema'])") from None
    n_mlp = len({m.group(1) for k in sd if (m := re.match(r"style\.(\d+)\.weight$", k))})
    n_rgb = len({m.group(1) for k in sd if (m := re.match(r"to_rgbs\.(\d+)\.bias$", k))})
    if n_rgb == 0:
        raise ValueError("no 'to_rgbs.N.bias' keys, from which the image size is read: this rosinality g_ema is "
                         "incomplete (a partial or edited file); get the whole checkpoint again")
    size = 2 ** (n_rgb + 2)
    channel_multiplier = 2
    if size >= 64:  # 64 px layers have 256 * channel_multiplier maps: convs.6 is the first at 64
        if "convs.6.conv.weight" not in sd:
            raise ValueError(f"no 'convs.6.conv.weight' key, although the to_rgbs say a {size} px generator: this "
                             "rosinality g_ema is incomplete (a partial or edited file); get the whole checkpoint "
                             "again")
        channel_multiplier = max(1, sd["convs.6.conv.weight"].shape[1] // 256)
    return dict(size=size, style_dim=style_dim, n_mlp=n_mlp, channel_multiplier=channel_multiplier)


ARGS_NAMES = {"size": "size", "latent": "style_dim", "n_mlp": "n_mlp", "channel_multiplier": "channel_multiplier"}


def recorded_generator_kwargs(args) -> dict:
    """The architecture a rosinality checkpoint's ``args`` (an ``argparse.Namespace`` or a dict)
    records, in mocohd's names; {} when there are none."""
    if args is None:
        return {}
    values = vars(args) if isinstance(args, argparse.Namespace) else args
    if not isinstance(values, dict):
        raise ValueError(f"the checkpoint's 'args' is a {type(args).__name__}, not the training script's "
                         "argparse.Namespace or a dict: it is not a rosinality StyleGAN2 checkpoint")
    return {ours: int(values[theirs]) for theirs, ours in ARGS_NAMES.items() if values.get(theirs) is not None}


def generator_kwargs(sd: dict, args=None, check: bool = True) -> dict:
    """The architecture of a rosinality ``g_ema``: the file's ``args`` where it records them
    (the shapes cannot tell the channel multiplier below 64 px, where every layer is 512
    wide), each checked against what the shapes show unless ``check`` is False (the caller
    overrides the architecture itself)."""
    from_shapes = infer_generator_kwargs(sd)
    recorded = recorded_generator_kwargs(args)
    # the shapes decide everything but a multiplier they cannot see (a generator under 64 px)
    checkable = [k for k in recorded if k != "channel_multiplier" or from_shapes["size"] >= 64]
    disagree = [f"{k}: args say {recorded[k]}, the tensors' shapes say {from_shapes[k]}"
                for k in checkable if recorded[k] != from_shapes[k]]
    if disagree and check:
        raise ValueError("the checkpoint's args disagree with its g_ema weights (" + "; ".join(disagree) + "): "
                         "the file may have been edited or mixed from two runs; pass the architecture "
                         "explicitly (load_rosinality_generator(path, size=..., channel_multiplier=...)) "
                         "if you know it")
    return {**from_shapes, **recorded}


def check_state_dict(model: torch.nn.Module, sd: dict, what: str = "checkpoint") -> None:
    """Raise ONE error listing every missing, unexpected and mis-shaped key."""
    problems = mismatch_lines(shapes_of(model), sd)
    if problems:
        lines = [f"{what} does not match {type(model).__name__}:", *problems]
        lines.append("  check the architecture arguments (size, style_dim, n_mlp, channel_multiplier) "
                     "or that the file holds a rosinality-format 'g_ema'")
        raise ValueError("\n".join(lines))


def load_rosinality_generator(source: str | Path | dict, **overrides) -> Generator:
    """A frozen mocohd Generator from a rosinality checkpoint path, its dict, or a ``g_ema``
    state dict. Architecture arguments are inferred; ``overrides`` force any of them."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no StyleGAN2 checkpoint at {path}; download the released generator "
                                    "(see README, 'Bring real checkpoints') and pass its local path")
        source = read_torch_file(path, "rosinality StyleGAN2 checkpoint")
    sd = source.get("g_ema", source) if isinstance(source, dict) else source
    if not isinstance(sd, dict) or not all(torch.is_tensor(v) for v in sd.values()):
        raise ValueError("expected a rosinality checkpoint dict with a 'g_ema' state dict of tensors")
    sd = strip_prefix(sd)
    args = source.get("args") if "g_ema" in source else None
    kwargs = {**generator_kwargs(sd, args, check=not overrides), **overrides}
    g = Generator(**kwargs)
    check_state_dict(g, sd, "rosinality g_ema")
    g.load_state_dict(sd)
    return g.eval().requires_grad_(False)


def rosinality_key_shapes(size: int, style_dim: int = 512, n_mlp: int = 8, channel_multiplier: int = 2) -> dict:
    """The keys and shapes of a rosinality ``g_ema``, written out from its documented layout
    (not from mocohd's modules), so tests can check the two agree."""
    ch = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * channel_multiplier, 128: 128 * channel_multiplier,
          256: 64 * channel_multiplier, 512: 32 * channel_multiplier, 1024: 16 * channel_multiplier}
    shapes = {}
    for i in range(1, n_mlp + 1):
        shapes[f"style.{i}.weight"], shapes[f"style.{i}.bias"] = (style_dim, style_dim), (style_dim,)
    shapes["input.input"] = (1, ch[4], 4, 4)

    def styled(name, cin, cout, k, up=False, act=True):
        shapes[f"{name}.conv.weight"] = (1, cout, cin, k, k)
        shapes[f"{name}.conv.modulation.weight"] = (cin, style_dim)
        shapes[f"{name}.conv.modulation.bias"] = (cin,)
        if up:
            shapes[f"{name}.conv.blur.kernel"] = (4, 4)
        if act:
            shapes[f"{name}.noise.weight"] = (1,)
            shapes[f"{name}.activate.bias"] = (cout,)

    styled("conv1", ch[4], ch[4], 3)
    styled("to_rgb1", ch[4], 3, 1, act=False)
    shapes["to_rgb1.bias"] = (1, 3, 1, 1)
    log_size = int(math.log2(size))
    cin = ch[4]
    for j, i in enumerate(range(3, log_size + 1)):
        cout = ch[2**i]
        styled(f"convs.{2 * j}", cin, cout, 3, up=True)
        styled(f"convs.{2 * j + 1}", cout, cout, 3)
        styled(f"to_rgbs.{j}", cout, 3, 1, act=False)
        shapes[f"to_rgbs.{j}.bias"] = (1, 3, 1, 1)
        shapes[f"to_rgbs.{j}.upsample.kernel"] = (4, 4)
        cin = cout
    for n in range((log_size - 2) * 2 + 1):
        res = 2 ** ((n + 5) // 2)
        shapes[f"noises.noise_{n}"] = (1, 1, res, res)
    return shapes
