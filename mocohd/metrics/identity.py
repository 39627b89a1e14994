"""An identity encoder for the toy world: the embedding behind ACD on toy faces and animals.

MoCoGAN measured ACD on faces with OpenFace, a network trained to embed a person's identity
so that two photos of one person land close and photos of two people land far apart. The
toy world knows every clip's identity exactly (face shape, skin, hair, eyes, background),
and ``ToyFeatureNet`` was trained to read each of those identity factors off a single frame
(``data/checkpoints/toy_features.json`` lists its held-out R^2 per factor). Its identity
predictions, standardized so that every factor counts alike, are the identity embedding:
two frames of one toy face are close, and a change of hair or skin moves the embedding by
about one unit per factor.

For real faces, pass ACD any embedder of your own (an OpenFace or ArcFace network loaded
from a local path): :func:`mocohd.metrics.acd.acd_embedding` takes any callable.
"""

from __future__ import annotations

import torch

from mocohd.metrics.toy_features import ToyFeatureNet, feature_domain, load_toy_feature_net


class ToyIdentityEncoder:
    """Frames ``(M, 3, H, W)`` in [-1, 1] -> standardized identity factors ``(M, K)`` of one domain.

    It has the :class:`~mocohd.metrics.protocol.FeatureNetwork` attributes, so
    ``acd_embedding(videos, encoder)`` records it in the protocol line."""

    def __init__(self, domain: str, net: ToyFeatureNet | None = None):
        self.domain = feature_domain(domain)  # variants are read by their base domain's head
        self.net = net if net is not None else load_toy_feature_net()
        names = self.net.config["factors"][self.domain]
        self.columns = [i for i, name in enumerate(names) if name.startswith("identity:")]
        if not self.columns:
            raise ValueError(f"the toy feature network reads no identity factor of {self.domain!r}")
        self.factor_names = [names[i].removeprefix("identity:") for i in self.columns]
        self.mean = torch.tensor(self.net.config["factor_mean"][self.domain])[self.columns]
        self.std = torch.tensor(self.net.config["factor_std"][self.domain])[self.columns]
        self.name = f"ToyFeatureNet identity factors ({self.domain}, {len(self.columns)}-d, standardized)"
        self.weights_sha256 = self.net.weights_sha256
        self.input_size = self.net.input_size

    def features(self, frames: torch.Tensor) -> torch.Tensor:
        factors = self.net.predict(frames)[f"{self.domain}_factors"][:, self.columns]  # toy-world units
        return (factors - self.mean) / self.std
