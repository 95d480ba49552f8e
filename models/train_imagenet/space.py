"""The concept space: ImageNet's 1,000 classes and their WordNet families as coordinate axes.

A *node* is a set of ImageNet classes that some WordNet noun names: each class is a node of its
own (a leaf), and every hypernym with ImageNet classes below it ("dog": 118 breeds; "animal":
398 classes) is a node holding them all. Hypernyms that hold the same classes share a node
("horse" and "equine" both hold only "sorrel").

The image tower's semantic part has one coordinate per node: ``w_n * sqrt(P(n))``, where P(n) is
the classifier's probability that the photo shows one of the node's classes (the sum of its
classes' softmax probabilities). The weights are chosen so that for every class c the squared
weights of the nodes holding c sum to one; then the vector's length is one for every photo
(sum over nodes of w_n^2 P(n) = sum over classes of p_c * 1). A text that names a node is
trained towards that node's axis, so its cosine with a photo is ``w_n * sqrt(P(n))``: photos
rank by how likely they show the named thing, for a breed and for "animal" alike.

Every internal node gets the same squared weight, so that the deepest class still keeps
``1 - INTERNAL_SHARE`` of its length for its own axis; each leaf gets what is left.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wordnet import Synset, ancestors

#: The share of the deepest class's squared length that its ancestors' axes take.
INTERNAL_SHARE = 0.5


@dataclass
class Space:
    classes: list[str]  # the 1,000 ImageNet ids in classifier order
    members: list[tuple[int, ...]]  # node -> class indices; node i < 1000 is class i
    synset_node: dict[str, int]  # every WordNet synset with ImageNet classes below it -> its node
    weight2: np.ndarray  # squared weight of each node

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def weight(self) -> np.ndarray:
        return np.sqrt(self.weight2)

    def membership(self) -> np.ndarray:
        """[1000, internal nodes] bool: which classes each internal node holds."""
        m = np.zeros((len(self.classes), self.size - len(self.classes)), bool)
        for j, cls in enumerate(self.members[len(self.classes):]):
            m[list(cls), j] = True
        return m

    def target(self, nodes) -> np.ndarray:
        """A text's target: the unit vector over its nodes, each scaled by 1/w so that each
        contributes sqrt(P(n)) to a photo's score (a leaf would otherwise drown a family)."""
        t = np.zeros(self.size, np.float32)
        for n in set(nodes):
            t[n] += 1.0 / self.weight[n]
        return t / np.linalg.norm(t)

    def contributions(self, nodes) -> np.ndarray:
        """The text tower's training target: each named axis contributes alike (unit vector over
        the nodes); the embedding it exports is this divided by the weights (see :meth:`target`)."""
        u = np.zeros(self.size, np.float32)
        u[list(set(nodes))] = 1.0
        return u / np.linalg.norm(u)

    def node_probabilities(self, p: np.ndarray) -> np.ndarray:
        """[N, 1000] class probabilities -> [N, nodes] node probabilities."""
        return np.concatenate([p, p @ self.membership().astype(p.dtype)], axis=1)

    def embed(self, p: np.ndarray) -> np.ndarray:
        """The semantic part for class probabilities p (numpy twin of the ONNX graph's)."""
        return np.sqrt(np.clip(self.node_probabilities(p), 0, None)) * self.weight


def build_space(nouns: dict[str, Synset], classes: list[str], internal_share: float = INTERNAL_SHARE) -> Space:
    index = {c: i for i, c in enumerate(classes)}
    below: dict[str, set[int]] = {}
    for c in classes:
        for s in ancestors(nouns, c) | {c}:
            below.setdefault(s, set()).add(index[c])
    by_set: dict[frozenset, list[str]] = {}
    for s, cls in below.items():
        by_set.setdefault(frozenset(cls), []).append(s)
    leaves = [frozenset({i}) for i in range(len(classes))]
    internal = sorted((k for k in by_set if len(k) > 1), key=lambda k: (-len(k), min(k), sorted(k)))
    members = [tuple(sorted(k)) for k in leaves + internal]
    node_of = {k: n for n, k in enumerate(leaves + internal)}
    synset_node = {s: node_of[k] for k, synsets in by_set.items() for s in synsets}
    depth = np.zeros(len(classes), int)  # internal nodes holding each class
    for k in internal:
        depth[list(k)] += 1
    lam = internal_share / depth.max()
    weight2 = np.full(len(members), lam)
    weight2[: len(classes)] = 1.0 - lam * depth
    return Space(list(classes), members, synset_node, weight2)
