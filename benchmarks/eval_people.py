"""The people guard (issue 21) measured on the real-photo corpus.

For each model given (default: every bundle ClipDesk ships under models/, plus
any ``--bundle`` folder, such as a randomly initialised CLIP exported by
``models/export_openclip.py ViT-B-32 --random-init``), the labelled photos of
tests/corpus are indexed by the app (add folder -> scan -> decode -> embed ->
index), and then:

* **tags**: what "Tag the whole library" (``preview_auto``'s tags) and
  suggestions (``suggest``) put on each photo, with the guard and without it
  (the same tagger, its screen left out): denied tags on the photos of people,
  and the animal photos that get a right animal tag (recall);
* **search**: for animal queries, how many photos of people are results;
* **detector**: the face detector's recall on the photos of people and its
  false-positive rate on the other photos, and its time per photo.

    python benchmarks/eval_people.py [--bundle DIR ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

#: A corpus concept of animals -> the tag words that are right for it.
ANIMAL_TAGS = {
    "dog": {"dog", "puppy", "animal", "pet"},
    "cat": {"cat", "kitten", "animal", "pet"},
    "bird": {"bird", "animal", "parrot", "owl", "eagle", "duck", "hen", "penguin"},
    "monkey": {"monkey", "ape", "primate", "animal", "baboon"},
    "squirrel": {"squirrel", "animal", "wildlife"},
    "insect": {"insect", "butterfly", "bee", "beetle", "dragonfly", "animal"},
    "horse": {"horse", "animal"},
    "fish": {"fish", "animal"},
}
ANIMAL_QUERIES = ("animal", "dog", "cat", "monkey", "ape", "gorilla", "chimpanzee", "pig", "bird", "criminal")


class NoGuard:
    """The guard left out: what the tagger alone would do."""

    def __init__(self, real):
        self.denied = real.denied

    def screen(self, tags, accepted, subjects, confidence=None):
        return np.array(accepted, dtype=bool, ndmin=2)

    def allowed(self, text, subjects, confidence=None):
        return np.ones(len(subjects), dtype=bool)


def open_library(root: Path, bundle: Path, entries, corpus):
    """A library under ``root`` with only ``bundle`` installed, the entries' files
    indexed; returns (library, {photo id: corpus id})."""
    from clipdesk.core.library import Library
    from clipdesk.core.paths import Paths

    paths = Paths.under(root).ensure()
    paths.models_dir.mkdir(parents=True, exist_ok=True)
    link = paths.models_dir / bundle.name
    if not link.exists():
        os.symlink(bundle.resolve(), link)
    photos = root / "photos"
    old = time.time() - 3600
    for e in entries:
        dest = photos / e.id
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            shutil.copyfile(corpus.path(e), dest)
            os.utime(dest, (old, old))
    lib = Library(paths, model=bundle.name)
    lib.folders.add(photos)
    lib.folders.index()
    by_path = {os.fsdecode(p.path): p.id for p in lib.catalog.photos(lib.models.index().ids().tolist())}
    placed = {by_path[str(photos / e.id)]: e.id for e in entries if str(photos / e.id) in by_path}
    return lib, placed


def library_tags(lib, guarded: bool) -> dict[int, set[str]]:
    """Photo id -> the tags "Tag the whole library" would put on it."""
    saved = lib.tags._guard
    if not guarded:
        lib.tags._guard = NoGuard(saved)
    try:
        out: dict[int, set[str]] = {}
        for tag, (_src, ids, _c) in lib.tags._library_tags(None).items():
            for i in ids.tolist():
                out.setdefault(i, set()).add(tag)
        return out
    finally:
        lib.tags._guard = saved


def suggested(lib, ids, guarded: bool) -> dict[int, set[str]]:
    saved = lib.tags._guard
    if not guarded:
        lib.tags._guard = NoGuard(saved)
    try:
        return {s.photo_id: {t.tag for t in s.suggestions} for s in lib.tags.suggest(ids)}
    finally:
        lib.tags._guard = saved


def searched(lib, text: str, guarded: bool) -> list[int]:
    saved = lib.search._guard
    if not guarded:
        lib.search._guard = None
    try:
        return [h.photo.id for h in lib.search.query(text).hits]
    finally:
        lib.search._guard = saved


def measure_model(bundle: Path, corpus, workdir: Path) -> dict:
    entries = corpus.distinct(corpus.photos())
    lib, placed = open_library(workdir / bundle.name, bundle, entries, corpus)
    try:
        labels = {pid: set(corpus.entry(cid).labels) for pid, cid in placed.items()}
        people = [i for i, ls in labels.items() if "person" in ls]
        animals = {i: ls & set(ANIMAL_TAGS) for i, ls in labels.items() if "animal" in ls and "person" not in ls}
        denied = lib.people.denied
        row = {"model": bundle.name, "photos": len(placed), "people_photos": len(people),
               "animal_photos": len(animals)}
        evidence = lib.people.person_model()
        row["person_evidence"] = "model prompts + detector" if evidence and evidence.trusted else "detector"
        for guarded in (False, True):
            key = "guarded" if guarded else "unguarded"
            t0 = time.perf_counter()
            applied = library_tags(lib, guarded)
            sugg = suggested(lib, sorted(placed), guarded)
            row[f"{key}_seconds"] = round(time.perf_counter() - t0, 1)
            bad = {i: sorted(t for t in applied.get(i, set()) | sugg.get(i, set()) if denied.denies(t)) for i in people}
            row[f"{key}_denied_on_people"] = sum(len(v) for v in bad.values())
            row[f"{key}_people_photos_with_denied"] = sorted(placed[i] for i, v in bad.items() if v)
            right = [i for i, concepts in animals.items()
                     if any(t.lower() in ANIMAL_TAGS[c] for c in concepts for t in applied.get(i, set()) | sugg.get(i, set()))]
            row[f"{key}_animal_recall"] = round(len(right) / max(1, len(animals)), 3)
            found = {q: [placed[i] for i in searched(lib, q, guarded) if i in set(people)] for q in ANIMAL_QUERIES}
            row[f"{key}_people_in_animal_searches"] = sum(len(v) for v in found.values())
            row[f"{key}_people_found_by"] = {q: v for q, v in found.items() if v}
        return row
    finally:
        lib.close()


def measure_detector(corpus) -> dict:
    from clipdesk.core.people import FaceDetector

    detector = FaceDetector()
    entries = corpus.distinct(corpus.photos())
    people = {e.id for e in entries if "person" in e.labels}
    animals = {e.id for e in entries if "animal" in e.labels}
    found, t0 = {}, time.perf_counter()
    for e in entries:
        try:
            found[e.id] = detector.faces_in_file(str(corpus.path(e)))[1] > 0
        except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
            print(f"  {e.id}: {exc}", file=sys.stderr)
    ms = (time.perf_counter() - t0) / max(1, len(found)) * 1e3
    others = [i for i in found if i not in people]
    return {
        "detector": detector.id,
        "recall": round(float(np.mean([found[i] for i in people if i in found])), 3),
        "people_photos": len(people),
        "missed": sorted(i for i in people if not found.get(i)),
        "false_positive_rate": round(float(np.mean([found[i] for i in others])), 3),
        "other_photos": len(others),
        "false_positives_on_animals": sorted(i for i in animals - people if found.get(i)),
        "ms_per_photo": round(ms, 1),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", action="append", default=[], type=Path, help="a model bundle folder (repeatable)")
    p.add_argument("--no-shipped", action="store_true", help="leave out the bundles under models/")
    p.add_argument("--no-detector", action="store_true")
    p.add_argument("--json", type=Path, help="write the figures here too")
    args = p.parse_args(argv)
    from corpus import Corpus

    corpus = Corpus()
    bundles = [] if args.no_shipped else sorted(f for f in (ROOT / "models").iterdir()
                                                if (f / "config.json").is_file())
    bundles += args.bundle
    out: dict = {"models": []}
    if not args.no_detector:
        out["detector"] = measure_detector(corpus)
        print(json.dumps(out["detector"], indent=1))
    with tempfile.TemporaryDirectory(prefix="eval-people-") as tmp:
        for b in bundles:
            row = measure_model(b, corpus, Path(tmp))
            out["models"].append(row)
            print(json.dumps(row, indent=1), flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
