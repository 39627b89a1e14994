import pytest
import torch

from mocohd.convert import (infer_generator_kwargs, load_rosinality_generator, rosinality_key_shapes)
from mocohd.image_generator import Generator


def fake_rosinality_file(path, size, style_dim=512, n_mlp=8, channel_multiplier=2, prefix=""):
    g = torch.Generator().manual_seed(0)
    sd = {prefix + k: torch.randn(s, generator=g) for k, s in rosinality_key_shapes(size, style_dim, n_mlp, channel_multiplier).items()}
    torch.save({"g_ema": sd, "g": {}, "d": {}, "latent_avg": torch.zeros(style_dim)}, path)
    return sd


@pytest.mark.parametrize("size,cm", [(64, 1), (64, 2), (256, 2)])
def test_documented_layout_matches_mocohd_generator(size, cm):
    shapes = rosinality_key_shapes(size, 512, 8, cm)
    ours = {k: tuple(v.shape) for k, v in Generator(size, 512, 8, cm).state_dict().items()}
    assert ours == shapes


def test_load_writes_every_tensor_and_infers_architecture(tmp_path):
    path = tmp_path / "ffhq-64.pt"
    sd = fake_rosinality_file(path, 64, style_dim=512, n_mlp=8, channel_multiplier=1)
    assert infer_generator_kwargs(sd) == dict(size=64, style_dim=512, n_mlp=8, channel_multiplier=1)
    g = load_rosinality_generator(path)
    loaded = g.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in sd.items())
    assert not any(p.requires_grad for p in g.parameters())
    img, _ = g([torch.randn(1, 512)], randomize_noise=False)
    assert img.shape == (1, 3, 64, 64) and torch.isfinite(img).all()


def test_module_prefix_is_stripped(tmp_path):
    path = tmp_path / "ddp.pt"
    fake_rosinality_file(path, 32, style_dim=64, n_mlp=2, prefix="module.")
    assert load_rosinality_generator(path).size == 32


def test_mismatch_lists_every_problem_in_one_error(tmp_path):
    path = tmp_path / "bad.pt"
    sd = fake_rosinality_file(path, 32, style_dim=64, n_mlp=2)
    del sd["conv1.noise.weight"]
    sd["extra.weight"] = torch.zeros(1)
    sd["to_rgb1.bias"] = torch.zeros(1, 4, 1, 1)
    torch.save({"g_ema": sd}, path)
    with pytest.raises(ValueError) as err:
        load_rosinality_generator(path)
    text = str(err.value)
    assert "conv1.noise.weight" in text and "extra.weight" in text and "to_rgb1.bias" in text
    assert "missing (1)" in text and "unexpected (1)" in text and "mis-shaped (1)" in text


def test_missing_file_and_wrong_content(tmp_path):
    with pytest.raises(FileNotFoundError, match="no StyleGAN2 checkpoint"):
        load_rosinality_generator(tmp_path / "nope.pt")
    torch.save({"g_ema": {"weird": torch.zeros(1)}}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="not a rosinality"):
        load_rosinality_generator(tmp_path / "x.pt")


def rosinality_training_file(path, size, channel_multiplier, args_multiplier=None, style_dim=64, n_mlp=2):
    """A file as rosinality's train.py writes it: g_ema beside the script's argparse.Namespace."""
    import argparse

    sd = fake_rosinality_file(path, size, style_dim, n_mlp, channel_multiplier)
    args = argparse.Namespace(size=size, latent=style_dim, n_mlp=n_mlp, r1=10, batch=16,
                              channel_multiplier=channel_multiplier if args_multiplier is None else args_multiplier)
    torch.save({"g_ema": sd, "g": {}, "d": {}, "args": args}, path)
    return sd


def test_a_training_checkpoint_with_args_loads_and_its_args_are_believed(tmp_path):
    from mocohd.convert import generator_kwargs

    path = tmp_path / "stylegan2-32.pt"
    sd = rosinality_training_file(path, 32, channel_multiplier=1)
    # below 64 px every layer is 512 wide: the shapes alone cannot tell the multiplier (they guess 2)
    assert infer_generator_kwargs(sd)["channel_multiplier"] == 2
    g = load_rosinality_generator(path)  # the pickled Namespace is read under weights_only
    assert g.size == 32
    ckpt = torch.load(path, weights_only=False)
    assert generator_kwargs(sd, ckpt["args"]) == dict(size=32, style_dim=64, n_mlp=2, channel_multiplier=1)
    assert generator_kwargs(sd, vars(ckpt["args"]))["channel_multiplier"] == 1  # args as a plain dict too


def test_args_that_contradict_the_weights_are_refused(tmp_path):
    path = tmp_path / "mixed-64.pt"
    rosinality_training_file(path, 64, channel_multiplier=2, args_multiplier=1)
    with pytest.raises(ValueError, match="channel_multiplier: args say 1, the tensors' shapes say 2"):
        load_rosinality_generator(path)
    assert load_rosinality_generator(path, channel_multiplier=2).size == 64  # the user may override


def test_a_checkpoint_with_a_pickled_program_is_still_refused(tmp_path):
    import os

    class Payload:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "ran"),))

    torch.save({"g_ema": {}, "args": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="it names posix.system.*mocohd refuses to unpickle"):
        load_rosinality_generator(tmp_path / "evil.pt")
    assert not (tmp_path / "ran").exists()
