"""The files in data/checkpoints/ are what their provenance JSONs say they are."""

import json

import pytest
import torch

from mocohd.params import repo_root, resolve_path
from mocohd.train.checkpoint import sha256

SHIPPED = repo_root() / "data" / "checkpoints"
PROVENANCE = sorted(p for p in SHIPPED.rglob("*.json") if "files" in json.loads(p.read_text()))


def test_there_are_shipped_files():
    assert len(PROVENANCE) >= 8, "data/checkpoints/ lost its provenance files"


@pytest.mark.parametrize("provenance", PROVENANCE, ids=lambda p: str(p.relative_to(SHIPPED)))
def test_sha256_matches_the_provenance(provenance):
    for name, meta in json.loads(provenance.read_text())["files"].items():
        path = provenance.parent / name
        assert path.is_file(), f"{provenance.name} lists {name}, which is missing"
        assert path.stat().st_size == meta["bytes"] and sha256(path) == meta["sha256"], f"{path} changed after shipping"


@pytest.mark.parametrize("motion", sorted(SHIPPED.rglob("*motion*.pt")), ids=lambda p: str(p.relative_to(SHIPPED)))
def test_motion_generators_point_at_a_shipped_image_generator(motion):
    """A motion generator only makes sense over the image generator it was trained with."""
    config = torch.load(motion, map_location="cpu", weights_only=True)["config"]
    assert resolve_path(config["image_generator"]).is_file()
    assert config["image_generator"] == json.loads(motion.with_suffix(".json").read_text())["config"]["image_generator"]
