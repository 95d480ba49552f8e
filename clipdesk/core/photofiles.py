"""What is a photo: one predicate for the scanner, the watcher and dropped files.

:func:`classify` decides from the name, and from the first bytes when the name
does not settle it:

* **leftovers** that editing and sync tools write beside photos are never
  photos: macOS resource forks (``._IMG_1.jpg``), editor backups
  (``IMG_1.jpg~``, ``IMG_1.jpg.bak``, ExifTool's ``IMG_1.jpg_original``),
  downloads and copies in progress (``.part``, ``.crdownload``, ``.tmp``),
  Windows' ``Thumbs.db``; folders of other tools' caches and trash are not
  walked (:data:`SKIP_DIRS`);
* **RAW** camera files, by extension or by their container and maker
  signature (a renamed ``.NEF`` is still a RAW), are decoded through LibRaw
  (:mod:`clipdesk.core.raw`), never shown as the small TIFF preview many of
  them carry; the JPEG or HEIF a camera wrote beside one is its
  **companion** (:func:`companions`): one photo with two files;
* known image extensions are photos; known other formats are not; anything
  else is decided by its first bytes.
"""

from __future__ import annotations

import enum
import os

__all__ = ["COMPANION_EXTENSIONS", "IMAGE_EXTENSIONS", "RAW_EXTENSIONS", "RAW_FORMATS", "is_raw_format", "SKIP_DIRS", "Kind", "classify", "companions",
           "is_raw_head", "raw_format", "sniff"]

#: File name extensions that are worth opening as images.
IMAGE_EXTENSIONS = frozenset(
    ".jpg .jpeg .jpe .jfif .png .webp .gif .bmp .dib .tif .tiff .heic .heif .hif .avif".split()
)

#: Camera RAW formats (LibRaw's list of the common ones).
RAW_EXTENSIONS = frozenset(
    (".cr2 .cr3 .crw .nef .nrw .arw .srf .sr2 .raf .rw2 .rwl .orf .pef .ptx .srw .dng .x3f .3fr .fff .erf "
     ".kdc .dcr .mos .mrw .mef .iiq .gpr .raw").split()
)

#: The catalog's ``format`` of each RAW format ("nef", "dng", ...; "raw" when
#: only the content said RAW).
RAW_FORMATS = frozenset(ext[1:] for ext in RAW_EXTENSIONS)


def is_raw_format(format_name: str | None) -> bool:
    """Whether a catalogued photo's ``format`` is a camera RAW one."""
    return format_name is not None and format_name.lower() in RAW_FORMATS


#: Extensions that are never photos: no need to sniff their content.
NOT_PHOTOS = frozenset(
    (".xmp .json .txt .md .pdf .doc .docx .xls .xlsx .zip .7z .rar .gz .tar .mp4 .mov "
     ".avi .mkv .m4v .mts .wav .mp3 .m4a .aac .flac .ogg .db .ini .lnk .exe .dll .so .py "
     ".html .htm .css .js .xml .csv .log .thm .aae .lrcat .lrdata .pp3 .dop .on1 .pto .psd "
     ".bak .tmp .part .crdownload .partial .download .swp .orig").split()
)

#: Folders that hold other tools' caches and trash, never photos to index.
SKIP_DIRS = frozenset(
    {b"@eaDir", b"$RECYCLE.BIN", b"System Volume Information", b"lost+found", b"#recycle",
     b"__pycache__", b"node_modules", b".@__thumb", b".picasaoriginals", b".thumbnails"}
)

_LEFTOVER_SUFFIXES = (b"~", b"_original", b".bak", b".orig")
_LEFTOVER_NAMES = frozenset({b"thumbs.db", b"desktop.ini", b".ds_store"})

_IMAGE_MAGIC = (
    b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM",
    b"II*\x00", b"MM\x00*",
)
_HEIF_BRANDS = (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"avif", b"hevc")


class Kind(enum.Enum):
    PHOTO = "photo"
    RAW = "raw"
    NOT_PHOTO = "not a photo"


def _lower_ext(name: bytes) -> str:
    return os.path.splitext(name)[1].lower().decode("ascii", "replace")


def is_leftover(name: bytes) -> bool:
    """A backup, resource fork or partial file that a tool left beside a photo."""
    low = name.lower()
    return (
        name.startswith(b"._")
        or low in _LEFTOVER_NAMES
        or low.endswith(_LEFTOVER_SUFFIXES)
    )


def is_raw_head(head: bytes) -> bool:
    """RAW containers recognisable from their first bytes alone: Canon CR2
    (TIFF with "CR" at 8), CR3 (ISO BMFF brand "crx ") and CRW (CIFF "HEAPCCDR"),
    Phase One IIQ (TIFF with "IIII" at 8), Fujifilm RAF, Olympus ORF, Panasonic
    RW2, Sigma X3F, Minolta MRW."""
    return (
        (head[:4] == b"II*\x00" and head[8:10] == b"CR")
        or (head[:4] == b"II*\x00" and head[8:12] == b"IIII")
        or (head[:2] == b"II" and head[6:12] == b"HEAPCC")
        or (head[4:8] == b"ftyp" and head[8:12] == b"crx ")
        or head.startswith(b"FUJIFILMCCD-RAW")
        or head[:4] in (b"IIRO", b"IIRS", b"MMOR", b"IIU\x00")
        or head.startswith(b"FOVb")
        or head.startswith(b"\x00MRM")
    )


def _tiff_raw(data: bytes) -> str | None:
    """"DNG" for a TIFF that carries DNGVersion (tag 50706), "RAW" for one whose
    first image is a reduced-resolution preview (NewSubfileType 1) of a camera
    (Make set), as NEF, ARW, PEF, SRW and most TIFF-based RAW formats are laid
    out (TIFF 6.0 section 8; Adobe DNG 1.6 specification); None otherwise."""
    endian = {b"II": "little", b"MM": "big"}.get(data[:2])
    if endian is None or len(data) < 8:
        return None
    first = int.from_bytes(data[4:8], endian)
    if first + 2 > len(data):
        return None
    tags: dict[int, int] = {}
    for i in range(min(int.from_bytes(data[first : first + 2], endian), 512)):
        entry = data[first + 2 + 12 * i : first + 14 + 12 * i]
        if len(entry) < 12:
            break
        tags[int.from_bytes(entry[:2], endian)] = int.from_bytes(entry[8:12], endian)
    if 50706 in tags:
        return "DNG"
    return "RAW" if tags.get(254) == 1 and 271 in tags else None


def raw_format(name: bytes | str, data: bytes) -> str | None:
    """The RAW format of a file from its name and content ("NEF", "CR3", "DNG"
    for a TIFF-based RAW with another name...), or None when it is not RAW."""
    ext = _lower_ext(os.fsencode(name))
    if ext in RAW_EXTENSIONS:
        return ext[1:].upper()
    head = data[:16]
    if is_raw_head(head):
        return "RAW"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff_raw(data[: 1 << 16])
    return None


#: What a camera writes beside a RAW when set to RAW+JPEG or RAW+HEIF, best first.
COMPANION_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".heic", ".heif", ".hif")


def companions(files: list[tuple[bytes, Kind]]) -> dict[bytes, bytes]:
    """RAW name -> the name of its companion among one folder's files ((name,
    kind) pairs): a JPEG or HEIF with the same name but for the extension
    (compared case-insensitively), which the camera wrote with it. The pair
    is one photo with the RAW as its master, as Lightroom imports RAW+JPEG by
    default and digiKam groups them. A JPEG is preferred to a HEIF; each
    rendered file belongs to at most one RAW."""
    def stem(name: bytes) -> str:
        return os.fsdecode(os.path.splitext(name)[0]).casefold()

    rendered: dict[str, list[tuple[int, bytes]]] = {}
    for name, kind in files:
        ext = _lower_ext(name)
        if kind is Kind.PHOTO and ext in COMPANION_EXTENSIONS:
            rendered.setdefault(stem(name), []).append((COMPANION_EXTENSIONS.index(ext), name))
    out: dict[bytes, bytes] = {}
    for name, kind in sorted(files):
        candidates = rendered.get(stem(name)) if kind is Kind.RAW else None
        if candidates:
            out[name] = min(candidates)[1]
            del rendered[stem(name)]
    return out


def sniff(head: bytes) -> Kind:
    """Kind from a file's first 16+ bytes (for names that say nothing)."""
    if is_raw_head(head):
        return Kind.RAW
    if head.startswith(_IMAGE_MAGIC):
        return Kind.PHOTO
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Kind.PHOTO
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return Kind.PHOTO
    return Kind.NOT_PHOTO


def classify(name: bytes | str, path: bytes | str | os.PathLike | None = None) -> Kind:
    """What the file called ``name`` is. With ``path``, a name that does not
    settle it is decided by the file's first bytes (one small read); without,
    such a name counts as a possible photo (the watcher, which only needs to
    know whether a change may matter)."""
    name = os.fsencode(name)
    if is_leftover(name) or name.startswith(b"."):
        return Kind.NOT_PHOTO
    ext = _lower_ext(name)
    if ext in RAW_EXTENSIONS:
        return Kind.RAW
    if ext in IMAGE_EXTENSIONS:
        return Kind.PHOTO
    if ext in NOT_PHOTOS:
        return Kind.NOT_PHOTO
    if path is None:
        return Kind.PHOTO
    try:
        with open(path, "rb") as f:
            return sniff(f.read(16))
    except OSError:
        return Kind.NOT_PHOTO
