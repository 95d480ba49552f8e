"""XMP sidecars: ClipDesk's tags where digiKam, darktable and Lightroom look.

Which file
    One sidecar per photo: the one that exists (:func:`sidecar_for`). A photo
    that already has ``photo.xmp`` (Lightroom's, Capture One's and
    darktable's other convention) keeps it; no second ``photo.jpg.xmp`` is
    made beside it. When none exists, the ``style`` setting chooses:
    ``photo.jpg.xmp`` (the full file name plus ``.xmp``, the default) is what
    darktable reads and writes and what digiKam uses out of the box;
    ``photo.xmp`` (``style="stem"``) is what Lightroom, Capture One and
    digiKam's "compatible with commercial programs" setting use. A camera
    RAW's sidecar is always ``IMG_1.xmp`` when it has none: the name
    Lightroom gives it, and the one sidecar of a RAW+JPEG pair (one photo,
    the RAW its master). Reading accepts both names (``.xmp`` or ``.XMP``)
    and merges them.

What is written
    * ``dc:subject`` (an ``rdf:Bag``): every tag as a flat keyword; a nested
      tag contributes its last level ("Places|Beach" -> "Beach").
    * ``lr:hierarchicalSubject`` (an ``rdf:Bag``): every tag with its full
      path, levels separated by ``|`` - the separator Lightroom, darktable and
      digiKam all use in that field. So "|" nests in ClipDesk tag names and
      "/" is an ordinary character ("AC/DC", "1/125 s" stay flat).
    * ``digiKam:TagsList`` only if the sidecar already has one (digiKam reads
      it before anything else), with digiKam's "/" separator.
    * ``xmp:MetadataDate`` is set to now, as the XMP spec asks of any tool
      that changes metadata (Lightroom uses it to notice the change).

Everything else in an existing sidecar is kept: other namespaces, elements,
attributes, comments, processing instructions, the prefixes the file used
and its layout. Keywords that ClipDesk did not add stay unless the caller
removes them by name.

Safety
    * A sidecar that is a symbolic link (or not a regular file) is refused;
      the new content is written to a temp file beside it and moved over with
      ``os.replace``, which replaces a link swapped in meanwhile rather than
      following it.
    * XML with a DOCTYPE or entity declarations is refused before and while
      parsing (no billion laughs, no external entities); files over
      :data:`MAX_SIDECAR_BYTES` are refused.
    * A sidecar that cannot be parsed is never overwritten, and neither is a
      read-only one (the user, or a tool such as Lightroom's "read only"
      export, protected it): both are a :class:`SidecarError` for the caller
      to show.
    * Tag text is normalised by :func:`normalize_tag`: control and
      bidirectional-override characters removed, whitespace collapsed, length
      bounded; the serializer escapes XML's special characters.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from clipdesk.core.errors import ClipDeskError, UsageError
from clipdesk.core.fsutil import atomic_write
from clipdesk.core.names import HIERARCHY_SEPARATOR, InvalidTag, tag_key, tag_name
from clipdesk.core.photofiles import RAW_EXTENSIONS

log = logging.getLogger(__name__)

NS_X = "adobe:ns:meta/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_LR = "http://ns.adobe.com/lightroom/1.0/"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_DIGIKAM = "http://www.digikam.org/ns/1.0/"
NS_MSPHOTO = "http://ns.microsoft.com/photo/1.0/"
NS_XML = "http://www.w3.org/XML/1998/namespace"

_PREFERRED_PREFIX = {
    NS_X: "x",
    NS_RDF: "rdf",
    NS_DC: "dc",
    NS_LR: "lr",
    NS_XMP: "xmp",
    NS_DIGIKAM: "digiKam",
    NS_MSPHOTO: "MicrosoftPhoto",
}

#: Sidecars larger than this are not read (darktable's with long histories stay far below).
MAX_SIDECAR_BYTES = 16 * 1024 * 1024

_XPACKET_BEGIN = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
_XPACKET_END = '<?xpacket end="w"?>'


class SidecarError(ClipDeskError):
    """A sidecar cannot be read or written; the message names the file and why."""


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


# --------------------------------------------------------------------------- tag names


def _leaf(tag: str) -> str:
    return tag.rsplit(HIERARCHY_SEPARATOR, 1)[-1]


# --------------------------------------------------------------------------- paths


def sidecar_path(photo: Path, style: str = "extension") -> Path:
    """Where ClipDesk writes the sidecar of ``photo``.

    "extension": photo.jpg.xmp (darktable, digiKam's default);
    "stem": photo.xmp (Lightroom, Capture One, digiKam's compatibility mode).
    """
    photo = Path(photo)
    if style == "extension":
        return photo.with_name(photo.name + ".xmp")
    if style == "stem":
        return photo.with_suffix(".xmp")
    raise UsageError(f"unknown sidecar style {style!r}; use 'extension' or 'stem'")


def sidecar_for(photo: Path, style: str = "extension") -> Path:
    """The one sidecar of ``photo``: the first of :func:`sidecar_candidates`
    that exists, else the name ``style`` chooses (:func:`sidecar_path`) - for
    a camera RAW always ``photo.xmp``, the name Lightroom, Bridge and Capture
    One give a RAW's sidecar and the one both files of a RAW+JPEG pair share."""
    for candidate in sidecar_candidates(photo):
        if os.path.lexists(candidate):
            return candidate
    if os.path.splitext(str(photo))[1].lower() in RAW_EXTENSIONS:
        style = "stem"
    return sidecar_path(photo, style)


def sidecar_candidates(photo: Path) -> list[Path]:
    """Sidecar names another tool may have used for ``photo``, preferred first."""
    photo = Path(photo)
    names = [photo.name + ".xmp", photo.name + ".XMP", photo.stem + ".xmp", photo.stem + ".XMP"]
    seen: list[Path] = []
    for name in names:
        p = photo.with_name(name)
        if p not in seen and p != photo:
            seen.append(p)
    return seen


# --------------------------------------------------------------------------- parsing


class _Target:
    """ElementTree parser target that also keeps namespace prefixes and
    top-level comments/PIs, and refuses DOCTYPEs."""

    def __init__(self) -> None:
        self.builder = ET.TreeBuilder(insert_comments=True, insert_pis=True)
        self.pending_ns: list[tuple[str, str]] = []
        self.ns_decls: dict[int, list[tuple[str, str]]] = {}
        self.depth = 0
        self.prolog: list[ET.Element] = []
        self.epilog: list[ET.Element] = []
        self.seen_root = False

    def doctype(self, name, pubid, system):  # noqa: ANN001 - parser callback
        raise SidecarError("DOCTYPE declarations are not allowed in XMP")

    def start_ns(self, prefix: str, uri: str) -> None:
        self.pending_ns.append((prefix or "", uri))

    def end_ns(self, prefix: str) -> None:
        pass

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        elem = self.builder.start(tag, attrs)
        if self.pending_ns:
            self.ns_decls[id(elem)] = self.pending_ns
            self.pending_ns = []
        self.depth += 1
        self.seen_root = True
        return elem

    def end(self, tag: str) -> ET.Element:
        self.depth -= 1
        return self.builder.end(tag)

    def data(self, data: str) -> None:
        if self.depth:
            self.builder.data(data)

    def comment(self, text: str) -> None:
        if self.depth:
            self.builder.comment(text)
        else:
            (self.epilog if self.seen_root else self.prolog).append(ET.Comment(text))

    def pi(self, target: str, text: str | None) -> None:
        if self.depth:
            self.builder.pi(target, text)
        else:
            (self.epilog if self.seen_root else self.prolog).append(ET.ProcessingInstruction(target, text))

    def close(self) -> ET.Element:
        return self.builder.close()


@dataclass
class _Document:
    root: ET.Element
    ns_decls: dict[int, list[tuple[str, str]]]
    prolog: list[ET.Element]
    epilog: list[ET.Element]


_FORBIDDEN_DECL = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _parse(data: bytes, where: Path) -> _Document:
    if len(data) > MAX_SIDECAR_BYTES:
        raise SidecarError(f"{where} is larger than {MAX_SIDECAR_BYTES // 2**20} MiB; not reading it")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:64]:
        raise SidecarError(f"{where} is not UTF-8; ClipDesk reads UTF-8 sidecars only")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SidecarError(f"{where} is not valid UTF-8 (byte {exc.start})") from None
    if _FORBIDDEN_DECL.search(text):
        raise SidecarError(f"{where} declares a DOCTYPE or entities, which XMP never needs; refusing to parse it")
    target = _Target()
    parser = ET.XMLParser(target=target)
    try:
        parser.feed(text)
        root = parser.close()
    except SidecarError:
        raise
    except ET.ParseError as exc:
        raise SidecarError(f"{where} is not well-formed XML ({exc})") from None
    return _Document(root, target.ns_decls, target.prolog, target.epilog)


def _read_file(path: Path) -> bytes | None:
    """Bytes of a regular file, never through a symlink; None if it does not exist."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SidecarError(f"{path} cannot be read ({exc.strerror or exc})") from exc
    if stat.S_ISLNK(st.st_mode):
        raise SidecarError(f"{path} is a symbolic link; ClipDesk does not follow links for sidecars")
    if not stat.S_ISREG(st.st_mode):
        raise SidecarError(f"{path} is not a regular file")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SidecarError(f"{path} cannot be read ({exc.strerror or exc})") from exc
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise SidecarError(f"{path} is not a regular file")
        data = f.read(MAX_SIDECAR_BYTES + 1)
    return data


def _rdf_root(doc: _Document, where: Path, create: bool) -> ET.Element | None:
    root = doc.root
    if root.tag == _q(NS_RDF, "RDF"):
        return root
    if root.tag != _q(NS_X, "xmpmeta"):
        raise SidecarError(f"{where} is not an XMP sidecar (its root element is {root.tag})")
    rdf = root.find(_q(NS_RDF, "RDF"))
    if rdf is None and create:
        rdf = ET.SubElement(root, _q(NS_RDF, "RDF"))
    return rdf


def parse_xmp(data: bytes, where: str | Path) -> ET.Element | None:
    """The ``rdf:RDF`` element of an XMP document: a sidecar's bytes or the
    packet embedded in a photo (JPEG APP1, PNG iTXt, TIFF tag 700, WebP,
    HEIF). None when it holds no RDF. The rules of sidecars hold (UTF-8 only,
    no DOCTYPE or entities, at most :data:`MAX_SIDECAR_BYTES`); raises
    :class:`SidecarError` naming ``where`` when it does not parse."""
    root = _parse(data, Path(where)).root
    if root.tag == _q(NS_RDF, "RDF"):
        return root
    return root.find(f".//{_q(NS_RDF, 'RDF')}")


def _bag_items(prop: ET.Element) -> list[ET.Element]:
    for container in prop:
        if container.tag in (_q(NS_RDF, "Bag"), _q(NS_RDF, "Seq"), _q(NS_RDF, "Alt")):
            return [li for li in container if li.tag == _q(NS_RDF, "li")]
    return []


def _find_props(rdf: ET.Element, ns: str, local: str) -> list[ET.Element]:
    return [p for d in rdf.findall(_q(NS_RDF, "Description")) for p in d.findall(_q(ns, local))]


def _values(rdf: ET.Element, ns: str, local: str) -> list[str]:
    return [(li.text or "").strip() for p in _find_props(rdf, ns, local) for li in _bag_items(p)]


@dataclass(frozen=True)
class SidecarTags:
    """Tags found in a photo's sidecars, with "|" for nesting."""

    tags: tuple[str, ...]
    #: The sidecar files that were read.
    paths: tuple[Path, ...]


def _tags_of(doc: _Document, where: Path) -> list[str]:
    rdf = _rdf_root(doc, where, create=False)
    return tags_in(rdf, where) if rdf is not None else []


def tags_in(rdf: ET.Element, where: str | Path) -> list[str]:
    """The keywords an ``rdf:RDF`` element holds (a sidecar's or a photo's
    embedded packet's) as ClipDesk tags: lr:hierarchicalSubject, digiKam's
    TagsList and Microsoft's LastKeywordXMP nest ("|"), dc:subject keywords
    not covered by them stay flat. Names that cannot be tags are skipped."""
    hierarchical: list[str] = []
    raw = _values(rdf, NS_LR, "hierarchicalSubject")
    # digiKam's TagsList (and Microsoft's LastKeywordXMP) nest with "/", so a
    # tag whose name holds a "/" ("AC/DC") cannot be told from a nested one
    # there: where lr:hierarchicalSubject has the tag, it says which it is.
    slash_forms = {tag_key(v.replace(HIERARCHY_SEPARATOR, "/")) for v in raw}
    for value in _values(rdf, NS_DIGIKAM, "TagsList") + _values(rdf, NS_MSPHOTO, "LastKeywordXMP"):
        if tag_key(value) not in slash_forms:
            raw.append(value.replace("/", HIERARCHY_SEPARATOR))
    flat_raw = _values(rdf, NS_DC, "subject")
    result: list[str] = []
    seen: set[str] = set()
    for value in raw:
        tag = _valid_or_none(value, where)
        if tag is not None and tag_key(tag) not in seen:
            seen.add(tag_key(tag))
            hierarchical.append(tag)
            result.append(tag)
    covered = {tag_key(level) for tag in hierarchical for level in tag.split(HIERARCHY_SEPARATOR)}
    for value in flat_raw:
        # A flat keyword is one tag even if it holds "|": escape it as a level.
        tag = _valid_or_none(value.replace(HIERARCHY_SEPARATOR, "/"), where)
        if tag is not None and tag_key(tag) not in covered and tag_key(tag) not in seen:
            seen.add(tag_key(tag))
            result.append(tag)
    return result


def _valid_or_none(value: str, where: Path) -> str | None:
    try:
        return tag_name(value)
    except InvalidTag as exc:
        if value.strip():
            log.warning("%s: skipping keyword %r: %s", where, value[:80], exc)
        return None


def read_sidecar(path: Path) -> tuple[str, ...]:
    """Tags of one sidecar file (empty if it does not exist)."""
    path = Path(path)
    data = _read_file(path)
    if data is None:
        return ()
    return tuple(_tags_of(_parse(data, path), path))


def read_tags(photo: Path) -> SidecarTags:
    """Tags from every sidecar of ``photo`` (both naming conventions), merged.

    Raises :class:`SidecarError` if a sidecar exists but cannot be read.
    """
    tags: list[str] = []
    seen: set[str] = set()
    paths: list[Path] = []
    for path in sidecar_candidates(photo):
        data = _read_file(path)
        if data is None:
            continue
        try:
            same_as_earlier = any(os.path.samefile(path, p) for p in paths)
        except OSError:
            same_as_earlier = False
        if same_as_earlier:
            continue  # case-insensitive file system: photo.xmp and photo.XMP are one file
        paths.append(path)
        for tag in _tags_of(_parse(data, path), path):
            if tag_key(tag) not in seen:
                seen.add(tag_key(tag))
                tags.append(tag)
    return SidecarTags(tuple(tags), tuple(paths))


# --------------------------------------------------------------------------- writing


def _new_document() -> _Document:
    root = ET.Element(_q(NS_X, "xmpmeta"), {_q(NS_X, "xmptk"): "ClipDesk"})
    layout = _Layout(root)
    rdf = ET.Element(_q(NS_RDF, "RDF"))
    layout.append(root, rdf)
    layout.append(rdf, ET.Element(_q(NS_RDF, "Description"), {_q(NS_RDF, "about"): ""}))
    return _Document(root, {}, [], [])


def _indent_of(text: str | None) -> str | None:
    """The indentation after the last newline of ``text``; None if it has none."""
    if not text or "\n" not in text:
        return None
    tail = text.rsplit("\n", 1)[1]
    return tail if not tail.strip() else None


class _Layout:
    """Inserts and removes elements keeping the file's indentation."""

    STEP = " "  # exiv2 (darktable, digiKam) indents XMP by one space

    def __init__(self, root: ET.Element) -> None:
        self.parents = {child: parent for parent in root.iter() for child in parent}

    def child_indent(self, parent: ET.Element) -> str:
        if len(parent):
            found = _indent_of(parent.text)
            if found is not None:
                return found
        return self.own_indent(parent) + self.STEP

    def own_indent(self, elem: ET.Element) -> str:
        parent = self.parents.get(elem)
        return "" if parent is None else self.child_indent(parent)

    def append(self, parent: ET.Element, child: ET.Element) -> None:
        indent = self.child_indent(parent)
        if len(parent):
            last = parent[-1]
            child.tail = last.tail
            last.tail = "\n" + indent
        else:
            parent.text = "\n" + indent
            child.tail = "\n" + self.own_indent(parent)
        parent.append(child)
        self.parents[child] = parent

    def remove(self, parent: ET.Element, child: ET.Element) -> None:
        children = list(parent)
        i = children.index(child)
        if i > 0:
            children[i - 1].tail = child.tail
        elif len(children) == 1:
            parent.text = None
        parent.remove(child)
        self.parents.pop(child, None)


def _ensure_bag(layout: _Layout, desc: ET.Element, ns: str, local: str, kind: str = "Bag") -> ET.Element:
    prop = desc.find(_q(ns, local))
    if prop is None:
        prop = ET.Element(_q(ns, local))
        layout.append(desc, prop)
    for container in prop:
        if container.tag in (_q(NS_RDF, "Bag"), _q(NS_RDF, "Seq"), _q(NS_RDF, "Alt")):
            return container
    container = ET.Element(_q(NS_RDF, kind))
    prop.text = None
    layout.append(prop, container)
    return container


def _set_items(layout: _Layout, container: ET.Element, wanted: list[str], removed: set[str]) -> bool:
    """Drop items whose key is in ``removed``, append ``wanted`` ones missing. True if changed.

    A property left without items is removed (an empty bag says nothing).
    """
    changed = False
    present = set()
    for li in [li for li in container if li.tag == _q(NS_RDF, "li")]:
        key = tag_key((li.text or "").strip())
        if key in removed:
            layout.remove(container, li)
            changed = True
        else:
            present.add(key)
    for value in wanted:
        if tag_key(value) not in present:
            li = ET.Element(_q(NS_RDF, "li"))
            li.text = value
            layout.append(container, li)
            present.add(tag_key(value))
            changed = True
    if changed and not len(container):
        prop = layout.parents[container]
        layout.remove(layout.parents[prop], prop)
    return changed


def _set_metadata_date(rdf: ET.Element, desc: ET.Element) -> None:
    now = datetime.now().astimezone().isoformat(timespec="seconds")
    attr = _q(NS_XMP, "MetadataDate")
    for d in rdf.findall(_q(NS_RDF, "Description")):
        if attr in d.attrib:
            d.set(attr, now)
            return
        elem = d.find(attr)
        if elem is not None:
            elem.text = now
            return
    desc.set(attr, now)


@dataclass(frozen=True)
class Marks:
    """A photographer's culling marks as XMP carries them (XMP Specification
    Part 2, xmp namespace): ``xmp:Rating`` 0-5 stars, -1 for a rejected photo
    (as Adobe Bridge writes it and digiKam reads it); ``xmp:Label`` the colour
    label's name ("Red", as Lightroom and Bridge write it). A pick has no
    standard XMP field: it stays in the catalog."""

    rating: int = 0
    rejected: bool = False
    label: str | None = None

    @property
    def xmp_rating(self) -> int:
        return -1 if self.rejected else self.rating

    @property
    def xmp_label(self) -> str | None:
        return self.label.capitalize() if self.label else None


def _set_simple(rdf: ET.Element, desc: ET.Element, ns: str, local: str, value: str | None) -> bool:
    """Set (or, for None, remove) a simple property wherever the document
    keeps it (an attribute or an element of any rdf:Description); True when
    the document changed."""
    name = _q(ns, local)
    for d in rdf.findall(_q(NS_RDF, "Description")):
        if name in d.attrib:
            if d.get(name) == value:
                return False
            if value is None:
                del d.attrib[name]
            else:
                d.set(name, value)
            return True
        elem = d.find(name)
        if elem is not None:
            if value is None:
                d.remove(elem)
            elif (elem.text or "") == value:
                return False
            else:
                elem.text = value
            return True
    if value is None:
        return False
    desc.set(name, value)
    return True


def read_marks(photo: Path) -> Marks | None:
    """The marks in the sidecar of ``photo`` (:func:`sidecar_for`), None when it
    has none. Raises :class:`SidecarError` when it cannot be read."""
    path = sidecar_for(photo)
    data = _read_file(path)
    if data is None:
        return None
    rdf = _rdf_root(_parse(data, path), path, create=False)
    return marks_in(rdf) if rdf is not None else None


def marks_in(rdf: ET.Element) -> Marks | None:
    """The marks an ``rdf:RDF`` element holds (a sidecar's or an embedded
    packet's), None when it holds none; values that do not parse are ignored."""
    values = {}
    for local in ("Rating", "Label"):
        name = _q(NS_XMP, local)
        for d in rdf.findall(_q(NS_RDF, "Description")):
            value = d.get(name)
            if value is None and d.find(name) is not None:
                value = d.find(name).text
            if value is not None:
                values[local] = value.strip()
                break
    if not values:
        return None
    try:
        rating = round(float(values.get("Rating", "0")))
    except ValueError:
        rating = 0
    label = values.get("Label", "").lower() or None
    return Marks(max(0, min(5, rating)), rating < 0, label if label in _LABELS else None)


_LABELS = ("red", "yellow", "green", "blue", "purple")


def update_tags(
    photo: Path,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    *,
    style: str = "extension",
    marks: Marks | None = None,
) -> Path | None:
    """Add and remove tags in the sidecar of ``photo`` (:func:`sidecar_for`:
    the one that exists, else the name ``style`` chooses); returns its path.

    Tags are ClipDesk names ("|" nests). Comparison ignores case; keywords
    written by other tools stay unless named in ``remove``. ``marks``, when
    given, are written as xmp:Rating and xmp:Label (:class:`Marks`). No file
    is created when there is nothing to add, and an unchanged sidecar is not
    rewritten.
    Raises :class:`SidecarError` (symlink, read-only, unreadable or malformed
    sidecar, disk error) and :class:`InvalidTag`.
    """
    to_add = [tag_name(t) for t in add]
    to_remove = [tag_name(t) for t in remove]
    remove_keys = {tag_key(t) for t in to_remove}
    to_add = [t for t in to_add if tag_key(t) not in remove_keys]
    path = sidecar_for(photo, style)
    data = _read_file(path)
    if data is None:
        if not to_add and (marks is None or marks == Marks()):
            return None
        doc = _new_document()
    else:
        doc = _parse(data, path)
    layout = _Layout(doc.root)
    rdf = _rdf_root(doc, path, create=False)
    if rdf is None:
        rdf = ET.Element(_q(NS_RDF, "RDF"))
        layout.append(doc.root, rdf)

    existing_hier = _values(rdf, NS_LR, "hierarchicalSubject")
    remaining_hier = [
        t for t in (_valid_or_none(v, path) for v in existing_hier) if t is not None and tag_key(t) not in remove_keys
    ]
    final_hier = remaining_hier + [t for t in to_add if tag_key(t) not in {tag_key(h) for h in remaining_hier}]
    final_leaves = {tag_key(_leaf(t)) for t in final_hier}
    # A removed tag's leaf leaves dc:subject unless a remaining tag still has it.
    flat_remove = {tag_key(_leaf(t)) for t in to_remove} - final_leaves

    descs = rdf.findall(_q(NS_RDF, "Description"))
    if not descs:
        desc = ET.Element(_q(NS_RDF, "Description"), {_q(NS_RDF, "about"): ""})
        layout.append(rdf, desc)
        descs = [desc]

    def home(ns: str, local: str) -> ET.Element:
        for d in descs:
            if d.find(_q(ns, local)) is not None:
                return d
        return descs[0]

    changed = False
    if to_add or bool(_find_props(rdf, NS_DC, "subject")):
        bag = _ensure_bag(layout, home(NS_DC, "subject"), NS_DC, "subject")
        changed |= _set_items(layout, bag, _dedupe_keys(_leaf(t) for t in to_add), flat_remove)
    if to_add or bool(_find_props(rdf, NS_LR, "hierarchicalSubject")):
        bag = _ensure_bag(layout, home(NS_LR, "hierarchicalSubject"), NS_LR, "hierarchicalSubject")
        changed |= _set_items(layout, bag, to_add, remove_keys)
    if _find_props(rdf, NS_DIGIKAM, "TagsList"):
        bag = _ensure_bag(layout, home(NS_DIGIKAM, "TagsList"), NS_DIGIKAM, "TagsList", kind="Seq")
        dk = lambda t: t.replace(HIERARCHY_SEPARATOR, "/")  # noqa: E731
        changed |= _set_items(layout, bag, [dk(t) for t in to_add], {tag_key(dk(t)) for t in to_remove})
    if marks is not None:
        desc = home(NS_XMP, "Rating")
        changed |= _set_simple(rdf, desc, NS_XMP, "Rating", str(marks.xmp_rating) if marks.xmp_rating else None)
        changed |= _set_simple(rdf, desc, NS_XMP, "Label", marks.xmp_label)
    if not changed:
        return path if data is not None else None
    _set_metadata_date(rdf, home(NS_DC, "subject"))
    _write_atomic(path, _serialize(doc))
    return path


def _dedupe_keys(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    keys: set[str] = set()
    for v in values:
        if tag_key(v) not in keys:
            keys.add(tag_key(v))
            out.append(v)
    return out


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise SidecarError(f"{path} cannot be written ({exc.strerror or exc})") from exc
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise SidecarError(f"{path} is a symbolic link; ClipDesk does not write through links")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise SidecarError(f"{path} is not a regular file")
    if st is not None and not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise SidecarError(f"{path} is read-only; ClipDesk does not overwrite it (make it writable to update it)")
    try:
        atomic_write(path, data)
    except OSError as exc:
        raise SidecarError(f"{path} could not be written ({exc.strerror or exc})") from exc


# --------------------------------------------------------------------------- serializer


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(text: str) -> str:
    return (
        _escape_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    )


def _split(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        uri, local = tag[1:].split("}", 1)
        return uri, local
    return None, tag


class _Writer:
    """Serialises an ElementTree keeping each namespace's original prefix and
    declaring it where the source did; namespaces new to the file get their
    usual XMP prefix, declared on the element that first needs it."""

    def __init__(self, doc: _Document) -> None:
        self.doc = doc
        self.out: list[str] = []
        self.preferred = dict(_PREFERRED_PREFIX)
        for decls in doc.ns_decls.values():
            for prefix, uri in decls:
                if prefix:
                    self.preferred.setdefault(uri, prefix)

    def prefix_for(self, uri: str, scope: dict[str, str], new: list[tuple[str, str]], attribute: bool) -> str:
        if uri == NS_XML:
            return "xml"
        for prefix, bound in scope.items():
            if bound == uri and (prefix or not attribute):
                return prefix
        base = self.preferred.get(uri, "ns")
        prefix, n = base, 0
        while prefix in scope or prefix in ("xml", "xmlns"):
            n += 1
            prefix = f"{base}{n}"
        scope[prefix] = uri
        new.append((prefix, uri))
        return prefix

    def element(self, elem: ET.Element, scope: dict[str, str]) -> None:
        if elem.tag is ET.Comment:
            self.out.append(f"<!--{elem.text or ''}-->")
        elif elem.tag is ET.ProcessingInstruction:
            self.out.append(f"<?{elem.text or ''}?>")
        else:
            scope = dict(scope)
            new: list[tuple[str, str]] = []
            for prefix, uri in self.doc.ns_decls.get(id(elem), []):
                if scope.get(prefix) != uri:
                    scope[prefix] = uri
                    new.append((prefix, uri))
            uri, local = _split(elem.tag)
            if uri is None:
                if scope.get(""):
                    scope[""] = ""
                    new.append(("", ""))
                name = local
            else:
                p = self.prefix_for(uri, scope, new, attribute=False)
                name = f"{p}:{local}" if p else local
            attrs = []
            for key, value in elem.attrib.items():
                a_uri, a_local = _split(key)
                a_name = a_local if a_uri is None else f"{self.prefix_for(a_uri, scope, new, attribute=True)}:{a_local}"
                attrs.append(f' {a_name}="{_escape_attr(value)}"')
            decls = "".join(
                f' xmlns{":" + p if p else ""}="{_escape_attr(u)}"' for p, u in new
            )
            self.out.append(f"<{name}{decls}{''.join(attrs)}")
            if elem.text or len(elem):
                self.out.append(">")
                if elem.text:
                    self.out.append(_escape_text(elem.text))
                for child in elem:
                    self.element(child, scope)
                self.out.append(f"</{name}>")
            else:
                self.out.append("/>")
        if elem.tail:
            self.out.append(_escape_text(elem.tail))

    def render(self) -> bytes:
        prolog = self.doc.prolog
        has_xpacket = any(p.tag is ET.ProcessingInstruction and (p.text or "").startswith("xpacket") for p in prolog)
        if not has_xpacket:
            self.out.append('<?xml version="1.0" encoding="UTF-8"?>\n')
        for node in prolog:
            self.element(node, {})
            self.out.append("\n")
        self.element(self.doc.root, {})
        for node in self.doc.epilog:
            self.out.append("\n")
            self.element(node, {})
        self.out.append("\n")
        return "".join(self.out).encode("utf-8")


def _serialize(doc: _Document) -> bytes:
    return _Writer(doc).render()


__all__ = [
    "HIERARCHY_SEPARATOR",
    "InvalidTag",
    "Marks",
    "SidecarError",
    "SidecarTags",
    "marks_in",
    "tags_in",
    "read_marks",
    "read_sidecar",
    "read_tags",
    "sidecar_candidates",
    "sidecar_for",
    "sidecar_path",
    "update_tags",
]
