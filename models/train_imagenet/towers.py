"""The two towers as exported: a locked image tower and the text tower trained to meet it.

Image tower (nothing in it is trained here): EfficientNet-Lite0 with the package's weights, and a
fixed head that turns its outputs into one unit vector of three parts:

* layout (``LAYOUT_WEIGHT`` of the squared length): the photo averaged down to 8x8 per colour
  channel, each channel's mean removed. Resized, recompressed and re-encoded copies keep it
  (cosine above 0.99 in our measurements), different photos rarely share it: that is what keeps
  near-duplicates together at the app's threshold.
* appearance (``APPEARANCE_WEIGHT``): the 1,280 pooled features, centred on their expected value
  under ImageNet's statistics (read from the head's batch norm, so no photos are needed) and
  projected to 128 dimensions by a fixed random rotation (seeded).
* concepts (``CONCEPT_WEIGHT``): ``w_n * sqrt(P(n))`` for every node of the concept space
  (space.py). Texts live here only.

The image is low-pass filtered (a 5x5 Gaussian, sigma ``BLUR_SIGMA`` pixels) before the network:
without it a JPEG or WebP re-encode moved the classifier's probabilities enough to push one copy
in six below a cosine of 0.95 with its original; with it none fell below 0.96, at the cost of
about one point of search precision on the real-photo corpus.

Text tower: a causal transformer like CLIP's, read at the end token, projected onto the concept
axes; the other parts of its output are zeros, so a text matches photos by concepts alone. It is
trained on what each axis contributes to a photo's score (``u``, the embedding times the axes'
weights) and exports ``u / w``: trained on the embedding itself, a small leak onto a class axis
(weight up to 0.9) outweighed the family axis it was meant for (weight 0.17), and "primate"
found monasteries.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from effnet import EfficientNetLite0, HEAD, IMAGE_SIZE

LAYOUT_GRID = 8
LAYOUT_DIM = 3 * LAYOUT_GRID * LAYOUT_GRID
APPEARANCE_DIM = 128
LAYOUT_WEIGHT, APPEARANCE_WEIGHT, CONCEPT_WEIGHT = 0.3, 0.2, 0.5
BLUR_SIGMA = 0.8
#: Dimensions before the concept axes (text embeddings are zero there).
PREFIX_DIM = LAYOUT_DIM + APPEARANCE_DIM


def gaussian_kernel(sigma: float, radius: int = 2) -> torch.Tensor:
    r = np.arange(-radius, radius + 1)
    k = np.exp(-(r ** 2) / (2 * sigma * sigma))
    k2 = np.outer(k, k) / np.outer(k, k).sum()
    return torch.tensor(k2, dtype=torch.float32).expand(3, 1, 2 * radius + 1, 2 * radius + 1).contiguous()


def expected_features(net: EfficientNetLite0) -> torch.Tensor:
    """E[pooled features] under the statistics the network was trained with: the head's batch
    norm makes each channel about N(beta, gamma^2) before ReLU6, whose mean is closed-form."""
    from statistics import NormalDist

    nd = NormalDist()
    beta = net._bn1.bias.detach().double().numpy()
    gamma = np.abs(net._bn1.weight.detach().double().numpy())
    out = []
    for m, s in zip(beta, gamma):
        a, z = -m / s, (6 - m) / s
        out.append(s * (nd.pdf(a) - nd.pdf(z)) + m * (nd.cdf(z) - nd.cdf(a)) + 6 * (1 - nd.cdf(z)))
    return torch.tensor(out, dtype=torch.float32)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / torch.sqrt((x * x).sum(dim=1, keepdim=True) + 1e-12)


class ImageTower(nn.Module):
    def __init__(self, net: EfficientNetLite0, membership: np.ndarray, weight: np.ndarray, seed: int):
        super().__init__()
        self.net = net
        g = torch.Generator().manual_seed(seed)
        rotation, _ = torch.linalg.qr(torch.randn(HEAD, HEAD, generator=g))
        self.register_buffer("blur", gaussian_kernel(BLUR_SIGMA))
        self.register_buffer("mean", expected_features(net))
        self.register_buffer("projection", rotation[:, :APPEARANCE_DIM].contiguous())
        self.register_buffer("membership", torch.from_numpy(membership))  # bool: small in the ONNX file
        self.register_buffer("weight", torch.from_numpy(weight.astype(np.float32)))

    def parts(self, image):
        pool = IMAGE_SIZE // LAYOUT_GRID
        layout = F.avg_pool2d(image, pool)
        layout = (layout - layout.mean(dim=(2, 3), keepdim=True)).flatten(1)
        x = F.conv2d(F.pad(image, (2, 2, 2, 2), mode="replicate"), self.blur, groups=3)
        feats = self.net.features(x)
        p = torch.softmax(self.net._fc(feats), dim=1)
        nodes = torch.cat([p, p @ self.membership.to(p.dtype)], dim=1)
        concepts = torch.sqrt(torch.clamp(nodes, min=0.0)) * self.weight
        appearance = (feats - self.mean) @ self.projection
        return _unit(layout), _unit(appearance), concepts, p

    def forward(self, image):
        layout, appearance, concepts, _ = self.parts(image)
        return torch.cat([math.sqrt(LAYOUT_WEIGHT) * layout, math.sqrt(APPEARANCE_WEIGHT) * appearance,
                          math.sqrt(CONCEPT_WEIGHT) * concepts], dim=1)


class Block(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, mask):
        n, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).reshape(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(d // self.heads)) + mask
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(n, t, d)
        x = x + self.out(y)
        return x + self.mlp(self.ln2(x))


class TextTower(nn.Module):
    """Causal transformer; the embedding is read at the end token and projected onto the concepts."""

    def __init__(self, vocab: int, eot_id: int, context: int, width: int, layers: int, heads: int, weight: np.ndarray):
        super().__init__()
        concepts = len(weight)
        self.eot_id = eot_id
        self.register_buffer("weight", torch.from_numpy(weight.astype(np.float32)))
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Parameter(torch.randn(context, width) * 0.01)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])
        self.ln = nn.LayerNorm(width)
        self.proj = nn.Linear(width, concepts, bias=False)
        self.register_buffer("mask", torch.full((context, context), float("-inf")).triu(1), persistent=False)

    def concepts(self, text):
        t = text.shape[1]
        x = self.tok(text.long()) + self.pos[:t]
        for blk in self.blocks:
            x = blk(x, self.mask[:t, :t])
        x = self.ln(x)
        end = (text == self.eot_id).to(torch.float32).argmax(dim=1)
        return self.proj(x[torch.arange(x.shape[0]), end])

    def forward(self, text):
        # The tower speaks in contributions (u: what each axis adds to a photo's score, per unit of
        # sqrt(P)); the embedding is u / w, so that its cosine with a photo is sum_n u_n sqrt(P_n).
        return F.pad(self.concepts(text) / self.weight, (PREFIX_DIM, 0))
