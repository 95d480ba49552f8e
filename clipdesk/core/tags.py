"""The tag service: manual tags, suggestions, learned tags, vocabulary, sidecars.

``library.tags`` is the one door for everything about tags, for the GUI's
panels and the CLI alike: putting tags on photos and taking them off (the
user's decisions), zero-shot suggestions from the active model's vocabulary
and tags learned from examples (the algorithms are
:mod:`clipdesk.core.tagging`), tagging the whole library, and writing the
tags to XMP sidecars (:mod:`clipdesk.core.sidecar`). Every change returns
:class:`~clipdesk.core.changes.Changes`, including the sidecars that could not
be written.

Thread-safe: call from worker threads.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from clipdesk.core.catalog import Catalog, PhotoTag, TagCount
from clipdesk.core.changes import Changes, SidecarFailure, UndoStep
from clipdesk.core.errors import ClipDeskError, UsageError
from clipdesk.core.models import ModelService
from clipdesk.core.wording import plural
from clipdesk.core.names import HIERARCHY_SEPARATOR, display_path, path_candidates, tag_key, tag_name
from clipdesk.core.paths import Paths
from clipdesk.core.people import PeopleGuard, Subject
from clipdesk.core.search import Hit

Target = int | str | os.PathLike


@dataclass(frozen=True)
class TagSuggestion:
    tag: str
    score: float  # calibrated confidence in [0, 1]
    source: str  # "auto" (zero-shot vocabulary) or "learned" (taught from examples)


@dataclass
class FileSuggestions:
    """Tag suggestions for one file (in the library or not)."""

    path: str
    photo_id: int | None
    suggestions: list[TagSuggestion] = field(default_factory=list)
    error: str | None = None  # why the file could not be read


@dataclass
class SidecarPolicy:
    """Whether edits go to XMP sidecars, shared by the tag and mark services.
    ``style``: the sidecar name for a photo that has none yet, "extension"
    (photo.jpg.xmp) or "stem" (photo.xmp); an existing one is always used."""

    write: bool = False
    style: str = "extension"

    def update(self, catalog: Catalog, photo, *, add=(), remove=(), marks=None) -> list[SidecarFailure]:
        """Write one catalogued photo's change to its XMP sidecar: tags ``add``
        in and ``remove`` out, ``marks`` (:class:`~clipdesk.core.sidecar.Marks`)
        when given. The one rule for every sidecar the tag and mark services
        write: a sidecar that does not exist yet is made with everything the
        catalog knows of the photo (its accepted tags, rating, flag and label),
        not only the change that made it; an existing one gets only the change,
        so what another tool wrote since the last scan is not overwritten.
        Returns the failure, if any, as a list (empty when written)."""
        from clipdesk.core.scan import sidecar_mtime
        from clipdesk.core.sidecar import Marks, read_marks, sidecar_for, update_tags

        path = Path(photo.path)
        raw, companion = os.fsencode(photo.path), os.fsencode(photo.companion) if photo.companion else None
        try:
            if not os.path.lexists(sidecar_for(path, self.style)):
                gone = {tag_key(t) for t in remove}
                links = catalog.photo_tags(photo.id)
                add = [*add, *(t.tag for t in links if t.state == "accepted" and tag_key(t.tag) not in gone)]
                if marks is None:
                    rating, flag, label = catalog.marks([photo.id]).get(photo.id, (0, None, None))
                    marks = Marks(rating, flag == "reject", label)
            before = sidecar_mtime(raw, None, companion)
            if update_tags(path, add=add, remove=remove, style=self.style, marks=marks) is not None:
                catalog.record_sidecar_write(photo.id, add, remove, read_marks(path) if marks is not None else None,
                                             before, sidecar_mtime(raw, None, companion))
        except ClipDeskError as exc:
            return [SidecarFailure(display_path(photo.path), str(exc))]
        return []


@dataclass
class TagNode:
    """One level of the tag tree: ``path`` is the full tag name ("Places|Beach"),
    ``photos`` the photos with exactly this tag accepted, ``total`` the photos
    with it or a tag below it (what clicking it shows; each photo once)."""

    name: str
    path: str
    photos: int = 0
    total: int = 0
    learned: bool = False
    children: list["TagNode"] = field(default_factory=list)


def _count_label(prefix: str, ids) -> str:
    return f"{prefix} {plural(len(ids), 'photo')}"


def _photos_of(snapshot) -> set[int]:
    return {link[0] for e in snapshot.entries.values() if e is not None for link in e[2]}


def _label_confidence(conf: np.ndarray, n_auto: int) -> np.ndarray:
    """The confidences the people guard weighs where its evidence is unsure:
    zero-shot tags' calibrated confidence; none (0) for learned tags, whose
    probability says how like the examples a photo is, not how sure the model
    is of the word (examples of people named "monkey" must not put it on
    people the detector missed)."""
    out = np.array(conf, dtype=float, ndmin=2)
    out[:, n_auto:] = 0.0
    return out


@dataclass(frozen=True)
class AutoTagResult:
    """What tagging the whole library did: photos per tag, and the changes."""

    counts: dict[str, int]
    changes: Changes


class TagService:
    def __init__(self, catalog: Catalog, models: ModelService, paths: Paths, sidecars: "SidecarPolicy | None" = None,
                 guard: "PeopleGuard | None" = None):
        self._catalog = catalog
        self._models = models
        self._paths = paths
        #: Every automatic label passes through it (clipdesk.core.people).
        self._guard = guard or PeopleGuard(catalog, models, None, paths.resources_dir, paths.cache_dir / "people")
        self._sidecars = sidecars or SidecarPolicy()
        self._cache: dict[tuple, object] = {}
        self._cache_lock = threading.Lock()

    @property
    def write_sidecars(self) -> bool:
        """Write accepted and removed tags (and marks) to each photo's XMP
        sidecar: the user's setting; the CLI's --sidecars."""
        return self._sidecars.write

    @write_sidecars.setter
    def write_sidecars(self, on: bool) -> None:
        self._sidecars.write = bool(on)

    @property
    def sidecar_style(self) -> str:
        return self._sidecars.style

    @sidecar_style.setter
    def sidecar_style(self, style: str) -> None:
        self._sidecars.style = style

    # -- reading -------------------------------------------------------------------------
    def list(self) -> list[TagCount]:
        """Every tag with its accepted photo count, by name."""
        return self._catalog.tags()

    def names(self) -> list[str]:
        return [t.name for t in self._catalog.tags()]

    def of_photo(self, photo_id: int) -> list[PhotoTag]:
        return self._catalog.photo_tags(photo_id)

    def common(self, photo_ids: Sequence[int]) -> list[PhotoTag]:
        """Every tag of one photo, or the tags every one of several photos has
        accepted (at most the first 500 photos are read)."""
        per = [self._catalog.photo_tags(i) for i in list(photo_ids)[:500]]
        if not per:
            return []
        if len(per) == 1:
            return per[0]
        common = {tag_key(t.tag) for t in per[0] if t.state == "accepted"}
        for tags in per[1:]:
            common &= {tag_key(t.tag) for t in tags if t.state == "accepted"}
        return [t for t in per[0] if tag_key(t.tag) in common and t.state == "accepted"]

    # -- the user's decisions ------------------------------------------------------------
    def accept(self, photo_ids: Sequence[int], tag: str) -> Changes:
        """The user puts ``tag`` on these photos (or confirms a suggestion). Undoable."""
        snapshot = self._catalog.tag_snapshot([tag], photo_ids)
        self._catalog.decide_tag(photo_ids, tag, "accepted")
        return self._changed(photo_ids, add=[tag]) | self._undoable(
            snapshot, photo_ids, _count_label(f"Add tag '{tag}' to", photo_ids))

    def reject(self, photo_ids: Sequence[int], tag: str) -> Changes:
        """The user says these photos are not ``tag``: never suggested again, and a
        negative example for a learned tag. Undoable."""
        snapshot = self._catalog.tag_snapshot([tag], photo_ids)
        self._catalog.decide_tag(photo_ids, tag, "rejected")
        return self._changed(photo_ids, remove=[tag]) | self._undoable(
            snapshot, photo_ids, _count_label(f"Reject tag '{tag}' on", photo_ids))

    def remove(self, photo_ids: Sequence[int], tag: str) -> Changes:
        """Take ``tag`` off these photos (NotFound for an unknown tag). Undoable."""
        snapshot = self._catalog.tag_snapshot([tag], photo_ids)
        self._catalog.untag(photo_ids, tag)
        return self._changed(photo_ids, remove=[tag]) | self._undoable(
            snapshot, photo_ids, _count_label(f"Remove tag '{tag}' from", photo_ids))

    def delete(self, tag: str) -> Changes:
        """Delete a tag and the tags nested below it from every photo (NotFound
        for an unknown tag). Undoable, links and learning included."""
        family = self._catalog.tag_family(tag)
        snapshot = self._catalog.tag_snapshot(family)
        ids = sorted({i for name in family for i in self._catalog.tagged_ids(name, "accepted")})
        self._catalog.delete_tag(tag)
        return self._changed(ids, remove=family) | self._undoable(snapshot, None, f"Delete tag '{tag}'")

    def rename(self, tag: str, new_name: str) -> Changes:
        """Rename a tag; the tags nested below it follow ("Places|Beach" becomes
        "Travel|Beach"), and a name that exists already is a merge. Learned
        models and thresholds follow (they belong to the tag, not its name);
        sidecars follow when sidecar writing is on. Undoable. NotFound for an
        unknown tag, InvalidTag for an unusable name."""
        family = self._catalog.tag_family(tag)
        ids = sorted({i for name in family for i in self._catalog.tagged_ids(name, "accepted")})
        targets = [tag_name(new_name) + name[len(tag_name(tag)):] for name in family]
        snapshot = self._catalog.tag_snapshot([*family, *targets])
        renamed = self._catalog.rename_tag(tag, new_name)
        changes = Changes(photos=frozenset(ids), tags=True)
        if self.write_sidecars and ids:
            photos = self._catalog.photos(ids)
            failures: list[SidecarFailure] = []
            for old, new in renamed:
                members = set(self._catalog.tagged_ids(new, "accepted"))
                failures += self._write_sidecars([p for p in photos if p.id in members], [new], [old])
            changes = changes | Changes(sidecar_failures=tuple(failures))
        target = tag_key(tag_name(new_name))
        merge = target != tag_key(tag_name(tag)) and snapshot.entries.get(target) is not None
        label = f"Merge tag '{tag}' into '{new_name}'" if merge else f"Rename tag '{tag}' to '{new_name}'"
        return changes | self._undoable(snapshot, None, label)

    def move(self, tag: str, parent: str | None) -> Changes:
        """Nest a tag (and what is below it) under ``parent``, or at the top for
        None: a rename of its path, so the same rules and undo apply."""
        leaf = tag_name(tag).split(HIERARCHY_SEPARATOR)[-1]
        changes = self.rename(tag, f"{tag_name(parent)}{HIERARCHY_SEPARATOR}{leaf}" if parent else leaf)
        if changes.undo is None or not changes.undo.label.startswith("Rename"):
            return changes  # a merge keeps its own label
        return changes.labelled(f"Move tag '{tag}' under '{parent}'" if parent else f"Move tag '{tag}' to the top")

    def tree(self) -> list["TagNode"]:
        """The tags as a tree ("Places|Beach" under "Places"), by name; a level
        that is only a path ("Places" when only "Places|Beach" exists) is a
        node without photos of its own."""
        roots: list[TagNode] = []
        index: dict[str, TagNode] = {}
        for t in sorted(self._catalog.tags(), key=lambda t: tag_key(t.name)):
            levels = t.name.split(HIERARCHY_SEPARATOR)
            siblings = roots
            for depth in range(len(levels)):
                path = HIERARCHY_SEPARATOR.join(levels[: depth + 1])
                node = index.get(tag_key(path))
                if node is None:
                    node = TagNode(levels[depth], path)
                    index[tag_key(path)] = node
                    siblings.append(node)
                siblings = node.children
            index[tag_key(t.name)].photos = t.photos
            index[tag_key(t.name)].learned = t.learned
        below: dict[str, set[int]] = {}
        for name, photo_id in self._catalog.accepted_links():
            levels = name.split(HIERARCHY_SEPARATOR)
            for depth in range(len(levels)):
                below.setdefault(tag_key(HIERARCHY_SEPARATOR.join(levels[: depth + 1])), set()).add(photo_id)
        for key, node in index.items():
            node.total = len(below.get(key, ()))
        return roots

    def kept_name(self, tag: str) -> str:
        """The name a tag is kept under: an existing tag's own spelling
        ("PLANTS" typed, "plants" kept), else the canonical form of ``tag``."""
        return self._catalog.stored_tag_name(tag) or tag_name(tag)

    def family(self, tag: str) -> list[str]:
        """A tag and the tags nested below it ("Places", "Places|Beach"...); empty for an unknown tag."""
        return self._catalog.tag_family(tag)

    def _undoable(self, snapshot, photo_ids, label: str) -> Changes:
        """The undo step that puts the tags of ``snapshot`` back (and so redoes
        by putting back what the undo found)."""
        ids = None if photo_ids is None else list(photo_ids)

        def undo() -> Changes:
            now = self._catalog.tag_snapshot(list(snapshot.entries), ids)
            touched = _photos_of(snapshot) | _photos_of(now)
            self._catalog.restore_tag_snapshot(snapshot)
            sidecars = self._sync_sidecars(touched, [e[0] for e in now.entries.values() if e is not None]) \
                if self.write_sidecars else ()
            return Changes(photos=frozenset(touched), tags=True, sidecar_failures=sidecars) \
                | self._undoable(now, ids, label)

        return Changes(undo=UndoStep(label, undo))

    def _sync_sidecars(self, photo_ids, forget: list[str]) -> tuple[SidecarFailure, ...]:
        """Sidecars of these photos made to say what the catalog says: its
        accepted tags in, its rejected ones and those of ``forget`` it no longer
        has out."""
        failures: list[SidecarFailure] = []
        for photo in self._catalog.photos(sorted(photo_ids)):
            links = self._catalog.photo_tags(photo.id)
            accepted = [t.tag for t in links if t.state == "accepted"]
            keys = {tag_key(t) for t in accepted}
            remove = [t.tag for t in links if t.state == "rejected"] + [n for n in forget if tag_key(n) not in keys]
            failures += self._sidecars.update(self._catalog, photo, add=accepted, remove=remove)
        return tuple(failures)

    def _changed(self, photo_ids: Sequence[int], add=(), remove=()) -> Changes:
        failures: tuple[SidecarFailure, ...] = ()
        if self.write_sidecars and photo_ids:
            failures = self._write_sidecars(self._catalog.photos(photo_ids), add, remove)
        return Changes(photos=frozenset(int(i) for i in photo_ids), tags=True, sidecar_failures=failures)

    # -- sidecars ------------------------------------------------------------------------
    def write_all_sidecars(self, photo_ids: Sequence[int] | None = None) -> Changes:
        """Write each photo's accepted tags (and remove its rejected ones) in its
        XMP sidecar; every photo with an accepted tag when ``photo_ids`` is None."""
        if photo_ids is None:
            photo_ids = self._catalog.photos_with_accepted_tags()
        failures = []
        for photo in self._catalog.photos(photo_ids):
            tags = self._catalog.photo_tags(photo.id)
            failures += self._write_sidecars(
                [photo], [t.tag for t in tags if t.state == "accepted"], [t.tag for t in tags if t.state == "rejected"])
        return Changes(sidecar_failures=tuple(failures))

    def tag_files(self, paths: Sequence[str], tag: str) -> Changes:
        """Put ``tag`` in the sidecars of files outside the library (they have no
        catalog entry, so the sidecar is the only place a tag can go)."""
        failures = []
        for p in paths:
            failures += self._update_sidecar(p, [tag], ())
        return Changes(sidecar_failures=tuple(failures))

    def _write_sidecars(self, photos, add, remove) -> tuple[SidecarFailure, ...]:
        out: list[SidecarFailure] = []
        for photo in photos:
            out += self._sidecars.update(self._catalog, photo, add=add, remove=remove)
        return tuple(out)

    def _update_sidecar(self, path: str, add, remove) -> list[SidecarFailure]:
        """A file outside the library: the sidecar is all there is."""
        from clipdesk.core.sidecar import update_tags

        try:
            update_tags(Path(path), add=add, remove=remove, style=self.sidecar_style)
        except ClipDeskError as exc:
            return [SidecarFailure(display_path(path), str(exc))]
        return []

    # -- suggestions ---------------------------------------------------------------------
    def calibrated(self) -> bool:
        """Whether zero-shot suggestions are calibrated against the library: at least
        :data:`clipdesk.core.tagging.MIN_BACKGROUND` photos embedded with the active model.
        Below that, only the few tags that stand out in each photo are suggested.
        Raises ModelError without a model."""
        return self._zero_shot().calibrated

    def suggest(self, targets: Sequence[Target], *, top: int = 8) -> list[FileSuggestions]:
        """Tag suggestions (zero-shot vocabulary + learned tags) for photo ids or
        image files, also files outside the library; the user's rejections are
        never suggested again. Raises ModelError without a model."""
        shells, vecs = self._embeddings_for(targets)
        if not len(vecs):
            return shells
        tagger = self._zero_shot()
        learned = self._learned_models()
        tags = [*tagger.vocab.tags, *(lt.tag for lt in learned)]
        conf, accepted = tagger.confidences(vecs)
        if learned:
            probs = np.stack([lt.probability(vecs) for lt in learned], axis=1)
            conf, accepted = np.hstack([conf, probs]), np.hstack([accepted, probs >= 0.5])
        readable = [s for s in shells if s.error is None]
        n_auto = len(tagger.vocab.tags)
        accepted = self._guard.screen(tags, accepted, [
            Subject(s.photo_id, v, None if s.photo_id is not None else s.path) for s, v in zip(readable, vecs)],
            _label_confidence(conf, n_auto))
        for i, shell in enumerate(readable):
            decided = {}
            if shell.photo_id is not None:
                decided = {tag_key(t.tag): t.state for t in self._catalog.photo_tags(shell.photo_id)}
            out: dict[str, TagSuggestion] = {}
            # Zero-shot first, best first; a learned tag replaces one of the same name it beats.
            for j in sorted(np.flatnonzero(accepted[i, :n_auto]), key=lambda j: -conf[i, j])[:top]:
                out[tag_key(tags[j])] = TagSuggestion(tags[j], float(conf[i, j]), "auto")
            for j in np.flatnonzero(accepted[i, n_auto:]) + n_auto:
                key = tag_key(tags[j])
                if key not in out or conf[i, j] > out[key].score:
                    out[key] = TagSuggestion(tags[j], float(conf[i, j]), "learned")
            shell.suggestions = sorted(
                (s for k, s in out.items() if decided.get(k) != "rejected"), key=lambda s: -s.score)[:top]
        return shells

    def _embeddings_for(self, targets: Sequence[Target]) -> tuple[list[FileSuggestions], np.ndarray]:
        """(FileSuggestions shells, embeddings [n, D] of those that could be read)."""
        model = self._models.active()
        searcher = model.searcher()
        shells: list[FileSuggestions] = []
        vecs: list[np.ndarray] = []
        for t in targets:
            if isinstance(t, (int, np.integer)):
                photo = self._catalog.photo(int(t))
                shell = FileSuggestions(photo.path, photo.id)
            else:
                candidates = path_candidates(t)
                photo = self._catalog.photo_by_path(*candidates)
                shell = FileSuggestions(os.fsdecode(candidates[0]), photo.id if photo else None)
            try:
                vecs.append(searcher.image_embedding(shell.photo_id if shell.photo_id is not None else shell.path))
            except ClipDeskError as exc:
                shell.error = getattr(exc, "reason", None) or str(exc)
            shells.append(shell)
        return shells, (np.stack(vecs) if vecs else np.zeros((0, model.dim), np.float32))

    def _background(self, n: int = 4000) -> np.ndarray:
        from clipdesk.core.tagging import library_sample

        return library_sample(self._models.index(), n)

    def _zero_shot(self):
        """The calibrated zero-shot tagger, recalibrated as the library grows."""
        from clipdesk.core.tagging import Vocabulary, ZeroShotTagger, vocabulary_file

        model = self._models.active()
        index = self._models.index()
        key = ("zeroshot", model.model_id, len(index) // 100)
        with self._cache_lock:
            tagger = self._cache.get(key)
        if tagger is not None:
            return tagger
        if model.vocabulary is None:
            model.vocabulary = Vocabulary.load(
                vocabulary_file(self._paths.resources_dir, model.model_id), model.text, self._paths.text_cache_dir,
                denied=self._guard.denied)
        tagger = ZeroShotTagger(model.vocabulary, self._background())
        with self._cache_lock:
            self._cache = {k: v for k, v in self._cache.items() if k[0] != "zeroshot"}
            self._cache[key] = tagger
        return tagger

    def _learned(self, tag: str):
        """The learned model of a tag, refitted when its decisions change; None
        when none of its examples is embedded with the active model."""
        from clipdesk.core.tagging import LearnedTag

        pos_ids, neg_ids = self._catalog.tag_decisions(tag)
        if not pos_ids:
            return None
        model = self._models.active()
        key = ("learned", model.model_id, tag_key(tag), tuple(pos_ids), tuple(neg_ids))
        with self._cache_lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        index = self._models.index()
        pos = index.vectors(pos_ids)[1]
        if len(pos) == 0:
            return None
        neg = index.vectors(neg_ids)[1] if neg_ids else None
        learned = LearnedTag.fit(tag, pos, neg, self._background(2000))
        with self._cache_lock:
            self._cache = {k: v for k, v in self._cache.items() if k[:3] != key[:3]}
            self._cache[key] = learned
        return learned

    def _learned_models(self) -> list:
        return [lt for lt in (self._learned(t) for t in self._catalog.learned_tags()) if lt is not None]

    def learned(self) -> list[str]:
        """Names of the tags taught from examples."""
        return self._catalog.learned_tags()

    def teach(self, tag: str, positive_ids: Sequence[int], negative_ids: Sequence[int] = (), *,
              limit: int = 200) -> list[Hit]:
        """Learn ``tag`` from example photos (accepting them, rejecting the
        negatives); return the photos it would add, best first. Raises
        UsageError when no example is embedded with the active model."""
        if positive_ids:
            self.accept(positive_ids, tag)
        if negative_ids:
            self.reject(negative_ids, tag)
        self._catalog.set_learned(tag)
        learned = self._learned(tag)
        if learned is None:
            raise UsageError(f"teaching {tag!r} needs example photos that are indexed with the current model")
        pos_ids, neg_ids = self._catalog.tag_decisions(tag)
        decided = set(pos_ids) | set(neg_ids)
        index = self._models.index()
        k = min(len(index), limit * 3 + len(decided))
        if k == 0:
            return []
        hits = index.search(learned.direction, k)
        ids, vecs = index.vectors(hits.ids)
        probs = learned.probability(vecs) if len(vecs) else np.zeros(0)
        fresh = [(int(i), v, p) for i, v, p in zip(ids, vecs, probs) if p >= 0.5 and int(i) not in decided]
        ok = self._guard.allowed(tag, [Subject(i, v) for i, v, _p in fresh])
        prob = dict(zip(ids.tolist(), probs.tolist()))
        order = [(i, float(prob[i])) for (i, _v, _p), keep in zip(fresh, ok) if keep]
        order.sort(key=lambda t: -t[1])
        order = order[:limit]
        photos = {p.id: p for p in self._catalog.photos([i for i, _ in order])}
        return [Hit(photos[i], p) for i, p in order if i in photos]

    # -- the whole library ---------------------------------------------------------------
    def _library_tags(self, tags: Sequence[str] | None) -> dict[str, tuple[str, np.ndarray, np.ndarray]]:
        """tag -> (source, photo ids, confidences) it would carry across the library."""
        tagger = self._zero_shot()
        index = self._models.index()
        ids_all = index.ids()
        wanted = {tag_key(t) for t in tags} if tags is not None else None
        out: dict[str, tuple[str, list, list]] = {}
        learned = self._learned_models()
        for start in range(0, len(ids_all), 4096):
            ids, vecs = index.vectors(ids_all[start : start + 4096])
            conf, ok = tagger.confidences(vecs)
            names = [*tagger.vocab.tags, *(lt.tag for lt in learned)]
            sources = ["auto"] * len(tagger.vocab.tags) + ["learned"] * len(learned)
            if learned:
                probs = np.stack([lt.probability(vecs) for lt in learned], axis=1)
                conf, ok = np.hstack([conf, probs]), np.hstack([ok, probs >= 0.5])
            if wanted is not None:
                ok[:, [tag_key(t) not in wanted for t in names]] = False
            ok = self._guard.screen(names, ok, [Subject(int(i), v) for i, v in zip(ids, vecs)],
                                    _label_confidence(conf, len(tagger.vocab.tags)))
            for j, (tag, source) in enumerate(zip(names, sources)):
                scores = conf[:, j]
                rows = np.flatnonzero(ok[:, j])
                if len(rows):
                    _src, pid, pc = out.setdefault(tag, (source, [], []))
                    pid.extend(ids[rows].tolist())
                    pc.extend(scores[rows].tolist())
        return {t: (src, np.asarray(i, np.int64), np.asarray(c)) for t, (src, i, c) in out.items()}

    def preview_auto(self, tags: Sequence[str] | None = None) -> dict[str, int]:
        """How many photos each tag would get if applied to the whole library
        (photos where the user rejected the tag are not counted), most first."""
        result = {}
        for tag, (_src, ids, _c) in self._library_tags(tags).items():
            rejected = set(self._catalog.tagged_ids(tag, "rejected"))
            n = sum(1 for i in ids.tolist() if i not in rejected)
            if n:
                result[tag] = n
        return dict(sorted(result.items(), key=lambda kv: (-kv[1], kv[0])))

    def apply_auto(self, tags: Sequence[str] | None = None, *, sidecars: bool | None = None) -> AutoTagResult:
        """Tag the whole library with what the preview showed (state accepted,
        source auto or learned, with the confidence); the user's own decisions
        are kept. Sidecars are written when ``sidecars`` is true (default:
        :attr:`write_sidecars`)."""
        counts: dict[str, int] = {}
        changed: set[int] = set()
        for tag, (src, ids, conf) in self._library_tags(tags).items():
            self._catalog.set_photo_tags(ids.tolist(), tag, source=src, state="accepted",
                                         scores=conf.tolist(), keep_decisions=True)
            counts[tag] = len(ids)
            changed.update(ids.tolist())
        changes = Changes(photos=frozenset(changed), tags=bool(counts))
        if self.write_sidecars if sidecars is None else sidecars:
            changes = changes | self.write_all_sidecars(sorted(changed))
        return AutoTagResult(counts, changes)
