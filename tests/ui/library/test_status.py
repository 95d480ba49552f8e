"""Indexing in the status bar, and the photos that could not be read: listed with why, retried."""

from __future__ import annotations

import numpy as np
from PIL import Image
from support import age
from uikit import small_jpegs


def test_broken_photos_are_listed_with_their_reason_and_can_be_retried(open_window, colour_model, tmp_path, qtbot):
    root = tmp_path / "mixed"
    good = small_jpegs(root, 3)
    truncated = root / "truncated.jpg"
    truncated.write_bytes(good[0].read_bytes()[:300])
    fake = root / "notes.jpg"
    fake.write_bytes(b"this is not a photo at all, just text " * 10)
    for p in (truncated, fake):
        age(p)
    window = open_window(colour_model)
    with qtbot.waitSignal(window.index.finished, timeout=30000) as finished:
        window.library_ctl.add_folders([str(root)])
    assert finished.args[0].failed == 2
    assert window.index_status.failures.isVisible()
    assert window.index_status.failures.text() == "⚠ 2 could not be read"
    window.index_status.failures.click()
    dialog = window.library_ctl.failures_dialog
    reasons = dialog.reasons()
    assert len(reasons) == 2
    assert "truncated" in reasons["truncated.jpg"].lower()
    assert "not a supported image" in reasons["notes.jpg"]

    Image.fromarray(np.full((48, 64, 3), 128, np.uint8)).save(truncated, quality=80)
    age(truncated)
    dialog.tree.topLevelItem(list(reasons).index("truncated.jpg")).setSelected(True)
    with qtbot.waitSignal(window.index.finished, timeout=30000):
        dialog.retry_selected.click()
    assert list(dialog.reasons()) == ["notes.jpg"]
    assert window.index_status.failures.text() == "⚠ 1 could not be read"
    assert window.library.catalog.photo_by_path(truncated).status == "indexed"
