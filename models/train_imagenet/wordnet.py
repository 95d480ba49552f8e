"""WordNet 3.0 nouns and the 1,000 ImageNet classes, read from the files that ship them.

* WordNet: ``data.noun`` and ``noun.exc`` of Debian's ``wordnet-base`` (the Princeton database
  files): every noun synset with its lemmas, its hypernyms (``@``, and ``@i`` for instances) and
  its gloss; irregular plurals.
* ImageNet-1k: ``imagenet_synsets.txt`` (the 1,000 ids in the classifier's order),
  ``imagenet_synset_to_lemma.txt`` and ``imagenet_synset_to_definition.txt`` from the timm wheel
  (``timm/data/_info/``). An ImageNet id ``n02084071`` is the WordNet 3.0 noun at offset 02084071.

No third-party WordNet reader: the format is documented in wndb(5WN), which the same Debian
package installs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Synset:
    id: str  # "n02084071"
    lemmas: list[str]  # "dog", "domestic dog", "Canis familiaris"
    hypernyms: list[str]
    gloss: str
    #: WordNet's lexicographer file: 5 noun.animal, 6 noun.artifact, 13 noun.food, 18 noun.person ...
    lexfile: int = 0
    hyponyms: list[str] = field(default_factory=list)


def read_nouns(data_noun: Path) -> dict[str, Synset]:
    """Every noun synset of a WordNet ``data.noun`` file (license header lines start with spaces)."""
    out: dict[str, Synset] = {}
    for line in Path(data_noun).read_text(encoding="latin-1").splitlines():
        if not line or line.startswith(" "):
            continue
        head, _, gloss = line.partition(" | ")
        parts = head.split()
        offset, n_words = parts[0], int(parts[3], 16)
        lemmas = [_lemma(parts[4 + 2 * i]) for i in range(n_words)]
        pos = 4 + 2 * n_words
        n_ptrs = int(parts[pos])
        hypernyms = []
        for i in range(n_ptrs):
            symbol, target, target_pos = parts[pos + 1 + 4 * i: pos + 4 + 4 * i]
            if symbol in ("@", "@i") and target_pos == "n":
                hypernyms.append("n" + target)
        out["n" + offset] = Synset("n" + offset, lemmas, hypernyms, gloss.strip(), lexfile=int(parts[1]))
    for s in out.values():
        for h in s.hypernyms:
            out[h].hyponyms.append(s.id)
    return out


def _lemma(word: str) -> str:
    """``Canis_familiaris`` -> ``Canis familiaris``; adjective markers such as ``(p)`` dropped."""
    return re.sub(r"\([a-z]+\)$", "", word).replace("_", " ")


def read_sense_order(index_noun: Path) -> dict[str, list[str]]:
    """Each noun lemma's synsets, most frequent sense first (WordNet's ``index.noun``)."""
    out: dict[str, list[str]] = {}
    for line in Path(index_noun).read_text(encoding="latin-1").splitlines():
        if not line or line.startswith(" "):
            continue
        parts = line.split()
        n_ptrs = int(parts[3])
        offsets = parts[4 + n_ptrs + 2:]
        out[parts[0].replace("_", " ")] = ["n" + o for o in offsets]
    return out


def read_plurals(noun_exc: Path) -> dict[str, str]:
    """Irregular plurals, singular -> plural (the first listed when there are several)."""
    out: dict[str, str] = {}
    for line in Path(noun_exc).read_text(encoding="latin-1").splitlines():
        words = line.split()
        if len(words) >= 2:
            out.setdefault(words[1].replace("_", " "), words[0].replace("_", " "))
    return out


def plural(phrase: str, irregular: dict[str, str]) -> str:
    """English plural of a noun phrase (its last word), with WordNet's irregular forms first."""
    if phrase in irregular:
        return irregular[phrase]
    head, _, last = phrase.rpartition(" ")
    if last in irregular:
        p = irregular[last]
    elif re.search(r"(s|x|z|ch|sh)$", last):
        p = last + "es"
    elif re.search(r"[^aeiou]y$", last):
        p = last[:-1] + "ies"
    else:
        p = last + "s"
    return f"{head} {p}" if head else p


def read_imagenet(info_dir: Path) -> tuple[list[str], dict[str, list[str]], dict[str, str]]:
    """(the 1,000 class ids in classifier order, id -> lemmas, id -> definition) from timm's files."""
    info = Path(info_dir)
    ids = [w.strip() for w in (info / "imagenet_synsets.txt").read_text().split() if w.strip()]
    lemmas, definitions = {}, {}
    for line in (info / "imagenet_synset_to_lemma.txt").read_text(encoding="utf-8").splitlines():
        wnid, _, text = line.partition("\t")
        lemmas[wnid] = [w.strip() for w in text.split(",") if w.strip()]
    for line in (info / "imagenet_synset_to_definition.txt").read_text(encoding="utf-8").splitlines():
        wnid, _, text = line.partition("\t")
        definitions[wnid] = text.strip()
    wanted = set(ids)
    return ids, {k: v for k, v in lemmas.items() if k in wanted}, {k: v for k, v in definitions.items() if k in wanted}


def ancestors(nouns: dict[str, Synset], wnid: str) -> set[str]:
    """Every hypernym of a synset, up to ``entity``."""
    seen: set[str] = set()
    todo = list(nouns[wnid].hypernyms)
    while todo:
        h = todo.pop()
        if h not in seen:
            seen.add(h)
            todo += nouns[h].hypernyms
    return seen
