"""XMP sidecars: real files, other tools' fields kept, hostile input refused."""

from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from clipdesk.core.names import MAX_TAG_LENGTH, InvalidTag
from clipdesk.core.names import tag_name as normalize_tag
from clipdesk.core.sidecar import (
    MAX_SIDECAR_BYTES,
    SidecarError,
    read_sidecar,
    read_tags,
    sidecar_candidates,
    sidecar_path,
    update_tags,
)

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DC = "http://purl.org/dc/elements/1.1/"
LR = "http://ns.adobe.com/lightroom/1.0/"
XMP = "http://ns.adobe.com/xap/1.0/"
DIGIKAM = "http://www.digikam.org/ns/1.0/"

DARKTABLE_XMP = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:darktable="http://darktable.sf.net/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
   exif:DateTimeOriginal="2023:07:14 18:22:10"
   xmp:Rating="3"
   xmpMM:DerivedFrom="IMG_0042.jpg"
   darktable:import_timestamp="63842934200"
   darktable:change_timestamp="63842934911"
   darktable:xmp_version="5"
   darktable:raw_params="0"
   darktable:auto_presets_applied="1"
   darktable:history_end="2"
   darktable:iop_order_version="4">
   <darktable:masks_history>
    <rdf:Seq/>
   </darktable:masks_history>
   <darktable:history>
    <rdf:Seq>
     <rdf:li
      darktable:num="0"
      darktable:operation="colorin"
      darktable:enabled="1"
      darktable:modversion="7"
      darktable:params="gz48eJxjZBgFowABWAbaAaNgFIwCUgAAEvgABQ=="
      darktable:multi_name=""
      darktable:multi_priority="0"/>
     <rdf:li
      darktable:num="1"
      darktable:operation="exposure"
      darktable:enabled="1"
      darktable:modversion="6"
      darktable:params="0000000000000000cdcc4c3e0000803f00000000"
      darktable:multi_name="&lt;sky&gt; &amp; sea"
      darktable:multi_priority="0"/>
    </rdf:Seq>
   </darktable:history>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>holiday</rdf:li>
     <rdf:li>Beach</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <lr:hierarchicalSubject>
    <rdf:Bag>
     <rdf:li>darktable|format|jpg</rdf:li>
     <rdf:li>holiday</rdf:li>
     <rdf:li>Places|Beach</rdf:li>
    </rdf:Bag>
   </lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""

LIGHTROOM_XMP = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000, 0000/00/00-00:00:00        ">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <!-- Lightroom keeps develop settings here -->
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:tiff="http://ns.adobe.com/tiff/1.0/"
    xmlns:aux="http://ns.adobe.com/exif/1.0/aux/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
   xmp:ModifyDate="2023-07-14T18:22:10.01+02:00"
   xmp:MetadataDate="2023-08-01T10:00:00+02:00"
   xmp:Rating="4"
   tiff:Make="FUJIFILM"
   tiff:Model="X-T3"
   aux:Lens="XF16-55mmF2.8 R LM WR"
   photoshop:DateCreated="2023-07-14T18:22:10.01"
   xmpMM:DocumentID="xmp.did:0a1b2c3d"
   crs:Version="15.4"
   crs:Exposure2012="+0.35"
   crs:HasCrop="False">
   <xmpMM:History>
    <rdf:Seq>
     <rdf:li
      stEvt:action="saved"
      stEvt:when="2023-08-01T10:00:00+02:00"
      stEvt:softwareAgent="Adobe Photoshop Lightroom Classic 12.4 (Macintosh)"
      stEvt:changed="/metadata"/>
    </rdf:Seq>
   </xmpMM:History>
   <crs:ToneCurvePV2012>
    <rdf:Seq>
     <rdf:li>0, 0</rdf:li>
     <rdf:li>255, 255</rdf:li>
    </rdf:Seq>
   </crs:ToneCurvePV2012>
  </rdf:Description>
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/">
   <dc:title>
    <rdf:Alt>
     <rdf:li xml:lang="x-default">Sunset at \u00c9tretat &amp; cliffs</rdf:li>
    </rdf:Alt>
   </dc:title>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>Europe</rdf:li>
     <rdf:li>France</rdf:li>
     <rdf:li>\u00c9tretat</rdf:li>
     <rdf:li>sunset</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <lr:hierarchicalSubject>
    <rdf:Bag>
     <rdf:li>Places|Europe|France|\u00c9tretat</rdf:li>
     <rdf:li>sunset</rdf:li>
    </rdf:Bag>
   </lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""

OURS = {f"{{{DC}}}subject", f"{{{LR}}}hierarchicalSubject", f"{{{DIGIKAM}}}TagsList"}


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    p = tmp_path / "IMG_0042.jpg"
    p.write_bytes(b"\xff\xd8\xff\xd9")
    return p


def _symlink_or_skip(link: Path, target: Path) -> None:
    try:
        link.symlink_to(target)
    except (OSError, NotImplementedError) as exc:  # Windows without the privilege
        pytest.skip(f"cannot create symlinks here: {exc}")


posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _bag(path: Path, ns: str, local: str) -> list[str]:
    root = ET.parse(path).getroot()
    return [li.text or "" for prop in root.iter(f"{{{ns}}}{local}") for li in prop.iter(f"{{{RDF}}}li")]


def _foreign(path: Path) -> list[tuple]:
    """Everything in the file that ClipDesk does not manage, in document order."""
    root = ET.parse(path).getroot()
    skip = set()
    for elem in root.iter():
        if elem.tag in OURS:
            skip.update(id(e) for e in elem.iter())
    out = []
    for elem in root.iter():
        if id(elem) in skip:
            continue
        attrs = {k: v for k, v in elem.attrib.items() if k != f"{{{XMP}}}MetadataDate"}
        text = (elem.text or "").strip() if not len(elem) else ""
        out.append((elem.tag, tuple(sorted(attrs.items())), text))
    return out


# --------------------------------------------------------------------------- names


def test_sidecar_names(tmp_path):
    p = tmp_path / "IMG_1.JPG"
    assert sidecar_path(p) == tmp_path / "IMG_1.JPG.xmp"
    assert sidecar_path(p, "stem") == tmp_path / "IMG_1.xmp"
    assert sidecar_candidates(p) == [
        tmp_path / "IMG_1.JPG.xmp",
        tmp_path / "IMG_1.JPG.XMP",
        tmp_path / "IMG_1.xmp",
        tmp_path / "IMG_1.XMP",
    ]
    with pytest.raises(Exception, match="unknown sidecar style"):
        sidecar_path(p, "picasa")


# --------------------------------------------------------------------------- writing new


def test_new_sidecar_holds_flat_and_hierarchical_tags(photo):
    written = update_tags(photo, add=["dog", "Places|Beach", "Animals | Dog"])
    assert written == photo.with_name("IMG_0042.jpg.xmp")
    assert _bag(written, DC, "subject") == ["dog", "Beach"]  # "Dog" is the same keyword as "dog"
    assert _bag(written, LR, "hierarchicalSubject") == ["dog", "Places|Beach", "Animals|Dog"]
    desc = ET.parse(written).getroot().find(f"{{{RDF}}}RDF/{{{RDF}}}Description")
    assert desc.get(f"{{{XMP}}}MetadataDate")
    assert read_tags(photo).tags == ("dog", "Places|Beach", "Animals|Dog")
    text = written.read_text("utf-8")
    assert "<dc:subject" in text and "<lr:hierarchicalSubject" in text and "ns0:" not in text
    if os.name == "posix":
        assert written.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_nothing_to_add_creates_nothing_and_no_change_rewrites_nothing(photo):
    assert update_tags(photo, remove=["dog"]) is None
    assert not sidecar_path(photo).exists()
    path = update_tags(photo, add=["dog"])
    before = path.stat()
    assert update_tags(photo, add=["DOG"], remove=[]) == path
    after = path.stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_stem_style_writes_photo_xmp(photo):
    path = update_tags(photo, add=["x"], style="stem")
    assert path.name == "IMG_0042.xmp"
    assert read_tags(photo).tags == ("x",)


# --------------------------------------------------------------------------- foreign files


def test_darktable_sidecar_keeps_every_foreign_field(photo):
    path = sidecar_path(photo)
    path.write_text(DARKTABLE_XMP, "utf-8")
    foreign_before = _foreign(path)
    assert read_tags(photo).tags == ("darktable|format|jpg", "holiday", "Places|Beach")

    update_tags(photo, add=["dog", "Animals|Cat"], remove=["holiday"])

    assert _foreign(path) == foreign_before
    assert _bag(path, DC, "subject") == ["Beach", "dog", "Cat"]
    assert _bag(path, LR, "hierarchicalSubject") == ["darktable|format|jpg", "Places|Beach", "dog", "Animals|Cat"]
    text = path.read_text("utf-8")
    # The file's own prefixes and escaping survive.
    assert "darktable:history" in text and "xmpMM:DerivedFrom" in text
    assert 'darktable:multi_name="&lt;sky&gt; &amp; sea"' in text
    # Layout: new items are indented like their siblings.
    assert "\n     <rdf:li>dog</rdf:li>\n" in text


def test_lightroom_sidecar_with_xpacket_and_two_descriptions(photo):
    path = sidecar_path(photo, "stem")
    path.write_text(LIGHTROOM_XMP, "utf-8")
    foreign_before = _foreign(path)
    assert read_tags(photo).tags == ("Places|Europe|France|\u00c9tretat", "sunset")

    update_tags(photo, add=["cliffs", "Places|Europe|France|\u00c9tretat"], remove=["sunset"], style="stem")

    assert _foreign(path) == foreign_before
    text = path.read_text("utf-8")
    assert text.startswith('<?xpacket begin="\ufeff"') and text.rstrip().endswith('<?xpacket end="w"?>')
    assert "<!-- Lightroom keeps develop settings here -->" in text
    assert 'crs:Exposure2012="+0.35"' in text
    assert _bag(path, DC, "subject") == ["Europe", "France", "\u00c9tretat", "cliffs"]
    assert _bag(path, LR, "hierarchicalSubject") == ["Places|Europe|France|\u00c9tretat", "cliffs"]
    # The existing MetadataDate attribute is refreshed in place, not duplicated.
    assert text.count("MetadataDate") == 1 and "2023-08-01T10:00:00+02:00\"\n" not in text
    assert read_tags(photo).tags == ("Places|Europe|France|\u00c9tretat", "cliffs")


def test_digikam_tagslist_is_kept_in_step(photo):
    path = sidecar_path(photo)
    path.write_text(
        """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:digiKam="http://www.digikam.org/ns/1.0/">
<digiKam:TagsList><rdf:Seq><rdf:li>People/Anna</rdf:li></rdf:Seq></digiKam:TagsList>
</rdf:Description></rdf:RDF></x:xmpmeta>""",
        "utf-8",
    )
    assert read_tags(photo).tags == ("People|Anna",)
    update_tags(photo, add=["Places|Beach"], remove=["People|Anna"])
    assert _bag(path, DIGIKAM, "TagsList") == ["Places/Beach"]
    assert _bag(path, LR, "hierarchicalSubject") == ["Places|Beach"]


def test_both_sidecar_names_are_read_and_merged(photo):
    sidecar_path(photo, "stem").write_text(LIGHTROOM_XMP, "utf-8")
    sidecar_path(photo).write_text(DARKTABLE_XMP, "utf-8")
    found = read_tags(photo)
    assert found.paths == (sidecar_path(photo), sidecar_path(photo, "stem"))
    assert found.tags == (
        "darktable|format|jpg",
        "holiday",
        "Places|Beach",
        "Places|Europe|France|\u00c9tretat",
        "sunset",
    )
    assert read_tags(photo.with_name("other.jpg")).tags == ()


def test_rdf_root_without_xmpmeta_and_foreign_default_namespace(photo):
    path = sidecar_path(photo)
    path.write_text(
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="urn:not-dublin-core">'
        '<dc:subject>not ours</dc:subject>'
        '<note xmlns="http://example.com/notes" level="2">keep me</note>'
        "</rdf:Description></rdf:RDF>",
        "utf-8",
    )
    update_tags(photo, add=["tag one"])
    root = ET.parse(path).getroot()
    assert root.tag == f"{{{RDF}}}RDF"
    note = root.find(".//{http://example.com/notes}note")
    assert note.text == "keep me" and note.get("level") == "2"
    assert root.find(".//{urn:not-dublin-core}subject").text == "not ours"
    assert _bag(path, DC, "subject") == ["tag one"]
    assert read_sidecar(path) == ("tag one",)


@posix_only
def test_file_mode_is_kept(photo):
    path = sidecar_path(photo)
    path.write_text(DARKTABLE_XMP, "utf-8")
    os.chmod(path, 0o640)
    update_tags(photo, add=["x"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in photo.parent.iterdir() if p.name.endswith(".tmp")] == []


# --------------------------------------------------------------------------- hostile input


def test_symlinked_sidecar_is_refused_and_its_target_untouched(photo, tmp_path):
    elsewhere = tmp_path / "victim.txt"
    elsewhere.write_text("do not touch")
    link = sidecar_path(photo)
    _symlink_or_skip(link, elsewhere)
    with pytest.raises(SidecarError, match="symbolic link"):
        update_tags(photo, add=["x"])
    with pytest.raises(SidecarError, match="symbolic link"):
        read_tags(photo)
    assert elsewhere.read_text() == "do not touch"
    assert link.is_symlink()


def test_dangling_symlink_and_directory_are_refused(photo, tmp_path):
    _symlink_or_skip(sidecar_path(photo), tmp_path / "nowhere.xmp")
    with pytest.raises(SidecarError, match="symbolic link"):
        update_tags(photo, add=["x"])
    assert not (tmp_path / "nowhere.xmp").exists()
    other = tmp_path / "b.jpg"
    sidecar_path(other).mkdir()
    with pytest.raises(SidecarError, match="not a regular file"):
        update_tags(other, add=["x"])


HOSTILE = [
    ("</rdf:li><evil/>", "</rdf:li><evil/>"),
    ("a & b < c > d \"e\" 'f'", "a & b < c > d \"e\" 'f'"),
    ("]]> <![CDATA[x]]>", "]]> <![CDATA[x]]>"),
    ("tab\there\nnew\rline\x00nul\x1b[31m", "tab here new line nul [31m"),
    ("evil\u202eexe.jpg", "evilexe.jpg"),
    ("family \U0001f468\u200d\U0001f469\u200d\U0001f467", "family \U0001f468\u200d\U0001f469\u200d\U0001f467"),
    ("\u05e9\u05dc\u05d5\u05dd", "\u05e9\u05dc\u05d5\u05dd"),
    ("Cafe\u0301", "Caf\u00e9"),
    ("  a  ||  b |", "a|b"),
    ("&amp;", "&amp;"),
]


@pytest.mark.parametrize("raw, clean", HOSTILE)
def test_hostile_tag_text_is_escaped_or_cleaned(photo, raw, clean):
    path = update_tags(photo, add=[raw])
    ET.parse(path)  # still well-formed XML
    assert read_tags(photo).tags == (clean,)
    assert b"<evil" not in path.read_bytes()


@pytest.mark.parametrize(
    "bad, message",
    [
        ("", "visible"),
        (" \t\n ", "visible"),
        ("|||", "visible"),
        ("x" * (MAX_TAG_LENGTH + 1), "at most"),
        ("|".join("a" * 17), "levels"),
        (b"bytes", "must be text"),
    ],
)
def test_unusable_tags_are_refused(photo, bad, message):
    with pytest.raises(InvalidTag, match=message):
        update_tags(photo, add=[bad])
    assert not sidecar_path(photo).exists()
    with pytest.raises(InvalidTag):
        normalize_tag(bad)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:subject><rdf:Bag><rdf:li>&lol9;</rdf:li></rdf:Bag></dc:subject>
</rdf:Description></rdf:RDF></x:xmpmeta>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE x [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:subject><rdf:Bag><rdf:li>&secret;</rdf:li></rdf:Bag></dc:subject>
</rdf:Description></rdf:RDF></x:xmpmeta>"""


@pytest.mark.parametrize(
    "content, message",
    [
        (BILLION_LAUGHS.encode(), "DOCTYPE"),
        (EXTERNAL_ENTITY.encode(), "DOCTYPE"),
        (b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><unclosed></x:xmpmeta>", "well-formed"),
        (b"", "well-formed"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
        (DARKTABLE_XMP.encode("utf-16"), "not UTF-8"),
        (b"\xff\xfe\xfd not utf8 at all \xc3\x28", "UTF-8"),
        (b"<html><body>hi</body></html>", "not an XMP sidecar"),
        (b"<a>" + b" " * (MAX_SIDECAR_BYTES) + b"</a>", "larger than"),
    ],
    ids=["billion-laughs", "external-entity", "malformed", "empty", "binary", "utf16", "bad-utf8", "html", "huge"],
)
def test_unreadable_sidecars_are_refused_and_never_overwritten(photo, content, message):
    path = sidecar_path(photo)
    path.write_bytes(content)
    with pytest.raises(SidecarError, match=message):
        read_tags(photo)
    with pytest.raises(SidecarError, match=message):
        update_tags(photo, add=["x"])
    assert path.read_bytes() == content


def test_missing_folder_is_a_sidecar_error(tmp_path):
    with pytest.raises(SidecarError):
        update_tags(tmp_path / "gone" / "a.jpg", add=["x"])


# --------------------------------------------------------------------------- removing


def test_removing_keeps_shared_leaves_and_foreign_keywords(photo):
    update_tags(photo, add=["Places|Beach", "Animals|Beach", "sea"])
    path = sidecar_path(photo)
    assert _bag(path, DC, "subject") == ["Beach", "sea"]
    update_tags(photo, remove=["places|beach"])  # names compare without case
    assert _bag(path, DC, "subject") == ["Beach", "sea"]  # still the leaf of Animals|Beach
    assert _bag(path, LR, "hierarchicalSubject") == ["Animals|Beach", "sea"]
    update_tags(photo, remove=["Animals|Beach", "sea"])
    root = ET.parse(path).getroot()
    assert root.find(f".//{{{DC}}}subject") is None  # an emptied bag goes away
    assert root.find(f".//{{{LR}}}hierarchicalSubject") is None
    assert read_tags(photo).tags == ()


def test_adding_and_removing_the_same_tag_removes_it(photo):
    update_tags(photo, add=["a"])
    update_tags(photo, add=["b", "a"], remove=["A"])
    assert read_tags(photo).tags == ("b",)


def test_prefix_clash_gets_a_fresh_prefix(photo):
    path = sidecar_path(photo)
    path.write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" xmlns:dc="urn:something-else">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" dc:flag="1"/></rdf:RDF></x:xmpmeta>',
        "utf-8",
    )
    update_tags(photo, add=["kept apart"])
    root = ET.parse(path).getroot()
    assert root.find(f".//{{{RDF}}}Description").get("{urn:something-else}flag") == "1"
    assert _bag(path, DC, "subject") == ["kept apart"]


def test_the_parser_refuses_doctypes_even_past_the_text_check(photo, monkeypatch):
    """Defence in depth: the parser target refuses a DOCTYPE on its own."""
    import re

    import clipdesk.core.sidecar as sidecar_mod

    monkeypatch.setattr(sidecar_mod, "_FORBIDDEN_DECL", re.compile(r"(?!)"))
    sidecar_path(photo).write_text(BILLION_LAUGHS, "utf-8")
    with pytest.raises(SidecarError, match="DOCTYPE"):
        read_tags(photo)


# --------------------------------------------------------------------------- one sidecar per photo (issue 14, part 5)


def test_an_existing_photo_xmp_is_the_one_sidecar_and_keeps_its_keywords(photo):
    """Lightroom's and darktable's other convention: no second photo.jpg.xmp beside it."""
    lightroom = sidecar_path(photo, "stem")
    lightroom.write_text(DARKTABLE_XMP, "utf-8")
    before = read_tags(photo).tags
    assert update_tags(photo, add=["sunny"]) == lightroom
    assert not sidecar_path(photo, "extension").exists()
    assert read_tags(photo).tags == (*before, "sunny")


@posix_only
def test_a_read_only_sidecar_is_never_overwritten(photo):
    path = update_tags(photo, add=["kept"])
    before = path.read_bytes()
    os.chmod(path, 0o444)
    with pytest.raises(SidecarError, match="read-only"):
        update_tags(photo, add=["new"])
    with pytest.raises(SidecarError, match="read-only"):
        update_tags(photo, remove=["kept"])
    assert path.read_bytes() == before
    assert [p.name for p in photo.parent.iterdir() if p.name.endswith(".tmp")] == []


@posix_only
def test_the_tag_service_reports_sidecars_it_may_not_write_and_removes_tags_from_them(library, tmp_path):
    from clipdesk.core.scan import Scanner
    from support import age, make_photo

    root = tmp_path / "lib"
    for i in range(3):
        make_photo(root / f"p{i}.jpg", seed=i)
        age(root / f"p{i}.jpg")
    library.folders.add(root)
    Scanner(library.catalog).reconcile()
    ids = [library.search.find_photo(root / f"p{i}.jpg").id for i in range(3)]
    library.tags.write_sidecars = True
    assert not library.tags.accept(ids, "sea").sidecar_failures
    os.chmod(root / "p1.jpg.xmp", 0o444)
    changes = library.tags.remove(ids, "sea")
    assert [f.path for f in changes.sidecar_failures] == [str(root / "p1.jpg")]
    assert "read-only" in changes.sidecar_failures[0].reason
    assert read_tags(root / "p0.jpg").tags == ()
    assert read_tags(root / "p1.jpg").tags == ("sea",)  # left as it was, and said so


def test_a_tag_with_a_slash_stays_one_tag_through_digikams_tagslist(photo):
    """Issue 18: a band called "AC/DC" stays one tag; digiKam's TagsList nests with "/"."""
    path = sidecar_path(photo)
    path.write_text(
        """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:digiKam="http://www.digikam.org/ns/1.0/">
<digiKam:TagsList><rdf:Seq><rdf:li>People/Anna</rdf:li></rdf:Seq></digiKam:TagsList>
</rdf:Description></rdf:RDF></x:xmpmeta>""",
        "utf-8",
    )
    update_tags(photo, add=["AC/DC", "Music|Rock"])
    assert "AC/DC" in _bag(path, DIGIKAM, "TagsList") and "Music/Rock" in _bag(path, DIGIKAM, "TagsList")
    tags = read_tags(photo).tags
    assert "AC/DC" in tags and "Music|Rock" in tags and "AC|DC" not in tags
    update_tags(photo, remove=["AC/DC"])
    assert "AC/DC" not in read_tags(photo).tags and "AC/DC" not in _bag(path, DIGIKAM, "TagsList")
