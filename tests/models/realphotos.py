"""A model's quality on the real-photo corpus, measured through ClipDesk itself.

The labelled photos of tests/corpus are copied into a library folder, added with
``clipdesk folders add`` (scan -> decode -> embed -> catalog -> index), and asked what a user
asks: ``clipdesk search --json --no-cut`` for concept queries, ``clipdesk tag --json`` for
suggested tags, ``clipdesk similar --json`` for known pairs. A second library holds one copy
of every distinct photo and copies of them made here (resized, recompressed, re-encoded), and
``clipdesk duplicates --json`` groups them. The commands run in this process (``clipdesk.cli.main``),
so a run costs the indexing and not one interpreter per query.

Used by tests/models/test_imagenet_model.py (the committed bundle, asserted against the issue's
targets), by benchmarks/eval_real_photos.py and by models/train_imagenet/train.py --evaluate
(figures for the model card, beside clipdesk-mini's). Nothing here knows which model runs.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import time
from pathlib import Path

from PIL import Image, ImageOps

#: Concept queries: (what a user types, the corpus concept whose photos are right answers).
#: Every corpus concept that some ImageNet class or WordNet family of classes covers, by its
#: own name and, for some, a synonym or a narrower word a person would type.
QUERIES = (
    ("animal", "animal"), ("dog", "dog"), ("puppy", "dog"), ("doggy", "dog"), ("cat", "cat"),
    ("kitten", "cat"), ("bird", "bird"), ("monkey", "monkey"), ("primate", "monkey"), ("squirrel", "squirrel"),
    ("insect", "insect"), ("butterfly", "insect"), ("food", "food"), ("fruit", "fruit"),
    ("vegetable", "vegetable"), ("drink", "drink"), ("beverage", "drink"), ("vehicle", "vehicle"),
    ("car", "car"), ("automobile", "car"), ("bus", "bus"), ("motorcycle", "motorcycle"),
    ("motorbike", "motorcycle"), ("airplane", "plane"), ("aeroplane", "plane"), ("rocket", "rocket"),
    ("building", "building"), ("house", "house"), ("mountain", "mountain"), ("beach", "beach"),
    ("flower", "flower"), ("plant", "plant"), ("clock", "clock"), ("guitar", "musical-instrument"),
    ("musical instrument", "musical-instrument"), ("pen", "pen"), ("necklace", "jewellery"), ("lamp", "lamp"),
)
#: Concepts ImageNet does not cover, asked all the same: what the model card says it does not know.
UNKNOWN_QUERIES = (
    ("person", "person"), ("people", "group"), ("portrait", "portrait"), ("sport", "sport"), ("sunset", "sunset"),
    ("night", "night"), ("snow", "snow"), ("sky", "sky"), ("tree", "tree"), ("forest", "forest"),
    ("city", "city"), ("street", "street"), ("text", "text"), ("document", "document"), ("book", "book"),
    ("coins", "coins"), ("toy", "toy"),
)
#: Suggested tag -> the corpus concept it asserts (a tag is right on a photo labelled with that
#: concept or a narrower one). Tag names of any vocabulary; those of no corpus concept assert nothing.
TAG_CONCEPTS = {
    "animal": "animal", "dog": "dog", "cat": "cat", "bird": "bird", "fish": "fish", "insect": "insect",
    "butterfly": "insect", "bee": "insect", "beetle": "insect", "dragonfly": "insect", "horse": "horse",
    "monkey": "monkey", "ape": "monkey", "squirrel": "squirrel",
    "food": "food", "fruit": "fruit", "vegetable": "vegetable", "drink": "drink", "coffee": "drink",
    "wine": "drink", "apple": "fruit", "orange": "fruit", "lemon": "fruit", "banana": "fruit",
    "strawberry": "fruit", "pineapple": "fruit", "dessert": "sweets",
    "vehicle": "vehicle", "car": "car", "taxi": "car", "bus": "bus", "motorcycle": "motorcycle",
    "airplane": "plane", "rocket": "rocket",
    "building": "building", "house": "house", "church": "building", "castle": "building", "palace": "building",
    "barn": "building", "lighthouse": "building", "greenhouse": "building",
    "mountain": "mountain", "volcano": "mountain", "landscape": "landscape", "valley": "landscape", "cliff": "landscape",
    "beach": "beach", "lake": "water", "flower": "flower", "daisy": "flower", "plant": "plant",
    "clock": "clock", "guitar": "musical-instrument", "musical instrument": "musical-instrument",
    "piano": "musical-instrument", "violin": "musical-instrument", "drum": "musical-instrument",
    "pen": "pen", "necklace": "jewellery", "lamp": "lamp", "table": "table",
    "electronics": "electronics", "computer": "electronics", "laptop": "electronics", "telephone": "electronics", "television": "electronics",
    "sky": "sky", "snow": "snow", "night": "night",
}
#: The model whose vocabulary decides which photos tags are measured on.
REFERENCE_MODEL = "clipdesk-imagenet"
#: Copies planted for the duplicate check: (name, smallest short side of the original, how).
COPIES = (
    ("half.jpg", 448, lambda im: im.resize((max(1, im.width // 2), max(1, im.height // 2)), Image.Resampling.LANCZOS),
     {"quality": 85}),
    ("q70.jpg", 224, lambda im: im, {"quality": 70}),
    ("q80.webp", 224, lambda im: im, {"quality": 80}),
)
#: Relations between files of one picture or one moment: such files may share a duplicate group.
SAME_MOMENT = ("same-photo", "stereo", "sequence")
#: Relations of "find similar" pairs: other files of the same scene.
PAIR_RELATIONS = ("stereo", "sequence", "same-scene")


def cli(*args: str) -> tuple[int, str]:
    """``clipdesk ARGS`` in this process; (exit code, stdout)."""
    from clipdesk.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(args))
    return code, out.getvalue()


def cli_json(*args: str, ok=(0,)):
    code, text = cli(*args, "--json")
    assert code in ok, (args, code, text[-500:])
    return json.loads(text)


@contextlib.contextmanager
def app_environment(root: Path, bundle: Path):
    """A fresh catalog and cache under ``root``; only ``bundle`` installed (as a built-in model)."""
    models = root / "models"
    models.mkdir(parents=True)
    os.symlink(bundle.resolve(), models / bundle.name)
    env = {"CLIPDESK_DATA_DIR": str(root / "data"), "CLIPDESK_CACHE_DIR": str(root / "cache"),
           "CLIPDESK_MODELS_DIR": str(models)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _place(corpus, entries, folder: Path, *, neutral: bool = False) -> dict[str, str]:
    """Copy corpus files into ``folder`` (settled: an old mtime); library path -> corpus id.

    ``neutral``: under names that say nothing (``0001.jpg``, the extension kept), so that a
    search measures the model: the app puts photos whose file name holds the query first
    (as Immich does), and corpus names such as ``cat.hif`` or ``butterfly.jpg`` would answer
    for it."""
    out = {}
    old = time.time() - 3600
    for n, e in enumerate(entries, 1):
        dest = folder / (f"{n:04d}{Path(e.id).suffix}" if neutral else e.id)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus.path(e), dest)
        os.utime(dest, (old, old))
        out[str(dest)] = e.id
    return out


def _closure(corpus, relations) -> dict[str, frozenset[str]]:
    """File id -> every file linked to it through pairs of these relations (itself included)."""
    links: dict[str, set[str]] = {}
    for p in corpus.pairs():
        if p.relation in relations:
            links.setdefault(p.a, set()).add(p.b)
            links.setdefault(p.b, set()).add(p.a)
    out = {}
    for start in links:
        seen, todo = {start}, [start]
        while todo:
            for nxt in links.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        out[start] = frozenset(seen)
    return out


def search_figures(corpus, placed: dict[str, str], queries=QUERIES) -> dict:
    rows = []
    for text, concept in queries:
        right = {e.id for e in corpus.photos(concept)}
        ranked = [placed.get(r["path"]) for r in cli_json("search", text, "--no-cut", "--limit", "5")["results"]]
        seen = cli_json("search", text)["results"]
        rows.append({"query": text, "concept": concept, "right_photos": len(right),
                     "top5": ranked, "first_right": bool(ranked) and ranked[0] in right,
                     "precision_at_5": sum(r in right for r in ranked[:5]) / 5,
                     "kept_by_cut": len(seen),
                     "kept_right": sum(placed.get(r["path"]) in right for r in seen)})
    p5 = [r["precision_at_5"] for r in rows if r["right_photos"] >= 5]
    return {"queries": len(rows), "first_right": sum(r["first_right"] for r in rows) / len(rows),
            "precision_at_5": sum(p5) / len(p5) if p5 else None, "queries_with_5_right": len(p5), "rows": rows}


def reference_concepts() -> set[str]:
    """The corpus concepts the offline model's vocabulary has a tag for: the photos showing one
    of them are the photos tags are measured on, for every model (the baseline too)."""
    from clipdesk.core.tagging import parse_vocabulary

    vocab = Path(__file__).resolve().parents[2] / "resources" / "vocab" / f"{REFERENCE_MODEL}.txt"
    tags = [e.tag.lower() for e in parse_vocabulary(vocab.read_text(encoding="utf-8"))]
    return {TAG_CONCEPTS[t] for t in tags if t in TAG_CONCEPTS}


def animal_tags() -> set[str]:
    """The tags under "# Animals" in the offline model's vocabulary."""
    vocab = Path(__file__).resolve().parents[2] / "resources" / "vocab" / f"{REFERENCE_MODEL}.txt"
    out, inside = set(), False
    for line in vocab.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            inside = line.strip() == "# Animals"
        elif inside and line.strip():
            out.add(line.split("\t")[0].strip().lower())
    return out


def tag_figures(corpus, placed: dict[str, str], top: int = 5) -> dict:
    """``clipdesk tag --top 5`` on every labelled photo. ``right_in_top``: the share of the
    photos showing a concept the vocabulary has a tag for with a right tag among theirs.
    ``precision``: of all suggested tags that assert a corpus concept (on every photo), the
    share that are right. ``shown_at_100``: the share of suggestions the CLI prints as 100%."""
    asserted = reference_concepts()
    ids = sorted(placed.values())
    by_id = {v: k for k, v in placed.items()}
    # Exit 1: some file could not be read (its entry says why); the others have their tags.
    got = cli_json("tag", *[by_id[i] for i in ids], "--top", str(top), ok=(0, 1))["files"]
    suggestions = {i: f["suggestions"][:top] for i, f in zip(ids, got)}
    eligible = sorted(e.id for e in corpus.photos() if set(e.labels) & asserted and e.id in suggestions)
    rows = []
    for i in eligible:
        labels = set(corpus.entry(i).labels)
        tags = [s["tag"] for s in suggestions[i]]
        right = [t for t in tags if TAG_CONCEPTS.get(t.lower()) in labels]
        rows.append({"id": i, "labels": sorted(labels & asserted), "tags": tags, "right": bool(right)})
    judged = [TAG_CONCEPTS[s["tag"].lower()] in corpus.entry(i).labels
              for i, ss in suggestions.items() for s in ss if s["tag"].lower() in TAG_CONCEPTS]
    shown = [s["score"] for ss in suggestions.values() for s in ss]
    # Photos of people (issue 21 builds on this): which tags they get, and how many name an animal.
    people = sorted(e.id for e in corpus.photos("person") if e.id in suggestions)
    animal_words = {t for t, c in TAG_CONCEPTS.items() if "animal" in corpus.expand([c])} | animal_tags()
    people_rows = [{"id": i, "tags": [s["tag"] for s in suggestions[i]]} for i in people]
    return {"photos": len(rows), "concepts": sorted(asserted),
            "right_in_top": sum(r["right"] for r in rows) / len(rows),
            "no_tags": sum(not r["tags"] for r in rows), "rows": rows,
            "precision": sum(judged) / len(judged) if judged else None, "judged_tags": len(judged),
            "shown": len(shown), "shown_at_100": sum(x >= 0.995 for x in shown) / len(shown) if shown else None,
            "people_photos": len(people_rows),
            "people_with_animal_tags": sum(any(t.lower() in animal_words for t in r["tags"]) for r in people_rows),
            "people_rows": people_rows}


def similar_figures(corpus, placed: dict[str, str]) -> dict:
    by_id = {v: k for k, v in placed.items()}
    same = _closure(corpus, ("same-photo",))
    rows = []
    for p in corpus.pairs():
        if p.relation not in PAIR_RELATIONS:
            continue
        mine = same.get(p.a, frozenset({p.a}))
        partner = same.get(p.b, frozenset({p.b}))
        ranked = [placed.get(r["path"]) for r in cli_json("similar", by_id[p.a], "--limit", "20")["results"]]
        ranked = [r for r in ranked if r not in mine]
        rows.append({"a": p.a, "b": p.b, "relation": p.relation, "first": ranked[0] if ranked else None,
                     "partner_first": bool(ranked) and ranked[0] in partner})
    return {"pairs": len(rows), "partner_first": sum(r["partner_first"] for r in rows), "rows": rows}


def plant_copies(corpus, originals, folder: Path) -> dict[str, str]:
    """Copies of the originals (resized, recompressed, re-encoded); copy path -> original id.
    An RGB photo's ICC profile goes with its copies, as an editor's export keeps it: without
    it the copy's colours are other colours once the app converts the original to sRGB."""
    out = {}
    old = time.time() - 3600
    for e in originals:
        with Image.open(corpus.path(e)) as im:
            icc = {"icc_profile": im.info["icc_profile"]} if im.mode == "RGB" and im.info.get("icc_profile") else {}
            im = ImageOps.exif_transpose(im).convert("RGB")
        for name, min_side, change, save in COPIES:
            if min(im.size) < min_side:
                continue
            dest = folder / f"{e.id}.{name}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            change(im).save(dest, **save, **icc)
            os.utime(dest, (old, old))
            out[str(dest)] = e.id
    return out


def duplicate_figures(corpus, originals: dict[str, str], copies: dict[str, str]) -> dict:
    moment = _closure(corpus, SAME_MOMENT)
    source = {**originals, **copies}
    groups = cli_json("duplicates")["groups"]
    group_of = {}
    joined = []
    for g, group in enumerate(groups):
        ids = {source[p["path"]] for p in group["photos"]}
        for p in group["photos"]:
            group_of[p["path"]] = g
        first = next(iter(ids))
        if not ids <= moment.get(first, frozenset({first})):
            joined.append(sorted(ids))
    path_of = {v: k for k, v in originals.items()}
    missed = [(source[c], Path(c).name) for c in copies
              if group_of.get(c) is None or group_of.get(c) != group_of.get(path_of[copies[c]])]
    return {"originals": len(originals), "copies": len(copies), "groups": len(groups),
            "copies_with_original": len(copies) - len(missed), "missed": missed,
            "groups_joining_different_photos": len(joined), "joined": joined}


def measure(bundle: Path, corpus=None, work: Path | None = None, parts=("search", "tags", "similar", "duplicates"),
            unknown: bool = True) -> dict:
    """Every figure for one model bundle (a folder in the bundle format)."""
    import tempfile

    if corpus is None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from corpus import Corpus

        corpus = Corpus()
    own = work is None
    work = Path(tempfile.mkdtemp(prefix="clipdesk-real-")) if own else work
    out: dict = {"model": bundle.name}
    try:
        labelled = corpus.labelled()
        t0 = time.time()
        with app_environment(work / "search", bundle):
            placed = _place(corpus, labelled, work / "search" / "photos", neutral=True)
            code, text = cli("folders", "add", str(work / "search" / "photos"))
            assert code == 0, text
            out["library"] = {"photos": len(placed), "index_s": round(time.time() - t0, 1)}
            if "search" in parts:
                out["search"] = search_figures(corpus, placed)
                if unknown:
                    out["unknown"] = search_figures(corpus, placed, UNKNOWN_QUERIES)
            if "tags" in parts:
                out["tags"] = tag_figures(corpus, placed)
            if "similar" in parts:
                out["similar"] = similar_figures(corpus, placed)
        if "duplicates" in parts:
            with app_environment(work / "dups", bundle):
                distinct = [e for e in corpus.distinct(labelled) if "decodes" in e.kinds]
                originals = _place(corpus, distinct, work / "dups" / "photos")
                copies = plant_copies(corpus, distinct, work / "dups" / "photos" / "copies")
                code, text = cli("folders", "add", str(work / "dups" / "photos"))
                assert code == 0, text
                out["duplicates"] = duplicate_figures(corpus, originals, copies)
        out["seconds"] = round(time.time() - t0, 1)
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    return out
