"""Checking a state dict against a module before loading it, for files from other code.

Loading released checkpoints (rosinality generators, official motion generators and
discriminators) fails in the same three ways: keys missing, keys unexpected, tensors of the
wrong shape. One report lists all three at once, so a user sees every problem in one go."""

from __future__ import annotations


def strip_prefix(state_dict: dict, prefix: str = "module.") -> dict:
    """Drop ``prefix`` (DataParallel/DDP's ``module.``) when every key carries it."""
    if state_dict and all(k.startswith(prefix) for k in state_dict):
        return {k[len(prefix):]: v for k, v in state_dict.items()}
    return dict(state_dict)


def mismatch_lines(expected: dict, state_dict: dict) -> list[str]:
    """``expected``: {key: shape}. One line per kind of problem, empty when all fits."""
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    misshaped = sorted(f"{k}: file {tuple(state_dict[k].shape)} vs model {tuple(expected[k])}"
                       for k in set(expected) & set(state_dict) if tuple(state_dict[k].shape) != tuple(expected[k]))
    return [f"  {title} ({len(keys)}): " + ", ".join(keys)
            for title, keys in (("missing", missing), ("unexpected", unexpected), ("mis-shaped", misshaped)) if keys]


def shapes_of(module) -> dict:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}
