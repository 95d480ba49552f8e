"""Export… (issue 19): the selection copied to a folder as originals or resized
JPEGs, metadata kept or stripped, with a progress bar, Cancel and a report."""

from __future__ import annotations

import os

from PIL import Image
from PySide6.QtCore import QItemSelectionModel
from uikit import names

from clipdesk.ui.export.dialog import ExportDialog


def _select(window, wanted: list[str]) -> None:
    sm = window.grid.selectionModel()
    for row, name in enumerate(names(window)):
        if name in wanted:
            sm.select(window.model.index(row), QItemSelectionModel.SelectionFlag.Select)


def _export_action(window):
    file = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File")
    return next(a for a in file.actions() if a.text().replace("&", "") == "Export…")


def test_export_resized_jpegs_of_the_selection_and_remember_the_choices(open_window, indexed, tmp_path, settings):
    window = open_window(indexed)
    _select(window, ["red0.jpg", "blue1.jpg", "misc03.jpg"])
    _export_action(window).trigger()
    dialog = window.findChild(ExportDialog)
    assert dialog.isVisible() and dialog.title.text() == "Export 3 photos"
    out = tmp_path / "share"
    dialog.folder.setText(str(out))
    dialog.resized.setChecked(True)
    dialog.long_edge.setValue(48)
    dialog.quality.setValue(80)
    dialog.metadata.setCurrentIndex(dialog.metadata.findData("strip"))
    dialog.start_button.click()
    assert dialog.report is not None and not dialog.report.failed
    assert dialog.progress.value() == dialog.progress.maximum() == 3
    assert dialog.summary.text() == f"Exported 3 photos to {out}."
    assert sorted(os.listdir(out)) == ["blue1.jpg", "misc03.jpg", "red0.jpg"]
    with Image.open(out / "red0.jpg") as im:
        assert max(im.size) == 48 and not im.getexif()
    assert (settings.export_folder, settings.export_resize, settings.export_long_edge, settings.export_quality,
            settings.export_metadata) == (str(out), True, 48, 80, "strip")
    again = window.open_export([window.model.photo(0)])
    assert again.folder.text() == str(out) and again.resized.isChecked() and again.long_edge.value() == 48


def test_originals_with_a_report_of_what_could_not_be_copied(open_window, indexed, tmp_path, photos_root):
    window = open_window(indexed)
    photos = [h.photo for h in window.model.hits() if h.photo.name in ("green0.jpg", "green1.jpg")]
    os.remove(photos_root / "cold" / "green1.jpg")
    dialog = window.open_export(photos)
    dialog.folder.setText(str(tmp_path / "out"))
    dialog.originals.setChecked(True)
    dialog.metadata.setCurrentIndex(dialog.metadata.findData("keep"))
    dialog.start_button.click()
    assert (tmp_path / "out" / "green0.jpg").read_bytes() == (photos_root / "cold" / "green0.jpg").read_bytes()
    assert dialog.summary.text().endswith("1 photo could not be exported:")
    assert dialog.failures.isVisible() and dialog.failures.toPlainText().startswith("green1.jpg: ")
    assert dialog.close_button.text() == "Close"


def test_cancel_stops_between_two_photos(open_window, indexed, tmp_path):
    window = open_window(indexed)
    dialog = window.open_export([h.photo for h in window.model.hits()][:10])
    dialog.folder.setText(str(tmp_path / "some"))
    dialog.progress.valueChanged.connect(lambda v: v == 2 and dialog.close_button.click())
    dialog.start_button.click()
    assert dialog.report.cancelled and len(dialog.report.written) == 2
    assert dialog.summary.text().startswith("Cancelled: 2 photos of 10 were exported")
    assert sorted(os.listdir(tmp_path / "some")) == sorted(p.name for p in dialog.report.written)
    assert dialog.isVisible()  # Cancel stopped the export, not the dialog


def test_without_a_folder_the_dialog_asks_for_one(open_window, indexed):
    window = open_window(indexed)
    dialog = window.open_export([window.model.photo(0)])
    dialog.folder.setText("")
    dialog.start_button.click()
    assert dialog.summary.text() == "Choose the folder the copies go to." and dialog.report is None


def test_a_raw_and_jpeg_pair_is_one_photo_exported(open_window, indexed, tmp_path, corpus):
    """The report counted files: a RAW+JPEG pair said "Exported 2 photos"."""
    from clipdesk.core.library import Library
    from rawkit import write_dng
    from support import age

    with Image.open(corpus.path("opencv/examples/data/baboon.jpg")) as im:
        picture = im.convert("RGB")
    picture.thumbnail((400, 400))
    card = tmp_path / "card"
    card.mkdir()
    write_dng(card / "DSC_0001.DNG", picture)
    picture.save(card / "DSC_0001.JPG", quality=90)
    for f in card.iterdir():
        age(f)
    with Library(indexed) as lib:
        lib.folders.add(card)
        lib.folders.index(embed=False)
        pair = lib.search.find_photo(card / "DSC_0001.DNG")
    assert pair.companion == str(card / "DSC_0001.JPG")
    window = open_window(indexed)
    dialog = window.open_export([pair])
    out = tmp_path / "out"
    dialog.folder.setText(str(out))
    dialog.originals.setChecked(True)
    dialog.metadata.setCurrentIndex(dialog.metadata.findData("keep"))
    dialog.start_button.click()
    assert sorted(os.listdir(out)) == ["DSC_0001.DNG", "DSC_0001.JPG"]
    assert dialog.summary.text() == f"Exported 1 photo to {out}."
