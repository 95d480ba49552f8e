"""What the text tower learns: texts that name things, each with the nodes it names.

* Names: every lemma of every WordNet synset with ImageNet classes below it ("golden retriever",
  "dog", "domestic dog", "animal", "beast"). A name shared by several such
  synsets names the one that is its most frequent sense in WordNet ("plane" is the aeroplane,
  not the carpenter's plane; "cat" is "cat, true cat", not "big cat, cat").
* Words one step below: nouns WordNet files directly under a node of at most
  :data:`MAX_FAMILY` classes but with no ImageNet class of their own ("puppy" under "dog",
  "kitten" under "domestic cat"). Not nouns for people (lexicographer file noun.person): a word
  for a person never names an animal's family.
* A few links WordNet does not make, written here by hand (:data:`LINKS`).
* Descriptions: each synset's definition ("a young dog").
* Templates around names ("a photo of my {}", "{plural}"): plurals come from the templates.
* Pairs ("a dog and a cat", "a dog on the seashore"): both nodes.
"""

from __future__ import annotations

import re

import numpy as np

from space import Space
from wordnet import Synset, plural

#: Families small enough that a word filed under them is taken to show them.
MAX_FAMILY = 150
#: noun.person: never used for words one step below.
PERSON_LEXFILE = 18

#: Links WordNet does not make between everyday words and the ImageNet classes that show them.
#: word -> synsets (ImageNet ids or WordNet ids of families).
LINKS = {
    "beach": ("n09428293", "n09421951"),  # seashore, sandbar
    "sandy beach": ("n09428293", "n09421951"),
    "lake": ("n09332890",),  # lakeside
    "kitten": ("n02121808",),  # WordNet files it under "young mammal" only
    "kitty": ("n02121808",),
    "food": ("n00021265", "n07555863"),  # "food, nutrient" (dishes, drinks) and "solid food" (produce)
    "foods": ("n00021265", "n07555863"),
    "airplane": ("n02691156", "n04552348"),  # WordNet files the warplane under "military plane" only
    "aeroplane": ("n02691156", "n04552348"),
    "plane": ("n02691156", "n04552348"),
    "lamp": ("n03636649", "n03637318"),  # the furniture sense (table lamp) and lampshade
    "lamps": ("n03636649", "n03637318"),
    "flower": ("n11669921",),  # the blossom sense -> "flower, a plant cultivated for its blooms"
    "flowers": ("n11669921",),
    "blossom": ("n11669921",),
}

#: Templates the tower trains on ({} a name, {a} with its article, {pl} its plural).
TEMPLATES = (
    "{}", "{a}", "the {}", "a photo of {a}", "a photo of the {}", "a picture of {a}", "an image of {a}",
    "a close-up photo of {a}", "a photo of my {}", "a blurry photo of {a}", "a bright photo of {a}",
    "a cropped photo of the {}", "a good photo of {a}", "{pl}", "photos of {pl}", "a photo of {pl}",
    "some {pl}", "a picture of {pl}", "my {pl}", "two {pl}", "{a} in a photo", "an old photo of {a}",
)
#: Templates kept out of training, to measure how the tower reads phrasings it never saw.
HELD_OUT_TEMPLATES = ("a snapshot of {a}", "pictures of {pl}", "there is {a} in this photo")
CONNECTORS = ("{a} and {b}", "{a} with {b}", "{a} on {b}", "{a} in {b}", "{a} near {b}", "a photo of {a} and {b}",
              "{a} next to {b}")


def article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def names(space: Space, nouns: dict[str, Synset], plurals: dict[str, str],
          senses: dict[str, list[str]], core_only: bool = False) -> dict[str, tuple[int, ...]]:
    """Every name the tower learns -> the nodes it names (sorted). ``core_only``: the names of
    classes and families (and the links), without the words one step below."""
    lemma_synsets: dict[str, set[str]] = {}
    for sid in space.synset_node:
        for lemma in nouns[sid].lemmas:
            lemma_synsets.setdefault(lemma.lower(), set()).add(sid)
    out: dict[str, set[int]] = {}
    for name, synsets in lemma_synsets.items():
        ordered = [s for s in senses.get(name, ()) if s in synsets]
        chosen = ordered[:1] or sorted(synsets)
        out[name] = {space.synset_node[s] for s in chosen}
    below: dict[str, set[int]] = {}
    for sid, syn in nouns.items():
        if sid in space.synset_node or syn.lexfile == PERSON_LEXFILE:
            continue
        parents = [space.synset_node[h] for h in syn.hypernyms
                   if h in space.synset_node and len(space.members[space.synset_node[h]]) <= MAX_FAMILY]
        if not parents:
            continue
        for lemma in syn.lemmas:
            if lemma[:1].isupper():  # proper names ("Pekinese" stays: it is a class)
                continue
            below.setdefault(lemma.lower(), set()).update(parents)
    if not core_only:
        for name, nodes in below.items():
            out.setdefault(name, nodes)
    for name, synsets in LINKS.items():
        out[name] = {space.synset_node[s] for s in synsets}
    return {k: tuple(sorted(v)) for k, v in sorted(out.items()) if re.search(r"[a-z]", k)}


def definitions(space: Space, nouns: dict[str, Synset]) -> list[tuple[str, tuple[int, ...]]]:
    """Each synset's definition, without its quoted examples: ("a young dog", (dog,))."""
    out = []
    for sid, node in sorted(space.synset_node.items()):
        gloss = re.sub(r'"[^"]*"', "", nouns[sid].gloss).split(";")[0].strip(" ;,")
        if gloss:
            out.append((gloss, (node,)))
    return out


def templated(name: str, template: str, plurals: dict[str, str]) -> str:
    return template.replace("{a}", article(name)).replace("{pl}", plural(name, plurals)).replace("{}", name)


def corpus_texts(named: dict[str, tuple[int, ...]], defs, plurals) -> list[str]:
    """Text the tokenizer learns its merges from: every name in every template, every definition."""
    texts = [templated(n, t, plurals) for n in named for t in TEMPLATES[:4] + TEMPLATES[13:15]]
    texts += [d for d, _ in defs]
    texts += [c.replace("{a}", "a dog").replace("{b}", "the beach") for c in CONNECTORS]
    return texts


#: Shares of a batch: names of classes and families (the words people search with), words one
#: step below, definitions, pairs of names. The rest of the 26,000 names are rare WordNet words:
#: drawn uniformly they would leave "animal" a dozen looks in a whole run.
MIX = {"core": 0.65, "below": 0.12, "definition": 0.08, "pair": 0.15}


class Sampler:
    """Training batches: (texts, target nodes) drawn from names x templates, definitions and pairs."""

    def __init__(self, named: dict[str, tuple[int, ...]], core: dict[str, tuple[int, ...]], defs, plurals,
                 seed: int, mix: dict | None = None):
        self.core = sorted(core)
        self.below = sorted(set(named) - set(core))
        self.named = named
        self.defs = defs
        self.plurals = plurals
        self.rng = np.random.default_rng([seed, 17])
        mix = dict(MIX if mix is None else mix)
        self.edges = np.cumsum([mix["core"], mix["below"], mix["definition"], mix["pair"]])

    def _pick(self, pool: list[str]) -> str:
        return pool[int(self.rng.integers(len(pool)))]

    def batch(self, size: int) -> tuple[list[str], list[tuple[int, ...]]]:
        texts, targets = [], []
        for k in self.rng.random(size) * self.edges[-1]:
            kind = int(np.searchsorted(self.edges, k, side="right"))
            if kind <= 1:
                name = self._pick(self.core if kind == 0 else self.below)
                text = templated(name, TEMPLATES[int(self.rng.integers(len(TEMPLATES)))], self.plurals)
                nodes = self.named[name]
            elif kind == 2:
                text, nodes = self.defs[int(self.rng.integers(len(self.defs)))]
            else:
                a, b = self._pick(self.core), self._pick(self.core)
                conn = CONNECTORS[int(self.rng.integers(len(CONNECTORS)))]
                text = conn.replace("{a}", article(a)).replace("{b}", article(b) if self.rng.random() < 0.5 else "the " + b)
                nodes = tuple(sorted(set(self.named[a]) | set(self.named[b])))
            texts.append(text)
            targets.append(nodes)
        return texts, targets
